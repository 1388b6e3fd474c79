"""Invoices, credit notes and the books: a booking's documents for staff and for the customer (through
their manage link or their signed-in session), exactly as issued (PDF or HTML); the journal's CSV export
and the trial balance of the chart of accounts."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from aws_lambda_powertools.event_handler import Depends, Request, Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from booking.domain.access import Principal
from booking.domain.invoices import InvoiceFile
from booking.services.manage_links import ManageLinkService
from booking.services.payments.bookkeeping import Bookkeeping, InvoiceFormat
from booking_api.cors import cors_headers, request_origin, respond
from booking_api.deps import SignedIn, bookkeeping, manage_link_service, principal, signed_in
from booking_api.openapi import ADMIN_SECURITY
from booking_api.schemas.bookkeeping import (
    CustomerDocumentOut,
    CustomerDocumentsOut,
    DocumentOut,
    DocumentsOut,
    TrialBalanceOut,
)

router = APIGatewayRouter()

Caller = Annotated[Principal, Depends(principal)]
Books = Annotated[Bookkeeping, Depends(bookkeeping)]
Links = Annotated[ManageLinkService, Depends(manage_link_service)]
Me = Annotated[SignedIn, Depends(signed_in)]
BookingId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Reference = Annotated[str, Path(pattern=r"^(INV|CN)-\d{6,12}$", description="e.g. INV-000042, CN-000007")]
SlugParam = Annotated[str, Path(pattern=r"^[a-z0-9-]{1,50}$")]
Format = Annotated[InvoiceFormat, Query(description="pdf (default) or html")]
ManageToken = Annotated[str | None, Query(max_length=200, description="the token from the manage link")]
FirstDay = Annotated[date, Query(alias="from", description="the first day, in the business's time zone")]
LastDay = Annotated[date, Query(description="the last day, included")]
PAYMENTS = ["admin: payments"]
MANAGE = ["public: manage"]
FILE_RESPONSES: dict[int, OpenAPIResponse] = {
    200: {"description": "The document as issued", "content": {"application/pdf": {}, "text/html": {}}}
}
MY_DOCUMENTS = "/v1/public/businesses/<slug>/customers/me/documents"


def _file(found: InvoiceFile, headers: dict[str, str] | None = None) -> Response[bytes]:
    # A bytes body leaves the function base64-encoded (isBase64Encoded), as API Gateway expects a PDF.
    return Response(
        status_code=200,
        content_type=found.media_type,
        body=found.content,
        headers={**(headers or {}), "Content-Disposition": f'attachment; filename="{found.filename}"'},
        compress=False,
    )


# --- staff ----------------------------------------------------------------------------------------------


@router.get(
    "/v1/admin/bookings/<booking_id>/invoice",
    tags=PAYMENTS,
    security=ADMIN_SECURITY,
    responses=FILE_RESPONSES,
)
# No return annotation on the file routes: Powertools would validate the body against it as a response
# model and spoil the PDF's bytes (bytes are dumped as UTF-8 text).
def staff_invoice(  # type: ignore[no-untyped-def]
    booking_id: BookingId, caller: Caller, books: Books, format: Format = "pdf"
):
    """The booking's invoice (its first document) as issued, PDF or HTML. Staff see their own bookings'
    documents only."""
    return _file(books.staff_file(caller, booking_id, None, format))


@router.get("/v1/admin/bookings/<booking_id>/documents", tags=PAYMENTS, security=ADMIN_SECURITY)
def staff_documents(booking_id: BookingId, caller: Caller, books: Books) -> DocumentsOut:
    """The booking's invoices and credit notes, oldest first (numbered from the business's gapless
    sequences, never changed once issued)."""
    return DocumentsOut(documents=[DocumentOut.of(d) for d in books.staff_documents(caller, booking_id)])


@router.get(
    "/v1/admin/bookings/<booking_id>/documents/<reference>",
    tags=PAYMENTS,
    security=ADMIN_SECURITY,
    responses=FILE_RESPONSES,
)
def staff_document(  # type: ignore[no-untyped-def]  # see staff_invoice
    booking_id: BookingId, reference: Reference, caller: Caller, books: Books, format: Format = "pdf"
):
    """One of the booking's documents, exactly as it was issued."""
    return _file(books.staff_file(caller, booking_id, reference, format))


