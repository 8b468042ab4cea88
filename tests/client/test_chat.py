"""The chat journey (CONTRACT.md §9, §10): a streamed completion, what it cost, tool calls and
their follow-up, and each refusal of the inference API, against a real portal (stubs only for
what the portal cannot be made to do)."""

from __future__ import annotations

import json
import math
from decimal import ROUND_CEILING, Decimal

import pytest

from client import errors
from client.inference import InferenceApi
from client.journeys import CHAT_ATTEMPTS, Conversation, chat
from client.transport import Transport

from mockportal.testing import DEMO_PLAN_ORG, DEMO_PLAN_OWNER
from tests.client.stubs import Recording, Scripted, session_with
from tests.client.support import refused

SONNET = "anthropic/claude-sonnet-5"
FREE = "nvidia/nemotron-3-super-120b-a12b:free"
CHAT = "POST /v1/chat/completions"
INFERENCE = "inference:invoke"


@pytest.fixture
def chatter(login, control):
    """`chatter(user, scope, session=None)`: an `InferenceApi` for a minted login, at `{portal}/v1`."""

    def logged_in(user: str = DEMO_PLAN_OWNER, scope: str = INFERENCE, *, session=None, base=None) -> InferenceApi:
        billing = login(user, scope, session=session)
        return InferenceApi(billing.session, Transport(base or control.url + "/v1", billing.session.transport.session))

    return logged_in


def ask(api, fake_time, prompt="Hello?", model=SONNET, conversation=None, **options):
    return chat(api, conversation or Conversation(model), prompt, sleep=fake_time.sleep, **options)


def buckets(control, org=DEMO_PLAN_ORG) -> tuple[Decimal, Decimal, Decimal]:
    """G, R and P as the portal holds them."""
    report = control.org(org)
    plan = report["subscription"] or {"creditsRemaining": "0", "rolloverCredits": "0"}
    return Decimal(plan["creditsRemaining"]), Decimal(plan["rolloverCredits"]), Decimal(report["balanceUsd"])


def no_usable_credits(control) -> None:
    control.edit_plan(creditsRemaining="0", rolloverCredits="0")
    control.edit_org(DEMO_PLAN_ORG, balanceUsd="0")


def chat_bodies(adapter) -> list[dict]:
    return [json.loads(r.body) for r in adapter.sent if r.path_url == "/v1/chat/completions"]


def sse(*chunks, done=True) -> str:
    lines = [f"data: {json.dumps(chunk)}\n\n" for chunk in chunks]
    return "".join(lines) + ("data: [DONE]\n\n" if done else "")


def test_a_reply_streams_in_and_costs_its_usage_at_the_models_price(control, chatter, fake_time):
    adapter = Recording()
    api = chatter(session=session_with(adapter))
    control.replies(DEMO_PLAN_ORG, {"content": "Hello, Pat. How can I help?"})
    before = buckets(control)
    pieces = []
    turn = ask(api, fake_time, on_text=pieces.append)
    assert turn.text == "".join(pieces) == "Hello, Pat. How can I help?" and len(pieces) > 1
    [reply] = turn.replies
    # The portal's token rule: a quarter of the bytes, rounded up, each way.
    [sent] = [r for r in adapter.sent if r.path_url == "/v1/chat/completions"]
    sent_bytes = len(sent.body)
    assert reply.usage.prompt_tokens == math.ceil(sent_bytes / 4)
    assert reply.usage.completion_tokens == math.ceil(len(turn.text.encode()) / 4)
    exact = reply.usage.prompt_tokens * Decimal("0.000003") + reply.usage.completion_tokens * Decimal("0.000015")
    assert turn.cost == exact.quantize(Decimal("0.000001"), rounding=ROUND_CEILING)
    [completion] = control.org(DEMO_PLAN_ORG)["completions"]
    assert Decimal(completion["costUsd"]) == turn.cost
    grant, rollover, purchased = buckets(control)
    assert (before[0] - grant, rollover, purchased) == (turn.cost, before[1], before[2])
    assert turn.left == grant + rollover + purchased  # read after the reply: this reply's debit is in it


