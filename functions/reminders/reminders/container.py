"""Builds the reminders function's services from the environment, once per environment (on the first
invocation, or before the SnapStart snapshot and again after each restore)."""

from __future__ import annotations

import os

from booking.adapters import clients
from booking.adapters.cache import CachedCatalogue
from booking.adapters.dynamodb.bookings import DynamoBookingRepository
from booking.adapters.dynamodb.catalogue import DynamoCatalogueRepository
from booking.adapters.dynamodb.customers import DynamoCustomerRepository
from booking.adapters.dynamodb.messages import DynamoMessageLog
from booking.adapters.dynamodb.series import DynamoSeriesRepository
from booking.adapters.dynamodb.sms_budget import DynamoSmsBudget
from booking.adapters.scheduler import EventBridgeScheduler
from booking.adapters.secrets import app_secret
from booking.adapters.ses import SesEmailSender
from booking.adapters.sns import SnsSmsSender
from booking.adapters.stepfunctions import StepFunctionsProvisioner
from booking.adapters.system import SystemClock
from booking.domain.tokens import ManageTokens
from booking.ports import Clock
from booking.services.delivery import MessageDelivery
from booking.services.meetings import ProvisioningTrigger
from booking.services.notifications import LoginCodeMailer, NotificationService
from booking.services.sign_in import LoginCodeIssuer


def build_service(clock: Clock | None = None) -> NotificationService:
    """From the environment: TABLE_NAME, PUBLIC_BASE_URL, SENDER_EMAIL, APP_SECRET(_PARAMETER),
    SCHEDULE_GROUP_NAME, REMINDERS_FUNCTION_ARN, SCHEDULER_ROLE_ARN, SCHEDULER_DLQ_ARN (optional)."""
    dynamodb = clients.client("dynamodb")
    table = os.environ["TABLE_NAME"]
    clock = clock or SystemClock()
    timers = EventBridgeScheduler(
        clients.client("scheduler"),
        group_name=os.environ["SCHEDULE_GROUP_NAME"],
        target_arn=os.environ["REMINDERS_FUNCTION_ARN"],
        role_arn=os.environ["SCHEDULER_ROLE_ARN"],
        dead_letter_arn=os.environ.get("SCHEDULER_DLQ_ARN") or None,
    )
    log = DynamoMessageLog(dynamodb, table)
    return NotificationService(
        catalogue=CachedCatalogue(DynamoCatalogueRepository(dynamodb, table)),
        bookings=DynamoBookingRepository(dynamodb, table, clock),
        customers=DynamoCustomerRepository(dynamodb, table),
        log=log,
        delivery=MessageDelivery(
            log=log,
            email=SesEmailSender(clients.client("sesv2"), os.environ["SENDER_EMAIL"]),
            sms=SnsSmsSender(clients.client("sns")),
            retries=timers,
            clock=clock,
        ),
        scheduler=timers,
        sms_budget=DynamoSmsBudget(dynamodb, table),
        tokens=ManageTokens(app_secret()),
        manage_base_url=os.environ["PUBLIC_BASE_URL"],
        sender_email=os.environ["SENDER_EMAIL"],
        clock=clock,
        series=DynamoSeriesRepository(dynamodb, table),
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
