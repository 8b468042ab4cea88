"""Gate order: with any combination of failing preconditions, a money route answers the first
failing gate's code, in the contract's order.

`POST /api/billing/charge` (section 4, gates 1-12), on acme:
  token, scope, spending revoked, role, kill-switch, Idempotency-Key, body, replay of an
  accepted key, card, monthly cap, hourly rate limit; else accepted (202).
`POST /api/billing/subscription/upgrade` (section 7, steps 1-10), on pat:
  token, scope, spending revoked, role, kill-switch, Idempotency-Key, body, replay of an
  answered key, plan and target (422, or `already_on_tier`), card, monthly cap, the day's card
  attempts, Stripe; else the card is charged (200 `upgraded`).

Each example sets every chosen precondition up (spending first: the replayed key, the five
charges of the hour or the day's attempts; then the card, cap, switches, role, token), sends
one request and expects the first chosen gate's answer; a refusal moves no money. Every pair
of neighbouring gates is an explicit example, so a swap of two gates fails on every run.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import example, given, note, settings
from hypothesis import strategies as st

from contract.portal import bearer
from contract.profiles import examples
from contract.world import (ACME, BILLING_SCOPE, FREE, LOGIN_SCOPE, MAX, MEMBER, OWNER, PAT, PAT_OWNER, PLUS,
                            PLUS_2025, PRO, BASIC, UNKNOWN_TIER, world)

pytestmark = pytest.mark.control

COMMON_GATES = ("token", "scope", "spending revoked", "role", "kill-switch off", "no idempotency key", "bad body",
                "replay")
CHARGE_GATES = COMMON_GATES + ("no card", "over the monthly cap", "rate limited")
UPGRADE_GATES = COMMON_GATES + ("plan or target", "no card", "over the monthly cap", "daily attempts used",
                                "stripe off")
TOKEN_PROBLEMS = {"no token": None, "not a token": "Bearer not-a-token", "expired": "expired",
                  "session revoked": "revoked"}
# Bodies gate 7 / step 3 refuses with validation_failed.
BAD_CHARGE_BODIES = ('{"amountUsd": "10"}', "{}", '{"amountUsd": 10, "currency": "usd"}', '{"amountUsd": 0}',
                     '{"amountUsd": 10.001}', '{"amountUsd": true}')
BAD_UPGRADE_BODIES = ('{"subscriptionTypeId": ""}', "{}", '{"subscriptionTypeId": 40}',
                      '{"subscriptionTypeId": "nous-chat-plan-40", "plan": "pro"}', "[]")
# What is wrong with the plan or the target (pat is on Plus): the tier asked for.
PLAN_PROBLEMS = {"no plan": MAX, "already on it": PLUS, "cheaper": BASIC, "free": FREE, "grandfathered": PLUS_2025,
                 "unknown": UNKNOWN_TIER}
FIRST_REFUSALS = {"scope": (403, "insufficient_scope"), "spending revoked": (403, "remote_spending_revoked"),
                  "role": (403, "role_required"), "kill-switch off": (403, "cli_billing_disabled"),
                  "no idempotency key": (400, "idempotency_key_required"), "bad body": (400, "validation_failed"),
                  "no card": (403, "no_payment_method"), "over the monthly cap": (403, "monthly_cap_exceeded"),
                  "rate limited": (429, "rate_limited"), "daily attempts used": (429, "upgrade_cap_exceeded"),
                  "stripe off": (503, "stripe_unavailable")}


def first_failing(gates: tuple[str, ...], failing: frozenset[str]) -> str | None:
    return next((gate for gate in gates if gate in failing), None)


def request_token(portal, user: str, failing: frozenset[str], token_problem: str) -> dict[str, str]:
    """The Authorization header of a login with the chosen problems: MEMBER for `role`, no
    billing:manage for `scope`, its spending revoked, and (`token`) a broken bearer."""
    scope = LOGIN_SCOPE if "scope" in failing else BILLING_SCOPE
    expired = "token" in failing and token_problem == "expired"
    token = portal.token(user, scope, 60 if expired else 10**8)["access_token"]
    if "spending revoked" in failing:
        portal.revoke("spending", token, actor="admin")
    if "token" not in failing:
        return bearer(token)
    if token_problem == "expired":
        portal.advance(61)
        return bearer(token)
    if token_problem == "session revoked":
        portal.revoke("session", token)
        return bearer(token)
    return {} if token_problem == "no token" else {"Authorization": TOKEN_PROBLEMS[token_problem]}


def expected_refusal(gate: str, token_problem: str) -> tuple[int, str]:
    if gate == "token":
        return 401, "session_revoked" if token_problem == "session revoked" else "invalid_token"
    return FIRST_REFUSALS[gate]


def neighbours(gates: tuple[str, ...]) -> list[frozenset[str]]:
    """Every gate alone and with the next one, and none: the examples run on every run."""
    return [frozenset(), *(frozenset({gate}) for gate in gates),
            *(frozenset(pair) for pair in zip(gates, gates[1:]))]


def gate_sets(gates: tuple[str, ...]) -> st.SearchStrategy[frozenset[str]]:
    return st.frozensets(st.sampled_from(gates), max_size=len(gates))


token_problems = st.sampled_from(list(TOKEN_PROBLEMS))


def with_examples(gates: tuple[str, ...], **fixed):
    def decorate(test):
        for failing in neighbours(gates):
            test = example(failing=failing, **fixed)(test)
        return test
    return decorate


@settings(max_examples=examples(0.75))
@given(failing=gate_sets(CHARGE_GATES), token_problem=token_problems, bad_body=st.sampled_from(BAD_CHARGE_BODIES))
@with_examples(CHARGE_GATES, token_problem="not a token", bad_body=BAD_CHARGE_BODIES[0])
def test_a_charge_is_answered_by_its_first_failing_gate(portal, failing, token_problem, bad_body):
    note(f"failing: {sorted(failing, key=CHARGE_GATES.index)}; token: {token_problem}; body: {bad_body}")
    portal.reset(world())
    owner = portal.access_token(OWNER)
    accepted = 0
    if "replay" in failing:
        assert portal.charge(owner, "10", "gate-replay").status_code == 202
        accepted += 1
    while "rate limited" in failing and accepted < 5:
        assert portal.charge(owner, "10", f"gate-filler-{accepted}").status_code == 202
        accepted += 1
    changes = {"monthlyCapUsd": str(10 * accepted)} if "over the monthly cap" in failing else {}
    if "no card" in failing:
        changes["card"] = None
    if "kill-switch off" in failing:
        changes["cliBillingEnabled"] = False
    if changes:
        portal.edit_org(ACME, **changes)
    headers = request_token(portal, MEMBER if "role" in failing else OWNER, failing, token_problem)
    if "no idempotency key" not in failing:
        headers["Idempotency-Key"] = "gate-replay" if "replay" in failing else "gate-new"

    response = portal.api("POST", "/api/billing/charge", headers=headers,
                          body=bad_body if "bad body" in failing else '{"amountUsd": 10}')

    gate = first_failing(CHARGE_GATES, failing)
    charges = len(portal.org(ACME)["charges"])
    if gate is None:
        assert response.status_code == 202 and "Idempotent-Replayed" not in response.headers, response.text
        assert charges == accepted + 1
    elif gate == "replay":
        assert (response.status_code, response.headers.get("Idempotent-Replayed")) == (202, "true"), response.text
        assert charges == accepted
    else:
        assert (response.status_code, response.json()["error"]) == expected_refusal(gate, token_problem), \
            f"{gate} is the first failing gate: {response.text}"
        assert charges == accepted


@settings(max_examples=examples(0.75))
@given(failing=gate_sets(UPGRADE_GATES), token_problem=token_problems, bad_body=st.sampled_from(BAD_UPGRADE_BODIES),
       plan_problem=st.sampled_from(list(PLAN_PROBLEMS)))
@with_examples(UPGRADE_GATES, token_problem="expired", bad_body=BAD_UPGRADE_BODIES[0], plan_problem="cheaper")
@example(failing=frozenset({"plan or target", "no card"}), token_problem="expired", bad_body="{}",
         plan_problem="already on it")
@example(failing=frozenset({"replay", "plan or target", "no card"}), token_problem="expired", bad_body="{}",
         plan_problem="no plan")
def test_an_upgrade_is_answered_by_its_first_failing_step(portal, failing, token_problem, bad_body, plan_problem):
    """With a replay, the plan problem is always "no plan" (the key's tier is fixed): a stored
    answer replays even after the plan is gone."""
    if "replay" in failing:
        plan_problem = "no plan"
    note(f"failing: {sorted(failing, key=UPGRADE_GATES.index)}; token: {token_problem}; body: {bad_body}; "
         f"plan: {plan_problem}")
    portal.reset(world())
    owner = portal.access_token(PAT_OWNER)
    attempts = spent = 0
    if "replay" in failing:
        answered = portal.upgrade(owner, PRO, "gate-replay")
        assert answered.json()["status"] == "upgraded", answered.text
        attempts, spent = 1, answered.json()["amountChargedCents"]
    if "daily attempts used" in failing:
        portal.script_outcome(PAT, "fail", reason="card_declined", count=5 - attempts)
        while attempts < 5:
            assert portal.upgrade(owner, MAX, f"gate-filler-{attempts}").json()["status"] == "payment_failed"
            attempts += 1
    changes = {"monthlyCapUsd": str(Decimal(spent) / 100)} if "over the monthly cap" in failing else {}
    if "no card" in failing:
        changes["card"] = None
    if "kill-switch off" in failing:
        changes["cliBillingEnabled"] = False
    if "plan or target" in failing and plan_problem == "no plan":
        changes["subscription"] = None
    if changes:
        portal.edit_org(PAT, **changes)
    if "stripe off" in failing:
        portal.stripe(False)
    headers = request_token(portal, PAT_OWNER, failing, token_problem)
    if "role" in failing:
        portal.edit_user(PAT_OWNER, role="MEMBER")
    if "no idempotency key" not in failing:
        headers["Idempotency-Key"] = "gate-replay" if "replay" in failing else "gate-new"
    target = PRO if "replay" in failing else PLAN_PROBLEMS[plan_problem] if "plan or target" in failing else MAX
    body = bad_body if "bad body" in failing else f'{{"subscriptionTypeId": "{target}"}}'

    response = portal.api("POST", "/api/billing/subscription/upgrade", headers=headers, body=body)

    gate = first_failing(UPGRADE_GATES, failing)
    made = len(portal.org(PAT)["upgradeAttempts"])
    answer = response.json()
    if gate is None:
        assert (response.status_code, answer.get("status")) == (200, "upgraded"), response.text
        assert made == attempts + 1
        return
    assert made == attempts, "a refused or replayed upgrade made a card attempt"
    if gate == "replay":
        assert (response.status_code, answer["status"], response.headers.get("Idempotent-Replayed")) == \
            (200, "upgraded", "true"), response.text
    elif gate == "plan or target":
        expected = (200, "already_on_tier") if plan_problem == "already on it" else \
            (422, "subscription_mutation_rejected")
        assert (response.status_code, answer.get("status", answer.get("error"))) == expected, response.text
    else:
        assert (response.status_code, answer["error"]) == expected_refusal(gate, token_problem), \
            f"{gate} is the first failing step: {response.text}"
