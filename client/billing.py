"""The billing API (CONTRACT.md §3-§5, and the plan routes of §7) behind a login that
refreshes itself.

`PortalSession` sends the stored bearer token; on a 401 `invalid_token` it rotates the
refresh token once and retries once (a `session_revoked` 401 is final: only a new login
helps). `BillingApi` turns answers into typed values with Decimal money. These types are
the client's own, not mockportal's: the client is written to the contract alone, as a real
terminal is, so it never imports the server.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, TypeVar
from urllib.parse import quote, urljoin, urlsplit

from client.credentials import Credentials, CredentialStore
from client.errors import AuthError, NetworkError, SessionRevoked
from client.money import parse_money
from client.oauth import refresh
from client.transport import Reply, Transport

T = TypeVar("T")


class PortalSession:
    def __init__(self, transport: Transport, store: CredentialStore):
        self.transport = transport
        self.store = store

    @property
    def credentials(self) -> Credentials:
        credentials = self.store.load()
        if credentials is None:
            raise AuthError(None, "invalid_token", "Not logged in.")
        return credentials

    def authorized(self, send: Callable[[str], T]) -> T:
        """`send(access_token)`; on a 401 `invalid_token`, rotate the pair once and send again."""
        credentials = self.credentials
        try:
            return send(credentials.access_token)
        except SessionRevoked:
            raise
        except AuthError:
            if credentials.refresh_token is None:
                raise  # spent or never issued: only a new login helps
            renewed = refresh(self.transport, self.store, credentials)
        return send(renewed.access_token)

    def request(self, method: str, path: str, json_body: Any = None, headers: dict[str, str] | None = None) -> Reply:
        return self.authorized(lambda token: self.transport.request(method, path, token=token,
                                                                    json_body=json_body, headers=headers))


@dataclass(frozen=True)
class Card:
    brand: str
    last4: str
    resolved_via: str | None = None  # subPin | customerDefault | autoRefill: which card a charge uses

    @property
    def label(self) -> str | None:
        """How the card is named before an upgrade charges it (CONTRACT.md §7): only a card the
        subscription itself would be charged on is named."""
        return {"subPin": "the card on your subscription",
                "customerDefault": "your default card saved on the portal"}.get(self.resolved_via or "")


@dataclass(frozen=True)
class MonthlyCap:
    limit: Decimal
    spent_this_month: Decimal
    is_default_ceiling: bool


@dataclass(frozen=True)
class AutoReload:
    enabled: bool
    threshold: Decimal
    reload_to: Decimal


@dataclass(frozen=True)
class BillingState:
    org_id: str
    org_name: str
    role: str
    can_change_plan: bool
    balance: Decimal
    cli_billing_enabled: bool
    presets: tuple[Decimal, ...]
    min_usd: Decimal
    max_usd: Decimal
    card: Card | None  # None also when the role may not see it
    monthly_cap: MonthlyCap | None
    auto_reload: AutoReload | None
    portal_url: str


@dataclass(frozen=True)
class ChargeStatus:
    status: str  # pending | settled | failed
    amount: Decimal | None = None
    settled_at: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class SubmittedCharge:
    charge_id: str
    replayed: bool  # the portal answered an earlier request with this idempotency key


@dataclass(frozen=True)
class Tier:
    tier_id: str
    name: str
    order: int
    price: Decimal  # USD a month
    monthly_credits: Decimal  # USD of usage included a month
    is_current: bool
    is_enabled: bool


@dataclass(frozen=True)
class CurrentPlan:
    tier_id: str
    tier_name: str
    monthly_credits: Decimal
    credits_remaining: Decimal  # this cycle's grant plus rollover; negative is debt
    cycle_ends_at: str | None  # ISO-8601 UTC
    pending_tier_name: str | None
    pending_at: str | None
    cancel_at_period_end: bool
    cancellation_effective_at: str | None


@dataclass(frozen=True)
class Subscription:
    org_id: str
    org_name: str
    role: str
    can_change_plan: bool
    context: str  # personal | team
    current: CurrentPlan | None  # None: no plan (Free), and always for a team
    tiers: tuple[Tier, ...]
    portal_url: str  # absolute
    manage_url: str  # absolute: {origin}/manage-subscription?org_id=<org>

    @property
    def is_team(self) -> bool:
        return self.context == "team"

    def find(self, wanted: str) -> Tier | None:
        """The listed tier with that id, else the one with that name (any case)."""
        for tier in self.tiers:
            if tier.tier_id == wanted:
                return tier
        return next((tier for tier in self.tiers if tier.name.lower() == wanted.strip().lower()), None)


@dataclass(frozen=True)
class Preview:
    effect: str  # charge_now | scheduled | no_op | blocked (any other value reads as blocked)
    reason: str | None  # blocked: a sentence for people
    current_tier_id: str | None
    current_tier_name: str | None
    target_tier_id: str | None
    target_tier_name: str | None
    monthly_credits_delta: Decimal | None
    amount_due_now_cents: int | None  # charge_now: the prorated charge; None when it cannot be quoted
    effective_at: str | None  # scheduled: when the change takes effect


@dataclass(frozen=True)
class PendingChange:
    cancel_at_period_end: bool | None
    target_tier_name: str | None
    effective_at: str | None
    message: str | None


@dataclass(frozen=True)
class UpgradeAnswer:
    status: str | None  # upgraded | already_on_tier | requires_action | payment_failed; else unknown
    target_tier_id: str | None
    target_tier_name: str | None
    reason: str | None
    recovery_url: str | None  # absolute, printed as is
    amount_charged_cents: int | None
    replayed: bool  # the portal answered an earlier request with this idempotency key


PREVIEW_EFFECTS = ("charge_now", "scheduled", "no_op", "blocked")
BILLING_ROLES = ("OWNER", "ADMIN")  # canChangePlan's fallback when the portal does not say


def shaped(parse: Callable[..., T], *args: Any) -> T:
    """Parse an answer; a missing field or a malformed amount means the endpoint is not the
    portal we know, which the client treats like no answer at all (`network_error`)."""
    try:
        return parse(*args)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise NetworkError(f"Unexpected answer from the portal ({exc!r}).") from exc


def auto_reload_from(body: dict[str, Any] | None) -> AutoReload | None:
    if body is None:
        return None
    return AutoReload(body["enabled"], parse_money(body["thresholdUsd"]), parse_money(body["reloadToUsd"]))


def state_from(body: dict[str, Any], base_url: str) -> BillingState:
    card, cap = body["card"], body["monthlyCap"]
    return BillingState(
        org_id=body["org"]["id"], org_name=body["org"]["name"], role=body["org"]["role"],
        can_change_plan=body["canChangePlan"], balance=parse_money(body["balanceUsd"]),
        cli_billing_enabled=body["cliBillingEnabled"],
        presets=tuple(parse_money(preset) for preset in body["chargePresets"]),
        min_usd=parse_money(body["bounds"]["minUsd"]), max_usd=parse_money(body["bounds"]["maxUsd"]),
        card=None if card is None else Card(card["brand"], card["last4"], card.get("resolvedVia")),
        monthly_cap=None if cap is None else MonthlyCap(
            parse_money(cap["limitUsd"]), parse_money(cap["spentThisMonthUsd"]), cap["isDefaultCeiling"]),
        auto_reload=auto_reload_from(body["autoReload"]),
        portal_url=urljoin(base_url + "/", body.get("portalUrl", "/billing")))


def charge_status_from(body: dict[str, Any]) -> ChargeStatus:
    amount = body.get("amountUsd")
    return ChargeStatus(status=body["status"], amount=None if amount is None else parse_money(amount),
                        settled_at=body.get("settledAt"), reason=body.get("reason"))


def cents(value: Any) -> int | None:
    """A JSON integer of cents; anything else (null, a bool, a string) is no amount."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def optional_money(value: Any) -> Decimal | None:
    return None if value is None else parse_money(value)


