"""How `mockportal serve` runs a WSGI app: waitress in this process, or N gunicorn workers.

One worker is waitress, pure Python on any OS. Several workers are gunicorn `gthread`
workers forked by one master that owns the listening socket and supervises them (a crashed
worker is replaced, SIGTERM drains them all), which a hand-rolled set of processes would have
to re-invent. Rules keep holding across workers because every piece of state, the clock
included, lives in one SQLite file; a worker holds nothing of its own but connections.
"""

from __future__ import annotations

from typing import Any, Callable

from waitress.server import create_server

WsgiApp = Callable[..., Any]
OnReady = Callable[[str], None]  # called with the base URL once the socket accepts connections

# Long enough for in-flight requests to finish, short enough that stopping a test server never
# stalls a suite (a scripted 30 s fault delay is cut short).
GRACEFUL_STOP_SECONDS = 5


def serve_in_process(app: WsgiApp, *, host: str, port: int, threads: int, on_ready: OnReady) -> None:
    """One process, `threads` waitress threads; `port=0` picks a free port."""
    server = create_server(app, host=host, port=port, threads=threads, ident="mockportal")
    on_ready(f"http://{host}:{server.effective_port}")
    server.run()


def serve_workers(make_app: Callable[[], WsgiApp], *, host: str, port: int, workers: int,
                  threads: int, on_ready: OnReady, on_exit: Callable[[], None] = lambda: None) -> None:
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
    }

    class Workers(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> WsgiApp:
            return make_app()

    Workers().run()
