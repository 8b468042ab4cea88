"""Chatting through the portal's inference API (CONTRACT.md sections 9 and 10) with the reference
client's chat journey, and what the portal billed for it, bucket by bucket."""

from __future__ import annotations

import json
import math
from decimal import ROUND_CEILING, ROUND_UP, Decimal

from behave import given, then, when

from client.cli import CHAT_STEPS
from client.journeys import Turn

from steps.support.plans import her_org, her_report
from steps.support.scene import org_charges, she
from steps.support.terminal import attempt

CHAT_PATH = "/v1/chat/completions"
MICRO = Decimal("0.000001")
CENT = Decimal("0.01")
BUCKETS = {"grant": "G", "rollover": "R", "purchased balance": "P"}
QUESTION = "Tell me, at length, what a portal is and why a terminal would bill through one. "


def buckets(report: dict) -> dict[str, Decimal]:
    """G, R and P: the plan's grant and rollover (0 without a plan) and the purchased balance."""
    plan = report["subscription"] or {"creditsRemaining": "0", "rolloverCredits": "0"}
    return {"G": Decimal(plan["creditsRemaining"]), "R": Decimal(plan["rolloverCredits"]),
            "P": Decimal(report["balanceUsd"])}


def turn(context) -> Turn:
    return context.attempt.succeeded()


