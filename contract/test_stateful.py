"""The portal against a plain model (contract/model.py), one team org (acme), any sequence of actions.

Rules are what a terminal and the world around it do: charge, reuse a charge's key, poll, move
the clock, spend credit (usage, and chat completions through the OpenAI SDK, which may trigger
auto-reload), configure auto-reload, flip the kill-switch, script the next outcomes, change
the card. After every step:
- balance = seed + settled charges - usage and inference debits, in the portal's own records
  and the model's;
- every charge settles (or fails) at most once and never changes afterwards;
- this month's spend never passes the cap;
- `/api/billing/state` and `/api/oauth/account` say what the model says.

`BillingMachine` is also the base of the personal org's machine (contract/test_plans.py).
Every rule and every outcome worth reaching (an auto-reload, a refusal) is counted across the
run, and the run fails if one never happened: a rule that is never valid tests nothing.
"""

from __future__ import annotations

import functools
import itertools
from collections import Counter
from decimal import Decimal

import pytest
from hypothesis import event, note, settings
from hypothesis.control import currently_in_test_context
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from client.money import parse_money, to_json_number
from contract.inference import (ChatTerminal, delivered_message, parse_credits_headers, rate_limit_values,
                                scripted_message)
from contract.model import CYCLE_SECONDS, AutoReload, OrgModel, completion_tokens, cost, prompt_tokens
from contract.portal import TOKEN_SECONDS
from contract.profiles import examples
from contract.strategies import (auto_reload_rules, cards, chat_turns, clock_moves, reload_overshoots,
                                 scripted_outcomes, scripted_replies, small_amounts, usage_amounts)
from contract.world import ACME, CATALOGUE, OWNER, PRICES, SEED_BALANCE, SETTLE_AFTER_SECONDS, world

pytestmark = pytest.mark.control

# Clock moves: the usual, plus a day (idempotency keys expire) and weeks (a new cap month).
clock_jumps = clock_moves | st.sampled_from([86_400, 86_401, 20 * 86_400])


def say(text: str) -> None:
    """A note in a failing example's report (nothing in a fixed walkthrough)."""
    if currently_in_test_context():
        note(text)


def counted(function):
    """A rule that counts its runs for the coverage check (innermost, under `@rule`)."""
    @functools.wraps(function)
    def run(self, **arguments):
        self.reach(f"rule {function.__name__}")
        return function(self, **arguments)
    return run


def canonical(amount: Decimal) -> str:
    return format(amount.normalize(), "f") if amount else "0"


