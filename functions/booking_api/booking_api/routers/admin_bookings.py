"""Admin and staff API for the diary: calendar, booking on behalf of clients, booking detail, moving,
reassigning, cancelling, the lifecycle, notes; and customers (history, block, login as client)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from aws_lambda_powertools.event_handler import Depends, Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import TypeAdapter, ValidationError

from booking.domain.access import Principal
from booking.domain.booking import BookingStatus
from booking.domain.errors import FieldProblem, InvalidInput
from booking.domain.types import Email
from booking.services.booking_engine import BookingView
from booking.services.bookings import BookingService
from booking.services.customers import CustomerService
from booking.services.meetings import MeetingAdmin
from booking.services.payments.staff import StaffPayments
from booking_api.deps import (
    booking_service,
    customer_service,
    meeting_admin,
    principal,
    staff_payments,
    tenant_catalogue,
)
from booking_api.openapi import ADMIN_SECURITY
from booking_api.schemas.bookings import (
    AdminBookingOut,
    AdminCancelRequest,
    DiaryEntryOut,
    NewBookingForClient,
    NoteOut,
    NoteRequest,
    ReassignRequest,
    RescheduleRequest,
    StatusChange,
)
from booking_api.schemas.customers import (
    BlockRequest,
    ClientHistoryOut,
    CustomerProfile,
    ImpersonationOut,
    OnboardingUpdate,
)
from booking_api.schemas.meetings import MeetingLinkUpdate
from booking_api.schemas.payments import CreditRefundRequest, OfflinePaymentRequest

router = APIGatewayRouter()

Caller = Annotated[Principal, Depends(principal)]
Bookings = Annotated[BookingService, Depends(booking_service)]
Customers = Annotated[CustomerService, Depends(customer_service)]
Meetings = Annotated[MeetingAdmin, Depends(meeting_admin)]
Payments = Annotated[StaffPayments, Depends(staff_payments)]
BookingId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
CustomerEmail = Annotated[str, Path(max_length=254)]
TAGS = ["admin: diary"]
_EMAIL: TypeAdapter[str] = TypeAdapter(Email)
CUSTOMER_TAGS = ["admin: customers"]


def _detail(bookings: BookingService, caller: Principal, view: BookingView) -> AdminBookingOut:
    return AdminBookingOut.detail(
        bookings.detail(caller, view.booking.id), tenant_catalogue(caller.tenant_id)
    )


@router.get("/v1/admin/calendar", tags=TAGS, security=ADMIN_SECURITY)
def calendar(
    caller: Caller,
    bookings: Bookings,
    from_: Annotated[date, Query(alias="from")],
    to: Annotated[date, Query()],
    staff: Annotated[str | None, Query(max_length=64)] = None,
) -> list[DiaryEntryOut]:
    """Bookings by date range (business-local dates), optionally one staff member's. Staff get their own."""
    catalogue = tenant_catalogue(caller.tenant_id)
    return [DiaryEntryOut.of(e, catalogue) for e in bookings.calendar(caller, from_, to, staff)]


@router.post(
    "/v1/admin/bookings", tags=TAGS, security=ADMIN_SECURITY, responses={201: {"description": "Booked"}}
)
def book_for_client(
    body: NewBookingForClient, caller: Caller, bookings: Bookings
) -> Response[AdminBookingOut]:
    """Books on behalf of a client. `allow_outside_shift` lets it lie outside shifts, never over a booking."""
    view = bookings.book_for_client(caller, body.to_domain())
    return Response(
        status_code=201,
        content_type="application/json",
        body=_detail(bookings, caller, view),
        headers={"Location": f"/v1/admin/bookings/{view.booking.id}"},
    )


@router.get("/v1/admin/bookings/<booking_id>", tags=TAGS, security=ADMIN_SECURITY)
def booking_detail(booking_id: BookingId, caller: Caller, bookings: Bookings) -> AdminBookingOut:
    """Customer, services, price, staff, payment status, customer and staff notes, and history."""
    return AdminBookingOut.detail(bookings.detail(caller, booking_id), tenant_catalogue(caller.tenant_id))


