"""The catalogue: the business's settings, its categories, services and staff as the admin API reads and
writes them, and the public menu a booking widget shows.

The domain's models are the bodies (what is valid is the domain's rule); the settings, the service and
the menu are declared again here only to document them (booking_api/schemas/documentation.py). Categories
and staff carry no documentation of the API's and are the domain's own.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field

from booking.domain import catalogue as domain
from booking.domain import menu
from booking.domain.catalogue import Category, CategoryDraft, StaffDraft, StaffMember
from booking.domain.types import Id
from booking_api.schemas.documentation import Documentation, as_domain
from booking_api.schemas.payments import CancellationPolicy, NoShowPolicy, PaymentRule
from booking_api.schemas.requests import RequestSettings

__all__ = [
    "Business",
    "BusinessSettings",
    "Category",
    "CategoryDraft",
    "Menu",
    "Service",
    "ServiceDraft",
    "StaffDraft",
    "StaffMember",
]


class BusinessSettings(domain.BusinessSettings):
    """Everything an owner or admin configures about the business."""

    model_config = ConfigDict(
        json_schema_extra=Documentation(
            {
                "legal_name": "the business's legal name, on every invoice and credit note; empty: its name",
                "tax_id": "the tax registration number (e.g. a VAT number) printed on every invoice and "
                "credit note",
                "slot_interval_minutes": "how often a start is offered online, from local midnight",
                "max_booking_minutes": "the longest one booking may occupy, buffers included (default 14 "
                "days)",
                "cancellation_cutoff_hours": "customers may cancel or reschedule online until this long "
                "before",
                "customers_move_staff_bookings": "customers may reschedule bookings staff made for them "
                "through their link; false: they ask the business instead (a job arranged from a booking "
                "request is always asked for)",
                "reminders": "reminders before each booking; null: 24 hours and 1 hour before, by email and "
                "SMS",
                "email_sender_name": "the From name; null: the business name",
                "reply_to_email": "where replies go; null: contact_email",
                "sms_enabled": "text customers at all (each may still opt out)",
                "sms_countries": "countries (ISO 3166 alpha-2) whose numbers may be texted; null: the "
                "business's own country, the one its time zone belongs to",
                "sms_daily_cap": "texts a day at most (business-local day)",
                "online_appointments": "offer online appointments; while off, 'online' services cannot be "
                "booked and services offered both ways are booked in person",
                "meeting_provider": "who makes a booking's meeting link; 'manual': staff add it",
                "jitsi_base_url": "the Jitsi server rooms are made on (provider 'jitsi')",
                "meeting_link_wait_seconds": "how long an online booking's confirmation waits for its "
                "meeting link; after that it goes out saying the link will follow, and the link follows by "
                "itself",
                "max_series_occurrences": "the most sessions one recurring series may book",
                "online_reminders": "reminders before each online booking; null: 3 days, 1 day and 1 hour "
                "before, by email and SMS, each with the meeting link",
                "tax_rate_basis_points": "the tax rate in hundredths of a percent (2000: 20 %); 0: none",
                "prices_include_tax": "service prices include the tax; false: the tax is added on top of "
                "them",
                "capture": "'immediate': a payment is taken at booking; 'on_staff_confirmation': the card "
                "is authorised at booking and charged when a staff member confirms the payment",
                "allow_skip_payment": "customers may skip paying when they book: booked now, unpaid, "
                "payable later through a link",
                "payment_hold_minutes": "how long a booking that needs payment holds its time; unpaid by "
                "then, the time is free",
                "cancellation_policy": "refunds by notice when a paid booking is cancelled; null: "
                "everything paid is refunded",
                "booking_requests": "customers ask, the business answers (domain/booking_requests.py); off "
                "by default",
                "no_show_policy": "what a no-show costs: keep the payment made at booking, charge a fee to "
                "the card on file, block the customer; null: nothing is kept or charged",
                "default_payment": "what customers pay at booking for services without their own rule; a "
                "change is not checked against existing services' prices (each booking checks what it "
                "charges)",
            }
        )
    )

    cancellation_policy: CancellationPolicy | None = None
    booking_requests: RequestSettings = Field(default_factory=RequestSettings)
    no_show_policy: NoShowPolicy | None = None
    default_payment: PaymentRule = Field(default_factory=PaymentRule)

    def to_domain(self) -> domain.BusinessSettings:
        return as_domain(self, domain.BusinessSettings)


class Business(BusinessSettings):
    id: Id
    version: int = 1
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, business: domain.Business) -> Business:
        return cls.model_validate(business, from_attributes=True)


class ServiceDraft(domain.ServiceDraft):
    model_config = ConfigDict(
        json_schema_extra=Documentation(
            {
                "buffer_before_minutes": "null: the business default",
                "buffer_after_minutes": "null: the business default",
                "reminders": "overrides the business's reminders; null: use the business's",
                "cancellation_policy": "overrides the business's cancellation policy for this service",
                "payment": "what a customer pays at booking; null: the business's default_payment",
            }
        )
    )

    cancellation_policy: CancellationPolicy | None = None
    payment: PaymentRule | None = None

    def to_domain(self) -> domain.ServiceDraft:
        return as_domain(self, domain.ServiceDraft)


class Service(ServiceDraft):
    id: Id
    version: int = 1
    staff_ids: list[Id] = Field(default_factory=list)  # any number, as the domain's Service

    @classmethod
    def of(cls, service: domain.Service) -> Service:
        return cls.model_validate(service, from_attributes=True)


# --- the public menu ---------------------------------------------------------------------------------------


class PublicService(menu.PublicService):
    model_config = ConfigDict(
        json_schema_extra=Documentation(
            {
                "delivery_options": "how it can be booked now: empty for an online-only service while the "
                "business does not offer online appointments"
            }
        )
    )


class MenuSection(menu.MenuSection):
    services: list[PublicService]  # type: ignore[assignment]


class Menu(menu.Menu):
    categories: list[MenuSection]  # type: ignore[assignment]

    @classmethod
    def of(cls, public_menu: menu.Menu) -> Menu:
        return cls.model_validate(public_menu, from_attributes=True)
