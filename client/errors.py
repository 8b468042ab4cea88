"""Typed errors mirroring the contract's error codes.

Every failure the client reports is a `PortalError` (or a subclass picked by `error_class`):
callers branch on the class or on `.error`, never on a raw `requests` exception. The class
table follows CONTRACT.md §4-§7 and §10; unknown codes still arrive as a plain `PortalError`.
"""

from __future__ import annotations

from typing import Any, Mapping


class PortalError(Exception):
    """An error answer (or a transport failure) with the contract's machine code in `.error`.

    `portal_url` is absolute (the relative `portalUrl` resolved against the base URL);
    `retry_after` is the `Retry-After` header in whole seconds, when there was one; `headers`
    are the answer's (the inference API's rate-limit buckets are read from them).
    """

    def __init__(self, status: int | None, error: str, message: str, *,
                 portal_url: str | None = None, retry_after: int | None = None,
                 payload: dict[str, Any] | None = None, headers: Mapping[str, str] | None = None):
        super().__init__(f"{error}: {message}")
        self.status = status
        self.error = error
        self.message = message
        self.portal_url = portal_url
        self.retry_after = retry_after
        self.payload = payload or {}
        self.headers = headers or {}


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


class StripeUnavailable(Unavailable):
    """`stripe_unavailable` (503 + Retry-After), whatever the status: the payment processor is
    off, checked before any charge, so nothing was charged."""


class UpgradeCapExceeded(Transient):
    """`upgrade_cap_exceeded` (429 + Retry-After to the next UTC midnight), whatever the status:
    the day's five card attempts on plan upgrades are used; nothing was charged."""


class PreviewRejected(PortalError):
    """422 `preview_rejected`: the tier is not in the catalogue, or the org has no plan."""


class MutationRejected(PortalError):
    """422 `subscription_mutation_rejected`: the change does not fit the plan or the target."""


class NoUsableCredits(PortalError):
    """402 `no_usable_credits`: a paid model, and nothing left to spend; buy credits."""


class ModelNotFound(PortalError):
    """404 `model_not_found`: the portal serves no model by that id."""


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
    "stripe_unavailable": StripeUnavailable,
    "upgrade_cap_exceeded": UpgradeCapExceeded,
    "preview_rejected": PreviewRejected,
    "subscription_mutation_rejected": MutationRejected,
    "no_usable_credits": NoUsableCredits,
    "model_not_found": ModelNotFound,
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
