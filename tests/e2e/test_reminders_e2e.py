"""Issue 4's "done when", on the local stack over HTTP: a booking puts a confirmation email with a valid invite
and an SMS in the outbox; moving the dev clock fires each reminder exactly once at its time; a cancelled
booking gets METHOD:CANCEL and no reminder afterwards; a rescheduled one is reminded only at its new time;
the admin booking detail lists what was sent and what is still scheduled.

One local stack serves the whole module. Its dev clock only moves forward, so every test books relative to
the clock as it finds it, days ahead of it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.local_stack import LocalStack, running
from tests.support.notification_fixtures import (
    Customer,
    emails,
    invite_of,
    messages_to,
    new_customer,
    parse_with_icalendar,
    parse_with_icaljs,
    texts,
    utc_instant,
)
from tests.support.spa_bookings import LONDON, book, free_slot, spa_of

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("local_stack_reminders")]

WAIT_SECONDS = 15  # the dispatcher runs every 0.5 s; reading the outbox runs it once more


class Stack(LocalStack):
    """The local stack, waiting for the customer's messages."""

    def wait_for(
        self, what: str, found: Callable[[list[dict[str, Any]]], bool], customer: Customer
    ) -> list[dict[str, Any]]:
        """The customer's messages (newest first), once `found` holds for them."""
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            mine = messages_to(self.outbox(), customer.email, customer.phone)
            if found(mine):
                return mine
            if time.monotonic() > deadline:
                pytest.fail(f"no {what} in the outbox within {WAIT_SECONDS}s; the customer has: {mine}")
            time.sleep(0.2)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from running(tmp_path_factory, "reminders-stack", Stack)


@pytest.fixture(scope="module")
def spa(stack: Stack) -> dict[str, Any]:
    return spa_of(stack)


def communications(stack: Stack, spa: dict[str, Any], booking_id: str) -> list[dict[str, Any]]:
    log: list[dict[str, Any]] = stack.json("GET", f"/v1/admin/bookings/{booking_id}", token=spa["owner"])[
        "communications"
    ]
    return log


def still_scheduled(log: list[dict[str, Any]], now: datetime) -> list[datetime]:
    """What the admin detail says is still to come: reminders scheduled for later than now."""
    return sorted(
        utc_instant(e["send_at"])
        for e in log
        if e["channel"] == "schedule" and e["status"] == "scheduled" and utc_instant(e["send_at"]) > now
    )


def sent(log: list[dict[str, Any]], kind: str) -> list[tuple[str, str]]:
    return sorted(
        (e["key"].split("@")[0], e["channel"]) for e in log if e["kind"] == kind and e["status"] == "sent"
    )


def confirmed(stack: Stack, customer: Customer) -> list[dict[str, Any]]:
    def arrived(mine: list[dict[str, Any]]) -> bool:
        return len(emails(mine, customer.email)) == 1 and len(texts(mine, customer.phone)) == 1

    return stack.wait_for("confirmation email and SMS", arrived, customer)


