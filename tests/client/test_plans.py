"""The plan journeys (CONTRACT.md §7) against a real portal: reading the plan and the catalogue,
previews, the upgrade with its one key per confirmed upgrade, and `python -m client plan ...`."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from client import errors
from client.billing import BillingApi, PortalSession
from client.journeys import PLAN_READS, upgrade
from client.transport import Transport

from mockportal.testing import BILLING_SCOPE, DEMO_PLAN_ORG, DEMO_PLAN_OWNER, LOGIN_SCOPE
from tests.client.stubs import LosesAnswers, Recording, Scripted, session_with
from tests.client.support import Approver, refused

PRO, BASIC, MAX = "nous-chat-plan-40", "nous-chat-plan-10", "nous-chat-plan-100"
DAY = 86400
UPGRADE = "POST /api/billing/subscription/upgrade"
SUBSCRIPTION = "GET /api/billing/subscription"


@pytest.fixture
def pat(login):
    """Pat's terminal, logged in with terminal billing (any scope may be asked instead)."""

    def logged_in(scope: str = BILLING_SCOPE, session=None) -> BillingApi:
        return login(DEMO_PLAN_OWNER, scope, session=session)

    return logged_in


def confirm_all(preview) -> bool:
    return True


def upgrade_to(api, fake_time, tier=PRO, confirm=confirm_all, show=None, keys=None):
    """The upgrade journey; `keys` are the idempotency keys it mints (else fresh UUIDs)."""
    minted = {} if keys is None else {"new_key": lambda: next(keys)}
    return upgrade(api, tier, confirm=confirm, show=show, clock=fake_time.clock, sleep=fake_time.sleep, **minted)


def numbered_keys():
    return (f"key-{n}" for n in itertools.count())


def sent(adapter, route: str) -> list:
    method, path = route.split(" ", 1)
    return [r for r in adapter.sent if r.method == method and r.path_url.split("?")[0] == path]


def plan_charges(control) -> list[tuple[str, str, str]]:
    return [(c["source"], c["status"], c["amountUsd"]) for c in control.org(DEMO_PLAN_ORG)["charges"]]


def tier_of(control) -> str:
    return control.org(DEMO_PLAN_ORG)["subscription"]["tierId"]


# -- reading ----------------------------------------------------------------------------------
def test_pat_reads_her_plan_and_the_catalogue(control, pat):
    plan = pat(LOGIN_SCOPE).subscription()  # reading needs no billing scope
    assert (plan.org_id, plan.context, plan.can_change_plan) == (DEMO_PLAN_ORG, "personal", True)
    current = plan.current
    assert (current.tier_id, current.tier_name) == ("nous-chat-plan-20", "Plus")
    assert current.credits_remaining == Decimal("15.5")
    assert current.cycle_ends_at == control.org(DEMO_PLAN_ORG)["subscription"]["cycleEndsAt"]
    assert [t.tier_id for t in plan.tiers] == ["nous-free", BASIC, "nous-chat-plan-20", PRO, MAX]
    assert [t.price for t in plan.tiers] == [Decimal(p) for p in ("0", "10", "20", "40", "100")]
    assert [t.tier_id for t in plan.tiers if t.is_current] == ["nous-chat-plan-20"]
    assert plan.manage_url == f"{control.url}/manage-subscription?org_id={DEMO_PLAN_ORG}"
    assert plan.find("pro").tier_id == PRO and plan.find(MAX).name == "Max" and plan.find("Plus (2025)") is None


def test_a_team_runs_on_a_shared_balance(login):
    plan = login("member@acme.test", LOGIN_SCOPE).subscription()
    assert (plan.is_team, plan.current, plan.tiers, plan.can_change_plan) == (True, None, (), False)


def test_the_answer_is_read_as_the_contract_allows(login):
    body = {"org": {"id": "o", "name": "O", "role": "ADMIN"}, "context": "family", "current": {"id": "t1", "name": "T",
            "monthlyCredits": "1", "creditsRemaining": "-0.5"},
            "tiers": [{"id": "t1", "name": "T", "dollarsPerMonthDisplay": "5", "monthlyCredits": "1"}]}
    adapter = Scripted({SUBSCRIPTION: [(200, body, {})]})
    plan = BillingApi(PortalSession(Transport("http://p", session_with(adapter)), login().session.store)).subscription()
    assert (plan.context, plan.can_change_plan, plan.portal_url) == ("personal", True, "http://p/billing")
    current = plan.current
    assert (current.tier_id, current.tier_name, current.credits_remaining) == ("t1", "T", Decimal("-0.5"))
    assert (plan.tiers[0].order, plan.tiers[0].is_enabled, plan.tiers[0].is_current) == (0, True, False)


