"""Which WSGI server: the bare app and the portal on each candidate installed here, side by side.

    .venv/bin/python bench/servers.py [--seconds S] [--rounds R]

The measurement behind `serve`'s choice of granian (bench/RESULTS.md). Each candidate serves
bench/bare.py's fixed body and the portal (a seeded WAL file, a frozen clock, one token) in a
process of its own on 127.0.0.1; wrk drives `GET` at concurrency 1, 16 and 64. Besides
requests per second and latency it reports the server's CPU per request (user + system time
of its whole process tree over the run), which another process's load barely moves. Rounds
run the candidates in opposite orders; a cell is the mean of its rounds. gunicorn and bjoern
are measured when installed (`pip install gunicorn`; bjoern is in the `bench` extra).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
from pathlib import Path

from mockportal.harness import LONG_LIVED_SECONDS, ServerProcess, portal_on_file
from mockportal.testing import Control

from run import BENCH, free_port, wrk  # bench/ is on the path: it holds this script

CONCURRENCY = (1, 16, 64)


def server_code(server: str, workers: int, app: str, database: str) -> str:
    """A Python program serving `app` ("bare" or "portal") on `server`, printing its URL."""
    make = ("from bare import app as make\nmake_app = lambda: make" if app == "bare" else
            "from mockportal.app import create_app\nfrom mockportal.cli import RequestLog\n"
            f"make_app = lambda: RequestLog(create_app({{'DATABASE': {database!r}}}), stream=open(os.devnull, 'w'))")
    serve = {
        "waitress": "from waitress.server import create_server\n"
                    "s = create_server(make_app(), host='127.0.0.1', port=PORT, threads=8)\nready()\ns.run()",
        "gunicorn": "from gunicorn.app.base import BaseApplication\n"
                    "class A(BaseApplication):\n"
                    "    def load_config(self):\n"
                    f"        for k, v in dict(bind=f'127.0.0.1:{{PORT}}', workers={workers}, worker_class='gthread',\n"
                    "                         threads=8, loglevel='warning', when_ready=lambda _: ready()).items():\n"
                    "            self.cfg.set(k, v)\n"
                    "    def load(self):\n        return make_app()\nA().run()",
        "granian": "from mockportal.serving import serve\n"
                   f"serve(make_app, host='127.0.0.1', port=PORT, workers={workers}, threads=8,\n"
                   "      max_body_bytes=8 << 20, on_ready=lambda url: ready())",
        "bjoern": "import bjoern\nsock = bjoern.bind_and_listen('127.0.0.1', PORT)\nready()\n"
                  "bjoern.server_run(sock, make_app())",
    }[server]
    return (f"import os, sys\nsys.path.insert(0, {str(BENCH)!r})\nPORT = int(sys.argv[1])\n"
            "def ready():\n    print(f'serving http://127.0.0.1:{PORT}', flush=True)\n" + make + "\n" + serve)


def cpu_seconds(group: int) -> float:
    """User + system seconds of every process in a process group, from /proc."""
    total, ticks = 0, os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def measure(server: str, workers: int, app: str, plan: Path, database: str, seconds: float) -> dict:
    port = free_port()
    with ServerProcess([sys.executable, "-c", server_code(server, workers, app, database), str(port)]) as process:
        wrk(process.url, plan, 4, 1, "warmup")
        cells = {}
        for concurrency in CONCURRENCY:
            before = cpu_seconds(process.process.pid)
            cell = wrk(process.url, plan, concurrency, seconds, f"{server}-{concurrency}")
            cell["cpu_us"] = (cpu_seconds(process.process.pid) - before) / cell["requests"] * 1e6
            cells[concurrency] = cell
        return cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    candidates = [("waitress", 1), ("gunicorn", 1), ("gunicorn", 2), ("granian", 1), ("granian", 2), ("bjoern", 1)]
    candidates = [(s, w) for s, w in candidates if importlib.util.find_spec(s)]
    with tempfile.TemporaryDirectory() as scratch:
        database = str(Path(scratch) / "portal.db")
        with ServerProcess(portal_on_file(database)) as seeding:
            token = Control.over_http(seeding.url).token(expires_in=LONG_LIVED_SECONDS)["access_token"]
        plans = {"bare": Path(scratch) / "bare.plan", "portal": Path(scratch) / "portal.plan"}
        plans["bare"].write_text("GET\t/\t\nx\t-\n")
        plans["portal"].write_text(f"GET\t/api/billing/state\t\n{token}\t-\n")
        runs: dict[tuple, list] = {}
        for round_number in range(args.rounds):
            for server, workers in candidates if round_number % 2 == 0 else candidates[::-1]:
                for app in ("bare", "portal") if server != "bjoern" else ("bare",):
                    cells = measure(server, workers, app, plans[app], database, args.seconds)
                    runs.setdefault((app, server, workers), []).append(cells)
                    print(f"{app:6} {server:8} x{workers} " + "  ".join(
                        f"c={c} {cell['rps']:.0f} rps {cell['cpu_us']:.0f} us" for c, cell in cells.items()),
                        flush=True)
    print(f"\n| app | server | {' | '.join(f'c={c}' for c in CONCURRENCY)} |\n|---|---|---|---|---|")
    for (app, server, workers), cell_runs in runs.items():
        label = "bjoern (one thread)" if server == "bjoern" else f"{server} {workers} x 8 threads"
        print(f"| {app} | {label} | " + " | ".join(
            f"{mean(cell_runs, c, 'rps'):.0f} rps, p50 {mean(cell_runs, c, 'p50_us') / 1000:.2f} ms, "
            f"{mean(cell_runs, c, 'cpu_us'):.0f} µs CPU" for c in CONCURRENCY) + " |")


def mean(cell_runs: list[dict], concurrency: int, key: str) -> float:
    return sum(cells[concurrency][key] for cells in cell_runs) / len(cell_runs)


if __name__ == "__main__":
    main()
