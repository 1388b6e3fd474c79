"""Online appointments get a meeting link: made by the provider (the local Zoom fake) on the meeting-links
state machine, run for real from its definition file, with its task running the project's own function;
or pasted by staff. The link reaches the customer's confirmation, text, invite and booking view; staff
see the host link and what went wrong; outages are retried and a provider's refusal never loses the
booking or sends a dead link."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from local.fakes.providers import DEMO_CREDENTIALS, MeetingFakes
from tests.support.lambda_api import LambdaApi
from tests.support.late_links import gated_retries, wait_for_executions
from tests.support.meetings import executions, online_practice, settings_of, settle
from tests.support.notification_fixtures import (
    MakeTenant,
    Salon,
    book,
    emails,
    invite_of,
    new_customer,
    parse_with_icalendar,
    parse_with_icaljs,
    texts,
)
from tests.support.notification_wiring import Notifications, entry


@pytest.fixture(scope="module")
def zoom_practice(api: LambdaApi, make_tenant: MakeTenant) -> Salon:
    return online_practice(api, make_tenant, "zoom", booking_window_days=365)


@pytest.fixture
def zoom(meeting_fakes: MeetingFakes, retry_pauses: list[float]) -> Iterator[Any]:
    meeting_fakes.zoom.clear_faults()
    retry_pauses.clear()
    yield meeting_fakes.zoom
    meeting_fakes.zoom.clear_faults()


@pytest.fixture
def gate(meeting_fakes: MeetingFakes) -> Iterator[threading.Event]:
    yield from gated_retries(meeting_fakes)


def check_host_link_only(notice: dict[str, Any], meeting: dict[str, Any]) -> None:
    """A staff notice, and the staff member's copy of the invite, start the call by the host link; the
    client's join link is never offered to the host in its place."""
    assert f"start the call at {meeting['host_url']}" in notice["text"]
    assert "no meeting link yet" not in notice["text"]
    assert meeting["join_url"] not in notice["text"] + notice["html"] + invite_of(notice)["content"]
    staff_copy = parse_with_icaljs(invite_of(notice)["content"])
    assert (staff_copy["url"], staff_copy["location"]) == (meeting["host_url"], meeting["host_url"])


def zoom_meeting(zoom: Any, join_url: str) -> dict[str, Any]:
    [meeting] = [m for m in zoom.meetings.values() if m["join_url"] == join_url]
    return dict(meeting)


def public_view(api: LambdaApi, booking: dict[str, Any]) -> dict[str, Any]:
    response = api.get(f"/v1/public/bookings/{booking['id']}?token={booking['manage_token']}")
    assert response.status == 200, response.text
    view: dict[str, Any] = response.json()
    return view


