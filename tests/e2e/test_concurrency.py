"""No double booking, against the running local stack: many customers press "book" for the same time at
once, over real HTTP. The database (ledger sheets written in one transaction, each conditioned on the
version it was read at) must let exactly as many through as there are free staff, and every other
customer must hear that the time was just taken."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.support.local_stack import LocalStack, running

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("local_stack_concurrency")]

SPA = "serenity-spa"
# Generous: under load fifty requests queue behind each other; this bounds a hang, it times nothing.
HTTP_TIMEOUT_SECONDS = 20
SLOT_TAKEN = "urn:booking:problem:slot-taken"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    yield from running(tmp_path_factory, "concurrency-stack")


@pytest.fixture(scope="module")
def owner_token(stack: LocalStack) -> str:
    response = stack.get("/dev/demo")
    assert response.status_code == 200, response.text
    [spa] = [b for b in response.json()["businesses"] if b["slug"] == SPA]
    return str(spa["users"]["owner"]["token"])


@pytest.fixture(scope="module")
def swedish(stack: LocalStack) -> str:
    response = stack.get(f"/v1/public/businesses/{SPA}/services")
    assert response.status_code == 200, response.text
    services = {s["name"]: s for c in response.json()["categories"] for s in c["services"]}
    return str(services["Swedish massage"]["id"])


def assert_answering(stack: LocalStack) -> None:
    try:
        requests.get(f"{stack.base_url}/v1/health", timeout=5).raise_for_status()
    except requests.RequestException as error:
        pytest.fail(f"the local stack does not answer: {error}\n{stack.log()[-2000:]}")


def offered(stack: LocalStack, service_id: str) -> list[dict[str, Any]]:
    """Every slot of the next two weeks, in order."""
    first = datetime.now(ZoneInfo("Europe/London")).date() + timedelta(days=1)
    last = first + timedelta(days=13)
    path = f"/v1/public/businesses/{SPA}/availability?services={service_id}&from={first}&to={last}&tz=Europe/London"
    response = stack.get(path)
    assert response.status_code == 200, response.text
    return [slot for day in response.json()["days"] for slot in day["slots"]]


def race(
    stack: LocalStack, service_id: str, start: str, staff: str, attempts: int
) -> list[requests.Response]:
    """`attempts` customers, each with their own Idempotency-Key, book the same time at the same moment."""
    url = f"{stack.base_url}/v1/public/businesses/{SPA}/bookings"

    def attempt(index: int) -> requests.Response | None:
        body = {
            "services": [service_id],
            "staff": staff,
            "start": start,
            "customer": {
                "name": f"Racer {index}",
                "email": f"racer-{index}-{secrets.token_hex(3)}@example.com",
            },
        }
        headers = {"Idempotency-Key": secrets.token_hex(16)}
        try:
            return requests.post(url, json=body, headers=headers, timeout=HTTP_TIMEOUT_SECONDS)
        except requests.Timeout:
            return None

    with ThreadPoolExecutor(max_workers=attempts) as pool:
        answers = list(pool.map(attempt, range(attempts)))
    unanswered = answers.count(None)
    assert unanswered == 0, (
        f"{unanswered} of {attempts} concurrent booking requests got no answer within {HTTP_TIMEOUT_SECONDS}s: "
        f"the local stack stops serving under concurrent requests\n{stack.log()[-2000:]}"
    )
    return [a for a in answers if a is not None]


def diary_at(stack: LocalStack, token: str, start: str, staff: str | None = None) -> list[dict[str, Any]]:
    instant = datetime.fromisoformat(start)
    day: date = instant.astimezone(ZoneInfo("Europe/London")).date()
    path = f"/v1/admin/calendar?from={day}&to={day}" + (f"&staff={staff}" if staff else "")
    response = stack.get(path, token)
    assert response.status_code == 200, response.text
    return [
        e
        for e in response.json()
        if datetime.fromisoformat(e["start"]).astimezone(UTC) == instant.astimezone(UTC)
    ]


def assert_all_lost_to_a_taken_slot(responses: list[requests.Response]) -> None:
    for response in responses:
        if response.status_code == 201:
            continue
        assert response.status_code == 409, response.text
        assert response.headers["Content-Type"].startswith("application/problem+json")
        problem = response.json()
        assert problem["type"] == SLOT_TAKEN, problem
        assert "taken" in problem["title"].lower()


def test_fifty_customers_race_for_one_staff_members_time_and_one_wins(
    stack: LocalStack, swedish: str, owner_token: str
) -> None:
    assert_answering(stack)
    slot = offered(stack, swedish)[0]
    staff = slot["staff_ids"][0]
    responses = race(stack, swedish, slot["start"], staff, attempts=50)

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 1, 409: 49}, (statuses, stack.log()[-3000:])
    assert_all_lost_to_a_taken_slot(responses)
    [winner] = [r.json() for r in responses if r.status_code == 201]
    assert winner["staff"]["id"] == staff

    [entry] = diary_at(stack, owner_token, slot["start"], staff)
    assert entry["booking_id"] == winner["id"]
    assert all(s["start"] != slot["start"] or staff not in s["staff_ids"] for s in offered(stack, swedish))


def test_twenty_customers_race_for_a_time_two_therapists_can_do_and_two_win(
    stack: LocalStack, swedish: str, owner_token: str
) -> None:
    assert_answering(stack)
    slot = next(s for s in offered(stack, swedish) if len(s["staff_ids"]) == 2)
    responses = race(stack, swedish, slot["start"], "any", attempts=20)

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 2, 409: 18}, (statuses, stack.log()[-3000:])
    assert_all_lost_to_a_taken_slot(responses)
    winners = [r.json() for r in responses if r.status_code == 201]
    assert {w["staff"]["id"] for w in winners} == set(slot["staff_ids"])

    booked = diary_at(stack, owner_token, slot["start"])
    assert sorted(e["booking_id"] for e in booked) == sorted(w["id"] for w in winners)
    assert {e["staff"]["id"] for e in booked} == set(slot["staff_ids"])


def test_customers_booking_different_times_of_one_staff_members_day_at_once_all_succeed(
    stack: LocalStack, swedish: str, owner_token: str
) -> None:
    """They all write the same ledger sheet (one staff member, one day): the version conflicts between
    them are absorbed by re-reading and retrying, and every one of them is booked."""
    assert_answering(stack)
    slots = offered(stack, swedish)
    staff = slots[-1]["staff_ids"][0]
    day = datetime.fromisoformat(slots[-1]["start"]).date()
    mine = [s for s in slots if staff in s["staff_ids"] and datetime.fromisoformat(s["start"]).date() == day]
    # Starts an hour or more apart, so no two of these one-hour massages (and their buffers) overlap.
    starts: list[str] = []
    for slot in mine:
        begin = datetime.fromisoformat(slot["start"])
        if not starts or begin - datetime.fromisoformat(starts[-1]) >= timedelta(minutes=75):
            starts.append(slot["start"])
    assert len(starts) >= 4, mine
    url = f"{stack.base_url}/v1/public/businesses/{SPA}/bookings"

    def attempt(start: str) -> requests.Response:
        body = {
            "services": [swedish],
            "staff": staff,
            "start": start,
            "customer": {"name": "Neighbour", "email": f"n-{secrets.token_hex(3)}@example.com"},
        }
        headers = {"Idempotency-Key": secrets.token_hex(16)}
        return requests.post(url, json=body, headers=headers, timeout=HTTP_TIMEOUT_SECONDS)

    with ThreadPoolExecutor(max_workers=len(starts)) as pool:
        responses = list(pool.map(attempt, starts))
    assert [r.status_code for r in responses] == [201] * len(starts), [r.text for r in responses]
    booked = {e["booking_id"] for start in starts for e in diary_at(stack, owner_token, start, staff)}
    assert booked == {r.json()["id"] for r in responses}
