"""The booking request's one transition table: every move either party may make is allowed, every other
move of every state is refused naming what is allowed; a lapsed counter-proposal is back with the
business."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from booking.domain.booking import Actor
from booking.domain.booking_requests import (
    FINAL,
    TRANSITIONS,
    BusinessResponse,
    Party,
    RequestCustomer,
    RequestState,
    ServiceRequest,
    answering_state,
    check_transition,
)
from booking.domain.errors import Conflict

PARTIES: tuple[Party, ...] = ("customer", "business")
EVERY_MOVE = [(a, b, p) for a in RequestState for b in RequestState for p in PARTIES]
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(("current", "target", "party"), EVERY_MOVE)
def test_every_move_is_allowed_exactly_when_the_table_gives_it_to_that_party(
    current: RequestState, target: RequestState, party: Party
) -> None:
    if TRANSITIONS.get((current, target)) == party:
        check_transition(current, target, party)
    else:
        with pytest.raises(Conflict, match=f"a {current.value} request cannot become {target.value}"):
            check_transition(current, target, party)


def test_the_table_is_the_documented_lifecycle() -> None:
    business = {(a.value, b.value) for (a, b), p in TRANSITIONS.items() if p == "business"}
    customer = {(a.value, b.value) for (a, b), p in TRANSITIONS.items() if p == "customer"}
    assert business == {
        ("submitted", "under_review"),
        *{
            (s, t)
            for s in ("submitted", "under_review")
            for t in ("confirmed", "counter_proposed", "declined")
        },
    }
    assert customer == {
        ("submitted", "cancelled"),
        ("under_review", "cancelled"),
        ("counter_proposed", "cancelled"),
        ("counter_proposed", "confirmed"),
        ("counter_proposed", "under_review"),
    }
    assert not any(a in FINAL for a, _ in TRANSITIONS)  # settled requests move no more


def request_with_counter(expires: datetime) -> ServiceRequest:
    proposal = BusinessResponse(
        kind="counter_proposal",
        at=NOW - timedelta(hours=1),
        by=Actor(kind="dispatcher", id="d-1"),
        message="Tuesday?",
        hold_expires_at=expires,
        booking_id="r-1-r2",
    )
    return ServiceRequest(
        id="r-1",
        tenant_id="t-1",
        state=RequestState.COUNTER_PROPOSED,
        customer=RequestCustomer(name="Harriet Home", email="harriet@homeowners.example"),
        service_id="s-1",
        preferred_dates=[date(2026, 12, 3)],
        time_preference="morning",
        address="4 Mill Lane\nBath",
        responses=[proposal],
        created_at=NOW - timedelta(days=1),
        updated_at=NOW - timedelta(hours=1),
    )


def test_a_counter_proposal_is_the_customers_until_its_hold_lapses() -> None:
    held = request_with_counter(NOW + timedelta(minutes=1))
    assert answering_state(held, NOW) is RequestState.COUNTER_PROPOSED
    assert held.open_counter is not None and held.open_counter[0] == 0
    lapsed = request_with_counter(NOW)
    assert answering_state(lapsed, NOW) is RequestState.UNDER_REVIEW
