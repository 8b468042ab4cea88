"""`--db FILE` keeps state across restarts, also across a mockportal upgrade: a file written by
an older schema is migrated forward when it is opened, and what it held still works."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from mockportal import create_app
from mockportal.domain.tokens import REFRESH_TOKEN_SECONDS
from mockportal.store import Store
from mockportal.store.schema import LATEST, MIGRATIONS

DATA = Path(__file__).parent / "data"
# Written by mockportal 6048bf6, before the schema had a version: the demo scenario, a settled
# charge of 25 (key k-v0), a pending one of 10, a usage debit of 2.5 and a device code.
V0 = DATA / "portal-schema-v0.sqlite"
V0_FACTS = json.loads((DATA / "portal-schema-v0.json").read_text())


@pytest.fixture
def old_file(tmp_path) -> str:
    path = tmp_path / "portal.db"
    shutil.copy(V0, path)
    return str(path)


def user_version(path: str) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA user_version").fetchone()[0]


def test_migrations_are_numbered_in_order_from_one():
    assert [m.version for m in MIGRATIONS] == list(range(1, LATEST + 1))


def test_a_file_from_before_versioning_opens_and_keeps_its_state(old_file):
    assert user_version(old_file) == 0
    client = create_app({"DATABASE": old_file}).test_client()
    assert user_version(old_file) == LATEST

    bearer = {"Authorization": "Bearer " + V0_FACTS["access_token"]}
    state = client.get("/api/billing/state", headers=bearer)
    assert state.status_code == 200, state.json
    assert state.json["balanceUsd"] == V0_FACTS["balance_after"]
    assert client.get(f"/api/billing/charge/{V0_FACTS['settled_charge']}", headers=bearer).json == {
        "status": "settled", "amountUsd": "25", "settledAt": "2026-06-10T12:00:03Z"}

    replay = client.post("/api/billing/charge", data=b'{"amountUsd": 25}', content_type="application/json",
                         headers={**bearer, "Idempotency-Key": V0_FACTS["idempotency_key"]})
    assert replay.status_code == 202 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json == {"chargeId": V0_FACTS["settled_charge"]}

    client.post("/_mock/clock", json={"advanceSeconds": 5})  # the pending charge of 10 comes due
    assert client.get("/api/billing/state", headers=bearer).json["balanceUsd"] == "175"

    refreshed = client.post("/api/oauth/token", headers={"x-nous-refresh-token": V0_FACTS["refresh_token"]},
                            data={"grant_type": "refresh_token", "client_id": "hermes-cli"})
    assert refreshed.status_code == 200 and refreshed.json["expires_in"] == 3600


def test_a_migrated_file_has_the_plan_catalogue_and_its_orgs_run_on_their_balance(old_file):
    client = create_app({"DATABASE": old_file}).test_client()
    bearer = {"Authorization": "Bearer " + V0_FACTS["access_token"]}
    subscription = client.get("/api/billing/subscription", headers=bearer).json
    assert subscription["context"] == "team" and subscription["current"] is None
    report = client.get("/_mock/orgs/org_acme").json
    assert report["kind"] == "team" and report["subscription"] is None and report["autoReloadCard"] is None
    client.post("/_mock/reset", json={"scenario": "demo"})
    assert client.get("/_mock/orgs/org_pat").json["subscription"]["tierId"] == "nous-chat-plan-20"


def test_opening_a_current_file_again_changes_nothing(tmp_path):
    path = str(tmp_path / "portal.db")
    Store(path).close()
    with sqlite3.connect(path) as conn:
        before = conn.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall()
    Store(path).close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall() == before
    assert user_version(path) == LATEST


def test_a_file_from_a_newer_mockportal_is_refused_with_a_clear_message(tmp_path):
    path = str(tmp_path / "portal.db")
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {LATEST + 1}")
    with pytest.raises(RuntimeError, match="newer mockportal"):
        Store(path)


def test_sql_outside_a_transaction_is_refused():
    store = Store()
    with pytest.raises(RuntimeError, match="outside a transaction"):
        store.get_org("org_acme")


def test_a_migrated_file_forgets_its_old_device_codes_and_refresh_tokens_by_age(old_file):
    client = create_app({"DATABASE": old_file}).test_client()
    with sqlite3.connect(old_file) as conn:
        indexes = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"device_codes_by_expiry", "access_tokens_by_expiry", "access_tokens_by_grant",
            "refresh_tokens_by_age", "refresh_tokens_by_grant"} <= indexes
    client.post("/_mock/clock", json={"advanceSeconds": REFRESH_TOKEN_SECONDS + 1})
    refreshed = client.post("/api/oauth/token", headers={"x-nous-refresh-token": V0_FACTS["refresh_token"]},
                            data={"grant_type": "refresh_token", "client_id": "hermes-cli"})
    assert refreshed.json["error"] == "invalid_grant"  # a year after it was issued
    assert client.post("/api/oauth/device/code", data={"client_id": "hermes-cli"}).status_code == 200
    assert client.post("/_mock/tokens", json={"user": "owner@acme.test"}).status_code == 200
    with sqlite3.connect(old_file) as conn:
        assert conn.execute("SELECT COUNT(*) FROM device_codes").fetchone()[0] == 1
        assert conn.execute("SELECT COUNT(*) FROM refresh_tokens").fetchone()[0] == 1
    bearer = {"Authorization": "Bearer " + V0_FACTS["access_token"]}
    assert client.get("/api/billing/state", headers=bearer).status_code == 200  # its access token lives on
