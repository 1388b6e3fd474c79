"""Online appointments' "done when", on the local stack over HTTP (what `make dev` runs): the demo consultancy
books a Discovery call through the public API; the confirmation email and SMS carry the Zoom link the local
fake made and its passcode, the invite has it in LOCATION, URL and CONFERENCE, the customer's view shows it
and the admin detail shows the meeting ready with a host link no customer message contains; the reminders
carry the same link; switched to `manual`, a booking's meeting is not set, its confirmation says the link
will follow, and the link staff set with `notify_customer` reaches the customer by email and SMS; a weekly
series of four online sessions gets four different links, one series confirmation with every link, and
each session's reminder with its own.

One local stack serves the whole module. Its dev clock only moves forward, so every test books relative to
the clock as it finds it; the test that switches the business to `manual` switches it back to Zoom.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.support.local_stack import LocalStack, running
from tests.support.notification_fixtures import (
    Customer,
    emails,
    invite_of,
    messages_to,
    parse_with_icalendar,
    texts,
)

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("local_stack_online")]

CONSULTANCY = "northwind-advisory"
NEW_YORK = ZoneInfo("America/New_York")
SERVICE = "Discovery call"
# The link is made on the state machine within a second or two; the dispatcher runs every 0.5 s.
WAIT_SECONDS = 20
FOLLOWS = "Your meeting link will follow in a separate message."
SERVER_OWNED = ("id", "version", "created_at", "updated_at")


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
    yield from running(tmp_path_factory, "online-stack", Stack)


@pytest.fixture(scope="module")
def northwind(stack: Stack) -> dict[str, Any]:
    """The seeded consultancy: its id, tokens by role, and its services by name."""
    demo = stack.demo()[CONSULTANCY]
    menu = stack.json("GET", f"/v1/public/businesses/{CONSULTANCY}/services")
    services = {s["name"]: s for section in menu["categories"] for s in section["services"]}
    return {
        "id": demo["id"],
        "tokens": {role: user["token"] for role, user in demo["users"].items()},
        "services": services,
    }


def owner(northwind: dict[str, Any]) -> str:
    return str(northwind["tokens"]["owner"])


def us_customer(name: str = "Grace Hopper") -> Customer:
    """A customer no other test uses; a New York mobile, since a US business texts US numbers only."""
    token = secrets.token_hex(4)
    return Customer(
        name=name,
        email=f"{name.split(maxsplit=1)[0].lower()}-{token}@customers.example",
        phone=f"+1212555{secrets.randbelow(10_000):04d}",
    )


def free_slot(stack: Stack, northwind: dict[str, Any], after: datetime) -> datetime:
    """The first start of a Discovery call at or after `after` that the public availability offers."""
    first = after.astimezone(NEW_YORK).date()
    availability = stack.json(
        "GET",
        f"/v1/public/businesses/{CONSULTANCY}/availability",
        params={
            "services": northwind["services"][SERVICE]["id"],
            "staff": "any",
            "from": first.isoformat(),
            "to": (first + timedelta(days=10)).isoformat(),
            "tz": "America/New_York",
        },
    )
    starts = [datetime.fromisoformat(s["start"]) for day in availability["days"] for s in day["slots"]]
    later = [start for start in starts if start >= after]
    if not later:
        pytest.fail(f"no free {SERVICE} in the ten days from {first}")
    return later[0]


def book(stack: Stack, northwind: dict[str, Any], start: datetime, customer: Customer) -> dict[str, Any]:
    """Books an online Discovery call through the public API, as the booking widget does."""
    booking: dict[str, Any] = stack.json(
        "POST",
        f"/v1/public/businesses/{CONSULTANCY}/bookings",
        status=201,
        json={
            "services": [northwind["services"][SERVICE]["id"]],
            "staff": "any",
            "start": start.isoformat(),
            "customer": customer.body(),
        },
        headers={"Idempotency-Key": secrets.token_hex(8)},
    )
    return booking


def detail(stack: Stack, northwind: dict[str, Any], booking_id: str) -> dict[str, Any]:
    found: dict[str, Any] = stack.json("GET", f"/v1/admin/bookings/{booking_id}", token=owner(northwind))
    return found


def customer_view(stack: Stack, booking: dict[str, Any]) -> dict[str, Any]:
    view: dict[str, Any] = stack.json(
        "GET", f"/v1/public/bookings/{booking['id']}", params={"token": booking["manage_token"]}
    )
    return view


def confirmed(stack: Stack, customer: Customer) -> tuple[dict[str, Any], dict[str, Any]]:
    """The customer's confirmation email and SMS, once both are in the outbox."""

    def arrived(mine: list[dict[str, Any]]) -> bool:
        return bool(emails(mine, customer.email)) and bool(texts(mine, customer.phone))

    mine = stack.wait_for("confirmation email and SMS", arrived, customer)
    [email] = emails(mine, customer.email)
    [sms] = texts(mine, customer.phone)
    assert email["subject"].startswith(f"Booking confirmed: {SERVICE}, ")
    assert sms["text"].startswith(f"Northwind Advisory: booked {SERVICE}")
    return email, sms