def tier_from(body: dict[str, Any]) -> Tier:
    enabled = body.get("isEnabled")
    return Tier(tier_id=str(body.get("tierId") or body["id"]), name=str(body.get("name") or ""),
                order=int(body.get("tierOrder") or 0), price=parse_money(body["dollarsPerMonthDisplay"]),
                monthly_credits=parse_money(body["monthlyCredits"]), is_current=body.get("isCurrent") is True,
                is_enabled=enabled is not False)


def current_plan_from(body: Any) -> CurrentPlan | None:
    """`current`: null, or a complete plan with a `tierId` (else `id`)."""
    if not isinstance(body, dict) or not (body.get("tierId") or body.get("id")):
        return None
    return CurrentPlan(
        tier_id=str(body.get("tierId") or body["id"]), tier_name=str(body.get("tierName") or body.get("name") or ""),
        monthly_credits=parse_money(body["monthlyCredits"]), credits_remaining=parse_money(body["creditsRemaining"]),
        cycle_ends_at=body.get("cycleEndsAt"), pending_tier_name=body.get("pendingDowngradeTierName"),
        pending_at=body.get("pendingDowngradeAt"), cancel_at_period_end=body.get("cancelAtPeriodEnd") is True,
        cancellation_effective_at=body.get("cancellationEffectiveAt"))


def subscription_from(body: dict[str, Any], base_url: str) -> Subscription:
    org, can_change = body["org"], body.get("canChangePlan")
    portal_url = urljoin(base_url + "/", body.get("portalUrl") or "/billing")
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(portal_url))
    return Subscription(
        org_id=org["id"], org_name=org["name"], role=org["role"],
        can_change_plan=can_change if isinstance(can_change, bool) else org["role"] in BILLING_ROLES,
        context="team" if body.get("context") == "team" else "personal",
        current=current_plan_from(body.get("current")),
        tiers=tuple(tier_from(tier) for tier in body.get("tiers") or ()),
        portal_url=portal_url, manage_url=f"{origin}/manage-subscription?org_id={quote(org['id'], safe='')}")


