"""Every DynamoDB key the application uses is built here, and only here.

Single table, generic key names (pk, sk). Every tenant-owned key starts with the tenant id, so a query can
never wander into another tenant's data. The one exception is the slug registry: a public URL names a
business by slug before we know its tenant, and a slug must be unique across tenants, which only a
conditional write on one shared key can guarantee (a GSI is eventually consistent). That item holds
nothing but the slug and the tenant id it points to.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Final

PK: Final = "pk"
SK: Final = "sk"

BUSINESS_SK: Final = "BUSINESS"
CATEGORY_PREFIX: Final = "CATEGORY#"
SERVICE_PREFIX: Final = "SERVICE#"
STAFF_PREFIX: Final = "STAFF#"
ASSIGNMENT_PREFIX: Final = "ASSIGN#"
SLUG_SK: Final = "SLUG"


def tenant_pk(tenant_id: str) -> str:
    """The catalogue partition of a tenant: business, categories, services, staff, assignments."""
    return f"T#{tenant_id}"


def business_key(tenant_id: str) -> dict[str, str]:
    return {PK: tenant_pk(tenant_id), SK: BUSINESS_SK}


def category_key(tenant_id: str, category_id: str) -> dict[str, str]:
    return {PK: tenant_pk(tenant_id), SK: CATEGORY_PREFIX + category_id}


def service_key(tenant_id: str, service_id: str) -> dict[str, str]:
    return {PK: tenant_pk(tenant_id), SK: SERVICE_PREFIX + service_id}


def staff_key(tenant_id: str, staff_id: str) -> dict[str, str]:
    return {PK: tenant_pk(tenant_id), SK: STAFF_PREFIX + staff_id}


def assignment_key(tenant_id: str, service_id: str, staff_id: str) -> dict[str, str]:
    return {PK: tenant_pk(tenant_id), SK: f"{ASSIGNMENT_PREFIX}{service_id}#{staff_id}"}


def slug_key(slug: str) -> dict[str, str]:
    return {PK: f"SLUG#{slug}", SK: SLUG_SK}


# --- bookings -----------------------------------------------------------------------------------------
#
#   T#<tenant>#BOOKING#<id>      BOOKING                  the booking (source of truth)
#                                HISTORY#<at>#<seq>       its history, one item per change
#                                MSG#<message key>#<chan>  its communications log, one item per message
#   T#<tenant>#DIARY#<yyyy-mm>   <from>#<booking id>      compact diary entry, one per UTC day the booking
#                                                         occupies (<from>: the later of its occupied start
#                                                         and that day's midnight), partitioned by UTC month:
#                                                         a month of a whole business is one query, and a
#                                                         range never needs to look back past its midnight
#   T#<tenant>#SHEET#<yyyy-mm>   <dd>#<staff>             the time ledger (domain/ledger.py): a staff member's
#                                                         occupied intervals on one UTC day and a version;
#                                                         written conditioned on the version read, so two
#                                                         bookings can never hold the same time
#   T#<tenant>#CUSTOMER#<email>  PROFILE                  name, phone, blocked flag
#                                NOTE#<booking>#<at>      session/internal notes and follow-ups
#                                AUDIT#<at>               e.g. "login as client" sessions
#                                CODE                     the pending one-time login code (hashed)
#                                CODE_REQUEST             the last request for a code (the stream issues it)
#   T#<tenant>#LIMIT#<counter>#<window start>  COUNT      requests counted against a rate limit
#   T#<tenant>#SMSDAY#<yyyy-mm-dd> COUNT                 texts sent that business-local day (the daily cap)
#   gsi1: T#<tenant>#CUSTOMER#<email> / <start>#<booking id> on booking items: a customer's bookings

BOOKING_SK: Final = "BOOKING"
HISTORY_PREFIX: Final = "HISTORY#"
MESSAGE_PREFIX: Final = "MSG#"
PROFILE_SK: Final = "PROFILE"
NOTE_PREFIX: Final = "NOTE#"
AUDIT_PREFIX: Final = "AUDIT#"
CODE_SK: Final = "CODE"
GSI1: Final = "gsi1"
GSI1_PK: Final = "gsi1pk"
GSI1_SK: Final = "gsi1sk"


def iso(instant: datetime) -> str:
    """Sortable UTC timestamp used inside keys."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def booking_pk(tenant_id: str, booking_id: str) -> str:
    return f"T#{tenant_id}#BOOKING#{booking_id}"


