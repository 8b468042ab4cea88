"""The portal against a plain model (contract/model.py), one org, any sequence of actions.

Rules are what a terminal and the world around it do: charge, replay a charge, poll, move the
clock, spend credit (usage, which may trigger auto-reload), configure auto-reload, flip the
kill-switch, script the next outcomes, change the card. After every step:
- balance = seed + settled charges - usage debits, in the portal's own records and the model's;
- every charge settles (or fails) at most once and never changes afterwards;
- this month's spend never passes the cap;
- `/api/billing/state` says what the model says.
"""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (Bundle, RuleBasedStateMachine, invariant, multiple, precondition, rule,
                                 run_state_machine_as_test)

from client.money import parse_money, to_json_number
from contract.model import AutoReload, OrgModel, Outcome
from contract.profiles import examples
from contract.strategies import clock_moves, small_amounts, usage_amounts
from contract.world import ACME, SEED_BALANCE, SETTLE_AFTER_SECONDS, world

pytestmark = pytest.mark.control

# Clock moves: the usual, plus a day (idempotency keys expire) and weeks (a new cap month).
clock_jumps = clock_moves | st.sampled_from([86_400, 86_401, 20 * 86_400])
# Auto-reload values: mostly valid, some under the 10 USD minimum.
reload_values = st.one_of(st.integers(0, 1500), st.integers(1000, 70_000)).map(lambda c: Decimal(c).scaleb(-2))
scripted_outcomes = st.one_of(
    st.builds(Outcome, st.just("settle"), st.none(), st.none() | st.integers(0, 10)),
    st.builds(Outcome, st.just("fail"), st.sampled_from(["card_declined", "authentication_required",
                                                         "payment_method_expired", "processing_error"]),
              st.none() | st.integers(0, 10)),
    st.builds(Outcome, st.just("pending")),
)
# Stripe test cards (4242 and 5454 succeed), or no card at all.
cards = st.sampled_from([None, "4242", "0002", "3184", "0069", "0119", "5454"])


