"""What only the Google Meet adapter does, against the local Google over real HTTP: service-account
tokens (a signed RS256 assertion, acting as a Workspace user, keys pasted as they come), Calendar events
with Meet conferences (pending, then ready), adopted when a create is retried, moved with a PATCH that keeps
the conference, and Google's own refusals (a calendar it cannot see, 403 for rate or for access). What every
provider does is in test_provider_contract.py, with Google Meet's row in contract.py."""

from __future__ import annotations

import re
from functools import partial

import jwt
import pytest

from booking.adapters.meetings.google_meet import SCOPE, GoogleMeetEvents
from booking.domain.meetings import (
    CredentialsRejected,
    MeetingRefused,
    ProviderRateLimited,
    ProviderUnavailable,
)
from booking.ports import MeetingLinks
from local.fakes.google import DEMO_CREDENTIALS, FakeGoogle, google_error
from tests.providers import support
from tests.providers.contract import GOOGLE_MEET
from tests.providers.support import StepClock, calls

PROVIDER = GOOGLE_MEET
MEET_LINK = re.compile(r"^https://meet\.google\.com/[a-z]{3}-[a-z]{4}-[a-z]{3}$")
spec = partial(support.spec, topic="Consultation")


def adapter(fake: FakeGoogle, clock: StepClock, **changes: str) -> MeetingLinks:
    return GOOGLE_MEET.adapter(fake.base_url, clock, **changes)


EVENT = r"/calendar/v3/calendars/primary/events/[^/]+"


# --- making meetings ------------------------------------------------------------------------------------


def test_create_asks_for_a_meet_conference_on_a_calendar_event(
    links: GoogleMeetEvents, fake: FakeGoogle, clock: StepClock
) -> None:
    # one event per booking, each with its own Meet link as the event has it: the contract suite
    meeting = links.create(spec(clock))

    assert MEET_LINK.match(meeting.join_url)
    assert meeting.host_url is None and meeting.passcode is None  # Meet has neither
    sent = next(r for r in fake.requests if r.method == "POST" and r.path.endswith("/events"))
    assert sent.query["conferenceDataVersion"] == ["1"]
    body = sent.json()
    assert body["conferenceData"]["createRequest"]["conferenceSolutionKey"] == {"type": "hangoutsMeet"}
    assert body["start"] == {"dateTime": spec(clock).start.isoformat(), "timeZone": "Europe/London"}
    assert body["summary"] == "Consultation"


def test_conference_request_ids_are_stable_per_booking_and_differ_between_bookings(
    links: GoogleMeetEvents, fake: FakeGoogle, clock: StepClock
) -> None:
    links.create(spec(clock, "01JBOOKING0000000000000001"))
    links.create(spec(clock, "01JBOOKING0000000000000001"))  # a retry of the same create
    links.create(spec(clock, "01JBOOKING0000000000000002"))
    posts = [r.json() for r in fake.requests if r.method == "POST" and r.path.endswith("/events")]
    ids = [p["conferenceData"]["createRequest"]["requestId"] for p in posts]
    assert ids[0] == ids[1] != ids[2]


def test_phone_entry_points_become_notes_for_people(
    links: GoogleMeetEvents, fake: FakeGoogle, clock: StepClock
) -> None:
    meeting = links.create(spec(clock))

    phone = next(
        p
        for p in fake.events[meeting.meeting_id]["conferenceData"]["entryPoints"]
        if p["entryPointType"] == "phone"
    )
    assert f"Join by phone (US): +1 555-010-0142, PIN: {phone['pin']}#" in meeting.notes
    assert "More phone numbers: https://tel.meet/" in meeting.notes


def test_a_pending_conference_is_read_again_until_it_is_ready(
    links: GoogleMeetEvents, fake: FakeGoogle, clock: StepClock
) -> None:
    fake.conference_pending = 3  # the creation's answer and the next two reads still say "pending"

    meeting = links.create(spec(clock))

    assert MEET_LINK.match(meeting.join_url)
    assert calls(fake, "GET", EVENT) == 3


def test_a_conference_pending_too_long_is_retryable_and_the_retry_adopts_the_event(
    links: GoogleMeetEvents, fake: FakeGoogle, clock: StepClock
) -> None:
    fake.conference_pending = 5  # longer than one create waits (its answer and three reads)

    with pytest.raises(ProviderUnavailable) as raised:
        links.create(spec(clock))
    assert raised.value.retryable

    meeting = links.create(spec(clock))  # the state machine's retry
    assert MEET_LINK.match(meeting.join_url)
    assert list(fake.events) == [meeting.meeting_id]  # one event, not two


def test_a_retried_create_whose_answer_was_lost_finds_the_same_event(
    links: GoogleMeetEvents, fake: FakeGoogle, clock: StepClock
) -> None:
    first = links.create(spec(clock))
    again = links.create(spec(clock))

    assert again == first
    assert len(fake.events) == 1


def test_a_booking_online_again_after_its_event_was_deleted_gets_a_new_event(
    links: GoogleMeetEvents, fake: FakeGoogle, clock: StepClock
) -> None:
    first = links.create(spec(clock))
    links.delete(first.meeting_id)

    again = links.create(spec(clock))

    assert again.meeting_id != first.meeting_id
    assert MEET_LINK.match(again.join_url)
    assert list(fake.events) == [again.meeting_id]


def test_an_event_google_makes_without_a_meet_link_is_refused_and_removed(
    links: GoogleMeetEvents, fake: FakeGoogle, clock: StepClock
) -> None:
    fake.meet_enabled = False  # Meet switched off for the account: Google drops the conference request

    with pytest.raises(MeetingRefused, match="without a Meet link"):
        links.create(spec(clock))
    assert fake.events == {}


# --- tokens ---------------------------------------------------------------------------------------------


def test_the_token_is_asked_for_with_a_signed_assertion(
    links: GoogleMeetEvents, fake: FakeGoogle, clock: StepClock
) -> None:
    # and reused until it expires: the contract suite
    links.check_credentials()

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
    links: GoogleMeetEvents, fake: FakeGoogle
) -> None:
    links.check_credentials()
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


# --- moving ---------------------------------------------------------------------------------------------


def test_update_patches_the_event_without_touching_its_conference(
    links: GoogleMeetEvents, fake: FakeGoogle, clock: StepClock
) -> None:
    # the event moved and its Meet link kept: the contract suite
    meeting = links.create(spec(clock))

    links.update(meeting.meeting_id, spec(clock, days=5, minutes=60))

    patch = next(r for r in fake.requests if r.method == "PATCH")
    assert patch.query["conferenceDataVersion"] == ["1"]
    assert "conferenceData" not in patch.json()


# --- Calendar's 403s -----------------------------------------------------------------------------------


def test_calendars_403_rate_limit_is_throttling_not_a_refusal(
    links: GoogleMeetEvents, fake: FakeGoogle, clock: StepClock
) -> None:
    links.check_credentials()
    fake.fail_next(1, 403, google_error(403, "Rate Limit Exceeded", "rateLimitExceeded", "usageLimits"))
    with pytest.raises(ProviderRateLimited, match="Rate Limit Exceeded"):
        links.create(spec(clock))


def test_a_403_for_access_is_credentials_rejected(
    links: GoogleMeetEvents, fake: FakeGoogle, clock: StepClock
) -> None:
    links.check_credentials()
    fake.fail_next(
        1, 403, google_error(403, "You need to have writer access to this calendar.", "requiredAccessLevel")
    )
    with pytest.raises(CredentialsRejected, match="writer access"):
        links.create(spec(clock))
