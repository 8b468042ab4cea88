"""`python -m client`: log in, read the billing state, buy credits, configure auto-reload,
read and change the plan, and chat.

Every refusal prints what happened, the next step for its error code, and the absolute
portal link, then exits 1. Long waits (device approval, charge polling) print one dot per
wait to stderr.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Callable

import click

from client import config
from client.billing import BillingApi, BillingState, PendingChange, PortalSession, Preview, Subscription
from client.credentials import CredentialStore
from client.errors import PortalError
from client.inference import InferenceApi, ToolCall
from client.journeys import Conversation, Downscoped, UpgradeResult, buy, chat, upgrade, with_step_up
from client.money import format_usd
from client.oauth import DeviceCode, device_login
from client.transport import Transport

LOGIN = "python -m client login"
PLAN = "python -m client plan"
BUY = "python -m client buy"
DEFAULT_MODEL = "anthropic/claude-sonnet-5"

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
    "preview_rejected": f"There is no such plan, or no plan to change. See the plans with `{PLAN}`.",
    "subscription_mutation_rejected": f"That change does not fit the plan: dearer plans go through `{PLAN} upgrade`, "
                                      f"cheaper ones through `{PLAN} downgrade`, Free through `{PLAN} cancel`.",
    "upgrade_cap_exceeded": "Daily plan-change limit reached; nothing was charged. Try again tomorrow "
                            "(in {retry_after} seconds, at midnight UTC).",
    "stripe_unavailable": "The payment processor is unavailable; nothing was charged. "
                          "Try again in {retry_after} seconds.",
    "no_usable_credits": f"Buy credits, e.g. `{BUY} 10`, then chat again (or pick a free model).",
    "model_not_found": "Pick a model the portal serves: `python -m client models`.",
}

# The inference API's own words for codes it shares with billing.
CHAT_STEPS = {**NEXT_STEPS,
              "rate_limited": "The portal's chat rate limit is reached; try again in {retry_after} seconds."}

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

    @cached_property
    def inference(self) -> InferenceApi:
        transport = self.session.transport
        return InferenceApi(self.session, Transport(config.inference_base_url(self.base_url), transport.session))

    def with_step_up(self, write):
        """A billing write that may ask her to approve terminal billing first; a downscoped login
        ends the command with nothing changed."""
        result = with_step_up(write, self.session, self.show_code, clock=self.runtime.clock, sleep=self.sleep)
        self.end_progress()
        if isinstance(result, Downscoped):
            not_granted(result.scope, "nothing changed")
        return result

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


def report(error: PortalError, base_url: str, steps: dict[str, str] = NEXT_STEPS) -> None:
    """What happened (message and code), the next step for that code, and the portal link."""
    click.echo(f"Error: {error.message} ({error.error})", err=True)
    step = steps.get(error.error, steps["temporarily_unavailable"] if error.status == 503
                     else "Try again later, or see the portal.")
    click.echo("Next: " + step.format(base_url=base_url, retry_after=error.retry_after or "a few"), err=True)
    if error.error == "monthly_cap_exceeded" and "remainingUsd" in error.payload:
        click.echo(f"Remaining this month: {format_usd(Decimal(error.payload['remainingUsd']))}", err=True)
    if error.portal_url:
        click.echo(f"Portal: {error.portal_url}", err=True)


def not_granted(scope: str, consequence: str) -> None:
    click.echo(f"Terminal billing was not granted (the new login holds: {scope}); {consequence}. Approve as an "
               "owner, admin or finance admin and tick \"Allow terminal billing\".", err=True)
    raise click.exceptions.Exit(1)


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
        not_granted(result.scope, "nothing was charged")
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
    rule = app.with_step_up(lambda: app.api.configure_auto_reload(not disable, threshold, reload_to))
    if rule.enabled:
        click.echo(f"Auto-reload on: below {format_usd(rule.threshold)}, reload to {format_usd(rule.reload_to)}.")
    else:
        click.echo("Auto-reload off.")


# -- the plan (CONTRACT.md §7) -----------------------------------------------------------------
def day(iso: str | None) -> str:
    """`2026-06-30T12:00:00Z` as `Jun 30, 2026`; a value that is no instant, cut to its first 10 characters."""
    if not iso:
        return "the end of the cycle"
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso[:10]
    return f"{moment:%b} {moment.day}, {moment.year}"


def per_month(amount: Decimal) -> str:
    return f"{format_usd(amount)}/mo"


def describe_plan(plan: Subscription) -> list[str]:
    lines = [f"{plan.org_name} ({plan.org_id}), your role: {plan.role}"]
    if plan.is_team:
        return lines + [f"Plan:            none. Teams run on a shared balance · top it up with `{BUY} N`",
                        f"Portal:          {plan.portal_url}"]
    current = plan.current
    if current is None:
        lines.append("Plan:            Free (no subscription)")
    else:
        price = next((f" at {per_month(tier.price)}" for tier in plan.tiers if tier.tier_id == current.tier_id), "")
        included = format_usd(current.monthly_credits)
        lines += [f"Plan:            {current.tier_name}{price}, {included} of usage a month",
                  f"Left to spend:   {format_usd(current.credits_remaining)} this cycle",
                  f"Cycle ends:      {day(current.cycle_ends_at)}",
                  f"Pending change:  {pending(current)}"]
    current_order = next((tier.order for tier in plan.tiers if tier.is_current), 0)
    lines.append("Plans:")
    for tier in plan.tiers:
        if tier.is_current:
            hint = "current"
        elif tier.order == 0:
            hint = f"cancel to move here: `{PLAN} cancel`" if current is not None else ""
        else:
            hint = "upgrade" if tier.order > current_order else "downgrade"
        hint = hint if tier.is_enabled else "no longer offered"
        lines.append(f"  {tier.name:<12} {per_month(tier.price):>11}  {format_usd(tier.monthly_credits):>8} of usage"
                     f"  {tier.tier_id:<19} {hint}".rstrip())
    if not plan.can_change_plan:
        lines.append("Only an owner, admin or finance admin can change the plan.")
    lines.append(("Manage:          " if current is not None else "Start a subscription: ") + plan.manage_url)
    return lines


def pending(current) -> str:
    if current.cancel_at_period_end:
        return (f"the plan ends on {day(current.cancellation_effective_at or current.cycle_ends_at)} "
                f"and will not renew (undo: `{PLAN} resume`)")
    if current.pending_tier_name:
        return f"moves to {current.pending_tier_name} on {day(current.pending_at)} (undo: `{PLAN} resume`)"
    return "none"


def with_plan(app: App) -> Subscription:
    """The plan; a team or an org without one stops here: the terminal changes only a plan that exists."""
    plan = app.api.subscription()
    if plan.is_team:
        click.echo(f"{plan.org_name} is a team: teams run on a shared balance, not a plan · top it up with "
                   f"`{BUY} N`.", err=True)
        raise click.exceptions.Exit(1)
    if plan.current is None:
        click.echo(f"Plan: Free. Start a subscription on the portal: {plan.manage_url}", err=True)
        raise click.exceptions.Exit(1)
    return plan


def tier_id(plan: Subscription, wanted: str) -> str:
    """A tier named by id or by name; anything else goes to the portal as typed, for it to judge."""
    found = plan.find(wanted)
    return found.tier_id if found is not None else wanted.strip()


def describe_preview(preview: Preview, plan: Subscription) -> list[str]:
    target = preview.target_tier_name or "that plan"
    if preview.effect == "no_op":
        return [f"You are already on {target}: nothing to change."]
    if preview.effect == "charge_now":
        amount = (f"{format_usd(Decimal(preview.amount_due_now_cents) / 100)} now (prorated)"
                  if preview.amount_due_now_cents is not None else "the prorated amount now")
        lines = [f"Upgrade to {target} at once. You will be charged {amount}."]
    elif preview.effect == "scheduled":
        lines = [f"Change to {target} on {day(preview.effective_at)}. Nothing is charged now; you keep "
                 f"{preview.current_tier_name or 'your plan'} until then."]
    else:
        return [f"Not possible from the terminal: {preview.reason or 'manage this change on the portal.'}",
                f"Manage on the portal: {plan.manage_url}"]
    if preview.monthly_credits_delta:
        sign = "+" if preview.monthly_credits_delta > 0 else ""
        lines.append(f"Usage included a month changes by {sign}{format_usd(preview.monthly_credits_delta)}.")
    return lines


@cli.group(invoke_without_command=True)
@click.pass_context
def plan(ctx: click.Context) -> None:
    """Show the plan, what is left this cycle, and the plans on offer; or change it."""
    if ctx.invoked_subcommand is None:
        click.echo("\n".join(describe_plan(ctx.obj.api.subscription())))


@plan.command(name="preview")
@click.argument("tier")
@click.pass_obj
def plan_preview(app: App, tier: str) -> None:
    """What moving to TIER (an id or a name) would do now; nothing changes."""
    current = with_plan(app)
    preview = app.with_step_up(lambda: app.api.preview(tier_id(current, tier)))
    click.echo("\n".join(describe_preview(preview, current)))
    if preview.effect == "blocked":
        raise click.exceptions.Exit(1)


@plan.command(name="upgrade")
@click.argument("tier")
@click.option("--yes", is_flag=True, help="Pay without asking for confirmation.")
@click.pass_obj
def plan_upgrade(app: App, tier: str, yes: bool) -> None:
    """Move to a dearer TIER now, paying the prorated difference with the saved card."""
    current = with_plan(app)

    def confirm(preview: Preview) -> bool:
        click.echo("\n".join(describe_preview(preview, current)))
        card = app.api.state().card
        if card is not None and card.label is not None:
            click.echo(f"{card.brand} ending {card.last4}, {card.label}, will be charged.")
        amount = preview.amount_due_now_cents
        price = f"Pay {format_usd(Decimal(amount) / 100)}" if amount is not None else "Pay the prorated amount"
        return yes or click.confirm(f"{price} and upgrade now?", default=False, err=True)

    result = upgrade(app.api, tier_id(current, tier), confirm=confirm, show=app.show_code,
                     clock=app.runtime.clock, sleep=app.sleep)
    app.end_progress()
    if not describe_upgrade(result, current):
        raise click.exceptions.Exit(1)


def describe_upgrade(result: UpgradeResult, plan: Subscription) -> bool:
    """Say what came of the upgrade; True when she ends on the tier she asked for."""
    answer = result.answer
    name = ((answer and answer.target_tier_name) or (result.preview and result.preview.target_tier_name)
            or result.tier_id)
    if result.outcome == "upgraded":
        charged = ("" if answer.amount_charged_cents is None
                   else f": {format_usd(Decimal(answer.amount_charged_cents) / 100)} charged now")
        click.echo(f"Upgraded to {name}{charged}.")
        now = result.plan.current if result.plan is not None else None
        if now is not None and now.tier_id == result.tier_id:
            click.echo(f"Plan: {now.tier_name}, {format_usd(now.credits_remaining)} left this cycle, "
                       f"cycle ends {day(now.cycle_ends_at)}.")
        else:
            click.echo(f"The portal does not show {name} yet; check `{PLAN}` in a minute.")
        return True
    if result.outcome == "already_on_tier":
        click.echo(f"You are already on {name}; nothing was charged.")
        return True
    if result.outcome == "not_offered":
        if result.preview.effect == "scheduled":
            click.echo(f"{name} costs no more than your plan: a move to it is scheduled for the end of the "
                       f"cycle, not charged now. Run `{PLAN} downgrade {result.tier_id}`.", err=True)
            return False
        for line in describe_preview(result.preview, plan):
            click.echo(line, err=result.preview.effect != "no_op")
        return result.preview.effect == "no_op"
    if result.outcome == "declined":
        click.echo("Cancelled: nothing was charged.", err=True)
    elif result.outcome == "downscoped":
        not_granted(result.scope, "nothing was charged")
    elif result.outcome == "requires_action":
        click.echo(f"The bank wants to confirm this payment (3-D Secure). Nothing was charged and you are still on "
                   f"{plan.current.tier_name}. Finish the upgrade on the portal: {answer.recovery_url}", err=True)
    elif result.outcome == "payment_failed":
        why = FAILURE_REASONS.get(answer.reason or "", "The payment failed.")
        click.echo(f"The upgrade's payment failed ({answer.reason}). {why} You are still on "
                   f"{plan.current.tier_name}. Portal: {answer.recovery_url}", err=True)
    else:
        click.echo(f"Couldn't confirm the upgrade: your card may or may not have been charged. Check `{PLAN}` "
                   "before trying again.", err=True)
    return False


def change_plan(app: App, write: Callable[[Subscription], PendingChange],
                fallback: Callable[[PendingChange], str]) -> None:
    """A chargeless change of an existing plan: the portal's own sentence for it, else ours."""
    current = with_plan(app)
    change = app.with_step_up(lambda: write(current))
    click.echo(change.message or fallback(change))


