"""The RFC 9457 problem document itself: a stable `type` per kind of error, a title, the status and a
detail. Standard library only, so an entry point can refuse a request (the booking API's body checks)
without loading the event handler or the models; `problems` maps domain errors to these documents."""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:booking:problem:"


def problem_body(
    status: HTTPStatus,
    kind: str,
    title: str,
    detail: str,
    instance: str | None = None,
    errors: Sequence[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + kind,
        "title": title,
        "status": int(status),
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors is not None:
        body["errors"] = list(errors)
    return body
