"""Issue 8, section 4, on the local stack: after a customer's whole journey — booking, the confirmation and
its text, the manage link (view, invite, SMS preference, reschedule, cancel), signing in with a code, the
owner reading the booking — the stack's whole log holds none of the customer's email or phone, no manage
token, no session or ID token, and no sign-in code."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest

from tests.support.local_stack import LocalStack, running
from tests.support.notification_fixtures import emails, messages_to, new_customer
from tests.support.spa_bookings import SPA, book, free_slots, spa_of

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("local_stack_logs")]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    yield from running(tmp_path_factory, "logs-stack")


def wait_for(stack: LocalStack, found: object, what: str) -> None:
    deadline = time.monotonic() + 20
    while not found():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within 20 s")
        time.sleep(0.3)


def test_a_customers_whole_journey_leaves_no_personal_data_or_secret_in_the_log(stack: LocalStack) -> None:
    spa = spa_of(stack)
    customer = new_customer()
    first = free_slots(stack, spa, stack.now() + timedelta(days=3))[0]
    booking = book(stack, spa, first, customer)
    token = booking["manage_token"]
    # a reschedule keeps the staff member: a later time that they (not just anyone) have free
    later = free_slots(stack, spa, first + timedelta(hours=2), staff=booking["staff"]["id"])[0]
    wait_for(
        stack,
        lambda: emails(messages_to(stack.outbox(), customer.email, customer.phone), customer.email),
        "confirmation",
    )

    manage = f"/v1/public/bookings/{booking['id']}"
    assert stack.get(f"{manage}?token={token}").status_code == 200
    assert stack.get(f"{manage}/invite.ics?token={token}").status_code == 200
    assert stack.request("PUT", f"{manage}/sms?token={token}", json={"enabled": True}).status_code == 200
    moved = stack.request("POST", f"{manage}/reschedule?token={token}", json={"start": later.isoformat()})
    assert moved.status_code == 200, moved.text
    assert stack.get(f"/v1/admin/bookings/{booking['id']}", token=spa["owner"]).status_code == 200

    assert (
        stack.request(
            "POST", f"/v1/public/businesses/{SPA}/customers/login-code", json={"email": customer.email}
        ).status_code
        == 202
    )

    def code() -> str | None:
        for message in emails(messages_to(stack.outbox(), customer.email, customer.phone), customer.email):
            found = re.search(r"\b(\d{6})\b", message["text"] or "")
            if "sign-in code" in (message["subject"] or "") and found:
                return found.group(1)
        return None

    wait_for(stack, code, "sign-in code")
    sign_in_code = code()
    assert sign_in_code is not None
    session = stack.json(
        "POST",
        f"/v1/public/businesses/{SPA}/customers/session",
        json={"email": customer.email, "code": sign_in_code},
    )["token"]
    assert stack.get(f"/v1/public/businesses/{SPA}/customers/me", token=session).status_code == 200
    cancelled = stack.request("POST", f"{manage}/cancel?token={token}", json={"reason": "cannot make it"})
    assert cancelled.status_code == 200, cancelled.text
    wait_for(
        stack,
        lambda: len(emails(messages_to(stack.outbox(), customer.email, customer.phone), customer.email)) >= 4,
        "cancellation",
    )

    log = stack.log()
    assert "POST /v1/public/bookings/" in log  # the log is there, with the requests in it
    local_phone = (customer.phone or "").replace("+44", "0")
    for secret, what in (
        (customer.email, "the customer's email"),
        (customer.phone, "the customer's phone"),
        (local_phone, "the customer's phone, written nationally"),
        (token, "the manage token"),
        (token.split(".")[-1], "the manage token's signature"),
        (spa["owner"], "the owner's ID token"),
        (session, "the customer's session token"),
    ):
        assert secret and secret not in log, what
    assert not re.search(rf"\b{sign_in_code}\b", log), "the sign-in code"
