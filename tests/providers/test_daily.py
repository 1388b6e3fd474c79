"""What only the Daily adapter does, against the local Daily over real HTTP: one unguessable room per
booking, open only around its session, and its hours moved with Daily's POST to the room. What every
provider does is in test_provider_contract.py, with Daily's row in contract.py."""

from __future__ import annotations

from datetime import timedelta

from booking.adapters.meetings.daily import DailyRooms
from local.fakes.daily import FakeDaily
from tests.providers.contract import DAILY
from tests.providers.support import StepClock, spec

PROVIDER = DAILY


def test_each_booking_gets_its_own_unguessable_room(
    links: DailyRooms, fake: FakeDaily, clock: StepClock
) -> None:
    first = links.create(spec(clock, "01JBOOKING0000000000000001"))
    second = links.create(spec(clock, "01JBOOKING0000000000000002"))
    same_booking_again = links.create(spec(clock, "01JBOOKING0000000000000001"))

    names = {first.meeting_id, second.meeting_id, same_booking_again.meeting_id}
    assert len(names) == 3
    assert first.meeting_id.startswith("01jbooking00-")
    assert len(first.meeting_id.split("-")[1]) == 20  # 80 random bits
    assert first.join_url == f"https://fake-demo.daily.co/{first.meeting_id}"
    assert fake.meetings[first.meeting_id]["privacy"] == "public"
    assert set(fake.meetings) == names


def test_a_room_opens_15_minutes_before_and_closes_30_minutes_after_its_session(
    links: DailyRooms, fake: FakeDaily, clock: StepClock
) -> None:
    session = spec(clock)

    made = links.create(session)

    config = fake.meetings[made.meeting_id]["config"]
    assert config["nbf"] == int((session.start - timedelta(minutes=15)).timestamp())
    assert config["exp"] == int((session.end + timedelta(minutes=30)).timestamp())
    assert config["eject_at_room_exp"] is True


def test_an_update_is_a_post_to_the_room(links: DailyRooms, fake: FakeDaily, clock: StepClock) -> None:
    # the same room, its hours moved: the contract suite
    made = links.create(spec(clock))

    links.update(made.meeting_id, spec(clock, days=5, minutes=60))

    posts = [r for r in fake.requests if r.method == "POST" and r.path == f"/v1/rooms/{made.meeting_id}"]
    assert len(posts) == 1  # Daily's update is a POST to the room
