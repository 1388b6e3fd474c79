"""The Zoom adapter against the local Zoom over real HTTP: Server-to-Server OAuth tokens (cached, renewed
after expiry, forgotten when revoked), meetings made, moved and deleted, and Zoom's refusals as domain
errors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from booking.adapters.meetings.zoom import ZoomMeetings
from booking.domain.meetings import (
    CredentialsRejected,
    MeetingRefused,
    MeetingSpec,
    ProviderRateLimited,
    ProviderUnavailable,
    ZoomCredentials,
)
from local.fakes.zoom import DEMO_CREDENTIALS, FakeZoom
from tests.providers.support import StepClock, at_ten, closed_port_url, meeting_spec, running


@pytest.fixture
def fake(clock: StepClock) -> Iterator[FakeZoom]:
    yield from running(FakeZoom(clock=clock))


def adapter(fake: FakeZoom, clock: StepClock, **changes: str) -> ZoomMeetings:
    credentials = ZoomCredentials.model_validate({**DEMO_CREDENTIALS, **changes})
    return ZoomMeetings(credentials, clock, api_base=fake.base_url, oauth_base=fake.base_url)


@pytest.fixture
def zoom(fake: FakeZoom, clock: StepClock) -> ZoomMeetings:
    return adapter(fake, clock)


def spec(
    clock: StepClock, booking_id: str = "01JBOOKING0000000000000001", *, days: int = 2, minutes: int = 45
) -> MeetingSpec:
    return meeting_spec(at_ten(clock, days), booking_id, minutes=minutes)


def api_calls(fake: FakeZoom, method: str, prefix: str) -> int:
    return sum(1 for request in fake.requests if request.method == method and request.path.startswith(prefix))


# --- meetings -------------------------------------------------------------------------------------------


def test_each_booking_gets_its_own_scheduled_meeting(
    zoom: ZoomMeetings, fake: FakeZoom, clock: StepClock
) -> None:
    first = zoom.create(spec(clock, "01JBOOKING0000000000000001"))
    second = zoom.create(spec(clock, "01JBOOKING0000000000000002", days=3, minutes=30))

    assert first.meeting_id != second.meeting_id
    assert first.join_url != second.join_url
    assert first.join_url.startswith(f"https://zoom.us/j/{first.meeting_id}?pwd=")
    made = fake.meetings[first.meeting_id]
    session = spec(clock)
    assert made["type"] == 2
    assert made["topic"] == "Consultation with Ana"
    assert made["start_time"] == session.start.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert made["duration"] == 45
    assert made["timezone"] == "Europe/London"
    assert made["settings"]["join_before_host"] is False
    assert made["settings"]["waiting_room"] is True
    assert fake.meetings[second.meeting_id]["duration"] == 30


def test_the_customer_gets_passcode_and_dial_in_numbers_and_staff_the_host_link(
    zoom: ZoomMeetings, fake: FakeZoom, clock: StepClock
) -> None:
    made = zoom.create(spec(clock))

    at_zoom = fake.meetings[made.meeting_id]
    assert made.passcode == at_zoom["password"]
    assert made.host_url == at_zoom["start_url"]
    assert made.host_url != made.join_url
    spaced = f"{made.meeting_id[:3]} {made.meeting_id[3:7]} {made.meeting_id[7:]}"
    assert made.notes == (
        "Dial in: +44 20 3481 5237 (London, GB) or +44 20 3901 7895 (GB) or +1 646 558 8656 (New York, US), "
        f"meeting ID {spaced}, passcode {at_zoom['pstn_password']}"
    )


def test_no_dial_in_numbers_means_no_notes(zoom: ZoomMeetings, fake: FakeZoom, clock: StepClock) -> None:
    fake.dial_in_numbers = []

    assert zoom.create(spec(clock)).notes == ""


def test_an_update_moves_the_meeting(zoom: ZoomMeetings, fake: FakeZoom, clock: StepClock) -> None:
    made = zoom.create(spec(clock))
    moved = spec(clock, days=5, minutes=60)

    updated = zoom.update(made.meeting_id, moved)

    assert updated.meeting_id == made.meeting_id
    assert updated.join_url == made.join_url
    assert updated.passcode == made.passcode
    assert updated.notes == made.notes
    assert fake.meetings[made.meeting_id]["start_time"] == moved.start.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert fake.meetings[made.meeting_id]["duration"] == 60


def test_a_meeting_deleted_at_zoom_is_made_again_on_update(
    zoom: ZoomMeetings, fake: FakeZoom, clock: StepClock
) -> None:
    made = zoom.create(spec(clock))
    del fake.meetings[made.meeting_id]  # staff deleted it in Zoom's own app

    again = zoom.update(made.meeting_id, spec(clock, days=4))

    assert again.meeting_id != made.meeting_id
    assert set(fake.meetings) == {again.meeting_id}


def test_delete_removes_the_meeting_and_a_missing_one_is_fine(
    zoom: ZoomMeetings, fake: FakeZoom, clock: StepClock
) -> None:
    made = zoom.create(spec(clock))

    zoom.delete(made.meeting_id)
    zoom.delete(made.meeting_id)

    assert made.meeting_id not in fake.meetings


def test_a_meeting_zoom_refuses_is_meeting_refused(zoom: ZoomMeetings, clock: StepClock) -> None:
    backwards = spec(clock, minutes=-30)  # ends before it starts

    with pytest.raises(MeetingRefused) as refused:
        zoom.create(backwards)

    assert "Zoom answered 400: Validation Failed." in refused.value.reason
    assert not refused.value.retryable


# --- tokens ---------------------------------------------------------------------------------------------


def test_one_token_serves_many_calls_until_it_expires(
    zoom: ZoomMeetings, fake: FakeZoom, clock: StepClock
) -> None:
    zoom.check_credentials()
    made = zoom.create(spec(clock))
    zoom.update(made.meeting_id, spec(clock, days=3))
    assert fake.token_requests == 1

    clock.advance(minutes=50)
    zoom.create(spec(clock))
    assert fake.token_requests == 1

    clock.advance(minutes=10)  # the hour is up (less the cache's margin): a fresh token
    zoom.create(spec(clock))
    assert fake.token_requests == 2


def test_a_revoked_token_is_forgotten_and_the_call_made_once_more(
    zoom: ZoomMeetings, fake: FakeZoom, clock: StepClock
) -> None:
    zoom.create(spec(clock))
    fake.revoke_tokens()

    made = zoom.create(spec(clock))

    assert made.meeting_id in fake.meetings
    assert fake.token_requests == 2
    assert api_calls(fake, "POST", "/v2/users/me/meetings") == 3  # the first, the refused one, the retry


def test_a_token_refused_again_is_not_retried_forever(
    zoom: ZoomMeetings, fake: FakeZoom, clock: StepClock
) -> None:
    fake.token_lifetime = 0  # every token it issues is already expired when used

    with pytest.raises(CredentialsRejected) as rejected:
        zoom.create(spec(clock))

    assert rejected.value.reason == "Zoom answered 401: Access token is expired."
    assert api_calls(fake, "POST", "/v2/users/me/meetings") == 2
    assert fake.token_requests == 2


# --- credentials and failures -----------------------------------------------------------------------------


def test_good_credentials_pass_the_check(zoom: ZoomMeetings) -> None:
    zoom.check_credentials()


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"client_secret": "not-the-secret"}, "Zoom answered 401: Invalid client_id or client_secret"),
        ({"client_id": "someone-else"}, "Zoom answered 401: Invalid client_id or client_secret"),
        ({"account_id": "another-account"}, "Zoom answered 400: Invalid account_id"),
        ({"user_id": "nobody@example.com"}, "Zoom answered 404: User does not exist: nobody@example.com."),
    ],
)
def test_wrong_credentials_are_rejected_in_zooms_words(
    fake: FakeZoom, clock: StepClock, changes: dict[str, str], words: str
) -> None:
    zoom = adapter(fake, clock, **changes)

    with pytest.raises(CredentialsRejected) as checked:
        zoom.check_credentials()
    with pytest.raises(CredentialsRejected) as creating:
        zoom.create(spec(clock))

    assert checked.value.reason == words
    assert creating.value.reason == words
    assert "not-the-secret" not in checked.value.reason


def test_throttling_is_rate_limited_with_zooms_retry_after(
    zoom: ZoomMeetings, fake: FakeZoom, clock: StepClock
) -> None:
    zoom.check_credentials()
    fake.throttle_next(retry_after=7)

    with pytest.raises(ProviderRateLimited) as limited:
        zoom.create(spec(clock))

    assert limited.value.retry_after == 7.0
    assert limited.value.retryable


def test_an_outage_is_unavailable_and_retryable(zoom: ZoomMeetings, fake: FakeZoom, clock: StepClock) -> None:
    zoom.check_credentials()
    fake.fail_next()

    with pytest.raises(ProviderUnavailable) as unavailable:
        zoom.create(spec(clock))

    assert unavailable.value.retryable
    assert zoom.create(spec(clock)).meeting_id  # and it works again once Zoom is back


def test_nothing_listening_is_unavailable(clock: StepClock) -> None:
    nowhere = closed_port_url()
    zoom = ZoomMeetings(
        ZoomCredentials.model_validate(DEMO_CREDENTIALS), clock, api_base=nowhere, oauth_base=nowhere
    )

    with pytest.raises(ProviderUnavailable) as unavailable:
        zoom.create(spec(clock))

    assert unavailable.value.retryable
