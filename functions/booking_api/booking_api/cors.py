"""CORS for the public API. Each business lists the origins its booking widget is served from; a browser
on one of those origins may call that business's public routes, and no other origin may."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from booking.domain.catalogue import BusinessSettings

ALLOWED_HEADERS = "Content-Type, Idempotency-Key, Authorization"
ALLOWED_METHODS = "GET, POST, PUT, DELETE, OPTIONS"
MAX_AGE_SECONDS = "600"


def cors_headers(business: BusinessSettings, origin: str | None) -> dict[str, str]:
    """Headers granting `origin` access, or none when the origin is not one of the business's widgets."""
    if not origin or origin.rstrip("/").lower() not in business.widget_origins:
        return {"Vary": "Origin"}
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


def preflight(business: BusinessSettings, origin: str | None) -> Response[None]:
    headers = cors_headers(business, origin)
    if "Access-Control-Allow-Origin" in headers:
        headers |= {
            "Access-Control-Allow-Methods": ALLOWED_METHODS,
            "Access-Control-Allow-Headers": ALLOWED_HEADERS,
            "Access-Control-Max-Age": MAX_AGE_SECONDS,
        }
    return Response(status_code=204, headers=headers)


def respond(body: object, business: BusinessSettings, origin: str | None, status: int = 200) -> Response:
    """A JSON response carrying the CORS headers this business grants `origin`."""
    return Response(
        status_code=status,
        content_type="application/json",
        body=body,
        headers=cors_headers(business, origin),
    )
