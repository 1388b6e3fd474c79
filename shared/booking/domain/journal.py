"""Double-entry journal lines for a booking's money: every change to what it bills, what was paid and what
was refunded (domain/invoices.py's BookingAccount) becomes balanced lines, debits equal to credits.

Derived from the difference between two versions of one booking, so each committed change posts exactly
its own movement, and replaying a change posts the same lines again under the same keys (nothing twice).

    services billed     Dr 1100 receivable        Cr 4000 service revenue (net), Cr 2200 tax payable
    services credited   Dr 4900 refunds/credits (net), Dr 2200 tax payable     Cr 1100 receivable
    fee charged         Dr 1100 receivable        Cr 4100 fee revenue (net), Cr 2200 tax payable
    payment received    Dr 12xx/1000 clearing     Cr 1100 receivable
    refund paid out     Dr 1100 receivable        Cr 1200 Stripe clearing
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from booking.domain.invoices import STRIPE_METHOD, BookingAccount
from booking.domain.payments import TaxSplit

RECEIVABLE = "1100"
TAX_PAYABLE = "2200"
SERVICE_REVENUE = "4000"
FEE_REVENUE = "4100"
REFUNDS_AND_CREDITS = "4900"
# Where each way of paying lands before it reaches the bank.
CLEARING = {
    STRIPE_METHOD: "1200",
    "card_terminal": "1210",
    "bank_transfer": "1220",
    "other": "1290",
    "cash": "1000",
}
ACCOUNT_NAMES = {
    "1000": "Cash",
    RECEIVABLE: "Accounts receivable",
    "1200": "Payment clearing: Stripe",
    "1210": "Payment clearing: card terminal",
    "1220": "Payment clearing: bank transfer",
    "1290": "Payment clearing: other",
    TAX_PAYABLE: "Tax payable",
    SERVICE_REVENUE: "Service revenue",
    FEE_REVENUE: "Fee revenue",
    REFUNDS_AND_CREDITS: "Refunds and credits",
}


class JournalLine(BaseModel):
    """One side of one posting. Exactly one of debit and credit is non-zero."""

    tenant_id: str
    booking_id: str
    version: int  # the booking version whose change posted it
    line: int  # its place among that change's lines
    at: datetime
    account: str
    debit_minor: int = 0
    credit_minor: int = 0
    currency: str
    memo: str
    invoice: str | None = None  # the invoice's reference, when the booking has one

    @property
    def account_name(self) -> str:
        return ACCOUNT_NAMES[self.account]


_ZERO = TaxSplit(net_minor=0, tax_minor=0, gross_minor=0)
_EMPTY = BookingAccount(services=_ZERO, billed=_ZERO, fees=_ZERO)


def _difference(after: TaxSplit, before: TaxSplit) -> TaxSplit:
    return TaxSplit(
        net_minor=after.net_minor - before.net_minor,
        tax_minor=after.tax_minor - before.tax_minor,
        gross_minor=after.gross_minor - before.gross_minor,
    )


def postings(before: BookingAccount | None, after: BookingAccount) -> list[tuple[str, int, str]]:
    """(account, amount, memo) for what moved between two accounts of one booking: a positive amount is a
    debit, a negative one a credit. They sum to zero."""
    was = before or _EMPTY
    out: list[tuple[str, int, str]] = []
    billed = _difference(after.billed, was.billed)
    if billed.gross_minor > 0:
        out += [
            (RECEIVABLE, billed.gross_minor, "services billed"),
            (SERVICE_REVENUE, -billed.net_minor, "services billed"),
            (TAX_PAYABLE, -billed.tax_minor, "tax on services"),
        ]
    elif billed.gross_minor < 0:  # a cancellation or no-show credits what is not kept
        out += [
            (REFUNDS_AND_CREDITS, -billed.net_minor, "services credited"),
            (TAX_PAYABLE, -billed.tax_minor, "tax on services credited"),
            (RECEIVABLE, billed.gross_minor, "services credited"),
        ]
    fees = _difference(after.fees, was.fees)
    if fees.gross_minor:
        out += [
            (RECEIVABLE, fees.gross_minor, "fee charged"),
            (FEE_REVENUE, -fees.net_minor, "fee charged"),
            (TAX_PAYABLE, -fees.tax_minor, "tax on fee"),
        ]
    for method in sorted(set(after.paid) | set(was.paid)):
        received = after.paid.get(method, 0) - was.paid.get(method, 0)
        if received:
            out += [
                (CLEARING[method], received, f"payment received: {method}"),
                (RECEIVABLE, -received, f"payment received: {method}"),
            ]
    refunded = after.refunded_minor - was.refunded_minor
    if refunded:
        out += [
            (RECEIVABLE, refunded, "refund paid"),
            (CLEARING[STRIPE_METHOD], -refunded, "refund paid"),
        ]
    return [posting for posting in out if posting[1] != 0]


def journal_lines(
    before: BookingAccount | None,
    after: BookingAccount,
    *,
    tenant_id: str,
    booking_id: str,
    version: int,
    at: datetime,
    currency: str,
    invoice: str | None,
) -> list[JournalLine]:
    return [
        JournalLine(
            tenant_id=tenant_id,
            booking_id=booking_id,
            version=version,
            line=number,
            at=at,
            account=account,
            debit_minor=max(amount, 0),
            credit_minor=max(-amount, 0),
            currency=currency,
            memo=memo,
            invoice=invoice,
        )
        for number, (account, amount, memo) in enumerate(postings(before, after))
    ]
