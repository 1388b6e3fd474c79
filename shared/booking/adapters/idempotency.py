"""Idempotent POSTs through the Powertools idempotency utility (its own DynamoDB table).

The first request with a key runs and its result is stored for 24 hours; a retry with the same key and
the same body gets that result back; the same key with a different body is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from booking.domain.errors import IdempotencyKeyReused, RequestInProgress

RETENTION_SECONDS = 24 * 3600
_action: ContextVar[Callable[[], dict[str, Any]]] = ContextVar("idempotent_action")


class PowertoolsIdempotency:
    def __init__(self, table_name: str, client: Any = None) -> None:
        persistence = DynamoDBPersistenceLayer(table_name=table_name, boto3_client=client)
        self._config = config = IdempotencyConfig(
            event_key_jmespath="[scope, key]",
            payload_validation_jmespath="payload",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=RETENTION_SECONDS,
        )

        @idempotent_function(  # type: ignore[untyped-decorator]  # Powertools leaves it untyped
            data_keyword_argument="request", persistence_store=persistence, config=config
        )
        def run(request: dict[str, Any]) -> dict[str, Any]:
            return _action.get()()

        self._run = run

    def register_lambda_context(self, context: Any) -> None:
        """Lets an in-progress record expire with the invocation: a retry after a crashed request is
        processed again instead of being told for a day that the first one is still running."""
        self._config.register_lambda_context(context)

    def run(
        self, scope: str, key: str, payload: dict[str, Any], action: Callable[[], dict[str, Any]]
    ) -> dict[str, Any]:
        """Runs `action` once per (scope, key); `scope` keeps tenants' keys apart."""
        token = _action.set(action)
        try:
            result: dict[str, Any] = self._run(request={"scope": scope, "key": key, "payload": payload})
            return result
        except IdempotencyValidationError as error:
            raise IdempotencyKeyReused(
                "this Idempotency-Key was already used with a different request body; use a new key"
            ) from error
        except IdempotencyAlreadyInProgressError as error:
            raise RequestInProgress(
                "the first request with this Idempotency-Key is still running; retry shortly"
            ) from error
        finally:
            _action.reset(token)
