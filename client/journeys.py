"""The journeys a terminal runs: buy credits, step up to `billing:manage` mid-buy, upgrade the
plan, and chat.

Buy: read the state, validate the amount against its bounds, submit with a fresh
`Idempotency-Key`, then poll the charge every 2 s for up to 5 min. The key is what makes
retries safe: a lost answer on submit, and the replay after a step-up, reuse it, so the
portal can never take the money twice. A timeout is an outcome, not an error: the charge
may still settle later.

Step-up: a billing write answered 403 `insufficient_scope` runs the device flow for the
held scopes plus `billing:manage`. The portal may silently downscope (the approver is not
billing-capable, or left "Allow terminal billing" unticked); the new token's `scope` says so,
and the journey stops with nothing charged.

Upgrade: preview the change (stepping up if need be); only a `charge_now` is offered, and only
once the person confirms the quote is a fresh `Idempotency-Key` minted. The key is kept across
the step-up replay, so a confirmed upgrade is charged at most once. A refusal before any charge
(429, `stripe_unavailable`, a 4xx) is raised; a lost answer, another 5xx or an unknown status
means the card may or may not have been charged, and the journey says exactly that. After an
upgrade the plan is read back, every 2 s up to 15 times, until it shows the new tier.

Chat: stream a completion, run the tool calls it asks for and send the follow-up, then say what
the turn cost (usage × the model's per-token prices) and what is left. A 429 that is not a
genuine limit is waited out; a 402 is final unless the account says credits remain.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable, Mapping, TypeVar
from urllib.parse import urljoin

from client.billing import (BillingApi, ChargeStatus, PortalSession, Preview, SubmittedCharge, Subscription,
                            UpgradeAnswer)
from client.config import BILLING_MANAGE
from client.credentials import Credentials
from client.errors import (NetworkError, NoUsableCredits, PortalError, RateLimited, ScopeRequired,
                           StripeUnavailable, Transient, Unavailable)
from client.inference import InferenceApi, Message, Pricing, Reply, ToolCall
from client.money import validate_amount
from client.oauth import DeviceCode, device_login

POLL_INTERVAL = 2.0
POLL_TIMEOUT = 300.0
MAX_BACKOFF = 30.0
SUBMIT_ATTEMPTS = 3

UPGRADE_STATUSES = ("upgraded", "already_on_tier", "requires_action", "payment_failed")
PLAN_READ_INTERVAL = 2.0  # after an upgrade, until the plan shows the new tier
PLAN_READS = 15

CHAT_ATTEMPTS = 3  # a chat refused with a short 429 is sent again, at most twice
MAX_CHAT_WAIT = 600.0
GENUINE_RESET = 60  # a bucket empty for at least this long is a real limit, not a blip
TOOL_ROUNDS = 5  # follow-up requests after tool calls, per turn
TOPUP_PATH = "/billing?topup=open"

T = TypeVar("T")
Clock = Callable[[], float]
Sleep = Callable[[float], None]
ShowCode = Callable[[DeviceCode], None]


@dataclass(frozen=True)
class Downscoped:
    """The step-up login came back without `billing:manage`; `scope` is what was granted."""

    scope: str


@dataclass(frozen=True)
class BuyResult:
    outcome: str  # settled | failed | timeout | downscoped
    amount: Decimal
    idempotency_key: str
    charge_id: str | None = None
    credited: Decimal | None = None  # settled: the amount the portal credited
    reason: str | None = None  # failed: card_declined, authentication_required, ...
    scope: str | None = None  # downscoped: the scopes the new login holds


def backoff(error: PortalError) -> float:
    """How long to wait after a 429/503 or a dropped answer: `Retry-After`, capped at 30 s."""
    return min(float(error.retry_after or POLL_INTERVAL), MAX_BACKOFF)


def step_up(session: PortalSession, show: ShowCode, *, clock: Clock = time.monotonic,
            sleep: Sleep = time.sleep) -> Credentials:
    """Log in again for the held scopes plus `billing:manage`; the new login replaces the old."""
    scope = " ".join(dict.fromkeys([*session.credentials.scopes, BILLING_MANAGE]))
    credentials = device_login(session.transport, scope, show, clock=clock, sleep=sleep)
    session.store.save(credentials)
    return credentials


def with_step_up(write: Callable[[], T], session: PortalSession, show: ShowCode | None, *,
                 clock: Clock = time.monotonic, sleep: Sleep = time.sleep) -> T | Downscoped:
    """Run a billing write; on `insufficient_scope` step up once and run it again, unless
    the new login was downscoped. Without `show` there is no one to approve, so the error stands."""
    try:
        return write()
    except ScopeRequired:
        if show is None:
            raise
    credentials = step_up(session, show, clock=clock, sleep=sleep)
    if not credentials.can_bill:
        return Downscoped(credentials.scope)
    return write()


def submit(api: BillingApi, amount: Decimal, key: str, sleep: Sleep) -> SubmittedCharge:
    """Submit a charge, repeating it with the same key when the answer is lost or the portal
    is unavailable: if the first one was accepted, the portal replays it instead of charging again."""
    for _ in range(SUBMIT_ATTEMPTS - 1):
        try:
            return api.charge(amount, key)
        except (NetworkError, Unavailable) as exc:
            sleep(backoff(exc))
    return api.charge(amount, key)


def poll_charge(api: BillingApi, charge_id: str, *, clock: Clock = time.monotonic,
                sleep: Sleep = time.sleep) -> ChargeStatus:
    """Poll at once, then every 2 s; a 429/503 waits its `Retry-After` (at most 30 s) and a
    dropped answer the usual 2 s. Returns the first settled or failed status, or the last
    pending one after the poll at the 5-minute mark (never sleeping past it)."""
    deadline = clock() + POLL_TIMEOUT
    while True:
        wait = POLL_INTERVAL
        status: ChargeStatus | None = None
        try:
            status = api.charge_status(charge_id)
        except (Transient, NetworkError) as exc:
            wait = backoff(exc)
        if status is not None and status.status != "pending":
            return status
        remaining = deadline - clock()
        if remaining <= 0:
            return ChargeStatus("pending")
        sleep(min(wait, remaining))


def buy(api: BillingApi, amount: Decimal, *, show: ShowCode | None = None, clock: Clock = time.monotonic, sleep: Sleep = time.sleep,
        new_key: Callable[[], str] = lambda: str(uuid.uuid4())) -> BuyResult:
    """The buy journey. Raises `PortalError` for a refusal; returns the charge's outcome."""
    state = api.state()
    validate_amount(amount, state.min_usd, state.max_usd)
    key = new_key()
    submitted = with_step_up(lambda: submit(api, amount, key, sleep), api.session, show, clock=clock, sleep=sleep)
    if isinstance(submitted, Downscoped):
        return BuyResult("downscoped", amount, key, scope=submitted.scope)
    status = poll_charge(api, submitted.charge_id, clock=clock, sleep=sleep)
    outcome = "timeout" if status.status == "pending" else status.status
    return BuyResult(outcome, amount, key, submitted.charge_id, credited=status.amount, reason=status.reason)


