"""Returning customers: passwordless sign-in with a one-time code, then their details and bookings."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Depends, Request, Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from booking.services.bookings import BookingService
from booking.services.customers import CustomerService
from booking.services.sign_in import SignIn
from booking_api.cors import request_origin, respond
from booking_api.deps import (
    bearer_token,
    booking_service,
    client_ip,
    customer_service,
    manage_link_service,
    sign_in_service,
    tenant_catalogue,
)
from booking_api.schemas.customers import CodeExchange, CodeRequest, CustomerSessionOut

router = APIGatewayRouter()

Bookings = Annotated[BookingService, Depends(booking_service)]
Customers = Annotated[CustomerService, Depends(customer_service)]
SignInUses = Annotated[SignIn, Depends(sign_in_service)]
SlugParam = Annotated[str, Path(pattern=r"^[a-z0-9-]{1,50}$")]

LOGIN_CODE = "/v1/public/businesses/<slug>/customers/login-code"
SESSION = "/v1/public/businesses/<slug>/customers/session"
ME = "/v1/public/businesses/<slug>/customers/me"


def _session_out(token: str, customers: CustomerService) -> CustomerSessionOut:
    session = customers.session(token)
    overview = customers.overview(session)
    links = manage_link_service()
    # In a 'login as client' session every link shown is delegated: it records the acting user and ends
    # with the session (the customer's own links never reach the impersonator).
    views = {
        b.id: links.view_for_customer(b, session.delegation)
        for b in [*overview.upcoming, *overview.past, *overview.cancelled]
    }
    return CustomerSessionOut.of(token, overview, tenant_catalogue(session.tenant_id), views)


@router.post(LOGIN_CODE, tags=["public: customers"], responses={202: {"description": "Code sent if known"}})
def request_login_code(
    slug: SlugParam, body: CodeRequest, sign_in: SignInUses, bookings: Bookings, request: Request
) -> Response[dict[str, str]]:
    """Emails a 6-digit code to a returning customer. Same answer, and the same work, whether or not the
    email is known; 429 past a limit (per client, per business, per email: an hour each)."""
    sign_in.request_code(slug, body.email, client_ip(request))
    message = {"detail": "if this email has booked with us, a sign-in code is on its way"}
    return respond(message, bookings.public_business(slug), request_origin(request), status=202)


@router.post(SESSION, tags=["public: customers"])
def exchange_login_code(
    slug: SlugParam,
    body: CodeExchange,
    sign_in: SignInUses,
    customers: Customers,
    bookings: Bookings,
    request: Request,
) -> Response[CustomerSessionOut]:
    """Trades a valid code for a customer session token, with the details to prefill and the bookings."""
    token = sign_in.exchange_code(slug, body.email, body.code)
    return respond(_session_out(token, customers), bookings.public_business(slug), request_origin(request))


@router.get(ME, tags=["public: customers"])
def me(
    slug: SlugParam, customers: Customers, bookings: Bookings, request: Request
) -> Response[CustomerSessionOut]:
    """The signed-in customer (Authorization: Bearer <customer token>): details and bookings."""
    token = bearer_token(request) or ""
    session = customers.session(token)
    business = bookings.public_business(slug)
    if session.tenant_id != business.id:
        customers.session("")  # a session for another business is no session here
    return respond(_session_out(token, customers), business, request_origin(request))
