"""The communications log on DynamoDB, in the booking's own partition (read with the booking)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from booking.adapters.dynamodb import keys
from booking.domain.communications import MessageRecord

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class DynamoMessageLog:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def _item(self, tenant_id: str, booking_id: str, record: MessageRecord) -> dict[str, Any]:
        key = keys.message_key(tenant_id, booking_id, record.key, record.channel)
        return {
            **{name: {"S": value} for name, value in key.items()},
            "kind": {"S": "message"},
            "doc": {"S": record.model_dump_json()},
        }

    def claim(self, tenant_id: str, booking_id: str, record: MessageRecord) -> bool:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=self._item(tenant_id, booking_id, record),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def put(self, tenant_id: str, booking_id: str, record: MessageRecord) -> None:
        self._client.put_item(TableName=self._table, Item=self._item(tenant_id, booking_id, record))

    def records(self, tenant_id: str, booking_id: str) -> list[MessageRecord]:
        records: list[MessageRecord] = []
        paginator = self._client.get_paginator("query")
        for page in paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={
                ":pk": {"S": keys.booking_pk(tenant_id, booking_id)},
                ":prefix": {"S": keys.MESSAGE_PREFIX},
            },
            ConsistentRead=True,
        ):
            records.extend(
                MessageRecord.model_validate_json(raw["doc"]["S"]) for raw in page.get("Items", [])
            )
        return sorted(records, key=lambda r: (r.at, r.key, r.channel))