def preview_from(body: dict[str, Any]) -> Preview:
    effect = body.get("effect")
    return Preview(effect=effect if effect in PREVIEW_EFFECTS else "blocked", reason=body.get("reason") or None,
                   current_tier_id=body.get("currentTierId"), current_tier_name=body.get("currentTierName"),
                   target_tier_id=body.get("targetTierId"), target_tier_name=body.get("targetTierName"),
                   monthly_credits_delta=optional_money(body.get("monthlyCreditsDelta")),
                   amount_due_now_cents=cents(body.get("amountDueNowCents")),
                   effective_at=body.get("effectiveAt") or None)


def pending_change_from(body: dict[str, Any]) -> PendingChange:
    cancel = body.get("cancelAtPeriodEnd")
    return PendingChange(cancel_at_period_end=cancel if isinstance(cancel, bool) else None,
                         target_tier_name=body.get("targetTierName"), effective_at=body.get("effectiveAt"),
                         message=body.get("message") or None)


def upgrade_answer_from(body: dict[str, Any], replayed: bool) -> UpgradeAnswer:
    """Never refuses a shape: a missing or unknown `status` is itself the answer ("maybe charged")."""
    return UpgradeAnswer(status=body.get("status"), target_tier_id=body.get("targetTierId"),
                         target_tier_name=body.get("targetTierName"), reason=body.get("reason"),
                         recovery_url=body.get("recoveryUrl"),
                         amount_charged_cents=cents(body.get("amountChargedCents")), replayed=replayed)


class BillingApi:
    def __init__(self, session: PortalSession):
        self.session = session

    def state(self) -> BillingState:
        body = self.session.request("GET", "/api/billing/state").body
        return shaped(state_from, body, self.session.transport.base_url)

    def charge(self, amount: Decimal, idempotency_key: str) -> SubmittedCharge:
        reply = self.session.request("POST", "/api/billing/charge", json_body={"amountUsd": amount},
                                     headers={"Idempotency-Key": idempotency_key})
        charge_id = shaped(lambda body: str(body["chargeId"]), reply.body)
        return SubmittedCharge(charge_id, reply.headers.get("Idempotent-Replayed") == "true")

    def charge_status(self, charge_id: str) -> ChargeStatus:
        body = self.session.request("GET", "/api/billing/charge/" + quote(charge_id, safe="")).body
        return shaped(charge_status_from, body)

    def configure_auto_reload(self, enabled: bool, threshold: Decimal, reload_to: Decimal) -> AutoReload:
        """`topUpAmount` is the balance to reload *to*, not an amount to add (CONTRACT.md §5)."""
        body = self.session.request("PATCH", "/api/billing/auto-top-up", json_body={
            "enabled": enabled, "threshold": threshold, "topUpAmount": reload_to}).body
        return shaped(lambda answer: auto_reload_from(answer["autoReload"]), body)

    # -- the plan (CONTRACT.md §7) ---------------------------------------------------------
    def subscription(self) -> Subscription:
        """The plan and the catalogue; any valid login may read them."""
        body = self.session.request("GET", "/api/billing/subscription").body
        return shaped(subscription_from, body, self.session.transport.base_url)

    def preview(self, tier_id: str) -> Preview:
        """What moving to `tier_id` would do now; moves no money (needs `billing:manage`)."""
        body = self.session.request("POST", "/api/billing/subscription/preview",
                                    json_body={"subscriptionTypeId": tier_id}).body
        return shaped(preview_from, body)

    def schedule_change(self, tier_id: str) -> PendingChange:
        """A cheaper or same-price tier from the end of the cycle; replaces anything pending."""
        body = self.session.request("PUT", "/api/billing/subscription/pending-change",
                                    json_body={"type": "tier_change", "subscriptionTypeId": tier_id}).body
        return shaped(pending_change_from, body)

    def schedule_cancellation(self) -> PendingChange:
        """The plan ends at the end of the cycle; replaces anything pending."""
        body = self.session.request("PUT", "/api/billing/subscription/pending-change",
                                    json_body={"type": "cancellation"}).body
        return shaped(pending_change_from, body)

    def clear_pending_change(self) -> PendingChange:
        """Take back a scheduled downgrade or cancellation: the plan renews as it is."""
        body = self.session.request("DELETE", "/api/billing/subscription/pending-change").body
        return shaped(pending_change_from, body)

    def upgrade(self, tier_id: str, idempotency_key: str) -> UpgradeAnswer:
        """Charge the prorated difference now and move to `tier_id` at once; one key, one upgrade."""
        reply = self.session.request("POST", "/api/billing/subscription/upgrade",
                                     json_body={"subscriptionTypeId": tier_id},
                                     headers={"Idempotency-Key": idempotency_key})
        return upgrade_answer_from(reply.body, reply.headers.get("Idempotent-Replayed") == "true")