@router.post("/v1/admin/bookings/<booking_id>/reschedule", tags=TAGS, security=ADMIN_SECURITY)
def reschedule(
    booking_id: BookingId, body: RescheduleRequest, caller: Caller, bookings: Bookings
) -> AdminBookingOut:
    """Moves the booking to another time (and staff member); outside shifts only when asked for."""
    view = bookings.reschedule(caller, booking_id, body.start, body.staff, body.allow_outside_shift)
    return _detail(bookings, caller, view)


@router.post("/v1/admin/bookings/<booking_id>/reassign", tags=TAGS, security=ADMIN_SECURITY)
def reassign(
    booking_id: BookingId, body: ReassignRequest, caller: Caller, bookings: Bookings
) -> AdminBookingOut:
    """Moves the booking to another qualified staff member who is free at the same time."""
    return _detail(bookings, caller, bookings.reassign(caller, booking_id, body.staff_id))


@router.post("/v1/admin/bookings/<booking_id>/cancel", tags=TAGS, security=ADMIN_SECURITY)
def cancel(
    booking_id: BookingId, body: AdminCancelRequest, caller: Caller, bookings: Bookings
) -> AdminBookingOut:
    """Cancels; a paid booking is refunded as chosen: the cancellation policy's refund (default), all
    that was captured, a custom amount (never more than what is left), or nothing."""
    view = bookings.cancel(caller, booking_id, body.reason, body.refund, body.refund_amount_minor)
    return _detail(bookings, caller, view)


@router.post("/v1/admin/bookings/<booking_id>/status", tags=TAGS, security=ADMIN_SECURITY)
def change_status(
    booking_id: BookingId, body: StatusChange, caller: Caller, bookings: Bookings
) -> AdminBookingOut:
    """Confirm, start, complete, or mark a no-show. Illegal transitions are 409."""
    return _detail(bookings, caller, bookings.change_status(caller, booking_id, BookingStatus(body.status)))


@router.post("/v1/admin/bookings/<booking_id>/revoke-links", tags=TAGS, security=ADMIN_SECURITY)
def revoke_links(booking_id: BookingId, caller: Caller, bookings: Bookings) -> AdminBookingOut:
    """Every manage link sent for this booking stops working (owners and admins); the answer carries the
    new one, and every later message too. Links otherwise expire 30 days after the appointment."""
    return _detail(bookings, caller, bookings.revoke_links(caller, booking_id))


@router.put("/v1/admin/bookings/<booking_id>/meeting", tags=TAGS, security=ADMIN_SECURITY)
def set_meeting_link(
    booking_id: BookingId, body: MeetingLinkUpdate, caller: Caller, bookings: Bookings, meetings: Meetings
) -> AdminBookingOut:
    """Sets or replaces an online booking's meeting link, passcode and notes (owners, admins, and the
    booking's own staff member). With `notify_customer` the customer gets the link by email and SMS,
    with an updated invite, recorded in the communications log."""
    return _detail(bookings, caller, meetings.set_link(caller, booking_id, body.to_domain()))


@router.post("/v1/admin/bookings/<booking_id>/payment/capture", tags=TAGS, security=ADMIN_SECURITY)
def capture_payment(
    booking_id: BookingId, caller: Caller, bookings: Bookings, payments: Payments
) -> AdminBookingOut:
    """Staff confirm the payment: the card authorised at booking is charged (within the authorisation's
    7 days; `payment.authorisation_expires_at` in the detail says when it lapses)."""
    return _detail(bookings, caller, payments.capture(caller, booking_id))


