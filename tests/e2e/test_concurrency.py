"""No double booking, against the running local stack: many customers press "book" for the same time at
once, over real HTTP. The database (lock items written with attribute_not_exists in one transaction) must
let exactly as many through as there are free staff, and every other customer must hear that the time was
just taken."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("local_stack_concurrency")]

REPO = Path(__file__).resolve().parents[2]
SPA = "serenity-spa"
START_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 10
# Generous: under load fifty requests queue behind each other; this bounds a hang, it times nothing.
HTTP_TIMEOUT_SECONDS = 20
SLOT_TAKEN = "urn:booking:problem:slot-taken"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Stack:
    base_url: str
    log_file: Path

    def get(self, path: str, token: str | None = None) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.get(f"{self.base_url}{path}", headers=headers, timeout=HTTP_TIMEOUT_SECONDS)

    def log(self) -> str:
        return self.log_file.read_text(encoding="utf-8", errors="replace")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("concurrency-stack")
    log_file = root / "devserver.log"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTO_"))}
    for name in ("TABLE_NAME", "IDEMPOTENCY_TABLE_NAME", "APP_SECRET"):
        env.pop(name, None)
    env["PYTHONUNBUFFERED"] = "1"
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "local.devserver", "--port", str(port), "--data-dir", str(root / "data")],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    stack = Stack(f"http://127.0.0.1:{port}", log_file)
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"the local stack exited with {process.returncode}:\n{stack.log()}")
            try:
                if requests.get(f"{stack.base_url}/v1/health", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"the local stack did not answer /v1/health in {START_TIMEOUT_SECONDS}s:\n{stack.log()}"
                )
            time.sleep(0.2)
        yield stack
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT_SECONDS)


@pytest.fixture(scope="module")
def owner_token(stack: Stack) -> str:
    response = stack.get("/dev/demo")
    assert response.status_code == 200, response.text
    [spa] = [b for b in response.json()["businesses"] if b["slug"] == SPA]
    return str(spa["users"]["owner"]["token"])


@pytest.fixture(scope="module")
def swedish(stack: Stack) -> str:
    response = stack.get(f"/v1/public/businesses/{SPA}/services")
    assert response.status_code == 200, response.text
    services = {s["name"]: s for c in response.json()["categories"] for s in c["services"]}
    return str(services["Swedish massage"]["id"])


def assert_answering(stack: Stack) -> None:
    try:
        requests.get(f"{stack.base_url}/v1/health", timeout=5).raise_for_status()
    except requests.RequestException as error:
        pytest.fail(f"the local stack does not answer: {error}\n{stack.log()[-2000:]}")


def offered(stack: Stack, service_id: str) -> list[dict[str, Any]]:
    """Every slot of the next two weeks, in order."""
    first = datetime.now(ZoneInfo("Europe/London")).date() + timedelta(days=1)
    last = first + timedelta(days=13)
    path = f"/v1/public/businesses/{SPA}/availability?services={service_id}&from={first}&to={last}&tz=Europe/London"
    response = stack.get(path)
    assert response.status_code == 200, response.text
    return [slot for day in response.json()["days"] for slot in day["slots"]]


def race(stack: Stack, service_id: str, start: str, staff: str, attempts: int) -> list[requests.Response]:
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


def diary_at(stack: Stack, token: str, start: str, staff: str | None = None) -> list[dict[str, Any]]:
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
    stack: Stack, swedish: str, owner_token: str
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
    stack: Stack, swedish: str, owner_token: str
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
