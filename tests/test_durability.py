"""`--db FILE` survives a crash: a server SIGKILLed in the middle of a load of charges, then
restarted on the same file, still has every charge it acknowledged, credits none twice, and
keeps the ledger invariant (balance = seed + settled charges - usage debits)."""

from __future__ import annotations

import threading
from collections import defaultdict
from decimal import Decimal

import pytest
import requests

from mockportal.harness import LONG_LIVED_SECONDS, ServerProcess, charge, many_orgs, portal_on_file, user_email
from mockportal.testing import Control, ControlError

ORGS = 24  # 5 accepted charges per org per hour: room for 120 before the rate limit bites
CLIENTS = 12
KILL_AFTER_ACCEPTED = 40
MAX_STEPS = 200  # per client; the kill comes long before
SEED = Decimal("100")


class Load:
    """Clients that charge, read state (which settles what is due) and debit usage until the
    server goes away, remembering everything the server acknowledged."""

    def __init__(self, url: str, headers: dict[int, dict]):
        self.url = url
        self.headers = headers
        self.lock = threading.Lock()
        self.charges: dict[str, tuple[int, str]] = {}  # chargeId -> (org, idempotency key)
        self.debits: dict[int, int] = defaultdict(int)  # org -> acknowledged usage debits
        self.enough = threading.Event()
        self.cut_off = 0  # clients whose requests the kill interrupted
        self.unexpected: list[str] = []  # a thread's assert would be lost; the test checks this

    def client(self, number: int) -> None:
        session = requests.Session()
        control = Control.over_http(self.url, session=session)
        try:
            for step in range(MAX_STEPS):
                org = (number + step * CLIENTS) % ORGS
                key = f"key-{number}-{step}"
                response = charge(session, self.url, self.headers[org], key, "10")
                if response.status_code == 202:
                    self._acknowledged_charge(response.json()["chargeId"], org, key)
                state = session.get(f"{self.url}/api/billing/state", headers=self.headers[org], timeout=30)
                self._expect(response, 202, 429)
                self._expect(state, 200)
                if step % 3 == 0:
                    self._debit(control, org)
        except requests.RequestException:
            with self.lock:
                self.cut_off += 1

    def _debit(self, control: Control, org: int) -> None:
        try:
            control.debit_usage(f"org_{org}", "1.25")
        except ControlError as refused:
            with self.lock:
                self.unexpected.append(str(refused))
            return
        with self.lock:
            self.debits[org] += 1

    def _expect(self, response: requests.Response, *statuses: int) -> bool:
        if response.status_code in statuses:
            return True
        with self.lock:
            self.unexpected.append(f"{response.request.method} {response.url} {response.status_code} "
                                   f"{response.text}")
        return False

    def _acknowledged_charge(self, charge_id: str, org: int, key: str) -> None:
        with self.lock:
            self.charges[charge_id] = (org, key)
            if len(self.charges) >= KILL_AFTER_ACCEPTED:
                self.enough.set()


@pytest.mark.parametrize("workers", [1, 2])
def test_a_sigkill_mid_load_loses_no_accepted_charge_and_credits_none_twice(tmp_path, workers):
    command = portal_on_file(tmp_path / "portal.db", workers)
    with ServerProcess(command) as server:
        portal = Control.over_http(server.url)
        portal.reset(many_orgs(ORGS, balanceUsd=str(SEED), settleAfterSeconds=0))
        load = Load(server.url, {org: portal.bearer(user_email(org), expires_in=LONG_LIVED_SECONDS)
                                 for org in range(ORGS)})
        clients = [threading.Thread(target=load.client, args=(n,)) for n in range(CLIENTS)]
        for thread in clients:
            thread.start()
        assert load.enough.wait(timeout=60), "the load never got going"
        server.kill()
        for thread in clients:
            thread.join(timeout=60)
    assert load.unexpected == []
    assert load.cut_off > 0, "the kill did not land mid-load"

    with ServerProcess(command) as server:
        portal = Control.over_http(server.url)
        portal.advance(60)  # everything accepted is due: each report below settles it
        reports = {org: portal.org(f"org_{org}") for org in range(ORGS)}
        for org, report in reports.items():
            ids = [c["id"] for c in report["charges"]]
            assert len(ids) == len(set(ids))
            assert {cid for cid, (o, _) in load.charges.items() if o == org} <= set(ids)
            assert len(report["usage"]) >= load.debits[org]
            assert {c["status"] for c in report["charges"]} <= {"settled"}
            settled = sum(Decimal(c["amountUsd"]) for c in report["charges"])
            used = sum(Decimal(u["amountUsd"]) for u in report["usage"])
            assert Decimal(report["balanceUsd"]) == SEED + settled - used, org
        # Idempotency keys are durable too: a retry after the restart replays, never re-charges.
        charge_id, (org, key) = next(iter(load.charges.items()))
        replay = charge(requests.Session(), server.url, portal.bearer(user_email(org), expires_in=LONG_LIVED_SECONDS),
                        key, "10")
        assert replay.status_code == 202 and replay.json()["chargeId"] == charge_id
        assert replay.headers["Idempotent-Replayed"] == "true"