class BillingMachine(RuleBasedStateMachine):
    ORG, USER = ACME, OWNER
    # What a whole run reached, over all its examples: rule names and outcomes.
    reached: Counter = Counter()

    def __init__(self, portal, terminal: ChatTerminal):
        super().__init__()
        self.portal = portal
        self.terminal = terminal
        self.seen: Counter = Counter()  # what this run reached
        portal.reset(world())
        self.now = portal.now()
        self._log_in()
        self.keys = itertools.count(1)
        self.sent: dict[str, Decimal] = {}  # every charge key sent, with its first amount
        self.finished: dict[str, dict] = {}  # charge id -> its final report entry
        self.completions: dict[str, tuple[Decimal, object]] = {}  # completion id -> (cost, split)
        self.model = self.initial_model()

    def _log_in(self) -> None:
        """A fresh login (a grant on the same org) whenever the clock nears the last one's expiry."""
        self.token = self.portal.access_token(self.USER)
        self.token_expires = self.now + TOKEN_SECONDS - 10 * CYCLE_SECONDS

    def initial_model(self) -> OrgModel:
        return OrgModel(seed_balance=SEED_BALANCE[self.ORG], card_last4="4242", billing_enabled=True,
                        cap_limit=None, auto_reload=AutoReload(False, Decimal(20), Decimal(100)),
                        settle_after=SETTLE_AFTER_SECONDS, catalogue=CATALOGUE)

    def reach(self, what: str) -> None:
        """Count an outcome for the run's coverage check, and in Hypothesis' statistics."""
        self.seen[what] += 1
        type(self).reached[what] += 1
        if currently_in_test_context():  # not in a fixed walkthrough
            event(what)

    # -- a terminal ------------------------------------------------------------------------------
    def _submit(self, key: str, amount: Decimal) -> None:
        self.sent.setdefault(key, amount)
        expected_status, detail = self.model.expected_charge(key, amount, self.now)
        response = self.portal.charge(self.token, to_json_number(amount), key)
        body = response.json()
        assert response.status_code == expected_status, f"expected {expected_status} {detail}: {response.text}"
        outcome = detail if expected_status != 202 else "accepted" if detail is None else "replayed"
        self.reach(f"charge {expected_status} {outcome}")
        if expected_status == 202 and detail is None:
            assert "Idempotent-Replayed" not in response.headers
            self.model.accept(body["chargeId"], amount, self.now, "terminal")
            self.model.keys[key] = (amount, body["chargeId"], self.now)
            return
        if expected_status == 202:
            assert (body["chargeId"], response.headers.get("Idempotent-Replayed")) == (detail, "true")
        else:
            assert body["error"] == detail, response.text
        if detail == "monthly_cap_exceeded":
            assert parse_money(body["remainingUsd"]) == self.model.headroom(self.now)
        if detail == "rate_limited":
            assert int(response.headers["Retry-After"]) == self.model.seconds_until_slot(self.now)

    @rule(amount=small_amounts)
    @counted
    def charge(self, amount):
        self._submit(f"sm-{next(self.keys)}", amount)

    @rule(earlier=st.integers(0, 100), amount=st.none() | small_amounts)
    @counted
    def reuse_charge_key(self, earlier, amount):
        """An earlier key again, for its first amount (None) or another: an accepted charge
        replays (a 409 for another amount); a refused one stored nothing, so it is tried afresh.
        With no key sent yet, this is a key's first use."""
        if not self.sent:
            return self.charge(amount=amount or Decimal(25))
        key = list(self.sent)[earlier % len(self.sent)]
        say(f"reusing {key}")
        self._submit(key, self.sent[key] if amount is None else amount)

    @rule(index=st.integers(0, 100))
    @counted
    def poll_charge(self, index):
        """Any of the org's charges, or (before there is one) an id it never had: pending."""
        if not self.model.charges:
            assert self.portal.charge_status(self.token, "ch_never_issued") == {"status": "pending"}
            return
        charge = self.model.charges[index % len(self.model.charges)]
        answer = self.portal.charge_status(self.token, charge.id)
        if "amountUsd" in answer:
            answer["amountUsd"] = parse_money(answer["amountUsd"])
        assert answer == charge.view(self.now)

    @rule(turn=chat_turns(), reply=scripted_replies)
    @counted
    def chat(self, turn, reply):
        """A chat completion through the SDK: admitted or refused as the model says, its credits
        and rate-limit headers what the buckets and windows say, its reply the scripted one,
        its usage what is billed, its cost debited in the contract's order."""
        model = PRICES[turn.model]
        account = self.portal.account(self.token)
        verdict = self.model.expected_admission(model, self.now)
        if verdict.status == 200:
            self.portal.replies(self.ORG, reply)
        result = self.terminal.complete(self.token, turn.model, turn.messages, stream=turn.stream,
                                        include_usage=turn.include_usage, tools=turn.tools)
        assert result.status == verdict.status, f"expected {verdict}, got {result.status} {result.error}"
        self.reach(f"chat {verdict.status} {'free' if model.is_free else 'paid'}")
        if verdict.status == 402:
            assert result.error["code"] == "no_usable_credits"
            assert account["paid_service_access"]["allowed"] is False, "402 while the account says allowed"
            self.model.windows.counted.append((self.now, 0))
            return
        credits = parse_credits_headers(result.headers)
        assert credits is not None, f"the client would drop these credits headers: {dict(result.headers)}"
        assert credits == self.model.credits_headers(self.now)
        assert_headers_agree_with_account(credits, account)
        prompt, completion = prompt_tokens(result.body_bytes), completion_tokens(reply)
        self.model.windows.counted.append((self.now, prompt + completion))
        assert rate_limit_values(result.headers) == self.model.windows.headers(self.now)
        usage_sent = not turn.stream or turn.include_usage
        assert result.usage == ((prompt, completion, prompt + completion) if usage_sent else None)
        assert delivered_message(result, streamed=turn.stream) == scripted_message(reply, streamed=turn.stream)
        billed = Decimal(0) if model.is_free else cost(model, prompt, completion)
        split = self.model.bill(billed, self.now) if billed else None
        self.completions[result.completion_id] = (billed, split)
        touched_purchased = split is not None and (split.purchased or (split.debt and not split.debt_on_grant))
        if touched_purchased:
            self.reach("chat debited P")
            self._expect_auto_reload(self.model.auto_reload_due(self.now), report=self.portal.org(self.ORG))

    # -- the world around it -------------------------------------------------------------------
    def _move(self, seconds: float) -> None:
        had_plan = self.model.plan is not None
        self.portal.advance(seconds)
        self.now += seconds
        if self.now > self.token_expires:
            self._log_in()
        ends = self.model.catch_up(self.now)
        if ends:
            self.reach("plan ended" if had_plan and self.model.plan is None
                       else "plan renewed" if ends == 1 else "plan renewed several cycles at once")

    @rule(seconds=clock_jumps)
    @counted
    def move_clock(self, seconds):
        self._move(seconds)

    def _expect_auto_reload(self, reload_amount: Decimal | None, report: dict) -> None:
        known = {c.id for c in self.model.charges}
        new = [c for c in report["charges"] if c["id"] not in known and c["source"] != "upgrade"]
        if reload_amount is None:
            assert new == [], f"no auto-reload was due, the portal charged {new}"
            return
        assert [(c["source"], parse_money(c["amountUsd"])) for c in new] == [("auto_reload", reload_amount)]
        self.model.accept(new[0]["id"], reload_amount, self.now, "auto_reload")
        self.reach("auto-reload charged")

    def _debit(self, amount: Decimal) -> None:
        self.model.usage.append(amount)
        reload_amount = self.model.auto_reload_due(self.now)
        self._expect_auto_reload(reload_amount, report=self.portal.debit_usage(self.ORG, amount))

    @rule(amount=usage_amounts)
    @counted
    def debit_usage(self, amount):
        self._debit(amount)

    @rule(overshoot=reload_overshoots)
    @counted
    def spend_below_reload_threshold(self, overshoot):
        """A debit that leaves the balance just below the reload threshold (enabled or not)."""
        balance = self.model.balance(self.now)
        self._debit(max(balance - self.model.auto_reload.threshold, Decimal(0)) + overshoot)

    def _configure_auto_reload(self, rule_: AutoReload) -> None:
        expected_status, code = self.model.expected_auto_reload_update(rule_)
        response = self.portal.auto_top_up(self.token, f'{{"enabled": {str(rule_.enabled).lower()}, '
                                           f'"threshold": {rule_.threshold}, "topUpAmount": {rule_.reload_to}}}')
        assert response.status_code == expected_status, response.text
        self.reach(f"auto-reload update {expected_status} {code or ('on' if rule_.enabled else 'off')}")
        if code is not None:
            assert response.json()["error"] == code
            return
        self.model.auto_reload = rule_
        assert response.json()["autoReload"] == self._auto_reload_view()

    @initialize(rule_=st.none() | auto_reload_rules)
    @counted
    def start_with_auto_reload(self, rule_):
        """Half the runs start with a (mostly valid) auto-reload rule, so reloads happen early."""
        if rule_ is not None:
            self._configure_auto_reload(rule_)

    @rule(rule_=auto_reload_rules)
    @counted
    def configure_auto_reload(self, rule_):
        self._configure_auto_reload(rule_)

    @rule(enabled=st.sampled_from([True, True, False]))
    @counted
    def set_kill_switch(self, enabled):
        """"Allow terminal billing" on or off (mostly back on: off, every money route refuses)."""
        self.model.billing_enabled = enabled
        self.portal.edit_org(self.ORG, cliBillingEnabled=enabled)

    @rule(outcome=scripted_outcomes)
    @counted
    def script_outcome(self, outcome):
        self.portal.script_outcome(self.ORG, outcome.outcome, reason=outcome.reason,
                                   after_seconds=outcome.after_seconds)
        self.model.scripted.append(outcome)

    @rule(last4=cards)
    @counted
    def change_card(self, last4):
        self.model.card_last4 = last4
        self.portal.edit_org(self.ORG, card=None if last4 is None else {"brand": "visa", "last4": last4})

    # -- the promises --------------------------------------------------------------------------
    def _auto_reload_view(self) -> dict:
        rule_ = self.model.auto_reload
        return {"enabled": rule_.enabled, "thresholdUsd": canonical(rule_.threshold),
                "reloadToUsd": canonical(rule_.reload_to),
                "card": {"kind": "canonical" if self.model.card_last4 else "none"}}

    @invariant()
    def the_portal_agrees_with_the_model(self):
        self.check(self.portal.state(self.token), self.portal.org(self.ORG))

    def check(self, state: dict, report: dict) -> None:
        """Every promise about the org, from one read of `/state` and the control plane's report."""
        balance = parse_money(state["balanceUsd"])
        assert balance == self.purchased_from_records(report), \
            "balance is not seed + settled top-ups - usage - inference debits"
        assert balance == self.model.balance(self.now)
        self._each_charge_settles_at_most_once(report["charges"])
        assert {c["id"]: c["status"] for c in report["charges"]} == \
            {c.id: c.status(self.now) for c in self.model.charges}
        self._completions_are_billed_as_metered(report["completions"])
        cap = state["monthlyCap"]
        assert parse_money(cap["spentThisMonthUsd"]) <= parse_money(cap["limitUsd"]), "spend passed the cap"
        assert (parse_money(cap["spentThisMonthUsd"]), parse_money(cap["limitUsd"]), cap["isDefaultCeiling"]) == \
            (self.model.spent_this_month(self.now), self.model.limit, True)
        assert state["cliBillingEnabled"] == self.model.billing_enabled
        resolved_via = "customerDefault" if self.model.plan is None else "subPin"
        expected_card = None if self.model.card_last4 is None else {"brand": "visa", "last4": self.model.card_last4,
                                                                  "resolvedVia": resolved_via}
        assert state["card"] == expected_card
        assert state["autoReload"] == self._auto_reload_view()

    def purchased_from_records(self, report: dict) -> Decimal:
        """P by conservation, from the portal's own records: seed + settled top-ups - usage -
        what each completion took from P (its debt too, when it had no paid plan to go on) +
        what the control plane and cancellations moved (the model's journal)."""
        settled = sum((parse_money(c["amountUsd"]) for c in report["charges"]
                       if c["status"] == "settled" and c["source"] != "upgrade"), Decimal(0))
        used = sum((Decimal(u["amountUsd"]) for u in report["usage"]), Decimal(0))
        inference = Decimal(0)
        for record in report["completions"]:
            if record["outcome"] == "admitted":
                _, split = self.completions[record["id"]]
                on_grant = split is not None and split.debt_on_grant
                debt = Decimal(0) if on_grant else parse_money(record["debtUsd"])
                inference += parse_money(record["fromPurchasedUsd"]) + debt
        return SEED_BALANCE[self.ORG] + settled - used - inference + sum(self.model.purchased_journal, Decimal(0))

    def _completions_are_billed_as_metered(self, records: list[dict]) -> None:
        """Each admitted completion was billed once, its cost the metered one, split as the
        model split it; a refused one cost nothing."""
        admitted = [r for r in records if r["outcome"] == "admitted"]
        assert {r["id"] for r in admitted} == set(self.completions)
        for record in admitted:
            billed, split = self.completions[record["id"]]
            parts = [parse_money(record[k]) for k in ("fromGrantUsd", "fromRolloverUsd", "fromPurchasedUsd",
                                                        "debtUsd")]
            assert record["billedAt"] is not None and parse_money(record["costUsd"]) == billed == sum(parts)
            if split is not None:
                assert parts == [split.grant, split.rollover, split.purchased, split.debt]

    def _each_charge_settles_at_most_once(self, charges: list[dict]) -> None:
        """Once settled or failed, a charge never changes again (and so credits at most once)."""
        for charge in charges:
            if charge["id"] in self.finished:
                assert charge == self.finished[charge["id"]], f"a finished charge changed: {charge}"
            elif charge["status"] != "pending":
                self.finished[charge["id"]] = charge


