"""What an org admin (or a test) changes behind the API's back: the control plane's rules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mockportal.domain import scenarios
from mockportal.domain.accounts import Account, Accounts
from mockportal.domain.clock import Clock, iso
from mockportal.domain.device import DeviceCodes, DeviceLogin
from mockportal.domain.faults import ArmedFault, Faults
from mockportal.domain.journal import Journal
from mockportal.domain.ledger import FAILURE_REASONS, Ledger
from mockportal.domain.orgs import Org, load_org
from mockportal.domain.plans import period_end
from mockportal.domain.scenarios import card_columns, role
from mockportal.domain.spending import SpendPipeline
from mockportal.domain.stripe import StripeStatus, StripeSwitch
from mockportal.errors import InvalidRequest, NotFound
from mockportal.store import Store
from mockportal.store.records import Tier
from mockportal.wire import MICRO, money, parse_money, require_bool, require_number, require_whole

OUTCOMES = ("settle", "fail", "pending")


def _only(changes: Any, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(changes, dict) or not changes or set(changes) - allowed:
        raise InvalidRequest("validation_failed", f"Send an object with some of {sorted(allowed)}.")
    return changes


def _seconds(value: Any, field: str) -> float:
    number = require_number(value, field)
    if number < 0 or number > 10**9:
        raise InvalidRequest("validation_failed", f"{field} must be between 0 and 1e9 seconds.")
    return float(number)


ORG_EDITS = {"name", "balanceUsd", "cliBillingEnabled", "card", "monthlyCapUsd", "settleAfterSeconds",
             "kind", "subscription", "autoReloadCard"}


class Admin:
    def __init__(self, store: Store, clock: Clock, ledger: Ledger, pipeline: SpendPipeline):
        self._store = store
        self._clock = clock
        self._ledger = ledger
        self._pipeline = pipeline

    def edit_org(self, org_id: str, changes: Any) -> None:
        """Edit what an org admin (or Stripe, or the portal's web pages) would change. A plan
        is set whole or in part (`subscription`: an object, or null to end it); only a personal
        org whose one user is its owner can hold one."""
        changes = _only(changes, ORG_EDITS)
        columns: dict[str, Any] = {}
        if "name" in changes:
            if not isinstance(changes["name"], str):
                raise InvalidRequest("validation_failed", "name must be a string.")
            columns["name"] = changes["name"]
        if "balanceUsd" in changes:
            columns["balance"] = money(parse_money(changes["balanceUsd"], "balanceUsd"))
        if "cliBillingEnabled" in changes:
            columns["cli_billing_enabled"] = int(require_bool(changes["cliBillingEnabled"], "cliBillingEnabled"))
        if "card" in changes:
            columns.update(card_columns(changes["card"]))
        if "monthlyCapUsd" in changes:
            cap = changes["monthlyCapUsd"]
            columns["cap_limit"] = None if cap is None else money(parse_money(cap, "monthlyCapUsd"))
        if "settleAfterSeconds" in changes:
            columns["settle_after"] = _seconds(changes["settleAfterSeconds"], "settleAfterSeconds")
        if "kind" in changes:
            columns["kind"] = scenarios.kind(changes["kind"])
        if "autoReloadCard" in changes:
            columns.update(card_columns(changes["autoReloadCard"], "auto_card"))
        with self._store.transaction():
            self._ledger.catch_up(org_id)
            org = load_org(self._store, org_id)
            self._store.update_org(org_id, **columns)
            current = self._store.get_plan(org_id)
            if "subscription" in changes and changes["subscription"] is None:
                self._store.delete_plan(org_id)
            elif "subscription" in changes:
                current = scenarios.plan(org_id, changes["subscription"], self._store, self._clock.now(), current)
                self._store.put_plan(current)
            if self._store.get_plan(org_id) is not None:
                scenarios.require_plan_holder(columns.get("kind", org.kind),
                                              [u["role"] for u in self._store.users_of_org(org_id)])

    def edit_user(self, email: str, changes: Any) -> None:
        changes = _only(changes, {"role"})
        with self._store.transaction():
            if self._store.get_user(email) is None:
                raise NotFound("unknown_user", f"No user {email!r}.")
            self._store.update_user(email, role=role(changes["role"]))

    def script_outcomes(self, org_id: str, spec: Any) -> None:
        """The next `count` charges of the org settle, fail with `reason`, or stay pending forever."""
        spec = _only(spec, {"outcome", "reason", "afterSeconds", "count"})
        outcome = spec.get("outcome")
        if outcome not in OUTCOMES:
            raise InvalidRequest("validation_failed", f"outcome must be one of {', '.join(OUTCOMES)}.")
        reason = spec.get("reason", "card_declined" if outcome == "fail" else None)
        if outcome == "fail" and reason not in FAILURE_REASONS:
            raise InvalidRequest("validation_failed", f"reason must be one of {', '.join(FAILURE_REASONS)}.")
        after = spec.get("afterSeconds")
        after = None if after is None else _seconds(after, "afterSeconds")
        count = require_whole(spec.get("count", 1), "count", 1, 1000)
        with self._store.transaction():
            load_org(self._store, org_id)
            for _ in range(count):
                self._store.push_outcome(org_id, outcome, reason if outcome == "fail" else None, after)

    def debit_usage(self, org_id: str, body: Any) -> None:
        body = _only(body, {"amountUsd"})
        amount = parse_money(body["amountUsd"], "amountUsd")
        if amount <= 0:
            raise InvalidRequest("validation_failed", "amountUsd must be greater than 0.")
        with self._store.transaction():
            self._ledger.catch_up(org_id)
            load_org(self._store, org_id)
            self._ledger.credit(org_id, -amount)
            self._store.insert_usage(org_id, amount, self._clock.now())
            self._pipeline.reload_if_due(org_id)

    def find_org(self, *, org_id: str | None = None, slug: str | None = None) -> Org | None:
        """The org with this id or slug, if there is one (the portal's web pages name it)."""
        with self._store.transaction():
            row = self._store.get_org(org_id) if org_id is not None else self._store.org_with_slug(slug or "")
            return None if row is None else Org.from_row(row)

    def report(self, org_id: str) -> dict[str, Any]:
        """Everything about one org, for tests that check the ledger directly."""
        with self._store.transaction():
            self._ledger.catch_up(org_id)
            org = load_org(self._store, org_id)
            charges = self._store.charges_of_org(org_id)
            usage = self._store.usage_of_org(org_id)
            users = self._store.users_of_org(org_id)
            scripted = self._store.outcomes_of_org(org_id)
            spent = self._ledger.spent_this_month(org_id)
            plan = self._store.get_plan(org_id)
            attempts = self._store.upgrade_attempts_of_org(org_id)
            completions = self._store.completions_of_org(org_id)
            replies = self._store.replies_of_org(org_id)
        return {
            "id": org.id, "slug": org.slug, "name": org.name, "kind": org.kind,
            "balanceUsd": money(org.balance), "cliBillingEnabled": org.cli_billing_enabled,
            "card": _card(org.card), "autoReloadCard": _card(org.auto_reload_card),
            "monthlyCapUsd": None if org.cap_limit is None else money(org.cap_limit),
            "spentThisMonthUsd": money(spent), "settleAfterSeconds": org.settle_after,
            "autoReload": {"enabled": org.auto_reload.enabled,
                           "thresholdUsd": money(org.auto_reload.threshold),
                           "reloadToUsd": money(org.auto_reload.reload_to)},
            "subscription": None if plan is None else {
                "tierId": plan.tier_id, "periodStart": iso(plan.period_start),
                "cycleEndsAt": iso(period_end(plan)), "creditsRemaining": money(plan.grant),
                "rolloverCredits": money(plan.rollover), "pendingTierId": plan.pending_tier_id,
                "cancelAtPeriodEnd": plan.cancel_at_period_end},
            "users": [{"email": u["email"], "role": u["role"], "name": u["name"]} for u in users],
            "charges": [{"id": c.id, "source": c.source, "grantId": c.grant_id,
                         "amountUsd": money(c.amount), "status": c.status, "reason": c.reason,
                         "createdAt": iso(c.created_at),
                         "settledAt": None if c.settled_at is None else iso(c.settled_at)}
                        for c in charges],
            "upgradeAttempts": [{"targetTierId": a.target_tier_id, "status": a.status, "reason": a.reason,
                                 "amountCents": a.amount_cents, "grantId": a.grant_id, "at": iso(a.at)}
                                for a in attempts],
            "usage": [{"amountUsd": u["amount"], "at": iso(u["at"])} for u in usage],
            "completions": [{"id": c.id, "model": c.model, "outcome": c.outcome, "grantId": c.grant_id,
                             "promptTokens": c.prompt_tokens, "completionTokens": c.completion_tokens,
                             "costUsd": money(c.cost_micros * MICRO), "at": iso(c.at),
                             "billedAt": None if c.billed_at is None else iso(c.billed_at),
                             "fromGrantUsd": money(c.from_grant), "fromRolloverUsd": money(c.from_rollover),
                             "fromPurchasedUsd": money(c.from_purchased), "debtUsd": money(c.debt)}
                            for c in completions],
            "scriptedReplies": replies,
            "scriptedOutcomes": [{"outcome": s["outcome"], "reason": s["reason"],
                                  "afterSeconds": s["after_seconds"]} for s in scripted],
        }


def _card(card) -> dict[str, str] | None:
    return None if card is None else {"brand": card.brand, "last4": card.last4}


@dataclass(frozen=True)
class Snapshot:
    """Everything the dashboard shows, read in one transaction, so at one portal instant."""

    now: float
    frozen: bool
    stripe: StripeStatus
    tiers: list[Tier]
    orgs: list[dict[str, Any]]  # `Admin.report` of each org, as `GET /_mock/orgs/{id}` answers
    logins: list[DeviceLogin]  # waiting for a decision
    users: list[Account]
    faults: list[ArmedFault]
    journal: list[dict[str, Any]]  # `Journal.entries`, as `GET /_mock/requests` answers


class Overview:
    """The whole portal at a glance, for the control plane's dashboard."""

    def __init__(self, store: Store, clock: Clock, admin: Admin, device: DeviceCodes, accounts: Accounts,
                 faults: Faults, stripe: StripeSwitch, journal: Journal):
        self._store = store
        self._clock = clock
        self._admin = admin
        self._device = device
        self._accounts = accounts
        self._faults = faults
        self._stripe = stripe
        self._journal = journal

    def read(self, journal_limit: int, *, path_part: str | None = None, status: str | None = None) -> Snapshot:
        """Every org's report, the logins waiting, the faults armed, the Stripe switch and the
        last `journal_limit` journal entries matching the filters, at one instant."""
        with self._store.transaction():
            journal = self._journal.entries(journal_limit, path_part=path_part, status=status)
            return Snapshot(now=self._clock.now(), frozen=self._clock.is_frozen(), stripe=self._stripe.status(),
                            tiers=self._store.tiers(),
                            orgs=[self._admin.report(org_id) for org_id in self._store.list_org_ids()],
                            logins=self._device.waiting(), users=self._accounts.everyone(),
                            faults=self._faults.armed(), journal=journal)
