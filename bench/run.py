"""Benchmarks: mockportal in both serving modes, against bare ceilings and against Prism.

    .venv/bin/python bench/run.py [--threads T] [--seconds S] [--no-profile]

Targets, each a real process on 127.0.0.1, all up at once: the portal (`mockportal serve`)
with one worker and with two; a bare WSGI app with a fixed JSON body on the portal's own
server stack (bench/bare.py: granian, one worker) and on the fastest WSGI server installable
here (bjoern, the `bench` extra); the same body from a one-route Flask app (the floor Flask
sets); and Prism mocking the portal's own /openapi.json. wrk (C, LuaJIT; Debian package
`wrk`) drives `GET /api/billing/state`, `POST /api/billing/charge` and
`GET /api/billing/charge/{id}` at concurrency 1, 16 and 64 from a request plan
(bench/plan.lua), then, on the portal only, `POST /v1/chat/completions` whole and streamed at
1 and 16 (requests per second, and time to first byte from a client of its own), and state
reads while streams are in progress. Every cell runs twice: a round in one order of targets,
a round in the reverse order; a cell's numbers are the mean of its two runs.

Charges are accepted, not rate-limited: the portal is seeded with ORGS orgs (as many as one
64 KiB reset takes), one token each, walked round robin, and during charge and completion runs
the portal clock moves an hour every CLOCK_MOVE_EVERY seconds, so each org's windows keep
freeing. Writes the tables and the verdict on each target into bench/RESULTS.md between its
GENERATED markers, keeping the hand-written notes.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import platform
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
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
COMPLETION_CONCURRENCY = (1, 16)
ORGS = 360  # 5 accepted charges per org per portal hour: 1,800 per clock move
CLOCK_MOVE_EVERY = 0.25
POLLED_CHARGES = 64
STARTS = 3  # startup is the median of this many cold starts
STREAMS_IN_PROGRESS = 4  # streams held open while state reads are measured
STREAM_CHUNK_DELAY_MS = 50
MODEL = "anthropic/claude-sonnet-5"
ENDPOINTS = ("state", "charge", "poll")
COMPLETIONS = ("whole", "stream")
TITLES = {"state": "GET /api/billing/state", "charge": "POST /api/billing/charge",
          "poll": "GET /api/billing/charge/{id}", "whole": "POST /v1/chat/completions",
          "stream": 'POST /v1/chat/completions `"stream": true`'}
COMPLETION_BODY = {"model": MODEL, "messages": [{"role": "user", "content": "Say hello."}]}
PLAN_LINES = {"state": "GET\t/api/billing/state\t", "charge": 'POST\t/api/billing/charge\t{"amountUsd": 10}',
              "poll": "GET\t/api/billing/charge/{id}\t",
              "whole": "POST\t/v1/chat/completions\t" + json.dumps(COMPLETION_BODY),
              "stream": "POST\t/v1/chat/completions\t" + json.dumps({**COMPLETION_BODY, "stream": True})}
CLOCK_MOVES_DURING = ("charge", "whole", "stream")  # runs that would otherwise meet rate windows
PORTALS = ("portal", "portal2")
TARGET_TITLES = {"portal": "portal 1 worker", "portal2": "portal 2 workers", "flask": "flask floor",
                 "bare": "bare (granian)", "bjoern": "bare (bjoern)", "prism": "Prism"}
RATIOS = (("portal", "prism"), ("portal2", "prism"), ("portal", "bare"), ("bare", "bjoern"))
LOADS: list[float] = []  # the 1-minute load average at the start of each cell
BEGIN, END = "<!-- GENERATED: bench/run.py rewrites from here -->", "<!-- END GENERATED -->"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Target:
    """One server under test: how to start it, what to probe for its first 200, and its plans."""

    def __init__(self, name: str, command: list[str], probe: str, probe_headers: dict | None = None,
                 profiled: bool = False):
        self.name, self.command, self.probe = name, command, probe
        self.probe_headers = probe_headers or {}
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
    """Per process group (a master and its workers): the peak of its summed RSS and the peak
    RSS of its largest process, one /proc scan every 100 ms for all of them."""

    def __init__(self, groups: dict[str, int]):
        self.groups = groups
        self.peak_sum_kib = dict.fromkeys(groups, 0)
        self.peak_one_kib = dict.fromkeys(groups, 0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.1):
            by_group = self._rss_kib_by_group()
            for name, group in self.groups.items():
                sizes = by_group.get(group, [0])
                self.peak_sum_kib[name] = max(self.peak_sum_kib[name], sum(sizes))
                self.peak_one_kib[name] = max(self.peak_one_kib[name], max(sizes))

    @staticmethod
    def _rss_kib_by_group() -> dict[int, list[int]]:
        groups, page_kib = defaultdict(list), os.sysconf("SC_PAGE_SIZE") // 1024
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                groups[int(fields[2])].append(int(fields[21]) * page_kib)  # fields 5 (pgrp) and 24 (rss)
            except (OSError, IndexError, ValueError):
                continue
        return groups

    def stop(self) -> dict[str, tuple[float, float]]:
        """name -> (peak summed MiB, peak MiB of one process)."""
        self._stop.set()
        self._thread.join()
        return {name: (self.peak_sum_kib[name] / 1024, self.peak_one_kib[name] / 1024) for name in self.groups}


def wrk(url: str, plan: Path, concurrency: int, seconds: float, tag: str) -> dict:
    threads = min(concurrency, 2)
    output = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(concurrency), "-d", f"{seconds:g}s", "--timeout", "10s",
         "-s", str(BENCH / "plan.lua"), url, "--", str(plan), tag, str(threads)],
        check=True, capture_output=True, text=True).stdout
    result = json.loads(next(line for line in output.splitlines() if line.startswith("{")))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def mean_cell(runs: list[dict]) -> dict:
    """Several runs of one cell: requests per second over all of them, the mean of each latency
    percentile, every non-2xx answer counted."""
    return {"rps": sum(r["requests"] for r in runs) / (sum(r["duration_us"] for r in runs) / 1e6),
            "p50_us": statistics.mean(r["p50_us"] for r in runs), "p99_us": statistics.mean(r["p99_us"] for r in runs),
            "non_2xx": sum(r["non_2xx"] for r in runs), "socket_errors": sum(r["socket_errors"] for r in runs),
            "runs_rps": [r["rps"] for r in runs]}


def copy_database(source: Path, target: Path) -> None:
    """A copy with everything committed, the WAL included (a stopped server leaves it)."""
    with sqlite3.connect(source) as original, sqlite3.connect(target) as copy:
        original.backup(copy)


def write_plans(directory: Path, tokens: list[str], polled: list[tuple[str, str]]) -> dict[str, Path]:
    rows = defaultdict(lambda: [(token, "-") for token in tokens], poll=polled)
    plans = {}
    for endpoint, first_line in PLAN_LINES.items():
        plans[endpoint] = directory / f"{endpoint}.plan"
        plans[endpoint].write_text("\n".join([first_line] + [f"{t}\t{i}" for t, i in rows[endpoint]]) + "\n")
    return plans


def seed_portal(url: str) -> tuple[list[str], list[tuple[str, str]]]:
    """ORGS orgs with one owner each and credits to spend on inference; their tokens; one
    settled charge on each of the first 64."""
    portal = Control.over_http(url)
    portal.reset(many_orgs(ORGS, monthlyCapUsd="10000000", balanceUsd="1000000"))
    tokens = [portal.token(user_email(i), expires_in=LONG_LIVED_SECONDS)["access_token"] for i in range(ORGS)]
    polled = []
    with requests.Session() as session:
        for i, token in enumerate(tokens[:POLLED_CHARGES]):
            response = charge(session, url, {"Authorization": f"Bearer {token}"}, f"poll-{i}", "10")
            polled.append((token, response.json()["chargeId"]))
    portal.advance(60)
    portal.close()
    return tokens, polled


class ClockMover:
    """While a charge or completion run lasts, move the portal clock an hour every
    CLOCK_MOVE_EVERY seconds."""

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
        self.portal.close()


class Streams:
    """STREAMS_IN_PROGRESS clients, each streaming slow replies (STREAM_CHUNK_DELAY_MS between
    chunks) one after another on orgs of its own, for as long as the block lasts."""

    def __init__(self, url: str, tokens: list[str]):
        self.url, self.tokens = url, tokens
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._stream, args=(i,), daemon=True)
                         for i in range(STREAMS_IN_PROGRESS)]
        self.completed = 0

    def _stream(self, index: int) -> None:
        org = ORGS - 1 - index
        control = Control.over_http(self.url)
        body = {**COMPLETION_BODY, "stream": True}
        headers = {"Authorization": f"Bearer {self.tokens[org]}"}
        with requests.Session() as session:
            while not self._stop.is_set():
                control.replies(f"org_{org}", {"content": "word " * 40, "chunkDelayMs": STREAM_CHUNK_DELAY_MS})
                with session.post(f"{self.url}/v1/chat/completions", json=body, headers=headers, stream=True,
                                  timeout=30) as response:
                    for _ in response.iter_lines():
                        pass
                self.completed += 1
        control.close()

    def __enter__(self) -> "Streams":
        for thread in self._threads:
            thread.start()
        time.sleep(0.2)  # every stream has begun
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()


def time_to_first_byte(url: str, tokens: list[str], stream: bool, seconds: float) -> float:
    """Median seconds from a request sent to its status line read, one client on one
    keep-alive connection walking the tokens (the orgs' rate windows), for `seconds`."""
    host, port = url.removeprefix("http://").split(":")
    body = json.dumps({**COMPLETION_BODY, "stream": stream})
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    samples, deadline = [], time.monotonic() + seconds
    for token in itertools.cycle(tokens):
        if time.monotonic() > deadline:
            break
        started = time.perf_counter()
        connection.request("POST", "/v1/chat/completions", body=body,
                           headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        response = connection.getresponse()
        samples.append(time.perf_counter() - started)
        assert response.status == 200, (response.status, response.read())
        response.read()
    connection.close()
    return statistics.median(samples)


def measure(targets: list[Target], plans: dict[str, Path], tokens: list[str], seconds: float,
            profile: Path | None) -> dict:
    """All servers up at once; every cell runs each target back to back, in one order of
    targets in the first round and the reverse in the second."""
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
        runs: dict[str, dict] = {t.name: defaultdict(list) for t in targets}
        portals = [t for t in targets if t.name in PORTALS]
        ttfb: dict[str, dict] = {t.name: {} for t in portals}
        streaming: dict[str, dict] = {t.name: defaultdict(list) for t in portals}
        for round_number, order in enumerate((targets, targets[::-1])):
            print(f"round {round_number + 1}: {' '.join(t.name for t in order)}", flush=True)
            cells = [(e, c, order) for e, c in itertools.product(ENDPOINTS, CONCURRENCY)] + \
                    [(e, c, [t for t in order if t.name in PORTALS]) for e, c in itertools.product(
                        COMPLETIONS, COMPLETION_CONCURRENCY)]
            for endpoint, concurrency, cell_targets in cells:
                LOADS.append(os.getloadavg()[0])
                for target in cell_targets:
                    server, url = running[target.name]
                    profiled = target.profiled and concurrency == 16 and round_number == 0
                    spy = start_profile(server, profile, endpoint, seconds) if profiled else None
                    during = ClockMover(url) if endpoint in CLOCK_MOVES_DURING and target.name in PORTALS \
                        else nullcontext()
                    with during:
                        cell = wrk(url, plans[endpoint], concurrency, seconds, f"{target.name}-{time.time_ns()}")
                        if endpoint in COMPLETIONS and round_number == 0:
                            ttfb[target.name][endpoint, concurrency] = measure_ttfb(
                                url, plans[endpoint], tokens, endpoint == "stream", concurrency, seconds)
                    if spy:
                        spy.wait()
                    runs[target.name][endpoint, concurrency].append(cell)
                    print(f"  {target.name:8} {endpoint:6} c={concurrency:<3} {cell['rps']:8.0f} rps", flush=True)
            for target in order:
                if target.name in PORTALS:
                    _, url = running[target.name]
                    streaming[target.name]["alone"].append(wrk(url, plans["state"], 1, seconds, "alone"))
                    with Streams(url, tokens):
                        streaming[target.name]["streams"].append(wrk(url, plans["state"], 1, seconds, "streams"))
        peaks = memory.stop()
    finally:
        for server, _ in running.values():
            server.stop()
    return {t.name: {"cells": {key: mean_cell(cell_runs) for key, cell_runs in runs[t.name].items()},
                     "ttfb": ttfb.get(t.name, {}),
                     "streaming": {key: mean_cell(r) for key, r in streaming.get(t.name, {}).items()},
                     "peak_rss_mib": peaks[t.name][0], "largest_process_mib": peaks[t.name][1],
                     "startup_s": statistics.median(startup for _, startup in startups[t.name])}
            for t in targets}


def measure_ttfb(url: str, plan: Path, tokens: list[str], stream: bool, concurrency: int, seconds: float) -> float:
    """Time to first byte for one client of its own; at c > 1, while wrk holds the other c - 1."""
    if concurrency == 1:
        return time_to_first_byte(url, tokens, stream, seconds)
    result = []
    prober = threading.Thread(target=lambda: result.append(time_to_first_byte(url, tokens, stream, max(0.5, seconds - 1))))
    load = threading.Thread(target=wrk, args=(url, plan, concurrency - 1, seconds, f"ttfb-{time.time_ns()}"))
    load.start()
    time.sleep(0.5)
    prober.start()
    prober.join()
    load.join()
    return result[0]


def py_spy() -> str | None:
    return shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))


