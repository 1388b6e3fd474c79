"""Returning customers through the real Lambda handler: one-time code sign-in (codes read from the embedded
SES), the customer's own view, "login as client", blocking, and the client history staff read."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from booking.domain.tokens import Delegation
from local.aws import EmbeddedAws, LocalResources
from tests.conftest import Tenant
from tests.support.booking_fixtures import (
    Days,
    Spa,
    assert_problem,
    book,
    book_ok,
    booking_body,
    build_spa,
    customer,
    linked_staff_token,
    login_codes_sent_to,
    mail_to,
)
from tests.support.lambda_api import ApiResponse, LambdaApi

MakeTenant = Callable[..., Tenant]


pytestmark = pytest.mark.usefixtures("mailed_codes")


@pytest.fixture(scope="module")
def shared_spa(container: Any, make_tenant: MakeTenant) -> Spa:
    return build_spa(container, make_tenant, booking_window_days=365)


DAYS = Days()


@pytest.fixture
def spa(shared_spa: Spa) -> Spa:
    """The module's spa, with two days of its diary to this test alone (spa.day and the day after)."""
    return dataclasses.replace(shared_spa, day=DAYS.take())


@pytest.fixture
def jane() -> dict[str, Any]:
    return customer("Jane Doe", f"jane-{secrets.token_hex(4)}@example.com", "+447911123456")


def request_code(api: LambdaApi, spa: Spa, address: str) -> ApiResponse:
    return api.post(f"/v1/public/businesses/{spa.slug}/customers/login-code", json_body={"email": address})


def exchange(api: LambdaApi, spa: Spa, address: str, code: str) -> ApiResponse:
    return api.post(
        f"/v1/public/businesses/{spa.slug}/customers/session", json_body={"email": address, "code": code}
    )


def me(api: LambdaApi, spa: Spa, token: str | None) -> ApiResponse:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return api.get(f"/v1/public/businesses/{spa.slug}/customers/me", headers=headers)


def fresh_code(api: LambdaApi, spa: Spa, address: str) -> str:
    before = len(login_codes_sent_to(address))
    assert request_code(api, spa, address).status == 202
    codes = login_codes_sent_to(address)
    assert len(codes) == before + 1, "no code was mailed"
    return codes[-1]


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def sign_in(api: LambdaApi, spa: Spa, address: str) -> dict[str, Any]:
    response = exchange(api, spa, address, fresh_code(api, spa, address))
    assert response.status == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def history(
    api: LambdaApi, spa: Spa, address: str, role: str = "owner", token: str | None = None
) -> ApiResponse:
    return api.get(f"/v1/admin/customers/{address}", token=token or spa.tenant.token(role))


# --- one-time codes -----------------------------------------------------------------------------------


def test_a_code_goes_only_to_known_customers_and_the_answer_never_tells(
    api: LambdaApi, spa: Spa, jane: dict[str, Any]
) -> None:
    book_ok(api, spa, spa.iso("10:00"), customer=jane)
    stranger = f"stranger-{secrets.token_hex(4)}@example.com"

    known = request_code(api, spa, jane["email"])
    unknown = request_code(api, spa, stranger)
    assert known.status == unknown.status == 202
    assert known.json() == unknown.json()
    assert len(login_codes_sent_to(jane["email"])) == 1
    assert mail_to(stranger) == []
    [(subject, text)] = [m for m in mail_to(jane["email"]) if "sign-in code" in m[0]]
    assert "Serenity Day Spa" in subject and "expires in 10 minutes" in text

    # The address is matched whatever its case.
    assert request_code(api, spa, jane["email"].upper()).status == 202
    assert len(login_codes_sent_to(jane["email"])) == 2
    assert_problem(request_code(api, spa, "not-an-email"), 422, field_name="email")


