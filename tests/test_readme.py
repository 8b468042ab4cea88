"""What README.md tells a newcomer about the public API and the demo scenario is what the portal
does: every request body it shows is accepted, and its demo table is the demo."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
API_ROW = re.compile(r"^\| `(GET|POST|PUT|PATCH|DELETE) (/[^` ]+)`([^|]*)\| (.*?) \|", re.M)
DEMO_ROW = re.compile(r"^\| (.+?) \(`(org_\w+)`, `(\w+)`\) \| (\w+) \| ([\d.]+) \| \**(on|off)\**"
                      r" \| (.+?) \| .*? \| (.*) \|$", re.M)


def bodies() -> list[tuple[str, str, bool, dict]]:
    """Each JSON body of the README's API table, with its method, path and whether the row asks
    for an `Idempotency-Key`."""
    found = [(method, path, "Idempotency-Key" in extra, json.loads(body))
             for method, path, extra, cell in API_ROW.findall(README)
             for body in re.findall(r"`(\{.*?\})`(?= or|$)", cell)]
    assert len(found) >= 7, found
    return found


@pytest.mark.parametrize("method, path, keyed, body", bodies())
def test_each_request_body_the_readme_shows_is_accepted(portal, client, method, path, keyed, body):
    headers = portal.bearer("pat@pat.test")
    if keyed:
        headers["Idempotency-Key"] = "readme-1"
    response = client.open(path, method=method, json=body, headers=headers)
    assert 200 <= response.status_code < 300, response.get_data(as_text=True)


def test_the_readme_demo_table_is_the_demo(portal):
    rows = DEMO_ROW.findall(README)
    assert [row[1] for row in rows] == ["org_acme", "org_globex", "org_pat"]
    for name, org_id, slug, kind, balance, switch, card, users in rows:
        org = portal.org(org_id)
        assert (org["name"], org["slug"], org["kind"], org["balanceUsd"]) == (name, slug, kind, balance)
        assert org["cliBillingEnabled"] is (switch == "on")
        shown = "none" if org["card"] is None else f"{org['card']['brand']} {org['card']['last4']}"
        assert card == shown
        assert set(re.findall(r"`(\S+@\S+)` \((\w+)\)", users)) == {(u["email"], u["role"]) for u in org["users"]}
