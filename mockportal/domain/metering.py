"""Inference metering (CONTRACT.md section 10): admission, per-token billing, rate windows.

A chat completion is admitted once its gates pass, in this order:
  2. the grant carries `inference:invoke` (403 `insufficient_scope`); money gates do not apply;
  3. the body is an object with a string `model` and a non-empty `messages` array (400);
  4. the model is in the catalogue (404 `model_not_found`);
  5. no rate bucket of the org is used up (429 `rate_limited`, `Retry-After`);
  6. a paid model needs usable credits (402 `no_usable_credits`); free models always answer.
At admission the reply is chosen, so its usage and cost are known; the credits snapshot for the
`x-nous-credits-*` headers is taken before this request's debit. The debit is applied once the
whole reply has been generated (`bill`), exactly once, even if the client went away.

Tokens are counted without a tokenizer: prompt = ceil(request body bytes / 4), completion =
max(1, ceil(reply bytes / 4)). Cost = prompt x price + completion x price, rounded up to whole
micros. It is debited from G (only its positive part), then R, then P (only its positive part);
what no bucket covers is debt, on G with a paid plan, else on P. A debit that takes P below the
auto-reload threshold runs auto-reload through the spend pipeline.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, replace
from decimal import ROUND_CEILING, Decimal
from typing import Any

from mockportal.domain.clock import Clock
from mockportal.domain.credits import Credits, Entitlements
from mockportal.domain.ledger import Ledger
from mockportal.domain.replies import Replies, Reply
from mockportal.domain.spending import SpendPipeline
from mockportal.domain.tokens import Principal
from mockportal.errors import Forbidden, InvalidRequest, NotFound, PortalError, RateLimited
from mockportal.store import Store
from mockportal.store.records import Completion, Model
from mockportal.wire import decode_json

INFERENCE_INVOKE = "inference:invoke"
BYTES_PER_TOKEN = 4
MICRO = Decimal("0.000001")
ZERO = Decimal(0)
NO_USABLE_CREDITS = ("No usable credits: your subscription credits and purchased balance are used up. "
                     "Add credits in the portal.")


@dataclass(frozen=True)
class Bucket:
    """One fixed rate window of the org, as the `x-ratelimit-*` headers describe it."""

    name: str  # requests | requests-1h | tokens | tokens-1h
    limit: int
    seconds: int
    counts_tokens: bool


BUCKETS = (Bucket("requests", 60, 60, False), Bucket("requests-1h", 1000, 3600, False),
           Bucket("tokens", 1_000_000, 60, True), Bucket("tokens-1h", 10_000_000, 3600, True))


@dataclass(frozen=True)
class Window:
    bucket: Bucket
    used: int
    reset: int  # whole seconds until the window ends

    @property
    def remaining(self) -> int:
        return max(0, self.bucket.limit - self.used)

    @property
    def exhausted(self) -> bool:
        return self.used >= self.bucket.limit


class OverRateLimit(RateLimited):
    """429 with the org's windows, for the `x-ratelimit-*` headers every answer carries."""

    def __init__(self, windows: tuple[Window, ...]):
        wait = max(w.reset for w in windows if w.exhausted)
        super().__init__("rate_limited", f"Rate limit reached for this organisation; try again in {wait} s.",
                         retry_after=wait)
        self.windows = windows


@dataclass(frozen=True)
class ChatRequest:
    model: str
    stream: bool
    include_usage: bool
    tags: Any
    stream_options: Any
    body_bytes: int

    @classmethod
    def parse(cls, raw: bytes) -> "ChatRequest":
        """Gate 3: a JSON object with a string `model` and a non-empty `messages` array of
        objects. Unknown keys are accepted and ignored."""
        try:
            body = decode_json(raw) if raw.strip() else None
        except PortalError:
            body = None
        if not isinstance(body, dict):
            raise InvalidRequest("validation_failed", "The body must be a JSON object with model and messages.")
        model, messages = body.get("model"), body.get("messages")
        if not isinstance(model, str) or not model:
            raise InvalidRequest("validation_failed", "model must be a non-empty string.")
        if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
            raise InvalidRequest("validation_failed", "messages must be a non-empty array of message objects.")
        stream = body.get("stream") is True
        options = body.get("stream_options")
        include_usage = isinstance(options, dict) and options.get("include_usage") is True
        return cls(model, stream, include_usage, body.get("tags"), options, len(raw))


@dataclass(frozen=True)
class Admission:
    """An admitted completion: its reply, its metered usage, and what the client is told."""

    request: ChatRequest
    completion: Completion
    model: Model
    reply: Reply
    credits: Credits  # before this request's debit
    windows: tuple[Window, ...]


def _requested_model(raw_body: bytes) -> str:
    """The model a refused request named, for its record ("" if none could be read)."""
    try:
        model = ChatRequest.parse(raw_body).model
    except PortalError:
        return ""
    return model


def prompt_tokens(body_bytes: int) -> int:
    return math.ceil(body_bytes / BYTES_PER_TOKEN)


def completion_tokens(reply: Reply) -> int:
    return max(1, math.ceil(reply.metered_bytes() / BYTES_PER_TOKEN))


