"""What only the Teams adapter does, against the local Microsoft over real HTTP: client-credentials tokens,
online meetings with the lobby, meeting id, passcode and dial-in details, moved in place, and the check that
the organizer's meetings can be read (an application access policy covers them). What every provider does
is in test_provider_contract.py, with Teams' row in contract.py."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import partial
from urllib.parse import unquote

import pytest

from booking.adapters.meetings.teams import TeamsMeetings
from booking.domain.meetings import CredentialsRejected
from local.fakes.microsoft import DEMO_CREDENTIALS, FakeMicrosoft
from tests.providers import support
from tests.providers.contract import TEAMS
from tests.providers.support import StepClock

PROVIDER = TEAMS
JOIN_LINK = re.compile(
    r"^https://teams\.microsoft\.com/l/meetup-join/19%3ameeting_[A-Za-z0-9%]+%40thread\.v2/0\?context="
)
spec = partial(support.spec, topic="Consultation")
MEETINGS = f"/v1.0/users/{DEMO_CREDENTIALS['organizer_user_id']}/onlineMeetings"


def utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- making meetings ------------------------------------------------------------------------------------


def test_create_asks_for_an_online_meeting_whose_lobby_holds_the_customer(
    links: TeamsMeetings, fake: FakeMicrosoft, clock: StepClock
) -> None:
    # one meeting per booking, each with its own link as Graph has it: the contract suite
    meeting = links.create(spec(clock))

    assert JOIN_LINK.match(meeting.join_url)
    assert meeting.host_url is None
    sent = next(r for r in fake.requests if r.method == "POST" and r.path == MEETINGS).json()
    assert sent["startDateTime"] == utc(spec(clock).start) and sent["endDateTime"] == utc(spec(clock).end)
    assert sent["subject"] == "Consultation"
    assert sent["lobbyBypassSettings"]["scope"] == "organization"  # the customer waits to be admitted


def test_passcode_meeting_id_and_dial_in_are_given_to_people(
    links: TeamsMeetings, fake: FakeMicrosoft, clock: StepClock
) -> None:
    meeting = links.create(spec(clock))

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
    links: TeamsMeetings, fake: FakeMicrosoft, clock: StepClock
) -> None:
    fake.dial_in = False
    meeting = links.create(spec(clock))
    assert meeting.notes.startswith("Meeting ID: ")
    assert "Dial in" not in meeting.notes and "\n" not in meeting.notes


# --- tokens ---------------------------------------------------------------------------------------------


def test_the_token_is_asked_for_with_client_credentials(links: TeamsMeetings, fake: FakeMicrosoft) -> None:
    # and reused until it expires: the contract suite
    links.check_credentials()

    token_request = next(r for r in fake.requests if r.path.endswith("/token"))
    assert token_request.path == f"/{DEMO_CREDENTIALS['tenant_id']}/oauth2/v2.0/token"
    assert token_request.form() == {
        "client_id": DEMO_CREDENTIALS["client_id"],
        "client_secret": DEMO_CREDENTIALS["client_secret"],
        "scope": "https://graph.microsoft.com/.default",
        "grant_type": "client_credentials",
    }


# --- checking credentials -------------------------------------------------------------------------------


def test_check_credentials_reads_the_organizers_meetings(links: TeamsMeetings, fake: FakeMicrosoft) -> None:
    links.check_credentials()  # the fake finds no meeting: 404, which proves access all the same

    probe = next(r for r in fake.requests if r.method == "GET")
    assert probe.path == MEETINGS
    assert probe.query["$filter"] == ["joinMeetingIdSettings/joinMeetingId eq '0'"]


def test_an_organizer_no_access_policy_covers_is_credentials_rejected(
    fake: FakeMicrosoft, clock: StepClock
) -> None:
    teams = TEAMS.adapter(fake.base_url, clock, organizer_user_id="someone-else@salon.example")
    with pytest.raises(CredentialsRejected, match="No application access policy found for this app"):
        teams.check_credentials()
    probe = next(r for r in fake.requests if r.method == "GET")
    assert unquote(probe.path) == "/v1.0/users/someone-else@salon.example/onlineMeetings"
