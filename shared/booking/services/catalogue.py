"""Catalogue use cases: business settings, categories, services and staff; the public menu."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from booking.domain.access import ANY_ROLE, CATALOGUE_EDITORS, SETTINGS_EDITORS, Principal
from booking.domain.catalogue import (
    Business,
    BusinessSettings,
    Catalogue,
    Category,
    CategoryDraft,
    Service,
    ServiceDraft,
    StaffDraft,
    StaffMember,
)
from booking.domain.errors import Conflict, FieldProblem, InvalidInput, NotFound
from booking.domain.menu import Menu, public_menu
from booking.domain.payments import PaymentRuleError, charge_at_booking
from booking.ports import CatalogueReader, CatalogueRepository, Clock, IdGenerator


class CatalogueService:
    def __init__(
        self,
        repository: CatalogueRepository,
        clock: Clock,
        ids: IdGenerator,
        on_change: Callable[[], None] = lambda: None,
        public_reader: CatalogueReader | None = None,
    ) -> None:
        self._repo = repository
        # Public reads (the widget's first call) may come from a short-lived cache; admin reads never do.
        self._public = public_reader or repository
        self._changed = on_change  # e.g. drops a read cache of the catalogue
        self._clock = clock
        self._ids = ids

    # --- business -------------------------------------------------------------------------------------

    def create_business(self, settings: BusinessSettings) -> Business:
        """Registers a new tenant. Called by the operator's CLI and the local seed, not by the admin API."""
        now = self._clock.now()
        business = Business(**settings.model_dump(), id=self._ids.new_id(), created_at=now, updated_at=now)
        self._repo.create_business(business)
        self._changed()
        return business

    def catalogue(self, principal: Principal) -> Catalogue:
        principal.require(ANY_ROLE)
        catalogue = self._repo.load_catalogue(principal.tenant_id)
        if catalogue is None:
            raise NotFound("business not found")
        return catalogue

    def business(self, principal: Principal) -> Business:
        return self.catalogue(principal).business

    def update_business(self, principal: Principal, settings: BusinessSettings) -> Business:
        """Replaces the settings. A new default_payment (or currency) is not checked against the existing
        services' prices: a service may be left charging what cannot be charged, and that is checked when
        a booking is made (charge_at_booking), as it is for every booking."""
        principal.require(SETTINGS_EDITORS)
        previous = self.business(principal)
        business = Business(
            **settings.model_dump(),
            id=previous.id,
            version=previous.version + 1,
            created_at=previous.created_at,
            updated_at=self._clock.now(),
        )
        self._repo.update_business(business, previous)
        self._changed()
        return business

    # --- categories -----------------------------------------------------------------------------------

    def category(self, principal: Principal, category_id: str) -> Category:
        found = self.catalogue(principal).category(category_id)
        if found is None:
            raise NotFound(f"category {category_id} not found")
        return found

    def create_category(self, principal: Principal, draft: CategoryDraft) -> Category:
        principal.require(CATALOGUE_EDITORS)
        self.catalogue(principal)  # the tenant must exist
        category = Category(**draft.model_dump(), id=self._ids.new_id())
        self._repo.put_category(principal.tenant_id, category, None)
        self._changed()
        return category

    def update_category(self, principal: Principal, category_id: str, draft: CategoryDraft) -> Category:
        principal.require(CATALOGUE_EDITORS)
        previous = self.category(principal, category_id)
        category = Category(**draft.model_dump(), id=category_id, version=previous.version + 1)
        self._repo.put_category(principal.tenant_id, category, previous)
        self._changed()
        return category

    def delete_category(self, principal: Principal, category_id: str) -> None:
        principal.require(CATALOGUE_EDITORS)
        catalogue = self.catalogue(principal)
        category = catalogue.category(category_id)
        if category is None:
            raise NotFound(f"category {category_id} not found")
        in_use = [s.name for s in catalogue.services if s.category_id == category_id]
        if in_use:
            raise Conflict(f"category still holds services: {', '.join(in_use)}; move or delete them first")
        self._repo.delete_category(principal.tenant_id, category)
        self._changed()

    # --- services -------------------------------------------------------------------------------------

    def service(self, principal: Principal, service_id: str) -> Service:
        found = self.catalogue(principal).service(service_id)
        if found is None:
            raise NotFound(f"service {service_id} not found")
        return found

    def create_service(self, principal: Principal, draft: ServiceDraft) -> Service:
        principal.require(CATALOGUE_EDITORS)
        catalogue = self.catalogue(principal)
        _check_service_references(catalogue, draft)
        _check_payment(catalogue.business, draft)
        service = Service(**draft.model_dump(), id=self._ids.new_id())
        self._repo.put_service(principal.tenant_id, service, None)
        self._changed()
        return service

    def update_service(self, principal: Principal, service_id: str, draft: ServiceDraft) -> Service:
        principal.require(CATALOGUE_EDITORS)
        catalogue = self.catalogue(principal)
        previous = catalogue.service(service_id)
        if previous is None:
            raise NotFound(f"service {service_id} not found")
        _check_service_references(catalogue, draft)
        _check_payment(catalogue.business, draft)
        service = Service(**draft.model_dump(), id=service_id, version=previous.version + 1)
        self._repo.put_service(principal.tenant_id, service, previous)
        self._changed()
        return service

    def delete_service(self, principal: Principal, service_id: str) -> None:
        principal.require(CATALOGUE_EDITORS)
        self._repo.delete_service(principal.tenant_id, self.service(principal, service_id))
        self._changed()

    # --- staff ----------------------------------------------------------------------------------------

    def staff_member(self, principal: Principal, staff_id: str) -> StaffMember:
        found = self.catalogue(principal).staff_member(staff_id)
        if found is None:
            raise NotFound(f"staff member {staff_id} not found")
        return found

    def create_staff(self, principal: Principal, draft: StaffDraft) -> StaffMember:
        principal.require(CATALOGUE_EDITORS)
        catalogue = self.catalogue(principal)
        _check_known(catalogue.unknown_services(draft.service_ids), "service_ids", "service")
        member = StaffMember(**draft.model_dump(), id=self._ids.new_id())
        self._repo.put_staff(principal.tenant_id, member, None)
        self._changed()
        return member

    def update_staff(self, principal: Principal, staff_id: str, draft: StaffDraft) -> StaffMember:
        principal.require(CATALOGUE_EDITORS)
        catalogue = self.catalogue(principal)
        previous = catalogue.staff_member(staff_id)
        if previous is None:
            raise NotFound(f"staff member {staff_id} not found")
        _check_known(catalogue.unknown_services(draft.service_ids), "service_ids", "service")
        member = StaffMember(**draft.model_dump(), id=staff_id, version=previous.version + 1)
        self._repo.put_staff(principal.tenant_id, member, previous)
        self._changed()
        return member

    def delete_staff(self, principal: Principal, staff_id: str) -> None:
        principal.require(CATALOGUE_EDITORS)
        self._repo.delete_staff(principal.tenant_id, self.staff_member(principal, staff_id))
        self._changed()

    # --- public ---------------------------------------------------------------------------------------

    def public_catalogue(self, slug: str) -> Catalogue:
        tenant_id = self._public.tenant_for_slug(slug)
        catalogue = self._public.load_catalogue(tenant_id) if tenant_id else None
        if catalogue is None:
            raise NotFound(f"no business is published at {slug!r}")
        return catalogue

    def public_menu(self, slug: str) -> Menu:
        return public_menu(self.public_catalogue(slug))


