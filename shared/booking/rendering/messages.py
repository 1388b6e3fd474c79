"""Renders customer and staff messages from the Jinja2 templates in booking/templates (one per kind:
HTML and plain-text email, and a short SMS). Times are shown in the business's zone, never raw UTC; a
customer who gave their own zone sees it in theirs too (staff never do); money is formatted for the currency
by Babel."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal, get_args
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from booking.domain.booking import Booking, BookingStatus, Fee
from booking.domain.booking_requests import ServiceRequest
from booking.domain.catalogue import Business
from booking.rendering.times import (
    address_lines,
    clocks_differ,
    customer_zone,
    format_money,
    format_when,
    format_when_for,
    format_when_short,
    format_when_short_for,
    lead_time,
    when_row,
)

CustomerKind = Literal[
    "confirmation",
    "rescheduled",
    "cancellation",
    "reminder",
    "meeting_link",
    "series_confirmation",
    "receipt",
    "fee_due",
]
StaffKind = Literal[
    "staff_new",
    "staff_moved",
    "staff_cancelled",
    "staff_removed",
    "staff_meeting_link",
    "meeting_failed",
    "authorisation_lapsing",
]

_env = Environment(
    loader=PackageLoader("booking", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=False,
    keep_trailing_newline=False,
)


def _lines(value: object) -> Markup:
    """Text typed on several lines (an address) as HTML lines: each escaped, joined by <br>."""
    return Markup("<br>").join(str(value).splitlines())


_env.filters["lines"] = _lines


def compile_templates() -> None:
    """Compiles every template now rather than at the first message of each kind (before a snapshot)."""
    for name in _env.list_templates():
        _env.get_template(name)


_SUBJECTS: dict[str, str] = {
    "confirmation": "Booking confirmed: {services}, {when_short}",
    "rescheduled": "Booking moved: {services}, now {when_short}",
    "cancellation": "Booking cancelled: {services}, {when_short}",
    "reminder": "Reminder: {services}, {when_short}",
    "staff_new": "New booking: {customer}, {when_short}",
    "staff_moved": "Booking moved: {customer}, now {when_short}",
    "staff_cancelled": "Booking cancelled: {customer}, {when_short}",
    "staff_removed": "Booking reassigned away from you: {customer}, {when_short}",
    "staff_meeting_link": "Meeting link ready: {customer}, {when_short}",
    "meeting_link": "Your meeting link: {services}, {when_short}",
    "series_confirmation": "Sessions booked: {services}, from {when_short}",
    "receipt": "Receipt: {services}, {when_short}",
    "fee_due": "Payment due: missed appointment, {when_short}",
    "meeting_failed": "Meeting link not made: {customer}, {when_short}",
    "authorisation_lapsing": "Payment authorisation lapsing: {customer}, {when_short}",
}
_HEADLINES: dict[str, str] = {
    "staff_new": "you have a new booking",
    "staff_moved": "one of your bookings has moved",
    "staff_cancelled": "one of your bookings was cancelled",
    "staff_removed": "a booking was moved to a colleague",
    "staff_meeting_link": "the meeting link for one of your bookings is ready",
}


@dataclass(frozen=True)
class MessageContent:
    subject: str
    html: str
    text: str
    sms: str | None


def _context(
    booking: Booking, business: Business, staff_name: str | None, manage_url: str
) -> dict[str, object]:
    zone = ZoneInfo(business.time_zone)
    services = ", ".join(s.name for s in booking.services)
    return {
        "business": business,
        "customer_name": booking.customer.name,
        "customer_notes": booking.customer_notes,
        "staff_name": staff_name,
        "services": services,
        "services_short": services if len(services) <= 40 else services[:37] + "...",
        "when": format_when(booking.start, zone),
        "when_span": when_row(booking, zone),
        "when_short": format_when_short(booking.start, zone),
        # A job booked from a request happens at the customer's address (on its own lines).
        "where": address_lines(booking.job_address or "") or business.address or business.name,
        "job_address": address_lines(booking.job_address or "") if booking.delivery != "online" else "",
        "total": format_money(booking.gross_minor, booking.currency),
        "manage_url": manage_url,
        "previous_when": None,
        "reason": booking.cancellation_reason,
        "lead_time": "",
        "booking_id": booking.id,
        "link_changed": False,
        **_meeting_context(booking),
    }


def _meeting_context(booking: Booking) -> dict[str, object]:
    """An online booking's link, passcode and notes; or, while it has none, a promise that it will follow."""
    meeting = booking.meeting
    online = booking.delivery == "online"
    ready = online and meeting is not None and meeting.has_link
    context: dict[str, object] = {
        "online": online,
        "join_url": meeting.join_url if ready and meeting else None,
        "passcode": meeting.passcode if ready and meeting else None,
        "meeting_notes": meeting.notes if ready and meeting else "",
    }
    if online:  # an online booking has no address: it happens at its link
        context["where"] = "Online meeting" if ready else "Online (the link will follow)"
    return context


