"""Providers' events already handled, so a replayed or redelivered event changes nothing twice: one item
per tenant, provider and event key, written with a conditional put once the event is handled, and gone by
TTL (`expires_at`) once the provider can no longer send it again."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from booking.adapters.dynamodb import keys
from booking.adapters.dynamodb.items import condition_failed, typed_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class DynamoWebhookEvents:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def seen(self, tenant_id: str, provider: str, event_key: str) -> bool:
        found = self._client.get_item(
            TableName=self._table,
            Key=typed_key(keys.webhook_event_key(tenant_id, provider, event_key)),
            ConsistentRead=True,
            ProjectionExpression="pk",
        ).get("Item")
        return found is not None

    def record(
        self, tenant_id: str, provider: str, event_key: str, outcome: str, at: datetime, expires_at: datetime
    ) -> bool:
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    **typed_key(keys.webhook_event_key(tenant_id, provider, event_key)),
                    "kind": {"S": "webhook_event"},
                    "outcome": {"S": outcome},
                    "received_at": {"S": keys.iso(at)},
                    "expires_at": {"N": str(int(expires_at.timestamp()))},
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if condition_failed(error):
                return False
            raise
        return True
