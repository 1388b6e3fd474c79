"""Stripe's webhooks in the tests, over real HTTP: localstripe POSTs each signed event to a small server in
the test process, which hands it to the webhooks function as API Gateway would (the same proxy event the
local stack builds), so the signature is checked on the bytes Stripe sent."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support.lambda_api import LambdaContext


class WebhookReceiver:
    def __init__(self) -> None:
        self.answers: list[tuple[str, int, str]] = []  # (path, status, body) of every delivery
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    answer = deliver(self.path, dict(self.headers.items()), body)
                except (
                    Exception
                ) as error:  # API Gateway's answer to a function that failed; kept for the test
                    answer = {"statusCode": 502, "body": f"{type(error).__name__}: {error}"}
                receiver.answers.append((self.path, answer["statusCode"], answer["body"]))
                payload = str(answer["body"]).encode()
                self.send_response(answer["statusCode"])
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def deliver(path: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """One webhook delivery to the webhooks function, as API Gateway's proxy integration passes it."""
    from webhooks.handler import lambda_handler

    event = {
        "resource": "/v1/webhooks/{proxy+}",
        "path": path,
        "httpMethod": "POST",
        "headers": headers,
        "body": body.decode(),
        "isBase64Encoded": False,
        "requestContext": {"resourcePath": "/v1/webhooks/{proxy+}", "httpMethod": "POST"},
    }
    context: Any = LambdaContext(function_name="WebhooksFunction")
    answer: dict[str, Any] = lambda_handler(event, context)
    return answer
