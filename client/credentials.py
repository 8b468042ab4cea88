"""The login on disk: one small JSON file, written atomically, readable only by its owner.

Refresh tokens are single-use (CONTRACT.md §6): presenting a spent one revokes the whole
grant. So the file is the single source of truth, rewritten before a refresh token is sent
(`spend_refresh_token`) and again with the rotated pair, so a used one is never sent again,
even after a crash or a lost answer.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from client.config import BILLING_MANAGE


@dataclass(frozen=True)
class Credentials:
    access_token: str
    refresh_token: str | None
    scope: str

    @property
    def scopes(self) -> list[str]:
        return self.scope.split()

    @property
    def can_bill(self) -> bool:
        return BILLING_MANAGE in self.scopes

    @classmethod
    def from_token_response(cls, body: dict[str, Any]) -> "Credentials":
        """A `/api/oauth/token` answer; `scope` is always explicit there, so trust it."""
        return cls(access_token=str(body["access_token"]), refresh_token=body.get("refresh_token"),
                   scope=str(body.get("scope", "")))


class CredentialStore:
    def __init__(self, path: Path):
        self.path = Path(path)

    def load(self) -> Credentials | None:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return None
        return Credentials(data["access_token"], data.get("refresh_token"), data.get("scope", ""))

    def save(self, credentials: Credentials) -> None:
        """Replace the file in one step (temp file + rename), so a crash leaves old or new, never half."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(prefix=".credentials-", dir=self.path.parent)
        try:
            with os.fdopen(descriptor, "w") as stream:
                json.dump(asdict(credentials), stream)
                stream.flush()
                os.fsync(stream.fileno())
            os.chmod(temporary, 0o600)
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def spend_refresh_token(self, credentials: Credentials) -> None:
        """Forget the refresh token before it is sent: if the answer is lost, log in again
        rather than present it twice and have the portal revoke the grant."""
        self.save(replace(credentials, refresh_token=None))

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
