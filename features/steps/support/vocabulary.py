"""The words scenarios use, as parse types: money, people, roles, counts, durations, choices,
plans and models.

Registered once, on first import, so every step module shares one vocabulary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable

from behave import register_type
from parse import with_pattern

from client.config import BILLING_MANAGE, LOGIN_SCOPE

BILLING_SCOPE = f"{LOGIN_SCOPE} {BILLING_MANAGE}"


@dataclass(frozen=True)
class Person:
    email: str
    org_id: str


# The demo scenario's people (CONTRACT.md section 8). "The org" is Acme Inc: a saved Visa
# card and one user per role. "Another org" is Globex: no card, terminal billing turned off.
# Both are teams. Pat is the one person of a personal org, on Plus (CONTRACT.md section 7).
THE_ORG = "org_acme"
PEOPLE = {
    "Pat": Person("pat@pat.test", "org_pat"),
    "the owner": Person("owner@acme.test", "org_acme"),
    "an admin": Person("admin@acme.test", "org_acme"),
    "a finance admin": Person("finance@acme.test", "org_acme"),
    "a security admin": Person("security@acme.test", "org_acme"),
    "a member": Person("member@acme.test", "org_acme"),
    "the owner of another org": Person("owner@globex.test", "org_globex"),
}
ROLES = {"owner": "OWNER", "admin": "ADMIN", "finance admin": "FINANCE_ADMIN",
         "security admin": "SECURITY_ADMIN", "member": "MEMBER"}
TIMES = {"once": 1, "twice": 2, "three times": 3, "four times": 4, "five times": 5}
# Whether the approver ticks "Allow terminal billing" on the approval page.
TICKS = {'with "Allow terminal billing" ticked': True, 'leaving "Allow terminal billing" unticked': False}
# Whether a monthly cap is the portal's default ceiling.
CAPS = {"the default ceiling": True, "a cap the org set itself": False}
ON_OFF = {"on": True, "off": False}
# The method and path pattern of the requests a fault is aimed at.
REQUESTS = {"polls of the charge": ("GET", "/api/billing/charge/*"),
            "submissions of the purchase": ("POST", "/api/billing/charge")}
SECONDS_PER = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
# The demo catalogue of plans (CONTRACT.md section 7), by the names people use.
PLANS = {"Free": "nous-free", "Basic": "nous-chat-plan-10", "Plus (2025)": "nous-chat-plan-15",
         "Plus": "nous-chat-plan-20", "Pro": "nous-chat-plan-40", "Max": "nous-chat-plan-100"}
# The demo catalogue of models (CONTRACT.md section 10).
MODELS = {"Claude Sonnet 5": "anthropic/claude-sonnet-5", "GPT-5.4 mini": "openai/gpt-5.4-mini",
          "Gemini 3.5 Flash": "google/gemini-3.5-flash", "Claude Haiku 4.5": "anthropic/claude-haiku-4.5",
          "the free Nemotron": "nvidia/nemotron-3-super-120b-a12b:free"}


def phrases(table: dict[str, Any]) -> Callable[[str], Any]:
    """A parse type that reads one of `table`'s phrases as its value. Longest first, so
    "the owner of another org" is never read as "the owner"."""
    pattern = "|".join(re.escape(phrase) for phrase in sorted(table, key=len, reverse=True))

    @with_pattern(pattern)
    def read(text: str) -> Any:
        return table[text]

    return read


@with_pattern(r"\$[0-9][0-9,]*(?:\.[0-9]+)?")
def money(text: str) -> Decimal:
    """`$25`, `$42.50`, `$10,000.01` as an exact Decimal."""
    return Decimal(text[1:].replace(",", ""))


@with_pattern(r"[0-9]+ (?:second|minute|hour|day)s?")
def duration(text: str) -> int:
    """`3 seconds`, `10 minutes`, `1 hour`, `20 days` in seconds."""
    count, unit = text.split()
    return int(count) * SECONDS_PER[unit.rstrip("s")]


register_type(Money=money, Duration=duration, Person=phrases(PEOPLE), Role=phrases(ROLES),
              Times=phrases(TIMES), Tick=phrases(TICKS), Cap=phrases(CAPS), OnOff=phrases(ON_OFF),
              Requests=phrases(REQUESTS), Plan=phrases(PLANS), Model=phrases(MODELS))
