"""Issue 11's "done when", over HTTP on the local stack as `make dev` runs it (localstripe inside): the demo
spa's hot stone massage paid with a test card and confirmed by Stripe's webhook, the receipt with its
invoice (a real PDF) in the outbox; a deep tissue massage with a card kept on file marked no-show and
charged the fee; a cancellation 30 hours ahead refunding half under the demo policy; the journal of each
day balancing."""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
import json
import secrets
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pypdf
import pytest
import stripe

from local.seed import DEMO_STRIPE
from tests.support.local_stack import LocalStack, running
from tests.support.notification_fixtures import Customer, emails

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("local_stack_payments")]

SPA = "serenity-spa"
LONDON = ZoneInfo("Europe/London")
WAIT_SECONDS = 20


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    yield from running(tmp_path_factory, "payments-stack")


@pytest.fixture(scope="module")
def spa(stack: LocalStack) -> dict[str, Any]:
    demo = stack.json("GET", "/dev/demo")
    business = next(b for b in demo["businesses"] if b["slug"] == SPA)
    menu = stack.json("GET", f"/v1/public/businesses/{SPA}/services")
    return {
        "id": business["id"],
        "owner": business["users"]["owner"]["token"],
        "services": {s["name"]: s["id"] for section in menu["categories"] for s in section["services"]},
        "stripe": stripe.StripeClient(
            DEMO_STRIPE.secret_key, base_addresses={"api": demo["stripe_api_base"]}
        ),
    }


def customer(name: str) -> Customer:
    token = secrets.token_hex(4)
    return Customer(
        name=name, email=f"{name.split(maxsplit=1)[0].lower()}-{token}@customers.example", phone=None
    )


def until_found(what: str, fetch: Callable[[], Any], ok: Callable[[Any], bool]) -> Any:
    """What `fetch` answers once `ok` accepts it."""
    found: list[Any] = []

    def check() -> bool:
        found[:] = [fetch()]
        return ok(found[0])

    until(what, check)
    return found[0]


def until(what: str, check: Callable[[], Any]) -> Any:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {WAIT_SECONDS}s")
        time.sleep(0.2)


def free_slot(stack: LocalStack, spa: dict[str, Any], service: str, after: datetime) -> datetime:
    first = after.astimezone(LONDON).date()
    availability = stack.json(
        "GET",
        f"/v1/public/businesses/{SPA}/availability",
        params={
            "services": spa["services"][service],
            "staff": "any",
            "from": first.isoformat(),
            "to": (first + timedelta(days=14)).isoformat(),
            "tz": "Europe/London",
        },
    )
    starts = [datetime.fromisoformat(s["start"]) for day in availability["days"] for s in day["slots"]]
    return next(start for start in starts if start >= after)


def book(
    stack: LocalStack, spa: dict[str, Any], service: str, start: datetime, who: Customer
) -> dict[str, Any]:
    booked: dict[str, Any] = stack.json(
        "POST",
        f"/v1/public/businesses/{SPA}/bookings",
        status=201,
        json={
            "services": [spa["services"][service]],
            "staff": "any",
            "start": start.isoformat(),
            "customer": who.body(),
        },
        headers={"Idempotency-Key": secrets.token_hex(8)},
    )
    return booked


def detail(stack: LocalStack, spa: dict[str, Any], booking_id: str) -> dict[str, Any]:
    found: dict[str, Any] = stack.json("GET", f"/v1/admin/bookings/{booking_id}", token=spa["owner"])
    return found


def pdf_text(encoded: str) -> str:
    return pypdf_text(base64.b64decode(encoded))


