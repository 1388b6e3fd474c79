"""The journal: every change to a booking's money posts balanced lines, and the receivable left on a
booking's lines is exactly what its invoice says is still owed — whatever order things happen in."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from booking.domain.booking import BookingStatus, Fee, OfflinePayment, Payment
from booking.domain.invoices import account_of, invoiceable
from booking.domain.journal import (
    CHART,
    RECEIVABLE,
    REFUNDS_AND_CREDITS,
    TAX_PAYABLE,
    journal_lines,
    trial_balance,
)
from tests.unit.test_documents_rendering import START, booking, issue_all, service


def lines_between(before: Any, after: Any, version: int) -> list[Any]:
    return journal_lines(
        account_of(before) if before is not None and invoiceable(before) else None,
        account_of(after),
        tenant_id="tenant-1",
        booking_id="booking-1",
        version=version,
        at=START,
        currency="GBP",
        invoice="INV-000001",
    )


def test_a_paid_booking_bills_the_services_and_clears_the_receivable() -> None:
    paid = booking(
        payment_status="paid",
        payment=Payment(
            kind="charge", intent_id="pi_1", amount_minor=6000, currency="GBP", captured_minor=6000
        ),
    )
    lines = lines_between(None, paid, 2)
    by_account = {(line.account, line.memo): (line.debit_minor, line.credit_minor) for line in lines}
    assert by_account[(RECEIVABLE, "services billed")] == (6000, 0)
    assert by_account[("4000", "services billed")] == (0, 5000)
    assert by_account[(TAX_PAYABLE, "tax on services")] == (0, 1000)
    assert by_account[("1200", "payment received: stripe")] == (6000, 0)
    assert by_account[(RECEIVABLE, "payment received: stripe")] == (0, 6000)
    assert sum(line.debit_minor for line in lines) == sum(line.credit_minor for line in lines) == 12000
    assert all((line.debit_minor == 0) != (line.credit_minor == 0) for line in lines)


def test_a_cancellation_with_half_refunded_credits_the_rest_and_pays_it_back() -> None:
    payment = Payment(kind="charge", intent_id="pi_1", amount_minor=6000, currency="GBP", captured_minor=6000)
    paid = booking(payment_status="paid", payment=payment)
    cancelled = paid.model_copy(
        update={
            "status": BookingStatus.CANCELLED,
            "payment_status": "partially_refunded",
            "payment": payment.model_copy(update={"refunded_minor": 3000}),
        }
    )
    lines = lines_between(paid, cancelled, 3)
    credited = [line for line in lines if line.account == REFUNDS_AND_CREDITS]
    assert [(line.debit_minor, line.memo) for line in credited] == [(2500, "services credited")]
    refund = [line for line in lines if line.memo == "refund paid"]
    assert {(line.account, line.debit_minor, line.credit_minor) for line in refund} == {
        (RECEIVABLE, 3000, 0),
        ("1200", 0, 3000),
    }
    assert sum(line.debit_minor - line.credit_minor for line in lines) == 0


def test_a_no_show_fee_charged_to_the_card_is_fee_revenue() -> None:
    on_file = Payment(kind="card_on_file", intent_id="seti_1", amount_minor=0, currency="GBP")
    confirmed = booking(payment=on_file)
    assert not invoiceable(confirmed)  # a card kept on file is no invoice by itself
    no_show = confirmed.model_copy(
        update={
            "status": BookingStatus.NO_SHOW,
            "fees": [Fee(kind="no_show", amount_minor=2400, status="charged", at=START, intent_id="pi_2")],
        }
    )
    lines = lines_between(confirmed, no_show, 3)
    assert {(line.account, line.debit_minor, line.credit_minor) for line in lines} == {
        (RECEIVABLE, 2400, 0),
        ("4100", 0, 2000),
        (TAX_PAYABLE, 0, 400),
        ("1200", 2400, 0),
        (RECEIVABLE, 0, 2400),
    }


changes = st.lists(
    st.sampled_from(
        [
            "capture",
            "cash",
            "refund",
            "cancel",
            "no_show",
            "fee",
            "fee_failed",
            "fee_paid_later",
            "complete",
            "overpay",
            "credit_back",
        ]
    ),
    max_size=10,
)


@given(
    changes,
    st.integers(min_value=0, max_value=2500),
    st.booleans(),
    st.integers(min_value=100, max_value=50_000),
)
def test_any_sequence_of_changes_balances_and_leaves_the_invoice_balance_receivable(
    steps: list[str], rate: int, included: bool, price: int
) -> None:
    start = "unpaid" if steps[:1] != ["complete"] else "not_required"  # paid at the venue, nothing recorded
    current = booking([service("Treatment", price)], rate=rate, included=included, payment_status=start)
    every_line = lines_between(None, current, 1) if invoiceable(current) else []
    documents = issue_all(current, [])
    for version, step in enumerate(steps, start=2):
        payment = current.payment or Payment(
            kind="charge", intent_id="pi_1", amount_minor=current.gross_minor, currency="GBP"
        )
        update: dict[str, Any] = {"version": version}
        if step == "capture":
            update["payment"] = payment.model_copy(update={"captured_minor": current.gross_minor})
        elif step == "cash":
            update["offline_payments"] = [
                *current.offline_payments,
                OfflinePayment(amount_minor=price // 3 + 1, method="cash", at=START),
            ]
        elif step == "refund" and payment.captured_minor > payment.refunded_minor:
            update["payment"] = payment.model_copy(
                update={
                    "refunded_minor": payment.refunded_minor
                    + (payment.captured_minor - payment.refunded_minor) // 2
                    + 1
                }
            )
        elif step in ("cancel", "no_show") and current.status is BookingStatus.CONFIRMED:
            update["status"] = BookingStatus.CANCELLED if step == "cancel" else BookingStatus.NO_SHOW
        elif step in ("fee", "fee_failed"):
            status = "charged" if step == "fee" else "failed"
            update["fees"] = [*current.fees, Fee(kind="no_show", amount_minor=500, status=status, at=START)]
        elif step == "fee_paid_later" and any(fee.status == "failed" for fee in current.fees):
            update["fees"] = [fee.model_copy(update={"status": "charged"}) for fee in current.fees]
        elif step == "complete" and current.status is BookingStatus.CONFIRMED:
            update["status"] = BookingStatus.COMPLETED
        elif step == "overpay":  # paid at the desk beyond what is owed: a credit
            update["offline_payments"] = [
                *current.offline_payments,
                OfflinePayment(
                    amount_minor=max(account_of(current).balance_minor, 0) + 700,
                    method="card_terminal",
                    at=START,
                ),
            ]
        elif step == "credit_back" and account_of(current).balance_minor < 0:
            update["offline_payments"] = [
                *current.offline_payments,
                OfflinePayment(
                    amount_minor=-account_of(current).balance_minor, method="cash", kind="refund", at=START
                ),
            ]
        changed = current.model_copy(update=update)
        every_line += lines_between(current, changed, version)
        documents = issue_all(changed, documents)
        current = changed
        # The books and the documents agree at every step: what the documents bill is what the journal
        # recognised (receivable raised by billing), and credits are credit notes.
        if invoiceable(current):
            account = account_of(current)
            assert sum(d.total.gross_minor for d in documents) == account.total_minor
    assert sum(line.debit_minor for line in every_line) == sum(line.credit_minor for line in every_line)
    receivable = sum(
        line.debit_minor - line.credit_minor for line in every_line if line.account == RECEIVABLE
    )
    expected = account_of(current).balance_minor if every_line else 0
    assert receivable == expected
    if current.status is BookingStatus.COMPLETED:  # revenue recognised, paid or not
        revenue = sum(line.credit_minor - line.debit_minor for line in every_line if line.account == "4000")
        assert revenue == account_of(current).billed.net_minor


def test_the_trial_balance_lists_the_chart_and_sums_to_zero() -> None:
    paid = booking(
        payment_status="paid",
        payment=Payment(
            kind="charge", intent_id="pi_1", amount_minor=6000, currency="GBP", captured_minor=6000
        ),
    )
    assert paid.payment is not None
    cancelled = paid.model_copy(
        update={
            "status": BookingStatus.CANCELLED,
            "payment": paid.payment.model_copy(update={"refunded_minor": 3000}),
        }
    )
    lines = lines_between(None, paid, 2) + lines_between(paid, cancelled, 3)

    rows = trial_balance(lines)

    assert [row.account.code for row in rows] == [account.code for account in CHART]
    assert sum(row.balance_minor for row in rows) == 0
    by_code = {row.account.code: row for row in rows}
    assert by_code["1200"].balance_minor == 3000  # taken 60, refunded 30: 30 left in Stripe clearing
    assert by_code[RECEIVABLE].balance_minor == 0
    assert by_code["4000"].balance_minor == -5000  # revenue is a credit balance
    assert by_code[REFUNDS_AND_CREDITS].balance_minor == 2500
    assert by_code[TAX_PAYABLE].balance_minor == -500
    assert (by_code["1000"].debit_minor, by_code["1000"].credit_minor) == (0, 0)
    assert {row.account.type for row in rows} == {"asset", "liability", "revenue", "contra_revenue"}
