"""CORS for the public API. Each business lists the origins its booking widget is served from; a browser
on one of those origins may call that business's public routes, and no other origin may.

Routes answer with `respond` (or `cors_headers`) for the business they serve; the preflight of every public
route is answered here, in one place (`install`), for the business the path names: by its slug under
`/v1/public/businesses/<slug>/...`, by the manage link's token under `/v1/public/bookings/<booking_id>/...`.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from aws_lambda_powertools.event_handler import Request, Response
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from booking.domain.catalogue import BusinessSettings
from booking_api.deps import booking_service, manage_link_service

ALLOWED_HEADERS = "Content-Type, Idempotency-Key, Authorization"
ALLOWED_METHODS = "GET, POST, PUT, DELETE, OPTIONS"
MAX_AGE_SECONDS = "600"
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _canonical(origin: str) -> str:
    """scheme://host[:port] in lower case, without the scheme's default port (browsers never send it)."""
    try:
        parts = urlsplit(origin.strip().rstrip("/").lower())
        port = parts.port
    except ValueError:
        return ""
    if parts.username is not None or parts.path or parts.query or parts.fragment:
        return ""  # not an origin a browser would send
    suffix = f":{port}" if port and port != _DEFAULT_PORTS.get(parts.scheme) else ""
    return f"{parts.scheme}://{parts.hostname}{suffix}"


def request_origin(request: Request) -> str | None:
    """The browser's Origin header, whatever case the proxy delivered it in."""
    return request.headers.get("origin") or request.headers.get("Origin")


def cors_headers(business: BusinessSettings, origin: str | None) -> dict[str, str]:
    """Headers granting `origin` access, or none when the origin is not one of the business's widgets."""
    if not origin or _canonical(origin) not in {_canonical(o) for o in business.widget_origins}:
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


# The preflights of the public routes: a business's routes, and a booking's behind its manage link.
BUSINESS_ROUTES = "/v1/public/businesses/<slug>/.+"
BOOKING_ROUTES = "/v1/public/bookings/<booking_id>(?:/.+)?"
SlugParam = Annotated[str, Path(pattern=r"^[a-z0-9-]{1,50}$")]
BookingId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
ManageToken = Annotated[str | None, Query(max_length=200, description="the token from the manage link")]


def install(app: ApiGatewayResolver) -> None:
    """Answers the preflight (OPTIONS) of every public route `app` serves; a path no route serves is
    answered as any unknown route is (404). Left out of the OpenAPI document."""

    def served() -> None:
        """Raises the resolver's not-found unless some route of `app` serves the request's path."""
        path = str(app.current_event.path)
        routes = [*app._static_routes, *app._dynamic_routes]  # as openapi.describe_routes reads them
        if not any(route.method != "OPTIONS" and route.rule.match(path) for route in routes):
            raise NotFoundError

    @app.route(BUSINESS_ROUTES, method="OPTIONS", include_in_schema=False)
    def business_preflight(slug: SlugParam, request: Request) -> Response[None]:
        served()
        return preflight(booking_service().public_business(slug), request_origin(request))

    @app.route(BOOKING_ROUTES, method="OPTIONS", include_in_schema=False)
    def booking_preflight(
        booking_id: BookingId, request: Request, token: ManageToken = None
    ) -> Response[None]:
        served()
        return preflight(manage_link_service().business(booking_id, token), request_origin(request))