# -- the plan ------------------------------------------------------------------------------
@dataclass(frozen=True)
class UpgradeResult:
    # upgraded | already_on_tier | requires_action | payment_failed: the portal's answer;
    # maybe_charged: no usable answer after the request was sent; not_offered: the preview was
    # not a charge_now; declined: she did not confirm; downscoped: billing was not granted
    outcome: str
    tier_id: str
    preview: Preview | None = None
    idempotency_key: str | None = None
    answer: UpgradeAnswer | None = None
    plan: Subscription | None = None  # upgraded: the plan as read back afterwards
    scope: str | None = None  # downscoped: the scopes the new login holds
    error: PortalError | None = None  # maybe_charged: what came instead of an answer


def may_have_charged(error: PortalError) -> bool:
    """A lost or unreadable answer, or a 5xx other than `stripe_unavailable` (which the portal
    answers before any charge): the card may or may not have been charged."""
    if isinstance(error, StripeUnavailable):
        return False
    return error.error == "network_error" or error.status is None or error.status >= 500


def read_back(api: BillingApi, tier_id: str, sleep: Sleep) -> Subscription:
    """The plan, read now and then every 2 s (15 reads in all) until it shows `tier_id`."""
    for _ in range(PLAN_READS - 1):
        plan = api.subscription()
        if plan.current is not None and plan.current.tier_id == tier_id:
            return plan
        sleep(PLAN_READ_INTERVAL)
    return api.subscription()


def upgrade(api: BillingApi, tier_id: str, *, confirm: Callable[[Preview], bool], show: ShowCode | None = None,
            clock: Clock = time.monotonic, sleep: Sleep = time.sleep,
            new_key: Callable[[], str] = lambda: str(uuid.uuid4())) -> UpgradeResult:
    """The upgrade journey. Raises `PortalError` for a refusal made before any charge."""
    preview = with_step_up(lambda: api.preview(tier_id), api.session, show, clock=clock, sleep=sleep)
    if isinstance(preview, Downscoped):
        return UpgradeResult("downscoped", tier_id, scope=preview.scope)
    if preview.effect != "charge_now":
        return UpgradeResult("not_offered", tier_id, preview)
    if not confirm(preview):
        return UpgradeResult("declined", tier_id, preview)
    key = new_key()
    try:
        answer = with_step_up(lambda: api.upgrade(tier_id, key), api.session, show, clock=clock, sleep=sleep)
    except PortalError as error:
        if not may_have_charged(error):
            raise
        return UpgradeResult("maybe_charged", tier_id, preview, key, error=error)
    if isinstance(answer, Downscoped):
        return UpgradeResult("downscoped", tier_id, preview, key, scope=answer.scope)
    if answer.status not in UPGRADE_STATUSES:
        return UpgradeResult("maybe_charged", tier_id, preview, key, answer)
    plan = read_back(api, tier_id, sleep) if answer.status == "upgraded" else None
    return UpgradeResult(answer.status, tier_id, preview, key, answer, plan)


