"""Mutation check of the promise suites: break one contract rule at a time in the portal and
see whether the scenarios (`behave`) or the contract properties (`pytest contract`) notice.

    .venv/bin/python -m contract.mutation [--only NAME ...] [--list] [--jobs N]

Each mutant is one textual change to one file of `mockportal/`, in a scratch copy of the
checkout (the working tree is never touched), named after the rule it breaks. A mutant is
killed when behave or `pytest contract` fails with it; `tests/` is deliberately not run: the
question is whether the suites users run against any portal pin the rule. Prints one line per
mutant and the kill rate; exits 1 if any survived. By hand, not in CI: about 40 s a mutant.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUITES = (["-m", "behave", "--stop", "-f", "null", "--no-junit"],
          ["-m", "pytest", "contract", "-x", "-q", "-p", "no:cacheprovider", "-o", "addopts=", "--no-header",
           "--hypothesis-profile=mutation"])


@dataclass(frozen=True)
class Mutant:
    name: str  # the rule it breaks, as CONTRACT.md states it
    path: str  # relative to the checkout
    old: str  # text that must occur exactly once
    new: str


M = Mutant
MUTANTS = (
    # §1 and §3: money on the wire, the billing state
    M("money is canonical (no trailing zeros)", "mockportal/wire.py",
      'text = text.rstrip("0").rstrip(".")', 'text = text'),
    M("card, cap and auto-reload are hidden from MEMBER and SECURITY_ADMIN", "mockportal/domain/billing.py",
      "if not can_change_plan(principal.role):\n                return BillingState", "if False:\n                return BillingState"),
    M("spentThisMonthUsd counts settled and pending charges only", "mockportal/store/money.py",
      "AND status IN ('pending', 'settled')\", (org_id, since))", "\", (org_id, since))"),
    M("the month's spend is the UTC calendar month", "mockportal/domain/clock.py",
      "moment.replace(day=1, hour=0", "moment.replace(hour=0"),
    # §4: the charge's gates, in order
    M("gate 2 (scope) before gates 3-5 (spender)", "mockportal/domain/spending.py",
      "gates=(billing_scope, spender, idempotency_key, valid_body, replay,\n           card_on_file, within_monthly_cap, hourly_charge_limit)",
      "gates=(spender, billing_scope, idempotency_key, valid_body, replay,\n           card_on_file, within_monthly_cap, hourly_charge_limit)"),
    M("gate 6 (key) before gate 7 (body)", "mockportal/domain/spending.py",
      "gates=(billing_scope, spender, idempotency_key, valid_body, replay,\n           card_on_file",
      "gates=(billing_scope, spender, valid_body, idempotency_key, replay,\n           card_on_file"),
    M("a replay is answered even after the card was removed (gate 8 before 9)", "mockportal/domain/spending.py",
      "gates=(billing_scope, spender, idempotency_key, valid_body, replay,\n           card_on_file, within_monthly_cap, hourly_charge_limit)",
      "gates=(billing_scope, spender, idempotency_key, valid_body, card_on_file, replay,\n           within_monthly_cap, hourly_charge_limit)"),
    M("gate 9 (card) before gate 10 (cap)", "mockportal/domain/spending.py",
      "card_on_file, within_monthly_cap, hourly_charge_limit)", "within_monthly_cap, card_on_file, hourly_charge_limit)"),
    M("gate 10 (cap) before gate 11 (rate limit)", "mockportal/domain/spending.py",
      "card_on_file, within_monthly_cap, hourly_charge_limit)", "card_on_file, hourly_charge_limit, within_monthly_cap)"),
    M("the Idempotency-Key is mandatory", "mockportal/domain/idempotency.py",
      'if header is None or not header.strip():\n        raise', 'if header is None or not header.strip():\n        return "k"\n        raise'),
    M("the same key with another amount is a 409", "mockportal/domain/idempotency.py",
      "if remembered.fingerprint != fingerprint:", "if False:"),
    M("keys are kept 24 hours", "mockportal/domain/idempotency.py",
      "KEY_TTL_SECONDS = 24 * 3600", "KEY_TTL_SECONDS = 3600"),
    M("amounts have at most 2 decimals", "mockportal/domain/spending.py",
      "if decimal_places(value) > 2:", "if decimal_places(value) > 3:"),
    M("amounts are within bounds (10..10000)", "mockportal/domain/spending.py",
      "if not MIN_USD <= value <= MAX_USD:", "if not MIN_USD - 1 <= value <= MAX_USD:"),
    M("the monthly cap refuses only what passes it", "mockportal/domain/spending.py",
      "if spend.amount > headroom:", "if spend.amount >= headroom:"),
    M("5 charges per rolling hour", "mockportal/domain/ratelimit.py", "LIMIT = 5\n", "LIMIT = 6\n"),
    M("Retry-After is when the next slot frees", "mockportal/domain/ratelimit.py",
      "return max(1, math.ceil(frees_at - now))", "return max(1, math.ceil(frees_at - now) + 1)"),
    M("the limit is per grant as well as per org", "mockportal/domain/ratelimit.py",
      "            seconds_until_slot(times(self._source, grant_id=principal.grant_id, after=since), now),\n", ""),
    # §4: settlement and charge reads
    M("the balance rises exactly once, by the settled amount", "mockportal/domain/ledger.py",
      "self.credit(org_id, charge.amount)", "self.credit(org_id, charge.amount * 2)"),
    M("test card 0002 is declined", "mockportal/domain/ledger.py", '"0002": "card_declined", ', ""),
    M("another org's charge reads as pending", "mockportal/store/money.py",
      '"SELECT * FROM charges WHERE id = ? AND org_id = ?", (charge_id, org_id)',
      '"SELECT * FROM charges WHERE id = ? OR org_id = ?", (charge_id, org_id)'),
    M("a charge stays readable after the kill-switch is off (gates 1-2 only)", "mockportal/domain/billing.py",
      "Tokens.require_scope(principal, BILLING_MANAGE)\n        return self._ledger.status",
      "Tokens.require_scope(principal, BILLING_MANAGE)\n        from mockportal.domain.orgs import require_spender as _r\n"
      "        with self._store.transaction():\n            _r(principal, load_org(self._store, principal.org_id))\n"
      "        return self._ledger.status"),
    # §5: auto-reload
    M("auto-top-up needs topUpAmount > threshold", "mockportal/domain/billing.py",
      "if reload_to <= threshold:", "if reload_to < threshold:"),
    M("auto-reload runs when the balance is below the threshold", "mockportal/domain/spending.py",
      "if not rule.enabled or spend.org.balance >= rule.threshold:", "if not rule.enabled or spend.org.balance > rule.threshold:"),
    M("auto-reload reloads to reloadToUsd, rounded up to the cent", "mockportal/domain/spending.py",
      "quantize(CENT, rounding=ROUND_UP)", "quantize(CENT)"),
    M("one auto-reload in flight", "mockportal/domain/spending.py",
      "gates=(below_reload_threshold, card_on_file, one_reload_in_flight, clamped_to_monthly_cap)",
      "gates=(below_reload_threshold, card_on_file, clamped_to_monthly_cap)"),
    M("auto-reload stays within the monthly cap", "mockportal/domain/spending.py",
      "spend.amount = min(spend.amount, pipeline.ledger.headroom(spend.org))", "pass"),
    # §6: OAuth
    M("refresh tokens are single-use", "mockportal/domain/tokens.py",
      'reused = record["used_at"] is not None', "reused = False"),
    M("a device code is redeemed once", "mockportal/domain/device.py",
      "self._store.update_device_code(device_code, status=REDEEMED)", "pass"),
    M("billing:manage needs a billing role (silent downscope)", "mockportal/domain/device.py",
      "keep_billing = can_change_plan(role) and allow_terminal_billing", "keep_billing = allow_terminal_billing"),
    M("access tokens last 3600 s", "mockportal/domain/tokens.py", "ACCESS_TOKEN_SECONDS = 3600", "ACCESS_TOKEN_SECONDS = 900"),
    M("an access token is refused from its exp on", "mockportal/domain/tokens.py",
      'claims["exp"] <= self._clock.now()', 'claims["exp"] < self._clock.now()'),
    M("user codes are typed in any case", "mockportal/domain/device.py",
      'letters = "".join(entered.split()).replace("-", "").upper()', 'letters = "".join(entered.split()).replace("-", "")'),
    # §7: subscriptions
    M("proration rounds half up", "mockportal/domain/plans.py",
      "cents.quantize(Decimal(1), rounding=ROUND_HALF_UP)", "cents.quantize(Decimal(1), rounding=\"ROUND_DOWN\")"),
    M("an upgrade adds the prorated credits to G", "mockportal/domain/upgrades.py",
      "grant=plan.grant + offer.credits", "grant=plan.grant"),
    M("five card attempts per UTC day", "mockportal/domain/ratelimit.py",
      "UPGRADE_ATTEMPTS_PER_DAY = 5", "UPGRADE_ATTEMPTS_PER_DAY = 6"),
    M("the daily cap's Retry-After runs to UTC midnight", "mockportal/domain/ratelimit.py",
      "return max(1, math.ceil(next_midnight - now))", "return max(1, math.ceil(next_midnight - now) + 3600)"),
    M("Stripe off answers 503 before any charge", "mockportal/domain/spending.py",
      "upgrades.daily_attempts,\n           upgrades.stripe_available),", "upgrades.daily_attempts),"),
    M("an upgrade must cost more (downgrades are scheduled)", "mockportal/domain/upgrades.py",
      "if target.price <= current.price:", "if target.price < current.price:"),
    M("rollover is capped at the new tier's monthly credits", "mockportal/domain/plans.py",
      "rollover = min(max(plan.grant, Decimal(0)) + plan.rollover, tier.credits)",
      "rollover = max(plan.grant, Decimal(0)) + plan.rollover"),
    M("debt is repaid first at renewal", "mockportal/domain/plans.py",
      "grant = tier.credits + min(plan.grant, Decimal(0))", "grant = tier.credits"),
    M("a pending downgrade becomes the tier at period end", "mockportal/domain/plans.py",
      "tier = self._store.get_tier(plan.pending_tier_id or plan.tier_id)", "tier = self._store.get_tier(plan.tier_id)"),
    M("a cancellation ends the plan at period end", "mockportal/domain/plans.py",
      "if plan.cancel_at_period_end:\n                self._store.delete_plan(org_id)", "if False:\n                self._store.delete_plan(org_id)"),
    M("a scheduled change can be taken back", "mockportal/domain/subscriptions.py",
      "self._store.put_plan(replace(plan, pending_tier_id=None, cancel_at_period_end=False))\n            current",
      "current"),
    M("a team is offered no tiers", "mockportal/domain/subscriptions.py",
      "tiers = self._catalogue.listed_for(plan) if org.kind == PERSONAL else []",
      "tiers = self._catalogue.listed_for(plan)"),
    M("a disabled tier is listed only to an org on it", "mockportal/domain/plans.py",
      "if tier.enabled or tier.id == current]", "]"),
    # §9: entitlement
    M("total usable credits count only positive buckets", "mockportal/domain/credits.py",
      "return max(self.grant + self.rollover, ZERO) + max(self.purchased, ZERO)",
      "return self.grant + self.rollover + self.purchased"),
    M("paid access needs some usable credits", "mockportal/domain/credits.py",
      "return self.total_usable > 0", "return self.total_usable >= 0"),
    # §10: metering
    M("prompt tokens are ceil(body bytes / 4)", "mockportal/domain/metering.py",
      "return math.ceil(body_bytes / BYTES_PER_TOKEN)", "return body_bytes // BYTES_PER_TOKEN"),
    M("completion tokens are at least 1", "mockportal/domain/metering.py",
      "return max(1, math.ceil(reply.metered_bytes() / BYTES_PER_TOKEN))",
      "return math.ceil(reply.metered_bytes() / BYTES_PER_TOKEN)"),
    M("cost is rounded up to whole micros", "mockportal/domain/metering.py",
      "to_integral_value(rounding=ROUND_CEILING)", "to_integral_value(rounding=\"ROUND_FLOOR\")"),
    M("the grant is spent before rollover", "mockportal/domain/metering.py",
      "from_grant = min(cost, max(credits.grant, ZERO))", "from_grant = ZERO"),
    M("debt with a paid plan goes on the grant", "mockportal/domain/metering.py",
      "debt_on_grant = credits.paid_plan", "debt_on_grant = False"),
    M("free models answer with no credits", "mockportal/domain/metering.py",
      "if model.is_free or credits.allowed:", "if credits.allowed:"),
    M("60 requests a minute", "mockportal/domain/metering.py",
      'Bucket("requests", 60, 60, False)', 'Bucket("requests", 61, 60, False)'),
    M("the credits headers are cut toward zero to 2 decimals", "mockportal/api/completions.py",
      "cut = amount.quantize(CENT, rounding=ROUND_DOWN)", "cut = amount.quantize(CENT)"),
    M("the usage chunk comes only with include_usage", "mockportal/api/completions.py",
      "if admission.request.include_usage:", "if True:"),
    M("the stream ends with a finish_reason chunk", "mockportal/api/completions.py",
      '    yield event([{"index": 0, "delta": {}, "finish_reason": admission.reply.finish_reason}])\n', ""),
    # more of the same sections: answers, errors, the flows around them
    M("every 403 carries a relative portalUrl", "mockportal/errors.py",
      "super().__init__(error, message, portalUrl=portal_url, **extras)", "super().__init__(error, message, **extras)"),
    M("an unknown charge id reads as pending, never 404", "mockportal/domain/ledger.py",
      'if charge is None or charge.status == "pending":\n            return PENDING',
      'if charge is None:\n            raise NotFound("not_found", "No such charge.")\n'
      '        if charge.status == "pending":\n            return PENDING'),
    M("a charge settles settleAfterSeconds after acceptance", "mockportal/domain/ledger.py",
      'else now + after, settled_at=None))', 'else now + after + 1, settled_at=None))'),
    M("settledAt is the instant the charge was due", "mockportal/domain/ledger.py",
      'self._store.finish_charge(charge.id, "settled", charge.settle_at)', 'self._store.finish_charge(charge.id, "settled", now)'),
    M("slow_down only when polled faster than once a second", "mockportal/domain/device.py",
      "MIN_POLL_GAP_SECONDS = 1.0", "MIN_POLL_GAP_SECONDS = 2.0"),
    M("a revoked session is refused (401 session_revoked)", "mockportal/domain/tokens.py",
      'if grant["revoked_at"] is not None:\n                raise Unauthenticated("session_revoked"',
      'if False:\n                raise Unauthenticated("session_revoked"'),
    M("a grant whose spending was revoked cannot spend (gate 3)", "mockportal/domain/orgs.py",
      "if principal.spending_revoked_by is not None:", "if False:"),
    M("the org kill-switch stops terminal spending (gate 5)", "mockportal/domain/orgs.py",
      "if not org.cli_billing_enabled:", "if False:"),
    M("with Stripe off a preview quotes no amount", "mockportal/domain/subscriptions.py",
      "cents = offer.cents if self._stripe.status().available else None", "cents = offer.cents"),
    M("test card 3184 is requires_action on an upgrade", "mockportal/domain/upgrades.py",
      'status = REQUIRES_ACTION if outcome.reason == "authentication_required" else PAYMENT_FAILED',
      "status = PAYMENT_FAILED"),
    M("recoveryUrl is absolute", "mockportal/api/views.py",
      'return {**body, "recoveryUrl": origin.rstrip("/") + body["recoveryUrl"]}', "return body"),
    M("a cancellation replaces a pending downgrade", "mockportal/domain/subscriptions.py",
      "self._store.put_plan(replace(plan, pending_tier_id=None, cancel_at_period_end=True))",
      "self._store.put_plan(replace(plan, cancel_at_period_end=True))"),
    M("the account's credits_remaining is G + R", "mockportal/api/views.py",
      '"credits_remaining": json_number(credits.subscription_remaining),', '"credits_remaining": json_number(credits.grant),'),
    M("an access token carries paid_access", "mockportal/domain/credits.py",
      'return {"paid_access": credits.allowed,', 'return {"paid_access": True,'),
    M("the subscription headers carry P's debt", "mockportal/api/completions.py",
      "subscription = credits.grant + credits.rollover + min(credits.purchased, Decimal(0))",
      "subscription = credits.grant + credits.rollover"),
    M("a tool call's arguments are streamed whole", "mockportal/api/completions.py",
      'yield {"tool_calls": [{"index": index, "function": {"arguments": piece}}]}',
      'yield {"tool_calls": [{"index": index, "function": {"arguments": piece[:-1]}}]}'),
    M("a 429's Retry-After is the longest reset of the exhausted windows", "mockportal/domain/metering.py",
      "wait = max(w.reset for w in windows if w.exhausted)", "wait = min(w.reset for w in windows)"),
    M("a reset turns the Stripe switch back on", "mockportal/domain/scenarios.py",
      "StripeSwitch(store).set(available=True)", "pass"),
    # §6: the device flow's other answers
    M("an expired device code is expired_token", "mockportal/domain/device.py",
      'if now >= row["expires_at"]:\n            return OAuthError("expired_token"',
      'if False:\n            return OAuthError("expired_token"'),
    M("a denied login is access_denied", "mockportal/domain/device.py",
      'if row["status"] == DENIED:\n            return OAuthError("access_denied"',
      'if False:\n            return OAuthError("access_denied"'),
    M("only unknown scopes asked is invalid_scope", "mockportal/domain/device.py",
      'if not requested:\n            raise OAuthError("invalid_scope"', 'if False:\n            raise OAuthError("invalid_scope"'),
    M("an unknown client_id is invalid_client", "mockportal/domain/tokens.py",
      "if client_id not in KNOWN_CLIENTS:", "if not client_id:"),
    # (Not a mutant: "a refresh token of another client is refused" is equivalent while
    # hermes-cli is the only registered client; another client_id is refused as unknown first.)
    # §2, §7, §9, §10: answers the client parses
    M("a replay says Idempotent-Replayed: true", "mockportal/api/__init__.py",
      "if result.replayed:", "if False:"),
    M("the unused grant rolls over, it is not kept", "mockportal/domain/plans.py",
      "grant = tier.credits + min(plan.grant, Decimal(0))", "grant = tier.credits + plan.grant"),
    M("rollover carries the previous rollover", "mockportal/domain/plans.py",
      "rollover = min(max(plan.grant, Decimal(0)) + plan.rollover, tier.credits)",
      "rollover = min(max(plan.grant, Decimal(0)), tier.credits)"),
    M("effective_at_ms is the portal clock's instant", "mockportal/api/views.py",
      '"effective_at_ms": int(credits.at * 1000),', '"effective_at_ms": int(credits.at) * 1000 + 1,'),
    M("a stream ends with data: [DONE]", "mockportal/api/completions.py",
      '    yield b"data: [DONE]\\n\\n"\n', ""),
    M("the rate-limit headers count down", "mockportal/api/completions.py",
      'headers[f"x-ratelimit-remaining-{name}"] = str(window.remaining)',
      'headers[f"x-ratelimit-remaining-{name}"] = str(window.bucket.limit)'),
    M("a model lists its context_length", "mockportal/api/completions.py",
      '"context_length": model.context_length, "pricing": pricing}', '"context_length": 8192, "pricing": pricing}'),
)


def scratch_copy() -> Path:
    """A copy of the checkout without its venv, caches and reports."""
    target = Path(tempfile.mkdtemp(prefix="mockportal-mutant-"))
    ignore = shutil.ignore_patterns(".venv", ".git", "__pycache__", ".pytest_cache", ".hypothesis", "reports",
                                    "node_modules", "*.db", "*.db-*")
    shutil.copytree(ROOT, target / "checkout", ignore=ignore)
    return target / "checkout"


def apply(checkout: Path, mutant: Mutant) -> str:
    path = checkout / mutant.path
    text = path.read_text()
    if text.count(mutant.old) != 1:
        raise SystemExit(f"mutant {mutant.name!r}: its text occurs {text.count(mutant.old)} times in {mutant.path}")
    path.write_text(text.replace(mutant.old, mutant.new))
    return text


def killed_by(checkout: Path) -> str | None:
    """The first suite that fails on the mutated checkout, or None."""
    env = {**os.environ, "PYTHONPATH": str(checkout), "HERMES_PORTAL_BASE_URL": ""}
    for suite in SUITES:
        result = subprocess.run([sys.executable, *suite], cwd=checkout, env=env, capture_output=True, timeout=900)
        if result.returncode != 0:
            return suite[1]
    return None


def run(mutant: Mutant) -> tuple[Mutant, str | None, float]:
    checkout = scratch_copy()
    started = time.monotonic()
    try:
        apply(checkout, mutant)
        return mutant, killed_by(checkout), time.monotonic() - started
    finally:
        shutil.rmtree(checkout.parent, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="run the mutants whose names contain one of these")
    parser.add_argument("--list", action="store_true", help="list the mutants and check each applies")
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    chosen = [m for m in MUTANTS if not args.only or any(part in m.name for part in args.only)]
    if args.list:
        checkout = scratch_copy()
        for mutant in chosen:
            (checkout / mutant.path).write_text(apply(checkout, mutant))  # applies, then restores
            print(f"{mutant.path:36} {mutant.name}")
        shutil.rmtree(checkout.parent, ignore_errors=True)
        return 0
    survivors = []
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for mutant, suite, seconds in pool.map(run, chosen):
            print(f"{'killed by ' + suite if suite else 'SURVIVED':18} {seconds:5.0f} s  {mutant.name}", flush=True)
            if suite is None:
                survivors.append(mutant)
    killed = len(chosen) - len(survivors)
    print(f"\n{killed} of {len(chosen)} mutants killed by features + contract ({100 * killed / max(1, len(chosen)):.0f} %)")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
