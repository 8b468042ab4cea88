"""One pipeline for every way money is spent: terminal charges, auto-reload and plan upgrades.

A spend policy says which gates run, in which order, under which idempotency namespace and
request fingerprint, and how the card is finally charged. The pipeline runs a policy's gates
in one transaction: the first gate that refuses raises its contract error; a gate may instead
answer early (an idempotent replay, an upgrade to the tier the org is already on); otherwise
the policy pays. An answer that is not a replay is remembered under the request's key.

The three policies, and so the order of every gate, are at the bottom of this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_UP, Decimal
from typing import Any, Callable

from mockportal.domain import upgrades
from mockportal.domain.clock import Clock
from mockportal.domain.idempotency import IdempotencyKeys, StoredResponse, require_key
from mockportal.domain.ledger import CENT, Ledger
from mockportal.domain.orgs import MAX_USD, MIN_USD, Card, Org, load_org, require_spender
from mockportal.domain.plans import Catalogue
from mockportal.domain.ratelimit import DailyUpgradeAttempts, HourlyChargeLimit
from mockportal.domain.stripe import StripeSwitch
from mockportal.domain.tokens import BILLING_MANAGE, Principal, Tokens
from mockportal.errors import Conflict, Forbidden, InvalidRequest, PortalError
from mockportal.store import Store
from mockportal.store.records import Plan
from mockportal.wire import JsonBody, decimal_places, money, require_number


@dataclass
class Spend:
    """One attempt to spend as it passes the gates: who asks, for which org, and what each
    gate has established so far."""

    policy: "SpendPolicy"
    principal: Principal | None
    org: Org
    plan: Plan | None
    key_header: str | None = None
    body: JsonBody | None = None
    key: str | None = None
    fingerprint: str | None = None  # what makes two uses of one key the same request
    request: Any = None  # what the body asked for: an amount, a tier id
    amount: Decimal | None = None  # what the card will be charged, in USD
    card: Card | None = None
    quote: Any = None  # an upgrade's proration, worked out by its plan gate
    replayed: bool = False


@dataclass(frozen=True)
class SpendResult:
    response: StoredResponse
    replayed: bool = False


# A gate raises its contract error to refuse, or returns an answer that ends the run early.
Gate = Callable[["SpendPipeline", Spend], "StoredResponse | None"]


@dataclass(frozen=True)
class SpendPolicy:
    name: str
    gates: tuple[Gate, ...]  # in the contract's order: the first to refuse answers
    pay: Callable[["SpendPipeline", Spend], StoredResponse]
    source: str  # what the charge is recorded as
    card: Callable[[Org, Plan | None], Card | None]
    namespace: str | None = None  # idempotency namespace; None: nothing is remembered
    parse: Callable[[JsonBody], tuple[str, Any]] | None = None  # body -> (fingerprint, request)
    describe: Callable[[str], str] = str  # a fingerprint, for the 409 message


class SpendPipeline:
    def __init__(self, store: Store, clock: Clock, ledger: Ledger, catalogue: Catalogue,
                 stripe: StripeSwitch):
        self.store = store
        self.clock = clock
        self.ledger = ledger
        self.catalogue = catalogue
        self.stripe = stripe
        self.keys = IdempotencyKeys(store, clock)
        self.hourly = HourlyChargeLimit(store, clock)
        self.daily_upgrades = DailyUpgradeAttempts(store, clock)

    def run(self, policy: SpendPolicy, principal: Principal | None, org_id: str, *,
            key_header: str | None = None, body: JsonBody | None = None) -> SpendResult:
        """Run `policy`'s gates in order, then pay, in one transaction (so concurrent requests
        with one key make exactly one attempt)."""
        with self.store.transaction():
            self.ledger.catch_up(org_id)
            spend = Spend(policy, principal, load_org(self.store, org_id), self.store.get_plan(org_id),
                          key_header, body)
            for gate in policy.gates:
                response = gate(self, spend)
                if response is not None:
                    break
            else:
                response = policy.pay(self, spend)
            if policy.namespace is not None and not spend.replayed:
                self.keys.remember(spend.org.id, policy.namespace, spend.key, spend.fingerprint, response)
            return SpendResult(response, spend.replayed)

    def reload_if_due(self, org_id: str) -> str | None:
        """Auto-reload after a debit of P: the charge id, or None when no gate lets it run
        (not enabled, not below the threshold, no card, one in flight, no headroom)."""
        try:
            return self.run(AUTO_RELOAD, None, org_id).response.body["chargeId"]
        except PortalError:
            return None


# -- the body of a charge ------------------------------------------------------------------
def require_cents(value: Decimal, field: str) -> Decimal:
    if decimal_places(value) > 2:
        raise InvalidRequest("validation_failed", f"{field} has more than 2 decimal places.")
    return value


def require_within_bounds(value: Decimal, field: str) -> Decimal:
    if not MIN_USD <= value <= MAX_USD:
        raise InvalidRequest("amount_out_of_bounds",
                             f"{field} must be between {money(MIN_USD)} and {money(MAX_USD)} USD.")
    return value


def charge_amount(body: JsonBody) -> tuple[str, Decimal]:
    """Gate 7: the body is exactly `{"amountUsd": number}`, > 0, at most 2 dp, within bounds.
    Amounts compare as numbers, so `25` and `25.0` are one fingerprint."""
    amount = require_number(body.object_with_exactly({"amountUsd"})["amountUsd"], "amountUsd")
    if amount <= 0:
        raise InvalidRequest("validation_failed", "amountUsd must be greater than 0.")
    amount = require_within_bounds(require_cents(amount, "amountUsd"), "amountUsd")
    return money(amount), amount


# -- gates shared by the policies ----------------------------------------------------------
def billing_scope(pipeline: SpendPipeline, spend: Spend) -> None:
    """Gate 2: the grant carries billing:manage."""
    Tokens.require_scope(spend.principal, BILLING_MANAGE)


def spender(pipeline: SpendPipeline, spend: Spend) -> None:
    """Gates 3-5: spending not revoked, a billing role, the org's kill-switch on."""
    require_spender(spend.principal, spend.org)


