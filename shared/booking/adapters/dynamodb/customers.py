"""Customer profiles, notes, audit entries and one-time login codes on DynamoDB."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from booking.adapters.dynamodb import keys
from booking.adapters.dynamodb.items import condition_failed, plain, typed, typed_key
from booking.domain.booking import HistoryEntry, Note
from booking.domain.customers import CustomerProfile, LoginCode, OnboardingUpdate
from booking.domain.errors import NotFound

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class DynamoCustomerRepository:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def profile(self, tenant_id: str, email: str) -> CustomerProfile | None:
        response = self._client.get_item(
            TableName=self._table, Key=typed_key(keys.customer_key(tenant_id, email)), ConsistentRead=True
        )
        if "Item" not in response:
            return None
        item = plain(response["Item"])
        return CustomerProfile(
            email=item["email"],
            name=item["name"],
            phone=item.get("phone"),
            blocked=bool(item.get("blocked", False)),
            blocked_reason=item.get("blocked_reason"),
            sms_opt_out=bool(item.get("sms_opt_out", False)),
            created_at=item.get("created_at"),
            address=item.get("address"),
            onboarded=bool(item.get("onboarded", False)),
        )

    def set_onboarding(
        self, tenant_id: str, email: str, update: OnboardingUpdate, at: datetime
    ) -> CustomerProfile:
        """Creates the profile (a customer who never booked online) or updates it: name, phone, the
        address on file and whether they are onboarded."""
        self._client.update_item(
            TableName=self._table,
            Key=typed_key(keys.customer_key(tenant_id, email)),
            UpdateExpression=(
                "SET #name = :name, email = :email, kind = :kind, address = :address, onboarded = :onboarded,"
                " created_at = if_not_exists(created_at, :now)" + (", phone = :phone" if update.phone else "")
            ),
            ExpressionAttributeNames={"#name": "name"},
            ExpressionAttributeValues=typed(
                {
                    ":name": update.name,
                    ":email": email.lower(),
                    ":kind": "customer",
                    ":address": update.address,
                    ":onboarded": update.onboarded,
                    ":now": keys.iso(at),
                    ":phone": update.phone,
                }
            ),
        )
        profile = self.profile(tenant_id, email)
        assert profile is not None
        return profile

    def mark_onboarded(self, tenant_id: str, email: str) -> bool:
        """Onboards an existing customer (their first job done); False when there is no profile."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=typed_key(keys.customer_key(tenant_id, email)),
                UpdateExpression="SET onboarded = :true",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":true": {"BOOL": True}},
            )
        except ClientError as error:
            if condition_failed(error):
                return False
            raise
        return True

    def set_blocked(self, tenant_id: str, email: str, blocked: bool, reason: str | None) -> CustomerProfile:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=typed_key(keys.customer_key(tenant_id, email)),
                UpdateExpression="SET blocked = :blocked, blocked_reason = :reason",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={
                    ":blocked": {"BOOL": blocked},
                    ":reason": {"S": reason} if reason else {"NULL": True},
                },
            )
        except ClientError as error:
            if condition_failed(error):
                raise NotFound(f"no customer {email}") from error
            raise
        profile = self.profile(tenant_id, email)
        assert profile is not None
        return profile

    def set_sms_opt_out(self, tenant_id: str, email: str, opted_out: bool) -> None:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=typed_key(keys.customer_key(tenant_id, email)),
                UpdateExpression="SET sms_opt_out = :value",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":value": {"BOOL": opted_out}},
            )
        except ClientError as error:
            if condition_failed(error):
                raise NotFound(f"no customer {email}") from error
            raise

    def add_note(self, tenant_id: str, customer_email: str, note: Note) -> None:
        key = keys.note_key(tenant_id, customer_email, note.booking_id, note.at, note.id)
        self._client.put_item(
            TableName=self._table,
            Item={**typed_key(key), "kind": {"S": "note"}, "doc": {"S": note.model_dump_json()}},
        )

    def notes(self, tenant_id: str, customer_email: str, booking_id: str | None = None) -> list[Note]:
        prefix = keys.NOTE_PREFIX + (f"{booking_id}#" if booking_id else "")
        return [Note.model_validate_json(d) for d in self._docs(tenant_id, customer_email, prefix)]

    def record_audit(self, tenant_id: str, email: str, entry: HistoryEntry) -> None:
        key = keys.audit_key(tenant_id, email, entry.at, secrets.token_hex(4))
        self._client.put_item(
            TableName=self._table,
            Item={**typed_key(key), "kind": {"S": "audit"}, "doc": {"S": entry.model_dump_json()}},
        )

    def audit(self, tenant_id: str, email: str) -> list[HistoryEntry]:
        return [HistoryEntry.model_validate_json(d) for d in self._docs(tenant_id, email, keys.AUDIT_PREFIX)]

    def _docs(self, tenant_id: str, email: str, prefix: str) -> list[str]:
        docs: list[str] = []
        paginator = self._client.get_paginator("query")
        for page in paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={
                ":pk": {"S": keys.customer_pk(tenant_id, email)},
                ":prefix": {"S": prefix},
            },
            ConsistentRead=True,
        ):
            docs.extend(plain(raw)["doc"] for raw in page.get("Items", []))
        return docs

    # --- one-time login codes -------------------------------------------------------------------------

    def login_code(self, tenant_id: str, email: str) -> LoginCode | None:
        response = self._client.get_item(
            TableName=self._table, Key=typed_key(keys.login_code_key(tenant_id, email)), ConsistentRead=True
        )
        if "Item" not in response:
            return None
        return LoginCode.model_validate_json(plain(response["Item"])["doc"]).model_copy(
            update={"attempts": int(plain(response["Item"])["attempts"])}
        )

    def put_login_code(self, tenant_id: str, email: str, code: LoginCode) -> bool:
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    **typed_key(keys.login_code_key(tenant_id, email)),
                    "kind": {"S": "login_code"},
                    "code_hash": {"S": code.code_hash},
                    "attempts": {"N": str(code.attempts)},
                    "request_id": {"S": code.request_id},
                    "doc": {"S": code.model_dump_json(exclude={"attempts"})},
                    "expires_at": {"N": str(int(code.expires_at.timestamp()))},
                },
                ConditionExpression="attribute_not_exists(request_id) OR request_id <> :request",
                ExpressionAttributeValues={":request": {"S": code.request_id}},
            )
        except ClientError as error:
            if condition_failed(error):
                return False
            raise
        return True

    def request_login_code(self, tenant_id: str, email: str, request_id: str, at: datetime) -> None:
        self._client.put_item(
            TableName=self._table,
            Item={
                **typed_key(keys.login_code_request_key(tenant_id, email)),
                "kind": {"S": "login_code_request"},
                "tenant_id": {"S": tenant_id},
                "email": {"S": email},
                "request_id": {"S": request_id},
                "expires_at": {"N": str(int((at + timedelta(hours=1)).timestamp()))},
            },
        )

    def reserve_attempt(self, tenant_id: str, email: str, code: LoginCode, max_attempts: int) -> bool:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=typed_key(keys.login_code_key(tenant_id, email)),
                UpdateExpression="ADD attempts :one",
                ConditionExpression="code_hash = :hash AND attempts < :max",
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":hash": {"S": code.code_hash},
                    ":max": {"N": str(max_attempts)},
                },
            )
        except ClientError as error:
            if condition_failed(error):  # attempts used up, or the code was replaced or consumed
                return False
            raise
        return True

    def delete_login_code(self, tenant_id: str, email: str, code: LoginCode) -> bool:
        try:
            self._client.delete_item(
                TableName=self._table,
                Key=typed_key(keys.login_code_key(tenant_id, email)),
                ConditionExpression="code_hash = :hash",
                ExpressionAttributeValues={":hash": {"S": code.code_hash}},
            )
        except ClientError as error:
            if condition_failed(error):
                return False
            raise
        return True
