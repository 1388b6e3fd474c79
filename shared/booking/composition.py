"""The one composition root the four functions share: a function's adapters, built from its settings
(booking/settings.py), each once, on first use.

A function's container (functions/<name>/<name>/container.py) makes one `Composition` from its settings and
wires its use cases from it, so what two use cases need is one object: one client per AWS service, one
catalogue cache, one secrets cache per area, one Stripe gateway, one timer scheduler. A `Composition` is one
environment's: the functions keep theirs in a `PerEnvironment` (booking/adapters/snapstart.py), so a
SnapStart copy builds a new one after its restore (its own clients, secret and caches) and the local stack
and the tests build theirs on their own clock.

Each adapter is built from the settings part it needs; asking a function's composition for an adapter
whose settings that function does not read is a TypeError (the meeting-links function has no timers).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, Generic, TypeVar

from botocore.config import Config

from booking.adapters import clients
from booking.adapters.cache import CachedCatalogue
from booking.adapters.dynamodb.booking_requests import DynamoRequestRepository
from booking.adapters.dynamodb.bookings import DynamoBookingRepository
from booking.adapters.dynamodb.catalogue import DynamoCatalogueRepository
from booking.adapters.dynamodb.customers import DynamoCustomerRepository
from booking.adapters.dynamodb.invoices import DynamoDocuments, DynamoJournal
from booking.adapters.dynamodb.meetings import DynamoMeetingIndex
from booking.adapters.dynamodb.messages import DynamoMessageLog
from booking.adapters.dynamodb.rate_limits import DynamoRateLimiter
from booking.adapters.dynamodb.series import DynamoSeriesRepository
from booking.adapters.dynamodb.sms_budget import DynamoSmsBudget
from booking.adapters.dynamodb.webhooks import DynamoWebhookEvents
from booking.adapters.meetings import ProviderDirectory
from booking.adapters.scheduler import EventBridgeScheduler
from booking.adapters.secrets import app_secret
from booking.adapters.secrets_manager import SecretsManagerCredentials
from booking.adapters.ses import SesEmailSender
from booking.adapters.sns import SnsSmsSender
from booking.adapters.stepfunctions import StepFunctionsProvisioner
from booking.adapters.stripe_payments import StripePayments
from booking.adapters.system import SystemClock, UlidGenerator
from booking.domain.tokens import ManageTokens
from booking.ports import Clock, IdGenerator
from booking.services.payments.refunds import Refunds
from booking.settings import (
    AppSecret,
    MeetingLinksStateMachine,
    MeetingProviderEndpoints,
    Messaging,
    Settings,
    StripeApi,
    Timers,
    part,
)

SettingsT = TypeVar("SettingsT", bound=Settings)


class Composition(Generic[SettingsT]):
    """One environment's adapters for one function: `settings` read once, `clock` and `ids` (the system's
    unless given), AWS clients made with `aws` (timeouts and retries sized to the function:
    booking/adapters/clients.py)."""

    def __init__(
        self,
        settings: SettingsT,
        *,
        clock: Clock | None = None,
        ids: IdGenerator | None = None,
        aws: Config = clients.SENDING_RETRIES,
    ) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.ids: IdGenerator = ids or UlidGenerator()
        self._aws = aws

    # --- AWS clients, one per service ----------------------------------------------------------------

    @cached_property
    def dynamodb(self) -> Any:
        return clients.client("dynamodb", self._aws)

    @cached_property
    def secretsmanager(self) -> Any:
        return clients.client("secretsmanager", self._aws)

    # --- the booking table (adapters/dynamodb builds every key) ---------------------------------------

    @cached_property
    def catalogue_repository(self) -> DynamoCatalogueRepository:
        return DynamoCatalogueRepository(self.dynamodb, self.settings.table_name)

    @cached_property
    def catalogue(self) -> CachedCatalogue:
        """The function's one catalogue cache (adapters/cache.py): what it reads of a business's settings."""
        return CachedCatalogue(self.catalogue_repository)

    @cached_property
    def bookings(self) -> DynamoBookingRepository:
        return DynamoBookingRepository(self.dynamodb, self.settings.table_name, self.clock)

    @cached_property
    def customers(self) -> DynamoCustomerRepository:
        return DynamoCustomerRepository(self.dynamodb, self.settings.table_name)

    @cached_property
    def series(self) -> DynamoSeriesRepository:
        return DynamoSeriesRepository(self.dynamodb, self.settings.table_name)

    @cached_property
    def requests(self) -> DynamoRequestRepository:
        return DynamoRequestRepository(self.dynamodb, self.settings.table_name)

    @cached_property
    def message_log(self) -> DynamoMessageLog:
        return DynamoMessageLog(self.dynamodb, self.settings.table_name)

    @cached_property
    def rate_limiter(self) -> DynamoRateLimiter:
        return DynamoRateLimiter(self.dynamodb, self.settings.table_name)

    @cached_property
    def sms_budget(self) -> DynamoSmsBudget:
        return DynamoSmsBudget(self.dynamodb, self.settings.table_name)

    @cached_property
    def documents(self) -> DynamoDocuments:
        return DynamoDocuments(self.dynamodb, self.settings.table_name)

    @cached_property
    def journal(self) -> DynamoJournal:
        return DynamoJournal(self.dynamodb, self.settings.table_name)

    @cached_property
    def meeting_index(self) -> DynamoMeetingIndex:
        return DynamoMeetingIndex(self.dynamodb, self.settings.table_name)

    @cached_property
    def webhook_events(self) -> DynamoWebhookEvents:
        return DynamoWebhookEvents(self.dynamodb, self.settings.table_name)

    # --- secrets ----------------------------------------------------------------------------------

    @cached_property
    def app_secret(self) -> bytes:
        """Read once per environment (Parameter Store on AWS: after a restore, afresh)."""
        source = part(self.settings, AppSecret)
        local = source.app_secret.get_secret_value() if source.app_secret is not None else None
        return app_secret(source.app_secret_parameter, local)

    @cached_property
    def manage_tokens(self) -> ManageTokens:
        return ManageTokens(self.app_secret)

    @cached_property
    def meeting_credentials(self) -> SecretsManagerCredentials:
        """Each business's meeting-provider credentials (cached briefly: adapters/secrets_manager.py)."""
        return SecretsManagerCredentials(self.secretsmanager, self.settings.credentials_secret_prefix)

    @cached_property
    def payment_accounts(self) -> SecretsManagerCredentials:
        """Each business's Stripe account."""
        return SecretsManagerCredentials(
            self.secretsmanager, self.settings.credentials_secret_prefix, area="payments"
        )

    # --- outside services ---------------------------------------------------------------------------

    @cached_property
    def stripe(self) -> StripePayments:
        return StripePayments(part(self.settings, StripeApi).stripe_api_base)

    @cached_property
    def meeting_providers(self) -> ProviderDirectory:
        endpoints = part(self.settings, MeetingProviderEndpoints).meeting_provider_endpoints
        return ProviderDirectory(self.meeting_credentials, self.clock, endpoints)

    @cached_property
    def timers(self) -> EventBridgeScheduler:
        """Reminders, message retries, payment timers and request escalations: one-time schedules invoking
        the reminders function."""
        settings = part(self.settings, Timers)
        return EventBridgeScheduler(
            clients.client("scheduler", self._aws),
            group_name=settings.schedule_group_name,
            target_arn=settings.reminders_function_arn,
            role_arn=settings.scheduler_role_arn,
            dead_letter_arn=settings.scheduler_dlq_arn,
        )

    @cached_property
    def email(self) -> SesEmailSender:
        sender = part(self.settings, Messaging).sender_email
        return SesEmailSender(clients.client("sesv2", self._aws), sender)

    @cached_property
    def sms(self) -> SnsSmsSender:
        return SnsSmsSender(clients.client("sns", self._aws))

    @cached_property
    def meeting_links_state_machine(self) -> StepFunctionsProvisioner:
        arn = part(self.settings, MeetingLinksStateMachine).meeting_links_state_machine_arn
        return StepFunctionsProvisioner(clients.client("stepfunctions", self._aws), arn)

    # --- use cases more than one function builds -------------------------------------------------------

    @cached_property
    def refunds(self) -> Refunds:
        return Refunds(self.catalogue, self.bookings, self.payment_accounts, self.stripe, self.clock)