def test_an_online_booking_gets_a_zoom_link_in_its_confirmation_text_invite_and_views(
    notifications: Notifications, zoom_practice: Salon, zoom: Any, api: LambdaApi
) -> None:
    customer = new_customer()
    start = zoom_practice.at(zoom_practice.day(3), "10:00")
    booking = book(api, zoom_practice, start, customer)
    assert public_view(api, booking)["meeting"] == {
        "status": "pending",
        "join_url": None,
        "passcode": None,
        "notes": "",
        "message": "The meeting link will be added soon.",
    }

    sent = settle(notifications, booking["id"])

    [execution] = executions(notifications, booking["id"])
    assert (execution["name"], execution["status"]) == (f"{booking['id']}-v1", "SUCCEEDED")
    detail = notifications.detail(zoom_practice, booking["id"])
    meeting = detail["meeting"]
    assert (meeting["status"], meeting["provider"]) == ("ready", "zoom")
    made = zoom_meeting(zoom, meeting["join_url"])
    assert made["start_time"] == start.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert meeting["host_url"] == made["start_url"]  # staff start the call; customers never see this
    assert meeting["passcode"]
    assert "Dial in" in meeting["notes"]

    # the confirmation waited for the link, and went out once, with it
    [email] = emails(sent, customer.email)
    assert email["subject"].startswith("Booking confirmed: Video consultation")
    assert meeting["join_url"] in email["text"]
    assert meeting["join_url"] in email["html"]
    assert f"Passcode: {meeting['passcode']}" in email["text"]
    assert meeting["host_url"] not in email["text"] + email["html"]
    [sms] = texts(sent, customer.phone)
    assert meeting["join_url"] in sms["text"]
    log = notifications.log(zoom_practice, booking["id"])
    assert entry(log, "confirmation", "email")["status"] == "sent"
    assert not [e for e in log if e["kind"] == "meeting_link"]  # nothing to send again: it had the link

    # the invite: the link where every calendar looks, parsed by two parsers
    ics = invite_of(email)["content"]
    _, event = parse_with_icalendar(ics)
    assert str(event["LOCATION"]) == meeting["join_url"]
    assert str(event["URL"]) == meeting["join_url"]
    assert meeting["join_url"] in str(event["DESCRIPTION"])
    seen = parse_with_icaljs(ics)
    assert seen["location"] == meeting["join_url"]
    assert seen["url"] == meeting["join_url"]
    [conference] = seen["conference"]  # RFC 7986
    assert (conference["value"], conference["label"]) == (meeting["join_url"], "Join the meeting")
    assert "VIDEO" in conference["feature"]
    assert seen["google_conference"] is None  # a Zoom link is not labelled as Google Meet or Teams

    # the staff member's notice waited for the link too: the host link, never the client's
    [notice] = emails(sent, zoom_practice.staff_email)
    assert notice["subject"].startswith("New booking: ")
    check_host_link_only(notice, meeting)

    # the customer's own view: the link, passcode and dial-in notes; never the host link
    view = public_view(api, booking)
    assert view["online"] is True
    assert view["meeting"] == {
        "status": "ready",
        "join_url": meeting["join_url"],
        "passcode": meeting["passcode"],
        "notes": meeting["notes"],
        "message": None,
    }
    assert meeting["host_url"] not in json.dumps(view)


def test_each_booking_gets_its_own_meeting(
    notifications: Notifications, zoom_practice: Salon, zoom: Any, api: LambdaApi
) -> None:
    day = zoom_practice.day(7)
    first = book(api, zoom_practice, zoom_practice.at(day, "10:00"), new_customer())
    second = book(api, zoom_practice, zoom_practice.at(day, "11:00"), new_customer())
    settle(notifications, first["id"])
    settle(notifications, second["id"])
    links = {notifications.detail(zoom_practice, b["id"])["meeting"]["join_url"] for b in (first, second)}
    assert len(links) == 2
    assert None not in links


def test_a_provider_outage_is_retried_with_backoff_until_the_link_is_made(
    notifications: Notifications,
    zoom_practice: Salon,
    zoom: Any,
    api: LambdaApi,
    retry_pauses: list[float],
) -> None:
    zoom.fail_next(3, status=503)
    customer = new_customer()
    booking = book(api, zoom_practice, zoom_practice.at(zoom_practice.day(11), "10:00"), customer)
    sent = settle(notifications, booking["id"])

    assert retry_pauses[:3] == [5, 10, 20]  # the definition's IntervalSeconds and BackoffRate
    [execution] = executions(notifications, booking["id"])
    assert execution["status"] == "SUCCEEDED"
    meeting = notifications.detail(zoom_practice, booking["id"])["meeting"]
    assert meeting["status"] == "ready"
    [email] = emails(sent, customer.email)
    assert meeting["join_url"] in email["text"]


