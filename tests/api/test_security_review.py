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


# --- control characters ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("character", "where"),
    [
        ("\x00", "customer.name"),
        ("\x07", "customer.name"),
        ("\x1b", "notes"),
        ("\u202e", "customer.name"),  # right-to-left override: "Ann\u202eexe.pdf" reads backwards
        ("\u2066", "notes"),
    ],
)
def test_control_characters_are_refused_at_the_edge_and_nothing_is_written(
    api: LambdaApi, spa: Spa, character: str, where: str
) -> None:
    body = booking_body(spa, spa.iso("10:00"), staff="amelia")
    if where == "customer.name":
        body["customer"]["name"] = f"Ann{character}Client"
    else:
        body["notes"] = f"first visit{character}"

    response = api.post(
        f"/v1/public/businesses/{spa.slug}/bookings",
        json_body=body,
        headers={"Idempotency-Key": secrets.token_hex(12)},
    )

    problem = assert_problem(response, 422, field_name=where)
    assert f"U+{ord(character):04X}" in problem["errors"][0]["msg"]
    calendar = api.get(
        f"/v1/admin/calendar?from={spa.day.isoformat()}&to={spa.day.isoformat()}", token=spa.tenant.token()
    )
    assert calendar.json() == []


def test_line_breaks_stay_allowed_in_notes_and_are_refused_in_names(api: LambdaApi, spa: Spa) -> None:
    booking = book_ok(api, spa, spa.iso("11:00"), staff="amelia", notes="first visit\nback pain")
    note = api.post(
        f"/v1/admin/bookings/{booking['id']}/notes",
        token=spa.tenant.token(),
        json_body={"kind": "internal", "text": "line one\n\tline two"},
    )
    assert note.status == 201, note.text
    bell = api.post(
        f"/v1/admin/bookings/{booking['id']}/notes",
        token=spa.tenant.token(),
        json_body={"kind": "internal", "text": "ding\x07"},
    )
    assert_problem(bell, 422, field_name="text")
    staff = api.post(
        "/v1/admin/staff",
        token=spa.tenant.token(),
        json_body={"name": "Dana\nHart", "email": "dana@serenity.example"},
    )
    assert_problem(staff, 422, field_name="name")


# --- manage links expire and can be revoked -------------------------------------------------------------


def manage(api: LambdaApi, booking_id: str, token: str) -> Any:
    return api.get(f"/v1/public/bookings/{booking_id}?token={token}")


def test_revoking_a_bookings_links_stops_every_link_sent_and_the_new_one_works(
    api: LambdaApi, spa: Spa
) -> None:
    booking = book_ok(api, spa, spa.iso("14:00"), staff="ben")
    old = booking["manage_token"]
    assert manage(api, booking["id"], old).status == 200
    assert_problem(
        api.post(f"/v1/admin/bookings/{booking['id']}/revoke-links", token=spa.tenant.token("staff")), 403
    )
    assert_problem(
        api.post(f"/v1/admin/bookings/{booking['id']}/revoke-links", token=spa.tenant.token("dispatcher")),
        403,
    )

    revoked = api.post(f"/v1/admin/bookings/{booking['id']}/revoke-links", token=spa.tenant.token())

    assert revoked.status == 200, revoked.text
    new = revoked.json()["manage_token"]
    assert new != old
    refused = assert_problem(manage(api, booking["id"], old), 401)
    assert "replaced" in refused["detail"]
    assert_problem(api.post(f"/v1/public/bookings/{booking['id']}/cancel?token={old}", json_body={}), 401)
    assert manage(api, booking["id"], new).json()["status"] == "confirmed"
    assert revoked.json()["history"][-1]["action"] == "manage_links_revoked"