def assert_headers_agree_with_account(credits: dict, account: dict) -> None:
    """The credits headers of a completion and `/api/oauth/account` read at the same instant
    describe one state (the client seeds from the one and updates from the other)."""
    access = account["paid_service_access"]
    subscription = access["subscription_credits_remaining"] + min(access["purchased_credits_remaining"], 0)
    assert credits["remaining_micros"] == int(access["total_usable_credits"] * 1_000_000)
    assert credits["subscription_micros"] == int(subscription * 1_000_000)
    assert credits["purchased_micros"] == int(max(access["purchased_credits_remaining"], 0) * 1_000_000)
    assert credits["paid_access"] is access["allowed"]
    assert credits["as_of_ms"] == access["effective_at_ms"]
    plan = account["subscription"]
    assert credits["rollover_micros"] == (0 if plan is None else int(plan["rollover_credits"] * 1_000_000))
    paid = access["active_subscription_is_paid"]
    assert credits["denominator_kind"] == ("subscription_cap" if paid else "none")
    assert credits["subscription_limit_micros"] == (int(plan["monthly_credits"] * 1_000_000) if paid else None)


def run_machine(machine_class, portal, must_reach: set[str], *, weight: float = 1, steps: float = 1,
                extra_batches: int = 6) -> None:
    """Run a machine for its share of the profile's examples (`weight`) and step count (`steps`
    times as many). Every rule and every outcome in `must_reach` must have happened: a batch
    that missed one (swarm testing leaves some runs lopsided) is followed by another, up to
    `extra_batches`; still missing, it is unreachable in practice and the property fails.
    The extra batches are always random: under the `CI` environment Hypothesis derandomizes,
    and a derandomized batch run again is the same batch."""
    machine_class.reached = Counter()
    terminal = ChatTerminal(portal.base_url)
    setup = machine_class.setup_state()
    wanted = {f"rule {r.function.__name__}" for r in [*setup.rules, *setup.initializers]} | must_reach
    batch = settings(max_examples=examples(weight),
                     stateful_step_count=round(settings.default.stateful_step_count * steps))
    for attempt in range(1 + extra_batches):
        run_state_machine_as_test(lambda: machine_class(portal, terminal),
                                  settings=batch if attempt == 0 else settings(batch, derandomize=False))
        missing = sorted(wanted - set(machine_class.reached))
        if not missing:
            return
    raise AssertionError(f"never reached in {1 + extra_batches} batches of {batch.max_examples} runs: {missing}; "
                         f"reached: {dict(machine_class.reached)}")