def test_a_link_made_after_the_wait_follows_to_the_client_and_the_host_link_to_the_staff_member(
    notifications: Notifications, zoom_practice: Salon, zoom: Any, api: LambdaApi, gate: threading.Event
) -> None:
    zoom.fail_next(1, status=503)  # the first call to Zoom fails: the retry waits at the gate
    customer = new_customer()
    booking = book(api, zoom_practice, zoom_practice.at(zoom_practice.day(31), "10:00"), customer)
    notifications.deliver()
    wait_for_executions(notifications, [booking["id"]], running=1)
    for timer in notifications.retry_timers(booking["id"]):  # the wait is over
        notifications.fire(timer, handled="message_retry")
    sent = notifications.sent()
    [confirmation] = emails(sent, customer.email)
    assert "Your meeting link will follow in a separate message." in confirmation["text"]
    [notice] = emails(sent, zoom_practice.staff_email)
    assert "Online: no meeting link yet" in notice["text"]

    gate.set()
    sent = settle(notifications, booking["id"])
    meeting = notifications.detail(zoom_practice, booking["id"])["meeting"]
    [link] = [e for e in emails(sent, customer.email) if e["subject"].startswith("Your meeting link")]
    assert meeting["join_url"] in link["text"]
    assert meeting["host_url"] not in link["text"] + link["html"]
    # the staff member is told the host link once it is made (before, they never were)
    [ready] = [
        e for e in emails(sent, zoom_practice.staff_email) if e["subject"].startswith("Meeting link ready")
    ]
    check_host_link_only(ready, meeting)
    # the same event in their calendar, updated
    updated = parse_with_icaljs(invite_of(ready)["content"])
    assert updated["uid"] == parse_with_icaljs(invite_of(notice)["content"])["uid"]
    assert len(emails(sent, zoom_practice.staff_email)) == 2


def test_a_provider_that_refuses_marks_the_link_failed_tells_staff_and_never_sends_a_dead_link(
    notifications: Notifications,
    zoom_practice: Salon,
    zoom: Any,
    api: LambdaApi,
    retry_pauses: list[float],
) -> None:
    zoom.fail_next(50, status=401, body={"code": 124, "message": "Invalid access token."})
    customer = new_customer()
    booking = book(api, zoom_practice, zoom_practice.at(zoom_practice.day(15), "10:00"), customer)
    sent = settle(notifications, booking["id"])

    assert retry_pauses == []  # refused credentials are not retried
    [execution] = executions(notifications, booking["id"])
    assert execution["status"] == "FAILED"
    detail = notifications.detail(zoom_practice, booking["id"])
    assert detail["status"] == "confirmed"  # the booking stands
    meeting = detail["meeting"]
    assert (meeting["status"], meeting["join_url"]) == ("failed", None)
    assert "Invalid access token" in meeting["reason"]
    assert [h["action"] for h in detail["history"]][-1] == "meeting_failed"

    [email] = emails(sent, customer.email)
    assert "Your meeting link will follow in a separate message." in email["text"]
    assert "zoom.us/j/" not in email["text"] + email["html"]
    [notice] = [e for e in emails(sent, zoom_practice.staff_email) if e["subject"].startswith("Meeting link")]
    assert "Invalid access token" in notice["text"]
    assert public_view(api, booking)["meeting"]["status"] == "pending"


def test_an_outage_that_outlasts_every_retry_gives_up_and_keeps_the_booking(
    notifications: Notifications,
    zoom_practice: Salon,
    zoom: Any,
    api: LambdaApi,
    retry_pauses: list[float],
) -> None:
    zoom.fail_next(50, status=503)
    booking = book(api, zoom_practice, zoom_practice.at(zoom_practice.day(19), "10:00"), new_customer())
    settle(notifications, booking["id"])

    assert retry_pauses == [5, 10, 20, 40, 80, 120]  # six retries, the last capped by MaxDelaySeconds
    detail = notifications.detail(zoom_practice, booking["id"])
    assert (detail["status"], detail["meeting"]["status"]) == ("confirmed", "failed")
    assert "503" in detail["meeting"]["reason"]


