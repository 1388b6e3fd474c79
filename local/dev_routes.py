"""Routes that exist only on the local stack (never in the Lambda app): demo businesses and tokens, the
dev clock, the outbox of everything the system sent, and faults to inject into delivery."""

from __future__ import annotations

import base64
import html
import re
import urllib.parse
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import AwareDatetime, Field

from booking.domain.errors import FieldProblem, InvalidInput, NotFound
from booking.domain.types import Model
from local.clock import DevClock
from local.dispatcher import Dispatcher
from local.moto import sends
from local.outbox import Outbox
from local.persistence import LOCAL_PASSWORD
from local.seed import DemoBusiness

router = APIGatewayRouter()


@dataclass
class DevState:
    base_url: str
    cognito: Any
    user_pool_id: str
    client_id: str
    demo: list[DemoBusiness]
    clock: DevClock
    dispatcher: Dispatcher
    outbox: Outbox
    aws: Any
    queues: dict[str, str]  # the dead-letter queues: logical id -> URL
    handler: Any  # the reminders function's handler
    stripe_api_base: str = ""  # localstripe, where a test card pays as Stripe.js would


_state: DevState | None = None


def install(state: DevState) -> None:
    global _state  # noqa: PLW0603 - one dev server per process
    _state = state


def _current() -> DevState:
    if _state is None:
        raise RuntimeError("dev routes not installed")
    return _state


def _token(state: DevState, email: str) -> str:
    result = state.cognito.admin_initiate_auth(
        UserPoolId=state.user_pool_id,
        ClientId=state.client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": LOCAL_PASSWORD},
    )
    return str(result["AuthenticationResult"]["IdToken"])


@router.get("/dev/demo", include_in_schema=False)
def demo() -> dict[str, Any]:
    """The demo businesses with fresh ID tokens (valid one hour) for each role."""
    state = _current()
    return {
        "note": "Local stack only. Send a token as 'Authorization: Bearer <token>' to /v1/admin/*.",
        "password": LOCAL_PASSWORD,
        # Pay a checkout's client secret here with a test card (pm_card_visa), as Stripe.js would.
        "stripe_api_base": state.stripe_api_base,
        "businesses": [
            {
                "id": business.id,
                "slug": business.slug,
                "name": business.name,
                "public_services_url": f"{state.base_url}/v1/public/businesses/{business.slug}/services",
                "users": {
                    role: {"email": email, "token": _token(state, email)}
                    for role, email in business.users.items()
                },
            }
            for business in state.demo
        ],
    }


class ClockChange(Model):
    """Move the application's clock forward: to an instant, or by some minutes."""

    now: AwareDatetime | None = None
    advance_minutes: int | None = Field(default=None, ge=0, le=60 * 24 * 366)


def _clock_view(state: DevState) -> dict[str, Any]:
    return {"now": state.clock.now().isoformat(), "offset_seconds": state.clock.offset.total_seconds()}


@router.get("/dev/clock", include_in_schema=False)
def get_clock() -> dict[str, Any]:
    return _clock_view(_current())


@router.post("/dev/clock", include_in_schema=False)
def set_clock(change: ClockChange) -> dict[str, Any]:
    """Moves the clock, then runs the dispatcher once, so every reminder now due has fired on return."""
    state = _current()
    try:
        if change.now is not None:
            state.clock.set(change.now)
        elif change.advance_minutes is not None:
            state.clock.advance(timedelta(minutes=change.advance_minutes))
        else:
            raise ValueError("give 'now' or 'advance_minutes'")
    except ValueError as error:
        raise InvalidInput(str(error), [FieldProblem(("body",), str(error))]) from error
    state.dispatcher.run_once()
    return _clock_view(state)


class Faults(Model):
    """Faults for sends and stream batches, to watch delivery recover (local stack only). Each call
    replaces the faults set before."""

    refuse_sends_to: list[str] = Field(
        default_factory=list, max_length=20, description="SES/SNS refuse every send to these, as throttled"
    )
    crash_on_send_to: list[str] = Field(
        default_factory=list, max_length=20, description="the process dies as a send to one of these begins"
    )
    fail_stream_batches: int = Field(
        default=0, ge=0, le=100, description="this many stream batches fail, as a crashed function would"
    )


@router.post("/dev/faults", include_in_schema=False)
def set_faults(faults: Faults) -> dict[str, Any]:
    state = _current()
    sends.faults.refuse_to = set(faults.refuse_sends_to)
    sends.faults.crash_on_send_to = set(faults.crash_on_send_to)
    state.dispatcher.failing_batches = faults.fail_stream_batches
    return faults.model_dump()


class Redrive(Model):
    queue: str = Field(
        description="a dead-letter queue's logical id in the template, e.g. StreamFailureQueue"
    )
    dry_run: bool = False


