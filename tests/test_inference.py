"""The inference API's rules (CONTRACT.md sections 9 and 10): gates in order, metering by bytes,
cost in micros, the debit order and debt, rate windows, credits headers, the journal."""

from __future__ import annotations

import json
import math
from decimal import Decimal

import pytest

from mockportal.testing import DEMO_PLAN_ORG, DEMO_PLAN_OWNER

SONNET = "anthropic/claude-sonnet-5"  # 0.000003 / 0.000015 per token
FREE = "nvidia/nemotron-3-super-120b-a12b:free"
INVOKE = "inference:invoke"


def chat_body(model: str = SONNET, *, size: int | None = None, stream: bool = False, **extra) -> bytes:
    """A chat request of exactly `size` bytes (padding the user message)."""
    body = {"model": model, "messages": [{"role": "user", "content": ""}], "stream": stream, **extra}
    raw = json.dumps(body).encode()
    if size is not None:
        body["messages"][0]["content"] = "x" * (size - len(raw))
        raw = json.dumps(body).encode()
        assert len(raw) == size
    return raw


@pytest.fixture
def pat(portal):
    return portal.bearer(DEMO_PLAN_OWNER, INVOKE)


def chat(portal, headers, raw: bytes):
    return portal.client.post("/v1/chat/completions", data=raw, headers=headers, content_type="application/json")


def buckets(portal, org=DEMO_PLAN_ORG) -> tuple[Decimal, Decimal, Decimal]:
    report = portal.org(org)
    plan = report["subscription"] or {"creditsRemaining": "0", "rolloverCredits": "0"}
    return Decimal(plan["creditsRemaining"]), Decimal(plan["rolloverCredits"]), Decimal(report["balanceUsd"])


def test_the_worked_example_bills_exactly_usage_times_price(portal, pat):
    portal.replies(DEMO_PLAN_ORG, {"content": "Hello"})
    answer = chat(portal, pat, chat_body(size=41_000))
    assert answer.status_code == 200
    assert answer.json["usage"] == {"prompt_tokens": 10250, "completion_tokens": 2, "total_tokens": 10252}
    assert answer.json["choices"][0]["message"] == {"role": "assistant", "content": "Hello"}
    assert buckets(portal) == (Decimal("12.46922"), Decimal("3"), Decimal("5"))
    assert portal.journal(method="POST", path_prefix="/v1/chat")[-1]["costUsd"] == "0.03078"


@pytest.mark.parametrize("size, prompt_tokens", [(105, 27), (108, 27), (109, 28)])
def test_prompt_tokens_are_the_body_bytes_over_four_rounded_up(portal, pat, size, prompt_tokens):
    assert chat(portal, pat, chat_body(size=size)).json["usage"]["prompt_tokens"] == prompt_tokens


def test_completion_tokens_count_content_reasoning_and_tool_calls_in_utf8_bytes(portal, pat):
    arguments = '{"command": "ls"}'  # 17 bytes; "terminal" 8; "é" 2 bytes; reasoning 3
    portal.replies(DEMO_PLAN_ORG, {"content": "é", "reasoning": "why",
                                   "toolCalls": [{"name": "terminal", "arguments": arguments}]})
    usage = chat(portal, pat, chat_body()).json["usage"]
    assert usage["completion_tokens"] == math.ceil((2 + 3 + 8 + 17) / 4)


def test_an_empty_reply_still_costs_one_completion_token(portal, pat):
    portal.replies(DEMO_PLAN_ORG, {"content": ""})
    assert chat(portal, pat, chat_body()).json["usage"]["completion_tokens"] == 1


def test_cost_is_rounded_up_to_a_whole_micro(portal, pat):
    portal.replies(DEMO_PLAN_ORG, {"content": "Hi"})  # 1 completion token
    mini = "openai/gpt-5.4-mini"  # 0.00000025 per prompt token: 105 bytes = 27 tokens = 6.75 micros
    chat(portal, pat, chat_body(mini, size=105))
    completion = portal.org(DEMO_PLAN_ORG)["completions"][-1]
    assert completion["costUsd"] == "0.000009"  # 6.75 + 2 = 8.75 micros, rounded up


def test_grant_then_rollover_then_purchased_pay_and_the_rest_is_debt_on_the_grant(portal, pat):
    portal.edit_plan(creditsRemaining="0.01", rolloverCredits="0.01")
    portal.edit_org(DEMO_PLAN_ORG, balanceUsd="0.01")
    portal.replies(DEMO_PLAN_ORG, {"content": "Hello"})
    chat(portal, pat, chat_body(size=41_000))  # costs 0.03078
    grant, rollover, purchased = buckets(portal)
    assert (rollover, purchased) == (Decimal(0), Decimal(0))
    assert grant == Decimal("-0.00078")  # a paid plan carries the debt
    completion = portal.org(DEMO_PLAN_ORG)["completions"][-1]
    assert (completion["fromGrantUsd"], completion["fromRolloverUsd"], completion["fromPurchasedUsd"],
            completion["debtUsd"]) == ("0.01", "0.01", "0.01", "0.00078")


