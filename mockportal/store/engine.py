"""The store's engine: one SQLite connection, its locks and its transaction scopes.

No table is known here. One SQLite database holds every piece of state (the clock included),
so several worker processes on one file agree. Writers serialise on `BEGIN IMMEDIATE`; in
front of it a thread lock (threads of one process) and, for a file, an flock on
`<file>.lock` (other processes) make a waiter sleep in the kernel until the holder commits,
rather than retry in SQLite's busy handler, which sleeps 1-100 ms between tries.
Each process has one connection, shared by its threads under that lock: a connection's page
cache survives only while no other connection writes, so one per thread would refill it
from disk on almost every transaction.

Every statement runs inside a scope (`transaction()`, `request_scope()` or `reading()`); one
outside is a bug (it would run in autocommit, unserialised), so the engine refuses it.

Reads need no lock. On a file (WAL), a request that may only read runs in `reading()`: a read
transaction on this thread's own reader connection, beside any writer in this or another
process. If it turns out to need a write after all (a charge or a plan cycle came due), the
write raises `WriteNeeded` and the request is run again as a writer.
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager, nullcontext
from typing import Any, ContextManager, Iterator

from mockportal.errors import Conflict
from mockportal.store.schema import migrate

try:
    import fcntl
except ImportError:  # Windows: processes on one file wait in SQLite's busy handler instead
    fcntl = None

_JOINED = nullcontext()  # a nested transaction that simply runs inside the outer one
_NOT_YET, _TAKEN = "not yet", "taken"  # a use case's savepoint in a request scope


class OutsideScope(RuntimeError):
    """SQL was about to run outside a transaction: a bug in the caller, never a client error."""


class WriteNeeded(BaseException):
    """A read-only scope was about to write; whoever opened it runs the work again as a writer.
    A BaseException, so no `except Exception` (Flask's error handlers included) answers it."""


class Engine:
    def __init__(self, path: str | None = None):
        """`path=None` is a private in-memory database; otherwise a file shared by processes.
        Opening brings the schema up to date (see `schema.py`)."""
        self.path = path
        self._lock = threading.RLock()
        self._local = threading.local()  # this thread's transaction depth and meta cache
        self._file_lock = open(path + ".lock", "a+b") if path and fcntl else None
        self._conn = self._connect(path or ":memory:")
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()  # not the write lock: readers never wait for writers
        with self._lock, self._other_processes_locked_out():
            migrate(self._conn)

    @property
    def reads_apart(self) -> bool:
        """Whether reads can run beside the writer: a file in WAL mode (not `:memory:`, whose
        one database lives in the writer's connection)."""
        return self.path is not None

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

    def _reader(self) -> sqlite3.Connection:
        """This thread's reader connection (opened on first use, read-only)."""
        reader = getattr(self._local, "reader", None)
        if reader is None:
            reader = self._connect(self.path)
            reader.execute("PRAGMA query_only = 1")
            self._local.reader = reader
            with self._readers_lock:
                self._readers.append(reader)
        return reader

    def close(self) -> None:
        """Close the connections. A process that forks workers closes its own first: an SQLite
        connection must never be used, or closed, on both sides of a fork."""
        with self._lock, self._readers_lock:
            for reader in self._readers:
                reader.close()
            self._conn.close()
            if self._file_lock is not None:
                self._file_lock.close()

    # -- scopes -----------------------------------------------------------------------------
    def transaction(self) -> ContextManager[None]:
        """One serialised write transaction.

        Nested calls join the outer one, except directly inside a request scope: there each
        use case undoes its own writes if it fails, as it would have as a transaction of its
        own (a SAVEPOINT, taken just before its first write: one that only reads has nothing
        to undo).
        """
        local = self._local
        depth = getattr(local, "depth", 0)
        if getattr(local, "reading", False):
            return _JOINED  # a use case inside a read scope reads along; a write raises WriteNeeded
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
    def reading(self) -> Iterator[None]:
        """A read-only scope around a request that may only read: no lock, a snapshot of the
        database on this thread's reader connection. A write inside raises `WriteNeeded`.
        Only where `reads_apart`; elsewhere the caller uses `request_scope()`."""
        local = self._local
        reader = self._reader()
        reader.execute("BEGIN")
        local.reading, local.depth, local.meta = True, 1, {}
        try:
            yield
        finally:
            local.reading, local.depth, local.meta = False, 0, None
            reader.execute("ROLLBACK")

    @contextmanager
    def outside_scope(self) -> Iterator[None]:
        """Commit the request scope and leave the locks for a while (a fault's stall, a reply
        being streamed), then take them back and carry on in a new transaction."""
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

    # -- statements (the table code's only way to the database) ------------------------------
    def _in_scope(self, sql: str) -> None:
        if not getattr(self._local, "depth", 0):
            raise OutsideScope(f"SQL outside a transaction: {sql.split(None, 3)[:3]}")

    def _reading_connection(self, sql: str) -> sqlite3.Connection:
        self._in_scope(sql)
        return self._local.reader if getattr(self._local, "reading", False) else self._conn

    def _one(self, sql: str, params: tuple | dict = ()) -> sqlite3.Row | None:
        return self._reading_connection(sql).execute(sql, params).fetchone()

    def _all(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        return self._reading_connection(sql).execute(sql, params).fetchall()

    def _run(self, sql: str, params: tuple | dict = ()) -> sqlite3.Cursor:
        """Every write comes through here."""
        self._in_scope(sql)
        local = self._local
        if getattr(local, "reading", False):
            raise WriteNeeded(sql)
        if getattr(local, "savepoint", None) is _NOT_YET:
            self._conn.execute("SAVEPOINT use_case")
            local.savepoint = _TAKEN
        return self._conn.execute(sql, params)

    def _insert(self, table: str, row: dict[str, Any]) -> sqlite3.Cursor:
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        try:
            return self._run(f"INSERT INTO {table} ({columns}) VALUES ({marks})", tuple(row.values()))
        except sqlite3.IntegrityError:
            raise Conflict("already_exists", f"A {table[:-1]} with that id already exists.") from None

    def _update(self, table: str, key_column: str, key: Any, fields: dict[str, Any]) -> None:
        if fields:
            assignments = ", ".join(f"{column} = ?" for column in fields)
            self._run(f"UPDATE {table} SET {assignments} WHERE {key_column} = ?",
                      (*fields.values(), key))

    # -- meta: small named values every worker shares (secrets, the clock, switches) ----------
    def get_meta(self, key: str) -> str | None:
        cache = getattr(self._local, "meta", None)
        if cache is not None and key in cache:
            return cache[key]
        row = self._one("SELECT value FROM meta WHERE key = ?", (key,))
        value = row["value"] if row else None
        if cache is not None:
            cache[key] = value
        return value

    def read_meta(self, *keys: str) -> tuple[str | None, ...]:
        """Several meta values at once, in one query: inside a scope through its cache (no
        savepoint, no context manager: the clock is read a few times a request), outside in a
        transaction of its own."""
        if not getattr(self._local, "depth", 0):
            with self.transaction():
                return self.read_meta(*keys)
        cache = self._local.meta
        missing = [key for key in keys if key not in cache]
        if missing:
            marks = ", ".join("?" for _ in missing)
            found = dict(self._all(f"SELECT key, value FROM meta WHERE key IN ({marks})", tuple(missing)))
            cache.update({key: found.get(key) for key in missing})
        return tuple(cache[key] for key in keys)

    def set_meta(self, key: str, value: str) -> None:
        self._run("INSERT INTO meta (key, value) VALUES (?, ?) "
                  "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))
        cache = getattr(self._local, "meta", None)
        if cache is not None:
            cache[key] = value

    def delete_meta(self, key: str) -> None:
        self._run("DELETE FROM meta WHERE key = ?", (key,))
        cache = getattr(self._local, "meta", None)
        if cache is not None:
            cache.pop(key, None)
