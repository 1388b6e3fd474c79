"""The reminders function's use cases, wired from one composition (booking/composition.py) of its settings
(booking/settings.py RemindersSettings), each built on first use.

Every message goes through one pipeline (services/messaging/pipeline.py), built with the booking messages
and shared by the booking requests' messages and the payment timers; receipts attach the invoices of the
one set of books. The order in which a committed change reaches them is services/committed_changes.py's.
"""

from __future__ import annotations

from functools import cached_property

from booking.adapters import clients
from booking.composition import Composition
from booking.ports import Clock
from booking.services.committed_changes import CommittedChanges
from booking.services.meetings import ProvisioningTrigger
from booking.services.messaging.booking_content import BookingContent, SeriesSessions
from booking.services.messaging.bookings import BookingMessages
from booking.services.messaging.login_codes import LoginCodeMailer
from booking.services.messaging.pipeline import MessagePipeline
from booking.services.messaging.request_content import RequestContent
from booking.services.messaging.requests import RequestMessages
from booking.services.messaging.sms import SmsPolicy
from booking.services.payments.bookkeeping import Bookkeeping
from booking.services.payments.timers import PaymentTimers
from booking.services.sign_in import LoginCodeIssuer
from booking.settings import RemindersSettings


def compose(clock: Clock | None = None) -> Composition[RemindersSettings]:
    """The function's adapters, from its settings read from the environment now, on `clock` (the
    system's unless given)."""
    return Composition(RemindersSettings.from_environment(), clock=clock, aws=clients.SENDING_RETRIES)


class Reminders:
    """The reminders function's use cases over `composition` (or one composed from the environment, on
    `clock`), each built on first use. The local stack builds them on its dev clock; a test may install
    some of its own (`messages`, `payments`...) in place of those built: the others are still built from
    the composition, and share the pipeline of `messages`."""

    def __init__(
        self,
        composition: Composition[RemindersSettings] | None = None,
        *,
        clock: Clock | None = None,
        books: Bookkeeping | None = None,
        messages: BookingMessages | None = None,
        login_codes: LoginCodeIssuer | None = None,
        meetings: ProvisioningTrigger | None = None,
        payments: PaymentTimers | None = None,
        requests: RequestMessages | None = None,
    ) -> None:
        self.composition = composition or compose(clock)
        installed = {
            "books": books,
            "messages": messages,
            "login_codes": login_codes,
            "meetings": meetings,
            "payments": payments,
            "requests": requests,
        }
        # In the instance's dict, a cached_property's value is the one it answers with.
        vars(self).update({name: value for name, value in installed.items() if value is not None})

    def build_all(self) -> Reminders:
        """Everything built now (before a SnapStart snapshot, and after each restore)."""
        _ = self.committed_changes
        return self

    @cached_property
    def books(self) -> Bookkeeping:
        """Invoices and journal lines from the committed change."""
        c = self.composition
        return Bookkeeping(c.catalogue, c.bookings, c.documents, c.journal, c.clock)

    @cached_property
    def messages(self) -> BookingMessages:
        """What a booking's committed change sends, and its reminders' schedules, through a new pipeline."""
        c = self.composition
        return BookingMessages(
            catalogue=c.catalogue,
            log=c.message_log,
            messages=self._new_pipeline(),
            scheduler=c.timers,
            sessions=self._series_sessions,
            clock=c.clock,
        )

    @property
    def pipeline(self) -> MessagePipeline:
        """The one message pipeline: every message of this function goes through it, and every retry timer
        comes back to it, whatever the message's kind."""
        return self.messages.pipeline

    @cached_property
    def login_codes(self) -> LoginCodeIssuer:
        """Issuing the sign-in codes customers asked for through the API."""
        c = self.composition
        return LoginCodeIssuer(
            catalogue=c.catalogue,
            customers=c.customers,
            notifier=LoginCodeMailer(c.email),
            clock=c.clock,
            code_secret=c.app_secret,
        )

    @cached_property
    def meetings(self) -> ProvisioningTrigger:
        """Starting the meeting-links state machine for the online bookings that need a link."""
        return ProvisioningTrigger(self.composition.meeting_links_state_machine)

    @cached_property
    def payments(self) -> PaymentTimers:
        """The payment lifecycle (services/payments/timers.py); its warning goes through the pipeline."""
        c = self.composition
        return PaymentTimers(
            catalogue=c.catalogue,
            bookings=c.bookings,
            accounts=c.payment_accounts,
            gateway=c.stripe,
            refunds=c.refunds,
            timers=c.timers,
            messages=self.pipeline,
            clock=c.clock,
        )

    @cached_property
    def requests(self) -> RequestMessages:
        """Booking requests' messages and escalation timers, through the pipeline."""
        c = self.composition
        return RequestMessages(
            catalogue=c.catalogue,
            requests=c.requests,
            customers=c.customers,
            log=c.message_log,
            messages=self.pipeline,
            timers=c.timers,
            clock=c.clock,
        )

    @cached_property
    def committed_changes(self) -> CommittedChanges:
        """What the table's stream delivers, handed to its consumers in their order."""
        return CommittedChanges(
            books=self.books,
            meetings=self.meetings,
            messages=self.messages,
            requests=self.requests,
            payments=self.payments,
            login_codes=self.login_codes,
        )

    @cached_property
    def _series_sessions(self) -> SeriesSessions:
        c = self.composition
        return SeriesSessions(c.series, c.bookings)

    def _new_pipeline(self) -> MessagePipeline:
        """The message pipeline: claimed in the log, sent by SES and SNS, retried by the timers, SMS within
        the business's policy; booking messages' content with manage links and the invoices of the books."""
        c = self.composition
        settings = c.settings
        booking_content = BookingContent(
            catalogue=c.catalogue,
            bookings=c.bookings,
            sessions=self._series_sessions,
            tokens=c.manage_tokens,
            manage_base_url=settings.public_base_url,
            sender_email=settings.sender_email,
            clock=c.clock,
            invoice_pdf=self.books.document_for,
        )
        return MessagePipeline(
            log=c.message_log,
            email=c.email,
            sms=c.sms,
            retries=c.timers,
            policy=SmsPolicy(c.customers, c.sms_budget, c.rate_limiter, c.clock),
            families={
                "booking": booking_content,
                "request": RequestContent(c.catalogue, c.requests, settings.public_base_url),
            },
            clock=c.clock,
        )