def test_without_a_plan_the_debt_goes_on_the_purchased_balance(portal):
    portal.edit_org("org_acme", balanceUsd="0.01")
    headers = portal.bearer("owner@acme.test", INVOKE)
    portal.replies("org_acme", {"content": "Hello"})
    chat(portal, headers, chat_body(size=41_000))
    assert Decimal(portal.org("org_acme")["balanceUsd"]) == Decimal("-0.02078")


def test_no_usable_credits_is_402_and_the_account_says_not_allowed(portal, pat):
    portal.edit_plan(creditsRemaining="0", rolloverCredits="0")
    portal.edit_org(DEMO_PLAN_ORG, balanceUsd="0")
    refused = chat(portal, pat, chat_body())
    assert refused.status_code == 402
    assert refused.json["error"]["code"] == "no_usable_credits"
    assert refused.json["error"]["type"] == "insufficient_credits"
    message = refused.json["error"]["message"].lower()
    assert not (any(w in message for w in ("quota", "usage limit", "limit exceeded"))
                and any(w in message for w in ("try again", "retry", "wait", "window", "resets at")))
    access = portal.client.get("/api/oauth/account", headers=pat).json["paid_service_access"]
    assert (access["allowed"], access["reason"], access["total_usable_credits"]) == (False, "no_usable_credits", 0)
    assert portal.org(DEMO_PLAN_ORG)["completions"][-1]["outcome"] == "refused"


def test_a_free_model_answers_with_no_credits_and_costs_nothing(portal, pat):
    portal.edit_plan(creditsRemaining="0", rolloverCredits="0")
    portal.edit_org(DEMO_PLAN_ORG, balanceUsd="0")
    assert chat(portal, pat, chat_body(FREE)).status_code == 200
    assert buckets(portal) == (Decimal(0), Decimal(0), Decimal(0))


def test_debt_is_repaid_first_at_renewal(portal, pat):
    portal.edit_plan(creditsRemaining="-2", rolloverCredits="0")
    portal.advance(20 * 86400)  # the cycle ends
    grant, rollover, _ = buckets(portal)
    assert (grant, rollover) == (Decimal("20"), Decimal(0))  # 22 credits less the 2 owed


def test_a_debit_that_takes_the_purchased_balance_below_the_threshold_reloads(portal):
    portal.edit_org("org_acme", balanceUsd="20.01")
    headers = portal.bearer("owner@acme.test", "inference:invoke tool:invoke billing:manage")
    portal.client.patch("/api/billing/auto-top-up", headers=headers,
                        json={"enabled": True, "threshold": 20, "topUpAmount": 100})
    portal.replies("org_acme", {"content": "Hello"})
    chat(portal, headers, chat_body(size=41_000))  # 0.03078: P 20.01 -> 19.97922
    reloads = [c for c in portal.org("org_acme")["charges"] if c["source"] == "auto_reload"]
    assert [c["amountUsd"] for c in reloads] == ["80.03"]  # up to 100, rounded up to the cent


def test_a_debit_paid_by_the_plan_alone_never_reloads(portal, pat):
    portal.edit_org(DEMO_PLAN_ORG, balanceUsd="1", autoReloadCard={"brand": "visa", "last4": "4242"})
    owner = portal.bearer(DEMO_PLAN_OWNER, "inference:invoke billing:manage")
    portal.client.patch("/api/billing/auto-top-up", headers=owner,
                        json={"enabled": True, "threshold": 20, "topUpAmount": 100})
    chat(portal, pat, chat_body())
    assert [c for c in portal.org(DEMO_PLAN_ORG)["charges"] if c["source"] == "auto_reload"] == []


def test_gates_run_in_order_scope_body_model_then_credits(portal):
    no_invoke = portal.bearer(DEMO_PLAN_OWNER, "tool:invoke")
    invoke = portal.bearer(DEMO_PLAN_OWNER, INVOKE)
    assert chat(portal, {}, b"{}").status_code == 401
    assert chat(portal, no_invoke, b"not json").json["error"]["code"] == "insufficient_scope"
    assert chat(portal, invoke, json.dumps({"model": "nope", "messages": []}).encode()).status_code == 400
    missing = chat(portal, invoke, chat_body("nope/nope"))
    assert missing.status_code == 404 and "not found" in missing.json["error"]["message"]
    portal.edit_plan(creditsRemaining="0", rolloverCredits="0")
    portal.edit_org(DEMO_PLAN_ORG, balanceUsd="0")
    assert chat(portal, invoke, chat_body("nope/nope")).status_code == 404  # the model before credits


def test_unknown_keys_are_ignored_and_the_developer_role_is_accepted(portal, pat):
    raw = json.dumps({"model": SONNET, "messages": [{"role": "developer", "content": "be brief"}],
                      "tools": [{"type": "function"}], "tags": ["product=hermes-agent"], "anything": 1}).encode()
    assert chat(portal, pat, raw).status_code == 200


def test_a_body_over_64_kib_is_fine_and_one_over_8_mib_is_413(portal, pat):
    assert chat(portal, pat, chat_body(size=200_000)).status_code == 200
    too_big = chat(portal, pat, chat_body(size=8 * 1024 * 1024 + 1))
    assert too_big.status_code == 413 and too_big.json["error"]["code"] == "payload_too_large"


