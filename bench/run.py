"""Benchmarks: mockportal against the ceiling of its own server stack, and against Prism.

    .venv/bin/python bench/run.py [--workers N] [--threads T] [--seconds S] [--no-profile]

Three targets, each a real process on 127.0.0.1: the portal (`mockportal serve`), a bare
WSGI app with a fixed JSON body under the same serving code and settings (bench/bare.py),
and Prism mocking the portal's own /openapi.json. wrk (C, LuaJIT; Debian package `wrk`)
drives `GET /api/billing/state`, `POST /api/billing/charge` and `GET /api/billing/charge/{id}`
at concurrency 1, 16 and 64 from a request plan (bench/plan.lua). Charges are accepted, not
rate-limited: the portal is seeded with ORGS orgs (as many as one 64 KiB reset takes), one
token each, walked round robin, and during a charge run the portal clock moves an hour every
CLOCK_MOVE_EVERY seconds, so each org's 5-an-hour slots keep freeing. Writes the tables into
bench/RESULTS.md between its GENERATED markers, keeping the hand-written notes.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path

import requests

from costs import costs  # bench/ is on the path: it holds this script
from mockportal.harness import LONG_LIVED_SECONDS, ServerProcess, charge, many_orgs, portal_on_file, user_email
from mockportal.testing import Control

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "RESULTS.md"
PRISM = BENCH / "node_modules" / ".bin" / "prism"
CONCURRENCY = (1, 16, 64)
ORGS = 360  # 5 accepted charges per org per portal hour: 1,800 per clock move
CLOCK_MOVE_EVERY = 0.25
POLLED_CHARGES = 64
STARTS = 3  # startup is the median of this many cold starts
ENDPOINTS = ("state", "charge", "poll")
ENDPOINT_TITLES = {"state": "GET /api/billing/state", "charge": "POST /api/billing/charge",
                   "poll": "GET /api/billing/charge/{id}"}
PLAN_LINES = {"state": "GET\t/api/billing/state\t", "charge": 'POST\t/api/billing/charge\t{"amountUsd": 10}',
              "poll": "GET\t/api/billing/charge/{id}\t"}
BEGIN, END = "<!-- GENERATED: bench/run.py rewrites from here -->", "<!-- END GENERATED -->"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Target:
    """One server under test: how to start it, what to probe for its first 200, and its plans."""

    def __init__(self, name: str, command: list[str], probe: str, probe_headers: dict | None = None,
                 during_charges=None, profiled: bool = False):
        self.name, self.command, self.probe = name, command, probe
        self.probe_headers = probe_headers or {}
        self.during_charges = during_charges  # url -> context manager around each charge run
        self.profiled = profiled

    def start(self, port: int) -> tuple[ServerProcess, float]:
        """Start on `port`; returns the process and seconds from spawn to the first 200."""
        command = [part.replace("{port}", str(port)) for part in self.command]
        server = ServerProcess(command, ready=None)  # ready means answering: poll for the 200
        spawned = time.monotonic()
        server.start()
        url = f"http://127.0.0.1:{port}{self.probe}"
        while time.monotonic() - spawned < 60 and server.process.poll() is None:
            try:
                if requests.get(url, headers=self.probe_headers, timeout=5).status_code == 200:
                    return server, time.monotonic() - spawned
            except requests.ConnectionError:
                time.sleep(0.002)
        output = server.output()
        server.stop()
        raise RuntimeError(f"{self.name} never answered 200 on {self.probe}:\n{output}")


class PeakMemory:
    """Peak summed RSS of each process group (a master and its workers), one /proc scan every
    100 ms for all of them."""

    def __init__(self, groups: dict[str, int]):
        self.groups = groups
        self.peak_kib = dict.fromkeys(groups, 0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.1):
            totals = self._rss_kib_by_group()
            for name, group in self.groups.items():
                self.peak_kib[name] = max(self.peak_kib[name], totals.get(group, 0))

    @staticmethod
    def _rss_kib_by_group() -> Counter:
        totals, page_kib = Counter(), os.sysconf("SC_PAGE_SIZE") // 1024
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                totals[int(fields[2])] += int(fields[21]) * page_kib  # fields 5 (pgrp) and 24 (rss)
            except (OSError, IndexError, ValueError):
                continue
        return totals

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        return {name: kib / 1024 for name, kib in self.peak_kib.items()}


def wrk(url: str, plan: Path, concurrency: int, seconds: float, tag: str) -> dict:
    threads = min(concurrency, 2)
    output = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(concurrency), "-d", f"{seconds:g}s", "--timeout", "10s",
         "-s", str(BENCH / "plan.lua"), url, "--", str(plan), tag, str(threads)],
        check=True, capture_output=True, text=True).stdout
    result = json.loads(next(line for line in output.splitlines() if line.startswith("{")))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def write_plans(directory: Path, tokens: list[str], polled: list[tuple[str, str]]) -> dict[str, Path]:
    rows = {"state": [(token, "-") for token in tokens], "charge": [(token, "-") for token in tokens],
            "poll": polled}
    plans = {}
    for endpoint, first_line in PLAN_LINES.items():
        plans[endpoint] = directory / f"{endpoint}.plan"
        plans[endpoint].write_text("\n".join([first_line] + [f"{t}\t{i}" for t, i in rows[endpoint]]) + "\n")
    return plans


def seed_portal(url: str) -> tuple[list[str], list[tuple[str, str]]]:
    """ORGS orgs with one owner each; their tokens; one settled charge on each of the first 64."""
    portal = Control.over_http(url)
    portal.reset(many_orgs(ORGS, monthlyCapUsd="10000000"))
    with ThreadPoolExecutor(8) as pool:
        tokens = list(pool.map(lambda i: portal.token(user_email(i), expires_in=LONG_LIVED_SECONDS)["access_token"],
                               range(ORGS)))
    polled = []
    with requests.Session() as session:
        for i, token in enumerate(tokens[:POLLED_CHARGES]):
            response = charge(session, url, {"Authorization": f"Bearer {token}"}, f"poll-{i}", "10")
            polled.append((token, response.json()["chargeId"]))
    portal.advance(60)
    portal.close()
    return tokens, polled


class ClockMover:
    """While a charge run lasts, move the portal clock an hour every CLOCK_MOVE_EVERY seconds."""

    def __init__(self, url: str):
        self.portal = Control.over_http(url)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._move, daemon=True)

    def _move(self) -> None:
        while not self._stop.wait(CLOCK_MOVE_EVERY):
            self.portal.advance(3601)

    def __enter__(self) -> "ClockMover":
        self.portal.advance(3601)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def measure(targets: list[Target], plans: dict[str, Path], seconds: float, profile: Path | None) -> dict:
    """All servers up at once; each cell runs every target back to back, in an order that
    rotates, so a change in the machine's load hits every column of a row alike."""
    startups = {t.name: [t.start(free_port()) for _ in range(STARTS - 1)] for t in targets}
    for started in startups.values():
        for server, _ in started:
            server.stop()
    running = {}
    try:
        for target in targets:
            port = free_port()
            server, startup = target.start(port)
            startups[target.name].append((server, startup))
            running[target.name] = (server, f"http://127.0.0.1:{port}")
        memory = PeakMemory({name: server.process.pid for name, (server, _) in running.items()})
        for _, url in running.values():
            wrk(url, plans["state"], 16, 1, "warmup")
        cells: dict[str, dict] = {t.name: {} for t in targets}
        for index, (endpoint, concurrency) in enumerate(itertools.product(ENDPOINTS, CONCURRENCY)):
            for target in targets[index % len(targets):] + targets[:index % len(targets)]:
                server, url = running[target.name]
                spy = start_profile(server, profile, endpoint, seconds) if target.profiled and concurrency == 16 \
                    else None
                during = target.during_charges(url) if target.during_charges and endpoint == "charge" \
                    else nullcontext()
                with during:
                    cell = wrk(url, plans[endpoint], concurrency, seconds, f"{target.name}-{time.time_ns()}")
                if spy:
                    spy.wait()
                cells[target.name][endpoint, concurrency] = cell
                print(f"  {target.name:6} {endpoint:6} c={concurrency:<3} {cell['rps']:8.0f} rps", flush=True)
        peaks = memory.stop()
    finally:
        for server, _ in running.values():
            server.stop()
    return {t.name: {"cells": cells[t.name], "peak_rss_mib": peaks[t.name],
                     "startup_s": statistics.median(startup for _, startup in startups[t.name])}
            for t in targets}