def test_a_link_issued_before_link_versions_works_until_the_links_are_revoked(
    api: LambdaApi, spa: Spa, container: Any
) -> None:
    import base64
    import hashlib
    import hmac
    import os

    booking = book_ok(api, spa, spa.iso("15:00"), staff="ben")
    digest = hmac.new(
        os.environ["APP_SECRET"].encode(), f"manage|{spa.tenant.id}|{booking['id']}".encode(), hashlib.sha256
    ).digest()
    legacy = (
        f"{spa.tenant.id}.{base64.urlsafe_b64encode(digest).decode().rstrip('=')}"  # in emails already sent
    )

    assert manage(api, booking["id"], legacy).status == 200
    api.post(f"/v1/admin/bookings/{booking['id']}/revoke-links", token=spa.tenant.token())
    assert_problem(manage(api, booking["id"], legacy), 401)


def test_a_link_expires_thirty_days_after_the_appointment_ends(api: LambdaApi, spa: Spa) -> None:
    from datetime import datetime, timedelta

    from booking.domain.errors import Unauthorized
    from booking_api.container import build_container
    from tests.support.notification_fixtures import ManualClock

    booking = book_ok(api, spa, spa.iso("16:00"), staff="ben")
    api.post(f"/v1/admin/bookings/{booking['id']}/cancel", token=spa.tenant.token(), json_body={})
    end = datetime.fromisoformat(booking["end"])
    clock = ManualClock(end + timedelta(days=30) - timedelta(seconds=1))
    links = build_container(claims=lambda event: None, clock=clock).manage_links

    assert links.view(booking["id"], booking["manage_token"]).booking.status.value == "cancelled"
    clock.set(end + timedelta(days=30))
    with pytest.raises(Unauthorized, match="expired 30 days after the appointment"):
        links.view(booking["id"], booking["manage_token"])


# --- SMS pumping ----------------------------------------------------------------------------------------


def test_texts_go_only_to_the_countries_the_business_allows(
    notifications: Any, api: LambdaApi, make_tenant: MakeTenant
) -> None:
    from tests.support.notification_fixtures import Customer, build_salon, emails, new_customer, texts
    from tests.support.notification_wiring import booked, entry

    salon = build_salon(api, make_tenant)  # Europe/London: by default GB and the regions sharing +44
    jamaica = Customer("Premium Pumper", new_customer().email, "+18762345678")
    booking, sent = booked(notifications, salon, salon.at(salon.day(3), "10:00"), jamaica)

    assert texts(sent, jamaica.phone) == []
    assert len(emails(sent, jamaica.email)) == 1  # the confirmation still goes by email
    skipped = entry(notifications.log(salon, booking["id"]), "confirmation", "sms")
    assert (skipped["status"], skipped["detail"]) == ("skipped", "texts go to numbers in GB, GG, IM, JE only")

    us_only = build_salon(
        api, make_tenant, time_zone="America/New_York", currency="USD", sms_countries=["US"]
    )
    new_yorker = Customer("Ann Client", new_customer().email, "+12015550123")
    _, sent = booked(notifications, us_only, us_only.at(us_only.day(3), "10:00"), new_yorker)
    assert len(texts(sent, new_yorker.phone)) == 1
    briton = new_customer()
    booking, sent = booked(notifications, us_only, us_only.at(us_only.day(3), "12:00"), briton)
    assert texts(sent, briton.phone) == []


def test_a_business_texts_at_most_its_daily_cap(
    notifications: Any, api: LambdaApi, make_tenant: MakeTenant
) -> None:
    from tests.support.notification_fixtures import build_salon, emails, new_customer, texts
    from tests.support.notification_wiring import booked, entry

    salon = build_salon(api, make_tenant, sms_daily_cap=2)
    customers = [new_customer() for _ in range(3)]
    outcomes = [
        booked(notifications, salon, salon.at(salon.day(3), f"{10 + n}:00"), customer)
        for n, customer in enumerate(customers)
    ]

    sent = notifications.sent()
    assert [len(texts(sent, c.phone)) for c in customers] == [1, 1, 0]
    assert [len(emails(sent, c.email)) for c in customers] == [1, 1, 1]
    capped = entry(notifications.log(salon, outcomes[2][0]["id"]), "confirmation", "sms")
    assert capped["detail"] == "the business's daily SMS cap (2) is reached"


