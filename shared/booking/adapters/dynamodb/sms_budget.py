"""The daily SMS cap's counter: one item per business and local day, counted up with a conditional update
so two senders can never both take the last text of the day. Gone two days later (TTL)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from booking.adapters.dynamodb import keys

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class DynamoSmsBudget:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def take(self, tenant_id: str, day: date, cap: int) -> bool:
        if cap <= 0:
            return False
        expires = datetime.combine(day + timedelta(days=2), time(0), tzinfo=UTC)
        try:
            self._client.update_item(
                TableName=self._table,
                Key={k: {"S": v} for k, v in keys.sms_day_key(tenant_id, day.isoformat()).items()},
                UpdateExpression="ADD sent :one SET expires_at = :expires",
                ConditionExpression="attribute_not_exists(sent) OR sent < :cap",
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":cap": {"N": str(cap)},
                    ":expires": {"N": str(int(expires.timestamp()))},
                },
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True
