"""The OpenAPI document is a contract with every widget and client built on it: moving code around (the API
models to the edge, a router split, a renamed Python class) must not change it. This compares the document
the API serves with the golden copy in `openapi.snapshot.json`: the same operations (paths and methods),
the same parameters, request bodies, status codes and response bodies, and the same component schemas,
each with its fields, descriptions and examples. Prose (the document's info, each operation's summary,
description and tags) is left out of the comparison: rewording a docstring is not a change of contract.

Schema names are part of the contract (a generated client names its types by them), so a body keeps its
name in the document even when its Python class is renamed: the public booking's body is `NewBooking` in
`booking_api.schemas.bookings` but still `BookingRequest` in the document (`booking_api.schemas.SCHEMA_NAMES`
and the model's `title`). A documented field keeps its description wherever the text lives in code.

Changing the API on purpose (a route added, a field documented, a status that a route can now answer)?
Regenerate the snapshot and review its diff with the change:

    UPDATE_OPENAPI_SNAPSHOT=1 .venv/bin/python -m pytest tests/api/test_openapi_snapshot.py
    git diff tests/api/openapi.snapshot.json
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

from tests.support.lambda_api import LambdaApi

SNAPSHOT = Path(__file__).with_name("openapi.snapshot.json")
PROSE = ("summary", "description", "tags")  # of an operation; not part of the contract


def served(api: LambdaApi) -> dict[str, Any]:
    response = api.get("/v1/openapi.json")
    assert response.status == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def contract(document: dict[str, Any]) -> dict[str, Any]:
    """The document without its prose: what a client generated from it depends on."""
    result = copy.deepcopy(document)
    result.pop("info", None)
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for key in PROSE:
                operation.pop(key, None)
    return result


def statuses(document: dict[str, Any]) -> dict[str, list[str]]:
    return {
        f"{method.upper()} {path}": sorted(operation.get("responses", {}))
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    }


def test_the_served_openapi_document_matches_the_snapshot(api: LambdaApi) -> None:
    document = served(api)
    if os.environ.get("UPDATE_OPENAPI_SNAPSHOT"):
        SNAPSHOT.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    expected = contract(json.loads(SNAPSHOT.read_text(encoding="utf-8")))
    actual = contract(document)
    hint = "changed on purpose? see this module's docstring to update the snapshot"

    # the same operations, each answering the same statuses
    assert statuses(actual) == statuses(expected), hint
    # the same component schemas, by name, then each one field for field (descriptions and examples too)
    schemas, golden = actual["components"]["schemas"], expected["components"]["schemas"]
    assert sorted(schemas) == sorted(golden), hint
    changed = [name for name in golden if schemas[name] != golden[name]]
    assert changed == [], hint
    # and everything else: parameters, request and response bodies, security, links
    for path, operations in expected["paths"].items():
        for method, operation in operations.items():
            assert actual["paths"][path][method] == operation, (method.upper(), path, hint)
    assert actual == expected, hint
