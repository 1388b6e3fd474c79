"""Rate limits as counters, one item per counter and fixed window, counted up with a conditional update (so
parallel requests can never pass the limit together) and gone after the window (TTL). Each counter has
its own item: nothing else (a code's expiry, a sign-in) can reset it. And quiet periods: something that may
happen once in a while (a customer's "received" text), taken by one holder at a time."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from booking.adapters.dynamodb import keys
from booking.adapters.dynamodb.items import condition_failed, count_up_to, typed_key

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

    def once_in(self, tenant_id: str, name: str, holder: str, now: datetime, period: timedelta) -> bool:
        """True for `holder` when nothing else took `name` in the `period` before `now` (it takes it then,
        with one conditional write, so two callers at once cannot both get it). The holder may take it
        again (a retry of the same message is not a second one)."""
        at = int(now.timestamp() * 1000)  # milliseconds: whole seconds would shorten the period by one
        length = int(period.total_seconds() * 1000)
        try:
            self._client.update_item(
                TableName=self._table,
                Key=typed_key(keys.quiet_period_key(tenant_id, name)),
                UpdateExpression="SET holder = :holder, taken_ms = :at, expires_at = :expires",
                ConditionExpression="attribute_not_exists(taken_ms) OR holder = :holder OR taken_ms <= :since",
                ExpressionAttributeValues={
                    ":holder": {"S": holder},
                    ":at": {"N": str(at)},
                    ":since": {"N": str(at - length)},
                    ":expires": {"N": str((at + 2 * length) // 1000)},  # TTL reads seconds
                },
            )
        except ClientError as error:
            if condition_failed(error):
                return False
            raise
        return True
