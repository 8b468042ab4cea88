"""The state every property starts from: two orgs that can both spend, loaded by `POST /_mock/reset`.

Both orgs have a card and terminal billing on, so isolation properties compare two live orgs,
and the rival's values are distinctive so a leak of them into the other org's answers shows.
The stateful model reads its seed values from here too.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

ACME = "org_acme"
GLOBEX = "org_globex"
OWNER = "owner@acme.test"
MEMBER = "member@acme.test"
RIVAL = "owner@globex.test"
BILLING_SCOPE = "inference:invoke tool:invoke billing:manage"

SEED_BALANCE = {ACME: Decimal("142.5"), GLOBEX: Decimal("7331.17")}
SETTLE_AFTER_SECONDS = 3
# High enough that a charge of the maximum amount is not refused by the default 1000 ceiling.
HIGH_CAP = "1000000"


def _acme() -> dict[str, Any]:
    return {"id": ACME, "slug": "acme", "name": "Acme Inc", "balanceUsd": str(SEED_BALANCE[ACME]),
            "cliBillingEnabled": True, "card": {"brand": "visa", "last4": "4242"},
            "settleAfterSeconds": SETTLE_AFTER_SECONDS,
            "users": [{"email": OWNER, "role": "OWNER"},
                      {"email": "admin@acme.test", "role": "ADMIN"},
                      {"email": MEMBER, "role": "MEMBER"}]}


def _globex() -> dict[str, Any]:
    return {"id": GLOBEX, "slug": "globex", "name": "Globex Rival Corp",
            "balanceUsd": str(SEED_BALANCE[GLOBEX]), "cliBillingEnabled": True,
            "card": {"brand": "mastercard", "last4": "5454"}, "monthlyCapUsd": "8765.43",
            "settleAfterSeconds": SETTLE_AFTER_SECONDS,
            "autoReload": {"enabled": True, "thresholdUsd": "1234.56", "reloadToUsd": "4321.09"},
            "users": [{"email": RIVAL, "role": "OWNER"}]}


def world(**acme_changes: Any) -> dict[str, Any]:
    """The reset fixture, with `acme_changes` applied to org_acme (e.g. `monthlyCapUsd`)."""
    return {"orgs": [{**_acme(), **acme_changes}, _globex()]}


# What org_globex looks like on the wire; none of it may ever reach an org_acme token.
RIVAL_SECRETS = ("Globex Rival Corp", "globex", "5454", "mastercard", "7331.17", "8765.43",
                 "1234.56", "4321.09", GLOBEX)
