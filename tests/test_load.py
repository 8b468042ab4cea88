"""A bounded load on a two-worker server: 64 concurrent clients mix state reads, charges,
replays, polls, usage debits and clock moves; no answer is a 5xx and no rule bends.

The contract's limits stay as they are: 429 (rate limit) and 403 `monthly_cap_exceeded`
are right answers under this load. What must hold afterwards: every charge in the ledger
was acknowledged to a client and vice versa, each settled once, balance = seed + settled -
usage, no org or grant ever had more than 5 charges in a rolling hour, no org passed its cap.
"""

from __future__ import annotations

import random
import re
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from decimal import Decimal
from typing import Callable

import pytest
import requests

from mockportal.harness import LONG_LIVED_SECONDS, ServerProcess, charge, many_orgs, portal_on_file, user_email
from mockportal.testing import Control, ControlError

ORGS = 32
USERS = ("OWNER", "FINANCE_ADMIN")  # two clients per org: org and grant limits both bite
CLIENTS = ORGS * len(USERS)  # 64
OPS_PER_CLIENT = 30  # 1920 requests in all
SEED = Decimal("50")
LOW_CAP = Decimal("60")  # every fourth org, so monthly_cap_exceeded happens too
AMOUNTS = ("10", "12.5", "20.25")
RATE_LIMIT, HOUR = 5, 3600


def cap_of(org: int) -> Decimal | None:
    return LOW_CAP if org % 4 == 0 else None


class Client:
    """One terminal (one user's token) doing a seeded random mix of operations."""

    def __init__(self, url: str, org: int, user: int, headers: dict):
        self.url, self.org, self.user, self.headers = url, org, user, headers
        self.random = random.Random(org * 10 + user)
        self.session = requests.Session()
        self.control = Control.over_http(url, session=self.session)
        self.accepted: dict[str, tuple[str, str]] = {}  # key -> (chargeId, amount)
        self.debits = 0
        self.problems: list[str] = []

    def run(self) -> "Client":
        operations = [self.read_state] * 35 + [self.new_charge] * 30 + [self.replay] * 7 + \
                     [self.poll] * 20 + [self.debit] * 5 + [self.move_clock] * 3
        for step in range(OPS_PER_CLIENT):
            self.random.choice(operations)(step)
        return self

    def expect(self, response: requests.Response, *allowed: int) -> bool:
        if response.status_code in allowed:
            return True
        self.problems.append(f"{response.request.method} {response.request.path_url} -> "
                             f"{response.status_code} {response.text[:200]}")
        return False

    def read_state(self, _step: int) -> None:
        response = self.session.get(f"{self.url}/api/billing/state", headers=self.headers, timeout=30)
        if self.expect(response, 200):
            Decimal(response.json()["balanceUsd"])

    def new_charge(self, step: int) -> None:
        key, amount = f"charge-{self.org}-{self.user}-{step}", self.random.choice(AMOUNTS)
        response = charge(self.session, self.url, self.headers, key, amount)
        if not self.expect(response, 202, 403, 429):
            return
        body = response.json()
        if response.status_code == 202:
            self.accepted[key] = (body["chargeId"], amount)
        elif response.status_code == 429:
            if body["error"] != "rate_limited" or not response.headers["Retry-After"].isdigit():
                self.problems.append(f"bad 429: {body} {response.headers}")
        elif body["error"] != "monthly_cap_exceeded" or cap_of(self.org) is None:
            self.problems.append(f"unexpected 403: {body}")

    def replay(self, step: int) -> None:
        if not self.accepted:
            return self.new_charge(step)
        key = self.random.choice(sorted(self.accepted))
        charge_id, amount = self.accepted[key]
        response = charge(self.session, self.url, self.headers, key, amount)
        if self.expect(response, 202) and (response.json()["chargeId"] != charge_id
                                           or response.headers.get("Idempotent-Replayed") != "true"):
            self.problems.append(f"replay of {key} answered {response.json()} {response.headers}")

    def poll(self, step: int) -> None:
        if not self.accepted:
            return self.read_state(step)
        charge_id, amount = self.random.choice(sorted(self.accepted.values()))
        response = self.session.get(f"{self.url}/api/billing/charge/{charge_id}", headers=self.headers,
                                    timeout=30)
        if not self.expect(response, 200):
            return
        body = response.json()
        if body["status"] not in ("pending", "settled") or \
                (body["status"] == "settled" and Decimal(body["amountUsd"]) != Decimal(amount)):
            self.problems.append(f"poll of {charge_id} ({amount}) answered {body}")

    def controlled(self, verb: Callable[[], object]) -> bool:
        """A control-plane verb; a refusal is a problem, like an unexpected status."""
        try:
            verb()
        except ControlError as refused:
            self.problems.append(str(refused))
            return False
        return True

    def debit(self, _step: int) -> None:
        if self.controlled(lambda: self.control.debit_usage(f"org_{self.org}", "1.5")):
            self.debits += 1

    def move_clock(self, _step: int) -> None:
        self.controlled(lambda: self.control.advance(300))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with ServerProcess(portal_on_file(tmp_path_factory.mktemp("load") / "portal.db", workers=2)) as server:
        yield server


