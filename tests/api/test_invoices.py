"""Invoices and the journal: a paid booking gets an invoice numbered from the business's gapless sequence
(issued from the committed change), attached as a PDF to its receipt, downloadable by staff and by the
customer through the manage link; a later refund issues a credit note of its own and never changes the
invoice's bytes; every payment, refund and credit posts balanced journal lines, exported as CSV for a range
of the business's days and summed per account in the trial balance."""

from __future__ import annotations

import base64
import csv
import io
import threading
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pypdf
import pytest

from booking.domain.booking import BookingStatus, Payment, RefundRecord
from booking.services.payments.bookkeeping import Bookkeeping
from local.stripe_server import StripeServer
from tests.support.checkout import book, detail, pay, stripe_salon, wait_until
from tests.support.lambda_api import LambdaApi
from tests.support.notification_fixtures import MakeTenant, Salon, build_salon, emails
from tests.support.notification_wiring import Notifications
from tests.support.stripe_webhooks import WebhookReceiver
from tests.unit.test_documents_rendering import booking as booking_of


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


def test_document_numbers_are_gapless_and_one_set_per_change_under_concurrency(
    container: Any, make_tenant: MakeTenant
) -> None:
    tenant = make_tenant(name="Counting Spa")
    books: Bookkeeping = container.bookkeeping
    paid = [
        booking_of(
            id=f"booking-{n}",
            tenant_id=tenant.id,
            payment_status="paid",
            payment=Payment(
                kind="charge", intent_id=f"pi_{n}", amount_minor=6000, currency="GBP", captured_minor=6000
            ),
            version=2,
        )
        for n in range(12)
    ]

    def issue_twice_at_once(bookings: list[Any]) -> None:
        # Each change issued twice at once (a redelivered change racing the first, or a download).
        threads = [threading.Thread(target=books.up_to_date, args=(b,)) for b in bookings * 2]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    issue_twice_at_once(paid)
    refunded = [
        b.model_copy(
            update={
                "status": BookingStatus.CANCELLED,
                "payment": b.payment.with_refund(  # type: ignore[union-attr]
                    RefundRecord(id=f"re_{b.id}", amount_minor=3000, at=b.updated_at)
                ),
                "version": 3,
            }
        )
        for b in paid[:6]
    ]
    issue_twice_at_once(refunded)

    references = sorted(d.reference for b in paid for d in books.up_to_date(b)[1].documents)
    assert references == sorted([f"INV-{n:06d}" for n in range(1, 13)] + [f"CN-{n:06d}" for n in range(1, 7)])
    for b in refunded:
        invoice, credit = books.up_to_date(b)[1].documents
        assert (invoice.kind, credit.kind, credit.refers_to) == ("invoice", "credit_note", invoice.reference)


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
    # The payment's lines name the invoice; the refund's and the credit's, the credit note it issued.
    assert {r["invoice"][:4] for r in rows if r["memo"].startswith("payment")} == {"INV-"}
    assert {r["invoice"][:3] for r in rows if r["memo"].startswith(("refund", "services credited"))} == {
        "CN-"
    }


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


def test_an_issued_invoice_never_changes_and_a_refund_issues_a_credit_note(
    notifications: Notifications,
    api: LambdaApi,
    paid_spa: tuple[Salon, dict[str, str]],
    stripe_server: StripeServer,
    container: Any,
) -> None:
    salon, account = paid_spa
    booking = paid_booking(api, salon, account, stripe_server, 60)
    notifications.deliver()
    owner = salon.tenant.token()
    before = {
        fmt: api.get(f"/v1/admin/bookings/{booking['id']}/invoice?format={fmt}", token=owner).content
        for fmt in ("pdf", "html")
    }
    cancelled = api.post(
        f"/v1/admin/bookings/{booking['id']}/cancel",
        json_body={"refund": "custom", "refund_amount_minor": 2000},
        token=owner,
    )
    assert cancelled.status == 200, cancelled.text
    sent = notifications.deliver()

    for fmt, content in before.items():
        after = api.get(f"/v1/admin/bookings/{booking['id']}/invoice?format={fmt}", token=owner)
        assert after.content == content  # the same bytes, after the refund
    listed = api.get(f"/v1/admin/bookings/{booking['id']}/documents", token=owner).json()["documents"]
    assert [d["kind"] for d in listed] == ["invoice", "credit_note"]
    invoice, credit = listed
    assert (invoice["total_minor"], credit["total_minor"]) == (6500, -2000)
    assert credit["refers_to"] == invoice["reference"]
    note = api.get(f"/v1/admin/bookings/{booking['id']}/documents/{credit['reference']}", token=owner)
    text = pdf_text(note.content)
    assert f"Credit note {credit['reference']}" in text and f"For invoice {invoice['reference']}" in text
    assert "Cancellation credit" in text and "Total credited £20.00" in text
    assert "(refund) -£20.00" in text  # the refund, dated
    # The refund's receipt carries the credit note it issued; the payment's, the invoice.
    receipts = [m for m in emails(sent, booking["customer"]["email"]) if m["subject"].startswith("Receipt")]
    assert sorted(a["filename"] for m in receipts for a in m["attachments"]) == [
        f"credit-note-{credit['reference']}.pdf",
        f"invoice-{invoice['reference']}.pdf",
    ]
    # The customer sees the same documents through the manage link.
    token = container.manage_links._tokens.issue(salon.tenant.id, booking["id"], 0)
    mine = api.get(f"/v1/public/bookings/{booking['id']}/documents?token={token}").json()["documents"]
    assert [d["reference"] for d in mine] == [invoice["reference"], credit["reference"]]
    same = api.get(f"/v1/public/bookings/{booking['id']}/documents/{invoice['reference']}?token={token}")
    assert same.content == before["pdf"]


def test_the_trial_balance_agrees_with_the_journal_and_sums_to_zero(
    notifications: Notifications,
    api: LambdaApi,
    paid_spa: tuple[Salon, dict[str, str]],
    stripe_server: StripeServer,
) -> None:
    salon, account = paid_spa
    booking = paid_booking(api, salon, account, stripe_server, 70)  # today's books hold at least this
    api.post(
        f"/v1/admin/bookings/{booking['id']}/cancel",
        json_body={"refund": "custom", "refund_amount_minor": 1500},
        token=salon.tenant.token(),
    )
    notifications.deliver()
    day = today(salon)
    answer = api.get(f"/v1/admin/accounts?from={day}&to={day}", token=salon.tenant.token())
    assert answer.status == 200, answer.text
    trial = answer.json()
    assert trial["totals"] == {"GBP": 0}
    codes = [a["code"] for a in trial["accounts"]]
    assert codes == sorted(codes) and {"1100", "1200", "2200", "4000", "4100", "4900"} <= set(codes)
    rows = rows_of(journal(api, salon, day, day).text)
    for account in trial["accounts"]:
        debit = sum((Decimal(r["debit"] or "0") for r in rows if r["account"] == account["code"]), Decimal(0))
        credit = sum(
            (Decimal(r["credit"] or "0") for r in rows if r["account"] == account["code"]), Decimal(0)
        )
        assert (account["debit_minor"], account["credit_minor"]) == (int(debit * 100), int(credit * 100))
    for role in ("dispatcher", "staff"):
        assert (
            api.get(f"/v1/admin/accounts?from={day}&to={day}", token=salon.tenant.token(role)).status == 403
        )
    assert api.get(f"/v1/admin/accounts?from={day}&to=2020-01-01", token=salon.tenant.token()).status == 422