def _check_service_references(catalogue: Catalogue, draft: ServiceDraft) -> None:
    if draft.category_id is not None and catalogue.category(draft.category_id) is None:
        raise InvalidInput(
            "unknown category",
            [FieldProblem(("body", "category_id"), f"no category {draft.category_id}")],
        )
    _check_known(catalogue.unknown_staff(draft.staff_ids), "staff_ids", "staff member")


def _check_payment(business: BusinessSettings, draft: ServiceDraft) -> None:
    """A service that charges at booking (its own rule, or the business's default when it has none) must be
    chargeable in the business's currency: the amount due is 0 or at least the currency's minimum charge,
    and a fixed deposit is not above the price."""
    rule = business.default_payment if draft.payment is None else draft.payment
    try:
        charge_at_booking(draft.price_minor, rule, business.currency)
    except PaymentRuleError as error:
        if error.field == "price_minor":
            loc: tuple[str, ...] = ("body", "price_minor")
        elif draft.payment is None:  # the business's default: the service may set its own rule instead
            loc = ("body", "payment")
        else:
            loc = ("body", "payment", error.field)
        message = (
            str(error) if draft.payment is not None else f"under the business's default payment: {error}"
        )
        raise InvalidInput("the service's payment cannot be charged", [FieldProblem(loc, message)]) from None


def _check_known(unknown: Iterable[str], field: str, what: str) -> None:
    missing = list(unknown)
    if missing:
        raise InvalidInput(
            f"unknown {what} referenced",
            [FieldProblem(("body", field), f"no {what} {', '.join(missing)}")],
        )