# -- chat ------------------------------------------------------------------------------------
Tool = Callable[[dict[str, Any]], str]


@dataclass
class Conversation:
    """The messages so far, sent whole with every request, and the model's prices."""

    model: str
    messages: list[Message] = field(default_factory=list)
    pricing: Pricing | None = None  # None until read, or when the catalogue does not list the model


@dataclass(frozen=True)
class Turn:
    replies: tuple[Reply, ...]  # one per request: each tool call's follow-up is another
    cost: Decimal | None  # usage × price over the replies; None if a usage or the price is unknown
    left: Decimal | None  # what the account says is left to spend after the turn; None if unread

    @property
    def text(self) -> str:
        return self.replies[-1].content


def genuine_limit(error: PortalError) -> bool:
    """A 429 is a real limit (not a blip worth waiting out) when one of its buckets is empty
    for a minute or more: `x-ratelimit-remaining-<bucket>: 0` with `-reset-<bucket>` >= 60."""
    headers = {name.lower(): value for name, value in error.headers.items()}
    prefix = "x-ratelimit-remaining-"
    for name, remaining in headers.items():
        reset = headers.get("x-ratelimit-reset-" + name[len(prefix):], "") if name.startswith(prefix) else ""
        if remaining.strip() == "0" and reset.strip().isascii() and reset.strip().isdigit() and int(reset) >= GENUINE_RESET:
            return True
    return False


def tool_message(call: ToolCall, tools: Mapping[str, Tool]) -> Message:
    """Run one tool call; what the model reads back, even when the tool cannot run."""
    tool = tools.get(call.name)
    try:
        arguments = json.loads(call.arguments or "{}")
    except ValueError:
        arguments = None
    if tool is None:
        content = json.dumps({"error": f"this terminal has no tool named {call.name!r}"})
    elif not isinstance(arguments, dict):
        content = json.dumps({"error": "the arguments were not a JSON object"})
    else:
        content = tool(arguments)
    return {"role": "tool", "tool_call_id": call.call_id, "content": content}


def tool_specs(tools: Mapping[str, Tool]) -> list[Message]:
    return [{"type": "function", "function": {"name": name, "description": (tool.__doc__ or name).strip(),
                                              "parameters": {"type": "object"}}}
            for name, tool in tools.items()]


def model_pricing(api: InferenceApi, model: str) -> Pricing | None:
    """The model's per-token prices; None when the catalogue cannot be read or lacks it (the
    chat itself says whether the model exists)."""
    try:
        found = api.models().get(model)
    except PortalError:
        return None
    return None if found is None else found.pricing


def send_chat(api: InferenceApi, conversation: Conversation, tools: Mapping[str, Tool],
              on_text: Callable[[str], None], sleep: Sleep) -> Reply:
    """One request of the conversation. A 429 that is no genuine limit waits its Retry-After
    (at most 10 min) and is sent again; a 402 is sent again once only if the account says
    credits remain, else it stands, pointing to where credits are bought."""
    attempts, asked_account = 1, False
    while True:
        try:
            return api.stream_chat(conversation.model, conversation.messages, tools=tool_specs(tools),
                                   on_text=on_text)
        except RateLimited as error:
            if genuine_limit(error) or attempts == CHAT_ATTEMPTS:
                raise
            attempts += 1
            sleep(min(float(error.retry_after or POLL_INTERVAL), MAX_CHAT_WAIT))
        except NoUsableCredits as error:
            error.portal_url = urljoin(api.session.transport.base_url + "/", TOPUP_PATH)
            if asked_account or api.account().allowed is not True:
                raise
            asked_account = True


def chat(api: InferenceApi, conversation: Conversation, prompt: str, *, tools: Mapping[str, Tool] | None = None,
         on_text: Callable[[str], None] = lambda text: None,
         on_tool_call: Callable[[ToolCall], None] = lambda call: None, sleep: Sleep = time.sleep) -> Turn:
    """The chat journey: one turn of the conversation. Raises `PortalError` for a refusal."""
    tools = tools or {}
    if conversation.pricing is None:
        conversation.pricing = model_pricing(api, conversation.model)
    said_before = len(conversation.messages)
    conversation.messages.append({"role": "user", "content": prompt})
    replies: list[Reply] = []
    try:
        for _ in range(TOOL_ROUNDS + 1):
            reply = send_chat(api, conversation, tools, on_text, sleep)
            replies.append(reply)
            conversation.messages.append(reply.message())
            if not reply.tool_calls:
                break
            for call in reply.tool_calls:
                on_tool_call(call)
                conversation.messages.append(tool_message(call, tools))
    except PortalError:
        del conversation.messages[said_before:]  # a refused turn leaves the conversation as it was
        raise
    costs = [conversation.pricing.cost(reply.usage) for reply in replies
             if conversation.pricing is not None and reply.usage is not None]
    try:
        left = api.account().total_usable
    except PortalError:
        left = None
    return Turn(tuple(replies), sum(costs, Decimal(0)) if len(costs) == len(replies) else None, left)
