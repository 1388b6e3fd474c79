"""The webhooks function's routes, on Powertools' resolver: `POST /v1/webhooks/zoom/<tenant_id>` and
`POST /v1/webhooks/stripe/<tenant_id>`; any other path is a 404 and any other method a 405, each as
problem+json. Errors are answered through the shared mapping (booking/http/problems.py) with this
function's policy on top: a signature is not a bearer token (no `WWW-Authenticate`), and a Stripe event that
cannot be handled now is a 503 with Retry-After, so Stripe delivers it again. Any other error fails the
invocation (API Gateway answers 502), and the provider delivers the event again later.

Loaded by the handler's first request, or before the SnapStart snapshot (handler.py), never at import.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from booking.domain.checkout import BadSignature, PaymentProviderDown
from booking.domain.errors import NotFound, Unauthorized, Unavailable
from booking.domain.webhooks import MalformedEvent
from booking.http.problems import Problem, domain_problem
from booking.services.payments.events import PaymentEvents
from booking.services.zoom_webhooks import ZoomWebhooks

logger = Logger(child=True)

ZOOM = "/v1/webhooks/zoom/<tenant_id>"
STRIPE = "/v1/webhooks/stripe/<tenant_id>"
NOT_BASE64 = "the body is not valid base64"
DEFERRED_RETRY_AFTER = "30"  # seconds; Stripe keeps its own schedule, other senders may honour it


def resolver(zoom: Callable[[], ZoomWebhooks], stripe: Callable[[], PaymentEvents]) -> APIGatewayRestResolver:
    """The routes, calling the services `zoom()` and `stripe()` hand out (built once per environment)."""
    app = APIGatewayRestResolver()

    @app.post(ZOOM)
    def zoom_event(tenant_id: str) -> Response[str]:
        """Zoom's events for one business (booking.services.zoom_webhooks)."""
        logger.append_keys(tenant_id=tenant_id, provider="zoom")
        body = raw_body(app.current_event)
        if body is None:
            return _own_problem(HTTPStatus.BAD_REQUEST, "malformed-event", NOT_BASE64).response()
        try:
            answer = zoom().receive(tenant_id, _headers(app.current_event), body)
        except (NotFound, MalformedEvent) as error:
            return domain_problem(error, challenge=None).response()
        except Unauthorized as error:
            logger.warning("zoom webhook refused", extra={"reason": error.detail})
            return domain_problem(error, challenge=None).response()
        if answer.booking_id:
            logger.set_correlation_id(answer.booking_id)
        logger.info("zoom webhook handled", extra={"outcome": answer.outcome})
        return _json(answer.body)

    @app.post(STRIPE)
    def stripe_event(tenant_id: str) -> Response[str]:
        """Stripe's events for one business (booking.services.payments.events); a bad signature is a 400
        and nothing changes."""
        logger.append_keys(tenant_id=tenant_id, provider="stripe")
        body = raw_body(app.current_event)
        if body is None:
            return _own_problem(HTTPStatus.BAD_REQUEST, "malformed-event", NOT_BASE64).response()
        headers = {k.lower(): v for k, v in _headers(app.current_event).items()}
        try:
            outcome = stripe().receive(tenant_id, body, headers.get("stripe-signature"))
        except NotFound as error:
            return domain_problem(error, challenge=None).response()
        except BadSignature as error:
            logger.warning("stripe webhook refused", extra={"reason": error.detail})
            return domain_problem(error, challenge=None).response()
        except (Unavailable, PaymentProviderDown) as error:
            # Nothing was recorded (the event id is recorded last): Stripe delivers it again later.
            logger.warning("stripe webhook deferred", extra={"reason": error.kind})
            deferred = dataclasses.replace(
                domain_problem(error, challenge=None),
                status=HTTPStatus.SERVICE_UNAVAILABLE,
                headers={"Retry-After": DEFERRED_RETRY_AFTER},
            )
            return deferred.response()
        logger.info("stripe webhook handled", extra={"outcome": outcome})
        return _json({"received": True, "outcome": outcome})

    @app.not_found
    def no_webhook(_: NotFoundError) -> Response[str]:
        if app.current_event.http_method != "POST":
            refused = _own_problem(HTTPStatus.METHOD_NOT_ALLOWED, "method-not-allowed", "webhooks are POSTed")
        else:
            refused = _own_problem(
                HTTPStatus.NOT_FOUND, "not-found", "no webhook is accepted at this address"
            )
        return refused.response()

    return app


def raw_body(event: APIGatewayProxyEvent) -> bytes | None:
    """The body exactly as the provider sent it (its signature covers these bytes): API Gateway passes a
    binary body base64-encoded; None when that encoding is broken."""
    body = event.body or ""
    if event.is_base64_encoded:
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            return None
    return body.encode()


def _headers(event: APIGatewayProxyEvent) -> dict[str, str]:
    """The request's headers as sent (the services read them case-insensitively where they must)."""
    raw: dict[str, Any] = event.raw_event.get("headers") or {}
    return {str(k): str(v) for k, v in raw.items() if v is not None}


def _json(body: object) -> Response[str]:
    return Response(status_code=200, content_type="application/json", body=json.dumps(body))


def _own_problem(status: HTTPStatus, kind: str, detail: str) -> Problem:
    """A problem of this function's own (no domain error behind it), titled by its status."""
    return Problem(status, kind, status.phrase, detail)
