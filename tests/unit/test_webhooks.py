"""Zoom's signed event notifications, the pure part (booking.domain.webhooks): the signature and its
freshness, the endpoint check, and what an event is known by and recorded as."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest

from booking.domain.webhooks import (
    MalformedEvent,
    SignatureRejected,
    event_key,
    meeting_history_entry,
    meeting_of,
    parse_zoom_event,
    url_validation_answer,
    verify_zoom_request,
    zoom_signature,
)

SECRET = "wh-secret-token-of-the-app"
NOW = datetime(2030, 3, 4, 10, 0, tzinfo=UTC)
BODY = json.dumps(
    {
        "event": "meeting.started",
        "event_ts": 1_900_000_000_123,
        "payload": {
            "account_id": "acc",
            "object": {
                "id": "81234567890",
                "uuid": "4444AAAiAAAAAiAiAiiAii==",
                "start_time": "2030-03-04T10:00:02Z",
            },
        },
    }
).encode()


def signed(body: bytes = BODY, secret: str = SECRET, at: datetime = NOW) -> dict[str, str]:
    """Headers as Zoom sends them, computed here from Zoom's documented recipe (not with the code under test)."""
    timestamp = str(int(at.timestamp()))
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
    return {"x-zm-request-timestamp": timestamp, "x-zm-signature": f"v0={digest}"}


def test_a_request_signed_with_the_secret_now_is_accepted_whatever_the_header_case() -> None:
    headers = signed()
    verify_zoom_request(SECRET, headers, BODY, NOW)
    verify_zoom_request(SECRET, {k.upper(): v for k, v in headers.items()}, BODY, NOW)
    assert zoom_signature(SECRET, headers["x-zm-request-timestamp"], BODY) == headers["x-zm-signature"]


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        pytest.param(signed(secret="another app's secret"), BODY, id="another secret"),
        pytest.param(signed(), BODY.replace(b"81234567890", b"81234567891"), id="body changed"),
        pytest.param({**signed(), "x-zm-signature": "v0=" + "0" * 64}, BODY, id="wrong signature"),
        pytest.param(
            {**signed(), "x-zm-signature": signed()["x-zm-signature"][3:]}, BODY, id="no v0= prefix"
        ),
        pytest.param({**signed(), "x-zm-signature": "v0=é"}, BODY, id="not ascii"),
        pytest.param({"x-zm-request-timestamp": signed()["x-zm-request-timestamp"]}, BODY, id="no signature"),
        pytest.param({"x-zm-signature": signed()["x-zm-signature"]}, BODY, id="no timestamp"),
        pytest.param({}, BODY, id="no headers"),
        pytest.param({**signed(), "x-zm-request-timestamp": "soon"}, BODY, id="timestamp not a number"),
        pytest.param(signed(at=NOW - timedelta(minutes=10)), BODY, id="10 minutes old"),
        pytest.param(signed(at=NOW + timedelta(minutes=10)), BODY, id="10 minutes ahead"),
    ],
)
def test_unsigned_wrongly_signed_or_stale_requests_are_rejected(headers: dict[str, str], body: bytes) -> None:
    with pytest.raises(SignatureRejected) as refused:
        verify_zoom_request(SECRET, headers, body, NOW)
    assert refused.value.kind == "invalid-webhook-signature"


def test_five_minutes_either_way_is_still_fresh() -> None:
    verify_zoom_request(SECRET, signed(at=NOW - timedelta(seconds=300)), BODY, NOW)
    verify_zoom_request(SECRET, signed(at=NOW + timedelta(seconds=300)), BODY, NOW)
    with pytest.raises(SignatureRejected):
        verify_zoom_request(SECRET, signed(at=NOW - timedelta(seconds=301)), BODY, NOW)


def test_the_endpoint_check_is_answered_with_the_hmac_of_the_plain_token() -> None:
    event = parse_zoom_event(
        b'{"event": "endpoint.url_validation", "payload": {"plainToken": "qgg8vlvZRS6UYooatFL8Aw"}}'
    )
    answer = url_validation_answer(SECRET, event)
    expected = hmac.new(SECRET.encode(), b"qgg8vlvZRS6UYooatFL8Aw", hashlib.sha256).hexdigest()
    assert answer == {"plainToken": "qgg8vlvZRS6UYooatFL8Aw", "encryptedToken": expected}
    with pytest.raises(MalformedEvent):
        url_validation_answer(
            SECRET, parse_zoom_event(b'{"event": "endpoint.url_validation", "payload": {}}')
        )


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"payload": {}}', b'{"event": ""}', b""])
def test_a_body_that_is_not_a_zoom_event_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedEvent):
        parse_zoom_event(body)


def test_a_meeting_event_without_its_meeting_is_malformed() -> None:
    with pytest.raises(MalformedEvent):
        meeting_of(parse_zoom_event(b'{"event": "meeting.started", "payload": {"object": {"uuid": "x"}}}'))


def test_an_event_is_known_by_its_type_time_and_meeting_instance_not_by_its_bytes() -> None:
    event = parse_zoom_event(BODY)
    same = json.loads(BODY)
    same["payload"]["object"]["id"] = 81234567890  # older payloads: the id as a number
    same["payload"]["account_id"] = "reordered"
    assert event_key(parse_zoom_event(json.dumps(same, indent=2).encode())) == event_key(event)
    assert meeting_of(parse_zoom_event(json.dumps(same).encode())).id == "81234567890"

    ended = {**json.loads(BODY), "event": "meeting.ended"}
    later = {**json.loads(BODY), "event_ts": 1_900_000_999_000}
    another_instance = json.loads(BODY)
    another_instance["payload"]["object"]["uuid"] = "another-instance=="
    keys = {event_key(parse_zoom_event(json.dumps(e).encode())) for e in (ended, later, another_instance)}
    assert len(keys) == 3 and event_key(event) not in keys


def test_the_history_entry_says_when_the_call_took_place_and_for_how_long() -> None:
    ended = parse_zoom_event(
        json.dumps(
            {
                "event": "meeting.ended",
                "event_ts": int(datetime(2030, 3, 4, 10, 52, 1, tzinfo=UTC).timestamp() * 1000),
                "payload": {
                    "object": {
                        "id": 81234567890,
                        "uuid": "u",
                        "start_time": "2030-03-04T10:02:00Z",
                        "end_time": "2030-03-04T10:51:40Z",
                    }
                },
            }
        ).encode()
    )
    entry = meeting_history_entry(ended, meeting_of(ended), NOW)
    assert (entry.actor.kind, entry.actor.id, entry.action) == ("system", "zoom", "meeting_ended")
    assert entry.at == datetime(2030, 3, 4, 10, 52, 1, tzinfo=UTC)  # Zoom's time, not when it arrived
    assert entry.details == {
        "provider": "zoom",
        "started_at": "2030-03-04T10:02:00Z",
        "ended_at": "2030-03-04T10:51:40Z",
        "minutes": "50",
    }

    started = parse_zoom_event(BODY)
    entry = meeting_history_entry(started, meeting_of(started), NOW)
    assert entry.action == "meeting_started"
    assert entry.details == {"provider": "zoom", "started_at": "2030-03-04T10:00:02Z"}
    assert entry.at == datetime.fromtimestamp(1_900_000_000.123, UTC)