class BillingMachine(RuleBasedStateMachine):
    submissions = Bundle("submissions")  # accepted (Idempotency-Key, amount, chargeId)

    def __init__(self, portal):
        super().__init__()
        self.portal = portal
        portal.reset(world())
        self.token = portal.access_token()
        self.now = portal.now()
        self.keys = itertools.count(1)
        self.finished: dict[str, dict] = {}  # charge id -> its final report entry
        self.model = OrgModel(seed_balance=SEED_BALANCE[ACME], card_last4="4242", billing_enabled=True,
                              cap_limit=None, auto_reload=AutoReload(False, Decimal(20), Decimal(100)),
                              settle_after=SETTLE_AFTER_SECONDS)

    # -- a terminal ------------------------------------------------------------------------------
    def _submit(self, key: str, amount: Decimal):
        expected_status, detail = self.model.expected_charge(key, amount, self.now)
        response = self.portal.charge(self.token, to_json_number(amount), key)
        body = response.json()
        assert response.status_code == expected_status, f"expected {expected_status} {detail}: {response.text}"
        if expected_status == 202 and detail is None:
            assert "Idempotent-Replayed" not in response.headers
            self.model.accept(body["chargeId"], amount, self.now, "terminal")
            self.model.keys[key] = (amount, body["chargeId"], self.now)
            return multiple((key, amount, body["chargeId"]))
        if expected_status == 202:
            assert (body["chargeId"], response.headers.get("Idempotent-Replayed")) == (detail, "true")
        else:
            assert body["error"] == detail, response.text
        if detail == "monthly_cap_exceeded":
            assert parse_money(body["remainingUsd"]) == self.model.headroom(self.now)
        if detail == "rate_limited":
            assert int(response.headers["Retry-After"]) == self.model.seconds_until_slot(self.now)
        return multiple()

    @rule(target=submissions, amount=small_amounts)
    def charge(self, amount):
        return self._submit(f"sm-{next(self.keys)}", amount)

    @rule(target=submissions, previous=submissions, amount=st.none() | small_amounts)
    def replay_charge(self, previous, amount):
        """The same key again, with the same amount (None) or another one."""
        key, original_amount, _ = previous
        return self._submit(key, original_amount if amount is None else amount)

    @precondition(lambda self: self.model.charges)
    @rule(index=st.integers(0, 100))
    def poll_charge(self, index):
        charge = self.model.charges[index % len(self.model.charges)]
        answer = self.portal.charge_status(self.token, charge.id)
        if "amountUsd" in answer:
            answer["amountUsd"] = parse_money(answer["amountUsd"])
        assert answer == charge.view(self.now)

    # -- the world around it -------------------------------------------------------------------
    @rule(seconds=clock_jumps)
    def move_clock(self, seconds):
        self.portal.advance(seconds)
        self.now += seconds

    @rule(amount=usage_amounts)
    def debit_usage(self, amount):
        self.model.usage.append(amount)
        reload_amount = self.model.auto_reload_due(self.now)
        known = {c.id for c in self.model.charges}
        report = self.portal.debit_usage(ACME, amount)
        new = [c for c in report["charges"] if c["id"] not in known]
        if reload_amount is None:
            assert new == [], f"no auto-reload was due, the portal charged {new}"
            return
        assert [(c["source"], parse_money(c["amountUsd"])) for c in new] == [("auto_reload", reload_amount)]
        self.model.accept(new[0]["id"], reload_amount, self.now, "auto_reload")

    @rule(enabled=st.booleans(), threshold=reload_values, reload_to=reload_values)
    def configure_auto_reload(self, enabled, threshold, reload_to):
        rule_ = AutoReload(enabled, threshold, reload_to)
        expected_status, code = self.model.expected_auto_reload_update(rule_)
        response = self.portal.auto_top_up(self.token, f'{{"enabled": {str(enabled).lower()}, '
                                           f'"threshold": {threshold}, "topUpAmount": {reload_to}}}')
        assert response.status_code == expected_status, response.text
        if code is not None:
            assert response.json()["error"] == code
            return
        self.model.auto_reload = rule_
        assert response.json()["autoReload"] == self._auto_reload_view()

    @rule()
    def toggle_kill_switch(self):
        self.model.billing_enabled = not self.model.billing_enabled
        self.portal.edit_org(ACME, cliBillingEnabled=self.model.billing_enabled)

    @rule(outcome=scripted_outcomes)
    def script_outcome(self, outcome):
        self.portal.script_outcome(ACME, outcome.outcome, reason=outcome.reason,
                                   after_seconds=outcome.after_seconds)
        self.model.scripted.append(outcome)

    @rule(last4=cards)
    def change_card(self, last4):
        self.model.card_last4 = last4
        self.portal.edit_org(ACME, card=None if last4 is None else {"brand": "visa", "last4": last4})

    # -- the promises --------------------------------------------------------------------------
    def _auto_reload_view(self) -> dict:
        rule_ = self.model.auto_reload
        return {"enabled": rule_.enabled, "thresholdUsd": _canonical(rule_.threshold),
                "reloadToUsd": _canonical(rule_.reload_to),
                "card": {"kind": "canonical" if self.model.card_last4 else "none"}}

    @invariant()
    def the_ledger_balances_and_state_agrees_with_the_model(self):
        state = self.portal.state(self.token)
        report = self.portal.org(ACME)
        balance = parse_money(state["balanceUsd"])
        settled = sum((parse_money(c["amountUsd"]) for c in report["charges"] if c["status"] == "settled"), Decimal(0))
        used = sum((Decimal(u["amountUsd"]) for u in report["usage"]), Decimal(0))

        assert balance == SEED_BALANCE[ACME] + settled - used, "balance is not seed + settled - usage"
        assert balance == self.model.balance(self.now)
        self._each_charge_settles_at_most_once(report["charges"])
        assert {c["id"]: c["status"] for c in report["charges"]} == \
            {c.id: c.status(self.now) for c in self.model.charges}
        cap = state["monthlyCap"]
        assert parse_money(cap["spentThisMonthUsd"]) <= parse_money(cap["limitUsd"]), "spend passed the cap"
        assert (parse_money(cap["spentThisMonthUsd"]), parse_money(cap["limitUsd"]), cap["isDefaultCeiling"]) == \
            (self.model.spent_this_month(self.now), self.model.limit, True)
        assert state["cliBillingEnabled"] == self.model.billing_enabled
        expected_card = None if self.model.card_last4 is None else {"brand": "visa", "last4": self.model.card_last4,
                                                                  "resolvedVia": "customerDefault"}
        assert state["card"] == expected_card
        assert state["autoReload"] == self._auto_reload_view()

    def _each_charge_settles_at_most_once(self, charges: list[dict]) -> None:
        """Once settled or failed, a charge never changes again (and so credits at most once)."""
        for charge in charges:
            if charge["id"] in self.finished:
                assert charge == self.finished[charge["id"]], f"a finished charge changed: {charge}"
            elif charge["status"] != "pending":
                self.finished[charge["id"]] = charge


def _canonical(amount: Decimal) -> str:
    return format(amount.normalize(), "f") if amount else "0"


def test_billing_follows_the_model(portal):
    run_state_machine_as_test(lambda: BillingMachine(portal), settings=settings(max_examples=examples(1)))
