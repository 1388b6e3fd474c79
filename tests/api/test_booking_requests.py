"""Booking requests through the API: onboarded customers ask, the business accepts (a booking in the staff
member's schedule, as long as the job takes), proposes another time (held for the customer) or declines;
every transition of the one table, the roles' limits, bad input refused with nothing written, and of two
staff accepting at once exactly one wins. Issue 19: a verified photo is a copy no form can change; accepting
and proposing place a job by one rule (a full day across the lunch break); a flood of requests is refused
with 429s that write nothing, and texted once."""

from __future__ import annotations

import base64
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from booking.adapters.dynamodb import keys
from tests.support.images import JPEG, PNG
from tests.support.lambda_api import ApiResponse, LambdaApi
from tests.support.notification_fixtures import WEEK, MakeTenant, emails, texts
from tests.support.notification_wiring import Notifications
from tests.support.requests_fixtures import (
    Contractor,
    as_customer,
    build_contractor,
    onboarded_customer,
    requests_path,
    submit,
    update_requests,
)

ADMIN = "/v1/admin/booking-requests"


@pytest.fixture(scope="module")
def plumber(api: LambdaApi, make_tenant: MakeTenant) -> Contractor:
    return build_contractor(api, make_tenant)


@pytest.fixture
def customer(api: LambdaApi, plumber: Contractor) -> tuple[str, str]:
    return onboarded_customer(api, plumber)


def submitted(api: LambdaApi, plumber: Contractor, token: str, **fields: Any) -> dict[str, Any]:
    response = submit(api, plumber, token, **fields)
    assert response.status == 201, response.text
    found: dict[str, Any] = response.json()
    return found


def staff_action(
    api: LambdaApi,
    plumber: Contractor,
    request_id: str,
    action: str,
    body: Any = None,
    role: str = "dispatcher",
) -> ApiResponse:
    return api.post(f"{ADMIN}/{request_id}/{action}", json_body=body or {}, token=plumber.admin(role))


def job(
    plumber: Contractor, days: int, start: str = "09:00", end: str = "17:00", staff: str | None = None
) -> dict[str, Any]:
    day = plumber.salon.day(days)
    return {
        "staff_id": staff or plumber.salon.staff_id,
        "start": plumber.salon.at(day, start).isoformat(),
        "end": plumber.salon.at(day, end).isoformat(),
    }


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def in_calendar(api: LambdaApi, plumber: Contractor, days: int) -> list[str]:
    """The bookings holding time in the business's calendar that day."""
    day = plumber.salon.day(days)
    diary = api.get(f"/v1/admin/calendar?from={day}&to={day}", token=plumber.admin()).json()
    return [e["booking_id"] for e in diary if e["status"] != "cancelled"]


def states(history: list[dict[str, Any]]) -> list[tuple[str | None, str | None]]:
    return [(h["from_state"], h["to_state"]) for h in history if h["to_state"] is not None]


def test_a_request_is_submitted_with_the_address_on_file_and_seen_in_the_inbox(
    api: LambdaApi, plumber: Contractor, customer: tuple[str, str]
) -> None:
    email, token = customer
    request = submitted(api, plumber, token)
    assert request["state"] == "submitted"
    assert request["address"] == "4 Mill Lane\nBath BA2 3AB"  # pre-filled from the address on file
    assert request["service_name"] == "Leak repair"
    assert request["customer"]["email"] == email
    assert request["uploads"] == []

    mine = as_customer(api, "GET", requests_path(plumber), token).json()
    assert [r["id"] for r in mine] == [request["id"]]
    inbox = api.get(f"{ADMIN}?state=submitted", token=plumber.admin("dispatcher")).json()
    assert inbox[0]["id"] == request["id"]  # newest first
    detail = api.get(f"{ADMIN}/{request['id']}", token=plumber.admin()).json()
    assert states(detail["history"]) == [(None, "submitted")]

    elsewhere = submitted(api, plumber, token, address="Unit 7, Riverside Works\nBath BA1 1AA")
    assert elsewhere["address"].startswith("Unit 7")  # replaced for this job only
    free_text = submitted(api, plumber, token, service_id=None, free_text="The boiler bangs at night")
    assert (free_text["service_id"], free_text["free_text"]) == (None, "The boiler bangs at night")


