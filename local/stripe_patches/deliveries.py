"""Patch 5, webhook deliveries: each endpoint's events one at a time in order, a failed delivery tried
again after growing pauses, each attempt signed afresh (`DELIVERIES`, which `install` configures)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, replace
from typing import Any

import aiohttp
from localstripe import resources, webhooks

from local.stripe_patches._support import logger
from local.stripe_patches.installing import _replace

WEBHOOK_DELAY_SECONDS = 1.0  # as localstripe: an event's first delivery a second after it
WEBHOOK_RETRY_PAUSES: tuple[float, ...] = (1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300)
WEBHOOK_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class _Delivery:
    endpoint: str  # the webhook's registration id
    event_id: str
    event_type: str
    payload: bytes
    attempt: int = 1


class Deliveries:
    """Each endpoint's deliveries, one at a time in order; failures tried again after a pause."""

    def __init__(self) -> None:
        self.delay = WEBHOOK_DELAY_SECONDS
        self.retry_pauses: tuple[float, ...] = WEBHOOK_RETRY_PAUSES
        self.timeout = WEBHOOK_TIMEOUT_SECONDS
        self._queues: dict[str, asyncio.Queue[tuple[float, _Delivery]]] = {}
        self._workers: dict[str, asyncio.Future[None]] = {}

    def schedule(self, event: Any) -> None:
        """localstripe's `schedule_webhook`: the event to every endpoint that wants it, `delay` from now."""
        payload = json.dumps(event._export(), indent=2, sort_keys=True).encode("utf-8")
        due = asyncio.get_running_loop().time() + self.delay
        for endpoint, webhook in list(webhooks._webhooks.items()):
            if webhook.events is None or event.type in webhook.events:
                self._enqueue(_Delivery(endpoint, event.id, event.type, payload), due)

    def _enqueue(self, delivery: _Delivery, due: float) -> None:
        queue = self._queues.get(delivery.endpoint)
        if queue is None:
            queue = self._queues[delivery.endpoint] = asyncio.Queue()
        worker = self._workers.get(delivery.endpoint)
        if worker is None or worker.done():
            self._workers[delivery.endpoint] = asyncio.ensure_future(self._work(queue))
        queue.put_nowait((due, delivery))

    async def _work(self, queue: asyncio.Queue[tuple[float, _Delivery]]) -> None:
        loop = asyncio.get_running_loop()
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        # A new connection for each delivery, as localstripe: test servers close theirs after each answer.
        connector = aiohttp.TCPConnector(force_close=True)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            while True:
                due, delivery = await queue.get()
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                try:
                    await self._attempt(session, delivery)
                except Exception:  # keep delivering the others
                    logger.exception(
                        'webhook "%s" (%s): delivery failed', delivery.event_type, delivery.event_id
                    )

    async def _attempt(self, session: aiohttp.ClientSession, delivery: _Delivery) -> None:
        webhook = webhooks._webhooks.get(delivery.endpoint)
        if webhook is None or (webhook.events is not None and delivery.event_type not in webhook.events):
            return  # the endpoint was silenced (or no longer wants this type) meanwhile
        stamp = int(time.time())  # signed afresh at each attempt, as Stripe does
        digest = hmac.new(
            webhook.secret.encode("utf-8"), b"%d.%s" % (stamp, delivery.payload), hashlib.sha256
        ).hexdigest()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": f"t={stamp},v1={digest}",
        }
        what = f'webhook "{delivery.event_type}" ({delivery.event_id}) to "{delivery.endpoint}"'
        try:
            async with session.post(webhook.url, data=delivery.payload, headers=headers) as answer:
                await answer.read()
                failure = None if 200 <= answer.status < 300 else f"failed with response code {answer.status}"
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            failure = f"failed: {error!r}"
        if failure is None:
            logger.info("%s successfully delivered (attempt %d)", what, delivery.attempt)
            return
        if delivery.attempt > len(self.retry_pauses):
            logger.info("%s %s (attempt %d); giving up", what, failure, delivery.attempt)
            return
        pause = self.retry_pauses[delivery.attempt - 1]
        logger.info("%s %s (attempt %d); retrying in %g s", what, failure, delivery.attempt, pause)
        loop = asyncio.get_running_loop()
        again = replace(delivery, attempt=delivery.attempt + 1)
        loop.call_later(pause, lambda: self._enqueue(again, loop.time()))


DELIVERIES = Deliveries()


def _schedule_webhook(event: Any) -> None:
    DELIVERIES.schedule(event)


async def _send_webhook(event: Any) -> None:  # localstripe's entry point, should anything still call it
    DELIVERIES.schedule(event)


def apply() -> None:
    """Patch 5: localstripe's webhook scheduling goes to `DELIVERIES` (called by `install`)."""
    _replace(webhooks, "schedule_webhook", _schedule_webhook)
    _replace(webhooks, "_send_webhook", _send_webhook)
    resources.schedule_webhook = _schedule_webhook  # the name resources imported
