"""Webhooks function: providers' event notifications, `POST /v1/webhooks/<provider>/...` behind API Gateway
with no authorizer: each provider signs its requests, and nothing is read or written for a request until
its signature is checked.

- `/v1/webhooks/zoom/{tenant_id}`: Zoom's events for one business (booking.services.webhooks), signed
  with the secret token the business stored with its Zoom credentials;
- `/v1/webhooks/stripe/{tenant_id}`: Stripe's events for one business (booking.services.payment_events),
  verified with the webhook secret the business stored with its Stripe account; a bad signature is a 400
  and nothing changes;
- any other path: 404.

Importing this module costs little: the service is built by the first invocation or, with SnapStart,
before the snapshot (`prime`), and again on the renewed AWS session after each restore (`restored`).
"""

from __future__ import annotations

import base64
import binascii
import json
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from booking import deadline
from booking.adapters import snapstart

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from booking.services.payment_events import PaymentEvents
    from booking.services.webhooks import ZoomWebhooks

logger = Logger()
PREFIX = "/v1/webhooks/"
PROBLEM_JSON = "application/problem+json"
_zoom: ZoomWebhooks | None = None
_stripe: PaymentEvents | None = None


def install(zoom: ZoomWebhooks, stripe: PaymentEvents | None = None) -> None:
    """The local stack installs services built on its dev clock; on Lambda they are built on first use."""
    global _zoom, _stripe  # noqa: PLW0603 - one per environment
    _zoom = zoom
    _stripe = stripe


def stripe_events() -> PaymentEvents:
    global _stripe  # noqa: PLW0603
    if _stripe is None:
        from webhooks.container import build_payment_events  # noqa: PLC0415 - first use only

        _stripe = build_payment_events()
    return _stripe


def service() -> ZoomWebhooks:
    global _zoom  # noqa: PLW0603
    if _zoom is None:
        from webhooks.container import build_zoom_webhooks  # noqa: PLC0415 - first use only

        _zoom = build_zoom_webhooks()
    return _zoom


def prime() -> None:
    """Before the snapshot: the services built (clients, the event models), no business's secret read."""
    service()
    stripe_events()


def restored() -> None:
    """After each restore, on the renewed AWS session: a service of this environment's own (clients, an
    empty secrets cache)."""
    from webhooks.container import build_payment_events, build_zoom_webhooks  # noqa: PLC0415 - loaded

    install(build_zoom_webhooks(), build_payment_events())


snapstart.on_snapshot(prime, restored)


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # Every outside call fits in what is left of the timeout, or the delivery is answered 503 (retried).
    with deadline.within(context.get_remaining_time_in_millis() / 1000):
        return _route(event)


def _route(event: dict[str, Any]) -> dict[str, Any]:
    _, found, rest = (event.get("path") or "").partition(PREFIX)
    parts = rest.split("/") if found else []
    if event.get("httpMethod") != "POST":
        return problem(HTTPStatus.METHOD_NOT_ALLOWED, "method-not-allowed", "webhooks are POSTed")
    if len(parts) == 2 and parts[0] == "zoom":
        return _zoom_event(parts[1], event)
    if len(parts) == 2 and parts[0] == "stripe":
        return _stripe_event(parts[1], event)
    return problem(HTTPStatus.NOT_FOUND, "not-found", "no webhook is accepted at this address")


def _zoom_event(tenant_id: str, event: dict[str, Any]) -> dict[str, Any]:
    from booking.domain.errors import NotFound, Unauthorized  # noqa: PLC0415 - loaded with the service
    from booking.domain.webhooks import MalformedEvent  # noqa: PLC0415

    logger.append_keys(tenant_id=tenant_id, provider="zoom")
    body = _raw_body(event)
    if body is None:
        return problem(HTTPStatus.BAD_REQUEST, "malformed-event", "the body is not valid base64")
    headers = {str(k): str(v) for k, v in (event.get("headers") or {}).items() if v is not None}
    try:
        answer = service().receive(tenant_id, headers, body)
    except NotFound as error:
        return problem(HTTPStatus.NOT_FOUND, error.kind, error.detail, error.title)
    except Unauthorized as error:
        logger.warning("zoom webhook refused", extra={"reason": error.detail})
        return problem(HTTPStatus.UNAUTHORIZED, error.kind, error.detail, error.title)
    except MalformedEvent as error:
        return problem(HTTPStatus.BAD_REQUEST, error.kind, error.detail, error.title)
    if answer.booking_id:
        logger.set_correlation_id(answer.booking_id)
    logger.info("zoom webhook handled", extra={"outcome": answer.outcome})
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(answer.body),
    }


def _stripe_event(tenant_id: str, event: dict[str, Any]) -> dict[str, Any]:
    from booking.domain.checkout import BadSignature, PaymentProviderDown  # noqa: PLC0415 - with the service
    from booking.domain.errors import NotFound, Unavailable  # noqa: PLC0415

    logger.append_keys(tenant_id=tenant_id, provider="stripe")
    body = _raw_body(event)
    if body is None:
        return problem(HTTPStatus.BAD_REQUEST, "malformed-event", "the body is not valid base64")
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items() if v is not None}
    try:
        outcome = stripe_events().receive(tenant_id, body, headers.get("stripe-signature"))
    except NotFound as error:
        return problem(HTTPStatus.NOT_FOUND, error.kind, error.detail, error.title)
    except BadSignature as error:
        logger.warning("stripe webhook refused", extra={"reason": error.detail})
        return problem(HTTPStatus.BAD_REQUEST, error.kind, error.detail, error.title)
    except (Unavailable, PaymentProviderDown) as error:
        # Nothing was recorded (the event id is recorded last): Stripe delivers it again later.
        logger.warning("stripe webhook deferred", extra={"reason": error.kind})
        answer = problem(HTTPStatus.SERVICE_UNAVAILABLE, error.kind, error.detail, error.title)
        answer["headers"]["Retry-After"] = "30"
        return answer
    logger.info("stripe webhook handled", extra={"outcome": outcome})
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"received": True, "outcome": outcome}),
    }


def _raw_body(event: dict[str, Any]) -> bytes | None:
    """The body exactly as the provider sent it (its signature covers these bytes)."""
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            return None
    return str(body).encode()


def problem(status: HTTPStatus, kind: str, detail: str, title: str | None = None) -> dict[str, Any]:
    """An RFC 9457 problem document, as the API's (booking_api/problem_json.py) with the same `type`s."""
    body = {
        "type": f"urn:booking:problem:{kind}",
        "title": title or status.phrase,
        "status": int(status),
        "detail": detail,
    }
    return {
        "statusCode": int(status),
        "headers": {"Content-Type": PROBLEM_JSON},
        "body": json.dumps(body),
    }
