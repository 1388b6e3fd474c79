"""The catalogue repository on DynamoDB: one query reads a tenant's whole catalogue; every write is one
transaction with optimistic version checks, so a lost race is a Conflict and never a half-written state."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError
from pydantic import BaseModel

from booking.adapters.dynamodb import keys
from booking.domain.catalogue import (
    Business,
    Catalogue,
    Category,
    Service,
    StaffMember,
    assemble_catalogue,
)
from booking.domain.errors import Conflict

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

# Fields derived from assignment items; storing them on the entity too would give two sources of truth.
_DERIVED = {"staff_ids", "service_ids", "version"}


def _to_item(key: dict[str, str], kind: str, model: BaseModel, version: int, **extra: Any) -> dict[str, Any]:
    plain = {**key, "kind": kind, "version": version, "doc": model.model_dump_json(exclude=_DERIVED), **extra}
    return {name: _serializer.serialize(value) for name, value in plain.items()}


def _from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


class DynamoCatalogueRepository:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    # --- reads ----------------------------------------------------------------------------------------

    def tenant_for_slug(self, slug: str) -> str | None:
        response = self._client.get_item(
            TableName=self._table, Key=_serialize_key(keys.slug_key(slug)), ConsistentRead=True
        )
        item = response.get("Item")
        return str(_from_item(item)["tenant_id"]) if item else None

    def load_catalogue(self, tenant_id: str) -> Catalogue | None:
        business: Business | None = None
        categories: list[Category] = []
        services: list[Service] = []
        staff: list[StaffMember] = []
        assignments: list[tuple[str, str]] = []
        paginator = self._client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": keys.tenant_pk(tenant_id)}},
            ConsistentRead=True,
        )
        for page in pages:
            for raw in page.get("Items", []):
                item = _from_item(raw)
                kind = item["kind"]
                if kind == "assignment":
                    assignments.append((item["service_id"], item["staff_id"]))
                    continue
                version = int(item["version"])
                doc = item["doc"]
                if kind == "business":
                    business = Business.model_validate_json(doc).model_copy(update={"version": version})
                elif kind == "category":
                    categories.append(
                        Category.model_validate_json(doc).model_copy(update={"version": version})
                    )
                elif kind == "service":
                    services.append(Service.model_validate_json(doc).model_copy(update={"version": version}))
                elif kind == "staff":
                    staff.append(StaffMember.model_validate_json(doc).model_copy(update={"version": version}))
        if business is None:
            return None
        return assemble_catalogue(business, categories, services, staff, assignments)

    # --- writes ---------------------------------------------------------------------------------------

    def create_business(self, business: Business) -> None:
        self._transact(
            [
                _put(keys.slug_key(business.slug), {"tenant_id": business.id}, new=True),
                _put_entity(keys.business_key(business.id), "business", business, None),
            ],
            conflict=f"the slug {business.slug!r} is already taken",
        )

    def update_business(self, business: Business, previous: Business) -> None:
        ops: list[TransactWriteItemTypeDef] = [
            _put_entity(keys.business_key(business.id), "business", business, previous.version)
        ]
        if business.slug != previous.slug:
            ops.append(_put(keys.slug_key(business.slug), {"tenant_id": business.id}, new=True))
            ops.append(_delete(keys.slug_key(previous.slug), owner=business.id))
        self._transact(
            ops, conflict=f"the slug {business.slug!r} is taken, or the business changed meanwhile"
        )

    def put_category(self, tenant_id: str, category: Category, previous: Category | None) -> None:
        self._transact(
            [
                _put_entity(
                    keys.category_key(tenant_id, category.id),
                    "category",
                    category,
                    previous.version if previous else None,
                )
            ],
            conflict="the category changed meanwhile; reload and retry",
        )

    def delete_category(self, tenant_id: str, category: Category) -> None:
        self._transact(
            [_delete(keys.category_key(tenant_id, category.id), version=category.version)],
            conflict="the category changed meanwhile; reload and retry",
        )

    def put_service(self, tenant_id: str, service: Service, previous: Service | None) -> None:
        ops = [
            _put_entity(
                keys.service_key(tenant_id, service.id),
                "service",
                service,
                previous.version if previous else None,
            )
        ]
        ops += _assignment_changes(
            tenant_id,
            [(service.id, s) for s in service.staff_ids],
            [(service.id, s) for s in (previous.staff_ids if previous else [])],
        )
        self._transact(ops, conflict="the service changed meanwhile; reload and retry")

    def delete_service(self, tenant_id: str, service: Service) -> None:
        ops = [_delete(keys.service_key(tenant_id, service.id), version=service.version)]
        ops += _assignment_changes(tenant_id, [], [(service.id, s) for s in service.staff_ids])
        self._transact(ops, conflict="the service changed meanwhile; reload and retry")

    def put_staff(self, tenant_id: str, member: StaffMember, previous: StaffMember | None) -> None:
        ops = [
            _put_entity(
                keys.staff_key(tenant_id, member.id), "staff", member, previous.version if previous else None
            )
        ]
        ops += _assignment_changes(
            tenant_id,
            [(s, member.id) for s in member.service_ids],
            [(s, member.id) for s in (previous.service_ids if previous else [])],
        )
        self._transact(ops, conflict="the staff member changed meanwhile; reload and retry")

    def delete_staff(self, tenant_id: str, member: StaffMember) -> None:
        ops = [_delete(keys.staff_key(tenant_id, member.id), version=member.version)]
        ops += _assignment_changes(tenant_id, [], [(s, member.id) for s in member.service_ids])
        self._transact(ops, conflict="the staff member changed meanwhile; reload and retry")

    def _transact(self, ops: Sequence[TransactWriteItemTypeDef], conflict: str) -> None:
        for op in ops:
            for request in op.values():
                request["TableName"] = self._table  # type: ignore[index]
        try:
            self._client.transact_write_items(TransactItems=list(ops))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "TransactionCanceledException":
                raise Conflict(conflict) from error
            raise


def _serialize_key(key: dict[str, str]) -> dict[str, Any]:
    return {name: {"S": value} for name, value in key.items()}


def _put_entity(
    key: dict[str, str], kind: str, model: BaseModel, expected_version: int | None
) -> TransactWriteItemTypeDef:
    """A put that creates (nothing there yet) or replaces exactly the version we read."""
    version = 1 if expected_version is None else expected_version + 1
    put: dict[str, Any] = {"Item": _to_item(key, kind, model, version)}
    if expected_version is None:
        put["ConditionExpression"] = "attribute_not_exists(pk)"
    else:
        put["ConditionExpression"] = "version = :expected"
        put["ExpressionAttributeValues"] = {":expected": {"N": str(expected_version)}}
    return {"Put": put}  # type: ignore[typeddict-item]


def _put(key: dict[str, str], attributes: dict[str, str], *, new: bool) -> TransactWriteItemTypeDef:
    item = {**_serialize_key(key), **{k: {"S": v} for k, v in attributes.items()}}
    put: dict[str, Any] = {"Item": item}
    if new:
        put["ConditionExpression"] = "attribute_not_exists(pk)"
    return {"Put": put}  # type: ignore[typeddict-item]


def _delete(
    key: dict[str, str], *, version: int | None = None, owner: str | None = None
) -> TransactWriteItemTypeDef:
    delete: dict[str, Any] = {"Key": _serialize_key(key)}
    if version is not None:
        delete["ConditionExpression"] = "version = :expected"
        delete["ExpressionAttributeValues"] = {":expected": {"N": str(version)}}
    elif owner is not None:
        delete["ConditionExpression"] = "tenant_id = :owner"
        delete["ExpressionAttributeValues"] = {":owner": {"S": owner}}
    return {"Delete": delete}  # type: ignore[typeddict-item]


def _assignment_changes(
    tenant_id: str, wanted: Sequence[tuple[str, str]], current: Sequence[tuple[str, str]]
) -> list[TransactWriteItemTypeDef]:
    """Puts for new (service, staff) pairs and deletes for dropped ones."""
    ops: list[TransactWriteItemTypeDef] = []
    for service_id, staff_id in sorted(set(wanted) - set(current)):
        key = keys.assignment_key(tenant_id, service_id, staff_id)
        ops.append(
            _put(key, {"kind": "assignment", "service_id": service_id, "staff_id": staff_id}, new=False)
        )
    for service_id, staff_id in sorted(set(current) - set(wanted)):
        ops.append(_delete(keys.assignment_key(tenant_id, service_id, staff_id)))
    return ops
