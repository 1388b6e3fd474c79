"""The admin catalogue API through the real Lambda handler: CRUD, assignments, roles, tenancy, bad input.

Every rejected request is checked twice: the caller gets a clear problem+json naming what is wrong, and a
re-read shows that nothing was written.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest

from local.aws import EmbeddedAws, LocalResources
from local.persistence import LOCAL_PASSWORD
from tests.conftest import Tenant
from tests.support.lambda_api import ApiResponse, LambdaApi

BUSINESS = "/v1/admin/business"
CATEGORIES = "/v1/admin/categories"
SERVICES = "/v1/admin/services"
STAFF = "/v1/admin/staff"
COLLECTIONS = (CATEGORIES, SERVICES, STAFF)

MakeTenant = Callable[..., Tenant]


# --- helpers ------------------------------------------------------------------------------------------


def public_url(slug: str) -> str:
    return f"/v1/public/businesses/{slug}/services"


def state(api: LambdaApi, tenant: Tenant) -> dict[str, Any]:
    """Everything the admin API shows of a tenant, read with the owner's token."""
    seen = {}
    for path in (BUSINESS, *COLLECTIONS):
        response = api.get(path, token=tenant.token())
        assert response.status == 200, response.text
        seen[path] = response.json()
    return seen


def assert_problem(response: ApiResponse, status: int, field: str | None = None) -> dict[str, Any]:
    """A problem+json of `status`; with `field`, its errors name that field (or a part of it)."""
    assert response.status == status, response.text
    assert (response.header("Content-Type") or "").startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:booking:problem:")
    assert body["title"]
    assert body["detail"]
    assert "Traceback" not in response.text
    if field is not None:
        fields = [e["field"] for e in body["errors"]]
        assert any(f == field or f.startswith(f"{field}.") for f in fields), fields
        assert all(e["msg"] for e in body["errors"])
    return body


def create(api: LambdaApi, tenant: Tenant, path: str, body: dict[str, Any], role: str = "owner") -> Any:
    response = api.post(path, token=tenant.token(role), json_body=body)
    assert response.status == 201, response.text
    return response.json()


def settings_body(tenant: Tenant, **overrides: Any) -> dict[str, Any]:
    return {
        "name": "Serenity Day Spa",
        "slug": tenant.slug,
        "time_zone": "Europe/London",
        "currency": "GBP",
        **overrides,
    }


def staff_body(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "Amelia Hart",
        "email": "amelia@serenity.example",
        "shifts": [
            {
                "weekday": "mon",
                "start": "09:00",
                "end": "17:00",
                "breaks": [{"start": "13:00", "end": "13:30"}],
            }
        ],
        **overrides,
    }


def service_body(**overrides: Any) -> dict[str, Any]:
    return {"name": "Swedish massage", "duration_minutes": 60, "price_minor": 6500, **overrides}


def by_id(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in items}


def furnish(api: LambdaApi, tenant: Tenant) -> dict[str, Any]:
    """Gives a tenant one category, staff member and service; returns them and the tenant."""
    category = create(api, tenant, CATEGORIES, {"name": "Massage"})
    member = create(api, tenant, STAFF, staff_body())
    service = create(
        api, tenant, SERVICES, service_body(category_id=category["id"], staff_ids=[member["id"]])
    )
    return {"tenant": tenant, "category": category, "staff": member, "service": service}


# --- shared fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shared_furnished(api: LambdaApi, make_tenant: MakeTenant) -> dict[str, Any]:
    """A furnished tenant shared by the tests whose every request must be refused; each checks that its
    requests changed nothing, so sharing it is safe and keeps the suite fast."""
    return furnish(api, make_tenant())


@pytest.fixture(scope="module")
def quiet_tenant(shared_furnished: dict[str, Any]) -> Tenant:
    tenant: Tenant = shared_furnished["tenant"]
    return tenant


# --- business settings --------------------------------------------------------------------------------


def test_owner_reads_the_business_settings(api: LambdaApi, tenant: Tenant) -> None:
    response = api.get(BUSINESS, token=tenant.token())
    assert response.status == 200
    business = response.json()
    assert business["id"] == tenant.id
    assert business["slug"] == tenant.slug
    assert business["time_zone"] == "Europe/London"
    assert business["currency"] == "GBP"
    assert business["booking_window_days"] == 60
    assert business["version"] == 1


def test_owner_replaces_the_business_settings(api: LambdaApi, tenant: Tenant) -> None:
    before = api.get(BUSINESS, token=tenant.token()).json()
    settings = settings_body(
        tenant,
        name="Serenity Day Spa & Wellness",
        time_zone="America/New_York",
        currency="USD",
        address="400 Park Ave, New York",
        contact_email="hello@serenity.example",
        contact_phone="+1 (212) 555-0142",
        operating_hours=[
            {"weekday": "mon", "start": "09:00", "end": "12:30"},
            {"weekday": "mon", "start": "13:30", "end": "19:00"},
            {"weekday": "sat", "start": "10:00", "end": "16:00"},
        ],
        closures=[{"start_date": "2026-12-24", "end_date": "2026-12-26", "reason": "Christmas"}],
        booking_window_days=90,
        min_notice_minutes=120,
        slot_interval_minutes=30,
        default_buffer_before_minutes=5,
        default_buffer_after_minutes=10,
        widget_origins=["https://Book.Serenity.example/", "http://localhost:8080"],
    )
    response = api.put(BUSINESS, token=tenant.token(), json_body=settings)
    assert response.status == 200, response.text
    updated = response.json()

    assert api.get(BUSINESS, token=tenant.token()).json() == updated
    assert updated["id"] == tenant.id
    assert updated["version"] == before["version"] + 1
    assert updated["created_at"] == before["created_at"]
    assert updated["name"] == "Serenity Day Spa & Wellness"
    assert (updated["time_zone"], updated["currency"]) == ("America/New_York", "USD")
    assert updated["contact_phone"] == "+12125550142"
    assert updated["operating_hours"] == settings["operating_hours"]  # "HH:MM" in, "HH:MM" out
    assert updated["closures"] == settings["closures"]
    assert updated["widget_origins"] == ["https://book.serenity.example", "http://localhost:8080"]
    assert (updated["booking_window_days"], updated["min_notice_minutes"]) == (90, 120)
    assert (updated["default_buffer_before_minutes"], updated["default_buffer_after_minutes"]) == (5, 10)