def pypdf_text(content: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def signed_delivery(stack: LocalStack, spa: dict[str, Any], event: dict[str, Any]) -> str:
    """A Stripe event delivered again, signed now with the business's webhook secret as Stripe signs it;
    the webhooks function's outcome."""
    payload = json.dumps(event).encode()
    stamp = int(time.time())
    digest = hmac.new(
        DEMO_STRIPE.webhook_secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256
    ).hexdigest()
    answer = stack.request(
        "POST",
        f"/v1/webhooks/stripe/{spa['id']}",
        data=payload,
        headers={"Stripe-Signature": f"t={stamp},v1={digest}", "Content-Type": "application/json"},
    )
    assert answer.status_code == 200, answer.text
    outcome: str = answer.json()["outcome"]
    return outcome


def events_about(spa: dict[str, Any], intent_id: str, kinds: set[str]) -> list[dict[str, Any]]:
    listed = spa["stripe"].v1.events.list(params={"limit": 100}).to_dict()["data"]
    return [
        e
        for e in listed
        if e["type"] in kinds
        and intent_id in (e["data"]["object"].get("id"), e["data"]["object"].get("payment_intent"))
    ]


def trial_balance_is_zero(stack: LocalStack, spa: dict[str, Any], first: Any, last: Any) -> None:
    trial = stack.json(
        "GET",
        "/v1/admin/accounts",
        spa["owner"],
        params={"from": first.isoformat(), "to": last.isoformat()},
    )
    assert set(trial["totals"].values()) == {0}, trial["totals"]


def assert_each_day_balances(rows: list[dict[str, str]]) -> None:
    for day in {r["date"] for r in rows}:
        lines = [r for r in rows if r["date"] == day]
        debits = sum((Decimal(r["debit"] or "0") for r in lines), Decimal(0))
        credits = sum((Decimal(r["credit"] or "0") for r in lines), Decimal(0))
        assert debits == credits, f"the journal of {day} does not balance"


def refund_stays_partial_and_issues_a_credit_note(
    stack: LocalStack, spa: dict[str, Any], after: dict[str, Any], issued_pdf: bytes, invoice_url: str
) -> None:
    client = spa["stripe"]
    # Stripe then sends what it sends after every refund; each handled, and delivered again twice, newest
    # first: the refund stays the half the policy gave.
    intent_id = after["payment"]["intent_id"]
    kinds = {"charge.refunded", "refund.created", "charge.refund.updated"}
    sent = until_found(
        "Stripe's refund events",
        lambda: events_about(spa, intent_id, kinds),
        lambda found: len(found) == 3,
    )
    for event in sent:
        assert signed_delivery(stack, spa, event) in ("duplicate", "already_settled")
        assert signed_delivery(stack, spa, event) == "duplicate"
    settled = detail(stack, spa, after["id"])
    assert (settled["payment"]["refunded_minor"], settled["payment_status"]) == (4250, "partially_refunded")
    assert [r.amount for r in client.v1.refunds.list(params={"payment_intent": intent_id}).data] == [4250]

    # The invoice is as it was issued, to the byte; the refund issued a credit note of its own.
    assert stack.request("GET", invoice_url, spa["owner"]).content == issued_pdf
    documents = stack.json("GET", f"/v1/admin/bookings/{after['id']}/documents", spa["owner"])["documents"]
    assert [(d["kind"], d["total_minor"]) for d in documents] == [("invoice", 8500), ("credit_note", -4250)]
    credit_note = stack.request(
        "GET", f"/v1/admin/bookings/{after['id']}/documents/{documents[1]['reference']}", spa["owner"]
    )
    note_text = pypdf_text(credit_note.content)
    for shown in (
        f"Credit note {documents[1]['reference']}",
        f"For invoice {documents[0]['reference']}",
        "Serenity Wellbeing Ltd",
        "Tax registration number: GB 123 4567 89",
        "Cancellation credit",
        "Total credited £42.50",
        "Card (Stripe) (refund) -£42.50",
    ):
        assert shown in note_text, shown


def test_paid_booking_receipt_with_invoice_no_show_fee_half_refund_and_a_balanced_journal(
    stack: LocalStack, spa: dict[str, Any]
) -> None:
    began = stack.now()
    client = spa["stripe"]

    # A hot stone massage, paid in full with a test card; Stripe's webhook confirms it.
    ann = customer("Ann Paid")
    massage_at = free_slot(stack, spa, "Hot stone massage", began + timedelta(days=4))
    paid = book(stack, spa, "Hot stone massage", massage_at, ann)
    assert paid["status"] == "pending" and paid["checkout"]["kind"] == "charge"
    intent_id = paid["checkout"]["client_secret"].split("_secret_")[0]
    client.v1.payment_intents.update(intent_id, params={"payment_method": "pm_card_visa"})
    client.v1.payment_intents.confirm(intent_id)
    until("the webhook's confirmation", lambda: detail(stack, spa, paid["id"])["payment_status"] == "paid")

    def receipts() -> list[dict[str, Any]]:
        return [m for m in emails(stack.outbox(), ann.email) if m["subject"].startswith("Receipt")]

    [receipt] = until("the receipt", receipts)
    [invoice] = [a for a in receipt["attachments"] if a["content_type"] == "application/pdf"]
    text = pdf_text(invoice["content_base64"])
    for shown in ("INV-", "£85.00", "Ann Paid", "Serenity Wellbeing Ltd", "Tax registration number: GB 123"):
        assert shown in text, shown
    assert "Your invoice is attached" in receipt["text"]
    invoice_url = f"/v1/admin/bookings/{paid['id']}/invoice"
    issued_pdf = stack.request("GET", invoice_url, spa["owner"]).content

    # A deep tissue massage keeps a card on file; the customer does not come: the GBP 20 fee is charged.
    nora = customer("Nora Absent")
    deep_at = free_slot(stack, spa, "Deep tissue massage", began + timedelta(hours=6))
    assert deep_at < massage_at - timedelta(hours=30), "the no-show must come before the cancellation"
    on_file = book(stack, spa, "Deep tissue massage", deep_at, nora)
    assert on_file["checkout"]["kind"] == "card_on_file"
    setup_id = on_file["checkout"]["client_secret"].split("_secret_")[0]
    client.v1.setup_intents.confirm(setup_id, params={"payment_method": "pm_card_visa"})
    # Stripe's setup_intent.succeeded (sent by the local Stripe, as Stripe sends it) confirms it.
    until("the card saved", lambda: detail(stack, spa, on_file["id"])["status"] == "confirmed")
    stack.set_clock(deep_at + timedelta(minutes=15))
    marked = stack.json(
        "POST", f"/v1/admin/bookings/{on_file['id']}/status", token=spa["owner"], json={"status": "no_show"}
    )
    assert marked["status"] == "no_show"
    [fee] = detail(stack, spa, on_file["id"])["fees"]
    assert (fee["status"], fee["amount_minor"]) == ("charged", 2000)
    assert client.v1.payment_intents.retrieve(fee["intent_id"]).status == "succeeded"

    # 30 hours before the massage the customer cancels through the manage link: half back (24-48 h tier).
    stack.set_clock(massage_at - timedelta(hours=30))
    manage = f"/v1/public/bookings/{paid['id']}"
    quote = stack.json("GET", f"{manage}/cancellation-quote", params={"token": paid["manage_token"]})
    assert (quote["percent"], quote["refund"]["amount_minor"]) == (50, 4250)
    stack.json("POST", f"{manage}/cancel", params={"token": paid["manage_token"]}, json={"reason": "ill"})
    after = detail(stack, spa, paid["id"])
    assert (after["status"], after["payment_status"], after["payment"]["refunded_minor"]) == (
        "cancelled",
        "partially_refunded",
        4250,
    )
    until("the refund receipt", lambda: [m for m in receipts() if "refunded £42.50" in m["text"]])

    refund_stays_partial_and_issues_a_credit_note(stack, spa, after, issued_pdf, invoice_url)

    # The journal of every day from the first booking to the cancellation balances.
    first, last = began.astimezone(LONDON).date(), stack.now().astimezone(LONDON).date()
    export = stack.request(
        "GET",
        "/v1/admin/journal.csv",
        spa["owner"],
        params={"from": first.isoformat(), "to": last.isoformat()},
    )
    assert export.status_code == 200, export.text
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert {r["booking_id"] for r in rows} >= {paid["id"], on_file["id"]}
    assert_each_day_balances(rows)
    fee_revenue = [r for r in rows if r["booking_id"] == on_file["id"] and r["account"] == "4100"]
    assert sum(Decimal(r["credit"] or "0") for r in fee_revenue) == Decimal("16.67")  # GBP 20 less 20 % VAT
    trial_balance_is_zero(stack, spa, first, last)


def admin_book(
    stack: LocalStack, spa: dict[str, Any], service: str, start: datetime, who: Customer
) -> dict[str, Any]:
    """A booking staff make for a client at the desk: nothing is paid or saved online."""
    staff = stack.json("GET", "/v1/admin/staff", spa["owner"])
    members = staff["staff"] if isinstance(staff, dict) else staff
    service_id = spa["services"][service]
    staff_id = next(m["id"] for m in members if service_id in m.get("service_ids", [service_id]))
    booked: dict[str, Any] = stack.json(
        "POST",
        "/v1/admin/bookings",
        spa["owner"],
        status=201,
        json={
            "services": [service_id],
            "staff": staff_id,
            "start": start.isoformat(),
            "customer": who.body(),
            "allow_outside_shift": True,
        },
    )
    return booked


def test_a_declined_card_leaves_the_booking_waiting_for_another(
    stack: LocalStack, spa: dict[str, Any]
) -> None:
    began = stack.now()
    client = spa["stripe"]

    # Stripe's decline card declines; the booking keeps waiting and a working card then pays it.
    dee = customer("Dee Declined")
    declined_at = free_slot(stack, spa, "Hot stone massage", began + timedelta(days=20))
    booked = book(stack, spa, "Hot stone massage", declined_at, dee)
    intent_id = booked["checkout"]["client_secret"].split("_secret_")[0]
    card = client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": "4000000000000002", "exp_month": 12, "exp_year": 2035, "cvc": "123"},
        }
    )
    with pytest.raises(stripe.CardError) as refused:
        client.v1.payment_intents.confirm(intent_id, params={"payment_method": card.id})
    assert refused.value.code == "card_declined"
    failed = until_found(
        "the decline recorded",
        lambda: detail(stack, spa, booked["id"]),
        lambda d: d["payment_status"] == "failed",
    )
    assert failed["status"] == "pending"
    client.v1.payment_intents.confirm(intent_id, params={"payment_method": "pm_card_visa"})
    until("paid with another card", lambda: detail(stack, spa, booked["id"])["payment_status"] == "paid")


