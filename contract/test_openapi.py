"""The OpenAPI document: well formed, served by the portal, and true of it under Schemathesis.

Schemathesis generates requests from the document (valid ones and, in its negative mode,
invalid ones) and checks every answer: no 5xx, a documented status, the documented content
type, headers and body schema, and that the document says exactly what the portal takes:
every request it generates as valid is accepted (`positive_data_acceptance`), every one it
generates as invalid is refused (`negative_data_rejection`). It runs with an owner's billing
token against a freshly reset portal whose cap cannot get in the way, so most generated charges
are judged on their shape; the subscription routes with the owner of a personal org on a plan.

Two kinds of refusal depend on what the portal holds rather than on the request's shape, and
do not count against positive data: a 422 (the document's word for "well formed, but the org's
plan or the catalogue cannot take it") and the token endpoint's verdicts on a device code or
refresh token it was sent (`invalid_grant`, `authorization_pending`, ...). One rule the document
states only in words, `topUpAmount > threshold` when enabled, is kept by the valid requests.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from jsonschema import Draft202012Validator

from contract import spec
from contract.portal import bearer
from contract.profiles import examples
from contract.world import HIGH_CAP, world
from schemathesis.checks import content_type_conformance, not_a_server_error
from schemathesis.specs.openapi.checks import (negative_data_rejection, positive_data_acceptance,
                                               response_headers_conformance, response_schema_conformance,
                                               status_code_conformance)

# The token endpoint's answers about the code or token it was sent: what the portal holds.
CREDENTIAL_VERDICTS = {"invalid_grant", "authorization_pending", "slow_down", "access_denied", "expired_token"}
PLAN_OWNER = "pat@pat.test"


def positive_data_is_accepted(ctx, response, case):
    """`positive_data_acceptance`, less refusals of well-formed requests by the portal's state:
    any 422, and a 400 that is the token endpoint's verdict on a credential."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        error = None
    if response.status_code == 422 or response.status_code == 400 and str(error) in CREDENTIAL_VERDICTS:
        return None
    return positive_data_acceptance(ctx, response, case)


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance, negative_data_rejection,
          positive_data_is_accepted]


