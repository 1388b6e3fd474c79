"""Invoices and the journal: a paid booking gets an invoice numbered from the business's gapless sequence
(issued from the committed change), attached as a PDF to its receipt, downloadable by staff and by the
customer through the manage link; every payment, refund and credit posts balanced journal lines, exported
as CSV for a range of the business's days."""

from __future__ import annotations

import base64
import csv
import io
import threading
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import boto3
import pypdf
import pytest

from booking.adapters.dynamodb.invoices import DynamoInvoices
from local.aws import LocalResources
from local.stripe_server import StripeServer
from tests.support.checkout import book, detail, pay, stripe_salon, wait_until
from tests.support.lambda_api import LambdaApi
from tests.support.notification_fixtures import MakeTenant, Salon, build_salon, emails
from tests.support.notification_wiring import Notifications
from tests.support.stripe_webhooks import WebhookReceiver


@pytest.fixture(scope="module")
def paid_spa(
    api: LambdaApi, make_tenant: MakeTenant, stripe_server: StripeServer, receiver: WebhookReceiver
) -> tuple[Salon, dict[str, str]]:
    return stripe_salon(api, make_tenant, stripe_server, receiver.base_url, tax_rate_basis_points=2000)


def paid_booking(
    api: LambdaApi, salon: Salon, account: dict[str, str], stripe_server: StripeServer, day: int
) -> dict[str, Any]:
    booking = book(api, salon, salon.at(salon.day(day), "10:00")).json()
    pay(stripe_server, account, detail(api, salon, booking["id"])["payment"]["intent_id"])
    return wait_until(api, salon, booking["id"], lambda b: b["payment_status"] == "paid")


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages)


def journal(api: LambdaApi, salon: Salon, first: str, last: str, role: str = "owner") -> Any:
    return api.get(f"/v1/admin/journal.csv?from={first}&to={last}", token=salon.tenant.token(role))


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def today(salon: Salon) -> str:
    return datetime.now(UTC).astimezone(salon.zone).date().isoformat()


def test_a_paid_booking_gets_an_invoice_attached_to_its_receipt_and_downloadable(
    notifications: Notifications,
    api: LambdaApi,
    paid_spa: tuple[Salon, dict[str, str]],
    stripe_server: StripeServer,
    container: Any,
) -> None:
    salon, account = paid_spa
    booking = paid_booking(api, salon, account, stripe_server, 5)
    assert booking["payment"]["captured_at"] is not None  # when the money was taken: the invoice's date
    sent = notifications.deliver()
    [receipt] = [m for m in emails(sent, booking["customer"]["email"]) if m["subject"].startswith("Receipt")]
    [attached] = [a for a in receipt["attachments"] if a["content_type"] == "application/pdf"]
    assert attached["filename"].startswith("invoice-INV-")
    reference = attached["filename"].removeprefix("invoice-").removesuffix(".pdf")
    text = pdf_text(base64.b64decode(attached["content_base64"]))
    assert reference in text
    assert "65.00" in text and "10.83" in text  # the total and the 20 % tax inside it
    assert booking["customer"]["name"] in text

    staff = api.get(f"/v1/admin/bookings/{booking['id']}/invoice", token=salon.tenant.token())
    assert staff.status == 200, staff.text
    assert staff.header("Content-Type") == "application/pdf"
    assert reference in pdf_text(staff.content)
    page = api.get(f"/v1/admin/bookings/{booking['id']}/invoice?format=html", token=salon.tenant.token())
    assert page.status == 200 and reference in page.text and "Paid" in page.text

    token = container.manage_links._tokens.issue(salon.tenant.id, booking["id"], 0)
    mine = api.get(f"/v1/public/bookings/{booking['id']}/invoice?token={token}")
    assert mine.status == 200, mine.text
    assert reference in pdf_text(mine.content)
    assert api.get(f"/v1/public/bookings/{booking['id']}/invoice?token=forged").status == 401
    # a staff member sees the invoices of their own bookings only (this token is no staff member's)
    assert (
        api.get(f"/v1/admin/bookings/{booking['id']}/invoice", token=salon.tenant.token("staff")).status
        == 404
    )


