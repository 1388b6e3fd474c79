"""`make dev`: the whole product on 127.0.0.1 with no AWS account, no Docker and no network.

Starts the embedded AWS, provisions it from infra/template.yaml, restores the data directory (or seeds
the demo on first start), and serves the same routers as the Lambda handler through Powertools' ASGI
HttpResolver under uvicorn. `POST /v1/webhooks/...` goes, as on AWS, to the webhooks function: its
handler is invoked with the API Gateway proxy event of the request, raw body and all.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import logging
import os
import secrets
import signal
import sys
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qsl

import uvicorn
from aws_lambda_powertools.event_handler import HttpResolver
from aws_lambda_powertools.event_handler.http_resolver import MockLambdaContext

from booking_api.bodies import body_problem, lambda_response
from local.auth import CognitoIdTokenVerifier
from local.aws import EmbeddedAws
from local.clock import DevClock
from local.dispatcher import DeadLetters, Dispatcher
from local.fakes.providers import MeetingFakes, start_fakes
from local.moto import sends
from local.outbox import Outbox
from local.persistence import Store
from local.seed import load_manifest, seed
from local.stripe_clock import StripeClock
from local.stripe_server import StripeServer, start_stripe
from local.template import reminders_failure_handling

if TYPE_CHECKING:
    from booking.services.payments.checkout import Checkout
    from local.seed import DemoBusiness


class LocalHttpResolver(HttpResolver):
    """Powertools' ASGI resolver, with two fixes for serving many requests at once:

    - it runs each sync middleware in a worker thread that blocks until the rest of the chain is done, so
      a request holds several threads; with the event loop's small default pool, a handful of
      simultaneous requests took every thread and waited on each other for ever. Requests are admitted a
      bounded number at a time, onto a pool larger than they can ever need together;
    - it passes a route's empty body (a 204) on as None, which the ASGI server cannot send.
    """

    MAX_CONCURRENT_REQUESTS = 16
    THREADS = MAX_CONCURRENT_REQUESTS * 8  # each request holds at most a few threads at once

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._admission: asyncio.Semaphore | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:  # type: ignore[override]
        if self._admission is None:
            asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(self.THREADS, "request"))
            self._admission = asyncio.Semaphore(self.MAX_CONCURRENT_REQUESTS)
        if scope.get("type") != "http":
            await super().__call__(scope, receive, send)
            return
        async with self._admission:
            # As the Lambda handler does, the body is checked before any route (see booking_api/bodies.py).
            body = b""
            while True:
                message = await receive()
                body += message.get("body", b"")
                if not message.get("more_body", False):
                    break
            if str(scope.get("path", "")).startswith(WEBHOOKS_PREFIX):
                # Another function on AWS, with no authorizer and no body checks of the API's own.
                answer = await asyncio.to_thread(invoke_webhooks, proxy_event(scope, body, WEBHOOKS_RESOURCE))
                await self._send_response(send, answer)
                return
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
            refused = body_problem(scope.get("method", ""), headers, body, scope.get("path", ""))
            if refused is not None:
                await self._send_response(send, lambda_response(refused))
                return

            async def replay() -> dict[str, Any]:
                return {"type": "http.request", "body": body, "more_body": False}

            await super().__call__(scope, replay, send)

    async def _send_response(self, send: Any, response: dict[str, Any]) -> None:
        if response.get("body") is None:
            response = {**response, "body": ""}
        await super()._send_response(send, response)


WEBHOOKS_PREFIX = "/v1/webhooks/"
WEBHOOKS_RESOURCE = "/v1/webhooks/{proxy+}"  # the WebhooksFunction's route in the template


def proxy_event(scope: dict[str, Any], body: bytes, resource: str) -> dict[str, Any]:
    """The API Gateway REST proxy event API Gateway makes of an HTTP request for a `{proxy+}` resource: a
    text body as text, any other base64-encoded (the webhooks function checks signatures on these bytes)."""
    path = str(scope.get("path", ""))
    method = str(scope.get("method", "GET"))
    headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for raw_name, raw_value in scope.get("headers", []):
        name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
        headers[name] = value
        multi_headers.setdefault(name, []).append(value)
    query: dict[str, str] = {}
    multi_query: dict[str, list[str]] = {}
    for name, value in parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True):
        query[name] = value
        multi_query.setdefault(name, []).append(value)
    try:
        text, encoded = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode("ascii"), True
    client = scope.get("client") or ("127.0.0.1", 0)
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": {"proxy": path.removeprefix(resource.split("{", 1)[0])},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": path,
            "stage": "local",
            "requestId": str(uuid.uuid4()),
            "identity": {"sourceIp": client[0]},
        },
        "body": text or None,
        "isBase64Encoded": encoded,
    }


def invoke_webhooks(event: dict[str, Any]) -> dict[str, Any]:
    """Invokes the webhooks function in process; a failed invocation is API Gateway's 502."""
    from webhooks.handler import lambda_handler

    try:
        result: dict[str, Any] = lambda_handler(event, cast(Any, MockLambdaContext()))
    except Exception:
        logging.getLogger(__name__).exception("the webhooks function failed")
        return {
            "statusCode": 502,
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"message": "Internal server error"}),
        }
    # API Gateway sends an answer's multiValueHeaders (what Powertools' resolver returns) as headers.
    multi: dict[str, list[str]] = result.pop("multiValueHeaders", None) or {}
    single = {name: ", ".join(values) for name, values in multi.items()}
    return {**result, "headers": {**(result.get("headers") or {}), **single}}


