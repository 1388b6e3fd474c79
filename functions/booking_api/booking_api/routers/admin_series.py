"""Admin and staff API for recurring series: book a client's sessions in one call, see every session with
its link and messages, cancel every future one. One session is cancelled or moved like any booking."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Depends, Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from booking.domain.access import Principal
from booking.services.series import SeriesService
from booking_api.deps import principal, series_service, tenant_catalogue
from booking_api.openapi import ADMIN_SECURITY
from booking_api.schemas.series import SeriesCancel, SeriesOut, SeriesRequest

router = APIGatewayRouter()

Caller = Annotated[Principal, Depends(principal)]
Series = Annotated[SeriesService, Depends(series_service)]
SeriesId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
TAGS = ["admin: series"]


@router.post(
    "/v1/admin/booking-series", tags=TAGS, security=ADMIN_SECURITY, responses={201: {"description": "Booked"}}
)
def book_series(body: SeriesRequest, caller: Caller, series: Series) -> Response[SeriesOut]:
    """Books every session of a series (weekly, every N weeks, monthly on the same weekday or date, until
    a day or for a count). Refused as a whole, naming each clashing date, unless `skip_clashes`. Online
    sessions each get their own meeting; the client gets one series confirmation with the first link."""
    detail = series.book(caller, body.to_domain())
    return Response(
        status_code=201,
        content_type="application/json",
        body=SeriesOut.of(detail, tenant_catalogue(caller.tenant_id)),
        headers={"Location": f"/v1/admin/booking-series/{detail.series.id}"},
    )


@router.get("/v1/admin/booking-series/<series_id>", tags=TAGS, security=ADMIN_SECURITY)
def series_detail(series_id: SeriesId, caller: Caller, series: Series) -> SeriesOut:
    """Every session with its state, meeting link, and the messages sent and scheduled."""
    return SeriesOut.of(series.detail(caller, series_id), tenant_catalogue(caller.tenant_id))


@router.post("/v1/admin/booking-series/<series_id>/cancel", tags=TAGS, security=ADMIN_SECURITY)
def cancel_series(series_id: SeriesId, body: SeriesCancel, caller: Caller, series: Series) -> SeriesOut:
    """Cancels every session still to come (or from `from` on); each client message goes as usual."""
    cancelled = series.cancel(caller, series_id, body.to_domain())
    return SeriesOut.of(cancelled, tenant_catalogue(caller.tenant_id))
