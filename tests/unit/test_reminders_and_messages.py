"""The reminder plan (what is scheduled, when, under which name) and the messages customers and staff read."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from booking.domain.booking import BookingStatus, CustomerDetails
from booking.domain.catalogue import BusinessSettings, Catalogue, Service
from booking.domain.meetings import Meeting
from booking.domain.reminders import DEFAULT_REMINDERS, ReminderRule, plan_reminders, still_due
from booking.rendering.messages import (
    CustomerKind,
    StaffKind,
    customer_message,
    login_code_message,
    staff_message,
)
from booking.rendering.times import format_money
from booking.services.messaging.bookings import reminder_rules
from tests.support.notification_fixtures import BOOKING_ID, make_booking, make_business

LONDON = ZoneInfo("Europe/London")
START = datetime(2026, 6, 10, 14, 0, tzinfo=LONDON)  # 13:00 UTC, British Summer Time
MANAGE_URL = f"http://localhost:8080/bookings/{BOOKING_ID}?token={'T' * 26}.{'m' * 43}"  # real lengths
# EventBridge Scheduler: a schedule name is 1-64 characters of [0-9a-zA-Z-_.]
SCHEDULE_NAME = re.compile(r"^[0-9a-zA-Z\-_.]{1,64}$")


def rule(minutes: int, *channels: str) -> ReminderRule:
    return ReminderRule.model_validate({"minutes_before": minutes, "channels": list(channels)})


# --- the plan ---------------------------------------------------------------------------------------------


def test_by_default_a_booking_is_reminded_a_day_and_an_hour_before_by_email_and_sms() -> None:
    booking = make_booking(START)
    planned = plan_reminders(booking, DEFAULT_REMINDERS, now=START - timedelta(days=7))

    assert [(p.minutes_before, p.send_at, p.channels) for p in planned] == [
        (1440, START - timedelta(days=1), ("email", "sms")),
        (60, START - timedelta(hours=1), ("email", "sms")),
    ]
    assert all(p.planned_start == booking.start and p.booking_id == booking.id for p in planned)
    assert all(p.tenant_id == booking.tenant_id for p in planned)


def test_a_custom_cadence_is_planned_earliest_first_on_its_own_channels() -> None:
    rules = [rule(15, "sms"), rule(3 * 24 * 60, "email"), rule(24 * 60, "email", "sms")]
    planned = plan_reminders(make_booking(START), rules, now=START - timedelta(days=30))
    assert [(p.minutes_before, p.channels) for p in planned] == [
        (4320, ("email",)),
        (1440, ("email", "sms")),
        (15, ("sms",)),
    ]
    assert [p.send_at for p in planned] == [
        START - timedelta(days=3),
        START - timedelta(days=1),
        START - timedelta(minutes=15),
    ]


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (START - timedelta(days=2), [1440, 60]),
        (START - timedelta(hours=24, minutes=1), [1440, 60]),
        (START - timedelta(hours=24), [60]),  # due this very moment: too late to schedule
        (START - timedelta(hours=5), [60]),
        (START - timedelta(minutes=60), []),
        (START - timedelta(minutes=10), []),
        (START + timedelta(hours=1), []),
    ],
)
def test_reminders_whose_time_has_passed_are_not_planned(now: datetime, expected: list[int]) -> None:
    planned = plan_reminders(make_booking(START), DEFAULT_REMINDERS, now=now)
    assert [p.minutes_before for p in planned] == expected
    assert all(p.send_at > now for p in planned)


@pytest.mark.parametrize("status", [BookingStatus.CANCELLED, BookingStatus.COMPLETED, BookingStatus.NO_SHOW])
def test_an_inactive_booking_gets_no_reminders(status: BookingStatus) -> None:
    booking = make_booking(START, status=status)
    assert plan_reminders(booking, DEFAULT_REMINDERS, now=START - timedelta(days=7)) == []


def test_schedule_names_are_deterministic_distinct_and_valid_for_eventbridge() -> None:
    now = START - timedelta(days=40)
    longest = [rule(30 * 24 * 60, "email", "sms"), *DEFAULT_REMINDERS, rule(5, "sms")]
    first = plan_reminders(make_booking(START), longest, now)
    again = plan_reminders(make_booking(START), longest, now + timedelta(days=1))
    moved = plan_reminders(make_booking(START + timedelta(days=1)), longest, now)
    other = plan_reminders(make_booking(START, id="01KBZ6Q3R0AJ8M7T1OTHER0000"), longest, now)

    names = [p.name for p in first]
    assert names == [p.name for p in again]  # planned again later: the same schedules
    assert len(set(names)) == len(names)
    assert not set(names) & {p.name for p in moved}  # a new start: new schedules
    assert not set(names) & {p.name for p in other}
    for name in names + [p.name for p in moved + other]:
        assert SCHEDULE_NAME.match(name), name
    assert max(len(n) for n in names) <= 64
    # the communications-log key tells reminders and starts apart too
    assert len({p.key for p in first + moved}) == len(first + moved)


def test_a_reminder_is_still_due_only_for_an_active_booking_at_its_planned_start() -> None:
    booking = make_booking(START)
    planned_start = booking.start
    send_at = START - timedelta(hours=1)

    assert still_due(booking, 60, planned_start, now=send_at) is None
    assert still_due(booking, 60, planned_start.astimezone(LONDON), now=send_at) is None  # same instant
    assert still_due(booking.model_copy(update={"status": BookingStatus.CANCELLED}), 60, planned_start) == (
        "booking is cancelled"
    )
    assert still_due(booking.model_copy(update={"status": BookingStatus.NO_SHOW}), 60, planned_start)
    rescheduled = booking.model_copy(update={"start": booking.start + timedelta(days=1)})
    reason = still_due(rescheduled, 60, planned_start, now=send_at)
    assert reason is not None
    assert "moved" in reason
    assert still_due(booking, 60, planned_start, now=booking.start + timedelta(minutes=1)) is not None


def test_reminder_rules_are_validated() -> None:
    assert rule(24 * 60, "email").channels == ["email"]
    assert rule(7, "email").minutes_before == 7  # minutes are minutes: no grid
    for bad in (
        {"minutes_before": 0, "channels": ["email"]},
        {"minutes_before": 60 * 24 * 31, "channels": ["email"]},  # more than 30 days ahead
        {"minutes_before": 60, "channels": []},
        {"minutes_before": 60, "channels": ["email", "email"]},
        {"minutes_before": 60, "channels": ["pigeon"]},
    ):
        with pytest.raises(ValidationError):
            ReminderRule.model_validate(bad)
    settings = {"name": "x", "slug": "xyz", "time_zone": "Europe/London", "currency": "GBP"}
    with pytest.raises(ValidationError):
        BusinessSettings.model_validate(
            {**settings, "reminders": [{"minutes_before": 60, "channels": ["sms"]}] * 6}
        )


def test_a_service_s_own_cadence_wins_over_the_business_s() -> None:
    business = make_business(reminders=[rule(120, "sms")])
    plain = Service(id="svc-swedish", name="Swedish massage", duration_minutes=60, price_minor=6500)
    online = Service(
        id="svc-online",
        name="Online consultation",
        duration_minutes=30,
        price_minor=0,
        reminders=[rule(3 * 24 * 60, "email"), rule(15, "email", "sms")],
    )
    catalogue = Catalogue(business=business, categories=(), services=(plain, online), staff=())
    booking = make_booking(START)
    assert list(reminder_rules(catalogue, booking)) == [rule(120, "sms")]
    with_online = booking.model_copy(
        update={"services": [*booking.services, booking.services[0].model_copy(update={"id": "svc-online"})]}
    )
    assert list(reminder_rules(catalogue, with_online)) == online.reminders
    defaults = Catalogue(business=make_business(), categories=(), services=(plain,), staff=())
    assert tuple(reminder_rules(defaults, booking)) == DEFAULT_REMINDERS


# --- messages -------------------------------------------------------------------------------------------


def confirmation(**overrides: Any) -> Any:
    business = overrides.pop("business", make_business())
    booking = overrides.pop("booking", make_booking(START))
    return customer_message(
        "confirmation", booking, business, staff_name="Amelia Hart", manage_url=MANAGE_URL, **overrides
    )


def test_times_are_shown_in_the_business_zone_with_the_zone_named() -> None:
    content = confirmation()
    assert "Wednesday 10 June 2026 at 14:00 (BST, Europe/London)" in content.text
    assert "Wednesday 10 June 2026 at 14:00 (BST, Europe/London)" in content.html
    assert content.subject == "Booking confirmed: Swedish massage, Wed 10 Jun 14:00"
    assert "Wed 10 Jun 14:00" in (content.sms or "")
    for shown in (content.text, content.html, content.subject, content.sms or ""):
        assert "13:00" not in shown  # the UTC time is never shown

    winter = confirmation(booking=make_booking(datetime(2026, 12, 1, 9, 30, tzinfo=LONDON)))
    assert "Tuesday 1 December 2026 at 09:30 (GMT, Europe/London)" in winter.text

    new_york = make_business(time_zone="America/New_York", currency="USD")
    evening = make_booking(datetime(2026, 6, 10, 19, 0, tzinfo=ZoneInfo("America/New_York")))  # 23:00 UTC
    content = confirmation(business=new_york, booking=evening)
    assert "Wednesday 10 June 2026 at 19:00 (EDT, America/New_York)" in content.text
    assert "23:00" not in content.text


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (6500, "GBP", "£65.00"),
        (1000, "JPY", "¥1,000"),
        (0, "USD", "$0.00"),
        (123456, "EUR", "€1,234.56"),
        (12345, "BHD", "BHD12.345"),  # three decimal places
        (250050, "RSD", "RSD2,500.50"),  # ISO 4217 says two decimals, though CLDR shows none
        (1500, "IQD", "IQD1.500"),
    ],
)
def test_money_is_formatted_for_its_currency(amount: int, currency: str, shown: str) -> None:
    assert format_money(amount, currency) == shown
    booking = make_booking(START, price_minor=amount, currency=currency)
    content = confirmation(booking=booking, business=make_business(currency=currency))
    assert f"Price: {shown}" in content.text
    assert shown in content.html


def test_the_confirmation_has_the_business_details_and_the_manage_link() -> None:
    content = confirmation()
    assert content.text.startswith("Hi Ada Lovelace, your booking with Serenity Day Spa is confirmed.")
    for detail in ("Swedish massage", "With:  Amelia Hart", "Where: 1 High Street, Bath", "+441225123456"):
        assert detail in content.text
    assert f"View, reschedule or cancel: {MANAGE_URL}" in content.text
    assert f'<a href="{MANAGE_URL}">' in content.html
    assert 'href="mailto:hello@serenity.example"' in content.html
    assert "invite is attached" in content.html


def test_html_escapes_what_customers_and_owners_typed_and_plain_text_keeps_it() -> None:
    customer = CustomerDetails(name="<script>alert(1)</script> Ann", email="ann@customers.example")
    booking = make_booking(START, customer=customer, customer_notes='Allergic to "nuts" & <b>latex</b>')
    business = make_business(name="Tom & Jerry's <Spa>", address="1 <High> St")

    content = customer_message(
        "confirmation", booking, business, staff_name="Amélie <3", manage_url=MANAGE_URL + "&x=1"
    )
    assert "<script>" not in content.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Ann" in content.html
    assert "Tom &amp; Jerry&#39;s &lt;Spa&gt;" in content.html
    assert "1 &lt;High&gt; St" in content.html
    assert "Amélie &lt;3" in content.html
    assert f'href="{MANAGE_URL}&amp;x=1"' in content.html
    assert "Hi <script>alert(1)</script> Ann" in content.text  # plain text is not HTML
    assert "Tom & Jerry's <Spa>" in content.text

    notice = staff_message("staff_new", booking, business, staff_name="Amelia Hart")
    assert "<b>latex</b>" not in notice.html
    assert "Allergic to &#34;nuts&#34; &amp; &lt;b&gt;latex&lt;/b&gt;" in notice.html
    assert 'Notes:  Allergic to "nuts" & <b>latex</b>' in notice.text


def test_texts_are_one_short_line_with_the_manage_link() -> None:
    booking = make_booking(START)
    business = make_business()
    kinds: tuple[CustomerKind, ...] = ("confirmation", "rescheduled", "reminder")
    for kind in kinds:
        sms = customer_message(
            kind, booking, business, staff_name="Amelia Hart", manage_url=MANAGE_URL, minutes_before=60
        ).sms
        assert sms is not None
        assert sms.startswith("Serenity Day Spa: ")
        assert sms.endswith(f"Manage: {MANAGE_URL}")
        assert "\n" not in sms
        assert "<" not in sms
        assert len(sms) <= 2 * 153  # at most two concatenated GSM segments, with a real manage link
    cancellation = customer_message(
        "cancellation", booking, business, staff_name=None, manage_url=MANAGE_URL
    ).sms
    assert cancellation == "Serenity Day Spa: your Wed 10 Jun 14:00 booking is cancelled."
    long_services = booking.model_copy(
        update={
            "services": [
                booking.services[0].model_copy(update={"name": "Hot stone massage with aromatherapy oils"})
            ]
            * 3
        }
    )
    sms = customer_message(
        "confirmation", long_services, business, staff_name=None, manage_url=MANAGE_URL
    ).sms
    assert sms is not None
    assert "..." in sms  # the services are shortened in a text, never in an email
    assert len(sms) <= 2 * 153


@pytest.mark.parametrize(
    ("minutes", "phrase"),
    [
        (24 * 60, "tomorrow"),
        (3 * 24 * 60, "in 3 days"),
        (60, "in an hour"),
        (3 * 60, "in 3 hours"),
        (30, "in 30 minutes"),
        (90, "in 90 minutes"),
    ],
)
def test_a_reminder_says_how_soon_the_appointment_is(minutes: int, phrase: str) -> None:
    content = customer_message(
        "reminder",
        make_booking(START),
        make_business(),
        staff_name="Amelia Hart",
        manage_url=MANAGE_URL,
        minutes_before=minutes,
    )
    assert f"a reminder of your appointment with Serenity Day Spa {phrase}." in content.text
    assert f"a reminder of your appointment {phrase}." in content.html
    assert content.subject == "Reminder: Swedish massage, Wed 10 Jun 14:00"


def test_a_reschedule_names_the_old_and_the_new_time_and_a_cancellation_its_reason() -> None:
    old = make_booking(START)
    new = old.model_copy(update={"start": old.start + timedelta(days=2), "end": old.end + timedelta(days=2)})
    moved = customer_message(
        "rescheduled", new, make_business(), staff_name="Amelia Hart", manage_url=MANAGE_URL, previous=old
    )
    assert "has moved from Wednesday 10 June 2026 at 14:00 (BST, Europe/London)." in moved.text
    assert "New time: Friday 12 June 2026 at 14:00 (BST, Europe/London)" in moved.text
    assert moved.subject == "Booking moved: Swedish massage, now Fri 12 Jun 14:00"

    gone = old.model_copy(update={"status": BookingStatus.CANCELLED, "cancellation_reason": "Feeling unwell"})
    cancelled = customer_message(
        "cancellation", gone, make_business(), staff_name=None, manage_url=MANAGE_URL
    )
    assert (
        "for Swedish massage on Wednesday 10 June 2026 at 14:00 (BST, Europe/London) has been cancelled"
        in (cancelled.text)
    )
    assert "(Feeling unwell)" in cancelled.text
    assert cancelled.subject == "Booking cancelled: Swedish massage, Wed 10 Jun 14:00"


def test_staff_notices_say_what_happened_without_the_customer_s_manage_link() -> None:
    old = make_booking(START, customer_notes="First visit")
    new = old.model_copy(
        update={"start": old.start + timedelta(hours=3), "end": old.end + timedelta(hours=3)}
    )
    business = make_business()
    cases: dict[StaffKind, tuple[str, str]] = {
        "staff_new": ("New booking: Ada Lovelace, Wed 10 Jun 17:00", "you have a new booking"),
        "staff_moved": (
            "Booking moved: Ada Lovelace, now Wed 10 Jun 17:00",
            "one of your bookings has moved",
        ),
        "staff_cancelled": (
            "Booking cancelled: Ada Lovelace, Wed 10 Jun 17:00",
            "one of your bookings was cancelled",
        ),
        "staff_removed": (
            "Booking reassigned away from you: Ada Lovelace, Wed 10 Jun 17:00",
            "a booking was moved to a colleague",
        ),
    }
    for kind, (subject, headline) in cases.items():
        notice = staff_message(kind, new, business, staff_name="Amelia Hart", previous=old)
        assert notice.subject == subject
        assert notice.text.startswith(f"Hi Amelia Hart, {headline}.")
        assert "When:   Wednesday 10 June 2026 at 17:00 (BST, Europe/London)" in notice.text
        assert "Was:    Wednesday 10 June 2026 at 14:00 (BST, Europe/London)" in notice.text
        assert "Notes:  First visit" in notice.text
        assert "token=" not in notice.text + notice.html
        assert notice.sms is None


def test_the_login_code_email() -> None:
    content = login_code_message(make_business(), "482913", 10)
    assert content.subject == "482913 is your Serenity Day Spa sign-in code"
    assert "Your sign-in code for Serenity Day Spa is 482913." in content.text
    assert "It expires in 10 minutes." in content.text
    assert "<strong>482913</strong>" in content.html
    assert content.sms is None


def test_no_message_shows_a_raw_utc_timestamp() -> None:
    booking = make_booking(datetime(2026, 6, 10, 23, 30, tzinfo=UTC), cancellation_reason="x")
    business = make_business(time_zone="Asia/Tokyo", currency="JPY")  # 08:30 the next morning in Tokyo
    kinds: tuple[CustomerKind, ...] = ("confirmation", "rescheduled", "cancellation", "reminder")
    for kind in kinds:
        content = customer_message(
            kind,
            booking,
            business,
            staff_name=None,
            manage_url=MANAGE_URL,
            minutes_before=60,
            previous=booking,
        )
        for shown in (content.subject, content.text, content.html, content.sms or ""):
            assert "23:30" not in shown
            assert "+00:00" not in shown
            assert "UTC" not in shown
        assert "Thursday 11 June 2026 at 08:30 (JST, Asia/Tokyo)" in content.text


# --- long jobs, addresses on several lines, and series ---------------------------------------------------

TWO_LINES = "4 Mill Lane\r\n  Bath BA2 3AB  \n"  # as typed, with a Windows line end and stray spaces


@pytest.mark.parametrize("kind", ["confirmation", "reminder", "rescheduled"])
def test_a_job_over_two_days_shows_its_end_as_well_as_its_start(kind: CustomerKind) -> None:
    job = make_booking(datetime(2026, 12, 14, 8, 0, tzinfo=LONDON), minutes=33 * 60)  # to Tuesday 17:00
    content = customer_message(
        kind,
        job,
        make_business(),
        staff_name="Amelia Hart",
        manage_url=MANAGE_URL,
        minutes_before=24 * 60,
        previous=job.model_copy(update={"start": job.start - timedelta(days=1)}),
    )
    span = "Monday 14 December 2026 08:00 \u2013 Tuesday 15 December 2026 17:00 (GMT, Europe/London)"
    label = "New time:" if kind == "rescheduled" else "When: "
    assert f"{label} {span}" in content.text
    assert span in content.html


def test_a_half_day_shows_its_end_a_short_appointment_only_its_start() -> None:
    morning = make_booking(datetime(2026, 12, 14, 8, 0, tzinfo=LONDON), minutes=4 * 60)
    content = confirmation(booking=morning)
    assert "When:  Monday 14 December 2026 08:00 \u2013 12:00 (GMT, Europe/London)" in content.text
    massage = confirmation(booking=make_booking(datetime(2026, 12, 14, 8, 0, tzinfo=LONDON), minutes=90))
    assert "When:  Monday 14 December 2026 at 08:00 (GMT, Europe/London)" in massage.text
    assert "\u2013" not in massage.text
    # a job the clocks change during names each time's zone; the subject and text keep the start
    autumn = make_booking(datetime(2026, 10, 24, 8, 0, tzinfo=LONDON), minutes=57 * 60)  # to Monday 17:00
    content = confirmation(booking=autumn)
    assert (
        "Saturday 24 October 2026 08:00 BST \u2013 Monday 26 October 2026 16:00 GMT (Europe/London)"
        in content.text
    )
    assert content.subject == "Booking confirmed: Swedish massage, Sat 24 Oct 08:00"
    assert "Sat 24 Oct 08:00" in (content.sms or "")


def test_a_long_job_for_a_customer_elsewhere_shows_both_clocks() -> None:
    customer = CustomerDetails(
        name="Ada Lovelace", email="ada@customers.example", time_zone="America/New_York"
    )
    job = make_booking(datetime(2026, 12, 14, 8, 0, tzinfo=LONDON), minutes=33 * 60, customer=customer)
    content = confirmation(booking=job)
    assert (
        "Monday 14 December 2026 03:00 \u2013 Tuesday 15 December 2026 12:00 (EST, America/New_York)"
        " \u2014 08:00 \u2013 Tuesday 15 December 17:00 GMT in Europe/London, the business's time"
    ) in content.text


@pytest.mark.parametrize("kind", ["confirmation", "reminder", "rescheduled"])
def test_an_address_on_two_lines_keeps_its_lines_in_html_and_one_block_in_text(kind: CustomerKind) -> None:
    job = make_booking(START, minutes=8 * 60, job_address='Flat 2 "The <Old> Mill"\r\n  Bath BA2 3AB  \n')
    content = customer_message(
        kind, job, make_business(), staff_name="Amelia Hart", manage_url=MANAGE_URL, minutes_before=60
    )
    assert "Flat 2 &#34;The &lt;Old&gt; Mill&#34;<br>Bath BA2 3AB</td>" in content.html
    assert "<Old>" not in content.html
    lines = content.text.splitlines()
    label = "Where:    " if kind == "rescheduled" else "Where: "
    first = lines.index(f'{label}Flat 2 "The <Old> Mill"')
    # the second line sits under the first, and the details go on below
    assert lines[first + 1] == " " * len(label) + "Bath BA2 3AB"
    assert not lines[first + 2].startswith(" ")
    assert "\r" not in content.text


def test_staff_notices_show_the_job_address_and_its_whole_span() -> None:
    job = make_booking(datetime(2026, 12, 14, 8, 0, tzinfo=LONDON), minutes=33 * 60, job_address=TWO_LINES)
    before = job.model_copy(
        update={"start": job.start - timedelta(days=7), "end": job.end - timedelta(days=7)}
    )
    kinds: tuple[StaffKind, ...] = ("staff_new", "staff_moved", "staff_removed", "staff_cancelled")
    for kind in kinds:
        notice = staff_message(kind, job, make_business(), staff_name="Amelia Hart", previous=before)
        assert "Where:  4 Mill Lane\n        Bath BA2 3AB\n" in notice.text, kind
        assert "4 Mill Lane<br>Bath BA2 3AB" in notice.html, kind
        assert (
            "When:   Monday 14 December 2026 08:00 \u2013 Tuesday 15 December 2026 17:00 (GMT, Europe/London)"
            in notice.text
        ), kind
    # a booking at the business names no address of its own
    plain = staff_message("staff_new", make_booking(START), make_business(), staff_name="Amelia Hart")
    assert "Where" not in plain.text + plain.html


def online_session(n: int, start: datetime, **fields: Any) -> Any:
    meeting = Meeting(
        status="ready",
        provider="zoom",
        join_url=f"https://zoom.us/j/{n}",
        host_url=f"https://zoom.us/s/{n}?zak=host",
        passcode=f"p{n}",
    )
    return make_booking(start, id=f"session-{n}", delivery="online", meeting=meeting, **fields)


def test_a_series_confirmation_lists_every_session_with_its_own_link() -> None:
    sessions = [online_session(n, START + timedelta(weeks=n), series_index=n) for n in range(3)]
    sessions.append(online_session(3, START + timedelta(weeks=3), status=BookingStatus.CANCELLED))
    content = customer_message(
        "series_confirmation",
        sessions[0],
        make_business(),
        staff_name="Amelia Hart",
        manage_url=MANAGE_URL,
        sessions=sessions,
    )
    assert "your 3 sessions with Serenity Day Spa are booked" in content.text
    for n, day in enumerate(("Wednesday 10 June", "Wednesday 17 June", "Wednesday 24 June")):
        assert (
            f"  {n + 1}. {day} 2026 at 14:00 (BST, Europe/London)\n     Join: https://zoom.us/j/{n} (passcode p{n})"
            in content.text
        )
        assert f'href="https://zoom.us/j/{n}"' in content.html
    assert "zoom.us/j/3" not in content.text + content.html  # the cancelled one is not listed
    assert "zak=host" not in content.text + content.html  # never a host link to a customer


def test_a_new_series_tells_staff_every_session_with_its_host_link() -> None:
    waiting = make_booking(START + timedelta(weeks=2), id="session-2", delivery="online", meeting=None)
    failed = make_booking(
        START + timedelta(weeks=3),
        id="session-3",
        delivery="online",
        meeting=Meeting(status="failed", provider="zoom", reason="Invalid access token."),
    )
    sessions = [online_session(0, START), online_session(1, START + timedelta(weeks=1)), waiting, failed]
    notice = staff_message(
        "staff_new", sessions[0], make_business(), staff_name="Amelia Hart", sessions=sessions
    )
    assert notice.subject == "New series: Ada Lovelace, 4 sessions from Wed 10 Jun 14:00"
    assert notice.text.startswith("Hi Amelia Hart, you have a new series of 4 sessions.")
    assert (
        "  1. Wednesday 10 June 2026 at 14:00 (BST, Europe/London)\n     Start the call: https://zoom.us/s/0?zak=host"
        in notice.text
    )
    assert "Start the call: https://zoom.us/s/1?zak=host" in notice.text
    assert (
        "  3. Wednesday 24 June 2026 at 14:00 (BST, Europe/London)\n     No meeting link yet: it will be sent when it is made."
        in notice.text
    )
    assert "The link could not be made (see the separate message)." in notice.text
    assert 'href="https://zoom.us/s/1?zak=host"' in notice.html
    assert "zoom.us/j/" not in notice.text + notice.html  # the client's links are not the host's
    assert "no meeting link yet\n" not in notice.text  # no "Online: no meeting link yet" for the series


def test_staff_hear_when_a_meeting_link_is_ready_with_the_host_link() -> None:
    booking = online_session(5, START)
    notice = staff_message("staff_meeting_link", booking, make_business(), staff_name="Amelia Hart")
    assert notice.subject == "Meeting link ready: Ada Lovelace, Wed 10 Jun 14:00"
    assert "the meeting link for one of your bookings is ready" in notice.text
    assert "Online: start the call at https://zoom.us/s/5?zak=host" in notice.text
    assert "zoom.us/j/5" not in notice.text + notice.html
    changed = staff_message(
        "staff_meeting_link", booking, make_business(), staff_name="Amelia Hart", link_changed=True
    )
    assert "the meeting link for one of your bookings has changed" in changed.text
