"""(f) Nothing lost: bookings made with the dev server killed (`kill -9` of its process group) right after
each 201, and bookings made through injected faults (the email provider refusing the first attempt, the
process dying between claiming a confirmation and sending it, a stream batch failing twice). Counted
afterwards over HTTP: bookings found, confirmations delivered, and duplicates.

After the kills and faults the dev clock is moved past the message lease and the first retry pause, so
that a claim left by a killed sender, or a refused email, has had its turn (as it would minutes later).
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import requests

from bench.api import SLUG, ZONE, _service_id
from bench.scale import plan
from bench.stack import LocalStack
from booking.domain.communications import BACKOFF, LEASE

HTTP_TIMEOUT_SECONDS = 30
SETTLE_SECONDS = 60


@dataclass(frozen=True)
class Tally:
    label: str
    made: int  # 201s
    found: int  # readable afterwards through their manage link, confirmed
    confirmed: int  # bookings with at least one confirmation email
    duplicates: int  # confirmation emails beyond the first, over all bookings
    restarts: int


def _book(
    session: requests.Session, base: str, service_id: str, job: tuple[str, str], email: str
) -> dict[str, Any]:
    start, staff = job
    response = session.post(
        f"{base}/v1/public/businesses/{SLUG}/bookings",
        json={
            "services": [service_id],
            "staff": staff,
            "start": start,
            "customer": {"name": "Durable Customer", "email": email, "phone": "+447911123456"},
        },
        headers={"Idempotency-Key": uuid.uuid4().hex},
        timeout=HTTP_TIMEOUT_SECONDS,
    )
    if response.status_code != 201:
        raise RuntimeError(f"booking answered {response.status_code}: {response.text[:300]}")
    booking: dict[str, Any] = response.json()
    return booking


def _settle_and_count(
    label: str, stack: LocalStack, booked: list[tuple[dict[str, Any], str]], restarts: int
) -> Tally:
    with requests.Session() as session:
        base = stack.base_url
        session.post(f"{base}/dev/faults", json={}, timeout=HTTP_TIMEOUT_SECONDS)
        now = datetime.fromisoformat(
            session.get(f"{base}/dev/clock", timeout=HTTP_TIMEOUT_SECONDS).json()["now"]
        )
        later = now + max(LEASE, BACKOFF[0]) + timedelta(minutes=1)
        session.post(f"{base}/dev/clock", json={"now": later.isoformat()}, timeout=HTTP_TIMEOUT_SECONDS)
        emails = {email for _, email in booked}
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            outbox = session.get(f"{base}/dev/outbox.json", timeout=120).json()["messages"]
            confirmations = Counter(
                m["to"][0]
                for m in outbox
                if m["channel"] == "email"
                and (m.get("subject") or "").startswith("Booking confirmed: ")
                and m["to"][0] in emails
            )
            if len(confirmations) == len(emails) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        found = 0
        for booking, _ in booked:
            response = session.get(
                f"{base}/v1/public/bookings/{booking['id']}",
                params={"token": booking["manage_token"]},
                timeout=HTTP_TIMEOUT_SECONDS,
            )
            found += response.status_code == 200 and response.json()["status"] == "confirmed"
    return Tally(
        label=label,
        made=len(booked),
        found=found,
        confirmed=len(confirmations),
        duplicates=sum(n - 1 for n in confirmations.values()),
        restarts=restarts,
    )


def kills(stack: LocalStack, service_id: str, jobs: list[tuple[str, str]]) -> Tally:
    run = uuid.uuid4().hex[:8]
    booked = []
    for n, job in enumerate(jobs):
        with requests.Session() as session:
            email = f"kill-{run}-{n}@example.com"
            booked.append((_book(session, stack.base_url, service_id, job, email), email))
        stack.kill_hard()
        stack.restart()
    return _settle_and_count("kill -9 of the process group right after each 201", stack, booked, len(jobs))


def faults(stack: LocalStack, service_id: str, jobs: list[tuple[str, str]]) -> Tally:
    run = uuid.uuid4().hex[:8]
    booked, restarts = [], 0
    for n, job in enumerate(jobs):
        email = f"fault-{run}-{n}@example.com"
        kind = n % 3
        with requests.Session() as session:
            settings = [
                {"refuse_sends_to": [email]},
                {"crash_on_send_to": [email]},
                {"fail_stream_batches": 2},
            ][kind]
            session.post(f"{stack.base_url}/dev/faults", json=settings, timeout=HTTP_TIMEOUT_SECONDS)
            booked.append((_book(session, stack.base_url, service_id, job, email), email))
        if kind == 1:  # the process dies when the dispatcher sends this confirmation
            deadline = time.monotonic() + 30
            while stack.alive() and time.monotonic() < deadline:
                time.sleep(0.1)
            stack.restart()
            restarts += 1
        else:
            time.sleep(2)  # the failing batches are retried after 0.5 and 1 s
    return _settle_and_count(
        "faults: SES refusing the first attempt / killed between claim and send / a batch failing twice",
        stack,
        booked,
        restarts,
    )


def run(killed: int = 20, faulted: int = 12) -> list[Tally]:
    with LocalStack() as stack, requests.Session() as session:
        service_id = _service_id(session, stack.base_url)
        first = datetime.now(ZoneInfo(ZONE)).date() + timedelta(days=3)
        jobs = plan(session, stack.base_url, service_id, first, killed + faulted)
        # the session is closed: each part opens its own against the (restarting) server
        return [kills(stack, service_id, jobs[:killed]), faults(stack, service_id, jobs[killed:])]
