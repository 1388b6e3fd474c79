"""Booking requests' messages and the escalation of unanswered requests, end to end on the embedded AWS: the
requests are written through their repository as the request use cases write them (each change one save on
the version read, with its history entry), the table's stream is delivered to the real reminders handler by
the local dispatcher, and the escalation timers are EventBridge Scheduler schedules the dispatcher fires on a
dev clock of the test's own (as `make dev` runs them). What SES and SNS received is read back through the
local outbox; each request's communications log through the message log, under the request's id.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from booking.adapters.dynamodb.booking_requests import DynamoRequestRepository
from booking.adapters.dynamodb.bookings import DynamoBookingRepository
from booking.adapters.dynamodb.customers import DynamoCustomerRepository
from booking.adapters.dynamodb.messages import DynamoMessageLog
from booking.adapters.scheduler import whole_second
from booking.adapters.system import SystemClock, UlidGenerator
from booking.domain.booking import Actor, BookedService, Booking, BookingStatus, CustomerDetails, HistoryEntry
from booking.domain.booking_requests import (
    BusinessResponse,
    CustomerReply,
    RequestCustomer,
    RequestHistoryEntry,
    RequestState,
    ServiceRequest,
)
from booking.domain.communications import MessageRecord, MessageRequest
from booking.rendering.times import format_when, format_when_short
from booking.services.messaging.requests import Escalation
from local.clock import DevClock
from local.dispatcher import Dispatcher
from tests.support.lambda_api import LambdaApi
from tests.support.notification_fixtures import (
    Customer,
    MakeTenant,
    Salon,
    at_expression,
    build_salon,
    emails,
    new_customer,
    texts,
)
from tests.support.notification_wiring import Notifications, context

CONTACT = "hello@serenity.example"  # build_salon's contact address
DISPATCHERS = ("dispatch-north@plumbing.example", "dispatch-south@plumbing.example")
NEW = "New booking request: "
RECEIVED = "Your request has been received"
REVIEWING = "We're reviewing your request"
PROPOSED = "A time proposed for your request"
DECLINED = "Your request could not be booked"
COUNTER_DECLINED = "Proposed time declined"
CANCELLED = "Booking request cancelled"
WAITING = "Booking request waiting"
BUSINESS = Actor(kind="dispatcher", id="dispatcher-1")


@pytest.fixture(scope="module")
def contractor(api: LambdaApi, make_tenant: MakeTenant) -> Salon:
    """A plumber taking booking requests, with two dispatchers; a reminder after 48 hours, three at most."""
    return build_salon(
        api,
        make_tenant,
        name="Mill Lane Plumbing",
        booking_window_days=365,
        booking_requests={"enabled": True, "dispatcher_emails": list(DISPATCHERS)},
    )


@pytest.fixture(scope="module")
def solo(api: LambdaApi, make_tenant: MakeTenant) -> Salon:
    """No dispatchers (its contact address hears of everything), one reminder a day at most once, and
    customers onboarded by their first completed job."""
    return build_salon(
        api,
        make_tenant,
        name="Solo Electrics",
        booking_window_days=365,
        booking_requests={
            "enabled": True,
            "escalation_hours": 24,
            "max_escalations": 1,
            "onboard_after_first_job": True,
        },
    )


@dataclass
class Desk:
    """The request side as the use cases write it, and the reminders function on a dev clock: `run`
    delivers the stream and fires every timer now due."""

    notifications: Notifications
    clock: DevClock
    dispatcher: Dispatcher
    repo: DynamoRequestRepository
    log: DynamoMessageLog
    seen: set[str] = field(default_factory=set)

    def run(self) -> list[dict[str, Any]]:
        """Delivers what is due; returns the messages sent since the last run, newest first."""
        self.dispatcher.run_once()
        fresh = [m for m in self.notifications.sent() if m["id"] not in self.seen]
        self.seen |= {m["id"] for m in fresh}
        return fresh

    def submit(
        self,
        salon: Salon,
        customer: Customer,
        service: str | None = "Boiler service",
        free_text: str | None = None,
    ) -> ServiceRequest:
        now = self.clock.now()
        request = ServiceRequest(
            id=UlidGenerator().new_id(),
            tenant_id=salon.tenant.id,
            state=RequestState.SUBMITTED,
            customer=RequestCustomer(name=customer.name, email=customer.email, phone=customer.phone),
            service_name=service,
            free_text=free_text,
            preferred_dates=[salon.day(3), salon.day(4)],
            time_preference="morning",
            address="12 Mill Lane\nBath BA1 1AA",
            notes="Water under the kitchen sink",
            created_at=now,
            updated_at=now,
        )
        entry = RequestHistoryEntry(
            at=now, actor=self._customer(request), action="submitted", to_state=RequestState.SUBMITTED
        )
        self.repo.save(request, None, entry)
        return request

    def move(
        self, request: ServiceRequest, action: str, target: RequestState, by: str = "business", **updates: Any
    ) -> ServiceRequest:
        """One change, saved on the version read, as BookingRequests._change saves it."""
        now = self.clock.now()
        changed = request.model_copy(
            update={**updates, "state": target, "updated_at": now, "version": request.version + 1}
        )
        actor = BUSINESS if by == "business" else self._customer(request)
        entry = RequestHistoryEntry(
            at=now, actor=actor, action=action, from_state=request.state, to_state=target
        )
        self.repo.save(changed, request, entry)
        return changed

    def review(self, request: ServiceRequest) -> ServiceRequest:
        return self.move(request, "under_review", RequestState.UNDER_REVIEW)

    def counter(self, request: ServiceRequest, salon: Salon, days: int) -> ServiceRequest:
        """A full day proposed, held for the customer for 48 hours."""
        now = self.clock.now()
        proposal = BusinessResponse(
            kind="counter_proposal",
            at=now,
            by=BUSINESS,
            message="We can do a full day on this date",
            staff_id=salon.staff_id,
            start=salon.at(salon.day(days), "08:00"),
            end=salon.at(salon.day(days), "17:00"),
            booking_id=f"{request.id}-r{request.version}",
            hold_expires_at=now + timedelta(hours=48),
        )
        return self.move(
            request,
            "counter_proposal",
            RequestState.COUNTER_PROPOSED,
            responses=[*request.responses, proposal],
        )

    def decline_counter(self, request: ServiceRequest, message: str) -> ServiceRequest:
        reply = CustomerReply(
            response=len(request.responses) - 1, accepted=False, at=self.clock.now(), message=message
        )
        return self.move(
            request,
            "counter_declined",
            RequestState.UNDER_REVIEW,
            by="customer",
            replies=[*request.replies, reply],
        )

    def decline(self, request: ServiceRequest, message: str, alternatives: str) -> ServiceRequest:
        answer = BusinessResponse(
            kind="declined", at=self.clock.now(), by=BUSINESS, message=message, alternatives=alternatives
        )
        return self.move(request, "declined", RequestState.DECLINED, responses=[*request.responses, answer])

    def accept(self, request: ServiceRequest, salon: Salon) -> ServiceRequest:
        start = salon.at(salon.day(6), "08:00")
        booking_id = f"{request.id}-r{request.version}"
        answer = BusinessResponse(
            kind="accepted",
            at=self.clock.now(),
            by=BUSINESS,
            staff_id=salon.staff_id,
            start=start,
            end=start + timedelta(hours=4),
            booking_id=booking_id,
        )
        return self.move(
            request,
            "accepted",
            RequestState.CONFIRMED,
            responses=[*request.responses, answer],
            booking_id=booking_id,
        )

    def cancel(self, request: ServiceRequest) -> ServiceRequest:
        return self.move(request, "cancelled", RequestState.CANCELLED, by="customer")

    def current(self, request: ServiceRequest) -> tuple[ServiceRequest, list[RequestHistoryEntry]]:
        found = self.repo.get(request.tenant_id, request.id)
        assert found is not None
        return found

    def communications(self, request: ServiceRequest) -> list[MessageRecord]:
        return self.log.records(request.tenant_id, request.id)

    def timers(self, request: ServiceRequest) -> dict[str, dict[str, Any]]:
        scheduler, group = self.notifications.scheduler, self.notifications.resources.schedule_group
        names = [n for n in self.notifications.schedule_names() if n.startswith(f"req-esc-{request.id}-")]
        return {name: scheduler.get_schedule(Name=name, GroupName=group) for name in names}

    @staticmethod
    def _customer(request: ServiceRequest) -> Actor:
        return Actor(kind="customer", id=request.customer.email)


@pytest.fixture
def desk(notifications: Notifications, tmp_path: Path) -> Iterator[Desk]:
    from reminders.container import Reminders

    clock = DevClock(tmp_path)
    aws, resources = notifications.aws, notifications.resources
    dispatcher = Dispatcher(
        aws, resources.table_name, resources.schedule_group, clock, notifications.handler.lambda_handler
    )
    dispatcher.skip_to_latest()
    notifications.handler.install(
        Reminders(messages=Reminders(clock=clock).messages, requests=Reminders(clock=clock).requests)
    )
    dynamodb = aws.client("dynamodb")
    yield Desk(
        notifications,
        clock,
        dispatcher,
        DynamoRequestRepository(dynamodb, resources.table_name),
        DynamoMessageLog(dynamodb, resources.table_name),
    )
    dispatcher.close()
    notifications.handler.install(notifications.default)


def subjects(sent: list[dict[str, Any]], to: str, prefix: str) -> list[str]:
    return [m["subject"] for m in emails(sent, to) if m["subject"].startswith(prefix)]


def reminders_of(sent: list[dict[str, Any]], to: str, request: ServiceRequest) -> list[str]:
    """The dispatcher's reminders about this request (other tests' requests share the dispatchers, and
    their timers fire on the same clock)."""
    return [
        m["subject"] for m in emails(sent, to) if m["subject"].startswith(WAITING) and request.id in m["text"]
    ]


def portal(desk: Desk, salon: Salon, request: ServiceRequest) -> str:
    return f"{desk.notifications.resources.public_base_url}/requests/{request.id}?business={salon.slug}"


def staff(desk: Desk, request: ServiceRequest) -> str:
    """The request in the staff app, on the same base as the portal's and the manage links."""
    return f"{desk.notifications.resources.public_base_url}/staff/requests/{request.id}"


