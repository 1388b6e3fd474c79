"""Admin API for the catalogue: business settings, categories, services and staff (Cognito-authenticated)."""

from __future__ import annotations

from typing import Annotated, TypeVar

from aws_lambda_powertools.event_handler import Depends, Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from booking.domain.access import Principal
from booking.services.catalogue import CatalogueService
from booking.services.meetings import MeetingAdmin
from booking_api.deps import catalogue_service, meeting_admin, principal
from booking_api.openapi import ADMIN_SECURITY
from booking_api.schemas.catalogue import (
    Business,
    BusinessSettings,
    Category,
    CategoryDraft,
    Service,
    ServiceDraft,
    StaffDraft,
    StaffMember,
)

router = APIGatewayRouter()

Caller = Annotated[Principal, Depends(principal)]
Catalogue = Annotated[CatalogueService, Depends(catalogue_service)]
Meetings = Annotated[MeetingAdmin, Depends(meeting_admin)]
EntityT = TypeVar("EntityT", Category, Service, StaffMember)
EntityId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


def created(model: EntityT, location: str) -> Response[EntityT]:
    return Response(
        status_code=201,
        content_type="application/json",
        body=model,
        headers={"Location": location},
    )


def no_content() -> Response[None]:
    return Response(status_code=204)


# --- business -----------------------------------------------------------------------------------------


@router.get("/v1/admin/business", tags=["admin: business"], security=ADMIN_SECURITY)
def get_business(caller: Caller, catalogue: Catalogue) -> Business:
    """The business's settings: name, time zone, currency, hours, policies, payments and messages."""
    return Business.of(catalogue.business(caller))


@router.put("/v1/admin/business", tags=["admin: business"], security=ADMIN_SECURITY)
def put_business(
    settings: BusinessSettings, caller: Caller, catalogue: Catalogue, meetings: Meetings
) -> Business:
    """A hosted meeting provider can be chosen once it is connected (`/v1/admin/business/meeting-providers`)."""
    meetings.check_provider_choice(caller.tenant_id, settings.meeting_provider)
    return Business.of(catalogue.update_business(caller, settings.to_domain()))


# --- categories ---------------------------------------------------------------------------------------


@router.get("/v1/admin/categories", tags=["admin: categories"], security=ADMIN_SECURITY)
def list_categories(caller: Caller, catalogue: Catalogue) -> list[Category]:
    """The service categories, in their display order."""
    return list(catalogue.catalogue(caller).categories)


@router.post(
    "/v1/admin/categories",
    tags=["admin: categories"],
    security=ADMIN_SECURITY,
    responses={201: {"description": "Created"}},
)
def create_category(draft: CategoryDraft, caller: Caller, catalogue: Catalogue) -> Response[Category]:
    """Adds a service category (owners and admins)."""
    category = catalogue.create_category(caller, draft)
    return created(category, f"/v1/admin/categories/{category.id}")


@router.get("/v1/admin/categories/<category_id>", tags=["admin: categories"], security=ADMIN_SECURITY)
def get_category(category_id: EntityId, caller: Caller, catalogue: Catalogue) -> Category:
    """One service category."""
    return catalogue.category(caller, category_id)


@router.put("/v1/admin/categories/<category_id>", tags=["admin: categories"], security=ADMIN_SECURITY)
def put_category(
    category_id: EntityId, draft: CategoryDraft, caller: Caller, catalogue: Catalogue
) -> Category:
    """Renames or reorders a service category (owners and admins)."""
    return catalogue.update_category(caller, category_id, draft)


@router.delete(
    "/v1/admin/categories/<category_id>",
    tags=["admin: categories"],
    security=ADMIN_SECURITY,
    responses={204: {"description": "Deleted"}},
)
def delete_category(category_id: EntityId, caller: Caller, catalogue: Catalogue) -> Response[None]:
    """Deletes a service category; its services stay, uncategorised."""
    catalogue.delete_category(caller, category_id)
    return no_content()


# --- services -----------------------------------------------------------------------------------------


