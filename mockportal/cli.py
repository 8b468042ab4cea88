"""`mockportal serve`: run the portal behind waitress, or several gunicorn workers."""

from __future__ import annotations

import errno
import os
import shlex
import shutil
import socket
import sqlite3
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime
from typing import Iterator, TextIO
from urllib.parse import quote

import click

from mockportal.api.inference import MAX_BODY_BYTES as LARGEST_BODY_BYTES
from mockportal.api.guard import is_loopback, parse_public_url
from mockportal.app import create_app
from mockportal.domain.clock import require_bounded
from mockportal.domain.scenarios import SCENARIOS
from mockportal.serving import serve_in_process, serve_workers
from mockportal.version import version

# What a failed start says instead of a traceback: the port is taken or not ours, or the host
# is not an address of this machine.
LISTEN_ERRORS = (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL)

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


def _known_scenario(ctx, param, name: str) -> str:
    if name not in SCENARIOS:
        raise click.ClickException(f"Unknown scenario {name!r}: choose one of {', '.join(sorted(SCENARIOS))}.")
    return name


def _instant(ctx, param, text: str | None) -> float | None:
    """An ISO 8601 instant with its offset (`Z` or `+00:00`), as epoch seconds."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise click.ClickException(f"--frozen-clock {text!r} is not an ISO 8601 instant with its offset, "
                                   "such as 2026-06-10T12:00:00Z.")
    try:
        return require_bounded(moment.timestamp())
    except ValueError as error:
        raise click.ClickException(f"--frozen-clock {text!r}: {error}") from None


@contextmanager
def _opening(database: str | None) -> Iterator[None]:
    """A database that cannot be opened (no such directory, not writable, not SQLite, written
    by a newer mockportal) is one line, not a traceback."""
    try:
        yield
    except (OSError, sqlite3.Error) as error:
        raise click.ClickException(f"Cannot open --db {database}: {getattr(error, 'strerror', None) or error}.")
    except RuntimeError as error:
        if "newer mockportal" not in str(error):
            raise
        raise click.ClickException(f"Cannot open --db {database}: {error}")


@contextmanager
def _listening(host: str, port: int) -> Iterator[None]:
    """A port in use (or not ours to take), or a host that is not this machine's, is one line."""
    try:
        yield
    except OSError as error:
        if not isinstance(error, socket.gaierror) and error.errno not in LISTEN_ERRORS:
            raise
        hint = " Pick another --port (0 = any free port)." if error.errno == errno.EADDRINUSE else ""
        raise click.ClickException(f"Cannot listen on {host}:{port}: {error.strerror or error}.{hint}")
    except ValueError as error:  # waitress's answer to a host name that does not resolve
        if not isinstance(error.__context__, socket.gaierror):
            raise
        raise click.ClickException(f"Cannot listen on {host}:{port}: {error.__context__.strerror}.")


def _probe(host: str, port: int) -> None:
    """Bind and let go, so gunicorn's workers start only where they can listen (gunicorn would
    retry a taken port or an unknown host for seconds and log each try)."""
    with _listening(host, port):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))


class Refused(click.ClickException):
    """A start refused for the user's safety: one line, and the exit code of a usage error."""

    exit_code = 2


def _public_url(_ctx, _param, value: str | None) -> str | None:
    if value is not None:
        try:
            parse_public_url(value)
        except ValueError as error:
            raise click.BadParameter(str(error)) from None
    return value


