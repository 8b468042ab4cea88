"""How `mockportal serve` runs a WSGI app: waitress in this process, or N gunicorn workers.

One worker is waitress, pure Python on any OS. Several workers are gunicorn `gthread`
workers forked by one master that owns the listening socket and supervises them (a crashed
worker is replaced, SIGTERM drains them all), which a hand-rolled set of processes would have
to re-invent. Rules keep holding across workers because every piece of state, the clock
included, lives in one SQLite file; a worker holds nothing of its own but connections.
"""

from __future__ import annotations

import io
from typing import Any, Callable

from waitress.server import create_server

from mockportal.wire import is_ascii_digits

WsgiApp = Callable[..., Any]
OnReady = Callable[[str], None]  # called with the base URL once the socket accepts connections

# Long enough for in-flight requests to finish, short enough that stopping a test server never
# stalls a suite (a scripted 30 s fault delay is cut short).
GRACEFUL_STOP_SECONDS = 5


# How much of an oversized body is read and thrown away so the client gets to read the 413
# instead of a connection reset; past this the connection may be reset (a guard, not a rule).
DRAIN_LIMIT_BYTES = 1024 * 1024
WAITRESS_HEADER_BYTES = 262144  # waitress's max_request_header_size


class WholeBodies:
    """WSGI middleware giving gunicorn's app the request bodies waitress would give it.

    Waitress reads a chunked body whole and sets CONTENT_LENGTH; gunicorn passes the stream
    on without it, and Werkzeug then cuts a body over `max_bytes` short instead of answering
    413, so `{...64 KiB...}` would read as malformed JSON. Here a body without a length (which
    gunicorn ends for us) is read up to one byte past the limit and given a CONTENT_LENGTH, and
    an oversized body is drained (up to DRAIN_LIMIT_BYTES) before the app answers 413.
    """

    def __init__(self, app: WsgiApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    def __call__(self, environ, start_response):
        stream = environ["wsgi.input"]
        declared = environ.get("CONTENT_LENGTH", "")
        if not declared:
            body = stream.read(self.max_bytes + 1)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            environ.pop("HTTP_TRANSFER_ENCODING", None)  # Werkzeug ignores the length of a chunked body
            if len(body) > self.max_bytes:
                self._drain(stream)
        elif is_ascii_digits(declared) and int(declared) > self.max_bytes:
            self._drain(stream)
        return self.app(environ, start_response)

    @staticmethod
    def _drain(stream) -> None:
        remaining = DRAIN_LIMIT_BYTES
        while remaining > 0 and (chunk := stream.read(min(65536, remaining))):
            remaining -= len(chunk)


def serve_in_process(app: WsgiApp, *, host: str, port: int, threads: int, on_ready: OnReady) -> None:
    """One process, `threads` waitress threads; `port=0` picks a free port."""
    server = create_server(app, host=host, port=port, threads=threads, ident="mockportal")
    on_ready(f"http://{host}:{server.effective_port}")
    server.run()


def serve_workers(make_app: Callable[[], WsgiApp], *, host: str, port: int, workers: int,
                  threads: int, max_body_bytes: int, on_ready: OnReady,
                  on_exit: Callable[[], None] = lambda: None) -> None:
    """`workers` forked processes of `threads` threads each, sharing one listening socket.

    `make_app` runs in each worker after the fork, never in the master: an SQLite connection
    must not cross a fork. `on_exit` runs once, in the master, when the server stops.
    """
    from gunicorn.app.base import BaseApplication  # Unix only; one worker needs no gunicorn

    def when_ready(arbiter) -> None:
        bound_host, bound_port = arbiter.LISTENERS[0].sock.getsockname()[:2]
        on_ready(f"http://{bound_host}:{bound_port}")

    options = {
        "bind": f"{host}:{port}", "workers": workers, "worker_class": "gthread", "threads": threads,
        "preload_app": False, "graceful_timeout": GRACEFUL_STOP_SECONDS, "proc_name": "mockportal",
        "loglevel": "warning", "accesslog": None,  # the app logs its own request lines
        # Otherwise every gunicorn on the machine shares ~/.gunicorn/gunicorn.ctl.
        "control_socket_disable": True,
        "when_ready": when_ready, "on_exit": lambda arbiter: on_exit(),
        # Waitress has no request-line limit and 256 KiB of headers; gunicorn's 4 KiB and 8 KiB
        # limits would answer a long charge id or token with an HTML 414/431 page instead
        # (0 lifts the line limit; a field size of 0 would mean gunicorn's default).
        "limit_request_line": 0, "limit_request_field_size": WAITRESS_HEADER_BYTES,
    }

    class Workers(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> WsgiApp:
            return WholeBodies(make_app(), max_body_bytes)

    Workers().run()
