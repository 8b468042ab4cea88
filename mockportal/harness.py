"""A real `mockportal serve` process, and the fixtures and requests loads on it are made of.

For the tests that need what an in-thread `PortalServer` cannot give (several worker
processes, a SIGKILL mid-load, a restart on the same file) and for the benchmarks. The
server runs in its own process group, so stopping or killing it takes its workers too. Its
control plane is `mockportal.testing.Control.over_http(server.url)`, as for any portal.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any

import requests

from mockportal.domain.clock import iso
from mockportal.testing import TEST_EPOCH

BANNER_URL = re.compile(r"serving (http://\S+)")
STOP_SECONDS = 10
# A token that outlives the hours of portal time these runs move through.
LONG_LIVED_SECONDS = 30 * 24 * 3600


def serve_command(*args: str, port: int | str = 0) -> list[str]:
    """`mockportal serve` on loopback (port 0: any free port), with extra flags."""
    return [sys.executable, "-m", "mockportal", "serve", "--host", "127.0.0.1", "--port", str(port), *args]


def portal_on_file(database: str | os.PathLike, workers: int = 1, *extra: str,
                   port: int | str = 0) -> list[str]:
    """`serve` on a database file with the clock frozen at the suites' epoch."""
    return serve_command("--workers", str(workers), "--db", str(database), "--frozen-clock", iso(TEST_EPOCH),
                         *extra, port=port)


class ServerProcess:
    """A server command whose banner (`ready`, by default `... serving http://host:port ...`)
    says it is listening; `ready=None` starts it without waiting.

    Output goes to a file rather than a pipe, so a chatty server never blocks on a full pipe
    and a test can read the request log at any moment.
    """

    def __init__(self, command: list[str], *, ready: re.Pattern[str] | None = BANNER_URL):
        self.command = command
        self.ready = ready
        self.url = ""
        self.process: subprocess.Popen | None = None
        self._log = tempfile.NamedTemporaryFile(prefix="mockportal-", suffix=".log", delete=False)

    def start(self, timeout: float = 30) -> "ServerProcess":
        self.process = subprocess.Popen(self.command, stdout=self._log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
        if self.ready is None:
            return self
        deadline = time.monotonic() + timeout
        while not (found := self.ready.search(self.output())):
            if self.process.poll() is not None or time.monotonic() > deadline:
                output = self.output()
                self.stop()
                raise RuntimeError(f"server did not start: {self.command}\n{output}")
            time.sleep(0.01)
        self.url = found.group(1)
        return self

    def output(self) -> str:
        with open(self._log.name, encoding="utf-8", errors="replace") as log:
            return log.read()

    def log_mark(self) -> int:
        return len(self.output())

    def worker_pids(self, request_line: str, since: int = 0) -> set[str]:
        """Pids of the workers that logged `request_line` (e.g. `POST /api/billing/charge 202`)
        after `since` (a `log_mark()`); lines look like `[pid] METHOD PATH STATUS 1.2ms`."""
        return {match.group(1) for match in re.finditer(r"^\[(\d+)\] (.*) [\d.]+ms$",
                                                          self.output()[since:], re.M)
                if match.group(2) == request_line}

    def _signal_group(self, signum: int) -> None:
        try:
            os.killpg(self.process.pid, signum)
        except ProcessLookupError:
            pass

    def kill(self) -> None:
        """SIGKILL the whole process group: no shutdown code runs, as in a crash."""
        self._signal_group(signal.SIGKILL)
        self.process.wait(timeout=STOP_SECONDS)

    def stop(self) -> None:
        """SIGINT, as Ctrl-C, then SIGKILL if it has not exited within STOP_SECONDS (the master
        gives a request still running 5 s, `serving.GRACEFUL_STOP_SECONDS`, to finish)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # the master only: it stops its own workers
            try:
                self.process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.kill()
        self._signal_group(signal.SIGKILL)  # a worker that outlived its master
        self._log.close()
        os.unlink(self._log.name)
        self.process = None

    def __enter__(self) -> "ServerProcess":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def charge(session: requests.Session, url: str, headers: dict, key: str, amount: str) -> requests.Response:
    """`POST /api/billing/charge` with the amount as a JSON number written from its decimal text."""
    return session.post(f"{url}/api/billing/charge", data=f'{{"amountUsd": {amount}}}',
                        headers={**headers, "Idempotency-Key": key,
                                 "Content-Type": "application/json"}, timeout=30)


def many_orgs(count: int, *, users: tuple[str, ...] = ("OWNER",), **org: Any) -> dict:
    """A fixture of `count` orgs `org_0..`, each with a visa 4242 and one user per role given
    (`u0-0@load.test`, ...), so tests spread charges past the per-org and per-grant limits."""
    return {"orgs": [{"id": f"org_{i}", "balanceUsd": "0", "card": {"brand": "visa", "last4": "4242"},
                      **org,
                      "users": [{"email": user_email(i, j), "role": role} for j, role in enumerate(users)]}
                     for i in range(count)]}


def user_email(org_index: int, user_index: int = 0) -> str:
    return f"u{org_index}-{user_index}@load.test"
