"""Who is on stage in a scenario: one terminal per person, and "she", the last one named.

Scenarios read like a story ("Given the owner is logged in ... When she buys $25"), so the
steps keep the person most recently named as the one "she" and "her" refer to.
"""

from __future__ import annotations

from typing import Any

from steps.support.terminal import Terminal
from steps.support.vocabulary import THE_ORG, Person


def she(context) -> Terminal:
    if getattr(context, "she", None) is None:
        raise AssertionError("The scenario has not said who is at the terminal yet.")
    return context.she


def enter(context, person: Person) -> Terminal:
    """`person`'s terminal, opened on first mention; she is now who "she" means."""
    terminal = context.terminals.get(person.email)
    if terminal is None:
        terminal = Terminal(person, context.base_url, context.home, context.time)
        context.terminals[person.email] = terminal
    context.she = terminal
    return terminal


def log_in(context, person: Person, scope: str) -> Terminal:
    """A login for `person` with exactly `scope`, minted by the control plane (no browser)."""
    terminal = enter(context, person)
    terminal.log_in(context.control.token(person.email, scope))
    return terminal


def org_charges(context, org_id: str = THE_ORG, source: str | None = None) -> list[dict[str, Any]]:
    """Every charge of the org, as the portal's ledger holds them (oldest first); or only those
    from `source` (`terminal`, `auto_reload`, `upgrade`)."""
    return [charge for charge in context.control.org(org_id)["charges"] if source in (None, charge["source"])]
