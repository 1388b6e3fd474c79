"""What every meeting provider's adapter does, each against its local fake over real HTTP (Jitsi, which has
no server, where it applies): it is a MeetingLinks port; each booking gets its own meeting; a moved booking
keeps its meeting or gets a new one, and one gone at the provider is made again; a missing meeting deletes
fine; the provider's refusals, rejected credentials, throttling and outages are the domain's errors in the
provider's own words, never showing a secret; and OAuth tokens are cached, renewed after expiry and
forgotten when refused. What differs between providers is their row in contract.py; what only one provider
does is in its own module."""

from __future__ import annotations

import re
from typing import Any

import pytest

from booking.domain.meetings import (
    CredentialsRejected,
    MeetingRefused,
    MeetingSpec,
    ProviderRateLimited,
    ProviderUnavailable,
)
from booking.ports import MeetingLinks
from local.fakes.server import FakeServer
from tests.providers.contract import ALL, WITH_FAKES, WITH_TOKENS, Provider, Rejected
from tests.providers.support import StepClock, calls, closed_port_url, spec

every_provider = pytest.mark.parametrize("provider", ALL, ids=str)
with_fakes = pytest.mark.parametrize("provider", WITH_FAKES, ids=str)
with_tokens = pytest.mark.parametrize("provider", WITH_TOKENS, ids=str)


def booking(n: int) -> str:
    return f"01JBOOKING{n:016d}"


def assert_at_the_times(provider: Provider, fake: FakeServer, meeting_id: str, session: MeetingSpec) -> None:
    """The provider has the meeting at the session's times (its own fields, or the room's opening hours)."""
    assert provider.times_at_fake is not None and provider.times_for is not None
    assert provider.times_at_fake(fake, meeting_id) == provider.times_for(session)


# --- the port -------------------------------------------------------------------------------------------


@every_provider
def test_it_is_a_meeting_links_port(links: MeetingLinks) -> None:
    # each row's factory is typed `-> MeetingLinks`, so mypy checks every adapter against the port
    port: MeetingLinks = links
    assert all(callable(getattr(port, call)) for call in ("check_credentials", "create", "update", "delete"))


@every_provider
def test_good_credentials_pass_the_check(links: MeetingLinks) -> None:
    links.check_credentials()


# --- making, moving and deleting meetings ---------------------------------------------------------------


@every_provider
def test_each_booking_gets_its_own_meeting(
    provider: Provider, links: MeetingLinks, fake: FakeServer | None, clock: StepClock
) -> None:
    sessions = spec(clock, booking(1)), spec(clock, booking(2), days=3, minutes=30)
    first, second = (links.create(session) for session in sessions)

    assert first.meeting_id != second.meeting_id
    assert first.join_url != second.join_url
    for meeting in (first, second):
        assert provider.join_link(meeting.meeting_id).fullmatch(meeting.join_url), meeting.join_url
    if fake is not None:
        made = provider.meetings(fake)
        assert set(made) == {first.meeting_id, second.meeting_id}
        assert provider.join_url_of is not None
        assert [provider.join_url_of(made[m.meeting_id]) for m in (first, second)] == [
            first.join_url,
            second.join_url,
        ]
        assert_at_the_times(provider, fake, first.meeting_id, sessions[0])
        assert_at_the_times(provider, fake, second.meeting_id, sessions[1])


@every_provider
def test_a_moved_booking_keeps_its_meeting_or_gets_a_new_one_in_its_place(
    provider: Provider, links: MeetingLinks, fake: FakeServer | None, clock: StepClock
) -> None:
    made = links.create(spec(clock))
    moved = spec(clock, days=5, minutes=60)

    updated = links.update(made.meeting_id, moved)

    if provider.keeps_meeting_on_update:
        assert updated == made  # same meeting, same link, passcode and notes
    else:
        assert updated.meeting_id != made.meeting_id
        assert updated.join_url != made.join_url
    if fake is not None:
        assert set(provider.meetings(fake)) == {updated.meeting_id}  # a replaced one is deleted
        assert_at_the_times(provider, fake, updated.meeting_id, moved)


@with_fakes
@pytest.mark.parametrize("gone", ["deleted at the provider", "deleted through the adapter", "never made"])
def test_a_meeting_the_provider_no_longer_has_is_made_again_on_update(
    provider: Provider, links: MeetingLinks, fake: FakeServer, clock: StepClock, gone: str
) -> None:
    if gone == "never made":
        missing = provider.unknown_id
    else:
        missing = links.create(spec(clock)).meeting_id
        if gone == "deleted at the provider":
            del provider.meetings(fake)[missing]  # staff deleted it in the provider's own app
        else:
            links.delete(missing)  # the booking went in person, and comes back online

    again = links.update(missing, spec(clock, days=4))

    assert again.meeting_id != missing
    assert provider.join_link(again.meeting_id).fullmatch(again.join_url)
    assert set(provider.meetings(fake)) == {again.meeting_id}


@every_provider
def test_delete_removes_the_meeting_and_a_missing_one_is_fine(
    provider: Provider, links: MeetingLinks, fake: FakeServer | None, clock: StepClock
) -> None:
    made = links.create(spec(clock))

    links.delete(made.meeting_id)
    links.delete(made.meeting_id)  # already deleted
    links.delete(provider.unknown_id)  # never existed

    if fake is not None:
        assert made.meeting_id not in provider.meetings(fake)


