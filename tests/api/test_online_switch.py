"""Online appointments are off until a business switches them on: an online-only service cannot be
booked or offered, a service offered both ways is booked in person, and the switch turns both on."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.booking_fixtures import (
    MakeTenant,
    Spa,
    assert_problem,
    availability,
    book,
    booking_body,
    build_spa,
)
from tests.support.lambda_api import LambdaApi


@pytest.fixture
def spa(api: LambdaApi, container: Any, make_tenant: MakeTenant) -> Spa:
    spa = build_spa(container, make_tenant, online_appointments=False)
    owner = spa.tenant.token()
    body = {"name": "Video check-in", "duration_minutes": 30, "price_minor": 0, "delivery_mode": "online"}
    created = api.post("/v1/admin/services", token=owner, json_body={**body, "staff_ids": [spa.staff["ben"]]})
    assert created.status == 201, created.text
    spa.services["video"] = created.json()["id"]
    return spa


def switch(api: LambdaApi, spa: Spa, on: bool) -> None:
    owner = spa.tenant.token()
    settings = api.get("/v1/admin/business", token=owner).json()
    writable = {k: v for k, v in settings.items() if k not in ("id", "version", "created_at", "updated_at")}
    response = api.put("/v1/admin/business", token=owner, json_body={**writable, "online_appointments": on})
    assert response.status == 200, response.text


def test_while_off_online_only_services_are_neither_offered_nor_booked(api: LambdaApi, spa: Spa) -> None:
    problem = assert_problem(availability(api, spa, "video"), 422, field_name="services")
    assert "online appointments" in problem["detail"]
    refused = book(api, spa, booking_body(spa, spa.iso("10:00"), "video", staff="ben"))
    assert_problem(refused, 422, field_name="services")
    admin = api.post(
        "/v1/admin/bookings",
        token=spa.tenant.token(),
        json_body=booking_body(spa, spa.iso("10:00"), "video", staff="ben"),
    )
    assert_problem(admin, 422, field_name="services")


def test_while_off_a_service_offered_both_ways_is_booked_in_person(api: LambdaApi, spa: Spa) -> None:
    booked = book(api, spa, booking_body(spa, spa.iso("10:00"), "consult", staff="ben"))
    assert booked.status == 201, booked.text
    assert booked.json()["delivery"] == "in_person"
    online = book(api, spa, booking_body(spa, spa.iso("11:00"), "consult", staff="ben", delivery="online"))
    problem = assert_problem(online, 422, field_name="delivery")
    assert "online appointments" in problem["detail"]


def test_switched_on_the_customer_chooses_and_online_services_open(api: LambdaApi, spa: Spa) -> None:
    switch(api, spa, on=True)
    assert availability(api, spa, "video").status == 200
    unchosen = book(api, spa, booking_body(spa, spa.iso("10:00"), "consult", staff="ben"))
    assert_problem(unchosen, 422, field_name="delivery")
    online = book(api, spa, booking_body(spa, spa.iso("10:00"), "consult", staff="ben", delivery="online"))
    assert online.status == 201, online.text
    assert online.json()["delivery"] == "online"
    video = book(api, spa, booking_body(spa, spa.iso("11:00"), "video", staff="ben"))
    assert video.status == 201, video.text
    assert video.json()["delivery"] == "online"
