"""The OAuth device flow (RFC 8628, CONTRACT.md section 6): codes, polling, approval.

A terminal asks for a code pair; a person opens the approval page (or a test calls the
control plane), signs in and approves or denies; the terminal polls until it gets its token
response, once. Every time here is portal-clock time.

Lifecycle of a code: `pending` -> `approved` | `denied`; `approved` -> `redeemed` when the
terminal collects its tokens. Expiry is not stored: a code is expired whenever the portal
clock has reached `expires_at`, whatever its status (a redeemed code stays redeemed).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from mockportal.domain.clock import Clock
from mockportal.domain.orgs import can_change_plan
from mockportal.domain.tokens import (BILLING_MANAGE, KNOWN_CLIENTS, KNOWN_SCOPES, Tokens, normalise_scope,
                                      require_client)
from mockportal.errors import Conflict, NotFound, OAuthError
from mockportal.store import Store

DEVICE_CODE_SECONDS = 600
# Forgotten a day after expiry: until then a late poll still reads `expired_token`, not
# `invalid_grant`. No more than the newest MAX_DEVICE_CODES are kept, whatever their age
# (starting a login needs no credentials, so anyone can ask for codes).
DEVICE_CODE_KEPT_SECONDS = 24 * 3600
MAX_DEVICE_CODES = 10_000
POLL_INTERVAL_SECONDS = 5
# slow_down is for clients polling faster than once a second. A client that sleeps 1 s between
# polls can still reach us a little under 1 s after our previous reading of the clock (its
# sleep starts after our answer left, but scheduling and clock jitter go both ways), so the
# measured gap gets some slack before it counts as too fast.
MIN_POLL_GAP_SECONDS = 1.0
POLL_GAP_TOLERANCE_SECONDS = 0.2

# RFC 8628 section 6.1: consonants only, so no 0/O, 1/I, 5/S-style mix-ups and no words.
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
USER_CODE_HALF = 4

PENDING, APPROVED, DENIED, REDEEMED = "pending", "approved", "denied", "redeemed"


@dataclass(frozen=True)
class DeviceCodePair:
    """What `/api/oauth/device/code` hands the terminal."""

    device_code: str
    user_code: str
    expires_in: int
    interval: int


@dataclass(frozen=True)
class DeviceLogin:
    """A login waiting for (or given) a person's decision, as the approval page shows it."""

    user_code: str
    client_id: str
    client_name: str
    scopes: tuple[str, ...]
    granted_scope: str | None
    expires_at: float  # portal-clock seconds

    @property
    def wants_billing(self) -> bool:
        return BILLING_MANAGE in self.scopes

    @property
    def billing_granted(self) -> bool:
        return BILLING_MANAGE in (self.granted_scope or "").split()


def normalise_user_code(entered: str) -> str | None:
    """`abcd efgh`, `ABCDEFGH` and `ABCD-EFGH` are one code; anything else is no code at all."""
    letters = "".join(entered.split()).replace("-", "").upper()
    if len(letters) != 2 * USER_CODE_HALF or any(c not in USER_CODE_ALPHABET for c in letters):
        return None
    return f"{letters[:USER_CODE_HALF]}-{letters[USER_CODE_HALF:]}"


def granted_scope(requested: str, role: str, allow_terminal_billing: bool) -> str:
    """Silent downscope: billing:manage survives only if the approver's role is
    billing-capable and they ticked "Allow terminal billing"; other scopes pass as requested."""
    keep_billing = can_change_plan(role) and allow_terminal_billing
    return " ".join(name for name in requested.split() if name != BILLING_MANAGE or keep_billing)


def _new_user_code() -> str:
    letters = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(2 * USER_CODE_HALF))
    return f"{letters[:USER_CODE_HALF]}-{letters[USER_CODE_HALF:]}"


def _login(row) -> DeviceLogin:
    return DeviceLogin(user_code=row["user_code"], client_id=row["client_id"],
                       client_name=KNOWN_CLIENTS[row["client_id"]],
                       scopes=tuple(row["scope"].split()), granted_scope=row["granted_scope"],
                       expires_at=row["expires_at"])


