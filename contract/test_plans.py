"""The personal org's plan against the plain model (contract/model.py): any sequence of
previews, pending changes (downgrade, cancellation, resume), upgrades and their replays,
top-ups, usage, chat completions, scripted outcomes, card changes, Stripe outages, credit
edits and clock moves (to a cycle's end, across it, several cycles at once).

`PlanMachine` is `BillingMachine` (contract/test_stateful.py) on org_pat, plus the plan's
rules. After every step, on top of the billing promises:
- the plan (tier, pending change, cancelAtPeriodEnd, cycle end) on `/api/billing/subscription`,
  and the buckets G, R (the control plane's report) and P (`balanceUsd`) are the model's;
- conservation: each bucket is its seed plus what renewals, upgrades and edits credited minus
  what each billed completion recorded taking from it (its debt on G with a paid plan, else P);
- `/api/oauth/account` is the model's entitlement;
- one card attempt per upgrade key; every paid upgrade is a settled charge of exactly what the
  preview at that instant quoted.
The `initialize` rule starts each run from a generated plan (any tier, early or late in its
cycle, in debt or not, with a pending change or not), so boundaries do not wait on luck, and
`test_plan_walkthroughs` replays fixed sequences that cross each boundary on every run.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import initialize, precondition, rule

from client.money import parse_money
from contract.inference import ChatTerminal
from contract.model import (ALREADY_ON_TIER, CYCLE_SECONDS, DAY, PAYMENT_FAILED, REQUIRES_ACTION, UPGRADED,
                            AutoReload, OrgModel, Plan, iso)
from contract.strategies import ChatTurn
from contract.test_stateful import BillingMachine, counted, run_machine, say, walk
from contract.world import (BASIC, CATALOGUE, FREE, MAX, PAT, PAT_OWNER, PAT_SEED, PAT_TIER, PLUS, PLUS_2025, PRO,
                            UNKNOWN_TIER)

pytestmark = pytest.mark.control

# A target tier, as what it is to the current plan: most of them cheaper or dearer, so that
# scheduling and upgrading succeed as often as they are refused.
TARGET_KINDS = ("dearer", "cheaper", "dearer", "cheaper", "current", "free", "grandfathered", "unknown")
tier_targets = st.tuples(st.sampled_from(TARGET_KINDS), st.integers(0, 3))
# A pending change: a tier change to a target, a cancellation, or resuming (DELETE).
pending_changes = st.one_of(tier_targets, st.sampled_from(["cancellation", "resume"]))
# Upgrades are mostly to a dearer tier, so that most of them reach the card.
upgrade_targets = st.tuples(st.sampled_from(("dearer",) * 4 + TARGET_KINDS), st.integers(0, 3))
paid_tiers = st.sampled_from([PLUS, PRO, BASIC, MAX, PLUS_2025])
# Where a run starts in its cycle: fresh, mid-cycle, or seconds from the end.
# 648 s and 216 s left put a 20 USD and a 60 USD price difference exactly half a cent from
# rounding; one second less, just under it.
seconds_into_cycle = st.one_of(st.sampled_from([0, 10 * DAY, CYCLE_SECONDS - 1, CYCLE_SECONDS - 60, 29 * DAY,
                                                CYCLE_SECONDS - 648, CYCLE_SECONDS - 647, CYCLE_SECONDS - 216]),
                               st.integers(0, CYCLE_SECONDS - 1))
# The credits a plan is left with (G, R, P), by what they mean for the next completion:
# plenty, nothing but one bucket, a micro short of nothing, used up, in debt.
CREDIT_STATES = {"plenty": ("12.5", "3", "5"), "only purchased credit": ("0", "0", "3"),
                 "only rollover": ("0", "2", "0"), "a micro of each": ("0.000001", "0.000001", "0.000002"),
                 "used up": ("0", "0", "0"), "in debt": ("-0.5", "0", "-0.5"), "deep in debt": ("-25", "0", "0"),
                 "grant in debt, purchased left": ("-1.5", "0", "5")}
credit_states = st.sampled_from(list(CREDIT_STATES))
# (seconds from a cycle's end, which end: 1 is this cycle's): before, at, after, an hour on.
cycle_ends = st.tuples(st.sampled_from([0, -1, 1, 3600]), st.integers(1, 3))


def credits_of(state: str) -> tuple[Decimal, Decimal, Decimal]:
    return tuple(map(Decimal, CREDIT_STATES[state]))


@st.composite
def plan_starts(draw) -> tuple[Plan, Decimal]:
    """A plan to start a run from (its `period_start` counted from the run's start, so 0 or
    negative), and P."""
    tier = CATALOGUE[draw(paid_tiers)]
    pending_kind = draw(st.sampled_from(["downgrade", "cancellation", "none"]))
    lower = [t for t in CATALOGUE.values() if t.enabled and not t.is_free and t.price <= tier.price and t != tier]
    pending = draw(st.sampled_from(lower)) if pending_kind == "downgrade" and lower else None
    grant, rollover, balance = credits_of(draw(credit_states))
    plan = Plan(tier, -draw(seconds_into_cycle), grant, rollover, pending, pending_kind == "cancellation")
    return plan, balance


class PlanMachine(BillingMachine):
    ORG, USER = PAT, PAT_OWNER

    def __init__(self, portal, terminal: ChatTerminal):
        super().__init__(portal, terminal)
        self.answers: dict[str, tuple[int, dict]] = {}  # upgrade key -> its stored answer
        self.upgrades_sent: dict[str, str] = {}  # upgrade key -> the tier it was first sent for
        self.card_attempts: list[tuple[str, float, dict]] = []  # (key, when, answer) of each attempt
        self.upgrade_keys = itertools.count(1)

    def initial_model(self) -> OrgModel:
        model = super().initial_model()
        model.plan = Plan(CATALOGUE[PAT_TIER], self.now, PAT_SEED.grant, PAT_SEED.rollover)
        return model

    # -- setting the plan up, as the portal's web pages or Stripe would --------------------------
    def _edit_plan(self, plan: Plan, balance: Decimal | None = None) -> None:
        changes = {"subscription": {"tierId": plan.tier.id, "periodStart": iso(plan.period_start),
                                    "creditsRemaining": str(plan.grant), "rolloverCredits": str(plan.rollover),
                                    "pendingTierId": plan.pending.id if plan.pending else None,
                                    "cancelAtPeriodEnd": plan.cancel_at_period_end}}
        if balance is not None:
            changes["balanceUsd"] = str(balance)
            self.model.set_purchased(balance, self.now)
        self.portal.edit_org(self.ORG, **changes)
        self.model.set_plan(plan)

    @initialize(start=plan_starts())
    @counted
    def start_plan(self, start):
        plan, balance = start
        self._edit_plan(replace(plan, period_start=self.now + plan.period_start), balance)

    @rule(credits=credit_states)
    @counted
    def edit_credits(self, credits):
        """The buckets set behind the API (a refund, a support credit, a chargeback)."""
        grant, rollover, balance = credits_of(credits)
        if self.model.plan is None:
            self.portal.edit_org(self.ORG, balanceUsd=str(balance))
            self.model.set_purchased(balance, self.now)
            return
        self._edit_plan(replace(self.model.plan, grant=grant, rollover=rollover), balance)

    @rule(tier=paid_tiers)
    @counted
    def finish_on_the_portal(self, tier):
        """What the portal's own pages do to the plan (the control plane's plan edit): start a
        subscription (a fresh cycle with the tier's full grant), or, after a payment that needed
        the customer, move the plan to the tier (its cycle, credits and pending change kept)."""
        self.portal.edit_plan(self.ORG, tierId=tier)
        plan, chosen = self.model.plan, CATALOGUE[tier]
        self.model.set_plan(Plan(chosen, self.now, chosen.credits, Decimal(0)) if plan is None
                            else replace(plan, tier=chosen))
        self.reach("plan started" if plan is None else "plan moved on the portal")

    @rule(available=st.sampled_from([True, True, False]))
    @counted
    def switch_stripe(self, available):
        """Stripe up or down (mostly back up: down, plan changes and upgrades answer 503)."""
        self.portal.stripe(available)
        self.model.stripe_available = available

    @precondition(lambda self: self.model.plan is not None)
    @rule(moment=cycle_ends)
    @counted
    def move_to_cycle_end(self, moment):
        """To a second of the cycle's end (before, at, after), or several cycles on."""
        offset, cycles = moment
        seconds = self.model.plan.cycle_ends_at - self.now + offset + (cycles - 1) * CYCLE_SECONDS
        self._move(max(0, seconds))

    # -- the plan's routes --------------------------------------------------------------------------
    def tier(self, target: tuple[str, int]) -> str:
        """The tier a target names now: the n-th cheaper or dearer offered tier (any other
        when there is none), the current one, Free, the grandfathered one, or an unknown id."""
        kind, n = target
        current = self.model.plan.tier if self.model.plan else CATALOGUE[PLUS]
        offered = [t for t in CATALOGUE.values() if t.enabled and not t.is_free and t != current]
        candidates = {"dearer": [t.id for t in offered if t.price > current.price],
                      "cheaper": [t.id for t in offered if t.price < current.price],
                      "current": [current.id], "free": [FREE], "grandfathered": [PLUS_2025],
                      "unknown": [UNKNOWN_TIER]}[kind] or [t.id for t in offered]
        tier = candidates[n % len(candidates)]
        say(f"{kind} tier: {tier}")
        return tier

    def _preview(self, tier: str) -> dict | None:
        expected = self.model.expected_preview(tier, self.now)
        response = self.portal.preview(self.token, tier)
        body = response.json()
        if not isinstance(expected, dict):
            assert (response.status_code, body.get("error")) == (expected.status, expected.code), response.text
            self.reach(f"preview {expected.status} {expected.code}")
            return None
        assert response.status_code == 200, response.text
        self.reach(f"preview {expected['effect']}")
        body = {**body, "monthlyCreditsDelta": parse_money(body["monthlyCreditsDelta"])}
        assert {k: v for k, v in body.items() if k != "reason"} == \
            {k: v for k, v in expected.items() if k != "blocked"}
        reason = body["reason"]
        assert (isinstance(reason, str) and reason != "") if expected["blocked"] else reason is None, \
            f"a blocked preview says why in a sentence, any other has no reason: {body}"
        return body

    @rule(to=tier_targets)
    @counted
    def preview_plan_change(self, to):
        self._preview(self.tier(to))

    def _schedule(self, tier: str | None) -> None:
        verdict = self.model.expected_schedule(tier)
        response = self.portal.schedule(self.token, tier)
        body = response.json()
        what = "cancellation" if tier is None else "tier change"
        self.reach(f"schedule {what} {verdict.status}" + (f" {verdict.code}" if verdict.code else ""))
        assert response.status_code == verdict.status, response.text
        if verdict.code is not None:
            assert body["error"] == verdict.code
            return
        self.model.schedule(tier)
        plan = self.model.plan
        assert body["effectiveAt"] == iso(plan.cycle_ends_at)
        if tier is None:
            assert body["cancelAtPeriodEnd"] is True
        else:
            assert (body["targetTierId"], body["changeType"]) == \
                (tier, "lateral" if plan.pending.price == plan.tier.price else "downgrade")

    @rule(change=pending_changes)
    @counted
    def change_pending(self, change):
        """PUT a tier change at the cycle's end (a target tier) or a cancellation, or DELETE
        whatever is pending (resume)."""
        if change == "resume":
            self._resume()
        else:
            self._schedule(None if change == "cancellation" else self.tier(change))

    def _resume(self) -> None:
        verdict = self.model.expected_unschedule()
        response = self.portal.unschedule(self.token)
        assert response.status_code == verdict.status, response.text
        self.reach(f"resume {verdict.status}" + (f" {verdict.code}" if verdict.code else ""))
        if verdict.code is not None:
            assert response.json()["error"] == verdict.code
            return
        assert response.json()["cancelAtPeriodEnd"] is False
        self.model.unschedule()

    def _upgrade(self, key: str, tier: str, preview: dict | None = None) -> None:
        self.upgrades_sent.setdefault(key, tier)
        verdict = self.model.expected_upgrade(key, tier, self.now)
        response = self.portal.upgrade(self.token, tier, key)
        body = response.json()
        assert response.status_code == verdict.status, f"expected {verdict}: {response.text}"
        self.reach(f"upgrade {verdict.status} {verdict.code or 'card attempt'}")
        if verdict.code == "replay":
            assert (response.status_code, body) == self.answers[key], "a replay is not the stored answer"
            assert response.headers.get("Idempotent-Replayed") == "true"
            return
        assert "Idempotent-Replayed" not in response.headers
        if verdict.status != 200:
            assert body["error"] == verdict.code, response.text
            if verdict.code == "monthly_cap_exceeded":
                assert parse_money(body["remainingUsd"]) == self.model.headroom(self.now)
            return
        target = CATALOGUE[tier]
        named = {"targetTierId": target.id, "targetTierName": target.name}
        if verdict.code == ALREADY_ON_TIER:
            assert body == {"status": ALREADY_ON_TIER, **named, "amountChargedCents": 0}
            self.model.remember_upgrade(key, tier, self.now)
        else:
            known = {c.id for c in self.model.charges}
            status, reason = self.model.attempt_upgrade(key, tier, verdict.quote, self.now)
            if status == UPGRADED:
                assert body == {"status": UPGRADED, **named, "amountChargedCents": verdict.quote.cents}
                self._upgrade_was_charged(known, verdict.quote)
            else:
                assert body == {"status": status, "reason": reason, **named,
                                "recoveryUrl": f"{self.portal.base_url}/manage-subscription?org_id={self.ORG}"}
            self.card_attempts.append((key, self.now, body))
            if preview is not None and status == UPGRADED:
                assert body["amountChargedCents"] == preview["amountDueNowCents"], \
                    f"the preview at this instant quoted {preview['amountDueNowCents']} cents: {body}"
        if preview is not None:
            assert body["status"] in (UPGRADED, REQUIRES_ACTION, PAYMENT_FAILED), \
                f"the preview at this instant said charge_now; the upgrade answered {body}"
        self.answers[key] = (response.status_code, body)

    def _upgrade_was_charged(self, known: set[str], offer) -> None:
        """A paid upgrade is one settled charge of what it quoted (none when it quoted 0)."""
        new = [c for c in self.portal.org(self.ORG)["charges"] if c["id"] not in known]
        expected = [("upgrade", "settled", offer.amount)] if offer.cents else []
        assert [(c["source"], c["status"], parse_money(c["amountUsd"])) for c in new] == expected
        if new:
            self.model.record_upgrade_payment(new[0]["id"], offer, self.now)

    @rule(to=upgrade_targets, retry=st.sampled_from([None, "same", "another"]))
    @counted
    def upgrade(self, to, retry):
        """Preview, then upgrade at the same instant with a fresh key: the charge is the quote.
        Then, maybe, the client's retry with that key: for the same tier, or for another."""
        tier = self.tier(to)
        preview = self._preview(tier)
        charge_now = preview is not None and preview["amountDueNowCents"] is not None
        key = f"up-{next(self.upgrade_keys)}"
        self._upgrade(key, tier, preview if charge_now else None)
        if retry is not None:
            another = self.tier(("dearer", 1)) if tier == FREE else FREE
            self._upgrade(key, tier if retry == "same" else another)

    @rule(earlier=st.integers(0, 100), to=st.none() | tier_targets)
    @counted
    def reuse_upgrade_key(self, earlier, to):
        """An earlier key again, for its first tier (None) or another: a stored answer replays
        (a 409 for another tier); a refused one stored nothing, so it is tried afresh. With no
        key sent yet, this is a key's first use."""
        if not self.upgrades_sent:
            return self.upgrade(to=to or ("dearer", 0), retry=None)
        key = list(self.upgrades_sent)[earlier % len(self.upgrades_sent)]
        say(f"reusing {key}")
        self._upgrade(key, self.upgrades_sent[key] if to is None else self.tier(to))

    # -- the promises ------------------------------------------------------------------------------
    def check(self, state: dict, report: dict) -> None:
        super().check(state, report)
        model, plan = self.model, self.model.plan
        buckets = model.buckets(self.now)
        recorded = report["subscription"]
        assert (recorded is None) == (plan is None), f"the model's plan is {plan}, the portal's {recorded}"
        if plan is not None:
            assert (parse_money(recorded["creditsRemaining"]), parse_money(recorded["rolloverCredits"])) == \
                (buckets.grant, buckets.rollover)
        grant, rollover = self.subscription_from_records(report)
        assert (grant, rollover) == (buckets.grant, buckets.rollover), "G or R is not seed + credits - debits"
        assert len(report["upgradeAttempts"]) == len(model.upgrade_attempts)
        self._plan_is_shown(self.portal.subscription(self.token))
        assert named_fields(self.portal.account(self.token), model.account(self.now)) == model.account(self.now)

    def subscription_from_records(self, report: dict) -> tuple[Decimal, Decimal]:
        """G and R by conservation: seed + renewals, upgrades, edits and cancellations (the
        model's journal) - what each billed completion recorded taking from them."""
        grant = PAT_SEED.grant + sum(self.model.grant_journal, Decimal(0))
        rollover = PAT_SEED.rollover + sum(self.model.rollover_journal, Decimal(0))
        for record in report["completions"]:
            if record["outcome"] == "admitted":
                _, split = self.completions[record["id"]]
                on_grant = split is not None and split.debt_on_grant
                grant -= parse_money(record["fromGrantUsd"]) + (parse_money(record["debtUsd"]) if on_grant else 0)
                rollover -= parse_money(record["fromRolloverUsd"])
        return grant, rollover

    def _plan_is_shown(self, shown: dict) -> None:
        plan = self.model.plan
        assert shown["context"] == "personal"
        if plan is None:
            assert shown["current"] is None
        else:
            ends = iso(plan.cycle_ends_at)
            assert {**shown["current"], "monthlyCredits": parse_money(shown["current"]["monthlyCredits"]),
                    "creditsRemaining": parse_money(shown["current"]["creditsRemaining"])} == {
                "tierId": plan.tier.id, "tierName": plan.tier.name, "monthlyCredits": plan.tier.credits,
                "creditsRemaining": plan.grant + plan.rollover, "cycleEndsAt": ends,
                "pendingDowngradeTierName": plan.pending.name if plan.pending else None,
                "pendingDowngradeAt": ends if plan.pending else None,
                "cancelAtPeriodEnd": plan.cancel_at_period_end,
                "cancellationEffectiveAt": ends if plan.cancel_at_period_end else None}
        current = plan.tier.id if plan else FREE
        offered = [t for t in CATALOGUE.values() if t.enabled or t.id == current]
        assert [(t["tierId"], t["isCurrent"]) for t in shown["tiers"]] == [(t.id, t.id == current) for t in offered]


def named_fields(actual, expected):
    """`actual` cut down to the keys `expected` names, at every level."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        return {key: named_fields(actual.get(key), value) for key, value in expected.items()}
    return actual


# Outcomes every run reaches (the walkthroughs pin the rarer ones: a plan started again, an
# upgrade replayed after the card was removed, a 402).
PLAN_OUTCOMES = {"auto-reload charged", "chat 200 paid", "plan renewed", "plan renewed several cycles at once",
                 "plan ended", "preview charge_now", "preview scheduled", "upgrade 200 card attempt"}


def test_the_plan_follows_the_model(portal):
    run_machine(PlanMachine, portal, PLAN_OUTCOMES, weight=0.4, steps=2.5)


# About 5000 prompt tokens: 0.015 USD on Sonnet.
PAID_CHAT = ChatTurn("anthropic/claude-sonnet-5", [{"role": "user", "content": "x" * 20_000}], True, True, None)
# Fixed sequences that cross each boundary on every run: (steps, outcomes they must reach).
WALKTHROUGHS = {
    # Pro in debt with a pending downgrade: one second before the end nothing renews; then three
    # cycle ends at once move it to Basic and repay the debt from each new grant in turn.
    "debt repaid over several renewals": ([
        ("start_plan", {"start": (Plan(CATALOGUE[PRO], -29 * DAY, Decimal("-25"), Decimal("3"), CATALOGUE[BASIC]),
                                  Decimal("0"))}),
        ("move_to_cycle_end", {"moment": (-1, 1)}),
        ("move_to_cycle_end", {"moment": (0, 3)}),
    ], {"plan renewed several cycles at once"}),
    # Unused credits roll over up to the new tier's allowance: Plus with 20 + 5 left moves to
    # Basic (allowance 10) at the cycle's end, then renews as Basic.
    "unused credits roll over up to the allowance": ([
        ("start_plan", {"start": (Plan(CATALOGUE[PLUS], -20 * DAY, Decimal("20"), Decimal("5"), CATALOGUE[BASIC]),
                                  Decimal("5"))}),
        ("move_to_cycle_end", {"moment": (0, 1)}),
        ("move_to_cycle_end", {"moment": (3600, 1)}),
    ], {"plan renewed"}),
    # A completion overdraws a micro of credit (debt on G); a cancellation ends the plan and
    # the debt lands on P; with nothing usable a paid model answers 402; a new plan starts.
    "a cancelled plan in debt ends on P": ([
        ("start_plan", {"start": (Plan(CATALOGUE[PLUS], -10 * DAY, Decimal("0.000001"), Decimal("0")),
                                  Decimal("0.000002"))}),
        ("chat", {"turn": PAID_CHAT, "reply": {"content": "Hello"}}),
        ("change_pending", {"change": "cancellation"}),
        ("move_to_cycle_end", {"moment": (1, 1)}),
        ("chat", {"turn": PAID_CHAT, "reply": {"content": "Hello"}}),
        ("finish_on_the_portal", {"tier": BASIC}),
    ], {"plan ended", "chat 402 paid", "plan started"}),
    # Scheduling the current tier is refused; a pending downgrade, then an upgrade mid-cycle
    # charged what the preview quoted (which clears the downgrade); its retry and its replay after the card is gone are the stored
    # answer, the key for another tier is a 409, and a new key is refused for the card.
    "an upgrade quoted, paid and replayed": ([
        ("start_plan", {"start": (Plan(CATALOGUE[PLUS], -10 * DAY, Decimal("12.5"), Decimal("3")), Decimal("5"))}),
        ("change_pending", {"change": ("current", 0)}),
        ("change_pending", {"change": ("cheaper", 0)}),
        ("upgrade", {"to": ("dearer", 0), "retry": "same"}),
        ("change_card", {"last4": None}),
        ("reuse_upgrade_key", {"earlier": 0, "to": None}),
        ("reuse_upgrade_key", {"earlier": 0, "to": ("dearer", 0)}),
        ("upgrade", {"to": ("dearer", 0), "retry": None}),
    ], {"schedule tier change 422 subscription_mutation_rejected", "schedule tier change 200", "preview charge_now",
        "upgrade 200 card attempt", "upgrade 200 replay", "upgrade 409 idempotency_conflict",
        "upgrade 403 no_payment_method"}),
    # Proration at the rounding edge: with 648 s left, Plus to Pro is exactly half a cent
    # (charged 1 cent, half up); a second later Pro to Max is 1.4977 cents (charged 1). The
    # preview at each instant quotes what the upgrade then charges.
    "upgrades half a cent from rounding": ([
        ("start_plan", {"start": (Plan(CATALOGUE[PLUS], -(CYCLE_SECONDS - 648), Decimal("1"), Decimal("0")),
                                  Decimal("5"))}),
        ("upgrade", {"to": ("dearer", 0), "retry": None}),
        ("move_clock", {"seconds": 1}),
        ("upgrade", {"to": ("dearer", 0), "retry": None}),
    ], {"upgrade 200 card attempt", "preview charge_now"}),
    # Five declined card attempts use up the day: the preview says blocked, the upgrade is
    # refused until the next UTC midnight, then the card is tried again.
    "the day's five card attempts": ([
        ("start_plan", {"start": (Plan(CATALOGUE[BASIC], -DAY, Decimal("1"), Decimal("0")), Decimal("5"))}),
        ("change_card", {"last4": "0002"}),
        *[("upgrade", {"to": ("dearer", 0), "retry": None})] * 5,
        ("preview_plan_change", {"to": ("dearer", 0)}),
        ("upgrade", {"to": ("dearer", 0), "retry": None}),
        ("move_clock", {"seconds": DAY}),
        ("upgrade", {"to": ("dearer", 0), "retry": None}),
    ], {"preview blocked", "upgrade 429 upgrade_cap_exceeded"}),
    # With P already below the threshold, a completion paid from G alone (R untouched) reloads
    # nothing; the next one takes the rest of G, then R, then reaches P and reloads it.
    "auto-reload after inference reaches P": ([
        ("start_plan", {"start": (Plan(CATALOGUE[BASIC], -DAY, Decimal("0.02"), Decimal("0.001")), Decimal("11"))}),
        ("configure_auto_reload", {"rule_": AutoReload(True, Decimal("11.99"), Decimal("50"))}),
        ("chat", {"turn": PAID_CHAT, "reply": {"content": "Hello"}}),
        ("chat", {"turn": PAID_CHAT, "reply": {"content": "Hello"}}),
    ], {"chat debited P", "auto-reload charged"}),
}


@pytest.mark.parametrize(("steps", "outcomes"), WALKTHROUGHS.values(), ids=WALKTHROUGHS.keys())
def test_plan_walkthroughs(portal, steps, outcomes):
    walk(PlanMachine, portal, steps, outcomes)
