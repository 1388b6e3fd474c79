"""Request checks that apply to every route."""

from __future__ import annotations

from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from booking_api.problems import problem


def json_bodies_only(app: ApiGatewayResolver, next_middleware: NextMiddleware) -> Response[object]:
    """A body must be JSON: a form post would otherwise be parsed as fields and fail confusingly."""
    event = app.current_event
    if event.body and event.http_method in ("POST", "PUT", "PATCH"):
        content_type = (event.headers.get("content-type") or event.headers.get("Content-Type") or "").lower()
        if content_type and not content_type.split(";")[0].strip().endswith(("/json", "+json")):
            return problem(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
                "send the body as application/json",
                str(event.path),
            )
    return next_middleware(app)
