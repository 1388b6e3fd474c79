"""The bodies of the booking API: what each route takes and answers, and how the OpenAPI document
describes them, one module per area (bookings, availability, catalogue, customers, meetings, payments,
requests, series, bookkeeping).

The domain (shared/booking/domain) has its own models and no API documentation. A body only the API has (a
reschedule's new time, a status change) is declared here whole. A body a use case takes as it is (a
booking order, the business's settings) is the domain's model, declared here again only to document it
(schemas/documentation.py); the route hands the use case the domain's own (`to_domain`). Answers are
models of their own built from what the use case returned (`BookingOut.of(...)`), or the domain's
entities where the API shows them as they are (a category, a staff member).

Where a body's name in code differs from its name in the document, `SCHEMA_NAMES` says so and the document
(booking_api/openapi.py) uses the document's: clients keep the names they were generated with.
"""

from __future__ import annotations

from pydantic import BaseModel

from booking_api.schemas.bookings import NewBooking, NewBookingForClient


def _document_name(model: type[BaseModel]) -> str:
    title = model.model_config.get("title")
    assert title is not None, model
    return title


# Python name -> the name in the OpenAPI document (its `title`).
SCHEMA_NAMES: dict[str, str] = {
    model.__name__: _document_name(model) for model in (NewBooking, NewBookingForClient)
}
