"""Named scenarios and inline fixtures: the whole state a reset puts in place.

A fixture is JSON in the same camelCase vocabulary as the API:
`{"tiers": [{"tierId", "name", "tierOrder", "dollarsPerMonthDisplay", "monthlyCredits",
"isEnabled"}], "orgs": [{"id", "slug", "name", "kind", "balanceUsd", "cliBillingEnabled",
"card", "autoReloadCard", "monthlyCapUsd", "autoReload": {"enabled", "thresholdUsd",
"reloadToUsd"}, "settleAfterSeconds", "subscription": {"tierId", "periodStart",
"creditsRemaining", "rolloverCredits", "pendingTierId", "cancelAtPeriodEnd"},
"users": [{"email", "role", "name"}]}], "models": [{"id", "name", "context_length", "pricing":
{"prompt", "completion", "input_cache_read", "input_cache_write"}}], "recommendedModels": {...}}`.
Everything but an org's `id` and `users` has a default; without `tiers`, `models` or
`recommendedModels` the demo's are used.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any, Callable

from mockportal.domain.clock import Clock, iso, parse_iso
from mockportal.domain.orgs import DEFAULT_SETTLE_AFTER_SECONDS, KINDS, PERSONAL, ROLES, TEAM
from mockportal.domain.stripe import StripeSwitch
from mockportal.errors import InvalidRequest
from mockportal.store import Store
from mockportal.store.records import Model, Plan, Tier
from mockportal.wire import is_ascii_digits, money, parse_money, require_bool, require_whole

DEMO_TIERS = [
    {"tierId": "nous-free", "name": "Free", "tierOrder": 0, "dollarsPerMonthDisplay": "0",
     "monthlyCredits": "0", "isEnabled": True},
    {"tierId": "nous-chat-plan-10", "name": "Basic", "tierOrder": 1, "dollarsPerMonthDisplay": "10",
     "monthlyCredits": "10", "isEnabled": True},
    {"tierId": "nous-chat-plan-15", "name": "Plus (2025)", "tierOrder": 1, "dollarsPerMonthDisplay": "15",
     "monthlyCredits": "15", "isEnabled": False},
    {"tierId": "nous-chat-plan-20", "name": "Plus", "tierOrder": 2, "dollarsPerMonthDisplay": "20",
     "monthlyCredits": "22", "isEnabled": True},
    {"tierId": "nous-chat-plan-40", "name": "Pro", "tierOrder": 3, "dollarsPerMonthDisplay": "40",
     "monthlyCredits": "45", "isEnabled": True},
    {"tierId": "nous-chat-plan-100", "name": "Max", "tierOrder": 4, "dollarsPerMonthDisplay": "100",
     "monthlyCredits": "115", "isEnabled": True},
]
DEMO_MODELS = [
    {"id": "anthropic/claude-sonnet-5", "name": "Claude Sonnet 5", "context_length": 200000,
     "pricing": {"prompt": "0.000003", "completion": "0.000015", "input_cache_read": "0.0000003",
                 "input_cache_write": "0.00000375"}},
    {"id": "openai/gpt-5.4-mini", "name": "GPT-5.4 mini", "context_length": 400000,
     "pricing": {"prompt": "0.00000025", "completion": "0.000002"}},
    {"id": "google/gemini-3.5-flash", "name": "Gemini 3.5 Flash", "context_length": 1048576,
     "pricing": {"prompt": "0.0000003", "completion": "0.0000025"}},
    {"id": "anthropic/claude-haiku-4.5", "name": "Claude Haiku 4.5", "context_length": 200000,
     "pricing": {"prompt": "0.000001", "completion": "0.000005"}},
    {"id": "nvidia/nemotron-3-super-120b-a12b:free", "name": "Nemotron 3 Super (free)", "context_length": 131072,
     "pricing": {"prompt": "0", "completion": "0"}},
]
DEMO_RECOMMENDED = {
    "paidRecommendedModels": [{"modelName": "anthropic/claude-sonnet-5"}, {"modelName": "openai/gpt-5.4-mini"}],
    "freeRecommendedModels": [{"modelName": "nvidia/nemotron-3-super-120b-a12b:free"}],
    "paidRecommendedCompactionModel": {"modelName": "google/gemini-3.5-flash"},
    "paidRecommendedVisionModel": {"modelName": "google/gemini-3.5-flash"},
    "freeRecommendedCompactionModel": {"modelName": "nvidia/nemotron-3-super-120b-a12b:free"},
    "freeRecommendedVisionModel": None,
}
MODEL_CREATED = 1780272000
DAY = 24 * 3600


def demo(now: float) -> dict[str, Any]:
    """acme and globex are teams; pat is a personal org on Plus, ten days into its cycle."""
    return {"tiers": DEMO_TIERS, "models": DEMO_MODELS, "recommendedModels": DEMO_RECOMMENDED, "orgs": [
        {"id": "org_acme", "slug": "acme", "name": "Acme Inc", "kind": TEAM, "balanceUsd": "142.5",
         "cliBillingEnabled": True, "card": {"brand": "visa", "last4": "4242"},
         "users": [{"email": "owner@acme.test", "role": "OWNER", "name": "Olivia Owner"},
                   {"email": "admin@acme.test", "role": "ADMIN", "name": "Adam Admin"},
                   {"email": "finance@acme.test", "role": "FINANCE_ADMIN", "name": "Fiona Finance"},
                   {"email": "security@acme.test", "role": "SECURITY_ADMIN", "name": "Sam Security"},
                   {"email": "member@acme.test", "role": "MEMBER", "name": "Mia Member"}]},
        {"id": "org_globex", "slug": "globex", "name": "Globex", "kind": TEAM, "balanceUsd": "0",
         "cliBillingEnabled": False, "card": None,
         "users": [{"email": "owner@globex.test", "role": "OWNER", "name": "Gus Globex"}]},
        {"id": "org_pat", "slug": "pat", "name": "Pat Lee", "kind": PERSONAL, "balanceUsd": "5",
         "cliBillingEnabled": True, "card": {"brand": "visa", "last4": "4242"},
         "subscription": {"tierId": "nous-chat-plan-20", "periodStart": iso(now - 10 * DAY),
                          "creditsRemaining": "12.5", "rolloverCredits": "3"},
         "users": [{"email": "pat@pat.test", "role": "OWNER", "name": "Pat Lee"}]},
    ]}


SCENARIOS: dict[str, Callable[[float], dict[str, Any]]] = {
    "demo": demo,
    "empty": lambda now: {"orgs": []},
}


def card_columns(card: Any, prefix: str = "card") -> dict[str, Any]:
    """`{"brand", "last4"}` or null, as org columns (`last4` is 4 digits, or "" for Link)."""
    if card is None:
        return {f"{prefix}_brand": None, f"{prefix}_last4": None}
    if (not isinstance(card, dict) or set(card) != {"brand", "last4"}
            or not isinstance(card["brand"], str) or not isinstance(card["last4"], str)
            or card["last4"] and (len(card["last4"]) != 4 or not is_ascii_digits(card["last4"]))):
        raise InvalidRequest("validation_failed", 'A card is null or {"brand": str, "last4": "4 digits" or ""}.')
    return {f"{prefix}_brand": card["brand"], f"{prefix}_last4": card["last4"]}


def role(value: Any) -> str:
    if value not in ROLES:
        raise InvalidRequest("validation_failed", f"role must be one of {', '.join(ROLES)}.")
    return value


def kind(value: Any) -> str:
    if value not in KINDS:
        raise InvalidRequest("validation_failed", f"kind must be one of {', '.join(KINDS)}.")
    return value


def _text(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidRequest("validation_failed", f"{field} must be a non-empty string.")
    return value


def tier(spec: Any) -> Tier:
    if not isinstance(spec, dict):
        raise InvalidRequest("validation_failed", "Fixture tiers must be objects.")
    price = parse_money(spec.get("dollarsPerMonthDisplay", "0"), "dollarsPerMonthDisplay")
    credits = parse_money(spec.get("monthlyCredits", "0"), "monthlyCredits")
    if price < 0 or credits < 0:
        raise InvalidRequest("validation_failed", "A tier's price and credits are not negative.")
    return Tier(id=_text(spec.get("tierId"), "tierId"), name=_text(spec.get("name", spec.get("tierId")), "name"),
                order=require_whole(spec.get("tierOrder", 0), "tierOrder", 0, 10**6), price=price,
                credits=credits, enabled=require_bool(spec.get("isEnabled", True), "isEnabled"))


def _price(value: Any, field: str) -> Decimal:
    price = parse_money(value, field)
    if price < 0:
        raise InvalidRequest("validation_failed", f"{field} is not negative.")
    return price


def model(spec: Any) -> Model:
    """A model of the inference catalogue, in the `/v1/models` shape."""
    if not isinstance(spec, dict) or not isinstance(spec.get("pricing"), dict):
        raise InvalidRequest("validation_failed", 'Fixture models are {"id", "name", "context_length", "pricing"}.')
    pricing = spec["pricing"]
    optional = lambda key: None if pricing.get(key) is None else _price(pricing[key], key)  # noqa: E731
    return Model(id=_text(spec.get("id"), "id"), name=_text(spec.get("name", spec.get("id")), "name"),
                 context_length=require_whole(spec.get("context_length", 131072), "context_length", 1024, 10_000_000),
                 prompt_price=_price(pricing.get("prompt", "0"), "prompt"),
                 completion_price=_price(pricing.get("completion", "0"), "completion"),
                 cache_read_price=optional("input_cache_read"), cache_write_price=optional("input_cache_write"),
                 created=require_whole(spec.get("created", MODEL_CREATED), "created", 0, 2**40))


def recommended_models(spec: Any, known: set[str]) -> dict[str, Any]:
    """The recommendations: lists of `{"modelName"}` and single `{"modelName"}` or null, each a
    model of the catalogue."""
    if not isinstance(spec, dict):
        raise InvalidRequest("validation_failed", "recommendedModels is an object.")
    for key, value in spec.items():
        entries = value if isinstance(value, list) else [] if value is None else [value]
        for entry in entries:
            if not isinstance(entry, dict) or entry.get("modelName") not in known:
                raise InvalidRequest("validation_failed", f"recommendedModels.{key} names a model not in the catalogue.")
    return spec


PLAN_KEYS = {"tierId", "periodStart", "creditsRemaining", "rolloverCredits", "pendingTierId",
             "cancelAtPeriodEnd"}


def plan(org_id: str, spec: Any, store: Store, now: float, current: Plan | None = None) -> Plan:
    """A plan from its control-plane shape; keys left out keep `current`'s values, or start a
    fresh cycle now with the tier's full grant."""
    if not isinstance(spec, dict) or set(spec) - PLAN_KEYS:
        raise InvalidRequest("validation_failed", f"subscription is null or an object with some of {sorted(PLAN_KEYS)}.")
    tier_id = spec.get("tierId", current.tier_id if current else None)
    found = None if not isinstance(tier_id, str) else store.get_tier(tier_id)
    if found is None:
        raise InvalidRequest("validation_failed", "subscription.tierId must be a tier of the catalogue.")
    base = current or Plan(org_id, found.id, now, found.credits, Decimal(0), None, False)
    result = replace(base, tier_id=found.id)
    if "periodStart" in spec:
        try:
            result = replace(result, period_start=parse_iso(_text(spec["periodStart"], "periodStart")))
        except (ValueError, OverflowError):
            raise InvalidRequest("validation_failed", "subscription.periodStart must be an ISO-8601 instant.") from None
    if "creditsRemaining" in spec:
        result = replace(result, grant=parse_money(spec["creditsRemaining"], "creditsRemaining"))
    if "rolloverCredits" in spec:
        rollover = parse_money(spec["rolloverCredits"], "rolloverCredits")
        if rollover < 0:
            raise InvalidRequest("validation_failed", "subscription.rolloverCredits is never negative.")
        result = replace(result, rollover=rollover)
    if "pendingTierId" in spec:
        pending = spec["pendingTierId"]
        if pending is not None and (not isinstance(pending, str) or store.get_tier(pending) is None):
            raise InvalidRequest("validation_failed", "subscription.pendingTierId must be null or a tier of the catalogue.")
        result = replace(result, pending_tier_id=pending)
    if "cancelAtPeriodEnd" in spec:
        result = replace(result, cancel_at_period_end=require_bool(spec["cancelAtPeriodEnd"], "cancelAtPeriodEnd"))
    if result.pending_tier_id is not None and result.cancel_at_period_end:
        raise InvalidRequest("validation_failed", "A plan has a pending tier change or a cancellation, not both.")
    return result