# -- the upgrade journey -----------------------------------------------------------------------
def test_a_confirmed_upgrade_is_charged_once_and_read_back(control, pat, fake_time):
    adapter = Recording()
    api = pat(session=session_with(adapter))
    quoted = []
    result = upgrade_to(api, fake_time, confirm=lambda preview: quoted.append(preview) or True, keys=numbered_keys())
    assert (result.outcome, result.idempotency_key) == ("upgraded", "key-0")
    assert quoted[0].amount_due_now_cents == result.answer.amount_charged_cents == 1333
    assert result.plan.current.tier_id == PRO
    assert result.plan.current.credits_remaining == Decimal("15.5") + Decimal("15.33")
    assert [r.headers["Idempotency-Key"] for r in sent(adapter, UPGRADE)] == ["key-0"]
    assert plan_charges(control) == [("upgrade", "settled", "13.33")]
    assert fake_time.sleeps == []  # the first read after the upgrade shows it


def test_nothing_is_sent_unless_she_confirms(control, pat, fake_time):
    adapter = Recording()
    result = upgrade_to(pat(session=session_with(adapter)), fake_time, confirm=lambda preview: False)
    assert (result.outcome, result.idempotency_key) == ("declined", None)
    assert sent(adapter, UPGRADE) == [] and plan_charges(control) == []


@pytest.mark.parametrize("tier,effect", [(BASIC, "scheduled"), ("nous-chat-plan-20", "no_op"),
                                         ("nous-free", "blocked"), ("nous-chat-plan-15", "blocked")])
def test_only_a_charge_now_preview_is_offered(control, pat, fake_time, tier, effect):
    adapter = Recording()
    result = upgrade_to(pat(session=session_with(adapter)), fake_time, tier=tier,
                        confirm=lambda preview: pytest.fail("asked to confirm"))
    assert (result.outcome, result.preview.effect) == ("not_offered", effect)
    assert sent(adapter, UPGRADE) == []


def test_the_step_up_replays_the_held_upgrade_with_the_same_key(control, pat, fake_time, store):
    adapter = Recording()
    api = pat(session=session_with(adapter))
    control.fault("POST", "/api/billing/subscription/upgrade", 403, "insufficient_scope", count=1)
    result = upgrade_to(api, fake_time, show=Approver(control, fake_time, user=DEMO_PLAN_OWNER).show,
                        keys=numbered_keys())
    assert result.outcome == "upgraded"
    assert [r.headers["Idempotency-Key"] for r in sent(adapter, UPGRADE)] == ["key-0", "key-0"]
    assert plan_charges(control) == [("upgrade", "settled", "13.33")]


def test_a_login_without_billing_steps_up_at_the_preview(control, pat, fake_time, store):
    adapter = Recording()
    api = pat(LOGIN_SCOPE, session=session_with(adapter))
    result = upgrade_to(api, fake_time, show=Approver(control, fake_time, user=DEMO_PLAN_OWNER).show)
    assert result.outcome == "upgraded" and store.load().can_bill
    assert len(sent(adapter, "POST /api/billing/subscription/preview")) == 2
    assert len(sent(adapter, UPGRADE)) == 1


def test_a_downscoped_step_up_charges_nothing(control, pat, fake_time):
    api = pat(LOGIN_SCOPE)
    result = upgrade_to(api, fake_time, show=Approver(control, fake_time, user=DEMO_PLAN_OWNER, allow=False).show)
    assert result.outcome == "downscoped" and "billing:manage" not in result.scope.split()
    assert plan_charges(control) == [] and tier_of(control) == "nous-chat-plan-20"


@pytest.mark.parametrize("last4,status,reason", [("3184", "requires_action", "authentication_required"),
                                                 ("0002", "payment_failed", "card_declined"),
                                                 ("0069", "payment_failed", "payment_method_expired"),
                                                 ("0119", "payment_failed", "processing_error")])
