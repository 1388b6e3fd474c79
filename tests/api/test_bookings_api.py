"""Booking through the real Lambda handler: availability, booking, idempotent retries, bad input, the
customer's manage link, the lifecycle and the admin diary (calendar, moving, reassigning, notes, roles).

Every test builds its own spa (a fresh tenant), so "nothing was written" can be checked by reading the
admin calendar back: it must be empty (or hold only what the test booked on purpose).
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest
from ulid import ULID

from booking.adapters.dynamodb.bookings import DynamoBookingRepository
from booking.adapters.system import SystemClock
from booking.domain.booking import (
    Actor,
    BookedService,
    Booking,
    BookingStatus,
    CustomerDetails,
    HistoryEntry,
)
from local.aws import EmbeddedAws, LocalResources
from tests.conftest import Tenant
from tests.support.booking_fixtures import (
    Days,
    Spa,
    assert_problem,
    availability,
    book,
    book_ok,
    booking_body,
    build_spa,
    calendar,
    calendar_ok,
    customer,
    days_ahead,
    free_starts,
    instant,
    linked_staff_token,
    local_time,
)
from tests.support.lambda_api import ApiResponse, LambdaApi

MakeTenant = Callable[..., Tenant]
NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture(scope="module")
def shared_spa(container: Any, make_tenant: MakeTenant) -> Spa:
    return build_spa(container, make_tenant, booking_window_days=365)


DAYS = Days()


@pytest.fixture
def spa(shared_spa: Spa) -> Spa:
    """The module's spa, with two days of its diary to this test alone (spa.day and the day after)."""
    return dataclasses.replace(shared_spa, day=DAYS.take())


def manage(
    api: LambdaApi, booking: dict[str, Any], action: str = "", token: str | None = None, **body: Any
) -> ApiResponse:
    path = f"/v1/public/bookings/{booking['id']}" + (f"/{action}" if action else "")
    url = f"{path}?token={token if token is not None else booking['manage_token']}"
    return api.post(url, json_body=body) if action else api.get(url)


def admin(
    api: LambdaApi,
    spa: Spa,
    booking_id: str,
    action: str = "",
    role: str = "owner",
    token: str | None = None,
    **body: Any,
) -> ApiResponse:
    path = f"/v1/admin/bookings/{booking_id}" + (f"/{action}" if action else "")
    bearer = token or spa.tenant.token(role)
    return api.post(path, token=bearer, json_body=body) if action else api.get(path, token=bearer)


def admin_book(
    api: LambdaApi, spa: Spa, start: str, role: str = "owner", token: str | None = None, **extra: Any
) -> ApiResponse:
    body = booking_body(spa, start, **extra)
    return api.post("/v1/admin/bookings", token=token or spa.tenant.token(role), json_body=body)


