"""`mockportal serve --workers 2` on one database file: every rule holds across processes.

Each check fires a burst of requests on fresh connections and repeats (bounded) until the
request log shows both workers answered that burst, so no pass is one worker answering all.
"""

from __future__ import annotations

import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import pytest
import requests

from mockportal.harness import (LONG_LIVED_SECONDS, ServerProcess, charge, many_orgs, portal_on_file, serve_command,
                                user_email)
from mockportal.testing import Control

ROUNDS = 20  # a burst almost always reaches both workers at once; this only bounds bad luck
BURST = 16
HOUR = 3600


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with ServerProcess(portal_on_file(tmp_path_factory.mktemp("workers") / "portal.db", workers=2)) as server:
        yield server


@pytest.fixture
def portal(server):
    portal = Control.over_http(server.url)
    portal.reset(many_orgs(1, users=("OWNER", "FINANCE_ADMIN"), monthlyCapUsd="100000"))
    yield portal
    portal.close()


def burst(request: Callable[[int, requests.Session], object], count: int = BURST) -> list:
    """`request(index, session)` from `count` threads released together, each on a new connection."""
    barrier = threading.Barrier(count)

    def one(index: int):
        with requests.Session() as session:
            barrier.wait()
            return request(index, session)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def rounds_until_both_workers(server: ServerProcess, request_line: str):
    """Yield round numbers until a round's requests were logged by two worker pids."""
    for round_number in range(ROUNDS):
        mark = server.log_mark()
        yield round_number
        if len(server.worker_pids(request_line, since=mark)) >= 2:
            return
    pytest.fail(f"every burst of {request_line!r} was served by one worker")


def test_concurrent_charges_with_one_key_make_exactly_one_charge(server, portal):
    headers = portal.bearer(user_email(0), expires_in=LONG_LIVED_SECONDS)
    for round_number in rounds_until_both_workers(server, "POST /api/billing/charge 202"):
        portal.advance(HOUR)  # the previous rounds' charges leave the rate window
        key = f"same-key-{round_number}"
        responses = burst(lambda _, session: charge(session, server.url, headers, key, "10"))
        assert [r.status_code for r in responses] == [202] * BURST
        assert len({r.json()["chargeId"] for r in responses}) == 1
        assert sum("Idempotent-Replayed" not in r.headers for r in responses) == 1
    charges = portal.org("org_0")["charges"]
    assert len(charges) == round_number + 1
    assert len({c["id"] for c in charges}) == len(charges)


def test_the_rate_limit_holds_across_workers(server, portal):
    owner, finance = (portal.bearer(user_email(0, i), expires_in=LONG_LIVED_SECONDS) for i in (0, 1))
    for round_number in rounds_until_both_workers(server, "POST /api/billing/charge 429"):
        portal.advance(HOUR)
        responses = burst(lambda i, session: charge(session, server.url, owner if i % 2 else finance,
                                                    f"rate-{round_number}-{i}", "10"))
        statuses = [r.status_code for r in responses]
        assert statuses.count(202) == 5 and statuses.count(429) == BURST - 5, statuses
        # All five were accepted at one frozen instant, so the first slot frees a full hour later.
        assert {r.headers["Retry-After"] for r in responses if r.status_code == 429} == {str(HOUR)}
    assert len(portal.org("org_0")["charges"]) == 5 * (round_number + 1)


def test_a_reused_refresh_token_is_caught_across_workers(server, portal):
    for _ in rounds_until_both_workers(server, "POST /api/oauth/token 400"):
        refresh_token = portal.token(user_email(0), expires_in=LONG_LIVED_SECONDS)["refresh_token"]
        responses = burst(lambda _, session: session.post(
            f"{server.url}/api/oauth/token", data={"grant_type": "refresh_token", "client_id": "hermes-cli"},
            headers={"x-nous-refresh-token": refresh_token}, timeout=30))
        rotated = [r.json() for r in responses if r.status_code == 200]
        errors = sorted(r.json()["error"] for r in responses if r.status_code == 400)
        assert len(rotated) == 1 and len(errors) == BURST - 1
        # The first reuse revokes the grant; later ones find it already revoked.
        assert errors == ["invalid_grant"] * (BURST - 2) + ["refresh_token_reused"]
        state = requests.get(f"{server.url}/api/billing/state", timeout=30,
                             headers={"Authorization": "Bearer " + rotated[0]["access_token"]})
        assert state.status_code == 401 and state.json()["error"] == "session_revoked"


def test_a_reset_and_a_clock_move_through_one_worker_are_seen_by_all(server, portal):
    for round_number in rounds_until_both_workers(server, "GET /_mock/clock 200"):
        balance = f"{round_number}.5"
        portal.reset(many_orgs(1, balanceUsd=balance))  # one keep-alive connection: one worker
        epoch = portal.advance(60 + round_number)
        headers = portal.bearer(user_email(0), expires_in=LONG_LIVED_SECONDS)
        seen = burst(lambda _, session: (
            Control.over_http(server.url, session=session).now(),
            session.get(f"{server.url}/api/billing/state", headers=headers, timeout=30).json()["balanceUsd"]))
        assert set(seen) == {(epoch, balance)}


@pytest.mark.parametrize("workers", [1, 2])
def test_without_db_the_workers_share_a_temporary_file_deleted_on_exit(workers):
    with ServerProcess(serve_command("--workers", str(workers))) as server:
        database = re.search(r"db (\S+) \(temporary, deleted on exit\)", server.output()).group(1)
        assert os.path.exists(database)
        Control.over_http(server.url).reset(many_orgs(1))
    assert not os.path.exists(os.path.dirname(database))

