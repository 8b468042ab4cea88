"""Where a portal request's CPU goes: each piece timed in-process, no HTTP server, no load.

    .venv/bin/python bench/costs.py

CPU time (`time.process_time`, so SQLite's C time counts and other processes' load mostly
does not) per call, on a temporary database file as `serve --db` uses. run.py puts the table
next to the throughput numbers; the ceiling's whole request costs about 1 / its rps per core.
"""

from __future__ import annotations

import io
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import jwt

from mockportal.app import create_app
from mockportal.harness import many_orgs, user_email
from mockportal.testing import TEST_EPOCH
from mockportal.wire import JsonBody

from bare import flask_app  # bench/ is on the path: it holds the script being run

CALLS = 2000
ORGS = 360


def per_call_us(action: Callable[[int], object], calls: int = CALLS) -> float:
    for i in range(100):
        action(i)
    started = time.process_time()
    for i in range(calls):
        action(100 + i)
    return (time.process_time() - started) / calls * 1e6


def wsgi_call(app, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
               "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http", "HTTP_HOST": "127.0.0.1",
               "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr, "CONTENT_LENGTH": str(len(body)),
               "CONTENT_TYPE": "application/json" if body else "",
               **{"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()}}
    statuses = []
    response = b"".join(app(environ, lambda status, _headers, _exc=None: statuses.append(status)))
    assert statuses[0][:1] == "2", (method, path, statuses, response)
    return response


def costs() -> list[tuple[str, float]]:
    with tempfile.TemporaryDirectory() as scratch:
        app = create_app({"DATABASE": str(Path(scratch) / "portal.db"), "FROZEN_CLOCK_AT": TEST_EPOCH})
        portal = app.extensions["mockportal"]
        portal.reset(fixture=many_orgs(ORGS, monthlyCapUsd="10000000"))
        tokens = [portal.tokens.mint(user_email(i), "billing:manage", 10**7)["access_token"] for i in range(ORGS)]
        bearer = [{"Authorization": f"Bearer {token}"} for token in tokens]
        charge_ids = [portal.billing.submit_charge(portal.tokens.authenticate(b["Authorization"]), f"seed-{i}",
                                                   JsonBody(b'{"amountUsd": 10}', "application/json"))
                      .response.body["chargeId"]
                      for i, b in enumerate(bearer)]
        portal.clock.advance(3601)
        flask = flask_app()

        def charge(i: int) -> None:
            if i % (ORGS * 5) == 0:
                portal.clock.advance(3601)  # every org's five slots free again
            wsgi_call(app, "POST", "/api/billing/charge", {**bearer[i % ORGS], "Idempotency-Key": f"k{i}"},
                      b'{"amountUsd": 10}')

        return [
            ("one-route Flask app, fixed body (the floor)", per_call_us(lambda i: wsgi_call(flask, "GET", "/x", {}))),
            ("portal `GET /openapi.json` (fault check, journal, headers around a static body)",
             per_call_us(lambda i: wsgi_call(app, "GET", "/openapi.json", {}))),
            ("portal `GET /api/billing/state`",
             per_call_us(lambda i: wsgi_call(app, "GET", "/api/billing/state", bearer[i % ORGS]))),
            ("portal `POST /api/billing/charge`", per_call_us(charge)),
            ("portal `GET /api/billing/charge/{id}`",
             per_call_us(lambda i: wsgi_call(app, "GET", f"/api/billing/charge/{charge_ids[i % ORGS]}",
                                             bearer[i % ORGS]))),
            ("- `Tokens.authenticate` (gate 1: JWT and grant lookup)",
             per_call_us(lambda i: portal.tokens.authenticate(bearer[i % ORGS]["Authorization"]))),
            ("  - of which `jwt.decode` without the signature check",
             per_call_us(lambda i: jwt.decode(tokens[i % ORGS], options={"verify_signature": False}))),
            ("- `Faults.take` (every request's fault check)", per_call_us(lambda i: portal.faults.take("GET", "/x"))),
            ("- `Journal.record` (every request's journal write)",
             per_call_us(lambda i: portal.journal.record("GET", "/x", 200))),
            ("- `Clock.now` (4-6 per request)", per_call_us(lambda i: portal.clock.now())),
            ("- an empty `Store.transaction()`", per_call_us(lambda i: _empty_transaction(portal.store))),
        ]


def _empty_transaction(store) -> None:
    with store.transaction():
        pass


def main() -> None:
    for label, micros in costs():
        print(f"{micros:8.0f} us  {label}")


if __name__ == "__main__":
    main()
