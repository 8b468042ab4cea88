"""What an org admin (or a test) changes behind the API's back: the control plane's rules."""

from __future__ import annotations

from typing import Any

from mockportal.domain.clock import Clock, iso
from mockportal.domain.ledger import FAILURE_REASONS, Ledger
from mockportal.domain.orgs import load_org
from mockportal.domain.scenarios import card_columns, role
from mockportal.errors import InvalidRequest, NotFound
from mockportal.store import Store
from mockportal.wire import money, parse_money, require_bool, require_number, require_whole

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


class Admin:
    def __init__(self, store: Store, clock: Clock, ledger: Ledger):
        self._store = store
        self._clock = clock
        self._ledger = ledger

    def edit_org(self, org_id: str, changes: Any) -> None:
        changes = _only(changes, {"name", "balanceUsd", "cliBillingEnabled", "card", "monthlyCapUsd",
                                  "settleAfterSeconds"})
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
        with self._store.transaction():
            load_org(self._store, org_id)
            self._store.update_org(org_id, **columns)

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
            load_org(self._store, org_id)
            self._ledger.debit_usage(org_id, amount)

    def report(self, org_id: str) -> dict[str, Any]:
        """Everything about one org, for tests that check the ledger directly."""
        with self._store.transaction():
            self._ledger.settle_due(org_id)
            org = load_org(self._store, org_id)
            charges = self._store.charges_of_org(org_id)
            usage = self._store.usage_of_org(org_id)
            users = self._store.users_of_org(org_id)
            scripted = self._store.outcomes_of_org(org_id)
            spent = self._ledger.spent_this_month(org_id)
        return {
            "id": org.id, "slug": org.slug, "name": org.name, "balanceUsd": money(org.balance),
            "cliBillingEnabled": org.cli_billing_enabled,
            "card": None if org.card is None else {"brand": org.card.brand, "last4": org.card.last4},
            "monthlyCapUsd": None if org.cap_limit is None else money(org.cap_limit),
            "spentThisMonthUsd": money(spent), "settleAfterSeconds": org.settle_after,
            "autoReload": {"enabled": org.auto_reload.enabled,
                           "thresholdUsd": money(org.auto_reload.threshold),
                           "reloadToUsd": money(org.auto_reload.reload_to)},
            "users": [{"email": u["email"], "role": u["role"], "name": u["name"]} for u in users],
            "charges": [{"id": c["id"], "source": c["source"], "grantId": c["grant_id"],
                         "amountUsd": c["amount"], "status": c["status"], "reason": c["reason"],
                         "createdAt": iso(c["created_at"]),
                         "settledAt": None if c["settled_at"] is None else iso(c["settled_at"])}
                        for c in charges],
            "usage": [{"amountUsd": u["amount"], "at": iso(u["at"])} for u in usage],
            "scriptedOutcomes": [{"outcome": s["outcome"], "reason": s["reason"],
                                  "afterSeconds": s["after_seconds"]} for s in scripted],
        }
