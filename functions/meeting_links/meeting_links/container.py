"""Builds the meeting-links function's use case from the environment, once per container."""

from __future__ import annotations

import os

from booking.adapters import clients
from booking.adapters.cache import CachedCatalogue
from booking.adapters.dynamodb.bookings import DynamoBookingRepository
from booking.adapters.dynamodb.catalogue import DynamoCatalogueRepository
from booking.adapters.dynamodb.meetings import DynamoMeetingIndex
from booking.adapters.meetings import ProviderDirectory
from booking.adapters.secrets_manager import SecretsManagerCredentials
from booking.adapters.system import SystemClock
from booking.ports import Clock
from booking.services.meetings import MeetingProvisioning


def build_provisioning(clock: Clock | None = None) -> MeetingProvisioning:
    """From the environment: TABLE_NAME, CREDENTIALS_SECRET_PREFIX and (locally) MEETING_PROVIDER_ENDPOINTS."""
    dynamodb = clients.client("dynamodb")
    table = os.environ["TABLE_NAME"]
    clock = clock or SystemClock()
    credentials = SecretsManagerCredentials(
        clients.client("secretsmanager"), os.environ["CREDENTIALS_SECRET_PREFIX"]
    )
    return MeetingProvisioning(
        catalogue=CachedCatalogue(DynamoCatalogueRepository(dynamodb, table)),
        bookings=DynamoBookingRepository(dynamodb, table, clock),
        providers=ProviderDirectory(credentials, clock),
        clock=clock,
        index=DynamoMeetingIndex(dynamodb, table),
    )