@router.post("/dev/redrive", include_in_schema=False)
def redrive(request: Redrive) -> dict[str, Any]:
    """`ops/redrive.py` against the embedded AWS, invoking the reminders function in process."""
    from ops.redrive import redrive as replay

    state = _current()
    if request.queue not in state.queues:
        known = ", ".join(sorted(state.queues))
        raise InvalidInput(
            f"no such queue; known: {known}", [FieldProblem(("body", "queue"), "unknown queue")]
        )

    def invoke(event: dict[str, Any]) -> dict[str, Any] | None:
        from local.dispatcher import lambda_context

        result: dict[str, Any] | None = state.handler(event, lambda_context())
        return result

    outcome = replay(
        state.aws.client("sqs"),
        state.queues[request.queue],
        state.aws.client("dynamodbstreams"),
        invoke,
        dry_run=request.dry_run,
    )
    return {
        "replayed": outcome.replayed,
        "failed": [list(f) for f in outcome.failed],
        "unknown": outcome.unknown,
    }


@router.get("/dev/outbox.json", include_in_schema=False)
def outbox_json() -> dict[str, Any]:
    """Every email (with its attachments, e.g. the .ics) and SMS the system sent, newest first."""
    state = _current()
    state.dispatcher.run_once()
    return {"messages": state.outbox.entries()}


_URL = re.compile(r"https?://[^\s<>\"']+")


def _linked(text: str) -> str:
    """Escaped text with every URL a link (manage links, pay links, meeting links open from the outbox)."""
    escaped = html.escape(text)
    return _URL.sub(
        lambda m: f'<a href="{m.group(0)}" target="_blank" rel="noopener">{m.group(0)}</a>', escaped
    )


@router.get("/dev/outbox", include_in_schema=False)
def outbox_html() -> Response[str]:
    """Everything sent, newest first, readable: links clickable, each email's HTML and attachments (the
    calendar invite, the invoice's PDF) open in the browser."""
    state = _current()
    state.dispatcher.run_once()
    rows = []
    for entry in state.outbox.entries():
        at = datetime.fromisoformat(entry["at"]).strftime("%Y-%m-%d %H:%M:%S %Z")
        message = urllib.parse.quote(str(entry.get("id") or ""), safe="")
        if entry["channel"] == "sms":
            body = f"<p>{_linked(entry['text'])}</p>"
            title = "SMS"
        else:
            title = html.escape(entry.get("subject") or "")
            body = f"<pre>{_linked(entry.get('text') or '')}</pre>"
            opens = [f'<a href="/dev/outbox/{message}/html" target="_blank">the email as sent (HTML)</a>']
            opens += [
                f'<a href="/dev/outbox/{message}/attachments/{i}" target="_blank">'
                f"{html.escape(a.get('filename') or 'attachment')}</a> ({html.escape(a.get('content_type') or '')})"
                for i, a in enumerate(entry.get("attachments", []))
            ]
            body += (
                "<p class=opens>Open: " + " · ".join(opens) + "</p>"
                if entry.get("html") or len(opens) > 1
                else ""
            )
        to = html.escape(", ".join(entry.get("to", [])))
        rows.append(
            f"<section><h3>{html.escape(entry['channel'])}: {title}</h3>"
            f"<p class=meta>{at} · to {to}</p>{body}</section>"
        )
    page = (
        "<!doctype html><html><head><meta charset=utf-8><title>Outbox</title>"
        "<style>body{font-family:sans-serif;max-width:900px;margin:auto}section{border-bottom:1px solid #ddd}"
        ".meta{color:#666}pre{white-space:pre-wrap}</style></head><body>"
        f"<h1>Outbox</h1><p>Dev clock: {html.escape(state.clock.now().isoformat())}. Newest first.</p>"
        + ("".join(rows) or "<p>Nothing sent yet.</p>")
        + "</body></html>"
    )
    return Response(status_code=200, content_type="text/html; charset=utf-8", body=page)


def _sent(message_id: str) -> dict[str, Any]:
    found = next((e for e in _current().outbox.entries() if str(e.get("id")) == message_id), None)
    if found is None:
        raise NotFound(f"no message {message_id} in the outbox")
    return found


@router.get("/dev/outbox/<message_id>/html", include_in_schema=False)
def outbox_message_html(message_id: str) -> Response[str]:
    """One email's HTML part, as the customer's mail client would show it."""
    sent = _sent(message_id)
    body = sent.get("html") or f"<pre>{html.escape(sent.get('text') or '')}</pre>"
    return Response(status_code=200, content_type="text/html; charset=utf-8", body=body)


@router.get("/dev/outbox/<message_id>/attachments/<index>", include_in_schema=False)
def outbox_attachment(message_id: str, index: str) -> Response[bytes]:
    """One attachment as sent (an invite opens in a calendar app, an invoice's PDF in the browser)."""
    attachments = _sent(message_id).get("attachments", [])
    if not index.isdigit() or int(index) >= len(attachments):
        raise NotFound(f"no attachment {index} on message {message_id}")
    attachment = attachments[int(index)]
    content = (
        base64.b64decode(attachment["content_base64"])
        if attachment.get("content_base64")
        else str(attachment.get("content") or "").encode()
    )
    filename = str(attachment.get("filename") or "attachment").replace('"', "")
    return Response(
        status_code=200,
        content_type=str(attachment.get("content_type") or "application/octet-stream"),
        body=content,
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
        compress=False,
    )
