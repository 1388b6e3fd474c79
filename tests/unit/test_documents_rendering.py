"""Invoice documents: the figures a booking's first invoice shows (lines adding up to its account to the
minor unit), the credit notes and further invoices later changes issue (never a change to one issued),
the printable HTML page, and the PDF as a real PDF reader (pypdf) reads it back."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pypdf
from hypothesis import given
from hypothesis import strategies as st

from booking.domain.booking import (
    BookedService,
    Booking,
    BookingStatus,
    CustomerDetails,
    Fee,
    OfflinePayment,
    Payment,
    RefundRecord,
)
from booking.domain.catalogue import Business
from booking.domain.invoices import (
    Document,
    Seller,
    account_of,
    billed_so_far,
    first_invoice,
    issue_document,
    next_documents,
)
from booking.rendering import messages
from booking.rendering.invoices import (
    InvoiceDocument,
    InvoiceLine,
    InvoicePayment,
    build_invoice_document,
    percent_text,
    render_document,
    render_invoice_html,
    render_invoice_pdf,
)

CREATED = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
START = datetime(2026, 6, 10, 13, 0, tzinfo=UTC)  # 14:00 in London (BST)
ISSUED = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)  # already 1 July in London


def business(**fields: Any) -> Business:
    return Business.model_validate(
        {
            "id": "tenant-1",
            "name": "Serenity Day Spa",
            "slug": "serenity-spa",
            "time_zone": "Europe/London",
            "currency": "GBP",
            "address": "1 High Street\nBath BA1 1AA",
            "created_at": CREATED,
            "updated_at": CREATED,
            **fields,
        }
    )


def service(name: str, price_minor: int, minutes: int = 60) -> BookedService:
    return BookedService(
        id=f"svc-{price_minor}", name=name, duration_minutes=minutes, price_minor=price_minor
    )


def booking(
    services: list[BookedService] | None = None,
    *,
    rate: int = 2000,
    included: bool = True,
    customer: str = "Ada Lovelace",
    currency: str = "GBP",
    **fields: Any,
) -> Booking:
    services = services if services is not None else [service("Swedish massage", 6000)]
    minutes = sum(s.duration_minutes for s in services)
    end = START + timedelta(minutes=minutes)
    values: dict[str, Any] = {
        "id": "booking-1",
        "tenant_id": "tenant-1",
        "status": BookingStatus.CONFIRMED,
        "start": START,
        "end": end,
        "occupied_start": START,
        "occupied_end": end,
        "staff_id": "staff-amelia",
        "services": services,
        "total_minor": sum(s.price_minor for s in services),
        "currency": currency,
        "customer": CustomerDetails(name=customer, email="ada@customers.example"),
        "tax_rate_basis_points": rate,
        "prices_include_tax": included,
        "created_at": CREATED,
        "updated_at": CREATED,
        **fields,
    }
    return Booking(**values)


def card_payment(captured: int, refunded: int = 0, kind: str = "charge") -> Payment:
    return Payment.model_validate(
        {
            "kind": kind,
            "intent_id": "pi_123",
            "amount_minor": captured,
            "currency": "GBP",
            "captured_minor": captured,
            "refunded_minor": refunded,
        }
    )


def issued_first(b: Booking, number: int = 42, **business_fields: Any) -> Document:
    """The booking's first invoice, issued at ISSUED as number `number`."""
    seller_business = business(**business_fields)
    return issue_document(
        first_invoice(b),
        b,
        Seller.of(seller_business),
        seller_business.time_zone,
        number=number,
        at=ISSUED,
        refers_to=None,
    )


def document(b: Booking, **business_fields: Any) -> InvoiceDocument:
    return build_invoice_document(issued_first(b, **business_fields))


def issue_all(b: Booking, issued: list[Document]) -> list[Document]:
    """What `next_documents` issues for the booking as it is, numbered after those issued."""
    out: list[Document] = []
    for draft in next_documents(b, issued):
        number = 1 + sum(1 for d in [*issued, *out] if d.kind == draft.kind)
        earlier = [*issued, *out]
        first = earlier[0] if earlier else None
        out.append(
            issue_document(
                draft,
                b,
                Seller.of(business()),
                "Europe/London",
                number=number,
                at=b.updated_at,
                refers_to=first.reference if first is not None else None,
            )
        )
    return [*issued, *out]