def test_admin_may_change_settings(api: LambdaApi, tenant: Tenant) -> None:
    response = api.put(BUSINESS, token=tenant.token("admin"), json_body=settings_body(tenant, name="Renamed"))
    assert response.status == 200, response.text
    assert api.get(BUSINESS, token=tenant.token()).json()["name"] == "Renamed"


def test_changing_the_slug_moves_the_public_page(api: LambdaApi, tenant: Tenant) -> None:
    old_slug = tenant.slug
    new_slug = f"{old_slug}-moved"
    assert api.get(public_url(old_slug)).status == 200

    response = api.put(BUSINESS, token=tenant.token(), json_body=settings_body(tenant, slug=new_slug))
    assert response.status == 200, response.text
    assert response.json()["slug"] == new_slug

    assert_problem(api.get(public_url(old_slug)), 404)
    moved = api.get(public_url(new_slug))
    assert moved.status == 200
    assert moved.json()["business"]["slug"] == new_slug


def test_a_released_slug_can_be_taken_by_another_business(api: LambdaApi, make_tenant: MakeTenant) -> None:
    first, second = make_tenant(), make_tenant()
    released = first.slug
    assert (
        api.put(BUSINESS, token=first.token(), json_body=settings_body(first, slug=f"{released}-x")).status
        == 200
    )

    response = api.put(BUSINESS, token=second.token(), json_body=settings_body(second, slug=released))
    assert response.status == 200, response.text
    assert api.get(public_url(released)).json()["business"]["name"] == "Serenity Day Spa"
    assert api.get(BUSINESS, token=second.token()).json()["slug"] == released


def test_taking_another_businesses_slug_is_a_conflict_and_changes_nothing(
    api: LambdaApi, make_tenant: MakeTenant
) -> None:
    mine = make_tenant(name="Mine")
    theirs = make_tenant(name="Theirs")
    before_mine, before_theirs = state(api, mine), state(api, theirs)

    response = api.put(
        BUSINESS, token=mine.token(), json_body=settings_body(mine, name="Hijack", slug=theirs.slug)
    )
    assert_problem(response, 409)

    assert state(api, mine) == before_mine
    assert state(api, theirs) == before_theirs
    assert api.get(public_url(theirs.slug)).json()["business"]["name"] == "Theirs"
    assert api.get(public_url(mine.slug)).json()["business"]["name"] == "Mine"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"time_zone": "europe/london"}, "time_zone"),
        ({"currency": "XYZ"}, "currency"),
        ({"currency": 826}, "currency"),
        ({"slug": "Not A Slug!"}, "slug"),
        ({"slug": "ab"}, "slug"),
        ({"name": "x" * 500}, "name"),
        ({"name": ""}, "name"),
        ({"address": "x" * 201}, "address"),
        ({"booking_window_days": "sixty"}, "booking_window_days"),
        ({"booking_window_days": 0}, "booking_window_days"),
        ({"slot_interval_minutes": 0}, "slot_interval_minutes"),
        ({"max_booking_minutes": 22 * 24 * 60}, "max_booking_minutes"),
        ({"online_appointments": "sometimes"}, "online_appointments"),
        ({"meeting_provider": "skype"}, "meeting_provider"),
        ({"jitsi_base_url": "http://meet.example.com"}, "jitsi_base_url"),
        ({"jitsi_base_url": "https://user:pw@meet.example.com"}, "jitsi_base_url"),
        ({"contact_phone": "07911 123456"}, "contact_phone"),
        ({"contact_email": "not-an-email"}, "contact_email"),
        ({"widget_origins": ["https://example.com/widget"]}, "widget_origins"),
        ({"widget_origins": "https://example.com"}, "widget_origins"),
        ({"owner_id": "me"}, "owner_id"),
        ({"id": "another-tenant"}, "id"),
        ({"version": 99}, "version"),
        (
            {
                "operating_hours": [
                    {"weekday": "mon", "start": "09:00", "end": "13:00"},
                    {"weekday": "mon", "start": "12:00", "end": "17:00"},
                ]
            },
            "operating_hours",
        ),
        ({"operating_hours": [{"weekday": "mon", "start": "17:00", "end": "09:00"}]}, "operating_hours"),
        ({"operating_hours": [{"weekday": "someday", "start": "09:00", "end": "17:00"}]}, "operating_hours"),
        ({"closures": [{"start_date": "2026-12-26", "end_date": "2026-12-24"}]}, "closures"),
    ],
)
def test_invalid_settings_are_rejected_naming_the_field_and_nothing_changes(
    api: LambdaApi, quiet_tenant: Tenant, overrides: dict[str, Any], field: str
) -> None:
    before = state(api, quiet_tenant)
    response = api.put(
        BUSINESS,
        token=quiet_tenant.token(),
        json_body={**settings_body(quiet_tenant, name="Changed"), **overrides},
    )
    assert_problem(response, 422, field)
    assert state(api, quiet_tenant) == before