def quarter_hours(spa: Spa, on: date, first: str, last: str) -> list[datetime]:
    start, end = spa.at(first, on), spa.at(last, on)
    return [start + timedelta(minutes=15 * i) for i in range(int((end - start).total_seconds()) // 900 + 1)]


def soon(minutes: int = 10) -> datetime:
    """A whole five-minute mark a few minutes from now (for bookings that must be about to begin)."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    return now + timedelta(minutes=minutes + (-now.minute) % 5)


# --- availability -------------------------------------------------------------------------------------


def test_availability_lists_slots_by_date_with_the_offset_of_the_requested_zone(
    api: LambdaApi, spa: Spa
) -> None:
    next_day = spa.day + timedelta(days=1)
    response = availability(api, spa, "swedish", first=spa.day, last=next_day)
    assert response.status == 200, response.text
    body = response.json()
    assert body["time_zone"] == "Europe/London"
    assert [d["date"] for d in body["days"]] == [spa.day.isoformat(), next_day.isoformat()]
    for day in body["days"]:
        on = date.fromisoformat(day["date"])
        # An hour fits 09:00-12:00 and 13:30-16:00 around the 13:00-13:30 lunch, every quarter hour.
        expected = quarter_hours(spa, on, "09:00", "12:00") + quarter_hours(spa, on, "13:30", "16:00")
        assert [local_time(s["start"]) for s in day["slots"]] == expected
        for slot in day["slots"]:
            assert instant(slot["end"]) - instant(slot["start"]) == timedelta(minutes=60)
            assert slot["staff_ids"] == sorted([spa.staff["amelia"], spa.staff["ben"]])
            assert datetime.fromisoformat(slot["start"]).utcoffset() == spa.at("09:00", on).utcoffset()

    # The customer's zone changes only the presentation: same instants, New York offsets and dates.
    in_new_york = availability(
        api, spa, "swedish", first=spa.day, last=next_day, tz="America/New_York"
    ).json()
    assert in_new_york["time_zone"] == "America/New_York"
    london = [instant(s["start"]) for d in body["days"] for s in d["slots"]]
    new_york = [s["start"] for d in in_new_york["days"] for s in d["slots"]]
    assert [instant(s) for s in new_york] == london
    assert (
        local_time(new_york[0], NEW_YORK).astimezone(NEW_YORK).time()
        == spa.at("09:00").astimezone(NEW_YORK).time()
    )
    assert all(s.endswith(("-05:00", "-04:00")) for s in new_york)


def test_a_specific_staff_member_and_a_multi_service_request_narrow_the_offer(
    api: LambdaApi, spa: Spa
) -> None:
    chloe = free_starts(api, spa, "facial", "chloe")
    assert chloe and all(staff == {spa.staff["chloe"]} for staff in chloe.values())
    # Facial + massage back to back (90 minutes): only Amelia does both.
    both = availability(api, spa, ["facial", "swedish"]).json()
    slots = [s for d in both["days"] for s in d["slots"]]
    assert slots and all(s["staff_ids"] == [spa.staff["amelia"]] for s in slots)
    assert all(instant(s["end"]) - instant(s["start"]) == timedelta(minutes=90) for s in slots)
    assert local_time(slots[-1]["start"]) == spa.at("15:30")  # 15:30 + 90 = 17:00


@pytest.mark.parametrize(
    ("query", "status", "field_name"),
    [
        ({"services": "no-such-service"}, 422, "services"),
        ({"staff": "no-such-staff"}, 422, "staff"),
        ({"staff": "chloe"}, 422, "staff"),  # not assigned the massage
        ({"tz": "Mars/Olympus_Mons"}, 422, "tz"),
        ({"last": 31}, 422, "to"),  # 32 days
        ({"last": -1}, 422, "to"),  # 'to' before 'from'
    ],
)
def test_bad_availability_requests_are_clear_4xx(
    api: LambdaApi, spa: Spa, query: dict[str, Any], status: int, field_name: str
) -> None:
    last = spa.day + timedelta(days=query.pop("last", 0))
    response = availability(api, spa, **{"services": "swedish", "last": last, **query})
    assert_problem(response, status, field_name=field_name)


def test_a_31_day_window_is_allowed_and_an_unknown_business_is_404(api: LambdaApi, spa: Spa) -> None:
    response = availability(api, spa, last=spa.day + timedelta(days=30))
    assert response.status == 200, response.text
    assert len(response.json()["days"]) == 31
    missing = api.get(
        f"/v1/public/businesses/no-such-spa-{secrets.token_hex(3)}/availability?services=x&from=2030-01-01&to=2030-01-01"
    )
    assert_problem(missing, 404)


# --- booking ------------------------------------------------------------------------------------------


def test_a_booking_returns_everything_the_customer_needs_and_takes_the_slot(api: LambdaApi, spa: Spa) -> None:
    jane = customer("Jane Doe", "Jane.Doe@Example.com", "+44 7911 123456")
    body = booking_body(spa, spa.iso("10:00"), staff="amelia", customer=jane, notes="Sensitive skin")
    response = book(api, spa, body)
    assert response.status == 201, response.text
    booking = response.json()

    assert booking["id"] and booking["status"] == "confirmed"
    assert local_time(booking["start"]) == spa.at("10:00") and local_time(booking["end"]) == spa.at("11:00")
    assert booking["staff"] == {"id": spa.staff["amelia"], "name": "Amelia Hart"}
    assert booking["services"] == [
        {
            "id": spa.services["swedish"],
            "name": "Swedish massage",
            "duration_minutes": 60,
            "price": {"amount_minor": 6500, "currency": "GBP"},
        }
    ]
    assert booking["total"] == {"amount_minor": 6500, "currency": "GBP"}
    assert booking["customer"]["name"] == "Jane Doe"
    assert booking["customer"]["phone"] == "+447911123456"  # normalised to E.164
    assert booking["notes"] == "Sensitive skin"
    assert booking["delivery"] == "in_person"
    token = booking["manage_token"]
    assert len(token) > 40
    assert booking["manage_url"].endswith(f"/bookings/{booking['id']}?token={token}")
    assert [h["action"] for h in booking["history"]] == ["created"]

    # The slot is gone for Amelia, and everything overlapping it; Ben is still free then.
    offer = free_starts(api, spa)
    assert offer[instant(spa.iso("10:00"))] == {spa.staff["ben"]}
    for hhmm in ("09:15", "09:30", "09:45", "10:15", "10:30", "10:45"):
        assert spa.staff["amelia"] not in offer[instant(spa.iso(hhmm))]
    assert spa.staff["amelia"] in offer[instant(spa.iso("09:00"))]
    assert spa.staff["amelia"] in offer[instant(spa.iso("11:00"))]
    assert instant(spa.iso("10:00")) not in free_starts(api, spa, staff="amelia")

    [entry] = calendar_ok(api, spa)
    assert entry["booking_id"] == booking["id"]
    assert entry["customer_email"].lower() == "jane.doe@example.com"


def test_a_retry_with_the_same_key_returns_the_same_booking(api: LambdaApi, spa: Spa) -> None:
    body = booking_body(spa, spa.iso("10:00"), staff="amelia")
    key = secrets.token_hex(16)
    first = book(api, spa, body, key)
    again = book(api, spa, body, key)
    assert first.status == again.status == 201, again.text
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["manage_token"] == first.json()["manage_token"]
    assert len(calendar_ok(api, spa)) == 1

    changed = {**body, "start": spa.iso("11:00")}
    reused = book(api, spa, changed, key)
    problem = assert_problem(reused, 422, "idempotency-key-reused")
    assert "Idempotency-Key" in problem["detail"]
    assert len(calendar_ok(api, spa)) == 1


def test_the_idempotency_key_is_required(api: LambdaApi, spa: Spa) -> None:
    body = booking_body(spa, spa.iso("10:00"))
    url = f"/v1/public/businesses/{spa.slug}/bookings"
    assert_problem(api.post(url, json_body=body), 422, "validation-error", "idempotency-key")
    too_short = api.post(url, json_body=body, headers={"Idempotency-Key": "abc"})
    assert_problem(too_short, 422, "validation-error", "idempotency-key")
    assert calendar_ok(api, spa) == []
    # Header names are case-insensitive (HTTP/2 clients send them in lower case).
    lower = api.post(url, json_body=body, headers={"idempotency-key": secrets.token_hex(8)})
    assert lower.status == 201, lower.text


def bad_bodies(spa: Spa) -> dict[str, tuple[dict[str, Any], int, str, str | None]]:
    """name -> (body, status, problem kind, field)."""
    ok = booking_body(spa, spa.iso("10:00"))
    yesterday = spa.at("10:00", days_ahead(-1))
    return {
        "unknown service": ({**ok, "services": ["no-such-service"]}, 422, "validation-error", "services"),
        "unknown staff": ({**ok, "staff": "no-such-staff"}, 422, "validation-error", "staff"),
        "staff not assigned": ({**ok, "staff": spa.staff["chloe"]}, 422, "validation-error", "staff"),
        "off the grid": ({**ok, "start": spa.iso("10:05")}, 422, "validation-error", "start"),
        "before the shift": ({**ok, "start": spa.iso("07:00")}, 422, "validation-error", "start"),
        "over lunch": ({**ok, "start": spa.iso("12:30")}, 422, "validation-error", "start"),
        "past": ({**ok, "start": yesterday.isoformat()}, 422, "validation-error", "start"),
        "beyond the window": (
            {**ok, "start": spa.iso("10:00", days_ahead(400))},
            422,
            "validation-error",
            "start",
        ),
        "no offset": ({**ok, "start": spa.iso("10:00")[:19]}, 422, "validation-error", "start"),
        "bad email": (
            {**ok, "customer": customer(email_address="not-an-email")},
            422,
            "validation-error",
            "customer.email",
        ),
        "bad phone": (
            {**ok, "customer": customer(phone="+44 12")},
            422,
            "validation-error",
            "customer.phone",
        ),
        "no delivery": (booking_body(spa, spa.iso("10:00"), "consult"), 422, "validation-error", "delivery"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "unknown service",
        "unknown staff",
        "staff not assigned",
        "off the grid",
        "before the shift",
        "over lunch",
        "past",
        "beyond the window",
        "no offset",
        "bad email",
        "bad phone",
        "no delivery",
    ],
)
def test_bad_bookings_are_clear_4xx_and_write_nothing(api: LambdaApi, spa: Spa, case: str) -> None:
    body, status, kind, field_name = bad_bodies(spa)[case]
    response = book(api, spa, body)
    assert_problem(response, status, kind, field_name)
    assert calendar_ok(api, spa) == []
    assert calendar_ok(api, spa, days_ahead(-1), days_ahead(-1)) == []
    assert instant(spa.iso("10:00")) in free_starts(api, spa)


def test_a_time_someone_else_holds_is_a_409_slot_taken(api: LambdaApi, spa: Spa) -> None:
    book_ok(api, spa, spa.iso("10:00"), staff="amelia")
    response = book(api, spa, booking_body(spa, spa.iso("10:30"), staff="amelia"))
    problem = assert_problem(response, 409, "slot-taken")
    assert "taken" in problem["title"].lower()
    assert len(calendar_ok(api, spa)) == 1


def test_a_blocked_customer_cannot_book_online(api: LambdaApi, spa: Spa) -> None:
    regular = customer("Rex Regular")
    book_ok(api, spa, spa.iso("09:00"), staff="amelia", customer=regular)
    blocked = api.post(
        f"/v1/admin/customers/{regular['email']}/block",
        token=spa.tenant.token(),
        json_body={"reason": "no-shows"},
    )
    assert blocked.status == 200, blocked.text
    assert blocked.json()["blocked"] is True

    response = book(api, spa, booking_body(spa, spa.iso("11:00"), customer=regular))
    assert_problem(response, 403, "customer-blocked")
    assert len(calendar_ok(api, spa)) == 1
    assert instant(spa.iso("11:00")) in free_starts(api, spa)

    assert api.post(f"/v1/admin/customers/{regular['email']}/unblock", token=spa.tenant.token()).status == 200
    assert book(api, spa, booking_body(spa, spa.iso("11:00"), customer=regular)).status == 201


def test_any_goes_to_the_qualified_member_with_the_fewest_bookings_that_day(api: LambdaApi, spa: Spa) -> None:
    book_ok(api, spa, spa.iso("09:00"), staff="amelia")
    book_ok(api, spa, spa.iso("10:00"), staff="amelia")
    first_any = book_ok(api, spa, spa.iso("14:00"))
    assert first_any["staff"]["id"] == spa.staff["ben"]  # Ben 0, Amelia 2
    second_any = book_ok(api, spa, spa.iso("15:00"))
    assert second_any["staff"]["id"] == spa.staff["ben"]  # Ben 1, Amelia 2
    # A booking on another day does not count for this one.
    other_day = spa.day + timedelta(days=1)
    book_ok(api, spa, spa.iso("09:00", other_day), staff="ben")
    book_ok(api, spa, spa.iso("10:00", other_day), staff="ben")
    assert book_ok(api, spa, spa.iso("11:00", other_day))["staff"]["id"] == spa.staff["amelia"]
    # 'any' falls to whoever is free when the fair choice is busy.
    book_ok(api, spa, spa.iso("16:00"), staff="ben")
    assert book_ok(api, spa, spa.iso("16:00"))["staff"]["id"] == spa.staff["amelia"]


def test_a_service_offered_both_ways_needs_a_delivery_choice(api: LambdaApi, spa: Spa) -> None:
    online = book_ok(api, spa, spa.iso("10:00"), "consult", delivery="online")
    assert online["delivery"] == "online"
    in_person = book_ok(api, spa, spa.iso("11:00"), "consult", delivery="in_person")
    assert in_person["delivery"] == "in_person"
    # A service delivered one way only refuses the other.
    wrong = book(api, spa, booking_body(spa, spa.iso("14:00"), "swedish", delivery="online"))
    assert_problem(wrong, 422, field_name="delivery")
    assert len(calendar_ok(api, spa)) == 2


def test_a_multi_service_booking_prices_each_service_and_totals_them(api: LambdaApi, spa: Spa) -> None:
    body = {
        **booking_body(spa, spa.iso("10:00")),
        "services": [spa.services["facial"], spa.services["swedish"]],
    }
    response = book(api, spa, body)
    assert response.status == 201, response.text
    booking = response.json()
    assert booking["staff"]["id"] == spa.staff["amelia"]  # the only one who does both
    assert [s["price"]["amount_minor"] for s in booking["services"]] == [3500, 6500]
    assert booking["total"] == {"amount_minor": 10000, "currency": "GBP"}
    assert local_time(booking["end"]) == spa.at("11:30")
    # The massage's (business default) buffer after is 0, so Amelia is free again at 11:30.
    assert spa.staff["amelia"] in free_starts(api, spa)[instant(spa.iso("11:30"))]


# --- the customer's manage link -----------------------------------------------------------------------


def test_the_manage_link_shows_the_booking_and_nothing_else(api: LambdaApi, spa: Spa) -> None:
    booking = book_ok(api, spa, spa.iso("10:00"))
    other = book_ok(api, spa, spa.iso("11:00"))
    seen = manage(api, booking)
    assert seen.status == 200, seen.text
    assert seen.json()["id"] == booking["id"] and seen.json()["start"] == booking["start"]
    assert [h["action"] for h in seen.json()["history"]] == ["created"]

    assert_problem(manage(api, booking, token=other["manage_token"]), 401)
    assert_problem(manage(api, booking, token=booking["manage_token"][:-2] + "xx"), 401)
    assert_problem(manage(api, booking, token=""), 401)
    assert_problem(manage(api, booking, "cancel", token=other["manage_token"], reason="x"), 401)
    assert_problem(manage(api, booking, "reschedule", token="nope", start=spa.iso("14:00")), 401)
    assert {e["status"] for e in calendar_ok(api, spa)} == {"confirmed"}


def test_the_customer_reschedules_with_the_manage_link(api: LambdaApi, spa: Spa) -> None:
    booking = book_ok(api, spa, spa.iso("10:00"), staff="amelia")
    response = manage(api, booking, "reschedule", start=spa.iso("14:00"))
    assert response.status == 200, response.text
    moved = response.json()
    assert moved["id"] == booking["id"]
    assert local_time(moved["start"]) == spa.at("14:00") and local_time(moved["end"]) == spa.at("15:00")
    assert moved["staff"]["id"] == spa.staff["amelia"]
    assert [h["action"] for h in moved["history"]] == ["created", "rescheduled"]
    rescheduled = moved["history"][1]
    assert rescheduled["actor"]["kind"] == "customer"
    assert instant(rescheduled["details"]["from_start"]) == instant(spa.iso("10:00"))
    assert instant(rescheduled["details"]["to_start"]) == instant(spa.iso("14:00"))

    amelia = free_starts(api, spa, staff="amelia")
    assert instant(spa.iso("10:00")) in amelia  # the old time is free again
    assert instant(spa.iso("14:00")) not in amelia  # the new one is taken
    [entry] = calendar_ok(api, spa)
    assert (entry["booking_id"], local_time(entry["start"])) == (booking["id"], spa.at("14:00"))

    # Half an hour later overlaps its own time: the booking does not collide with itself.
    nudged = manage(api, booking, "reschedule", start=spa.iso("14:30"))
    assert nudged.status == 200, nudged.text
    amelia = free_starts(api, spa, staff="amelia")
    assert instant(spa.iso("13:30")) in amelia and instant(spa.iso("14:00")) not in amelia
    assert instant(spa.iso("15:30")) in amelia and instant(spa.iso("15:15")) not in amelia

    # Onto a time someone else holds: 409, and the booking stays where it is.
    book_ok(api, spa, spa.iso("16:00"), staff="amelia")
    clash = manage(api, booking, "reschedule", start=spa.iso("15:30"))
    assert_problem(clash, 409, "slot-taken")
    assert local_time(manage(api, booking).json()["start"]) == spa.at("14:30")
    # Onto a time that is no slot at all: 422.
    assert_problem(manage(api, booking, "reschedule", start=spa.iso("18:00")), 422, field_name="start")


def test_the_customer_cancels_with_the_manage_link(api: LambdaApi, spa: Spa) -> None:
    booking = book_ok(api, spa, spa.iso("10:00"), staff="amelia")
    response = manage(api, booking, "cancel", reason="Feeling unwell")
    assert response.status == 200, response.text
    cancelled = response.json()
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancellation_reason"] == "Feeling unwell"
    last = cancelled["history"][-1]
    assert (last["from_status"], last["to_status"], last["actor"]["kind"]) == (
        "confirmed",
        "cancelled",
        "customer",
    )

    assert instant(spa.iso("10:00")) in free_starts(api, spa, staff="amelia")
    assert [e["status"] for e in calendar_ok(api, spa)] == ["cancelled"]
    assert book(api, spa, booking_body(spa, spa.iso("10:00"), staff="amelia")).status == 201
    assert_problem(manage(api, booking, "cancel", reason="again"), 409)
    assert_problem(manage(api, booking, "reschedule", start=spa.iso("15:00")), 409)


def test_after_the_cutoff_the_customer_can_no_longer_cancel_or_reschedule(
    api: LambdaApi, container: Any, make_tenant: MakeTenant
) -> None:
    strict = build_spa(container, make_tenant, cancellation_cutoff_hours=30 * 24)
    booking = book_ok(api, strict, strict.iso("10:00"))
    too_late = manage(api, booking, "cancel", reason="changed my mind")
    problem = assert_problem(too_late, 409, "too-late")
    assert "720 hours" in problem["detail"]
    assert_problem(manage(api, booking, "reschedule", start=strict.iso("14:00")), 409, "too-late")
    after = manage(api, booking).json()
    assert (after["status"], local_time(after["start"])) == ("confirmed", strict.at("10:00"))
    assert [h["action"] for h in after["history"]] == ["created"]
    # The business itself can still cancel.
    assert admin(api, strict, booking["id"], "cancel", reason="called us").json()["status"] == "cancelled"


# --- the lifecycle ------------------------------------------------------------------------------------


def test_a_booking_is_started_early_but_completed_only_once_it_has_begun(api: LambdaApi, spa: Spa) -> None:
    upcoming = admin_book(api, spa, soon().isoformat(), staff="amelia", allow_outside_shift=True)
    assert upcoming.status == 201, upcoming.text
    booking_id = upcoming.json()["id"]

    started = admin(api, spa, booking_id, "status", status="started")  # the client arrived early
    assert started.status == 200, started.text
    assert started.json()["status"] == "started"
    refused = assert_problem(admin(api, spa, booking_id, "status", status="completed"), 409)
    assert "once the appointment has begun" in refused["detail"]
    assert admin(api, spa, booking_id).json()["status"] == "started"


def test_a_booking_that_began_is_started_and_completed_with_history(
    api: LambdaApi, container: Any, make_tenant: MakeTenant, resources: LocalResources
) -> None:
    spa = build_spa(container, make_tenant)  # its own: the diary gets a booking in the past
    booking_id = seed_booking_that_began(resources, spa)

    started = admin(api, spa, booking_id, "status", status="started")
    assert started.status == 200, started.text
    completed = admin(api, spa, booking_id, "status", status="completed", role="admin")
    assert completed.status == 200, completed.text
    detail = admin(api, spa, booking_id).json()
    assert detail["status"] == "completed"
    changes = [h for h in detail["history"] if h["action"] == "status_changed"]
    assert [(h["from_status"], h["to_status"]) for h in changes] == [
        ("confirmed", "started"),
        ("started", "completed"),
    ]
    assert [h["actor"]["kind"] for h in changes] == ["owner", "admin"]
    assert all(h["actor"]["id"] for h in changes)
    times = [instant(h["at"]) for h in detail["history"]]
    assert times == sorted(times) and times[-1] <= datetime.now(UTC)

    for illegal in ("started", "confirmed", "no_show"):
        assert_problem(admin(api, spa, booking_id, "status", status=illegal), 409)
    assert_problem(admin(api, spa, booking_id, "cancel", reason="late"), 409)
    assert admin(api, spa, booking_id).json()["status"] == "completed"


def seed_booking_that_began(resources: LocalResources, spa: Spa, minutes_ago: int = 20) -> str:
    """A confirmed booking whose appointment began a little while ago. The API cannot book the past (rightly),
    so this one is written with the real DynamoDB adapter, exactly as a booking made last week would be."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    start = now - timedelta(minutes=minutes_ago + now.minute % 5)
    booking = Booking(
        id=str(ULID()),
        tenant_id=spa.tenant.id,
        status=BookingStatus.CONFIRMED,
        start=start,
        end=start + timedelta(minutes=60),
        occupied_start=start,
        occupied_end=start + timedelta(minutes=60),
        staff_id=spa.staff["amelia"],
        services=[
            BookedService(
                id=spa.services["swedish"], name="Swedish massage", duration_minutes=60, price_minor=6500
            )
        ],
        total_minor=6500,
        currency="GBP",
        customer=CustomerDetails(name="Nora No-Show", email=f"nora-{secrets.token_hex(3)}@example.com"),
        created_at=now - timedelta(days=7),
        updated_at=now - timedelta(days=7),
    )
    entry = HistoryEntry(
        at=booking.created_at,
        actor=Actor(kind="customer", id=booking.customer.email),
        action="created",
        to_status=booking.status,
    )
    DynamoBookingRepository(boto3.client("dynamodb"), resources.table_name, SystemClock()).save(
        booking, None, entry
    )
    return str(booking.id)


def test_a_customer_who_does_not_come_is_a_no_show(
    api: LambdaApi, container: Any, make_tenant: MakeTenant, resources: LocalResources
) -> None:
    spa = build_spa(container, make_tenant)  # its own: the diary gets a booking in the past
    upcoming = admin_book(api, spa, soon().isoformat(), staff="ben", allow_outside_shift=True).json()
    # Not before the appointment has begun.
    assert_problem(admin(api, spa, upcoming["id"], "status", status="no_show"), 409)

    booking_id = seed_booking_that_began(resources, spa)
    response = admin(api, spa, booking_id, "status", status="no_show", role="dispatcher")
    assert response.status == 200, response.text
    assert response.json()["status"] == "no_show"
    last = response.json()["history"][-1]
    assert (last["from_status"], last["to_status"], last["actor"]["kind"]) == (
        "confirmed",
        "no_show",
        "dispatcher",
    )
    assert_problem(admin(api, spa, booking_id, "status", status="started"), 409)
    assert_problem(admin(api, spa, booking_id, "status", status="confirmed"), 409)


def test_a_cancelled_booking_stays_cancelled(api: LambdaApi, spa: Spa) -> None:
    booking = book_ok(api, spa, spa.iso("10:00"))
    cancelled = admin(api, spa, booking["id"], "cancel", reason="therapist ill")
    assert cancelled.status == 200, cancelled.text
    assert cancelled.json()["cancellation_reason"] == "therapist ill"
    for status in ("confirmed", "started", "completed"):
        problem = assert_problem(admin(api, spa, booking["id"], "status", status=status), 409)
        assert "cancelled" in problem["detail"]
    assert_problem(admin(api, spa, booking["id"], "reschedule", start=spa.iso("14:00")), 409)
    assert admin(api, spa, booking["id"]).json()["status"] == "cancelled"
    # Starting far ahead of time is refused too.
    early = book_ok(api, spa, spa.iso("11:00"))
    assert_problem(admin(api, spa, early["id"], "status", status="started"), 409)


def test_a_job_arranged_with_the_business_is_not_moved_by_the_customer_alone(
    api: LambdaApi, container: Any, make_tenant: MakeTenant, resources: LocalResources
) -> None:
    spa = build_spa(container, make_tenant, customers_move_staff_bookings=False)
    by_staff = admin_book(api, spa, spa.iso("10:00"), staff="amelia").json()
    refused = assert_problem(
        manage(api, by_staff, "reschedule", start=spa.iso("14:00")), 409, "arranged-with-the-business"
    )
    assert "ask them" in refused["detail"]
    assert local_time(admin(api, spa, by_staff["id"]).json()["start"]) == spa.at("10:00")
    # One the customer booked themselves is still theirs to move.
    own = book_ok(api, spa, spa.iso("11:00"))
    assert manage(api, own, "reschedule", start=spa.iso("15:00")).status == 200

    # A job made from a booking request is always asked for, whatever the setting.
    lenient = build_spa(container, make_tenant)
    seeded = seed_booking_that_began(resources, lenient, minutes_ago=-60 * 24 * 3)  # three days ahead
    repository = DynamoBookingRepository(boto3.client("dynamodb"), resources.table_name, SystemClock())
    job, _ = repository.get(lenient.tenant.id, seeded) or (None, None)
    assert job is not None
    from_request = job.model_copy(
        update={"request_id": "01JREQUEST0000000000000000", "version": job.version + 1}
    )
    repository.save(
        from_request, job, HistoryEntry(at=job.created_at, actor=Actor(kind="owner"), action="noted")
    )
    token = container.manage_links._tokens.issue(lenient.tenant.id, seeded, 0)
    moved = api.post(
        f"/v1/public/bookings/{seeded}/reschedule?token={token}",
        json_body={"start": (job.start + timedelta(days=1)).isoformat()},
    )
    assert_problem(moved, 409, "arranged-with-the-business")


# --- the admin diary ----------------------------------------------------------------------------------


def test_an_admin_booking_outside_shifts_needs_the_flag_and_never_overlaps(api: LambdaApi, spa: Spa) -> None:
    early = spa.iso("07:30")
    refused = admin_book(api, spa, early, staff="amelia")
    assert_problem(refused, 422, field_name="start")
    assert calendar_ok(api, spa) == []

    created = admin_book(api, spa, early, staff="amelia", allow_outside_shift=True, notes="before opening")
    assert created.status == 201, created.text
    booking = created.json()
    assert booking["outside_shift"] is True and booking["source"] == "admin"
    assert created.header("Location") == f"/v1/admin/bookings/{booking['id']}"
    assert booking["history"][0]["details"]["outside_shift"] == "true"

    clash = admin_book(api, spa, spa.iso("08:00"), staff="amelia", allow_outside_shift=True)
    assert_problem(clash, 409, "slot-taken")
    # Still nobody else's time is affected: Ben can be booked over the same minutes.
    assert admin_book(api, spa, early, staff="ben", allow_outside_shift=True).status == 201
    # Inside shifts the flag changes nothing, and the booking is not marked.
    inside = admin_book(api, spa, spa.iso("09:00"), staff="amelia", allow_outside_shift=True).json()
    assert inside["outside_shift"] is False
    assert_problem(
        admin_book(api, spa, spa.iso("09:30"), staff="amelia", allow_outside_shift=True), 409, "slot-taken"
    )
    starts = sorted(local_time(e["start"]) for e in calendar_ok(api, spa, staff="amelia"))
    assert starts == [spa.at("07:30"), spa.at("09:00")]


def test_staff_book_clients_beyond_the_online_window_and_notice(
    api: LambdaApi, container: Any, make_tenant: MakeTenant
) -> None:
    spa = build_spa(container, make_tenant, booking_window_days=2)  # day 3 is beyond it online
    start = spa.iso("10:00")
    assert_problem(book(api, spa, booking_body(spa, start, staff="amelia")), 422, field_name="start")

    created = admin_book(api, spa, start, staff="amelia", role="admin")
    assert created.status == 201, created.text
    assert created.json()["outside_shift"] is False
    # Still never over another booking of the same staff member.
    assert_problem(admin_book(api, spa, start, staff="amelia"), 409, "slot-taken")


def test_reassigning_moves_the_booking_to_another_qualified_free_member(api: LambdaApi, spa: Spa) -> None:
    booking = book_ok(api, spa, spa.iso("10:00"), staff="amelia")
    moved = admin(api, spa, booking["id"], "reassign", staff_id=spa.staff["ben"])
    assert moved.status == 200, moved.text
    assert moved.json()["staff"]["id"] == spa.staff["ben"]
    assert local_time(moved.json()["start"]) == spa.at("10:00")
    assert moved.json()["history"][-1]["action"] == "reassigned"
    offer = free_starts(api, spa)[instant(spa.iso("10:00"))]
    assert offer == {spa.staff["amelia"]}

    assert_problem(
        admin(api, spa, booking["id"], "reassign", staff_id=spa.staff["chloe"]), 422, field_name="staff_id"
    )
    book_ok(api, spa, spa.iso("10:30"), staff="amelia")
    assert_problem(
        admin(api, spa, booking["id"], "reassign", staff_id=spa.staff["amelia"]), 409, "slot-taken"
    )
    assert_problem(admin(api, spa, booking["id"], "reassign", staff_id=spa.staff["ben"]), 422)
    assert_problem(admin(api, spa, booking["id"], "reassign", staff_id="nobody"), 422, field_name="staff_id")
    assert admin(api, spa, booking["id"]).json()["staff"]["id"] == spa.staff["ben"]


def test_the_business_reschedules_a_booking(api: LambdaApi, spa: Spa) -> None:
    booking = book_ok(api, spa, spa.iso("10:00"), staff="amelia")
    moved = admin(api, spa, booking["id"], "reschedule", start=spa.iso("15:00"), staff=spa.staff["ben"])
    assert moved.status == 200, moved.text
    body = moved.json()
    assert (body["id"], body["staff"]["id"]) == (booking["id"], spa.staff["ben"])
    assert local_time(body["start"]) == spa.at("15:00")
    details = body["history"][-1]["details"]
    assert (details["from_staff_id"], details["to_staff_id"]) == (spa.staff["amelia"], spa.staff["ben"])
    offer = free_starts(api, spa)
    assert offer[instant(spa.iso("10:00"))] == {spa.staff["amelia"], spa.staff["ben"]}
    assert offer[instant(spa.iso("15:00"))] == {spa.staff["amelia"]}


def test_notes_of_every_kind_appear_in_the_detail(api: LambdaApi, spa: Spa) -> None:
    booking = book_ok(api, spa, spa.iso("10:00"), notes="Please use unscented oil")
    for kind, text, role in (
        ("internal", "Regular, prefers Amelia", "owner"),
        ("session", "Tight shoulders, worked on trapezius", "admin"),
        ("follow_up", "Call in two weeks about a course of six", "dispatcher"),
    ):
        response = admin(api, spa, booking["id"], "notes", role=role, kind=kind, text=text)
        assert response.status == 201, response.text
        assert (response.json()["kind"], response.json()["text"]) == (kind, text)
    assert_problem(admin(api, spa, booking["id"], "notes", kind="gossip", text="x"), 422, field_name="kind")
    assert_problem(admin(api, spa, booking["id"], "notes", kind="internal", text=""), 422, field_name="text")

    detail = admin(api, spa, booking["id"]).json()
    assert detail["notes"] == "Please use unscented oil"  # the customer's own
    assert [(n["kind"], n["author"]["kind"]) for n in detail["staff_notes"]] == [
        ("internal", "owner"),
        ("session", "admin"),
        ("follow_up", "dispatcher"),
    ]
    assert detail["staff_notes"][1]["text"] == "Tight shoulders, worked on trapezius"
    assert detail["payment_status"] == "not_required"
    assert detail["customer"]["email"] == booking["customer"]["email"]
    # The customer never sees staff notes.
    assert "trapezius" not in manage(api, booking).text


def test_the_calendar_filters_by_staff_and_date_range(api: LambdaApi, spa: Spa) -> None:
    next_day = spa.day + timedelta(days=1)
    a1 = book_ok(api, spa, spa.iso("09:00"), staff="amelia")
    b1 = book_ok(api, spa, spa.iso("09:00"), staff="ben")
    a2 = book_ok(api, spa, spa.iso("10:00", next_day), staff="amelia")

    assert {e["booking_id"] for e in calendar_ok(api, spa)} == {a1["id"], b1["id"]}
    assert {e["booking_id"] for e in calendar_ok(api, spa, next_day, next_day)} == {a2["id"]}
    both_days = calendar_ok(api, spa, spa.day, next_day, staff="amelia")
    assert [e["booking_id"] for e in both_days] == [a1["id"], a2["id"]]
    entry = both_days[0]
    assert entry["staff"] == {"id": spa.staff["amelia"], "name": "Amelia Hart"}
    assert (local_time(entry["start"]), local_time(entry["end"])) == (spa.at("09:00"), spa.at("10:00"))
    assert entry["status"] == "confirmed"
    assert entry["services"] == ["Swedish massage"]
    assert calendar_ok(api, spa, spa.day - timedelta(days=1), spa.day - timedelta(days=1)) == []
    assert_problem(calendar(api, spa, spa.day, spa.day + timedelta(days=62)), 422, field_name="to")
    assert_problem(calendar(api, spa, next_day, spa.day), 422, field_name="to")
    assert_problem(api.get(f"/v1/admin/calendar?from={spa.day}&to={spa.day}"), 401)


def test_a_staff_member_sees_and_works_only_their_own_schedule(
    api: LambdaApi, spa: Spa, embedded_aws: tuple[EmbeddedAws, LocalResources]
) -> None:
    aws, resources = embedded_aws
    amelia_token = linked_staff_token(aws, resources, spa.tenant, spa.staff["amelia"])
    own = book_ok(api, spa, spa.iso("09:00"), staff="amelia")
    bens = book_ok(api, spa, spa.iso("09:00"), staff="ben")

    assert [e["booking_id"] for e in calendar_ok(api, spa, token=amelia_token)] == [own["id"]]
    assert [e["booking_id"] for e in calendar_ok(api, spa, token=amelia_token, staff="amelia")] == [own["id"]]
    assert_problem(calendar(api, spa, token=amelia_token, staff="ben"), 403)
    assert admin(api, spa, own["id"], token=amelia_token).status == 200
    assert_problem(admin(api, spa, bens["id"], token=amelia_token), 404)
    assert_problem(admin(api, spa, bens["id"], "notes", token=amelia_token, kind="session", text="x"), 404)
    assert_problem(admin(api, spa, bens["id"], "cancel", token=amelia_token, reason="x"), 404)

    note = admin(api, spa, own["id"], "notes", token=amelia_token, kind="session", text="Relaxed well")
    assert note.status == 201, note.text
    # Staff book clients into their own diary only, and cannot hand bookings to colleagues.
    assert admin_book(api, spa, spa.iso("11:00"), token=amelia_token, staff="amelia").status == 201
    anyone = admin_book(api, spa, spa.iso("14:00"), token=amelia_token)
    assert anyone.status == 201 and anyone.json()["staff"]["id"] == spa.staff["amelia"]
    assert_problem(admin_book(api, spa, spa.iso("14:00"), token=amelia_token, staff="ben"), 403)
    assert_problem(admin(api, spa, own["id"], "reassign", token=amelia_token, staff_id=spa.staff["ben"]), 403)
    assert_problem(
        admin(
            api,
            spa,
            own["id"],
            "reschedule",
            token=amelia_token,
            start=spa.iso("15:00"),
            staff=spa.staff["ben"],
        ),
        403,
    )
    assert [e["booking_id"] for e in calendar_ok(api, spa, staff="ben")] == [bens["id"]]

    # The conftest's staff user is linked to nobody: no diary at all.
    assert_problem(calendar(api, spa, token=spa.tenant.token("staff")), 403)
    assert_problem(admin(api, spa, own["id"], role="staff"), 404)


def test_dispatchers_run_the_diary_but_do_not_block_customers(api: LambdaApi, spa: Spa) -> None:
    booking = admin_book(api, spa, spa.iso("10:00"), role="dispatcher", staff="amelia")
    assert booking.status == 201, booking.text
    booking_id = booking.json()["id"]
    assert booking.json()["history"][0]["actor"]["kind"] == "dispatcher"
    assert admin(api, spa, booking_id, "reassign", role="dispatcher", staff_id=spa.staff["ben"]).status == 200
    assert admin(api, spa, booking_id, "reschedule", role="dispatcher", start=spa.iso("11:00")).status == 200
    email_address = booking.json()["customer"]["email"]
    assert_problem(
        api.post(
            f"/v1/admin/customers/{email_address}/block", token=spa.tenant.token("dispatcher"), json_body={}
        ),
        403,
    )
    assert (
        admin(api, spa, booking_id, "cancel", role="dispatcher", reason="double entry").json()["status"]
        == "cancelled"
    )


def test_another_tenant_sees_none_of_it(api: LambdaApi, spa: Spa, make_tenant: MakeTenant) -> None:
    booking = book_ok(api, spa, spa.iso("10:00"))
    other = make_tenant()
    for action, body in (
        ("", None),
        ("cancel", {"reason": "x"}),
        ("status", {"status": "started"}),
        ("notes", {"text": "x"}),
        ("reassign", {"staff_id": spa.staff["ben"]}),
    ):
        path = f"/v1/admin/bookings/{booking['id']}" + (f"/{action}" if action else "")
        response = (
            api.post(path, token=other.token(), json_body=body)
            if action
            else api.get(path, token=other.token())
        )
        assert_problem(response, 404)
    other_calendar = api.get(f"/v1/admin/calendar?from={spa.day}&to={spa.day}", token=other.token())
    assert other_calendar.status == 200 and other_calendar.json() == []
    assert_problem(api.get(f"/v1/admin/customers/{booking['customer']['email']}", token=other.token()), 404)
    assert admin(api, spa, booking["id"]).json()["status"] == "confirmed"