def all_schemas(node, pointer=""):
    """Every schema object in the document, with its JSON pointer."""
    if isinstance(node, dict):
        if pointer.endswith("/schema") or "/components/schemas/" in pointer and pointer.count("/") == 3:
            yield pointer, node
        for key, value in node.items():
            yield from all_schemas(value, f"{pointer}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from all_schemas(value, f"{pointer}/{index}")


def test_every_schema_in_the_document_is_valid_json_schema_2020_12():
    schemas = list(all_schemas(spec.DOCUMENT))
    assert len(schemas) > 20
    for pointer, schema in schemas:
        Draft202012Validator.check_schema(schema)


def test_every_error_response_has_the_contract_error_shape():
    """Every error needs a code; 403s a relative portalUrl; 429s a Retry-After header. The
    inference API's errors have the OpenAI shape instead, and need a code too."""
    for operation in spec.OPERATIONS:
        openai_shaped = "inference" in operation.definition.get("tags", [])
        for status in operation.definition["responses"]:
            if status.startswith("2"):
                continue
            pointer, documented = spec.resolve(f"{operation.pointer}/responses/{status}")
            body = f"{pointer}/content/application~1json/schema"
            assert spec.schema_errors({"message": "m", "error_description": "m"}, body), f"{pointer}: no code needed"
            if openai_shaped:
                assert spec.schema_errors({"error": {"message": "m", "type": "t"}}, body), f"{pointer}: no code needed"
            elif status == "403":
                denial = {"error": "insufficient_scope", "message": "m"}  # documented on every 403
                assert spec.schema_errors(denial, body), f"{pointer} accepts a 403 without portalUrl"
                assert spec.schema_errors({**denial, "portalUrl": "https://portal.example/billing"}, body), \
                    f"{pointer} accepts an absolute portalUrl"
                assert not spec.schema_errors({**denial, "portalUrl": "/billing"}, body), pointer
            if status == "429":
                _, retry_after = spec.resolve(f"{pointer}/headers/Retry-After")
                assert retry_after["required"], f"{pointer}: Retry-After is optional"


def test_money_patterns_accept_canonical_strings_only():
    money = "/components/schemas/Money"
    for canonical in ("0", "0.01", "100", "142.5", "9999.99", "10000"):
        assert not spec.schema_errors(canonical, money), canonical
    for other in ("-0", "1.50", "1e2", "1E+2", "01", ".5", "5.", "1.0", "", " 1", "-5", 25, 25.5, None):
        assert spec.schema_errors(other, money), other
    assert not spec.schema_errors("-5.5", "/components/schemas/SignedMoney")
    assert spec.schema_errors("-0", "/components/schemas/SignedMoney")


@pytest.mark.control
def test_the_portal_serves_the_document_it_ships(portal):
    response = portal.send("GET", "/openapi.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json() == spec.DOCUMENT


def with_a_plan_owner(fixture: dict) -> dict:
    """The world, and a personal org on Plus whose owner can change the plan."""
    plan_org = {"id": "org_plan", "kind": "personal", "balanceUsd": "5", "card": {"brand": "visa", "last4": "4242"},
                "subscription": {"tierId": "nous-chat-plan-20"}, "users": [{"email": PLAN_OWNER, "role": "OWNER"}]}
    return {**fixture, "orgs": [*fixture["orgs"], plan_org]}


@pytest.fixture
def owner_tokens(portal):
    """Per tag, the owner whose token its operations are called with."""
    portal.reset(with_a_plan_owner(world(monthlyCapUsd=HIGH_CAP)))
    return {"subscriptions": portal.access_token(PLAN_OWNER), None: portal.access_token()}


schema = schemathesis.openapi.from_dict(spec.DOCUMENT)


def _auto_reload_not_above_threshold(case) -> bool:
    body = case.body
    return (isinstance(body, dict) and body.get("enabled") is True
            and all(isinstance(body.get(key), (int, float)) and not isinstance(body.get(key), bool)
                    for key in ("threshold", "topUpAmount"))
            and body["topUpAmount"] <= body["threshold"])


def _refresh_without_its_token(case) -> bool:
    return (isinstance(case.body, dict) and case.body.get("grant_type") == "refresh_token"
            and not (case.headers or {}).get("x-nous-refresh-token"))


# Rules no JSON Schema can state (between two fields, between a header and the body), each
# stated in words where the document says it (pointer, words): valid requests keep them.
RULES_IN_WORDS = {
    ("PATCH", "/api/billing/auto-top-up"): (_auto_reload_not_above_threshold,
                                           "/components/schemas/AutoTopUpRequest/description",
                                           "topUpAmount > threshold"),
    ("POST", "/api/oauth/token"): (_refresh_without_its_token,
                                   "/paths/~1api~1oauth~1token/post/parameters/0/description",
                                   "for grant_type=refresh_token, and required with it"),
}


def breaks_a_rule_stated_in_words(case) -> bool:
    rule = RULES_IN_WORDS.get((case.method.upper(), case.operation.path))
    return rule is not None and rule[0](case)


@schema.hook
def filter_case(context, case):
    return not (case.meta is not None and case.meta.generation.mode.is_positive and breaks_a_rule_stated_in_words(case))


@pytest.mark.parametrize("operation", sorted(RULES_IN_WORDS))
def test_each_rule_valid_requests_keep_is_stated_in_the_document(operation):
    _, pointer, words = RULES_IN_WORDS[operation]
    node = spec.DOCUMENT
    for token in pointer.lstrip("/").split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        node = node[int(token) if isinstance(node, list) else token]
    assert words in node


@pytest.mark.control
@schema.parametrize()
# One token per operation is the intent: the portal is reset for each operation, not each example.
@settings(max_examples=examples(1),
          suppress_health_check=[*settings.default.suppress_health_check, HealthCheck.function_scoped_fixture])
def test_schemathesis_finds_no_server_error_or_undocumented_answer(case, portal, owner_tokens):
    token = owner_tokens["subscriptions" if "subscriptions" in (case.operation.tags or []) else None]
    case.call_and_validate(base_url=portal.base_url, headers=bearer(token), checks=CHECKS)
