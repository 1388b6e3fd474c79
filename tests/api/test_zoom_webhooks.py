"""Zoom's signed event notifications reach the webhooks function (invoked as API Gateway would, against
the embedded AWS): the business stores its app's secret token through the admin API, a booking gets its
meeting from the local Zoom fake on the meeting-links state machine, and requests signed here with real
HMACs record that the call took place in the booking's history, once. Unsigned, wrongly signed and stale
requests change nothing, and one business's URL never reaches another's bookings."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

import pytest

from booking.adapters.secrets_manager import REFRESH_SECONDS
from local.auth import CognitoIdTokenVerifier
from local.fakes.providers import DEMO_CREDENTIALS, MeetingFakes
from local.lambda_lifecycle import run
from tests.support.lambda_api import ApiResponse, LambdaApi, proxy_event
from tests.support.meetings import online_practice, settle
from tests.support.notification_fixtures import MakeTenant, Salon, book, new_customer
from tests.support.notification_wiring import Notifications

SIGNATURE_PROBLEM = "urn:booking:problem:invalid-webhook-signature"


@pytest.fixture(scope="module")
def hooks(api: LambdaApi, verifier: CognitoIdTokenVerifier) -> LambdaApi:
    """The webhooks function's handler, built (on its first invocation) from the embedded AWS."""
    from webhooks import handler

    return LambdaApi(handler.lambda_handler, verifier)


def connect_zoom(api: LambdaApi, practice: Salon, secret: str | None) -> None:
    body = DEMO_CREDENTIALS["zoom"] | ({"webhook_secret_token": secret} if secret else {})
    response = api.put(
        "/v1/admin/business/meeting-providers/zoom", json_body=body, token=practice.tenant.token()
    )
    assert response.status == 200, response.text
    assert secret is None or secret not in response.text  # write-only


@pytest.fixture(scope="module")
def practice(api: LambdaApi, make_tenant: MakeTenant) -> tuple[Salon, str]:
    """A practice on Zoom whose credentials carry its app's webhook secret token."""
    practice = online_practice(api, make_tenant, "zoom", booking_window_days=365)
    secret = "wh-" + secrets.token_urlsafe(16)
    connect_zoom(api, practice, secret)
    return practice, secret


@pytest.fixture(scope="module")
def other_practice(api: LambdaApi, make_tenant: MakeTenant) -> tuple[Salon, str]:
    practice = online_practice(api, make_tenant, "zoom", booking_window_days=365)
    secret = "wh-" + secrets.token_urlsafe(16)
    connect_zoom(api, practice, secret)
    return practice, secret


@pytest.fixture
def zoom(meeting_fakes: MeetingFakes) -> Any:
    meeting_fakes.zoom.clear_faults()
    return meeting_fakes.zoom


def headers_for(body: str, secret: str, at: float | None = None) -> dict[str, str]:
    """Zoom's headers for `body`: x-zm-signature = v0= + hex HMAC-SHA256(secret, v0:<timestamp>:<body>)."""
    timestamp = str(int(time.time() if at is None else at))
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Zoom Marketplace/1.0a",
        "x-zm-request-timestamp": timestamp,
        "x-zm-signature": f"v0={digest}",
        "x-zm-trackingid": "v=2.0;clid=aw1;rid=" + secrets.token_hex(8),
    }


def deliver(
    hooks: LambdaApi, tenant_id: str, event: dict[str, Any] | str, secret: str, at: float | None = None
) -> ApiResponse:
    body = event if isinstance(event, str) else json.dumps(event)
    headers = headers_for(body, secret, at)
    return hooks.post(f"/v1/webhooks/zoom/{tenant_id}", raw_body=body, headers=headers)


def meeting_event(kind: str, meeting_id: str | int, **times: str) -> dict[str, Any]:
    """A meeting.started or meeting.ended event as Zoom sends it, for one new instance of the meeting."""
    return {
        "event": kind,
        "event_ts": int(time.time() * 1000),
        "payload": {
            "account_id": DEMO_CREDENTIALS["zoom"]["account_id"],
            "object": {
                "id": meeting_id,
                "uuid": base64.b64encode(secrets.token_bytes(16)).decode(),
                "host_id": "z8yCxjabR7uGqR2Lqo4rUw",
                "topic": "Video consultation with Harbour Counselling",
                "type": 2,
                "duration": 60,
                "timezone": "Europe/London",
                **times,
            },
        },
    }


def ended(started: dict[str, Any], end_time: str) -> dict[str, Any]:
    """The meeting.ended of the same instance."""
    event: dict[str, Any] = json.loads(json.dumps(started))
    event["event"] = "meeting.ended"
    event["event_ts"] = started["event_ts"] + 50 * 60_000
    event["payload"]["object"]["end_time"] = end_time
    return event


