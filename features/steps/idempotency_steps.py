"""Idempotency keys at work: a lost answer retried, and two copies of one purchase at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from behave import then, when

from steps.support.scene import she
from steps.support.terminal import Terminal


@then("the portal accepted her first purchase request before its answer was lost")
def step_the_portal_accepted_her_first_request_before_its_answer_was_lost(context):
    first = she(context).wire.to("POST", "/api/billing/charge")[0]
    assert first.lost and first.status == 202, (first.status, first.body, first.lost)


@then("her terminal sent the purchase again with the same idempotency key")
def step_her_terminal_sent_the_purchase_again_with_the_same_key(context):
    submits = she(context).wire.to("POST", "/api/billing/charge")
    keys = [e.request_headers["Idempotency-Key"] for e in submits]
    assert len(keys) == 2 and keys[0] == keys[1], keys


@then("the portal answered the retry as a replay of the same charge")
def step_the_portal_answered_the_retry_as_a_replay(context):
    first, retry = she(context).wire.to("POST", "/api/billing/charge")
    assert retry.headers.get("Idempotent-Replayed") == "true", retry.headers
    assert (retry.status, retry.body) == (first.status, first.body), (retry.body, first.body)


@when('her terminal sends the same purchase of {amount:Money} twice at once with purchase key "{key}"')
def step_her_terminal_sends_the_same_purchase_twice_at_once(context, amount, key):
    """Two connections of her login, released together, so the portal sees both in flight."""
    person = she(context).person
    copies = [Terminal(person, context.base_url, context.home, context.time) for _ in range(2)]
    start = threading.Barrier(len(copies))

    def send(terminal: Terminal):
        start.wait()
        return terminal.api.charge(amount, key)

    try:
        with ThreadPoolExecutor(len(copies)) as pool:
            context.submitted = list(pool.map(send, copies))
    finally:
        for terminal in copies:
            terminal.close()


@then("both answers name the same charge")
def step_both_answers_name_the_same_charge(context):
    ids = {submitted.charge_id for submitted in context.submitted}
    assert len(ids) == 1, f"two charges were created: {ids}"
