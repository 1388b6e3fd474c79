"""Recurring series on DynamoDB: one item per series (the sessions' states live on their bookings)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from booking.adapters.dynamodb import keys
from booking.adapters.dynamodb.items import typed_key
from booking.domain.series import Series

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class DynamoSeriesRepository:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def put(self, series: Series) -> None:
        item = typed_key(keys.series_key(series.tenant_id, series.id))
        item["kind"] = {"S": "series"}
        item["doc"] = {"S": series.model_dump_json()}
        self._client.put_item(TableName=self._table, Item=item)

    def get(self, tenant_id: str, series_id: str) -> Series | None:
        response = self._client.get_item(
            TableName=self._table, Key=typed_key(keys.series_key(tenant_id, series_id)), ConsistentRead=True
        )
        if "Item" not in response:
            return None
        return Series.model_validate_json(response["Item"]["doc"]["S"])

    def delete(self, tenant_id: str, series_id: str) -> None:
        self._client.delete_item(TableName=self._table, Key=typed_key(keys.series_key(tenant_id, series_id)))
