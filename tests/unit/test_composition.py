"""The composition root: what an environment builds once (adapters/snapstart.py PerEnvironment), a function's
adapters built once from its settings (booking/composition.py), and the order in which a committed change
reaches its consumers (services/committed_changes.py)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any, cast

import pytest

from booking.adapters.snapstart import PerEnvironment
from booking.composition import Composition
from booking.services.committed_changes import CommittedChanges
from booking.settings import MeetingLinksSettings, WebhooksSettings

ONLY = {"TABLE_NAME": "BookingTable", "CREDENTIALS_SECRET_PREFIX": "booking/stack/tenants/"}


def test_what_an_environment_builds_once_is_built_on_first_use_and_renewed_or_installed() -> None:
    counter = itertools.count(1)
    built = PerEnvironment(lambda: {"n": next(counter)})
    assert built() is built()
    assert built() == {"n": 1}

    assert built.renew() == {"n": 2}  # after a restore: this copy's own, now
    assert built() == {"n": 2}

    mine = {"n": 0}
    built.install(mine)  # the local stack's, a test's
    assert built() is mine

    built.clear()  # the next use builds it afresh
    assert built() == {"n": 3}


def test_a_composition_builds_each_adapter_once_and_a_new_one_builds_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    first = Composition(WebhooksSettings.from_environment(ONLY))
    assert first.bookings is first.bookings
    assert first.payment_accounts is first.payment_accounts
    assert first.meeting_credentials is not first.payment_accounts  # one secrets cache per area
    second = Composition(first.settings)
    assert second.dynamodb is not first.dynamodb  # what a restored copy relies on: its own clients
    assert second.payment_accounts is not first.payment_accounts  # and its own secrets cache


class FixedClock:
    def now(self) -> datetime:
        return datetime(2030, 1, 1, tzinfo=UTC)


def test_a_composition_runs_on_the_clock_it_is_given_or_the_system_clock() -> None:
    settings = WebhooksSettings.from_environment(ONLY)
    clock = FixedClock()
    assert Composition(settings, clock=clock).clock is clock
    assert Composition(settings).clock.now().tzinfo is not None


@pytest.mark.parametrize(
    "adapter", ["timers", "email", "app_secret", "stripe", "meeting_links_state_machine"]
)
def test_a_function_is_refused_an_adapter_whose_settings_it_does_not_read(adapter: str) -> None:
    meeting_links = Composition(MeetingLinksSettings.from_environment(ONLY))
    with pytest.raises(TypeError, match="the meeting_links function's settings do not include"):
        getattr(meeting_links, adapter)


class Recorder:
    """Any consumer of committed changes, recording what reached it, in one shared journal."""

    def __init__(self, name: str, journal: list[tuple[str, str]]) -> None:
        self.name = name
        self.journal = journal

    def booking_changed(self, old: Any, new: Any) -> None:
        self.journal.append((self.name, "booking_changed"))

    def request_changed(self, old: Any, new: Any) -> None:
        self.journal.append((self.name, "request_changed"))

    def issue_code(self, tenant_id: str, email: str, request_id: str) -> None:
        self.journal.append((self.name, "issue_code"))


def committed_changes(journal: list[tuple[str, str]]) -> CommittedChanges:
    names = ("books", "meetings", "messages", "requests", "payments", "login_codes")
    return CommittedChanges(**{name: cast(Any, Recorder(name, journal)) for name in names})


def test_a_booking_change_reaches_the_books_first_and_the_payments_last() -> None:
    journal: list[tuple[str, str]] = []
    committed_changes(journal).booking_changed(None, cast(Any, object()))
    assert journal == [
        ("books", "booking_changed"),  # so that a receipt finds its invoice
        ("meetings", "booking_changed"),  # so that the confirmation may wait for the link
        ("messages", "booking_changed"),
        ("requests", "booking_changed"),
        ("payments", "booking_changed"),  # Stripe may be down: the change is then delivered again
    ]


def test_a_request_change_and_a_code_request_reach_only_theirs() -> None:
    journal: list[tuple[str, str]] = []
    changes = committed_changes(journal)
    changes.request_changed(None, cast(Any, object()))
    changes.login_code_requested("tenant", "ada@example.com", "request")
    assert journal == [("requests", "request_changed"), ("login_codes", "issue_code")]


def test_a_consumer_that_fails_fails_the_change_before_the_ones_after_it() -> None:
    journal: list[tuple[str, str]] = []
    changes = committed_changes(journal)

    def refuse(old: Any, new: Any) -> None:
        raise RuntimeError("the state machine could not be started")

    vars(changes.meetings)["booking_changed"] = refuse
    with pytest.raises(RuntimeError):  # the stream delivers the change again
        changes.booking_changed(None, cast(Any, object()))
    assert journal == [("books", "booking_changed")]
