"""The Whereby adapter against the local Whereby over real HTTP: one room per booking with a host link,
closing 30 minutes after its session (Whereby keeps a room an hour past its endDate), made anew when the
booking moves, and Whereby's refusals as domain errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from booking.adapters.meetings.whereby import WherebyMeetings
from booking.domain.meetings import (
    ApiKeyCredentials,
    CredentialsRejected,
    MeetingRefused,
    MeetingSpec,
    ProviderRateLimited,
    ProviderUnavailable,
)
from local.fakes.whereby import DEMO_CREDENTIALS, FakeWhereby
from tests.providers.support import StepClock, closed_port_url, meeting_spec, running


@pytest.fixture
def fake(clock: StepClock) -> Iterator[FakeWhereby]:
    yield from running(FakeWhereby(clock=clock))


@pytest.fixture
def whereby(fake: FakeWhereby, clock: StepClock) -> WherebyMeetings:
    return WherebyMeetings(ApiKeyCredentials.model_validate(DEMO_CREDENTIALS), clock, api_base=fake.base_url)


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


def test_each_booking_gets_its_own_room_and_a_host_link(
    whereby: WherebyMeetings, fake: FakeWhereby, clock: StepClock
) -> None:
    first = whereby.create(spec(clock, "01JBOOKING0000000000000001"))
    second = whereby.create(spec(clock, "01JBOOKING0000000000000002"))

    assert first.meeting_id != second.meeting_id
    assert first.join_url != second.join_url
    assert first.join_url == fake.meetings[first.meeting_id]["roomUrl"]
    assert first.join_url.startswith("https://fake-demo.whereby.com/01jbooking00-")
    assert first.host_url == fake.meetings[first.meeting_id]["hostRoomUrl"]
    assert first.host_url is not None and "roomKey=" in first.host_url
    assert first.passcode is None
    assert sent(fake)[0]["fields"] == ["hostRoomUrl"]
    assert sent(fake)[0]["roomMode"] == "normal"


def test_a_room_closes_30_minutes_after_its_session(
    whereby: WherebyMeetings, fake: FakeWhereby, clock: StepClock
) -> None:
    session = spec(clock)

    made = whereby.create(session)

    assert fake.open_until(made.meeting_id) == session.end + timedelta(minutes=30)
    assert sent(fake)[0]["endDate"] == (session.end - timedelta(minutes=30)).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z"
    )
    assert sent(fake)[0]["startDate"] == (session.start - timedelta(minutes=15)).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z"
    )


def test_a_link_made_at_the_last_minute_still_covers_the_session(
    whereby: WherebyMeetings, fake: FakeWhereby, clock: StepClock
) -> None:
    session = spec(clock, starts_in=timedelta(minutes=-20), minutes=30)  # ends in 10 minutes

    made = whereby.create(session)

    assert fake.open_until(made.meeting_id) == clock.now() + timedelta(minutes=61)


def test_a_moved_booking_gets_a_new_room_and_the_old_one_is_deleted(
    whereby: WherebyMeetings, fake: FakeWhereby, clock: StepClock
) -> None:
    made = whereby.create(spec(clock))
    moved = spec(clock, starts_in=timedelta(days=5), minutes=60)

    updated = whereby.update(made.meeting_id, moved)

    assert updated.meeting_id != made.meeting_id
    assert updated.join_url != made.join_url
    assert set(fake.meetings) == {updated.meeting_id}
    assert fake.open_until(updated.meeting_id) == moved.end + timedelta(minutes=30)


def test_moving_a_booking_whose_room_is_already_gone_still_gives_a_new_room(
    whereby: WherebyMeetings, fake: FakeWhereby, clock: StepClock
) -> None:
    made = whereby.create(spec(clock))
    del fake.meetings[made.meeting_id]

    updated = whereby.update(made.meeting_id, spec(clock, starts_in=timedelta(days=3)))

    assert set(fake.meetings) == {updated.meeting_id}


def test_a_move_whereby_refuses_keeps_the_old_room(
    whereby: WherebyMeetings, fake: FakeWhereby, clock: StepClock
) -> None:
    made = whereby.create(spec(clock))
    fake.fail_next()

    with pytest.raises(ProviderUnavailable):
        whereby.update(made.meeting_id, spec(clock, starts_in=timedelta(days=3)))

    assert set(fake.meetings) == {made.meeting_id}


def test_delete_removes_the_room_and_a_missing_one_is_fine(
    whereby: WherebyMeetings, fake: FakeWhereby, clock: StepClock
) -> None:
    made = whereby.create(spec(clock))

    whereby.delete(made.meeting_id)
    whereby.delete(made.meeting_id)

    assert made.meeting_id not in fake.meetings


def test_a_room_whereby_refuses_is_meeting_refused(whereby: WherebyMeetings, clock: StepClock) -> None:
    over = spec(clock, starts_in=timedelta(days=-1))

    with pytest.raises(MeetingRefused) as refused:
        whereby.create(over)

    assert (
        refused.value.reason == 'Whereby answered 400: "endDate" must be the same or after the current date'
    )
    assert not refused.value.retryable


def test_good_credentials_pass_the_check(whereby: WherebyMeetings) -> None:
    whereby.check_credentials()


def test_a_wrong_api_key_is_rejected_in_wherebys_words(fake: FakeWhereby, clock: StepClock) -> None:
    whereby = WherebyMeetings(ApiKeyCredentials(api_key="not-the-key"), clock, api_base=fake.base_url)

    with pytest.raises(CredentialsRejected) as checked:
        whereby.check_credentials()
    with pytest.raises(CredentialsRejected) as creating:
        whereby.create(spec(clock))

    assert checked.value.reason == "Whereby answered 401: Access token is missing or invalid"
    assert creating.value.reason == checked.value.reason


def test_throttling_is_rate_limited_with_wherebys_retry_after(
    whereby: WherebyMeetings, fake: FakeWhereby, clock: StepClock
) -> None:
    fake.throttle_next(retry_after=12)

    with pytest.raises(ProviderRateLimited) as limited:
        whereby.create(spec(clock))

    assert limited.value.retry_after == 12.0


def test_an_outage_is_unavailable_and_retryable(
    whereby: WherebyMeetings, fake: FakeWhereby, clock: StepClock
) -> None:
    fake.fail_next()

    with pytest.raises(ProviderUnavailable) as unavailable:
        whereby.create(spec(clock))

    assert unavailable.value.retryable


def test_nothing_listening_is_unavailable(clock: StepClock) -> None:
    whereby = WherebyMeetings(
        ApiKeyCredentials.model_validate(DEMO_CREDENTIALS), clock, api_base=closed_port_url()
    )

    with pytest.raises(ProviderUnavailable):
        whereby.check_credentials()
