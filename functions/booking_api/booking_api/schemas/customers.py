"""Customers: a returning customer's sign-in (a one-time code for a session) and what their session
shows, and the business's view of a client (history, block, onboarding, login as client)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from booking.domain.catalogue import Catalogue
from booking.domain.customers import CustomerProfile, OnboardingUpdate
from booking.domain.types import Email, Model, ShortText
from booking.services.booking_engine import BookingView
from booking.services.customers import ClientHistory, CustomerOverview
from booking_api.schemas.bookings import BookingOut, HistoryOut, NoteOut

__all__ = [
    "BlockRequest",
    "ClientHistoryOut",
    "CodeExchange",
    "CodeRequest",
    "CustomerProfile",
    "CustomerSessionOut",
    "ImpersonationOut",
    "OnboardingUpdate",
]


class CodeRequest(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [{"email": "ann@example.com"}]})

    email: Email


class CodeExchange(Model):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"email": "ann@example.com", "code": "123456"}]}
    )

    email: Email
    code: str = Field(pattern=r"^\d{6}$")


class CustomerSessionOut(BaseModel):
    token: str
    profile: CustomerProfile
    upcoming: list[BookingOut]  # soonest first
    past: list[BookingOut]  # what took place (or was missed), latest first
    cancelled: list[BookingOut] = []  # cancelled, whenever they were for, latest first

    @classmethod
    def of(
        cls, token: str, overview: CustomerOverview, catalogue: Catalogue, views: dict[str, BookingView]
    ) -> CustomerSessionOut:
        return cls(
            token=token,
            profile=overview.profile,
            upcoming=[
                BookingOut.of(b, catalogue, views.get(b.id), for_customer=True) for b in overview.upcoming
            ],
            past=[BookingOut.of(b, catalogue, views.get(b.id), for_customer=True) for b in overview.past],
            cancelled=[
                BookingOut.of(b, catalogue, views.get(b.id), for_customer=True) for b in overview.cancelled
            ],
        )


# --- the business's view of a client -------------------------------------------------------------------


class ClientHistoryOut(BaseModel):
    profile: CustomerProfile
    bookings: list[BookingOut]
    notes: list[NoteOut]
    audit: list[HistoryOut]

    @classmethod
    def of(cls, history: ClientHistory, catalogue: Catalogue) -> ClientHistoryOut:
        zone = ZoneInfo(catalogue.business.time_zone)
        return cls(
            profile=history.profile,
            bookings=[BookingOut.of(b, catalogue, for_customer=False) for b in history.bookings],
            notes=[NoteOut.of(n) for n in history.notes],
            audit=[HistoryOut.of(a, zone) for a in history.audit],
        )


class BlockRequest(Model):
    reason: ShortText = ""


class ImpersonationOut(BaseModel):
    token: str
    customer_email: str
    note: str
