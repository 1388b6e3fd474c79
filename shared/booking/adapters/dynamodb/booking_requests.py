"""Booking requests in the table: the request (one item, written on its version, so of two answers at
once exactly one is saved), its history, and a pointer from the customer's partition. Each change is one
transaction; the stream sends the request item to the reminders function (kind "booking_request")."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from booking.adapters.dynamodb import keys
from booking.adapters.dynamodb.items import plain, typed, typed_key
from booking.domain.booking_requests import OPEN, RequestHistoryEntry, ServiceRequest, TooManyOpen
from booking.domain.errors import Conflict, Unavailable
from booking.retry import pause_before_retry

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

KIND = "booking_request"
BATCH_GET = 100
UNPROCESSED_ATTEMPTS = 8  # a batch read throttled this many times in a row gives up (503)


def request_in_image(image: Mapping[str, Any] | None) -> ServiceRequest | None:
    """The request a stream record's image holds (plain values), or None for any other item."""
    if not image or image.get("kind") != KIND:
        return None
    return _request(image)


def _failed(reasons: list[Any], position: int) -> bool:
    """Whether the transaction's item at `position` was refused by its condition."""
    return len(reasons) > position and reasons[position].get("Code") == "ConditionalCheckFailed"


def _request(item: Mapping[str, Any]) -> ServiceRequest:
    return ServiceRequest.model_validate_json(item["doc"]).model_copy(
        update={"version": int(item["version"])}
    )


class DynamoRequestRepository:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def save(
        self,
        request: ServiceRequest,
        previous: ServiceRequest | None,
        entry: RequestHistoryEntry,
        open_limit: int | None = None,
    ) -> None:
        """Writes the request on the version read (Conflict when another change came first). The customer's
        open requests are a set of ids beside their profile: a new request joins it in the same transaction,
        refused (TooManyOpen) once it holds `open_limit`; one that becomes final leaves it. A set, not a
        count: a change written twice, or a request from before the set existed, cannot skew it."""
        put: dict[str, Any] = {
            "TableName": self._table,
            "Item": typed(
                {
                    **keys.request_key(request.tenant_id, request.id),
                    "kind": KIND,
                    "version": request.version,
                    "state": request.state.value,
                    "doc": request.model_dump_json(exclude={"version"}, exclude_none=True),
                }
            ),
        }
        if previous is None:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put["ConditionExpression"] = "version = :expected"
            put["ExpressionAttributeValues"] = {":expected": {"N": str(previous.version)}}
        ops: list[TransactWriteItemTypeDef] = [
            {"Put": put},  # type: ignore[typeddict-item]
            {
                "Put": {
                    "TableName": self._table,
                    "Item": typed(
                        {
                            **keys.request_history_key(
                                request.tenant_id, request.id, entry.at, secrets.token_hex(4)
                            ),
                            "kind": "request_history",
                            "doc": entry.model_dump_json(),
                        }
                    ),
                }
            },
        ]
        if previous is None:
            ops.append(
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": typed(
                            {
                                **keys.customer_request_key(
                                    request.tenant_id, request.customer.email, request.id
                                ),
                                "kind": "customer_request",
                            }
                        ),
                    }
                }
            )
        opened = previous is None and request.state in OPEN
        closed = previous is not None and previous.state in OPEN and request.state not in OPEN
        if opened or closed:
            ops.append({"Update": self._open_set(request, opened, open_limit if opened else None)})
        try:
            self._client.transact_write_items(TransactItems=ops)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "TransactionCanceledException":
                reasons = error.response.get("CancellationReasons", [])
                # Only the open set's condition fails on a new request when its id is fresh.
                if open_limit is not None and opened and _failed(reasons, len(ops) - 1):
                    raise TooManyOpen(open_limit) from error
                raise Conflict(
                    "the request changed meanwhile (someone answered it first); look at it again"
                ) from error
            raise

    def open_count(self, tenant_id: str, email: str) -> int:
        item = self._client.get_item(
            TableName=self._table,
            Key=typed_key(keys.customer_open_requests_key(tenant_id, email)),
            ConsistentRead=True,
        ).get("Item")
        return len(item["open_ids"]["SS"]) if item and "open_ids" in item else 0

    def _open_set(self, request: ServiceRequest, join: bool, limit: int | None) -> Any:
        update: dict[str, Any] = {
            "TableName": self._table,
            "Key": typed_key(keys.customer_open_requests_key(request.tenant_id, request.customer.email)),
            "UpdateExpression": "ADD open_ids :id SET kind = :kind" if join else "DELETE open_ids :id",
            "ExpressionAttributeValues": {":id": {"SS": [request.id]}},
        }
        if join:
            update["ExpressionAttributeValues"][":kind"] = {"S": "customer_open_requests"}
        if limit is not None:
            update["ConditionExpression"] = "attribute_not_exists(open_ids) OR size(open_ids) < :limit"
            update["ExpressionAttributeValues"][":limit"] = {"N": str(limit)}
        return update

    def get(self, tenant_id: str, request_id: str) -> tuple[ServiceRequest, list[RequestHistoryEntry]] | None:
        item = self._client.get_item(
            TableName=self._table, Key=typed_key(keys.request_key(tenant_id, request_id)), ConsistentRead=True
        ).get("Item")
        if item is None:
            return None
        history: list[RequestHistoryEntry] = []
        for page in self._client.get_paginator("query").paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": keys.request_history_pk(tenant_id, request_id)}},
            ConsistentRead=True,
        ):
            history += [RequestHistoryEntry.model_validate_json(plain(raw)["doc"]) for raw in page["Items"]]
        return _request(plain(item)), sorted(history, key=lambda e: e.at)

    def inbox(self, tenant_id: str, limit: int) -> list[ServiceRequest]:
        """The business's requests, newest first (at most `limit`)."""
        found: list[ServiceRequest] = []
        for page in self._client.get_paginator("query").paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": keys.requests_pk(tenant_id)}},
            ScanIndexForward=False,
        ):
            found += [_request(plain(raw)) for raw in page["Items"]]
            if len(found) >= limit:
                break
        return found[:limit]

    def for_customer(self, tenant_id: str, email: str) -> list[ServiceRequest]:
        """A customer's requests, newest first."""
        ids: list[str] = []
        for page in self._client.get_paginator("query").paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={
                ":pk": {"S": keys.customer_pk(tenant_id, email)},
                ":prefix": {"S": keys.CUSTOMER_REQUEST_PREFIX},
            },
            ScanIndexForward=False,
        ):
            ids += [str(raw["sk"]["S"]).removeprefix(keys.CUSTOMER_REQUEST_PREFIX) for raw in page["Items"]]
        found: dict[str, ServiceRequest] = {}
        for first in range(0, len(ids), BATCH_GET):
            wanted: Any = {
                self._table: {
                    "Keys": [
                        typed_key(keys.request_key(tenant_id, i)) for i in ids[first : first + BATCH_GET]
                    ],
                    "ConsistentRead": True,
                }
            }
            for attempt in range(UNPROCESSED_ATTEMPTS):
                answer = self._client.batch_get_item(RequestItems=wanted)
                for raw in answer["Responses"].get(self._table, []):
                    request = _request(plain(raw))
                    found[request.id] = request
                wanted = answer.get("UnprocessedKeys") or None
                if not wanted:
                    break
                pause_before_retry(attempt)  # throttled: back off with jitter before asking for the rest
            else:
                raise Unavailable("the requests could not be read in full just now; please try again", 2)
        return [found[i] for i in ids if i in found]
