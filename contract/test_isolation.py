"""Isolation: an org_acme token never learns anything about org_globex's charges, balance or card.

Whatever the rival org does (charges that settle, fail or stay pending, usage, idempotency
keys that acme also uses), acme's view is exactly what it was, a rival charge id reads
`{"status": "pending"}` and nothing the rival owns appears anywhere in acme's answers: not as a
field's value, not inside a sentence. A generated id (random hex) is compared whole, never
searched for the rival's digits, so acme's own `ch_...5454...` is not a leak.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from contract.portal import bearer
from contract.profiles import examples
from contract.strategies import clock_moves, idempotency_keys, small_amounts, usage_amounts
from contract.world import ACME, GLOBEX, RIVAL, RIVAL_SECRETS, SETTLE_AFTER_SECONDS, world

pytestmark = pytest.mark.control

scripted_outcomes = st.sampled_from([{"outcome": "settle"}, {"outcome": "pending"},
                                     {"outcome": "fail", "reason": "card_declined"},
                                     {"outcome": "fail", "reason": "authentication_required"}])
rival_activity = st.lists(st.one_of(
    st.tuples(st.just("charge"), idempotency_keys, small_amounts),
    st.tuples(st.just("script"), scripted_outcomes),
    st.tuples(st.just("usage"), usage_amounts),
    st.tuples(st.just("wait"), clock_moves),
), min_size=1, max_size=10)


# Ids the portal makes up from random (or hashed) hex: a rival's digits inside one mean nothing.
GENERATED_ID = re.compile(r"(ch_|chatcmpl-|gr_|did:privy:)[0-9a-f]+")


def field_values(answer: Any) -> Iterator[str]:
    """Every value in a JSON answer, as text."""
    if isinstance(answer, dict):
        for value in answer.values():
            yield from field_values(value)
    elif isinstance(answer, list):
        for value in answer:
            yield from field_values(value)
    elif answer is not None:
        yield str(answer)


def leaks(answer: Any, secrets: tuple[str, ...], rival_ids: set[str]) -> list[str]:
    """The rival's values an answer holds: a rival id as a whole value; any other secret as a
    value or inside one, except inside an id of our own."""
    found = []
    for value in field_values(answer):
        if value in rival_ids:
            found.append(value)
        elif not GENERATED_ID.fullmatch(value):
            found += [secret for secret in secrets if secret in value]
    return found


def acme_view(portal, token: str) -> dict:
    """Everything an acme owner can read that does not name a charge (the account's
    `effective_at_ms` is the instant it was read, so it is left out)."""
    account = portal.api("GET", "/api/oauth/account", headers=bearer(token))
    assert account.status_code == 200, account.text
    body = account.json()
    body["paid_service_access"].pop("effective_at_ms")
    return {"state": portal.state(token), "account": body}


@settings(max_examples=examples(1))
@given(activity=rival_activity, acme_key=idempotency_keys)
def test_an_org_learns_nothing_of_another_orgs_charges_balance_or_card(portal, activity, acme_key):
    note(f"rival activity: {activity}; acme's key: {acme_key}")
    portal.reset(world())
    acme, rival = portal.access_token(), portal.access_token(RIVAL)
    before = acme_view(portal, acme)
    rival_charges = []
    for step, *args in activity:
        if step == "charge":
            key, amount = args
            response = portal.charge(rival, format(amount, "f"), key=key)
            if response.status_code == 202:
                rival_charges.append((key, response.json()["chargeId"]))
        elif step == "script":
            portal.script_outcome(GLOBEX, **args[0])
        elif step == "usage":
            portal.debit_usage(GLOBEX, args[0])
        else:
            portal.advance(args[0])
    portal.advance(SETTLE_AFTER_SECONDS)  # let the rival's charges settle or fail first

    answers = [portal.charge_status(acme, charge_id) for _, charge_id in rival_charges]
    after = acme_view(portal, acme)
    # An idempotency key the rival used means nothing to acme: not a replay, not a conflict.
    own = portal.charge(acme, "10.01", key=acme_key)

    assert answers == [{"status": "pending"}] * len(rival_charges)
    assert (after["state"]["org"]["id"], after["account"]["organisation"]["id"]) == (ACME, ACME)
    assert after == before
    assert own.status_code == 202 and "Idempotent-Replayed" not in own.headers, own.text
    assert own.json()["chargeId"] not in {charge_id for _, charge_id in rival_charges}
    leaked = leaks([after, own.json()], RIVAL_SECRETS, {charge_id for _, charge_id in rival_charges})
    assert not leaked, f"acme's answers mention {leaked}"
