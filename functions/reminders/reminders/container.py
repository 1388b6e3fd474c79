"""Builds the reminders function's services from the environment, once per environment (on the first
invocation, or before the SnapStart snapshot and again after each restore)."""

from __future__ import annotations

import os

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
from booking.adapters.dynamodb.sms_budget import DynamoSmsBudget
from booking.adapters.scheduler import EventBridgeScheduler
from booking.adapters.secrets import app_secret
from booking.adapters.secrets_manager import SecretsManagerCredentials
from booking.adapters.ses import SesEmailSender
from booking.adapters.sns import SnsSmsSender
from booking.adapters.stepfunctions import StepFunctionsProvisioner
from booking.adapters.stripe_payments import StripePayments
from booking.adapters.system import SystemClock
from booking.domain.tokens import ManageTokens
from booking.ports import Clock
from booking.services.bookkeeping import Bookkeeping
from booking.services.delivery import MessageDelivery
from booking.services.meetings import ProvisioningTrigger
from booking.services.notifications import LoginCodeMailer, NotificationService
from booking.services.payment_timers import PaymentTimers
from booking.services.refunds import Refunds
from booking.services.request_notifications import RequestNotifications
from booking.services.sign_in import LoginCodeIssuer


def _timers() -> EventBridgeScheduler:
    """Reminders, message retries, payment timers and request escalations: one-time schedules invoking
    this function."""
    return EventBridgeScheduler(
        clients.client("scheduler"),
        group_name=os.environ["SCHEDULE_GROUP_NAME"],
        target_arn=os.environ["REMINDERS_FUNCTION_ARN"],
        role_arn=os.environ["SCHEDULER_ROLE_ARN"],
        dead_letter_arn=os.environ.get("SCHEDULER_DLQ_ARN") or None,
    )


def _delivery(log: DynamoMessageLog, timers: EventBridgeScheduler, clock: Clock) -> MessageDelivery:
    """Email through SES (SENDER_EMAIL) and SMS through SNS, claimed in `log`, retried by `timers`."""
    return MessageDelivery(
        log=log,
        email=SesEmailSender(clients.client("sesv2"), os.environ["SENDER_EMAIL"]),
        sms=SnsSmsSender(clients.client("sns")),
        retries=timers,
        clock=clock,
    )


def build_bookkeeping(clock: Clock | None = None) -> Bookkeeping:
    """Invoices and journal lines from the committed change (TABLE_NAME)."""
    dynamodb = clients.client("dynamodb")
    table = os.environ["TABLE_NAME"]
    clock = clock or SystemClock()
    return Bookkeeping(
        CachedCatalogue(DynamoCatalogueRepository(dynamodb, table)),
        DynamoBookingRepository(dynamodb, table, clock),
        DynamoDocuments(dynamodb, table),
        DynamoJournal(dynamodb, table),
        clock,
    )


def build_service(clock: Clock | None = None, books: Bookkeeping | None = None) -> NotificationService:
    """From the environment: TABLE_NAME, PUBLIC_BASE_URL, SENDER_EMAIL, APP_SECRET(_PARAMETER),
    SCHEDULE_GROUP_NAME, REMINDERS_FUNCTION_ARN, SCHEDULER_ROLE_ARN, SCHEDULER_DLQ_ARN (optional).
    Receipts carry the invoices of `books` (one is built when not given)."""
    books = books or build_bookkeeping(clock)
    dynamodb = clients.client("dynamodb")
    table = os.environ["TABLE_NAME"]
    clock = clock or SystemClock()
    timers = _timers()
    log = DynamoMessageLog(dynamodb, table)
    return NotificationService(
        catalogue=CachedCatalogue(DynamoCatalogueRepository(dynamodb, table)),
        bookings=DynamoBookingRepository(dynamodb, table, clock),
        customers=DynamoCustomerRepository(dynamodb, table),
        log=log,
        delivery=_delivery(log, timers, clock),
        scheduler=timers,
        sms_budget=DynamoSmsBudget(dynamodb, table),
        tokens=ManageTokens(app_secret()),
        manage_base_url=os.environ["PUBLIC_BASE_URL"],
        sender_email=os.environ["SENDER_EMAIL"],
        clock=clock,
        series=DynamoSeriesRepository(dynamodb, table),
        invoice_pdf=books.document_for,
    )


def build_payment_timers(clock: Clock | None = None) -> PaymentTimers:
    """The payment lifecycle (services/payment_timers.py): build_service's environment, and
    CREDENTIALS_SECRET_PREFIX (each business's Stripe account) and, locally, STRIPE_API_BASE."""
    dynamodb = clients.client("dynamodb")
    table = os.environ["TABLE_NAME"]
    clock = clock or SystemClock()
    timers = _timers()
    log = DynamoMessageLog(dynamodb, table)
    catalogue = CachedCatalogue(DynamoCatalogueRepository(dynamodb, table))
    bookings = DynamoBookingRepository(dynamodb, table, clock)
    accounts = SecretsManagerCredentials(
        clients.client("secretsmanager"), os.environ["CREDENTIALS_SECRET_PREFIX"], area="payments"
    )
    gateway = StripePayments()
    return PaymentTimers(
        catalogue=catalogue,
        bookings=bookings,
        accounts=accounts,
        gateway=gateway,
        refunds=Refunds(catalogue, bookings, accounts, gateway, clock),
        timers=timers,
        log=log,
        delivery=_delivery(log, timers, clock),
        clock=clock,
    )


def build_request_notifications(clock: Clock | None = None) -> RequestNotifications:
    """Booking requests' messages and escalation timers (services/request_notifications.py), from
    build_service's environment; the customer portal's and the staff app's links start with PUBLIC_BASE_URL."""
    dynamodb = clients.client("dynamodb")
    table = os.environ["TABLE_NAME"]
    clock = clock or SystemClock()
    timers = _timers()
    log = DynamoMessageLog(dynamodb, table)
    return RequestNotifications(
        catalogue=CachedCatalogue(DynamoCatalogueRepository(dynamodb, table)),
        requests=DynamoRequestRepository(dynamodb, table),
        customers=DynamoCustomerRepository(dynamodb, table),
        log=log,
        delivery=_delivery(log, timers, clock),
        timers=timers,
        sms_budget=DynamoSmsBudget(dynamodb, table),
        portal_base_url=os.environ["PUBLIC_BASE_URL"],
        clock=clock,
        limiter=DynamoRateLimiter(dynamodb, table),
    )


def build_provisioning_trigger() -> ProvisioningTrigger:
    """Starting the meeting-links state machine (MEETING_LINKS_STATE_MACHINE_ARN) for online bookings."""
    return ProvisioningTrigger(
        StepFunctionsProvisioner(
            clients.client("stepfunctions"), os.environ["MEETING_LINKS_STATE_MACHINE_ARN"]
        )
    )


def build_login_codes(clock: Clock | None = None) -> LoginCodeIssuer:
    """Issuing the sign-in codes customers asked for through the API."""
    dynamodb = clients.client("dynamodb")
    table = os.environ["TABLE_NAME"]
    return LoginCodeIssuer(
        catalogue=CachedCatalogue(DynamoCatalogueRepository(dynamodb, table)),
        customers=DynamoCustomerRepository(dynamodb, table),
        notifier=LoginCodeMailer(SesEmailSender(clients.client("sesv2"), os.environ["SENDER_EMAIL"])),
        clock=clock or SystemClock(),
        code_secret=app_secret(),
    )
