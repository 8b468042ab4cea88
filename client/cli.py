"""`python -m client`: log in, read the billing state, buy credits, configure auto-reload.

Every refusal prints what happened, the next step for its error code, and the absolute
portal link, then exits 1. Long waits (device approval, charge polling) print one dot per
wait to stderr.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cached_property
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Callable

import click

from client import config
from client.billing import BillingApi, BillingState, PortalSession
from client.credentials import CredentialStore
from client.errors import PortalError
from client.journeys import Downscoped, buy, with_step_up
from client.money import format_usd
from client.oauth import DeviceCode, device_login
from client.transport import Transport

LOGIN = "python -m client login"

NEXT_STEPS = {
    "network_error": "Check that the portal at {base_url} is reachable (HERMES_PORTAL_BASE_URL). "
                     "If a purchase was under way, run `python -m client state` before buying again.",
    "invalid_token": f"Log in: `{LOGIN}`.",
    "session_revoked": f"This login was revoked. Log in again: `{LOGIN}`.",
    "invalid_grant": f"The stored login can no longer be renewed. Log in again: `{LOGIN}`.",
    "refresh_token_reused": f"The login was revoked for safety. Log in again: `{LOGIN}`.",
    "insufficient_scope": f"This login may not spend. Log in with billing: `{LOGIN} --billing`, "
                          "and tick \"Allow terminal billing\" when approving.",
    "remote_spending_revoked": f"Spending was revoked for this login. Reconnect: `{LOGIN} --billing`.",
    "role_required": "Your role cannot spend for this org. Ask an owner, admin or finance admin.",
    "cli_billing_disabled": "An owner or admin must turn on \"Allow terminal billing\" in the portal.",
    "no_payment_method": "Add a card in the portal, then try again.",
    "monthly_cap_exceeded": "Buy less this month, or raise the monthly cap in the portal.",
    "rate_limited": "Too many charges in the last hour. Try again in {retry_after} seconds.",
    "temporarily_unavailable": "The portal is busy. Try again in {retry_after} seconds.",
    "validation_failed": "Use an amount in dollars with at most 2 decimals, e.g. 25 or 42.50.",
    "amount_out_of_bounds": "Choose an amount within the org's bounds (see `python -m client state`).",
    "idempotency_conflict": "That purchase key was used for another amount. Start a new purchase.",
    "access_denied": f"The login was denied. Run `{LOGIN}` again if that was a mistake.",
    "expired_token": f"The login code expired before approval. Run `{LOGIN}` again.",
}

FAILURE_REASONS = {
    "card_declined": "The card was declined. Use another card in the portal.",
    "authentication_required": "The bank wants to confirm this payment. Complete it in the portal.",
    "payment_method_expired": "The saved card has expired. Update it in the portal.",
    "processing_error": "The payment processor failed. Try again in a few minutes.",
}


@dataclass
class Runtime:
    """What tests and scenarios replace: time, and a hook that sees each device code shown."""

    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    on_device_code: Callable[[DeviceCode], None] | None = None


@dataclass
class App:
    base_url: str
    store: CredentialStore
    runtime: Runtime
    mid_line: bool = False  # progress dots are on stderr and their line is not ended yet

    @cached_property
    def session(self) -> PortalSession:
        return PortalSession(Transport(self.base_url), self.store)

    @cached_property
    def api(self) -> BillingApi:
        return BillingApi(self.session)

    def sleep(self, seconds: float) -> None:
        """Every wait between polls shows a dot, so a person sees the client is alive."""
        click.echo(".", nl=False, err=True)
        self.mid_line = True
        self.runtime.sleep(seconds)

    def end_progress(self) -> None:
        if self.mid_line:
            click.echo(err=True)
            self.mid_line = False

    def show_code(self, code: DeviceCode) -> None:
        click.echo(f"To approve, open {code.verification_uri_complete}\n"
                   f"(or open {code.verification_uri} and enter the code {code.user_code}).\n"
                   "Waiting for approval...", err=True)
        if self.runtime.on_device_code is not None:
            self.runtime.on_device_code(code)


class Amount(click.ParamType):
    """A dollar amount as an exact Decimal (`25`, `42.50`); the journey checks its bounds."""

    name = "amount"

    def convert(self, value, param, ctx) -> Decimal:
        if isinstance(value, Decimal):
            return value
        try:
            amount = Decimal(value.strip().lstrip("$").replace(",", ""))
        except InvalidOperation:
            amount = Decimal("NaN")
        if not amount.is_finite():
            self.fail(f"{value!r} is not an amount in dollars", param, ctx)
        return amount


def report(error: PortalError, base_url: str) -> None:
    """What happened (message and code), the next step for that code, and the portal link."""
    click.echo(f"Error: {error.message} ({error.error})", err=True)
    step = NEXT_STEPS.get(error.error, NEXT_STEPS["temporarily_unavailable"] if error.status == 503
                          else "Try again later, or see the portal.")
    click.echo("Next: " + step.format(base_url=base_url, retry_after=error.retry_after or "a few"), err=True)
    if error.error == "monthly_cap_exceeded" and "remainingUsd" in error.payload:
        click.echo(f"Remaining this month: {format_usd(Decimal(error.payload['remainingUsd']))}", err=True)
    if error.portal_url:
        click.echo(f"Portal: {error.portal_url}", err=True)


class PortalGroup(click.Group):
    """Turns any `PortalError` a command raises into the report above and exit status 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except PortalError as error:
            app = ctx.obj if isinstance(ctx.obj, App) else None
            if app is not None:
                app.end_progress()
            report(error, app.base_url if app is not None else "")
            ctx.exit(1)