def test_settings_without_required_fields_are_rejected(api: LambdaApi, quiet_tenant: Tenant) -> None:
    before = state(api, quiet_tenant)
    response = api.put(BUSINESS, token=quiet_tenant.token(), json_body={"name": "Only a name"})
    body = assert_problem(response, 422)
    assert {"slug", "time_zone", "currency"} <= {e["field"] for e in body["errors"]}
    assert state(api, quiet_tenant) == before


# --- categories ---------------------------------------------------------------------------------------


def test_category_crud(api: LambdaApi, tenant: Tenant) -> None:
    token = tenant.token()
    response = api.post(CATEGORIES, token=token, json_body={"name": "Massage", "description": "Hands on"})
    assert response.status == 201, response.text
    category = response.json()
    assert category["name"] == "Massage"
    assert category["description"] == "Hands on"
    assert category["position"] == 0
    assert category["version"] == 1
    location = response.header("Location")
    assert location == f"{CATEGORIES}/{category['id']}"
    assert api.get(location, token=token).json() == category
    assert api.get(CATEGORIES, token=token).json() == [category]

    response = api.put(
        location, token=token, json_body={"name": "Massages", "description": "", "position": 3}
    )
    assert response.status == 200, response.text
    updated = response.json()
    assert (updated["id"], updated["name"], updated["position"], updated["version"]) == (
        category["id"],
        "Massages",
        3,
        2,
    )
    assert api.get(location, token=token).json() == updated

    response = api.delete(location, token=token)
    assert response.status == 204
    assert response.text == ""
    assert_problem(api.get(location, token=token), 404)
    assert api.get(CATEGORIES, token=token).json() == []


def test_categories_are_listed_by_position_then_name(api: LambdaApi, tenant: Tenant) -> None:
    create(api, tenant, CATEGORIES, {"name": "Nails", "position": 2})
    create(api, tenant, CATEGORIES, {"name": "facials", "position": 1})
    create(api, tenant, CATEGORIES, {"name": "Body", "position": 1})
    create(api, tenant, CATEGORIES, {"name": "Massage", "position": 0})
    names = [c["name"] for c in api.get(CATEGORIES, token=tenant.token()).json()]
    assert names == ["Massage", "Body", "facials", "Nails"]


def test_a_category_that_still_holds_services_cannot_be_deleted(api: LambdaApi, tenant: Tenant) -> None:
    category = create(api, tenant, CATEGORIES, {"name": "Massage"})
    service = create(api, tenant, SERVICES, service_body(category_id=category["id"]))
    before = state(api, tenant)

    body = assert_problem(api.delete(f"{CATEGORIES}/{category['id']}", token=tenant.token()), 409)
    assert "Swedish massage" in body["detail"]
    assert state(api, tenant) == before

    # once the service moves out, the category can go
    moved = api.put(
        f"{SERVICES}/{service['id']}", token=tenant.token(), json_body=service_body(category_id=None)
    )
    assert moved.status == 200, moved.text
    assert api.delete(f"{CATEGORIES}/{category['id']}", token=tenant.token()).status == 204
    assert api.get(f"{SERVICES}/{service['id']}", token=tenant.token()).json()["category_id"] is None


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_unknown_category_is_404(api: LambdaApi, quiet_tenant: Tenant, method: str) -> None:
    before = state(api, quiet_tenant)
    response = api.request(
        method, f"{CATEGORIES}/01NOSUCHCATEGORY", token=quiet_tenant.token(), json_body={"name": "Ghost"}
    )
    assert_problem(response, 404)
    assert state(api, quiet_tenant) == before


# --- services -----------------------------------------------------------------------------------------


def test_service_crud(api: LambdaApi, tenant: Tenant) -> None:
    token = tenant.token()
    category = create(api, tenant, CATEGORIES, {"name": "Massage"})
    body = service_body(
        description="Full-body relaxing massage.",
        category_id=category["id"],
        buffer_before_minutes=5,
        buffer_after_minutes=15,
        delivery_mode="both",
    )
    response = api.post(SERVICES, token=token, json_body=body)
    assert response.status == 201, response.text
    service = response.json()
    assert {k: service[k] for k in body} == body
    assert service["staff_ids"] == []
    assert service["active"] is True
    location = response.header("Location")
    assert location == f"{SERVICES}/{service['id']}"
    assert api.get(location, token=token).json() == service
    assert api.get(SERVICES, token=token).json() == [service]

    replacement = service_body(
        name="Swedish massage (long)",
        duration_minutes=90,
        price_minor=9000,
        delivery_mode="in_person",
        active=False,
    )
    response = api.put(location, token=token, json_body=replacement)
    assert response.status == 200, response.text
    updated = response.json()
    assert updated["version"] == 2
    assert (updated["name"], updated["duration_minutes"], updated["price_minor"]) == (
        "Swedish massage (long)",
        90,
        9000,
    )
    assert updated["active"] is False
    # PUT replaces: what the body leaves out falls back to the defaults
    assert (updated["category_id"], updated["buffer_before_minutes"], updated["description"]) == (
        None,
        None,
        "",
    )
    assert api.get(location, token=token).json() == updated

    assert api.delete(location, token=token).status == 204
    assert_problem(api.get(location, token=token), 404)
    assert api.get(SERVICES, token=token).json() == []


def test_service_with_an_unknown_category_is_rejected_and_not_written(api: LambdaApi, tenant: Tenant) -> None:
    before = state(api, tenant)
    response = api.post(
        SERVICES, token=tenant.token(), json_body=service_body(category_id="01NOSUCHCATEGORY")
    )
    body = assert_problem(response, 422, "category_id")
    assert "01NOSUCHCATEGORY" in json.dumps(body["errors"])
    assert state(api, tenant) == before


