"""Converting between Python values and DynamoDB's typed attribute values, shared by the repositories."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

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
