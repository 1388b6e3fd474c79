"""Invoices and journal lines in the table.

An invoice number comes from a per-business counter that moves only in the same transaction that writes
the invoice (conditioned on the number read and on the booking having no invoice yet), so numbers are
gapless and a booking never gets two: a lost race reads the counter again and retries.

Journal lines are written under keys derived from the booking version that posted them, so a redelivered
change writes the same items again and nothing is posted twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from booking.adapters.dynamodb import keys
from booking.adapters.dynamodb.items import plain, typed, typed_key
from booking.adapters.dynamodb.ledger import months, utc_days
from booking.domain.invoices import Invoice
from booking.domain.journal import JournalLine

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Parallel issuers of one business each retry after losing the counter race; this bounds a pathological
# storm (each retry is one read and one transaction).
ISSUE_ATTEMPTS = 20
BATCH = 25  # DynamoDB's BatchWriteItem limit


class DynamoInvoices:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def get(self, tenant_id: str, booking_id: str) -> Invoice | None:
        item = self._client.get_item(
            TableName=self._table, Key=typed_key(keys.invoice_key(tenant_id, booking_id)), ConsistentRead=True
        ).get("Item")
        if item is None:
            return None
        return Invoice.model_validate(plain(item))

    def issue(self, tenant_id: str, booking_id: str, at: datetime) -> Invoice:
        """The booking's invoice, issued now with the business's next number unless it has one."""
        for _ in range(ISSUE_ATTEMPTS):
            existing = self.get(tenant_id, booking_id)
            if existing is not None:
                return existing
            counter = self._client.get_item(
                TableName=self._table,
                Key=typed_key(keys.invoice_counter_key(tenant_id)),
                ConsistentRead=True,
            ).get("Item")
            last = int(counter["last"]["N"]) if counter is not None else 0
            invoice = Invoice(tenant_id=tenant_id, booking_id=booking_id, number=last + 1, issued_at=at)
            try:
                self._client.transact_write_items(
                    TransactItems=[
                        {
                            "Update": {
                                "TableName": self._table,
                                "Key": typed_key(keys.invoice_counter_key(tenant_id)),
                                "UpdateExpression": "SET #last = :next",
                                "ConditionExpression": "attribute_not_exists(#last) OR #last = :seen"
                                if last
                                else "attribute_not_exists(#last)",
                                "ExpressionAttributeNames": {"#last": "last"},
                                "ExpressionAttributeValues": {":next": {"N": str(last + 1)}}
                                | ({":seen": {"N": str(last)}} if last else {}),
                            }
                        },
                        {
                            "Put": {
                                "TableName": self._table,
                                "Item": {
                                    **typed_key(keys.invoice_key(tenant_id, booking_id)),
                                    **typed(invoice.model_dump(mode="json")),
                                    "kind": {"S": "invoice"},
                                },
                                "ConditionExpression": "attribute_not_exists(pk)",
                            }
                        },
                    ]
                )
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                    raise
                continue  # another invoice took the number, or this booking's invoice was just issued
            return invoice
        raise RuntimeError(
            f"could not issue an invoice for booking {booking_id} after {ISSUE_ATTEMPTS} tries"
        )


class DynamoJournal:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def post(self, lines: list[JournalLine]) -> None:
        """Writes the lines (idempotent: the same change writes the same keys)."""
        for first in range(0, len(lines), BATCH):
            requests: list[Any] = [
                {"PutRequest": {"Item": self._item(line)}} for line in lines[first : first + BATCH]
            ]
            pending: dict[str, Any] = {self._table: requests}
            while pending:
                answer = self._client.batch_write_item(RequestItems=pending)
                pending = dict(answer.get("UnprocessedItems") or {})

    def lines(self, tenant_id: str, start: datetime, end: datetime) -> Iterator[JournalLine]:
        """The lines posted in [start, end), oldest first."""
        for month, _, _ in months(*utc_days(start, end)):
            paginator = self._client.get_paginator("query")
            for page in paginator.paginate(
                TableName=self._table,
                KeyConditionExpression="pk = :pk AND sk BETWEEN :from AND :to",
                ExpressionAttributeValues={
                    ":pk": {"S": keys.journal_pk(tenant_id, month)},
                    ":from": {"S": keys.journal_sk_bound(start)},
                    ":to": {"S": keys.journal_sk_bound(end)},
                },
                ConsistentRead=True,
            ):
                # The upper bound is exclusive: a line at `end` sorts after it ("<end>#..." > "<end>").
                yield from (JournalLine.model_validate(plain(item)) for item in page.get("Items", []))

    def _item(self, line: JournalLine) -> dict[str, Any]:
        key = keys.journal_key(line.tenant_id, line.at, line.booking_id, line.version, line.line)
        return {**typed_key(key), **typed(line.model_dump(mode="json")), "kind": {"S": "journal_line"}}
