"""The booking API's use cases, wired from one composition (booking/composition.py) of its settings
(booking/settings.py BookingApiSettings), once per environment (Lambda container or local server)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent

from booking.adapters import clients
from booking.adapters.idempotency import PowertoolsIdempotency
from booking.adapters.s3_photos import S3Photos, photos_client
from booking.adapters.sessions import JwtCustomerSessions
from booking.composition import Composition
from booking.ports import (
    CatalogueReader,
    Clock,
    Idempotency,
    IdGenerator,
)
from booking.services.availability import AvailabilityService
from booking.services.booking_engine import BookingEngine
from booking.services.booking_requests import BookingRequests
from booking.services.bookings import BookingService
from booking.services.catalogue import CatalogueService
from booking.services.customers import CustomerService
from booking.services.manage_links import ManageLinkService
from booking.services.meetings import MeetingAdmin
from booking.services.payments.bookkeeping import Bookkeeping
from booking.services.payments.checkout import Checkout
from booking.services.payments.no_shows import NoShows
from booking.services.payments.pay_later import PayLater
from booking.services.payments.staff import StaffPayments
from booking.services.series import SeriesService
from booking.services.sign_in import SignIn
from booking.settings import BookingApiSettings

# Returns the verified claims of the caller, or None when the request carries no valid token.
ClaimsSource = Callable[[BaseProxyEvent], Mapping[str, Any] | None]


@dataclass(frozen=True)
class Container:
    catalogue: CatalogueService
    catalogue_reader: CatalogueReader
    bookings: BookingService
    availability: AvailabilityService
    manage_links: ManageLinkService
    customers: CustomerService
    meetings: MeetingAdmin
    series: SeriesService
    checkout: Checkout
    staff_payments: StaffPayments
    bookkeeping: Bookkeeping
    pay_later: PayLater
    booking_requests: BookingRequests
    sign_in: SignIn
    idempotency: Idempotency
    claims: ClaimsSource
    clock: Clock


def api_gateway_claims(client_id: str) -> ClaimsSource:
    """On AWS the Cognito authorizer has verified the token's signature, issuer and expiry, and its claims
    ride on the request. It accepts any token of the user pool, though: an access token, or an ID token
    of another app client of the pool. Only our app client's ID tokens are ours."""

    def claims_of(event: BaseProxyEvent) -> Mapping[str, Any] | None:
        context = event.get("requestContext") or {}
        claims = (context.get("authorizer") or {}).get("claims")
        if not isinstance(claims, Mapping) or not claims:
            return None
        if claims.get("token_use") != "id" or claims.get("aud") != client_id:
            return None
        return claims

    return claims_of


def compose(clock: Clock | None = None, ids: IdGenerator | None = None) -> Composition[BookingApiSettings]:
    """The function's adapters, from its settings read from the environment now, on `clock` and `ids` (the
    system's unless given); its clients answer within a request's time (10 s)."""
    return Composition(BookingApiSettings.from_environment(), clock=clock, ids=ids, aws=clients.API_RETRIES)


def build_container(
    claims: ClaimsSource | None = None,
    clock: Clock | None = None,
    ids: IdGenerator | None = None,
) -> Container:
    """The API's use cases over a composition of its settings (`compose`). `claims` defaults to API
    Gateway's authorizer claims for our app client (USER_POOL_CLIENT_ID)."""
    c = compose(clock, ids)
    settings = c.settings
    clock, ids = c.clock, c.ids
    engine = BookingEngine(c.catalogue, c.bookings, clock, ids, c.manage_tokens, settings.public_base_url)
    sessions = JwtCustomerSessions(c.app_secret)
    manage_links = ManageLinkService(
        engine, c.customers, clock, c.manage_tokens, settings.sender_email, c.refunds, c.series
    )
    return Container(
        catalogue=CatalogueService(
            c.catalogue_repository, clock, ids, on_change=c.catalogue.invalidate, public_reader=c.catalogue
        ),
        catalogue_reader=c.catalogue,
        bookings=BookingService(
            engine,
            c.bookings,
            c.customers,
            c.message_log,
            clock,
            ids,
            c.refunds,
            NoShows(c.catalogue, c.bookings, c.customers, c.payment_accounts, c.stripe, clock),
        ),
        series=SeriesService(engine, c.bookings, c.series, c.message_log, clock, ids),
        availability=AvailabilityService(engine, c.bookings, clock),
        manage_links=manage_links,
        customers=CustomerService(c.catalogue, c.bookings, c.customers, sessions, clock),
        meetings=MeetingAdmin(engine, c.bookings, c.meeting_providers, c.meeting_credentials, clock),
        checkout=Checkout(engine, c.bookings, c.payment_accounts, c.stripe, clock, ids),
        staff_payments=StaffPayments(engine, c.bookings, c.payment_accounts, c.stripe, c.refunds, clock),
        pay_later=PayLater(manage_links, c.bookings, c.payment_accounts, c.stripe, clock),
        booking_requests=BookingRequests(
            engine,
            c.requests,
            c.bookings,
            c.customers,
            S3Photos(photos_client(), settings.photos_bucket_name),
            c.message_log,
            clock,
            ids,
            c.rate_limiter,
        ),
        bookkeeping=Bookkeeping(c.catalogue, c.bookings, c.documents, c.journal, clock, manage_links),
        sign_in=SignIn(c.catalogue, c.customers, sessions, c.rate_limiter, clock, ids, c.app_secret),
        idempotency=PowertoolsIdempotency(settings.idempotency_table_name, c.dynamodb),
        claims=claims or api_gateway_claims(settings.user_pool_client_id),
        clock=clock,
    )
