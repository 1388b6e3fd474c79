"""Every IANA time zone, and where each changes its clocks: for property tests over time zones.

`clock_changes(zone, year)` finds the instants a zone's UTC offset changes (daylight saving, a
government's change of standard time) by sampling each day and narrowing to the minute, so the tests do
not depend on a hand-written list and cover half-hour shifts (Australia/Lord_Howe), negative DST
(Europe/Dublin, whose tzdata winter time is the "daylight" one), 45-minute offsets (Asia/Kathmandu,
Pacific/Chatham) and zones that never change (Asia/Kolkata) alike.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

# The awkward ones, always in the sample a property draws from, on top of hypothesis's choice among all.
AWKWARD = (
    "Australia/Lord_Howe",  # DST of 30 minutes
    "Europe/Dublin",  # negative DST in tzdata
    "Africa/Casablanca",  # DST suspended each Ramadan
    "Pacific/Chatham",  # +12:45 / +13:45
    "Asia/Kathmandu",  # +05:45, no DST
    "America/St_Johns",  # -03:30 / -02:30
    "America/Santiago",  # southern hemisphere
    "Pacific/Apia",  # once skipped a whole day
)


@functools.cache
def all_zones() -> tuple[str, ...]:
    # Etc/GMT±N and the like are fixed offsets: kept, they are zones customers can be in too
    return tuple(sorted(z for z in available_timezones() if "/" in z or z == "UTC"))


def _offset(zone: ZoneInfo, instant: datetime) -> timedelta | None:
    return instant.astimezone(zone).utcoffset()


@functools.cache
def clock_changes(zone_name: str, year: int) -> tuple[datetime, ...]:
    """The UTC instants in `year` from which the zone's offset differs from the minute before."""
    zone = ZoneInfo(zone_name)
    changes = []
    day = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    while day < end:
        following = day + timedelta(days=1)
        if _offset(zone, day) != _offset(zone, following):
            low, high = day, following  # the offset changes in (low, high]
            while high - low > timedelta(minutes=1):
                middle = low + (high - low) / 2
                middle = middle.replace(second=0, microsecond=0)
                if middle <= low:
                    middle = low + timedelta(minutes=1)
                if _offset(zone, low) == _offset(zone, middle):
                    low = middle
                else:
                    high = middle
            changes.append(high)
        day = following
    return tuple(changes)


def change_days(zone_name: str, year: int) -> list[date]:
    """The local dates the zone changes its clocks on in `year` (none for a zone that does not)."""
    zone = ZoneInfo(zone_name)
    return sorted({instant.astimezone(zone).date() for instant in clock_changes(zone_name, year)})
