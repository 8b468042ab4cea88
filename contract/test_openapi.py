"""The OpenAPI document: well formed, served by the portal, and true of it under Schemathesis.

Schemathesis generates requests from the document (valid ones and, in its negative mode,
invalid ones) and checks every answer: no 5xx, a documented status, the documented content
type, headers and body schema. It runs with an owner's billing token against a freshly reset
portal whose cap cannot get in the way, so most generated charges are judged on their shape.
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
from schemathesis.specs.openapi.checks import (negative_data_rejection, response_headers_conformance,
                                               response_schema_conformance, status_code_conformance)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance, negative_data_rejection]


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


@pytest.fixture
def owner_token(portal):
    portal.reset(world(monthlyCapUsd=HIGH_CAP))
    return portal.access_token()


schema = schemathesis.openapi.from_dict(spec.DOCUMENT)


@pytest.mark.control
@schema.parametrize()
# One owner token per operation is the intent: the portal is reset for each operation, not each example.
@settings(max_examples=examples(1),
          suppress_health_check=[*settings.default.suppress_health_check, HealthCheck.function_scoped_fixture])
def test_schemathesis_finds_no_server_error_or_undocumented_answer(case, portal, owner_token):
    case.call_and_validate(base_url=portal.base_url, headers=bearer(owner_token), checks=CHECKS)
