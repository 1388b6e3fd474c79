"""Issue 7's fault-injection run, on the local stack over HTTP: the email provider refusing the first
attempt, the process killed between claiming a message and sending it, a stream batch failing twice.
Every booking's confirmation is delivered, exactly once, and its log says how it got there."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from booking.domain.communications import BACKOFF, LEASE
from tests.support.local_stack import LocalStack, running
from tests.support.notification_fixtures import Customer, emails, messages_to, new_customer, texts
from tests.support.spa_bookings import book, free_slots, spa_of

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("local_stack_faults")]

WAIT_SECONDS = 20


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    yield from running(tmp_path_factory, "faults-stack")


@pytest.fixture(scope="module")
def spa(stack: LocalStack) -> dict[str, Any]:
    return spa_of(stack)


def faults(stack: LocalStack, **settings: Any) -> None:
    stack.json("POST", "/dev/faults", json=settings)


def confirmations(stack: LocalStack, customer: Customer) -> tuple[int, int]:
    """(confirmation emails, confirmation texts) the customer has received."""
    mine = messages_to(stack.outbox(), customer.email, customer.phone)
    mails = [m for m in emails(mine, customer.email) if m["subject"].startswith("Booking confirmed: ")]
    sms = [m for m in texts(mine, customer.phone) if "booked" in m["text"]]
    return len(mails), len(sms)


def eventually(what: str, check: Any) -> Any:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {WAIT_SECONDS}s")
        time.sleep(0.3)


def confirmation_log(stack: LocalStack, spa: dict[str, Any], booking_id: str) -> dict[str, Any]:
    log = stack.json("GET", f"/v1/admin/bookings/{booking_id}", token=spa["owner"])["communications"]
    [email] = [e for e in log if e["kind"] == "confirmation" and e["channel"] == "email"]
    return dict(email)


def next_start(stack: LocalStack, spa: dict[str, Any], n: int) -> Any:
    return free_slots(stack, spa, stack.now() + timedelta(days=2 + n))[0]


def test_an_email_refused_at_first_is_sent_by_its_retry_timer_once(
    stack: LocalStack, spa: dict[str, Any]
) -> None:
    customer = new_customer()
    faults(stack, refuse_sends_to=[customer.email])  # SES is throttling mail to this customer for now
    booking = book(stack, spa, next_start(stack, spa, 0), customer)

    eventually("the confirmation text", lambda: confirmations(stack, customer)[1] == 1)
    retrying = confirmation_log(stack, spa, booking["id"])
    assert (retrying["status"], retrying["attempts"]) == ("retrying", 1)
    assert "TooManyRequestsException" in retrying["detail"]
    assert confirmations(stack, customer) == (0, 1)

    faults(stack)  # SES recovers
    stack.set_clock(stack.now() + BACKOFF[0] + timedelta(seconds=5))  # the retry timer is due

    assert eventually("the retried email", lambda: confirmations(stack, customer)[0] == 1)
    sent = confirmation_log(stack, spa, booking["id"])
    assert (sent["status"], sent["attempts"]) == ("sent", 2)
    assert confirmations(stack, customer) == (1, 1)


def test_a_process_killed_between_claim_and_send_sends_once_after_the_lease(
    stack: LocalStack, spa: dict[str, Any]
) -> None:
    customer = new_customer()
    faults(stack, crash_on_send_to=[customer.email])  # the process dies as SES is called, before it accepts
    booking = book(stack, spa, next_start(stack, spa, 1), customer)
    eventually("the crash", lambda: stack.process is not None and stack.process.poll() is not None)

    stack.start()  # the same data directory: the claim survived, the send did not happen
    claimed = confirmation_log(stack, spa, booking["id"])
    assert (claimed["status"], claimed["attempts"]) == ("sending", 1)
    stack.set_clock(stack.now() + LEASE + timedelta(seconds=5))

    assert eventually("the email, once the lease ran out", lambda: confirmations(stack, customer)[0] == 1)
    sent = confirmation_log(stack, spa, booking["id"])
    assert (sent["status"], sent["attempts"]) == ("sent", 2)
    assert eventually("the text", lambda: confirmations(stack, customer) == (1, 1))


def test_a_stream_batch_failing_twice_is_delivered_on_the_third_try_once(
    stack: LocalStack, spa: dict[str, Any]
) -> None:
    customer = new_customer()
    faults(stack, fail_stream_batches=2)
    booking = book(stack, spa, next_start(stack, spa, 2), customer)

    assert eventually("the confirmation", lambda: confirmations(stack, customer) == (1, 1))
    sent = confirmation_log(stack, spa, booking["id"])
    assert (sent["status"], sent["attempts"]) == ("sent", 1)
    assert "stream batch failed; it will be delivered again" in stack.log()


def test_every_booking_of_the_run_has_exactly_one_confirmation(
    stack: LocalStack, spa: dict[str, Any]
) -> None:
    # runs last, over every booking the tests above made through their faults, plus a quiet one
    customer = new_customer()
    book(stack, spa, next_start(stack, spa, 3), customer)
    eventually("the quiet booking's confirmation", lambda: confirmations(stack, customer) == (1, 1))

    confirmed = [m for m in stack.outbox() if m.get("subject", "").startswith("Booking confirmed: ")]
    recipients = [m["to"][0] for m in confirmed]
    assert len(recipients) == 4
    assert len(set(recipients)) == len(recipients)  # no duplicates
