"""The preflight (OPTIONS) of every public route, answered in one place (booking_api/cors.py) for the
business the path names: by slug for a business's routes, by the manage link's token for a booking's."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support.booking_fixtures import Spa, book_ok, build_spa, days_ahead
from tests.support.lambda_api import ApiResponse, LambdaApi

WIDGET = "https://book.preflight.example"
BUSINESS_PATHS = (
    "services",
    "availability",
    "bookings",
    "customers/login-code",
    "customers/session",
    "customers/me",
    "customers/me/documents",
    "customers/me/booking-requests",
    "customers/me/booking-requests/r1",
    "customers/me/booking-requests/r1/cancel",
    "customers/me/booking-requests/r1/counter-proposal/decline",
    "customers/me/booking-requests/r1/photos/0/uploaded",
)
BOOKING_PATHS = ("", "/cancel", "/reschedule", "/payment", "/sms", "/cancellation-quote", "/invite.ics")


@pytest.fixture(scope="module")
def spa(container: Any, make_tenant: Any) -> Spa:
    return build_spa(container, make_tenant, widget_origins=[WIDGET])


@pytest.fixture(scope="module")
def managed(api: LambdaApi, spa: Spa) -> tuple[str, str]:
    """A booking and the token of its manage link."""
    booked = book_ok(api, spa, f"{days_ahead(4)}T10:00:00+01:00")
    return booked["id"], parse_qs(urlsplit(booked["manage_url"]).query)["token"][0]


def preflight(api: LambdaApi, path: str, origin: str = WIDGET) -> ApiResponse:
    return api.request("OPTIONS", path, headers={"Origin": origin, "Access-Control-Request-Method": "POST"})


def assert_granted(response: ApiResponse) -> None:
    assert response.status == 204, response.text
    assert response.header("Access-Control-Allow-Origin") == WIDGET
    assert "POST" in (response.header("Access-Control-Allow-Methods") or "")
    assert "authorization" in (response.header("Access-Control-Allow-Headers") or "").lower()


@pytest.mark.parametrize("suffix", BUSINESS_PATHS)
def test_a_business_route_is_preflighted_for_the_business_of_its_slug(
    api: LambdaApi, spa: Spa, suffix: str
) -> None:
    path = f"/v1/public/businesses/{spa.slug}/{suffix}"
    assert_granted(preflight(api, path))
    refused = preflight(api, path, origin="https://elsewhere.example")
    assert refused.status == 204
    assert refused.header("Access-Control-Allow-Origin") is None


@pytest.mark.parametrize("suffix", BOOKING_PATHS)
def test_a_booking_route_is_preflighted_for_the_business_of_its_manage_link(
    api: LambdaApi, managed: tuple[str, str], suffix: str
) -> None:
    booking_id, token = managed
    assert_granted(preflight(api, f"/v1/public/bookings/{booking_id}{suffix}?token={token}"))
    forged = preflight(api, f"/v1/public/bookings/{booking_id}{suffix}?token=forged")
    assert forged.status == 401
    assert forged.header("Access-Control-Allow-Origin") is None


def test_a_path_no_route_serves_has_no_preflight(api: LambdaApi, spa: Spa, managed: tuple[str, str]) -> None:
    booking_id, token = managed
    for path in (
        f"/v1/public/businesses/{spa.slug}/no-such-thing",
        f"/v1/public/bookings/{booking_id}/no-such-thing?token={token}",
        "/v1/admin/services",
    ):
        response = preflight(api, path)
        assert response.status == 404, path
        assert response.json()["type"] == "urn:booking:problem:not-found"
        assert response.header("Access-Control-Allow-Origin") is None