def test_a_card_that_cannot_pay_leaves_the_plan_as_it_was(control, pat, fake_time, last4, status, reason):
    control.edit_org(DEMO_PLAN_ORG, card={"brand": "visa", "last4": last4})
    result = upgrade_to(pat(), fake_time)
    assert (result.outcome, result.answer.reason) == (status, reason)
    assert result.answer.recovery_url == f"{control.url}/manage-subscription?org_id={DEMO_PLAN_ORG}"
    assert result.plan is None and tier_of(control) == "nous-chat-plan-20" and plan_charges(control) == []


def test_with_stripe_off_the_quote_is_unknown_and_nothing_is_charged(control, pat, fake_time):
    control.stripe(False, retry_after=45)
    quoted = []
    with pytest.raises(errors.StripeUnavailable) as caught:
        upgrade_to(pat(), fake_time, confirm=lambda preview: quoted.append(preview) or True)
    assert quoted[0].amount_due_now_cents is None
    assert caught.value.retry_after == 45
    assert plan_charges(control) == []


def test_the_sixth_card_attempt_of_the_day_waits_for_midnight(control, pat, fake_time):
    control.edit_org(DEMO_PLAN_ORG, card={"brand": "visa", "last4": "0002"})
    api = pat()
    for _ in range(4):
        assert upgrade_to(api, fake_time).outcome == "payment_failed"

    def another_terminal_tries_first(preview) -> bool:  # her fifth attempt, made while she reads the quote
        assert upgrade_to(pat(), fake_time, keys=iter(["elsewhere"])).outcome == "payment_failed"
        return True

    with pytest.raises(errors.UpgradeCapExceeded) as caught:
        upgrade_to(api, fake_time, confirm=another_terminal_tries_first)
    midnight = (control.now() // DAY + 1) * DAY
    assert caught.value.retry_after == midnight - control.now()
    assert upgrade_to(api, fake_time).preview.reason.startswith("Daily plan-change limit reached")
    fake_time.sleep(caught.value.retry_after)
    control.edit_org(DEMO_PLAN_ORG, card={"brand": "visa", "last4": "4242"})
    assert upgrade_to(api, fake_time).outcome == "upgraded"


def test_a_lost_answer_may_have_charged(control, pat, fake_time):
    result = upgrade_to(pat(session=session_with(LosesAnswers(UPGRADE))), fake_time)
    assert (result.outcome, result.error.error) == ("maybe_charged", "network_error")
    assert plan_charges(control) == [("upgrade", "settled", "13.33")]  # ...and here it had


@pytest.mark.parametrize("status,error", [(500, "internal_error"), (502, "bad_gateway"),
                                          (503, "temporarily_unavailable")])
def test_a_5xx_other_than_stripe_unavailable_may_have_charged(control, pat, fake_time, status, error):
    control.fault("POST", "/api/billing/subscription/upgrade", status, error)
    result = upgrade_to(pat(), fake_time)
    assert (result.outcome, result.error.status) == ("maybe_charged", status)


@pytest.mark.parametrize("body", [{}, {"status": "processing"}, {"status": None, "targetTierName": "Pro"}])
def test_an_answer_without_a_known_status_may_have_charged(login, fake_time, body):
    preview = {"effect": "charge_now", "amountDueNowCents": 1333, "targetTierName": "Pro"}
    adapter = Scripted({"POST /api/billing/subscription/preview": [(200, preview, {})], UPGRADE: [(200, body, {})]})
    api = BillingApi(PortalSession(Transport("http://p", session_with(adapter)), login().session.store))
    assert upgrade_to(api, fake_time).outcome == "maybe_charged"


def test_the_plan_is_read_back_every_2_seconds_until_it_shows_the_upgrade(login, fake_time):
    def plan(tier):
        return (200, {"org": {"id": "o", "name": "O", "role": "OWNER"}, "current": {
            "tierId": tier, "monthlyCredits": "45", "creditsRemaining": "1"}, "tiers": []}, {})

    adapter = Scripted({"POST /api/billing/subscription/preview": [(200, {"effect": "charge_now"}, {})],
                        UPGRADE: [(200, {"status": "upgraded"}, {})],
                        SUBSCRIPTION: [plan("old"), plan("old"), plan(PRO)]})
    api = BillingApi(PortalSession(Transport("http://p", session_with(adapter)), login().session.store))
    assert upgrade_to(api, fake_time).plan.current.tier_id == PRO
    assert fake_time.sleeps == [2, 2]


def test_the_read_back_gives_up_after_15_reads(login, fake_time):
    stale = (200, {"org": {"id": "o", "name": "O", "role": "OWNER"}, "current": None, "tiers": []}, {})
    adapter = Scripted({"POST /api/billing/subscription/preview": [(200, {"effect": "charge_now"}, {})],
                        UPGRADE: [(200, {"status": "upgraded"}, {})], SUBSCRIPTION: [stale] * PLAN_READS})
    api = BillingApi(PortalSession(Transport("http://p", session_with(adapter)), login().session.store))
    assert upgrade_to(api, fake_time).plan.current is None
    assert fake_time.sleeps == [2] * (PLAN_READS - 1)


# -- python -m client plan ---------------------------------------------------------------------
def test_plan_shows_her_plan_and_the_catalogue(run, as_user, control):
    as_user(DEMO_PLAN_OWNER, LOGIN_SCOPE)
    result = run("plan")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "Pat Lee (org_pat), your role: OWNER\n"
        "Plan:            Plus at $20.00/mo, $22.00 of usage a month\n"
        "Left to spend:   $15.50 this cycle\n"
        "Cycle ends:      Jun 30, 2026\n"
        "Pending change:  none\n"
        "Plans:\n"
        "  Free            $0.00/mo     $0.00 of usage  nous-free           "
        "cancel to move here: `python -m client plan cancel`\n"
        "  Basic          $10.00/mo    $10.00 of usage  nous-chat-plan-10   downgrade\n"
        "  Plus           $20.00/mo    $22.00 of usage  nous-chat-plan-20   current\n"
        "  Pro            $40.00/mo    $45.00 of usage  nous-chat-plan-40   upgrade\n"
        "  Max           $100.00/mo   $115.00 of usage  nous-chat-plan-100  upgrade\n"
        f"Manage:          {control.url}/manage-subscription?org_id=org_pat\n")


