"""What only the Whereby adapter does, against the local Whereby over real HTTP: one room per booking with
a host link, closing 30 minutes after its session (Whereby keeps a room an hour past its endDate), made anew
when the booking moves, the old room kept when the new one cannot be made. What every provider does is in
test_provider_contract.py, with Whereby's row in contract.py."""

from __future__ import annotations

from datetime import timedelta

import pytest

from booking.adapters.meetings.whereby import WherebyMeetings
from booking.domain.meetings import MeetingSpec, ProviderUnavailable
from local.fakes.whereby import FakeWhereby
from tests.providers.contract import WHEREBY
from tests.providers.support import StepClock, meeting_spec

PROVIDER = WHEREBY


def spec(
    clock: StepClock,
    booking_id: str = "01JBOOKING0000000000000001",
    *,
    starts_in: timedelta = timedelta(days=2),
    minutes: int = 45,
) -> MeetingSpec:
    return meeting_spec(clock.now() + starts_in, booking_id, minutes=minutes)


def sent(fake: FakeWhereby) -> list[dict[str, object]]:
    return [r.json() for r in fake.requests if r.method == "POST" and r.path == "/v1/meetings"]


def test_a_room_comes_with_a_host_link(links: WherebyMeetings, fake: FakeWhereby, clock: StepClock) -> None:
    # one room per booking, its link as Whereby has it: the contract suite
    made = links.create(spec(clock))

    assert made.host_url == fake.meetings[made.meeting_id]["hostRoomUrl"]
    assert made.host_url is not None and "roomKey=" in made.host_url
    assert made.passcode is None
    assert sent(fake)[0]["fields"] == ["hostRoomUrl"]
    assert sent(fake)[0]["roomMode"] == "normal"


def test_a_room_closes_30_minutes_after_its_session(
    links: WherebyMeetings, fake: FakeWhereby, clock: StepClock
) -> None:
    session = spec(clock)

    made = links.create(session)

    assert fake.open_until(made.meeting_id) == session.end + timedelta(minutes=30)
    assert sent(fake)[0]["endDate"] == (session.end - timedelta(minutes=30)).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z"
    )
    assert sent(fake)[0]["startDate"] == (session.start - timedelta(minutes=15)).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z"
    )


def test_a_link_made_at_the_last_minute_still_covers_the_session(
    links: WherebyMeetings, fake: FakeWhereby, clock: StepClock
) -> None:
    session = spec(clock, starts_in=timedelta(minutes=-20), minutes=30)  # ends in 10 minutes

    made = links.create(session)

    assert fake.open_until(made.meeting_id) == clock.now() + timedelta(minutes=61)


def test_a_move_whereby_refuses_keeps_the_old_room(
    links: WherebyMeetings, fake: FakeWhereby, clock: StepClock
) -> None:
    made = links.create(spec(clock))
    fake.fail_next()

    with pytest.raises(ProviderUnavailable):
        links.update(made.meeting_id, spec(clock, starts_in=timedelta(days=3)))

    assert set(fake.meetings) == {made.meeting_id}