def test_the_code_signs_the_customer_in_with_details_and_bookings(
    api: LambdaApi, spa: Spa, jane: dict[str, Any]
) -> None:
    coming = book_ok(api, spa, spa.iso("10:00"), customer=jane)
    dropped = book_ok(api, spa, spa.iso("11:00", spa.day + timedelta(days=1)), customer=jane)
    cancel = api.post(
        f"/v1/public/bookings/{dropped['id']}/cancel?token={dropped['manage_token']}", json_body={}
    )
    assert cancel.status == 200, cancel.text
    book_ok(api, spa, spa.iso("12:00"))  # someone else's booking, never shown to Jane

    session = sign_in(api, spa, jane["email"])
    assert session["token"]
    profile = session["profile"]
    assert (profile["name"], profile["email"], profile["phone"]) == (
        "Jane Doe",
        jane["email"],
        "+447911123456",
    )
    assert profile["blocked"] is False
    assert [b["id"] for b in session["upcoming"]] == [coming["id"]]
    assert session["upcoming"][0]["manage_token"] == coming["manage_token"]
    # A cancelled booking for tomorrow is not "past": it is listed as cancelled.
    assert session["past"] == []
    assert [(b["id"], b["status"]) for b in session["cancelled"]] == [(dropped["id"], "cancelled")]

    again = me(api, spa, session["token"])
    assert again.status == 200, again.text
    assert again.json()["profile"] == profile
    assert [b["id"] for b in again.json()["upcoming"]] == [coming["id"]]
    assert_problem(me(api, spa, None), 401)
    assert_problem(me(api, spa, session["token"][:-3] + "abc"), 401)


def test_a_wrong_code_is_refused_and_five_wrong_attempts_burn_the_code(
    api: LambdaApi, spa: Spa, jane: dict[str, Any]
) -> None:
    book_ok(api, spa, spa.iso("10:00"), customer=jane)
    code = fresh_code(api, spa, jane["email"])
    for _ in range(5):
        assert_problem(exchange(api, spa, jane["email"], wrong(code)), 401)
    assert_problem(exchange(api, spa, jane["email"], code), 401)  # right, but too late
    assert_problem(exchange(api, spa, jane["email"], "12345"), 422, field_name="code")

    # A new code starts afresh.
    response = exchange(api, spa, jane["email"], fresh_code(api, spa, jane["email"]))
    assert response.status == 200, response.text


def test_four_wrong_attempts_still_leave_the_right_code_usable(
    api: LambdaApi, spa: Spa, jane: dict[str, Any]
) -> None:
    book_ok(api, spa, spa.iso("10:00"), customer=jane)
    code = fresh_code(api, spa, jane["email"])
    for _ in range(4):
        assert_problem(exchange(api, spa, jane["email"], wrong(code)), 401)
    assert exchange(api, spa, jane["email"], code).status == 200


def test_a_code_works_once_and_only_for_its_own_email(api: LambdaApi, spa: Spa, jane: dict[str, Any]) -> None:
    john = customer("John Roe")
    book_ok(api, spa, spa.iso("10:00"), customer=jane)
    book_ok(api, spa, spa.iso("11:00"), customer=john)
    code = fresh_code(api, spa, jane["email"])
    assert_problem(exchange(api, spa, john["email"], code), 401)
    assert exchange(api, spa, jane["email"], code).status == 200
    assert_problem(exchange(api, spa, jane["email"], code), 401)
    assert_problem(exchange(api, spa, f"nobody-{secrets.token_hex(3)}@example.com", code), 401)


def test_a_sixth_code_within_the_hour_is_not_sent(api: LambdaApi, spa: Spa, jane: dict[str, Any]) -> None:
    book_ok(api, spa, spa.iso("10:00"), customer=jane)
    for _ in range(5):
        assert request_code(api, spa, jane["email"]).status == 202
    sixth = request_code(api, spa, jane["email"])
    assert_problem(sixth, 429, "too-many-requests")
    assert 0 < int(sixth.header("Retry-After") or 0) <= 3600
    codes = login_codes_sent_to(jane["email"])
    assert len(codes) == 5
    # The last code mailed is still the valid one.
    assert exchange(api, spa, jane["email"], codes[-1]).status == 200