class DeviceCodes:
    def __init__(self, store: Store, clock: Clock, tokens: Tokens):
        self._store = store
        self._clock = clock
        self._tokens = tokens

    def start(self, client_id: str, scope: str | None) -> DeviceCodePair:
        """A fresh code pair for a registered client; unknown scopes are dropped, none asked
        means the normal login scopes, only unknown ones is `invalid_scope`. Old codes are
        forgotten first (DEVICE_CODE_KEPT_SECONDS, MAX_DEVICE_CODES)."""
        require_client(client_id)
        requested = normalise_scope(scope)
        if not requested:
            raise OAuthError("invalid_scope", "None of the scopes asked for is known; ask for some of "
                             f"{' '.join(KNOWN_SCOPES)}.")
        with self._store.transaction():
            now = self._clock.now()
            self._store.purge_device_codes(now - DEVICE_CODE_KEPT_SECONDS, MAX_DEVICE_CODES - 1)
            user_code = _new_user_code()
            while self._store.device_code_for_user_code(user_code) is not None:
                user_code = _new_user_code()
            device_code = "dc_" + secrets.token_urlsafe(32)
            self._store.insert_device_code({
                "device_code": device_code, "user_code": user_code, "client_id": client_id,
                "scope": requested, "status": PENDING,
                "expires_at": now + DEVICE_CODE_SECONDS})
        return DeviceCodePair(device_code, user_code, DEVICE_CODE_SECONDS, POLL_INTERVAL_SECONDS)

    # -- the terminal's side ----------------------------------------------------------------
    def redeem(self, client_id: str, device_code: str) -> dict:
        """One poll of the token endpoint: the token response once approved (exactly once),
        else the RFC 8628 error that says why not."""
        require_client(client_id)
        with self._store.transaction():
            row = self._store.get_device_code(device_code)
            now = self._clock.now()
            refusal = self._refusal(row, client_id, now)
            if refusal is None:
                self._store.update_device_code(device_code, status=REDEEMED)
                grant_id = self._tokens.create_grant(row["user_email"], client_id, row["granted_scope"])
                return self._tokens.issue(grant_id)
            if refusal.code in ("authorization_pending", "slow_down"):
                # Every poll counts, answered or not: the gap is always to the previous poll.
                self._store.update_device_code(device_code, last_polled_at=now)
        # Raised after the transaction committed, so the poll time above is kept.
        raise refusal

    @staticmethod
    def _refusal(row, client_id: str, now: float) -> OAuthError | None:
        if row is None or row["client_id"] != client_id:
            return OAuthError("invalid_grant", "Unknown device_code.")
        if row["status"] == REDEEMED:
            return OAuthError("invalid_grant", "This device code was already redeemed.")
        if now >= row["expires_at"]:
            return OAuthError("expired_token", "The device code expired; start the login again.")
        if row["status"] == DENIED:
            return OAuthError("access_denied", "The login was denied.")
        if row["status"] == APPROVED:
            return None
        # slow_down is a kind of "still pending" (RFC 8628 section 3.5): a decided code is
        # answered however fast the terminal polls.
        last = row["last_polled_at"]
        if last is not None and now - last < MIN_POLL_GAP_SECONDS - POLL_GAP_TOLERANCE_SECONDS:
            return OAuthError("slow_down", "Polling faster than once a second; slow down.")
        return OAuthError("authorization_pending", "Waiting for the person to approve the login.")

    # -- the person's side (approval page and control plane) --------------------------------
    def pending(self, user_code: str) -> DeviceLogin:
        """The login behind a code as typed, if it still waits for a decision."""
        with self._store.transaction():
            return _login(self._pending_row(user_code))

    def waiting(self) -> list[DeviceLogin]:
        """Every login still waiting for a decision (pending and not expired), soonest to
        expire first: what the dashboard offers to approve or deny."""
        with self._store.transaction():
            return [_login(row) for row in self._store.pending_device_codes(self._clock.now())]

    def approve(self, user_code: str, user_email: str, allow_terminal_billing: bool) -> DeviceLogin:
        """The signed-in user approves; the token's org is theirs and its scopes are downscoped
        by their role and the "Allow terminal billing" tick."""
        with self._store.transaction():
            row = self._pending_row(user_code)
            user = self._store.get_user(user_email)
            if user is None:
                raise NotFound("unknown_user", f"No user {user_email!r}.")
            scope = granted_scope(row["scope"], user["role"], allow_terminal_billing)
            self._store.update_device_code(row["device_code"], status=APPROVED, user_email=user_email,
                                           granted_scope=scope)
            return _login(self._store.get_device_code(row["device_code"]))

    def deny(self, user_code: str) -> DeviceLogin:
        with self._store.transaction():
            row = self._pending_row(user_code)
            self._store.update_device_code(row["device_code"], status=DENIED)
            return _login(row)

    def _pending_row(self, entered: str):
        user_code = normalise_user_code(entered)
        row = None if user_code is None else self._store.device_code_for_user_code(user_code)
        if row is None:
            raise NotFound("unknown_user_code",
                           "No login is waiting for that code. Check the code your terminal shows.")
        if self._clock.now() >= row["expires_at"]:
            raise Conflict("user_code_expired",
                           "This code has expired. Start the login again from your terminal.")
        if row["status"] != PENDING:
            raise Conflict("user_code_used",
                           "This code was already used. Start a new login from your terminal.")
        return row
