"""Which booking a provider's meeting belongs to, so the provider's events about the meeting (Zoom's
meeting.started and meeting.ended) find their booking. One small item per meeting, written when
provisioning saves it; it goes by TTL some time after the meeting (a stale pointer is harmless: the reader
checks that the booking still has that meeting)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from booking.adapters.dynamodb import keys
from booking.adapters.dynamodb.items import typed_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class DynamoMeetingIndex:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def remember(
        self,
        tenant_id: str,
        provider: str,
        meeting_id: str,
        booking_id: str,
        *,
        expires_at: datetime | None = None,
    ) -> None:
        item = {
            **typed_key(keys.meeting_pointer_key(tenant_id, provider, meeting_id)),
            "kind": {"S": "meeting_pointer"},
            "booking_id": {"S": booking_id},
        }
        if expires_at is not None:
            item["expires_at"] = {"N": str(int(expires_at.timestamp()))}
        self._client.put_item(TableName=self._table, Item=item)

    def booking_for(self, tenant_id: str, provider: str, meeting_id: str) -> str | None:
        found = self._client.get_item(
            TableName=self._table,
            Key=typed_key(keys.meeting_pointer_key(tenant_id, provider, meeting_id)),
            ConsistentRead=True,
        ).get("Item")
        return found["booking_id"]["S"] if found else None
