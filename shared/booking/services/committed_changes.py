"""What a committed change sets going: the booking table's stream delivers each change (a booking, a booking
request, a customer's request for a sign-in code) once it is committed, and the reminders function hands it
here (functions/reminders/reminders/handler.py).

A booking's change reaches its consumers in this order, and the order matters:

1. the books (services/payments/bookkeeping.py): the invoice, credit note and journal lines the change
   makes due. First, so that a receipt sent below attaches the invoice issued here;
2. the meeting (services/meetings.py ProvisioningTrigger): the meeting-links state machine starts at once,
   and the confirmation may wait for the link it makes;
3. the messages (services/messaging/bookings.py): confirmations, reschedule and cancellation messages,
   staff notices, and the reminders' schedules;
4. booking requests (services/messaging/requests.py): a completed job may onboard its customer for
   booking requests (idempotent);
5. the payments (services/payments/timers.py): payment timers set, an authorisation released or an unpaid
   intent cancelled. Last, because Stripe may be down: the change then fails and is delivered again, and
   everything above is idempotent (the messages are claimed already, so they go out once).
"""

from __future__ import annotations

from dataclasses import dataclass

from booking.domain.booking import Booking
from booking.domain.booking_requests import ServiceRequest
from booking.services.meetings import ProvisioningTrigger
from booking.services.messaging.bookings import BookingMessages
from booking.services.messaging.requests import RequestMessages
from booking.services.payments.bookkeeping import Bookkeeping
from booking.services.payments.timers import PaymentTimers
from booking.services.sign_in import LoginCodeIssuer


@dataclass(frozen=True)
class CommittedChanges:
    """The consumers of committed changes, in the order a booking's change reaches them (see above)."""

    books: Bookkeeping
    meetings: ProvisioningTrigger
    messages: BookingMessages
    requests: RequestMessages
    payments: PaymentTimers
    login_codes: LoginCodeIssuer

    def booking_changed(self, old: Booking | None, new: Booking) -> None:
        # The books first: a receipt sent below attaches the invoice issued here.
        self.books.booking_changed(old, new)
        # The meeting next: its state machine starts at once, and the confirmation may wait for it.
        self.meetings.booking_changed(old, new)
        self.messages.booking_changed(old, new)
        # A completed job may onboard its customer for booking requests (idempotent).
        self.requests.booking_changed(old, new)
        # Last: Stripe may be down, and the change is then delivered again (the messages above are
        # claimed already, so they go out once).
        self.payments.booking_changed(old, new)

    def request_changed(self, old: ServiceRequest | None, new: ServiceRequest) -> None:
        """A booking request's change: the business and the customer told of it."""
        self.requests.request_changed(old, new)

    def login_code_requested(self, tenant_id: str, email: str, request_id: str) -> None:
        """A customer asked the API for a sign-in code: issued and mailed, only to a customer of the
        business."""
        self.login_codes.issue_code(tenant_id, email, request_id)