def logged(desk: Desk, request: ServiceRequest, kind: str, channel: str) -> list[MessageRecord]:
    return [r for r in desk.communications(request) if r.kind == kind and r.channel == channel]


# --- a new request ----------------------------------------------------------------------------------------


def test_the_business_and_every_dispatcher_hear_of_a_new_request_and_the_customer_is_acknowledged(
    desk: Desk, contractor: Salon
) -> None:
    customer = new_customer()
    request = desk.submit(contractor, customer)
    sent = desk.run()

    for to in (CONTACT, *DISPATCHERS):
        [notice] = [m for m in emails(sent, to) if m["subject"].startswith(NEW)]
        assert notice["subject"] == "New booking request: Boiler service from Ada Lovelace"
        assert "12 Mill Lane, Bath BA1 1AA" in notice["text"]
        assert "Water under the kitchen sink" in notice["text"]
        assert customer.email in notice["text"]
        day = contractor.day(3)
        assert f"{day:%A} {day.day} {day:%B %Y}" in notice["text"]
        assert "mornings" in notice["text"]
        # a link to the request in the staff app, not an API call to type out
        to_do = "Review it, then accept it, propose another time or decline it"
        assert f"{to_do}: {staff(desk, request)}\n" in notice["text"]
        assert f'<a href="{staff(desk, request)}">Open the request</a>' in notice["html"]
        assert "GET /v1" not in notice["text"] + notice["html"]
    [ack] = emails(sent, customer.email)
    assert ack["subject"] == f"{RECEIVED}: Boiler service"
    assert portal(desk, contractor, request) in ack["text"]
    assert f'href="{portal(desk, contractor, request)}"' in ack["html"]
    [text] = texts(sent, customer.phone)
    assert "Mill Lane Plumbing" in text["text"] and portal(desk, contractor, request) in text["text"]

    # the request's communications log: each message, under the request's id, sent
    log = desk.communications(request)
    notices = [r for r in log if r.kind == "request_new"]
    assert sorted(r.recipient or "" for r in notices) == sorted([CONTACT, *DISPATCHERS])
    assert all(r.status == "sent" and r.audience == "staff" for r in notices)
    assert [(r.channel, r.status) for r in log if r.kind == "request_received"] == [
        ("email", "sent"),
        ("sms", "sent"),
    ]

    # the escalation timer: 48 hours after submission, deleted once it fires
    [timer] = desk.timers(request).values()
    assert timer["Name"] == f"req-esc-{request.id}-1"
    assert timer["ScheduleExpression"] == at_expression(
        whole_second(request.created_at + timedelta(hours=48))
    )
    assert timer["ActionAfterCompletion"] == "DELETE"
    payload = json.loads(timer["Target"]["Input"])
    assert payload == {
        "type": "request_escalation",
        "tenant_id": contractor.tenant.id,
        "request_id": request.id,
        "n": 1,
        "round": 0,
    }
    [entry] = logged(desk, request, "request_escalation", "schedule")
    assert entry.status == "scheduled"

    # the same change delivered again sends nothing twice
    desk.notifications.handler.services().requests.request_changed(None, request)
    assert desk.run() == []
    assert len(desk.communications(request)) == len(log)


