"""Tables of who is logged in: grants, access and refresh tokens, device codes."""

from __future__ import annotations

import sqlite3
from typing import Any

# Every statement a purge runs, each answered from an index (tests/test_purge.py checks the
# plans), with sample parameters.
PURGES = {
    "expired device codes": ("DELETE FROM device_codes WHERE expires_at <= ?", (0.0,)),
    "all but the newest device codes": ("DELETE FROM device_codes WHERE rowid <= "
                                        "(SELECT max(rowid) FROM device_codes) - ?", (10,)),
    "grants of old access tokens": ("SELECT grant_id FROM access_tokens WHERE expires_at <= ?", (0.0,)),
    "old access tokens": ("DELETE FROM access_tokens WHERE expires_at <= ?", (0.0,)),
    "grants of old refresh tokens": ("SELECT grant_id FROM refresh_tokens WHERE created_at <= ?", (0.0,)),
    "old refresh tokens": ("DELETE FROM refresh_tokens WHERE created_at <= ?", (0.0,)),
    "a grant without tokens": ("DELETE FROM grants WHERE id = :grant AND NOT EXISTS "
                               "(SELECT 1 FROM access_tokens WHERE grant_id = :grant) AND NOT EXISTS "
                               "(SELECT 1 FROM refresh_tokens WHERE grant_id = :grant)", {"grant": "gr_x"}),
}


class AuthTables:
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

    def purge_tokens(self, access_expired_by: float, refresh_issued_by: float) -> None:
        """Forget access tokens that expired and refresh tokens issued at or before these
        instants, then each of their grants that has no token left."""
        grants = {row[0] for statement, since in (("grants of old access tokens", access_expired_by),
                                                  ("grants of old refresh tokens", refresh_issued_by))
                  for row in self._all(PURGES[statement][0], (since,))}
        if not grants:
            return
        self._run(PURGES["old access tokens"][0], (access_expired_by,))
        self._run(PURGES["old refresh tokens"][0], (refresh_issued_by,))
        for grant_id in grants:
            self._run(PURGES["a grant without tokens"][0], {"grant": grant_id})

    # -- device codes -----------------------------------------------------------------------
    def insert_device_code(self, row: dict[str, Any]) -> None:
        self._insert("device_codes", row)

    def get_device_code(self, device_code: str) -> sqlite3.Row | None:
        return self._one("SELECT * FROM device_codes WHERE device_code = ?", (device_code,))

    def device_code_for_user_code(self, user_code: str) -> sqlite3.Row | None:
        return self._one("SELECT * FROM device_codes WHERE user_code = ?", (user_code,))

    def update_device_code(self, device_code: str, **fields: Any) -> None:
        self._update("device_codes", "device_code", device_code, fields)

    def pending_device_codes(self, now: float) -> list[sqlite3.Row]:
        """Codes still waiting for a person's decision at `now`, soonest to expire first."""
        return self._all("SELECT * FROM device_codes WHERE status = 'pending' AND expires_at > ? "
                         "ORDER BY expires_at, user_code", (now,))

    def purge_device_codes(self, expired_by: float, keep_newest: int) -> None:
        """Forget codes that expired at or before this instant, and all but the newest `keep_newest`."""
        self._run(PURGES["expired device codes"][0], (expired_by,))
        self._run(PURGES["all but the newest device codes"][0], (keep_newest,))
