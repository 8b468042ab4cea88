"""The state every property starts from, loaded by `POST /_mock/reset`: two team orgs that can
both spend (acme and globex) and a personal org on a plan (pat), with the tier and model
catalogues spelled out, so the model reads the same prices and credits the portal is given.

acme and globex have a card and terminal billing on, so isolation properties compare two live
orgs, and the rival's values are distinctive so a leak of them into the other org's answers
shows. pat is on Plus from the reset instant on (its cycle ends 30 days later), with G, R and
P all non-zero. The stateful models read their seed values from here too.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from contract.model import Buckets, PricedModel, Tier

ACME = "org_acme"
GLOBEX = "org_globex"
PAT = "org_pat"
OWNER = "owner@acme.test"
MEMBER = "member@acme.test"
RIVAL = "owner@globex.test"
PAT_OWNER = "pat@pat.test"
BILLING_SCOPE = "inference:invoke tool:invoke billing:manage"
LOGIN_SCOPE = "inference:invoke tool:invoke"

SEED_BALANCE = {ACME: Decimal("142.5"), GLOBEX: Decimal("7331.17"), PAT: Decimal("5")}
SETTLE_AFTER_SECONDS = 3
# High enough that a charge of the maximum amount is not refused by the default 1000 ceiling.
HIGH_CAP = "1000000"

# CONTRACT.md section 7's catalogue; Plus (2025) is grandfathered (disabled).
TIERS = [
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
CATALOGUE = {t["tierId"]: Tier(t["tierId"], t["name"], t["tierOrder"], Decimal(t["dollarsPerMonthDisplay"]),
                               Decimal(t["monthlyCredits"]), t["isEnabled"]) for t in TIERS}
FREE, BASIC, PLUS_2025, PLUS, PRO, MAX = CATALOGUE
UNKNOWN_TIER = "nous-chat-plan-7"

# CONTRACT.md section 10's models: USD per token; the free one costs nothing.
MODELS = [
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
PRICES = {m["id"]: PricedModel(m["id"], Decimal(m["pricing"]["prompt"]), Decimal(m["pricing"]["completion"]))
          for m in MODELS}
FREE_MODEL = "nvidia/nemotron-3-super-120b-a12b:free"
RECOMMENDED = {
    "paidRecommendedModels": [{"modelName": "anthropic/claude-sonnet-5"}, {"modelName": "openai/gpt-5.4-mini"}],
    "freeRecommendedModels": [{"modelName": FREE_MODEL}],
    "paidRecommendedCompactionModel": {"modelName": "google/gemini-3.5-flash"},
    "paidRecommendedVisionModel": {"modelName": "google/gemini-3.5-flash"},
    "freeRecommendedCompactionModel": {"modelName": FREE_MODEL},
    "freeRecommendedVisionModel": None,
}

PAT_TIER = PLUS
PAT_SEED = Buckets(grant=Decimal("12.5"), rollover=Decimal("3"), purchased=SEED_BALANCE[PAT])


def _acme() -> dict[str, Any]:
    return {"id": ACME, "slug": "acme", "name": "Acme Inc", "kind": "team", "balanceUsd": str(SEED_BALANCE[ACME]),
            "cliBillingEnabled": True, "card": {"brand": "visa", "last4": "4242"},
            "settleAfterSeconds": SETTLE_AFTER_SECONDS,
            "users": [{"email": OWNER, "role": "OWNER"},
                      {"email": "admin@acme.test", "role": "ADMIN"},
                      {"email": MEMBER, "role": "MEMBER"}]}


def _globex() -> dict[str, Any]:
    return {"id": GLOBEX, "slug": "globex", "name": "Globex Rival Corp", "kind": "team",
            "balanceUsd": str(SEED_BALANCE[GLOBEX]), "cliBillingEnabled": True,
            "card": {"brand": "mastercard", "last4": "5454"}, "monthlyCapUsd": "8765.43",
            "settleAfterSeconds": SETTLE_AFTER_SECONDS,
            "autoReload": {"enabled": True, "thresholdUsd": "1234.56", "reloadToUsd": "4321.09"},
            "users": [{"email": RIVAL, "role": "OWNER"}]}


def _pat() -> dict[str, Any]:
    """A personal org on Plus; its cycle starts at the reset instant (no `periodStart`)."""
    return {"id": PAT, "slug": "pat", "name": "Pat Lee", "kind": "personal",
            "balanceUsd": str(PAT_SEED.purchased), "cliBillingEnabled": True,
            "card": {"brand": "visa", "last4": "4242"}, "settleAfterSeconds": SETTLE_AFTER_SECONDS,
            "subscription": {"tierId": PAT_TIER, "creditsRemaining": str(PAT_SEED.grant),
                             "rolloverCredits": str(PAT_SEED.rollover)},
            "users": [{"email": PAT_OWNER, "role": "OWNER"}]}


def world(*, pat: dict[str, Any] | None = None, **acme_changes: Any) -> dict[str, Any]:
    """The reset fixture, with `acme_changes` applied to org_acme (e.g. `monthlyCapUsd`) and
    `pat` to org_pat (e.g. `{"subscription": {...}}`)."""
    return {"tiers": TIERS, "models": MODELS, "recommendedModels": RECOMMENDED,
            "orgs": [{**_acme(), **acme_changes}, _globex(), {**_pat(), **(pat or {})}]}


# What org_globex looks like on the wire; none of it may ever reach an org_acme token.
RIVAL_SECRETS = ("Globex Rival Corp", "globex", "5454", "mastercard", "7331.17", "8765.43",
                 "1234.56", "4321.09", GLOBEX)
