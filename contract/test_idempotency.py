"""Idempotency keys (gate 8): a replay returns the original charge, a changed amount is a
conflict, and only accepted charges are remembered (README "Contract choices").

The model of a submission's outcome follows the gates after 8: replay/conflict for a key
already accepted (gate 8 comes before gate 9, so a replay still replays after the card was
removed); else no card, then the monthly cap (1000 by default), then the rate limit (5 per
hour: the clock does not move here), else a new charge.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from hypothesis import example, given, note, settings
from hypothesis import strategies as st

from contract.profiles import examples
from contract.strategies import idempotency_keys, spellings
from contract.world import ACME, world

pytestmark = pytest.mark.control

CAP = Decimal(1000)
RATE_LIMIT = 5
# A few amounts, one of which (1500) no fresh month can take, so refusals happen too.
charge_amounts = st.sampled_from([Decimal(10), Decimal(25), Decimal("25.5"), Decimal(400), Decimal(1500)])


@st.composite
def submissions(draw) -> list[tuple[str, str | None]]:
    """(Idempotency-Key, amount literal) pairs, keys and amounts repeating, spelled differently;
    and, between them, ("card", None) the card removed or ("card", "4242") one saved again."""
    charge = st.tuples(idempotency_keys, charge_amounts)
    card = st.tuples(st.just("card"), st.sampled_from([None, "4242"]))
    plan = draw(st.lists(st.one_of(charge, charge, card), min_size=1, max_size=12))
    return [step if step[0] == "card" else (step[0], draw(spellings(step[1]))) for step in plan]


@settings(max_examples=examples(1))
@given(submissions=submissions())
@example(submissions=[("key-a", "1500"), ("key-a", "10"), ("key-a", "1e1"), ("key-a", "25")])
@example(submissions=[(f"key-{k}", "10") for k in "abcdef"] + [("key-a", "10.00"), ("key-f", "10")])
@example(submissions=[("key-a", "25"), ("card", None), ("key-a", "25.0"), ("key-a", "10"), ("key-b", "25"),
                      ("card", "4242"), ("key-b", "25")])
def test_charges_equal_distinct_keys_with_an_accepted_use(portal, submissions):
    note(f"submissions (key, amount): {submissions}")
    portal.reset(world())
    token = portal.access_token()
    accepted: dict[str, tuple[Decimal, str]] = {}  # key -> (amount, chargeId)
    spent = Decimal(0)
    card = True

    for key, literal in submissions:
        if key == "card":
            portal.edit_org(ACME, card=literal and {"brand": "visa", "last4": literal})
            card = literal is not None
            continue
        amount = Decimal(literal)
        response = portal.charge(token, literal, key=key)
        body = response.json()
        if key in accepted and accepted[key][0] == amount:
            assert response.status_code == 202, f"replay of {key} {literal}: {response.text}"
            assert body["chargeId"] == accepted[key][1], f"replay of {key} returned another charge"
            assert response.headers.get("Idempotent-Replayed") == "true"
        elif key in accepted:
            assert (response.status_code, body.get("error")) == (409, "idempotency_conflict"), \
                f"{key} reused with {literal} after {accepted[key][0]}: {response.text}"
        elif not card:
            assert (response.status_code, body.get("error")) == (403, "no_payment_method"), response.text
        elif amount > CAP - spent:
            assert (response.status_code, body.get("error")) == (403, "monthly_cap_exceeded"), response.text
        elif len(accepted) >= RATE_LIMIT:
            assert (response.status_code, body.get("error")) == (429, "rate_limited"), response.text
        else:
            assert response.status_code == 202, f"first accepted use of {key} {literal}: {response.text}"
            assert "Idempotent-Replayed" not in response.headers
            assert body["chargeId"] not in {charge_id for _, charge_id in accepted.values()}
            accepted[key] = (amount, body["chargeId"])
            spent += amount

    charges = portal.org(ACME)["charges"]
    assert sorted(c["id"] for c in charges) == sorted(charge_id for _, charge_id in accepted.values())


@settings(max_examples=examples(0.25))
@given(key=idempotency_keys, amount=charge_amounts.filter(lambda a: a <= CAP),
       racers=st.integers(2, 8))
def test_concurrent_submissions_with_one_key_make_one_charge(portal, key, amount, racers):
    note(f"{racers} concurrent submissions of {key} for {amount}")
    portal.reset(world())
    token = portal.access_token()
    literal = format(amount, "f")

    with ThreadPoolExecutor(racers) as pool:
        responses = list(pool.map(lambda _: portal.charge(token, literal, key=key), range(racers)))

    assert [r.status_code for r in responses] == [202] * racers
    assert len({r.json()["chargeId"] for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == racers - 1
    assert len(portal.org(ACME)["charges"]) == 1


KEY_TTL_SECONDS = 24 * 3600


@settings(max_examples=examples(0.5))
@given(key=idempotency_keys, kept=st.integers(min_value=1, max_value=KEY_TTL_SECONDS - 1),
       gone=st.integers(min_value=0, max_value=3 * 86400))
@example(key="key-a", kept=KEY_TTL_SECONDS - 1, gone=0)
def test_a_key_is_remembered_for_24_hours_and_then_is_new(portal, key, kept, gone):
    """Keys are kept 24 h (gate 8): within them the same key replays; from then on it is a new
    purchase (its own charge, no `Idempotent-Replayed`)."""
    portal.reset(world())
    token = portal.access_token()
    first = portal.charge(token, "10", key)
    assert first.status_code == 202, first.text
    portal.advance(kept)
    replay = portal.charge(token, "10", key)
    assert replay.headers.get("Idempotent-Replayed") == "true" and replay.json() == first.json(), \
        f"{kept} s later the key was not remembered"
    portal.advance(KEY_TTL_SECONDS - kept + gone)
    fresh = portal.charge(token, "10", key)
    assert fresh.status_code == 202 and "Idempotent-Replayed" not in fresh.headers, fresh.text
    assert fresh.json()["chargeId"] != first.json()["chargeId"]