def everything_sent_to(stack: Stack, customer: Customer) -> str:
    """Every customer message in full: subjects, bodies, SMS and attachments."""
    return json.dumps(messages_to(stack.outbox(), customer.email, customer.phone))


def settings(stack: Stack, northwind: dict[str, Any]) -> dict[str, Any]:
    """The business's settings as PUT /v1/admin/business takes them (without the server-owned fields)."""
    business: dict[str, Any] = stack.json("GET", "/v1/admin/business", token=owner(northwind))
    return {k: v for k, v in business.items() if k not in SERVER_OWNED}


@contextmanager
def meeting_provider(stack: Stack, northwind: dict[str, Any], provider: str) -> Iterator[None]:
    """The business makes its links with `provider` inside the block, and as before after it."""
    before = settings(stack, northwind)
    changed = stack.json(
        "PUT", "/v1/admin/business", token=owner(northwind), json={**before, "meeting_provider": provider}
    )
    assert changed["meeting_provider"] == provider
    try:
        yield
    finally:
        stack.json("PUT", "/v1/admin/business", token=owner(northwind), json=before)


@pytest.fixture
def zoom_links(stack: Stack, northwind: dict[str, Any]) -> None:
    """The demo consultancy as seeded: Zoom makes its links (through the local fake)."""
    assert settings(stack, northwind)["meeting_provider"] == "zoom"


def book_with_zoom(
    stack: Stack, northwind: dict[str, Any], days_ahead: int
) -> tuple[Customer, datetime, dict[str, Any], dict[str, Any], dict[str, Any]]:
    """An online Discovery call `days_ahead` of the dev clock, confirmed: the customer, its start, the
    booking (with its manage token), and the confirmation email and SMS."""
    customer = us_customer()
    start = free_slot(stack, northwind, stack.now() + timedelta(days=days_ahead))
    booking = book(stack, northwind, start, customer)
    assert booking["online"] is True
    email, sms = confirmed(stack, customer)
    return customer, start, booking, email, sms


def test_an_online_booking_is_confirmed_with_the_zoom_link_everywhere_the_customer_looks(
    stack: Stack, northwind: dict[str, Any], zoom_links: None
) -> None:
    customer, start, booking, email, sms = book_with_zoom(stack, northwind, days_ahead=2)

    # staff: the meeting is ready, made by Zoom, with the host's start link
    meeting = detail(stack, northwind, booking["id"])["meeting"]
    assert (meeting["status"], meeting["provider"]) == ("ready", "zoom")
    link, passcode, host_link = meeting["join_url"], meeting["passcode"], meeting["host_url"]
    assert link.startswith("https://zoom.us/j/")
    assert passcode
    assert host_link and host_link != link

    # the confirmation waited for the link and went out once, with it: email (text and HTML) and SMS
    assert link in email["text"]
    assert link in email["html"]
    assert f"Passcode: {passcode}" in email["text"]
    assert FOLLOWS not in email["text"]
    assert link in sms["text"]
    assert passcode in sms["text"]

    # the invite: the link where calendars look for it
    calendar, event = parse_with_icalendar(invite_of(email)["content"])
    assert calendar["METHOD"] == "REQUEST"
    assert event.decoded("DTSTART") == start
    assert str(event["LOCATION"]) == link
    assert str(event["URL"]) == link
    conference = event["CONFERENCE"]
    assert str(conference) == link
    assert conference.params["VALUE"] == "URI"
    assert "VIDEO" in str(conference.params["FEATURE"])

    # the customer's own view: online, with the same link and passcode
    view = customer_view(stack, booking)
    assert view["online"] is True
    assert view["meeting"]["status"] == "ready"
    assert (view["meeting"]["join_url"], view["meeting"]["passcode"]) == (link, passcode)
    assert host_link not in json.dumps(view)

    # the host link is for staff only: in no message the customer got
    assert host_link not in everything_sent_to(stack, customer)
    assert len(messages_to(stack.outbox(), customer.email, customer.phone)) == 2  # no separate link message