def require_plan_holder(org_kind: str, users: list[str]) -> None:
    """Only a personal org, whose one user is its owner, can hold a plan."""
    if org_kind != PERSONAL or users != ["OWNER"]:
        raise InvalidRequest("validation_failed", "Only a personal org (exactly one user, its OWNER) can hold a plan.")


def _org_row(org: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(org.get("id"), str) or not org["id"]:
        raise InvalidRequest("validation_failed", "Every fixture org needs a string id.")
    auto = org.get("autoReload") or {}
    cap = org.get("monthlyCapUsd")
    return {
        "id": org["id"], "slug": org.get("slug", org["id"]), "name": org.get("name", org["id"]),
        "kind": kind(org.get("kind", TEAM)),
        "balance": money(parse_money(org.get("balanceUsd", "0"), "balanceUsd")),
        "cli_billing_enabled": int(bool(org.get("cliBillingEnabled", True))),
        **card_columns(org.get("card")),
        **card_columns(org.get("autoReloadCard"), "auto_card"),
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
    tiers = fixture.get("tiers", DEMO_TIERS)
    if not isinstance(tiers, list):
        raise InvalidRequest("validation_failed", "tiers must be a list.")
    with store.transaction():
        store.clear_state()
        clock.rewind_offset()
        StripeSwitch(store).set(available=True)
        for spec in tiers:
            store.insert_tier(tier(spec))
        models = fixture.get("models", DEMO_MODELS)
        if not isinstance(models, list):
            raise InvalidRequest("validation_failed", "models must be a list.")
        for position, spec in enumerate(models):
            store.insert_model(model(spec), position)
        store.set_recommended_models(recommended_models(fixture.get("recommendedModels", DEMO_RECOMMENDED),
                                                        {m.id for m in store.models()}))
        for org in fixture["orgs"]:
            if not isinstance(org, dict):
                raise InvalidRequest("validation_failed", "Fixture orgs must be objects.")
            row = _org_row(org)
            store.insert_org(row)
            users = org.get("users", [])
            if not isinstance(users, list):
                raise InvalidRequest("validation_failed", "Fixture users must be a list.")
            for user in users:
                if not isinstance(user, dict) or not isinstance(user.get("email"), str):
                    raise InvalidRequest("validation_failed", "Fixture users need an email.")
                store.insert_user({"email": user["email"], "org_id": org["id"],
                                   "role": role(user.get("role", "MEMBER")),
                                   "name": str(user.get("name", user["email"]))})
            if org.get("subscription") is not None:
                require_plan_holder(row["kind"], [u["role"] for u in store.users_of_org(org["id"])])
                store.put_plan(plan(org["id"], org["subscription"], store, clock.now()))


def load_scenario(store: Store, clock: Clock, name: str) -> None:
    if name not in SCENARIOS:
        raise InvalidRequest("unknown_scenario", f"Scenarios: {', '.join(sorted(SCENARIOS))}.")
    with store.transaction():
        clock.rewind_offset()
        load_fixture(store, clock, SCENARIOS[name](clock.now()))


def seed_once(store: Store, clock: Clock, name: str) -> None:
    """Seed a fresh database; a database that already has state (a restart) keeps it."""
    with store.transaction():
        if store.get_meta("seeded") is None:
            load_scenario(store, clock, name)
            store.set_meta("seeded", name)