@plan.command(name="downgrade")
@click.argument("tier")
@click.pass_obj
def plan_downgrade(app: App, tier: str) -> None:
    """Move to a cheaper (or same-price) TIER at the end of the cycle; nothing is charged."""
    change_plan(app, lambda current: app.api.schedule_change(tier_id(current, tier)),
                lambda change: f"Scheduled: you move to {change.target_tier_name} on {day(change.effective_at)}.")


@plan.command(name="cancel")
@click.pass_obj
def plan_cancel(app: App) -> None:
    """End the plan at the end of the cycle; what you bought is kept."""
    change_plan(app, lambda current: app.api.schedule_cancellation(),
                lambda change: f"Scheduled: the plan ends on {day(change.effective_at)} and will not renew.")


@plan.command(name="resume")
@click.pass_obj
def plan_resume(app: App) -> None:
    """Take back a scheduled downgrade or cancellation: the plan renews as it is."""
    change_plan(app, lambda current: app.api.clear_pending_change(),
                lambda change: "Undone: your plan renews as it is.")


# -- inference (CONTRACT.md §10) ---------------------------------------------------------------
def per_million(price: Decimal) -> str:
    return format_usd(price * 1_000_000)


@cli.command()
@click.pass_obj
def models(app: App) -> None:
    """The models the portal serves, with their prices per million tokens."""
    for model in app.inference.models().values():
        price = ("free" if model.pricing.free else f"{per_million(model.pricing.prompt)} in, "
                 f"{per_million(model.pricing.completion)} out per million tokens")
        click.echo(f"{model.model_id:<42} {model.name:<26} {price}")