def test_a_request_in_free_text_from_a_customer_without_a_phone_gets_email_only(
    desk: Desk, contractor: Salon
) -> None:
    customer = new_customer(phone=False)
    request = desk.submit(contractor, customer, service=None, free_text="Fit an outside tap by the back door")
    sent = desk.run()

    assert subjects(sent, DISPATCHERS[0], NEW) == ["New booking request: free text from Ada Lovelace"]
    assert "Fit an outside tap by the back door" in emails(sent, DISPATCHERS[0])[0]["text"]
    assert subjects(sent, customer.email, RECEIVED) == [f"{RECEIVED}: free text"]
    assert [m for m in sent if m["channel"] == "sms"] == []
    [sms] = logged(desk, request, "request_received", "sms")
    assert (sms.status, sms.detail) == ("skipped", "no phone number")


# --- the business's answers and the customer's replies ----------------------------------------------------


def test_the_customer_hears_of_each_answer_and_the_business_of_each_reply(
    desk: Desk, contractor: Salon
) -> None:
    customer = new_customer()
    request = desk.submit(contractor, customer)
    desk.run()

    request = desk.review(request)
    sent = desk.run()
    assert subjects(sent, customer.email, REVIEWING) == [f"{REVIEWING}: Boiler service"]
    assert len(texts(sent, customer.phone)) == 1
    assert all(not emails(sent, to) for to in (CONTACT, *DISPATCHERS))

    # a full day proposed: when (in the business's zone), until when it is held, the message, the links
    request = desk.counter(request, contractor, days=5)
    proposal = request.responses[-1]
    assert proposal.start is not None and proposal.end is not None and proposal.hold_expires_at is not None
    sent = desk.run()
    [offer] = emails(sent, customer.email)
    assert offer["subject"] == f"{PROPOSED}: {format_when_short(proposal.start, contractor.zone)}"
    assert format_when(proposal.start, contractor.zone) in offer["text"]
    assert format_when(proposal.end, contractor.zone) in offer["text"]
    assert f"held for you until {format_when(proposal.hold_expires_at, contractor.zone)}" in offer["text"]
    assert "We can do a full day on this date" in offer["text"]
    assert f"Accept or decline it here: {portal(desk, contractor, request)}" in offer["text"]
    [text] = texts(sent, customer.phone)
    assert format_when_short(proposal.start, contractor.zone) in text["text"]
    assert portal(desk, contractor, request) in text["text"]

    # the customer declines it, saying why: the business and the dispatchers hear it, the customer nothing
    request = desk.decline_counter(request, "Fridays I am at work; a Saturday?")
    sent = desk.run()
    for to in (CONTACT, *DISPATCHERS):
        [notice] = emails(sent, to)
        assert notice["subject"] == f"{COUNTER_DECLINED}: Boiler service for Ada Lovelace"
        assert 'They wrote: "Fridays I am at work; a Saturday?"' in notice["text"]
    assert messages_for_customer(sent, customer) == []

    # declined, with the message and what the customer can do instead
    request = desk.decline(request, "We are fully booked this month", "Try Bath Heating, 01225 000000")
    sent = desk.run()
    [no] = emails(sent, customer.email)
    assert no["subject"] == f"{DECLINED}: Boiler service"
    assert '"We are fully booked this month"' in no["text"]
    assert "What you can do instead: Try Bath Heating, 01225 000000" in no["text"]
    [text] = texts(sent, customer.phone)
    assert "We are fully booked this month" in text["text"]

    kinds = [(r.kind, r.channel) for r in desk.communications(request) if r.audience == "customer"]
    for kind in ("request_received", "request_under_review", "request_counter_proposal", "request_declined"):
        assert sorted(c for k, c in kinds if k == kind) == ["email", "sms"], kind