# --- refusals, rejected credentials and failures ----------------------------------------------------------


def assert_said(reason: str, pattern: str) -> None:
    """The reason is the provider's words as the row gives them (a pattern the whole reason matches)."""
    assert re.fullmatch(pattern, reason, re.DOTALL), f"{reason!r} does not match {pattern!r}"


@with_fakes
def test_a_meeting_the_provider_refuses_is_meeting_refused_in_its_words(
    provider: Provider, links: MeetingLinks, clock: StepClock
) -> None:
    assert provider.refused is not None
    with pytest.raises(MeetingRefused) as refused:
        links.create(spec(clock, days=provider.refused.days, minutes=provider.refused.minutes))

    assert_said(refused.value.reason, provider.refused.reason)
    assert not refused.value.retryable


REJECTIONS = [
    pytest.param(provider, rejected, id=f"{provider}-{'-'.join(rejected.changes)}")
    for provider in WITH_FAKES
    for rejected in provider.rejected
]


@pytest.mark.parametrize(("provider", "rejected"), REJECTIONS)
def test_wrong_credentials_are_rejected_in_the_providers_words_and_make_nothing(
    provider: Provider, rejected: Rejected, fake: FakeServer, clock: StepClock
) -> None:
    links = provider.adapter(fake.base_url, clock, **rejected.changes)

    with pytest.raises(CredentialsRejected) as checked:
        links.check_credentials()
    with pytest.raises(CredentialsRejected) as creating:
        links.create(spec(clock))

    for error in (checked.value, creating.value):
        assert_said(error.reason, rejected.reason)
        assert provider.hidden(rejected) not in str(error)
    assert provider.meetings(fake) == {}


@with_fakes
def test_throttling_is_rate_limited_with_the_providers_retry_after(
    links: MeetingLinks, fake: FakeServer, clock: StepClock
) -> None:
    links.check_credentials()  # a token first, where there is one: the create is what is throttled
    fake.throttle_next(retry_after=7)

    with pytest.raises(ProviderRateLimited) as limited:
        links.create(spec(clock))

    assert limited.value.retry_after == 7.0
    assert limited.value.retryable


@with_fakes
@pytest.mark.parametrize(("call", "status"), [("create", 503), ("delete", 502)])
def test_an_outage_is_unavailable_and_retryable_and_passes(
    links: MeetingLinks, fake: FakeServer, clock: StepClock, call: str, status: int
) -> None:
    links.check_credentials()
    fake.fail_next(1, status)

    with pytest.raises(ProviderUnavailable) as unavailable:
        if call == "create":
            links.create(spec(clock))
        else:
            links.delete("some-room")

    assert unavailable.value.retryable
    assert links.create(spec(clock)).meeting_id  # and it works again once the provider is back


@with_fakes
def test_nothing_listening_is_unavailable(provider: Provider, clock: StepClock) -> None:
    links = provider.adapter(closed_port_url(), clock)

    for call in (links.check_credentials, lambda: links.create(spec(clock))):
        with pytest.raises(ProviderUnavailable) as unavailable:
            call()
        assert "could not be reached" in unavailable.value.reason
        assert unavailable.value.retryable


# --- tokens ---------------------------------------------------------------------------------------------


@with_tokens
def test_one_token_serves_many_calls_until_it_expires(
    links: MeetingLinks, fake: Any, clock: StepClock
) -> None:
    links.check_credentials()
    made = links.create(spec(clock, booking(1)))
    links.update(made.meeting_id, spec(clock, booking(1), days=3))
    links.create(spec(clock, booking(2)))
    assert fake.token_requests == 1

    clock.advance(minutes=50)
    links.create(spec(clock, booking(3)))
    assert fake.token_requests == 1

    clock.advance(minutes=10)  # the hour is up (less the cache's margin): a fresh token
    links.create(spec(clock, booking(4)))
    assert fake.token_requests == 2


@with_tokens
def test_a_revoked_token_is_forgotten_and_the_call_made_once_more(
    provider: Provider, links: MeetingLinks, fake: Any, clock: StepClock
) -> None:
    links.create(spec(clock, booking(1)))
    fake.revoke_tokens()

    made = links.create(spec(clock, booking(2)))

    assert made.meeting_id in provider.meetings(fake)
    assert provider.join_link(made.meeting_id).fullmatch(made.join_url)
    assert fake.token_requests == 2
    assert calls(fake, "POST", provider.create_path) == 3  # the first, the refused one, the retry


@with_tokens
def test_a_token_refused_again_after_a_fresh_one_is_credentials_rejected(
    provider: Provider, links: MeetingLinks, fake: Any, clock: StepClock
) -> None:
    fake.token_lifetime = 0  # every token it issues is refused as soon as it is used

    with pytest.raises(CredentialsRejected) as rejected:
        links.create(spec(clock))

    assert_said(rejected.value.reason, provider.expired_token)
    assert fake.token_requests == 2  # one retry with a fresh token, no more
    assert calls(fake, "POST", provider.create_path) == 2


@with_tokens
def test_an_outage_of_the_token_endpoint_is_unavailable(
    links: MeetingLinks, fake: FakeServer, clock: StepClock
) -> None:
    fake.fail_next(1, 503)  # the first request is the token's

    with pytest.raises(ProviderUnavailable) as unavailable:
        links.create(spec(clock))

    assert unavailable.value.retryable