def walk(machine_class, portal, steps: list[tuple[str, dict]], outcomes: set[str]) -> None:
    """Run a fixed sequence of a machine's rules, checking every promise after each, and
    require the outcomes it is there to reach."""
    machine = machine_class(portal, ChatTerminal(portal.base_url))
    machine.the_portal_agrees_with_the_model()
    for name, arguments in steps:
        getattr(machine, name)(**arguments)
        machine.the_portal_agrees_with_the_model()
    assert outcomes <= set(machine.seen), f"not reached: {sorted(outcomes - set(machine.seen))}"


# Outcomes every run reaches: an accepted charge, an auto-reload, a paid completion from P.
BILLING_OUTCOMES = {"auto-reload charged", "charge 202 accepted", "chat 200 paid", "chat debited P"}


def test_billing_follows_the_model(portal):
    run_machine(BillingMachine, portal, BILLING_OUTCOMES)


# Fixed sequences that cross each boundary on every run: (steps, outcomes they must reach).
WALKTHROUGHS = {
    # Spending to a thousandth under the threshold reloads to the reload-to balance, rounded up
    # to the cent; while that reload is pending, spending more reloads nothing; once it has
    # settled, the next dip reloads again.
    "one auto-reload in flight": ([
        ("configure_auto_reload", {"rule_": AutoReload(True, Decimal(100), Decimal(200))}),
        ("spend_below_reload_threshold", {"overshoot": Decimal("0.001")}),
        ("spend_below_reload_threshold", {"overshoot": Decimal(1)}),
        ("move_clock", {"seconds": SETTLE_AFTER_SECONDS}),
        ("spend_below_reload_threshold", {"overshoot": Decimal("0.5")}),
    ], {"auto-reload charged"}),
}


@pytest.mark.parametrize(("steps", "outcomes"), WALKTHROUGHS.values(), ids=WALKTHROUGHS.keys())
def test_billing_walkthroughs(portal, steps, outcomes):
    walk(BillingMachine, portal, steps, outcomes)