def test_service_with_unknown_staff_is_rejected_and_not_written(api: LambdaApi, tenant: Tenant) -> None:
    member = create(api, tenant, STAFF, staff_body())
    before = state(api, tenant)
    response = api.post(
        SERVICES, token=tenant.token(), json_body=service_body(staff_ids=[member["id"], "01NOSUCHSTAFF"])
    )
    body = assert_problem(response, 422, "staff_ids")
    assert "01NOSUCHSTAFF" in json.dumps(body["errors"])
    assert state(api, tenant) == before


def test_a_staff_member_may_offer_more_services_than_one_request_names(
    api: LambdaApi, tenant: Tenant
) -> None:
    """A request names at most 40 assignments, and each side is made from the other too: a staff member
    given 41 services, one service at a time, shows all 41 (found by the fuzzer: the stored list broke the
    response schema, which had the request's limit)."""
    member = create(api, tenant, STAFF, staff_body())
    for i in range(41):
        create(api, tenant, SERVICES, service_body(name=f"Service {i}", staff_ids=[member["id"]]))
    shown = api.get(f"{STAFF}/{member['id']}", token=tenant.token())
    assert shown.status == 200, shown.text
    assert len(shown.json()["service_ids"]) == 41
    schema = api.get("/v1/openapi.json").json()["components"]["schemas"]["StaffMember"]
    assert "maxItems" not in schema["properties"]["service_ids"]


def test_updating_a_service_with_unknown_references_changes_nothing(api: LambdaApi, tenant: Tenant) -> None:
    member = create(api, tenant, STAFF, staff_body())
    service = create(api, tenant, SERVICES, service_body(staff_ids=[member["id"]]))
    before = state(api, tenant)
    url = f"{SERVICES}/{service['id']}"

    response = api.put(
        url, token=tenant.token(), json_body=service_body(name="New", staff_ids=["01NOSUCHSTAFF"])
    )
    assert_problem(response, 422, "staff_ids")
    response = api.put(url, token=tenant.token(), json_body=service_body(name="New", category_id="01NOSUCH"))
    assert_problem(response, 422, "category_id")
    assert state(api, tenant) == before


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_unknown_service_is_404(api: LambdaApi, quiet_tenant: Tenant, method: str) -> None:
    before = state(api, quiet_tenant)
    response = api.request(
        method, f"{SERVICES}/01NOSUCHSERVICE", token=quiet_tenant.token(), json_body=service_body()
    )
    assert_problem(response, 404)
    assert state(api, quiet_tenant) == before


# --- staff --------------------------------------------------------------------------------------------


def test_staff_crud(api: LambdaApi, tenant: Tenant) -> None:
    token = tenant.token()
    body = staff_body(
        phone="+44 7911 123456",
        shifts=[
            {
                "weekday": "mon",
                "start": "09:00",
                "end": "17:00",
                "breaks": [{"start": "13:00", "end": "13:30"}],
            },
            {"weekday": "tue", "start": "09:00", "end": "17:00", "breaks": []},
            {"weekday": "tue", "start": "18:00", "end": "21:00", "breaks": []},
        ],
        time_off=[
            {"start": "2026-08-03T09:00:00+01:00", "end": "2026-08-07T17:00:00+01:00", "reason": "Holiday"}
        ],
        bookable_online=False,
    )
    response = api.post(STAFF, token=token, json_body=body)
    assert response.status == 201, response.text
    member = response.json()
    assert member["name"] == "Amelia Hart"
    assert member["email"] == "amelia@serenity.example"
    assert member["phone"] == "+447911123456"
    assert member["shifts"] == body["shifts"]  # times travel as "HH:MM"
    assert member["bookable_online"] is False
    assert member["service_ids"] == []
    [off] = member["time_off"]
    assert off["reason"] == "Holiday"
    assert off["start"].startswith("2026-08-03T")
    location = response.header("Location")
    assert location == f"{STAFF}/{member['id']}"
    assert api.get(location, token=token).json() == member
    assert api.get(STAFF, token=token).json() == [member]

    response = api.put(location, token=token, json_body=staff_body(name="Amelia Hart-Jones", shifts=[]))
    assert response.status == 200, response.text
    updated = response.json()
    assert (updated["name"], updated["shifts"], updated["time_off"], updated["phone"]) == (
        "Amelia Hart-Jones",
        [],
        [],
        None,
    )
    assert updated["bookable_online"] is True
    assert updated["version"] == 2
    assert api.get(location, token=token).json() == updated

    assert api.delete(location, token=token).status == 204
    assert_problem(api.get(location, token=token), 404)
    assert api.get(STAFF, token=token).json() == []


def test_staff_with_unknown_services_is_rejected_and_not_written(api: LambdaApi, tenant: Tenant) -> None:
    service = create(api, tenant, SERVICES, service_body())
    before = state(api, tenant)
    response = api.post(
        STAFF, token=tenant.token(), json_body=staff_body(service_ids=[service["id"], "01NOSUCHSERVICE"])
    )
    body = assert_problem(response, 422, "service_ids")
    assert "01NOSUCHSERVICE" in json.dumps(body["errors"])
    assert state(api, tenant) == before


