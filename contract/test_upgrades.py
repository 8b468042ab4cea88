"""Upgrade idempotency (CONTRACT.md section 7, upgrade step 4, with section 4 gate 8's rules):
one card attempt and at most one charge per key, whatever else happens between its uses.

A key's first use that reaches the card stores the 200 answer (upgraded, requires_action,
payment_failed; also already_on_tier); any later use with the same tier replays it exactly
(same status, same body, `Idempotent-Replayed: true`) even after the card is gone or the plan
has changed, another tier is a 409, and a refusal stores nothing. Concurrent requests with one
key make exactly one attempt. The sequences run through the plan machine (contract/test_plans.py),
so every answer is also checked against the plain model and every promise after each step.
"""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import example, given, note, settings
from hypothesis import strategies as st

from contract.inference import ChatTerminal
from contract.model import KEY_TTL, UPGRADED, Outcome
from contract.profiles import examples
from contract.strategies import cards, idempotency_keys
from contract.test_plans import PlanMachine
from contract.world import BASIC, FREE, MAX, PAT, PAT_OWNER, PLUS, PRO, UNKNOWN_TIER, world

pytestmark = pytest.mark.control

# From Plus: dearer tiers (reach the card), the current one (already_on_tier), and refused ones.
upgrade_tiers = st.sampled_from([PRO, MAX, PLUS, BASIC, FREE, UNKNOWN_TIER])
card_outcomes = st.sampled_from([Outcome("fail", "card_declined"), Outcome("fail", "authentication_required"),
                                 Outcome("pending"), Outcome("settle")])
# A step is an upgrade with a key, a card change (None: removed), the next card outcome
# scripted, or time passing (a minute; a day, after which keys are forgotten and the daily
# attempt cap starts over).
upgrade_steps = st.lists(st.one_of(
    st.tuples(st.just("upgrade"), idempotency_keys, upgrade_tiers),
    st.tuples(st.just("upgrade"), idempotency_keys, upgrade_tiers),
    st.tuples(st.just("card"), cards),
    st.tuples(st.just("outcome"), card_outcomes),
    st.tuples(st.just("wait"), st.sampled_from([60, 86_400, 86_401])),
), min_size=1, max_size=14)


@pytest.fixture(scope="module")
def terminal(portal) -> ChatTerminal:
    return ChatTerminal(portal.base_url)


@settings(max_examples=examples(1))
@given(steps=upgrade_steps)
@example(steps=[("upgrade", "key-a", PRO), ("card", None), ("upgrade", "key-a", PRO), ("upgrade", "key-a", MAX),
                ("upgrade", "key-b", MAX)])
@example(steps=[("outcome", Outcome("fail", "card_declined")), ("upgrade", "key-a", PRO), ("upgrade", "key-a", PRO),
                ("upgrade", "key-b", PRO), ("upgrade", "key-a", MAX)])
@example(steps=[("card", None), ("upgrade", "key-a", PRO), ("card", "4242"), ("upgrade", "key-a", PRO),
                ("upgrade", "key-a", PRO)])
@example(steps=[("upgrade", "key-a", PLUS), ("upgrade", "key-a", PLUS), ("upgrade", "key-a", PRO),
                ("wait", 86_401), ("upgrade", "key-a", PRO)])
def test_an_upgrade_key_makes_one_card_attempt_and_replays_its_answer(portal, terminal, steps):
    note(f"steps: {steps}")
    machine = PlanMachine(portal, terminal)
    for step, *arguments in steps:
        if step == "upgrade":
            machine._upgrade(*arguments)
        elif step == "card":
            machine.change_card(last4=arguments[0])
        elif step == "outcome":
            machine.script_outcome(outcome=arguments[0])
        else:
            machine.move_clock(seconds=arguments[0])
        machine.the_portal_agrees_with_the_model()

    report = portal.org(PAT)
    assert len(report["upgradeAttempts"]) == len(machine.card_attempts)
    for (key, at, _), (other, later, _) in itertools.combinations(machine.card_attempts, 2):
        assert key != other or later - at >= KEY_TTL, f"{key} made two card attempts within a day"
    paid = [body for _, _, body in machine.card_attempts if body["status"] == UPGRADED and body["amountChargedCents"]]
    assert len([c for c in report["charges"] if c["source"] == "upgrade"]) == len(paid), "not one charge per paid key"


@settings(max_examples=examples(0.25))
@given(tiers=st.lists(st.sampled_from([PRO, PRO, PRO, MAX, PLUS]), min_size=2, max_size=8),
       outcome=st.none() | card_outcomes)
@example(tiers=[PRO] * 8, outcome=None)
def test_concurrent_upgrades_with_one_key_make_one_attempt(portal, tiers, outcome):
    """Requests racing with one key (mostly for one tier, some for another): one is answered
    first and stored; those for its tier replay it, the others are 409s; at most one attempt."""
    note(f"{len(tiers)} concurrent upgrades with one key to {tiers}; next card outcome {outcome}")
    portal.reset(world())
    token = portal.access_token(PAT_OWNER)
    if outcome is not None:
        portal.script_outcome(PAT, outcome.outcome, reason=outcome.reason)

    with ThreadPoolExecutor(len(tiers)) as pool:
        responses = list(pool.map(lambda tier: portal.upgrade(token, tier, "race-1"), tiers))

    first = [(tier, r) for tier, r in zip(tiers, responses) if "Idempotent-Replayed" not in r.headers
             and r.status_code == 200]
    assert len(first) == 1, f"{len(first)} answers were not replays: {[r.text for _, r in first]}"
    winner, original = first[0]
    for tier, response in zip(tiers, responses):
        if tier == winner:
            assert (response.status_code, response.json()) == (200, original.json())
        else:
            assert (response.status_code, response.json()["error"]) == (409, "idempotency_conflict")
    card_attempt = original.json()["status"] != "already_on_tier"
    assert len(portal.org(PAT)["upgradeAttempts"]) == int(card_attempt)


# A tier priced like Plus but with other credits: direction is decided by price (section 7).
PLUS_LATERAL = {"tierId": "nous-chat-plan-20-lateral", "name": "Plus Team", "tierOrder": 2,
                "dollarsPerMonthDisplay": "20", "monthlyCredits": "30", "isEnabled": True}


@settings(max_examples=examples(0.5))
@given(key=idempotency_keys, days_in=st.integers(min_value=0, max_value=29))
def test_a_same_price_tier_is_scheduled_for_the_cycle_end_never_charged_now(portal, key, days_in):
    """A price that is not higher is not an upgrade: the preview says `scheduled`, the upgrade
    route refuses it (422, nothing charged), and the pending change is `lateral`."""
    fixture = world()
    fixture["tiers"] = [*fixture["tiers"], PLUS_LATERAL]
    portal.reset(fixture)
    portal.advance(days_in * 86_400)
    token = portal.access_token(PAT_OWNER)
    lateral = PLUS_LATERAL["tierId"]
    preview = portal.preview(token, lateral).json()
    assert (preview["effect"], preview["amountDueNowCents"]) == ("scheduled", None), preview
    refused = portal.upgrade(token, lateral, key)
    assert (refused.status_code, refused.json()["error"]) == (422, "subscription_mutation_rejected"), refused.text
    assert [c for c in portal.org(PAT)["charges"] if c["source"] == "upgrade"] == []
    assert portal.org(PAT)["upgradeAttempts"] == []
    scheduled = portal.schedule(token, lateral).json()
    assert (scheduled["changeType"], scheduled["targetTierId"]) == ("lateral", lateral), scheduled
