"""Invoices and credit notes as staff and customers list them, and the trial balance of the books."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from booking.domain.invoices import Document, DocumentKind, DocumentSummary
from booking.domain.journal import AccountType
from booking.services.payments.bookkeeping import TrialBalance


class DocumentOut(BaseModel):
    """An issued invoice or credit note. Amounts in minor units; a credit note's are negative (what it
    takes off what the customer owes)."""

    reference: str
    kind: DocumentKind
    booking_id: str
    issued_at: datetime
    refers_to: str | None = None
    currency: str
    net_minor: int
    tax_minor: int
    total_minor: int
    balance_at_issue_minor: int

    @classmethod
    def of(cls, document: Document) -> DocumentOut:
        total = document.total
        return cls(
            reference=document.reference,
            kind=document.kind,
            booking_id=document.booking_id,
            issued_at=document.issued_at,
            refers_to=document.refers_to,
            currency=document.currency,
            net_minor=total.net_minor,
            tax_minor=total.tax_minor,
            total_minor=total.gross_minor,
            balance_at_issue_minor=document.balance_minor,
        )


class DocumentsOut(BaseModel):
    documents: list[DocumentOut]


class CustomerDocumentOut(BaseModel):
    reference: str
    kind: DocumentKind
    booking_id: str
    issued_at: datetime
    total_minor: int
    currency: str

    @classmethod
    def of(cls, summary: DocumentSummary) -> CustomerDocumentOut:
        return cls(
            reference=summary.reference,
            kind=summary.kind,
            booking_id=summary.booking_id,
            issued_at=summary.issued_at,
            total_minor=summary.total_minor,
            currency=summary.currency,
        )


class CustomerDocumentsOut(BaseModel):
    documents: list[CustomerDocumentOut]


class AccountOut(BaseModel):
    code: str
    name: str
    type: AccountType
    currency: str
    debit_minor: int
    credit_minor: int
    balance_minor: int  # debits less credits


class TrialBalanceOut(BaseModel):
    """The chart of accounts with each account's movements over the period; per currency, the balances
    sum to zero (every posting is balanced)."""

    first_day: date
    last_day: date
    accounts: list[AccountOut]
    totals: dict[str, int]  # per currency: the sum of the balances, always 0

    @classmethod
    def of(cls, trial: TrialBalance) -> TrialBalanceOut:
        accounts = [
            AccountOut(
                code=row.account.code,
                name=row.account.name,
                type=row.account.type,
                currency=row.currency,
                debit_minor=row.debit_minor,
                credit_minor=row.credit_minor,
                balance_minor=row.balance_minor,
            )
            for row in trial.accounts
        ]
        totals: dict[str, int] = {}
        for account in accounts:
            totals[account.currency] = totals.get(account.currency, 0) + account.balance_minor
        return cls(first_day=trial.first, last_day=trial.last, accounts=accounts, totals=totals)
