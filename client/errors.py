"""Typed errors mirroring the contract's error codes.

Every failure the client reports is a `PortalError` (or a subclass picked by `error_for`):
callers branch on the class or on `.error`, never on a raw `requests` exception. The class
table follows CONTRACT.md §4-§6; unknown codes still arrive as a plain `PortalError`.
"""

from __future__ import annotations

from typing import Any


class PortalError(Exception):
    """An error answer (or a transport failure) with the contract's machine code in `.error`.

    `portal_url` is absolute (the relative `portalUrl` resolved against the base URL);
    `retry_after` is the `Retry-After` header in whole seconds, when there was one.
    """

    def __init__(self, status: int | None, error: str, message: str, *,
                 portal_url: str | None = None, retry_after: int | None = None,
                 payload: dict[str, Any] | None = None):
        super().__init__(f"{error}: {message}")
        self.status = status
        self.error = error
        self.message = message
        self.portal_url = portal_url
        self.retry_after = retry_after
        self.payload = payload or {}


class NetworkError(PortalError):
    """No usable answer: connection refused, timeout, or a body that is not a JSON object."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(status, "network_error", message)


class ValidationFailed(PortalError):
    """400 `validation_failed` (also raised locally, before sending, by `validate_amount`)."""


class AmountOutOfBounds(ValidationFailed):
    """400 `amount_out_of_bounds`."""


class AuthError(PortalError):
    """401 `invalid_token`: no usable access token; refresh or log in again."""


class SessionRevoked(AuthError):
    """401 `session_revoked`: the whole login was revoked; only a new login helps."""


class ScopeRequired(PortalError):
    """403 `insufficient_scope`: the grant lacks `billing:manage`; step up through the device flow."""


class SpendingRevoked(PortalError):
    """403 `remote_spending_revoked`: this login may no longer spend; reconnect."""


class RoleRequired(PortalError):
    """403 `role_required`: the user's role cannot spend for the org."""


class BillingDisabled(PortalError):
    """403 `cli_billing_disabled`: the org's "Allow terminal billing" switch is off."""


class NoPaymentMethod(PortalError):
    """403 `no_payment_method`: no saved card."""


class CapExceeded(PortalError):
    """403 `monthly_cap_exceeded`: the charge would pass the month's cap."""


class IdempotencyConflict(PortalError):
    """409 `idempotency_conflict`: this key was already used for a different amount."""


class Transient(PortalError):
    """429 or 503: try again after `retry_after` seconds."""


class RateLimited(Transient):
    """429 `rate_limited`."""


class Unavailable(Transient):
    """503, whatever the code (`temporarily_unavailable`, `stripe_unavailable`, ...)."""


class OAuthError(PortalError):
    """A token-endpoint error (`{"error", "error_description"}`) with no more specific class."""


class RefreshTokenReused(OAuthError):
    """400 `refresh_token_reused`: a used refresh token was presented; the grant is revoked."""


ERROR_CLASSES: dict[str, type[PortalError]] = {
    "validation_failed": ValidationFailed,
    "amount_out_of_bounds": AmountOutOfBounds,
    "invalid_token": AuthError,
    "session_revoked": SessionRevoked,
    "insufficient_scope": ScopeRequired,
    "remote_spending_revoked": SpendingRevoked,
    "role_required": RoleRequired,
    "cli_billing_disabled": BillingDisabled,
    "no_payment_method": NoPaymentMethod,
    "monthly_cap_exceeded": CapExceeded,
    "idempotency_conflict": IdempotencyConflict,
    "rate_limited": RateLimited,
    "refresh_token_reused": RefreshTokenReused,
}

OAUTH_CODES = frozenset({"invalid_client", "invalid_grant", "invalid_request", "unsupported_grant_type",
                         "authorization_pending", "slow_down", "access_denied", "expired_token"})


def error_class(status: int, error: str) -> type[PortalError]:
    """The class for an answer: by code first, then 503 (any code) and OAuth codes."""
    if error in ERROR_CLASSES:
        return ERROR_CLASSES[error]
    if status == 503:
        return Unavailable
    if status == 429:
        return Transient
    if error in OAUTH_CODES:
        return OAuthError
    return PortalError