def test_the_request_streams_with_usage_and_sends_the_whole_conversation(control, chatter, fake_time):
    adapter = Recording()
    api = chatter(session=session_with(adapter))
    conversation = Conversation(SONNET)
    ask(api, fake_time, "First?", conversation=conversation)
    ask(api, fake_time, "Second?", conversation=conversation)
    first, second = chat_bodies(adapter)
    assert (first["stream"], first["stream_options"], first["model"]) == (True, {"include_usage": True}, SONNET)
    assert "tools" not in first
    assert [m["role"] for m in second["messages"]] == ["user", "assistant", "user"]
    assert second["messages"][1] == {"role": "assistant", "content": "Hello from mockportal."}


def test_a_tool_call_is_run_and_answered_in_a_follow_up(control, chatter, fake_time):
    adapter = Recording()
    api = chatter(session=session_with(adapter))
    control.replies(DEMO_PLAN_ORG, {"toolCalls": [{"name": "terminal", "arguments": {"command": "ls"}}]},
                    {"content": "You have a README."})
    ran, seen = [], []

    def terminal(arguments):
        """Run a shell command."""
        ran.append(arguments)
        return "README.md"

    turn = ask(api, fake_time, "What files are here?", tools={"terminal": terminal}, on_tool_call=seen.append)
    assert turn.text == "You have a README." and ran == [{"command": "ls"}]
    call = seen[0]
    first, follow_up = chat_bodies(adapter)
    assert first["tools"][0]["function"]["name"] == "terminal"
    assert follow_up["messages"][1:] == [
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": call.call_id, "type": "function", "function": {"name": "terminal", "arguments": call.arguments}}]},
        {"role": "tool", "tool_call_id": call.call_id, "content": "README.md"}]
    assert json.loads(call.arguments) == {"command": "ls"}
    costs = [Decimal(c["costUsd"]) for c in control.org(DEMO_PLAN_ORG)["completions"]]
    assert len(costs) == 2 and turn.cost == sum(costs)


def test_a_tool_this_terminal_lacks_is_answered_with_an_error(control, chatter, fake_time):
    adapter = Recording()
    control.replies(DEMO_PLAN_ORG, {"toolCalls": [{"name": "browser", "arguments": {"url": "x"}}]})
    turn = ask(chatter(session=session_with(adapter)), fake_time)
    tool = chat_bodies(adapter)[1]["messages"][-1]
    assert tool["role"] == "tool" and "no tool named 'browser'" in json.loads(tool["content"])["error"]
    assert turn.text == "Hello from mockportal."


def test_no_usable_credits_is_final_and_points_to_buying(control, chatter, fake_time):
    no_usable_credits(control)
    adapter = Recording()
    with pytest.raises(errors.NoUsableCredits) as caught:
        ask(chatter(session=session_with(adapter)), fake_time)
    assert caught.value.status == 402
    assert caught.value.portal_url == control.url + "/billing?topup=open"
    assert [r.path_url for r in adapter.sent] == ["/v1/models", "/v1/chat/completions", "/api/oauth/account"]
    [completion] = control.org(DEMO_PLAN_ORG)["completions"]
    assert (completion["outcome"], completion["costUsd"]) == ("refused", "0")
    assert buckets(control) == (0, 0, 0)


def test_a_402_the_account_contradicts_is_sent_once_more(login, fake_time):
    refusal = (402, {"error": {"message": "No usable credits", "type": "insufficient_credits",
                               "code": "no_usable_credits"}}, {})
    account = (200, {"paid_service_access": {"allowed": True, "total_usable_credits": 1.5}}, {})
    adapter = Scripted({"GET /v1/models": [(200, {"data": []}, {})], CHAT: [refusal, refusal],
                        "GET /api/oauth/account": [account]})
    session = login().session
    api = InferenceApi(session, Transport("http://p/v1", session_with(adapter)))
    session.transport = Transport("http://p", session_with(adapter))
    with pytest.raises(errors.NoUsableCredits):
        ask(api, fake_time)
    assert [r.path_url for r in adapter.sent].count("/v1/chat/completions") == 2


