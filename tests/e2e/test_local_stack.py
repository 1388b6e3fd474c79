"""`make dev` end to end: start the local stack as a subprocess, talk HTTP to it, restart it, find the data.

All tests share one local stack (and one xdist worker); the restart test runs last and brings up a second
process on the same data directory.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.support.local_stack import REPO, LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("local_stack")]

SPA = "serenity-spa"
CONSULTANCY = "northwind-advisory"
ROLES = ("owner", "admin", "staff", "dispatcher")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    root = tmp_path_factory.mktemp("local-stack")
    local = LocalStack(root / "data", root)
    local.start()
    try:
        yield local
    finally:
        local.kill()


@pytest.fixture(scope="module")
def demo(stack: LocalStack) -> dict[str, dict[str, Any]]:
    return stack.demo()


def token(demo: dict[str, dict[str, Any]], slug: str, role: str = "owner") -> str:
    return str(demo[slug]["users"][role]["token"])


def menu(stack: LocalStack, slug: str) -> dict[str, Any]:
    response = stack.get(f"/v1/public/businesses/{slug}/services")
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def services_of(menu_: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for section in menu_["categories"] for s in section["services"]}


def test_the_stack_prints_its_urls(stack: LocalStack) -> None:
    log = stack.log()
    assert f"{stack.base_url}/v1/health" in log
    assert f"{stack.base_url}/dev/demo" in log
    assert f"{stack.base_url}/v1/public/businesses/{SPA}/services" in log
    # Every business's whole name, in a column as wide as the longest label.
    for name in ("Serenity Day Spa", "Northwind Advisory", "Flowright Plumbing"):
        [line] = [line for line in log.splitlines() if "/v1/public/businesses/" in line and name in line]
        assert f"  {name}  " in line


def test_the_seeded_spa_is_served(stack: LocalStack) -> None:
    spa = menu(stack, SPA)
    assert spa["business"]["name"] == "Serenity Day Spa"
    assert spa["business"]["currency"] == "GBP"
    assert spa["business"]["time_zone"] == "Europe/London"
    assert [c["name"] for c in spa["categories"]] == ["Massage", "Facials", "Hands & feet"]

    services = services_of(spa)
    assert len(services) >= 5
    assert len({s["duration_minutes"] for s in services.values()}) >= 3
    assert len({s["price"]["amount_minor"] for s in services.values()}) >= 3
    assert all(s["price"]["currency"] == "GBP" for s in services.values())
    assert services["Swedish massage"]["duration_minutes"] == 60
    assert services["Swedish massage"]["price"] == {"amount_minor": 6500, "currency": "GBP"}
    assert services["Deep tissue massage"]["duration_minutes"] == 90

    therapists = {m["name"] for s in services.values() for m in s["staff"]}
    assert len(therapists) == 3
    assert {"Amelia Hart", "Ben Okafor", "Chloe Martin"} == therapists
    assert all(s["staff"] for s in services.values())


def test_the_seeded_consultancy_is_served(stack: LocalStack) -> None:
    consultancy = menu(stack, CONSULTANCY)
    assert consultancy["business"]["currency"] == "USD"
    assert consultancy["business"]["time_zone"] == "America/New_York"
    services = services_of(consultancy)
    modes = {s["delivery_mode"] for s in services.values()}
    assert {"online", "both"} <= modes
    assert services["Strategy session"]["price"] == {"amount_minor": 25000, "currency": "USD"}
    assert services["Discovery call"]["price"]["amount_minor"] == 0


def test_unknown_business_is_a_404_problem(stack: LocalStack) -> None:
    response = stack.get("/v1/public/businesses/no-such-business/services")
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert response.json()["status"] == 404


def test_the_demo_hands_out_working_tokens_for_every_role(
    stack: LocalStack, demo: dict[str, dict[str, Any]]
) -> None:
    assert set(demo) == {SPA, CONSULTANCY, "flowright-plumbing"}
    for slug, business in demo.items():
        assert business["id"]
        assert set(business["users"]) == set(ROLES)
        for role in ROLES:
            response = stack.get("/v1/admin/me", token=token(demo, slug, role))
            assert response.status_code == 200, (slug, role, response.text)
            assert response.json()["tenant_id"] == business["id"]
            assert response.json()["role"] == role
        settings = stack.get("/v1/admin/business", token=token(demo, slug)).json()
        assert (settings["id"], settings["slug"]) == (business["id"], slug)


def test_widget_origins_get_cors_over_http(stack: LocalStack) -> None:
    path = f"/v1/public/businesses/{SPA}/services"
    granted = stack.get(path, headers={"Origin": "http://localhost:8080"})
    assert granted.headers.get("Access-Control-Allow-Origin") == "http://localhost:8080"
    refused = stack.get(path, headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in refused.headers
    preflight = stack.request(
        "OPTIONS", path, headers={"Origin": "http://localhost:8080", "Access-Control-Request-Method": "GET"}
    )
    assert preflight.status_code == 204
    assert preflight.headers.get("Access-Control-Allow-Origin") == "http://localhost:8080"
    assert "GET" in preflight.headers.get("Access-Control-Allow-Methods", "")


def test_docs_are_served(stack: LocalStack) -> None:
    document = stack.get("/v1/openapi.json").json()
    assert document["openapi"].startswith("3.")
    assert "/v1/public/businesses/{slug}/services" in document["paths"]
    docs = stack.get("/v1/docs")
    assert docs.status_code == 200
    assert docs.headers["Content-Type"].startswith("text/html")


def test_admin_api_works_with_demo_tokens_and_fails_without_or_across_tenants(
    stack: LocalStack, demo: dict[str, dict[str, Any]]
) -> None:
    admin = token(demo, SPA, "admin")
    staff = stack.get("/v1/admin/staff", token=admin).json()
    amelia = next(m for m in staff if m["name"] == "Amelia Hart")
    body = {"name": "Reflexology", "duration_minutes": 45, "price_minor": 4800, "staff_ids": [amelia["id"]]}

    assert stack.request("POST", "/v1/admin/services", json=body).status_code == 401
    assert stack.request("POST", "/v1/admin/services", token="garbage", json=body).status_code == 401
    assert (
        stack.request("POST", "/v1/admin/services", token=token(demo, SPA, "staff"), json=body).status_code
        == 403
    )
    assert "Reflexology" not in services_of(menu(stack, SPA))

    created = stack.request("POST", "/v1/admin/services", token=admin, json=body)
    assert created.status_code == 201, created.text
    service = created.json()
    assert created.headers["Location"] == f"/v1/admin/services/{service['id']}"
    assert stack.get(created.headers["Location"], token=admin).json() == service
    assert services_of(menu(stack, SPA))["Reflexology"]["staff"] == [
        {"id": amelia["id"], "name": "Amelia Hart"}
    ]

    # the consultancy's owner cannot see or touch it, and sees only their own catalogue
    other = token(demo, CONSULTANCY)
    url = f"/v1/admin/services/{service['id']}"
    for method, payload in (("GET", None), ("PUT", {**body, "name": "Taken"}), ("DELETE", None)):
        response = stack.request(method, url, token=other, json=payload)
        assert response.status_code == 404, (method, response.text)
        assert "Reflexology" not in response.text
    assert "Reflexology" not in {s["name"] for s in stack.get("/v1/admin/services", token=other).json()}
    assert stack.get(url, token=admin).json() == service

    # and the spa cannot reach into the consultancy
    consultancy_service = services_of(menu(stack, CONSULTANCY))["Strategy session"]
    response = stack.get(f"/v1/admin/services/{consultancy_service['id']}", token=admin)
    assert response.status_code == 404
    assert "Strategy" not in response.text

    # the spa's admin deletes the service: 204, gone from the admin API and the public menu
    deleted = stack.request("DELETE", url, token=admin)
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert stack.get(url, token=admin).status_code == 404
    assert "Reflexology" not in services_of(menu(stack, SPA))


def test_a_full_day_job_and_a_three_day_job_are_booked_and_shown_over_http(
    stack: LocalStack, demo: dict[str, dict[str, Any]]
) -> None:
    """What `make dev` offers a newcomer: jobs of any length through the admin API, on the calendar of
    every day they run and gone from availability."""
    owner = token(demo, SPA)
    swedish = services_of(menu(stack, SPA))["Swedish massage"]
    staff_id = swedish["staff"][0]["id"]
    london = ZoneInfo("Europe/London")
    first = datetime.now(london).date() + timedelta(days=20)

    def at(day: date, hhmm: str) -> str:
        return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=london).isoformat()

    def job(start: str, end: str) -> dict[str, Any]:
        body = {
            "services": [swedish["id"]],
            "staff": staff_id,
            "start": start,
            "end": end,
            "allow_outside_shift": True,
            "customer": {"name": "Jo Builder", "email": "jo.builder@example.com"},
        }
        response = stack.request("POST", "/v1/admin/bookings", token=owner, json=body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    day_job = job(at(first, "09:00"), at(first, "17:30"))
    long_job = job(at(first + timedelta(days=2), "08:00"), at(first + timedelta(days=4), "17:00"))

    def calendar(day: date) -> list[str]:
        response = stack.get(f"/v1/admin/calendar?from={day}&to={day}&staff={staff_id}", token=owner)
        assert response.status_code == 200, response.text
        return [e["booking_id"] for e in response.json()]

    def free(day: date) -> list[str]:
        path = (
            f"/v1/public/businesses/{SPA}/availability?services={swedish['id']}&staff={staff_id}"
            f"&from={day}&to={day}&tz=Europe/London"
        )
        response = stack.get(path)
        assert response.status_code == 200, response.text
        return [slot["start"] for d in response.json()["days"] for slot in d["slots"]]

    assert calendar(first) == [day_job["id"]] and free(first) == []
    assert calendar(first + timedelta(days=1)) == [] and free(first + timedelta(days=1))
    for offset in (2, 3, 4):
        assert calendar(first + timedelta(days=offset)) == [long_job["id"]]
        assert free(first + timedelta(days=offset)) == []


def test_the_outbox_page_opens_links_emails_and_attachments(
    stack: LocalStack, demo: dict[str, dict[str, Any]]
) -> None:
    owner = token(demo, SPA)
    swedish = services_of(menu(stack, SPA))["Swedish massage"]
    london = ZoneInfo("Europe/London")
    start = datetime.combine(datetime.now(london).date() + timedelta(days=30), time(9, 0), tzinfo=london)
    body = {
        "services": [swedish["id"]],
        "staff": swedish["staff"][0]["id"],
        "start": start.isoformat(),
        "allow_outside_shift": True,
        "customer": {"name": "Olly Outbox", "email": "olly.outbox@example.com"},
    }
    booked = stack.request("POST", "/v1/admin/bookings", token=owner, json=body)
    assert booked.status_code == 201, booked.text
    booking_id = booked.json()["id"]

    page = stack.get("/dev/outbox").text
    [section] = [part for part in page.split("<section>") if "olly.outbox@example.com" in part]
    links = re.findall(r'<a href="([^"]+)"', section)
    assert any(f"/bookings/{booking_id}?token=" in link for link in links)  # the manage link, a link
    [message] = [m for m in stack.outbox() if "olly.outbox@example.com" in m["to"]]
    email = stack.get(f"/dev/outbox/{message['id']}/html")
    assert email.status_code == 200 and email.headers["Content-Type"].startswith("text/html")
    assert "Olly" in email.text
    invite_index = next(
        i for i, a in enumerate(message["attachments"]) if a["content_type"] == "text/calendar"
    )
    invite = stack.get(f"/dev/outbox/{message['id']}/attachments/{invite_index}")
    assert invite.status_code == 200 and invite.headers["Content-Type"].startswith("text/calendar")
    assert invite.text.startswith("BEGIN:VCALENDAR")
    assert stack.get(f"/dev/outbox/{message['id']}/attachments/99").status_code == 404


def test_the_readmes_availability_example_runs_as_written_on_any_date(stack: LocalStack) -> None:
    """The README's first examples, run by bash as a newcomer pastes them (dates relative to today, no
    tool but Python and curl), with the one thing the reader fills in: a service id from the catalogue."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme.split("# Dates for the examples", 1)[1].split("```", 1)[0]
    lines = [line for line in block.splitlines() if line.startswith(("FROM=", "TO=", "KEY="))]
    [availability] = [line for line in block.splitlines() if "/availability?" in line]
    swedish = services_of(menu(stack, SPA))["Swedish massage"]
    script = "\n".join([*lines, availability]).replace(
        "localhost:8000", stack.base_url.removeprefix("http://")
    )
    script = script.replace("<service id>", swedish["id"])
    ran = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30, check=False)
    assert ran.returncode == 0, ran.stderr
    days = json.loads(ran.stdout)["days"]
    assert days and any(day["slots"] for day in days)  # a week of free times, whatever today is


