"""All SQL lives here. The domain calls these methods inside `Store.transaction()`.

One SQLite database holds every piece of state (the clock included), so several worker
processes on one file agree. Writers serialise on `BEGIN IMMEDIATE`; in front of it a
thread lock (threads of one process) and, for a file, an flock on `<file>.lock` (other
processes) make a waiter sleep in the kernel until the holder commits, rather than retry
in SQLite's busy handler, which sleeps 1-100 ms between tries.
Each process has one connection, shared by its threads under that lock: a connection's page
cache survives only while no other connection writes, so one per thread would refill it
from disk on almost every transaction.
Money is stored as canonical decimal TEXT and summed in Python, never by SQL (which would
turn it into floats).
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager, nullcontext
from typing import Any, ContextManager, Iterator

from mockportal.errors import Conflict

try:
    import fcntl
except ImportError:  # Windows: processes on one file wait in SQLite's busy handler instead
    fcntl = None

SCHEMA = """
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
-- Every accepted charge purges the expired keys: without it that is a scan of every key.
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
"""

# Tables a reset empties; `meta` (signing secret, clock) survives.
STATE_TABLES = ("request_journal", "faults", "scripted_outcomes", "usage_debits",
                "idempotency_keys", "charges", "device_codes", "refresh_tokens", "access_tokens",
                "grants", "users", "orgs")

JOURNAL_LIMIT = 10_000

_JOINED = nullcontext()  # a nested transaction that simply runs inside the outer one
_NOT_YET, _TAKEN = "not yet", "taken"  # a use case's savepoint in a request scope


class Store:
    def __init__(self, path: str | None = None):
        """`path=None` is a private in-memory database; otherwise a file shared by processes."""
        self.path = path
        self._lock = threading.RLock()
        self._local = threading.local()  # this thread's transaction depth and meta cache
        self._file_lock = open(path + ".lock", "a+b") if path and fcntl else None
        self._conn = self._connect(path or ":memory:")
        with self._lock:
            self._conn.executescript(SCHEMA)

    def _connect(self, target: str) -> sqlite3.Connection:
        conn = sqlite3.connect(target, isolation_level=None, check_same_thread=False, timeout=30)
        conn.row_factory = sqlite3.Row
        if target != ":memory:":
            conn.execute("PRAGMA journal_mode=WAL")
            # In WAL mode a commit is the OS's once COMMIT returns, so a killed server keeps
            # everything it acknowledged; only an OS crash could drop the last commits, which a
            # fake can afford. FULL's fsync per commit halved request throughput.
            conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def close(self) -> None:
        """Close the connection. A process that forks workers closes its own first: an SQLite
        connection must never be used, or closed, on both sides of a fork."""
        with self._lock:
            self._conn.close()
            if self._file_lock is not None:
                self._file_lock.close()

    def transaction(self) -> ContextManager[None]:
        """One serialised write transaction.

        Nested calls join the outer one, except directly inside a request scope: there each
        use case undoes its own writes if it fails, as it would have as a transaction of its
        own (a SAVEPOINT, taken just before its first write: one that only reads has nothing
        to undo).
        """
        local = self._local
        depth = getattr(local, "depth", 0)
        if depth == 0:
            return self._outermost()
        if depth == 1 and local.scoped:
            return self._use_case()
        return _JOINED

    @contextmanager
    def _outermost(self) -> Iterator[None]:
        with self._lock, self._other_processes_locked_out():
            self._begin()
            try:
                yield
            except BaseException:
                self._end("ROLLBACK")
                raise
            else:
                self._end("COMMIT")

    @contextmanager
    def _use_case(self) -> Iterator[None]:
        local = self._local
        local.depth = 2
        local.savepoint = _NOT_YET
        try:
            yield
        except BaseException:
            if local.savepoint is _TAKEN:
                self._conn.execute("ROLLBACK TO use_case")
                self._conn.execute("RELEASE use_case")
                local.meta = {}  # it may hold what was just undone
            raise
        else:
            if local.savepoint is _TAKEN:
                self._conn.execute("RELEASE use_case")
        finally:
            local.depth = 1
            local.savepoint = None

    @contextmanager
    def request_scope(self) -> Iterator[None]:
        """One transaction around everything one request does (fault check, use cases, journal
        row): one lock, one BEGIN and one COMMIT a request instead of one per step.

        It commits even when a use case failed: that use case's savepoint is already undone,
        and what the others did (a refresh token's reuse revoking the session, the journal
        row) must stay.
        """
        with self.transaction():
            self._local.scoped = True
            try:
                yield
            finally:
                self._local.scoped = False

    @contextmanager
    def outside_scope(self) -> Iterator[None]:
        """Commit the request scope and leave the locks for a while (a fault's stall), then
        take them back and carry on in a new transaction."""
        local = self._local
        self._end("COMMIT")
        self._let_other_processes_in()
        self._lock.release()
        try:
            yield
        finally:
            self._lock.acquire()
            self._lock_out_other_processes()
            self._begin()
            local.scoped = True

    def _begin(self) -> None:
        self._conn.execute("BEGIN IMMEDIATE")
        local = self._local
        local.depth = 1
        local.scoped = False
        # Nothing else can write while we hold the lock, so meta (the clock, read a few
        # times a request) is read from the table once per transaction.
        local.meta = {}

    def _end(self, statement: str) -> None:
        local = self._local
        try:
            self._conn.execute(statement)
        finally:
            local.depth = 0
            local.meta = None

    @contextmanager
    def _other_processes_locked_out(self) -> Iterator[None]:
        self._lock_out_other_processes()
        try:
            yield
        finally:
            self._let_other_processes_in()

    def _lock_out_other_processes(self) -> None:
        if self._file_lock is not None:
            fcntl.flock(self._file_lock, fcntl.LOCK_EX)

    def _let_other_processes_in(self) -> None:
        if self._file_lock is not None:
            fcntl.flock(self._file_lock, fcntl.LOCK_UN)

    def _one(self, sql: str, params: tuple = ()) -> sqlite3.Row | None:
        return self._conn.execute(sql, params).fetchone()

    def _all(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        return self._conn.execute(sql, params).fetchall()

    def _run(self, sql: str, params: tuple = ()) -> sqlite3.Cursor:
        """Every write comes through here."""
        local = self._local
        if getattr(local, "savepoint", None) is _NOT_YET:
            self._conn.execute("SAVEPOINT use_case")
            local.savepoint = _TAKEN
        return self._conn.execute(sql, params)

    def _insert(self, table: str, row: dict[str, Any]) -> None:
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        try:
            self._run(f"INSERT INTO {table} ({columns}) VALUES ({marks})", tuple(row.values()))
        except sqlite3.IntegrityError:
            raise Conflict("already_exists", f"A {table[:-1]} with that id already exists.") from None

    def _update(self, table: str, key_column: str, key: Any, fields: dict[str, Any]) -> None:
        if fields:
            assignments = ", ".join(f"{column} = ?" for column in fields)
            self._run(f"UPDATE {table} SET {assignments} WHERE {key_column} = ?",
                      (*fields.values(), key))

    # -- meta -------------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        cache = getattr(self._local, "meta", None)
        if cache is not None and key in cache:
            return cache[key]
        row = self._one("SELECT value FROM meta WHERE key = ?", (key,))
        value = row["value"] if row else None
        if cache is not None:
            cache[key] = value
        return value

    def set_meta(self, key: str, value: str) -> None:
        self._run("INSERT INTO meta (key, value) VALUES (?, ?) "
                  "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))
        cache = getattr(self._local, "meta", None)
        if cache is not None:
            cache[key] = value

    def clear_state(self) -> None:
        for table in STATE_TABLES:
            self._run(f"DELETE FROM {table}")

    # -- orgs and users ---------------------------------------------------------------------
    def insert_org(self, row: dict[str, Any]) -> None:
        self._insert("orgs", row)

    def get_org(self, org_id: str) -> sqlite3.Row | None:
        return self._one("SELECT * FROM orgs WHERE id = ?", (org_id,))

    def update_org(self, org_id: str, **fields: Any) -> None:
        self._update("orgs", "id", org_id, fields)

    def insert_user(self, row: dict[str, Any]) -> None:
        self._insert("users", row)

    def get_user(self, email: str) -> sqlite3.Row | None:
        return self._one("SELECT * FROM users WHERE email = ?", (email,))

    def users_of_org(self, org_id: str) -> list[sqlite3.Row]:
        return self._all("SELECT * FROM users WHERE org_id = ? ORDER BY email", (org_id,))

    def update_user(self, email: str, **fields: Any) -> None:
        self._update("users", "email", email, fields)

    def list_users(self) -> list[sqlite3.Row]:
        return self._all("SELECT * FROM users ORDER BY org_id, email")

    # -- grants and tokens ------------------------------------------------------------------
    def insert_grant(self, row: dict[str, Any]) -> None:
        self._insert("grants", row)

    def get_grant(self, grant_id: str) -> sqlite3.Row | None:
        return self._one("SELECT * FROM grants WHERE id = ?", (grant_id,))

    def grants_of_user(self, email: str) -> list[sqlite3.Row]:
        return self._all("SELECT * FROM grants WHERE user_email = ? ORDER BY created_at", (email,))

    def update_grant(self, grant_id: str, **fields: Any) -> None:
        self._update("grants", "id", grant_id, fields)

    def insert_access_token(self, jti: str, grant_id: str, expires_at: float) -> None:
        self._insert("access_tokens", {"jti": jti, "grant_id": grant_id, "expires_at": expires_at})

    def get_access_token(self, jti: str) -> sqlite3.Row | None:
        return self._one("SELECT * FROM access_tokens WHERE jti = ?", (jti,))

    def grant_of_access_token(self, jti: str) -> sqlite3.Row | None:
        """The grant behind an access token, with its user's `user_org_id` and `user_role`
        (both None if the user is gone): every authenticated request reads these, in one query."""
        return self._one("SELECT grants.*, users.org_id AS user_org_id, users.role AS user_role "
                         "FROM access_tokens JOIN grants ON grants.id = access_tokens.grant_id "
                         "LEFT JOIN users ON users.email = grants.user_email "
                         "WHERE access_tokens.jti = ?", (jti,))

    def insert_refresh_token(self, token_hash: str, grant_id: str, created_at: float) -> None:
        self._insert("refresh_tokens", {"token_hash": token_hash, "grant_id": grant_id,
                                        "created_at": created_at})

    def get_refresh_token(self, token_hash: str) -> sqlite3.Row | None:
        return self._one("SELECT * FROM refresh_tokens WHERE token_hash = ?", (token_hash,))

    def mark_refresh_token_used(self, token_hash: str, at: float) -> None:
        self._run("UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ?", (at, token_hash))

    # -- device codes -----------------------------------------------------------------------
    def insert_device_code(self, row: dict[str, Any]) -> None:
        self._insert("device_codes", row)

    def get_device_code(self, device_code: str) -> sqlite3.Row | None:
        return self._one("SELECT * FROM device_codes WHERE device_code = ?", (device_code,))

    def device_code_for_user_code(self, user_code: str) -> sqlite3.Row | None:
        return self._one("SELECT * FROM device_codes WHERE user_code = ?", (user_code,))

    def update_device_code(self, device_code: str, **fields: Any) -> None:
        self._update("device_codes", "device_code", device_code, fields)

    # -- charges ----------------------------------------------------------------------------
    def insert_charge(self, row: dict[str, Any]) -> None:
        self._insert("charges", row)

    def get_charge(self, org_id: str, charge_id: str) -> sqlite3.Row | None:
        return self._one("SELECT * FROM charges WHERE id = ? AND org_id = ?", (charge_id, org_id))

    def charges_of_org(self, org_id: str) -> list[sqlite3.Row]:
        return self._all("SELECT * FROM charges WHERE org_id = ? ORDER BY created_at, id", (org_id,))

    def due_charges(self, org_id: str, now: float) -> list[sqlite3.Row]:
        return self._all("SELECT * FROM charges WHERE org_id = ? AND status = 'pending' "
                         "AND settle_at IS NOT NULL AND settle_at <= ? ORDER BY settle_at, id",
                         (org_id, now))

    def finish_charge(self, charge_id: str, status: str, settled_at: float) -> None:
        self._run("UPDATE charges SET status = ?, settled_at = ? WHERE id = ?", (status, settled_at, charge_id))

    def counted_charge_amounts(self, org_id: str, since: float) -> list[str]:
        """Amounts of pending and settled charges created at or after `since` (cap spend)."""
        rows = self._all("SELECT amount FROM charges WHERE org_id = ? AND created_at >= ? "
                         "AND status IN ('pending', 'settled')", (org_id, since))
        return [row["amount"] for row in rows]

    def terminal_charge_times(self, *, org_id: str | None = None, grant_id: str | None = None,
                              after: float) -> list[float]:
        """Acceptance times of terminal charges strictly after `after`, oldest first."""
        column, value = ("org_id", org_id) if org_id is not None else ("grant_id", grant_id)
        rows = self._all(f"SELECT created_at FROM charges WHERE {column} = ? AND source = 'terminal' "
                         "AND created_at > ? ORDER BY created_at", (value, after))
        return [row["created_at"] for row in rows]

    def has_pending_auto_reload(self, org_id: str) -> bool:
        return self._one("SELECT 1 FROM charges WHERE org_id = ? AND source = 'auto_reload' "
                         "AND status = 'pending'", (org_id,)) is not None

    # -- idempotency ------------------------------------------------------------------------
    def get_idempotency(self, org_id: str, key: str, since: float) -> sqlite3.Row | None:
        return self._one("SELECT * FROM idempotency_keys WHERE org_id = ? AND key = ? "
                         "AND created_at > ?", (org_id, key, since))

    def put_idempotency(self, row: dict[str, Any]) -> None:
        self._run("INSERT OR REPLACE INTO idempotency_keys (org_id, key, amount, status, body, "
                  "created_at) VALUES (:org_id, :key, :amount, :status, :body, :created_at)", row)

    def purge_idempotency(self, before: float) -> None:
        self._run("DELETE FROM idempotency_keys WHERE created_at <= ?", (before,))

    # -- usage ------------------------------------------------------------------------------
    def insert_usage(self, org_id: str, amount: str, at: float) -> None:
        self._insert("usage_debits", {"org_id": org_id, "amount": amount, "at": at})

    def usage_of_org(self, org_id: str) -> list[sqlite3.Row]:
        return self._all("SELECT * FROM usage_debits WHERE org_id = ? ORDER BY id", (org_id,))

    # -- scripted outcomes ------------------------------------------------------------------
    def push_outcome(self, org_id: str, outcome: str, reason: str | None,
                     after_seconds: float | None) -> None:
        self._insert("scripted_outcomes", {"org_id": org_id, "outcome": outcome, "reason": reason,
                                           "after_seconds": after_seconds})

    def pop_outcome(self, org_id: str) -> sqlite3.Row | None:
        row = self._one("SELECT * FROM scripted_outcomes WHERE org_id = ? ORDER BY id LIMIT 1",
                        (org_id,))
        if row is not None:
            self._run("DELETE FROM scripted_outcomes WHERE id = ?", (row["id"],))
        return row

    def outcomes_of_org(self, org_id: str) -> list[sqlite3.Row]:
        return self._all("SELECT * FROM scripted_outcomes WHERE org_id = ? ORDER BY id", (org_id,))

    # -- faults -----------------------------------------------------------------------------
    def insert_fault(self, row: dict[str, Any]) -> None:
        self._insert("faults", row)

    def active_faults(self) -> list[sqlite3.Row]:
        return self._all("SELECT * FROM faults WHERE remaining > 0 ORDER BY id")

    def consume_fault(self, fault_id: int) -> None:
        self._run("UPDATE faults SET remaining = remaining - 1 WHERE id = ?", (fault_id,))

    def clear_faults(self) -> None:
        self._run("DELETE FROM faults")

    # -- request journal --------------------------------------------------------------------
    def append_request(self, method: str, path: str, status: int, at: float) -> None:
        cursor = self._run("INSERT INTO request_journal (method, path, status, at) VALUES (?, ?, ?, ?)",
                           (method, path, status, at))
        if cursor.lastrowid and cursor.lastrowid % 1000 == 0:
            self._run("DELETE FROM request_journal WHERE id <= ?", (cursor.lastrowid - JOURNAL_LIMIT,))

    def journal(self, limit: int) -> list[sqlite3.Row]:
        rows = self._all("SELECT * FROM request_journal ORDER BY id DESC LIMIT ?", (limit,))
        return list(reversed(rows))

    def clear_journal(self) -> None:
        self._run("DELETE FROM request_journal")