def cost_micros(model: Model, prompt: int, completion: int) -> int:
    """prompt x price + completion x price, rounded up to whole micros (1e-6 USD)."""
    cost = prompt * model.prompt_price + completion * model.completion_price
    return int((cost / MICRO).to_integral_value(rounding=ROUND_CEILING))


def split_debit(credits: Credits, cost: Decimal) -> dict[str, Decimal]:
    """What each bucket pays: G's positive part, then R, then P's positive part; the rest is debt."""
    from_grant = min(cost, max(credits.grant, ZERO))
    from_rollover = min(cost - from_grant, credits.rollover)
    from_purchased = min(cost - from_grant - from_rollover, max(credits.purchased, ZERO))
    return {"grant": from_grant, "rollover": from_rollover, "purchased": from_purchased,
            "debt": cost - from_grant - from_rollover - from_purchased}


class Metering:
    def __init__(self, store: Store, clock: Clock, ledger: Ledger, entitlements: Entitlements,
                 replies: Replies, pipeline: SpendPipeline):
        self._store = store
        self._clock = clock
        self._ledger = ledger
        self._entitlements = entitlements
        self._replies = replies
        self._pipeline = pipeline

    def models(self) -> list[Model]:
        with self._store.transaction():
            return self._store.models()

    def model(self, model_id: str) -> Model:
        with self._store.transaction():
            model = self._store.get_model(model_id)
        if model is None:
            raise NotFound("model_not_found", f"Model '{model_id}' not found.")
        return model

    def recommended(self) -> dict[str, Any]:
        with self._store.transaction():
            return self._store.recommended_models()

    def windows(self, org_id: str) -> tuple[Window, ...]:
        """The org's four rate windows now (fixed windows on the portal clock)."""
        now = self._clock.now()
        result = []
        for bucket in BUCKETS:
            start = math.floor(now / bucket.seconds) * bucket.seconds
            requests, tokens = self._store.completion_usage_since(org_id, start)
            result.append(Window(bucket, tokens if bucket.counts_tokens else requests,
                                 max(1, math.ceil(start + bucket.seconds - now))))
        return tuple(result)

    def admit(self, principal: Principal, raw_body: bytes) -> Admission:
        """Gates 2-6 in order (see the module doc), then the reply, its usage and its cost.

        Every authenticated request counts against the org's request windows, refused or not,
        save one refused for the windows themselves: a refusal is recorded (with no usage),
        and raised once that is committed."""
        with self._store.transaction():
            try:
                request, model = self._admissible(principal, raw_body)
            except PortalError as refusal:
                self._record(principal, _requested_model(raw_body), "refused", 0, 0, 0)
                raised = refusal
            else:
                windows = self.windows(principal.org_id)
                if any(w.exhausted for w in windows):
                    raise OverRateLimit(windows)
                credits = self._entitlements.credits(principal.org_id)
                if model.is_free or credits.allowed:
                    reply = self._replies.next(principal.org_id)
                    prompt, completion = prompt_tokens(request.body_bytes), completion_tokens(reply)
                    record = self._record(principal, model.id, "admitted", prompt, completion,
                                          0 if model.is_free else cost_micros(model, prompt, completion))
                    return Admission(request, record, model, reply, credits, self.windows(principal.org_id))
                self._record(principal, model.id, "refused", 0, 0, 0)
                raised = PortalError("no_usable_credits", NO_USABLE_CREDITS, status=402)
        raise raised

    def _admissible(self, principal: Principal, raw_body: bytes) -> tuple[ChatRequest, Model]:
        """Gates 2-4: the scope, the body, the model."""
        if INFERENCE_INVOKE not in principal.scopes:
            raise Forbidden("insufficient_scope", "This token lacks the inference:invoke scope.")
        request = ChatRequest.parse(raw_body)
        return request, self.model(request.model)

    def _record(self, principal: Principal, model_id: str, outcome: str, prompt: int, completion: int,
                micros: int) -> Completion:
        record = Completion(id="chatcmpl-" + secrets.token_hex(12), org_id=principal.org_id,
                            grant_id=principal.grant_id, model=model_id, prompt_tokens=prompt,
                            completion_tokens=completion, cost_micros=micros, at=self._clock.now(),
                            outcome=outcome)
        self._store.insert_completion(record)
        return record

    def bill(self, completion_id: str) -> Completion:
        """Debit an admitted completion's cost in the order of the module doc, once."""
        with self._store.transaction():
            record = self._store.get_completion(completion_id)
            if record is None or record.billed_at is not None or record.outcome != "admitted":
                return record
            credits = self._entitlements.credits(record.org_id)
            split = split_debit(credits, record.cost_micros * MICRO)
            debt_on_grant = credits.paid_plan
            if credits.plan is not None:
                grant = credits.grant - split["grant"] - (split["debt"] if debt_on_grant else ZERO)
                self._store.put_plan(replace(credits.plan, grant=grant,
                                             rollover=credits.rollover - split["rollover"]))
            from_purchased = split["purchased"] + (ZERO if debt_on_grant else split["debt"])
            if from_purchased:
                self._ledger.credit(record.org_id, -from_purchased)
            self._store.bill_completion(record.id, self._clock.now(), split)
            if from_purchased:
                self._pipeline.reload_if_due(record.org_id)
            return self._store.get_completion(record.id)