# --- the customer -----------------------------------------------------------------------------------------


@router.get("/v1/public/bookings/<booking_id>/invoice", tags=MANAGE, responses=FILE_RESPONSES)
def customer_invoice(  # type: ignore[no-untyped-def]  # see staff_invoice
    booking_id: BookingId,
    books: Books,
    links: Links,
    request: Request,
    format: Format = "pdf",
    token: ManageToken = None,
):
    """The customer's invoice for this booking (its first document), with the token from the manage link."""
    business = links.business(booking_id, token)
    found = books.customer_file(booking_id, token, None, format)
    return _file(found, cors_headers(business, request_origin(request)))


@router.get("/v1/public/bookings/<booking_id>/documents", tags=MANAGE)
def customer_documents(
    booking_id: BookingId, books: Books, links: Links, request: Request, token: ManageToken = None
) -> Response[DocumentsOut]:
    """The booking's invoices and credit notes, with the token from the manage link."""
    business = links.business(booking_id, token)
    documents = DocumentsOut(
        documents=[DocumentOut.of(d) for d in books.customer_documents(booking_id, token)]
    )
    return respond(documents, business, request_origin(request))


@router.get("/v1/public/bookings/<booking_id>/documents/<reference>", tags=MANAGE, responses=FILE_RESPONSES)
def customer_document(  # type: ignore[no-untyped-def]  # see staff_invoice
    booking_id: BookingId,
    reference: Reference,
    books: Books,
    links: Links,
    request: Request,
    format: Format = "pdf",
    token: ManageToken = None,
):
    """One of the booking's documents as issued, with the token from the manage link."""
    business = links.business(booking_id, token)
    found = books.customer_file(booking_id, token, reference, format)
    return _file(found, cors_headers(business, request_origin(request)))


@router.get(MY_DOCUMENTS, tags=["public: customers"])
def my_documents(slug: SlugParam, books: Books, me: Me, request: Request) -> Response[CustomerDocumentsOut]:
    """Every invoice and credit note issued to the signed-in customer (Authorization: Bearer <customer
    token>), oldest first."""
    summaries = books.customer_summaries(me.session.tenant_id, me.session.email)
    body = CustomerDocumentsOut(documents=[CustomerDocumentOut.of(s) for s in summaries])
    return respond(body, me.business, request_origin(request))


@router.get(
    "/v1/public/businesses/<slug>/customers/me/documents/<booking_id>/<reference>",
    tags=["public: customers"],
    responses=FILE_RESPONSES,
)
def my_document(  # type: ignore[no-untyped-def]  # see staff_invoice
    slug: SlugParam,
    booking_id: BookingId,
    reference: Reference,
    books: Books,
    me: Me,
    request: Request,
    format: Format = "pdf",
):
    """One of the signed-in customer's documents, exactly as issued."""
    found = books.signed_in_file(me.session.tenant_id, me.session.email, booking_id, reference, format)
    return _file(found, cors_headers(me.business, request_origin(request)))


# --- the books ----------------------------------------------------------------------------------------------


@router.get(
    "/v1/admin/journal.csv",
    tags=PAYMENTS,
    security=ADMIN_SECURITY,
    responses={200: {"description": "Journal lines, debits equal to credits", "content": {"text/csv": {}}}},
)
def export_journal(caller: Caller, books: Books, from_: FirstDay, to: LastDay) -> Response[str]:
    """Double-entry journal lines (receivable, revenue, tax, payment clearing, refunds and credits) posted
    on the given days, as CSV; owners and admins only. The lines of any period sum to zero."""
    return Response(
        status_code=200,
        content_type="text/csv; charset=utf-8",
        body=books.export_journal(caller, from_, to),
        headers={"Content-Disposition": f'attachment; filename="journal-{from_}-{to}.csv"'},
    )


@router.get("/v1/admin/accounts", tags=PAYMENTS, security=ADMIN_SECURITY)
def accounts(caller: Caller, books: Books, from_: FirstDay, to: LastDay) -> TrialBalanceOut:
    """The chart of accounts with each account's debits, credits and balance over the given days (the
    journal export's lines of the same days): a trial balance, summing to zero. Owners and admins only."""
    return TrialBalanceOut.of(books.trial_balance(caller, from_, to))
