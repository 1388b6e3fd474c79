"""Public booking API: availability, booking, and the customer's manage link."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from aws_lambda_powertools.event_handler import Depends, Request, Response
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from booking.domain.booking import Actor
from booking.domain.errors import InvalidInput
from booking.domain.menu import Price
from booking.ports import Idempotency
from booking.services.availability import AvailabilityService
from booking.services.booking_engine import BookingView
from booking.services.bookings import BookingService
from booking.services.customers import CustomerService
from booking.services.manage_links import ManageLinkService
from booking.services.payments.checkout import Checkout, CheckoutView, PaymentStart
from booking.services.payments.pay_later import PayLater
from booking_api.cors import cors_headers, request_origin, respond
from booking_api.deps import (
    availability_service,
    bearer_token,
    booking_service,
    checkout_service,
    customer_service,
    idempotency,
    manage_link_service,
    pay_later,
    tenant_catalogue,
)
from booking_api.schemas.availability import AvailabilityOut
from booking_api.schemas.bookings import (
    BookingOut,
    CancelRequest,
    NewBooking,
    RescheduleRequest,
    SmsPreference,
)
from booking_api.schemas.payments import CheckoutOut, DuePaymentOut, RefundQuoteOut

router = APIGatewayRouter()

Bookings = Annotated[BookingService, Depends(booking_service)]
Slots = Annotated[AvailabilityService, Depends(availability_service)]
Links = Annotated[ManageLinkService, Depends(manage_link_service)]
Customers = Annotated[CustomerService, Depends(customer_service)]
Once = Annotated[Idempotency, Depends(idempotency)]
Checkouts = Annotated[Checkout, Depends(checkout_service)]
Later = Annotated[PayLater, Depends(pay_later)]
SlugParam = Annotated[str, Path(pattern=r"^[a-z0-9-]{1,50}$")]
BookingId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
ManageToken = Annotated[str | None, Query(max_length=200, description="the token from the manage link")]

AVAILABILITY = "/v1/public/businesses/<slug>/availability"
BOOKINGS = "/v1/public/businesses/<slug>/bookings"
BOOKING = "/v1/public/bookings/<booking_id>"
CANCEL = "/v1/public/bookings/<booking_id>/cancel"
RESCHEDULE = "/v1/public/bookings/<booking_id>/reschedule"
QUOTE = "/v1/public/bookings/<booking_id>/cancellation-quote"
PAYMENT = "/v1/public/bookings/<booking_id>/payment"
INVITE = "/v1/public/bookings/<booking_id>/invite.ics"
SMS_PREFERENCE = "/v1/public/bookings/<booking_id>/sms"


def _booking_response(
    view: BookingView, request: Request, status: int = 200, payment: PaymentStart | None = None
) -> Response[BookingOut]:
    catalogue = tenant_catalogue(view.booking.tenant_id)
    out = BookingOut.of(view.booking, catalogue, view, for_customer=True)
    if payment is not None:
        out = out.model_copy(update={"checkout": CheckoutOut.of(payment)})
    return respond(out, catalogue.business, request_origin(request), status)


@router.get(AVAILABILITY, tags=["public"])
def availability(
    slug: SlugParam,
    slots: Slots,
    bookings: Bookings,
    request: Request,
    services: Annotated[str, Query(min_length=1, max_length=200, description="service ids, comma-separated")],
    from_: Annotated[date, Query(alias="from")],
    to: Annotated[date, Query()],
    tz: Annotated[str, Query(max_length=64, description="IANA zone the times are shown in")] = "UTC",
    staff: Annotated[str, Query(max_length=64, description="a staff id or 'any'")] = "any",
) -> Response[AvailabilityOut]:
    """Bookable start times by date, each with the staff free for the whole appointment (31 days max)."""
    service_ids = [s for s in services.split(",") if s]
    result = slots.availability(slug, service_ids, staff, from_, to, tz)
    business = bookings.public_business(slug)
    return respond(AvailabilityOut.of(result), business, request_origin(request))


@router.post(BOOKINGS, tags=["public"], responses={201: {"description": "Booked"}})
def create_booking(
    slug: SlugParam,
    booking: NewBooking,
    bookings: Bookings,
    checkout: Checkouts,
    customers: Customers,
    once: Once,
    request: Request,
    idempotency_key: Annotated[
        str,
        Header(alias="Idempotency-Key", min_length=8, max_length=255, description="one per booking attempt"),
    ],
) -> Response[BookingOut]:
    """Books a free slot. Retrying with the same Idempotency-Key returns the original booking.

    A service paid at booking (in full, a deposit, or a card kept on file) is booked awaiting payment: the
    answer's `checkout` carries what Stripe's Payment Element needs, the time is held until
    `checkout.expires_at`, and the booking is confirmed when Stripe tells us the payment succeeded.
    Booked in a 'login as client' session (its bearer token sent), it is recorded on behalf of the owner
    or admin acting as the customer."""
    made: list[CheckoutView] = []
    acting = _acting_user(customers, bookings, request, slug)

    def book() -> dict[str, str]:
        made.append(checkout.book(slug, booking.to_domain(), on_behalf_of=acting))
        return {"booking_id": made[0].view.booking.id, "slug": slug}

    result = once.run(
        scope=f"public-booking:{slug}",
        key=idempotency_key,
        payload=booking.model_dump(mode="json"),
        action=book,
    )
    # A retry replays the stored result: only then is the booking (and its payment) read back.
    if made:
        return _booking_response(made[0].view, request, status=201, payment=made[0].payment)
    view = bookings.booking_for_business(slug, result["booking_id"])
    return _booking_response(view, request, status=201, payment=checkout.resume(view.booking))


@router.get(BOOKING, tags=["public: manage"])
def view_booking(
    booking_id: BookingId, links: Links, checkout: Checkouts, request: Request, token: ManageToken = None
) -> Response[BookingOut]:
    """The booking behind a manage link (with `checkout` while it still awaits its payment)."""
    view = links.view(booking_id, token)
    return _booking_response(view, request, payment=checkout.resume(view.booking))


@router.post(CANCEL, tags=["public: manage"])
def cancel_booking(
    booking_id: BookingId,
    body: CancelRequest,
    links: Links,
    customers: Customers,
    request: Request,
    token: ManageToken = None,
) -> Response[BookingOut]:
    """Cancels, until the business's cutoff before the start."""
    actor = _session_actor(customers, links, request, booking_id, token)
    return _booking_response(links.cancel(booking_id, token, body.reason, actor), request)