def test_a_refused_turn_leaves_the_conversation_as_it_was(control, chatter, fake_time):
    api, conversation = chatter(), Conversation(SONNET)
    ask(api, fake_time, "First?", conversation=conversation)
    said = list(conversation.messages)
    no_usable_credits(control)
    with pytest.raises(errors.NoUsableCredits):
        ask(api, fake_time, "Second?", conversation=conversation)
    assert conversation.messages == said


def test_a_free_model_answers_with_nothing_left_and_costs_nothing(control, chatter, fake_time):
    no_usable_credits(control)
    turn = ask(chatter(), fake_time, model=FREE)
    assert (turn.text, turn.cost, turn.left) == ("Hello from mockportal.", 0, 0)
    assert buckets(control) == (0, 0, 0)


def test_an_unknown_model(control, chatter, fake_time):
    with pytest.raises(errors.ModelNotFound) as caught:
        ask(chatter(), fake_time, model="acme/nonesuch")
    assert caught.value.status == 404 and "not found" in caught.value.message


def test_an_expired_login_is_renewed_once(control, chatter, fake_time, store):
    api = chatter()
    before = store.load()
    control.advance(3601)
    assert ask(api, fake_time).text == "Hello from mockportal."
    assert store.load().refresh_token not in (None, before.refresh_token)


def test_a_short_rate_limit_is_waited_out(control, chatter, fake_time):
    control.fault("POST", "/v1/chat/completions", 429, "rate_limited", retry_after=7, count=1)
    assert ask(chatter(), fake_time).text == "Hello from mockportal."
    assert fake_time.sleeps == [7]


def test_a_rate_limit_that_keeps_answering_is_given_up(control, chatter, fake_time):
    control.fault("POST", "/v1/chat/completions", 429, "rate_limited", retry_after=3, count=CHAT_ATTEMPTS)
    with pytest.raises(errors.RateLimited):
        ask(chatter(), fake_time)
    assert fake_time.sleeps == [3] * (CHAT_ATTEMPTS - 1)


def test_a_genuine_rate_limit_is_not_waited_out(login, fake_time):
    limited = (429, {"error": {"message": "Rate limit", "type": "rate_limit_error", "code": "rate_limited"}},
               {"Retry-After": "1800", "x-ratelimit-remaining-requests-1h": "0",
                "x-ratelimit-reset-requests-1h": "1800", "x-ratelimit-remaining-requests": "12",
                "x-ratelimit-reset-requests": "20"})
    adapter = Scripted({"GET /v1/models": [(200, {"data": []}, {})], CHAT: [limited]})
    with pytest.raises(errors.RateLimited) as caught:
        ask(InferenceApi(login().session, Transport("http://p/v1", session_with(adapter))), fake_time)
    assert caught.value.retry_after == 1800 and fake_time.sleeps == []


@pytest.mark.parametrize("body,error", [
    (sse({"choices": [{"index": 0, "delta": {"content": "Hel"}, "finish_reason": None}]}), "network_error"),
    (sse({"error": {"message": "upstream died", "code": "server_error"}}), "server_error"),
    ("data: {not json\n\n", "network_error"),
    (sse({"choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": "stop"}]},
         {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}, done=False),
     "network_error"),  # a whole reply, but the stream was cut before `data: [DONE]`
])
def test_a_stream_that_breaks_is_an_error(login, fake_time, body, error):
    adapter = Scripted({"GET /v1/models": [(200, {"data": []}, {})],
                        CHAT: [(200, body, {"Content-Type": "text/event-stream"})]})
    with pytest.raises(errors.PortalError) as caught:
        ask(InferenceApi(login().session, Transport("http://p/v1", session_with(adapter))), fake_time)
    assert caught.value.error == error


