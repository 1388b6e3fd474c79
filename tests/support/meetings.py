"""Online bookings in the tests: a practice whose meeting provider is one of the local fakes, and running
the meeting-links state machine to the end as AWS would (executions run on moto's own thread)."""

from __future__ import annotations

import time
from typing import Any

from local.fakes.providers import DEMO_CREDENTIALS
from tests.support.lambda_api import LambdaApi
from tests.support.notification_fixtures import MakeTenant, Salon, build_salon
from tests.support.notification_wiring import Notifications


def online_practice(
    api: LambdaApi, make_tenant: MakeTenant, provider: str = "zoom", **settings: Any
) -> Salon:
    """A business offering one online service, its provider connected with the fake's credentials
    through the API (checked against the fake) and chosen in its settings."""
    practice = build_salon(
        api,
        make_tenant,
        service={"name": "Video consultation", "delivery_mode": "online"},
        name="Harbour Counselling",
        **settings,
    )
    token = practice.tenant.token()
    if provider in DEMO_CREDENTIALS:
        connected = api.put(
            f"/v1/admin/business/meeting-providers/{provider}",
            json_body=DEMO_CREDENTIALS[provider],
            token=token,
        )
        assert connected.status == 200, connected.text
    chosen = api.put(
        "/v1/admin/business", json_body=settings_of(api, token) | {"meeting_provider": provider}, token=token
    )
    assert chosen.status == 200, chosen.text
    return practice


def settings_of(api: LambdaApi, token: str) -> dict[str, Any]:
    """The business's settings as PUT /v1/admin/business takes them (without the server's own fields)."""
    business: dict[str, Any] = api.get("/v1/admin/business", token=token).json()
    return {k: v for k, v in business.items() if k not in ("id", "version", "created_at", "updated_at")}


def executions(notifications: Notifications, booking_id: str) -> list[dict[str, Any]]:
    sfn = notifications.aws.client("stepfunctions")
    arn = notifications.resources.state_machines["MeetingLinksStateMachine"]
    listed = sfn.list_executions(stateMachineArn=arn)["executions"]
    return [e for e in listed if e["name"].startswith(f"{booking_id}-v")]


def settle(notifications: Notifications, booking_id: str, timeout: float = 30.0) -> list[dict[str, Any]]:
    """Delivers the stream and lets every meeting-links execution of the booking finish, until nothing is
    left to do; returns what was sent since the test began."""
    deadline = time.monotonic() + timeout
    while True:
        notifications.deliver()
        running = [e for e in executions(notifications, booking_id) if e["status"] == "RUNNING"]
        if not running:
            notifications.deliver()  # what the executions wrote
            if not [e for e in executions(notifications, booking_id) if e["status"] == "RUNNING"]:
                return notifications.sent()
        if time.monotonic() > deadline:
            raise AssertionError(f"meeting-links executions still running: {running}")
        time.sleep(0.05)


def history(notifications: Notifications, execution_arn: str) -> list[dict[str, Any]]:
    sfn = notifications.aws.client("stepfunctions")
    events: list[dict[str, Any]] = sfn.get_execution_history(executionArn=execution_arn)["events"]
    return events