def messages_for_customer(sent: list[dict[str, Any]], customer: Customer) -> list[dict[str, Any]]:
    return emails(sent, customer.email) + texts(sent, customer.phone)


def test_a_confirmed_request_leaves_the_confirmation_to_its_booking_and_records_that_once(
    desk: Desk, contractor: Salon
) -> None:
    customer = new_customer()
    submitted = desk.submit(contractor, customer)
    desk.run()

    request = desk.accept(submitted, contractor)
    sent = desk.run()
    assert messages_for_customer(sent, customer) == []  # the booking's own confirmation says it
    assert all(emails(sent, to) == [] for to in (CONTACT, *DISPATCHERS))
    [entry] = logged(desk, request, "request_confirmed", "email")
    assert entry.status == "skipped"
    assert f"booking {request.booking_id}" in (entry.detail or "")

    desk.notifications.handler.services().requests.request_changed(submitted, request)  # delivered again
    assert len(logged(desk, request, "request_confirmed", "email")) == 1
    assert desk.run() == []


def test_a_request_the_customer_cancels_is_announced_to_the_business(desk: Desk, contractor: Salon) -> None:
    customer = new_customer()
    request = desk.submit(contractor, customer)
    request = desk.counter(desk.review(request), contractor, days=7)
    desk.run()

    desk.cancel(request)
    sent = desk.run()
    for to in (CONTACT, *DISPATCHERS):
        [notice] = emails(sent, to)
        assert notice["subject"] == f"{CANCELLED}: Boiler service from Ada Lovelace"
        assert "the time proposed to them" in notice["text"] and "is free again" in notice["text"]
    assert messages_for_customer(sent, customer) == []