def totals(lines: tuple[InvoiceLine, ...]) -> tuple[int, int, int]:
    return (
        sum(line.net_minor for line in lines),
        sum(line.tax_minor for line in lines),
        sum(line.gross_minor for line in lines),
    )


def pdf_text(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


# --- the document's figures -----------------------------------------------------------------------------


def test_a_paid_booking_bills_its_service_with_the_tax_inside_the_price() -> None:
    doc = document(booking(payment=card_payment(6000)))

    assert doc.reference == "INV-000042"
    assert doc.issued_on == date(2026, 7, 1)  # 23:30 UTC on 30 June is 00:30 on 1 July in London
    assert doc.appointment_at.hour == 14 and doc.appointment_at.date() == date(2026, 6, 10)
    assert (doc.business_name, doc.business_address) == ("Serenity Day Spa", "1 High Street\nBath BA1 1AA")
    assert (doc.customer_name, doc.customer_email, doc.booking_id) == (
        "Ada Lovelace",
        "ada@customers.example",
        "booking-1",
    )
    assert doc.lines == (InvoiceLine("Swedish massage (1 h)", 5000, 1000, 6000),)
    assert (doc.net_minor, doc.tax_minor, doc.total_minor) == (5000, 1000, 6000)
    assert (doc.tax_rate, doc.prices_include_tax) == ("20%", True)
    assert doc.payments == (InvoicePayment(date(2026, 6, 1), "Card (Stripe)", 6000),)
    assert (doc.paid_minor, doc.refunded_minor, doc.balance_minor, doc.status) == (6000, 0, 0, "Paid")


def test_prices_excluding_tax_have_the_tax_added_on_top() -> None:
    b = booking([service("Swedish massage", 5000), service("Express facial", 2500, 30)], included=False)

    doc = document(b)

    assert doc.lines == (
        InvoiceLine("Swedish massage (1 h)", 5000, 1000, 6000),
        InvoiceLine("Express facial (30 min)", 2500, 500, 3000),
    )
    assert (doc.net_minor, doc.tax_minor, doc.total_minor) == (7500, 1500, 9000)
    assert (doc.tax_rate, doc.prices_include_tax) == ("20%", False)
    assert (doc.paid_minor, doc.balance_minor, doc.status) == (0, 9000, "Due")
    assert doc.payments == ()


def test_the_last_service_line_takes_the_rounding_so_prices_including_tax_add_up_to_the_account() -> None:
    # 1000 at 20 % inside: 166.67 of tax each, rounded to 167 three times (501), but 500 on the 3000 total.
    b = booking([service("Massage", 1000), service("Facial", 1000), service("Sauna", 1000)])

    doc = document(b)

    assert [line.tax_minor for line in doc.lines] == [167, 167, 166]
    assert [line.net_minor for line in doc.lines] == [833, 833, 834]
    assert [line.gross_minor for line in doc.lines] == [1000, 1000, 1000]
    account = account_of(b)
    assert totals(doc.lines) == (account.services.net_minor, account.services.tax_minor, 3000)
    assert (doc.net_minor, doc.tax_minor, doc.total_minor) == (2500, 500, 3000)


def test_the_last_service_line_takes_the_rounding_so_prices_excluding_tax_add_up_to_the_account() -> None:
    # 1003 at 20 % on top: 200.6 of tax each, rounded to 201 three times (603), but 602 on the 3009 total.
    b = booking([service("Massage", 1003), service("Facial", 1003), service("Sauna", 1003)], included=False)

    doc = document(b)

    assert [line.tax_minor for line in doc.lines] == [201, 201, 200]
    assert [line.gross_minor for line in doc.lines] == [1204, 1204, 1203]
    assert [line.net_minor for line in doc.lines] == [1003, 1003, 1003]
    assert totals(doc.lines) == (3009, 602, 3611) == (doc.net_minor, doc.tax_minor, doc.total_minor)
    assert doc.total_minor == account_of(b).total_minor


@given(
    prices=st.lists(st.integers(min_value=0, max_value=500_000), min_size=1, max_size=5),
    rate=st.integers(min_value=0, max_value=10_000),
    included=st.booleans(),
    refunded_share=st.integers(min_value=0, max_value=100),
    status=st.sampled_from([BookingStatus.CONFIRMED, BookingStatus.CANCELLED, BookingStatus.NO_SHOW]),
)
def test_lines_always_add_up_to_the_account(
    prices: list[int], rate: int, included: bool, refunded_share: int, status: BookingStatus
) -> None:
    b = booking(
        [service(f"S{i}", p) for i, p in enumerate(prices)], rate=rate, included=included, status=status
    )
    gross = b.gross_minor
    b = b.model_copy(update={"payment": card_payment(gross, gross * refunded_share // 100)})

    doc = document(b)

    account = account_of(b)
    expected = (
        account.billed.net_minor + account.fees.net_minor,
        account.billed.tax_minor + account.fees.tax_minor,
        account.total_minor,
    )
    assert totals(doc.lines) == expected == (doc.net_minor, doc.tax_minor, doc.total_minor)
    assert all(line.net_minor + line.tax_minor == line.gross_minor for line in doc.lines)
    assert doc.balance_minor == account.balance_minor


def test_a_cancelled_booking_with_a_partial_refund_credits_what_was_given_back() -> None:
    b = booking(status=BookingStatus.CANCELLED, payment=card_payment(6000, refunded=3000))

    doc = document(b)

    assert doc.lines == (
        InvoiceLine("Swedish massage (1 h)", 5000, 1000, 6000),
        InvoiceLine("Cancellation credit", -2500, -500, -3000),
    )
    assert (doc.net_minor, doc.tax_minor, doc.total_minor) == (2500, 500, 3000)
    # A refund recorded before refunds were dated one by one goes by the booking's last change.
    assert doc.payments == (
        InvoicePayment(date(2026, 6, 1), "Card (Stripe)", 6000),
        InvoicePayment(date(2026, 6, 1), "Card (Stripe)", -3000),
    )
    assert (doc.paid_minor, doc.refunded_minor, doc.balance_minor, doc.status) == (6000, 3000, 0, "Paid")


def test_a_cancelled_booking_refunded_in_full_bills_nothing() -> None:
    doc = document(booking(status=BookingStatus.CANCELLED, payment=card_payment(6000, refunded=6000)))

    assert doc.lines[-1] == InvoiceLine("Cancellation credit", -5000, -1000, -6000)
    assert (doc.total_minor, doc.balance_minor, doc.status) == (0, 0, "Nothing due")


def test_a_no_show_charged_a_fee_to_the_card_on_file_bills_the_fee_instead_of_the_service() -> None:
    fee_at = datetime(2026, 6, 10, 23, 15, tzinfo=UTC)  # 11 June in London
    b = booking(
        status=BookingStatus.NO_SHOW,
        payment=card_payment(0, kind="card_on_file"),
        fees=[Fee(kind="no_show", amount_minor=2000, status="charged", at=fee_at)],
    )

    doc = document(b)

    assert doc.lines == (
        InvoiceLine("Swedish massage (1 h)", 5000, 1000, 6000),
        InvoiceLine("No-show credit", -5000, -1000, -6000),
        InvoiceLine("No-show fee", 1667, 333, 2000),
    )
    assert (doc.net_minor, doc.tax_minor, doc.total_minor) == (1667, 333, 2000)
    assert doc.payments == (InvoicePayment(date(2026, 6, 11), "Card (Stripe)", 2000),)
    assert (doc.paid_minor, doc.balance_minor, doc.status) == (2000, 0, "Paid")


def test_a_fee_the_card_did_not_pay_is_billed_as_owed() -> None:
    b = booking(
        status=BookingStatus.NO_SHOW,
        payment_status="unpaid",
        fees=[Fee(kind="no_show", amount_minor=2000, status="failed", at=START, failure_kind="no_card")],
    )

    doc = document(b)

    assert doc.lines[-1] == InvoiceLine("No-show fee", 1667, 333, 2000)
    assert (doc.total_minor, doc.paid_minor, doc.balance_minor, doc.status) == (2000, 0, 2000, "Due")


def test_a_no_show_whose_deposit_was_kept_shows_the_deposit_as_the_fee_payment() -> None:
    b = booking(
        status=BookingStatus.NO_SHOW,
        payment=card_payment(2000),
        fees=[Fee(kind="no_show", amount_minor=2000, status="kept", at=START)],
    )

    doc = document(b)

    assert doc.lines[1:] == (
        InvoiceLine("No-show credit", -5000, -1000, -6000),
        InvoiceLine("No-show fee (kept from the deposit)", 1667, 333, 2000),
    )
    assert doc.payments == (InvoicePayment(date(2026, 6, 1), "Card (Stripe)", 2000),)
    assert (doc.total_minor, doc.paid_minor, doc.balance_minor, doc.status) == (2000, 2000, 0, "Paid")


def test_offline_payments_are_listed_by_date_in_the_business_zone_with_their_method() -> None:
    b = booking(
        offline_payments=[
            OfflinePayment(
                amount_minor=4000, method="card_terminal", at=datetime(2026, 6, 10, 14, tzinfo=UTC)
            ),
            # 23:30 UTC on 9 June is already 10 June in London, and came first.
            OfflinePayment(amount_minor=1500, method="cash", at=datetime(2026, 6, 9, 23, 30, tzinfo=UTC)),
            OfflinePayment(amount_minor=500, method="bank_transfer", at=datetime(2026, 6, 11, 9, tzinfo=UTC)),
        ]
    )

    doc = document(b)

    assert doc.payments == (
        InvoicePayment(date(2026, 6, 10), "Cash", 1500),
        InvoicePayment(date(2026, 6, 10), "Card terminal", 4000),
        InvoicePayment(date(2026, 6, 11), "Bank transfer", 500),
    )
    assert (doc.paid_minor, doc.balance_minor, doc.status) == (6000, 0, "Paid")


def test_the_status_follows_the_balance() -> None:
    def paid(amount: int) -> InvoiceDocument:
        return document(
            booking(offline_payments=[OfflinePayment(amount_minor=amount, method="other", at=START)])
        )

    assert (paid(2000).balance_minor, paid(2000).status) == (4000, "Due")
    assert (paid(7000).balance_minor, paid(7000).status) == (-1000, "Credit due")
    assert paid(2000).payments == (InvoicePayment(date(2026, 6, 10), "Other", 2000),)


def test_tax_rates_show_as_percentages() -> None:
    assert [percent_text(bp) for bp in (2000, 750, 1234, 0, 10_000)] == [
        "20%",
        "7.5%",
        "12.34%",
        "0%",
        "100%",
    ]
    assert document(booking(rate=750)).tax_rate == "7.5%"


# --- HTML -----------------------------------------------------------------------------------------------


def test_the_html_page_shows_the_invoice_with_everything_escaped() -> None:
    b = booking(
        customer="<script>alert(1)</script> Zoë 山田",
        status=BookingStatus.CANCELLED,
        payment=card_payment(6000, refunded=3000),
    )

    html = render_invoice_html(document(b, name="Smith & Sons"))

    assert html.startswith("<!doctype html>")
    assert "Invoice INV-000042" in html
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Zoë 山田" in html
    assert "Smith &amp; Sons" in html
    assert "1 July 2026" in html  # issued, in the business's zone
    assert "Wednesday 10 June 2026 at 14:00 (BST, Europe/London)" in html
    for amount in ("£60.00", "£50.00", "£10.00", "-£30.00", "-£25.00", "-£5.00", "£0.00"):
        assert amount in html
    assert "Cancellation credit" in html
    assert "Prices include tax at 20%." in html


def test_the_invoice_template_compiles_with_the_message_templates() -> None:
    # messages.compile_templates() compiles every template in the folder, this one included.
    messages.compile_templates()


# --- PDF ------------------------------------------------------------------------------------------------


def test_the_pdf_reads_back_with_the_reference_customer_totals_and_balance() -> None:
    b = booking(
        [service("Swedish massage", 5000), service("Express facial", 2500, 30)],
        included=False,
        offline_payments=[OfflinePayment(amount_minor=5000, method="cash", at=START)],
    )

    pdf = render_invoice_pdf(document(b))

    assert pdf.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    assert [round(float(v)) for v in reader.pages[0].mediabox] == [0, 0, 595, 842]  # A4
    text = reader.pages[0].extract_text()
    for shown in (
        "Invoice INV-000042",
        "Serenity Day Spa",
        "Bath BA1 1AA",
        "Ada Lovelace",
        "ada@customers.example",
        "Issued 1 July 2026",
        "Wednesday 10 June 2026 at 14:00 (BST, Europe/London)",
        "Swedish massage (1 h)",
        "Express facial (30 min)",
        "Net £75.00",
        "Tax (20%) £15.00",
        "Total £90.00",
        "10 June 2026 Cash £50.00",
        "Balance due £40.00",
        "Due",
    ):
        assert shown in text, f"{shown!r} not in {text!r}"


def test_the_pdf_shows_refunds_and_escapes_parentheses_and_backslashes() -> None:
    b = booking(
        [service("Back (deep) \\ neck massage", 6000)],
        status=BookingStatus.CANCELLED,
        payment=card_payment(6000, refunded=3000),
    )

    text = pdf_text(render_invoice_pdf(document(b)))

    assert "Back (deep) \\ neck massage (1 h)" in text
    assert "Cancellation credit -£25.00 -£5.00 -£30.00" in text
    assert "Card (Stripe) (refund) -£30.00" in text
    assert "Refunded -£30.00" in text
    assert "Balance due £0.00" in text


def test_names_outside_cp1252_print_as_question_marks_in_the_pdf_without_failing() -> None:
    doc = document(booking(customer="Zoë 山田"), name="Café Ünïcode ☕")

    text = pdf_text(render_invoice_pdf(doc))

    assert "Zoë ??" in text  # the Latin-1 part survives; the rest is the known limit
    assert "Café Ünïcode ?" in text
    assert "Zoë 山田" in render_invoice_html(doc)


def test_a_currency_symbol_outside_cp1252_falls_back_to_its_code_in_the_pdf() -> None:
    b = booking(currency="INR", offline_payments=[OfflinePayment(amount_minor=6000, method="cash", at=START)])

    text = pdf_text(render_invoice_pdf(document(b)))

    assert "Total INR 60.00" in text
    assert "₹" in render_invoice_html(document(b))


def test_long_descriptions_are_cut_to_the_column_and_many_lines_flow_onto_more_pages() -> None:
    long_name = "Hot stone massage with aromatherapy oils " * 8
    services = [service(long_name, 1000)] + [service(f"Session {i}", 1000, 30) for i in range(1, 60)]
    b = booking(services)

    pdf = render_invoice_pdf(document(b))

    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 2
    first = reader.pages[0].extract_text()
    assert "Hot stone massage with aromatherapy" in first
    assert long_name.strip() not in first
    assert "\u2026" in first  # cut with an ellipsis
    text = pdf_text(pdf)
    assert "Session 59 (30 min)" in text
    assert "Total £600.00" in text
    assert f"page {len(reader.pages)} of {len(reader.pages)}" in text


def test_a_card_payment_is_dated_when_it_was_taken_not_when_the_booking_last_changed() -> None:
    taken = datetime(2026, 6, 2, 8, 0, tzinfo=UTC)
    paid = booking(
        payment_status="partially_refunded",
        status=BookingStatus.CANCELLED,
        payment=Payment(
            kind="charge",
            intent_id="pi_1",
            amount_minor=6000,
            currency="GBP",
            captured_minor=6000,
            refunded_minor=3000,
            captured_at=taken,
        ),
        updated_at=datetime(2026, 6, 9, 18, 0, tzinfo=UTC),  # cancelled a week later
    )
    assert [(p.on, p.amount_minor) for p in document(paid).payments] == [
        (date(2026, 6, 2), 6000),
        (date(2026, 6, 9), -3000),
    ]


# --- documents after the first --------------------------------------------------------------------------


def refund(amount: int, at: datetime, refund_id: str = "re_1") -> RefundRecord:
    return RefundRecord(id=refund_id, amount_minor=amount, at=at)


def test_a_partial_refund_after_the_invoice_issues_a_credit_note_and_leaves_the_invoice_as_it_was() -> None:
    paid = booking(payment_status="paid", payment=card_payment(6000), version=2)
    first = issue_all(paid, [])
    invoice_bytes = render_document(first[0])
    refunded_at = datetime(2026, 6, 9, 10, 0, tzinfo=UTC)
    payment = card_payment(6000).with_refund(refund(3000, refunded_at))
    cancelled = paid.model_copy(
        update={
            "status": BookingStatus.CANCELLED,
            "payment": payment,
            "payment_status": "partially_refunded",
            "version": 4,
            "updated_at": refunded_at,
        }
    )

    after = issue_all(cancelled, first)

    assert [d.reference for d in after] == ["INV-000001", "CN-000001"]
    assert after[0] == first[0]  # issued documents are never touched
    assert render_document(after[0]) == invoice_bytes  # and render to the same bytes
    credit = after[1]
    assert (credit.kind, credit.refers_to, credit.covers_version) == ("credit_note", "INV-000001", 4)
    assert [(line.description, line.gross_minor) for line in credit.lines] == [("Cancellation credit", -3000)]
    shown = build_invoice_document(credit)
    assert (shown.title, shown.total_label, shown.total_minor, shown.status) == (
        "Credit note",
        "Total credited",
        3000,
        "Credit note",
    )
    assert shown.payments[-1] == InvoicePayment(date(2026, 6, 9), "Card (Stripe)", -3000)
    # Together, the documents bill exactly what the account does.
    assert billed_so_far(after, "services") == account_of(cancelled).billed
    assert issue_all(cancelled, after) == after  # nothing more to issue


def test_a_fee_owed_after_the_invoice_issues_a_further_invoice_for_it() -> None:
    unpaid = booking(payment_status="unpaid", version=2)
    first = issue_all(unpaid, [])
    no_show = unpaid.model_copy(
        update={
            "status": BookingStatus.NO_SHOW,
            "fees": [Fee(kind="no_show", amount_minor=2000, status="failed", at=START)],
            "version": 3,
        }
    )

    after = issue_all(no_show, first)

    assert [d.reference for d in after] == ["INV-000001", "CN-000001", "INV-000002"]
    assert [(line.description, line.gross_minor) for line in after[1].lines] == [("No-show credit", -6000)]
    assert [(line.description, line.gross_minor) for line in after[2].lines] == [("No-show fee", 2000)]
    assert after[2].refers_to == "INV-000001"
    assert sum(d.total.gross_minor for d in after) == account_of(no_show).total_minor == 2000


@given(
    steps=st.lists(
        st.sampled_from(["refund", "cancel", "no_show_fee", "cash", "complete"]), min_size=1, max_size=6
    ),
    price=st.integers(min_value=100, max_value=50_000),
    rate=st.integers(min_value=0, max_value=2500),
)
def test_documents_always_add_up_to_the_account_and_are_never_rewritten(
    steps: list[str], price: int, rate: int
) -> None:
    current = booking([service("Treatment", price)], rate=rate, payment_status="unpaid", version=1)
    documents = issue_all(current, [])
    for version, step in enumerate(steps, start=2):
        update: dict[str, Any] = {"version": version}
        payment = current.payment
        if step == "refund" and payment is not None and payment.captured_minor > payment.refunded_minor:
            amount = (payment.captured_minor - payment.refunded_minor + 1) // 2
            update["payment"] = payment.with_refund(refund(amount, START, f"re_{version}"))
        elif step == "cancel" and current.status is BookingStatus.CONFIRMED:
            update["status"] = BookingStatus.CANCELLED
        elif step == "complete" and current.status is BookingStatus.CONFIRMED:
            update["status"] = BookingStatus.COMPLETED
        elif step == "no_show_fee" and current.status is BookingStatus.CONFIRMED:
            update["status"] = BookingStatus.NO_SHOW
            update["fees"] = [Fee(kind="no_show", amount_minor=500, status="failed", at=START)]
        elif step == "cash":
            update["payment"] = card_payment(current.gross_minor)
        current = current.model_copy(update=update)
        before = list(documents)
        documents = issue_all(current, documents)
        assert documents[: len(before)] == before
        account = account_of(current)
        assert billed_so_far(documents, "services") == account.billed
        assert billed_so_far(documents, "fees") == account.fees
    assert len({d.reference for d in documents}) == len(documents)