def test_the_stack_logged_no_errors(stack: LocalStack) -> None:
    # runs after the tests above: none of their requests may have crashed the server (e.g. empty 204s)
    log = stack.log()
    assert "Traceback" not in log
    assert "Exception in ASGI application" not in log


def test_data_and_tokens_survive_a_restart(stack: LocalStack, demo: dict[str, dict[str, Any]]) -> None:
    # runs last: it replaces the module's stack process with a new one on the same data directory
    owner_before = token(demo, SPA, "owner")
    body = {"name": "Aromatherapy", "duration_minutes": 60, "price_minor": 7200}
    created = stack.request("POST", "/v1/admin/services", token=owner_before, json=body)
    assert created.status_code == 201, created.text
    service = created.json()
    category = stack.request("POST", "/v1/admin/categories", token=owner_before, json={"name": "Seasonal"})
    assert category.status_code == 201

    stripe_before = stack.json("GET", "/dev/demo")["stripe_api_base"]
    assert stack.stop() == 0, stack.log()
    stack.start()
    assert "restored" in stack.log()
    assert stack.json("GET", "/dev/demo")["stripe_api_base"] == stripe_before  # the same address as before

    # the token issued before the restart still works, and the data is there
    again = stack.get(f"/v1/admin/services/{service['id']}", token=owner_before)
    assert again.status_code == 200, again.text
    assert again.json() == service
    categories = stack.get("/v1/admin/categories", token=owner_before).json()
    assert "Seasonal" in [c["name"] for c in categories]
    # the seed was restored, not seeded again
    assert stack.demo()[SPA]["id"] == demo[SPA]["id"]
    assert len(services_of(menu(stack, SPA))) >= 5

    # fresh demo tokens work for every role of both businesses
    fresh = stack.demo()
    for slug in (SPA, CONSULTANCY):
        for role in ROLES:
            response = stack.get("/v1/admin/me", token=token(fresh, slug, role))
            assert response.status_code == 200, (slug, role, response.text)
            assert response.json()["role"] == role
    assert stack.get("/v1/admin/services", token=token(fresh, SPA, "staff")).status_code == 200
