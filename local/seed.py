"""Demo data for the local stack: a day spa and an online consultancy, created through the same use cases
the API uses, plus one Cognito user per role for each business."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date, time
from pathlib import Path
from typing import Any

from booking.domain.access import Principal, Role
from booking.domain.booking_requests import RequestSettings
from booking.domain.catalogue import (
    BusinessSettings,
    CategoryDraft,
    Closure,
    ServiceDraft,
    Shift,
    StaffDraft,
    TimeWindow,
    WeeklyHours,
)
from booking.domain.checkout import StripeAccount
from booking.domain.customers import OnboardingUpdate
from booking.domain.no_shows import NoShowPolicy
from booking.domain.payments import PaymentRule
from booking.domain.refunds import CancellationPolicy, PolicyTier
from booking.services.catalogue import CatalogueService
from booking.services.customers import CustomerService
from booking.services.meetings import MeetingAdmin
from booking.services.payments.checkout import Checkout
from local.fakes.providers import DEMO_CREDENTIALS
from local.persistence import LOCAL_PASSWORD

MANIFEST = "demo.json"


@dataclass
class DemoBusiness:
    id: str
    slug: str
    name: str
    users: dict[str, str]  # role -> email


def _t(hhmm: str) -> time:
    return time.fromisoformat(hhmm)


def _week(days: list[str], start: str, end: str, lunch: tuple[str, str] | None) -> list[Shift]:
    breaks = [TimeWindow(start=_t(lunch[0]), end=_t(lunch[1]))] if lunch else []
    return [Shift(weekday=d, start=_t(start), end=_t(end), breaks=breaks) for d in days]


def _hours(days: list[str], start: str, end: str) -> list[WeeklyHours]:
    return [WeeklyHours(weekday=d, start=_t(start), end=_t(end)) for d in days]


def _create_users(cognito: Any, pool_id: str, business_id: str, domain: str, staff_id: str) -> dict[str, str]:
    users = {}
    for role in Role:
        email = f"{role.value}@{domain}"
        attributes = [
            {"Name": "email", "Value": email},
            {"Name": "email_verified", "Value": "true"},
            {"Name": "custom:tenant_id", "Value": business_id},
        ]
        if role is Role.STAFF:
            attributes.append({"Name": "custom:staff_id", "Value": staff_id})
        cognito.admin_create_user(
            UserPoolId=pool_id, Username=email, UserAttributes=attributes, MessageAction="SUPPRESS"
        )
        cognito.admin_set_user_password(
            UserPoolId=pool_id, Username=email, Password=LOCAL_PASSWORD, Permanent=True
        )
        cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=email, GroupName=role.value)
        users[role.value] = email
    return users


# The spa's Stripe account on localstripe (which takes any sk_ key): hot stone massages are paid at booking.
DEMO_STRIPE = StripeAccount(
    secret_key="sk_test_serenity_demo_0000000000",
    publishable_key="pk_test_serenity_demo_0000000000",
    webhook_secret="whsec_serenity_demo_0000000000000000",
)


# Hot stone massages are paid in full at booking; a deep tissue massage keeps a card on file for a no-show.
DEMO_PAYMENTS = {
    "Hot stone massage": PaymentRule(mode="full"),
    "Deep tissue massage": PaymentRule(mode="card_on_file"),
}


def _seed_spa(catalogue: CatalogueService, checkout: Checkout, cognito: Any, pool_id: str) -> DemoBusiness:
    weekdays = ["mon", "tue", "wed", "thu", "fri"]
    business = catalogue.create_business(
        BusinessSettings(
            name="Serenity Day Spa",
            slug="serenity-spa",
            time_zone="Europe/London",
            currency="GBP",
            address="12 Harbour Street, Brighton BN1 1AA",
            legal_name="Serenity Wellbeing Ltd",
            tax_id="GB 123 4567 89",
            contact_email="hello@serenity-spa.example",
            contact_phone="+441273960123",
            operating_hours=_hours([*weekdays, "sat"], "09:00", "19:00"),
            closures=[
                Closure(start_date=date(2026, 12, 25), end_date=date(2026, 12, 26), reason="Christmas")
            ],
            booking_window_days=90,
            min_notice_minutes=120,
            slot_interval_minutes=15,
            default_buffer_after_minutes=10,
            widget_origins=["http://localhost:8080", "http://127.0.0.1:8080"],
            # Paid bookings cancelled 48 hours ahead get everything back, 24-48 hours half, later nothing.
            # UK VAT, inside the prices: invoices show it and the journal posts it to tax payable.
            tax_rate_basis_points=2000,
            # A no-show keeps what was paid at booking; a deep tissue massage (a card kept on file) is
            # charged a GBP 20 fee.
            no_show_policy=NoShowPolicy(keep_payment=True, fee_minor=2000),
            # Customers may book now and pay later through their link ("Skip payment").
            allow_skip_payment=True,
            cancellation_policy=CancellationPolicy(
                tiers=[
                    PolicyTier(notice_hours=48, refund_percent=100),
                    PolicyTier(notice_hours=24, refund_percent=50),
                    PolicyTier(notice_hours=0, refund_percent=0),
                ]
            ),
        )
    )
    owner = Principal(user_id="seed", tenant_id=business.id, role=Role.OWNER)
    massage = catalogue.create_category(owner, CategoryDraft(name="Massage", position=0))
    facials = catalogue.create_category(owner, CategoryDraft(name="Facials", position=1))
    nails = catalogue.create_category(owner, CategoryDraft(name="Hands & feet", position=2))
    amelia = catalogue.create_staff(
        owner,
        StaffDraft(
            name="Amelia Hart",
            email="amelia@serenity-spa.example",
            phone="+447911123456",
            shifts=_week(["mon", "tue", "wed", "thu"], "09:00", "17:00", ("13:00", "13:30")),
        ),
    )
    ben = catalogue.create_staff(
        owner,
        StaffDraft(
            name="Ben Okafor",
            email="ben@serenity-spa.example",
            shifts=_week(["wed", "thu", "fri", "sat"], "11:00", "19:00", ("15:00", "15:30")),
        ),
    )
    chloe = catalogue.create_staff(
        owner,
        StaffDraft(
            name="Chloe Martin",
            email="chloe@serenity-spa.example",
            shifts=[
                *_week(["mon", "tue"], "10:00", "18:00", ("14:00", "14:45")),
                *_week(["fri", "sat"], "09:00", "15:00", None),
            ],
        ),
    )
    services = [
        ("Swedish massage", "Full-body relaxing massage.", massage.id, 60, 6500, 15, [amelia, ben]),
        ("Deep tissue massage", "Firm pressure for tight muscles.", massage.id, 90, 9500, 15, [ben]),
        ("Hot stone massage", "Heated basalt stones and oil.", massage.id, 75, 8500, 20, [amelia]),
        ("Express facial", "Cleanse, exfoliate, hydrate.", facials.id, 30, 3500, None, [amelia, chloe]),
        ("Signature facial", "Our hour-long treatment.", facials.id, 60, 7000, None, [chloe]),
        ("Manicure", "Shape, cuticle care and polish.", nails.id, 45, 3000, None, [chloe]),
        ("Pedicure", "Soak, scrub and polish.", nails.id, 50, 3800, None, [chloe]),
    ]
    checkout.connect(business.id, DEMO_STRIPE)
    for name, description, category_id, minutes, price, after, staff in services:
        catalogue.create_service(
            owner,
            ServiceDraft(
                name=name,
                description=description,
                category_id=category_id,
                duration_minutes=minutes,
                price_minor=price,
                buffer_after_minutes=after,
                staff_ids=[m.id for m in staff],
                payment=DEMO_PAYMENTS.get(name),
            ),
        )
    users = _create_users(cognito, pool_id, business.id, "serenity-spa.example", amelia.id)
    return DemoBusiness(business.id, business.slug, business.name, users)


def _seed_consultancy(
    catalogue: CatalogueService, meetings: MeetingAdmin, cognito: Any, pool_id: str
) -> DemoBusiness:
    weekdays = ["mon", "tue", "wed", "thu", "fri"]
    business = catalogue.create_business(
        BusinessSettings(
            name="Northwind Advisory",
            slug="northwind-advisory",
            time_zone="America/New_York",
            currency="USD",
            address="Online, and 400 Park Ave, New York, NY",
            contact_email="team@northwind.example",
            operating_hours=_hours(weekdays, "08:00", "18:00"),
            booking_window_days=60,
            min_notice_minutes=24 * 60,
            slot_interval_minutes=30,
            widget_origins=["http://localhost:8080"],
            online_appointments=True,
        )
    )
    owner = Principal(user_id="seed", tenant_id=business.id, role=Role.OWNER)
    advice = catalogue.create_category(owner, CategoryDraft(name="Consultations", position=0))
    dana = catalogue.create_staff(
        owner,
        StaffDraft(
            name="Dana Reyes",
            email="dana@northwind.example",
            phone="+12125550142",
            shifts=_week(weekdays, "09:00", "17:00", ("12:00", "12:30")),
        ),
    )
    eli = catalogue.create_staff(
        owner,
        StaffDraft(
            name="Eli Brooks",
            email="eli@northwind.example",
            shifts=_week(["tue", "wed", "thu"], "10:00", "18:00", ("13:00", "14:00")),
        ),
    )
    for name, description, minutes, price, mode, staff in [
        ("Discovery call", "A free 30-minute video call to scope your needs.", 30, 0, "online", [dana, eli]),
        (
            "Strategy session",
            "A working session on your plan, by video or in our office.",
            60,
            25000,
            "both",
            [dana, eli],
        ),
        ("Refinance review", "We review your current mortgage and the options.", 45, 15000, "online", [dana]),
        ("Document signing", "Sign and witness documents in person.", 30, 5000, "in_person", [eli]),
    ]:
        catalogue.create_service(
            owner,
            ServiceDraft(
                name=name,
                description=description,
                category_id=advice.id,
                duration_minutes=minutes,
                price_minor=price,
                delivery_mode=mode,
                staff_ids=[m.id for m in staff],
            ),
        )
    # Every provider connected to its local fake (checked with it, stored in the embedded Secrets
    # Manager), Zoom making the links: PUT /v1/admin/business with another meeting_provider to try one.
    for provider, credentials in DEMO_CREDENTIALS.items():
        meetings.connect(owner, provider, credentials)
    settings = BusinessSettings(**business.model_dump(include=set(BusinessSettings.model_fields)))
    catalogue.update_business(owner, settings.model_copy(update={"meeting_provider": "zoom"}))
    users = _create_users(cognito, pool_id, business.id, "northwind.example", dana.id)
    return DemoBusiness(business.id, business.slug, business.name, users)


# The plumber's onboarded customers (addresses on file): they sign in with an email code and send requests.
DEMO_HOMEOWNERS = [
    ("Harriet Home", "harriet@homeowners.example", "+447911123401", "4 Mill Lane\nBath BA2 3AB"),
    ("Owen Oak", "owen@homeowners.example", "+447911123402", "27 Gay Street\nBath BA1 2PD"),
]


def _seed_plumber(
    catalogue: CatalogueService, customers: CustomerService, cognito: Any, pool_id: str
) -> DemoBusiness:
    """A contractor taking booking requests, not real-time bookings: the dispatcher hears of each new
    request and of any left unanswered for 48 hours."""
    weekdays = ["mon", "tue", "wed", "thu", "fri"]
    business = catalogue.create_business(
        BusinessSettings(
            name="Flowright Plumbing",
            slug="flowright-plumbing",
            time_zone="Europe/London",
            currency="GBP",
            address="Unit 3, Riverside Works, Bath BA1 1AA",
            legal_name="Flowright Plumbing & Heating Ltd",
            tax_id="GB 987 6543 21",
            contact_email="office@flowright.example",
            contact_phone="+441225960200",
            operating_hours=_hours(weekdays, "08:00", "18:00"),
            booking_window_days=120,
            min_notice_minutes=24 * 60,
            tax_rate_basis_points=2000,
        )
    )
    owner = Principal(user_id="seed", tenant_id=business.id, role=Role.OWNER)
    jobs = catalogue.create_category(owner, CategoryDraft(name="Plumbing", position=0))
    piotr = catalogue.create_staff(
        owner,
        StaffDraft(
            name="Piotr Nowak",
            email="piotr@flowright.example",
            phone="+447911123403",
            shifts=_week(weekdays, "08:00", "17:00", ("12:30", "13:00")),
        ),
    )
    sam = catalogue.create_staff(
        owner,
        StaffDraft(
            name="Sam Reed", email="sam@flowright.example", shifts=_week(weekdays, "08:00", "17:00", None)
        ),
    )
    offered = []
    for name, description, minutes, price in [
        ("Leak repair", "Find and fix a leak: pipes, taps, radiators.", 120, 9000),
        ("Boiler service", "Annual boiler service and safety check.", 60, 8500),
        ("Bathroom refit", "Strip out and refit a bathroom (usually days).", 480, 60000),
    ]:
        service = catalogue.create_service(
            owner,
            ServiceDraft(
                name=name,
                description=description,
                category_id=jobs.id,
                duration_minutes=minutes,
                price_minor=price,
                staff_ids=[piotr.id, sam.id],
            ),
        )
        offered.append(service.id)
    settings = BusinessSettings(**business.model_dump(include=set(BusinessSettings.model_fields)))
    catalogue.update_business(
        owner,
        settings.model_copy(
            update={
                "booking_requests": RequestSettings(
                    enabled=True,
                    services=offered,
                    dispatcher_emails=["dispatch@flowright.example"],
                )
            }
        ),
    )
    for name, email, phone, address in DEMO_HOMEOWNERS:
        customers.set_onboarding(owner, email, OnboardingUpdate(name=name, phone=phone, address=address))
    users = _create_users(cognito, pool_id, business.id, "flowright.example", piotr.id)
    return DemoBusiness(business.id, business.slug, business.name, users)


def seed(
    catalogue: CatalogueService,
    meetings: MeetingAdmin,
    checkout: Checkout,
    customers: CustomerService,
    cognito: Any,
    pool_id: str,
    data_dir: Path,
) -> list[DemoBusiness]:
    demo = [
        _seed_spa(catalogue, checkout, cognito, pool_id),
        _seed_consultancy(catalogue, meetings, cognito, pool_id),
        _seed_plumber(catalogue, customers, cognito, pool_id),
    ]
    (data_dir / MANIFEST).write_text(json.dumps([asdict(b) for b in demo], indent=2), encoding="utf-8")
    return demo


def load_manifest(data_dir: Path) -> list[DemoBusiness] | None:
    path = data_dir / MANIFEST
    if not path.exists():
        return None
    return [DemoBusiness(**entry) for entry in json.loads(path.read_text(encoding="utf-8"))]
