"""Builds the adapters and use cases once per process (Lambda container or local server)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent

from booking.adapters import clients
from booking.adapters.cache import CachedCatalogue
from booking.adapters.dynamodb.booking_requests import DynamoRequestRepository
from booking.adapters.dynamodb.bookings import DynamoBookingRepository
from booking.adapters.dynamodb.catalogue import DynamoCatalogueRepository
from booking.adapters.dynamodb.customers import DynamoCustomerRepository
from booking.adapters.dynamodb.invoices import DynamoDocuments, DynamoJournal
from booking.adapters.dynamodb.messages import DynamoMessageLog
from booking.adapters.dynamodb.rate_limits import DynamoRateLimiter
from booking.adapters.dynamodb.series import DynamoSeriesRepository
from booking.adapters.idempotency import PowertoolsIdempotency
from booking.adapters.meetings import ProviderDirectory
from booking.adapters.s3_photos import S3Photos, photos_client
from booking.adapters.secrets import app_secret
from booking.adapters.secrets_manager import SecretsManagerCredentials
from booking.adapters.sessions import JwtCustomerSessions
from booking.adapters.stripe_payments import StripePayments
from booking.adapters.system import SystemClock, UlidGenerator
from booking.domain.tokens import ManageTokens
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
from booking.services.bookkeeping import Bookkeeping
from booking.services.catalogue import CatalogueService
from booking.services.checkout import Checkout
from booking.services.customers import CustomerService
from booking.services.manage_links import ManageLinkService
from booking.services.meetings import MeetingAdmin
from booking.services.no_shows import NoShows
from booking.services.pay_later import PayLater
from booking.services.refunds import Refunds
from booking.services.series import SeriesService
from booking.services.sign_in import SignIn
from booking.services.staff_payments import StaffPayments

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


def build_container(
    claims: ClaimsSource | None = None,
    clock: Clock | None = None,
    ids: IdGenerator | None = None,
) -> Container:
    """Configuration from the environment: TABLE_NAME, IDEMPOTENCY_TABLE_NAME, PUBLIC_BASE_URL, SENDER_EMAIL,
    USER_POOL_CLIENT_ID, CREDENTIALS_SECRET_PREFIX, APP_SECRET_PARAMETER (AWS) or APP_SECRET (local), and
    AWS_ENDPOINT_URL (and MEETING_PROVIDER_ENDPOINTS) when not on AWS. `claims` defaults to API Gateway's
    authorizer claims for our app client."""
    dynamodb = clients.client("dynamodb", clients.API_RETRIES)
    table = os.environ["TABLE_NAME"]
    clock = clock or SystemClock()
    ids = ids or UlidGenerator()
    secret = app_secret()
    catalogue_repository = DynamoCatalogueRepository(dynamodb, table)
    cached = CachedCatalogue(catalogue_repository)
    bookings = DynamoBookingRepository(dynamodb, table, clock)
    customers = DynamoCustomerRepository(dynamodb, table)
    tokens = ManageTokens(secret)
    sessions = JwtCustomerSessions(secret)
    engine = BookingEngine(cached, bookings, clock, ids, tokens, os.environ["PUBLIC_BASE_URL"])
    secretsmanager = clients.client("secretsmanager", clients.API_RETRIES)
    credentials = SecretsManagerCredentials(secretsmanager, os.environ["CREDENTIALS_SECRET_PREFIX"])
    payment_accounts = SecretsManagerCredentials(
        secretsmanager, os.environ["CREDENTIALS_SECRET_PREFIX"], area="payments"
    )
    stripe_gateway = StripePayments()
    refunds = Refunds(cached, bookings, payment_accounts, stripe_gateway, clock)
    series = DynamoSeriesRepository(dynamodb, table)
    manage_links = ManageLinkService(
        engine, customers, clock, tokens, os.environ["SENDER_EMAIL"], refunds, series
    )
    return Container(
        catalogue=CatalogueService(
            catalogue_repository, clock, ids, on_change=cached.invalidate, public_reader=cached
        ),
        catalogue_reader=cached,
        bookings=BookingService(
            engine,
            bookings,
            customers,
            DynamoMessageLog(dynamodb, table),
            clock,
            ids,
            refunds,
            NoShows(cached, bookings, customers, payment_accounts, stripe_gateway, clock),
        ),
        series=SeriesService(
            engine,
            bookings,
            series,
            DynamoMessageLog(dynamodb, table),
            clock,
            ids,
        ),
        availability=AvailabilityService(engine, bookings, clock),
        manage_links=manage_links,
        customers=CustomerService(cached, bookings, customers, sessions, clock),
        meetings=MeetingAdmin(engine, bookings, ProviderDirectory(credentials, clock), credentials, clock),
        checkout=Checkout(engine, bookings, payment_accounts, stripe_gateway, clock, ids),
        staff_payments=StaffPayments(engine, bookings, payment_accounts, stripe_gateway, refunds, clock),
        pay_later=PayLater(manage_links, bookings, payment_accounts, stripe_gateway, clock),
        booking_requests=BookingRequests(
            engine,
            DynamoRequestRepository(dynamodb, table),
            bookings,
            customers,
            S3Photos(photos_client(), os.environ["PHOTOS_BUCKET_NAME"]),
            DynamoMessageLog(dynamodb, table),
            clock,
            ids,
            DynamoRateLimiter(dynamodb, table),
        ),
        bookkeeping=Bookkeeping(
            cached,
            bookings,
            DynamoDocuments(dynamodb, table),
            DynamoJournal(dynamodb, table),
            clock,
            manage_links,
        ),
        sign_in=SignIn(cached, customers, sessions, DynamoRateLimiter(dynamodb, table), clock, ids, secret),
        idempotency=PowertoolsIdempotency(os.environ["IDEMPOTENCY_TABLE_NAME"], dynamodb),
        claims=claims or api_gateway_claims(os.environ["USER_POOL_CLIENT_ID"]),
        clock=clock,
    )