def test_accepting_makes_a_full_day_booking_with_the_job_address(
    api: LambdaApi, plumber: Contractor, customer: tuple[str, str]
) -> None:
    _, token = customer
    request = submitted(api, plumber, token)
    reviewed = staff_action(api, plumber, request["id"], "review")
    assert reviewed.status == 200 and reviewed.json()["state"] == "under_review"
    accepted = staff_action(
        api, plumber, request["id"], "accept", job(plumber, 10) | {"message": "See you then"}
    )
    assert accepted.status == 200, accepted.text
    assert accepted.json()["state"] == "confirmed"
    booking_id = accepted.json()["booking_id"]
    booking = api.get(f"/v1/admin/bookings/{booking_id}", token=plumber.admin()).json()
    assert booking["status"] == "confirmed"
    assert booking["staff"]["id"] == plumber.salon.staff_id
    asked = job(plumber, 10)
    assert at(booking["start"]) == at(asked["start"]) and at(booking["end"]) == at(asked["end"])  # a full day
    assert in_calendar(api, plumber, 10) == [booking_id]  # in the staff member's schedule
    detail = api.get(f"{ADMIN}/{request['id']}", token=plumber.admin()).json()
    assert states(detail["history"]) == [
        (None, "submitted"),
        ("submitted", "under_review"),
        ("under_review", "confirmed"),
    ]
    # The customer sees it answered; nothing more can be done with it.
    mine = as_customer(api, "GET", f"{requests_path(plumber)}/{request['id']}", token).json()
    assert mine["state"] == "confirmed" and mine["booking_id"] == booking_id
    assert as_customer(api, "POST", f"{requests_path(plumber)}/{request['id']}/cancel", token).status == 409
    before = api.get(f"{ADMIN}/{request['id']}", token=plumber.admin()).json()
    refused = staff_action(
        api, plumber, request["id"], "counter-proposal", job(plumber, 11) | {"message": "x"}
    )
    assert refused.status == 409, refused.text  # a counter-proposal for a request already confirmed
    assert api.get(f"{ADMIN}/{request['id']}", token=plumber.admin()).json() == before
    assert in_calendar(api, plumber, 11) == []  # and no time held for it


def test_a_job_over_several_days(api: LambdaApi, plumber: Contractor, customer: tuple[str, str]) -> None:
    _, token = customer
    request = submitted(api, plumber, token)
    days = job(plumber, 20) | {"end": plumber.salon.at(plumber.salon.day(22), "17:00").isoformat()}
    accepted = staff_action(api, plumber, request["id"], "accept", days, role="owner")
    assert accepted.status == 200, accepted.text
    booking = api.get(f"/v1/admin/bookings/{accepted.json()['booking_id']}", token=plumber.admin()).json()
    assert (at(booking["start"]), at(booking["end"])) == (at(days["start"]), at(days["end"]))
    assert in_calendar(api, plumber, 21) == [booking["id"]]  # the middle day is taken too


def test_a_counter_proposal_holds_the_time_and_the_customer_accepts_it(
    api: LambdaApi, plumber: Contractor, customer: tuple[str, str]
) -> None:
    _, token = customer
    request = submitted(api, plumber, token)
    proposed = job(plumber, 30, "09:00", "13:00") | {"message": "We can do a morning on this day"}
    countered = staff_action(api, plumber, request["id"], "counter-proposal", proposed)
    assert countered.status == 200, countered.text
    assert countered.json()["state"] == "counter_proposed"
    proposal = countered.json()["responses"][-1]
    assert proposal["kind"] == "counter_proposal" and proposal["hold_expires_at"] is not None
    # The time is held for the customer: nobody else can book it meanwhile.
    other = staff_action(api, plumber, submitted(api, plumber, token)["id"], "accept", proposed)
    assert other.status == 409, other.text

    answered = as_customer(
        api, "POST", f"{requests_path(plumber)}/{request['id']}/counter-proposal/accept", token
    )
    assert answered.status == 200, answered.text
    assert answered.json()["state"] == "confirmed"
    booking = api.get(f"/v1/admin/bookings/{answered.json()['booking_id']}", token=plumber.admin()).json()
    assert booking["status"] == "confirmed"
    assert booking["hold_expires_at"] is None


