"""The API's error handlers: every error it returns is RFC 9457 problem+json, naming the request's path.
Domain errors map as the shared mapping says (booking/http/problems.py); here are what only the event
handler raises: request validation (field-level detail), a body that is not JSON, no such route, and the
unexpected (logged, never a stack trace or the rejected input: it may hold personal data)."""

from __future__ import annotations

from http import HTTPStatus

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from booking.domain.errors import DomainError
from booking.http.problems import Problem, domain_problem, dotted

logger = Logger(child=True)


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
    def _domain(error: DomainError) -> Response[str]:
        return domain_problem(error, path()).response()

    @app.exception_handler(RequestValidationError)
    def _invalid(error: RequestValidationError) -> Response[str]:
        raw = error.errors()
        if any(e.get("type") == "json_invalid" for e in raw):
            return Problem(
                HTTPStatus.BAD_REQUEST,
                "malformed-json",
                "Malformed JSON",
                "the request body is not valid JSON",
                path(),
            ).response()
        errors = [
            {
                "loc": list(e.get("loc", ())),
                "field": dotted(e.get("loc", ())),
                "msg": _clean_message(str(e.get("msg", "invalid"))),
                "type": e.get("type"),
            }
            for e in raw
        ]
        fields = ", ".join(sorted({e["field"] or "body" for e in errors}))
        return Problem(
            HTTPStatus.UNPROCESSABLE_ENTITY,
            "validation-error",
            "Request validation failed",
            f"invalid: {fields}",
            path(),
            errors,
        ).response()

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported(_: RequestUnsupportedContentType) -> Response[str]:  # bodies.py answers first
        return Problem(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
            "send the body as application/json",
            path(),
        ).response()

    @app.not_found
    def _no_route(_: NotFoundError) -> Response[str]:
        return Problem(
            HTTPStatus.NOT_FOUND, "not-found", "Resource not found", "no such route", path()
        ).response()

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response[str]:
        logger.exception("unhandled error", extra={"error_type": type(error).__name__})
        return Problem(
            HTTPStatus.INTERNAL_SERVER_ERROR,
            "internal-error",
            "Internal error",
            "an unexpected error occurred on our side",
            path(),
        ).response()
