"""The communications log on DynamoDB, in the booking's own partition (read with the booking); a booking
request's in the request's (`subject_id`: whichever the messages are about).

Each message is one item: the record as JSON (`doc`), what it is about (`req`, for a retry to render it
again), and its `status` and `attempts` as attributes, so that moving a message on is conditioned on the
state it was read in: two senders can never both record an outcome for the same attempt.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from booking.adapters.dynamodb import keys
from booking.domain.communications import MessageRecord, MessageRequest

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def _condition_failed(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class DynamoMessageLog:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def _item(self, tenant_id: str, subject_id: str, record: MessageRecord) -> dict[str, Any]:
        key = keys.message_key(tenant_id, subject_id, record.key, record.channel)
        item: dict[str, Any] = {
            **{name: {"S": value} for name, value in key.items()},
            "kind": {"S": "message"},
            "doc": {"S": record.model_dump_json()},
            "status": {"S": record.status},
            "attempts": {"N": str(record.attempts)},
        }
        if record.request is not None:
            item["req"] = {"S": record.request.model_dump_json()}
        return item

    @staticmethod
    def _record(raw: dict[str, Any]) -> MessageRecord:
        record = MessageRecord.model_validate_json(raw["doc"]["S"])
        if "req" in raw:
            record = record.model_copy(
                update={"request": MessageRequest.model_validate_json(raw["req"]["S"])}
            )
        return record

    def claim(self, tenant_id: str, subject_id: str, record: MessageRecord) -> bool:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=self._item(tenant_id, subject_id, record),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if _condition_failed(error):
                return False
            raise
        return True

    def get(self, tenant_id: str, subject_id: str, key: str, channel: str) -> MessageRecord | None:
        raw = self._client.get_item(
            TableName=self._table,
            Key={k: {"S": v} for k, v in keys.message_key(tenant_id, subject_id, key, channel).items()},
            ConsistentRead=True,
        ).get("Item")
        return self._record(raw) if raw else None

    def replace(
        self, tenant_id: str, subject_id: str, record: MessageRecord, expected: MessageRecord
    ) -> bool:
        item = self._item(tenant_id, subject_id, record)
        if record.request is None and expected.request is not None:
            item["req"] = {"S": expected.request.model_dump_json()}
        try:
            self._client.put_item(
                TableName=self._table,
                Item=item,
                ConditionExpression="#status = :status AND attempts = :attempts",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":status": {"S": expected.status},
                    ":attempts": {"N": str(expected.attempts)},
                },
            )
        except ClientError as error:
            if _condition_failed(error):
                return False
            raise
        return True

    def put(self, tenant_id: str, subject_id: str, record: MessageRecord) -> None:
        self._client.put_item(TableName=self._table, Item=self._item(tenant_id, subject_id, record))

    def records(self, tenant_id: str, subject_id: str) -> list[MessageRecord]:
        records: list[MessageRecord] = []
        paginator = self._client.get_paginator("query")
        for page in paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={
                ":pk": {"S": keys.booking_pk(tenant_id, subject_id)},
                ":prefix": {"S": keys.MESSAGE_PREFIX},
            },
            ConsistentRead=True,
        ):
            records.extend(self._record(raw) for raw in page.get("Items", []))
        return sorted(records, key=lambda r: (r.at, r.key, r.channel))