def test_a_declined_counter_proposal_goes_back_to_the_business_and_frees_the_time(
    api: LambdaApi, plumber: Contractor, customer: tuple[str, str]
) -> None:
    _, token = customer
    request = submitted(api, plumber, token)
    proposed = job(plumber, 31, "13:00", "17:00") | {"message": "An afternoon?"}
    staff_action(api, plumber, request["id"], "counter-proposal", proposed)
    declined = as_customer(
        api,
        "POST",
        f"{requests_path(plumber)}/{request['id']}/counter-proposal/decline",
        token,
        {"message": "I work afternoons; any morning that week"},
    )
    assert declined.status == 200, declined.text
    assert declined.json()["state"] == "under_review"
    assert declined.json()["replies"][-1]["message"] == "I work afternoons; any morning that week"
    held = api.get(
        f"/v1/admin/bookings/{declined.json()['responses'][-1]['booking_id']}", token=plumber.admin()
    )
    assert held.json()["status"] == "cancelled"  # the held time is free again
    again = staff_action(api, plumber, request["id"], "accept", proposed)  # the same time, now free
    assert again.status == 200, again.text


def test_accepting_an_expired_counter_proposal_is_refused(api: LambdaApi, make_tenant: MakeTenant) -> None:
    plumber = build_contractor(api, make_tenant, counter_hold_hours=1)
    _, token = onboarded_customer(api, plumber)
    request = submitted(api, plumber, token)
    staff_action(api, plumber, request["id"], "counter-proposal", job(plumber, 5) | {"message": "This day?"})
    # The hold lapses after an hour: moved into the past on the stored request, as the clock would.
    from tests.support.requests_store import expire_counter

    expire_counter(plumber.salon.tenant.id, request["id"], timedelta(hours=2))
    answered = as_customer(
        api, "POST", f"{requests_path(plumber)}/{request['id']}/counter-proposal/accept", token
    )
    assert answered.status == 409, answered.text
    assert "expired" in answered.json()["detail"]
    # The lapsed proposal is back with the business, which proposes again.
    again = staff_action(
        api, plumber, request["id"], "counter-proposal", job(plumber, 6) | {"message": "Or this?"}
    )
    assert again.status == 200, again.text
    assert [r["kind"] for r in again.json()["responses"]] == ["counter_proposal", "counter_proposal"]
    assert (
        as_customer(api, "GET", f"{requests_path(plumber)}/{request['id']}", token).json()["state"]
        == "counter_proposed"
    )


def test_declining_with_a_message_and_alternatives(
    api: LambdaApi, plumber: Contractor, customer: tuple[str, str]
) -> None:
    _, token = customer
    request = submitted(api, plumber, token)
    declined = staff_action(
        api,
        plumber,
        request["id"],
        "decline",
        {"message": "We do not cover that area", "alternatives": "Try Bath Emergency Plumbing"},
    )
    assert declined.status == 200, declined.text
    assert declined.json()["state"] == "declined"
    assert declined.json()["responses"][-1]["alternatives"] == "Try Bath Emergency Plumbing"
    assert staff_action(api, plumber, request["id"], "review").status == 409


def test_the_customer_cancels_before_confirmation(
    api: LambdaApi, plumber: Contractor, customer: tuple[str, str]
) -> None:
    _, token = customer
    request = submitted(api, plumber, token)
    cancelled = as_customer(api, "POST", f"{requests_path(plumber)}/{request['id']}/cancel", token)
    assert cancelled.status == 200 and cancelled.json()["state"] == "cancelled"
    assert staff_action(api, plumber, request["id"], "accept", job(plumber, 12)).status == 409