def test_plan_for_a_team(run, as_user, control):
    as_user("owner@acme.test", LOGIN_SCOPE)
    result = run("plan")
    assert result.exit_code == 0
    assert "Teams run on a shared balance · top it up with `python -m client buy N`" in result.stdout
    assert "Plans:" not in result.stdout
    refused(run("plan", "upgrade", "Pro"), "teams run on a shared balance")


def test_plan_without_a_subscription_is_free(run, as_user, control):
    control.edit_org(DEMO_PLAN_ORG, subscription=None)
    as_user(DEMO_PLAN_OWNER)
    result = run("plan")
    assert "Plan:            Free (no subscription)\n" in result.stdout
    assert f"Start a subscription: {control.url}/manage-subscription?org_id=org_pat\n" in result.stdout
    refused(run("plan", "preview", "Pro"), "Plan: Free. Start a subscription on the portal")
    assert control.journal(path_prefix="/api/billing/subscription/") == []


def test_plan_shows_what_is_pending(run, as_user):
    as_user(DEMO_PLAN_OWNER)
    assert run("plan", "downgrade", "basic").stdout == "You move to Basic on 2026-06-30 and keep Plus until then.\n"
    assert "Pending change:  moves to Basic on Jun 30, 2026 (undo: `python -m client plan resume`)" \
        in run("plan").stdout
    assert run("plan", "cancel").stdout == "Plus ends on 2026-06-30 and will not renew.\n"
    assert "Pending change:  the plan ends on Jun 30, 2026 and will not renew" in run("plan").stdout
    assert run("plan", "resume").stdout == "Your scheduled change was removed; Plus renews on 2026-06-30.\n"
    assert "Pending change:  none" in run("plan").stdout


def test_plan_preview(run, as_user):
    as_user(DEMO_PLAN_OWNER)
    assert run("plan", "preview", "Pro").stdout == (
        "Upgrade to Pro at once. You will be charged $13.33 now (prorated).\n"
        "Usage included a month changes by +$23.00.\n")
    assert run("plan", "preview", "Basic").stdout == (
        "Change to Basic on Jun 30, 2026. Nothing is charged now; you keep Plus until then.\n"
        "Usage included a month changes by -$12.00.\n")
    blocked = run("plan", "preview", "Free")
    assert blocked.exit_code == 1
    assert "Not possible from the terminal: To move to Free, cancel your subscription." in blocked.stdout


