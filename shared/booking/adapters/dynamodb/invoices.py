"""Invoices, credit notes and journal lines in the table.

Document numbers come from a per-business counter for each sequence (invoices, credit notes) that moves
only in the transaction writing the document, conditioned on the number read; the same transaction moves
the booking's own document count (conditioned likewise) and writes the documents, their files and the
customer's summaries, each on condition that it does not exist. So numbers are gapless, a booking's
documents are issued one set at a time, and an issued document is never written again: a lost race is
reported to the caller (bookkeeping), which reads again and works out what is still to issue.

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
from booking.domain.invoices import (
    DOCUMENT_KINDS,
    Document,
    DocumentKind,
    DocumentSet,
    DocumentSummary,
    RenderedDocument,
)
from booking.domain.journal import JournalLine
from booking.retry import pause_before_retry

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

BATCH = 25  # DynamoDB's BatchWriteItem limit
UNPROCESSED_ATTEMPTS = 8  # throttled batch writes retried with backoff, then the failure is raised


class DynamoDocuments:
    """The Documents port."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def issued(self, tenant_id: str, booking_id: str) -> DocumentSet:
        documents: list[Document] = []
        covered = 0
        paginator = self._client.get_paginator("query")
        for page in paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND sk BETWEEN :first AND :last",
            ExpressionAttributeValues={
                ":pk": {"S": keys.documents_pk(tenant_id, booking_id)},
                ":first": {"S": "DOC#"},
                ":last": {"S": "DOCUMENTS"},  # DOC#nnn..., then the marker: "DOCU" sorts after "DOC#"
            },
            ConsistentRead=True,
        ):
            for raw in page.get("Items", []):
                item = plain(raw)
                if item["sk"] == "DOCUMENTS":
                    covered = int(item["covered_version"])
                else:
                    documents.append(Document.model_validate_json(item["doc"]))
        return DocumentSet(tuple(documents), covered, self._last_numbers(tenant_id))

    def _last_numbers(self, tenant_id: str) -> dict[DocumentKind, int]:
        answer = self._client.batch_get_item(
            RequestItems={
                self._table: {
                    "Keys": [
                        typed_key(keys.document_counter_key(tenant_id, kind)) for kind in DOCUMENT_KINDS
                    ],
                    "ConsistentRead": True,
                }
            }
        )
        found: dict[str, int] = {}
        for item in answer["Responses"].get(self._table, []):
            counter = plain(item)
            found[counter["pk"]] = int(counter["last"])
        if answer.get("UnprocessedKeys"):  # two small items come back unprocessed only when throttled
            found |= self._unprocessed_numbers(tenant_id)
        return {
            kind: found.get(keys.document_counter_key(tenant_id, kind)["pk"], 0) for kind in DOCUMENT_KINDS
        }

    def _unprocessed_numbers(self, tenant_id: str) -> dict[str, int]:
        found: dict[str, int] = {}
        for kind in DOCUMENT_KINDS:
            key = keys.document_counter_key(tenant_id, kind)
            item = self._client.get_item(TableName=self._table, Key=typed_key(key), ConsistentRead=True).get(
                "Item"
            )
            if item is not None:
                found[key["pk"]] = int(plain(item)["last"])
        return found

    def record(self, tenant_id: str, booking_id: str, seen: DocumentSet, new: list[RenderedDocument]) -> bool:
        ops: list[Any] = []
        moved: dict[DocumentKind, int] = {}
        for rendered in new:
            moved[rendered.document.kind] = max(
                moved.get(rendered.document.kind, 0), rendered.document.number
            )
        for kind, last in moved.items():
            before = seen.last_numbers[kind]
            ops.append(
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": typed_key(keys.document_counter_key(tenant_id, kind)),
                        "UpdateExpression": "SET #last = :last",
                        "ConditionExpression": "#last = :seen" if before else "attribute_not_exists(#last)",
                        "ExpressionAttributeNames": {"#last": "last"},
                        "ExpressionAttributeValues": {":last": {"N": str(last)}}
                        | ({":seen": {"N": str(before)}} if before else {}),
                    }
                }
            )
        count = len(seen.documents)
        ops.append(
            {
                "Update": {
                    "TableName": self._table,
                    "Key": typed_key(keys.documents_marker_key(tenant_id, booking_id)),
                    "UpdateExpression": "SET #count = :count, covered_version = :version, kind = :kind",
                    "ConditionExpression": "#count = :seen" if count else "attribute_not_exists(#count)",
                    "ExpressionAttributeNames": {"#count": "count"},
                    "ExpressionAttributeValues": {
                        ":count": {"N": str(count + len(new))},
                        ":version": {"N": str(max(d.document.covers_version for d in new))},
                        ":kind": {"S": "documents"},
                    }
                    | ({":seen": {"N": str(count)}} if count else {}),
                }
            }
        )
        for position, rendered in enumerate(new, start=count):
            document = rendered.document
            ops.append(
                self._put(
                    keys.document_key(tenant_id, booking_id, position),
                    {
                        "kind": "document",
                        "reference": document.reference,
                        "doc": document.model_dump_json(),
                    },
                )
            )
            for fmt, content in (("pdf", rendered.pdf), ("html", rendered.html)):
                ops.append(
                    self._put(
                        keys.document_file_key(tenant_id, booking_id, document.reference, fmt),
                        {
                            "kind": "document_file",
                            "content": content,
                        },
                    )
                )
            ops.append(
                self._put(
                    keys.customer_document_key(
                        tenant_id, document.customer_email, document.issued_at, document.reference
                    ),
                    {
                        "kind": "customer_document",
                        "reference": document.reference,
                        "document_kind": document.kind,
                        "booking_id": booking_id,
                        "issued_at": document.issued_at.isoformat(),
                        "total_minor": document.total.gross_minor,
                        "currency": document.currency,
                    },
                )
            )
        try:
            self._client.transact_write_items(TransactItems=ops)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            return False  # another issue took a number, or this booking's documents moved on
        return True

    def _put(self, key: dict[str, str], attributes: dict[str, Any]) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self._table,
                "Item": {**typed_key(key), **typed(attributes)},
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def file(self, tenant_id: str, booking_id: str, reference: str, fmt: str) -> bytes | None:
        item = self._client.get_item(
            TableName=self._table,
            Key=typed_key(keys.document_file_key(tenant_id, booking_id, reference, fmt)),
            ConsistentRead=True,
        ).get("Item")
        return bytes(item["content"]["B"]) if item is not None else None

    def for_customer(self, tenant_id: str, email: str) -> list[DocumentSummary]:
        found: list[DocumentSummary] = []
        paginator = self._client.get_paginator("query")
        for page in paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :doc)",
            ExpressionAttributeValues={
                ":pk": {"S": keys.customer_pk(tenant_id, email)},
                ":doc": {"S": keys.DOCUMENT_PREFIX},
            },
        ):
            for raw in page.get("Items", []):
                item = plain(raw)
                found.append(
                    DocumentSummary(
                        reference=item["reference"],
                        kind=item["document_kind"],
                        booking_id=item["booking_id"],
                        issued_at=datetime.fromisoformat(item["issued_at"]),
                        total_minor=int(item["total_minor"]),
                        currency=item["currency"],
                    )
                )
        return found


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
            for attempt in range(UNPROCESSED_ATTEMPTS):
                answer = self._client.batch_write_item(RequestItems=pending)
                pending = dict(answer.get("UnprocessedItems") or {})
                if not pending:
                    break
                pause_before_retry(attempt)  # throttled: back off with jitter before writing the rest
            else:
                raise RuntimeError(f"journal lines still unprocessed after {UNPROCESSED_ATTEMPTS} tries")

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