def test_rescheduling_moves_the_meeting_and_cancelling_deletes_it_at_the_provider(
    notifications: Notifications, zoom_practice: Salon, zoom: Any, api: LambdaApi
) -> None:
    day = zoom_practice.day(23)
    booking = book(api, zoom_practice, zoom_practice.at(day, "10:00"), new_customer())
    settle(notifications, booking["id"])
    link = notifications.detail(zoom_practice, booking["id"])["meeting"]["join_url"]

    later = zoom_practice.at(day, "14:00")
    notifications.manage(booking, "reschedule", {"start": later.isoformat()})
    settle(notifications, booking["id"])
    meeting = notifications.detail(zoom_practice, booking["id"])["meeting"]
    assert meeting["join_url"] == link  # Zoom moves a meeting in place: the customer's link still works
    assert zoom_meeting(zoom, link)["start_time"] == later.strftime("%Y-%m-%dT%H:%M:%SZ")

    notifications.manage(booking, "cancel", {"reason": "cannot make it"})
    settle(notifications, booking["id"])
    assert not [m for m in zoom.meetings.values() if m["join_url"] == link]
    history = [h["action"] for h in notifications.detail(zoom_practice, booking["id"])["history"]]
    assert history[-1] == "meeting_deleted"


# --- manual links ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def manual_practice(api: LambdaApi, make_tenant: MakeTenant) -> Salon:
    return online_practice(api, make_tenant, "manual", booking_window_days=365)


def test_a_manual_link_is_not_set_until_staff_set_it_and_then_the_customer_gets_it(
    notifications: Notifications, manual_practice: Salon, api: LambdaApi
) -> None:
    customer = new_customer()
    booking = book(api, manual_practice, manual_practice.at(manual_practice.day(3), "10:00"), customer)
    sent = settle(notifications, booking["id"])
    assert executions(notifications, booking["id"]) == []  # nothing to provision
    assert notifications.detail(manual_practice, booking["id"])["meeting"]["status"] == "not_set"
    [confirmation] = emails(sent, customer.email)  # not held back: nobody is making a link
    assert "Your meeting link will follow in a separate message." in confirmation["text"]
    [confirmation_text] = texts(sent, customer.phone)
    assert "Meeting link to follow." in confirmation_text["text"]

    link = "https://us02web.zoom.us/j/81234567890?pwd=abc123"
    response = api.put(
        f"/v1/admin/bookings/{booking['id']}/meeting",
        json_body={
            "join_url": link,
            "passcode": "428193",
            "notes": "Dial in: +44 20 3481 5237",
            "notify_customer": True,
        },
        token=manual_practice.tenant.token("admin"),
    )
    assert response.status == 200, response.text
    meeting = response.json()["meeting"]
    assert (meeting["status"], meeting["provider"], meeting["join_url"]) == ("ready", "manual", link)

    sent = settle(notifications, booking["id"])
    [update] = [e for e in emails(sent, customer.email) if e["subject"].startswith("Your meeting link")]
    assert link in update["text"]
    assert "Passcode: 428193" in update["text"]
    seen = parse_with_icaljs(invite_of(update)["content"])
    assert (seen["location"], seen["sequence"]) == (link, 1)
    [text] = [t for t in texts(sent, customer.phone) if link in t["text"]]
    assert "428193" in text["text"]
    log = notifications.log(manual_practice, booking["id"])
    assert entry(log, "meeting_link", "email")["status"] == "sent"
    assert entry(log, "meeting_link", "sms")["status"] == "sent"