def test_updating_a_staff_member_with_unknown_services_changes_nothing(
    api: LambdaApi, tenant: Tenant
) -> None:
    service = create(api, tenant, SERVICES, service_body())
    member = create(api, tenant, STAFF, staff_body(service_ids=[service["id"]]))
    before = state(api, tenant)
    response = api.put(
        f"{STAFF}/{member['id']}",
        token=tenant.token(),
        json_body=staff_body(name="Renamed", service_ids=["01NOSUCHSERVICE"]),
    )
    body = assert_problem(response, 422, "service_ids")
    assert "01NOSUCHSERVICE" in json.dumps(body["errors"])
    assert state(api, tenant) == before


@pytest.mark.parametrize(
    ("shifts", "field"),
    [
        (
            [
                {"weekday": "mon", "start": "09:00", "end": "13:00"},
                {"weekday": "mon", "start": "12:00", "end": "17:00"},
            ],
            "shifts",
        ),
        (
            [
                {
                    "weekday": "mon",
                    "start": "09:00",
                    "end": "17:00",
                    "breaks": [{"start": "16:30", "end": "17:30"}],
                }
            ],
            "shifts.0",
        ),
        (
            [
                {
                    "weekday": "mon",
                    "start": "09:00",
                    "end": "17:00",
                    "breaks": [{"start": "12:00", "end": "13:00"}, {"start": "12:30", "end": "13:30"}],
                }
            ],
            "shifts.0",
        ),
        ([{"weekday": "mon", "start": "17:00", "end": "09:00"}], "shifts.0"),
        ([{"weekday": "mon", "start": "9am", "end": "17:00"}], "shifts.0.start"),
        ([{"weekday": "mon", "start": "09:00", "end": "17:00", "room": "2"}], "shifts.0.room"),
    ],
)
def test_invalid_shifts_are_rejected_naming_the_field(
    api: LambdaApi, shared_furnished: dict[str, Any], shifts: list[dict[str, Any]], field: str
) -> None:
    tenant: Tenant = shared_furnished["tenant"]
    member = shared_furnished["staff"]
    before = state(api, tenant)

    assert_problem(api.post(STAFF, token=tenant.token(), json_body=staff_body(shifts=shifts)), 422, field)
    response = api.put(f"{STAFF}/{member['id']}", token=tenant.token(), json_body=staff_body(shifts=shifts))
    assert_problem(response, 422, field)
    assert state(api, tenant) == before


def test_time_off_without_an_offset_is_rejected(api: LambdaApi, quiet_tenant: Tenant) -> None:
    before = state(api, quiet_tenant)
    body = staff_body(time_off=[{"start": "2026-08-03T09:00:00", "end": "2026-08-07T17:00:00"}])
    assert_problem(api.post(STAFF, token=quiet_tenant.token(), json_body=body), 422, "time_off.0.start")
    assert state(api, quiet_tenant) == before


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_unknown_staff_member_is_404(api: LambdaApi, quiet_tenant: Tenant, method: str) -> None:
    before = state(api, quiet_tenant)
    response = api.request(
        method, f"{STAFF}/01NOSUCHSTAFF", token=quiet_tenant.token(), json_body=staff_body()
    )
    assert_problem(response, 404)
    assert state(api, quiet_tenant) == before


# --- assignments --------------------------------------------------------------------------------------


def test_assignments_are_visible_from_both_sides(api: LambdaApi, tenant: Tenant) -> None:
    amelia = create(api, tenant, STAFF, staff_body(name="Amelia"))
    ben = create(api, tenant, STAFF, staff_body(name="Ben", email="ben@serenity.example"))
    swedish = create(api, tenant, SERVICES, service_body(name="Swedish", staff_ids=[amelia["id"], ben["id"]]))
    assert sorted(swedish["staff_ids"]) == sorted([amelia["id"], ben["id"]])
    # a staff member created with services links them too
    chloe = create(
        api,
        tenant,
        STAFF,
        staff_body(name="Chloe", email="chloe@serenity.example", service_ids=[swedish["id"]]),
    )
    assert chloe["service_ids"] == [swedish["id"]]

    token = tenant.token()
    service = api.get(f"{SERVICES}/{swedish['id']}", token=token).json()
    assert sorted(service["staff_ids"]) == sorted([amelia["id"], ben["id"], chloe["id"]])
    for member in (amelia, ben, chloe):
        assert api.get(f"{STAFF}/{member['id']}", token=token).json()["service_ids"] == [swedish["id"]]
    listed = by_id(api.get(STAFF, token=token).json())
    assert all(m["service_ids"] == [swedish["id"]] for m in listed.values())


def test_a_put_on_a_staff_member_updates_the_services_side(api: LambdaApi, tenant: Tenant) -> None:
    token = tenant.token()
    amelia = create(api, tenant, STAFF, staff_body(name="Amelia"))
    swedish = create(api, tenant, SERVICES, service_body(name="Swedish", staff_ids=[amelia["id"]]))
    facial = create(api, tenant, SERVICES, service_body(name="Facial"))

    response = api.put(
        f"{STAFF}/{amelia['id']}",
        token=token,
        json_body=staff_body(name="Amelia", service_ids=[facial["id"]]),
    )
    assert response.status == 200, response.text
    assert response.json()["service_ids"] == [facial["id"]]

    services = by_id(api.get(SERVICES, token=token).json())
    assert services[swedish["id"]]["staff_ids"] == []
    assert services[facial["id"]]["staff_ids"] == [amelia["id"]]
    assert api.get(f"{STAFF}/{amelia['id']}", token=token).json()["service_ids"] == [facial["id"]]


