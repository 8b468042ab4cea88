"""Check a response (`requests.Response`, or `httpx.Response` as the OpenAI SDK gets it)
against the OpenAPI document the portal ships.

`assert_conforms(response)` finds the operation for the request's method and path, requires
the status to be one the operation documents, the body to be JSON and to match that status's
schema, and the documented headers (`Retry-After` on 429) to be present and well formed.
A documented non-JSON answer (a chat completion's `text/event-stream`) is checked for its
status, content type and headers only; its body is not read, so a stream stays unconsumed.
A path the document does not describe must answer a JSON error (404 or 405): the portal
never answers HTML, an empty body or a redirect.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import requests
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

DOCUMENT: dict[str, Any] = json.loads(
    resources.files("mockportal").joinpath("openapi.json").read_text(encoding="utf-8"))
_URI = "urn:mockportal:openapi"
_REGISTRY = Registry().with_resource(_URI, Resource.from_contents(DOCUMENT, default_specification=DRAFT202012))
ERROR_SCHEMA_POINTER = "/components/schemas/Error"


class ContractViolation(AssertionError):
    """A response that the OpenAPI document does not allow."""


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    pattern: re.Pattern[str]

    @property
    def pointer(self) -> str:
        return f"/paths/{_escape(self.template)}/{self.method.lower()}"

    @property
    def definition(self) -> dict[str, Any]:
        return resolve(self.pointer)[1]


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def resolve(pointer: str) -> tuple[str, Any]:
    """The object at a JSON pointer into the document, following a `$ref` at the end."""
    node: Any = DOCUMENT
    for token in pointer.lstrip("/").split("/"):
        node = node[token.replace("~1", "/").replace("~0", "~")]
    if isinstance(node, dict) and "$ref" in node:
        return resolve(node["$ref"].removeprefix("#"))
    return pointer, node


def _template_pattern(template: str) -> re.Pattern[str]:
    # A path parameter takes the rest of the path, slashes too: the portal answers any charge id.
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", ".+", re.escape(template)) + "$")


OPERATIONS = tuple(Operation(method.upper(), template, _template_pattern(template))
                   for template, item in DOCUMENT["paths"].items() for method in item)


def find_operation(method: str, path: str) -> tuple[Operation | None, bool]:
    """(the operation, whether the path is described at all) for a request."""
    path = path.rstrip("/") or "/"
    described = [op for op in OPERATIONS if op.pattern.match(path)]
    for op in described:
        if op.method == method.upper():
            return op, True
    return None, bool(described)


@cache
def _validator(schema_pointer: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"{_URI}#{schema_pointer}"}, registry=_REGISTRY,
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


def schema_errors(instance: Any, schema_pointer: str) -> list[str]:
    """Readable schema violations of `instance` against the schema at `schema_pointer`."""
    errors = sorted(_validator(schema_pointer).iter_errors(instance), key=lambda e: list(e.path))
    return [f"at {'/'.join(map(str, e.path)) or '<root>'}: {e.message}" for e in errors]


def _path(response: requests.Response) -> str:
    return urlsplit(str(response.request.url)).path


def _media_type(response: requests.Response) -> str:
    return response.headers.get("Content-Type", "").split(";")[0].strip().lower()


def _describe(response: requests.Response) -> str:
    try:
        text = response.text[:500]
    except Exception:  # an httpx stream not read: its body is not the point
        text = "<unread stream>"
    return f"{response.request.method} {_path(response)[:200]} -> {response.status_code} {text!r}"


# CONTRACT.md section 10: the inference API's errors, routing errors included, are OpenAI-shaped.
INFERENCE_PATHS = ("/models", "/chat/completions")
OPENAI_ERROR_POINTER = "/components/schemas/OpenAIError"


def error_schema_for(path: str) -> str:
    inference = path.startswith("/v1/") or path in INFERENCE_PATHS
    return OPENAI_ERROR_POINTER if inference else ERROR_SCHEMA_POINTER


def _fail(response: requests.Response, problem: str) -> None:
    raise ContractViolation(f"{problem}\n  {_describe(response)}")


def json_body(response: requests.Response) -> Any:
    """The body as JSON, or a ContractViolation: every answer of the portal is JSON."""
    if _media_type(response) != "application/json":
        _fail(response, f"Content-Type is {response.headers.get('Content-Type', '')!r}, not application/json")
    try:
        return response.json()
    except ValueError:
        _fail(response, "body is not JSON")


def _check_headers(response: requests.Response, response_pointer: str, names: list[str]) -> None:
    for name in names:
        _, header = resolve(f"{response_pointer}/headers/{_escape(name)}")
        value = response.headers.get(name)
        if value is None:
            if header.get("required"):
                _fail(response, f"missing required header {name}")
            continue
        problems = [f"{name}: {e.message}" for e in Draft202012Validator(header["schema"]).iter_errors(value)]
        if problems:
            _fail(response, "; ".join(problems))


def assert_conforms(response: requests.Response) -> Any:
    """Raise ContractViolation unless the response is one the document allows; return its JSON
    (None for a documented non-JSON answer, whose body is left unread)."""
    request = response.request
    operation, described = find_operation(request.method, _path(response))
    if request.method == "HEAD":
        if response.status_code >= 500:
            _fail(response, "server error")
        return None
    if operation is None:
        expected = 405 if described else 404
        body = json_body(response)
        if response.status_code != expected:
            _fail(response, f"undocumented method or path must answer {expected}")
        problems = schema_errors(body, error_schema_for(_path(response)))
        if problems:
            _fail(response, "not an error body: " + "; ".join(problems))
        return body
    responses = operation.definition["responses"]
    status = str(response.status_code)
    if status not in responses:
        _fail(response, f"status {status} is not documented for {operation.method} {operation.template} "
                        f"(documented: {', '.join(responses)})")
    response_pointer, documented = resolve(f"{operation.pointer}/responses/{status}")
    _check_headers(response, response_pointer, list(documented.get("headers", {})))
    media_type = _media_type(response)
    if media_type != "application/json" and media_type in documented.get("content", {}):
        return None  # documented and not JSON (an event stream): its body is the caller's to read
    body = json_body(response)
    problems = schema_errors(body, f"{response_pointer}/content/application~1json/schema")
    if problems:
        _fail(response, f"body violates the {status} schema of {operation.method} {operation.template}: "
                        + "; ".join(problems))
    return body
