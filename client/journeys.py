"""The two journeys a terminal runs: buy credits, and step up to `billing:manage` mid-buy.

Buy: read the state, validate the amount against its bounds, submit with a fresh
`Idempotency-Key`, then poll the charge every 2 s for up to 5 min. The key is what makes
retries safe: a lost answer on submit, and the replay after a step-up, reuse it, so the
portal can never take the money twice. A timeout is an outcome, not an error: the charge
may still settle later.

Step-up: a billing write answered 403 `insufficient_scope` runs the device flow for the
held scopes plus `billing:manage`. The portal may silently downscope (the approver is not
billing-capable, or left "Allow terminal billing" unticked); the new token's `scope` says so,
and the journey stops with nothing charged.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable, TypeVar

from client.billing import BillingApi, ChargeStatus, PortalSession, SubmittedCharge
from client.config import BILLING_MANAGE
from client.credentials import Credentials
from client.errors import NetworkError, PortalError, ScopeRequired, Transient, Unavailable
from client.money import validate_amount
from client.oauth import DeviceCode, device_login

POLL_INTERVAL = 2.0
POLL_TIMEOUT = 300.0
MAX_BACKOFF = 30.0
SUBMIT_ATTEMPTS = 3

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
