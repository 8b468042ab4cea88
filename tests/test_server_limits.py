"""The server layer's limits, probed on real `mockportal serve` processes in both modes.

One worker and two answer alike: idle connections cost no thread, stalled requests cannot
take every thread, and a malformed request gets the same status and body whatever the worker
count (a JSON error wherever the server lets the app answer). Every probe is bounded in
connections and time, on 127.0.0.1 only.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
from pathlib import Path

import pytest
import requests

from mockportal.harness import ServerProcess, serve_command
from mockportal.testing import Control

THREADS = 4  # per worker, so half of them (2) may stall
IDLE_CONNECTIONS = 300
STALL_MS = 1500
STALLED_REQUESTS = 16
ANSWER_WITHIN = 1.0  # seconds, for a normal request while the server is under one of these


@pytest.fixture(scope="module", params=[1, 2], ids=["1 worker", "2 workers"])
def server(request):
    with ServerProcess(serve_command("--workers", str(request.param), "--threads", str(THREADS))) as server:
        server.workers = request.param
        yield server


@pytest.fixture
def headers(server):
    portal = Control.over_http(server.url)
    portal.reset("demo")
    yield portal.bearer()
    portal.close()


def answered_in(server, headers) -> float:
    """Seconds until a fresh connection's `GET /api/billing/state` is answered 200."""
    started = time.monotonic()
    response = requests.get(f"{server.url}/api/billing/state", headers=headers, timeout=10)
    assert response.status_code == 200
    return time.monotonic() - started


def test_300_idle_connections_do_not_keep_a_request_waiting(server, headers):
    host, port = server.url.removeprefix("http://").split(":")
    idle = [socket.create_connection((host, int(port)), timeout=5) for _ in range(IDLE_CONNECTIONS)]
    try:
        half_sent = idle[:IDLE_CONNECTIONS // 2]  # a slow client: headers begun, never finished
        for connection in half_sent:
            connection.sendall(b"GET /api/billing/state HTTP/1.1\r\nHost: x\r\n")
        assert answered_in(server, headers) < ANSWER_WITHIN
    finally:
        for connection in idle:
            connection.close()


def test_stalled_requests_leave_threads_for_every_other_path(server, headers):
    portal = Control.over_http(server.url)
    portal.fault("GET", "/api/billing/charge/*", delay_ms=STALL_MS, count=STALLED_REQUESTS)
    answers = []

    def stalled(index: int) -> None:
        started = time.monotonic()
        response = requests.get(f"{server.url}/api/billing/charge/ch_{index}", headers=headers, timeout=30)
        answers.append((response.status_code, response.json().get("error"), time.monotonic() - started))

    threads = [threading.Thread(target=stalled, args=(i,)) for i in range(STALLED_REQUESTS)]
    for thread in threads:
        thread.start()
    time.sleep(0.2)  # every stalled request has arrived: the refused ones are answered already
    assert answered_in(server, headers) < ANSWER_WITHIN
    for thread in threads:
        thread.join()
    slept = [a for a in answers if a[2] >= STALL_MS / 1000]
    refused = [a for a in answers if a[:2] == (503, "stall_limit")]
    # At most half of each worker's threads stall; every other stalled request is refused at once.
    assert 1 <= len(slept) <= server.workers * THREADS // 2
    assert len(slept) + len(refused) == STALLED_REQUESTS
    assert all(seconds < ANSWER_WITHIN for _, _, seconds in refused)
    portal.close()


def workers_of(server) -> set[int]:
    """Pids of the master's children, from /proc."""
    children = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == server.process.pid:  # field 4, the parent pid
            children.add(int(stat.parent.name))
    return children


@pytest.mark.parametrize("workers", [1, 2])
def test_a_crashed_worker_is_replaced_and_the_state_kept(workers):
    with ServerProcess(serve_command("--workers", str(workers))) as server:
        portal = Control.over_http(server.url)
        portal.edit_org("org_acme", balanceUsd="7.25")
        before = workers_of(server)
        assert len(before) == workers
        os.kill(min(before), signal.SIGKILL)
        deadline = time.monotonic() + 10
        while len(workers_of(server) - before) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(workers_of(server)) == workers and workers_of(server) != before
        assert answered_in(server, portal.bearer()) < ANSWER_WITHIN
        assert portal.org("org_acme")["balanceUsd"] == "7.25"
        portal.close()


@pytest.mark.parametrize("workers", [1, 2])
def test_a_stop_while_the_workers_start_is_not_lost(workers):
    """The banner comes once the socket is bound, before the workers have built their apps: a
    stop right then still ends them at once (a worker starting up can lose a first SIGTERM),
    not after the 5 s a running request gets."""
    server = ServerProcess(serve_command("--workers", str(workers))).start()
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 2


def raw_answer(server, request: bytes) -> tuple[int, str, bytes]:
    """Send bytes as they are, but for the served name put in their `Host: {host}`; (status,
    content type, body) of the answer."""
    netloc = server.url.removeprefix("http://")
    host, port = netloc.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        try:
            connection.sendall(request.replace(b"Host: {host}\r\n", b"Host: " + netloc.encode() + b"\r\n", 1))
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered before reading it all; its answer is still there
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *fields = head.decode("latin-1").split("\r\n")
    content_type = next((f.split(":", 1)[1].strip() for f in fields if f.lower().startswith("content-type:")), "")
    return int(status_line.split()[1]), content_type, body


def chunked(body: bytes, size: int = 65536) -> bytes:
    pieces = (body[i:i + size] for i in range(0, len(body), size))
    return b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces) + b"0\r\n\r\n"


