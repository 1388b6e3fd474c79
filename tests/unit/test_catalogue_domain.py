"""The catalogue's pure domain: what a business may configure, and what customers see of it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from booking.domain.catalogue import (
    Business,
    BusinessSettings,
    Category,
    Closure,
    Service,
    ServiceDraft,
    Shift,
    StaffDraft,
    StaffMember,
    TimeOff,
    TimeWindow,
    WeeklyHours,
    assemble_catalogue,
)
from booking.domain.menu import UNCATEGORISED, public_menu

BASE_SETTINGS: dict[str, Any] = {
    "name": "Serenity Day Spa",
    "slug": "serenity-spa",
    "time_zone": "Europe/London",
    "currency": "GBP",
}
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def settings(**overrides: Any) -> BusinessSettings:
    return BusinessSettings(**{**BASE_SETTINGS, **overrides})


def errors_of(excinfo: pytest.ExceptionInfo[ValidationError]) -> list[tuple[tuple[str | int, ...], str]]:
    return [(tuple(e["loc"]), str(e["msg"])) for e in excinfo.value.errors()]


def locs(excinfo: pytest.ExceptionInfo[ValidationError]) -> set[tuple[str | int, ...]]:
    return {loc for loc, _ in errors_of(excinfo)}


def messages(excinfo: pytest.ExceptionInfo[ValidationError]) -> str:
    return " | ".join(msg for _, msg in errors_of(excinfo))


# --- time windows, shifts, operating hours ------------------------------------------------------------


def test_time_window_accepts_hh_mm_and_serialises_back_to_hh_mm() -> None:
    window = TimeWindow(start="09:00", end="17:30")
    assert window.start == time(9, 0)
    assert window.end == time(17, 30)
    assert window.model_dump(mode="json") == {"start": "09:00", "end": "17:30"}
    assert window.model_dump_json() == '{"start":"09:00","end":"17:30"}'


@pytest.mark.parametrize(("start", "end"), [("17:00", "09:00"), ("09:00", "09:00"), ("09:05", "09:00")])
def test_time_window_start_must_be_before_end(start: str, end: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        TimeWindow(start=start, end=end)
    assert "must be before end" in messages(excinfo)


@pytest.mark.parametrize(
    ("start", "end"), [("09:00:30", "17:00"), ("09:00+01:00", "17:00"), ("09:00", "17:00Z")]
)
def test_time_window_rejects_seconds_and_offsets(start: str, end: str) -> None:
    # shifts and opening hours are wall-clock times in the business's zone: no seconds, no offsets
    with pytest.raises(ValidationError):
        TimeWindow(start=start, end=end)


def test_time_window_rejects_impossible_times() -> None:
    with pytest.raises(ValidationError) as excinfo:
        TimeWindow(start="09:00", end="24:00")
    assert ("end",) in locs(excinfo)


def test_weekly_hours_needs_a_real_weekday() -> None:
    assert WeeklyHours(weekday="sat", start=time(9), end=time(12)).weekday == "sat"
    with pytest.raises(ValidationError) as excinfo:
        WeeklyHours(weekday="monday", start=time(9), end=time(12))
    assert ("weekday",) in locs(excinfo)


def test_shift_with_breaks_inside_is_accepted() -> None:
    shift = Shift(
        weekday="mon",
        start=time(9),
        end=time(17),
        breaks=[TimeWindow(start=time(12), end=time(12, 30)), TimeWindow(start=time(15), end=time(15, 15))],
    )
    assert [(b.start, b.end) for b in shift.breaks] == [(time(12), time(12, 30)), (time(15), time(15, 15))]


def test_a_break_may_touch_the_ends_of_its_shift() -> None:
    shift = Shift(
        weekday="mon",
        start=time(9),
        end=time(17),
        breaks=[TimeWindow(start=time(9), end=time(9, 30)), TimeWindow(start=time(16, 30), end=time(17))],
    )
    assert len(shift.breaks) == 2


@pytest.mark.parametrize(
    ("brk_start", "brk_end"),
    [(time(16, 30), time(17, 30)), (time(8), time(9, 30)), (time(18), time(19)), (time(7), time(8))],
)
def test_a_break_outside_its_shift_is_rejected(brk_start: time, brk_end: time) -> None:
    with pytest.raises(ValidationError) as excinfo:
        Shift(weekday="mon", start=time(9), end=time(17), breaks=[TimeWindow(start=brk_start, end=brk_end)])
    assert "lies outside its shift" in messages(excinfo)


def test_overlapping_breaks_are_rejected_but_adjacent_ones_are_fine() -> None:
    with pytest.raises(ValidationError) as excinfo:
        Shift(
            weekday="mon",
            start=time(9),
            end=time(17),
            breaks=[
                TimeWindow(start=time(12), end=time(13)),
                TimeWindow(start=time(12, 30), end=time(13, 30)),
            ],
        )
    assert "overlap" in messages(excinfo)

    adjacent = Shift(
        weekday="mon",
        start=time(9),
        end=time(17),
        breaks=[TimeWindow(start=time(12), end=time(13)), TimeWindow(start=time(13), end=time(13, 30))],
    )
    assert len(adjacent.breaks) == 2


def staff_draft(**overrides: Any) -> StaffDraft:
    return StaffDraft(**{"name": "Amelia Hart", "email": "amelia@example.com", **overrides})


def test_overlapping_shifts_on_the_same_weekday_are_rejected() -> None:
    with pytest.raises(ValidationError) as excinfo:
        staff_draft(
            shifts=[
                {"weekday": "mon", "start": "09:00", "end": "12:00"},
                {"weekday": "tue", "start": "09:00", "end": "17:00"},
                {"weekday": "mon", "start": "11:00", "end": "14:00"},
            ]
        )
    assert ("shifts",) in locs(excinfo)
    assert "shifts on mon" in messages(excinfo)


def test_same_hours_on_different_weekdays_and_split_shifts_on_one_day_are_allowed() -> None:
    draft = staff_draft(
        shifts=[
            {"weekday": "mon", "start": "09:00", "end": "17:00"},
            {"weekday": "tue", "start": "09:00", "end": "17:00"},
            {"weekday": "wed", "start": "08:00", "end": "12:00"},
            {"weekday": "wed", "start": "12:00", "end": "16:00"},
        ]
    )
    assert [s.weekday for s in draft.shifts] == ["mon", "tue", "wed", "wed"]


def test_operating_hours_may_not_overlap_on_one_day() -> None:
    with pytest.raises(ValidationError) as excinfo:
        settings(
            operating_hours=[
                {"weekday": "sat", "start": "09:00", "end": "13:00"},
                {"weekday": "sat", "start": "12:00", "end": "18:00"},
            ]
        )
    assert ("operating_hours",) in locs(excinfo)
    ok = settings(
        operating_hours=[
            {"weekday": "sat", "start": "09:00", "end": "13:00"},
            {"weekday": "sun", "start": "09:00", "end": "13:00"},
        ]
    )
    assert len(ok.operating_hours) == 2


# --- closures and time off ----------------------------------------------------------------------------


def test_closure_end_may_not_precede_start_but_one_day_closures_are_fine() -> None:
    with pytest.raises(ValidationError) as excinfo:
        Closure(start_date=date(2026, 12, 26), end_date=date(2026, 12, 25))
    assert "end_date must be on or after start_date" in messages(excinfo)
    single = Closure(start_date=date(2026, 12, 25), end_date=date(2026, 12, 25), reason="Christmas")
    assert single.start_date == single.end_date


def test_time_off_needs_aware_datetimes() -> None:
    with pytest.raises(ValidationError) as excinfo:
        TimeOff(start=datetime(2026, 5, 1, 9), end=datetime(2026, 5, 1, 17))
    assert {("start",), ("end",)} <= locs(excinfo)
    with pytest.raises(ValidationError):
        TimeOff.model_validate({"start": "2026-05-01T09:00", "end": "2026-05-01T17:00"})


def test_time_off_keeps_its_instant_and_must_end_after_it_starts() -> None:
    off = TimeOff.model_validate({"start": "2026-05-01T09:00+02:00", "end": "2026-05-01T17:00+02:00"})
    assert off.start == datetime(2026, 5, 1, 7, tzinfo=UTC)
    assert off.start.utcoffset() == timedelta(hours=2)
    with pytest.raises(ValidationError) as excinfo:
        TimeOff(start=datetime(2026, 5, 1, 9, tzinfo=UTC), end=datetime(2026, 5, 1, 9, tzinfo=UTC))
    assert "end must be after start" in messages(excinfo)


# --- business settings --------------------------------------------------------------------------------


def test_business_settings_defaults() -> None:
    business = settings()
    assert business.booking_window_days == 60
    assert business.slot_interval_minutes == 15
    assert business.widget_origins == []
    assert business.contact_phone is None


@pytest.mark.parametrize("zone", ["Mars/Olympus", "GMT+25", "europe/london", "", "London"])
def test_unknown_time_zones_are_rejected(zone: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        settings(time_zone=zone)
    assert ("time_zone",) in locs(excinfo)
    assert "time zone" in messages(excinfo)


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Kolkata", "UTC", "Australia/Lord_Howe"])
def test_real_time_zones_are_accepted(zone: str) -> None:
    assert settings(time_zone=zone).time_zone == zone


@pytest.mark.parametrize("currency", ["XYZ", "POUNDS", "", "12"])
def test_invalid_currencies_are_rejected(currency: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        settings(currency=currency)
    assert ("currency",) in locs(excinfo)


@pytest.mark.parametrize("currency", ["GBP", "USD", "EUR", "JPY"])
def test_iso_currencies_are_accepted(currency: str) -> None:
    assert settings(currency=currency).currency == currency


@pytest.mark.parametrize("slug", ["serenity-spa", "abc", "spa-2", "a1b2c3"])
def test_valid_slugs(slug: str) -> None:
    assert settings(slug=slug).slug == slug


@pytest.mark.parametrize(
    "slug",
    ["ab", "-spa", "spa-", "spa--day", "spa day", "spa_day", "spä", "a" * 51, "spa/day", "Serenity-Spa"],
)
def test_invalid_slugs_are_rejected(slug: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        settings(slug=slug)
    assert ("slug",) in locs(excinfo)


def test_widget_origins_are_normalised() -> None:
    business = settings(
        widget_origins=["https://Example.com:8443/", "HTTP://LOCALHOST:8080", "https://www.example.com"]
    )
    assert business.widget_origins == [
        "https://example.com:8443",
        "http://localhost:8080",
        "https://www.example.com",
    ]


@pytest.mark.parametrize(
    "origin",
    [
        "https://example.com/widget",
        "https://example.com/?a=1",
        "https://example.com#top",
        "https://user:pw@example.com",
        "ftp://example.com",
        "example.com",
        "https://",
        "javascript:alert(1)",
    ],
)
def test_origins_with_path_query_credentials_or_other_schemes_are_rejected(origin: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        settings(widget_origins=["https://ok.example.com", origin])
    assert ("widget_origins", 1) in locs(excinfo)


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("+44 7911 123456", "+447911123456"),
        ("+447911123456", "+447911123456"),
        ("+1 (212) 555-0142", "+12125550142"),
    ],
)
def test_phone_numbers_are_stored_in_e164(raw: str, e164: str) -> None:
    assert settings(contact_phone=raw).contact_phone == e164
    assert staff_draft(phone=raw).phone == e164


@pytest.mark.parametrize("raw", ["07911 123456", "+44 1", "not a phone", "+999 123456789"])
def test_invalid_phone_numbers_are_rejected(raw: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        settings(contact_phone=raw)
    assert ("contact_phone",) in locs(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        staff_draft(phone=raw)
    assert ("phone",) in locs(excinfo)


def test_invalid_emails_are_rejected() -> None:
    with pytest.raises(ValidationError) as excinfo:
        staff_draft(email="amelia-at-example.com")
    assert ("email",) in locs(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        settings(contact_email="hello@")
    assert ("contact_email",) in locs(excinfo)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("booking_window_days", 0),
        ("booking_window_days", 731),
        ("min_notice_minutes", -1),
        ("slot_interval_minutes", 0),
        ("slot_interval_minutes", 24 * 60 + 1),
        ("max_booking_minutes", 0),
        ("max_booking_minutes", 21 * 24 * 60 + 1),
        ("default_buffer_before_minutes", -5),
        ("default_buffer_after_minutes", 24 * 60 + 1),
    ],
)
def test_numeric_settings_out_of_range_are_rejected(field: str, value: int) -> None:
    with pytest.raises(ValidationError) as excinfo:
        settings(**{field: value})
    assert (field,) in locs(excinfo)


def test_unknown_fields_are_rejected_everywhere() -> None:
    with pytest.raises(ValidationError) as excinfo:
        settings(owner_id="someone")
    assert ("owner_id",) in locs(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        staff_draft(salary=100)
    assert ("salary",) in locs(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        ServiceDraft.model_validate({"name": "X", "duration_minutes": 30, "price_minor": 100, "id": "abc"})
    assert ("id",) in locs(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        Shift.model_validate({"weekday": "mon", "start": "09:00", "end": "10:00", "room": "1"})
    assert ("room",) in locs(excinfo)


def test_overlong_names_are_rejected_and_names_are_trimmed() -> None:
    with pytest.raises(ValidationError) as excinfo:
        settings(name="x" * 500)
    assert ("name",) in locs(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        settings(name="   ")
    assert ("name",) in locs(excinfo)
    assert settings(name="  Serenity  ").name == "Serenity"


def test_minutes_are_minutes_on_no_grid() -> None:
    """Durations, intervals and wall-clock times on any whole minute (a 7-minute rhythm, a 50-minute
    session, a shift from 08:07); a five-hour package and a three-day job are services too."""
    for minutes in (7, 50, 5 * 60, 3 * 24 * 60):
        assert ServiceDraft(name="Job", duration_minutes=minutes, price_minor=0).duration_minutes == minutes
    assert settings(slot_interval_minutes=7).slot_interval_minutes == 7
    shift = Shift.model_validate({"weekday": "mon", "start": "08:07", "end": "16:53"})
    assert (shift.start, shift.end) == (time(8, 7), time(16, 53))
    with pytest.raises(ValidationError):
        Shift.model_validate({"weekday": "mon", "start": "08:07:30", "end": "16:53"})


def test_service_draft_rules() -> None:
    ok = ServiceDraft(name="Massage", duration_minutes=60, price_minor=6500)
    assert (ok.delivery_mode, ok.active, ok.staff_ids, ok.buffer_after_minutes) == (
        "in_person",
        True,
        [],
        None,
    )
    for bad in (
        {"duration_minutes": 0},
        {"duration_minutes": 21 * 24 * 60 + 1},  # longer than any booking may be
        {"price_minor": -1},
        {"delivery_mode": "telepathy"},
        {"staff_ids": ["a", "a"]},
        {"staff_ids": ["not valid!"]},
        {"category_id": ""},
    ):
        with pytest.raises(ValidationError) as excinfo:
            ServiceDraft.model_validate(
                {"name": "Massage", "duration_minutes": 60, "price_minor": 6500, **bad}
            )
        assert next(iter(bad)) in {loc[0] for loc in locs(excinfo)}


def test_service_buffers_fall_back_to_the_business_defaults() -> None:
    business = settings(default_buffer_before_minutes=5, default_buffer_after_minutes=10)
    inherit = Service(id="s1", name="A", duration_minutes=30, price_minor=0)
    own = Service(
        id="s2",
        name="B",
        duration_minutes=30,
        price_minor=0,
        buffer_before_minutes=0,
        buffer_after_minutes=20,
    )
    assert inherit.buffers(business) == (5, 10)
    assert own.buffers(business) == (0, 20)


# --- assembling a catalogue and the public menu -------------------------------------------------------


def business(**overrides: Any) -> Business:
    return Business(**{**BASE_SETTINGS, **overrides}, id="biz1", created_at=NOW, updated_at=NOW)


SHIFTS = [Shift(weekday="mon", start=time(9), end=time(17))]


def member(staff_id: str, name: str, **overrides: Any) -> StaffMember:
    fields: dict[str, Any] = {"email": f"{staff_id}@example.com", "shifts": SHIFTS, **overrides}
    return StaffMember(id=staff_id, name=name, **fields)


def service(service_id: str, name: str, **overrides: Any) -> Service:
    fields: dict[str, Any] = {"duration_minutes": 60, "price_minor": 5000, **overrides}
    return Service(id=service_id, name=name, **fields)


def test_assemble_catalogue_projects_assignments_onto_both_sides() -> None:
    catalogue = assemble_catalogue(
        business(),
        [],
        # what was stored on the entities themselves is ignored: assignments are the source of truth
        [service("s1", "Massage", staff_ids=["stale"]), service("s2", "Facial")],
        [member("m1", "Amelia"), member("m2", "Ben", service_ids=["stale"])],
        [("s1", "m1"), ("s1", "m2"), ("s2", "m2"), ("s1", "m1")],
    )
    massage, facial = catalogue.service("s1"), catalogue.service("s2")
    amelia, ben = catalogue.staff_member("m1"), catalogue.staff_member("m2")
    assert massage is not None and facial is not None and amelia is not None and ben is not None
    assert massage.staff_ids == ["m1", "m2"]
    assert facial.staff_ids == ["m2"]
    assert amelia.service_ids == ["s1"]
    assert ben.service_ids == ["s1", "s2"]


def test_assemble_catalogue_drops_assignments_to_missing_services_or_staff() -> None:
    catalogue = assemble_catalogue(
        business(),
        [],
        [service("s1", "Massage")],
        [member("m1", "Amelia")],
        [("s1", "m1"), ("s1", "gone"), ("gone", "m1")],
    )
    assert catalogue.services[0].staff_ids == ["m1"]
    assert catalogue.staff[0].service_ids == ["s1"]
    assert catalogue.unknown_staff(["m1", "gone"]) == ["gone"]
    assert catalogue.unknown_services(["s1", "gone"]) == ["gone"]


def test_assemble_catalogue_orders_categories_by_position_then_name() -> None:
    catalogue = assemble_catalogue(
        business(),
        [
            Category(id="c3", name="nails", position=1),
            Category(id="c1", name="Massage", position=0),
            Category(id="c2", name="Facials", position=1),
        ],
        [service("s2", "b service"), service("s1", "A service")],
        [],
        [],
    )
    assert [c.name for c in catalogue.categories] == ["Massage", "Facials", "nails"]
    assert [s.name for s in catalogue.services] == ["A service", "b service"]
    assert catalogue.category("c2") is not None
    assert catalogue.category("nope") is None


def test_public_menu_groups_active_bookable_services_by_category() -> None:
    massage = Category(id="c-massage", name="Massage", description="Hands on", position=0)
    facials = Category(id="c-facials", name="Facials", position=1)
    empty = Category(id="c-empty", name="Empty", position=2)
    catalogue = assemble_catalogue(
        business(currency="EUR"),
        [facials, empty, massage],
        [
            service("s-swedish", "Swedish", category_id=massage.id, duration_minutes=60, price_minor=6500),
            service("s-deep", "Deep tissue", category_id=massage.id, delivery_mode="both"),
            service("s-facial", "Express facial", category_id=facials.id, duration_minutes=30),
            service("s-retired", "Retired", category_id=facials.id, active=False),
            service("s-nobody", "Nobody offers this", category_id=facials.id),
            service("s-offline", "Only offline staff", category_id=facials.id),
            service("s-noshift", "Only shiftless staff", category_id=facials.id),
            service("s-loose", "Gift voucher chat", description="Ask us", delivery_mode="online"),
        ],
        [
            member("m-amelia", "Amelia"),
            member("m-ben", "Ben"),
            member("m-offline", "Offline", bookable_online=False),
            member("m-noshift", "No shifts", shifts=[]),
        ],
        [
            ("s-swedish", "m-amelia"),
            ("s-swedish", "m-offline"),
            ("s-swedish", "m-noshift"),
            ("s-deep", "m-ben"),
            ("s-facial", "m-amelia"),
            ("s-retired", "m-amelia"),
            ("s-offline", "m-offline"),
            ("s-noshift", "m-noshift"),
            ("s-loose", "m-ben"),
        ],
    )
    menu = public_menu(catalogue).model_dump()

    assert menu["business"] == {
        "name": "Serenity Day Spa",
        "slug": "serenity-spa",
        "time_zone": "Europe/London",
        "currency": "EUR",
        "address": "",
        "online_appointments": False,
    }
    sections = menu["categories"]
    assert [(s["id"], s["name"]) for s in sections] == [
        ("c-massage", "Massage"),
        ("c-facials", "Facials"),
        (None, UNCATEGORISED),
    ]
    assert sections[0]["description"] == "Hands on"
    assert [s["name"] for s in sections[0]["services"]] == ["Deep tissue", "Swedish"]
    swedish = sections[0]["services"][1]
    assert swedish == {
        "id": "s-swedish",
        "name": "Swedish",
        "description": "",
        "duration_minutes": 60,
        "price": {"amount_minor": 6500, "currency": "EUR"},
        "delivery_mode": "in_person",
        "delivery_options": ["in_person"],
        "staff": [{"id": "m-amelia", "name": "Amelia"}],
    }
    assert sections[0]["services"][0]["delivery_mode"] == "both"
    # online appointments are off (the default): the menu says what can be booked now
    assert sections[0]["services"][0]["delivery_options"] == ["in_person"]
    assert sections[2]["services"][0]["delivery_options"] == []
    # inactive services, services nobody is bookable for, and empty categories are left out
    assert [s["id"] for s in sections[1]["services"]] == ["s-facial"]
    assert [s["id"] for s in sections[2]["services"]] == ["s-loose"]
    assert sections[2]["services"][0]["staff"] == [{"id": "m-ben", "name": "Ben"}]


def test_service_in_a_deleted_category_lands_in_the_uncategorised_section() -> None:
    catalogue = assemble_catalogue(
        business(),
        [],
        [service("s1", "Massage", category_id="deleted-category")],
        [member("m1", "Amelia")],
        [("s1", "m1")],
    )
    sections = public_menu(catalogue).categories
    assert [(s.id, s.name, [x.id for x in s.services]) for s in sections] == [(None, UNCATEGORISED, ["s1"])]


def test_public_menu_of_an_empty_catalogue_has_no_sections() -> None:
    catalogue = assemble_catalogue(business(), [Category(id="c1", name="Massage")], [], [], [])
    assert public_menu(catalogue).categories == []


def test_with_online_appointments_on_the_menu_offers_online_delivery() -> None:
    catalogue = assemble_catalogue(
        business(online_appointments=True),
        [],
        [
            service("s-both", "Consultation", delivery_mode="both"),
            service("s-online", "Video call", delivery_mode="online"),
            service("s-here", "Massage"),
        ],
        [member("m-ben", "Ben")],
        [("s-both", "m-ben"), ("s-online", "m-ben"), ("s-here", "m-ben")],
    )
    menu = public_menu(catalogue).model_dump()
    assert menu["business"]["online_appointments"] is True
    options = {s["id"]: s["delivery_options"] for s in menu["categories"][0]["services"]}
    assert options == {"s-both": ["online", "in_person"], "s-online": ["online"], "s-here": ["in_person"]}