def test_paying_later_after_cash_at_the_desk_charges_what_is_left(
    stack: LocalStack, spa: dict[str, Any]
) -> None:
    client = spa["stripe"]
    owner = spa["owner"]
    # Booked with "Skip payment"; GBP 30 paid in cash at the desk; paying later charges the GBP 55 left.
    sam = customer("Sam Skipper")
    skipped_at = free_slot(stack, spa, "Hot stone massage", stack.now() + timedelta(days=22))
    skipped = stack.json(
        "POST",
        f"/v1/public/businesses/{SPA}/bookings",
        status=201,
        json={
            "services": [spa["services"]["Hot stone massage"]],
            "staff": "any",
            "start": skipped_at.isoformat(),
            "customer": sam.body(),
            "skip_payment": True,
        },
        headers={"Idempotency-Key": secrets.token_hex(8)},
    )
    link = {"token": skipped["manage_token"]}
    first = stack.json("POST", f"/v1/public/bookings/{skipped['id']}/payment", params=link, json={})
    assert first["amount"]["amount_minor"] == 8500
    stack.json(
        "POST",
        f"/v1/admin/bookings/{skipped['id']}/payment/offline",
        owner,
        json={"amount_minor": 3000, "method": "cash"},
    )
    second = stack.json("POST", f"/v1/public/bookings/{skipped['id']}/payment", params=link, json={})
    assert second["amount"]["amount_minor"] == 5500
    stale, fresh = (x["client_secret"].split("_secret_")[0] for x in (first, second))
    assert stale != fresh and client.v1.payment_intents.retrieve(stale).status == "canceled"
    client.v1.payment_intents.confirm(fresh, params={"payment_method": "pm_card_visa"})
    paid = until_found(
        "paid later", lambda: detail(stack, spa, skipped["id"]), lambda d: d["payment_status"] == "paid"
    )
    assert (paid["payment"]["captured_minor"], paid["balance_minor"], paid["credit_minor"]) == (5500, 0, 0)


