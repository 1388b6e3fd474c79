"""Invoices and the journal: a booking's invoice for staff (PDF or HTML) and for the customer through
their manage link, and the journal's CSV export for the business's books."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from aws_lambda_powertools.event_handler import Depends, Request, Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from booking.domain.access import Principal
from booking.domain.invoices import InvoiceFile
from booking.services.bookkeeping import Bookkeeping, InvoiceFormat
from booking.services.manage_links import ManageLinkService
from booking_api.cors import cors_headers, request_origin
from booking_api.deps import bookkeeping, manage_link_service, principal
from booking_api.openapi import ADMIN_SECURITY

router = APIGatewayRouter()

Caller = Annotated[Principal, Depends(principal)]
Books = Annotated[Bookkeeping, Depends(bookkeeping)]
Links = Annotated[ManageLinkService, Depends(manage_link_service)]
BookingId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Format = Annotated[InvoiceFormat, Query(description="pdf (default) or html")]
ManageToken = Annotated[str | None, Query(max_length=200, description="the token from the manage link")]
INVOICE_RESPONSES: dict[int, OpenAPIResponse] = {
    200: {
        "description": "The invoice",
        "content": {"application/pdf": {}, "text/html": {}},
    }
}


def _file(found: InvoiceFile, headers: dict[str, str] | None = None) -> Response[bytes]:
    # A bytes body leaves the function base64-encoded (isBase64Encoded), as API Gateway expects a PDF.
    return Response(
        status_code=200,
        content_type=found.media_type,
        body=found.content,
        headers={**(headers or {}), "Content-Disposition": f'attachment; filename="{found.filename}"'},
        compress=False,
    )


@router.get(
    "/v1/admin/bookings/<booking_id>/invoice",
    tags=["admin: payments"],
    security=ADMIN_SECURITY,
    responses=INVOICE_RESPONSES,
)
# No return annotation on the two file routes: Powertools would validate the body against it as a
# response model and spoil the PDF's bytes (bytes are dumped as UTF-8 text).
def staff_invoice(  # type: ignore[no-untyped-def]
    booking_id: BookingId, caller: Caller, books: Books, format: Format = "pdf"
):
    """The booking's invoice (numbered from the business's gapless sequence) as PDF or HTML. Staff see
    their own bookings' invoices only."""
    return _file(books.staff_invoice(caller, booking_id, format))


@router.get(
    "/v1/public/bookings/<booking_id>/invoice",
    tags=["public: manage"],
    responses=INVOICE_RESPONSES,
)
def customer_invoice(  # type: ignore[no-untyped-def]  # see staff_invoice
    booking_id: BookingId,
    books: Books,
    links: Links,
    request: Request,
    format: Format = "pdf",
    token: ManageToken = None,
):
    """The customer's invoice for this booking, with the token from the manage link."""
    business = links.business(booking_id, token)
    found = books.customer_invoice(booking_id, token, format)
    return _file(found, cors_headers(business, request_origin(request)))


@router.get(
    "/v1/admin/journal.csv",
    tags=["admin: payments"],
    security=ADMIN_SECURITY,
    responses={200: {"description": "Journal lines, debits equal to credits", "content": {"text/csv": {}}}},
)
def export_journal(
    caller: Caller,
    books: Books,
    from_: Annotated[date, Query(alias="from", description="the first day, in the business's time zone")],
    to: Annotated[date, Query(description="the last day, included")],
) -> Response[str]:
    """Double-entry journal lines (receivable, revenue, tax, payment clearing, refunds and credits) posted
    on the given days, as CSV; owners and admins only. The lines of any period sum to zero."""
    return Response(
        status_code=200,
        content_type="text/csv; charset=utf-8",
        body=books.export_journal(caller, from_, to),
        headers={"Content-Disposition": f'attachment; filename="journal-{from_}-{to}.csv"'},
    )