@cli.command(name="chat")
@click.argument("prompt")
@click.option("--model", default=DEFAULT_MODEL, show_default=True, help="The model to ask.")
@click.pass_obj
def chat_command(app: App, prompt: str, model: str) -> None:
    """Ask MODEL one question; the reply streams in, then what it cost and what is left."""

    shown = []  # the reply's text so far, on a line not yet ended

    def show_text(text: str) -> None:
        shown.append(text)
        click.echo(text, nl=False)

    def show_tool_call(call: ToolCall) -> None:
        click.echo(("\n" if shown else "") + f"[the model asked to run {call.name} {call.arguments}; "
                   "this terminal runs no tools]")
        shown.clear()

    try:
        turn = chat(app.inference, Conversation(model), prompt, on_text=show_text, on_tool_call=show_tool_call,
                    sleep=app.sleep)
    except PortalError as error:
        app.end_progress()
        report(error, app.base_url, CHAT_STEPS)
        raise click.exceptions.Exit(1)
    app.end_progress()
    click.echo()
    sys.stdout.flush()  # the reply (stdout) before what it cost (stderr), even through a pipe
    usage = [reply.usage for reply in turn.replies if reply.usage is not None]
    tokens = (f" ({sum(u.prompt_tokens for u in usage)} prompt + {sum(u.completion_tokens for u in usage)} "
              f"completion tokens)" if usage else "")
    click.echo(f"Cost: {'unknown' if turn.cost is None else format_usd(turn.cost)}{tokens}", err=True)
    if turn.left is not None:
        click.echo(f"Left to spend: {format_usd(turn.left)} (the portal's figure after this reply)", err=True)