def test_a_session_is_only_good_at_its_own_business(
    api: LambdaApi, container: Any, make_tenant: MakeTenant, spa: Spa, jane: dict[str, Any]
) -> None:
    other = build_spa(container, make_tenant, name="Another Spa")
    book_ok(api, spa, spa.iso("10:00"), customer=jane)
    book_ok(api, other, other.iso("10:00"), customer=jane)  # Jane is a customer of both
    session = sign_in(api, spa, jane["email"])
    assert me(api, spa, session["token"]).status == 200
    assert_problem(me(api, other, session["token"]), 401)
    # And a code issued by one business does not sign in at the other.
    code = fresh_code(api, spa, jane["email"])
    assert_problem(exchange(api, other, jane["email"], code), 401)


# --- login as client ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_an_owner_or_admin_can_see_what_the_client_sees_and_it_is_recorded(
    api: LambdaApi, spa: Spa, jane: dict[str, Any], role: str
) -> None:
    booking = book_ok(api, spa, spa.iso("10:00"), customer=jane)
    response = api.post(f"/v1/admin/customers/{jane['email']}/impersonate", token=spa.tenant.token(role))
    assert response.status == 200, response.text
    token = response.json()["token"]
    assert response.json()["customer_email"] == jane["email"]

    seen = me(api, spa, token)
    assert seen.status == 200, seen.text
    assert seen.json()["profile"]["email"] == jane["email"]
    assert [b["id"] for b in seen.json()["upcoming"]] == [booking["id"]]

    audit = history(api, spa, jane["email"]).json()["audit"]
    [entry] = [a for a in audit if a["action"] == "login_as_client"]
    assert entry["actor"]["kind"] == role and entry["actor"]["id"]
    assert entry["details"]["by"] == spa.tenant.emails[role]

    # What they then do as the client is recorded as done on the client's behalf.
    cancelled = api.post(
        f"/v1/public/bookings/{booking['id']}/cancel?token={booking['manage_token']}",
        json_body={"reason": "asked us by phone"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert cancelled.status == 200, cancelled.text
    actor = cancelled.json()["history"][-1]["actor"]
    assert actor["kind"] == "customer" and actor["id"] == jane["email"]
    assert actor["on_behalf_of"] == entry["actor"]["id"]


def acting_user(api: LambdaApi, spa: Spa, email: str) -> str:
    """The user id of the owner or admin who last logged in as the client (their audit entry)."""
    audit = history(api, spa, email).json()["audit"]
    user: str = [a for a in audit if a["action"] == "login_as_client"][-1]["actor"]["id"]
    return user


def test_login_as_client_shows_only_links_that_record_the_admin_and_end_with_the_session(
    api: LambdaApi, container: Any, spa: Spa, jane: dict[str, Any]
) -> None:
    booking = book_ok(api, spa, spa.iso("10:00"), customer=jane)
    impersonated = api.post(f"/v1/admin/customers/{jane['email']}/impersonate", token=spa.tenant.token())
    session = impersonated.json()["token"]
    owner = acting_user(api, spa, jane["email"])
    [seen] = me(api, spa, session).json()["upcoming"]

    # Not the customer's own link: a delegated one, which dies with the session.
    delegated = seen["manage_token"]
    assert delegated != booking["manage_token"] and len(delegated.split(".")) == 5
    until = datetime.fromtimestamp(int(delegated.split(".")[3]), UTC)
    assert timedelta(minutes=55) < until - datetime.now(UTC) <= timedelta(hours=1)

    # A change made with it, with no bearer at all, is recorded on behalf of the admin.
    later = api.post(
        f"/v1/public/bookings/{booking['id']}/reschedule?token={delegated}",
        json_body={"start": spa.iso("11:00")},
    )
    assert later.status == 200, later.text
    actor = later.json()["history"][-1]["actor"]
    assert (actor["id"], actor["on_behalf_of"]) == (jane["email"], owner)
    assert later.json()["manage_token"] != booking["manage_token"]  # what it shows is delegated too
    assert len(later.json()["manage_token"].split(".")) == 5

    # Once the session is over the link opens nothing (the same admin, the same link, an hour later).
    tokens = container.manage_links._tokens
    ended = tokens.issue(
        spa.tenant.id, booking["id"], 0, Delegation(owner, datetime.now(UTC) - timedelta(seconds=1))
    )
    for path in ("", "/cancellation-quote"):
        assert_problem(api.get(f"/v1/public/bookings/{booking['id']}{path}?token={ended}"), 401)
    refused = api.post(f"/v1/public/bookings/{booking['id']}/cancel?token={ended}", json_body={})
    assert_problem(refused, 401)
    # A delegated link forged for another admin, or edited to last longer, is no link at all.
    forged = delegated.split(".")
    forged[3] = str(int(forged[3]) + 86_400)
    assert_problem(api.get(f"/v1/public/bookings/{booking['id']}?token={'.'.join(forged)}"), 401)


def test_a_booking_made_in_a_login_as_client_session_is_recorded_on_behalf_of_the_admin(
    api: LambdaApi, spa: Spa, jane: dict[str, Any]
) -> None:
    book_ok(api, spa, spa.iso("09:00"), customer=jane)  # Jane is a customer
    session = api.post(f"/v1/admin/customers/{jane['email']}/impersonate", token=spa.tenant.token("admin"))
    admin = acting_user(api, spa, jane["email"])
    booked = api.post(
        f"/v1/public/businesses/{spa.slug}/bookings",
        json_body=booking_body(spa, spa.iso("12:00"), customer=jane),
        headers={
            "Idempotency-Key": secrets.token_hex(8),
            "Authorization": f"Bearer {session.json()['token']}",
        },
    )
    assert booked.status == 201, booked.text
    [created] = booked.json()["history"]
    assert created["actor"]["on_behalf_of"] == admin
    assert len(booked.json()["manage_token"].split(".")) == 3  # the customer's own link, for her emails
    # A bearer that is no session is refused, rather than the booking recorded as Jane's own doing.
    refused = api.post(
        f"/v1/public/businesses/{spa.slug}/bookings",
        json_body=booking_body(spa, spa.iso("13:00"), customer=jane),
        headers={"Idempotency-Key": secrets.token_hex(8), "Authorization": "Bearer expired.or.forged"},
    )
    assert_problem(refused, 401)


def test_another_customers_session_is_not_recorded_as_the_actor(
    api: LambdaApi, spa: Spa, jane: dict[str, Any]
) -> None:
    """The manage link authorises the change; a session of someone else (here John, signed in on the same
    device) must not be written into Jane's history as the one who cancelled."""
    john = customer("John Roe")
    booking = book_ok(api, spa, spa.iso("10:00"), customer=jane)
    book_ok(api, spa, spa.iso("11:00"), customer=john)
    johns_session = sign_in(api, spa, john["email"])["token"]
    cancelled = api.post(
        f"/v1/public/bookings/{booking['id']}/cancel?token={booking['manage_token']}",
        json_body={"reason": "cannot make it"},
        headers={"Authorization": f"Bearer {johns_session}"},
    )
    assert cancelled.status == 200, cancelled.text
    actor = cancelled.json()["history"][-1]["actor"]
    assert (actor["kind"], actor["id"], actor["on_behalf_of"]) == ("customer", jane["email"], None)


@pytest.mark.parametrize("role", ["staff", "dispatcher"])
def test_staff_and_dispatchers_cannot_log_in_as_a_client(
    api: LambdaApi, spa: Spa, jane: dict[str, Any], role: str
) -> None:
    book_ok(api, spa, spa.iso("10:00"), customer=jane)
    response = api.post(f"/v1/admin/customers/{jane['email']}/impersonate", token=spa.tenant.token(role))
    assert_problem(response, 403)
    assert [
        a for a in history(api, spa, jane["email"]).json()["audit"] if a["action"] == "login_as_client"
    ] == []


def test_logging_in_as_an_unknown_client_is_404(api: LambdaApi, spa: Spa) -> None:
    response = api.post(
        f"/v1/admin/customers/nobody-{secrets.token_hex(3)}@example.com/impersonate", token=spa.tenant.token()
    )
    assert_problem(response, 404)


# --- blocking -----------------------------------------------------------------------------------------


def test_blocking_stops_online_booking_until_unblocked(
    api: LambdaApi, spa: Spa, jane: dict[str, Any]
) -> None:
    book_ok(api, spa, spa.iso("09:00"), customer=jane)
    assert_problem(
        api.post(f"/v1/admin/customers/{jane['email']}/block", token=spa.tenant.token("staff"), json_body={}),
        403,
    )

    blocked = api.post(
        f"/v1/admin/customers/{jane['email']}/block",
        token=spa.tenant.token("admin"),
        json_body={"reason": "3 no-shows"},
    )
    assert blocked.status == 200, blocked.text
    assert (blocked.json()["blocked"], blocked.json()["blocked_reason"]) == (True, "3 no-shows")
    assert_problem(
        book(api, spa, booking_body(spa, spa.iso("11:00"), customer=jane)), 403, "customer-blocked"
    )
    client = history(api, spa, jane["email"]).json()
    assert client["profile"]["blocked"] is True
    assert len(client["bookings"]) == 1
    # The business can still book for them.
    on_behalf = api.post(
        "/v1/admin/bookings",
        token=spa.tenant.token(),
        json_body=booking_body(spa, spa.iso("12:00"), customer=jane),
    )
    assert on_behalf.status == 201, on_behalf.text

    unblocked = api.post(f"/v1/admin/customers/{jane['email']}/unblock", token=spa.tenant.token())
    assert unblocked.status == 200 and unblocked.json()["blocked"] is False
    assert book(api, spa, booking_body(spa, spa.iso("11:00"), customer=jane)).status == 201
    audit = [a["action"] for a in history(api, spa, jane["email"]).json()["audit"]]
    assert audit == ["blocked", "unblocked"]
    assert_problem(
        api.post(
            f"/v1/admin/customers/nobody-{secrets.token_hex(3)}@example.com/block",
            token=spa.tenant.token(),
            json_body={},
        ),
        404,
    )


# --- client history -----------------------------------------------------------------------------------


def test_the_client_history_shows_bookings_and_notes(
    api: LambdaApi, spa: Spa, jane: dict[str, Any], embedded_aws: tuple[EmbeddedAws, LocalResources]
) -> None:
    first = book_ok(api, spa, spa.iso("09:00"), staff="amelia", customer=jane)
    second = book_ok(api, spa, spa.iso("10:00", spa.day + timedelta(days=1)), staff="amelia", customer=jane)
    for booking_id, kind, text in (
        (first["id"], "session", "Knots in the lower back"),
        (first["id"], "follow_up", "Suggest a course of six"),
        (second["id"], "internal", "Prefers the quiet room"),
    ):
        response = api.post(
            f"/v1/admin/bookings/{booking_id}/notes",
            token=spa.tenant.token(),
            json_body={"kind": kind, "text": text},
        )
        assert response.status == 201, response.text

    response = history(api, spa, jane["email"].upper(), role="dispatcher")
    assert response.status == 200, response.text
    client = response.json()
    assert client["profile"]["name"] == "Jane Doe"
    assert [b["id"] for b in client["bookings"]] == [first["id"], second["id"]]
    assert client["bookings"][0]["services"][0]["name"] == "Swedish massage"
    notes = [(n["booking_id"], n["kind"], n["text"]) for n in client["notes"]]
    assert notes == [
        (first["id"], "session", "Knots in the lower back"),
        (first["id"], "follow_up", "Suggest a course of six"),
        (second["id"], "internal", "Prefers the quiet room"),
    ]

    # Amelia sees her client's history before the appointment (see tests/api/test_security_review.py for
    # what a staff member does not see); Chloe, who never saw Jane, is told there is no such client.
    aws, resources = embedded_aws
    amelia = linked_staff_token(aws, resources, spa.tenant, spa.staff["amelia"])
    chloe = linked_staff_token(aws, resources, spa.tenant, spa.staff["chloe"])
    assert history(api, spa, jane["email"], token=amelia).status == 200
    assert_problem(history(api, spa, jane["email"], token=chloe), 404)
    assert_problem(history(api, spa, f"nobody-{secrets.token_hex(3)}@example.com"), 404)
