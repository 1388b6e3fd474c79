"""The OpenAPI document, shared by the Lambda and local apps, made to tell the truth about errors.

Powertools generates each operation from its route; `document` then adds what it cannot know: every error
status the operation can return, each as `application/problem+json` with the `Problem` schema (the API
never answers an error any other way), and no body for a 204. The rules below follow from how the API
works, so a route added later documents its errors without anyone remembering to:

- every operation: 422 (a request that fails validation) and 429 (API Gateway's throttling and the WAF's
  rate rule answer it on any route; the login-code limits too);
- with a request body: 400 (not JSON), 413 (too large), 415 (not `application/json`);
- with a path parameter (a business slug, a booking or resource id): 404;
- with a bearer token (admin) or a credential of the customer's (a manage-link token, a session): 401 and
  403; a write: 403 too (a blocked customer, a role that may not) and 409 (a lost race, a slot taken, a
  state that does not allow it, a request still in progress).

A body whose Python name is not its name in the document (`schemas.SCHEMA_NAMES`: the public booking's
body is `NewBooking` in code, `BookingRequest` to clients) is renamed to the document's.
"""

from __future__ import annotations

import copy
import inspect
import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, OpenAPI, SecurityScheme
from pydantic import BaseModel, Field

from booking.http.problem_json import PROBLEM_JSON
from booking_api.schemas import SCHEMA_NAMES

TITLE = "Booking API"
VERSION = "1.0.0"
DESCRIPTION = (
    "Appointment booking: a public API for booking widgets and customers, and an admin API "
    "(Cognito bearer token; tenant and role come from the token) for owners, admins, staff and dispatchers. "
    "Errors are RFC 9457 problem+json."
)
SECURITY_SCHEMES: dict[str, SecurityScheme] = {
    "bearerAuth": HTTPBearer(bearerFormat="JWT", description="Cognito ID token")
}
ADMIN_SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}]
SCHEMA_REF = "#/components/schemas/"


class FieldError(BaseModel):
    loc: list[str | int] = Field(description="where: body, query, path or header, then the field")
    field: str = Field(description="the field, dotted")
    msg: str
    type: str | None = None


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field(description="stable per kind of error, e.g. urn:booking:problem:slot-taken")
    title: str
    status: int
    detail: str
    instance: str | None = Field(default=None, description="the path of the request")
    errors: list[FieldError] | None = Field(
        default=None, description="each invalid field (validation errors)"
    )


WHY: dict[int, str] = {
    400: "The body is not valid JSON",
    401: "No valid credential: a bearer token (admin), a manage-link token or a customer session",
    403: "Not allowed for this caller (role, staff member, or a blocked customer)",
    404: "No such business, booking or resource (or not this caller's to see)",
    409: "Conflicts with the current state: the time was taken, it changed meanwhile, or it is too late",
    413: "The body is too large",
    415: "The body is not application/json",
    422: "The request is invalid; `errors` names each field",
    429: "Too many requests: slow down and retry later",
    502: "An outside provider this request needs (a meeting provider checking credentials, Stripe) is "
    "failing now: retry later",
}
# Routes that call an outside provider while the caller waits (a meeting provider, Stripe).
CALLS_A_PROVIDER = (
    ("put", "/v1/admin/business/meeting-providers/"),
    ("put", "/v1/admin/business/payments/stripe"),
    ("post", "/v1/public/businesses/{slug}/bookings"),
    ("post", "/v1/public/bookings/{booking_id}/payment"),
)
WRITES = frozenset({"post", "put", "patch", "delete"})
# What a created resource is addressed by elsewhere, beyond the rule "POST /x -> /x/{id}..." (see `_links`).
CREATED_ELSEWHERE: dict[tuple[str, str], tuple[str, dict[str, str]]] = {
    ("post", "/v1/public/businesses/{slug}/bookings"): (
        "/v1/public/bookings/{booking_id}",
        {"booking_id": "$response.body#/id", "token": "$response.body#/manage_token"},
    ),
}
CUSTOMER_CREDENTIAL_PATHS = ("/customers/me", "/customers/session")
# Everything below a signed-in customer's own resource needs their session too (booking requests).
CUSTOMER_SESSION_PREFIX = "/customers/me/"