def test_plan_upgrade_asks_before_paying(run, as_user, control):
    as_user(DEMO_PLAN_OWNER)
    declined = run("plan", "upgrade", "Pro", input="\n")
    refused(declined, "Pay $13.33 and upgrade now? [y/N]", "Cancelled: nothing was charged.")
    assert "visa ending 4242, the card on your subscription, will be charged." in declined.stdout
    result = run("plan", "upgrade", "Pro", input="y\n")
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("Upgraded to Pro: $13.33 charged now.\n"
                                  "Plan: Pro, $30.83 left this cycle, cycle ends Jun 30, 2026.\n")
    assert plan_charges(control) == [("upgrade", "settled", "13.33")]


def test_plan_upgrade_steps_up(run, as_user, control, store):
    as_user(DEMO_PLAN_OWNER, LOGIN_SCOPE)
    result = run("plan", "upgrade", "Pro", "--yes",
                 on_device_code=lambda code: control.approve(code.user_code, DEMO_PLAN_OWNER, allow_billing=True))
    assert result.exit_code == 0, result.output
    assert "/device?user_code=" in result.stderr and store.load().can_bill


@pytest.mark.parametrize("last4,phrases", [
    ("3184", ["The bank wants to confirm this payment (3-D Secure)", "you are still on Plus"]),
    ("0002", ["The upgrade's payment failed (card_declined). The card was declined.", "You are still on Plus"]),
])
def test_plan_upgrade_that_the_card_cannot_pay(run, as_user, control, last4, phrases):
    control.edit_org(DEMO_PLAN_ORG, card={"brand": "visa", "last4": last4})
    as_user(DEMO_PLAN_OWNER)
    refused(run("plan", "upgrade", "Pro", "--yes"), *phrases, f"{control.url}/manage-subscription?org_id=org_pat")


def test_plan_upgrade_that_may_have_charged(run, as_user, control):
    control.fault("POST", "/api/billing/subscription/upgrade", 500, "internal_error")
    as_user(DEMO_PLAN_OWNER)
    refused(run("plan", "upgrade", "Pro", "--yes"), "your card may or may not have been charged",
            "Check `python -m client plan` before trying again")


def test_plan_upgrade_to_a_cheaper_plan_points_to_downgrade(run, as_user):
    as_user(DEMO_PLAN_OWNER)
    refused(run("plan", "upgrade", "Basic", "--yes"), "`python -m client plan downgrade nous-chat-plan-10`")


@pytest.mark.parametrize("args,setup,code,next_step", [
    (("preview", "nous-bogus"), {}, "preview_rejected", "There is no such plan"),
    (("downgrade", "Max"), {}, "subscription_mutation_rejected",
     "dearer plans go through `python -m client plan upgrade`"),
    (("cancel",), {"stripe": False}, "stripe_unavailable", "nothing was charged. Try again in 30 seconds"),
    (("upgrade", "Pro", "--yes"), {"stripe": False}, "stripe_unavailable",
     "nothing was charged. Try again in 30 seconds"),
])
def test_plan_refusals_say_why_what_next_and_where(run, as_user, control, args, setup, code, next_step):
    if "stripe" in setup:
        control.stripe(setup["stripe"])
    as_user(DEMO_PLAN_OWNER)
    refused(run("plan", *args), f"({code})", next_step, f"Portal: {control.url}/billing\n")
    assert plan_charges(control) == []


def test_plan_upgrade_over_the_daily_cap(run, as_user, control):
    # Only a race reaches the cap after a clean preview (see the journey's test); the refusal is injected here.
    control.fault("POST", "/api/billing/subscription/upgrade", 429, "upgrade_cap_exceeded", retry_after=600)
    as_user(DEMO_PLAN_OWNER)
    refused(run("plan", "upgrade", "Pro", "--yes"), "(upgrade_cap_exceeded)",
            "Daily plan-change limit reached; nothing was charged. "
            "Try again tomorrow (in 600 seconds, at midnight UTC)")