@router.get("/v1/admin/services", tags=["admin: services"], security=ADMIN_SECURITY)
def list_services(caller: Caller, catalogue: Catalogue) -> list[Service]:
    """Every service, active or not, with its price, duration, buffers, payment rule and staff."""
    return [Service.of(s) for s in catalogue.catalogue(caller).services]


@router.post(
    "/v1/admin/services",
    tags=["admin: services"],
    security=ADMIN_SECURITY,
    responses={201: {"description": "Created"}},
)
def create_service(draft: ServiceDraft, caller: Caller, catalogue: Catalogue) -> Response[Service]:
    """Adds a service (owners and admins)."""
    service = catalogue.create_service(caller, draft.to_domain())
    return created(Service.of(service), f"/v1/admin/services/{service.id}")


@router.get("/v1/admin/services/<service_id>", tags=["admin: services"], security=ADMIN_SECURITY)
def get_service(service_id: EntityId, caller: Caller, catalogue: Catalogue) -> Service:
    """One service, with its staff."""
    return Service.of(catalogue.service(caller, service_id))


@router.put("/v1/admin/services/<service_id>", tags=["admin: services"], security=ADMIN_SECURITY)
def put_service(service_id: EntityId, draft: ServiceDraft, caller: Caller, catalogue: Catalogue) -> Service:
    """Replaces a service's details (owners and admins); bookings already made keep what they were booked at."""
    return Service.of(catalogue.update_service(caller, service_id, draft.to_domain()))


@router.delete(
    "/v1/admin/services/<service_id>",
    tags=["admin: services"],
    security=ADMIN_SECURITY,
    responses={204: {"description": "Deleted"}},
)
def delete_service(service_id: EntityId, caller: Caller, catalogue: Catalogue) -> Response[None]:
    """Deletes a service; bookings already made keep it."""
    catalogue.delete_service(caller, service_id)
    return no_content()


# --- staff --------------------------------------------------------------------------------------------


@router.get("/v1/admin/staff", tags=["admin: staff"], security=ADMIN_SECURITY)
def list_staff(caller: Caller, catalogue: Catalogue) -> list[StaffMember]:
    """Every staff member, with their shifts, breaks and services."""
    return list(catalogue.catalogue(caller).staff)


@router.post(
    "/v1/admin/staff",
    tags=["admin: staff"],
    security=ADMIN_SECURITY,
    responses={201: {"description": "Created"}},
)
def create_staff(draft: StaffDraft, caller: Caller, catalogue: Catalogue) -> Response[StaffMember]:
    """Adds a staff member (owners and admins)."""
    member = catalogue.create_staff(caller, draft)
    return created(member, f"/v1/admin/staff/{member.id}")


@router.get("/v1/admin/staff/<staff_id>", tags=["admin: staff"], security=ADMIN_SECURITY)
def get_staff(staff_id: EntityId, caller: Caller, catalogue: Catalogue) -> StaffMember:
    """One staff member."""
    return catalogue.staff_member(caller, staff_id)


@router.put("/v1/admin/staff/<staff_id>", tags=["admin: staff"], security=ADMIN_SECURITY)
def put_staff(staff_id: EntityId, draft: StaffDraft, caller: Caller, catalogue: Catalogue) -> StaffMember:
    """Replaces a staff member's details, shifts and services (owners and admins)."""
    return catalogue.update_staff(caller, staff_id, draft)


@router.delete(
    "/v1/admin/staff/<staff_id>",
    tags=["admin: staff"],
    security=ADMIN_SECURITY,
    responses={204: {"description": "Deleted"}},
)
def delete_staff(staff_id: EntityId, caller: Caller, catalogue: Catalogue) -> Response[None]:
    """Deletes a staff member; their bookings stay on the diary."""
    catalogue.delete_staff(caller, staff_id)
    return no_content()


# --- who am I -----------------------------------------------------------------------------------------


@router.get("/v1/admin/me", tags=["admin: business"], security=ADMIN_SECURITY)
def me(caller: Caller) -> dict[str, str | None]:
    """Who the bearer token is: user, business, role and staff member."""
    return {
        "user_id": caller.user_id,
        "tenant_id": caller.tenant_id,
        "role": caller.role.value,
        "email": caller.email,
        "staff_id": caller.staff_id,
    }
