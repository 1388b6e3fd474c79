"""What a customer sees of the catalogue: active services grouped by category, with the staff who offer them."""

from __future__ import annotations

from pydantic import BaseModel

from booking.domain.catalogue import Catalogue, DeliveryMode, Service
from booking.domain.meetings import delivery_options
from booking.domain.types import Delivery


class Price(BaseModel):
    amount_minor: int
    currency: str


class PublicStaff(BaseModel):
    id: str
    name: str


class PublicService(BaseModel):
    id: str
    name: str
    description: str
    duration_minutes: int
    price: Price
    delivery_mode: DeliveryMode
    # How it can be booked now: none for an online-only service while the business offers no online
    # appointments (domain/meetings.py delivery_options).
    delivery_options: list[Delivery]
    staff: list[PublicStaff]


class MenuSection(BaseModel):
    id: str | None
    name: str
    description: str
    services: list[PublicService]


class PublicBusiness(BaseModel):
    name: str
    slug: str
    time_zone: str
    currency: str
    address: str
    online_appointments: bool


class Menu(BaseModel):
    business: PublicBusiness
    categories: list[MenuSection]


UNCATEGORISED = "Other services"


def public_menu(catalogue: Catalogue) -> Menu:
    """Active services grouped by category (in category order, uncategorised last); empty sections dropped.

    A service nobody can be booked with (no assigned staff who is bookable online and has shifts) is left
    out: showing it would only lead the customer to an empty calendar.
    """
    business = catalogue.business

    def present(service: Service) -> PublicService | None:
        staff = catalogue.publicly_bookable_staff(service)
        if not service.active or not staff:
            return None
        return PublicService(
            id=service.id,
            name=service.name,
            description=service.description,
            duration_minutes=service.duration_minutes,
            price=Price(amount_minor=service.price_minor, currency=business.currency),
            delivery_mode=service.delivery_mode,
            delivery_options=list(delivery_options(service.delivery_mode, business.online_appointments)),
            staff=[PublicStaff(id=m.id, name=m.name) for m in staff],
        )

    known_categories = {c.id for c in catalogue.categories}
    sections: list[MenuSection] = []
    for category in catalogue.categories:
        items = [p for s in catalogue.services if s.category_id == category.id if (p := present(s))]
        if items:
            sections.append(
                MenuSection(
                    id=category.id, name=category.name, description=category.description, services=items
                )
            )
    loose = [p for s in catalogue.services if s.category_id not in known_categories if (p := present(s))]
    if loose:
        sections.append(MenuSection(id=None, name=UNCATEGORISED, description="", services=loose))
    return Menu(
        business=PublicBusiness(
            name=business.name,
            slug=business.slug,
            time_zone=business.time_zone,
            currency=business.currency,
            address=business.address,
            online_appointments=business.online_appointments,
        ),
        categories=sections,
    )