def post(path: str, headers: dict, extra: bytes, body: bytes) -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: {{host}}\r\nAuthorization: {headers['Authorization']}\r\n"
            "Idempotency-Key: malformed\r\nContent-Type: application/json\r\nConnection: close\r\n").encode() \
        + extra + b"\r\n" + body


def get(target: bytes, headers: dict, extra: bytes = b"") -> bytes:
    return b"GET " + target + b" HTTP/1.1\r\nHost: {host}\r\nAuthorization: " + headers["Authorization"].encode() + \
        b"\r\nConnection: close\r\n" + extra + b"\r\n"


@pytest.mark.parametrize("request_bytes", [
    lambda h: get(b"/api/billing/charge/" + b"x" * 10_000, h),
    lambda h: get(b"/api/billing/state", h, b"X-Padding: " + b"y" * 9000 + b"\r\n"),
], ids=["10 KB charge id", "9 KB header"])
def test_long_but_ordinary_requests_reach_the_app(server, headers, request_bytes):
    status, content_type, _ = raw_answer(server, request_bytes(headers))
    assert status == 200 and content_type == "application/json"


MALFORMED = {
    # name: (request, status, JSON error code or None where the server itself answers)
    "request line over 256 KiB": (lambda h: get(b"/api/billing/charge/" + b"x" * 300 * 1024, h), 414, None),
    "header block over 1 MiB": (lambda h: get(b"/api/billing/state", h, b"X-Pad: " + b"y" * 1024 * 1024 + b"\r\n"),
                                431, None),
    "more than 100 header fields": (lambda h: get(b"/api/billing/state", h,
                                                  b"".join(b"X-F%d: v\r\n" % i for i in range(120))), 431, None),
    "bad chunked encoding": (lambda h: post("/api/billing/charge", h, b"Transfer-Encoding: chunked\r\n",
                                            b"zz\r\nnot hex\r\n0\r\n\r\n"), 400, "validation_failed"),
    "body over 64 KiB": (lambda h: post("/api/billing/charge", h, b"Content-Length: 200000\r\n", b" " * 200_000),
                         413, "payload_too_large"),
    "chunked body over 64 KiB": (lambda h: post("/api/billing/charge", h, b"Transfer-Encoding: chunked\r\n",
                                                chunked(b" " * 160 * 1024)), 413, "payload_too_large"),
    "chunked inference body over 8 MiB": (lambda h: post("/v1/chat/completions", h, b"Transfer-Encoding: chunked\r\n",
                                                         chunked(b" " * (9 << 20))), 413, "payload_too_large"),
    "bad Content-Length": (lambda h: post("/api/billing/charge", h, b"Content-Length: ten\r\n", b"{}"), 400, None),
}


def error_code(body: dict) -> str:
    """The billing surfaces' `{"error": code}` or the inference API's `{"error": {"code"}}`."""
    return body["error"]["code"] if isinstance(body["error"], dict) else body["error"]


@pytest.fixture(scope="module")
def answers_by_mode():
    return {}


@pytest.mark.parametrize("name", MALFORMED)
def test_a_malformed_request_gets_the_same_answer_in_every_mode(server, headers, answers_by_mode, name):
    make, status, error = MALFORMED[name]
    answer = raw_answer(server, make(headers))
    assert answer[0] == status
    if error is None:
        assert answer[2] == b""
    else:
        assert answer[1] == "application/json" and error_code(json.loads(answer[2])) == error
    seen = answers_by_mode.setdefault(name, {})
    seen[server.workers] = answer
    assert len(set(seen.values())) == 1, seen