@router.post("/v1/admin/bookings/<booking_id>/payment/offline", tags=TAGS, security=ADMIN_SECURITY)
def record_offline_payment(
    booking_id: BookingId, body: OfflinePaymentRequest, caller: Caller, bookings: Bookings, payments: Payments
) -> AdminBookingOut:
    """Records a payment taken outside Stripe (cash, a card terminal, a bank transfer)."""
    return _detail(bookings, caller, payments.record_offline(caller, booking_id, body.to_domain()))


@router.post("/v1/admin/bookings/<booking_id>/payment/refund-credit", tags=TAGS, security=ADMIN_SECURITY)
def refund_credit(
    booking_id: BookingId, body: CreditRefundRequest, caller: Caller, bookings: Bookings, payments: Payments
) -> AdminBookingOut:
    """Gives back the customer's credit (`balance_minor` below 0: they paid more than the booking bills),
    all of it by default: to their card through Stripe, or recorded as handed back at the desk."""
    return _detail(bookings, caller, payments.refund_credit(caller, booking_id, body.to_domain()))


@router.post(
    "/v1/admin/bookings/<booking_id>/notes",
    tags=TAGS,
    security=ADMIN_SECURITY,
    responses={201: {"description": "Added"}},
)
def add_note(
    booking_id: BookingId, body: NoteRequest, caller: Caller, bookings: Bookings
) -> Response[NoteOut]:
    """Internal notes, session notes, or a follow-up to record."""
    note = bookings.add_note(caller, booking_id, body.kind, body.text)
    return Response(status_code=201, content_type="application/json", body=NoteOut.of(note))


# --- customers ----------------------------------------------------------------------------------------


@router.get("/v1/admin/customers/<email>", tags=CUSTOMER_TAGS, security=ADMIN_SECURITY)
def client_history(email: CustomerEmail, caller: Caller, customers: Customers) -> ClientHistoryOut:
    """Profile, every booking, notes and follow-ups, and audit entries (blocks, logins as client)."""
    return ClientHistoryOut.of(customers.history(caller, email), tenant_catalogue(caller.tenant_id))


@router.post("/v1/admin/customers/<email>/block", tags=CUSTOMER_TAGS, security=ADMIN_SECURITY)
def block(email: CustomerEmail, body: BlockRequest, caller: Caller, customers: Customers) -> CustomerProfile:
    """Blocks the customer from booking online (e.g. after no-shows)."""
    return customers.set_blocked(caller, email, True, body.reason or None)


@router.put("/v1/admin/customers/<email>/onboarding", tags=CUSTOMER_TAGS, security=ADMIN_SECURITY)
def onboard(
    email: CustomerEmail, body: OnboardingUpdate, caller: Caller, customers: Customers
) -> CustomerProfile:
    """Onboards a customer for booking requests (creating them if they never booked online): name, phone,
    the address on file, and `onboarded`. Owners, admins and dispatchers."""
    try:
        checked = _EMAIL.validate_python(email)
    except ValidationError:
        raise InvalidInput(
            "not an email address", [FieldProblem(("path", "email"), "not an email address")]
        ) from None
    return customers.set_onboarding(caller, checked, body)


@router.post("/v1/admin/customers/<email>/unblock", tags=CUSTOMER_TAGS, security=ADMIN_SECURITY)
def unblock(email: CustomerEmail, caller: Caller, customers: Customers) -> CustomerProfile:
    """Lets a blocked customer book online again (owners and admins)."""
    return customers.set_blocked(caller, email, False, None)


@router.post("/v1/admin/customers/<email>/impersonate", tags=CUSTOMER_TAGS, security=ADMIN_SECURITY)
def login_as_client(email: CustomerEmail, caller: Caller, customers: Customers) -> ImpersonationOut:
    """'Login as client': a one-hour customer session to see what the client sees; recorded on the client."""
    return ImpersonationOut(
        token=customers.impersonate(caller, email),
        customer_email=email.lower(),
        note="use as 'Authorization: Bearer <token>' on /v1/public/businesses/{slug}/customers/me",
    )