def _render(template: str, context: dict[str, object]) -> str:
    return _env.get_template(template).render(**context).strip()


# What happened to a no-show fee that was not taken, as the fee_due email says it.
_FEE_OUTCOMES = {
    "no_card": "no card was saved with your booking, so it could not be charged automatically",
    "declined": "the card you saved when booking was declined",
    "authentication_required": "your bank asked you to confirm the payment yourself",
    "below_minimum": "it is too small to be charged to a card automatically",
    "no_account": "it could not be charged automatically",
}


def _fee_failure(fee: Fee) -> str:
    """Why the fee was not taken; a fee recorded before the reason was (its words only) is read from them."""
    if fee.failure_kind is not None:
        return fee.failure_kind
    failure = fee.failure or ""
    if failure == "no card on file":
        return "no_card"
    return "authentication_required" if "authenticate" in failure else "declined"


def customer_message(
    kind: CustomerKind,
    booking: Booking,
    business: Business,
    *,
    staff_name: str | None,
    manage_url: str,
    previous: Booking | None = None,
    minutes_before: int | None = None,
    link_changed: bool = False,
    sessions: Sequence[Booking] = (),
    receipt: tuple[str, int] | None = None,
    template: str | None = None,
) -> MessageContent:
    """`sessions`: a series' bookings as they are now (its confirmation lists each with its own link);
    `template`: the kind's templates, as its declaration names them (services/messaging/kinds.py), by default
    the kind's own."""
    context = _context(booking, business, staff_name, manage_url) | {"link_changed": link_changed}
    zone = ZoneInfo(business.time_zone)
    elsewhere = customer_zone(booking, zone)
    context["when"] = format_when_for(booking.start, zone, elsewhere)
    context["when_span"] = when_row(booking, zone, elsewhere)
    context["when_short"] = format_when_short_for(booking.start, zone, elsewhere)
    # Both clocks inside a sentence ("on <when> has been cancelled") need the dash aside closed.
    context["when_aside"] = clocks_differ(booking.start, zone, elsewhere)
    context["previous_aside"] = False
    if previous is not None and previous.start != booking.start:
        context["previous_when"] = format_when_for(previous.start, zone, elsewhere)
        context["previous_aside"] = clocks_differ(previous.start, zone, elsewhere)
    if minutes_before is not None:
        context["lead_time"] = lead_time(minutes_before)
    context["sessions"] = [
        {"when": format_when_for(s.start, zone, elsewhere), **_meeting_context(s)} for s in _active(sessions)
    ]
    context["receipt_kind"] = receipt[0] if receipt else None
    context["receipt_amount"] = format_money(receipt[1], booking.currency) if receipt else None
    # A no-show fee the card on file did not pay: how much, and what happened (the email says it).
    due = next((fee for fee in reversed(booking.fees) if fee.status == "failed"), None)
    context["fee_amount"] = format_money(due.amount_minor, booking.currency) if due else None
    context["fee_outcome"] = _FEE_OUTCOMES[_fee_failure(due)] if due else ""
    subject = _SUBJECTS[kind].format(services=context["services_short"], when_short=context["when_short"])
    template = template or kind
    return MessageContent(
        subject=subject,
        html=_render(f"{template}.html", context | {"subject": subject}),
        text=_render(f"{template}.txt", context),
        sms=_render(f"{template}.sms", context),
    )