def test_a_burst_of_requests_is_texted_once_in_ten_minutes_and_acknowledged_by_email(
    desk: Desk, contractor: Salon
) -> None:
    customer = new_customer()
    first = desk.submit(contractor, customer)
    sent = desk.run()
    texted = desk.clock.now()  # the first text went before this
    desk.clock.advance(timedelta(minutes=9))
    second = desk.submit(contractor, customer)
    sent += desk.run()
    assert len(texts(sent, customer.phone)) == 1
    assert [m["subject"] for m in emails(sent, customer.email)] == [f"{RECEIVED}: Boiler service"] * 2
    [skipped] = logged(desk, second, "request_received", "sms")
    assert skipped.status == "skipped"
    assert skipped.detail == "the customer was texted about a request in the last 10 minutes: email only"
    assert [r.status for r in logged(desk, first, "request_received", "sms")] == ["sent"]

    other = new_customer()  # per customer: someone else is texted as usual
    desk.submit(contractor, other)
    assert len(texts(desk.run(), other.phone)) == 1

    desk.clock.set(texted + timedelta(minutes=10, seconds=1))  # ten minutes after the first text
    third = desk.submit(contractor, customer)
    assert len(texts(desk.run(), customer.phone)) == 1
    assert [r.status for r in logged(desk, third, "request_received", "sms")] == ["sent"]