def question(length: int) -> str:
    return (QUESTION * (length // len(QUESTION) + 1))[:length]


def ask(context, model: str, prompt: str) -> None:
    """One turn of her conversation; the portal's books and her wire before it are kept."""
    terminal = she(context)
    context.before = her_report(context)
    context.chats_before = len(terminal.wire.to("POST", CHAT_PATH))
    context.exchanges_before = len(terminal.wire.exchanges)
    context.attempt = attempt(lambda: terminal.chat(model, prompt))
    if context.attempt.error is None:
        context.turns = [*getattr(context, "turns", []), turn(context)]


def turn_requests(context) -> list:
    """The chat requests of the last turn, as they crossed the wire."""
    return she(context).wire.to("POST", CHAT_PATH)[context.chats_before:]


def billed(context, replies) -> list[dict]:
    """The portal's record of each reply, in the order of `replies`."""
    completions = {c["id"]: c for c in her_report(context)["completions"]}
    return [completions[reply.completion_id] for reply in replies]


def price(context) -> dict[str, Decimal]:
    """The model's per-token prices, from the public catalogue."""
    model = she(context).conversation.model
    pricing = she(context).inference.models()[model].pricing
    return {"prompt": pricing.prompt, "completion": pricing.completion}


def generated_bytes(reply) -> int:
    return (len(reply.content.encode()) + len(reply.reasoning.encode())
            + sum(len(call.name.encode()) + len(call.arguments.encode()) for call in reply.tool_calls))


def moved(context) -> dict[str, Decimal]:
    """How much each bucket went down since before the last turn."""
    before, after = buckets(context.before), buckets(her_report(context))
    return {name: before[name] - after[name] for name in before}


# -- what the model will say, and the tools she lets it run --------------------------------------
@given('the model will answer "{content}"')
def step_the_model_will_answer(context, content):
    context.control.replies(her_org(context), {"content": content})


@given('the model will first call "{name}" with {arguments} and then answer "{content}"')
def step_the_model_will_call_then_answer(context, name, arguments, content):
    context.control.replies(her_org(context), {"toolCalls": [{"name": name, "arguments": json.loads(arguments)}]},
                            {"content": content})


@given('her terminal can run "{name}", which answers "{output}"')
def step_her_terminal_can_run(context, name, output):
    context.tool_runs, context.tool_output = [], output

    def tool(arguments):
        context.tool_runs.append(arguments)
        return output

    she(context).tools[name] = tool


# -- what she asks ----------------------------------------------------------------------------------
@when('she asks {model:Model} "{prompt}"')
def step_she_asks(context, model, prompt):
    ask(context, model, prompt)


@when("she asks {model:Model} a question of {length:d} characters")
def step_she_asks_a_long_question(context, model, length):
    ask(context, model, question(length))


@when("she has a conversation of {turns:d} turns with {model:Model}, each question {length:d} characters long")
def step_she_has_a_conversation(context, turns, model, length):
    context.balance_before = buckets(her_report(context))["P"]
    context.reloads_before = org_charges(context, her_org(context), source="auto_reload")
    for _ in range(turns):
        ask(context, model, question(length))
        turn(context)


# -- the reply, its usage and its cost ---------------------------------------------------------------
@then('she reads the reply "{text}"')
def step_she_reads_the_reply(context, text):
    assert turn(context).text == text, turn(context).text


@then("the usage is the portal's count of what her terminal sent and received")
def step_the_usage_is_the_portals_count(context):
    replies, requests = turn(context).replies, turn_requests(context)
    assert len(replies) == len(requests), (replies, requests)
    for reply, request in zip(replies, requests):
        prompt, completion = math.ceil(len(request.request_content) / 4), max(1, math.ceil(generated_bytes(reply) / 4))
        usage = reply.usage
        assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == \
            (prompt, completion, prompt + completion), (usage, prompt, completion)


@then("her terminal says the reply cost its usage at the model's price")
def step_her_terminal_says_the_reply_cost(context):
    per_token = price(context)
    expected = sum(((r.usage.prompt_tokens * per_token["prompt"] + r.usage.completion_tokens * per_token["completion"])
                    .quantize(MICRO, rounding=ROUND_CEILING) for r in turn(context).replies), Decimal(0))
    assert expected > 0 and turn(context).cost == expected, (turn(context).cost, expected)


@then("her terminal says the reply cost {amount:Money}")
def step_her_terminal_says_the_reply_cost_amount(context, amount):
    assert turn(context).cost == amount, turn(context).cost


@then("the portal billed exactly what her terminal said it cost")
@then("the portal billed both requests, exactly what her terminal said the turn cost")
def step_the_portal_billed_exactly(context):
    replies = turn(context).replies
    records = billed(context, replies)
    for reply, record in zip(replies, records):
        assert record["outcome"] == "admitted", record
        assert (record["promptTokens"], record["completionTokens"]) == \
            (reply.usage.prompt_tokens, reply.usage.completion_tokens), (record, reply.usage)
    assert sum(Decimal(r["costUsd"]) for r in records) == turn(context).cost, (records, turn(context).cost)
    assert sum(moved(context).values()) == turn(context).cost, moved(context)


@then("her {bucket} paid for it all")
def step_her_bucket_paid_for_it_all(context, bucket):
    others = {name: Decimal(0) for name in BUCKETS.values()}
    assert moved(context) == {**others, BUCKETS[bucket]: turn(context).cost}, (moved(context), turn(context).cost)


@then("the portal took {grant:Money} from her grant, {rollover:Money} from her rollover and the rest from her "
      "purchased balance")
def step_the_portal_took_from_each_bucket(context, grant, rollover):
    cost = turn(context).cost
    assert cost > grant + rollover, f"the reply cost only {cost}"
    [record] = billed(context, turn(context).replies)
    assert (Decimal(record["fromGrantUsd"]), Decimal(record["fromRolloverUsd"]), Decimal(record["fromPurchasedUsd"])) \
        == (grant, rollover, cost - grant - rollover), record
    assert moved(context) == {"G": grant, "R": rollover, "P": cost - grant - rollover}, moved(context)


@then("her grant is in debt by the cost less {amount:Money}")
def step_her_grant_is_in_debt(context, amount):
    after = buckets(her_report(context))
    assert after["G"] == -(turn(context).cost - amount) < 0, after
    assert (after["R"], after["P"]) == (buckets(context.before)["R"], buckets(context.before)["P"]), after


@then("her terminal says what is left, as the portal counts it after the reply")
def step_her_terminal_says_what_is_left(context):
    after = buckets(her_report(context))
    assert turn(context).left == max(after["G"] + after["R"], 0) + max(after["P"], 0), (turn(context).left, after)


@then("nothing was billed")
def step_nothing_was_billed(context):
    assert not any(moved(context).values()), moved(context)
    before = {c["id"] for c in context.before["completions"]}
    new = [c for c in her_report(context)["completions"] if c["id"] not in before]
    assert all(Decimal(c["costUsd"]) == 0 for c in new), new


# -- the conversation on the wire ------------------------------------------------------------------
@then("her terminal's last question carried the whole conversation so far")
def step_her_last_question_carried_the_conversation(context):
    messages = turn_requests(context)[-1].request_body["messages"]
    assert messages == she(context).conversation.messages[:-1], messages  # all but the reply to it
    assert [m["role"] for m in messages] == ["user", "assistant", "user"], messages


@then("the second reply's prompt was longer than the first's")
def step_the_second_prompt_was_longer(context):
    first, second = (t.replies[0].usage.prompt_tokens for t in context.turns)
    assert second > first, (first, second)


@then("her tool ran with {arguments}")
def step_her_tool_ran_with(context, arguments):
    assert context.tool_runs == [json.loads(arguments)], context.tool_runs


@then("her tool did not run")
def step_her_tool_did_not_run(context):
    assert context.tool_runs == [], context.tool_runs


@then("her terminal's second request carried the model's tool call and her tool's output")
def step_the_second_request_carried_the_tool_call(context):
    first, follow_up = turn(context).replies[0], turn_requests(context)[1].request_body["messages"]
    [call] = first.tool_calls
    assert follow_up[-2:] == [
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": call.call_id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}]},
        {"role": "tool", "tool_call_id": call.call_id, "content": context.tool_output}], follow_up


@then('her terminal\'s second request told the model it has no tool named "{name}"')
def step_the_second_request_said_no_such_tool(context, name):
    tool = turn_requests(context)[1].request_body["messages"][-1]
    assert tool["role"] == "tool" and tool["tool_call_id"] == turn(context).replies[0].tool_calls[0].call_id, tool
    assert f"no tool named '{name}'" in json.loads(tool["content"])["error"], tool


# -- no usable credits ------------------------------------------------------------------------------
@then("she is told to buy credits, with a link to the portal")
def step_she_is_told_to_buy_credits(context):
    refusal = context.attempt.refused()
    assert "python -m client buy" in CHAT_STEPS[refusal.error], CHAT_STEPS.get(refusal.error)
    assert refusal.portal_url == context.base_url + "/billing?topup=open", refusal.portal_url


@then("her terminal read her account once, which said she has no paid access")
def step_her_terminal_read_her_account_once(context):
    reads = [e for e in she(context).wire.exchanges[context.exchanges_before:] if e.path == "/api/oauth/account"]
    assert len(reads) == 1, [(e.status, e.body) for e in reads]
    access = reads[0].body["paid_service_access"]
    assert (access["allowed"], access["reason"]) == (False, "no_usable_credits"), access


# -- auto-reload during the conversation --------------------------------------------------------------
def crossing(context, threshold: Decimal) -> Decimal:
    """The purchased balance after the first reply that took it below `threshold`."""
    balance = context.balance_before
    for spoken in context.turns:
        balance -= spoken.cost
        if balance < threshold:
            return balance
    raise AssertionError(f"the balance never fell below {threshold}: it ended at {balance}")


def reloads(context) -> list[tuple[str, Decimal]]:
    new = org_charges(context, her_org(context), source="auto_reload")[len(context.reloads_before):]
    return [(c["status"], Decimal(c["amountUsd"])) for c in new]


@then("her balance fell below {threshold:Money} during the conversation")
def step_her_balance_fell_below(context, threshold):
    context.threshold = threshold
    crossing(context, threshold)


@then("one reload charge, of {reload_to:Money} less the balance after the reply that crossed, is pending")
def step_one_reload_charge_is_pending(context, reload_to):
    context.reload = (reload_to - crossing(context, context.threshold)).quantize(CENT, rounding=ROUND_UP)
    assert reloads(context) == [("pending", context.reload)], reloads(context)


@then("that reload charge has settled")
def step_that_reload_charge_has_settled(context):
    assert reloads(context) == [("settled", context.reload)], reloads(context)


@then("her balance is what it was, less what the conversation cost, plus the reload")
def step_her_balance_is_what_it_was(context):
    spent = sum((spoken.cost for spoken in context.turns), Decimal(0))
    assert she(context).api.state().balance == context.balance_before - spent + context.reload, \
        (she(context).api.state().balance, context.balance_before, spent, context.reload)
