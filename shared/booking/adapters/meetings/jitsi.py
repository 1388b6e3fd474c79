"""Jitsi Meet rooms: no account and no API. A room exists while someone is in it, so a link is only a
name on the server that nobody else can guess; the name is all that keeps strangers out."""

from __future__ import annotations

import base64
import re
import secrets

from booking.domain.meetings import DEFAULT_JITSI_BASE_URL, CreatedMeeting, MeetingSpec

ROOM_PREFIX = "appointment"  # readable, and the same for everyone: nothing about the business or customer
ROOM_BYTES = 20  # 160 random bits
# Lower-case base32: Jitsi folds room names to lower case, so mixed-case names would lose entropy there.
ROOM_NAME = re.compile(rf"^{ROOM_PREFIX}-[a-z2-7]{{32}}$")


class JitsiRooms:
    """MeetingLinks for a Jitsi server (meet.jit.si or the business's own)."""

    def __init__(self, base_url: str = DEFAULT_JITSI_BASE_URL) -> None:
        self._base_url = base_url.rstrip("/")

    def check_credentials(self) -> None:
        """Nothing to check: Jitsi rooms need no account."""

    def create(self, spec: MeetingSpec) -> CreatedMeeting:
        return self._room(new_room_name())

    def update(self, meeting_id: str, spec: MeetingSpec) -> CreatedMeeting:
        # The link does not depend on the time, so a moved booking keeps its room.
        return self._room(meeting_id) if ROOM_NAME.match(meeting_id) else self.create(spec)

    def delete(self, meeting_id: str) -> None:
        """Nothing to delete: an empty room does not exist."""

    def _room(self, name: str) -> CreatedMeeting:
        return CreatedMeeting(meeting_id=name, join_url=f"{self._base_url}/{name}")


def new_room_name() -> str:
    """A room name Jitsi accepts (letters, digits and '-') that nobody can guess."""
    random = base64.b32encode(secrets.token_bytes(ROOM_BYTES)).decode().rstrip("=").lower()
    return f"{ROOM_PREFIX}-{random}"