# --- the escalation ---------------------------------------------------------------------------------------


def test_the_reminder_says_in_words_where_the_request_stands_and_links_to_it(
    desk: Desk, contractor: Salon
) -> None:
    waiting = desk.submit(contractor, new_customer())
    reviewed = desk.review(desk.submit(contractor, new_customer()))
    desk.run()
    desk.clock.set(waiting.created_at + timedelta(hours=48, seconds=1))
    sent = desk.run()
    texts_of = {
        r.id: next(m for m in emails(sent, DISPATCHERS[0]) if r.id in m["text"]) for r in (waiting, reviewed)
    }
    first = texts_of[waiting.id]
    assert first["text"].startswith(
        "Hello, a booking request from Ada Lovelace has been waiting 48 hours and is still waiting for a "
        "first answer.\n"
    )
    assert "(it is" not in first["text"] + first["html"]
    assert f"Please accept it, propose a time or decline it: {staff(desk, waiting)}\n" in first["text"]
    assert f'<a href="{staff(desk, waiting)}">Open the request</a>' in first["html"]
    under_review = "for an answer: it is under review, but nobody has answered it yet."
    assert under_review in texts_of[reviewed.id]["text"]


def test_an_unanswered_request_reminds_the_dispatchers_once_per_interval_and_at_most_three_times(
    desk: Desk, contractor: Salon
) -> None:
    customer = new_customer()
    request = desk.submit(contractor, customer)
    desk.run()
    desk.review(desk.current(request)[0])  # under review is still waiting for an answer
    desk.run()
    created = request.created_at

    desk.clock.set(created + timedelta(hours=47, minutes=59))
    assert [s for to in DISPATCHERS for s in reminders_of(desk.run(), to, request)] == []

    for n, hours in enumerate((48, 96, 144), start=1):
        desk.clock.set(created + timedelta(hours=hours, seconds=n + 1))
        sent = desk.run()
        for to in DISPATCHERS:
            assert reminders_of(sent, to, request) == [
                f"{WAITING} {hours} hours for an answer: Boiler service from Ada Lovelace"
            ], (n, to)
        assert reminders_of(sent, CONTACT, request) == []  # the dispatchers are there to hear it
        current, history = desk.current(request)
        assert current.escalations == n
        assert [e.details["reminder"] for e in history if e.action == "escalated"] == [
            str(i) for i in range(1, n + 1)
        ]
        timers = desk.timers(request)
        assert list(timers) == ([f"req-esc-{request.id}-{n + 1}"] if n < 3 else [])
        if n < 3:  # the next one an interval after this one fired
            [following] = timers.values()
            fired = created + timedelta(hours=hours, seconds=n + 1)
            assert following["ScheduleExpression"] == at_expression(whole_second(fired + timedelta(hours=48)))
    reminder = next(m for m in emails(desk.notifications.sent(), DISPATCHERS[0]) if request.id in m["text"])
    assert "waiting 144 hours for an answer" in reminder["text"] and "under review" in reminder["text"]

    desk.clock.set(created + timedelta(hours=400))
    assert reminders_of(desk.run(), DISPATCHERS[0], request) == []  # three at most
    assert len(reminders_of(desk.notifications.sent(), DISPATCHERS[0], request)) == 3
    entries = logged(desk, request, "request_escalation", "schedule")
    assert sorted((e.key, e.status) for e in entries) == [
        (f"request-escalation-{n}", "fired") for n in (1, 2, 3)
    ]
    sent_reminders = [r for r in logged(desk, request, "request_escalation", "email") if r.status == "sent"]
    assert len(sent_reminders) == 6  # two dispatchers, three intervals