def _active(sessions: Sequence[Booking]) -> list[Booking]:
    return sorted((s for s in sessions if s.status is not BookingStatus.CANCELLED), key=lambda s: s.start)


def start_url(booking: Booking) -> str | None:
    """The link staff start the call by: the host link where the provider has one (only staff see it)."""
    meeting = booking.meeting
    if booking.delivery != "online" or meeting is None or not meeting.has_link:
        return None
    return meeting.host_url or meeting.join_url


def staff_message(
    kind: StaffKind,
    booking: Booking,
    business: Business,
    *,
    staff_name: str,
    previous: Booking | None = None,
    sessions: Sequence[Booking] = (),
    link_changed: bool = False,
    template: str | None = None,
) -> MessageContent:
    """`sessions`: a new series' bookings as they are now (listed with each one's host link); `template`: as
    the kind's declaration names it, by default the staff notice's (a kind of its own for a failed meeting
    link and a lapsing authorisation)."""
    context = _context(booking, business, staff_name, manage_url="")
    meeting = booking.meeting
    context["reason"] = meeting.reason if kind == "meeting_failed" and meeting else None
    context["start_url"] = start_url(booking)
    zone = ZoneInfo(business.time_zone)
    if previous is not None and previous.start != booking.start:
        context["previous_when"] = format_when(previous.start, zone)
    active = _active(sessions)
    context["sessions"] = [
        {
            "when": format_when(s.start, zone),
            "start_url": start_url(s),
            "failed": s.meeting is not None and s.meeting.status == "failed",
        }
        for s in active
    ]
    subject = _SUBJECTS[kind].format(customer=booking.customer.name, when_short=context["when_short"])
    headline = _HEADLINES.get(kind, "")
    if kind == "staff_new" and len(active) > 1:
        subject = f"New series: {booking.customer.name}, {len(active)} sessions from {context['when_short']}"
        headline = f"you have a new series of {len(active)} sessions"
    if kind == "staff_meeting_link" and link_changed:
        headline = "the meeting link for one of your bookings has changed"
    if kind == "authorisation_lapsing" and booking.payment is not None:
        # what the card holds, and when Stripe lets it go unless staff capture it first
        context["authorised"] = format_money(booking.payment.amount_minor, booking.currency)
        expires = booking.payment.authorisation_expires_at
        context["lapses_at"] = format_when(expires, zone) if expires is not None else None
    template = template or (kind if kind in ("meeting_failed", "authorisation_lapsing") else "staff_notice")
    context["headline"] = headline
    context["removes"] = kind in ("staff_cancelled", "staff_removed")
    return MessageContent(
        subject=subject,
        html=_render(f"{template}.html", context | {"subject": subject}),
        text=_render(f"{template}.txt", context),
        sms=None,
    )


def login_code_message(business: Business, code: str, expires_minutes: int) -> MessageContent:
    context = {"business": business, "code": code, "expires_minutes": expires_minutes}
    subject = f"{code} is your {business.name} sign-in code"
    return MessageContent(
        subject=subject,
        html=_render("login_code.html", context | {"subject": subject}),
        text=_render("login_code.txt", context),
        sms=None,
    )


# --- booking requests (services/messaging/requests.py) ---------------------------------------------------

RequestCustomerKind = Literal[
    "request_received", "request_under_review", "request_counter_proposal", "request_declined"
]
RequestStaffKind = Literal[
    "request_new", "request_counter_declined", "request_cancelled", "request_escalation"
]
RequestKind = RequestCustomerKind | RequestStaffKind
REQUEST_CUSTOMER_KINDS: frozenset[str] = frozenset(get_args(RequestCustomerKind))