def test_the_reminders_carry_the_same_link(stack: Stack, northwind: dict[str, Any], zoom_links: None) -> None:
    customer, start, booking, _, _ = book_with_zoom(stack, northwind, days_ahead=4)
    meeting = detail(stack, northwind, booking["id"])["meeting"]
    link, passcode, host_link = meeting["join_url"], meeting["passcode"], meeting["host_url"]
    assert meeting["status"] == "ready"

    def reminders() -> list[dict[str, Any]]:
        return [
            m
            for m in messages_to(stack.outbox(), customer.email, customer.phone)
            if m.get("subject", "").startswith(f"Reminder: {SERVICE}, ")
            or m["text"].startswith("Northwind Advisory: reminder,")
        ]

    # online bookings are reminded 3 days ahead too; the clock passes that one on the way
    stack.set_clock(start - timedelta(days=3))
    assert sorted(m["channel"] for m in reminders()) == ["email", "sms"]
    stack.set_clock(start - timedelta(days=1))
    day_before = reminders()[:2]
    assert sorted(m["channel"] for m in day_before) == ["email", "sms"]

    [email] = emails(day_before, customer.email)
    assert "with Northwind Advisory tomorrow" in email["text"]
    assert link in email["text"]
    assert link in email["html"]
    assert f"Passcode: {passcode}" in email["text"]
    [sms] = texts(day_before, customer.phone)
    assert link in sms["text"]
    assert passcode in sms["text"]
    for reminder in reminders():
        assert link in reminder["text"]
    assert host_link not in everything_sent_to(stack, customer)

    log = detail(stack, northwind, booking["id"])["communications"]
    assert sorted(
        (e["key"].split("@")[0], e["channel"])
        for e in log
        if e["kind"] == "reminder" and e["status"] == "sent"
    ) == [
        ("reminder-1440m", "email"),
        ("reminder-1440m", "sms"),
        ("reminder-4320m", "email"),
        ("reminder-4320m", "sms"),
    ]


def test_with_manual_links_staff_set_the_link_and_the_customer_gets_it(
    stack: Stack, northwind: dict[str, Any]
) -> None:
    before = settings(stack, northwind)
    with meeting_provider(stack, northwind, "manual"):
        # the switch kept every other setting
        assert settings(stack, northwind) == {**before, "meeting_provider": "manual"}

        customer = us_customer("Alan Turing")
        start = free_slot(stack, northwind, stack.now() + timedelta(days=2))
        booking = book(stack, northwind, start, customer)
        assert booking["online"] is True

        # nobody makes a link: the confirmation goes at once and says the link will follow
        email, sms = confirmed(stack, customer)
        assert FOLLOWS in email["text"]
        assert "zoom.us" not in email["text"] + email["html"] + sms["text"]
        admin = detail(stack, northwind, booking["id"])
        assert (admin["meeting"]["status"], admin["meeting"]["provider"]) == ("not_set", "manual")
        assert admin["meeting"]["join_url"] is None
        view = customer_view(stack, booking)
        assert view["online"] is True
        assert view["meeting"]["status"] == "pending"
        assert view["meeting"]["join_url"] is None

        link = f"https://meet.northwind.example/r/{secrets.token_hex(6)}"
        set_ = stack.json(
            "PUT",
            f"/v1/admin/bookings/{booking['id']}/meeting",
            token=owner(northwind),
            json={"join_url": link, "passcode": "428193", "notify_customer": True},
        )
        assert (set_["meeting"]["status"], set_["meeting"]["join_url"]) == ("ready", link)

        def link_sent(mine: list[dict[str, Any]]) -> bool:
            return any(link in m["text"] for m in emails(mine, customer.email)) and any(
                link in m["text"] for m in texts(mine, customer.phone)
            )

        mine = stack.wait_for("meeting link email and SMS", link_sent, customer)
        [update] = [m for m in emails(mine, customer.email) if link in m["text"]]
        assert update["subject"].startswith(f"Your meeting link: {SERVICE}, ")
        assert "Passcode: 428193" in update["text"]
        _, event = parse_with_icalendar(invite_of(update)["content"])
        assert (str(event["LOCATION"]), str(event["URL"])) == (link, link)
        [text] = [m for m in texts(mine, customer.phone) if link in m["text"]]
        assert "428193" in text["text"]

        log = detail(stack, northwind, booking["id"])["communications"]
        assert sorted(e["channel"] for e in log if e["kind"] == "meeting_link" and e["status"] == "sent") == [
            "email",
            "sms",
        ]
        assert customer_view(stack, booking)["meeting"]["join_url"] == link

    assert settings(stack, northwind) == before  # Zoom makes the links again