def race(
    api: LambdaApi, plumber: Contractor, request_id: str, bodies: list[dict[str, Any]]
) -> list[ApiResponse]:
    """Each body sent as an acceptance of the request at the same moment, from its own thread."""
    answers: list[ApiResponse] = []
    start = threading.Barrier(len(bodies))

    def accept(body: dict[str, Any]) -> None:
        start.wait()
        answers.append(staff_action(api, plumber, request_id, "accept", body, role="owner"))

    threads = [threading.Thread(target=accept, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_two_staff_accepting_at_once_exactly_one_wins(
    api: LambdaApi, plumber: Contractor, customer: tuple[str, str]
) -> None:
    _, token = customer
    for attempt in range(3):
        request = submitted(api, plumber, token)
        bodies = [
            job(plumber, 40 + attempt, "09:00", "11:00"),
            job(plumber, 40 + attempt, "13:00", "15:00", plumber.salon.extra["ben"]),
        ]
        answers = race(api, plumber, request["id"], bodies)
        assert sorted(a.status for a in answers) == [200, 409], [a.text for a in answers]
        detail = api.get(f"{ADMIN}/{request['id']}", token=plumber.admin()).json()
        assert [r["kind"] for r in detail["responses"]] == ["accepted"]
        winner = next(a for a in answers if a.status == 200).json()
        assert detail["booking_id"] == winner["booking_id"]
        mine = [b for b in in_calendar(api, plumber, 40 + attempt) if b.startswith(request["id"])]
        assert mine == [winner["booking_id"]]  # one booking in the schedule, not two


# --- who may do what -------------------------------------------------------------------------------------


def test_staff_answer_only_requests_assigned_to_them(
    api: LambdaApi, plumber: Contractor, customer: tuple[str, str], embedded_aws: Any, resources: Any
) -> None:
    from tests.support.booking_fixtures import linked_staff_token

    aws, _ = embedded_aws
    amelia = linked_staff_token(aws, resources, plumber.salon.tenant, plumber.salon.staff_id)
    _, token = customer
    request = submitted(api, plumber, token)
    assert api.get(f"{ADMIN}/{request['id']}", token=amelia).status == 404
    assert request["id"] not in [r["id"] for r in api.get(ADMIN, token=amelia).json()]
    assert (
        api.put(
            f"{ADMIN}/{request['id']}/assignee", json_body={"staff_id": plumber.salon.staff_id}, token=amelia
        ).status
        == 403
    )
    assigned = api.put(
        f"{ADMIN}/{request['id']}/assignee",
        json_body={"staff_id": plumber.salon.staff_id},
        token=plumber.admin("dispatcher"),
    )
    assert assigned.status == 200, assigned.text
    assert [r["id"] for r in api.get(ADMIN, token=amelia).json()] == [request["id"]]
    for_ben = job(plumber, 50, staff=plumber.salon.extra["ben"])
    assert api.post(f"{ADMIN}/{request['id']}/accept", json_body=for_ben, token=amelia).status == 403
    mine = api.post(f"{ADMIN}/{request['id']}/accept", json_body=job(plumber, 50), token=amelia)
    assert mine.status == 200, mine.text


def test_another_customer_sees_no_request(
    api: LambdaApi, plumber: Contractor, customer: tuple[str, str]
) -> None:
    _, token = customer
    request = submitted(api, plumber, token)
    _, other = onboarded_customer(api, plumber)
    assert as_customer(api, "GET", f"{requests_path(plumber)}/{request['id']}", other).status == 404
    assert as_customer(api, "POST", f"{requests_path(plumber)}/{request['id']}/cancel", other).status == 404
    assert as_customer(api, "GET", requests_path(plumber), other).json() == []
    assert as_customer(api, "GET", requests_path(plumber), "not-a-session").status == 401


# --- bad input: a clear 4xx naming the problem, nothing written ----------------------------------------------


def inbox_ids(api: LambdaApi, plumber: Contractor) -> list[str]:
    return [r["id"] for r in api.get(ADMIN, token=plumber.admin()).json()]


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"preferred_dates": []}, "preferred_dates"),
        ({"preferred_dates": ["2027-01-04", "2027-01-05", "2027-01-06", "2027-01-07"]}, "preferred_dates"),
        ({"preferred_dates": ["2020-01-06"]}, "preferred_dates"),
        ({"time_preference": "evening"}, "time_preference"),
        ({"photos": [{"content_type": "image/jpeg", "size_bytes": 1000}] * 4}, "photos"),
        ({"photos": [{"content_type": "image/gif", "size_bytes": 1000}]}, "photos"),
        ({"photos": [{"content_type": "image/png", "size_bytes": 11 * 1024 * 1024}]}, "photos"),
        ({"service_id": None}, "free_text"),
        ({"free_text": "and also this"}, "free_text"),
        ({"address": "x"}, "address"),
    ],
)
def test_bad_requests_are_refused_naming_the_field(
    api: LambdaApi, plumber: Contractor, customer: tuple[str, str], fields: dict[str, Any], named: str
) -> None:
    _, token = customer
    before = inbox_ids(api, plumber)
    response = submit(api, plumber, token, **fields)
    assert response.status == 422, response.text
    assert named in response.text
    assert inbox_ids(api, plumber) == before