def test_a_put_on_a_service_updates_the_staff_side(api: LambdaApi, tenant: Tenant) -> None:
    token = tenant.token()
    amelia = create(api, tenant, STAFF, staff_body(name="Amelia"))
    ben = create(api, tenant, STAFF, staff_body(name="Ben", email="ben@serenity.example"))
    swedish = create(api, tenant, SERVICES, service_body(name="Swedish", staff_ids=[amelia["id"]]))

    response = api.put(
        f"{SERVICES}/{swedish['id']}",
        token=token,
        json_body=service_body(name="Swedish", staff_ids=[ben["id"]]),
    )
    assert response.status == 200, response.text
    assert response.json()["staff_ids"] == [ben["id"]]

    staff = by_id(api.get(STAFF, token=token).json())
    assert staff[amelia["id"]]["service_ids"] == []
    assert staff[ben["id"]]["service_ids"] == [swedish["id"]]


def test_a_put_that_leaves_out_the_links_removes_them(api: LambdaApi, tenant: Tenant) -> None:
    token = tenant.token()
    amelia = create(api, tenant, STAFF, staff_body(name="Amelia"))
    swedish = create(api, tenant, SERVICES, service_body(staff_ids=[amelia["id"]]))
    response = api.put(f"{STAFF}/{amelia['id']}", token=token, json_body=staff_body(name="Amelia"))
    assert response.status == 200
    assert api.get(f"{SERVICES}/{swedish['id']}", token=token).json()["staff_ids"] == []


def test_deleting_a_staff_member_removes_them_from_services(api: LambdaApi, tenant: Tenant) -> None:
    token = tenant.token()
    amelia = create(api, tenant, STAFF, staff_body(name="Amelia"))
    ben = create(api, tenant, STAFF, staff_body(name="Ben", email="ben@serenity.example"))
    swedish = create(api, tenant, SERVICES, service_body(staff_ids=[amelia["id"], ben["id"]]))

    assert api.delete(f"{STAFF}/{amelia['id']}", token=token).status == 204
    assert api.get(f"{SERVICES}/{swedish['id']}", token=token).json()["staff_ids"] == [ben["id"]]

    # the same person added again is a new staff member with no links
    again = create(api, tenant, STAFF, staff_body(name="Amelia"))
    assert again["id"] != amelia["id"]
    assert api.get(f"{SERVICES}/{swedish['id']}", token=token).json()["staff_ids"] == [ben["id"]]


def test_deleting_a_service_removes_it_from_staff(api: LambdaApi, tenant: Tenant) -> None:
    token = tenant.token()
    amelia = create(api, tenant, STAFF, staff_body(name="Amelia"))
    swedish = create(api, tenant, SERVICES, service_body(name="Swedish", staff_ids=[amelia["id"]]))
    facial = create(api, tenant, SERVICES, service_body(name="Facial", staff_ids=[amelia["id"]]))

    assert api.delete(f"{SERVICES}/{swedish['id']}", token=token).status == 204
    assert api.get(f"{STAFF}/{amelia['id']}", token=token).json()["service_ids"] == [facial["id"]]


def test_listing_the_same_link_twice_is_rejected(api: LambdaApi, tenant: Tenant) -> None:
    amelia = create(api, tenant, STAFF, staff_body())
    before = state(api, tenant)
    body = service_body(staff_ids=[amelia["id"], amelia["id"]])
    assert_problem(api.post(SERVICES, token=tenant.token(), json_body=body), 422, "staff_ids")
    assert state(api, tenant) == before


# --- roles --------------------------------------------------------------------------------------------


@pytest.fixture
def furnished(api: LambdaApi, tenant: Tenant) -> dict[str, Any]:
    return furnish(api, tenant)


def writes(furnished: dict[str, Any]) -> list[tuple[str, str, dict[str, Any] | None]]:
    tenant: Tenant = furnished["tenant"]
    category_id, staff_id, service_id = (furnished[k]["id"] for k in ("category", "staff", "service"))
    return [
        ("PUT", BUSINESS, settings_body(tenant, name="Taken over")),
        ("POST", CATEGORIES, {"name": "New"}),
        ("PUT", f"{CATEGORIES}/{category_id}", {"name": "Renamed"}),
        ("DELETE", f"{CATEGORIES}/{category_id}", None),
        ("POST", SERVICES, service_body(name="New")),
        ("PUT", f"{SERVICES}/{service_id}", service_body(name="Renamed")),
        ("DELETE", f"{SERVICES}/{service_id}", None),
        ("POST", STAFF, staff_body(name="New")),
        ("PUT", f"{STAFF}/{staff_id}", staff_body(name="Renamed")),
        ("DELETE", f"{STAFF}/{staff_id}", None),
    ]


def item_reads(furnished: dict[str, Any]) -> dict[str, str]:
    """Single-resource URLs, each with the collection it belongs to."""
    return {
        f"{collection}/{furnished[key]['id']}": collection
        for key, collection in (("category", CATEGORIES), ("service", SERVICES), ("staff", STAFF))
    }


def reads(furnished: dict[str, Any]) -> list[str]:
    return [BUSINESS, *COLLECTIONS, *item_reads(furnished)]


@pytest.mark.parametrize("role", ["staff", "dispatcher"])
def test_staff_and_dispatchers_read_but_may_not_write(
    api: LambdaApi, shared_furnished: dict[str, Any], role: str
) -> None:
    tenant: Tenant = shared_furnished["tenant"]
    before = state(api, tenant)
    for path in reads(shared_furnished):
        response = api.get(path, token=tenant.token(role))
        assert response.status == 200, (path, response.text)
        if path in before:
            assert response.json() == before[path]
        else:  # a single resource: the same as in the owner's list
            assert response.json() in before[item_reads(shared_furnished)[path]]
    for method, path, body in writes(shared_furnished):
        response = api.request(method, path, token=tenant.token(role), json_body=body)
        problem = assert_problem(response, 403)
        assert role in problem["detail"], (method, path)
    assert state(api, tenant) == before


