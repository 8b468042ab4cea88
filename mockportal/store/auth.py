"""Tables of who is logged in: grants, access and refresh tokens, device codes."""

from __future__ import annotations

import sqlite3
from typing import Any


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