def test_a_service_not_on_the_request_form_and_free_text_when_disallowed(
    api: LambdaApi, make_tenant: MakeTenant
) -> None:
    plumber = build_contractor(api, make_tenant, allow_free_text=False)
    _, token = onboarded_customer(api, plumber)
    not_listed = submit(api, plumber, token, service_id=plumber.boiler_id)
    assert not_listed.status == 422 and "service_id" in not_listed.text
    free = submit(api, plumber, token, service_id=None, free_text="Something else")
    assert free.status == 422 and "free_text" in free.text
    assert inbox_ids(api, plumber) == []


def test_only_onboarded_customers_may_request(api: LambdaApi, plumber: Contractor) -> None:
    _, token = onboarded_customer(api, plumber, onboarded=False)
    before = inbox_ids(api, plumber)
    refused = submit(api, plumber, token)
    assert refused.status == 403, refused.text
    assert "onboarded" in refused.json()["detail"]
    assert inbox_ids(api, plumber) == before


def test_a_business_without_requests_takes_none(api: LambdaApi, make_tenant: MakeTenant) -> None:
    plumber = build_contractor(api, make_tenant)
    _, token = onboarded_customer(api, plumber)
    update_requests(api, plumber.salon, {"enabled": False})
    assert submit(api, plumber, token).status == 404


def test_answers_with_bad_times_are_refused(
    api: LambdaApi, plumber: Contractor, customer: tuple[str, str]
) -> None:
    _, token = customer
    request = submitted(api, plumber, token)
    backwards = job(plumber, 14) | {"end": plumber.salon.at(plumber.salon.day(14), "08:00").isoformat()}
    assert staff_action(api, plumber, request["id"], "accept", backwards).status == 422
    no_message = job(plumber, 14)
    assert staff_action(api, plumber, request["id"], "counter-proposal", no_message).status == 422
    free = submitted(api, plumber, token, service_id=None, free_text="A dripping tap")
    unnamed = staff_action(api, plumber, free["id"], "accept", job(plumber, 15))
    assert unnamed.status == 422 and "service_id" in unnamed.text
    named = staff_action(
        api, plumber, free["id"], "accept", job(plumber, 15) | {"service_id": plumber.salon.service_id}
    )
    assert named.status == 200, named.text
    detail = api.get(f"{ADMIN}/{request['id']}", token=plumber.admin()).json()
    assert detail["state"] == "submitted" and detail["responses"] == []


# --- photos ----------------------------------------------------------------------------------------------


def upload(form: dict[str, Any], content: bytes) -> None:
    """What the widget does with each presigned POST: the form's fields, then the file, straight to S3."""
    answer = requests.post(
        form["url"],
        data=form["fields"],
        files={"file": ("photo", content, form["fields"]["Content-Type"])},
        timeout=30,
    )
    assert answer.status_code in (200, 201, 204), answer.text


def test_photos_go_straight_to_storage_are_checked_and_shown_to_staff_by_short_links(
    api: LambdaApi, plumber: Contractor, customer: tuple[str, str]
) -> None:
    _, token = customer
    request = submitted(
        api,
        plumber,
        token,
        photos=[
            {"content_type": "image/jpeg", "size_bytes": len(JPEG)},
            {"content_type": "image/jpeg", "size_bytes": len(PNG)},
        ],
    )
    first, second = request["uploads"]
    assert first["fields"]["key"] == f"tenants/{plumber.salon.tenant.id}/requests/{request['id']}/photos/0"
    photos = f"{requests_path(plumber)}/{request['id']}/photos"
    early = as_customer(api, "POST", f"{photos}/0/uploaded", token)
    assert early.status == 409, early.text  # nothing uploaded yet

    upload(first, JPEG)
    checked = as_customer(api, "POST", f"{photos}/0/uploaded", token)
    assert checked.status == 200, checked.text
    assert checked.json()["status"] == "verified"

    upload(second, PNG)  # declared a JPEG: the bytes say otherwise
    refused = as_customer(api, "POST", f"{photos}/1/uploaded", token)
    assert refused.status == 422, refused.text
    assert "PNG" in refused.text and "photos.1" in refused.text

    detail = api.get(f"{ADMIN}/{request['id']}", token=plumber.admin("dispatcher")).json()
    assert [p["status"] for p in detail["photos"]] == ["verified", "rejected"]
    assert list(detail["photo_urls"]) == ["0"]  # only a verified photo gets a link
    shown = requests.get(detail["photo_urls"]["0"], timeout=30)
    assert shown.status_code == 200 and shown.content == JPEG
    mine = as_customer(api, "GET", f"{requests_path(plumber)}/{request['id']}", token).json()
    assert mine["photo_urls"] == {}  # links are for staff


