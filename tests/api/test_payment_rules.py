"""Payment rules per service and the business's payment settings, through the real Lambda handler.

A service charges nothing, its full price, a deposit (fixed or a percentage) or saves a card; a rule that
cannot be charged in the business's currency (a deposit above the price, an amount under Stripe's minimum
charge) is refused with a 422 naming the field to change, and a re-read shows nothing was written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import Tenant
from tests.support.booking_fixtures import assert_problem
from tests.support.lambda_api import ApiResponse, LambdaApi

BUSINESS = "/v1/admin/business"
SERVICES = "/v1/admin/services"

MakeTenant = Callable[..., Tenant]
NO_RULE = {"mode": "none", "deposit_minor": None, "deposit_percent": None}


def rule(mode: str, **fields: int) -> dict[str, Any]:
    return {"mode": mode, "deposit_minor": None, "deposit_percent": None, **fields}


def service_body(**overrides: Any) -> dict[str, Any]:
    return {"name": "Hot stone massage", "duration_minutes": 60, "price_minor": 6500, **overrides}


def settings_body(tenant: Tenant, **overrides: Any) -> dict[str, Any]:
    return {
        "name": "Serenity Day Spa",
        "slug": tenant.slug,
        "time_zone": "Europe/London",
        "currency": "GBP",
        **overrides,
    }


def state(api: LambdaApi, tenant: Tenant) -> dict[str, Any]:
    """The business and its services as the admin API shows them."""
    seen = {}
    for path in (BUSINESS, SERVICES):
        response = api.get(path, token=tenant.token())
        assert response.status == 200, response.text
        seen[path] = response.json()
    return seen


def fields_named(response: ApiResponse) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


def messages(response: ApiResponse) -> str:
    return " | ".join(e["msg"] for e in response.json()["errors"])


# --- services with rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payment",
    [
        rule("none"),
        rule("full"),
        rule("deposit", deposit_minor=2000),
        rule("deposit", deposit_minor=6500),  # the whole price as a deposit
        rule("deposit", deposit_percent=20),
        rule("card_on_file"),
    ],
)
def test_a_service_with_each_payment_rule_is_created_and_read_back(
    api: LambdaApi, tenant: Tenant, payment: dict[str, Any]
) -> None:
    sent = {k: v for k, v in payment.items() if v is not None}  # clients may leave the unused field out
    response = api.post(SERVICES, token=tenant.token(), json_body=service_body(payment=sent))
    assert response.status == 201, response.text
    service = response.json()
    assert service["payment"] == payment
    assert api.get(f"{SERVICES}/{service['id']}", token=tenant.token()).json() == service
    assert api.get(SERVICES, token=tenant.token()).json() == [service]


def test_a_service_without_a_rule_uses_the_business_default(api: LambdaApi, tenant: Tenant) -> None:
    response = api.post(SERVICES, token=tenant.token(), json_body=service_body())
    assert response.status == 201, response.text
    assert response.json()["payment"] is None
    assert api.get(BUSINESS, token=tenant.token()).json()["default_payment"] == NO_RULE


def test_a_service_s_rule_is_replaced_and_cleared_by_put(api: LambdaApi, tenant: Tenant) -> None:
    created = api.post(
        SERVICES,
        token=tenant.token(),
        json_body=service_body(payment={"mode": "deposit", "deposit_percent": 30}),
    ).json()
    location = f"{SERVICES}/{created['id']}"

    response = api.put(location, token=tenant.token(), json_body=service_body(payment={"mode": "full"}))
    assert response.status == 200, response.text
    assert response.json()["payment"] == rule("full")
    assert response.json()["version"] == 2

    response = api.put(location, token=tenant.token(), json_body=service_body())  # PUT replaces
    assert response.status == 200, response.text
    assert response.json()["payment"] is None
    assert api.get(location, token=tenant.token()).json() == response.json()


@pytest.mark.parametrize(
    ("payment", "field"),
    [
        ({"mode": "later"}, "payment.mode"),
        ({"mode": "full", "deposit_minor": 1000}, "payment.deposit_minor"),
        ({"mode": "card_on_file", "deposit_percent": 10}, "payment.deposit_percent"),
        ({"mode": "none", "deposit_minor": 1000}, "payment.deposit_minor"),
        ({"mode": "deposit", "deposit_minor": 1000, "deposit_percent": 10}, "payment.deposit_percent"),
        ({"mode": "deposit"}, "payment"),
        ({"mode": "deposit", "deposit_percent": 0}, "payment.deposit_percent"),
        ({"mode": "deposit", "deposit_percent": 101}, "payment.deposit_percent"),
        ({"mode": "deposit", "deposit_percent": "half"}, "payment.deposit_percent"),
        ({"mode": "deposit", "deposit_minor": 0}, "payment.deposit_minor"),
        ({"mode": "deposit", "deposit_minor": -500}, "payment.deposit_minor"),
        ({"mode": "deposit", "deposit_minor": 10.5}, "payment.deposit_minor"),
        ({"mode": "full", "amount": 6500}, "payment.amount"),
        ("full", "payment"),
    ],
)
def test_a_malformed_rule_is_refused_naming_the_field_and_nothing_is_written(
    api: LambdaApi, tenant: Tenant, payment: Any, field: str
) -> None:
    before = state(api, tenant)
    response = api.post(SERVICES, token=tenant.token(), json_body=service_body(payment=payment))
    assert_problem(response, 422, "validation-error", field)
    assert field in fields_named(response)
    assert state(api, tenant) == before


@pytest.mark.parametrize(
    ("body", "field", "told"),
    [
        (
            service_body(payment={"mode": "deposit", "deposit_minor": 7000}),
            "payment.deposit_minor",
            "the deposit GBP 70.00 is more than the price GBP 65.00",
        ),
        (
            service_body(price_minor=20, payment={"mode": "full"}),
            "price_minor",
            "GBP 0.20, is less than GBP 0.30",
        ),
        (
            service_body(payment={"mode": "deposit", "deposit_minor": 25}),
            "payment.deposit_minor",
            "GBP 0.25, is less than GBP 0.30",
        ),
        (
            service_body(price_minor=1000, payment={"mode": "deposit", "deposit_percent": 2}),
            "payment.deposit_percent",
            "GBP 0.20, is less than GBP 0.30",
        ),
    ],
)
def test_a_rule_that_cannot_be_charged_is_refused_and_nothing_is_written(
    api: LambdaApi, tenant: Tenant, body: dict[str, Any], field: str, told: str
) -> None:
    before = state(api, tenant)
    response = api.post(SERVICES, token=tenant.token(), json_body=body)
    assert_problem(response, 422, "validation-error", field)
    assert fields_named(response) == [field]
    assert told in messages(response)
    assert state(api, tenant) == before

    # nor can an existing service be changed into it
    existing = api.post(SERVICES, token=tenant.token(), json_body=service_body()).json()
    before = state(api, tenant)
    response = api.put(f"{SERVICES}/{existing['id']}", token=tenant.token(), json_body=body)
    assert_problem(response, 422, "validation-error", field)
    assert state(api, tenant) == before


def test_amounts_at_the_minimum_and_nothing_at_all_are_accepted(api: LambdaApi, tenant: Tenant) -> None:
    for body in (
        service_body(price_minor=30, payment={"mode": "full"}),  # exactly GBP 0.30
        service_body(payment={"mode": "deposit", "deposit_minor": 30}),
        service_body(price_minor=0, payment={"mode": "full"}),  # a free service charges nothing
        service_body(price_minor=0, payment={"mode": "deposit", "deposit_percent": 50}),
        service_body(price_minor=20, payment={"mode": "card_on_file"}),  # saves a card, charges nothing
        service_body(price_minor=20, payment={"mode": "none"}),
    ):
        response = api.post(SERVICES, token=tenant.token(), json_body=body)
        assert response.status == 201, (body, response.text)


def test_minimums_are_in_the_business_s_currency(api: LambdaApi, make_tenant: MakeTenant) -> None:
    yen = make_tenant(currency="JPY")
    response = api.post(
        SERVICES, token=yen.token(), json_body=service_body(price_minor=49, payment={"mode": "full"})
    )
    assert_problem(response, 422, "validation-error", "price_minor")
    assert "JPY 49, is less than JPY 50" in messages(response)

    # 15 % of ¥3,333 is ¥499.95: charged as ¥500, above the minimum
    response = api.post(
        SERVICES,
        token=yen.token(),
        json_body=service_body(price_minor=3333, payment={"mode": "deposit", "deposit_percent": 15}),
    )
    assert response.status == 201, response.text


def test_a_service_without_its_own_rule_is_checked_against_the_business_default(
    api: LambdaApi, make_tenant: MakeTenant
) -> None:
    tenant = make_tenant(default_payment={"mode": "deposit", "deposit_minor": 5000})
    before = state(api, tenant)
    response = api.post(SERVICES, token=tenant.token(), json_body=service_body(price_minor=3000))
    assert_problem(response, 422, "validation-error", "payment")
    assert fields_named(response) == ["payment"]
    assert "default payment" in messages(response)
    assert state(api, tenant) == before

    # its own rule lifts it out of the default
    own = service_body(price_minor=3000, payment={"mode": "none"})
    assert api.post(SERVICES, token=tenant.token(), json_body=own).status == 201
    assert api.post(SERVICES, token=tenant.token(), json_body=service_body(price_minor=6500)).status == 201


# --- the business's payment settings ------------------------------------------------------------------


def test_payment_settings_default_to_taking_no_payment(api: LambdaApi, tenant: Tenant) -> None:
    business = api.get(BUSINESS, token=tenant.token()).json()
    assert business["tax_rate_basis_points"] == 0
    assert business["prices_include_tax"] is True
    assert business["capture"] == "immediate"
    assert business["allow_skip_payment"] is False
    assert business["payment_hold_minutes"] == 15
    assert business["default_payment"] == NO_RULE


def test_payment_settings_are_saved_and_read_back(api: LambdaApi, tenant: Tenant) -> None:
    chosen = {
        "tax_rate_basis_points": 2000,
        "prices_include_tax": False,
        "capture": "on_staff_confirmation",
        "allow_skip_payment": True,
        "payment_hold_minutes": 30,
        "default_payment": rule("deposit", deposit_percent=25),
    }
    response = api.put(BUSINESS, token=tenant.token(), json_body=settings_body(tenant, **chosen))
    assert response.status == 200, response.text
    updated = response.json()
    assert {k: updated[k] for k in chosen} == chosen
    assert api.get(BUSINESS, token=tenant.token()).json() == updated

    # a service left without its own rule now takes the deposit, and is checked against it
    response = api.post(SERVICES, token=tenant.token(), json_body=service_body(price_minor=100))
    assert_problem(response, 422, "validation-error", "payment")  # 25 % of GBP 1.00 is under GBP 0.30


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"tax_rate_basis_points": -1}, "tax_rate_basis_points"),
        ({"tax_rate_basis_points": 10_001}, "tax_rate_basis_points"),
        ({"tax_rate_basis_points": 20.5}, "tax_rate_basis_points"),
        ({"prices_include_tax": "sometimes"}, "prices_include_tax"),
        ({"capture": "later"}, "capture"),
        ({"allow_skip_payment": "maybe"}, "allow_skip_payment"),
        ({"payment_hold_minutes": 4}, "payment_hold_minutes"),
        ({"payment_hold_minutes": 61}, "payment_hold_minutes"),
        ({"default_payment": {"mode": "deposit"}}, "default_payment"),
        ({"default_payment": {"mode": "full", "deposit_minor": 500}}, "default_payment.deposit_minor"),
        ({"default_payment": {"mode": "deposit", "deposit_percent": 150}}, "default_payment.deposit_percent"),
        ({"default_payment": None}, "default_payment"),
    ],
)
def test_bad_payment_settings_are_refused_naming_the_field_and_nothing_changes(
    api: LambdaApi, tenant: Tenant, overrides: dict[str, Any], field: str
) -> None:
    before = state(api, tenant)
    response = api.put(
        BUSINESS, token=tenant.token(), json_body=settings_body(tenant, name="Changed", **overrides)
    )
    assert_problem(response, 422, "validation-error", field)
    assert field in fields_named(response)
    assert state(api, tenant) == before


def test_a_new_default_is_not_checked_against_existing_services(api: LambdaApi, tenant: Tenant) -> None:
    """Documented on CatalogueService.update_business: each booking checks what it charges instead."""
    cheap = api.post(SERVICES, token=tenant.token(), json_body=service_body(price_minor=20)).json()
    response = api.put(
        BUSINESS, token=tenant.token(), json_body=settings_body(tenant, default_payment={"mode": "full"})
    )
    assert response.status == 200, response.text
    assert api.get(f"{SERVICES}/{cheap['id']}", token=tenant.token()).json() == cheap
