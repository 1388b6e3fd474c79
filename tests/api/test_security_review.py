"""Issue 8, section 3: the outside security review's findings, one test each (each failed before its fix),
through the real Lambda handler on the embedded AWS."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable
from typing import Any

import pytest

from local.aws import EmbeddedAws, LocalResources
from tests.conftest import Tenant
from tests.support.booking_fixtures import (
    Days,
    Spa,
    assert_problem,
    book_ok,
    booking_body,
    build_spa,
    customer,
    linked_staff_token,
)
from tests.support.lambda_api import LambdaApi

MakeTenant = Callable[..., Tenant]
Aws = tuple[EmbeddedAws, LocalResources]
DAYS = Days()


@pytest.fixture(scope="module")
def shared_spa(container: Any, make_tenant: MakeTenant) -> Spa:
    return build_spa(container, make_tenant, booking_window_days=365)


@pytest.fixture
def spa(shared_spa: Spa) -> Spa:
    return dataclasses.replace(shared_spa, day=DAYS.take())


# --- a customer's history, as staff see it ---------------------------------------------------------------


def test_staff_see_only_their_own_bookings_and_notes_in_a_clients_history(
    api: LambdaApi, spa: Spa, embedded_aws: Aws
) -> None:
    jane = customer("Jane Doe", f"jane-{secrets.token_hex(4)}@example.com")
    with_amelia = book_ok(api, spa, spa.iso("09:00"), staff="amelia", customer=jane)
    with_ben = book_ok(api, spa, spa.iso("11:00"), staff="ben", customer=jane)
    for booking, text in (
        (with_amelia, "Knots in the lower back"),
        (with_ben, "Confidential: see the owner"),
    ):
        note = api.post(
            f"/v1/admin/bookings/{booking['id']}/notes",
            token=spa.tenant.token(),
            json_body={"kind": "internal", "text": text},
        )
        assert note.status == 201, note.text
    impersonated = api.post(f"/v1/admin/customers/{jane['email']}/impersonate", token=spa.tenant.token())
    assert impersonated.status == 200  # an audit entry the business keeps about Jane

    aws, resources = embedded_aws
    amelia = linked_staff_token(aws, resources, spa.tenant, spa.staff["amelia"])
    seen = api.get(f"/v1/admin/customers/{jane['email']}", token=amelia)

    assert seen.status == 200, seen.text
    history = seen.json()
    assert [b["id"] for b in history["bookings"]] == [with_amelia["id"]]
    assert [n["text"] for n in history["notes"]] == ["Knots in the lower back"]
    assert history["audit"] == []
    owner_view = api.get(f"/v1/admin/customers/{jane['email']}", token=spa.tenant.token()).json()
    assert len(owner_view["bookings"]) == 2 and len(owner_view["notes"]) == 2 and owner_view["audit"]


def test_staff_cannot_tell_a_colleagues_client_from_nobody(
    api: LambdaApi, spa: Spa, embedded_aws: Aws
) -> None:
    jane = customer("Jane Doe", f"jane-{secrets.token_hex(4)}@example.com")
    book_ok(api, spa, spa.iso("10:00"), staff="ben", customer=jane)
    aws, resources = embedded_aws
    chloe = linked_staff_token(aws, resources, spa.tenant, spa.staff["chloe"])

    colleagues = api.get(f"/v1/admin/customers/{jane['email']}", token=chloe)
    nobody_address = f"nobody-{secrets.token_hex(4)}@example.com"
    nobody = api.get(f"/v1/admin/customers/{nobody_address}", token=chloe)

    assert colleagues.status == nobody.status == 404
    first, second = colleagues.json(), nobody.json()
    assert first["type"] == second["type"] == "urn:booking:problem:not-found"
    assert first["detail"].replace(jane["email"], "<email>") == second["detail"].replace(
        nobody_address, "<email>"
    )


# --- one rule for booking outside shifts -----------------------------------------------------------------


def test_a_dispatcher_books_within_shifts_only_as_when_rescheduling(api: LambdaApi, spa: Spa) -> None:
    before_opening = spa.iso("07:30")
    body = booking_body(spa, before_opening, staff="amelia", allow_outside_shift=True)

    as_dispatcher = api.post("/v1/admin/bookings", token=spa.tenant.token("dispatcher"), json_body=body)

    assert_problem(as_dispatcher, 403)
    calendar = api.get(
        f"/v1/admin/calendar?from={spa.day.isoformat()}&to={spa.day.isoformat()}", token=spa.tenant.token()
    )
    assert calendar.json() == []  # nothing was written
    within = booking_body(spa, spa.iso("10:00"), staff="amelia")
    assert (
        api.post("/v1/admin/bookings", token=spa.tenant.token("dispatcher"), json_body=within).status == 201
    )
    as_owner = api.post("/v1/admin/bookings", token=spa.tenant.token(), json_body=body)
    assert as_owner.status == 201, as_owner.text


# --- claims from API Gateway ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"token_use": "access"}, "an access token of the pool"),
        ({"aud": "another-app-client-of-the-pool"}, "an ID token of another app client"),
        ({"token_use": None}, "no token_use"),
    ],
)
def test_the_api_takes_only_its_own_app_clients_id_tokens(
    api: LambdaApi, spa: Spa, verifier: Any, change: dict[str, Any], why: str
) -> None:
    genuine = verifier.verify(spa.tenant.token())
    assert genuine is not None
    forged = {k: v for k, v in {**genuine, **change}.items() if v is not None}

    assert api.get("/v1/admin/business", claims=genuine).status == 200
    assert_problem(api.get("/v1/admin/business", claims=forged), 401)
