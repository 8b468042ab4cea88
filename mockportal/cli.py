"""`mockportal serve`: run the portal behind waitress, or several gunicorn workers."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from typing import TextIO

import click

from mockportal.api.inference import MAX_BODY_BYTES as LARGEST_BODY_BYTES
from mockportal.api.guard import is_loopback, parse_public_url
from mockportal.app import create_app
from mockportal.domain.clock import parse_iso
from mockportal.serving import serve_in_process, serve_workers

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


def _public_url(_ctx, _param, value: str | None) -> str | None:
    if value is not None:
        try:
            parse_public_url(value)
        except ValueError as error:
            raise click.BadParameter(str(error)) from None
    return value


@click.group()
def main() -> None:
    """mockportal: a fake Nous Portal terminal-billing API for offline use and CI."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, type=int, help="0 = any free port.")
@click.option("--db", "database", default=None,
              help="SQLite file; omitted = in-memory (with --workers > 1: a temporary file).")
@click.option("--scenario", default="demo", show_default=True, help="Seeded into a fresh database.")
@click.option("--no-control", is_flag=True, help="Disable the /_mock control plane.")
@click.option("--control-token", default=None, help="Require this bearer token on /_mock.")
@click.option("--frozen-clock", default=None, metavar="ISO8601",
              help="Start the portal clock frozen at this instant (moves only via /_mock/clock).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1),
              help="Processes sharing one database; more than 1 runs gunicorn (Unix).")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(min=1),
              help="Threads per worker.")
@click.option("--public-url", default=None, metavar="URL", callback=_public_url,
              help="The origin a proxy serves the portal under (https://portal.example); "
                   "requests naming it are served, besides loopback names and --host.")
@click.option("--allow-unguarded-control", is_flag=True,
              help="Serve /_mock without --control-token on a non-loopback --host.")
def serve(host, port, database, scenario, no_control, control_token, frozen_clock, workers,
          threads, public_url, allow_unguarded_control) -> None:
    """Serve the portal."""
    unguarded = not (no_control or control_token or is_loopback(host))
    if unguarded and not allow_unguarded_control:
        click.echo(f"mockportal: refusing to serve an unguarded /_mock control plane on {host}: anyone "
                   "who can reach it could reset the portal and mint billing tokens; add --control-token "
                   "T, --no-control, or --allow-unguarded-control.", err=True)
        sys.exit(2)
    config = {
        "DATABASE": database, "SCENARIO": scenario, "CONTROL_ENABLED": not no_control,
        "CONTROL_TOKEN": control_token, "BIND_HOST": host, "PUBLIC_URL": public_url,
        "FROZEN_CLOCK_AT": parse_iso(frozen_clock) if frozen_clock else None,
    }
    control = "off" if no_control else ("on, token required" if control_token else
                                        "on, UNGUARDED on the network" if unguarded else "on")
    if workers == 1:
        summary = f"db {database or 'in-memory'}, control plane {control}"
        serve_in_process(RequestLog(create_app(config)), host=host, port=port, threads=threads,
                         on_ready=lambda url: _banner(url, scenario, summary, no_control))
        return
    # Workers share state only through a file; an in-memory database would be one per worker.
    scratch = None if database else tempfile.mkdtemp(prefix="mockportal-")
    config["DATABASE"] = database or os.path.join(scratch, "portal.db")
    db_note = database or f"{config['DATABASE']} (temporary, deleted on exit)"
    # Create, seed and set the clock once here, so workers never race to initialise the file.
    create_app(config).extensions["mockportal"].store.close()
    summary = (f"{workers} workers x {threads} threads (gunicorn), db {db_note}, "
               f"control plane {control}")

    def remove_scratch() -> None:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)

    # Built in each worker after the fork: its own connections, and its own pid on each line.
    serve_workers(lambda: RequestLog(create_app(config), with_pid=True), host=host, port=port,
                  workers=workers, threads=threads, max_body_bytes=LARGEST_BODY_BYTES, on_exit=remove_scratch,
                  on_ready=lambda url: _banner(url, scenario, summary, no_control))


def _banner(url: str, scenario: str, summary: str, no_control: bool) -> None:
    click.echo(f"mockportal serving {url}  (scenario {scenario}, {summary})")
    click.echo(f"  export HERMES_PORTAL_BASE_URL={url}")
    if not no_control:
        click.echo(f"  token:  curl -s -XPOST {url}/_mock/tokens -H 'Content-Type: application/json' "
                   "-d '{\"user\": \"owner@acme.test\", \"scope\": \"billing:manage\"}'")
    click.echo(f"  state:  curl -s {url}/api/billing/state -H 'Authorization: Bearer <access_token>'")
    sys.stdout.flush()