def test_a_booking_is_confirmed_with_an_invite_and_each_reminder_fires_once_at_its_time(
    stack: Stack, spa: dict[str, Any]
) -> None:
    customer = new_customer()
    start = free_slot(stack, spa, stack.now() + timedelta(days=3))
    booking = book(stack, spa, start, customer)

    mine = confirmed(stack, customer)
    [email] = emails(mine, customer.email)
    assert email["subject"].startswith("Booking confirmed: Swedish massage, ")
    invite = invite_of(email)
    assert invite["method"] == "REQUEST"
    calendar, event = parse_with_icalendar(invite["content"])
    assert calendar["METHOD"] == "REQUEST"
    assert event.decoded("DTSTART") == start
    assert str(event["ATTENDEE"]) == f"mailto:{customer.email}"
    assert booking["manage_url"] in str(event["DESCRIPTION"])
    seen = parse_with_icaljs(invite["content"])
    assert utc_instant(seen["dtstart"]["utc"]) == start
    assert seen["tzid"] == "Europe/London"
    [sms] = texts(mine, customer.phone)
    assert booking["manage_url"] in sms["text"]

    log = communications(stack, spa, booking["id"])
    assert sent(log, "confirmation") == [("confirmation", "email"), ("confirmation", "sms")]
    day_before, hour_before = start - timedelta(hours=24), start - timedelta(hours=1)
    assert still_scheduled(log, stack.now()) == [day_before, hour_before]

    def reminders() -> list[dict[str, Any]]:
        return [
            m
            for m in messages_to(stack.outbox(), customer.email, customer.phone)
            if m.get("subject", "").startswith("Reminder: ")
            or m["text"].startswith("Serenity Day Spa: reminder,")
        ]

    stack.set_clock(day_before - timedelta(minutes=1))
    assert reminders() == []  # not a minute early

    stack.set_clock(day_before)
    first = reminders()
    assert sorted(m["channel"] for m in first) == ["email", "sms"]
    [email] = emails(first, customer.email)
    assert "with Serenity Day Spa tomorrow" in email["text"]
    assert f"at {start.astimezone(LONDON):%H:%M} (" in email["text"]

    log = communications(stack, spa, booking["id"])
    assert sent(log, "reminder") == [("reminder-1440m", "email"), ("reminder-1440m", "sms")]
    assert still_scheduled(log, stack.now()) == [hour_before]

    stack.set_clock(hour_before - timedelta(minutes=1))
    assert len(reminders()) == 2  # the day-before reminder went once, and the next is not due yet

    stack.set_clock(hour_before)
    second = reminders()
    assert len(second) == 4
    assert sorted(m["channel"] for m in second[:2]) == ["email", "sms"]
    assert "with Serenity Day Spa in an hour" in emails(second[:2], customer.email)[0]["text"]

    stack.set_clock(start + timedelta(hours=2))
    assert len(reminders()) == 4  # nothing more, ever
    log = communications(stack, spa, booking["id"])
    assert sent(log, "reminder") == [
        ("reminder-1440m", "email"),
        ("reminder-1440m", "sms"),
        ("reminder-60m", "email"),
        ("reminder-60m", "sms"),
    ]
    assert still_scheduled(log, stack.now()) == []


def test_a_cancelled_booking_gets_method_cancel_and_no_reminder_afterwards(
    stack: Stack, spa: dict[str, Any]
) -> None:
    customer = new_customer()
    start = free_slot(stack, spa, stack.now() + timedelta(days=3))
    booking = book(stack, spa, start, customer)
    [confirmation] = emails(confirmed(stack, customer), customer.email)
    request = parse_with_icaljs(invite_of(confirmation)["content"])

    stack.json(
        "POST",
        f"/v1/public/bookings/{booking['id']}/cancel",
        params={"token": booking["manage_token"]},
        json={},
    )
    mine = stack.wait_for("cancellation", lambda m: len(emails(m, customer.email)) == 2, customer)
    cancellation = emails(mine, customer.email)[0]
    assert cancellation["subject"].startswith("Booking cancelled: Swedish massage, ")
    invite = invite_of(cancellation)
    assert invite["method"] == "CANCEL"
    calendar, event = parse_with_icalendar(invite["content"])
    assert (calendar["METHOD"], event["STATUS"]) == ("CANCEL", "CANCELLED")
    cancel = parse_with_icaljs(invite["content"])
    assert cancel["uid"] == request["uid"]
    assert cancel["sequence"] > request["sequence"]
    count = len(mine)

    for moment in (start - timedelta(hours=24), start - timedelta(hours=1), start + timedelta(hours=1)):
        stack.set_clock(moment)
        assert len(messages_to(stack.outbox(), customer.email, customer.phone)) == count

    log = communications(stack, spa, booking["id"])
    assert sent(log, "reminder") == []
    assert sent(log, "cancellation") == [("cancellation", "email"), ("cancellation", "sms")]
    assert sorted(e["status"] for e in log if e["channel"] == "schedule") == ["unscheduled", "unscheduled"]


