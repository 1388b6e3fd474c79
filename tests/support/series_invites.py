"""Reading a series' calendar invite as calendars do: every instance a client shows, with its own time and
properties. ical.js (the parser inside Thunderbird and many web calendars) expands it under node, in a zone
far from the business's; icalendar parses it in Python, its rule expanded with dateutil and each instance
taken from its override (RECURRENCE-ID) where there is one, as RFC 5545 says."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime
from typing import Any

import icalendar
from dateutil.rrule import rruleset, rrulestr

from tests.support.notification_fixtures import NODE, NODE_TZ, REPO

EXPAND_SCRIPT = REPO / "tests" / "js" / "expand_ics.mjs"


def expand_with_icaljs(ics: bytes | str) -> dict[str, Any]:
    """{method, masters, rrule, exdates, instances: [{uid, recurrence_id, start, end, url, ...}]}."""
    data = ics.decode() if isinstance(ics, bytes) else ics
    if not (REPO / "tests" / "js" / "node_modules" / "ical.js").is_dir():
        raise AssertionError("ical.js is not installed: run `make test` (or `cd tests/js && npm ci`)")
    result = subprocess.run(
        [NODE, str(EXPAND_SCRIPT)],
        input=data,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={**os.environ, "TZ": NODE_TZ},
    )
    assert result.returncode == 0, f"ical.js could not read the invite:\n{result.stderr}\n{data}"
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def expand_with_icalendar(ics: bytes | str) -> list[dict[str, Any]]:
    """Each instance (start and end in UTC, uid, url, location, description, status, sequence), soonest
    first: the recurring event's rule and EXDATEs expanded, overrides in place of the instances they name."""
    calendar = icalendar.Calendar.from_ical(ics)
    events = list(calendar.walk("VEVENT"))
    masters = [e for e in events if "RECURRENCE-ID" not in e]
    overrides = {_utc(e.decoded("RECURRENCE-ID")): e for e in events if "RECURRENCE-ID" in e}
    assert len(masters) <= 1, f"expected at most one event without RECURRENCE-ID, found {len(masters)}"
    if not masters:
        return [_seen(e) for e in overrides.values()]
    master = masters[0]
    rules = rruleset()
    rule = master["RRULE"].to_ical()
    text = rule.decode() if isinstance(rule, bytes) else str(rule)
    rules.rrule(rrulestr(text, dtstart=master.decoded("DTSTART")))
    exdates = master.get("EXDATE", [])
    for listed in exdates if isinstance(exdates, list) else [exdates]:
        for value in listed.dts:
            rules.exdate(value.dt)
    instances = []
    for instance in rules:
        event = overrides.pop(_utc(instance), None)
        if event is None:
            duration = master.decoded("DTEND") - master.decoded("DTSTART")
            instances.append(_seen(master) | {"start": _utc(instance), "end": _utc(instance + duration)})
        else:
            instances.append(_seen(event))
    assert not overrides, f"overrides that name no instance of the rule: {sorted(overrides)}"
    return instances


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _seen(event: icalendar.Component) -> dict[str, Any]:
    return {
        "uid": str(event["UID"]),
        "recurrence_id": _utc(event.decoded("RECURRENCE-ID")) if "RECURRENCE-ID" in event else None,
        "start": _utc(event.decoded("DTSTART")),
        "end": _utc(event.decoded("DTEND")),
        "url": str(event["URL"]) if "URL" in event else None,
        "location": str(event.get("LOCATION", "")),
        "description": str(event.get("DESCRIPTION", "")),
        "status": str(event.get("STATUS", "")),
        "sequence": int(event.decoded("SEQUENCE")),
        "attendee": str(event["ATTENDEE"]),
    }