def idempotency_key(pipeline: SpendPipeline, spend: Spend) -> None:
    """Gate 6: an Idempotency-Key of 1-255 printable ASCII characters."""
    spend.key = require_key(spend.key_header, spend.policy.name)


def valid_body(pipeline: SpendPipeline, spend: Spend) -> None:
    """Gate 7: the body is exactly what the policy accepts."""
    spend.fingerprint, spend.request = spend.policy.parse(spend.body)
    if isinstance(spend.request, Decimal):
        spend.amount = spend.request


def replay(pipeline: SpendPipeline, spend: Spend) -> StoredResponse | None:
    """Gate 8: the same key and request replay the stored answer; another request is a 409."""
    original = pipeline.keys.replay(spend.org.id, spend.policy.namespace, spend.key, spend.fingerprint,
                                    spend.policy.describe)
    spend.replayed = original is not None
    return original


def card_on_file(pipeline: SpendPipeline, spend: Spend) -> None:
    """Gate 9: the org has a card this policy may charge."""
    spend.card = spend.policy.card(spend.org, spend.plan)
    if spend.card is None:
        raise Forbidden("no_payment_method", "No saved card; add one in the portal.",
                        portal_url="/billing?topup=open")


def within_monthly_cap(pipeline: SpendPipeline, spend: Spend) -> None:
    """Gate 10: the amount fits in what the month's cap has left."""
    headroom = pipeline.ledger.headroom(spend.org)
    if spend.amount > headroom:
        raise Forbidden("monthly_cap_exceeded",
                        f"This charge would pass the monthly cap; {money(headroom)} USD remains.",
                        remainingUsd=money(headroom), isDefaultCeiling=spend.org.cap_limit is None)


def hourly_charge_limit(pipeline: SpendPipeline, spend: Spend) -> None:
    """Gate 11: at most 5 accepted terminal charges per rolling hour, per org and per grant."""
    pipeline.hourly.check(spend.principal)


def pending_charge(pipeline: SpendPipeline, spend: Spend) -> StoredResponse:
    """Accept: a charge pending until its outcome is due (202, money not yet credited)."""
    grant_id = None if spend.principal is None else spend.principal.grant_id
    charge_id = pipeline.ledger.accept(spend.org, spend.amount, source=spend.policy.source,
                                       grant_id=grant_id, card=spend.card)
    return StoredResponse(202, {"chargeId": charge_id})


def payment_card(org: Org, plan: Plan | None) -> Card | None:
    """What a charge or an upgrade uses: the card ladder of `/state.card`."""
    found = org.payment_card(has_plan=plan is not None)
    return None if found is None else found.card


# -- auto-reload's own gates (its refusals are silent: nothing is charged) -----------------
def below_reload_threshold(pipeline: SpendPipeline, spend: Spend) -> None:
    """Reload only when enabled and the purchased balance is below the threshold; the amount
    is what brings it back to the reload-to balance, rounded up to the cent."""
    rule = spend.org.auto_reload
    if not rule.enabled or spend.org.balance >= rule.threshold:
        raise InvalidRequest("auto_reload_not_due", "The balance is not below the reload threshold.")
    spend.amount = (rule.reload_to - spend.org.balance).quantize(CENT, rounding=ROUND_UP)


def one_reload_in_flight(pipeline: SpendPipeline, spend: Spend) -> None:
    """One reload at a time, or a burst of debits would stack reloads."""
    if pipeline.store.has_pending_charge(spend.org.id, spend.policy.source):
        raise Conflict("auto_reload_in_flight", "An auto-reload is already pending.")


def clamped_to_monthly_cap(pipeline: SpendPipeline, spend: Spend) -> None:
    """A reload charges at most what the month's cap has left, and nothing under a cent."""
    spend.amount = min(spend.amount, pipeline.ledger.headroom(spend.org))
    if spend.amount < CENT:
        raise Forbidden("monthly_cap_exceeded", "The monthly cap leaves nothing to reload.")


# -- the policies: every spend's gates, in order --------------------------------------------
TERMINAL_CHARGE = SpendPolicy(
    name="charge", source="terminal", namespace="charge",
    gates=(billing_scope, spender, idempotency_key, valid_body, replay,
           card_on_file, within_monthly_cap, hourly_charge_limit),
    parse=charge_amount, describe=lambda amount: f"a charge of {amount} USD",
    card=payment_card, pay=pending_charge)

AUTO_RELOAD = SpendPolicy(
    name="auto-reload", source="auto_reload",
    gates=(below_reload_threshold, card_on_file, one_reload_in_flight, clamped_to_monthly_cap),
    card=lambda org, plan: org.reload_card,
    pay=pending_charge)

UPGRADE = SpendPolicy(
    name="upgrade", source="upgrade", namespace="upgrade",
    gates=(billing_scope, spender, idempotency_key, valid_body, replay,
           upgrades.plan_change, card_on_file, within_monthly_cap, upgrades.daily_attempts,
           upgrades.stripe_available),
    parse=upgrades.target_tier, describe=lambda tier_id: f"an upgrade to {tier_id}",
    card=payment_card, pay=upgrades.charge_subscription_card)