@click.group(cls=PortalGroup)
@click.option("--base-url", help="Portal base URL (default: $HERMES_PORTAL_BASE_URL, "
                                 "$NOUS_PORTAL_BASE_URL, then the real portal).")
@click.option("--credentials", type=click.Path(dir_okay=False, path_type=Path),
              help="Credentials file (default: $HERMES_HOME/portal_credentials.json, HERMES_HOME=~/.hermes).")
@click.pass_context
def cli(ctx: click.Context, base_url: str | None, credentials: Path | None) -> None:
    """A reference terminal client for Nous Portal terminal billing."""
    runtime = ctx.obj if isinstance(ctx.obj, Runtime) else Runtime()
    ctx.obj = App(base_url.rstrip("/") if base_url else config.base_url(),
                  CredentialStore(credentials or config.credentials_path()), runtime)


@cli.command()
@click.option("--billing", is_flag=True, help="Also ask for billing:manage (terminal purchases).")
@click.pass_obj
def login(app: App, billing: bool) -> None:
    """Log in through the device flow."""
    scope = config.LOGIN_SCOPE + (" " + config.BILLING_MANAGE if billing else "")
    credentials = device_login(app.session.transport, scope, app.show_code,
                               clock=app.runtime.clock, sleep=app.sleep)
    app.end_progress()
    app.store.save(credentials)
    click.echo(f"Logged in with scopes: {credentials.scope}.")
    if billing and not credentials.can_bill:
        click.echo("Terminal billing was not granted (your role cannot spend, or \"Allow terminal "
                   "billing\" was left unticked).")


@cli.command()
@click.pass_obj
def logout(app: App) -> None:
    """Forget the stored login."""
    app.store.clear()
    click.echo("Logged out.")


def describe(state: BillingState) -> list[str]:
    lines = [f"{state.org_name} ({state.org_id}), your role: {state.role}",
             f"Balance:          {format_usd(state.balance)}",
             f"Terminal billing: {'allowed' if state.cli_billing_enabled else 'turned off for this org'}"]
    if state.can_change_plan:
        card = "none saved" if state.card is None else f"{state.card.brand} ending {state.card.last4}"
        lines.append(f"Card:             {card}")
    if state.monthly_cap is not None:
        cap = state.monthly_cap
        ceiling = " (default ceiling)" if cap.is_default_ceiling else ""
        lines.append(f"This month:       {format_usd(cap.spent_this_month)} of {format_usd(cap.limit)}{ceiling}")
    if state.auto_reload is not None:
        rule = state.auto_reload
        lines.append(f"Auto-reload:      {'on' if rule.enabled else 'off'}: below {format_usd(rule.threshold)}, "
                     f"reload to {format_usd(rule.reload_to)}")
    lines.append(f"Portal:           {state.portal_url}")
    return lines


@cli.command()
@click.pass_obj
def state(app: App) -> None:
    """Show the org's balance, card, monthly cap and auto-reload."""
    click.echo("\n".join(describe(app.api.state())))


@cli.command(name="buy")
@click.argument("amount", type=Amount())
@click.pass_obj
def buy_command(app: App, amount: Decimal) -> None:
    """Buy AMOUNT dollars of credit with the saved card."""
    api = app.api
    click.echo(f"Buying {format_usd(amount)} of credit...", err=True)
    result = buy(api, amount, show=app.show_code, clock=app.runtime.clock, sleep=app.sleep)
    app.end_progress()
    if result.outcome == "settled":
        click.echo(f"Credited {format_usd(result.credited)}. Balance: {format_usd(api.state().balance)}.")
        return
    if result.outcome == "failed":
        click.echo(f"The charge failed ({result.reason}). "
                   f"{FAILURE_REASONS.get(result.reason, 'See the portal for details.')}", err=True)
        click.echo(f"Portal: {api.state().portal_url}", err=True)
    elif result.outcome == "timeout":
        click.echo(f"Charge {result.charge_id} is still pending after 5 minutes; it may still settle. "
                   "Check `python -m client state` later instead of buying again.", err=True)
    else:
        click.echo(f"Terminal billing was not granted (the new login holds: {result.scope}); nothing "
                   "was charged. Approve as an owner, admin or finance admin and tick \"Allow terminal "
                   "billing\".", err=True)
    raise click.exceptions.Exit(1)


@cli.command(name="auto-reload")
@click.option("--threshold", type=Amount(), help="Reload when the balance falls below this.")
@click.option("--reload-to", type=Amount(), help="The balance to reload to.")
@click.option("--disable", is_flag=True, help="Turn auto-reload off.")
@click.pass_obj
def auto_reload(app: App, threshold: Decimal | None, reload_to: Decimal | None, disable: bool) -> None:
    """Turn auto-reload on (--threshold and --reload-to) or off (--disable)."""
    if disable:
        current = app.api.state().auto_reload
        threshold = current.threshold if current else Decimal(0)  # kept as last set
        reload_to = current.reload_to if current else Decimal(0)
    elif threshold is None or reload_to is None:
        raise click.UsageError("Give --threshold and --reload-to, or --disable.")
    rule = with_step_up(lambda: app.api.configure_auto_reload(not disable, threshold, reload_to),
                        app.session, app.show_code, clock=app.runtime.clock, sleep=app.sleep)
    if isinstance(rule, Downscoped):
        click.echo(f"Terminal billing was not granted (the new login holds: {rule.scope}); nothing changed.",
                   err=True)
        raise click.exceptions.Exit(1)
    if rule.enabled:
        click.echo(f"Auto-reload on: below {format_usd(rule.threshold)}, reload to {format_usd(rule.reload_to)}.")
    else:
        click.echo("Auto-reload off.")