def test_a_fee_owed_without_a_card_and_unpaid_work_reach_the_books(
    stack: LocalStack, spa: dict[str, Any]
) -> None:
    began = stack.now()
    owner = spa["owner"]
    # A deep tissue massage booked at the desk (no card saved online); the customer does not come: the fee
    # is owed, invoiced at once, and the email says no card was saved.
    nia = customer("Nia Nocard")
    desk_at = free_slot(stack, spa, "Deep tissue massage", stack.now() + timedelta(hours=4))
    at_desk = admin_book(stack, spa, "Deep tissue massage", desk_at, nia)
    stack.set_clock(desk_at + timedelta(minutes=20))
    stack.json("POST", f"/v1/admin/bookings/{at_desk['id']}/status", owner, json={"status": "no_show"})
    owed = detail(stack, spa, at_desk["id"])
    [fee] = owed["fees"]
    assert (fee["status"], fee["failure_kind"], owed["payment_status"], owed["balance_minor"]) == (
        "failed",
        "no_card",
        "unpaid",
        2000,
    )
    [told] = until(
        "the fee email",
        lambda: [m for m in emails(stack.outbox(), nia.email) if m["subject"].startswith("Payment due")],
    )
    assert "no card was saved with your booking" in told["text"] and "card you saved" not in told["text"]
    [invoice] = stack.json("GET", f"/v1/admin/bookings/{at_desk['id']}/documents", owner)["documents"]
    assert (invoice["kind"], invoice["total_minor"]) == ("invoice", 2000)

    # A Swedish massage done and never paid: completing it recognises the revenue, owed as receivable.
    una = customer("Una Unpaid")
    work_at = free_slot(stack, spa, "Swedish massage", stack.now() + timedelta(hours=3))
    unpaid = admin_book(stack, spa, "Swedish massage", work_at, una)
    stack.set_clock(work_at + timedelta(minutes=5))
    for status in ("started", "completed"):
        stack.json("POST", f"/v1/admin/bookings/{unpaid['id']}/status", owner, json={"status": status})
    day = stack.now().astimezone(LONDON).date()

    def posted() -> list[dict[str, str]]:
        params = {"from": day.isoformat(), "to": day.isoformat()}
        export = stack.request("GET", "/v1/admin/journal.csv", owner, params=params).text
        return [r for r in csv.DictReader(io.StringIO(export)) if r["booking_id"] == unpaid["id"]]

    mine = until_found("the completion posted", posted, bool)
    assert {(r["account"], r["debit"], r["credit"]) for r in mine} == {
        ("1100", "65.00", ""),
        ("4000", "", "54.17"),
        ("2200", "", "10.83"),
    }
    trial_balance_is_zero(stack, spa, began.astimezone(LONDON).date(), day)


