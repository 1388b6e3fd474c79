"""Rate limits as counters, one item per counter and fixed window, counted up with a conditional update (so
parallel requests can never pass the limit together) and gone after the window (TTL). Each counter has
its own item: nothing else (a code's expiry, a sign-in) can reset it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from booking.adapters.dynamodb import keys

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class DynamoRateLimiter:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def take(
        self, tenant_id: str, counter: str, window_start: datetime, window: timedelta, limit: int
    ) -> bool:
        expires = window_start + 2 * window
        try:
            self._client.update_item(
                TableName=self._table,
                Key={k: {"S": v} for k, v in keys.rate_limit_key(tenant_id, counter, window_start).items()},
                UpdateExpression="ADD counted :one SET expires_at = :expires",
                ConditionExpression="attribute_not_exists(counted) OR counted < :limit",
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":limit": {"N": str(limit)},
                    ":expires": {"N": str(int(expires.timestamp()))},
                },
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True
