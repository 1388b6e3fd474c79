"""The API's bodies document the domain's models without changing them (booking_api/schemas): each takes
exactly what the domain's model takes, refuses what it refuses, and hands the use case the domain's own."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from booking.domain import booking, booking_requests, catalogue, meetings, series
from booking_api.schemas.bookings import NewBooking, NewBookingForClient
from booking_api.schemas.catalogue import BusinessSettings, ServiceDraft
from booking_api.schemas.documentation import Documentation
from booking_api.schemas.meetings import MeetingLinkUpdate
from booking_api.schemas.payments import CreditRefundRequest, OfflinePaymentRequest
from booking_api.schemas.requests import AcceptRequest, CounterProposal, DeclineRequest, RequestDraft
from booking_api.schemas.series import SeriesCancel, SeriesRequest

CUSTOMER = {"name": "Ann Client", "email": "ann@example.com", "time_zone": "America/New_York"}
START = "2026-12-07T10:00:00+00:00"

# Each documented body, the domain's model it documents, and a body both take.
DOCUMENTED: list[tuple[type[BaseModel], type[BaseModel], dict[str, Any]]] = [
    (NewBooking, booking.BookingOrder, {"services": ["s1"], "start": START, "customer": CUSTOMER}),
    (
        NewBookingForClient,
        booking.BookingOrderForClient,
        {"services": ["s1"], "start": START, "end": "2026-12-07T14:00:00+00:00", "customer": CUSTOMER},
    ),
    (OfflinePaymentRequest, booking.OfflinePaymentRequest, {"amount_minor": 6500, "method": "cash"}),
    (CreditRefundRequest, booking.CreditRefundRequest, {"method": "cash", "amount_minor": 500}),
    (
        MeetingLinkUpdate,
        meetings.MeetingLinkUpdate,
        {"join_url": "https://zoom.us/j/1?pwd=a", "notify_customer": True},
    ),
    (
        SeriesRequest,
        series.SeriesRequest,
        {
            "services": ["s1"],
            "staff": "st1",
            "start": START,
            "customer": CUSTOMER,
            "frequency": "weekly",
            "count": 3,
        },
    ),
    (SeriesCancel, series.SeriesCancel, {"from": "2026-12-01", "reason": "moving away"}),
    (
        RequestDraft,
        booking_requests.RequestDraft,
        {
            "free_text": "a dripping tap",
            "preferred_dates": ["2026-12-09"],
            "address": "1 High Street\nLeeds",
            "photos": [{"content_type": "image/png", "size_bytes": 1000}],
        },
    ),
    (
        AcceptRequest,
        booking_requests.AcceptRequest,
        {"staff_id": "st1", "start": START, "end": "2026-12-07T12:00:00+00:00"},
    ),
    (
        CounterProposal,
        booking_requests.CounterProposal,
        {"staff_id": "st1", "start": START, "end": "2026-12-07T12:00:00+00:00", "message": "earlier?"},
    ),
    (
        DeclineRequest,
        booking_requests.DeclineRequest,
        {"message": "too far", "alternatives": "a plumber nearer"},
    ),
    (
        BusinessSettings,
        catalogue.BusinessSettings,
        {
            "name": "Serenity",
            "slug": "serenity",
            "time_zone": "Europe/London",
            "currency": "GBP",
            "cancellation_policy": {"tiers": [{"notice_hours": 0, "refund_percent": 0}]},
            "no_show_policy": {"fee_percent": 50},
            "booking_requests": {"enabled": True},
            "default_payment": {"mode": "full"},
        },
    ),
    (
        ServiceDraft,
        catalogue.ServiceDraft,
        {"name": "Massage", "duration_minutes": 60, "price_minor": 6500, "payment": {"mode": "card_on_file"}},
    ),
]


def nested_models(model: BaseModel) -> list[BaseModel]:
    found = [model]
    for value in dict(model).values():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, BaseModel):
                found.extend(nested_models(item))
    return found


@pytest.mark.parametrize(("body", "model", "data"), DOCUMENTED, ids=lambda x: getattr(x, "__name__", ""))
def test_a_documented_body_takes_what_the_domain_takes_and_hands_over_the_domains_own(
    body: type[BaseModel], model: type[BaseModel], data: dict[str, Any]
) -> None:
    assert issubclass(body, model)
    assert list(body.model_fields) == list(model.model_fields)  # documentation only: no field of its own
    received = body.model_validate(data)
    handed = received.to_domain()  # type: ignore[attr-defined]
    assert type(handed) is model
    assert handed == model.model_validate(data)
    # nothing of the API's in what the use case keeps (a customer's details on their booking)
    assert not [m for m in nested_models(handed) if type(m).__module__.startswith("booking_api")]


def test_the_cancelled_series_day_goes_by_its_name_in_the_body() -> None:
    cancel = SeriesCancel.model_validate({"from": "2026-12-01"}).to_domain()
    assert cancel.from_ == date(2026, 12, 1)


@pytest.mark.parametrize(
    ("body", "data"),
    [
        # a field declared again to refer to the documented model keeps the domain's rules
        (BusinessSettings, {"cancellation_policy": {"tiers": [{"notice_hours": 24, "refund_percent": 50}]}}),
        (ServiceDraft, {"payment": {"mode": "deposit", "deposit_minor": 100, "deposit_percent": 10}}),
        (RequestDraft, {"photos": [{"content_type": "image/png", "size_bytes": 1}] * 4}),
        (RequestDraft, {"address": "1 A"}),
        (NewBooking, {"customer": {"name": "Ann", "email": "not an email"}}),
        (SeriesRequest, {"customer": {"name": "Ann", "email": "ann@example.com", "time_zone": "Mars/Base"}}),
    ],
)
def test_a_documented_body_refuses_what_the_domain_refuses(
    body: type[BaseModel], data: dict[str, Any]
) -> None:
    [valid] = [d for b, _, d in DOCUMENTED if b is body]
    with pytest.raises(ValidationError):
        body.model_validate({**valid, **data})


def test_documentation_of_a_field_the_model_does_not_have_is_an_error() -> None:
    class Stale(booking.CreditRefundRequest):
        model_config = ConfigDict(json_schema_extra=Documentation({"refund_minor": "renamed since"}))

    with pytest.raises(KeyError, match="refund_minor"):
        Stale.model_json_schema()
