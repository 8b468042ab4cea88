"""`mockportal serve`: run the portal behind waitress."""

from __future__ import annotations

import logging
import sys
import time

import click
from waitress import serve as waitress_serve

from mockportal.app import create_app
from mockportal.domain.clock import parse_iso

log = logging.getLogger("mockportal.requests")


class RequestLog:
    """WSGI middleware: one line per request with method, path, status and milliseconds."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        status_holder = {}

        def recording_start_response(status, headers, exc_info=None):
            status_holder["status"] = status.split(" ", 1)[0]
            return start_response(status, headers, exc_info)

        try:
            return self.app(environ, recording_start_response)
        finally:
            log.info("%s %s %s %.1fms", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"),
                     status_holder.get("status", "-"), (time.perf_counter() - started) * 1000)


@click.group()
def main() -> None:
    """mockportal: a fake Nous Portal terminal-billing API for offline use and CI."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, type=int)
@click.option("--db", "database", default=None, help="SQLite file; omitted = in-memory.")
@click.option("--scenario", default="demo", show_default=True, help="Seeded into a fresh database.")
@click.option("--no-control", is_flag=True, help="Disable the /_mock control plane.")
@click.option("--control-token", default=None, help="Require this bearer token on /_mock.")
@click.option("--frozen-clock", default=None, metavar="ISO8601",
              help="Start the portal clock frozen at this instant (moves only via /_mock/clock).")
@click.option("--threads", default=8, show_default=True, type=int)
def serve(host, port, database, scenario, no_control, control_token, frozen_clock, threads) -> None:
    """Serve the portal."""
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    app = create_app({
        "DATABASE": database, "SCENARIO": scenario, "CONTROL_ENABLED": not no_control,
        "CONTROL_TOKEN": control_token,
        "FROZEN_CLOCK_AT": parse_iso(frozen_clock) if frozen_clock else None,
    })
    url = f"http://{host}:{port}"
    control = "off" if no_control else ("on, token required" if control_token else "on")
    click.echo(f"mockportal serving {url}  (scenario {scenario}, db {database or 'in-memory'}, "
               f"control plane {control})")
    click.echo(f"  export HERMES_PORTAL_BASE_URL={url}")
    if not no_control:
        click.echo(f"  token:  curl -s -XPOST {url}/_mock/tokens -H 'Content-Type: application/json' "
                   "-d '{\"user\": \"owner@acme.test\", \"scope\": \"billing:manage\"}'")
    click.echo(f"  state:  curl -s {url}/api/billing/state -H 'Authorization: Bearer <access_token>'")
    sys.stdout.flush()
    waitress_serve(RequestLog(app), host=host, port=port, threads=threads, ident="mockportal",
                   _quiet=True)