@pytest.mark.parametrize("answer", ["counter_proposed", "declined", "confirmed", "cancelled"])
def test_no_reminder_once_the_request_is_answered_or_cancelled(
    answer: str, desk: Desk, contractor: Salon
) -> None:
    request = desk.submit(contractor, new_customer())
    desk.run()
    desk.clock.set(request.created_at + timedelta(hours=30))
    if answer == "counter_proposed":
        desk.counter(request, contractor, days=9)
    elif answer == "declined":
        desk.decline(request, "Not in our area", "")
    elif answer == "confirmed":
        desk.accept(request, contractor)
    else:
        desk.cancel(request)
    desk.run()

    desk.clock.set(request.created_at + timedelta(hours=200))
    sent = desk.run()
    assert all(reminders_of(sent, to, request) == [] for to in (CONTACT, *DISPATCHERS))
    assert desk.timers(request) == {}  # it fired, found nothing to do, and is gone
    current, history = desk.current(request)
    assert current.escalations == 0
    assert [e for e in history if e.action == "escalated"] == []
    [entry] = logged(desk, request, "request_escalation", "schedule")
    assert entry.status == "unscheduled"
    assert "answered or cancelled" in (entry.detail or "")


def test_a_timer_that_fires_twice_reminds_once(desk: Desk, contractor: Salon) -> None:
    request = desk.submit(contractor, new_customer())
    desk.run()
    desk.clock.set(request.created_at + timedelta(hours=48, seconds=2))
    assert len(reminders_of(desk.run(), DISPATCHERS[0], request)) == 1

    # EventBridge Scheduler delivers at least once: the same timer again, a little later
    desk.clock.set(request.created_at + timedelta(hours=48, minutes=3))
    payload = Escalation(contractor.tenant.id, request.id, 1).payload()
    answer = desk.notifications.handler.lambda_handler(payload, context())
    assert answer == {"handled": "request_escalation", "outcome": "repeated"}
    assert desk.run() == []
    assert desk.current(request)[0].escalations == 1
    assert list(desk.timers(request)) == [f"req-esc-{request.id}-2"]


def test_a_customer_declining_the_proposed_time_starts_a_new_wait(desk: Desk, contractor: Salon) -> None:
    request = desk.submit(contractor, new_customer())
    created = request.created_at
    desk.clock.set(created + timedelta(hours=10))
    request = desk.counter(request, contractor, days=8)
    desk.clock.set(created + timedelta(hours=20))
    request = desk.decline_counter(request, "Too early in the morning for me")
    desk.run()
    assert sorted(desk.timers(request)) == sorted([f"req-esc-{request.id}-1", f"req-esc-{request.id}-1-r1"])

    # the first wait's timer finds its wait over
    desk.clock.set(created + timedelta(hours=49))
    assert reminders_of(desk.run(), DISPATCHERS[0], request) == []
    # the second wait's, 48 hours after the customer declined
    desk.clock.set(created + timedelta(hours=68, seconds=1))
    [reminder] = emails(desk.run(), DISPATCHERS[0])[:1]
    assert reminder["subject"].startswith(f"{WAITING} 48 hours for an answer")
    assert "since they declined the time proposed to them" in reminder["text"]
    assert desk.current(request)[0].escalations == 1


