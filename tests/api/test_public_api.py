"""The public catalogue a booking widget shows, CORS for the business's widget origins, and the API docs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from openapi_spec_validator import validate

from booking_api.openapi import CALLS_A_PROVIDER
from tests.conftest import Tenant
from tests.support.lambda_api import ApiResponse, LambdaApi

WIDGET = "https://book.serenity.example"
OTHER_WIDGET = "https://widget.elsewhere.example"

MakeTenant = Callable[..., Tenant]


def public_url(slug: str) -> str:
    return f"/v1/public/businesses/{slug}/services"


def create(api: LambdaApi, tenant: Tenant, path: str, body: dict[str, Any]) -> Any:
    response = api.post(path, token=tenant.token(), json_body=body)
    assert response.status == 201, response.text
    return response.json()


def shift(weekday: str = "mon") -> dict[str, Any]:
    return {
        "weekday": weekday,
        "start": "09:00",
        "end": "17:00",
        "breaks": [{"start": "13:00", "end": "13:30"}],
    }


def assert_problem(response: ApiResponse, status: int) -> dict[str, Any]:
    assert response.status == status, response.text
    assert (response.header("Content-Type") or "").startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:booking:problem:")
    assert body["title"]
    assert body["detail"]
    return body


def build_spa(api: LambdaApi, make_tenant: MakeTenant) -> dict[str, Any]:
    """A spa with a catalogue that exercises every rule of what the public may see."""
    tenant = make_tenant(name="Serenity Day Spa", currency="GBP", widget_origins=[WIDGET])
    massage = create(api, tenant, "/v1/admin/categories", {"name": "Massage", "description": "Hands on"})
    facials = create(api, tenant, "/v1/admin/categories", {"name": "Facials", "position": 1})
    create(api, tenant, "/v1/admin/categories", {"name": "Empty shelf", "position": 2})

    def staff(name: str, **extra: Any) -> str:
        body = {"name": name, "email": f"{name.lower()}@serenity.example", "shifts": [shift()], **extra}
        return str(create(api, tenant, "/v1/admin/staff", body)["id"])

    amelia = staff("Amelia", shifts=[shift("mon"), shift("tue")])
    ben = staff("Ben")
    offline = staff("Offline", bookable_online=False)
    shiftless = staff("Shiftless", shifts=[])

    def service(name: str, staff_ids: list[str], **extra: Any) -> str:
        body = {"name": name, "duration_minutes": 60, "price_minor": 5000, "staff_ids": staff_ids, **extra}
        return str(create(api, tenant, "/v1/admin/services", body)["id"])

    ids = {
        "amelia": amelia,
        "ben": ben,
        "massage": massage["id"],
        "facials": facials["id"],
        "swedish": service(
            "Swedish massage",
            [amelia, offline, shiftless],
            category_id=massage["id"],
            description="Full-body relaxing massage.",
            price_minor=6500,
        ),
        "deep": service(
            "Deep tissue", [ben], category_id=massage["id"], duration_minutes=90, delivery_mode="both"
        ),
        "facial": service(
            "Express facial",
            [amelia, ben],
            category_id=facials["id"],
            duration_minutes=30,
            delivery_mode="online",
        ),
        "retired": service("Retired facial", [amelia], category_id=facials["id"], active=False),
        "offline_only": service("Offline-only facial", [offline], category_id=facials["id"]),
        "shiftless_only": service("Shiftless-only facial", [shiftless], category_id=facials["id"]),
        "nobody": service("Unstaffed facial", [], category_id=facials["id"]),
        "voucher": service("Gift voucher chat", [ben], price_minor=0, delivery_mode="online"),
    }
    return {"tenant": tenant, **ids}


@pytest.fixture(scope="module")
def spa(api: LambdaApi, make_tenant: MakeTenant) -> dict[str, Any]:
    """Shared by the tests that only read; they must not change it."""
    return build_spa(api, make_tenant)


@pytest.fixture
def fresh_spa(api: LambdaApi, make_tenant: MakeTenant) -> dict[str, Any]:
    """For the tests that change the catalogue."""
    return build_spa(api, make_tenant)


def test_public_services_are_grouped_by_category(api: LambdaApi, spa: dict[str, Any]) -> None:
    tenant: Tenant = spa["tenant"]
    response = api.get(public_url(tenant.slug))
    assert response.status == 200, response.text
    assert (response.header("Content-Type") or "").startswith("application/json")
    menu = response.json()

    assert menu["business"] == {
        "name": "Serenity Day Spa",
        "slug": tenant.slug,
        "time_zone": "Europe/London",
        "currency": "GBP",
        "address": "",
        "online_appointments": False,
    }
    sections = menu["categories"]
    assert [(s["id"], s["name"]) for s in sections] == [
        (spa["massage"], "Massage"),
        (spa["facials"], "Facials"),
        (None, "Other services"),
    ]
    assert sections[0]["description"] == "Hands on"
    assert [s["id"] for s in sections[0]["services"]] == [spa["deep"], spa["swedish"]]
    assert [s["id"] for s in sections[1]["services"]] == [spa["facial"]]
    assert [s["id"] for s in sections[2]["services"]] == [spa["voucher"]]

    swedish = sections[0]["services"][1]
    assert swedish == {
        "id": spa["swedish"],
        "name": "Swedish massage",
        "description": "Full-body relaxing massage.",
        "duration_minutes": 60,
        "price": {"amount_minor": 6500, "currency": "GBP"},
        "delivery_mode": "in_person",
        "delivery_options": ["in_person"],
        # only staff who are bookable online and have shifts
        "staff": [{"id": spa["amelia"], "name": "Amelia"}],
    }
    deep, facial = sections[0]["services"][0], sections[1]["services"][0]
    assert (deep["duration_minutes"], deep["delivery_mode"]) == (90, "both")
    assert (facial["duration_minutes"], facial["delivery_mode"]) == (30, "online")
    # the business has not switched online appointments on: the menu says so
    assert (deep["delivery_options"], facial["delivery_options"]) == (["in_person"], [])
    assert facial["staff"] == [{"id": spa["amelia"], "name": "Amelia"}, {"id": spa["ben"], "name": "Ben"}]
    assert sections[2]["services"][0]["price"] == {"amount_minor": 0, "currency": "GBP"}


def test_the_public_menu_reveals_nothing_private(api: LambdaApi, spa: dict[str, Any]) -> None:
    text = api.get(public_url(spa["tenant"].slug)).text
    for hidden in ("Retired facial", "Offline-only", "Shiftless-only", "Unstaffed", "Empty shelf", "Offline"):
        assert hidden not in text
    for private in ("@serenity.example", "shifts", "bookable_online", "version", spa["tenant"].id):
        assert private not in text


def test_deactivating_a_service_hides_it_and_reactivating_shows_it(
    api: LambdaApi, fresh_spa: dict[str, Any]
) -> None:
    tenant: Tenant = fresh_spa["tenant"]
    url = f"/v1/admin/services/{fresh_spa['facial']}"
    body = {
        "name": "Express facial",
        "category_id": fresh_spa["facials"],
        "duration_minutes": 30,
        "price_minor": 3500,
        "staff_ids": [fresh_spa["amelia"]],
        "active": False,
    }
    assert api.put(url, token=tenant.token(), json_body=body).status == 200

    sections = api.get(public_url(tenant.slug)).json()["categories"]
    assert [s["name"] for s in sections] == ["Massage", "Other services"]  # Facials is now empty

    assert api.put(url, token=tenant.token(), json_body={**body, "active": True}).status == 200
    sections = api.get(public_url(tenant.slug)).json()["categories"]
    assert [s["name"] for s in sections] == ["Massage", "Facials", "Other services"]
    assert sections[1]["services"][0]["price"] == {"amount_minor": 3500, "currency": "GBP"}


def test_a_staff_member_who_stops_taking_online_bookings_disappears(
    api: LambdaApi, fresh_spa: dict[str, Any]
) -> None:
    tenant: Tenant = fresh_spa["tenant"]
    body = {"name": "Ben", "email": "ben@serenity.example", "shifts": [shift()], "bookable_online": False}
    body["service_ids"] = [fresh_spa["deep"], fresh_spa["facial"], fresh_spa["voucher"]]
    assert api.put(f"/v1/admin/staff/{fresh_spa['ben']}", token=tenant.token(), json_body=body).status == 200

    sections = api.get(public_url(tenant.slug)).json()["categories"]
    # deep tissue and the voucher chat had only Ben; the facial keeps Amelia
    assert [(s["name"], [x["name"] for x in s["services"]]) for s in sections] == [
        ("Massage", ["Swedish massage"]),
        ("Facials", ["Express facial"]),
    ]
    assert sections[1]["services"][0]["staff"] == [{"id": fresh_spa["amelia"], "name": "Amelia"}]


def test_the_menu_uses_the_business_currency(api: LambdaApi, make_tenant: MakeTenant) -> None:
    tenant = make_tenant(currency="USD", time_zone="America/New_York")
    staff = create(
        api, tenant, "/v1/admin/staff", {"name": "Dana", "email": "dana@nw.example", "shifts": [shift()]}
    )
    create(
        api,
        tenant,
        "/v1/admin/services",
        {"name": "Strategy", "duration_minutes": 60, "price_minor": 25000, "staff_ids": [staff["id"]]},
    )
    menu = api.get(public_url(tenant.slug)).json()
    assert menu["business"]["currency"] == "USD"
    assert menu["categories"][0]["services"][0]["price"] == {"amount_minor": 25000, "currency": "USD"}


def test_a_business_with_no_bookable_services_has_an_empty_menu(api: LambdaApi, tenant: Tenant) -> None:
    response = api.get(public_url(tenant.slug))
    assert response.status == 200
    assert response.json()["categories"] == []


@pytest.mark.parametrize("slug", ["no-such-business", "x" * 50])
def test_unknown_slug_is_a_404_problem(api: LambdaApi, slug: str) -> None:
    body = assert_problem(api.get(public_url(slug)), 404)
    assert body["type"] == "urn:booking:problem:not-found"


def test_a_malformed_slug_is_rejected(api: LambdaApi) -> None:
    response = api.get(public_url("Bad_Slug!"))
    assert response.status in (404, 422)
    assert_problem(response, response.status)


def test_the_public_route_needs_no_token_and_ignores_a_bad_one(api: LambdaApi, spa: dict[str, Any]) -> None:
    tenant: Tenant = spa["tenant"]
    anonymous = api.get(public_url(tenant.slug))
    with_garbage = api.get(public_url(tenant.slug), token="garbage")
    assert anonymous.status == with_garbage.status == 200
    assert anonymous.json() == with_garbage.json()


# --- CORS ---------------------------------------------------------------------------------------------


def test_a_widget_origin_of_the_business_may_read_its_menu(api: LambdaApi, spa: dict[str, Any]) -> None:
    response = api.get(public_url(spa["tenant"].slug), headers={"Origin": WIDGET})
    assert response.status == 200
    assert response.header("Access-Control-Allow-Origin") == WIDGET
    assert "Origin" in (response.header("Vary") or "")


@pytest.mark.parametrize(
    "origin",
    [
        OTHER_WIDGET,
        "https://book.serenity.example.evil.example",
        "https://evil.example@book.serenity.example",
        "http://book.serenity.example",
        "null",
        WIDGET + ":8443",
    ],
)
def test_other_origins_get_no_cors_grant(api: LambdaApi, spa: dict[str, Any], origin: str) -> None:
    response = api.get(public_url(spa["tenant"].slug), headers={"Origin": origin})
    assert response.status == 200  # the data is public; the browser just may not hand it to that page
    assert response.header("Access-Control-Allow-Origin") is None
    assert "Origin" in (response.header("Vary") or "")


def test_no_origin_no_cors_grant(api: LambdaApi, spa: dict[str, Any]) -> None:
    response = api.get(public_url(spa["tenant"].slug))
    assert response.header("Access-Control-Allow-Origin") is None


@pytest.mark.parametrize(
    ("configured", "browser_origin"),
    [
        ("https://book.example.com:443", "https://book.example.com"),
        ("http://shop.example.com:80", "http://shop.example.com"),
        ("https://book.example.com", "https://book.example.com"),
    ],
)
def test_an_origin_configured_with_its_default_port_matches_what_browsers_send(
    api: LambdaApi, make_tenant: MakeTenant, configured: str, browser_origin: str
) -> None:
    # Browsers leave the default port out of the Origin header, whatever the owner typed.
    tenant = make_tenant(widget_origins=[configured])
    response = api.get(public_url(tenant.slug), headers={"Origin": browser_origin})
    assert response.header("Access-Control-Allow-Origin") == browser_origin
    preflight = api.request("OPTIONS", public_url(tenant.slug), headers={"Origin": browser_origin})
    assert preflight.header("Access-Control-Allow-Origin") == browser_origin
    other_port = api.get(public_url(tenant.slug), headers={"Origin": browser_origin + ":8443"})
    assert other_port.header("Access-Control-Allow-Origin") is None


def test_one_business_widget_origin_does_not_open_another_business(
    api: LambdaApi, spa: dict[str, Any], make_tenant: MakeTenant
) -> None:
    other = make_tenant(widget_origins=[OTHER_WIDGET])
    assert (
        api.get(public_url(other.slug), headers={"Origin": OTHER_WIDGET}).header(
            "Access-Control-Allow-Origin"
        )
        == OTHER_WIDGET
    )
    response = api.get(public_url(spa["tenant"].slug), headers={"Origin": OTHER_WIDGET})
    assert response.header("Access-Control-Allow-Origin") is None
    response = api.get(public_url(other.slug), headers={"Origin": WIDGET})
    assert response.header("Access-Control-Allow-Origin") is None


def test_preflight_from_a_widget_origin(api: LambdaApi, spa: dict[str, Any]) -> None:
    response = api.request(
        "OPTIONS",
        public_url(spa["tenant"].slug),
        headers={
            "Origin": WIDGET,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert response.status == 204
    assert response.text == ""
    assert response.header("Access-Control-Allow-Origin") == WIDGET
    methods = {m.strip() for m in (response.header("Access-Control-Allow-Methods") or "").split(",")}
    assert {"GET", "OPTIONS"} <= methods
    allowed_headers = {
        h.strip().lower() for h in (response.header("Access-Control-Allow-Headers") or "").split(",")
    }
    assert "content-type" in allowed_headers
    assert int(response.header("Access-Control-Max-Age") or "0") > 0


def test_preflight_from_another_origin_is_not_granted(api: LambdaApi, spa: dict[str, Any]) -> None:
    response = api.request(
        "OPTIONS",
        public_url(spa["tenant"].slug),
        headers={"Origin": OTHER_WIDGET, "Access-Control-Request-Method": "GET"},
    )
    assert response.header("Access-Control-Allow-Origin") is None
    assert response.header("Access-Control-Allow-Methods") is None


def test_preflight_for_an_unknown_business_is_404(api: LambdaApi) -> None:
    response = api.request("OPTIONS", public_url("no-such-business"), headers={"Origin": WIDGET})
    assert_problem(response, 404)
    assert response.header("Access-Control-Allow-Origin") is None


def test_changing_the_widget_origins_takes_effect(api: LambdaApi, fresh_spa: dict[str, Any]) -> None:
    tenant: Tenant = fresh_spa["tenant"]
    settings = api.get("/v1/admin/business", token=tenant.token()).json()
    editable = {k: v for k, v in settings.items() if k not in ("id", "version", "created_at", "updated_at")}
    editable["widget_origins"] = ["https://Widget.Elsewhere.example/"]  # normalised on the way in
    response = api.put("/v1/admin/business", token=tenant.token(), json_body=editable)
    assert response.status == 200, response.text

    granted = api.get(public_url(tenant.slug), headers={"Origin": OTHER_WIDGET})
    assert granted.header("Access-Control-Allow-Origin") == OTHER_WIDGET
    assert (
        api.get(public_url(tenant.slug), headers={"Origin": WIDGET}).header("Access-Control-Allow-Origin")
        is None
    )


# --- meta: health, OpenAPI, docs, unknown routes ------------------------------------------------------


@pytest.fixture(scope="module")
def openapi(api: LambdaApi) -> dict[str, Any]:
    response = api.get("/v1/openapi.json")
    assert response.status == 200, response.text
    assert (response.header("Content-Type") or "").startswith("application/json")
    document: dict[str, Any] = response.json()
    return document


def test_openapi_document_is_valid_openapi_3(openapi: dict[str, Any]) -> None:
    assert openapi["openapi"].startswith("3.")
    validate(openapi)  # raises on an invalid document
    assert openapi["info"]["title"]
    assert openapi["info"]["version"]


def test_openapi_lists_the_admin_and_public_paths(openapi: dict[str, Any]) -> None:
    paths = openapi["paths"]
    expected = {
        "/v1/health": {"get"},
        "/v1/admin/business": {"get", "put"},
        "/v1/admin/categories": {"get", "post"},
        "/v1/admin/categories/{category_id}": {"get", "put", "delete"},
        "/v1/admin/services": {"get", "post"},
        "/v1/admin/services/{service_id}": {"get", "put", "delete"},
        "/v1/admin/staff": {"get", "post"},
        "/v1/admin/staff/{staff_id}": {"get", "put", "delete"},
        "/v1/public/businesses/{slug}/services": {"get"},
    }
    for path, methods in expected.items():
        assert path in paths, path
        assert methods <= set(paths[path]), (path, set(paths[path]))
    assert not [p for p in paths if p.startswith("/dev")]


def test_openapi_declares_bearer_auth_on_admin_operations(openapi: dict[str, Any]) -> None:
    scheme = openapi["components"]["securitySchemes"]["bearerAuth"]
    assert scheme["type"] == "http"
    assert scheme["scheme"].lower() == "bearer"

    def security(path: str, method: str) -> list[dict[str, list[str]]]:
        found: list[dict[str, list[str]]] = openapi["paths"][path][method].get("security") or []
        return found or openapi.get("security") or []

    admin = [(p, m) for p, ops in openapi["paths"].items() if p.startswith("/v1/admin/") for m in ops]
    assert len(admin) >= 14
    for path, method in admin:
        assert {"bearerAuth": []} in security(path, method), (method, path)
    # the widget's catalogue and the health check are open
    assert security("/v1/public/businesses/{slug}/services", "get") == []
    assert security("/v1/health", "get") == []


def test_openapi_describes_the_request_bodies(openapi: dict[str, Any]) -> None:
    schemas = openapi["components"]["schemas"]
    post = openapi["paths"]["/v1/admin/services"]["post"]
    ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    service_draft = schemas[ref.rsplit("/", 1)[1]]
    assert {"name", "duration_minutes", "price_minor"} <= set(service_draft["required"])
    assert service_draft.get("additionalProperties") is False
    assert "delivery_mode" in service_draft["properties"]


def operations(openapi: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, ops in openapi["paths"].items() for method, op in ops.items()]


def test_every_error_an_operation_can_answer_is_documented_as_problem_json(openapi: dict[str, Any]) -> None:
    problem = openapi["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    for path, method, op in operations(openapi):
        responses = op["responses"]
        errors = {int(status) for status in responses if int(status) >= 400}
        expected = {422, 429}
        if "requestBody" in op:
            expected |= {400, 413, 415}
        if "{" in path:
            expected.add(404)
        if op.get("security"):
            expected |= {401, 403}
        if method in ("post", "put", "delete"):
            expected |= {403, 409}
        assert expected <= errors, (method, path, sorted(errors))
        # No server error is ever meant, except the one a route that asks an outside provider while the
        # caller waits answers when that provider is down (502, so the client knows to retry later).
        meant = {502} if any(method == m and path.startswith(p) for m, p in CALLS_A_PROVIDER) else set()
        assert {s for s in errors if s >= 500} == meant, (method, path)
        for status in errors:
            content = responses[str(status)]["content"]
            assert list(content) == ["application/problem+json"], (method, path, status)
            assert content["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/Problem"}


def test_a_204_has_no_body_and_powertools_validation_models_are_gone(openapi: dict[str, Any]) -> None:
    deletes = [(p, op) for p, m, op in operations(openapi) if "204" in op["responses"]]
    assert len(deletes) >= 3
    for path, op in deletes:
        assert "content" not in op["responses"]["204"], path
    assert "HTTPValidationError" not in openapi["components"]["schemas"]
    assert not {"ClockChange", "Faults", "Redrive"} & set(openapi["components"]["schemas"])  # local-only


def test_the_public_booking_flow_has_examples_and_creates_link_to_what_they_created(
    openapi: dict[str, Any],
) -> None:
    schemas = openapi["components"]["schemas"]
    for name in ("BookingRequest", "RescheduleRequest", "CancelRequest", "CodeRequest", "CodeExchange"):
        assert schemas[name]["examples"], name
    book = openapi["paths"]["/v1/public/businesses/{slug}/bookings"]["post"]["responses"]["201"]["links"]
    view = book["view_booking_v1_public_bookings__booking_id__get"]
    assert view["parameters"] == {"booking_id": "$response.body#/id", "token": "$response.body#/manage_token"}
    category = openapi["paths"]["/v1/admin/categories"]["post"]["responses"]["201"]["links"]
    assert {link["parameters"]["category_id"] for link in category.values()} == {"$response.body#/id"}
    assert len(category) == 3  # read, change, delete


@pytest.mark.parametrize(
    ("content_type", "body", "status", "kind"),
    [
        ("text/plain", b'{"email": "ann@example.com"}', 415, "unsupported-media-type"),
        ("application/x-www-form-urlencoded", b"email=ann%40example.com", 415, "unsupported-media-type"),
        ("application/json", b"\xff\xfe{", 400, "malformed-json"),
        ("application/json", b'{"email": "' + b"a" * 70_000 + b'"}', 413, "payload-too-large"),
    ],
)
def test_a_body_that_is_not_small_json_text_is_refused_before_any_route(
    api: LambdaApi, tenant: Tenant, content_type: str, body: bytes, status: int, kind: str
) -> None:
    response = api.request(
        "POST",
        f"/v1/public/businesses/{tenant.slug}/customers/login-code",
        raw_body=body,
        headers={"Content-Type": content_type},
    )
    problem = assert_problem(response, status)
    assert problem["type"] == f"urn:booking:problem:{kind}"


def test_swagger_ui_is_served(api: LambdaApi) -> None:
    response = api.get("/v1/docs")
    assert response.status == 200
    assert (response.header("Content-Type") or "").startswith("text/html")
    assert "swagger" in response.text.lower()


def test_health(api: LambdaApi) -> None:
    response = api.get("/v1/health")
    assert response.status == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/nothing-here"),
        ("GET", "/v2/health"),
        ("POST", "/v1/public/businesses/x/services/y"),
        ("GET", "/"),
    ],
)
def test_unknown_routes_are_404_problems(api: LambdaApi, method: str, path: str) -> None:
    body = assert_problem(api.request(method, path), 404)
    assert body["type"] == "urn:booking:problem:not-found"


def test_the_dev_routes_are_not_part_of_the_lambda_app(api: LambdaApi) -> None:
    assert_problem(api.get("/dev/demo"), 404)


def test_every_operation_has_a_summary_of_its_own(openapi: dict[str, Any]) -> None:
    """The docs list operations by their summary: one for each, saying what it does (not its path)."""
    missing = [
        f"{method.upper()} {path}"
        for path, method, op in operations(openapi)
        if not op.get("summary") or op["summary"].upper().startswith(("GET ", "POST ", "PUT ", "DELETE "))
    ]
    assert missing == [], missing
    summaries = [op["summary"] for _, _, op in operations(openapi)]
    assert len(set(summaries)) == len(summaries)