def test_the_accounts_monthly_sms_spend_limit_is_set_by_the_ops_command(embedded_aws: Aws) -> None:
    from ops.sms_spend_limit import main

    sns = embedded_aws[0].client("sns")
    assert main(["--usd", "25"], sns) == 0
    assert sns.get_sms_attributes(attributes=["MonthlySpendLimit"])["attributes"]["MonthlySpendLimit"] == "25"


# --- sign-in codes: the same work for anyone, and limits a code cannot reset -----------------------------


def code_request(api: LambdaApi, spa: Spa, address: str, ip: str | None = None) -> Any:
    return api.post(
        f"/v1/public/businesses/{spa.slug}/customers/login-code", json_body={"email": address}, source_ip=ip
    )


def test_asking_for_a_code_does_the_same_work_for_a_customer_and_a_stranger(
    api: LambdaApi, spa: Spa, container: Any
) -> None:
    jane = customer("Jane Doe", f"jane-{secrets.token_hex(4)}@example.com")
    book_ok(api, spa, spa.iso("10:00"), customer=jane)
    calls: list[str] = []

    def record(model: Any = None, **_: Any) -> None:
        calls.append(f"{model.service_model.service_name}.{model.name}")

    # every AWS call the API makes goes through the container's one DynamoDB client (and none to SES)
    events = container.sign_in._customers._client.meta.events
    events.register("before-call", record)
    try:
        calls.clear()
        assert code_request(api, spa, jane["email"]).status == 202
        for_customer = list(calls)
        calls.clear()
        assert code_request(api, spa, f"stranger-{secrets.token_hex(4)}@example.com").status == 202
        for_stranger = list(calls)
    finally:
        events.unregister("before-call", record)

    assert for_customer == for_stranger  # nothing looked up that could take longer for one than the other
    assert for_customer == ["dynamodb.UpdateItem"] * 3 + ["dynamodb.PutItem"]  # three limits, one request


@pytest.mark.usefixtures("mailed_codes")
def test_codes_are_limited_per_client_and_per_business_too(
    api: LambdaApi, container: Any, make_tenant: MakeTenant
) -> None:
    spa = build_spa(container, make_tenant)  # its own business: this test uses up its hourly limits
    probing = "203.0.113.66"
    for n in range(20):
        assert code_request(api, spa, f"probe-{n}@example.com", ip=probing).status == 202
    assert_problem(code_request(api, spa, "probe-20@example.com", ip=probing), 429, "too-many-requests")
    assert code_request(api, spa, "someone@example.com").status == 202  # another client is unaffected

    for n in range(300 - 21):
        assert code_request(api, spa, f"flood-{n}@example.com").status == 202, n
    assert_problem(code_request(api, spa, "one-more@example.com"), 429, "too-many-requests")


@pytest.mark.usefixtures("mailed_codes")
def test_signing_in_does_not_reset_the_hourly_limit_per_email(api: LambdaApi, spa: Spa) -> None:
    from tests.support.booking_fixtures import login_codes_sent_to

    jane = customer("Jane Doe", f"jane-{secrets.token_hex(4)}@example.com")
    book_ok(api, spa, spa.iso("12:00"), customer=jane)
    for _ in range(5):
        assert code_request(api, spa, jane["email"]).status == 202
    code = login_codes_sent_to(jane["email"])[-1]
    signed_in = api.post(
        f"/v1/public/businesses/{spa.slug}/customers/session",
        json_body={"email": jane["email"], "code": code},
    )
    assert signed_in.status == 200, signed_in.text  # the code is consumed (its item is gone) ...

    assert_problem(code_request(api, spa, jane["email"]), 429)  # ... and the hour's count stands