def test_a_lead_shows_what_was_sent_about_it(
    notifications: Notifications, api: LambdaApi, plumber: Contractor, customer: tuple[str, str]
) -> None:
    email, token = customer
    request = submitted(api, plumber, token)
    notifications.deliver()
    detail = api.get(f"{ADMIN}/{request['id']}", token=plumber.admin("dispatcher")).json()
    sent = {(m["kind"], m["recipient"]) for m in detail["communications"] if m["status"] == "sent"}
    assert ("request_received", email) in sent
    assert ("request_new", "dispatch@flowright.example") in sent
    assert (
        as_customer(api, "GET", f"{requests_path(plumber)}/{request['id']}", token).json()["communications"]
        == []
    )


def test_an_admin_acting_as_the_customer_is_recorded_as_such(
    api: LambdaApi, plumber: Contractor, customer: tuple[str, str]
) -> None:
    email, _ = customer
    impersonated = api.post(f"/v1/admin/customers/{email}/impersonate", token=plumber.admin())
    assert impersonated.status == 200, impersonated.text
    request = submitted(api, plumber, impersonated.json()["token"])
    detail = api.get(f"{ADMIN}/{request['id']}", token=plumber.admin()).json()
    [entry] = detail["history"]
    assert entry["actor"]["kind"] == "customer" and entry["actor"]["id"] == email
    assert entry["actor"]["on_behalf_of"] is not None  # the owner who acted through "login as client"


def test_a_photo_verified_once_is_what_staff_see_whatever_the_form_sends_later(
    api: LambdaApi, plumber: Contractor, customer: tuple[str, str], embedded_aws: Any, resources: Any
) -> None:
    _, token = customer
    request = submitted(api, plumber, token, photos=[{"content_type": "image/jpeg", "size_bytes": len(JPEG)}])
    [form] = request["uploads"]
    policy = json.loads(base64.b64decode(form["fields"]["policy"]))
    expires = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    assert expires <= datetime.now(UTC) + timedelta(seconds=301)  # the form works five minutes
    uploaded = f"{requests_path(plumber)}/{request['id']}/photos/0/uploaded"
    upload(form, JPEG)
    checked = as_customer(api, "POST", uploaded, token)
    assert checked.status == 200, checked.text
    assert checked.json()["status"] == "verified" and checked.json()["etag"]

    # The same form posted again, with a page of the declared type and size: S3 takes it (at the upload's
    # key), and staff still see the photo that was checked.
    page = b"<html><script>alert(document.cookie)</script></html>".ljust(len(JPEG), b" ")
    upload(form, page)
    again = as_customer(api, "POST", uploaded, token)
    assert again.status == 200, again.text
    assert again.json() == checked.json()  # answered from the record, nothing read again
    detail = api.get(f"{ADMIN}/{request['id']}", token=plumber.admin("dispatcher")).json()
    shown = requests.get(detail["photo_urls"]["0"], timeout=30)
    assert shown.status_code == 200 and shown.content == JPEG
    assert shown.headers["Content-Type"] == "image/jpeg"
    assert shown.headers["Content-Disposition"] == f'inline; filename="request-{request["id"]}-photo-1.jpg"'

    # Only when the verified copy has gone is the upload checked again: now it is the page, refused.
    aws, _ = embedded_aws
    verified = f"tenants/{plumber.salon.tenant.id}/requests/{request['id']}/verified/0"
    aws.client("s3").delete_object(Bucket=resources.photos_bucket, Key=verified)
    refused = as_customer(api, "POST", uploaded, token)
    assert refused.status == 422, refused.text
    assert "not an image we recognise" in refused.text
    detail = api.get(f"{ADMIN}/{request['id']}", token=plumber.admin("dispatcher")).json()
    assert detail["photo_urls"] == {} and detail["photos"][0]["status"] == "rejected"


# --- one rule for where an answer places the job ------------------------------------------------------------


def with_lunch_break(api: LambdaApi, plumber: Contractor) -> None:
    """Amelia works 08:00-17:00 with lunch 12:00-13:00 every day."""
    path = f"/v1/admin/staff/{plumber.salon.staff_id}"
    member = api.get(path, token=plumber.admin()).json()
    shifts = [
        {"weekday": day, "start": "08:00", "end": "17:00", "breaks": [{"start": "12:00", "end": "13:00"}]}
        for day in WEEK
    ]
    body = {k: v for k, v in member.items() if k not in ("id", "version")} | {"shifts": shifts}
    assert api.put(path, json_body=body, token=plumber.admin()).status == 200


