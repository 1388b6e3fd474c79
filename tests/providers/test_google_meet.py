"""The Google Meet adapter against the local Google over real HTTP: service-account tokens (a signed
RS256 assertion, cached, renewed after expiry, forgotten when refused), Calendar events with Meet
conferences (pending, then ready), moved and deleted, and Google's refusals as domain errors."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import jwt
import pytest

from booking.adapters.meetings.google_meet import SCOPE, GoogleMeetEvents
from booking.domain.meetings import (
    CredentialsRejected,
    GoogleMeetCredentials,
    MeetingRefused,
    MeetingSpec,
    ProviderRateLimited,
    ProviderUnavailable,
)
from booking.ports import MeetingLinks
from local.fakes.google import DEMO_CREDENTIALS, FakeGoogle, generate_private_key_pem, google_error
from tests.providers.support import StepClock, at_ten, calls, closed_port_url, meeting_spec, running

MEET_LINK = re.compile(r"^https://meet\.google\.com/[a-z]{3}-[a-z]{4}-[a-z]{3}$")


@pytest.fixture
def fake(clock: StepClock) -> Iterator[FakeGoogle]:
    yield from running(FakeGoogle(clock=clock))


def adapter(fake: FakeGoogle, clock: StepClock, **changes: Any) -> GoogleMeetEvents:
    credentials = GoogleMeetCredentials.model_validate({**DEMO_CREDENTIALS, **changes})
    meet = GoogleMeetEvents(credentials, clock, oauth_base=fake.base_url, calendar_base=fake.base_url)
    meet.poll_pauses = (0.01, 0.01, 0.01)
    return meet


@pytest.fixture
def meet(fake: FakeGoogle, clock: StepClock) -> GoogleMeetEvents:
    return adapter(fake, clock)


def spec(
    clock: StepClock, booking_id: str = "01JBOOKING0000000000000001", *, days: int = 2, minutes: int = 45
) -> MeetingSpec:
    return meeting_spec(at_ten(clock, days), booking_id, minutes=minutes, topic="Consultation")


EVENT = r"/calendar/v3/calendars/primary/events/[^/]+"


def test_it_is_a_meeting_links_port(meet: GoogleMeetEvents) -> None:
    port: MeetingLinks = meet
    assert port is meet


# --- making meetings ------------------------------------------------------------------------------------


def test_create_makes_one_event_with_its_own_meet_link_per_booking(
    meet: GoogleMeetEvents, fake: FakeGoogle, clock: StepClock
) -> None:
    first = meet.create(spec(clock, "01JBOOKING0000000000000001"))
    second = meet.create(spec(clock, "01JBOOKING0000000000000002"))

    assert first.meeting_id != second.meeting_id
    assert first.join_url != second.join_url
    for meeting in (first, second):
        assert MEET_LINK.match(meeting.join_url)
        assert meeting.host_url is None and meeting.passcode is None  # Meet has neither
        event = fake.events[meeting.meeting_id]
        assert event["conferenceData"]["entryPoints"][0]["uri"] == meeting.join_url
    sent = next(r for r in fake.requests if r.method == "POST" and r.path.endswith("/events"))
    assert sent.query["conferenceDataVersion"] == ["1"]
    body = sent.json()
    assert body["conferenceData"]["createRequest"]["conferenceSolutionKey"] == {"type": "hangoutsMeet"}
    assert body["start"] == {"dateTime": spec(clock).start.isoformat(), "timeZone": "Europe/London"}
    assert body["summary"] == "Consultation"


def test_conference_request_ids_are_stable_per_booking_and_differ_between_bookings(
    meet: GoogleMeetEvents, fake: FakeGoogle, clock: StepClock
) -> None:
    meet.create(spec(clock, "01JBOOKING0000000000000001"))
    meet.create(spec(clock, "01JBOOKING0000000000000001"))  # a retry of the same create
    meet.create(spec(clock, "01JBOOKING0000000000000002"))
    posts = [r.json() for r in fake.requests if r.method == "POST" and r.path.endswith("/events")]
    ids = [p["conferenceData"]["createRequest"]["requestId"] for p in posts]
    assert ids[0] == ids[1] != ids[2]


def test_phone_entry_points_become_notes_for_people(
    meet: GoogleMeetEvents, fake: FakeGoogle, clock: StepClock
) -> None:
    meeting = meet.create(spec(clock))

    phone = next(
        p
        for p in fake.events[meeting.meeting_id]["conferenceData"]["entryPoints"]
        if p["entryPointType"] == "phone"
    )
    assert f"Join by phone (US): +1 555-010-0142, PIN: {phone['pin']}#" in meeting.notes
    assert "More phone numbers: https://tel.meet/" in meeting.notes


def test_a_pending_conference_is_read_again_until_it_is_ready(
    meet: GoogleMeetEvents, fake: FakeGoogle, clock: StepClock
) -> None:
    fake.conference_pending = 3  # the creation's answer and the next two reads still say "pending"

    meeting = meet.create(spec(clock))

    assert MEET_LINK.match(meeting.join_url)
    assert calls(fake, "GET", EVENT) == 3


def test_a_conference_pending_too_long_is_retryable_and_the_retry_adopts_the_event(
    meet: GoogleMeetEvents, fake: FakeGoogle, clock: StepClock
) -> None:
    fake.conference_pending = 5  # longer than one create waits (its answer and three reads)

    with pytest.raises(ProviderUnavailable) as raised:
        meet.create(spec(clock))
    assert raised.value.retryable

    meeting = meet.create(spec(clock))  # the state machine's retry
    assert MEET_LINK.match(meeting.join_url)
    assert list(fake.events) == [meeting.meeting_id]  # one event, not two


def test_a_retried_create_whose_answer_was_lost_finds_the_same_event(
    meet: GoogleMeetEvents, fake: FakeGoogle, clock: StepClock
) -> None:
    first = meet.create(spec(clock))
    again = meet.create(spec(clock))

    assert again == first
    assert len(fake.events) == 1


def test_a_booking_online_again_after_its_event_was_deleted_gets_a_new_event(
    meet: GoogleMeetEvents, fake: FakeGoogle, clock: StepClock
) -> None:
    first = meet.create(spec(clock))
    meet.delete(first.meeting_id)

    again = meet.create(spec(clock))

    assert again.meeting_id != first.meeting_id
    assert MEET_LINK.match(again.join_url)
    assert list(fake.events) == [again.meeting_id]


def test_an_event_google_makes_without_a_meet_link_is_refused_and_removed(
    meet: GoogleMeetEvents, fake: FakeGoogle, clock: StepClock
) -> None:
    fake.meet_enabled = False  # Meet switched off for the account: Google drops the conference request

    with pytest.raises(MeetingRefused, match="without a Meet link"):
        meet.create(spec(clock))
    assert fake.events == {}


# --- tokens ---------------------------------------------------------------------------------------------


def test_the_token_is_asked_for_with_a_signed_assertion_and_reused(
    meet: GoogleMeetEvents, fake: FakeGoogle, clock: StepClock
) -> None:
    meet.create(spec(clock, "01JBOOKING0000000000000001"))
    meet.create(spec(clock, "01JBOOKING0000000000000002"))
    meet.check_credentials()

    assert fake.token_requests == 1
    form = next(r for r in fake.requests if r.path == "/token").form()
    assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    header = jwt.get_unverified_header(form["assertion"])
    claims = jwt.decode(form["assertion"], options={"verify_signature": False})
    assert header["alg"] == "RS256" and header["kid"] == DEMO_CREDENTIALS["private_key_id"]
    assert claims["iss"] == DEMO_CREDENTIALS["client_email"]
    assert claims["scope"] == SCOPE
    assert claims["aud"] == f"{fake.base_url}/token"
    assert claims["iat"] == int(clock.now().timestamp())
    assert claims["exp"] == claims["iat"] + 3600
    assert "sub" not in claims


def test_the_assertion_names_the_workspace_user_it_acts_as(fake: FakeGoogle, clock: StepClock) -> None:
    meet = adapter(fake, clock, subject="diary@salon.example")
    meet.check_credentials()

    form = next(r for r in fake.requests if r.path == "/token").form()
    assert jwt.decode(form["assertion"], options={"verify_signature": False})["sub"] == "diary@salon.example"


def test_a_new_token_is_fetched_once_the_old_one_expires(
    meet: GoogleMeetEvents, fake: FakeGoogle, clock: StepClock
) -> None:
    meet.create(spec(clock, "01JBOOKING0000000000000001"))
    clock.advance(minutes=30)
    meet.create(spec(clock, "01JBOOKING0000000000000002"))
    assert fake.token_requests == 1

    clock.advance(hours=1)
    meet.create(spec(clock, "01JBOOKING0000000000000003"))
    assert fake.token_requests == 2


def test_a_token_refused_before_its_time_is_forgotten_and_the_call_made_again(
    meet: GoogleMeetEvents, fake: FakeGoogle, clock: StepClock
) -> None:
    meet.check_credentials()
    fake.revoke_tokens()

    meeting = meet.create(spec(clock))

    assert MEET_LINK.match(meeting.join_url)
    assert fake.token_requests == 2


def test_a_token_refused_again_after_a_fresh_one_is_credentials_rejected(
    meet: GoogleMeetEvents, fake: FakeGoogle, clock: StepClock
) -> None:
    fake.token_lifetime = 0  # every token is refused as soon as it is used

    with pytest.raises(CredentialsRejected, match="401"):
        meet.create(spec(clock))
    assert fake.token_requests == 2  # one retry with a fresh token, no more
    assert calls(fake, "POST", r"/calendar/v3/calendars/primary/events") == 2


def test_a_different_key_is_credentials_rejected_with_googles_words(
    fake: FakeGoogle, clock: StepClock
) -> None:
    other_key = generate_private_key_pem()
    meet = adapter(fake, clock, private_key=other_key)

    for call in (meet.check_credentials, lambda: meet.create(spec(clock))):
        with pytest.raises(CredentialsRejected) as raised:
            call()
        assert "Invalid JWT Signature." in raised.value.reason
        assert "PRIVATE KEY" not in str(raised.value)
    assert fake.events == {}


def test_an_unknown_service_account_is_credentials_rejected(fake: FakeGoogle, clock: StepClock) -> None:
    meet = adapter(fake, clock, client_email="someone-else@other.iam.gserviceaccount.com")
    with pytest.raises(CredentialsRejected, match="account not found"):
        meet.check_credentials()


def test_a_key_that_is_not_a_key_is_credentials_rejected_without_asking_google(
    fake: FakeGoogle, clock: StepClock
) -> None:
    meet = adapter(
        fake, clock, private_key="-----BEGIN PRIVATE KEY-----\nnot really\n-----END PRIVATE KEY-----\n"
    )
    with pytest.raises(CredentialsRejected, match="private_key") as raised:
        meet.check_credentials()
    assert "not really" not in str(raised.value)
    assert fake.requests == []


def test_a_key_pasted_with_escaped_line_breaks_still_signs(fake: FakeGoogle, clock: StepClock) -> None:
    meet = adapter(fake, clock, private_key=DEMO_CREDENTIALS["private_key"].replace("\n", "\\n"))
    meet.check_credentials()


def test_an_assertion_from_a_clock_far_off_is_refused(fake: FakeGoogle, clock: StepClock) -> None:
    meet = adapter(fake, clock)
    fake.clock = StepClock()
    fake.clock.advance(hours=3)  # Google's time, three hours ahead of ours
    with pytest.raises(CredentialsRejected, match="short-lived token"):
        meet.check_credentials()


# --- checking credentials -------------------------------------------------------------------------------


def test_check_credentials_reads_the_calendar_with_the_events_scope(
    meet: GoogleMeetEvents, fake: FakeGoogle
) -> None:
    meet.check_credentials()
    assert calls(fake, "GET", r"/calendar/v3/calendars/primary/events") == 1


def test_a_calendar_the_account_cannot_see_is_refused_with_its_name(
    fake: FakeGoogle, clock: StepClock
) -> None:
    meet = adapter(fake, clock, calendar_id="bookings@group.calendar.google.com")
    with pytest.raises(
        MeetingRefused, match=r"404: Not Found \(calendar 'bookings@group.calendar.google.com'\)"
    ):
        meet.check_credentials()
    assert calls(fake, "GET", r"/calendar/v3/calendars/bookings%40group\.calendar\.google\.com/events") == 1


# --- moving and deleting --------------------------------------------------------------------------------


def test_update_moves_the_event_and_keeps_the_meet_link(
    meet: GoogleMeetEvents, fake: FakeGoogle, clock: StepClock
) -> None:
    meeting = meet.create(spec(clock))
    moved = spec(clock, days=5, minutes=60)

    updated = meet.update(meeting.meeting_id, moved)

    assert updated == meeting
    event = fake.events[meeting.meeting_id]
    assert event["start"]["dateTime"] == moved.start.isoformat()
    assert event["end"]["dateTime"] == moved.end.isoformat()
    patch = next(r for r in fake.requests if r.method == "PATCH")
    assert patch.query["conferenceDataVersion"] == ["1"]
    assert "conferenceData" not in patch.json()


def test_update_of_an_event_deleted_at_google_makes_a_new_one(
    meet: GoogleMeetEvents, fake: FakeGoogle, clock: StepClock
) -> None:
    meeting = meet.create(spec(clock))
    meet.delete(meeting.meeting_id)

    moved = meet.update(meeting.meeting_id, spec(clock, days=5))

    assert moved.meeting_id != meeting.meeting_id
    assert MEET_LINK.match(moved.join_url)
    assert list(fake.events) == [moved.meeting_id]


def test_update_of_an_unknown_event_makes_a_new_one(
    meet: GoogleMeetEvents, fake: FakeGoogle, clock: StepClock
) -> None:
    moved = meet.update("unknownevent0000", spec(clock))
    assert list(fake.events) == [moved.meeting_id]


def test_delete_removes_the_event_and_a_missing_one_is_fine(
    meet: GoogleMeetEvents, fake: FakeGoogle, clock: StepClock
) -> None:
    meeting = meet.create(spec(clock))

    meet.delete(meeting.meeting_id)
    assert meeting.meeting_id not in fake.events

    meet.delete(meeting.meeting_id)  # 410 Gone: already deleted
    meet.delete("neverexisted00")  # 404


# --- refusals and outages -------------------------------------------------------------------------------


def test_a_request_google_finds_invalid_is_meeting_refused(meet: GoogleMeetEvents, clock: StepClock) -> None:
    backwards = spec(clock, minutes=-30)
    with pytest.raises(MeetingRefused, match=r"The specified time range is empty\."):
        meet.create(backwards)


def test_429_is_rate_limited_with_googles_retry_after(
    meet: GoogleMeetEvents, fake: FakeGoogle, clock: StepClock
) -> None:
    meet.check_credentials()
    fake.throttle_next(retry_after=7)
    with pytest.raises(ProviderRateLimited) as raised:
        meet.create(spec(clock))
    assert raised.value.retry_after == 7.0
    assert raised.value.retryable


def test_calendars_403_rate_limit_is_throttling_not_a_refusal(
    meet: GoogleMeetEvents, fake: FakeGoogle, clock: StepClock
) -> None:
    meet.check_credentials()
    fake.fail_next(1, 403, google_error(403, "Rate Limit Exceeded", "rateLimitExceeded", "usageLimits"))
    with pytest.raises(ProviderRateLimited, match="Rate Limit Exceeded"):
        meet.create(spec(clock))


def test_a_403_for_access_is_credentials_rejected(
    meet: GoogleMeetEvents, fake: FakeGoogle, clock: StepClock
) -> None:
    meet.check_credentials()
    fake.fail_next(
        1, 403, google_error(403, "You need to have writer access to this calendar.", "requiredAccessLevel")
    )
    with pytest.raises(CredentialsRejected, match="writer access"):
        meet.create(spec(clock))


def test_503_is_provider_unavailable(meet: GoogleMeetEvents, fake: FakeGoogle, clock: StepClock) -> None:
    meet.check_credentials()
    fake.fail_next(1, 503)
    with pytest.raises(ProviderUnavailable) as raised:
        meet.create(spec(clock))
    assert raised.value.retryable


def test_a_token_endpoint_outage_is_provider_unavailable(
    meet: GoogleMeetEvents, fake: FakeGoogle, clock: StepClock
) -> None:
    fake.fail_next(1, 503)
    with pytest.raises(ProviderUnavailable):
        meet.create(spec(clock))


def test_nothing_listening_is_provider_unavailable(clock: StepClock) -> None:
    nowhere = closed_port_url()
    credentials = GoogleMeetCredentials.model_validate(DEMO_CREDENTIALS)
    meet = GoogleMeetEvents(credentials, clock, oauth_base=nowhere, calendar_base=nowhere)
    with pytest.raises(ProviderUnavailable, match="could not be reached"):
        meet.create(spec(clock))