def error_statuses(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    """The error statuses an operation can answer (see the module's rules)."""
    statuses = {422, 429}
    parameters = operation.get("parameters", [])
    if "requestBody" in operation:
        statuses |= {400, 413, 415}
    if any(p.get("in") == "path" for p in parameters):
        statuses.add(404)
    credential = (
        bool(operation.get("security"))
        or any(p.get("in") == "query" and p.get("name") == "token" for p in parameters)
        or path.endswith(CUSTOMER_CREDENTIAL_PATHS)
        or CUSTOMER_SESSION_PREFIX in path
    )
    if credential:
        statuses |= {401, 403}
    if method in WRITES:
        statuses |= {403, 409}
    if any(method == m and path.startswith(p) for m, p in CALLS_A_PROVIDER):
        statuses.add(502)
    return statuses


def _links(paths: dict[str, Any]) -> None:
    """OpenAPI links from each create (a 201) to what can be done with what it created, so a stateful
    client (and the fuzzer's stateful phase) can create, then read, change and delete: POST /x links to
    every operation under /x/{id} with the new `id`; CREATED_ELSEWHERE adds the routes addressed otherwise."""
    for path, operations in paths.items():
        created = operations.get("post", {}).get("responses", {}).get("201")
        if created is None:
            continue
        target, parameters = CREATED_ELSEWHERE.get(("post", path), (None, {}))
        links: dict[str, Any] = {}
        for other, other_operations in paths.items():
            if target is not None:
                if not (other == target or other.startswith(target + "/")):
                    continue
                mapping = parameters
            else:
                rest = other.removeprefix(path + "/")
                if rest == other or not rest.startswith("{"):
                    continue
                mapping = {rest[1 : rest.index("}")]: "$response.body#/id"}
            for method, operation in other_operations.items():
                names = {p["name"] for p in operation.get("parameters", [])}
                links[operation["operationId"]] = {
                    "operationId": operation["operationId"],
                    "parameters": {name: value for name, value in mapping.items() if name in names},
                    "description": f"{method.upper()} {other} with what the create returned",
                }
        if links:
            created["links"] = links


def _problem_response(status: int) -> dict[str, Any]:
    return {
        "description": WHY[status],
        "content": {PROBLEM_JSON: {"schema": {"$ref": f"{SCHEMA_REF}Problem"}}},
    }


def _referenced(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(SCHEMA_REF):
            found.add(ref.removeprefix(SCHEMA_REF))
        for value in node.values():
            _referenced(value, found)
    elif isinstance(node, list):
        for value in node:
            _referenced(value, found)


def _renamed_refs(node: Any, names: dict[str, str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.removeprefix(SCHEMA_REF) in names:
            node["$ref"] = SCHEMA_REF + names[ref.removeprefix(SCHEMA_REF)]
        for value in node.values():
            _renamed_refs(value, names)
    elif isinstance(node, list):
        for value in node:
            _renamed_refs(value, names)


def _rename(document: dict[str, Any], names: dict[str, str]) -> None:
    """Each component schema named in `names` under its name in the document, and every reference to it
    (the generated schemas stay in order of their names)."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name, renamed in names.items():
        if name in schemas:
            assert renamed not in schemas, f"two schemas would be named {renamed}"
            schemas[renamed] = schemas.pop(name)
    document["components"]["schemas"] = dict(sorted(schemas.items()))
    _renamed_refs(document, names)


def _prune(document: dict[str, Any]) -> None:
    """Drops component schemas nothing refers to (Powertools' own validation error models, and models of
    routes left out of the document, e.g. the local stack's /dev routes)."""
    schemas = document.get("components", {}).get("schemas", {})
    reachable: set[str] = set()
    _referenced(document["paths"], reachable)
    pending = list(reachable)
    while pending:
        name = pending.pop()
        found: set[str] = set()
        _referenced(schemas.get(name, {}), found)
        pending.extend(found - reachable)
        reachable |= found
    for name in set(schemas) - reachable:
        del schemas[name]


def document(generated: dict[str, Any]) -> dict[str, Any]:
    """The generated document with every error documented and 204s without a body."""
    result = copy.deepcopy(generated)
    _rename(result, SCHEMA_NAMES)
    schemas = result["components"]["schemas"]
    problem_schema = Problem.model_json_schema(ref_template=SCHEMA_REF + "{model}")
    schemas.update(problem_schema.pop("$defs", {}))
    schemas["Problem"] = problem_schema
    for path, operations in result["paths"].items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)  # Powertools' own validation error shape: we answer problem+json
            for status in sorted(error_statuses(path, method, operation)):
                responses[str(status)] = _problem_response(status)
            if "204" in responses:
                responses["204"].pop("content", None)
    _links(result["paths"])
    _prune(result)
    return result


def summary_of(description: str) -> str:
    """An operation's summary (the line the docs list it by): its description's first sentence."""
    first = " ".join(description.split()).split(". ")[0].split(" (")[0].rstrip(".:;")
    return first if len(first) <= 90 else first[:87].rsplit(" ", 1)[0] + "..."


def describe_routes(app: Any) -> None:
    """Each route's docstring as its operation's description, and the docstring's first sentence as its
    summary (Powertools would name it by method and path, and leave the docstring out)."""
    for route in [*app._static_routes, *app._dynamic_routes]:
        doc = inspect.getdoc(route.func)
        if doc and route.description is None:
            route.description = doc
        if doc and route.summary is None:
            route.summary = summary_of(doc)


def install(app: Any) -> None:
    """Makes the app's OpenAPI document (and so /v1/openapi.json and the Swagger UI) the documented one;
    built once per container, on first use."""
    describe_routes(app)
    generate: Callable[..., OpenAPI] = app.get_openapi_schema
    built: dict[str, OpenAPI] = {}

    def documented(**kwargs: Any) -> OpenAPI:
        key = json.dumps({k: repr(v) for k, v in kwargs.items()}, sort_keys=True)
        if key not in built:
            raw = generate(**kwargs).model_dump(by_alias=True, exclude_none=True, mode="json")
            built[key] = OpenAPI.model_validate(document(raw))
        return built[key]

    app.get_openapi_schema = documented
