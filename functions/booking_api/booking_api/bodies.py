"""What every request body must be before any route sees it: UTF-8 text, at most MAX_BODY_BYTES, and JSON.

Checked at the entry point (the Lambda handler, the local server), before Powertools' request validation:
that runs first among middlewares and would parse a form post as fields (and fail confusingly with 422) or
fail on bytes that are not text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from booking.http.problem_json import PROBLEM_JSON, problem_body

MAX_BODY_BYTES = 64 * 1024  # the largest legitimate body (business settings with every closure) is ~25 KB
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})


def body_problem(
    method: str, headers: Mapping[str, str], body: bytes | str | None, path: str
) -> dict[str, Any] | None:
    """The problem to answer instead of routing the request, or None when its body is acceptable."""
    if not body:
        return None
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    if len(raw) > MAX_BODY_BYTES:
        return problem_body(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            "payload-too-large",
            "Payload too large",
            f"the body may be at most {MAX_BODY_BYTES} bytes",
            path,
        )
    if isinstance(body, bytes):
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return problem_body(
                HTTPStatus.BAD_REQUEST,
                "malformed-json",
                "Malformed JSON",
                "the request body is not UTF-8 text",
                path,
            )
    lowered = {k.lower(): v for k, v in headers.items()}
    content_type = (lowered.get("content-type") or "").split(";")[0].strip().lower()
    if method.upper() in WRITE_METHODS and not content_type.endswith(("/json", "+json")):
        return problem_body(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
            "send the body as application/json",
            path,
        )
    return None


def lambda_response(problem: dict[str, Any]) -> dict[str, Any]:
    """An API Gateway proxy response carrying `problem`."""
    return {
        "statusCode": problem["status"],
        "headers": {"Content-Type": PROBLEM_JSON},
        "body": json.dumps(problem),
        "isBase64Encoded": False,
    }
