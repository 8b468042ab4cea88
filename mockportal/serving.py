"""How `mockportal serve` runs a WSGI app: granian, one master and N worker processes.

One stack for every worker count, chosen by measurement (bench/RESULTS.md): granian's HTTP/1
is Rust (hyper on tokio), so parsing, keep-alive and idle connections cost no Python thread;
only the app runs in a worker's `threads` Python threads. The master owns the listening
socket, forks the workers and supervises them (a crashed worker is replaced, SIGINT or
SIGTERM stops them all, one that will not stop is killed after GRACEFUL_STOP_SECONDS).
Rules keep holding across workers because every piece of state, the clock included, lives
in one SQLite file; a worker holds nothing of its own but connections.

The embedded test server (`mockportal.testing.PortalServer`) stays on waitress: granian
serves WSGI only from processes it forks itself, never from a thread of a test process.
"""

from __future__ import annotations

import io
import ipaddress
import multiprocessing
import socket
import time
from typing import Any, Callable

from mockportal.wire import is_ascii_digits

WsgiApp = Callable[..., Any]
OnReady = Callable[[str], None]  # called with the base URL once the socket accepts connections

# Long enough for in-flight requests to finish, short enough that stopping a server never
# stalls a suite (a scripted 30 s fault delay is cut short).
GRACEFUL_STOP_SECONDS = 5
# A worker this young may still be building its app or hooking up its signal handlers.
STARTING_SECONDS = 2

# How much of an oversized body is read and thrown away so the client gets to read the 413
# instead of a connection reset; past this the connection may be reset (a guard, not a rule).
DRAIN_LIMIT_BYTES = 1024 * 1024


class WholeBodies:
    """WSGI middleware: a body sent without a length reaches the app whole and measured.

    granian hands a chunked body on as a stream without CONTENT_LENGTH, and Werkzeug then
    cuts a body over the app's limit short instead of answering 413, so `{...64 KiB...}`
    would read as malformed JSON. Here a body without a length is read up to one byte past
    `max_bytes` (the largest limit the app has) and given a CONTENT_LENGTH, and an oversized
    body is drained (up to DRAIN_LIMIT_BYTES) before the app answers 413.
    """

    def __init__(self, app: WsgiApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    def __call__(self, environ, start_response):
        stream = environ["wsgi.input"]
        declared = environ.get("CONTENT_LENGTH", "")
        if not declared and environ.get("HTTP_TRANSFER_ENCODING"):
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


class _Measured:
    """The app a worker builds, wrapped in WholeBodies: picklable, so it also reaches workers
    started with `spawn` (Windows)."""

    def __init__(self, make_app: Callable[[], WsgiApp], max_body_bytes: int):
        self.make_app = make_app
        self.max_body_bytes = max_body_bytes

    def __call__(self, *_: Any, **__: Any) -> WsgiApp:
        return WholeBodies(self.make_app(), self.max_body_bytes)


def ip_address(host: str) -> str:
    """granian binds an IP address only: a name (`localhost`) is resolved as a socket binding
    it would resolve it, to its first IPv4 address."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return socket.getaddrinfo(host, None, socket.AF_INET, socket.SOCK_STREAM)[0][4][0]


def serve(make_app: Callable[[], WsgiApp], *, host: str, port: int, workers: int, threads: int,
          max_body_bytes: int, on_ready: OnReady, on_exit: Callable[[], None] = lambda: None) -> None:
    """`workers` processes of `threads` app threads each, sharing one listening socket;
    `port=0` picks a free port.

    `make_app` runs in each worker, never in the master: an SQLite connection must not cross
    a fork. It must be picklable (a module-level function or a `functools.partial` of one).
    `on_ready` runs in the master once the socket is bound, `on_exit` once it has stopped.
    """
    from granian.constants import Interfaces
    from granian.net import SocketSpec
    from granian.server import MPServer

    class Master(MPServer):
        def _init_shared_socket(self) -> None:
            """Bind here, once, for every worker (granian's own choice on Linux is a socket per
            worker bound as each starts): the banner is printed only once a connection would
            be queued, `--port 0` has one port, and one queue feeds whichever worker is free."""
            self._ssp, self._shd = None, SocketSpec(self.bind_addr, self.bind_port, self.backlog).build()
            self._sfd = self._shd.get_fd()
            self._sso = socket.socket(fileno=self._sfd)
            self._sso.set_inheritable(True)
            self._sso.listen(self.backlog)  # granian's workers would; connections queue from now on

        def _stop_workers(self) -> None:
            """SIGTERM each worker once and give it GRACEFUL_STOP_SECONDS to finish what it is
            answering (then SIGKILL). A worker still starting up (younger than STARTING_SECONDS)
            can lose that signal, to the handlers it was forked with or before it has hooked its
            own to its server, so it gets one again every 0.1 s until it has gone."""
            deadline = time.monotonic() + GRACEFUL_STOP_SECONDS
            for worker in self.wrks:
                worker.terminate()
            while (alive := [w for w in self.wrks if w.is_alive()]) and time.monotonic() < deadline:
                alive[0].join(0.1)
                for worker in alive:
                    if worker.is_alive() and time.monotonic() - worker.birth < STARTING_SECONDS:
                        worker.terminate()
            for worker in self.wrks:
                if worker.is_alive():
                    worker.kill()
                worker.join()
            self.wrks.clear()

    if "fork" in multiprocessing.get_all_start_methods():
        # The workers inherit the socket above; `spawn` (the default from Python 3.14) would not.
        multiprocessing.set_start_method("fork", force=True)
    master = Master("mockportal", address=ip_address(host), port=port, interface=Interfaces.WSGI, workers=workers,
                    blocking_threads=threads, respawn_failed_workers=True, websockets=False,
                    log_level="error")  # its warning about threads above 2 x cores is no news here

    @master.on_startup
    def ready() -> None:
        bound_host, bound_port = master._sso.getsockname()[:2]
        on_ready(f"http://{bound_host}:{bound_port}")

    master.on_shutdown(on_exit)
    master.serve(target_loader=_Measured(make_app, max_body_bytes), wrap_loader=False)