def start_profile(server: ServerProcess, directory: Path | None, endpoint: str, seconds: float):
    """py-spy, GIL holders only, over the middle of a c=16 run: what Python spends time on."""
    if directory is None:
        return None
    return subprocess.Popen(["py-spy", "record", "--pid", str(server.process.pid), "--subprocesses",
                             "--gil", "--nonblocking", "--format", "raw", "--duration", str(max(1, int(seconds) - 1)),
                             "--output", str(directory / f"{endpoint}.txt")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


LAYERS = (("mockportal/store.py", "store.py (SQL calls)"), ("sqlite3", "store.py (SQL calls)"),
          ("mockportal/cli.py", "request log"), ("logging/", "request log"),
          ("mockportal/", "portal rules, views, wire"), ("jwt/", "PyJWT (token check)"),
          ("flask/", "Flask + Werkzeug"), ("werkzeug/", "Flask + Werkzeug"),
          ("waitress/", "HTTP server"), ("gunicorn/", "HTTP server"),
          ("json/", "json"), ("socket", "HTTP server"), ("selectors", "HTTP server"))


def profile_shares(raw: Path) -> list[tuple[str, float]]:
    """Share of GIL-held samples by layer, attributed to the innermost frame."""
    counts, total = Counter(), 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        leaf = stack.rsplit(";", 1)[-1]
        layer = next((name for marker, name in LAYERS if marker in leaf), "other (stdlib, threading)")
        counts[layer] += int(count)
        total += int(count)
    return [(layer, count / total) for layer, count in counts.most_common()] if total else []


def table(results: dict[str, dict], endpoint: str) -> list[str]:
    """One endpoint: a row per concurrency, `rps (p50 / p99 ms)` per target, then the ratios."""
    names = list(results)
    ratios = [(a, b) for a, b in (("portal", "bare"), ("portal", "prism"), ("flask", "bare"))
              if a in results and b in results]
    lines = ["| c | " + " | ".join(names) + " | " + " | ".join(f"{a} / {b}" for a, b in ratios) + " |",
             "|---|" + "---|" * (len(names) + len(ratios))]
    for concurrency in CONCURRENCY:
        cells = {n: results[n]["cells"][endpoint, concurrency] for n in names}
        lines.append(f"| {concurrency} | " + " | ".join(
            f"{c['rps']:.0f} rps ({c['p50_us'] / 1000:.1f} / {c['p99_us'] / 1000:.1f} ms){non_2xx_note(c)}"
            for c in cells.values()) + " | " + " | ".join(
            f"{cells[a]['rps'] / cells[b]['rps']:.0%}" for a, b in ratios) + " |")
    return lines


def non_2xx_note(cell: dict) -> str:
    bad = cell["non_2xx"] + cell["socket_errors"]
    return f" ({bad} not 2xx)" if bad else ""


def verdicts(results: dict[str, dict]) -> list[str]:
    def mean_ratio(endpoints, other):  # geometric: one outlier cell must not carry a verdict
        return statistics.geometric_mean(results["portal"]["cells"][e, c]["rps"] / results[other]["cells"][e, c]["rps"]
                               for e in endpoints for c in CONCURRENCY)

    lines = []
    for label, endpoints, target in (("reads", ("state", "poll"), 0.5), ("charges", ("charge",), 0.25)):
        ratio = mean_ratio(endpoints, "bare")
        lines.append(f"- {label}: {ratio:.0%} of the bare ceiling (geometric mean of its cells; target {target:.0%}): "
                     f"{'met' if ratio >= target else 'missed'}")
        if "prism" in results:
            versus = mean_ratio(endpoints, "prism")
            lines.append(f"- {label}: {versus:.1f}x Prism's throughput (geometric mean): "
                         f"{'ahead' if versus > 1 else 'behind'}")
    startup = results["portal"]["startup_s"]
    lines.append(f"- startup: {startup:.2f} s to the first 200 (target under 1 s): "
                 f"{'met' if startup < 1 else 'missed'}")
    return lines


def report(results: dict[str, dict], args, prism_note: str, profiles: dict[str, list],
           cpu_costs: list[tuple[str, float]]) -> str:
    settings = f"`--workers {args.workers} --threads {args.threads}`"
    server = "waitress" if args.workers == 1 else "gunicorn gthread"
    lines = [
        BEGIN, "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores "
        f"({platform.machine()}, Python {platform.python_version()}, load average before the run "
        f"{os.getloadavg()[0]:.2f}); server {server} {settings}; wrk {args.seconds:g} s per cell "
        f"after a 1 s warm-up, 2 wrk threads (1 at c=1) on the same cores. All servers run at once; "
        "each cell runs them back to back in a rotating order, so the machine's load weighs on "
        "every column of a row alike.",
        "", f"Portal: `mockportal serve` with a temporary `--db` file (WAL) and a frozen clock; {ORGS} "
        "orgs with one token each, walked round robin; during charge runs the clock moves an hour "
        f"every {CLOCK_MOVE_EVERY:g} s so every charge is accepted (a cell that was not all 2xx says "
        "so). Bare: bench/bare.py, a fixed JSON body from a plain WSGI function, the ceiling of this "
        "server stack; flask: the same body from a one-route Flask app (`bare.py --flask`), the floor "
        f"Flask sets. Prism: {prism_note}.", "",
        *(line for endpoint in ENDPOINTS
          for line in (f"`{ENDPOINT_TITLES[endpoint]}`: requests per second (p50 / p99 latency)", "",
                       *table(results, endpoint), "")),
        "| | " + " | ".join(results) + " |", "|---|" + "---|" * len(results),
        "| startup, process start to first 200 (median of 3), s | " +
        " | ".join(f"{r['startup_s']:.2f}" for r in results.values()) + " |",
        "| peak memory, summed RSS of the process tree, MiB | " +
        " | ".join(f"{r['peak_rss_mib']:.0f}" for r in results.values()) + " |", "",
        "Against the targets:", "", *verdicts(results), "",
    ]
    lines += ["CPU per call, in-process (bench/costs.py):", "", "| µs | what |", "|---:|---|",
              *(f"| {micros:.0f} | {label} |" for label, micros in cpu_costs), ""]
    for endpoint, shares in profiles.items():
        lines += [f"Profile of the portal under `{ENDPOINT_TITLES[endpoint]}` at c=16 (py-spy, share of "
                  "GIL-held samples by innermost frame):", "",
                  "| layer | share |", "|---|---|", *(f"| {layer} | {share:.0%} |" for layer, share in shares), ""]
    return "\n".join(lines + [END])


def write_results(generated: str) -> None:
    text = RESULTS.read_text() if RESULTS.exists() else f"# Benchmark results\n\n{BEGIN}\n{END}\n"
    before, _, rest = text.partition(BEGIN)
    _, _, after = rest.partition(END)
    RESULTS.write_text(before + generated + after)


def ensure_prism() -> str | None:
    """Install Prism into bench/node_modules (not committed) if missing; None if npm is absent."""
    if not PRISM.exists():
        if shutil.which("npm") is None:
            return None
        print("installing @stoplight/prism-cli into bench/node_modules", flush=True)
        subprocess.run(["npm", "install", "--no-save", "--no-package-lock", "--no-audit", "--no-fund",
                        "--prefix", str(BENCH), "@stoplight/prism-cli"], check=True)
    return subprocess.run([str(PRISM), "--version"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--no-profile", action="store_true", help="skip the py-spy profile")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    profile = None if args.no_profile or shutil.which("py-spy") is None else Path(tempfile.mkdtemp())
    server_flags = ["--workers", str(args.workers), "--threads", str(args.threads)]

    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        portal = Target("portal", portal_on_file(scratch / "portal.db", args.workers, "--threads",
                                                 str(args.threads), port="{port}"),
                        probe="/openapi.json", during_charges=ClockMover, profiled=profile is not None)
        print("seeding the portal", flush=True)
        with ServerProcess(portal_on_file(scratch / "portal.db")) as seeding:
            tokens, polled = seed_portal(seeding.url)
            document = requests.get(f"{seeding.url}/openapi.json", timeout=30)
        plans = write_plans(scratch, tokens, polled)
        bare = Target("bare", [sys.executable, str(BENCH / "bare.py"), "--port", "{port}", *server_flags],
                      probe="/")
        targets = [portal, Target("flask", [*bare.command, "--flask"], probe="/"), bare]
        version = ensure_prism()
        if document.status_code != 200:
            prism_note = f"skipped: the portal has no /openapi.json ({document.status_code})"
        elif version is None:
            prism_note = "skipped: npm is not installed"
        else:
            (scratch / "openapi.json").write_bytes(document.content)
            targets.append(Target("prism", [str(PRISM), "mock", "-h", "127.0.0.1", "-p", "{port}", "-v", "warn",
                                            str(scratch / "openapi.json")],
                                  probe="/api/billing/state", probe_headers={"Authorization": "Bearer x"}))
            prism_note = f"@stoplight/prism-cli {version} `mock -v warn` on the portal's /openapi.json"
        print(prism_note)
        results = measure(targets, plans, args.seconds, profile)
    profiles = {e: profile_shares(profile / f"{e}.txt") for e in ENDPOINTS
                if profile and (profile / f"{e}.txt").exists()}
    write_results(report(results, args, prism_note, profiles, costs()))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
