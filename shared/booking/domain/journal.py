"""Double-entry journal lines for a booking's money: every change to what it bills, what was paid and what
was refunded (domain/invoices.py's BookingAccount) becomes balanced lines, debits equal to credits.

Derived from the difference between two versions of one booking, so each committed change posts exactly
its own movement, and replaying a change posts the same lines again under the same keys (nothing twice).

    services billed     Dr 1100 receivable        Cr 4000 service revenue (net), Cr 2200 tax payable
    services credited   Dr 4900 refunds/credits (net), Dr 2200 tax payable     Cr 1100 receivable
    fee charged         Dr 1100 receivable        Cr 4100 fee revenue (net), Cr 2200 tax payable
    payment received    Dr 12xx/1000 clearing     Cr 1100 receivable
    refund paid out     Dr 1100 receivable        Cr 1200 Stripe clearing (or the desk's method)

The chart of accounts (`CHART`) names each account and its type; `trial_balance` sums lines per account,
and any whole set of lines sums to zero.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from booking.domain.invoices import STRIPE_METHOD, ZERO, BookingAccount, difference

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
AccountType = Literal["asset", "liability", "revenue", "contra_revenue"]


@dataclass(frozen=True)
class LedgerAccount:
    code: str
    name: str
    type: AccountType


# The chart of accounts, in code order. Receivable is an asset; a customer's credit (an overpayment) is a
# credit balance on it until refunded.
CHART: tuple[LedgerAccount, ...] = (
    LedgerAccount("1000", "Cash", "asset"),
    LedgerAccount(RECEIVABLE, "Accounts receivable", "asset"),
    LedgerAccount("1200", "Payment clearing: Stripe", "asset"),
    LedgerAccount("1210", "Payment clearing: card terminal", "asset"),
    LedgerAccount("1220", "Payment clearing: bank transfer", "asset"),
    LedgerAccount("1290", "Payment clearing: other", "asset"),
    LedgerAccount(TAX_PAYABLE, "Tax payable", "liability"),
    LedgerAccount(SERVICE_REVENUE, "Service revenue", "revenue"),
    LedgerAccount(FEE_REVENUE, "Fee revenue", "revenue"),
    LedgerAccount(REFUNDS_AND_CREDITS, "Refunds and credits", "contra_revenue"),
)
ACCOUNT_NAMES = {account.code: account.name for account in CHART}


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


_EMPTY = BookingAccount(services=ZERO, billed=ZERO, fees=ZERO)


def postings(before: BookingAccount | None, after: BookingAccount) -> list[tuple[str, int, str]]:
    """(account, amount, memo) for what moved between two accounts of one booking: a positive amount is a
    debit, a negative one a credit. They sum to zero."""
    was = before or _EMPTY
    out: list[tuple[str, int, str]] = []
    billed = difference(after.billed, was.billed)
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
    fees = difference(after.fees, was.fees)
    if fees.gross_minor:
        out += [
            (RECEIVABLE, fees.gross_minor, "fee charged"),
            (FEE_REVENUE, -fees.net_minor, "fee charged"),
            (TAX_PAYABLE, -fees.tax_minor, "tax on fee"),
        ]
    for method in sorted(set(after.paid) | set(was.paid)):
        received = after.paid.get(method, 0) - was.paid.get(method, 0)
        if received:
            memo = f"payment received: {method}" if received > 0 else f"refund paid: {method}"
            out += [
                (CLEARING[method], received, memo),
                (RECEIVABLE, -received, memo),
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


@dataclass(frozen=True)
class AccountBalance:
    account: LedgerAccount
    currency: str
    debit_minor: int
    credit_minor: int

    @property
    def balance_minor(self) -> int:
        """Debits less credits: positive for a debit balance (assets), negative for a credit balance."""
        return self.debit_minor - self.credit_minor


def trial_balance(lines: Iterable[JournalLine]) -> list[AccountBalance]:
    """Each account's debits and credits over the lines, by currency, in chart order (accounts without a
    line included at zero, in the currencies that have lines). The balances of any whole set of lines sum
    to zero in each currency."""
    sums: dict[tuple[str, str], tuple[int, int]] = {}
    for line in lines:
        debit, credit = sums.get((line.currency, line.account), (0, 0))
        sums[(line.currency, line.account)] = (debit + line.debit_minor, credit + line.credit_minor)
    currencies = sorted({currency for currency, _ in sums})
    return [
        AccountBalance(account, currency, *sums.get((currency, account.code), (0, 0)))
        for currency in currencies
        for account in CHART
    ]
