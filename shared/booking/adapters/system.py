"""Clock and id generator for production use."""

from __future__ import annotations

from datetime import UTC, datetime

from ulid import ULID


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class UlidGenerator:
    """ULIDs: sortable by creation time, with 80 random bits so neighbours cannot be guessed."""

    def new_id(self) -> str:
        return str(ULID())
