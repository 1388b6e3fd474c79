"""Booking the demo spa of a running local stack over HTTP, as a customer's widget would."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.support.local_stack import LocalStack
from tests.support.notification_fixtures import Customer

SPA = "serenity-spa"
LONDON = ZoneInfo("Europe/London")


def spa_of(stack: LocalStack) -> dict[str, Any]:
    """The seeded spa: its id, an owner token, and its services by name."""
    demo = {b["slug"]: b for b in stack.json("GET", "/dev/demo")["businesses"]}[SPA]
    menu = stack.json("GET", f"/v1/public/businesses/{SPA}/services")
    services = {s["name"]: s["id"] for section in menu["categories"] for s in section["services"]}
    return {"id": demo["id"], "owner": demo["users"]["owner"]["token"], "services": services}


def free_slots(stack: LocalStack, spa: dict[str, Any], after: datetime, staff: str = "any") -> list[datetime]:
    """The bookable starts of a Swedish massage in the ten days from `after` (by the stack's
    availability), with `staff` (a staff id) or anyone."""
    first = after.astimezone(LONDON).date()
    availability = stack.json(
        "GET",
        f"/v1/public/businesses/{SPA}/availability",
        params={
            "services": spa["services"]["Swedish massage"],
            "from": first.isoformat(),
            "to": (first + timedelta(days=10)).isoformat(),
            "tz": "Europe/London",
            "staff": staff,
        },
    )
    starts = [datetime.fromisoformat(s["start"]) for day in availability["days"] for s in day["slots"]]
    return [start for start in starts if start >= after]


def free_slot(stack: LocalStack, spa: dict[str, Any], after: datetime, staff: str = "any") -> datetime:
    """The first bookable start of a Swedish massage at or after `after`."""
    starts = free_slots(stack, spa, after, staff)
    if not starts:
        pytest.fail(f"no free Swedish massage in the ten days from {after:%Y-%m-%d}")
    return starts[0]


def book(stack: LocalStack, spa: dict[str, Any], start: datetime, customer: Customer) -> dict[str, Any]:
    booking: dict[str, Any] = stack.json(
        "POST",
        f"/v1/public/businesses/{SPA}/bookings",
        status=201,
        json={
            "services": [spa["services"]["Swedish massage"]],
            "start": start.isoformat(),
            "customer": customer.body(),
        },
        headers={"Idempotency-Key": secrets.token_hex(8)},
    )
    return booking