def local_secret(data_dir: Path) -> str:
    """The local stack's application secret, kept in the data dir so manage links survive a restart."""
    path = data_dir / "app-secret"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


class _PathsWithoutQueries(logging.Filter):
    """uvicorn's access log prints each request's path with its query string, which carries manage-link
    tokens: the log keeps the path only (as the API Gateway access log in the template does)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) >= 3:
            path = record.args[2]
            if isinstance(path, str):
                record.args = (*record.args[:2], path.split("?", 1)[0], *record.args[3:])
        return True


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(0)


def _stop(store: Store, aws: EmbeddedAws) -> None:
    store.stop()
    aws.stop()


def migrate_old_layout(
    data_dir: Path, table_name: str, now: Callable[[], datetime], stop: Callable[[], None]
) -> None:
    """A data directory written before the time ledger (it holds lock items) is migrated once, with
    ops/rebuild_ledger.py, through the journal like any write (call it after `Store.start`); when that
    fails, `stop()` and exit with the way out."""
    import boto3

    from ops.rebuild_ledger import migrate_if_old_layout

    try:
        summary = migrate_if_old_layout(boto3.client("dynamodb"), table_name, now=now)
    except Exception as error:
        print(
            f"\nThe data directory {data_dir.resolve()} was written by an earlier version (lock items, "
            f"before the time ledger) and could not be migrated: {error}\n"
            "Run `make dev-reset` to start over with fresh demo data (it deletes the local data).",
            file=sys.stderr,
            flush=True,
        )
        stop()
        raise SystemExit(1) from error
    if summary is None:
        return
    print(
        f"Migrated the data directory to the time ledger: {summary.bookings} booking(s) "
        f"({summary.holding_time} holding time; {summary.locks_deleted} lock items deleted)",
        flush=True,
    )
    for conflict in summary.conflicts:
        print(f"  warning: {conflict} (`make dev-reset` starts over)", flush=True)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Run the booking backend locally.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--aws-port", type=int, default=0, help="embedded AWS port (default: any free port)")
    parser.add_argument(
        "--stripe-port", type=int, default=0, help="localstripe port (default: any free port)"
    )
    parser.add_argument("--data-dir", type=Path, default=Path(".local-data"))
    return parser.parse_args(argv)


def _install_functions(clock: DevClock) -> None:
    """The reminders, meeting-links and webhooks functions' use cases, on the dev clock (as their first
    invocation on Lambda would build them, on the system clock)."""
    from meeting_links import handler as meeting_links
    from meeting_links.container import build_provisioning
    from reminders import handler as reminders
    from reminders.container import Reminders
    from webhooks import handler as webhooks
    from webhooks.container import Webhooks

    # The payment timers and the booking requests' escalations judge "now" by the dev clock too: the
    # dispatcher fires them on it. Built now, before the dispatcher's and the requests' threads use them.
    reminders.install(Reminders(clock=clock).build_all())
    meeting_links.install(build_provisioning(clock=clock))
    on_dev_clock = Webhooks(clock=clock)
    webhooks.install(on_dev_clock.zoom, on_dev_clock.stripe)


def start_outside_services(
    clock: DevClock, stripe_port: int, data_dir: Path
) -> tuple[MeetingFakes, StripeServer]:
    """The meeting providers' fakes (Zoom, Google, Microsoft, Daily, Whereby) and localstripe (its state
    kept in the data directory), with the environment pointing the adapters and the Stripe SDK at them."""
    fakes = start_fakes(clock=clock)
    os.environ.update(fakes.environment())
    stripe_server = start_stripe(port=stripe_port, data_dir=data_dir)
    os.environ.update(stripe_server.environment())
    return fakes, stripe_server


def banner(
    base_url: str,
    demo: list[DemoBusiness],
    endpoint: str,
    data_dir: Path,
    restored: bool,
    stripe_server: StripeServer,
) -> str:
    """What `make dev` prints at start: every URL to open, labels in one column wide enough for the longest
    (a business's whole name, never cut)."""
    rows = [
        ("API", f"{base_url}/v1/health"),
        ("API docs", f"{base_url}/v1/docs   (OpenAPI: {base_url}/v1/openapi.json)"),
        ("Demo + tokens", f"{base_url}/dev/demo"),
        ("Outbox", f"{base_url}/dev/outbox   (dev clock: {base_url}/dev/clock)"),
        *[(b.name, f"{base_url}/v1/public/businesses/{b.slug}/services") for b in demo],
        ("Embedded AWS", f"{endpoint}  (data: {data_dir.resolve()}{', restored' if restored else ', new'})"),
        ("Stripe", f"{stripe_server.base_url}  (localstripe; log: {stripe_server.log_path.resolve()})"),
    ]
    width = max(len(label) for label, _ in rows)
    lines = [
        "",
        "Booking backend running locally",
        *[f"  {label:<{width}}  {url}" for label, url in rows],
        "",
    ]
    return "\n".join(lines)


def _register_stripe_webhooks(
    stripe_server: StripeServer, checkout: Checkout, businesses: list[DemoBusiness], base_url: str
) -> None:
    """localstripe forgets its webhooks on restart: each business's endpoint is registered at every start,
    signed with the webhook secret the business stored (as its Stripe dashboard would keep it)."""
    for business in businesses:
        account = checkout.account(business.id)
        if account is not None:
            stripe_server.register_webhook(
                f"business-{business.id}",
                f"{base_url}/v1/webhooks/stripe/{business.id}",
                account.webhook_secret,
            )


def main(argv: list[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    aws = EmbeddedAws(port=args.aws_port)
    aws.start()
    resources = aws.provision()
    os.environ.update(resources.environment())
    os.environ.setdefault("APP_SECRET", local_secret(args.data_dir))
    # One clock for the whole application, which /dev/clock can move forward.
    clock = DevClock(args.data_dir)
    fakes, stripe_server = start_outside_services(clock, args.stripe_port, args.data_dir)

    # Imported after the environment points at the embedded AWS: the container reads it.
    from booking_api import deps
    from booking_api.app import mount
    from booking_api.container import build_container
    from local import dev_routes
    from reminders.handler import lambda_handler

    # The dispatcher listens to the embedded AWS before the saved state is loaded, so it learns of the
    # restored schedules as they come back; it resumes the stream at its checkpoint.
    _install_functions(clock)
    failures = reminders_failure_handling()
    dispatcher = Dispatcher(
        aws,
        resources.table_name,
        resources.schedule_group,
        clock,
        lambda_handler,
        data_dir=args.data_dir,
        trim_delivered=True,
        dead_letters=DeadLetters(
            sqs=aws.client("sqs"),
            stream_queue_url=resources.queues[failures.stream_failure_queue],
            async_queue_url=resources.queues[failures.async_failure_queue],
            stream_retries=failures.stream_retries,
            async_retries=failures.async_retries,
        ),
        batch_size=failures.stream_batch_size,
        clock_watchers=[StripeClock(stripe_server)],  # authorisations lapse on the dev clock, as at Stripe
    )
    store = Store(args.data_dir, aws, resources.user_pool_id)
    restored = store.restore()
    store.start()  # from here on, every acknowledged write is in the journal first
    if restored:  # a data directory from before the time ledger is migrated, once
        migrate_old_layout(args.data_dir, resources.table_name, clock.now, lambda: _stop(store, aws))
    sends.retain_sent_messages = False  # the outbox keeps them, on disk
    outbox = Outbox(args.data_dir, clock)
    outbox.attach()

    verifier = CognitoIdTokenVerifier(resources.jwks_url, resources.issuer, resources.user_pool_client_id)
    container = build_container(claims=verifier.claims, clock=clock)
    deps.install(container)
    # As on Lambda, a request counts as "in progress" for idempotency only while it can still be running.
    container.idempotency.register_lambda_context(MockLambdaContext())

    demo = load_manifest(args.data_dir) if restored else None
    if demo is None:
        demo = seed(
            container.catalogue,
            container.meetings,
            container.checkout,
            container.customers,
            aws.client("cognito-idp"),
            resources.user_pool_id,
            args.data_dir,
        )

    base_url = f"http://{args.host}:{args.port}"
    _register_stripe_webhooks(stripe_server, container.checkout, demo, base_url)
    dev_routes.install(
        dev_routes.DevState(
            base_url=base_url,
            cognito=aws.client("cognito-idp"),
            user_pool_id=resources.user_pool_id,
            client_id=resources.user_pool_client_id,
            demo=demo,
            clock=clock,
            dispatcher=dispatcher,
            outbox=outbox,
            aws=aws,
            queues=resources.queues,
            handler=lambda_handler,
            stripe_api_base=stripe_server.base_url,
        )
    )
    app = mount(LocalHttpResolver(enable_validation=True))
    app.include_router(dev_routes.router)

    dispatcher.start()
    # uvicorn shuts down gracefully on SIGTERM and then re-raises it; with the default handler the process
    # would die there, before the `finally` below drains the dispatcher and folds the journal.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    print(banner(base_url, demo, resources.endpoint, args.data_dir, restored, stripe_server), flush=True)
    logging.getLogger("uvicorn.access").addFilter(_PathsWithoutQueries())
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    finally:
        dispatcher.stop()  # delivers what the stream still holds first
        outbox.detach()
        store.stop()
        aws.stop()
        fakes.stop()
        stripe_server.stop()


if __name__ == "__main__":
    main()
