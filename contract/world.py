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
PAT_OWNER = "owner@pat.test"  # not the demo's pat@pat.test, which test_openapi.py adds on its own org
BILLING_SCOPE = "inference:invoke tool:invoke billing:manage"
LOGIN_SCOPE = "inference:invoke tool:invoke"

SEED_BALANCE = {ACME: Decimal("142.5"), GLOBEX: Decimal("7331.17"), PAT: Decimal("5")}
SETTLE_AFTER_SECONDS = 3
# High enough that a charge of the maximum amount is not refused by the default 1000 ceiling.
HIGH_CAP = "1000000"

# CONTRACT.md section 7's catalogue: (tierId, name, tierOrder, USD per month, credits per
# month, isEnabled); Plus (2025) is grandfathered.
TIER_TABLE = [("nous-free", "Free", 0, "0", "0", True),
              ("nous-chat-plan-10", "Basic", 1, "10", "10", True),
              ("nous-chat-plan-15", "Plus (2025)", 1, "15", "15", False),
              ("nous-chat-plan-20", "Plus", 2, "20", "22", True),
              ("nous-chat-plan-40", "Pro", 3, "40", "45", True),
              ("nous-chat-plan-100", "Max", 4, "100", "115", True)]
TIERS = [{"tierId": tier_id, "name": name, "tierOrder": order, "dollarsPerMonthDisplay": price,
          "monthlyCredits": credits, "isEnabled": enabled}
         for tier_id, name, order, price, credits, enabled in TIER_TABLE]
CATALOGUE = {tier_id: Tier(tier_id, name, order, Decimal(price), Decimal(credits), enabled)
             for tier_id, name, order, price, credits, enabled in TIER_TABLE}
FREE, BASIC, PLUS_2025, PLUS, PRO, MAX = CATALOGUE
UNKNOWN_TIER = "nous-chat-plan-7"

# CONTRACT.md section 10's models: (id, name, context length, USD per prompt token, per
# completion token); the free one costs nothing.
MODEL_TABLE = [("anthropic/claude-sonnet-5", "Claude Sonnet 5", 200000, "0.000003", "0.000015"),
               ("openai/gpt-5.4-mini", "GPT-5.4 mini", 400000, "0.00000025", "0.000002"),
               ("google/gemini-3.5-flash", "Gemini 3.5 Flash", 1048576, "0.0000003", "0.0000025"),
               ("anthropic/claude-haiku-4.5", "Claude Haiku 4.5", 200000, "0.000001", "0.000005"),
               ("nvidia/nemotron-3-super-120b-a12b:free", "Nemotron 3 Super (free)", 131072, "0", "0")]
MODELS = [{"id": model_id, "name": name, "context_length": context,
           "pricing": {"prompt": prompt, "completion": completion}}
          for model_id, name, context, prompt, completion in MODEL_TABLE]
PRICES = {model_id: PricedModel(model_id, Decimal(prompt), Decimal(completion))
          for model_id, _, _, prompt, completion in MODEL_TABLE}
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