def test_sixty_requests_a_minute_then_429_with_every_rate_header(portal, pat):
    for _ in range(60):
        assert chat(portal, pat, chat_body(FREE)).status_code == 200
    refused = chat(portal, pat, chat_body(FREE))
    assert refused.status_code == 429 and refused.json["error"]["code"] == "rate_limited"
    assert refused.headers["x-ratelimit-remaining-requests"] == "0"
    assert refused.headers["Retry-After"] == refused.headers["x-ratelimit-reset-requests"] == "60"
    names = [f"x-ratelimit-{part}-{bucket}" for part in ("limit", "remaining", "reset")
             for bucket in ("requests", "requests-1h", "tokens", "tokens-1h")]
    assert all(name in refused.headers for name in names)
    portal.advance(60)  # a new minute window
    assert chat(portal, pat, chat_body(FREE)).headers["x-ratelimit-remaining-requests"] == "59"


def test_credits_headers_are_the_snapshot_before_this_requests_debit(portal, pat):
    answer = chat(portal, pat, chat_body(stream=True))
    headers = answer.headers
    assert headers["x-nous-credits-version"] == "1"
    assert (headers["x-nous-credits-remaining-micros"], headers["x-nous-credits-remaining-usd"]) == ("20500000", "20.50")
    assert (headers["x-nous-credits-subscription-micros"], headers["x-nous-credits-rollover-micros"],
            headers["x-nous-credits-purchased-micros"]) == ("15500000", "3000000", "5000000")
    assert (headers["x-nous-credits-subscription-limit-micros"], headers["x-nous-credits-subscription-limit-usd"],
            headers["x-nous-credits-denominator-kind"], headers["x-nous-credits-paid-access"]) == \
        ("22000000", "22.00", "subscription_cap", "true")
    assert "x-nous-credits-disabled-reason" not in headers
    answer.get_data()  # the stream runs to its end and is billed
    assert buckets(portal)[0] < Decimal("12.5")


def test_a_negative_purchased_balance_shows_as_debt_in_the_subscription_headers(portal):
    portal.edit_org("org_acme", balanceUsd="-1.5")
    headers = chat(portal, portal.bearer("owner@acme.test", INVOKE), chat_body(FREE)).headers
    assert (headers["x-nous-credits-subscription-micros"], headers["x-nous-credits-subscription-usd"],
            headers["x-nous-credits-purchased-micros"], headers["x-nous-credits-paid-access"],
            headers["x-nous-credits-disabled-reason"]) == ("-1500000", "-1.50", "0", "false", "out_of_credits")
    assert "x-nous-credits-subscription-limit-micros" not in headers
    assert headers["x-nous-credits-denominator-kind"] == "none"


def test_the_account_has_the_entitlement_as_json_numbers(portal, pat):
    account = portal.client.get("/api/oauth/account", headers=pat).json
    assert account["subscription"] == {"plan": "Plus", "tier": 2, "monthly_charge": 20.0, "monthly_credits": 22.0,
                                       "current_period_end": "2026-06-30T12:00:00Z", "credits_remaining": 15.5,
                                       "rollover_credits": 3.0}
    access = account["paid_service_access"]
    assert (access["allowed"], access["paid_access"], access["has_active_subscription"],
            access["active_subscription_is_paid"], access["subscription_tier"], access["total_usable_credits"]) == \
        (True, True, True, True, 2, 20.5)
    assert account["user"]["privy_did"].startswith("did:privy:")


def test_the_journal_records_a_completions_model_usage_cost_and_tags(portal, pat):
    chat(portal, pat, chat_body(tags=["product=hermes-agent"], stream=True,
                                stream_options={"include_usage": True})).get_data()
    entry = portal.journal(method="POST", path_prefix="/v1/chat")[-1]
    assert entry["model"] == SONNET and entry["tags"] == ["product=hermes-agent"]
    assert entry["streamOptions"] == {"include_usage": True}
    assert entry["usage"]["total_tokens"] == entry["usage"]["prompt_tokens"] + entry["usage"]["completion_tokens"]
    assert Decimal(entry["costUsd"]) > 0


def test_the_local_server_probes_do_not_answer_200(portal):
    for path in ("/api/v1/models", "/api/tags", "/v1/props", "/props", "/version"):
        assert portal.client.get(path).status_code == 404, path


def test_every_authenticated_request_counts_against_the_request_window_refused_or_not(portal, pat):
    chat(portal, pat, b"not json")  # 400
    chat(portal, pat, chat_body("nope/nope"))  # 404
    chat(portal, portal.bearer(DEMO_PLAN_OWNER, "tool:invoke"), chat_body())  # 403
    answer = chat(portal, pat, chat_body(FREE))
    assert answer.headers["x-ratelimit-remaining-requests"] == str(60 - 4)
    assert sorted(c["outcome"] for c in portal.org(DEMO_PLAN_ORG)["completions"]) == ["admitted"] + ["refused"] * 3
