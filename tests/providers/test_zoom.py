"""What only the Zoom adapter does, against the local Zoom over real HTTP: a scheduled meeting with Zoom's
settings, the passcode, dial-in numbers and host link it hands out, and a meeting moved in place. What
every provider does (tokens, refusals, failures, credentials in Zoom's words) is in
test_provider_contract.py, with Zoom's row in contract.py."""

from __future__ import annotations

from booking.adapters.meetings.zoom import ZoomMeetings
from local.fakes.zoom import FakeZoom
from tests.providers.contract import ZOOM
from tests.providers.support import StepClock, spec

PROVIDER = ZOOM


def test_each_booking_gets_a_scheduled_meeting_with_zooms_settings(
    links: ZoomMeetings, fake: FakeZoom, clock: StepClock
) -> None:
    # one meeting per booking, each with its own link as Zoom has it: the contract suite
    first = links.create(spec(clock, "01JBOOKING0000000000000001"))
    second = links.create(spec(clock, "01JBOOKING0000000000000002", days=3, minutes=30))

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
    links: ZoomMeetings, fake: FakeZoom, clock: StepClock
) -> None:
    made = links.create(spec(clock))

    at_zoom = fake.meetings[made.meeting_id]
    assert made.passcode == at_zoom["password"]
    assert made.host_url == at_zoom["start_url"]
    assert made.host_url != made.join_url
    spaced = f"{made.meeting_id[:3]} {made.meeting_id[3:7]} {made.meeting_id[7:]}"
    assert made.notes == (
        "Dial in: +44 20 3481 5237 (London, GB) or +44 20 3901 7895 (GB) or +1 646 558 8656 (New York, US), "
        f"meeting ID {spaced}, passcode {at_zoom['pstn_password']}"
    )


def test_no_dial_in_numbers_means_no_notes(links: ZoomMeetings, fake: FakeZoom, clock: StepClock) -> None:
    fake.dial_in_numbers = []

    assert links.create(spec(clock)).notes == ""
