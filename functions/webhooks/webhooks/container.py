"""Builds the webhooks function's use cases from the environment, once per container."""

from __future__ import annotations

import os

from booking.adapters import clients
from booking.adapters.dynamodb.bookings import DynamoBookingRepository
from booking.adapters.dynamodb.meetings import DynamoMeetingIndex
from booking.adapters.dynamodb.webhooks import DynamoWebhookEvents
from booking.adapters.secrets_manager import SecretsManagerCredentials
from booking.adapters.stripe_payments import StripePayments
from booking.adapters.system import SystemClock
from booking.ports import Clock
from booking.services.payment_events import PaymentEvents
from booking.services.webhooks import ZoomWebhooks


def build_zoom_webhooks(clock: Clock | None = None) -> ZoomWebhooks:
    """From the environment: TABLE_NAME and CREDENTIALS_SECRET_PREFIX."""
    dynamodb = clients.client("dynamodb", clients.API_RETRIES)
    table = os.environ["TABLE_NAME"]
    clock = clock or SystemClock()
    return ZoomWebhooks(
        credentials=SecretsManagerCredentials(
            clients.client("secretsmanager", clients.API_RETRIES), os.environ["CREDENTIALS_SECRET_PREFIX"]
        ),
        meetings=DynamoMeetingIndex(dynamodb, table),
        bookings=DynamoBookingRepository(dynamodb, table, clock),
        events=DynamoWebhookEvents(dynamodb, table),
        clock=clock,
    )


def build_payment_events(clock: Clock | None = None) -> PaymentEvents:
    """From the environment: TABLE_NAME, CREDENTIALS_SECRET_PREFIX and (locally) STRIPE_API_BASE."""
    dynamodb = clients.client("dynamodb", clients.API_RETRIES)
    table = os.environ["TABLE_NAME"]
    clock = clock or SystemClock()
    return PaymentEvents(
        bookings=DynamoBookingRepository(dynamodb, table, clock),
        accounts=SecretsManagerCredentials(
            clients.client("secretsmanager", clients.API_RETRIES),
            os.environ["CREDENTIALS_SECRET_PREFIX"],
            area="payments",
        ),
        gateway=StripePayments(),
        events=DynamoWebhookEvents(dynamodb, table),
        clock=clock,
    )
