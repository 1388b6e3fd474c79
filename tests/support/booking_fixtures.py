"""What the booking and customer API tests share: a spa whose staff work every day (so any future date the
tests compute from the real clock is a working day), calls to the public and admin booking routes, a
Cognito user linked to a staff member, and the login codes the embedded SES received.

The catalogue is created through the same use cases the admin API uses (as the local seed does); the
bookings under test always go through the real Lambda handler.
"""

from __future__ import annotations

import email
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from email.message import Message
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from booking.domain.access import Principal, Role
from booking.domain.catalogue import ServiceDraft, Shift, StaffDraft, TimeWindow
from local.aws import REGION, EmbeddedAws, LocalResources
from local.persistence import LOCAL_PASSWORD
from tests.conftest import Tenant
from tests.support.lambda_api import ApiResponse, LambdaApi

LONDON = ZoneInfo("Europe/London")
WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MakeTenant = Callable[..., Tenant]


@dataclass
class Spa:
    """A day spa in London. Amelia and Ben do massages, Amelia and Chloe facials, Ben video consults.

    Everyone works 09:00-17:00 with lunch 13:00-13:30, every day; slots every 15 minutes; an hour's notice.
    """

    tenant: Tenant
    staff: dict[str, str]  # name -> id
    services: dict[str, str]  # name -> id
    day: date  # a working day a few days ahead
    zone: ZoneInfo = LONDON

    @property
    def slug(self) -> str:
        return self.tenant.slug

    def at(self, hhmm: str, day: date | None = None) -> datetime:
        return datetime.combine(day or self.day, time.fromisoformat(hhmm), tzinfo=self.zone)

    def iso(self, hhmm: str, day: date | None = None) -> str:
        return self.at(hhmm, day).isoformat()


def days_ahead(days: int, zone: ZoneInfo = LONDON) -> date:
    return datetime.now(zone).date() + timedelta(days=days)


class Days:
    """Hands each test its own days in a spa shared by a test module, so tests never see each other's
    bookings (creating a business with its Cognito users per test would cost more than the test)."""

    def __init__(self, first: int = 3, per_test: int = 2) -> None:
        self._next = first
        self._per_test = per_test

    def take(self) -> date:
        day = days_ahead(self._next)
        self._next += self._per_test
        return day


def build_spa(container: Any, make_tenant: MakeTenant, **settings: Any) -> Spa:
    fields = {
        "name": "Serenity Day Spa",
        "time_zone": "Europe/London",
        "currency": "GBP",
        "slot_interval_minutes": 15,
        "min_notice_minutes": 60,
        "booking_window_days": 60,
        "cancellation_cutoff_hours": 24,
        "online_appointments": True,
        **settings,
    }
    tenant = make_tenant(**fields)
    owner = Principal(user_id="test-setup", tenant_id=tenant.id, role=Role.OWNER)
    catalogue = container.catalogue
    lunch = [TimeWindow(start=time(13), end=time(13, 30))]
    every_day = [Shift(weekday=d, start=time(9), end=time(17), breaks=lunch) for d in WEEK]
    staff = {}
    for name in ("Amelia", "Ben", "Chloe"):
        member = StaffDraft(name=f"{name} Hart", email=f"{name.lower()}@serenity.example", shifts=every_day)
        staff[name.lower()] = catalogue.create_staff(owner, member).id
    services = {}
    for key, name, minutes, price, who, extra in (
        ("swedish", "Swedish massage", 60, 6500, ["amelia", "ben"], {}),
        ("facial", "Express facial", 30, 3500, ["amelia", "chloe"], {"buffer_after_minutes": 15}),
        ("consult", "Skin consultation", 30, 2000, ["ben"], {"delivery_mode": "both"}),
    ):
        draft = ServiceDraft(
            name=name,
            duration_minutes=minutes,
            price_minor=price,
            staff_ids=[staff[w] for w in who],
            **extra,
        )
        services[key] = catalogue.create_service(owner, draft).id
    return Spa(tenant=tenant, staff=staff, services=services, day=days_ahead(3))


# --- calls --------------------------------------------------------------------------------------------


def customer(
    name: str = "Jane Doe", email_address: str | None = None, phone: str | None = "+447911123456"
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name,
        "email": email_address or f"jane-{secrets.token_hex(3)}@example.com",
    }
    if phone is not None:
        body["phone"] = phone
    return body


def booking_body(
    spa: Spa, start: str, service: str = "swedish", staff: str = "any", **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "services": [spa.services[service]],
        "staff": spa.staff.get(staff, staff),
        "start": start,
        "customer": customer(),
        **extra,
    }
    return body


def book(api: LambdaApi, spa: Spa, body: dict[str, Any], key: str | None = None) -> ApiResponse:
    headers = {"Idempotency-Key": key or secrets.token_hex(12)}
    return api.post(f"/v1/public/businesses/{spa.slug}/bookings", json_body=body, headers=headers)


def book_ok(
    api: LambdaApi, spa: Spa, start: str, service: str = "swedish", staff: str = "any", **extra: Any
) -> Any:
    response = book(api, spa, booking_body(spa, start, service, staff, **extra))
    assert response.status == 201, response.text
    return response.json()


def availability(
    api: LambdaApi,
    spa: Spa,
    services: str | list[str] = "swedish",
    staff: str = "any",
    first: date | None = None,
    last: date | None = None,
    tz: str = "Europe/London",
) -> ApiResponse:
    names = [services] if isinstance(services, str) else services
    ids = ",".join(spa.services.get(s, s) for s in names)
    first = first or spa.day
    last = last or first
    query = f"services={ids}&staff={spa.staff.get(staff, staff)}&from={first}&to={last}&tz={quote(tz)}"
    return api.get(f"/v1/public/businesses/{spa.slug}/availability?{query}")


