"""Accounts: a user as the login side sees them (who they are, their org, their role)."""

from __future__ import annotations

from dataclasses import dataclass
from sqlite3 import Row

from mockportal.domain.orgs import Org, can_change_plan, load_org
from mockportal.domain.tokens import Principal
from mockportal.errors import Unauthenticated
from mockportal.store import Store


@dataclass(frozen=True)
class Account:
    email: str
    name: str
    role: str
    org: Org

    @property
    def can_change_plan(self) -> bool:
        return can_change_plan(self.role)


class Accounts:
    def __init__(self, store: Store):
        self._store = store

    def _account(self, user: Row) -> Account:
        return Account(user["email"], user["name"], user["role"], load_org(self._store, user["org_id"]))

    def find(self, email: str) -> Account | None:
        """The user with exactly this email (the mock sign-in), if there is one."""
        with self._store.transaction():
            user = self._store.get_user(email)
            return None if user is None else self._account(user)

    def everyone(self) -> list[Account]:
        """Every known user: the mock sign-in suggests them, there are no passwords."""
        with self._store.transaction():
            return [self._account(user) for user in self._store.list_users()]

    def of(self, principal: Principal) -> Account:
        """The caller's account (`/api/oauth/account`); gate 1 has already run."""
        account = self.find(principal.user_email)
        if account is None:
            # A reset between authentication and this read removed the user.
            raise Unauthenticated("session_revoked", "This user no longer exists; log in again.",
                                  recovery="login")
        return account
