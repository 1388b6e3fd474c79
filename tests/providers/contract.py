"""The meeting providers the contract suite (test_provider_contract.py) runs against, one row each: how its
adapter is made (on its local fake, or on any address), and what differs between them: how its fake keeps
meetings and links, what a refused meeting and rejected credentials are in its own words, whether a moved
booking keeps its meeting, and whether it has OAuth tokens. Each provider's own test module names its row
as `PROVIDER`, so conftest's `fake` and `links` fixtures build the same adapter for its specific tests."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from booking.adapters.meetings.daily import DailyRooms
from booking.adapters.meetings.google_meet import GoogleMeetEvents
from booking.adapters.meetings.jitsi import JitsiRooms
from booking.adapters.meetings.teams import TeamsMeetings
from booking.adapters.meetings.whereby import WherebyMeetings
from booking.adapters.meetings.zoom import ZoomMeetings
from booking.domain.meetings import (
    ApiKeyCredentials,
    GoogleMeetCredentials,
    MeetingSpec,
    TeamsCredentials,
    ZoomCredentials,
)
from booking.ports import Clock, MeetingLinks
from local.fakes import daily, google, microsoft, whereby, zoom
from local.fakes.server import FakeServer

JITSI_SERVER = "https://video.salon.example"  # a business's own Jitsi server (meet.jit.si by default)


def exactly(words: str) -> str:
    """A pattern for a reason that is exactly `words`."""
    return re.escape(words)


def starting(words: str) -> str:
    """A pattern for a reason that starts with `words` (the rest varies: a trace id, a timestamp)."""
    return re.escape(words) + ".*"


@dataclass(frozen=True)
class Rejected:
    """Credentials the provider rejects: what is changed from the demo ones, the reason (a pattern the
    whole reason matches) and what must never show in the error (by default the secret in use)."""

    changes: dict[str, str]
    reason: str
    hidden: str | None = None


@dataclass(frozen=True)
class Refusal:
    """A booking whose meeting the provider refuses (its session `days` from now at ten, `minutes` long),
    and the reason (a pattern the whole reason matches)."""

    reason: str
    days: int = 2
    minutes: int = 45


@dataclass(frozen=True)
class Provider:
    name: str
    make: Callable[[Mapping[str, Any], str, Clock], MeetingLinks]  # (credentials, base URL, clock)
    link: str  # a pattern the whole join link matches; "{id}" stands for the meeting id
    credentials: Mapping[str, str] = field(default_factory=dict)  # the demo ones, which its fake knows
    fake: Callable[[Clock], FakeServer] | None = None  # None: the adapter talks to no server (Jitsi)
    store: str = "meetings"  # the fake's dict of its meetings by id
    join_url_of: Callable[[dict[str, Any]], str] | None = None  # a meeting's join link as the fake keeps it
    # When the fake has a meeting (fake, meeting id), and when it should have a booking's (its spec): the
    # provider's own fields and formats, or a room's opening hours.
    times_at_fake: Callable[[Any, str], tuple[Any, ...]] | None = None
    times_for: Callable[[MeetingSpec], tuple[Any, ...]] | None = None
    secret: str = ""  # the credential that must never show in an error, by its name in `credentials`
    rejected: tuple[Rejected, ...] = ()
    refused: Refusal | None = None
    keeps_meeting_on_update: bool = True  # False: a moved booking gets a new meeting, the old one deleted
    unknown_id: str = "never-existed"  # an id the provider never made (its path quoting included)
    create_path: str = ""  # the path meetings are made at (a pattern), for providers with tokens
    expired_token: str = ""  # the reason when a fresh token is refused too (a pattern); "" without tokens

    def __str__(self) -> str:
        return self.name

    def adapter(self, base_url: str, clock: Clock, **changes: Any) -> MeetingLinks:
        """The adapter with the demo credentials but for `changes`, talking to `base_url` (its fake, or
        an address where nothing listens)."""
        return self.make({**self.credentials, **changes}, base_url, clock)

    def join_link(self, meeting_id: str) -> re.Pattern[str]:
        return re.compile(self.link.replace("{id}", re.escape(meeting_id)))

    def hidden(self, rejected: Rejected) -> str:
        """What must not show in the error for `rejected`: its own `hidden`, or the secret in use."""
        return rejected.hidden or {**self.credentials, **rejected.changes}[self.secret]

    def meetings(self, fake: FakeServer) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = getattr(fake, self.store)
        return found


def _minutes(spec: MeetingSpec) -> int:
    return int((spec.end - spec.start).total_seconds() // 60)


def _utc_seconds(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _zoom(credentials: Mapping[str, Any], base_url: str, clock: Clock) -> MeetingLinks:
    account = ZoomCredentials.model_validate(credentials)
    return ZoomMeetings(account, clock, api_base=base_url, oauth_base=base_url)


def _google_meet(credentials: Mapping[str, Any], base_url: str, clock: Clock) -> MeetingLinks:
    account = GoogleMeetCredentials.model_validate(credentials)
    meet = GoogleMeetEvents(account, clock, oauth_base=base_url, calendar_base=base_url)
    meet.poll_pauses = (0.01, 0.01, 0.01)
    return meet


def _teams(credentials: Mapping[str, Any], base_url: str, clock: Clock) -> MeetingLinks:
    account = TeamsCredentials.model_validate(credentials)
    return TeamsMeetings(account, clock, login_base=base_url, graph_base=base_url)


def _daily(credentials: Mapping[str, Any], base_url: str, clock: Clock) -> MeetingLinks:
    return DailyRooms(ApiKeyCredentials.model_validate(credentials), clock, api_base=base_url)


def _whereby(credentials: Mapping[str, Any], base_url: str, clock: Clock) -> MeetingLinks:
    return WherebyMeetings(ApiKeyCredentials.model_validate(credentials), clock, api_base=base_url)


def _jitsi(credentials: Mapping[str, Any], base_url: str, clock: Clock) -> MeetingLinks:
    return JitsiRooms(JITSI_SERVER)  # rooms need no account and no call


ZOOM = Provider(
    "zoom",
    _zoom,
    link=r"https://zoom\.us/j/{id}\?pwd=\S+",
    credentials=zoom.DEMO_CREDENTIALS,
    fake=lambda clock: zoom.FakeZoom(clock=clock),
    join_url_of=lambda meeting: str(meeting["join_url"]),
    times_at_fake=lambda fake, id: (fake.meetings[id]["start_time"], fake.meetings[id]["duration"]),
    times_for=lambda spec: (spec.start.strftime("%Y-%m-%dT%H:%M:%SZ"), _minutes(spec)),
    secret="client_secret",
    rejected=(
        Rejected(
            {"client_secret": "not-the-secret"},
            exactly("Zoom answered 401: Invalid client_id or client_secret"),
        ),
        Rejected(
            {"client_id": "someone-else"}, exactly("Zoom answered 401: Invalid client_id or client_secret")
        ),
        Rejected({"account_id": "another-account"}, exactly("Zoom answered 400: Invalid account_id")),
        Rejected(
            {"user_id": "nobody@example.com"},
            exactly("Zoom answered 404: User does not exist: nobody@example.com."),
        ),
    ),
    refused=Refusal(exactly("Zoom answered 400: Validation Failed."), minutes=-30),  # ends before it starts
    unknown_id="99999999999",
    create_path="/v2/users/me/meetings",
    expired_token=exactly("Zoom answered 401: Access token is expired."),
)
GOOGLE_MEET = Provider(
    "google_meet",
    _google_meet,
    link=r"https://meet\.google\.com/[a-z]{3}-[a-z]{4}-[a-z]{3}",
    credentials=google.DEMO_CREDENTIALS,
    fake=lambda clock: google.FakeGoogle(clock=clock),
    store="events",
    join_url_of=lambda event: str(event["conferenceData"]["entryPoints"][0]["uri"]),
    times_at_fake=lambda fake, id: (fake.events[id]["start"]["dateTime"], fake.events[id]["end"]["dateTime"]),
    times_for=lambda spec: (spec.start.isoformat(), spec.end.isoformat()),
    secret="private_key",
    rejected=(
        Rejected(
            {"private_key": google.generate_private_key_pem()},  # a key Google does not know
            exactly("Google answered 400: Invalid JWT Signature."),
            hidden="PRIVATE KEY",
        ),
        Rejected(
            {"client_email": "someone-else@other.iam.gserviceaccount.com"},
            exactly("Google answered 400: Invalid grant: account not found"),
        ),
    ),
    refused=Refusal(exactly("Google answered 400: The specified time range is empty."), minutes=-30),
    unknown_id="neverexisted00",
    create_path="/calendar/v3/calendars/primary/events",
    expired_token=starting("Google answered 401: Request had invalid authentication credentials."),
)
TEAMS = Provider(
    "teams",
    _teams,
    link=r"https://teams\.microsoft\.com/l/meetup-join/19%3ameeting_[A-Za-z0-9%]+%40thread\.v2/0"
    r"\?context=\S+",
    credentials=microsoft.DEMO_CREDENTIALS,
    fake=lambda clock: microsoft.FakeMicrosoft(clock=clock),
    join_url_of=lambda meeting: str(meeting["joinWebUrl"]),
    # Graph keeps fractions of a second ("...T10:00:00.0000000Z")
    times_at_fake=lambda fake, id: (
        fake.meetings[id]["startDateTime"][:19],
        fake.meetings[id]["endDateTime"][:19],
    ),
    times_for=lambda spec: (_utc_seconds(spec.start), _utc_seconds(spec.end)),
    secret="client_secret",
    rejected=(
        Rejected(
            {"client_secret": "not~the.right-secret"},
            starting("Microsoft answered 401: AADSTS7000215: Invalid client secret provided."),
        ),
        Rejected(
            {"tenant_id": "contoso.onmicrosoft.com"},
            starting("Microsoft answered 400: AADSTS90002: Tenant 'contoso.onmicrosoft.com' not found."),
        ),
        Rejected(
            {"client_id": "00000000-0000-0000-0000-000000000000"},
            starting(
                "Microsoft answered 400: AADSTS700016: Application with identifier "
                "'00000000-0000-0000-0000-000000000000' was not found"
            ),
        ),
    ),
    refused=Refusal(
        exactly("Microsoft answered 400: The end time of the meeting must be after its start time."),
        minutes=-30,
    ),
    unknown_id="MSo/never+existed==",  # ids are base64: '/' and '+' must survive the path
    create_path=f"/v1.0/users/{microsoft.DEMO_CREDENTIALS['organizer_user_id']}/onlineMeetings",
    expired_token=exactly("Microsoft answered 401: Lifetime validation failed, the token is expired."),
)
DAILY = Provider(
    "daily",
    _daily,
    link=r"https://fake-demo\.daily\.co/{id}",
    credentials=daily.DEMO_CREDENTIALS,
    fake=lambda clock: daily.FakeDaily(clock=clock),
    join_url_of=lambda room: str(room["url"]),
    times_at_fake=lambda fake, id: (fake.meetings[id]["config"]["nbf"], fake.meetings[id]["config"]["exp"]),
    # open 15 minutes before the session, closed 30 minutes after it
    times_for=lambda spec: (
        int((spec.start - timedelta(minutes=15)).timestamp()),
        int((spec.end + timedelta(minutes=30)).timestamp()),
    ),
    secret="api_key",
    rejected=(Rejected({"api_key": "not-the-key"}, exactly("Daily answered 401: the API key is not valid")),),
    # a session already over: its room would close in the past
    refused=Refusal(exactly("Daily answered 400: exp must be in the future"), days=-1),
)
WHEREBY = Provider(
    "whereby",
    _whereby,
    link=r"https://fake-demo\.whereby\.com/01jbooking00-\S+",
    credentials=whereby.DEMO_CREDENTIALS,
    fake=lambda clock: whereby.FakeWhereby(clock=clock),
    join_url_of=lambda meeting: str(meeting["roomUrl"]),
    times_at_fake=lambda fake, id: (fake.open_until(id),),  # a room opens when made
    times_for=lambda spec: (spec.end + timedelta(minutes=30),),
    secret="api_key",
    rejected=(
        Rejected(
            {"api_key": "not-the-key"}, exactly("Whereby answered 401: Access token is missing or invalid")
        ),
    ),
    refused=Refusal(
        exactly('Whereby answered 400: "endDate" must be the same or after the current date'), days=-1
    ),
    keeps_meeting_on_update=False,
)
JITSI = Provider("jitsi", _jitsi, link=re.escape(JITSI_SERVER) + "/{id}")

ALL = (ZOOM, GOOGLE_MEET, TEAMS, DAILY, WHEREBY, JITSI)
WITH_FAKES = tuple(provider for provider in ALL if provider.fake is not None)
WITH_TOKENS = tuple(provider for provider in ALL if provider.expired_token)
