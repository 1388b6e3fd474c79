"""A contractor taking booking requests, its onboarded customers signed in, and a request submitted through
the customer API, for the booking-request tests."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from booking.adapters.sessions import JwtCustomerSessions
from tests.support.lambda_api import ApiResponse, LambdaApi
from tests.support.notification_fixtures import MakeTenant, Salon, admin_create, build_salon

SERVER_OWNED = ("id", "version", "created_at", "updated_at")


@dataclass(frozen=True)
class Contractor:
    salon: Salon
    boiler_id: str  # a service offered online, not on the request form

    @property
    def slug(self) -> str:
        return self.salon.slug

    def admin(self, role: str = "owner") -> str:
        return self.salon.tenant.token(role)


def build_contractor(api: LambdaApi, make_tenant: MakeTenant, **requests: Any) -> Contractor:
    """A plumber: two staff working 09:00-17:00 every day, a 2-hour "Leak repair" on the request form."""
    salon = build_salon(
        api,
        make_tenant,
        service={"name": "Leak repair", "duration_minutes": 120, "price_minor": 9000},
        second_staff=True,
        booking_window_days=365,
        name="Flowright Plumbing",
        contact_email="office@flowright.example",
    )
    boiler = admin_create(
        api,
        salon.tenant,
        "/v1/admin/services",
        {
            "name": "Boiler service",
            "duration_minutes": 60,
            "price_minor": 7000,
            "staff_ids": [salon.staff_id],
        },
    )
    settings = {
        "enabled": True,
        "services": [salon.service_id],
        "dispatcher_emails": ["dispatch@flowright.example"],
        "counter_hold_hours": 24,
        **requests,
    }
    update_requests(api, salon, settings)
    return Contractor(salon, boiler["id"])


def update_requests(api: LambdaApi, salon: Salon, settings: dict[str, Any]) -> None:
    business = api.get("/v1/admin/business", token=salon.tenant.token()).json()
    body = {k: v for k, v in business.items() if k not in SERVER_OWNED} | {"booking_requests": settings}
    response = api.put("/v1/admin/business", json_body=body, token=salon.tenant.token())
    assert response.status == 200, response.text


def onboarded_customer(api: LambdaApi, contractor: Contractor, onboarded: bool = True) -> tuple[str, str]:
    """A customer with an address on file (onboarded unless told), and their signed-in session token."""
    email = f"homeowner-{secrets.token_hex(4)}@customers.example"
    response = api.put(
        f"/v1/admin/customers/{email}/onboarding",
        json_body={
            "name": "Harriet Home",
            "phone": "+447911123456",
            "address": "4 Mill Lane\nBath BA2 3AB",
            "onboarded": onboarded,
        },
        token=contractor.admin("dispatcher"),
    )
    assert response.status == 200, response.text
    from booking_api.container import compose

    token, _ = JwtCustomerSessions(compose().app_secret).issue(
        contractor.salon.tenant.id, email, None, datetime.now(UTC)
    )
    return email, token


def requests_path(contractor: Contractor) -> str:
    return f"/v1/public/businesses/{contractor.slug}/customers/me/booking-requests"


def submit(api: LambdaApi, contractor: Contractor, token: str, **fields: Any) -> ApiResponse:
    body = {
        "service_id": contractor.salon.service_id,
        "preferred_dates": [contractor.salon.day(3).isoformat(), contractor.salon.day(4).isoformat()],
        "time_preference": "morning",
        "notes": "The leak is under the kitchen sink. Gate code 4821.",
        **fields,
    }
    return api.post(requests_path(contractor), json_body=body, headers={"Authorization": f"Bearer {token}"})


def as_customer(api: LambdaApi, method: str, path: str, token: str, body: Any = None) -> ApiResponse:
    return api.request(method, path, json_body=body, headers={"Authorization": f"Bearer {token}"})