def epoch(iso_instant: str) -> float:
    return datetime.fromisoformat(iso_instant.replace("Z", "+00:00")).timestamp()


def most_in_any_hour(instants: list[float]) -> int:
    """The most charges accepted in any window `(t - 1h, t]`, as the rate limit counts them."""
    instants = sorted(instants)
    return max((sum(1 for later in instants[i:] if later - start < HOUR) for i, start in enumerate(instants)),
               default=0)


def test_64_clients_get_no_5xx_and_break_no_invariant(server):
    portal = Control.over_http(server.url)
    fixture = many_orgs(ORGS, users=USERS, balanceUsd=str(SEED))
    for org, spec in enumerate(fixture["orgs"]):
        spec["monthlyCapUsd"] = None if cap_of(org) is None else str(cap_of(org))
    portal.reset(fixture)
    clients = [Client(server.url, org, user, portal.bearer(user_email(org, user), expires_in=LONG_LIVED_SECONDS))
               for org in range(ORGS) for user in range(len(USERS))]
    start = threading.Barrier(CLIENTS)

    def run(client: Client) -> Client:
        start.wait()
        return client.run()

    with ThreadPoolExecutor(CLIENTS) as pool:
        finished = list(pool.map(run, clients))

    assert [problem for client in finished for problem in client.problems] == []
    statuses = re.findall(r"^\[\d+\] \S+ \S+ (\d{3}) [\d.]+ms$", server.output(), re.M)
    assert len(statuses) >= CLIENTS * OPS_PER_CLIENT
    assert [status for status in statuses if status.startswith("5")] == []
    assert sum(len(c.accepted) for c in finished) > ORGS, "too few charges were accepted to prove much"

    portal.advance(60)  # past settleAfterSeconds: every accepted charge settles when read
    for org in range(ORGS):
        report = portal.org(f"org_{org}")
        mine = [c for c in finished if c.org == org]
        acknowledged = {charge_id: amount for c in mine for charge_id, amount in c.accepted.values()}
        charges = report["charges"]
        assert sorted((c["id"], c["amountUsd"]) for c in charges) == sorted(acknowledged.items()), org
        assert {c["status"] for c in charges} <= {"settled"}
        assert len(report["usage"]) == sum(c.debits for c in mine)
        settled = sum((Decimal(c["amountUsd"]) for c in charges), Decimal(0))
        used = sum((Decimal(u["amountUsd"]) for u in report["usage"]), Decimal(0))
        assert Decimal(report["balanceUsd"]) == SEED + settled - used, org
        assert most_in_any_hour([epoch(c["createdAt"]) for c in charges]) <= RATE_LIMIT, org
        by_grant = defaultdict(list)
        for c in charges:
            by_grant[c["grantId"]].append(epoch(c["createdAt"]))
        assert all(most_in_any_hour(times) <= RATE_LIMIT for times in by_grant.values()), org
        if cap_of(org) is not None:
            assert settled <= cap_of(org), org
