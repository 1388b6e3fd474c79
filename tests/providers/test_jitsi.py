"""Jitsi rooms: links on the configured server whose names nobody can guess and that say nothing about the
business or the customer. What every provider does (a moved booking keeps its room, nothing to delete or
check) is in test_provider_contract.py, with Jitsi's row in contract.py."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlsplit

from booking.adapters.meetings.jitsi import JitsiRooms
from booking.domain.meetings import DEFAULT_JITSI_BASE_URL, MeetingSpec

JITSI_NAME = re.compile(r"^[A-Za-z0-9-]+$")  # what Jitsi accepts in a room name


def spec(booking_id: str = "01JBOOKING0000000000000001", *, days: int = 2) -> MeetingSpec:
    start = datetime(2030, 5, 6, 10, 0, tzinfo=UTC) + timedelta(days=days)
    return MeetingSpec(
        tenant_id="01JTENANT00000000000000001",
        booking_id=booking_id,
        topic="Therapy session with Ana Pereira",
        start=start,
        end=start + timedelta(minutes=50),
        time_zone="Europe/Lisbon",
        host_email="staff@salon.example",
    )


def test_a_room_is_an_https_link_on_the_configured_server() -> None:
    rooms = JitsiRooms("https://video.salon.example/")

    meeting = rooms.create(spec())

    assert meeting.join_url == f"https://video.salon.example/{meeting.meeting_id}"
    assert meeting.passcode is None and meeting.host_url is None and meeting.notes == ""


def test_the_default_server_is_meet_jit_si() -> None:
    meeting = JitsiRooms().create(spec())
    assert meeting.join_url.startswith(f"{DEFAULT_JITSI_BASE_URL}/")
    assert urlsplit(meeting.join_url).scheme == "https"


def test_two_bookings_never_share_a_room() -> None:
    rooms = JitsiRooms()
    names = {rooms.create(spec(f"01JBOOKING{n:016d}")).meeting_id for n in range(2000)}
    assert len(names) == 2000


def test_the_same_booking_made_twice_gets_two_rooms() -> None:
    rooms = JitsiRooms()
    assert rooms.create(spec()).meeting_id != rooms.create(spec()).meeting_id


def test_room_names_are_valid_url_safe_and_unguessable() -> None:
    rooms = JitsiRooms()
    for _ in range(200):
        name = rooms.create(spec()).meeting_id
        assert JITSI_NAME.match(name)
        assert quote(name, safe="") == name
        assert name == name.lower()  # Jitsi folds case: mixed case would not add entropy there
        prefix, random = name.split("-", 1)
        assert prefix == "appointment"
        assert len(random) * math.log2(32) >= 128  # lower-case base32: 5 bits a character


def test_room_names_carry_nothing_about_the_business_or_customer() -> None:
    name = JitsiRooms().create(spec()).meeting_id
    assert name.split("-", 1)[0] == "appointment"  # the same readable prefix for everyone
    for personal in ("01jtenant", "01jbooking", "pereira", "therapy", "salon"):
        assert personal not in name


def test_a_meeting_id_that_is_not_one_of_our_rooms_gets_a_new_room() -> None:
    rooms = JitsiRooms()
    moved = rooms.update("https://evil.example/x", spec())
    assert JITSI_NAME.match(moved.meeting_id)
    assert moved.join_url == f"{DEFAULT_JITSI_BASE_URL}/{moved.meeting_id}"
