"""Named scenarios and inline fixtures: the whole state a reset puts in place.

A fixture is JSON in the same camelCase vocabulary as the API:
`{"orgs": [{"id", "slug", "name", "balanceUsd", "cliBillingEnabled", "card", "monthlyCapUsd",
"autoReload": {"enabled", "thresholdUsd", "reloadToUsd"}, "settleAfterSeconds",
"users": [{"email", "role", "name"}]}]}`; everything but `id` and `users` has a default.
"""

from __future__ import annotations

from typing import Any

from mockportal.domain.clock import Clock
from mockportal.domain.orgs import DEFAULT_SETTLE_AFTER_SECONDS, ROLES
from mockportal.errors import InvalidRequest
from mockportal.store import Store
from mockportal.wire import money, parse_money

DEMO: dict[str, Any] = {"orgs": [
    {"id": "org_acme", "slug": "acme", "name": "Acme Inc", "balanceUsd": "142.5",
     "cliBillingEnabled": True, "card": {"brand": "visa", "last4": "4242"},
     "users": [{"email": "owner@acme.test", "role": "OWNER", "name": "Olivia Owner"},
               {"email": "admin@acme.test", "role": "ADMIN", "name": "Adam Admin"},
               {"email": "finance@acme.test", "role": "FINANCE_ADMIN", "name": "Fiona Finance"},
               {"email": "security@acme.test", "role": "SECURITY_ADMIN", "name": "Sam Security"},
               {"email": "member@acme.test", "role": "MEMBER", "name": "Mia Member"}]},
    {"id": "org_globex", "slug": "globex", "name": "Globex", "balanceUsd": "0",
     "cliBillingEnabled": False, "card": None,
     "users": [{"email": "owner@globex.test", "role": "OWNER", "name": "Gus Globex"}]},
]}

SCENARIOS = {"demo": DEMO, "empty": {"orgs": []}}


def card_columns(card: Any) -> dict[str, Any]:
    """`{"brand", "last4"}` or null, as org columns."""
    if card is None:
        return {"card_brand": None, "card_last4": None}
    if (not isinstance(card, dict) or set(card) != {"brand", "last4"}
            or not isinstance(card["brand"], str) or not isinstance(card["last4"], str)
            or len(card["last4"]) != 4 or not card["last4"].isdigit()):
        raise InvalidRequest("validation_failed", 'card must be null or {"brand": str, "last4": "4 digits"}.')
    return {"card_brand": card["brand"], "card_last4": card["last4"]}


def role(value: Any) -> str:
    if value not in ROLES:
        raise InvalidRequest("validation_failed", f"role must be one of {', '.join(ROLES)}.")
    return value


def _org_row(org: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(org.get("id"), str) or not org["id"]:
        raise InvalidRequest("validation_failed", "Every fixture org needs a string id.")
    auto = org.get("autoReload") or {}
    cap = org.get("monthlyCapUsd")
    return {
        "id": org["id"], "slug": org.get("slug", org["id"]), "name": org.get("name", org["id"]),
        "balance": money(parse_money(org.get("balanceUsd", "0"), "balanceUsd")),
        "cli_billing_enabled": int(bool(org.get("cliBillingEnabled", True))),
        **card_columns(org.get("card")),
        "cap_limit": None if cap is None else money(parse_money(cap, "monthlyCapUsd")),
        "auto_enabled": int(bool(auto.get("enabled", False))),
        "auto_threshold": money(parse_money(auto.get("thresholdUsd", "20"), "thresholdUsd")),
        "auto_reload_to": money(parse_money(auto.get("reloadToUsd", "100"), "reloadToUsd")),
        "settle_after": float(org.get("settleAfterSeconds", DEFAULT_SETTLE_AFTER_SECONDS)),
    }


def load_fixture(store: Store, clock: Clock, fixture: Any) -> None:
    """Replace all state with `fixture`; the clock goes back to its configured start."""
    if not isinstance(fixture, dict) or not isinstance(fixture.get("orgs"), list):
        raise InvalidRequest("validation_failed", 'A fixture is {"orgs": [...]}.')
    with store.transaction():
        store.clear_state()
        clock.rewind_offset()
        for org in fixture["orgs"]:
            if not isinstance(org, dict):
                raise InvalidRequest("validation_failed", "Fixture orgs must be objects.")
            store.insert_org(_org_row(org))
            for user in org.get("users", []):
                if not isinstance(user, dict) or not isinstance(user.get("email"), str):
                    raise InvalidRequest("validation_failed", "Fixture users need an email.")
                store.insert_user({"email": user["email"], "org_id": org["id"],
                                   "role": role(user.get("role", "MEMBER")),
                                   "name": str(user.get("name", user["email"]))})


def load_scenario(store: Store, clock: Clock, name: str) -> None:
    if name not in SCENARIOS:
        raise InvalidRequest("unknown_scenario", f"Scenarios: {', '.join(sorted(SCENARIOS))}.")
    load_fixture(store, clock, SCENARIOS[name])


def seed_once(store: Store, clock: Clock, name: str) -> None:
    """Seed a fresh database; a database that already has state (a restart) keeps it."""
    with store.transaction():
        if store.get_meta("seeded") is None:
            load_scenario(store, clock, name)
            store.set_meta("seeded", name)