def online_booking(
    notifications: Notifications, practice: Salon, zoom: Any, days_ahead: int
) -> tuple[str, str]:
    """A booking whose Zoom meeting the state machine made at the fake; its id and the meeting's id."""
    booking = book(
        notifications.api, practice, practice.at(practice.day(days_ahead), "10:00"), new_customer()
    )
    settle(notifications, booking["id"])
    meeting = notifications.detail(practice, booking["id"])["meeting"]
    assert meeting["status"] == "ready", meeting
    [meeting_id] = [i for i, m in zoom.meetings.items() if m["join_url"] == meeting["join_url"]]
    return booking["id"], meeting_id


def history(notifications: Notifications, practice: Salon, booking_id: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = notifications.detail(practice, booking_id)["history"]
    return entries


def zoom_entries(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in entries if e["actor"]["id"] == "zoom"]


def test_zoom_validates_the_endpoint_with_the_businesss_secret_token(
    hooks: LambdaApi, practice: tuple[Salon, str]
) -> None:
    salon, secret = practice
    plain = secrets.token_urlsafe(16)
    event = {
        "payload": {"plainToken": plain},
        "event_ts": int(time.time() * 1000),
        "event": "endpoint.url_validation",
    }

    response = deliver(hooks, salon.tenant.id, event, secret)

    assert response.status == 200, response.text
    assert response.header("Content-Type") == "application/json"
    expected = hmac.new(secret.encode(), plain.encode(), hashlib.sha256).hexdigest()
    assert response.json() == {"plainToken": plain, "encryptedToken": expected}


def test_a_call_that_took_place_shows_in_the_booking_history_once(
    notifications: Notifications, hooks: LambdaApi, practice: tuple[Salon, str], zoom: Any
) -> None:
    salon, secret = practice
    booking_id, meeting_id = online_booking(notifications, salon, zoom, 3)
    before = history(notifications, salon, booking_id)
    started = meeting_event("meeting.started", meeting_id, start_time="2030-03-04T10:01:07Z")

    first = deliver(hooks, salon.tenant.id, started, secret)
    assert (first.status, first.json()) == (200, {"status": "recorded"})
    finished = ended(started, end_time="2030-03-04T10:52:31Z")
    assert deliver(hooks, salon.tenant.id, finished, secret).json() == {"status": "recorded"}

    after = history(notifications, salon, booking_id)
    assert after[: len(before)] == before  # nothing else about the booking changed
    detail = notifications.detail(salon, booking_id)
    assert detail["status"] == "confirmed" and detail["meeting"]["status"] == "ready"
    [start_entry, end_entry] = zoom_entries(after)
    assert start_entry["action"] == "meeting_started"
    assert start_entry["actor"] == {"kind": "system", "id": "zoom", "on_behalf_of": None}
    assert start_entry["details"] == {"provider": "zoom", "started_at": "2030-03-04T10:01:07Z"}
    assert end_entry["action"] == "meeting_ended"
    assert end_entry["details"] == {
        "provider": "zoom",
        "started_at": "2030-03-04T10:01:07Z",
        "ended_at": "2030-03-04T10:52:31Z",
        "minutes": "51",
    }

    # Zoom's retry (a fresh timestamp and signature, the same event) and a replay of the very request
    # are answered 200 and add nothing.
    body = json.dumps(started)
    replayed_headers = headers_for(body, secret)
    for _ in range(2):
        again = hooks.post(f"/v1/webhooks/zoom/{salon.tenant.id}", raw_body=body, headers=replayed_headers)
        assert (again.status, again.json()) == (200, {"status": "duplicate"})
    retried = deliver(hooks, salon.tenant.id, finished, secret)
    assert (retried.status, retried.json()) == (200, {"status": "duplicate"})
    assert history(notifications, salon, booking_id) == after


def unverified(event: dict[str, Any], secret: str) -> dict[str, tuple[str, dict[str, str]]]:
    """The same event delivered in ways that prove nothing: each a body and its headers."""
    body = json.dumps(event)
    good = headers_for(body, secret)
    stale = headers_for(body, secret, at=time.time() - 600)
    return {
        "bad signature": (body, {**good, "x-zm-signature": "v0=" + "ab" * 32}),
        "another secret": (body, headers_for(body, "wh-someone-elses-token")),
        "body altered after signing": (body.replace('"meeting.', '"meeting. '), good),
        "ten minutes old": (body, stale),
        "no signature": (body, {k: v for k, v in good.items() if k != "x-zm-signature"}),
        "no timestamp": (body, {k: v for k, v in good.items() if k != "x-zm-request-timestamp"}),
    }


def test_requests_not_signed_by_the_businesss_app_now_are_refused_and_change_nothing(
    notifications: Notifications, hooks: LambdaApi, practice: tuple[Salon, str], zoom: Any
) -> None:
    salon, secret = practice
    booking_id, meeting_id = online_booking(notifications, salon, zoom, 5)
    before = history(notifications, salon, booking_id)
    event = meeting_event("meeting.started", meeting_id, start_time="2030-03-04T10:00:00Z")

    for case, (body, headers) in unverified(event, secret).items():
        refused = hooks.post(f"/v1/webhooks/zoom/{salon.tenant.id}", raw_body=body, headers=headers)
        assert refused.status == 401, case
        assert refused.header("Content-Type") == "application/problem+json", case
        problem = refused.json()
        assert (problem["type"], problem["status"]) == (SIGNATURE_PROBLEM, 401), case
    assert history(notifications, salon, booking_id) == before

    # nothing was remembered of them either: the genuine delivery of the same event is recorded
    assert deliver(hooks, salon.tenant.id, event, secret).json() == {"status": "recorded"}
    assert [e["action"] for e in zoom_entries(history(notifications, salon, booking_id))] == [
        "meeting_started"
    ]


def test_a_rotated_secret_token_is_honoured_at_once(
    api: LambdaApi, hooks: LambdaApi, make_tenant: MakeTenant
) -> None:
    practice = online_practice(api, make_tenant, "zoom")
    old, new = ("wh-" + secrets.token_urlsafe(16) for _ in range(2))
    connect_zoom(api, practice, old)
    event = {"event": "endpoint.url_validation", "payload": {"plainToken": "abc"}}
    assert deliver(hooks, practice.tenant.id, event, old).status == 200  # the webhooks function caches it
    connect_zoom(api, practice, new)  # rotated in the app and saved through the API (another function)
    time.sleep(REFRESH_SECONDS)  # a fresh read is made at most this often per secret
    assert deliver(hooks, practice.tenant.id, event, new).status == 200  # read afresh before refusing
    assert deliver(hooks, practice.tenant.id, event, old).status == 401


def test_an_unknown_business_or_one_without_a_webhook_secret_is_404(
    api: LambdaApi, hooks: LambdaApi, make_tenant: MakeTenant
) -> None:
    event = {"event": "endpoint.url_validation", "payload": {"plainToken": "abc"}}
    for tenant_id in ("01J0000000000000000000NONE", "no%2Fsuch", "a" * 65):
        missing = deliver(hooks, tenant_id, event, "any-secret")
        assert missing.status == 404, tenant_id
        assert missing.header("Content-Type") == "application/problem+json"
        assert missing.json()["type"] == "urn:booking:problem:not-found"

    without_secret = make_tenant()
    connected = api.put(
        "/v1/admin/business/meeting-providers/zoom",
        json_body=DEMO_CREDENTIALS["zoom"],
        token=without_secret.token(),
    )
    assert connected.status == 200, connected.text
    assert deliver(hooks, without_secret.id, event, "any-secret").status == 404


def test_a_signed_body_that_is_not_json_is_400(hooks: LambdaApi, practice: tuple[Salon, str]) -> None:
    salon, secret = practice
    for body in (
        "{not json",
        '["meeting.started"]',
        '{"event": "meeting.started", "payload": {"object": {}}}',
    ):
        response = deliver(hooks, salon.tenant.id, body, secret)
        assert response.status == 400, body
        assert response.json()["type"] == "urn:booking:problem:malformed-event"
    # ... but unsigned, it is a 401 like any other unsigned request: nothing is read before the signature
    unsigned = hooks.post(f"/v1/webhooks/zoom/{salon.tenant.id}", raw_body="{not json", headers={})
    assert unsigned.status == 401


def test_one_businesss_url_never_reaches_another_businesss_bookings(
    notifications: Notifications,
    hooks: LambdaApi,
    practice: tuple[Salon, str],
    other_practice: tuple[Salon, str],
    zoom: Any,
) -> None:
    salon, secret = practice
    other, other_secret = other_practice
    their_booking, their_meeting = online_booking(notifications, other, zoom, 4)
    before = history(notifications, other, their_booking)
    event = meeting_event("meeting.started", their_meeting, start_time="2030-03-04T10:00:00Z")

    # signed by this business's app, about the other's meeting: no meeting of this business, nothing done
    mine = deliver(hooks, salon.tenant.id, event, secret)
    assert (mine.status, mine.json()) == (200, {"status": "unknown_meeting"})
    # signed by the other business's app, sent to this business's URL: not this business's app
    assert deliver(hooks, salon.tenant.id, event, other_secret).status == 401
    assert history(notifications, other, their_booking) == before

    # through its own URL, the other business records it (the first delivery did not mark it as seen there)
    theirs = deliver(hooks, other.tenant.id, event, other_secret)
    assert theirs.json() == {"status": "recorded"}
    assert len(zoom_entries(history(notifications, other, their_booking))) == 1


def test_events_for_no_booking_or_of_other_kinds_are_answered_and_ignored(
    notifications: Notifications, hooks: LambdaApi, practice: tuple[Salon, str], zoom: Any
) -> None:
    salon, secret = practice
    booking_id, meeting_id = online_booking(notifications, salon, zoom, 6)

    unknown = deliver(hooks, salon.tenant.id, meeting_event("meeting.started", 89999999999), secret)
    assert (unknown.status, unknown.json()) == (200, {"status": "unknown_meeting"})
    joined = meeting_event("meeting.participant_joined", meeting_id)
    joined["payload"]["object"]["participant"] = {"user_name": "Ada", "email": "ada@customers.example"}
    other_kind = deliver(hooks, salon.tenant.id, joined, secret)
    assert (other_kind.status, other_kind.json()) == (200, {"status": "ignored"})
    assert zoom_entries(history(notifications, salon, booking_id)) == []

    # a meeting the booking no longer has (replaced by a link pasted by staff) is not its call
    replaced = notifications.api.put(
        f"/v1/admin/bookings/{booking_id}/meeting",
        json_body={"join_url": "https://meet.example.com/room-42"},
        token=salon.tenant.token(),
    )
    assert replaced.status == 200, replaced.text
    late = deliver(hooks, salon.tenant.id, meeting_event("meeting.started", meeting_id), secret)
    assert late.json() == {"status": "unknown_meeting"}
    assert zoom_entries(history(notifications, salon, booking_id)) == []


def test_other_providers_paths(hooks: LambdaApi) -> None:
    # Stripe's events are accepted only at a business's own address, once it connected its Stripe account
    stripe = hooks.post(
        "/v1/webhooks/stripe/01NOSUCHTENANT", raw_body="{}", headers={"Stripe-Signature": "t=1,v1=00"}
    )
    assert (stripe.status, stripe.json()["type"]) == (404, "urn:booking:problem:not-found")
    for path in (
        "/v1/webhooks/teams/abc",
        "/v1/webhooks/zoom",
        "/v1/webhooks/zoom/a/b",
        "/v1/webhooks/stripe",
    ):
        unknown = hooks.post(path, raw_body="{}")
        assert (unknown.status, unknown.header("Content-Type")) == (404, "application/problem+json"), path


def test_webhooks_are_only_posted(hooks: LambdaApi, practice: tuple[Salon, str]) -> None:
    salon, _ = practice
    for method in ("GET", "PUT", "OPTIONS"):
        refused = hooks.request(method, f"/v1/webhooks/zoom/{salon.tenant.id}")
        assert (refused.status, refused.header("Content-Type")) == (405, "application/problem+json"), method
        assert refused.json()["type"] == "urn:booking:problem:method-not-allowed"


def test_the_local_server_hands_webhooks_to_the_webhooks_function(practice: tuple[Salon, str]) -> None:
    """`make dev` serves POST /v1/webhooks/... as API Gateway does: the raw request to the webhooks
    function (no body checks of the API's own), its answer back as it is."""
    from local.devserver import LocalHttpResolver

    salon, secret = practice
    plain = secrets.token_urlsafe(12)
    body = json.dumps({"event": "endpoint.url_validation", "payload": {"plainToken": plain}}).encode()
    headers = headers_for(body.decode(), secret)
    scope = {
        "type": "http",
        "method": "POST",
        "path": f"/v1/webhooks/zoom/{salon.tenant.id}",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(LocalHttpResolver(enable_validation=True)(scope, receive, send))

    start, answer = sent
    assert start["status"] == 200
    expected = hmac.new(secret.encode(), plain.encode(), hashlib.sha256).hexdigest()
    assert json.loads(answer["body"]) == {"plainToken": plain, "encryptedToken": expected}


def test_a_snapshot_of_the_webhooks_function_is_ready_and_each_copy_renews_its_services(
    practice: tuple[Salon, str],
) -> None:
    salon, secret = practice
    body = json.dumps({"event": "endpoint.url_validation", "payload": {"plainToken": "p"}})
    event = proxy_event(
        "POST", f"/v1/webhooks/zoom/{salon.tenant.id}", raw_body=body, headers=headers_for(body, secret)
    )
    report = run({"handler": "webhooks.handler", "snapshot": True, "copies": 2, "events": [event]})

    assert "booking.services.zoom_webhooks" in report["prime"]["loaded"]
    for copy in report["copies"]:
        [answer] = copy["answers"]
        assert answer["result"]["statusCode"] == 200, answer["result"]["body"]
        assert [
            m for m in answer["loaded"] if m.startswith(("booking", "webhooks", "pydantic", "boto3"))
        ] == []
        assert copy["same_session"] is False
        assert copy["same_services"] is False  # its own clients and secrets cache