def test_a_rescheduled_booking_is_reminded_only_at_its_new_time(stack: Stack, spa: dict[str, Any]) -> None:
    customer = new_customer()
    old_start = free_slot(stack, spa, stack.now() + timedelta(days=3))
    booking = book(stack, spa, old_start, customer)
    confirmed(stack, customer)
    new_start = free_slot(stack, spa, old_start + timedelta(days=2), staff=booking["staff"]["id"])

    stack.json(
        "POST",
        f"/v1/public/bookings/{booking['id']}/reschedule",
        params={"token": booking["manage_token"]},
        json={"start": new_start.isoformat()},
    )
    mine = stack.wait_for("rescheduled email", lambda m: len(emails(m, customer.email)) == 2, customer)
    moved = emails(mine, customer.email)[0]
    assert moved["subject"].startswith("Booking moved: Swedish massage, now ")
    _, event = parse_with_icalendar(invite_of(moved)["content"])
    assert event.decoded("DTSTART") == new_start
    assert event.decoded("SEQUENCE") == 1
    count = len(mine)

    # the old times pass in silence
    for moment in (
        old_start - timedelta(hours=24),
        old_start - timedelta(hours=1),
        old_start + timedelta(hours=1),
    ):
        stack.set_clock(moment)
        assert len(messages_to(stack.outbox(), customer.email, customer.phone)) == count

    stack.set_clock(new_start - timedelta(hours=24))
    mine = messages_to(stack.outbox(), customer.email, customer.phone)
    assert len(mine) == count + 2
    [reminder] = emails(mine[:2], customer.email)
    assert reminder["subject"].startswith("Reminder: Swedish massage, ")
    local = new_start.astimezone(LONDON)
    assert f"{local:%A} {local.day} {local:%B %Y} at {local:%H:%M}" in reminder["text"]

    stack.set_clock(new_start - timedelta(hours=1))
    assert len(messages_to(stack.outbox(), customer.email, customer.phone)) == count + 4

    log = communications(stack, spa, booking["id"])
    reminded = [
        utc_instant(e["send_at"]) for e in log if e["channel"] == "schedule" and e["status"] == "fired"
    ]
    assert sorted(reminded) == [new_start - timedelta(hours=24), new_start - timedelta(hours=1)]
    assert sent(log, "reminder") == [
        ("reminder-1440m", "email"),
        ("reminder-1440m", "sms"),
        ("reminder-60m", "email"),
        ("reminder-60m", "sms"),
    ]
    # every reminder sent was about the new start
    assert {e["key"].split("@")[1] for e in log if e["kind"] == "reminder" and e["status"] == "sent"} == {
        new_start.astimezone(UTC).isoformat()
    }


def test_the_outbox_is_a_page_people_can_read(stack: Stack) -> None:
    # runs after the tests above and reads what they sent: confirmations, a cancellation, reminders
    page = stack.request("GET", "/dev/outbox")
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "<h1>Outbox</h1>" in page.text
    assert "Booking confirmed: Swedish massage" in page.text
    assert "invite.ics</a> (text/calendar)" in page.text  # an attachment opens from the page
    links = re.findall(r'href="(/dev/outbox/[^"]+/attachments/\d+)"', page.text)
    invites = [stack.request("GET", link).text for link in links]
    assert any("METHOD:CANCEL" in invite for invite in invites)  # the cancellation's invite, opened
    assert "SMS" in page.text
    # newest first: the last reminders above the first confirmation
    assert page.text.index("Reminder: Swedish massage") < page.text.rindex(
        "Booking confirmed: Swedish massage"
    )
    stamps = [datetime.fromisoformat(m["at"]) for m in stack.outbox()]
    assert stamps == sorted(stamps, reverse=True)


def test_the_dev_clock_moves_forward_only(stack: Stack) -> None:
    before = stack.now()
    moved = stack.json("POST", "/dev/clock", json={"advance_minutes": 90})
    assert datetime.fromisoformat(moved["now"]) - before >= timedelta(minutes=90)
    assert moved["offset_seconds"] >= 90 * 60
    back = stack.request("POST", "/dev/clock", json={"now": before.isoformat()})
    assert back.status_code == 422
    assert back.headers["Content-Type"].startswith("application/problem+json")
    assert "only moves forward" in back.text
    assert stack.now() >= datetime.fromisoformat(moved["now"])
    assert stack.request("POST", "/dev/clock", json={}).status_code == 422


def test_nothing_in_the_messaging_path_failed(stack: Stack) -> None:
    # runs last: no request above crashed the dev routes, and the dispatcher, the reminders function and
    # the outbox never failed (a traceback through any of them names its file)
    log = stack.log()
    for sign in (
        "Exception in ASGI application",
        "dispatch failed",
        "stream batch failed",
        "stream records failed",
        "local/dispatcher.py",
        "local/dev_routes.py",
        "local/outbox.py",
        "local/clock.py",
        "reminders/handler.py",
        "booking/services/messaging/",
    ):
        assert sign not in log, sign