@pytest.mark.parametrize("role", ["dispatcher", "admin"])
def test_a_full_day_across_the_lunch_break_is_accepted_and_proposed_alike(
    api: LambdaApi, make_tenant: MakeTenant, role: str
) -> None:
    plumber = build_contractor(api, make_tenant)
    with_lunch_break(api, plumber)
    _, token = onboarded_customer(api, plumber)
    full_day = {"start": "08:00", "end": "17:00"}
    for days, action in ((10, "accept"), (11, "counter-proposal")):
        request = submitted(api, plumber, token)
        body = job(plumber, days, **full_day) | {"message": "A full day"}
        answered = staff_action(api, plumber, request["id"], action, body, role=role)
        assert answered.status == 200, (action, answered.text)
        booking_id = answered.json()["responses"][-1]["booking_id"]
        booking = api.get(f"/v1/admin/bookings/{booking_id}", token=plumber.admin()).json()
        assert (at(booking["start"]), at(booking["end"])) == (at(body["start"]), at(body["end"]))
        assert in_calendar(api, plumber, days) == [booking_id]


def test_outside_the_working_hours_both_answers_follow_the_same_role_rule(
    api: LambdaApi, make_tenant: MakeTenant, embedded_aws: Any, resources: Any
) -> None:
    from tests.support.booking_fixtures import linked_staff_token

    plumber = build_contractor(api, make_tenant)
    with_lunch_break(api, plumber)
    _, token = onboarded_customer(api, plumber)
    early = {"start": "07:00", "end": "17:00"}  # an hour before the shift starts
    for days, action in ((20, "accept"), (21, "counter-proposal")):
        request = submitted(api, plumber, token)
        body = job(plumber, days, **early) | {"message": "An early start"}
        refused = staff_action(api, plumber, request["id"], action, body)  # a dispatcher
        assert refused.status == 422, (action, refused.text)
        assert "within Amelia Hart's working hours" in refused.json()["detail"]
        assert in_calendar(api, plumber, days) == []
        detail = api.get(f"{ADMIN}/{request['id']}", token=plumber.admin()).json()
        assert detail["state"] == "submitted" and detail["responses"] == []
        answered = staff_action(api, plumber, request["id"], action, body, role="admin")
        assert answered.status == 200, (action, answered.text)

    # Staff answer with their own time only, whichever the answer.
    request = submitted(api, plumber, token)
    assigned = api.put(
        f"{ADMIN}/{request['id']}/assignee",
        json_body={"staff_id": plumber.salon.staff_id},
        token=plumber.admin("dispatcher"),
    )
    assert assigned.status == 200, assigned.text
    amelia = linked_staff_token(embedded_aws[0], resources, plumber.salon.tenant, plumber.salon.staff_id)
    for_ben = job(plumber, 22, staff=plumber.salon.extra["ben"]) | {"message": "Ben could come"}
    for action in ("accept", "counter-proposal"):
        path = f"{ADMIN}/{request['id']}/{action}"
        assert api.post(path, json_body=for_ben, token=amelia).status == 403
    mine = job(plumber, 22, **early) | {"message": "I can start early"}
    proposed = api.post(f"{ADMIN}/{request['id']}/counter-proposal", json_body=mine, token=amelia)
    assert proposed.status == 200, proposed.text


# --- flooding ----------------------------------------------------------------------------------------------


def clear_of_the_hour_turning() -> None:
    """Waits out the last minute of a clock hour, so a test's submissions fall in one hour's window."""
    now = datetime.now(UTC)
    left = 3600 - (now.minute * 60 + now.second)
    if left < 60:
        time.sleep(left + 1)


def refused_as_too_many(response: ApiResponse) -> dict[str, Any]:
    assert response.status == 429, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    problem: dict[str, Any] = response.json()
    assert problem["type"].endswith("too-many-requests")
    return problem


