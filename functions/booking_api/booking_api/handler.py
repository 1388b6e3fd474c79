"""Lambda entry point for the booking API (API Gateway REST, proxy integration).

Importing this module costs little, because a cold start pays for it before anything else. The resolver,
the routes and their models, and the container (clients, configuration) are built by the first invocation,
or, with SnapStart, once before the snapshot (`prime`): a restored environment then starts with all of it
ready and only renews what must be its own (`restored`). See `booking.adapters.snapstart`.
"""

from __future__ import annotations

import base64
import functools
import importlib
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths

from booking import deadline
from booking.adapters import snapstart
from booking_api.bodies import body_problem, lambda_response

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from booking_api.container import Container

logger = Logger()

# What prime() sends through the resolver: every layer of a request, and no business's data.
_HEALTH_CHECK = {
    "resource": "/v1/health",
    "path": "/v1/health",
    "httpMethod": "GET",
    "headers": {},
    "requestContext": {"resourcePath": "/v1/health", "httpMethod": "GET", "stage": "snapshot"},
    "body": None,
    "isBase64Encoded": False,
}


@functools.cache
def api() -> APIGatewayRestResolver:
    """The resolver with every route, the container built for them: once per environment."""
    from booking_api.app import lambda_api  # noqa: PLC0415 - the expensive part, see the docstring

    return lambda_api()


def prime() -> None:
    """Before the snapshot: everything built and compiled, the modules routes load on demand imported too,
    and a request answered; no business's data is read, so the catalogue cache is empty."""
    from aws_lambda_powertools.utilities.typing import LambdaContext  # noqa: PLC0415

    from booking_api.app import LOADED_ON_DEMAND  # noqa: PLC0415

    resolver = api()
    for module in LOADED_ON_DEMAND:
        importlib.import_module(module)
    resolver.resolve(_HEALTH_CHECK, LambdaContext())  # no invocation: the health route reads none of it


def restored() -> None:
    """After each restore, on the renewed AWS session: a container of this environment's own (clients,
    connections, the app secret read afresh, an empty catalogue cache)."""
    from booking_api import deps  # noqa: PLC0415 - all loaded before the snapshot

    deps.container.renew()


snapstart.on_snapshot(prime, restored)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    refused = body_problem(
        event.get("httpMethod", ""), event.get("headers") or {}, _body(event), event.get("path", "")
    )
    if refused is not None:
        return lambda_response(refused)
    resolver = api()
    _container().idempotency.register_lambda_context(context)
    # Every outside call and retry fits in what is left of the timeout, or the request answers 503.
    with deadline.within(context.get_remaining_time_in_millis() / 1000):
        return resolver.resolve(event, context)


def _container() -> Container:
    from booking_api import deps  # noqa: PLC0415 - loaded by api(); kept off this module's import

    return deps.container()


def _body(event: dict[str, Any]) -> bytes | str | None:
    body: str | None = event.get("body")
    if body and event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body)
        except ValueError:
            return body
    return body
