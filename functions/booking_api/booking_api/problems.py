"""RFC 9457 problem+json for every error the API returns: a stable `type` per kind of error, field-level
detail for validation, and never a stack trace or the rejected input (it may hold personal data)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from booking.domain.checkout import CardDeclined, PaymentProviderDown, PaymentRefused
from booking.domain.errors import (
    Conflict,
    DomainError,
    FieldProblem,
    Forbidden,
    IdempotencyKeyReused,
    InvalidInput,
    NotFound,
    ProviderDown,
    TooManyRequests,
    Unauthorized,
    Unavailable,
)
from booking_api.problem_json import PROBLEM_JSON, problem_body

logger = Logger(child=True)

_STATUS: dict[type[DomainError], HTTPStatus] = {
    NotFound: HTTPStatus.NOT_FOUND,
    Conflict: HTTPStatus.CONFLICT,
    Forbidden: HTTPStatus.FORBIDDEN,
    Unauthorized: HTTPStatus.UNAUTHORIZED,
    InvalidInput: HTTPStatus.UNPROCESSABLE_ENTITY,
    TooManyRequests: HTTPStatus.TOO_MANY_REQUESTS,
    Unavailable: HTTPStatus.SERVICE_UNAVAILABLE,
    IdempotencyKeyReused: HTTPStatus.UNPROCESSABLE_ENTITY,
    ProviderDown: HTTPStatus.BAD_GATEWAY,
    PaymentProviderDown: HTTPStatus.BAD_GATEWAY,
    CardDeclined: HTTPStatus.PAYMENT_REQUIRED,
    PaymentRefused: HTTPStatus.CONFLICT,
}


def problem(
    status: HTTPStatus,
    kind: str,
    title: str,
    detail: str,
    instance: str | None = None,
    errors: Sequence[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body = problem_body(status, kind, title, detail, instance, errors)
    return Response(
        status_code=int(status), content_type=PROBLEM_JSON, body=json.dumps(body), headers=headers
    )


def _field_errors(problems: Iterable[FieldProblem]) -> list[dict[str, Any]]:
    return [{"loc": list(p.loc), "field": _dotted(p.loc), "msg": p.msg} for p in problems]


def _dotted(loc: Sequence[str | int]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    return ".".join(parts)


def _clean_message(message: str) -> str:
    # pydantic prefixes messages raised from validators; the client needs only the reason.
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def register_problem_handlers(app: ApiGatewayResolver) -> None:
    def path() -> str | None:
        try:
            return str(app.current_event.path)
        except Exception:  # no event bound (should not happen inside a request)
            return None

    @app.exception_handler(DomainError)
    def _domain(error: DomainError) -> Response:
        status = next((_STATUS[k] for k in type(error).__mro__ if k in _STATUS), HTTPStatus.BAD_REQUEST)
        # Field-level detail: always for invalid input, and for any error naming what is at fault (a
        # series' clashing dates).
        errors = _field_errors(error.problems) if isinstance(error, InvalidInput) or error.problems else None
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(error, Unauthorized) else None
        if isinstance(error, TooManyRequests | Unavailable) and error.retry_after is not None:
            headers = {"Retry-After": str(error.retry_after)}
        return problem(status, error.kind, error.title, error.detail, path(), errors, headers)

    @app.exception_handler(RequestValidationError)
    def _invalid(error: RequestValidationError) -> Response:
        raw = error.errors()
        if any(e.get("type") == "json_invalid" for e in raw):
            return problem(
                HTTPStatus.BAD_REQUEST,
                "malformed-json",
                "Malformed JSON",
                "the request body is not valid JSON",
                path(),
            )
        errors = [
            {
                "loc": list(e.get("loc", ())),
                "field": _dotted(e.get("loc", ())),
                "msg": _clean_message(str(e.get("msg", "invalid"))),
                "type": e.get("type"),
            }
            for e in raw
        ]
        fields = ", ".join(sorted({e["field"] or "body" for e in errors}))
        return problem(
            HTTPStatus.UNPROCESSABLE_ENTITY,
            "validation-error",
            "Request validation failed",
            f"invalid: {fields}",
            path(),
            errors,
        )

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported(_: RequestUnsupportedContentType) -> Response:  # bodies.py answers first; a fallback
        return problem(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
            "send the body as application/json",
            path(),
        )

    @app.not_found
    def _no_route(_: NotFoundError) -> Response:
        return problem(HTTPStatus.NOT_FOUND, "not-found", "Resource not found", "no such route", path())

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response:
        logger.exception("unhandled error", extra={"error_type": type(error).__name__})
        return problem(
            HTTPStatus.INTERNAL_SERVER_ERROR,
            "internal-error",
            "Internal error",
            "an unexpected error occurred on our side",
            path(),
        )