def test_admins_write_the_catalogue(api: LambdaApi, furnished: dict[str, Any]) -> None:
    tenant: Tenant = furnished["tenant"]
    for method, path, body in writes(furnished):
        if method == "DELETE" and path.startswith(CATEGORIES):
            continue  # the category still holds the service until the service is deleted below
        response = api.request(method, path, token=tenant.token("admin"), json_body=body)
        assert response.status in (200, 201, 204), (method, path, response.text)
    assert [c["name"] for c in api.get(CATEGORIES, token=tenant.token()).json()] == ["New", "Renamed"]
    assert [s["name"] for s in api.get(SERVICES, token=tenant.token()).json()] == ["New"]
    assert [m["name"] for m in api.get(STAFF, token=tenant.token()).json()] == ["New"]
    assert api.get(BUSINESS, token=tenant.token()).json()["name"] == "Taken over"


@pytest.mark.parametrize("role", ["owner", "admin", "staff", "dispatcher"])
def test_me_reports_the_callers_tenant_and_role(api: LambdaApi, tenant: Tenant, role: str) -> None:
    response = api.get("/v1/admin/me", token=tenant.token(role))
    assert response.status == 200
    me = response.json()
    assert (me["tenant_id"], me["role"], me["email"]) == (tenant.id, role, tenant.emails[role])


# --- authentication and tenancy -----------------------------------------------------------------------


def tampered(token: str, **claims: Any) -> str:
    """The same signed token with its payload edited: the signature no longer matches."""
    header, payload, signature = token.split(".")
    decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    edited = base64.urlsafe_b64encode(json.dumps({**decoded, **claims}).encode()).rstrip(b"=").decode()
    return f"{header}.{edited}.{signature}"


@pytest.mark.parametrize("token", [None, "", "garbage", "a.b.c"])
def test_admin_routes_without_a_valid_token_are_401(
    api: LambdaApi, shared_furnished: dict[str, Any], token: str | None
) -> None:
    tenant: Tenant = shared_furnished["tenant"]
    before = state(api, tenant)
    for path in reads(shared_furnished):
        response = api.get(path, token=token)
        assert_problem(response, 401)
        assert response.header("WWW-Authenticate") == "Bearer"
        assert tenant.id not in response.text
    for method, path, body in writes(shared_furnished):
        assert_problem(api.request(method, path, token=token, json_body=body), 401)
    assert state(api, tenant) == before


def test_a_token_edited_to_name_another_tenant_is_401(api: LambdaApi, make_tenant: MakeTenant) -> None:
    mine, theirs = make_tenant(), make_tenant()
    forged = tampered(mine.token(), **{"custom:tenant_id": theirs.id})
    response = api.get(BUSINESS, token=forged)
    assert_problem(response, 401)
    assert theirs.slug not in response.text


def test_a_token_from_a_user_without_a_role_is_401(
    api: LambdaApi, tenant: Tenant, embedded_aws: tuple[EmbeddedAws, LocalResources]
) -> None:
    aws, resources = embedded_aws
    cognito = aws.client("cognito-idp")
    email = f"nobody-{tenant.slug}@tests.example"
    cognito.admin_create_user(
        UserPoolId=resources.user_pool_id,
        Username=email,
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "custom:tenant_id", "Value": tenant.id}],
        MessageAction="SUPPRESS",
    )
    cognito.admin_set_user_password(
        UserPoolId=resources.user_pool_id, Username=email, Password=LOCAL_PASSWORD, Permanent=True
    )
    token = cognito.admin_initiate_auth(
        UserPoolId=resources.user_pool_id,
        ClientId=resources.user_pool_client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": LOCAL_PASSWORD},
    )["AuthenticationResult"]["IdToken"]

    response = api.get(BUSINESS, token=token)
    body = assert_problem(response, 401)
    assert "role" in body["detail"]
    assert tenant.slug not in response.text


def test_another_tenants_resources_are_404_and_untouched(
    api: LambdaApi, shared_furnished: dict[str, Any], make_tenant: MakeTenant
) -> None:
    victim: Tenant = shared_furnished["tenant"]
    intruder = make_tenant()
    before = state(api, victim)
    secrets_ = [
        shared_furnished["category"]["name"],
        shared_furnished["service"]["name"],
        shared_furnished["staff"]["email"],
    ]

    for role in ("owner", "admin"):
        token = intruder.token(role)
        for path in item_reads(shared_furnished):
            response = api.get(path, token=token)
            assert_problem(response, 404)
            assert not any(s in response.text for s in secrets_)
        for method, path, body in writes(shared_furnished):
            if path in (BUSINESS, CATEGORIES, SERVICES, STAFF):
                continue  # these act on the intruder's own business
            response = api.request(method, path, token=token, json_body=body)
            assert_problem(response, 404)
            assert not any(s in response.text for s in secrets_)
        # the intruder's lists show only their own (empty) catalogue
        for path in COLLECTIONS:
            assert api.get(path, token=token).json() == []
        assert api.get(BUSINESS, token=token).json()["id"] == intruder.id

    assert state(api, victim) == before