def test_fifteen_requests_at_once_make_three_and_one_text(
    notifications: Notifications, api: LambdaApi, make_tenant: MakeTenant, resources: Any, embedded_aws: Any
) -> None:
    clear_of_the_hour_turning()
    plumber = build_contractor(api, make_tenant)
    email, token = onboarded_customer(api, plumber)
    photos = [{"content_type": "image/jpeg", "size_bytes": 10 * 1024 * 1024}] * 3
    answers: list[ApiResponse] = []
    start = threading.Barrier(15)

    def send() -> None:
        start.wait()
        answers.append(submit(api, plumber, token, photos=photos))

    threads = [threading.Thread(target=send) for _ in range(15)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    made = [a.json() for a in answers if a.status == 201]
    assert len(made) == 3  # at most three open at once
    assert sum(len(r["uploads"]) for r in made) == 9  # upload forms for those only
    for refused in (a for a in answers if a.status != 201):
        problem = refused_as_too_many(refused)
        if "this hour" in problem["detail"]:  # a window: when it ends
            assert 0 < int(refused.headers["Retry-After"]) <= 3600
        else:  # as many open as allowed: nothing to wait for but an answer
            assert "3 requests waiting for an answer" in problem["detail"]
            assert "Retry-After" not in refused.headers
    ids = sorted(r["id"] for r in made)
    assert sorted(r["id"] for r in as_customer(api, "GET", requests_path(plumber), token).json()) == ids
    assert sorted(inbox_ids(api, plumber)) == ids

    sent = notifications.deliver()
    assert len(emails(sent, email)) == 3  # each request acknowledged by email...
    assert len(texts(sent, "+447911123456")) == 1  # ...and by one text
    staff_notices = [m for m in sent if m["channel"] == "email" and m["subject"].startswith("New booking")]
    assert len(staff_notices) == 3 * 2  # the contact address and the dispatcher, per request
    timers = {n for n in notifications.schedule_names() if n.startswith("req-esc-")}
    assert {n.removeprefix("req-esc-").removesuffix("-1") for n in timers} >= set(ids)
    assert len([n for n in timers if any(i in n for i in ids)]) == 3
    today = datetime.now(UTC).astimezone(plumber.salon.zone).date().isoformat()
    counter = keys.sms_day_key(plumber.salon.tenant.id, today)
    dynamodb = embedded_aws[0].client("dynamodb")
    budget = dynamodb.get_item(
        TableName=resources.table_name, Key={k: {"S": v} for k, v in counter.items()}, ConsistentRead=True
    )["Item"]
    assert budget["sent"]["N"] == "1"  # the day's SMS cap spent once


def test_each_limit_refuses_with_a_clear_429_and_writes_nothing(
    api: LambdaApi, make_tenant: MakeTenant
) -> None:
    clear_of_the_hour_turning()
    plumber = build_contractor(api, make_tenant, max_open_per_customer=2, max_per_customer_hour=3)
    _, token = onboarded_customer(api, plumber)
    first, second = submitted(api, plumber, token), submitted(api, plumber, token)
    before = inbox_ids(api, plumber)

    full = submit(api, plumber, token)
    assert "2 requests waiting for an answer" in refused_as_too_many(full)["detail"]
    assert "Retry-After" not in full.headers
    assert inbox_ids(api, plumber) == before

    # An answered or cancelled request no longer counts; the refusal above used up nothing.
    as_customer(api, "POST", f"{requests_path(plumber)}/{first['id']}/cancel", token)
    third = submitted(api, plumber, token)
    as_customer(api, "POST", f"{requests_path(plumber)}/{second['id']}/cancel", token)
    hourly = submit(api, plumber, token)  # a fourth this hour
    assert "3 requests this hour" in refused_as_too_many(hourly)["detail"]
    assert 0 < int(hourly.headers["Retry-After"]) <= 3600
    assert sorted(inbox_ids(api, plumber)) == sorted([first["id"], second["id"], third["id"]])
    _, neighbour = onboarded_customer(api, plumber)
    assert submit(api, plumber, neighbour).status == 201  # the limits are per customer

    daily = build_contractor(api, make_tenant, max_per_customer_day=1)
    _, token = onboarded_customer(api, daily)
    submitted(api, daily, token)
    tomorrow = submit(api, daily, token)
    assert "1 requests today" in refused_as_too_many(tomorrow)["detail"]
    assert 0 < int(tomorrow.headers["Retry-After"]) <= 24 * 3600

    busy = build_contractor(api, make_tenant, max_per_business_hour=2)
    for _ in range(2):
        submitted(api, busy, onboarded_customer(api, busy)[1])
    another = submit(api, busy, onboarded_customer(api, busy)[1])
    assert "no more requests this hour" in refused_as_too_many(another)["detail"]
    assert len(inbox_ids(api, busy)) == 2
