"""Issue 12's "done when", over HTTP on the local stack as `make dev` runs it: the demo plumber's onboarded
customer signs in with an emailed code and submits a request with two photos (uploaded straight to the
embedded S3 and checked); moving the dev clock 48 hours sends the dispatcher a reminder; the business
proposes a full-day job, the customer accepts, and the job is in the staff member's calendar with a
confirmation and invite in the outbox. And issue 19's flooding, photo overwrite and full day across a
lunch break, as an attacker and a dispatcher would meet them."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from local.seed import DEMO_HOMEOWNERS
from tests.support.images import JPEG, PNG
from tests.support.local_stack import LocalStack, running
from tests.support.notification_fixtures import emails

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("local_stack_requests")]

PLUMBER = "flowright-plumbing"
LONDON = ZoneInfo("Europe/London")
DISPATCHER = "dispatch@flowright.example"
WAIT_SECONDS = 20


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    yield from running(tmp_path_factory, "requests-stack")


@pytest.fixture(scope="module")
def plumber(stack: LocalStack) -> dict[str, Any]:
    demo = next(b for b in stack.json("GET", "/dev/demo")["businesses"] if b["slug"] == PLUMBER)
    return {"id": demo["id"], "tokens": {role: user["token"] for role, user in demo["users"].items()}}


def until(what: str, check: Callable[[], Any]) -> Any:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {WAIT_SECONDS}s")
        time.sleep(0.2)


def sign_in(stack: LocalStack, email: str) -> str:
    """The customer portal's sign-in: a code by email, traded for a session."""
    base = f"/v1/public/businesses/{PLUMBER}/customers"
    assert stack.request("POST", f"{base}/login-code", json={"email": email}).status_code == 202

    def code() -> str | None:
        for message in emails(stack.outbox(), email):
            found = re.search(r"\b(\d{6})\b", message["text"] or "")
            if "sign-in code" in (message["subject"] or "") and found:
                return found.group(1)
        return None

    session = stack.json("POST", f"{base}/session", json={"email": email, "code": until("the code", code)})
    return str(session["token"])


def upload(form: dict[str, Any], content: bytes) -> None:
    answer = requests.post(
        form["url"],
        data=form["fields"],
        files={"file": ("photo", content, form["fields"]["Content-Type"])},
        timeout=30,
    )
    assert answer.status_code in (200, 201, 204), answer.text


def test_request_with_photos_escalation_counter_proposal_and_the_job_in_the_calendar(
    stack: LocalStack, plumber: dict[str, Any]
) -> None:
    name, email, _, address = DEMO_HOMEOWNERS[0]
    token = sign_in(stack, email)
    auth = {"Authorization": f"Bearer {token}"}
    mine = f"/v1/public/businesses/{PLUMBER}/customers/me/booking-requests"
    form = stack.json("GET", f"/v1/public/businesses/{PLUMBER}/services")
    services = {s["name"]: s["id"] for section in form["categories"] for s in section["services"]}
    now = stack.now()
    first_day = (now + timedelta(days=7)).astimezone(LONDON).date()

    # A request with two photos, straight to storage, each checked after its upload.
    request = stack.json(
        "POST",
        mine,
        status=201,
        headers=auth,
        json={
            "service_id": services["Leak repair"],
            "preferred_dates": [first_day.isoformat(), (first_day + timedelta(days=1)).isoformat()],
            "time_preference": "morning",
            "notes": "The leak is under the kitchen sink. Gate code 4821.",
            "photos": [
                {"content_type": "image/jpeg", "size_bytes": len(JPEG)},
                {"content_type": "image/png", "size_bytes": len(PNG)},
            ],
        },
    )
    assert request["address"] == address
    for index, (form_fields, content) in enumerate(zip(request["uploads"], (JPEG, PNG), strict=True)):
        upload(form_fields, content)
        checked = stack.json("POST", f"{mine}/{request['id']}/photos/{index}/uploaded", headers=auth)
        assert checked["status"] == "verified"
    dispatcher = plumber["tokens"]["dispatcher"]
    lead = stack.json("GET", f"/v1/admin/booking-requests/{request['id']}", token=dispatcher)
    assert sorted(lead["photo_urls"]) == ["0", "1"]

    # Nobody answers for 48 hours: the dispatcher is reminded.
    def reminders() -> list[dict[str, Any]]:
        return [m for m in emails(stack.outbox(), DISPATCHER) if "waiting" in (m["subject"] or "").lower()]

    assert reminders() == []
    stack.set_clock(now + timedelta(hours=48, minutes=1))
    [reminder] = until("the dispatcher's reminder", reminders)
    assert name in reminder["text"]

    # The business proposes a full day; the customer accepts; the job is in Sam's calendar.
    job_day = first_day + timedelta(days=3)
    start = datetime.combine(job_day, datetime.min.time(), LONDON).replace(hour=8)
    sam = lead_staff(stack, dispatcher, "Sam Reed")  # works 08:00-17:00 without a break
    countered = stack.json(
        "POST",
        f"/v1/admin/booking-requests/{request['id']}/counter-proposal",
        token=dispatcher,
        json={
            "staff_id": sam,
            "start": start.isoformat(),
            "end": start.replace(hour=17).isoformat(),
            "message": "We need a full day to replace the pipe run",
        },
    )
    assert countered["state"] == "counter_proposed"
    # Two days on, the customer's session has expired: they sign in again to answer.
    auth = {"Authorization": f"Bearer {sign_in(stack, email)}"}
    accepted = stack.json("POST", f"{mine}/{request['id']}/counter-proposal/accept", headers=auth)
    assert accepted["state"] == "confirmed"
    calendar = stack.json(
        "GET",
        "/v1/admin/calendar",
        token=dispatcher,
        params={"from": job_day.isoformat(), "to": job_day.isoformat(), "staff": sam},
    )
    assert [e["booking_id"] for e in calendar if e["status"] == "confirmed"] == [accepted["booking_id"]]

    def confirmation() -> list[dict[str, Any]]:
        return [
            m for m in emails(stack.outbox(), email) if (m["subject"] or "").startswith("Booking confirmed")
        ]

    [confirmed] = until("the confirmation", confirmation)
    [invite] = [a for a in confirmed["attachments"] if a["content_type"] == "text/calendar"]
    assert "METHOD:REQUEST" in invite["content"] and "4 Mill Lane" in confirmed["text"] + invite["content"]