def free_starts(
    api: LambdaApi, spa: Spa, service: str = "swedish", staff: str = "any"
) -> dict[datetime, set[str]]:
    """The day's offered starts (as instants) with the staff free for each."""
    response = availability(api, spa, service, staff)
    assert response.status == 200, response.text
    return {
        datetime.fromisoformat(slot["start"]).astimezone(UTC): set(slot["staff_ids"])
        for day in response.json()["days"]
        for slot in day["slots"]
    }


def calendar(
    api: LambdaApi,
    spa: Spa,
    first: date | None = None,
    last: date | None = None,
    token: str | None = None,
    staff: str | None = None,
) -> ApiResponse:
    first = first or spa.day
    last = last or first
    query = f"from={first}&to={last}" + (f"&staff={spa.staff.get(staff, staff)}" if staff else "")
    return api.get(f"/v1/admin/calendar?{query}", token=token or spa.tenant.token())


def calendar_ok(
    api: LambdaApi, spa: Spa, first: date | None = None, last: date | None = None, **kwargs: Any
) -> list[Any]:
    response = calendar(api, spa, first, last, **kwargs)
    assert response.status == 200, response.text
    entries: list[Any] = response.json()
    return entries


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


def local_time(value: str, zone: ZoneInfo = LONDON) -> datetime:
    """An API timestamp, checked to carry the offset `zone` has at that instant ('Z' where that is zero)."""
    parsed = datetime.fromisoformat(value)
    assert parsed.utcoffset() == parsed.astimezone(zone).utcoffset(), (value, zone)
    return parsed


def assert_problem(
    response: ApiResponse, status: int, kind: str | None = None, field_name: str | None = None
) -> dict[str, Any]:
    """A problem+json of `status` (and `kind`); with `field_name`, its errors name that field."""
    assert response.status == status, response.text
    assert (response.header("Content-Type") or "").startswith("application/problem+json"), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:booking:problem:")
    if kind is not None:
        assert body["type"] == f"urn:booking:problem:{kind}", body
    assert body["title"] and body["detail"]
    assert "Traceback" not in response.text
    if field_name is not None:
        fields = [e["field"] for e in body.get("errors", [])]
        assert any(f == field_name or f.startswith(f"{field_name}.") for f in fields), (fields, body)
    return body


# --- Cognito users ------------------------------------------------------------------------------------


def linked_staff_token(aws: EmbeddedAws, resources: LocalResources, tenant: Tenant, staff_id: str) -> str:
    """A real ID token for a user in the staff group whose custom:staff_id links them to a staff member."""
    cognito = aws.client("cognito-idp")
    username = f"linked-{secrets.token_hex(4)}@tests.example"
    cognito.admin_create_user(
        UserPoolId=resources.user_pool_id,
        Username=username,
        UserAttributes=[
            {"Name": "email", "Value": username},
            {"Name": "custom:tenant_id", "Value": tenant.id},
            {"Name": "custom:staff_id", "Value": staff_id},
        ],
        MessageAction="SUPPRESS",
    )
    cognito.admin_set_user_password(
        UserPoolId=resources.user_pool_id, Username=username, Password=LOCAL_PASSWORD, Permanent=True
    )
    cognito.admin_add_user_to_group(UserPoolId=resources.user_pool_id, Username=username, GroupName="staff")
    auth = cognito.admin_initiate_auth(
        UserPoolId=resources.user_pool_id,
        ClientId=resources.user_pool_client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": LOCAL_PASSWORD},
    )
    return str(auth["AuthenticationResult"]["IdToken"])


# --- mail the embedded SES received ---------------------------------------------------------------------


# Sign-in codes are issued by the reminders function from the table's stream: tests/conftest.py's
# `mailed_codes` fixture registers what delivers those records before mail is read.
DELIVER_CODE_REQUESTS: list[Callable[[], None]] = []


def _sent_messages() -> list[Any]:
    for deliver in DELIVER_CODE_REQUESTS:
        deliver()
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return list(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages)


def _text_of(message: Any) -> tuple[str, str]:
    """(subject, plain text) of a simple or raw (MIME) message moto stored."""
    if hasattr(message, "raw_data"):
        parsed: Message = email.message_from_string(message.raw_data)
        parts = [p for p in parsed.walk() if p.get_content_type() == "text/plain"]
        text = "".join(str(p.get_payload(decode=True).decode()) for p in parts)  # type: ignore[union-attr]
        return str(parsed["Subject"]), text
    return str(message.subject), str(message.body)


def _addressed_to(message: Any, address: str) -> bool:
    destinations = message.destinations
    if isinstance(destinations, dict):
        destinations = [a for addresses in destinations.values() for a in addresses]
    return any(address.lower() in str(d).lower() for d in destinations)


def mail_to(address: str) -> list[tuple[str, str]]:
    """(subject, text) of every message sent to `address`, oldest first."""
    out = []
    for message in _sent_messages():
        if not _addressed_to(message, address):  # cheap, before parsing any MIME
            continue
        out.append(_text_of(message))
    return out


def login_codes_sent_to(address: str) -> list[str]:
    """The six-digit sign-in codes mailed to `address`, oldest first."""
    codes = []
    for subject, text in mail_to(address):
        if "sign-in code" in subject.lower() or "sign-in code" in text.lower():
            found = re.search(r"\b(\d{6})\b", text)
            assert found, text
            codes.append(found.group(1))
    return codes