def test_a_link_set_without_notify_customer_sends_nothing(
    notifications: Notifications, manual_practice: Salon, api: LambdaApi
) -> None:
    booking = book(api, manual_practice, manual_practice.at(manual_practice.day(5), "10:00"), new_customer())
    settle(notifications, booking["id"])
    response = api.put(
        f"/v1/admin/bookings/{booking['id']}/meeting",
        json_body={"join_url": "https://meet.example.org/room-42"},
        token=manual_practice.tenant.token(),
    )
    assert response.status == 200, response.text
    settle(notifications, booking["id"])
    log = notifications.log(manual_practice, booking["id"])
    assert not [e for e in log if e["kind"] == "meeting_link"]
    assert public_view(api, booking)["meeting"]["join_url"] == "https://meet.example.org/room-42"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"join_url": "http://zoom.us/j/1"}, "join_url"),
        ({"join_url": "https://user:pw@zoom.us/j/1"}, "join_url"),
        ({"join_url": "zoom.us/j/1"}, "join_url"),
        ({"join_url": "https://zoom.us/j/1", "passcode": "x" * 51}, "passcode"),
        ({"join_url": "https://zoom.us/j/1", "colour": "red"}, "colour"),
    ],
)
def test_a_bad_link_is_refused_naming_the_field_and_nothing_changes(
    manual_practice: Salon, api: LambdaApi, body: dict[str, Any], field: str
) -> None:
    booking = book(api, manual_practice, manual_practice.at(manual_practice.day(9), "10:00"), new_customer())
    response = api.put(
        f"/v1/admin/bookings/{booking['id']}/meeting", json_body=body, token=manual_practice.tenant.token()
    )
    assert response.status == 422, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    assert field in json.dumps(response.json()["errors"])
    detail = api.get(f"/v1/admin/bookings/{booking['id']}", token=manual_practice.tenant.token()).json()
    assert detail["meeting"]["status"] == "not_set"
    api.post(f"/v1/admin/bookings/{booking['id']}/cancel", json_body={}, token=manual_practice.tenant.token())


def test_only_online_bookings_have_links_and_staff_set_only_their_own(
    manual_practice: Salon, api: LambdaApi, make_tenant: MakeTenant
) -> None:
    from tests.support.notification_fixtures import build_salon

    in_person = build_salon(api, make_tenant, booking_window_days=365)
    booking = book(api, in_person, in_person.at(in_person.day(3), "10:00"), new_customer())
    response = api.put(
        f"/v1/admin/bookings/{booking['id']}/meeting",
        json_body={"join_url": "https://zoom.us/j/1"},
        token=in_person.tenant.token(),
    )
    assert response.status == 409, response.text
    assert (
        api.get(f"/v1/admin/bookings/{booking['id']}", token=in_person.tenant.token()).json()["meeting"]
        is None
    )

    # another business's staff cannot reach this booking at all
    online = book(api, manual_practice, manual_practice.at(manual_practice.day(13), "10:00"), new_customer())
    response = api.put(
        f"/v1/admin/bookings/{online['id']}/meeting",
        json_body={"join_url": "https://zoom.us/j/1"},
        token=in_person.tenant.token(),
    )
    assert response.status == 404, response.text
    # a dispatcher is not among those who set links
    response = api.put(
        f"/v1/admin/bookings/{online['id']}/meeting",
        json_body={"join_url": "https://zoom.us/j/1"},
        token=manual_practice.tenant.token("dispatcher"),
    )
    assert response.status == 403, response.text


# --- provider credentials -----------------------------------------------------------------------------------