def lead_staff(stack: LocalStack, token: str, name: str) -> str:
    staff = stack.json("GET", "/v1/admin/staff", token=token)
    return str(next(s["id"] for s in staff if s["name"] == name))


def test_a_flood_of_requests_is_bounded_a_checked_photo_stays_and_a_full_day_spans_the_lunch_break(
    stack: LocalStack, plumber: dict[str, Any]
) -> None:
    """Issue 19 over HTTP: fifteen requests at once make three (one text, however many emails); a photo
    re-posted after its check changes nothing staff see; a dispatcher proposes a full day for Piotr, whose
    shift has a lunch break."""
    _, email, phone, _ = DEMO_HOMEOWNERS[1]
    auth = {"Authorization": f"Bearer {sign_in(stack, email)}"}
    mine = f"/v1/public/businesses/{PLUMBER}/customers/me/booking-requests"
    form = stack.json("GET", f"/v1/public/businesses/{PLUMBER}/services")
    services = {s["name"]: s["id"] for section in form["categories"] for s in section["services"]}
    first_day = (stack.now() + timedelta(days=7)).astimezone(LONDON).date()
    body = {
        "service_id": services["Leak repair"],
        "preferred_dates": [first_day.isoformat()],
        "photos": [{"content_type": "image/jpeg", "size_bytes": len(JPEG)}],
    }
    answers = [stack.request("POST", mine, headers=auth, json=body) for _ in range(15)]
    assert [a.status_code for a in answers] == [201] * 3 + [429] * 12
    for refused in answers[3:]:
        assert refused.headers["Content-Type"].startswith("application/problem+json")
        assert refused.json()["type"].endswith("too-many-requests")
        assert "3 requests waiting for an answer" in refused.json()["detail"]
    made = [a.json() for a in answers[:3]]
    assert len(stack.json("GET", mine, headers=auth)) == 3

    def received() -> list[dict[str, Any]]:
        return [m for m in emails(stack.outbox(), email) if (m["subject"] or "").startswith("Your request")]

    dispatcher = plumber["tokens"]["dispatcher"]

    def texts_settled() -> list[str]:
        leads = [stack.json("GET", f"/v1/admin/booking-requests/{r['id']}", token=dispatcher) for r in made]
        found = [m["status"] for lead in leads for m in lead["communications"] if m["channel"] == "sms"]
        return sorted(found) if len(found) == 3 and "sending" not in found else []

    assert until("the texts", texts_settled) == ["sent", "skipped", "skipped"]
    assert len(received()) == 3
    assert len([m for m in stack.outbox() if m["channel"] == "sms" and m["to"] == [phone]]) == 1

    # The photo, checked, then its form posted again with a page: staff still see the photo.
    request, [photo_form] = made[0], made[0]["uploads"]
    upload(photo_form, JPEG)
    uploaded = f"{mine}/{request['id']}/photos/0/uploaded"
    assert stack.json("POST", uploaded, headers=auth)["status"] == "verified"
    upload(photo_form, b"<html><script>alert(1)</script></html>".ljust(len(JPEG), b" "))
    assert stack.json("POST", uploaded, headers=auth)["status"] == "verified"
    lead = stack.json("GET", f"/v1/admin/booking-requests/{request['id']}", token=dispatcher)
    shown = requests.get(lead["photo_urls"]["0"], timeout=10)
    assert (shown.content, shown.headers["Content-Type"]) == (JPEG, "image/jpeg")
    assert shown.headers["Content-Disposition"].startswith("inline; filename=")

    # A full day, 08:00-17:00, for Piotr (lunch 12:30-13:00), proposed by the dispatcher.
    job_day = first_day + timedelta(days=3)
    while job_day.weekday() >= 5:
        job_day += timedelta(days=1)
    start = datetime.combine(job_day, datetime.min.time(), LONDON).replace(hour=8)
    countered = stack.json(
        "POST",
        f"/v1/admin/booking-requests/{request['id']}/counter-proposal",
        token=dispatcher,
        json={
            "staff_id": lead_staff(stack, dispatcher, "Piotr Nowak"),
            "start": start.isoformat(),
            "end": start.replace(hour=17).isoformat(),
            "message": "A full day to replace the pipe run",
        },
    )
    assert countered["state"] == "counter_proposed"