@router.get(QUOTE, tags=["public: manage"])
def cancellation_quote(
    booking_id: BookingId, links: Links, request: Request, token: ManageToken = None
) -> Response[RefundQuoteOut]:
    """The refund cancelling now would give (shown before the customer confirms); the cancellation then
    refunds exactly this, automatically."""
    quote = links.refund_quote(booking_id, token)
    business = links.business(booking_id, token)
    out = RefundQuoteOut(
        refund=Price(amount_minor=quote.amount_minor, currency=business.currency),
        percent=quote.percent,
        refundable=Price(amount_minor=quote.refundable_minor, currency=business.currency),
        notice_hours=quote.notice_hours,
    )
    return respond(out, business, request_origin(request))


@router.post(PAYMENT, tags=["public: manage"])
def pay_what_is_owed(
    booking_id: BookingId, links: Links, later: Later, request: Request, token: ManageToken = None
) -> Response[DuePaymentOut]:
    """Pays later what is owed: a booking made with "skip payment", or a no-show fee the card on file
    could not be charged. Answers what the Payment Element needs; Stripe's webhook records the payment.
    409 when nothing is owed or the booking was cancelled."""
    due = later.start(booking_id, token)
    out = DuePaymentOut(
        purpose=due.purpose,
        client_secret=due.client_secret,
        publishable_key=due.publishable_key,
        amount=Price(amount_minor=due.amount_minor, currency=due.currency),
    )
    return respond(out, links.business(booking_id, token), request_origin(request))


@router.post(RESCHEDULE, tags=["public: manage"])
def reschedule_booking(
    booking_id: BookingId,
    body: RescheduleRequest,
    links: Links,
    customers: Customers,
    request: Request,
    token: ManageToken = None,
) -> Response[BookingOut]:
    """Moves the booking to another free slot (same booking id; the history records the move)."""
    if body.allow_outside_shift:
        raise InvalidInput("customers book within opening times", [])
    actor = _session_actor(customers, links, request, booking_id, token)
    return _booking_response(links.reschedule(booking_id, token, body.start, body.staff, actor), request)


def _acting_user(
    customers: CustomerService, bookings: BookingService, request: Request, slug: str
) -> str | None:
    """The owner or admin behind a 'login as client' session the caller sent for this business (a bearer
    that is no session is refused: a booking made as someone must not be recorded as the customer's own)."""
    bearer = bearer_token(request)
    if not bearer:
        return None
    session = customers.session(bearer)
    return session.acting_user if session.tenant_id == bookings.public_business(slug).id else None


def _session_actor(
    customers: CustomerService, links: ManageLinkService, request: Request, booking_id: str, token: str | None
) -> Actor | None:
    """When the portal calls with the customer's own session (possibly 'login as client'), record who acted.
    A session of another customer or business is ignored: the manage link is what authorises the change."""
    bearer = bearer_token(request)
    if not bearer:
        return None
    session = customers.session(bearer)
    booking = links.view(booking_id, token).booking
    if (session.tenant_id, session.email) != (booking.tenant_id, booking.customer.email.lower()):
        return None
    return session.actor


@router.get(
    INVITE,
    tags=["public: manage"],
    responses={200: {"description": "The invite", "content": {"text/calendar": {}}}},
)
def download_invite(
    booking_id: BookingId, links: Links, request: Request, token: ManageToken = None
) -> Response[str]:
    """The booking's calendar invite (.ics); METHOD:CANCEL once the booking is cancelled."""
    business = links.business(booking_id, token)
    return Response(
        status_code=200,
        content_type="text/calendar; charset=utf-8",
        body=links.invite(booking_id, token).decode(),
        headers={
            **cors_headers(business, request_origin(request)),
            "Content-Disposition": f'attachment; filename="booking-{booking_id}.ics"',
        },
    )


@router.put(SMS_PREFERENCE, tags=["public: manage"])
def set_sms_preference(
    booking_id: BookingId,
    body: SmsPreference,
    links: Links,
    request: Request,
    token: ManageToken = None,
) -> Response[dict[str, bool]]:
    """Stops (enabled: false) or resumes text messages for this customer; email continues either way."""
    business = links.business(booking_id, token)
    links.sms_opt_out(booking_id, token, opted_out=not body.enabled)
    return respond({"sms_enabled": body.enabled}, business, request_origin(request))