def test_an_authorisation_left_uncaptured_lapses_after_seven_days_on_the_dev_clock(
    stack: LocalStack, spa: dict[str, Any]
) -> None:
    owner = spa["owner"]
    business = stack.json("GET", "/v1/admin/business", owner)
    settings = {k: v for k, v in business.items() if k not in ("id", "version", "created_at", "updated_at")}
    stack.json("PUT", "/v1/admin/business", owner, json=settings | {"capture": "on_staff_confirmation"})
    try:
        ola = customer("Ola Authorised")
        at = free_slot(stack, spa, "Hot stone massage", stack.now() + timedelta(days=10))
        booked = book(stack, spa, "Hot stone massage", at, ola)
        intent_id = booked["checkout"]["client_secret"].split("_secret_")[0]
        spa["stripe"].v1.payment_intents.confirm(intent_id, params={"payment_method": "pm_card_visa"})
        held = until_found(
            "authorised", lambda: detail(stack, spa, booked["id"]), lambda d: d["payment_status"] == "pending"
        )
        assert held["status"] == "confirmed"
        stack.set_clock(stack.now() + timedelta(days=7, minutes=5))
        lapsed = until_found(
            "the lapse recorded",
            lambda: detail(stack, spa, booked["id"]),
            lambda d: d["payment_status"] == "unpaid",
        )
        assert lapsed["status"] == "confirmed"  # the booking stands, now unpaid
        assert any(h["action"] == "authorisation_lapsed" for h in lapsed["history"])
        assert spa["stripe"].v1.payment_intents.retrieve(intent_id).cancellation_reason == "automatic"
    finally:
        current = stack.json("GET", "/v1/admin/business", owner)
        kept = {k: v for k, v in current.items() if k not in ("id", "version", "created_at", "updated_at")}
        stack.json("PUT", "/v1/admin/business", owner, json=kept | {"capture": "immediate"})
