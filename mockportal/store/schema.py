"""The schema, as ordered migrations stamped into `PRAGMA user_version`.

`--db FILE` promises that state survives a restart, also across a mockportal upgrade: a file
written by any earlier version is brought forward one migration at a time when it is opened,
each migration in its own transaction with its version stamp. A migration, once released, is
never edited; a change is a new one at the end.

Version 1 is the schema as it stood before versioning, verbatim with `IF NOT EXISTS`, so a
file written then (user_version 0, tables present) and an empty file both pass through it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    version: int
    summary: str
    script: str


MIGRATIONS = (
    Migration(1, "the schema before versioning", """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orgs (
    id TEXT PRIMARY KEY, slug TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
    balance TEXT NOT NULL, cli_billing_enabled INTEGER NOT NULL,
    card_brand TEXT, card_last4 TEXT, cap_limit TEXT,
    auto_enabled INTEGER NOT NULL, auto_threshold TEXT NOT NULL, auto_reload_to TEXT NOT NULL,
    settle_after REAL NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    email TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES orgs(id), role TEXT NOT NULL,
    name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS grants (
    id TEXT PRIMARY KEY, user_email TEXT NOT NULL, org_id TEXT NOT NULL, client_id TEXT NOT NULL,
    scope TEXT NOT NULL, created_at REAL NOT NULL, spending_revoked_by TEXT, revoked_at REAL);
CREATE TABLE IF NOT EXISTS access_tokens (
    jti TEXT PRIMARY KEY, grant_id TEXT NOT NULL, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS refresh_tokens (
    token_hash TEXT PRIMARY KEY, grant_id TEXT NOT NULL, created_at REAL NOT NULL, used_at REAL);
CREATE TABLE IF NOT EXISTS device_codes (
    device_code TEXT PRIMARY KEY, user_code TEXT NOT NULL UNIQUE, client_id TEXT NOT NULL,
    scope TEXT NOT NULL, expires_at REAL NOT NULL, status TEXT NOT NULL, last_polled_at REAL,
    user_email TEXT, granted_scope TEXT);
CREATE TABLE IF NOT EXISTS charges (
    id TEXT PRIMARY KEY, org_id TEXT NOT NULL, grant_id TEXT, source TEXT NOT NULL,
    amount TEXT NOT NULL, created_at REAL NOT NULL, status TEXT NOT NULL,
    outcome TEXT NOT NULL, reason TEXT, settle_at REAL, settled_at REAL);
CREATE INDEX IF NOT EXISTS charges_by_org ON charges(org_id, created_at);
CREATE INDEX IF NOT EXISTS charges_by_grant ON charges(grant_id, created_at);
CREATE TABLE IF NOT EXISTS idempotency_keys (
    org_id TEXT NOT NULL, key TEXT NOT NULL, amount TEXT NOT NULL, status INTEGER NOT NULL,
    body TEXT NOT NULL, created_at REAL NOT NULL, PRIMARY KEY (org_id, key));
CREATE INDEX IF NOT EXISTS idempotency_keys_by_age ON idempotency_keys(created_at);
CREATE TABLE IF NOT EXISTS usage_debits (
    id INTEGER PRIMARY KEY AUTOINCREMENT, org_id TEXT NOT NULL, amount TEXT NOT NULL,
    at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS scripted_outcomes (
    id INTEGER PRIMARY KEY AUTOINCREMENT, org_id TEXT NOT NULL, outcome TEXT NOT NULL,
    reason TEXT, after_seconds REAL);
CREATE TABLE IF NOT EXISTS faults (
    id INTEGER PRIMARY KEY AUTOINCREMENT, method TEXT NOT NULL, path TEXT NOT NULL,
    remaining INTEGER NOT NULL, status INTEGER NOT NULL, error TEXT NOT NULL,
    message TEXT NOT NULL, retry_after INTEGER, delay_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS request_journal (
    id INTEGER PRIMARY KEY AUTOINCREMENT, method TEXT NOT NULL, path TEXT NOT NULL,
    status INTEGER NOT NULL, at REAL NOT NULL);
"""),
    Migration(2, "subscriptions: org kind and auto-reload card, the tier catalogue, plans, "
                 "upgrade attempts; idempotency keys by namespace and request fingerprint", """
ALTER TABLE orgs ADD COLUMN kind TEXT NOT NULL DEFAULT 'team';
ALTER TABLE orgs ADD COLUMN auto_card_brand TEXT;
ALTER TABLE orgs ADD COLUMN auto_card_last4 TEXT;
CREATE TABLE tiers (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, tier_order INTEGER NOT NULL, price TEXT NOT NULL,
    credits TEXT NOT NULL, enabled INTEGER NOT NULL);
-- A file from before subscriptions gets the demo catalogue; a reset replaces it.
INSERT INTO tiers VALUES
    ('nous-free', 'Free', 0, '0', '0', 1),
    ('nous-chat-plan-10', 'Basic', 1, '10', '10', 1),
    ('nous-chat-plan-15', 'Plus (2025)', 1, '15', '15', 0),
    ('nous-chat-plan-20', 'Plus', 2, '20', '22', 1),
    ('nous-chat-plan-40', 'Pro', 3, '40', '45', 1),
    ('nous-chat-plan-100', 'Max', 4, '100', '115', 1);
CREATE TABLE subscriptions (
    org_id TEXT PRIMARY KEY REFERENCES orgs(id), tier_id TEXT NOT NULL,
    period_start REAL NOT NULL, grant_credits TEXT NOT NULL, rollover TEXT NOT NULL,
    pending_tier_id TEXT, cancel_at_period_end INTEGER NOT NULL DEFAULT 0);
CREATE TABLE upgrade_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT, org_id TEXT NOT NULL, grant_id TEXT,
    target_tier_id TEXT NOT NULL, status TEXT NOT NULL, reason TEXT,
    amount_cents INTEGER NOT NULL, at REAL NOT NULL);
CREATE INDEX upgrade_attempts_by_org ON upgrade_attempts(org_id, at);
CREATE TABLE idempotency (
    org_id TEXT NOT NULL, namespace TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL, body TEXT NOT NULL, created_at REAL NOT NULL,
    PRIMARY KEY (org_id, namespace, key));
INSERT INTO idempotency SELECT org_id, 'charge', key, amount, status, body, created_at
    FROM idempotency_keys;
DROP TABLE idempotency_keys;
-- Every remembered response purges the expired keys: without it that is a scan of every key.
CREATE INDEX idempotency_by_age ON idempotency(created_at);
"""),
    Migration(3, "inference: the model catalogue, scripted replies, metered completions; "
                 "journal entries carry a detail", """
CREATE TABLE models (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, context_length INTEGER NOT NULL,
    prompt_price TEXT NOT NULL, completion_price TEXT NOT NULL, cache_read_price TEXT,
    cache_write_price TEXT, created INTEGER NOT NULL, position INTEGER NOT NULL);
INSERT INTO models VALUES
    ('anthropic/claude-sonnet-5', 'Claude Sonnet 5', 200000, '0.000003', '0.000015', '0.0000003',
     '0.00000375', 1780272000, 0),
    ('openai/gpt-5.4-mini', 'GPT-5.4 mini', 400000, '0.00000025', '0.000002', NULL, NULL, 1780272000, 1),
    ('google/gemini-3.5-flash', 'Gemini 3.5 Flash', 1048576, '0.0000003', '0.0000025', NULL, NULL,
     1780272000, 2),
    ('anthropic/claude-haiku-4.5', 'Claude Haiku 4.5', 200000, '0.000001', '0.000005', NULL, NULL,
     1780272000, 3),
    ('nvidia/nemotron-3-super-120b-a12b:free', 'Nemotron 3 Super (free)', 131072, '0', '0', NULL, NULL,
     1780272000, 4);
CREATE TABLE scripted_replies (
    id INTEGER PRIMARY KEY AUTOINCREMENT, org_id TEXT NOT NULL, reply TEXT NOT NULL);
CREATE TABLE completions (
    id TEXT PRIMARY KEY, org_id TEXT NOT NULL, grant_id TEXT, model TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL, cost_micros INTEGER NOT NULL,
    at REAL NOT NULL, outcome TEXT NOT NULL, billed_at REAL, from_grant TEXT, from_rollover TEXT,
    from_purchased TEXT, debt TEXT);
CREATE INDEX completions_by_org ON completions(org_id, at);
ALTER TABLE request_journal ADD COLUMN detail TEXT;
INSERT OR IGNORE INTO meta VALUES ('recommended_models', '{"paidRecommendedModels": [{"modelName": "anthropic/claude-sonnet-5"}, {"modelName": "openai/gpt-5.4-mini"}], "freeRecommendedModels": [{"modelName": "nvidia/nemotron-3-super-120b-a12b:free"}], "paidRecommendedCompactionModel": {"modelName": "google/gemini-3.5-flash"}, "paidRecommendedVisionModel": {"modelName": "google/gemini-3.5-flash"}, "freeRecommendedCompactionModel": {"modelName": "nvidia/nemotron-3-super-120b-a12b:free"}, "freeRecommendedVisionModel": null}');
"""),
    Migration(4, "indexes for forgetting old device codes, tokens and grants by age", """
CREATE INDEX device_codes_by_expiry ON device_codes(expires_at);
CREATE INDEX access_tokens_by_expiry ON access_tokens(expires_at);
CREATE INDEX access_tokens_by_grant ON access_tokens(grant_id);
CREATE INDEX refresh_tokens_by_age ON refresh_tokens(created_at);
CREATE INDEX refresh_tokens_by_grant ON refresh_tokens(grant_id);
"""),
)

LATEST = MIGRATIONS[-1].version


def version_of(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def migrate(conn: sqlite3.Connection) -> int:
    """Apply every migration newer than the file's `user_version`, in order; returns the new
    version. The caller holds the store's locks, so two workers never migrate at once; each
    migration and its stamp commit together (a crash leaves the file at a whole version)."""
    current = version_of(conn)
    if current > LATEST:
        raise RuntimeError(f"This database was written by a newer mockportal (schema {current}; "
                           f"this one knows up to {LATEST}).")
    for migration in MIGRATIONS:
        if migration.version > current:
            try:
                conn.executescript(f"BEGIN IMMEDIATE;\n{migration.script}\n"
                                   f"PRAGMA user_version = {migration.version};\nCOMMIT;")
            except sqlite3.Error:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
    return version_of(conn)
