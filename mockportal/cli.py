"""`mockportal serve`: run the portal in one or more granian worker processes."""

from __future__ import annotations

import functools
import os
import shutil
import sys
import tempfile
import time
from typing import TextIO

import click

from mockportal.api.inference import MAX_BODY_BYTES as LARGEST_BODY_BYTES
from mockportal.app import create_app
from mockportal.domain.clock import parse_iso
from mockportal.serving import serve as serve_app

class RequestLog:
    """WSGI middleware: one line per request, `[pid] METHOD PATH STATUS 1.2ms` (pid only when
    `with_pid`, for several workers). Written straight to the stream: `logging`'s record
    machinery cost more per request than this line is worth (a tenth of a billing read)."""

    def __init__(self, app, stream: TextIO | None = None, with_pid: bool = False):
        self.app = app
        self.stream = stream or sys.stdout
        self.prefix = f"[{os.getpid()}] " if with_pid else ""

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        status_holder = {}

        def recording_start_response(status, headers, exc_info=None):
            status_holder["status"] = status.split(" ", 1)[0]
            return start_response(status, headers, exc_info)

        try:
            return self.app(environ, recording_start_response)
        finally:
            self.stream.write(f"{self.prefix}{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')} "
                              f"{status_holder.get('status', '-')} "
                              f"{(time.perf_counter() - started) * 1000:.1f}ms\n")
            self.stream.flush()


@click.group()
def main() -> None:
    """mockportal: a fake Nous Portal terminal-billing API for offline use and CI."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, type=int, help="0 = any free port.")
@click.option("--db", "database", default=None,
              help="SQLite file; omitted = a temporary file, deleted on exit.")
@click.option("--scenario", default="demo", show_default=True, help="Seeded into a fresh database.")
@click.option("--no-control", is_flag=True, help="Disable the /_mock control plane.")
@click.option("--control-token", default=None, help="Require this bearer token on /_mock.")
@click.option("--frozen-clock", default=None, metavar="ISO8601",
              help="Start the portal clock frozen at this instant (moves only via /_mock/clock).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1),
              help="Processes sharing one database.")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(min=1),
              help="Threads per worker.")
def serve(host, port, database, scenario, no_control, control_token, frozen_clock, workers,
          threads) -> None:
    """Serve the portal."""
    config = {
        "DATABASE": database, "SCENARIO": scenario, "CONTROL_ENABLED": not no_control,
        "CONTROL_TOKEN": control_token, "THREADS": threads,
        "FROZEN_CLOCK_AT": parse_iso(frozen_clock) if frozen_clock else None,
    }
    control = "off" if no_control else ("on, token required" if control_token else "on")
    # Workers share state only through a file (an in-memory database would be one per worker,
    # and lost with a worker that is replaced), so one worker gets one too.
    scratch = None if database else tempfile.mkdtemp(prefix="mockportal-")
    config["DATABASE"] = database or os.path.join(scratch, "portal.db")
    db_note = database or f"{config['DATABASE']} (temporary, deleted on exit)"
    # Create, seed and set the clock once here, so workers never race to initialise the file.
    create_app(config).extensions["mockportal"].store.close()
    summary = f"{workers} worker{'s' * (workers > 1)} x {threads} threads, db {db_note}, control plane {control}"

    def remove_scratch() -> None:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)

    serve_app(functools.partial(_worker_app, config, workers > 1), host=host, port=port, workers=workers,
              threads=threads, max_body_bytes=LARGEST_BODY_BYTES, on_exit=remove_scratch,
              on_ready=lambda url: _banner(url, scenario, summary, no_control))


def _worker_app(config: dict, with_pid: bool) -> RequestLog:
    """Built in each worker: its own connections, and with several its pid on each line."""
    return RequestLog(create_app(config), with_pid=with_pid)


def _banner(url: str, scenario: str, summary: str, no_control: bool) -> None:
    click.echo(f"mockportal serving {url}  (scenario {scenario}, {summary})")
    click.echo(f"  export HERMES_PORTAL_BASE_URL={url}")
    if not no_control:
        click.echo(f"  token:  curl -s -XPOST {url}/_mock/tokens -H 'Content-Type: application/json' "
                   "-d '{\"user\": \"owner@acme.test\", \"scope\": \"billing:manage\"}'")
    click.echo(f"  state:  curl -s {url}/api/billing/state -H 'Authorization: Bearer <access_token>'")
    sys.stdout.flush()
