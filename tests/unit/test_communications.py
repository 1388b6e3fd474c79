"""The delivery rules of a message (pure): claim and lease, backoff, the last attempt, and which retries no
longer apply to the booking as it is now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from booking.domain.booking import BookingStatus
from booking.domain.communications import (
    BACKOFF,
    LEASE,
    MAX_ATTEMPTS,
    MessageRecord,
    MessageRequest,
    stale_reason,
)
from tests.support.notification_fixtures import make_booking

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def record() -> MessageRecord:
    return MessageRecord(
        key="confirmation@v1", kind="confirmation", channel="email", status="sending", at=NOW
    )


def test_a_claim_is_an_attempt_leased_until_it_is_presumed_dead() -> None:
    claimed = record().claim(NOW)
    assert (claimed.status, claimed.attempts, claimed.lease_until) == ("sending", 1, NOW + LEASE)
    assert claimed.due(NOW) == NOW + LEASE


def test_failures_that_may_pass_back_off_then_give_up_after_the_last_attempt() -> None:
    message, now, pauses = record(), NOW, []
    for _ in range(MAX_ATTEMPTS):
        message = message.claim(now).failed_attempt("throttled", retryable=True, now=now)
        if message.status == "retrying":
            assert message.next_attempt_at is not None
            pauses.append(message.next_attempt_at - now)
            now = message.next_attempt_at
    assert pauses == list(BACKOFF)
    assert (message.status, message.attempts) == ("failed", MAX_ATTEMPTS)
    assert message.detail == f"throttled (gave up after {MAX_ATTEMPTS} attempts)"
    assert message.due(now) is None


def test_a_failure_that_cannot_pass_is_final_at_once() -> None:
    failed = record().claim(NOW).failed_attempt("address rejected", retryable=False, now=NOW)
    assert (failed.status, failed.detail, failed.due(NOW)) == ("failed", "address rejected", None)


def test_a_sent_message_is_settled_and_keeps_the_provider_id() -> None:
    sent = record().claim(NOW).sent("provider-1", NOW)
    assert (sent.status, sent.provider_message_id, sent.lease_until, sent.due(NOW)) == (
        "sent",
        "provider-1",
        None,
        None,
    )


def test_the_request_is_kept_by_the_log_but_not_shown() -> None:
    with_request = record().model_copy(
        update={"request": MessageRequest(kind="confirmation", about_start=NOW, about_staff_id="s1")}
    )
    assert "request" not in with_request.model_dump()


START = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def request(kind: str, **fields: object) -> MessageRequest:
    return MessageRequest.model_validate(
        {"kind": kind, "about_start": START, "about_staff_id": "staff-1", **fields}
    )


@pytest.mark.parametrize(
    ("kind", "change", "reason"),
    [
        ("confirmation", {}, None),
        (
            "confirmation",
            {"status": BookingStatus.CANCELLED},
            "the booking was cancelled since; the cancellation says so",
        ),
        (
            "confirmation",
            {"start": START + timedelta(days=1)},
            "the booking changed since; the message about that change covers it",
        ),
        (
            "staff_new",
            {"staff_id": "staff-2"},
            "the booking changed since; the message about that change covers it",
        ),
        ("cancellation", {"status": BookingStatus.CANCELLED}, None),
        ("staff_removed", {"staff_id": "staff-2"}, None),
    ],
)
def test_a_retry_is_stale_once_the_booking_has_moved_on(
    kind: str, change: dict[str, object], reason: str | None
) -> None:
    booking = make_booking(START, staff_id="staff-1").model_copy(update=change)
    assert stale_reason(request(kind), booking, NOW) == reason


def test_a_reminder_retry_is_stale_once_the_appointment_has_begun() -> None:
    booking = make_booking(START, staff_id="staff-1")
    reminder = request("reminder", minutes_before=60)
    assert stale_reason(reminder, booking, START - timedelta(minutes=30)) is None
    assert (
        stale_reason(reminder, booking, START + timedelta(minutes=1)) == "the appointment has already begun"
    )
