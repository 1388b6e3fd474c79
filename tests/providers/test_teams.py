"""The Teams adapter against the local Microsoft over real HTTP: client-credentials tokens (cached, renewed
after expiry, forgotten when refused), online meetings with meeting id, passcode and dial-in details, moved
and deleted, and Entra ID's and Graph's refusals as domain errors."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

import pytest

from booking.adapters.meetings.teams import TeamsMeetings
from booking.domain.meetings import (
    CredentialsRejected,
    MeetingRefused,
    MeetingSpec,
    ProviderRateLimited,
    ProviderUnavailable,
    TeamsCredentials,
)
from booking.ports import MeetingLinks
from local.fakes.microsoft import DEMO_CREDENTIALS, FakeMicrosoft
from tests.providers.support import StepClock, at_ten, calls, closed_port_url, meeting_spec, running

JOIN_LINK = re.compile(
    r"^https://teams\.microsoft\.com/l/meetup-join/19%3ameeting_[A-Za-z0-9%]+%40thread\.v2/0\?context="
)
MEETINGS = f"/v1.0/users/{DEMO_CREDENTIALS['organizer_user_id']}/onlineMeetings"


@pytest.fixture
def fake(clock: StepClock) -> Iterator[FakeMicrosoft]:
    yield from running(FakeMicrosoft(clock=clock))


def adapter(fake: FakeMicrosoft, clock: StepClock, **changes: Any) -> TeamsMeetings:
    credentials = TeamsCredentials.model_validate({**DEMO_CREDENTIALS, **changes})
    return TeamsMeetings(credentials, clock, login_base=fake.base_url, graph_base=fake.base_url)


@pytest.fixture
def teams(fake: FakeMicrosoft, clock: StepClock) -> TeamsMeetings:
    return adapter(fake, clock)


def spec(
    clock: StepClock, booking_id: str = "01JBOOKING0000000000000001", *, days: int = 2, minutes: int = 45
) -> MeetingSpec:
    return meeting_spec(at_ten(clock, days), booking_id, minutes=minutes, topic="Consultation")


def utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_it_is_a_meeting_links_port(teams: TeamsMeetings) -> None:
    port: MeetingLinks = teams
    assert port is teams


# --- making meetings ------------------------------------------------------------------------------------


def test_create_makes_one_online_meeting_with_its_own_link_per_booking(
    teams: TeamsMeetings, fake: FakeMicrosoft, clock: StepClock
) -> None:
    first = teams.create(spec(clock, "01JBOOKING0000000000000001"))
    second = teams.create(spec(clock, "01JBOOKING0000000000000002"))

    assert first.meeting_id != second.meeting_id
    assert first.join_url != second.join_url
    for meeting in (first, second):
        assert JOIN_LINK.match(meeting.join_url)
        assert fake.meetings[meeting.meeting_id]["joinWebUrl"] == meeting.join_url
        assert meeting.host_url is None
    sent = next(r for r in fake.requests if r.method == "POST" and r.path == MEETINGS).json()
    assert sent["startDateTime"] == utc(spec(clock).start) and sent["endDateTime"] == utc(spec(clock).end)
    assert sent["subject"] == "Consultation"
    assert sent["lobbyBypassSettings"]["scope"] == "organization"  # the customer waits to be admitted


def test_passcode_meeting_id_and_dial_in_are_given_to_people(
    teams: TeamsMeetings, fake: FakeMicrosoft, clock: StepClock
) -> None:
    meeting = teams.create(spec(clock))

    made = fake.meetings[meeting.meeting_id]
    settings, audio = made["joinMeetingIdSettings"], made["audioConferencing"]
    assert meeting.passcode == settings["passcode"]
    digits = settings["joinMeetingId"]
    assert f"Meeting ID: {digits[:3]} {digits[3:6]} {digits[6:9]} {digits[9:]}" in meeting.notes
    assert (
        f"Dial in: +1 323-555-0166 or +1 800-555-0199, phone conference ID: {audio['conferenceId']}#"
        in meeting.notes
    )
    assert f"Local numbers: {audio['dialinUrl']}" in meeting.notes


def test_without_audio_conferencing_the_notes_have_only_the_meeting_id(
    teams: TeamsMeetings, fake: FakeMicrosoft, clock: StepClock
) -> None:
    fake.dial_in = False
    meeting = teams.create(spec(clock))
    assert meeting.notes.startswith("Meeting ID: ")
    assert "Dial in" not in meeting.notes and "\n" not in meeting.notes


# --- tokens ---------------------------------------------------------------------------------------------


def test_the_token_is_asked_for_with_client_credentials_and_reused(
    teams: TeamsMeetings, fake: FakeMicrosoft, clock: StepClock
) -> None:
    teams.create(spec(clock, "01JBOOKING0000000000000001"))
    teams.create(spec(clock, "01JBOOKING0000000000000002"))
    teams.check_credentials()

    assert fake.token_requests == 1
    token_request = next(r for r in fake.requests if r.path.endswith("/token"))
    assert token_request.path == f"/{DEMO_CREDENTIALS['tenant_id']}/oauth2/v2.0/token"
    assert token_request.form() == {
        "client_id": DEMO_CREDENTIALS["client_id"],
        "client_secret": DEMO_CREDENTIALS["client_secret"],
        "scope": "https://graph.microsoft.com/.default",
        "grant_type": "client_credentials",
    }


def test_a_new_token_is_fetched_once_the_old_one_expires(
    teams: TeamsMeetings, fake: FakeMicrosoft, clock: StepClock
) -> None:
    teams.create(spec(clock, "01JBOOKING0000000000000001"))
    clock.advance(minutes=30)
    teams.create(spec(clock, "01JBOOKING0000000000000002"))
    assert fake.token_requests == 1

    clock.advance(hours=1)
    teams.create(spec(clock, "01JBOOKING0000000000000003"))
    assert fake.token_requests == 2


def test_a_token_refused_before_its_time_is_forgotten_and_the_call_made_again(
    teams: TeamsMeetings, fake: FakeMicrosoft, clock: StepClock
) -> None:
    teams.check_credentials()
    fake.revoke_tokens()

    meeting = teams.create(spec(clock))

    assert JOIN_LINK.match(meeting.join_url)
    assert fake.token_requests == 2


def test_a_token_refused_again_after_a_fresh_one_is_credentials_rejected(
    teams: TeamsMeetings, fake: FakeMicrosoft, clock: StepClock
) -> None:
    fake.token_lifetime = 0  # every token is refused as soon as it is used

    with pytest.raises(CredentialsRejected, match="Lifetime validation failed"):
        teams.create(spec(clock))
    assert fake.token_requests == 2  # one retry with a fresh token, no more
    assert calls(fake, "POST", MEETINGS) == 2


def test_a_wrong_secret_is_credentials_rejected_with_microsofts_words(
    fake: FakeMicrosoft, clock: StepClock
) -> None:
    teams = adapter(fake, clock, client_secret="not~the.right-secret")

    for call in (teams.check_credentials, lambda: teams.create(spec(clock))):
        with pytest.raises(
            CredentialsRejected, match="AADSTS7000215: Invalid client secret provided"
        ) as raised:
            call()
        assert "not~the.right-secret" not in str(raised.value)
    assert fake.meetings == {}


def test_an_unknown_tenant_or_app_is_credentials_rejected(fake: FakeMicrosoft, clock: StepClock) -> None:
    with pytest.raises(CredentialsRejected, match="AADSTS90002"):
        adapter(fake, clock, tenant_id="contoso.onmicrosoft.com").check_credentials()
    with pytest.raises(CredentialsRejected, match="AADSTS700016"):
        adapter(fake, clock, client_id="00000000-0000-0000-0000-000000000000").check_credentials()


# --- checking credentials -------------------------------------------------------------------------------


def test_check_credentials_reads_the_organizers_meetings(teams: TeamsMeetings, fake: FakeMicrosoft) -> None:
    teams.check_credentials()  # the fake finds no meeting: 404, which proves access all the same

    probe = next(r for r in fake.requests if r.method == "GET")
    assert probe.path == MEETINGS
    assert probe.query["$filter"] == ["joinMeetingIdSettings/joinMeetingId eq '0'"]


def test_an_organizer_no_access_policy_covers_is_credentials_rejected(
    fake: FakeMicrosoft, clock: StepClock
) -> None:
    teams = adapter(fake, clock, organizer_user_id="someone-else@salon.example")
    with pytest.raises(CredentialsRejected, match="No application access policy found for this app"):
        teams.check_credentials()
    probe = next(r for r in fake.requests if r.method == "GET")
    assert unquote(probe.path) == "/v1.0/users/someone-else@salon.example/onlineMeetings"


# --- moving and deleting --------------------------------------------------------------------------------


def test_update_moves_the_meeting_and_keeps_its_link(
    teams: TeamsMeetings, fake: FakeMicrosoft, clock: StepClock
) -> None:
    meeting = teams.create(spec(clock))
    moved = spec(clock, days=5, minutes=60)

    updated = teams.update(meeting.meeting_id, moved)

    assert updated == meeting
    made = fake.meetings[meeting.meeting_id]
    assert made["startDateTime"].startswith(utc(moved.start)[:-1])
    assert made["endDateTime"].startswith(utc(moved.end)[:-1])


def test_update_of_a_meeting_deleted_at_microsoft_makes_a_new_one(
    teams: TeamsMeetings, fake: FakeMicrosoft, clock: StepClock
) -> None:
    meeting = teams.create(spec(clock))
    teams.delete(meeting.meeting_id)

    moved = teams.update(meeting.meeting_id, spec(clock, days=5))

    assert moved.meeting_id != meeting.meeting_id
    assert JOIN_LINK.match(moved.join_url)
    assert list(fake.meetings) == [moved.meeting_id]


def test_delete_removes_the_meeting_and_a_missing_one_is_fine(
    teams: TeamsMeetings, fake: FakeMicrosoft, clock: StepClock
) -> None:
    meeting = teams.create(spec(clock))

    teams.delete(meeting.meeting_id)
    assert meeting.meeting_id not in fake.meetings

    teams.delete(meeting.meeting_id)
    teams.delete("MSo/never+existed==")  # ids are base64: '/' and '+' must survive the path


# --- refusals and outages -------------------------------------------------------------------------------


def test_a_request_graph_finds_invalid_is_meeting_refused(teams: TeamsMeetings, clock: StepClock) -> None:
    with pytest.raises(
        MeetingRefused, match=r"400: The end time of the meeting must be after its start time"
    ):
        teams.create(spec(clock, minutes=-30))


def test_429_is_rate_limited_with_microsofts_retry_after(
    teams: TeamsMeetings, fake: FakeMicrosoft, clock: StepClock
) -> None:
    teams.check_credentials()
    fake.throttle_next(retry_after=7)
    with pytest.raises(ProviderRateLimited) as raised:
        teams.create(spec(clock))
    assert raised.value.retry_after == 7.0
    assert raised.value.retryable


def test_503_is_provider_unavailable(teams: TeamsMeetings, fake: FakeMicrosoft, clock: StepClock) -> None:
    teams.check_credentials()
    fake.fail_next(1, 503)
    with pytest.raises(ProviderUnavailable) as raised:
        teams.create(spec(clock))
    assert raised.value.retryable


def test_a_login_outage_is_provider_unavailable(
    teams: TeamsMeetings, fake: FakeMicrosoft, clock: StepClock
) -> None:
    fake.fail_next(1, 503)
    with pytest.raises(ProviderUnavailable):
        teams.create(spec(clock))


def test_nothing_listening_is_provider_unavailable(clock: StepClock) -> None:
    nowhere = closed_port_url()
    credentials = TeamsCredentials.model_validate(DEMO_CREDENTIALS)
    teams = TeamsMeetings(credentials, clock, login_base=nowhere, graph_base=nowhere)
    with pytest.raises(ProviderUnavailable, match="could not be reached"):
        teams.create(spec(clock))
