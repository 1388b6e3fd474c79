"""Patch 2, idempotency keys honoured (`idempotency_middleware`), and the local routes' authentication
(`auth_middleware`: `/_local/` takes no key, a SetupIntent's 3-D Secure answer the publishable key).
`install` puts both among localstripe's middlewares."""

from __future__ import annotations

import json
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from localstripe.errors import UserError

from local.stripe_patches._support import _error, server
from local.stripe_patches.installing import _ORIGINALS

IDEMPOTENCY_SECONDS = 24 * 3600  # as Stripe
IDEMPOTENCY_MAX_KEYS = 20_000

_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class _Answer:
    endpoint: str
    params: Any
    status: int
    body: bytes
    content_type: str
    at: float


_answers: OrderedDict[tuple[str, str], _Answer] = OrderedDict()
_in_flight: set[tuple[str, str]] = set()


async def _params(request: web.Request) -> Any:
    raw = await request.read()
    try:
        parsed: Any = json.loads(raw) if raw else {}
    except ValueError:
        parsed = sorted(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    return (request.query_string, parsed)


def _forget_old(now: float) -> None:
    while _answers and (
        len(_answers) > IDEMPOTENCY_MAX_KEYS or next(iter(_answers.values())).at < now - IDEMPOTENCY_SECONDS
    ):
        _answers.popitem(last=False)


def _idempotency_error(key: str, detail: str) -> UserError:
    return _error(
        400,
        f"Keys for idempotent requests can only be used {detail}. Try using a key other than '{key}' if "
        "you meant to execute a different request.",
        "idempotency_error",
    )


@web.middleware
async def idempotency_middleware(request: web.Request, handler: _Handler) -> web.StreamResponse:
    key = request.headers.get("Idempotency-Key")
    if request.method != "POST" or not key or not request.path.startswith("/v1/"):
        return await handler(request)
    scope = (server.get_api_key(request) or "", key)
    endpoint = f"{request.method} {request.path}"
    params = await _params(request)
    now = time.time()
    _forget_old(now)
    seen = _answers.get(scope)
    if seen is not None:
        if seen.endpoint != endpoint:
            raise _idempotency_error(key, f"for the same endpoint they were first used for ({seen.endpoint})")
        if seen.params != params:
            raise _idempotency_error(key, "with the same parameters they were first used with")
        return web.Response(
            body=seen.body,
            status=seen.status,
            content_type=seen.content_type,
            headers={"Idempotency-Key": key, "Idempotent-Replayed": "true"},
        )
    if scope in _in_flight:
        raise _error(
            409,
            "There is currently another in-progress request using this Idempotent Key (that probably means "
            f"you submitted twice, and the other request is still going through): {key}. Please try again "
            "later.",
            code="idempotency_key_in_use",
        )
    _in_flight.add(scope)
    try:
        try:
            response = await handler(request)
        except UserError as error:
            response = error.to_response()
        # As Stripe: kept once the endpoint acted (not a request refused before it did anything).
        acted = response.status < 400 or response.status == 402 or response.status >= 500
        if acted and isinstance(response, web.Response) and isinstance(response.body, bytes):
            _answers[scope] = _Answer(
                endpoint, params, response.status, response.body, response.content_type, now
            )
        response.headers["Idempotency-Key"] = key
        return response
    finally:
        _in_flight.discard(scope)


_AUTHENTICATE_SETUP = re.compile(r"^/v1/setup_intents/\w+/_authenticate$")


@web.middleware
async def auth_middleware(request: web.Request, handler: _Handler) -> web.StreamResponse:
    """localstripe's, plus: the local routes need no key (as its /_config/ routes), and a SetupIntent's
    3-D Secure answer takes the publishable key (as a PaymentIntent's)."""
    if request.path.startswith("/_local/"):
        return await handler(request)
    if request.method == "POST" and _AUTHENTICATE_SETUP.match(request.path):
        if server.get_api_key(request) is None:
            data = await server.get_post_data(request, remove_auth=False) or {}
            if not (isinstance(data.get("key"), str) and data["key"].startswith("pk_")):
                raise UserError(401, "Unauthorized")
        return await handler(request)
    response: web.StreamResponse = await _ORIGINALS["localstripe.server:auth_middleware"](request, handler)
    return response
