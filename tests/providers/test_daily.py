"""The Daily adapter against the local Daily over real HTTP: one unguessable room per booking, open only
around its session, moved and deleted, and Daily's refusals as domain errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from booking.adapters.meetings.daily import DailyRooms
from booking.domain.meetings import (
    ApiKeyCredentials,
    CredentialsRejected,
    MeetingRefused,
    MeetingSpec,
    ProviderRateLimited,
    ProviderUnavailable,
)
from local.fakes.daily import DEMO_CREDENTIALS, FakeDaily
from tests.providers.support import StepClock, closed_port_url, meeting_spec, running


@pytest.fixture
def fake(clock: StepClock) -> Iterator[FakeDaily]:
    yield from running(FakeDaily(clock=clock))


@pytest.fixture
def daily(fake: FakeDaily, clock: StepClock) -> DailyRooms:
    return DailyRooms(ApiKeyCredentials.model_validate(DEMO_CREDENTIALS), clock, api_base=fake.base_url)


def spec(
    clock: StepClock, booking_id: str = "01JBOOKING0000000000000001", *, days: float = 2, minutes: int = 45
) -> MeetingSpec:
    return meeting_spec(clock.now().replace(second=0) + timedelta(days=days), booking_id, minutes=minutes)


def test_each_booking_gets_its_own_unguessable_room(
    daily: DailyRooms, fake: FakeDaily, clock: StepClock
) -> None:
    first = daily.create(spec(clock, "01JBOOKING0000000000000001"))
    second = daily.create(spec(clock, "01JBOOKING0000000000000002"))
    same_booking_again = daily.create(spec(clock, "01JBOOKING0000000000000001"))

    names = {first.meeting_id, second.meeting_id, same_booking_again.meeting_id}
    assert len(names) == 3
    assert first.meeting_id.startswith("01jbooking00-")
    assert len(first.meeting_id.split("-")[1]) == 20  # 80 random bits
    assert first.join_url == f"https://fake-demo.daily.co/{first.meeting_id}"
    assert fake.meetings[first.meeting_id]["privacy"] == "public"
    assert set(fake.meetings) == names


def test_a_room_opens_15_minutes_before_and_closes_30_minutes_after_its_session(
    daily: DailyRooms, fake: FakeDaily, clock: StepClock
) -> None:
    session = spec(clock)

    made = daily.create(session)

    config = fake.meetings[made.meeting_id]["config"]
    assert config["nbf"] == int((session.start - timedelta(minutes=15)).timestamp())
    assert config["exp"] == int((session.end + timedelta(minutes=30)).timestamp())
    assert config["eject_at_room_exp"] is True


def test_an_update_moves_the_rooms_hours(daily: DailyRooms, fake: FakeDaily, clock: StepClock) -> None:
    made = daily.create(spec(clock))
    moved = spec(clock, days=5, minutes=60)

    updated = daily.update(made.meeting_id, moved)

    assert updated == made  # same room, same link
    config = fake.meetings[made.meeting_id]["config"]
    assert config["nbf"] == int((moved.start - timedelta(minutes=15)).timestamp())
    assert config["exp"] == int((moved.end + timedelta(minutes=30)).timestamp())
    posts = [r for r in fake.requests if r.method == "POST" and r.path == f"/v1/rooms/{made.meeting_id}"]
    assert len(posts) == 1  # Daily's update is a POST to the room


def test_a_room_deleted_at_daily_is_made_again_on_update(
    daily: DailyRooms, fake: FakeDaily, clock: StepClock
) -> None:
    made = daily.create(spec(clock))
    del fake.meetings[made.meeting_id]

    again = daily.update(made.meeting_id, spec(clock, days=4))

    assert again.meeting_id != made.meeting_id
    assert set(fake.meetings) == {again.meeting_id}


def test_delete_removes_the_room_and_a_missing_one_is_fine(
    daily: DailyRooms, fake: FakeDaily, clock: StepClock
) -> None:
    made = daily.create(spec(clock))

    daily.delete(made.meeting_id)
    daily.delete(made.meeting_id)

    assert made.meeting_id not in fake.meetings


def test_a_room_daily_refuses_is_meeting_refused(daily: DailyRooms, clock: StepClock) -> None:
    over = spec(clock, days=-1)  # a session already over: its room would close in the past

    with pytest.raises(MeetingRefused) as refused:
        daily.create(over)

    assert refused.value.reason == "Daily answered 400: exp must be in the future"
    assert not refused.value.retryable


def test_good_credentials_pass_the_check(daily: DailyRooms) -> None:
    daily.check_credentials()


def test_a_wrong_api_key_is_rejected_in_dailys_words(fake: FakeDaily, clock: StepClock) -> None:
    daily = DailyRooms(ApiKeyCredentials(api_key="not-the-key"), clock, api_base=fake.base_url)

    with pytest.raises(CredentialsRejected) as checked:
        daily.check_credentials()
    with pytest.raises(CredentialsRejected) as creating:
        daily.create(spec(clock))

    assert checked.value.reason == "Daily answered 401: the API key is not valid"
    assert creating.value.reason == checked.value.reason
    assert not fake.meetings


def test_throttling_is_rate_limited_with_dailys_retry_after(
    daily: DailyRooms, fake: FakeDaily, clock: StepClock
) -> None:
    fake.throttle_next(retry_after=3)

    with pytest.raises(ProviderRateLimited) as limited:
        daily.create(spec(clock))

    assert limited.value.retry_after == 3.0
    assert limited.value.retryable


def test_an_outage_is_unavailable_and_retryable(daily: DailyRooms, fake: FakeDaily, clock: StepClock) -> None:
    fake.fail_next(status=502)

    with pytest.raises(ProviderUnavailable) as unavailable:
        daily.delete("some-room")

    assert unavailable.value.retryable


def test_nothing_listening_is_unavailable(clock: StepClock) -> None:
    daily = DailyRooms(ApiKeyCredentials.model_validate(DEMO_CREDENTIALS), clock, api_base=closed_port_url())

    with pytest.raises(ProviderUnavailable):
        daily.create(spec(clock))