def test_a_booking_with_nothing_due_has_no_invoice(api: LambdaApi, make_tenant: MakeTenant) -> None:
    salon = build_salon(api, make_tenant, booking_window_days=365)  # paid at the desk, nothing recorded
    booking = book(api, salon, salon.at(salon.day(3), "11:00")).json()
    answer = api.get(f"/v1/admin/bookings/{booking['id']}/invoice", token=salon.tenant.token())
    assert answer.status == 404, answer.text


def test_invoice_numbers_are_gapless_and_one_per_booking_under_concurrency(
    resources: LocalResources, make_tenant: MakeTenant
) -> None:
    tenant = make_tenant(name="Counting Spa")
    invoices = DynamoInvoices(boto3.client("dynamodb"), resources.table_name)
    issued: list[int] = []
    at = datetime.now(UTC)

    def issue(booking_id: str) -> None:
        issued.append(invoices.issue(tenant.id, booking_id, at).number)

    # 12 bookings, each issued twice at once (a redelivered change racing the first): 12 numbers, no gaps.
    threads = [threading.Thread(target=issue, args=(f"booking-{n % 12}",)) for n in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    numbers = {f"booking-{n}": invoices.issue(tenant.id, f"booking-{n}", at).number for n in range(12)}
    assert sorted(numbers.values()) == list(range(1, 13))
    assert sorted(set(issued)) == list(range(1, 13))


def test_the_journal_balances_through_a_payment_and_a_half_refunded_cancellation(
    notifications: Notifications,
    api: LambdaApi,
    paid_spa: tuple[Salon, dict[str, str]],
    stripe_server: StripeServer,
) -> None:
    salon, account = paid_spa
    booking = paid_booking(api, salon, account, stripe_server, 40)
    notifications.deliver()
    cancelled = api.post(
        f"/v1/admin/bookings/{booking['id']}/cancel",
        json_body={"refund": "custom", "refund_amount_minor": 3250},
        token=salon.tenant.token(),
    )
    assert cancelled.status == 200, cancelled.text
    notifications.deliver()

    export = journal(api, salon, today(salon), today(salon))
    assert export.status == 200, export.text
    assert export.header("Content-Type").startswith("text/csv")
    rows = [r for r in rows_of(export.text) if r["booking_id"] == booking["id"]]

    def total(column: str, account_code: str | None = None) -> Decimal:
        return sum(
            (Decimal(r[column] or "0") for r in rows if account_code is None or r["account"] == account_code),
            Decimal(0),
        )

    assert total("debit") == total("credit")  # the period's lines sum to zero
    assert total("credit", "4000") == Decimal("54.17")  # the services, net of the 20 % tax
    # Half credited back on cancellation: the 32.50 kept is 27.08 net + 5.42 tax, so 54.17 - 27.08 of the net.
    assert total("debit", "4900") == Decimal("27.09")
    assert total("credit", "1200") == Decimal("32.50")  # and the half refunded through Stripe
    assert total("debit", "1100") - total("credit", "1100") == 0  # nothing left owed either way
    assert {r["invoice"] for r in rows} == {rows[0]["invoice"]} and rows[0]["invoice"].startswith("INV-")


def test_only_owners_and_admins_export_the_journal_and_bad_ranges_are_refused(
    api: LambdaApi, paid_spa: tuple[Salon, dict[str, str]]
) -> None:
    salon, _ = paid_spa
    assert journal(api, salon, today(salon), today(salon), role="admin").status == 200
    for role in ("dispatcher", "staff"):
        assert journal(api, salon, today(salon), today(salon), role=role).status == 403
    assert journal(api, salon, "2026-12-10", "2026-12-01").status == 422
    assert journal(api, salon, "2025-01-01", "2026-06-01").status == 422
    assert journal(api, salon, "2026-13-01", "2026-12-01").status == 422
