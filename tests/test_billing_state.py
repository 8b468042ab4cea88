"""GET /api/billing/state: role-tiered, decimal strings, no scope needed."""

import pytest

from tests.conftest import BILLING

LOGIN = "inference:invoke tool:invoke"


def test_owner_sees_the_demo_org_in_full(portal):
    state = portal.state(portal.bearer("owner@acme.test", LOGIN))
    assert state == {
        "org": {"id": "org_acme", "slug": "acme", "name": "Acme Inc", "role": "OWNER"},
        "canChangePlan": True, "balanceUsd": "142.5", "cliBillingEnabled": True,
        "chargePresets": ["100", "250", "500"], "bounds": {"minUsd": "10", "maxUsd": "10000"},
        "card": {"brand": "visa", "last4": "4242", "resolvedVia": "customerDefault"},
        "monthlyCap": {"limitUsd": "1000", "spentThisMonthUsd": "0", "isDefaultCeiling": True},
        "autoReload": {"enabled": False, "thresholdUsd": "20", "reloadToUsd": "100",
                       "card": {"kind": "canonical"}},
        "portalUrl": "/billing?topup=open",
    }


@pytest.mark.parametrize("user, role", [("admin@acme.test", "ADMIN"), ("finance@acme.test", "FINANCE_ADMIN")])
def test_billing_roles_see_card_cap_and_auto_reload(portal, user, role):
    state = portal.state(portal.bearer(user, LOGIN))
    assert state["org"]["role"] == role and state["canChangePlan"] is True
    assert state["card"] is not None and state["monthlyCap"] is not None and state["autoReload"] is not None


@pytest.mark.parametrize("user, role", [("member@acme.test", "MEMBER"), ("security@acme.test", "SECURITY_ADMIN")])
def test_other_roles_see_no_card_cap_or_auto_reload(portal, user, role):
    state = portal.state(portal.bearer(user, BILLING))
    assert state["org"]["role"] == role and state["canChangePlan"] is False
    assert state["card"] is None and state["monthlyCap"] is None and state["autoReload"] is None
    assert state["balanceUsd"] == "142.5"


def test_globex_has_no_card_and_kill_switch_off(portal):
    state = portal.state(portal.bearer("owner@globex.test", LOGIN))
    assert state["org"]["id"] == "org_globex"
    assert state["card"] is None and state["cliBillingEnabled"] is False and state["balanceUsd"] == "0"
    assert state["autoReload"]["card"] == {"kind": "none"}


def test_a_role_change_takes_effect_on_the_next_request(portal):
    headers = portal.bearer("admin@acme.test", LOGIN)
    portal.edit_user("admin@acme.test", role="MEMBER")
    assert portal.state(headers)["canChangePlan"] is False


def test_a_set_cap_is_not_the_default_ceiling(portal):
    portal.edit_org(monthlyCapUsd="500")
    cap = portal.state(portal.bearer())["monthlyCap"]
    assert cap == {"limitUsd": "500", "spentThisMonthUsd": "0", "isDefaultCeiling": False}