def test_tool_call_fragments_are_joined_and_text_after_them_is_not_shown(login, fake_time):
    def delta(**fields):
        return {"id": "c1", "choices": [{"index": 0, "delta": fields, "finish_reason": None}]}

    body = sse(delta(role="assistant", content="Let me look."),
               delta(tool_calls=[{"index": 0, "id": "call_9", "type": "function",
                                  "function": {"name": "terminal", "arguments": ""}}]),
               delta(tool_calls=[{"index": 0, "function": {"arguments": '{"command": '}}]),
               delta(content="ignored", tool_calls=[{"index": 0, "function": {"arguments": '"ls"}'}}]),
               {"id": "c1", "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
               {"id": "c1", "choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}})
    adapter = Scripted({CHAT: [(200, body, {"Content-Type": "text/event-stream"})]})
    api = InferenceApi(login().session, Transport("http://p/v1", session_with(adapter)))
    reply = api.stream_chat(SONNET, [{"role": "user", "content": "ls?"}])
    assert (reply.content, reply.finish_reason, reply.usage.total_tokens) == ("Let me look.", "tool_calls", 7)
    [call] = reply.tool_calls
    assert (call.call_id, call.name, call.arguments) == ("call_9", "terminal", '{"command": "ls"}')


def test_without_a_price_the_cost_is_unknown(login, fake_time):
    body = sse({"choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": "stop"}]},
               {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}})
    adapter = Scripted({"GET /v1/models": [(503, "", {})], CHAT: [(200, body, {})],
                        "GET /api/oauth/account": [(401, {"error": "session_revoked", "message": "m"}, {})]})
    session = login().session
    session.transport = Transport("http://p", session_with(adapter))
    turn = ask(InferenceApi(session, Transport("http://p/v1", session_with(adapter))), fake_time)
    assert (turn.text, turn.cost, turn.left) == ("Hi", None, None)


# -- python -m client chat ---------------------------------------------------------------------
def test_chat_prints_the_reply_then_its_cost_and_what_is_left(run, as_user, control):
    as_user(DEMO_PLAN_OWNER, INFERENCE)
    control.replies(DEMO_PLAN_ORG, {"content": "Hi, Pat."})
    result = run("chat", "Hello?")
    assert result.exit_code == 0, result.output
    assert result.stdout == "Hi, Pat.\n"
    [completion] = control.org(DEMO_PLAN_ORG)["completions"]
    grant, rollover, purchased = buckets(control)
    assert (f"Cost: ${Decimal(completion['costUsd'])} ({completion['promptTokens']} prompt + "
            f"{completion['completionTokens']} completion tokens)\n") in result.stderr
    assert f"Left to spend: ${grant + rollover + purchased} (the portal's figure after this reply)\n" in result.stderr


def test_chat_says_it_runs_no_tools_and_asks_again(run, as_user, control):
    as_user(DEMO_PLAN_OWNER, INFERENCE)
    ls = {"name": "terminal", "arguments": {"command": "ls"}}
    control.replies(DEMO_PLAN_ORG, {"content": "Let me look.", "toolCalls": [ls]}, {"content": "I could not look."})
    result = run("chat", "What files do I have?")
    assert result.exit_code == 0, result.output
    assert result.stdout == ('Let me look.\n'
                             '[the model asked to run terminal {"command": "ls"}; this terminal runs no tools]\n'
                             "I could not look.\n")
    assert len(control.org(DEMO_PLAN_ORG)["completions"]) == 2


def test_chat_with_no_usable_credits_says_to_buy(run, as_user, control):
    no_usable_credits(control)
    as_user(DEMO_PLAN_OWNER, INFERENCE)
    refused(run("chat", "Hello?"), "(no_usable_credits)", "Next: Buy credits, e.g. `python -m client buy 10`",
            f"Portal: {control.url}/billing?topup=open")


@pytest.mark.parametrize("args,setup,phrases", [
    (("--model", "acme/nonesuch"), None, ["(model_not_found)", "`python -m client models`"]),
    ((), (429, "rate_limited", 3600), ["(rate_limited)", "chat rate limit is reached; try again in 3600 seconds"]),
])
def test_chat_refusals(run, as_user, control, args, setup, phrases):
    if setup:
        control.fault("POST", "/v1/chat/completions", setup[0], setup[1], retry_after=setup[2], count=CHAT_ATTEMPTS)
    as_user(DEMO_PLAN_OWNER, INFERENCE)
    refused(run("chat", "Hello?", *args), *phrases)


def test_models_lists_prices_per_million_tokens(run):
    result = run("models")
    assert f"{SONNET:<42} Claude Sonnet 5            $3.00 in, $15.00 out per million tokens\n" in result.stdout
    assert f"{FREE:<42} Nemotron 3 Super (free)    free\n" in result.stdout
