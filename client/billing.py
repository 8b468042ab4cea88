"""The billing API (CONTRACT.md §3-§5) behind a login that refreshes itself.

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
from urllib.parse import quote, urljoin

from client.credentials import Credentials, CredentialStore
from client.errors import AuthError, NetworkError, SessionRevoked
from client.money import parse_money
from client.oauth import refresh
from client.transport import Reply, Transport


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

    def request(self, method: str, path: str, json_body: Any = None, headers: dict[str, str] | None = None) -> Reply:
        credentials = self.credentials
        try:
            return self.transport.request(method, path, token=credentials.access_token,
                                          json_body=json_body, headers=headers)
        except SessionRevoked:
            raise
        except AuthError:
            if credentials.refresh_token is None:
                raise  # spent or never issued: only a new login helps
            renewed = refresh(self.transport, self.store, credentials)
        return self.transport.request(method, path, token=renewed.access_token,
                                      json_body=json_body, headers=headers)


@dataclass(frozen=True)
class Card:
    brand: str
    last4: str


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


T = TypeVar("T")


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
        card=None if card is None else Card(card["brand"], card["last4"]),
        monthly_cap=None if cap is None else MonthlyCap(
            parse_money(cap["limitUsd"]), parse_money(cap["spentThisMonthUsd"]), cap["isDefaultCeiling"]),
        auto_reload=auto_reload_from(body["autoReload"]),
        portal_url=urljoin(base_url + "/", body.get("portalUrl", "/billing")))


def charge_status_from(body: dict[str, Any]) -> ChargeStatus:
    amount = body.get("amountUsd")
    return ChargeStatus(status=body["status"], amount=None if amount is None else parse_money(amount),
                        settled_at=body.get("settledAt"), reason=body.get("reason"))


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
