"""Domain errors as RFC 9457 problem+json: the one mapping of each kind of `DomainError` to its status,
`type`, title and detail, with field-level detail where fields are at fault, `Retry-After` where waiting
helps (too many requests, unavailable for now) and `WWW-Authenticate` on a 401. The booking API's error
handlers (booking_api/problems.py) and the webhooks function (webhooks/app.py) both answer through it, so
a kind of error reads the same whichever function answers it. Never a stack trace or the rejected input
(it may hold personal data)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response

from booking.domain.checkout import CardDeclined, PaymentProviderDown, PaymentRefused
from booking.domain.errors import (
    Conflict,
    DomainError,
    FieldProblem,
    Forbidden,
    IdempotencyKeyReused,
    InvalidInput,
    NotFound,
    ProviderDown,
    TooManyRequests,
    Unauthorized,
    Unavailable,
)
from booking.http.problem_json import PROBLEM_JSON, problem_body

# The status of each kind of error (and of its subclasses); any other DomainError is a 400.
STATUSES: Mapping[type[DomainError], HTTPStatus] = {
    NotFound: HTTPStatus.NOT_FOUND,
    Conflict: HTTPStatus.CONFLICT,
    Forbidden: HTTPStatus.FORBIDDEN,
    Unauthorized: HTTPStatus.UNAUTHORIZED,
    InvalidInput: HTTPStatus.UNPROCESSABLE_ENTITY,
    TooManyRequests: HTTPStatus.TOO_MANY_REQUESTS,
    Unavailable: HTTPStatus.SERVICE_UNAVAILABLE,
    IdempotencyKeyReused: HTTPStatus.UNPROCESSABLE_ENTITY,
    ProviderDown: HTTPStatus.BAD_GATEWAY,
    PaymentProviderDown: HTTPStatus.BAD_GATEWAY,
    CardDeclined: HTTPStatus.PAYMENT_REQUIRED,
    PaymentRefused: HTTPStatus.CONFLICT,
}
BEARER = "Bearer"


@dataclass(frozen=True)
class Problem:
    """One problem+json answer: the document's fields and the headers that go with it."""

    status: HTTPStatus
    kind: str
    title: str
    detail: str
    instance: str | None = None
    errors: Sequence[dict[str, Any]] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        return problem_body(self.status, self.kind, self.title, self.detail, self.instance, self.errors)

    def response(self) -> Response[str]:
        """The answer as the event handler sends it."""
        return Response(
            status_code=int(self.status),
            content_type=PROBLEM_JSON,
            body=json.dumps(self.body()),
            headers=dict(self.headers),
        )


def status_of(error: DomainError) -> HTTPStatus:
    return next((STATUSES[k] for k in type(error).__mro__ if k in STATUSES), HTTPStatus.BAD_REQUEST)


def domain_problem(
    error: DomainError, instance: str | None = None, *, challenge: str | None = BEARER
) -> Problem:
    """The problem answering `error` (`instance`: the request's path, where the answer names it).

    `challenge` is the `WWW-Authenticate` of a 401: the API's bearer tokens; None where the caller proves
    itself another way (a provider's signed webhook), so there is no scheme to name."""
    # Field-level detail: always for invalid input, and for any error naming what is at fault (a series'
    # clashing dates).
    errors = field_errors(error.problems) if isinstance(error, InvalidInput) or error.problems else None
    headers: dict[str, str] = {}
    if isinstance(error, Unauthorized) and challenge:
        headers["WWW-Authenticate"] = challenge
    if isinstance(error, TooManyRequests | Unavailable) and error.retry_after is not None:
        headers["Retry-After"] = str(error.retry_after)
    return Problem(status_of(error), error.kind, error.title, error.detail, instance, errors, headers)


def field_errors(problems: Iterable[FieldProblem]) -> list[dict[str, Any]]:
    return [{"loc": list(p.loc), "field": dotted(p.loc), "msg": p.msg} for p in problems]


def dotted(loc: Sequence[str | int]) -> str:
    """A field's location as clients name it: `shifts.0.end` for ("body", "shifts", 0, "end")."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    return ".".join(parts)
