"""Inference and metering (CONTRACT.md sections 9 and 10), as the Hermes agent sees them.

- For any credits a personal org can hold (a paid, free or no plan; G, R and P of any sign,
  down to a micro), a chat completion's `x-nous-credits-*` headers pass the agent's own
  parser, say what the buckets say, and agree with `/api/oauth/account` read at the same
  instant; with nothing usable a paid model answers 402 `no_usable_credits` while the account
  says `allowed: false`, and a free model still answers. The reply reaches the OpenAI SDK
  intact (content, reasoning, tool calls with their arguments joined, finish reason), and the
  usage it reports is exactly what is billed.
- For any sequence of bursts, large prompts and waits, the twelve `x-ratelimit-*` headers on
  every 200 and 429 are the fixed windows' counts, and a 429's `Retry-After` is the longest
  reset among the exhausted windows; requests refused at gates 3 and 4 count too.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import example, given, note, settings
from hypothesis import strategies as st

from client.money import parse_money
from contract.inference import (ChatTerminal, delivered_message, parse_credits_headers, rate_limit_values,
                                scripted_message)
from contract.model import AutoReload, InferenceWindows, OrgModel, Plan, completion_tokens, cost, prompt_tokens
from contract.portal import bearer
from contract.profiles import examples
from contract.strategies import ChatTurn, chat_turns, scripted_replies
from contract.test_stateful import assert_headers_agree_with_account
from contract.world import (BASIC, CATALOGUE, FREE, FREE_MODEL, MAX, MODELS, PAT, PAT_OWNER, PLUS, PLUS_2025, PRICES,
                            SETTLE_AFTER_SECONDS, world)

pytestmark = pytest.mark.control

# Amounts a bucket can hold: zero, a micro either side, just under a cent, debt, plenty.
bucket_amounts = st.one_of(
    st.sampled_from(["0", "0.000001", "-0.000001", "0.004999", "-0.005", "0.01", "12.5", "-25"]).map(Decimal),
    st.integers(-50_000_000, 50_000_000).map(lambda micros: Decimal(micros).scaleb(-6)))
plan_tiers = st.sampled_from([PLUS, None, BASIC, MAX, PLUS_2025, FREE])


@st.composite
def credit_holdings(draw) -> tuple[str | None, Decimal, Decimal, Decimal]:
    """(the plan's tier or None, G, R, P): with no plan G and R are 0; R is never negative."""
    tier = draw(plan_tiers)
    grant, rollover = (draw(bucket_amounts), abs(draw(bucket_amounts))) if tier else (Decimal(0), Decimal(0))
    return tier, grant, rollover, draw(bucket_amounts)


@pytest.fixture(scope="module")
def terminal(portal) -> ChatTerminal:
    return ChatTerminal(portal.base_url)


def holding(portal, tier: str | None, grant: Decimal, rollover: Decimal, purchased: Decimal) -> OrgModel:
    """Put pat in this state (its cycle starting now) and return the model of it."""
    portal.reset(world())
    subscription = None if tier is None else {"tierId": tier, "creditsRemaining": str(grant),
                                              "rolloverCredits": str(rollover)}
    portal.edit_org(PAT, balanceUsd=str(purchased), subscription=subscription)
    now = portal.now()
    return OrgModel(seed_balance=purchased, card_last4="4242", billing_enabled=True, cap_limit=None,
                    auto_reload=AutoReload(False, Decimal(20), Decimal(100)), settle_after=SETTLE_AFTER_SECONDS,
                    catalogue=CATALOGUE, plan=None if tier is None else Plan(CATALOGUE[tier], now, grant, rollover))


SONNET = "anthropic/claude-sonnet-5"
HELLO = ChatTurn(SONNET, [{"role": "user", "content": "Hello"}], True, True, None)


@settings(max_examples=examples(1))
@given(holdings=credit_holdings(), turn=chat_turns(), reply=scripted_replies)
@example(holdings=(PLUS, Decimal(0), Decimal(0), Decimal(0)), turn=HELLO, reply={"content": "Hi"})
@example(holdings=(PLUS, Decimal("-0.5"), Decimal("0.5"), Decimal(0)), turn=HELLO, reply={"content": "Hi"})
@example(holdings=(None, Decimal(0), Decimal(0), Decimal("-0.000001")),
         turn=ChatTurn(FREE_MODEL, [{"role": "user", "content": "Hi"}], False, False, None), reply={"content": "Hi"})
@example(holdings=(PLUS, Decimal("-2"), Decimal("1"), Decimal("0.000001")), turn=HELLO, reply={"content": "Hi"})
@example(holdings=(FREE, Decimal("0.004999"), Decimal(0), Decimal("-0.005")), turn=HELLO, reply={"content": "Hi"})
@example(holdings=(MAX, Decimal("12.5"), Decimal("3"), Decimal("5")),
         turn=ChatTurn(SONNET, [{"role": "user", "content": "Run it"}], True, True, None),
         reply={"content": "", "reasoning": "Listing first.",
                "toolCalls": [{"name": "terminal", "arguments": '{"command": "ls -la /tmp/some/long/path"}'},
                              {"name": "read_file", "arguments": '{"path": "README.md"'}]})
def test_a_completion_tells_the_client_what_the_account_says_and_bills_its_usage(portal, terminal, holdings, turn,
                                                                                   reply):
    note(f"plan, G, R, P: {holdings}; {turn}; reply {reply}")
    model = holding(portal, *holdings)
    token = portal.access_token(PAT_OWNER)
    now = portal.now()
    account = portal.account(token)
    priced = PRICES[turn.model]
    refused = not priced.is_free and not model.buckets(now).allowed
    if not refused:
        portal.replies(PAT, reply)

    result = terminal.complete(token, turn.model, turn.messages, stream=turn.stream,
                               include_usage=turn.include_usage, tools=turn.tools)

    assert account["paid_service_access"]["allowed"] is model.buckets(now).allowed
    report = portal.org(PAT)
    if refused:
        assert (result.status, result.error["code"]) == (402, "no_usable_credits"), result.error
        assert all(c["outcome"] == "refused" and c["costUsd"] == "0" for c in report["completions"])
        return
    assert result.status == 200, result.error
    credits = parse_credits_headers(result.headers)
    assert credits is not None, f"the agent would drop these headers: {dict(result.headers)}"
    assert credits == model.credits_headers(now)
    assert_headers_agree_with_account(credits, account)
    prompt, completion = prompt_tokens(result.body_bytes), completion_tokens(reply)
    windows = InferenceWindows([(now, prompt + completion)])
    assert rate_limit_values(result.headers) == windows.headers(now)
    assert delivered_message(result, streamed=turn.stream) == scripted_message(reply, streamed=turn.stream)
    usage_sent = not turn.stream or turn.include_usage
    assert result.usage == ((prompt, completion, prompt + completion) if usage_sent else None)
    [billed] = report["completions"]
    assert (billed["promptTokens"], billed["completionTokens"]) == (prompt, completion), "usage is not what is billed"
    assert parse_money(billed["costUsd"]) == (0 if priced.is_free else cost(priced, prompt, completion))


# -- rate windows ---------------------------------------------------------------------------------
# A step: a burst of small requests, one large prompt (about 250 000 or 1 000 000 tokens), or a wait.
window_steps = st.lists(st.one_of(
    st.tuples(st.just("burst"), st.sampled_from([1, 5, 30, 61])),
    st.tuples(st.just("large prompt"), st.sampled_from([250_000, 1_000_000])),
    st.tuples(st.just("wait"), st.sampled_from([1, 30, 59, 60, 61, 3599, 3600])),
), min_size=1, max_size=6)


def small_body() -> str:
    return json.dumps({"model": FREE_MODEL, "messages": [{"role": "user", "content": "ping"}]})


def large_body(tokens: int) -> str:
    padding = "x" * (tokens * 4 - len(small_body()))
    return json.dumps({"model": FREE_MODEL, "messages": [{"role": "user", "content": "ping" + padding}]})


@settings(max_examples=examples(0.2))
@given(steps=window_steps)
@example(steps=[("burst", 61), ("wait", 59), ("burst", 1), ("wait", 1), ("burst", 1)])
@example(steps=[("large prompt", 1_000_000), ("burst", 1), ("wait", 60), ("burst", 1)])
# The hour's 10 million tokens used up a minute at a time: the 429 waits for the hour's window,
# the longest reset of the exhausted ones, not the minute's.
@example(steps=[("large prompt", 1_000_000), ("wait", 60)] * 10 + [("burst", 1)])
def test_rate_limit_headers_count_the_fixed_windows(portal, steps):
    """Free-model completions (no credits involved): each 200 and 429 carries the twelve
    headers of the model's windows, counted after an admitted request; a 429 counts nothing."""
    note(f"steps: {steps}")
    portal.reset(world())
    token = portal.access_token(PAT_OWNER)
    now = portal.now()
    windows = InferenceWindows()
    for step, argument in steps:
        if step == "wait":
            now = portal.advance(argument)
            continue
        bodies = [small_body()] * argument if step == "burst" else [large_body(argument)]
        for body in bodies:
            response = portal.api("POST", "/v1/chat/completions", headers=bearer(token), body=body)
            wait = windows.retry_after(now)
            if wait is None:
                assert response.status_code == 200, response.text
                usage = response.json()["usage"]
                windows.counted.append((now, usage["total_tokens"]))
                assert usage["prompt_tokens"] == prompt_tokens(len(body.encode()))
            else:
                assert (response.status_code, response.json()["error"]["code"]) == (429, "rate_limited"), response.text
                assert int(response.headers["Retry-After"]) == wait
            assert rate_limit_values(response.headers) == windows.headers(now)


def test_every_authenticated_request_counts_against_the_request_windows(portal):
    """Gate 5 counts every authenticated request, refused or not (a 429 aside): a bad body (400)
    and an unknown model (404) show in the next admitted request's `x-ratelimit-remaining-*`."""
    portal.reset(world())
    headers = bearer(portal.access_token(PAT_OWNER))
    refused = [json.dumps({"model": FREE_MODEL}), json.dumps({"model": "nobody/no-model", "messages": [{}]})]
    for body in refused:
        assert portal.api("POST", "/v1/chat/completions", headers=headers, body=body).status_code in (400, 404)
    admitted = portal.api("POST", "/v1/chat/completions", headers=headers, body=small_body())
    assert admitted.status_code == 200, admitted.text
    assert int(admitted.headers["x-ratelimit-remaining-requests"]) == 60 - len(refused) - 1
    assert int(admitted.headers["x-ratelimit-remaining-requests-1h"]) == 1000 - len(refused) - 1


@pytest.mark.parametrize("path", ["/v1/models", "/models"])
@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token"])
def test_the_model_catalogue_is_public_and_lists_each_models_context_and_prices(portal, path, authorization):
    """`GET /v1/models` (and `/models`) answers 200 whatever the Authorization, listing each
    model of the catalogue with its name, integer `context_length` and per-token prices as
    decimal strings; `owned_by` is never "llamacpp"."""
    portal.reset(world())
    response = portal.api("GET", path, headers={"Authorization": authorization} if authorization else {})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["object"] == "list"
    listed = {m["id"]: {"name": m["name"], "context_length": m["context_length"],
                        "pricing": {k: m["pricing"][k] for k in ("prompt", "completion")}}
              for m in body["data"]}
    assert listed == {m["id"]: {k: m[k] for k in ("name", "context_length", "pricing")} for m in MODELS}
    assert all(m["object"] == "model" and m["owned_by"] != "llamacpp" for m in body["data"])
