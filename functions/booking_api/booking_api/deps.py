"""Dependencies the routes declare with Depends(): the container's use cases and the calling principal."""

from __future__ import annotations

from dataclasses import dataclass

from aws_lambda_powertools.event_handler import Request

from booking.adapters import snapstart
from booking.domain.access import Principal, principal_from_claims
from booking.domain.catalogue import Business, Catalogue
from booking.domain.errors import NotFound, Unauthorized
from booking.ports import Idempotency
from booking.services.availability import AvailabilityService
from booking.services.booking_requests import BookingRequests
from booking.services.bookings import BookingService
from booking.services.catalogue import CatalogueService
from booking.services.customers import CustomerService, CustomerSession
from booking.services.manage_links import ManageLinkService
from booking.services.meetings import MeetingAdmin
from booking.services.payments.bookkeeping import Bookkeeping
from booking.services.payments.checkout import Checkout
from booking.services.payments.pay_later import PayLater
from booking.services.payments.staff import StaffPayments
from booking.services.series import SeriesService
from booking.services.sign_in import SignIn
from booking_api.container import Container, build_container

# The container the routes use, one per environment: built from the environment on first use (Lambda),
# renewed after each SnapStart restore (booking_api/handler.py), or installed by the local server.
container: snapstart.PerEnvironment[Container] = snapstart.PerEnvironment(build_container)


def install(built: Container) -> None:
    """Called once by the local server, with a container on its dev clock and its own token verifier."""
    container.install(built)


def catalogue_service() -> CatalogueService:
    return container().catalogue


def booking_service() -> BookingService:
    return container().bookings


def availability_service() -> AvailabilityService:
    return container().availability


def manage_link_service() -> ManageLinkService:
    return container().manage_links


def meeting_admin() -> MeetingAdmin:
    return container().meetings


def checkout_service() -> Checkout:
    return container().checkout


def staff_payments() -> StaffPayments:
    return container().staff_payments


def bookkeeping() -> Bookkeeping:
    return container().bookkeeping


def booking_requests() -> BookingRequests:
    return container().booking_requests


def pay_later() -> PayLater:
    return container().pay_later


def series_service() -> SeriesService:
    return container().series


def sign_in_service() -> SignIn:
    return container().sign_in


def client_ip(request: Request) -> str:
    """The caller's address as API Gateway saw it (X-Forwarded-For only where there is none: locally)."""
    context = request.resolved_event.get("requestContext") or {}
    address = (context.get("identity") or {}).get("sourceIp") or (context.get("http") or {}).get("sourceIp")
    if not address:
        forwarded = request.headers.get("x-forwarded-for") or request.headers.get("X-Forwarded-For") or ""
        address = forwarded.split(",")[0].strip()
    return str(address or "unknown")


def customer_service() -> CustomerService:
    return container().customers


def idempotency() -> Idempotency:
    return container().idempotency


def tenant_catalogue(tenant_id: str) -> Catalogue:
    """The (briefly cached) catalogue, for presenting staff names and the business time zone."""
    catalogue = container().catalogue_reader.load_catalogue(tenant_id)
    if catalogue is None:
        raise NotFound("business not found")
    return catalogue


def principal(request: Request) -> Principal:
    claims = container().claims(request.resolved_event)
    if claims is None:
        raise Unauthorized("a valid bearer token is required")
    return principal_from_claims(claims)


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization") or request.headers.get("Authorization") or ""
    scheme, _, token = header.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


@dataclass(frozen=True)
class SignedIn:
    """A signed-in customer's session, and the business of the URL (for its CORS headers)."""

    session: CustomerSession
    business: Business


def signed_in(request: Request) -> SignedIn:
    """The customer session of the bearer token, which must be one of the URL's business (`slug`)."""
    session = customer_service().session(bearer_token(request))
    business = booking_service().public_business(request.path_parameters["slug"])
    if session.tenant_id != business.id:
        raise Unauthorized("sign in again: the session is missing or has expired")
    return SignedIn(session, business)
