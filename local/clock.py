"""The dev clock: the local stack's one source of time, which a developer can move forward to see a
three-day reminder now. Kept in the data directory so a restart keeps the shifted time."""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path


class DevClock:
    def __init__(self, data_dir: Path) -> None:
        self._file = data_dir / "clock.json"
        self._lock = threading.Lock()
        self._offset = timedelta()
        if self._file.exists():
            self._offset = timedelta(seconds=float(json.loads(self._file.read_text())["offset_seconds"]))

    def now(self) -> datetime:
        with self._lock:
            return datetime.now(UTC) + self._offset

    @property
    def offset(self) -> timedelta:
        return self._offset

    def set(self, instant: datetime) -> datetime:
        """Moves the clock to `instant` (forward only: time never runs backwards for the application)."""
        with self._lock:
            target_offset = instant - datetime.now(UTC)
            if target_offset < self._offset:
                raise ValueError("the dev clock only moves forward")
            self._offset = target_offset
            tmp = self._file.with_suffix(
                ".tmp"
            )  # a kill mid-write must not leave a clock that cannot be read
            tmp.write_text(json.dumps({"offset_seconds": self._offset.total_seconds()}))
            os.replace(tmp, self._file)
        return self.now()

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta():
            raise ValueError("the dev clock only moves forward")
        return self.set(self.now() + delta)
