"""A webhook endpoint registered with localstripe, for tests of what it sends: each delivery kept as it came
(raw body, Stripe-Signature) and read back verified as the payments adapter verifies it
(`stripe.Webhook.construct_event`, 300 s tolerance); it can answer some deliveries with an error first."""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import stripe

from local.stripe_server import StripeServer


@dataclass(frozen=True)
class Delivery:
    body: bytes
    signature: str
    answered: int

    @property
    def object(self) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(self.body)["data"]["object"]
        return found


class SignedEndpoint:
    """Registered with `server` for `events` (None: all) under a name and secret of its own; answers each
    delivery with the next status of `answers`, then 200."""

    def __init__(
        self, server: StripeServer, events: Iterable[str] | None = None, answers: Iterable[int] = ()
    ):
        self.secret = "whsec_" + secrets.token_hex(16)
        self.name = f"test-endpoint-{secrets.token_hex(4)}"
        self.deliveries: list[Delivery] = []
        self._answers = list(answers)
        self._arrived = threading.Condition()
        self._server = server
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with endpoint._arrived:
                    status = endpoint._answers.pop(0) if endpoint._answers else 200
                    endpoint.deliveries.append(
                        Delivery(body, self.headers.get("Stripe-Signature", ""), status)
                    )
                    endpoint._arrived.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}/webhooks/stripe"
        threading.Thread(target=self._http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        server.register_webhook(self.name, self.url, self.secret, None if events is None else list(events))

    def wait_for(
        self, about: Callable[[Delivery], bool], count: int = 1, timeout: float = 10.0
    ) -> list[Delivery]:
        """The first `count` deliveries `about` says are of interest, in the order they arrived."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                found = [d for d in self.deliveries if about(d)]
                if len(found) >= count:
                    return found[:count]
                left = deadline - time.monotonic()
                if left <= 0:
                    kinds = [json.loads(d.body)["type"] for d in found]
                    raise AssertionError(
                        f"{len(found)} of {count} deliveries arrived in {timeout} s: {kinds}"
                    )
                self._arrived.wait(left)

    def events_about(self, *object_ids: str, count: int = 1, timeout: float = 10.0) -> list[stripe.Event]:
        """The first `count` events about any of `object_ids`, each verified as the adapter verifies it."""
        deliveries = self.wait_for(lambda d: d.object.get("id") in object_ids, count, timeout)
        return [self.verified(d) for d in deliveries]

    def verified(self, delivery: Delivery) -> stripe.Event:
        event: stripe.Event = stripe.Webhook.construct_event(
            delivery.body, delivery.signature, self.secret, tolerance=300
        )
        return event

    def close(self) -> None:
        # localstripe cannot delete a webhook: an empty list of events silences it.
        self._server.register_webhook(self.name, self.url, self.secret, events=[])
        self._http.shutdown()
        self._http.server_close()
