"""Grants, access tokens and refresh tokens.

A grant is what one login produced (user, org, scopes, session). Access tokens are HS256
JWTs, but the portal trusts its grant record, not the JWT alone: every request looks the
token's `jti` up, so revoking a session or a grant's spending takes effect before expiry.
Refresh tokens are opaque, stored hashed, single-use; presenting a used one revokes the grant.

Nothing is kept forever: an access token is forgotten a day after it expires, a refresh token
when it expires (a year after it was issued, used or not: past that it is refused anyway, so
its reuse needs no detecting), and a grant once none of its tokens is left. Every issue purges
what is due, as every remembered idempotency key does.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

import jwt

from mockportal.domain.clock import Clock
from mockportal.domain.keys import shared_secret
from mockportal.errors import Forbidden, InvalidRequest, NotFound, OAuthError, Unauthenticated
from mockportal.store import Store

BILLING_MANAGE = "billing:manage"
LOGIN_SCOPE = "inference:invoke tool:invoke"
KNOWN_SCOPES = ("inference:invoke", "tool:invoke", BILLING_MANAGE)
ACCESS_TOKEN_SECONDS = 3600
ACCESS_TOKEN_KEPT_SECONDS = 24 * 3600  # after expiry, like a device code
REFRESH_TOKEN_SECONDS = 365 * 24 * 3600  # an idle terminal logs in again after a year
KNOWN_CLIENTS = {"hermes-cli": "Hermes CLI"}
VERIFIED_TOKENS_KEPT = 4096


@dataclass(frozen=True)
class Principal:
    """Who is calling, as the grant record (not the JWT) says."""

    grant_id: str
    user_email: str
    org_id: str
    role: str
    scopes: frozenset[str]
    spending_revoked_by: str | None


def _hash(refresh_token: str) -> str:
    return hashlib.sha256(refresh_token.encode()).hexdigest()


def require_client(client_id: str) -> str:
    """Only registered OAuth clients may start a login or refresh one."""
    if client_id not in KNOWN_CLIENTS:
        raise OAuthError("invalid_client", f"Unknown client_id {client_id!r}.")
    return client_id


def normalise_scope(scope: str | None, default: str = LOGIN_SCOPE) -> str:
    """A space-separated scope string in canonical order, unknown scopes dropped."""
    requested = set((scope or default).split())
    return " ".join(name for name in KNOWN_SCOPES if name in requested)


ClaimsOf = Callable[[str, str], dict[str, Any]]  # (org id, client id) -> extra JWT claims


class Tokens:
    def __init__(self, store: Store, clock: Clock, entitlement_claims: ClaimsOf = lambda org, client: {}):
        """`entitlement_claims` gives the section 9 claims a token carries, as of its minting."""
        self._store = store
        self._clock = clock
        self._entitlement_claims = entitlement_claims
        self._secret: str | None = None
        # A token's signature and claims never change and the secret is fixed per database,
        # so each token string is verified once (a third of a billing read's CPU otherwise).
        # Expiry and the grant are still checked on every request, against the portal clock
        # and the database.
        self._verified_claims = lru_cache(maxsize=VERIFIED_TOKENS_KEPT)(self._verify)

    def _signing_secret(self) -> str:
        if self._secret is None:
            self._secret = shared_secret(self._store, "jwt_secret")
        return self._secret

    # -- issuing ----------------------------------------------------------------------------
    def create_grant(self, user_email: str, client_id: str, scope: str) -> str:
        with self._store.transaction():
            user = self._store.get_user(user_email)
            if user is None:
                raise NotFound("unknown_user", f"No user {user_email!r}.")
            grant_id = "gr_" + secrets.token_hex(12)
            self._store.insert_grant({"id": grant_id, "user_email": user_email, "org_id": user["org_id"],
                                      "client_id": client_id, "scope": scope,
                                      "created_at": self._clock.now()})
            return grant_id

    def issue(self, grant_id: str, expires_in: int = ACCESS_TOKEN_SECONDS) -> dict:
        """A token response (`/api/oauth/token` shape) with a fresh access and refresh token."""
        with self._store.transaction():
            now = self._clock.now()
            self._store.purge_tokens(access_expired_by=now - ACCESS_TOKEN_KEPT_SECONDS,
                                     refresh_issued_by=now - REFRESH_TOKEN_SECONDS)
            grant = self._store.get_grant(grant_id)
            jti = secrets.token_hex(16)
            claims = {"sub": grant["user_email"], "org_id": grant["org_id"],
                      "client_id": grant["client_id"], "scope": grant["scope"],
                      "iat": int(now), "exp": int(now) + expires_in, "jti": jti,
                      **self._entitlement_claims(grant["org_id"], grant["client_id"])}
            access_token = jwt.encode(claims, self._signing_secret(), algorithm="HS256")
            self._store.insert_access_token(jti, grant_id, now + expires_in)
            refresh_token = "rt_" + secrets.token_urlsafe(32)
            self._store.insert_refresh_token(_hash(refresh_token), grant_id, now)
        return {"access_token": access_token, "refresh_token": refresh_token,
                "token_type": "Bearer", "expires_in": expires_in, "scope": grant["scope"]}

    def mint(self, user_email: str, scope: str | None, expires_in: int,
             client_id: str = "hermes-cli") -> dict:
        """Control plane: a grant with exactly the scopes asked for (no downscoping)."""
        if expires_in <= 0:
            raise InvalidRequest("validation_failed", "expiresIn must be a positive number of seconds.")
        return self.issue(self.create_grant(user_email, client_id, normalise_scope(scope)), expires_in)

    def refresh(self, client_id: str, refresh_token: str | None) -> dict:
        """Rotate: the presented refresh token is spent and a new pair is issued. One that
        expired (REFRESH_TOKEN_SECONDS after issue) is refused, used or not."""
        require_client(client_id)
        if not refresh_token:
            raise OAuthError("invalid_request", "Send the refresh token in x-nous-refresh-token.")
        with self._store.transaction():
            record = self._store.get_refresh_token(_hash(refresh_token))
            if record is None:
                raise OAuthError("invalid_grant", "Unknown refresh token.")
            if record["created_at"] <= self._clock.now() - REFRESH_TOKEN_SECONDS:
                raise OAuthError("invalid_grant", "This refresh token has expired; log in again.")
            grant = self._store.get_grant(record["grant_id"])
            if grant["revoked_at"] is not None:
                raise OAuthError("invalid_grant", "This session has been revoked; log in again.")
            if grant["client_id"] != client_id:
                raise OAuthError("invalid_grant", "The refresh token belongs to another client.")
            reused = record["used_at"] is not None
            if reused:
                # Committed before the error is raised: a raise inside the transaction rolls back.
                self._store.update_grant(grant["id"], revoked_at=self._clock.now())
            else:
                self._store.mark_refresh_token_used(record["token_hash"], self._clock.now())
                return self.issue(grant["id"])
        raise OAuthError("refresh_token_reused",
                         "This refresh token was already used; the session is revoked.")

    # -- checking ---------------------------------------------------------------------------
    def authenticate(self, authorization: str | None) -> Principal:
        """Gate 1: a valid, unexpired bearer token whose session is live."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("invalid_token", "Send Authorization: Bearer <access token>.")
        try:
            claims = self._verified_claims(token.strip())
        except jwt.PyJWTError:
            raise Unauthenticated("invalid_token", "The access token is not valid.") from None
        with self._store.transaction():
            if not isinstance(claims["exp"], (int, float)) or claims["exp"] <= self._clock.now():
                raise Unauthenticated("invalid_token", "The access token has expired.")
            grant = self._store.grant_of_access_token(str(claims["jti"]))
            if grant is None:
                raise Unauthenticated("invalid_token", "The access token is not known here.")
            if grant["revoked_at"] is not None:
                raise Unauthenticated("session_revoked", "This session was revoked; log in again.",
                                      recovery="login")
            if grant["user_org_id"] != grant["org_id"]:  # None: the user is gone
                raise Unauthenticated("session_revoked", "This user no longer belongs to the org.",
                                      recovery="login")
            return Principal(grant_id=grant["id"], user_email=grant["user_email"],
                             org_id=grant["org_id"], role=grant["user_role"],
                             scopes=frozenset(grant["scope"].split()),
                             spending_revoked_by=grant["spending_revoked_by"])

    def _verify(self, token: str) -> dict:
        """The signed claims of an access token (shared by the cache: read them, never change them)."""
        return jwt.decode(token, self._signing_secret(), algorithms=["HS256"],
                          options={"verify_exp": False, "verify_iat": False, "require": ["exp", "jti", "sub"]})

    @staticmethod
    def require_scope(principal: Principal, scope: str) -> None:
        """Gate 2: the grant carries `scope`."""
        if scope not in principal.scopes:
            raise Forbidden("insufficient_scope", f"This action needs the {scope} scope; "
                            "log in again and allow terminal billing.", portal_url="/billing")

    # -- revoking ---------------------------------------------------------------------------
    def grants_for(self, *, token: str | None = None, user_email: str | None = None) -> list[str]:
        """Control plane: the grants behind an access or refresh token, or all of a user's."""
        with self._store.transaction():
            if user_email is not None:
                return [row["id"] for row in self._store.grants_of_user(user_email)]
            if token:
                refresh = self._store.get_refresh_token(_hash(token))
                if refresh is not None:
                    return [refresh["grant_id"]]
                try:
                    claims = self._verified_claims(token)
                except jwt.PyJWTError:
                    return []
                record = self._store.get_access_token(str(claims.get("jti")))
                return [record["grant_id"]] if record else []
            return []

    def revoke_spending(self, grant_id: str, actor: str) -> None:
        with self._store.transaction():
            self._store.update_grant(grant_id, spending_revoked_by=actor)

    def revoke_session(self, grant_id: str) -> None:
        with self._store.transaction():
            self._store.update_grant(grant_id, revoked_at=self._clock.now())
