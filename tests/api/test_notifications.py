"""Confirmations, reschedule and cancellation messages, staff notices, reminders and the communications log,
end to end through the real adapters on the embedded AWS.

Bookings are made and changed through the real booking-API handler; the booking table's stream is read
through the DynamoDB Streams API and delivered to the real reminders handler by the local dispatcher (as
Lambda's event source mapping would); reminder schedules are read back from EventBridge Scheduler and their
input handed to the same handler (as the scheduler would); what SES and SNS received is read back through
the local outbox. The notification service runs on a clock the tests move; the booking API on the real one.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.support.lambda_api import LambdaApi
from tests.support.notification_fixtures import (
    Customer,
    MakeTenant,
    ManualClock,
    Salon,
    StreamTap,
    at_expression,
    book,
    build_salon,
    emails,
    invite_of,
    messages_to,
    new_customer,
    parse_with_icalendar,
    parse_with_icaljs,
    texts,
    utc_instant,
)
from tests.support.notification_wiring import DIARY, Notifications, booked, context, entry, raw_email
from tests.support.requests_fixtures import build_contractor, onboarded_customer, submit

# --- confirmation ---------------------------------------------------------------------------------------


def check_confirmation_email(
    email: dict[str, Any], booking: dict[str, Any], salon: Salon, customer: Customer, sender: str
) -> None:
    start = utc_instant(booking["start"])
    assert email["subject"].startswith("Booking confirmed: Swedish massage, ")
    assert email["from"] == f"Serenity Day Spa <{sender}>"
    local = start.astimezone(salon.zone)
    assert (
        f"{local:%A} {local.day} {local:%B %Y} at {local:%H:%M} ({local:%Z}, Europe/London)" in email["text"]
    )
    assert "£65.00" in email["text"]
    assert "£65.00" in email["html"]
    assert "1 High Street, Bath" in email["text"]
    assert booking["manage_url"] in email["text"]
    assert f'href="{booking["manage_url"]}"' in email["html"]
    invite = invite_of(email)
    assert (invite["filename"], invite["method"]) == ("invite.ics", "REQUEST")

    calendar, event = parse_with_icalendar(invite["content"])
    assert calendar["METHOD"] == "REQUEST"
    assert event.decoded("DTSTART") == start
    assert str(event["DTSTART"].params["TZID"]) == "Europe/London"
    seen = parse_with_icaljs(invite["content"])
    assert (seen["method"], seen["sequence"], seen["status"]) == ("REQUEST", 0, "CONFIRMED")
    assert utc_instant(seen["dtstart"]["utc"]) == start
    assert utc_instant(seen["dtend"]["utc"]) == start + timedelta(hours=1)
    assert seen["attendee"]["value"] == f"mailto:{customer.email}"
    assert seen["organizer"]["value"] == "mailto:hello@serenity.example"
    assert booking["manage_url"] in seen["description"]


def check_reminder_schedules(
    schedules: dict[str, dict[str, Any]], booking: dict[str, Any], salon: Salon, function_arn: str
) -> None:
    """Two one-time schedules, 24 hours and 1 hour before, that delete themselves once they have fired."""
    start = utc_instant(booking["start"])
    by_minutes = {json.loads(s["Target"]["Input"])["minutes_before"]: s for s in schedules.values()}
    assert sorted(by_minutes) == [60, 1440]
    for minutes, schedule in by_minutes.items():
        assert schedule["ScheduleExpression"] == at_expression(start - timedelta(minutes=minutes))
        assert schedule["ScheduleExpressionTimezone"] == "UTC"
        assert schedule["ActionAfterCompletion"] == "DELETE"
        assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
        assert schedule["Target"]["Arn"] == function_arn
        payload = json.loads(schedule["Target"]["Input"])
        assert (payload["type"], payload["booking_id"], payload["tenant_id"]) == (
            "reminder",
            booking["id"],
            salon.tenant.id,
        )
        assert datetime.fromisoformat(payload["planned_start"]) == start
        assert payload["channels"] == ["email", "sms"]


def test_a_booking_gets_a_confirmation_with_invite_an_sms_a_staff_notice_and_two_reminders(
    notifications: Notifications, salon: Salon
) -> None:
    customer = new_customer()
    start = salon.at(salon.day(5), "10:00")
    booking, sent = booked(notifications, salon, start, customer)

    # the customer: one email with the invite, one text
    [email] = emails(sent, customer.email)
    check_confirmation_email(email, booking, salon, customer, notifications.resources.sender_email)
    # replies reach the business, not the no-reply sender
    assert raw_email(email["id"], notifications.resources.region)["Reply-To"] == "hello@serenity.example"
    [sms] = texts(sent, customer.phone)
    assert sms["text"].startswith("Serenity Day Spa: booked Swedish massage ")
    assert booking["manage_url"] in sms["text"]

    # the staff member: one notice with their own copy of the invite, never the customer's manage link
    [notice] = emails(sent, salon.staff_email)
    assert notice["subject"].startswith("New booking: Ada Lovelace, ")
    assert "Hi Amelia Hart, you have a new booking." in notice["text"]
    staff_copy = parse_with_icaljs(invite_of(notice)["content"])
    assert (staff_copy["method"], staff_copy["attendee"]["value"]) == (
        "REQUEST",
        f"mailto:{salon.staff_email}",
    )
    assert utc_instant(staff_copy["dtstart"]["utc"]) == start
    assert booking["manage_token"] not in notice["text"] + notice["html"] + invite_of(notice)["content"]

    schedules = notifications.schedules(booking["id"])
    check_reminder_schedules(
        schedules, booking, salon, notifications.resources.environment()["REMINDERS_FUNCTION_ARN"]
    )

    # the admin booking detail: what was sent, and what is still scheduled
    log = notifications.log(salon, booking["id"])
    confirmation = entry(log, "confirmation", "email")
    assert (confirmation["status"], confirmation["recipient"]) == ("sent", customer.email)
    assert confirmation["provider_message_id"] == email["id"]
    text = entry(log, "confirmation", "sms")
    assert (text["status"], text["recipient"], text["provider_message_id"]) == (
        "sent",
        customer.phone,
        sms["id"],
    )
    staff = entry(log, "staff_new", "email")
    assert (staff["status"], staff["audience"], staff["recipient"]) == ("sent", "staff", salon.staff_email)
    assert staff["provider_message_id"] == notice["id"]
    scheduled = [e for e in log if e["channel"] == "schedule"]
    assert {e["status"] for e in scheduled} == {"scheduled"}
    assert sorted(utc_instant(e["send_at"]) for e in scheduled) == [
        start - timedelta(hours=24),
        start - timedelta(hours=1),
    ]
    assert len(log) == 5


def test_delivering_the_same_changes_again_sends_nothing_more(
    notifications: Notifications, salon: Salon
) -> None:
    customer = new_customer()
    tap = StreamTap(notifications.aws, notifications.resources.table_name)
    booking, first = booked(notifications, salon, salon.at(salon.day(4), "11:00"), customer)
    records = tap.records()
    assert [r["eventName"] for r in records] == ["INSERT"]
    ours = messages_to(first, customer.email, customer.phone, salon.staff_email)
    assert len(ours) == 3
    log_before = notifications.log(salon, booking["id"])

    # Lambda delivers a stream batch at least once: twice more, and from a fresh container
    notifications.redeliver(records)
    notifications.install()
    notifications.redeliver(records)

    again = messages_to(notifications.sent(), customer.email, customer.phone, salon.staff_email)
    assert [m["id"] for m in again] == [m["id"] for m in ours]
    assert len(notifications.schedules(booking["id"])) == 2
    assert notifications.log(salon, booking["id"]) == log_before


# --- reschedule -----------------------------------------------------------------------------------------


def test_a_reschedule_moves_the_reminders_and_sends_an_updated_invite(
    notifications: Notifications, salon: Salon
) -> None:
    customer = new_customer()
    old_start = salon.at(salon.day(4), "10:00")
    booking, sent = booked(notifications, salon, old_start, customer)
    [confirmation] = emails(sent, customer.email)
    first_invite = parse_with_icaljs(invite_of(confirmation)["content"])
    old_schedules = notifications.schedules(booking["id"])
    assert len(old_schedules) == 2

    new_start = salon.at(salon.day(6), "14:00")
    notifications.manage(booking, "reschedule", {"start": new_start.isoformat()})
    sent = notifications.deliver()

    [moved, _] = emails(sent, customer.email)  # newest first
    assert moved["subject"].startswith("Booking moved: Swedish massage, now ")
    assert f"at 14:00 ({new_start.astimezone(salon.zone).tzname()}, Europe/London)" in moved["text"]
    assert f"from {old_start.astimezone(salon.zone):%A} {old_start.day}" in moved["text"]
    invite = invite_of(moved)
    assert invite["method"] == "REQUEST"
    updated = parse_with_icaljs(invite["content"])
    assert updated["method"] == "REQUEST"
    assert updated["uid"] == first_invite["uid"]
    assert updated["sequence"] > first_invite["sequence"]
    assert utc_instant(updated["dtstart"]["utc"]) == new_start
    _, event = parse_with_icalendar(invite["content"])
    assert event.decoded("DTSTART") == new_start
    assert event.decoded("SEQUENCE") == updated["sequence"]

    [text, _] = texts(sent, customer.phone)
    assert text["text"].startswith("Serenity Day Spa: your booking moved to ")
    [notice, _] = emails(sent, salon.staff_email)
    assert notice["subject"].startswith("Booking moved: Ada Lovelace, now ")

    # the old schedules are gone and the new ones are at the new times
    schedules = notifications.schedules(booking["id"])
    assert len(schedules) == 2
    assert not set(schedules) & set(old_schedules)
    assert sorted(s["ScheduleExpression"] for s in schedules.values()) == sorted(
        [at_expression(new_start - timedelta(hours=24)), at_expression(new_start - timedelta(hours=1))]
    )
    log = notifications.log(salon, booking["id"])
    assert sorted(utc_instant(e["send_at"]) for e in log if e["status"] == "unscheduled") == [
        old_start - timedelta(hours=24),
        old_start - timedelta(hours=1),
    ]
    assert sorted(utc_instant(e["send_at"]) for e in log if e["status"] == "scheduled") == [
        new_start - timedelta(hours=24),
        new_start - timedelta(hours=1),
    ]

    # had an old schedule still fired, it would remind of nothing: the booking moved
    count = len(notifications.sent())
    stale = old_schedules[next(n for n in old_schedules if "-1440m-" in n)]
    notifications.fire(stale)
    assert len(notifications.sent()) == count
    skipped = [e for e in notifications.log(salon, booking["id"]) if e["status"] == "skipped"]
    assert {e["channel"] for e in skipped} == {"email", "sms"}
    assert all("moved" in e["detail"] for e in skipped)

    # the reminder for the new time goes out, about the new time
    notifications.fire(schedules[next(n for n in schedules if "-1440m-" in n)])
    [reminder, *_] = emails(notifications.sent(), customer.email)
    assert reminder["subject"].startswith("Reminder: Swedish massage, ")
    assert f"at 14:00 ({new_start.astimezone(salon.zone).tzname()}, Europe/London)" in reminder["text"]


# --- cancellation ---------------------------------------------------------------------------------------


def test_a_cancellation_deletes_the_reminders_and_sends_method_cancel(
    notifications: Notifications, salon: Salon
) -> None:
    customer = new_customer()
    start = salon.at(salon.day(5), "15:00")
    booking, sent = booked(notifications, salon, start, customer)
    [confirmation] = emails(sent, customer.email)
    first_invite = parse_with_icaljs(invite_of(confirmation)["content"])
    schedules = notifications.schedules(booking["id"])
    assert len(schedules) == 2

    notifications.manage(booking, "cancel", {"reason": "Feeling unwell"})
    sent = notifications.deliver()

    assert notifications.schedules(booking["id"]) == {}
    [cancellation, _] = emails(sent, customer.email)
    assert cancellation["subject"].startswith("Booking cancelled: Swedish massage, ")
    assert "has been cancelled (Feeling unwell)" in cancellation["text"]
    invite = invite_of(cancellation)
    assert invite["method"] == "CANCEL"
    cancel = parse_with_icaljs(invite["content"])
    assert (cancel["method"], cancel["status"]) == ("CANCEL", "CANCELLED")
    assert cancel["uid"] == first_invite["uid"]
    assert cancel["sequence"] > first_invite["sequence"]
    assert utc_instant(cancel["dtstart"]["utc"]) == start
    calendar, event = parse_with_icalendar(invite["content"])
    assert (calendar["METHOD"], event["STATUS"]) == ("CANCEL", "CANCELLED")
    [text, _] = texts(sent, customer.phone)
    assert "cancelled" in text["text"]
    [notice, _] = emails(sent, salon.staff_email)
    assert notice["subject"].startswith("Booking cancelled: Ada Lovelace, ")

    log = notifications.log(salon, booking["id"])
    assert entry(log, "cancellation", "email")["status"] == "sent"
    assert [e["status"] for e in log if e["channel"] == "schedule"] == ["unscheduled", "unscheduled"]

    # a schedule that fires anyway (deleted too late, say) sends nothing, and says why
    count = len(notifications.sent())
    for schedule in schedules.values():
        notifications.fire(schedule)
    assert len(notifications.sent()) == count
    skipped = [e for e in notifications.log(salon, booking["id"]) if e["kind"] == "reminder"]
    skipped = [e for e in skipped if e["channel"] != "schedule"]
    assert len(skipped) == 4  # two reminders, email and SMS each
    assert {(e["status"], e["detail"]) for e in skipped} == {("skipped", "booking is cancelled")}

    # the invite behind the manage link now cancels the event too
    download = notifications.api.get(
        f"/v1/public/bookings/{booking['id']}/invite.ics?token={booking['manage_token']}"
    )
    assert download.status == 200
    assert parse_with_icaljs(download.text)["method"] == "CANCEL"


# --- reminders ------------------------------------------------------------------------------------------


def test_each_reminder_is_sent_once_even_when_its_schedule_fires_twice(
    notifications: Notifications, salon: Salon
) -> None:
    customer = new_customer()
    start = salon.at(salon.day(3), "09:30")
    booking, _ = booked(notifications, salon, start, customer)
    schedules = notifications.schedules(booking["id"])
    day_before = schedules[next(n for n in schedules if "-1440m-" in n)]
    hour_before = schedules[next(n for n in schedules if "-60m-" in n)]
    before = len(messages_to(notifications.sent(), customer.email, customer.phone))

    notifications.fire(day_before)
    notifications.fire(day_before)  # the scheduler delivers at least once
    ours = messages_to(notifications.sent(), customer.email, customer.phone)
    assert len(ours) == before + 2
    [email] = emails(ours[:2], customer.email)
    [sms] = texts(ours[:2], customer.phone)
    assert email["subject"].startswith("Reminder: Swedish massage, ")
    assert "a reminder of your appointment with Serenity Day Spa tomorrow" in email["text"]
    assert "at 09:30 (" in email["text"]
    assert email["attachments"] == []
    assert sms["text"].startswith("Serenity Day Spa: reminder, Swedish massage ")
    assert booking["manage_url"] in sms["text"]

    notifications.fire(hour_before)
    notifications.fire(hour_before)
    ours = messages_to(notifications.sent(), customer.email, customer.phone)
    assert len(ours) == before + 4
    [email] = emails(ours[:2], customer.email)
    assert "a reminder of your appointment with Serenity Day Spa in an hour" in email["text"]

    reminders = [
        e
        for e in notifications.log(salon, booking["id"])
        if e["kind"] == "reminder" and e["status"] == "sent"
    ]
    assert sorted((e["key"].split("@")[0], e["channel"]) for e in reminders) == [
        ("reminder-1440m", "email"),
        ("reminder-1440m", "sms"),
        ("reminder-60m", "email"),
        ("reminder-60m", "sms"),
    ]
    assert all(e["provider_message_id"] for e in reminders)
    # The log no longer shows them as still to come.
    schedule_entries = [e for e in notifications.log(salon, booking["id"]) if e["channel"] == "schedule"]
    assert sorted(e["status"] for e in schedule_entries) == ["fired", "fired"]


def test_reminders_follow_the_business_cadence_and_a_service_override(
    notifications: Notifications, api: LambdaApi, make_tenant: MakeTenant
) -> None:
    business_cadence = [{"minutes_before": 2 * 24 * 60, "channels": ["sms"]}]
    salon = build_salon(api, make_tenant, reminders=business_cadence)
    consultation = {
        "name": "Online consultation",
        "duration_minutes": 30,
        "price_minor": 0,
        "delivery_mode": "online",
        "staff_ids": [salon.staff_id],
        "reminders": [
            {"minutes_before": 3 * 24 * 60, "channels": ["email"]},
            {"minutes_before": 24 * 60, "channels": ["email"]},
            {"minutes_before": 15, "channels": ["email", "sms"]},
        ],
    }
    response = api.post("/v1/admin/services", token=salon.tenant.token(), json_body=consultation)
    assert response.status == 201, response.text
    consultation_id = response.json()["id"]

    start, call_start = salon.at(salon.day(6), "10:00"), salon.at(salon.day(6), "12:00")
    massage, _ = booked(notifications, salon, start, new_customer())
    call = api.post(
        f"/v1/public/businesses/{salon.slug}/bookings",
        json_body={
            "services": [consultation_id],
            "start": call_start.isoformat(),
            "customer": new_customer().body(),
        },
        headers={"Idempotency-Key": secrets.token_hex(8)},
    )
    assert call.status == 201, call.text
    notifications.deliver()

    [massage_reminder] = notifications.schedules(massage["id"]).values()
    assert massage_reminder["ScheduleExpression"] == at_expression(start - timedelta(days=2))
    assert json.loads(massage_reminder["Target"]["Input"])["channels"] == ["sms"]

    planned = {
        s["ScheduleExpression"]: json.loads(s["Target"]["Input"])["channels"]
        for s in notifications.schedules(call.json()["id"]).values()
    }
    assert planned == {
        at_expression(call_start - timedelta(days=3)): ["email"],
        at_expression(call_start - timedelta(days=1)): ["email"],
        at_expression(call_start - timedelta(minutes=15)): ["email", "sms"],
    }
    # an online booking's invite and confirmation say so
    [confirmation] = emails(notifications.sent(), call.json()["customer"]["email"])
    assert parse_with_icaljs(invite_of(confirmation)["content"])["location"] == "Online"
    assert "£0.00" in confirmation["text"]


def test_a_change_delivered_late_schedules_only_the_reminders_still_ahead(
    notifications: Notifications, salon: Salon, clock: ManualClock
) -> None:
    customer = new_customer()
    start = salon.at(salon.day(3), "16:00")
    booking = book(notifications.api, salon, start, customer)
    clock.set(start - timedelta(hours=12))  # the stream reaches the function 12 hours before the start
    sent = notifications.deliver()

    assert len(emails(sent, customer.email)) == 1  # the confirmation still goes out
    [only] = notifications.schedules(booking["id"]).values()
    assert only["ScheduleExpression"] == at_expression(start - timedelta(hours=1))
    scheduled = [e for e in notifications.log(salon, booking["id"]) if e["channel"] == "schedule"]
    assert [utc_instant(e["send_at"]) for e in scheduled] == [start - timedelta(hours=1)]


# --- SMS: opt-out, no phone, business without SMS ---------------------------------------------------------


def test_a_customer_who_opts_out_of_texts_gets_email_only(notifications: Notifications, salon: Salon) -> None:
    customer = new_customer()
    booking, _ = booked(notifications, salon, salon.at(salon.day(4), "12:00"), customer)
    schedules = notifications.schedules(booking["id"])
    url = f"/v1/public/bookings/{booking['id']}/sms"

    assert notifications.api.put(f"{url}?token=forged.token", json_body={"enabled": False}).status == 401
    stop = notifications.api.put(f"{url}?token={booking['manage_token']}", json_body={"enabled": False})
    assert stop.status == 200, stop.text
    assert stop.json() == {"sms_enabled": False}

    texts_before = len(texts(notifications.sent(), customer.phone))
    notifications.fire(schedules[next(n for n in schedules if "-1440m-" in n)])
    sent = notifications.sent()
    assert len(texts(sent, customer.phone)) == texts_before
    assert emails(sent, customer.email)[0]["subject"].startswith("Reminder: ")
    log = notifications.log(salon, booking["id"])
    skipped = entry(log, "reminder", "sms", status="skipped")
    assert skipped["detail"] == "customer opted out of SMS"
    assert skipped["recipient"] == customer.phone

    # texts resume when the customer turns them back on
    resume = notifications.api.put(f"{url}?token={booking['manage_token']}", json_body={"enabled": True})
    assert resume.status == 200
    notifications.fire(schedules[next(n for n in schedules if "-60m-" in n)])
    assert len(texts(notifications.sent(), customer.phone)) == texts_before + 1


@pytest.mark.parametrize(
    ("settings", "phone", "reason"),
    [
        ({"sms_enabled": False}, True, "the business does not send SMS"),
        ({}, False, "no phone number"),
    ],
    ids=["business-sends-no-sms", "customer-without-phone"],
)
def test_texts_are_skipped_with_a_reason(
    notifications: Notifications,
    api: LambdaApi,
    make_tenant: MakeTenant,
    shared_salon: Salon,
    settings: dict[str, Any],
    phone: bool,
    reason: str,
) -> None:
    if settings:
        salon = build_salon(api, make_tenant, **settings)
    else:
        salon = dataclasses.replace(shared_salon, offset=next(DIARY))
    customer = new_customer(phone=phone)
    booking, sent = booked(notifications, salon, salon.at(salon.day(4), "13:30"), customer)

    assert len(emails(sent, customer.email)) == 1
    if customer.phone:
        assert texts(sent, customer.phone) == []
    text = entry(notifications.log(salon, booking["id"]), "confirmation", "sms")
    assert (text["status"], text["detail"]) == ("skipped", reason)
    assert text["provider_message_id"] is None


# --- provider failures ----------------------------------------------------------------------------------


def test_an_email_the_provider_refuses_is_recorded_failed_and_the_booking_stands(
    notifications: Notifications, salon: Salon, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a reminders function configured with a sender SES has not verified: SES refuses every email
    monkeypatch.setenv("SENDER_EMAIL", "no-reply@unverified.example")
    notifications.install()
    customer = new_customer()
    start = salon.at(salon.day(4), "14:30")
    booking, sent = booked(notifications, salon, start, customer)

    assert emails(sent, customer.email) == []
    assert emails(sent, salon.staff_email) == []
    assert len(texts(sent, customer.phone)) == 1  # the text still goes out
    log = notifications.log(salon, booking["id"])
    failed = entry(log, "confirmation", "email")
    assert failed["status"] == "failed"
    assert "SES" in failed["detail"]
    assert failed["provider_message_id"] is None
    assert entry(log, "staff_new", "email")["status"] == "failed"
    assert len(notifications.schedules(booking["id"])) == 2  # reminders are still planned

    detail = notifications.detail(salon, booking["id"])
    assert detail["status"] == "confirmed"
    assert utc_instant(detail["start"]) == start
    manage = notifications.api.get(f"/v1/public/bookings/{booking['id']}?token={booking['manage_token']}")
    assert manage.status == 200
    assert manage.json()["status"] == "confirmed"


# --- the invite download --------------------------------------------------------------------------------


def test_the_invite_downloads_with_the_manage_token_only(notifications: Notifications, salon: Salon) -> None:
    customer = new_customer()
    start = salon.at(salon.day(4), "16:00")
    booking = book(notifications.api, salon, start, customer)
    other = book(notifications.api, salon, salon.at(salon.day(4), "11:00"), new_customer())
    url = f"/v1/public/bookings/{booking['id']}/invite.ics"

    response = notifications.api.get(f"{url}?token={booking['manage_token']}")
    assert response.status == 200, response.text
    assert (response.header("Content-Type") or "").startswith("text/calendar")
    assert f'filename="booking-{booking["id"]}.ics"' in (response.header("Content-Disposition") or "")
    seen = parse_with_icaljs(response.text)
    assert (seen["method"], seen["status"], seen["sequence"]) == ("REQUEST", "CONFIRMED", 0)
    assert utc_instant(seen["dtstart"]["utc"]) == start
    assert seen["tzid"] == "Europe/London"
    assert seen["attendee"]["value"] == f"mailto:{customer.email}"
    assert booking["manage_url"] in seen["description"]
    _, event = parse_with_icalendar(response.text)
    assert event.decoded("DTSTART") == start

    for token in ("", "?token=nonsense", f"?token={other['manage_token']}"):
        refused = notifications.api.get(f"{url}{token}")
        assert refused.status == 401, (token, refused.text)
        assert "BEGIN:VCALENDAR" not in refused.text


# --- staff notices --------------------------------------------------------------------------------------


def test_reassigning_a_booking_tells_both_staff_members_and_keeps_the_reminders(
    notifications: Notifications, api: LambdaApi, make_tenant: MakeTenant
) -> None:
    salon = build_salon(api, make_tenant, second_staff=True)
    customer = new_customer()
    booking, _ = booked(notifications, salon, salon.at(salon.day(4), "10:30"), customer, staff=salon.staff_id)
    assert booking["staff"]["id"] == salon.staff_id
    schedules = set(notifications.schedules(booking["id"]))
    customer_mail = len(messages_to(notifications.sent(), customer.email, customer.phone))

    response = api.post(
        f"/v1/admin/bookings/{booking['id']}/reassign",
        token=salon.tenant.token(),
        json_body={"staff_id": salon.extra["ben"]},
    )
    assert response.status == 200, response.text
    sent = notifications.deliver()

    [removed, _] = emails(sent, salon.staff_email)
    assert removed["subject"].startswith("Booking reassigned away from you: Ada Lovelace, ")
    [new] = emails(sent, salon.extra["ben_email"])
    assert new["subject"].startswith("New booking: Ada Lovelace, ")
    # same time: the customer hears nothing new, and the reminders stay as they were
    assert len(messages_to(sent, customer.email, customer.phone)) == customer_mail
    assert set(notifications.schedules(booking["id"])) == schedules


def test_a_reminder_that_fires_after_the_appointment_began_is_not_sent(
    notifications: Notifications, salon: Salon, clock: ManualClock
) -> None:
    customer = new_customer()
    start = salon.at(salon.day(3), "11:30")
    booking, _ = booked(notifications, salon, start, customer)
    schedules = notifications.schedules(booking["id"])
    hour_before = schedules[next(n for n in schedules if "-60m-" in n)]
    count = len(messages_to(notifications.sent(), customer.email, customer.phone))

    # the scheduler retries a failed invocation for up to an hour: this one arrives 5 minutes into it
    payload = json.loads(hour_before["Target"]["Input"])
    clock.set(start + timedelta(minutes=5))
    notifications.handler.lambda_handler(payload, context())

    assert len(messages_to(notifications.sent(), customer.email, customer.phone)) == count
    late = [e for e in notifications.log(salon, booking["id"]) if e["kind"] == "reminder"]
    late = [e for e in late if e["channel"] != "schedule"]
    assert {e["channel"] for e in late} == {"email", "sms"}
    assert {e["status"] for e in late} == {"skipped"}
    assert all("already" in e["detail"] for e in late)


def test_a_name_on_two_lines_is_refused_and_the_email_headers_hold_even_for_one_stored_earlier(
    notifications: Notifications, salon: Salon
) -> None:
    # the public API refuses a name with a line break (a header injection attempt) ...
    customer = Customer(
        name="Ada\r\nBcc: intruder@evil.example", email=new_customer().email, phone=new_customer().phone
    )
    refused = book(notifications.api, salon, salon.at(salon.day(4), "09:00"), customer, status=422)
    assert refused["errors"][0]["field"] == "customer.name"

    # ... and a name stored before that check still cannot add a header: the sender writes it on one line
    from booking.adapters import clients
    from booking.adapters.ses import SesEmailSender

    sender = SesEmailSender(clients.client("sesv2"), notifications.resources.sender_email)
    message_id = sender.send(
        to=salon.staff_email,
        subject="New booking: Ada\r\nBcc: intruder@evil.example",
        text="t",
        html="<p>t</p>",
        from_name="Serenity\r\nBcc: intruder@evil.example",
    )
    headers = raw_email(message_id, notifications.resources.region)
    assert headers["Bcc"] is None
    assert headers["Subject"] == "New booking: Ada Bcc: intruder@evil.example"
    assert emails(notifications.sent(), "intruder@evil.example") == []


def test_changing_the_cadence_does_not_strand_the_reminders_already_booked(
    notifications: Notifications, api: LambdaApi, make_tenant: MakeTenant
) -> None:
    salon = build_salon(api, make_tenant)  # its own: the test changes the business's settings
    customer = new_customer()
    old_start = salon.at(salon.day(5), "10:00")
    booking, _ = booked(notifications, salon, old_start, customer)
    booked_schedules = set(notifications.schedules(booking["id"]))
    assert len(booked_schedules) == 2  # the default cadence: a day and an hour before

    # the owner switches to a single reminder three days before, then the customer moves the booking
    settings = notifications.api.get("/v1/admin/business", token=salon.tenant.token()).json()
    for read_only in ("id", "version", "created_at", "updated_at"):
        settings.pop(read_only)
    settings["reminders"] = [{"minutes_before": 3 * 24 * 60, "channels": ["email"]}]
    updated = notifications.api.put("/v1/admin/business", token=salon.tenant.token(), json_body=settings)
    assert updated.status == 200, updated.text
    notifications.install()  # a reminders-function container that has not seen the old settings
    new_start = salon.at(salon.day(5), "15:00")
    notifications.manage(booking, "reschedule", {"start": new_start.isoformat()})
    notifications.deliver()

    schedules = notifications.schedules(booking["id"])
    assert not booked_schedules & set(schedules)
    assert [s["ScheduleExpression"] for s in schedules.values()] == [
        at_expression(new_start - timedelta(days=3))
    ]
    log = [e for e in notifications.log(salon, booking["id"]) if e["channel"] == "schedule"]
    assert sorted((e["status"], utc_instant(e["send_at"])) for e in log) == [
        ("scheduled", new_start - timedelta(days=3)),
        ("unscheduled", old_start - timedelta(days=1)),
        ("unscheduled", old_start - timedelta(hours=1)),
    ]


def test_a_change_that_fails_midway_is_delivered_again_and_completes_without_repeats(
    notifications: Notifications, salon: Salon, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the reminders function cannot create schedules when the booking lands (here: deployed without the
    # scheduler's role, so every CreateSchedule is refused)
    monkeypatch.setenv("SCHEDULER_ROLE_ARN", "")
    notifications.install()
    customer = new_customer()
    booking, sent = booked(notifications, salon, salon.at(salon.day(4), "15:30"), customer)
    assert len(emails(sent, customer.email)) == 1  # the confirmation went out before the failure
    assert notifications.schedules(booking["id"]) == {}

    # fixed; the next delivery of the same change finishes the job and repeats nothing
    monkeypatch.setenv("SCHEDULER_ROLE_ARN", notifications.resources.environment()["SCHEDULER_ROLE_ARN"])
    notifications.install()
    sent = notifications.deliver()
    assert len(notifications.schedules(booking["id"])) == 2
    assert len(emails(sent, customer.email)) == 1
    assert len(texts(sent, customer.phone)) == 1
    assert len(emails(sent, salon.staff_email)) == 1
    log = notifications.log(salon, booking["id"])
    assert sorted((e["kind"], e["channel"], e["status"]) for e in log) == [
        ("confirmation", "email", "sent"),
        ("confirmation", "sms", "sent"),
        ("reminder", "schedule", "scheduled"),
        ("reminder", "schedule", "scheduled"),
        ("staff_new", "email", "sent"),
    ]


# --- a job at the customer's address (a booking request accepted) ---------------------------------------------


@dataclasses.dataclass(frozen=True)
class Job:
    salon: Salon
    owner: str  # the owner's token
    booking_id: str
    customer_email: str
    start: datetime
    end: datetime


@pytest.fixture
def job(notifications: Notifications, api: LambdaApi, make_tenant: MakeTenant) -> Job:
    """A plumber's job over two days at the customer's address on file ("4 Mill Lane\nBath BA2 3AB"),
    booked by accepting their request."""
    plumber = build_contractor(api, make_tenant)
    salon = plumber.salon
    email, token = onboarded_customer(api, plumber)
    request = submit(api, plumber, token)
    assert request.status == 201, request.text
    start, end = salon.at(salon.day(10), "09:00"), salon.at(salon.day(11), "17:00")
    accepted = api.post(
        f"/v1/admin/booking-requests/{request.json()['id']}/accept",
        json_body={"staff_id": salon.staff_id, "start": start.isoformat(), "end": end.isoformat()},
        token=plumber.admin(),
    )
    assert accepted.status == 200, accepted.text
    return Job(salon, plumber.admin(), accepted.json()["booking_id"], email, start, end)


def spoken(instant: datetime) -> str:
    local = instant.astimezone(ZoneInfo("Europe/London"))
    return f"{local:%A} {local.day} {local:%B %Y} {local:%H:%M}"


def span(start: datetime, end: datetime) -> str:
    return f"{spoken(start)} \u2013 {spoken(end)} ({start.astimezone(ZoneInfo('Europe/London')):%Z}, Europe/London)"


ADDRESS_BLOCK = "Where:  4 Mill Lane\n        Bath BA2 3AB\n"  # the staff notice's, under its label


def test_field_staff_see_the_job_address_and_customers_see_when_a_long_job_ends(
    notifications: Notifications, job: Job
) -> None:
    salon = job.salon
    sent = notifications.deliver()

    # the admin booking detail carries the address, on its lines
    assert notifications.detail(salon, job.booking_id)["job_address"] == "4 Mill Lane\nBath BA2 3AB"

    # the staff member's notice: the address as one block, and when the job ends
    [notice] = emails(sent, salon.staff_email)
    assert notice["subject"].startswith("New booking: Harriet Home, ")
    assert ADDRESS_BLOCK in notice["text"]
    assert "4 Mill Lane<br>Bath BA2 3AB" in notice["html"]
    assert f"When:   {span(job.start, job.end)}" in notice["text"]
    # ... and their calendar copy is located there (parsed by both parsers)
    staff_copy = parse_with_icaljs(invite_of(notice)["content"])
    assert staff_copy["location"] == "4 Mill Lane, Bath BA2 3AB"
    assert staff_copy["attendee"]["value"] == f"mailto:{salon.staff_email}"
    assert utc_instant(staff_copy["dtstart"]["utc"]) == job.start
    assert utc_instant(staff_copy["dtend"]["utc"]) == job.end
    _, event = parse_with_icalendar(invite_of(notice)["content"])
    assert str(event["LOCATION"]) == "4 Mill Lane, Bath BA2 3AB"
    assert "Bath BA2 3AB" in str(event["DESCRIPTION"])

    # the customer: start and end, the address kept on its lines in both parts of the email
    [confirmation] = [
        m for m in emails(sent, job.customer_email) if m["subject"].startswith("Booking confirmed")
    ]
    assert f"When:  {span(job.start, job.end)}" in confirmation["text"]
    assert span(job.start, job.end) in confirmation["html"]
    assert "Where: 4 Mill Lane\n       Bath BA2 3AB\n" in confirmation["text"]
    assert "4 Mill Lane<br>Bath BA2 3AB" in confirmation["html"]
    assert parse_with_icaljs(invite_of(confirmation)["content"])["location"] == "4 Mill Lane, Bath BA2 3AB"


def test_a_job_moved_or_given_to_a_colleague_keeps_its_address_in_every_notice(
    notifications: Notifications, api: LambdaApi, job: Job
) -> None:
    salon = job.salon
    first = parse_with_icaljs(invite_of(emails(notifications.deliver(), salon.staff_email)[0])["content"])

    # moved a week on: both hear it, with the address and the whole span
    later, later_end = job.start + timedelta(days=7), job.end + timedelta(days=7)
    moved = api.post(
        f"/v1/admin/bookings/{job.booking_id}/reschedule",
        json_body={"start": later.isoformat(), "allow_outside_shift": True},  # a job past the shift's end
        token=job.owner,
    )
    assert moved.status == 200, moved.text
    sent = notifications.deliver()
    [notice] = [m for m in emails(sent, salon.staff_email) if m["subject"].startswith("Booking moved")]
    assert ADDRESS_BLOCK in notice["text"]
    update = parse_with_icaljs(invite_of(notice)["content"])
    assert (update["uid"], update["sequence"]) == (first["uid"], first["sequence"] + 1)
    [rescheduled] = [m for m in emails(sent, job.customer_email) if m["subject"].startswith("Booking moved")]
    assert f"New time: {span(later, later_end)}" in rescheduled["text"]
    assert "Where:    4 Mill Lane\n          Bath BA2 3AB\n" in rescheduled["text"]

    # given to a colleague: the one it left has it taken out of their calendar, the other gets it
    reassigned = api.post(
        f"/v1/admin/bookings/{job.booking_id}/reassign",
        json_body={"staff_id": salon.extra["ben"]},
        token=job.owner,
    )
    assert reassigned.status == 200, reassigned.text
    sent = notifications.deliver()
    [removed] = [m for m in emails(sent, salon.staff_email) if m["subject"].startswith("Booking reassigned")]
    assert ADDRESS_BLOCK in removed["text"]
    gone = parse_with_icaljs(invite_of(removed)["content"])
    assert (gone["method"], gone["uid"]) == ("CANCEL", first["uid"])
    [given] = emails(sent, salon.extra["ben_email"])
    assert ADDRESS_BLOCK in given["text"]
    theirs = parse_with_icaljs(invite_of(given)["content"])
    assert (theirs["method"], theirs["location"]) == ("REQUEST", "4 Mill Lane, Bath BA2 3AB")
    assert theirs["attendee"]["value"] == f"mailto:{salon.extra['ben_email']}"