def test_a_weekly_series_of_four_online_sessions_has_four_links_one_confirmation_and_own_reminders(
    stack: Stack, northwind: dict[str, Any], zoom_links: None
) -> None:
    customer = us_customer("Katherine Johnson")
    first = free_slot(stack, northwind, stack.now() + timedelta(days=30))
    dana = next(
        m for m in stack.json("GET", "/v1/admin/staff", token=owner(northwind)) if m["name"] == "Dana Reyes"
    )
    series = stack.json(
        "POST",
        "/v1/admin/booking-series",
        status=201,
        token=owner(northwind),
        json={
            "services": [northwind["services"][SERVICE]["id"]],
            "staff": dana["id"],
            "start": first.isoformat(),
            "customer": customer.body(),
            "frequency": "weekly",
            "count": 4,
            "skip_clashes": False,
        },
    )
    assert series["booked"] == 4

    def links_made() -> list[str]:
        found = stack.json("GET", f"/v1/admin/booking-series/{series['id']}", token=owner(northwind))
        return [s["meeting"]["join_url"] for s in found["sessions"] if s["meeting"]["status"] == "ready"]

    deadline = time.monotonic() + WAIT_SECONDS
    while len(links_made()) < 4 and time.monotonic() < deadline:
        time.sleep(0.2)
    links = links_made()
    assert len(set(links)) == 4  # four sessions, four different meetings

    def confirmation_arrived(mine: list[dict[str, Any]]) -> bool:
        return any(m.get("subject", "").startswith("Sessions booked:") for m in mine)

    mine = stack.wait_for("series confirmation", confirmation_arrived, customer)
    [confirmation] = emails(mine, customer.email)  # one message for the series
    assert "your 4 sessions with Northwind Advisory" in confirmation["text"]
    assert all(link in confirmation["text"] for link in links)  # every session with its own link

    # the third session's reminder the day before carries the third link
    third = datetime.fromisoformat(
        stack.json("GET", f"/v1/admin/booking-series/{series['id']}", token=owner(northwind))["sessions"][2][
            "start"
        ]
    )
    stack.set_clock(third - timedelta(days=1))
    reminders = [
        m
        for m in emails(stack.outbox(), customer.email)
        if m["subject"].startswith(f"Reminder: {SERVICE}") and "tomorrow" in m["text"]
    ]
    assert reminders, "no day-before reminder for the third session"
    assert links[2] in reminders[0]["text"]
    assert links[0] not in reminders[0]["text"]


def test_nothing_on_the_online_path_failed(stack: Stack) -> None:
    # runs last: no request above crashed a route, the dispatcher, the meeting-links or reminders function
    log = stack.log()
    for sign in (
        "Traceback",
        "Exception in ASGI application",
        "dispatch failed",
        "stream batch failed",
        "meeting_links/handler.py",
        "reminders/handler.py",
        "booking/services/meetings.py",
        "booking/services/messaging/",
    ):
        assert sign not in log, sign