def start_profile(server: ServerProcess, directory: Path | None, endpoint: str, seconds: float):
    """py-spy, GIL holders only, over the middle of a c=16 run: what Python spends time on."""
    if directory is None:
        return None
    return subprocess.Popen([py_spy(), "record", "--pid", str(server.process.pid), "--subprocesses",
                             "--gil", "--nonblocking", "--format", "raw", "--duration", str(max(1, int(seconds) - 1)),
                             "--output", str(directory / f"{endpoint}.txt")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


LAYERS = (("mockportal/store/", "store (SQL calls)"), ("sqlite3", "store (SQL calls)"),
          ("mockportal/cli.py", "request log"), ("logging/", "request log"),
          ("mockportal/serving.py", "HTTP server"), ("granian/", "HTTP server"),
          ("mockportal/", "portal rules, views, wire"), ("jwt/", "PyJWT (token check)"),
          ("flask/", "Flask + Werkzeug"), ("werkzeug/", "Flask + Werkzeug"),
          ("json/", "json"), ("threading", "threads"))


def profile_shares(raw: Path) -> list[tuple[str, float]]:
    """Share of GIL-held samples by layer, attributed to the innermost frame."""
    counts, total = Counter(), 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        leaf = stack.rsplit(";", 1)[-1]
        layer = next((name for marker, name in LAYERS if marker in leaf), "other (stdlib)")
        counts[layer] += int(count)
        total += int(count)
    return [(layer, count / total) for layer, count in counts.most_common()] if total else []


def table(results: dict[str, dict], endpoint: str, concurrencies=CONCURRENCY) -> list[str]:
    """One endpoint: a row per concurrency, `rps (p50 / p99 ms)` per target, then the ratios."""
    names = [n for n in results if (endpoint, concurrencies[0]) in results[n]["cells"]]
    ratios = [(a, b) for a, b in RATIOS if a in names and b in names]
    lines = ["| c | " + " | ".join(TARGET_TITLES[n] for n in names) + " | " +
             " | ".join(f"{a} / {b}" for a, b in ratios) + " |",
             "|---|" + "---|" * (len(names) + len(ratios))]
    for concurrency in concurrencies:
        cells = {n: results[n]["cells"][endpoint, concurrency] for n in names}
        lines.append(f"| {concurrency} | " + " | ".join(
            f"{c['rps']:.0f} rps ({c['p50_us'] / 1000:.2f} / {c['p99_us'] / 1000:.1f} ms){non_2xx_note(c)}"
            for c in cells.values()) + " | " + " | ".join(
            f"{cells[a]['rps'] / cells[b]['rps']:.0%}" for a, b in ratios) + " |")
    return lines


def completions_table(results: dict[str, dict]) -> list[str]:
    lines = ["| | c | " + " | ".join(TARGET_TITLES[n] for n in PORTALS) + " |", "|---|---|---|---|"]
    for endpoint, concurrency in itertools.product(COMPLETIONS, COMPLETION_CONCURRENCY):
        cells = [results[n]["cells"][endpoint, concurrency] for n in PORTALS]
        ttfbs = [results[n]["ttfb"][endpoint, concurrency] for n in PORTALS]
        lines.append(f"| {'streamed' if endpoint == 'stream' else 'whole'} | {concurrency} | " + " | ".join(
            f"{c['rps']:.0f} rps ({c['p50_us'] / 1000:.2f} / {c['p99_us'] / 1000:.1f} ms){non_2xx_note(c)}, "
            f"first byte {t * 1000:.2f} ms" for c, t in zip(cells, ttfbs)) + " |")
    return lines


def non_2xx_note(cell: dict) -> str:
    bad = cell["non_2xx"] + cell["socket_errors"]
    return f" ({bad} not 2xx)" if bad else ""


def verdict(met: bool, text: str, missed: list[str] = ()) -> str:
    return f"- **{'met' if met else 'missed'}**: {text}" + (f" Missed cells: {'; '.join(missed)}." if missed else "")


def verdicts(results: dict[str, dict]) -> list[str]:
    """Each target of the issue, met or missed, with the cells that missed it."""
    def cell(name, endpoint, concurrency):
        return results[name]["cells"][endpoint, concurrency]

    lines = []
    if "prism" in results:
        slow = [f"{n} {e} c={c} {cell(n, e, c)['rps']:.0f} vs {cell('prism', e, c)['rps']:.0f} rps"
                for n in PORTALS for e in ("state", "poll") for c in CONCURRENCY
                if cell(n, e, c)["rps"] < cell("prism", e, c)["rps"]]
        lines.append(verdict(not slow, "reads (state, poll) at least Prism's throughput at c=1, 16, 64 in both modes.",
                             slow))
        tail = [f"{n} {e} {cell(n, e, 64)['p99_us'] / 1000:.1f} vs {cell('prism', e, 64)['p99_us'] / 1000:.1f} ms"
                for n in PORTALS for e in ("state", "poll") if cell(n, e, 64)["p99_us"] > cell("prism", e, 64)["p99_us"]]
        lines.append(verdict(not tail, "reads' p99 at c=64 no more than Prism's.", tail))
        slow = [f"{n} c={c} {cell(n, 'charge', c)['rps'] / cell('prism', 'charge', c)['rps']:.2f}x"
                for n in PORTALS for c in CONCURRENCY
                if cell(n, "charge", c)["rps"] < 0.8 * cell("prism", "charge", c)["rps"]]
        refused = [f"{n} c={c} {non_2xx_note(cell(n, 'charge', c)).strip()}" for n in PORTALS for c in CONCURRENCY
                   if non_2xx_note(cell(n, "charge", c))]
        lines.append(verdict(not slow and not refused, "charges at least 0.8x Prism's throughput at every "
                             "concurrency in both modes, every one accepted (202: every gate ran) and committed to "
                             "the WAL file before its answer.", slow + refused))
    if "bjoern" in results:
        ceiling = cell("bjoern", "state", 1)["p50_us"]
        far = [f"{n} {cell(n, 'state', 1)['p50_us'] / 1000:.3f} ms = {cell(n, 'state', 1)['p50_us'] / ceiling:.1f}x"
               for n in PORTALS if cell(n, "state", 1)["p50_us"] > 3 * ceiling]
        lines.append(verdict(not far, f"c=1 median latency of a state read within 3x of the bare app on bjoern "
                             f"({ceiling / 1000:.3f} ms).", far))
    losing = [f"{n} {e} c=64 {cell(n, e, 64)['rps']:.0f} < c=1 {cell(n, e, 1)['rps']:.0f} rps"
              for n in PORTALS for e in ENDPOINTS if cell(n, e, 64)["rps"] < cell(n, e, 1)["rps"]]
    lines.append(verdict(not losing, "no mode loses throughput as concurrency grows (c=64 at least c=1).", losing))
    slow = [f"{n} {results[n]['startup_s']:.2f} s" for n in PORTALS if results[n]["startup_s"] >= 0.5]
    lines.append(verdict(not slow, "start to first 200 under 0.5 s (" +
                         ", ".join(f"{n} {results[n]['startup_s']:.2f} s" for n in PORTALS) + ").", slow))
    heavy = [f"{n} {results[n]['largest_process_mib']:.0f} MiB" for n in PORTALS
             if results[n]["largest_process_mib"] >= 100]
    lines.append(verdict(not heavy, "one worker under 100 MB RSS (largest process: " +
                         ", ".join(f"{n} {results[n]['largest_process_mib']:.0f} MiB" for n in PORTALS) + ").", heavy))
    slowed = []
    for n in PORTALS:
        alone, streams = results[n]["streaming"]["alone"], results[n]["streaming"]["streams"]
        if streams["p50_us"] > 1.25 * alone["p50_us"] or streams["rps"] < 0.8 * alone["rps"]:
            slowed.append(f"{n} {streams['rps']:.0f} vs {alone['rps']:.0f} rps")
    lines.append(verdict(not slowed, f"a stream in progress does not slow `GET /api/billing/state` (c=1, with "
                         f"{STREAMS_IN_PROGRESS} slow streams open: within 25 % of its p50 and 20 % of its rps "
                         "alone).", slowed))
    return lines


def streaming_table(results: dict[str, dict]) -> list[str]:
    lines = ["| | " + " | ".join(TARGET_TITLES[n] for n in PORTALS) + " |", "|---|---|---|"]
    for key, label in (("alone", "alone"), ("streams", f"{STREAMS_IN_PROGRESS} streams in progress")):
        lines.append(f"| {label} | " + " | ".join(
            f"{results[n]['streaming'][key]['rps']:.0f} rps ({results[n]['streaming'][key]['p50_us'] / 1000:.2f} / "
            f"{results[n]['streaming'][key]['p99_us'] / 1000:.1f} ms)" for n in PORTALS) + " |")
    return lines


def report(results: dict[str, dict], args, load_before: float, prism_note: str, profiles: dict[str, list],
           cpu_costs: list[tuple[str, float]]) -> str:
    names = list(results)
    lines = [
        BEGIN, "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores ({platform.machine()}, Python "
        f"{platform.python_version()}); load average {load_before:.2f} before the run, "
        f"{min(LOADS):.2f}-{max(LOADS):.2f} during it (other work shares the machine). Server: granian, `--threads "
        f"{args.threads}`, one worker and two. wrk {args.seconds:g} s per run after a 1 s warm-up, 2 wrk "
        "threads (1 at c=1) on the same cores; every cell is the mean of two runs, the rounds in opposite "
        "orders of targets, all servers up at once.",
        "", f"Portal: `mockportal serve` on a seeded `--db` file (WAL, `synchronous=NORMAL`, each mode its own "
        f"copy) and a frozen clock; {ORGS} orgs with one token each, walked round robin; during charge and "
        f"completion runs the clock moves an hour every {CLOCK_MOVE_EVERY:g} s so every request is accepted (a "
        "cell that was not all 2xx says so). Bare: bench/bare.py, a fixed JSON body from a plain WSGI "
        "function, on granian (the portal's stack, one worker) and on bjoern (the fastest here); flask floor: "
        f"the same body from a one-route Flask app on granian. Prism: {prism_note}.", "",
        *(line for endpoint in ENDPOINTS
          for line in (f"`{TITLES[endpoint]}`: requests per second (p50 / p99 latency)", "",
                       *table(results, endpoint), "")),
        f"`{TITLES['whole']}` (`{MODEL}`, a paid model: the credit gates and the debit run), whole and "
        "streamed: requests per second (p50 / p99 latency of the whole answer) and the median time to first "
        "byte of one client of its own (at c=16, alongside 15 wrk connections):", "",
        *completions_table(results), "",
        f"`GET /api/billing/state` at c=1, alone and with {STREAMS_IN_PROGRESS} streamed replies in progress "
        f"({STREAM_CHUNK_DELAY_MS} ms between chunks, one after another, on other orgs):", "",
        *streaming_table(results), "",
        "| | " + " | ".join(TARGET_TITLES[n] for n in names) + " |", "|---|" + "---|" * len(names),
        "| startup, process start to first 200 (median of 3), s | " +
        " | ".join(f"{results[n]['startup_s']:.2f}" for n in names) + " |",
        "| peak memory, summed RSS of the process tree, MiB | " +
        " | ".join(f"{results[n]['peak_rss_mib']:.0f}" for n in names) + " |",
        "| peak memory, largest process, MiB | " +
        " | ".join(f"{results[n]['largest_process_mib']:.0f}" for n in names) + " |", "",
        "Against the targets:", "", *verdicts(results), "",
    ]
    lines += ["CPU per call, in-process (bench/costs.py):", "", "| µs | what |", "|---:|---|",
              *(f"| {micros:.0f} | {label} |" for label, micros in cpu_costs), ""]
    for endpoint, shares in profiles.items():
        lines += [f"Profile of the portal (1 worker) under `{TITLES[endpoint]}` at c=16 (py-spy, share of "
                  "GIL-held samples by innermost frame; granian's Rust side holds no GIL and is not sampled):", "",
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
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--no-profile", action="store_true", help="skip the py-spy profile")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    load_before = os.getloadavg()[0]
    cpu_costs = costs()  # first: a mistake here must not cost a whole run
    profile = None if args.no_profile or py_spy() is None else Path(tempfile.mkdtemp())
    threads = ["--threads", str(args.threads)]

    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        print("seeding the portal", flush=True)
        with ServerProcess(portal_on_file(scratch / "portal.db")) as seeding:
            tokens, polled = seed_portal(seeding.url)
            document = requests.get(f"{seeding.url}/openapi.json", timeout=30)
        copy_database(scratch / "portal.db", scratch / "portal2.db")
        plans = write_plans(scratch, tokens, polled)
        bare = [sys.executable, str(BENCH / "bare.py"), "--port", "{port}", *threads]
        targets = [
            Target("portal", portal_on_file(scratch / "portal.db", 1, *threads, port="{port}"), probe="/openapi.json",
                   profiled=profile is not None),
            Target("portal2", portal_on_file(scratch / "portal2.db", 2, *threads, port="{port}"),
                   probe="/openapi.json"),
            Target("flask", [*bare, "--flask"], probe="/"),
            Target("bare", bare, probe="/"),
        ]
        try:
            import bjoern  # noqa: F401 (the `bench` extra)
            targets.append(Target("bjoern", [*bare, "--server", "bjoern"], probe="/"))
        except ImportError:
            print("bjoern is not installed (the `bench` extra): no bare app on the fastest server", flush=True)
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
        print(prism_note, flush=True)
        results = measure(targets, plans, tokens, args.seconds, profile)
    profiles = {e: profile_shares(profile / f"{e}.txt") for e in ENDPOINTS
                if profile and (profile / f"{e}.txt").exists()}
    write_results(report(results, args, load_before, prism_note, profiles, cpu_costs))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