@click.group()
@click.version_option(version(), "--version", prog_name="mockportal")
def main() -> None:
    """mockportal: a fake Nous Portal terminal-billing API for offline use and CI."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535), help="0 = any free port.")
@click.option("--db", "database", default=None,
              help="SQLite file; omitted = in-memory (with --workers > 1: a temporary file).")
@click.option("--scenario", default="demo", show_default=True, callback=_known_scenario,
              help=f"Seeded into a fresh database: {' or '.join(sorted(SCENARIOS))}.")
@click.option("--no-control", is_flag=True, help="Disable the /_mock control plane.")
@click.option("--control-token", default=None, help="Require this bearer token on /_mock.")
@click.option("--frozen-clock", default=None, metavar="ISO8601", callback=_instant,
              help="Start the portal clock frozen at this instant, e.g. 2026-06-10T12:00:00Z "
                   "(it moves only via /_mock/clock).")
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
        raise Refused(f"Refusing to serve an unguarded /_mock control plane on {host}: anyone who can reach "
                      "it could reset the portal and mint billing tokens; add --control-token T, "
                      "--no-control, or --allow-unguarded-control.")
    config = {
        "DATABASE": database, "SCENARIO": scenario, "CONTROL_ENABLED": not no_control,
        "CONTROL_TOKEN": control_token, "BIND_HOST": host, "PUBLIC_URL": public_url,
        "FROZEN_CLOCK_AT": frozen_clock,
    }
    control = "off" if no_control else ("on, token required" if control_token else
                                        "on, UNGUARDED on the network" if unguarded else "on")

    def banner(url: str) -> None:
        _banner(url, scenario, summary, no_control, control_token)

    if workers == 1:
        summary = f"db {database or 'in-memory'}, control plane {control}"
        with _opening(database):
            app = create_app(config)
        with _listening(host, port):
            serve_in_process(RequestLog(app), host=host, port=port, threads=threads, on_ready=banner)
        return
    # Workers share state only through a file; an in-memory database would be one per worker.
    scratch = None if database else tempfile.mkdtemp(prefix="mockportal-")
    config["DATABASE"] = database or os.path.join(scratch, "portal.db")
    db_note = database or f"{config['DATABASE']} (temporary, deleted on exit)"
    # Create, seed and set the clock once here, so workers never race to initialise the file.
    with _opening(config["DATABASE"]):
        create_app(config).extensions["mockportal"].store.close()
    _probe(host, port)
    summary = (f"{workers} workers x {threads} threads (gunicorn), db {db_note}, "
               f"control plane {control}")

    def remove_scratch() -> None:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)

    # Built in each worker after the fork: its own connections, and its own pid on each line.
    serve_workers(lambda: RequestLog(create_app(config), with_pid=True), host=host, port=port,
                  workers=workers, threads=threads, max_body_bytes=LARGEST_BODY_BYTES, on_exit=remove_scratch,
                  on_ready=banner)


def _banner(url: str, scenario: str, summary: str, no_control: bool, control_token: str | None) -> None:
    """The URL and commands to try, each runnable as printed (after its label), written at once
    so whoever waits for the URL reads the whole banner."""
    lines = [f"mockportal {version()} serving {url}  (scenario {scenario}, {summary})",
             f"  export HERMES_PORTAL_BASE_URL={url}",
             f"  health:    curl -s {url}/_mock/health"]
    if no_control:
        lines.append(f"  login:     curl -s -XPOST {url}/api/oauth/device/code -d client_id=hermes-cli")
    else:
        guard = "" if control_token is None else " -H " + shlex.quote(f"Authorization: Bearer {control_token}")
        query = "" if control_token is None else "?token=" + quote(control_token, safe="")
        lines.append(f"  dashboard: {url}/_mock/{query}")
        if scenario == "demo":  # the users it names
            body = '{"user": "owner@acme.test", "scope": "billing:manage"}'
            read_token = "python3 -c 'import json, sys; print(json.load(sys.stdin)[\"access_token\"])'"
            lines.append(f"  token:     TOKEN=$(curl -s -XPOST {url}/_mock/tokens -H 'Content-Type: application/json'"
                         f"{guard} -d '{body}' | {read_token})")
            lines.append(f"  state:     curl -s {url}/api/billing/state -H \"Authorization: Bearer $TOKEN\"")
    click.echo("\n".join(lines))
    sys.stdout.flush()
