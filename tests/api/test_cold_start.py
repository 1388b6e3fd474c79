"""Cold starts: what importing a handler loads, what answering availability loads, and what the SnapStart
hooks prime and renew. Each case runs a handler in a fresh process against the embedded AWS
(local/lambda_lifecycle.py), since only a fresh interpreter shows what a cold start pays for. How long it
takes is measured in `make bench` (bench/cold_start.py), not here."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest

from local.lambda_lifecycle import run
from tests.support.booking_fixtures import MakeTenant, Spa, build_spa
from tests.support.lambda_api import proxy_event

HANDLERS = ("booking_api.handler", "reminders.handler", "meeting_links.handler", "webhooks.handler")
# What an import must not pay for: the AWS SDK, the models, the event handler, and what only some
# requests or messages need.
HEAVY = (
    "boto3",
    "botocore.session",  # Powertools imports the bare `botocore` package for its user agent: nothing more
    "botocore.client",
    "pydantic",
    "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.utilities.batch",
    "booking.domain.catalogue",
    "booking.services.messaging",
    "icalendar",
    "jinja2",
    "babel",
    "jwt",
)
ONLY_FOR_SOME_ROUTES = ("icalendar", "jinja2", "babel", "jwt")


def loaded(modules: list[str], *names: str) -> list[str]:
    return [m for m in modules if any(m == n or m.startswith(n + ".") for n in names)]


@pytest.fixture(scope="module")
def spa(container: Any, make_tenant: MakeTenant) -> Spa:
    return build_spa(container, make_tenant)


def availability_event(spa: Spa) -> dict[str, Any]:
    query = f"services={spa.services['swedish']}&staff=any&from={spa.day}&to={spa.day}&tz={quote('Europe/London')}"
    return proxy_event("GET", f"/v1/public/businesses/{spa.slug}/availability?{query}")


@pytest.mark.parametrize("handler", HANDLERS)
def test_importing_a_handler_loads_neither_the_sdk_nor_the_models_nor_any_route(handler: str) -> None:
    report = run({"handler": handler})
    imported = report["import"]["loaded"]
    assert loaded(imported, *HEAVY) == []
    assert loaded(imported, "aws_lambda_powertools.logging")  # what it does load: the logger


def test_a_cold_start_answers_availability_without_invites_templates_or_sessions(spa: Spa) -> None:
    report = run({"handler": "booking_api.handler", "events": [availability_event(spa)]})

    [answer] = report["copies"][0]["answers"]
    assert answer["result"]["statusCode"] == 200, answer["result"]["body"]
    assert json.loads(answer["result"]["body"])["days"][0]["slots"]
    everything = report["import"]["loaded"] + answer["loaded"]
    assert loaded(everything, "boto3", "pydantic", "booking.domain.catalogue")  # built on the first call
    assert loaded(everything, *ONLY_FOR_SOME_ROUTES) == []


def test_a_snapshot_of_the_api_holds_everything_and_each_restored_copy_renews_what_is_its_own(
    spa: Spa,
) -> None:
    from booking_api.app import LOADED_ON_DEMAND

    plan = {
        "handler": "booking_api.handler",
        "snapshot": True,
        "copies": 2,
        "events": [availability_event(spa)],
    }
    report = run(plan)

    primed = report["prime"]["loaded"]
    assert set(LOADED_ON_DEMAND) <= set(primed)
    assert loaded(primed, "booking_api.app", "boto3", "pydantic", "icalendar")
    first, second = report["copies"]
    for copy in (first, second):
        [answer] = copy["answers"]
        assert answer["result"]["statusCode"] == 200, answer["result"]["body"]
        assert loaded(answer["loaded"], "booking", "booking_api", *HEAVY) == []  # all in the snapshot
        assert copy["same_session"] is False  # its own credentials and connections
        assert copy["same_services"] is False  # its own clients, secret and (empty) catalogue cache
    assert first["random"] != second["random"]

    # The control: copies that skip the after-restore hooks share the snapshot's state.
    unrenewed = run({**plan, "renew": False, "events": []})
    first, second = unrenewed["copies"]
    assert first["random"] == second["random"]
    assert first["same_session"] is True and first["same_services"] is True


def test_a_snapshot_of_the_reminders_function_compiles_its_templates_and_each_copy_renews_its_services(
    spa: Spa,
) -> None:
    reminder = {
        "type": "reminder",
        "tenant_id": spa.tenant.id,
        "booking_id": "no-such-booking",
        "minutes_before": 60,
        "planned_start": "2030-01-01T09:00:00+00:00",
        "channels": ["email"],
    }
    report = run({"handler": "reminders.handler", "snapshot": True, "copies": 2, "events": [reminder]})

    primed = report["prime"]["loaded"]
    assert loaded(primed, "jinja2", "babel", "icalendar", "aws_lambda_powertools.utilities.batch")
    first, second = report["copies"]
    for copy in (first, second):
        [answer] = copy["answers"]
        assert answer["result"] == {"handled": "reminder"}
        assert loaded(answer["loaded"], "booking", "reminders", *HEAVY) == []
        assert copy["same_session"] is False
        assert copy["same_services"] is False
    assert first["random"] != second["random"]
