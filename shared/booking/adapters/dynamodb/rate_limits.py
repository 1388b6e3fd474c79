"""Rate limits as counters, one item per counter and fixed window, counted up with a conditional update (so
parallel requests can never pass the limit together) and gone after the window (TTL). Each counter has
its own item: nothing else (a code's expiry, a sign-in) can reset it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from booking.adapters.dynamodb import keys
from booking.adapters.dynamodb.items import count_up_to

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class DynamoRateLimiter:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def take(
        self, tenant_id: str, counter: str, window_start: datetime, window: timedelta, limit: int
    ) -> bool:
        key = keys.rate_limit_key(tenant_id, counter, window_start)
        return count_up_to(self._client, self._table, key, "counted", limit, window_start + 2 * window)
