"""The daily SMS cap's counter: one item per business and local day, counted up with a conditional update
so two senders can never both take the last text of the day. Gone two days later (TTL)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from booking.adapters.dynamodb import keys
from booking.adapters.dynamodb.items import count_up_to

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
        key = keys.sms_day_key(tenant_id, day.isoformat())
        return count_up_to(self._client, self._table, key, "sent", cap, expires)