def booking_key(tenant_id: str, booking_id: str) -> dict[str, str]:
    return {PK: booking_pk(tenant_id, booking_id), SK: BOOKING_SK}


def history_key(tenant_id: str, booking_id: str, at: datetime, seq: str) -> dict[str, str]:
    return {PK: booking_pk(tenant_id, booking_id), SK: f"{HISTORY_PREFIX}{iso(at)}#{seq}"}


def diary_pk(tenant_id: str, month: str) -> str:
    return f"T#{tenant_id}#DIARY#{month}"


def diary_month(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m")


def diary_key(tenant_id: str, start: datetime, booking_id: str) -> dict[str, str]:
    return {PK: diary_pk(tenant_id, diary_month(start)), SK: f"{iso(start)}#{booking_id}"}


def diary_sk_bound(instant: datetime) -> str:
    return iso(instant)


def diary_owner(pk: str, sk: str) -> tuple[str, str]:
    """The tenant and booking ids of a diary entry's key."""
    return pk.removeprefix("T#").rsplit("#DIARY#", 1)[0], sk.rsplit("#", 1)[1]


def sheet_pk(tenant_id: str, month: str) -> str:
    """The ledger partition of a tenant's month: a month of availability is one query."""
    return f"T#{tenant_id}#SHEET#{month}"


def sheet_key(tenant_id: str, day: date, staff_id: str) -> dict[str, str]:
    return {PK: sheet_pk(tenant_id, f"{day:%Y-%m}"), SK: f"{day:%d}#{staff_id}"}


def sheet_sk_bounds(first: date, last: date) -> tuple[str, str]:
    """Sort keys spanning the sheets of days first..last of one month ('~' sorts after every id)."""
    return f"{first:%d}#", f"{last:%d}#~"


def sheet_day_and_staff(month: str, sk: str) -> tuple[date, str]:
    day, staff_id = sk.split("#", 1)
    return date.fromisoformat(f"{month}-{day}"), staff_id


# The previous layout's time claims, before the time ledger: one item per staff member per 5-minute unit a
# booking occupied, T#<tenant>#LOCK#<staff> / <unit start>. Nothing writes them any more; ops/rebuild_ledger.py
# recognises a table (or a local data directory) in that layout by them, and deletes them.
LEGACY_LOCK_MARKER: Final = "#LOCK#"


def legacy_lock_key(tenant_id: str, staff_id: str, unit_start: datetime) -> dict[str, str]:
    return {PK: f"T#{tenant_id}{LEGACY_LOCK_MARKER}{staff_id}", SK: iso(unit_start)}


def is_legacy_lock(pk: str) -> bool:
    parts = pk.split("#", 3)  # T, tenant, LOCK, staff (a tenant id holds no '#')
    return len(parts) == 4 and parts[0] == "T" and parts[2] == LEGACY_LOCK_MARKER.strip("#")


def customer_pk(tenant_id: str, email: str) -> str:
    return f"T#{tenant_id}#CUSTOMER#{email.lower()}"


def customer_key(tenant_id: str, email: str) -> dict[str, str]:
    return {PK: customer_pk(tenant_id, email), SK: PROFILE_SK}


def note_key(tenant_id: str, email: str, booking_id: str, at: datetime, note_id: str) -> dict[str, str]:
    return {PK: customer_pk(tenant_id, email), SK: f"{NOTE_PREFIX}{booking_id}#{iso(at)}#{note_id}"}


def audit_key(tenant_id: str, email: str, at: datetime, seq: str) -> dict[str, str]:
    return {PK: customer_pk(tenant_id, email), SK: f"{AUDIT_PREFIX}{iso(at)}#{seq}"}


def login_code_key(tenant_id: str, email: str) -> dict[str, str]:
    return {PK: customer_pk(tenant_id, email), SK: CODE_SK}


def login_code_request_key(tenant_id: str, email: str) -> dict[str, str]:
    return {PK: customer_pk(tenant_id, email), SK: "CODE_REQUEST"}


def rate_limit_key(tenant_id: str, counter: str, window_start: datetime) -> dict[str, str]:
    return {PK: f"T#{tenant_id}#LIMIT#{counter}#{iso(window_start)}", SK: "COUNT"}


def quiet_period_key(tenant_id: str, name: str) -> dict[str, str]:
    """When something (a customer's "received" text) last happened, and for what, for "once in a while"."""
    return {PK: f"T#{tenant_id}#QUIET#{name}", SK: "LAST"}


def customer_bookings_index(tenant_id: str, email: str, start: datetime, booking_id: str) -> dict[str, str]:
    """The gsi1 attributes a booking item carries so a customer's bookings can be listed."""
    return {GSI1_PK: customer_pk(tenant_id, email), GSI1_SK: f"{iso(start)}#{booking_id}"}


def message_key(tenant_id: str, booking_id: str, message_key: str, channel: str) -> dict[str, str]:
    return {PK: booking_pk(tenant_id, booking_id), SK: f"{MESSAGE_PREFIX}{message_key}#{channel}"}


def sms_day_key(tenant_id: str, day: str) -> dict[str, str]:
    """The counter of texts a business sent on one of its local days (`day` is yyyy-mm-dd)."""
    return {PK: f"T#{tenant_id}#SMSDAY#{day}", SK: "COUNT"}


# --- online meetings and providers' webhooks -------------------------------------------------------------
#
#   T#<tenant>#MEETING#<provider>#<meeting id>   BOOKING   which booking a provider's meeting belongs to
#                                                          (written when provisioning saves the meeting)
#   T#<tenant>#WEBHOOK#<provider>#<event key>    EVENT     a provider's event, handled (expires_at: 7 days)
#   a provider's event recorded on a booking is a history entry, HISTORY#<event time>#<event key prefix>


def meeting_pointer_key(tenant_id: str, provider: str, meeting_id: str) -> dict[str, str]:
    return {PK: f"T#{tenant_id}#MEETING#{provider}#{meeting_id}", SK: "BOOKING"}


def webhook_event_key(tenant_id: str, provider: str, event_key: str) -> dict[str, str]:
    return {PK: f"T#{tenant_id}#WEBHOOK#{provider}#{event_key}", SK: "EVENT"}


# --- recurring series ------------------------------------------------------------------------------------
#
#   T#<tenant>#SERIES#<id>       SERIES                   what was asked for and each session's booking id


def series_key(tenant_id: str, series_id: str) -> dict[str, str]:
    return {PK: f"T#{tenant_id}#SERIES#{series_id}", SK: "SERIES"}


# --- invoices, credit notes and the journal ---------------------------------------------------------------
#
#   T#<tenant>#INVOICES          COUNTER                  the last invoice number issued (gapless: it moves
#   T#<tenant>#CREDIT_NOTES      COUNTER                  only in the transaction that writes the document);
#                                                         the last credit note number, likewise
#   T#<tenant>#DOCS#<booking id> DOCUMENTS                how many documents the booking has and the booking
#                                                         version the last one covered (every issue moves it)
#                                DOC#<nnn>                an issued document (domain/invoices.py Document),
#                                                         never changed once written
#                                FILE#<reference>#<fmt>   its PDF and HTML, as issued (the bytes never change)
#                                (a partition of their own: reading a booking does not read its documents)
#   T#<tenant>#CUSTOMER#<email>  DOC#<issued>#<reference> a customer's documents, newest last (a summary)
#   T#<tenant>#JOURNAL#<yyyy-mm> <at>#<booking>#v<ver>#<n> one double-entry journal line, partitioned by UTC
#                                                         month (an export queries each month it spans)

DOCUMENT_PREFIX: Final = "DOC#"
_COUNTERS: Final = {"invoice": "INVOICES", "credit_note": "CREDIT_NOTES"}


def document_counter_key(tenant_id: str, kind: str) -> dict[str, str]:
    return {PK: f"T#{tenant_id}#{_COUNTERS[kind]}", SK: "COUNTER"}


def documents_pk(tenant_id: str, booking_id: str) -> str:
    return f"T#{tenant_id}#DOCS#{booking_id}"


def documents_marker_key(tenant_id: str, booking_id: str) -> dict[str, str]:
    return {PK: documents_pk(tenant_id, booking_id), SK: "DOCUMENTS"}


def document_key(tenant_id: str, booking_id: str, position: int) -> dict[str, str]:
    return {PK: documents_pk(tenant_id, booking_id), SK: f"{DOCUMENT_PREFIX}{position:03d}"}


def document_file_key(tenant_id: str, booking_id: str, reference: str, fmt: str) -> dict[str, str]:
    return {PK: documents_pk(tenant_id, booking_id), SK: f"FILE#{reference}#{fmt}"}


def customer_document_key(tenant_id: str, email: str, issued_at: datetime, reference: str) -> dict[str, str]:
    return {PK: customer_pk(tenant_id, email), SK: f"{DOCUMENT_PREFIX}{iso(issued_at)}#{reference}"}


def journal_pk(tenant_id: str, month: str) -> str:
    return f"T#{tenant_id}#JOURNAL#{month}"


def journal_key(tenant_id: str, at: datetime, booking_id: str, version: int, line: int) -> dict[str, str]:
    return {
        PK: journal_pk(tenant_id, diary_month(at)),
        SK: f"{iso(at)}#{booking_id}#v{version:06d}#{line:03d}",
    }


def journal_sk_bound(instant: datetime) -> str:
    return iso(instant)


# --- booking requests ------------------------------------------------------------------------------------
#
#   T#<tenant>#REQUESTS           <request id>             the request (its id a ULID: newest last), so the
#                                                          inbox is one query, newest first
#   T#<tenant>#REQUEST#<id>       HISTORY#<at>#<seq>       its history, one item per change
#   T#<tenant>#CUSTOMER#<email>   REQUEST#<request id>     pointer: a customer's requests
#   a request's communications are in the message log under its id, as a booking's are (MSG#...)


def requests_pk(tenant_id: str) -> str:
    return f"T#{tenant_id}#REQUESTS"


def request_key(tenant_id: str, request_id: str) -> dict[str, str]:
    return {PK: requests_pk(tenant_id), SK: request_id}


def request_history_key(tenant_id: str, request_id: str, at: datetime, seq: str) -> dict[str, str]:
    return {PK: f"T#{tenant_id}#REQUEST#{request_id}", SK: f"{HISTORY_PREFIX}{iso(at)}#{seq}"}


def request_history_pk(tenant_id: str, request_id: str) -> str:
    return f"T#{tenant_id}#REQUEST#{request_id}"


CUSTOMER_REQUEST_PREFIX: Final = "REQUEST#"


def customer_request_key(tenant_id: str, email: str, request_id: str) -> dict[str, str]:
    return {PK: customer_pk(tenant_id, email), SK: f"{CUSTOMER_REQUEST_PREFIX}{request_id}"}


def customer_open_requests_key(tenant_id: str, email: str) -> dict[str, str]:
    """The ids of a customer's open requests (a string set), for the limit on how many may be open."""
    return {PK: customer_pk(tenant_id, email), SK: "OPEN_REQUESTS"}
