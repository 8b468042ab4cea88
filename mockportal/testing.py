"""An embeddable portal for test suites: `with PortalServer() as portal: portal.url`.

Like moto's ThreadedMotoServer: a real HTTP server on 127.0.0.1 and a free port, in a
background thread of the test process, with the clock frozen so tests move time explicitly.
"""

from __future__ import annotations

import threading
from typing import Any

from waitress import wasyncore
from waitress.server import create_server

from mockportal.app import create_app

# 2026-06-10T12:00:00Z: mid-month, so a suite's clock moves rarely cross a month boundary.
TEST_EPOCH = 1781092800.0
STOP_POLL_SECONDS = 0.05  # how soon `stop` is noticed


class PortalServer:
    def __init__(self, config: dict[str, Any] | None = None, *, threads: int = 8):
        self.app = create_app({"FROZEN_CLOCK_AT": TEST_EPOCH, **(config or {})})
        self._server = create_server(self.app, host="127.0.0.1", port=0, threads=threads,
                                     ident="mockportal")
        self.url = f"http://127.0.0.1:{self._server.effective_port}"
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="mockportal", daemon=True)

    def start(self) -> "PortalServer":
        self._thread.start()
        return self

    def _serve(self) -> None:
        """waitress's loop, polled in short steps until `stop`; then, still in this thread,
        the worker threads finish and every socket and the wake-up pipe are closed. Closing them
        from another thread raced the loop (EBADF in select) and the workers (a finished request
        pulling an already closed wake-up pipe)."""
        while not self._stopping.is_set():
            wasyncore.loop(timeout=STOP_POLL_SECONDS, map=self._server._map, count=1)
        self._server.task_dispatcher.shutdown()
        wasyncore.close_all(self._server._map)

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)

    def __enter__(self) -> "PortalServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
