"""The business, its services, categories and staff."""

from __future__ import annotations

from typing import Protocol

from booking.domain.catalogue import Business, Catalogue, Category, Service, StaffMember


class CatalogueRepository(Protocol):
    """Stores businesses and their catalogues. Writes are atomic and fail with Conflict on a lost race."""

    def tenant_for_slug(self, slug: str) -> str | None: ...

    def load_catalogue(self, tenant_id: str) -> Catalogue | None:
        """The business with all its categories, services, staff and assignments, or None."""
        ...

    def create_business(self, business: Business) -> None:
        """Claims the slug and stores the business; Conflict if the slug is taken."""
        ...

    def update_business(self, business: Business, previous: Business) -> None:
        """Replaces `previous` (optimistic version check), moving the slug claim if it changed."""
        ...

    def put_category(self, tenant_id: str, category: Category, previous: Category | None) -> None: ...

    def delete_category(self, tenant_id: str, category: Category) -> None: ...

    def put_service(self, tenant_id: str, service: Service, previous: Service | None) -> None:
        """Stores the service and makes its assignments match `service.staff_ids`."""
        ...

    def delete_service(self, tenant_id: str, service: Service) -> None: ...

    def put_staff(self, tenant_id: str, member: StaffMember, previous: StaffMember | None) -> None:
        """Stores the staff member and makes its assignments match `member.service_ids`."""
        ...

    def delete_staff(self, tenant_id: str, member: StaffMember) -> None: ...


class CatalogueReader(Protocol):
    """Read side of the catalogue for hot paths (availability, booking); may be cached briefly."""

    def tenant_for_slug(self, slug: str) -> str | None: ...

    def load_catalogue(self, tenant_id: str) -> Catalogue | None: ...
