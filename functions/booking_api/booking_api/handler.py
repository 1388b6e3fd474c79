"""Lambda entry point for the booking API (API Gateway REST, proxy integration)."""

from __future__ import annotations

import base64
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from booking_api import deps
from booking_api.app import mount
from booking_api.bodies import body_problem, lambda_response
from booking_api.container import build_container

logger = Logger()

# Built once per container: clients and configuration are reused across invocations.
container = build_container()
deps.install(container)
app = mount(APIGatewayRestResolver(enable_validation=True))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    refused = body_problem(
        event.get("httpMethod", ""), event.get("headers") or {}, _body(event), event.get("path", "")
    )
    if refused is not None:
        return lambda_response(refused)
    container.idempotency.register_lambda_context(context)
    return app.resolve(event, context)


def _body(event: dict[str, Any]) -> bytes | str | None:
    body: str | None = event.get("body")
    if body and event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body)
        except ValueError:
            return body
    return body