def test_without_dispatchers_the_contact_address_is_reminded_as_often_as_the_business_says(
    desk: Desk, solo: Salon
) -> None:
    request = desk.submit(solo, new_customer())
    sent = desk.run()
    assert subjects(sent, CONTACT, NEW) == ["New booking request: Boiler service from Ada Lovelace"]

    desk.clock.set(request.created_at + timedelta(hours=24, seconds=1))
    assert reminders_of(desk.run(), CONTACT, request) == [
        f"{WAITING} 24 hours for an answer: Boiler service from Ada Lovelace"
    ]
    assert desk.timers(request) == {}  # one at most
    desk.clock.set(request.created_at + timedelta(hours=100))
    assert reminders_of(desk.run(), CONTACT, request) == []


# --- retries and onboarding ---------------------------------------------------------------------------------


def test_a_request_message_retried_by_its_timer_is_sent_from_the_request(
    desk: Desk, contractor: Salon
) -> None:
    """A retry timer carries the request's id where a booking's carries the booking's: the request's
    messages are retried by the request's service, rendered from the request as it is then."""
    customer = new_customer()
    request = desk.submit(contractor, customer)
    desk.run()
    now = desk.clock.now()
    waiting = MessageRecord(
        key="request-under-review@v9",
        kind="request_under_review",
        channel="email",
        recipient=customer.email,
        status="retrying",
        attempts=1,
        at=now,
        next_attempt_at=now,
        request=MessageRequest(
            kind="request_under_review", about_start=request.created_at, about_staff_id=""
        ),
    )
    assert desk.log.claim(request.tenant_id, request.id, waiting)
    event = {
        "type": "message_retry",
        "tenant_id": request.tenant_id,
        "booking_id": request.id,
        "key": waiting.key,
        "channel": "email",
    }
    assert desk.notifications.handler.lambda_handler(event, context()) == {"handled": "message_retry"}
    assert subjects(desk.notifications.sent(), customer.email, REVIEWING) == [f"{REVIEWING}: Boiler service"]
    retried = desk.log.get(request.tenant_id, request.id, waiting.key, "email")
    assert retried is not None and retried.status == "sent" and retried.attempts == 2


def completed_job(desk: Desk, api: LambdaApi, salon: Salon, customer: Customer) -> str:
    """A job that began two hours ago, marked completed through the admin API."""
    resources = desk.notifications.resources
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=2)
    booking = Booking(
        id=UlidGenerator().new_id(),
        tenant_id=salon.tenant.id,
        status=BookingStatus.STARTED,
        start=start,
        end=start + timedelta(minutes=60),
        occupied_start=start,
        occupied_end=start + timedelta(minutes=60),
        staff_id=salon.staff_id,
        services=[
            BookedService(id=salon.service_id, name="Swedish massage", duration_minutes=60, price_minor=6500)
        ],
        total_minor=6500,
        currency="GBP",
        customer=CustomerDetails(name=customer.name, email=customer.email),
        created_at=start - timedelta(days=3),
        updated_at=start - timedelta(days=3),
    )
    entry = HistoryEntry(
        at=booking.created_at, actor=Actor(kind="customer", id=customer.email), action="created"
    )
    dynamodb = desk.notifications.aws.client("dynamodb")
    DynamoBookingRepository(dynamodb, resources.table_name, SystemClock()).save(booking, None, entry)
    done = api.post(
        f"/v1/admin/bookings/{booking.id}/status",
        json_body={"status": "completed"},
        token=salon.tenant.token(),
    )
    assert done.status == 200, done.text
    return booking.id


@pytest.mark.parametrize("chosen", [True, False])
def test_a_first_completed_job_onboards_the_customer_when_the_business_chose_so(
    chosen: bool, desk: Desk, api: LambdaApi, solo: Salon, contractor: Salon
) -> None:
    salon = solo if chosen else contractor
    customer = new_customer()
    customers = DynamoCustomerRepository(
        desk.notifications.aws.client("dynamodb"), desk.notifications.resources.table_name
    )
    completed_job(desk, api, salon, customer)
    profile = customers.profile(salon.tenant.id, customer.email)
    assert profile is not None and not profile.onboarded
    desk.run()

    profile = customers.profile(salon.tenant.id, customer.email)
    assert profile is not None and profile.onboarded is chosen