def test_linking_another_tenants_staff_or_services_is_rejected(
    api: LambdaApi, shared_furnished: dict[str, Any], make_tenant: MakeTenant
) -> None:
    intruder = make_tenant()
    before = state(api, intruder)
    body = service_body(staff_ids=[shared_furnished["staff"]["id"]])
    assert_problem(api.post(SERVICES, token=intruder.token(), json_body=body), 422, "staff_ids")
    body = staff_body(service_ids=[shared_furnished["service"]["id"]])
    assert_problem(api.post(STAFF, token=intruder.token(), json_body=body), 422, "service_ids")
    body = service_body(category_id=shared_furnished["category"]["id"])
    assert_problem(api.post(SERVICES, token=intruder.token(), json_body=body), 422, "category_id")
    assert state(api, intruder) == before
    victim: Tenant = shared_furnished["tenant"]
    assert api.get(f"{STAFF}/{shared_furnished['staff']['id']}", token=victim.token()).json()[
        "service_ids"
    ] == [shared_furnished["service"]["id"]]


# --- bad input ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [CATEGORIES, SERVICES, STAFF, BUSINESS])
@pytest.mark.parametrize("raw", ['{"name": "Massage",', "not json", '{"name": "x"}}', "{'name': 'x'}"])
def test_malformed_json_is_400_and_nothing_is_written(
    api: LambdaApi, quiet_tenant: Tenant, path: str, raw: str
) -> None:
    before = state(api, quiet_tenant)
    method = "PUT" if path == BUSINESS else "POST"
    response = api.request(
        method, path, token=quiet_tenant.token(), raw_body=raw, headers={"Content-Type": "application/json"}
    )
    body = assert_problem(response, 400)
    assert body["type"] == "urn:booking:problem:malformed-json"
    assert state(api, quiet_tenant) == before


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (CATEGORIES, {"name": "Massage", "colour": "red"}, "colour"),
        (CATEGORIES, {"name": "x" * 500}, "name"),
        (CATEGORIES, {"name": "Massage", "description": "x" * 2001}, "description"),
        (CATEGORIES, {"name": ["Massage"]}, "name"),
        (CATEGORIES, {"name": "Massage", "position": "first"}, "position"),
        (CATEGORIES, {"name": "Massage", "position": -1}, "position"),
        (CATEGORIES, {"name": "Massage", "id": "chosen-by-me"}, "id"),
        (CATEGORIES, {}, "name"),
        (SERVICES, service_body(discount=10), "discount"),
        (SERVICES, service_body(name="x" * 500), "name"),
        (SERVICES, service_body(duration_minutes="an hour"), "duration_minutes"),
        (SERVICES, service_body(duration_minutes=0), "duration_minutes"),
        (SERVICES, service_body(duration_minutes=45.5), "duration_minutes"),
        (SERVICES, service_body(price_minor="£65"), "price_minor"),
        (SERVICES, service_body(price_minor=-100), "price_minor"),
        (SERVICES, service_body(price_minor=65.5), "price_minor"),
        (SERVICES, service_body(delivery_mode="carrier-pigeon"), "delivery_mode"),
        (SERVICES, service_body(staff_ids="someone"), "staff_ids"),
        (SERVICES, service_body(staff_ids=[{"id": "x"}]), "staff_ids"),
        (SERVICES, service_body(active="sometimes"), "active"),
        (SERVICES, service_body(buffer_after_minutes=-5), "buffer_after_minutes"),
        (SERVICES, service_body(category_id="../../etc"), "category_id"),
        (SERVICES, service_body(version=7), "version"),
        (STAFF, staff_body(nickname="Mel"), "nickname"),
        (STAFF, staff_body(name="x" * 500), "name"),
        (STAFF, staff_body(email="amelia"), "email"),
        (STAFF, staff_body(email=f"{'a' * 250}@example.com"), "email"),
        (STAFF, staff_body(phone="07911 123456"), "phone"),
        (STAFF, staff_body(phone=7911123456), "phone"),
        (STAFF, staff_body(bookable_online="perhaps"), "bookable_online"),
        (STAFF, staff_body(shifts={"weekday": "mon"}), "shifts"),
        (STAFF, staff_body(service_ids=["ok", "ok"]), "service_ids"),
    ],
)
def test_invalid_bodies_are_422_naming_the_field_and_nothing_is_written(
    api: LambdaApi, quiet_tenant: Tenant, path: str, body: dict[str, Any], field: str
) -> None:
    before = state(api, quiet_tenant)
    problem = assert_problem(api.post(path, token=quiet_tenant.token(), json_body=body), 422, field)
    assert problem["type"] == "urn:booking:problem:validation-error"
    assert field in problem["detail"]
    assert state(api, quiet_tenant) == before


@pytest.mark.parametrize("raw", ["[]", '"a string"', "42", "null", ""])
def test_a_body_that_is_not_an_object_is_rejected(api: LambdaApi, quiet_tenant: Tenant, raw: str) -> None:
    before = state(api, quiet_tenant)
    response = api.request(
        "POST",
        CATEGORIES,
        token=quiet_tenant.token(),
        raw_body=raw,
        headers={"Content-Type": "application/json"},
    )
    assert response.status in (400, 422), response.text
    assert_problem(response, response.status)
    assert state(api, quiet_tenant) == before


def test_validation_errors_do_not_echo_the_rejected_input(api: LambdaApi, quiet_tenant: Tenant) -> None:
    phone = "+44 0000 SECRET"
    response = api.post(STAFF, token=quiet_tenant.token(), json_body=staff_body(phone=phone))
    assert_problem(response, 422, "phone")
    assert "SECRET" not in response.text


@pytest.mark.parametrize("entity_id", ["bad%20id", "a" * 65, "semi;colon"])
def test_malformed_ids_in_the_path_are_rejected(api: LambdaApi, quiet_tenant: Tenant, entity_id: str) -> None:
    response = api.get(f"{SERVICES}/{entity_id}", token=quiet_tenant.token())
    assert response.status in (404, 422), response.text
    assert_problem(response, response.status)