_REQUEST_SUBJECTS: dict[str, str] = {
    "request_new": "New booking request: {what} from {customer}",
    "request_received": "Your request has been received: {what}",
    "request_under_review": "We're reviewing your request: {what}",
    "request_counter_proposal": "A time proposed for your request: {proposed_short}",
    "request_declined": "Your request could not be booked: {what}",
    "request_counter_declined": "Proposed time declined: {what} for {customer}",
    "request_cancelled": "Booking request cancelled: {what} from {customer}",
    "request_escalation": "Booking request waiting {hours} hours for an answer: {what} from {customer}",
}
_TIME_PREFERENCES = {"morning": "mornings", "afternoon": "afternoons", "flexible": "any time (flexible)"}


def _day(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def request_message(
    kind: RequestKind,
    request: ServiceRequest,
    business: Business,
    *,
    portal_url: str,
    staff_url: str = "",
    waited_hours: int | None = None,
    since_reply: bool = False,
    template: str | None = None,
) -> MessageContent:
    """A message about a booking request: to its customer (email and SMS: `request_received`...) or to the
    business and its dispatchers (email only: `request_new`...). Proposed times are shown in the business's
    zone, as a booking's are. `portal_url` is the request's page in the customer portal, `staff_url` in the
    staff app; `waited_hours`
    (an escalation) how long the request has waited, since it was submitted or, `since_reply`, since the
    customer declined the time proposed."""
    zone = ZoneInfo(business.time_zone)
    what = request.service_name or "free text"
    counter = next((r for r in reversed(request.responses) if r.kind == "counter_proposal"), None)
    declined = next((r for r in reversed(request.responses) if r.kind == "declined"), None)
    reply = next((r for r in reversed(request.replies) if not r.accepted), None)
    proposed = counter.start if counter is not None else None
    # The last answer a time proposed that the customer never replied to (withdrawn by their cancelling).
    last = len(request.responses) - 1
    pending = counter is not None and request.responses[last] is counter
    pending = pending and all(r.response != last for r in request.replies)
    customer = kind in REQUEST_CUSTOMER_KINDS
    context: dict[str, object] = {
        "business": business,
        "customer_name": request.customer.name,
        "customer_email": request.customer.email,
        "customer_phone": request.customer.phone,
        "request_id": request.id,
        "what": what,
        "what_short": what if len(what) <= 40 else what[:37] + "...",
        "service_name": request.service_name,
        "free_text": request.free_text,
        "preferred_dates": [_day(d) for d in request.preferred_dates],
        "time_preference": _TIME_PREFERENCES.get(request.time_preference, request.time_preference),
        "address": request.address,
        "notes": request.notes,
        "photos": len(request.photos),
        "state": request.state.value.replace("_", " "),
        "submitted": format_when(request.created_at, zone),
        "portal_url": portal_url,
        "staff_url": staff_url,
        "proposed_when": format_when(proposed, zone) if proposed is not None else None,
        "proposed_short": format_when_short(proposed, zone) if proposed is not None else "",
        "proposed_until": format_when(counter.end, zone) if counter is not None and counter.end else None,
        "held_until": (
            format_when(counter.hold_expires_at, zone)
            if counter is not None and counter.hold_expires_at is not None
            else None
        ),
        "held_until_short": (
            format_when_short(counter.hold_expires_at, zone)
            if counter is not None and counter.hold_expires_at is not None
            else None
        ),
        "proposal_message": counter.message if counter is not None else "",
        "decline_message": declined.message if declined is not None else "",
        "alternatives": declined.alternatives if declined is not None else "",
        "reply_message": reply.message if reply is not None else "",
        "waited_hours": waited_hours,
        "since_reply": since_reply,
        "pending_proposal": pending,
        "audience_staff": not customer,
    }
    subject = _REQUEST_SUBJECTS[kind].format(
        what=context["what_short"],
        customer=request.customer.name,
        proposed_short=context["proposed_short"],
        hours=waited_hours if waited_hours is not None else "",
    )
    template = template or kind
    return MessageContent(
        subject=subject,
        html=_render(f"{template}.html", context | {"subject": subject}),
        text=_render(f"{template}.txt", context),
        sms=_render(f"{template}.sms", context) if customer else None,
    )
