"""CORS for the public API. Each business lists the origins its booking widget is served from; a browser
on one of those origins may call that business's public routes, and no other origin may."""

from __future__ import annotations

from urllib.parse import urlsplit

from aws_lambda_powertools.event_handler import Request, Response

from booking.domain.catalogue import BusinessSettings

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