def test_credentials_are_checked_with_the_provider_stored_and_never_shown(
    api: LambdaApi, make_tenant: MakeTenant
) -> None:
    tenant = make_tenant(online_appointments=True)
    token = tenant.token()
    wrong = {**DEMO_CREDENTIALS["zoom"], "client_secret": "not-the-secret"}
    refused = api.put("/v1/admin/business/meeting-providers/zoom", json_body=wrong, token=token)
    assert refused.status == 422, refused.text
    assert refused.json()["errors"][0]["loc"][-1] == "credentials"
    assert "zoom refused these credentials" in refused.json()["detail"]
    listed = api.get("/v1/admin/business/meeting-providers", token=token).json()
    assert {c["provider"]: c["connected"] for c in listed}["zoom"] is False  # nothing stored

    # a provider left without credentials cannot be chosen
    editable = settings_of(api, token)
    chosen = api.put("/v1/admin/business", json_body={**editable, "meeting_provider": "zoom"}, token=token)
    assert chosen.status == 422, chosen.text
    assert chosen.json()["errors"][0]["loc"][-1] == "meeting_provider"

    stored = api.put(
        "/v1/admin/business/meeting-providers/zoom", json_body=DEMO_CREDENTIALS["zoom"], token=token
    )
    assert stored.status == 200, stored.text
    assert DEMO_CREDENTIALS["zoom"]["client_secret"] not in stored.text
    listed = api.get("/v1/admin/business/meeting-providers", token=token)
    assert {c["provider"]: c["connected"] for c in listed.json()}["zoom"] is True
    assert DEMO_CREDENTIALS["zoom"]["client_secret"] not in listed.text
    assert DEMO_CREDENTIALS["zoom"]["client_secret"] not in api.get("/v1/admin/business", token=token).text

    chosen = api.put("/v1/admin/business", json_body={**editable, "meeting_provider": "zoom"}, token=token)
    assert chosen.status == 200, chosen.text
    # the provider making the links cannot be disconnected; staff cannot touch credentials at all
    assert api.delete("/v1/admin/business/meeting-providers/zoom", token=token).status == 409
    assert (
        api.put(
            "/v1/admin/business/meeting-providers/daily",
            json_body=DEMO_CREDENTIALS["daily"],
            token=tenant.token("staff"),
        ).status
        == 403
    )


@pytest.mark.parametrize("provider", ["google_meet", "microsoft_teams", "daily", "whereby"])
def test_every_hosted_provider_can_be_connected_against_its_fake_and_refuses_wrong_credentials(
    api: LambdaApi, make_tenant: MakeTenant, provider: str
) -> None:
    tenant = make_tenant()
    good = DEMO_CREDENTIALS[provider]
    secret_field = {"google_meet": "client_email", "microsoft_teams": "client_secret"}.get(
        provider, "api_key"
    )
    wrong = {**good, secret_field: "someone-else@example.iam.gserviceaccount.com"}
    refused = api.put(
        f"/v1/admin/business/meeting-providers/{provider}", json_body=wrong, token=tenant.token()
    )
    assert refused.status == 422, refused.text
    stored = api.put(f"/v1/admin/business/meeting-providers/{provider}", json_body=good, token=tenant.token())
    assert stored.status == 200, stored.text


def test_online_bookings_get_three_reminders_by_default_each_with_the_link(
    notifications: Notifications, zoom_practice: Salon, zoom: Any, api: LambdaApi
) -> None:
    customer = new_customer()
    booking = book(api, zoom_practice, zoom_practice.at(zoom_practice.day(27), "10:00"), customer)
    settle(notifications, booking["id"])
    link = notifications.detail(zoom_practice, booking["id"])["meeting"]["join_url"]

    schedules = notifications.schedules(booking["id"])
    by_minutes = {json.loads(s["Target"]["Input"])["minutes_before"]: s for s in schedules.values()}
    assert sorted(by_minutes) == [60, 24 * 60, 3 * 24 * 60]  # 3 days, the day before, the same day
    notifications.fire(by_minutes[24 * 60])
    [reminder] = emails(notifications.sent(), customer.email)[:1]
    assert reminder["subject"].startswith("Reminder: Video consultation")
    assert link in reminder["text"]
    assert [t for t in texts(notifications.sent(), customer.phone) if link in t["text"]]


def test_a_provider_down_while_credentials_are_checked_is_a_502_and_nothing_is_stored(
    api: LambdaApi, make_tenant: MakeTenant, zoom: Any
) -> None:
    tenant = make_tenant()
    zoom.fail_next(5, status=503)
    response = api.put(
        "/v1/admin/business/meeting-providers/zoom", json_body=DEMO_CREDENTIALS["zoom"], token=tenant.token()
    )
    assert response.status == 502, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    listed = api.get("/v1/admin/business/meeting-providers", token=tenant.token()).json()
    assert {c["provider"]: c["connected"] for c in listed}["zoom"] is False
