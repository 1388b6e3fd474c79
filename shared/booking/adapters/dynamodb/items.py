"""Converting between Python values and DynamoDB's typed attribute values, shared by the repositories."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def typed(attributes: dict[str, Any]) -> dict[str, Any]:
    """Python values as typed attribute values; None values are left out."""
    return {name: _serializer.serialize(value) for name, value in attributes.items() if value is not None}


def plain(item: dict[str, Any]) -> dict[str, Any]:
    """A stored item's typed attribute values as Python values."""
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def typed_key(key: dict[str, str]) -> dict[str, Any]:
    return {name: {"S": value} for name, value in key.items()}


def condition_failed(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def count_up_to(
    client: DynamoDBClient, table: str, key: dict[str, str], counter: str, limit: int, expires: datetime
) -> bool:
    """Adds one to the item's `counter` unless it has reached `limit` (False then), with a conditional
    update so parallel callers can never pass the limit together; the item goes by TTL after `expires`."""
    try:
        client.update_item(
            TableName=table,
            Key=typed_key(key),
            UpdateExpression="ADD #counter :one SET expires_at = :expires",
            ConditionExpression="attribute_not_exists(#counter) OR #counter < :limit",
            ExpressionAttributeNames={"#counter": counter},
            ExpressionAttributeValues={
                ":one": {"N": "1"},
                ":limit": {"N": str(limit)},
                ":expires": {"N": str(int(expires.timestamp()))},
            },
        )
    except ClientError as error:
        if condition_failed(error):
            return False
        raise
    return True
