"""The ports: what the use cases need from the outside world, as Protocols. Adapters implement them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from booking.domain.availability import Busy
from booking.domain.booking import Booking, HistoryEntry, Note
from booking.domain.booking_requests import RequestHistoryEntry, ServiceRequest
from booking.domain.catalogue import Business, Catalogue, Category, Service, StaffMember
from booking.domain.communications import MessageRecord
from booking.domain.customers import CustomerProfile, LoginCode, OnboardingUpdate
from booking.domain.diary import DiaryEntry
from booking.domain.invoices import DocumentSet, DocumentSummary, RenderedDocument
from booking.domain.journal import JournalLine
from booking.domain.ledger import Claim
from booking.domain.meetings import CreatedMeeting, MeetingSpec
from booking.domain.reminders import PlannedReminder
from booking.domain.series import Series


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""
        ...


class IdGenerator(Protocol):
    def new_id(self) -> str:
        """A new sortable, unguessable id."""
        ...


class CatalogueRepository(Protocol):
    """Stores businesses and their catalogues. Writes are atomic and fail with Conflict on a lost race."""

    def tenant_for_slug(self, slug: str) -> str | None: ...

    def load_catalogue(self, tenant_id: str) -> Catalogue | None:
        """The business with all its categories, services, staff and assignments, or None."""
        ...

    def create_business(self, business: Business) -> None:
        """Claims the slug and stores the business; Conflict if the slug is taken."""
        ...

    def update_business(self, business: Business, previous: Business) -> None:
        """Replaces `previous` (optimistic version check), moving the slug claim if it changed."""
        ...

    def put_category(self, tenant_id: str, category: Category, previous: Category | None) -> None: ...

    def delete_category(self, tenant_id: str, category: Category) -> None: ...

    def put_service(self, tenant_id: str, service: Service, previous: Service | None) -> None:
        """Stores the service and makes its assignments match `service.staff_ids`."""
        ...

    def delete_service(self, tenant_id: str, service: Service) -> None: ...

    def put_staff(self, tenant_id: str, member: StaffMember, previous: StaffMember | None) -> None:
        """Stores the staff member and makes its assignments match `member.service_ids`."""
        ...

    def delete_staff(self, tenant_id: str, member: StaffMember) -> None: ...


class CatalogueReader(Protocol):
    """Read side of the catalogue for hot paths (availability, booking); may be cached briefly."""

    def tenant_for_slug(self, slug: str) -> str | None: ...

    def load_catalogue(self, tenant_id: str) -> Catalogue | None: ...


class BookingRepository(Protocol):
    def diary(self, tenant_id: str, start: datetime, end: datetime) -> list[DiaryEntry]:
        """Entries whose occupied time overlaps [start, end), oldest first, strongly consistent."""
        ...

    def busy(
        self, tenant_id: str, start: datetime, end: datetime, ignore_booking: str | None = None
    ) -> list[Busy]:
        """The occupied time (buffers included) of bookings that hold time and overlap [start, end):
        just what the slot engine needs. Strongly consistent."""
        ...

    def get(self, tenant_id: str, booking_id: str) -> tuple[Booking, list[HistoryEntry]] | None:
        """The booking with its history (oldest first)."""
        ...

    def save(
        self,
        booking: Booking,
        previous: Booking | None,
        entry: HistoryEntry,
        *,
        enforce_unblocked: bool = False,
        from_hold: Claim | None = None,
    ) -> None:
        """Writes the booking, its diary entries, its history entry and the ledger sheets it changes in
        one transaction.

        Claims the time `booking` holds and releases what `previous` held (and `from_hold`, turning a
        hold into the booking). Raises SlotTaken when anyone else holds any of that time, Conflict when
        `previous` is no longer the stored version, and (with enforce_unblocked) CustomerBlocked for a
        blocked customer. Creating a booking also creates or refreshes the customer's profile.
        """
        ...

    def hold(self, tenant_id: str, hold: Claim) -> None:
        """Keeps the time of a HOLD claim until it expires; SlotTaken if anyone holds any of it."""
        ...

    def release_hold(self, tenant_id: str, hold: Claim) -> None: ...

    def customer_bookings(self, tenant_id: str, email: str) -> list[Booking]: ...

    def add_history(self, tenant_id: str, booking_id: str, entry: HistoryEntry, entry_id: str) -> bool:
        """Appends a history entry to the booking without changing the booking (something that happened
        to it elsewhere, e.g. its call took place). Idempotent: False, and nothing written, when the entry
        with this `entry_id` at `entry.at` is there already."""
        ...


class CustomerRepository(Protocol):
    def profile(self, tenant_id: str, email: str) -> CustomerProfile | None: ...

    def set_blocked(
        self, tenant_id: str, email: str, blocked: bool, reason: str | None
    ) -> CustomerProfile: ...

    def set_sms_opt_out(self, tenant_id: str, email: str, opted_out: bool) -> None: ...

    def set_onboarding(
        self, tenant_id: str, email: str, update: OnboardingUpdate, at: datetime
    ) -> CustomerProfile: ...

    def mark_onboarded(self, tenant_id: str, email: str) -> bool: ...

    def add_note(self, tenant_id: str, customer_email: str, note: Note) -> None: ...

    def notes(self, tenant_id: str, customer_email: str, booking_id: str | None = None) -> list[Note]: ...

    def record_audit(self, tenant_id: str, email: str, entry: HistoryEntry) -> None: ...

    def audit(self, tenant_id: str, email: str) -> list[HistoryEntry]: ...

    def login_code(self, tenant_id: str, email: str) -> LoginCode | None: ...

    def put_login_code(self, tenant_id: str, email: str, code: LoginCode) -> bool:
        """Stores the code unless one for the same request is stored already (a redelivered request);
        False then, and nothing changes."""
        ...

    def request_login_code(self, tenant_id: str, email: str, request_id: str, at: datetime) -> None:
        """Records that a code was asked for (the reminders function issues and sends it, or does nothing
        for an email that is not a customer's)."""
        ...

    def reserve_attempt(self, tenant_id: str, email: str, code: LoginCode, max_attempts: int) -> bool:
        """Uses up one attempt of exactly this code before it is compared, atomically, so parallel
        guesses cannot exceed the limit. False when no attempt is left (or the code is gone)."""
        ...

    def delete_login_code(self, tenant_id: str, email: str, code: LoginCode) -> bool:
        """Consumes this code; False if it was already consumed or replaced (so it works once)."""
        ...


class RateLimiter(Protocol):
    def take(
        self, tenant_id: str, counter: str, window_start: datetime, window: timedelta, limit: int
    ) -> bool:
        """Counts one request against `counter` (e.g. "ip:203.0.113.7") in the window starting at
        `window_start`, atomically; False, and nothing counted, once `limit` were counted in it."""
        ...

    def once_in(self, tenant_id: str, name: str, holder: str, now: datetime, period: timedelta) -> bool:
        """Takes `name` for `holder` unless another holder took it within `period` before `now` (False)."""
        ...


class Notifier(Protocol):
    def send_login_code(self, business: Business, email: str, code: str, expires_minutes: int) -> None: ...


class CustomerSessions(Protocol):
    """Signed customer session tokens (after a one-time code, or 'login as client')."""

    def issue(
        self, tenant_id: str, email: str, acting_user: str | None, now: datetime
    ) -> tuple[str, datetime]: ...

    def verify(self, token: str, now: datetime) -> tuple[str, str, str | None, datetime] | None:
        """(tenant id, email, acting user, expiry) for a genuine unexpired token, else None."""
        ...


class Idempotency(Protocol):
    def register_lambda_context(self, context: Any) -> None:
        """The current invocation, whose remaining time bounds how long a request counts as running."""
        ...

    def run(
        self, scope: str, key: str, payload: dict[str, Any], action: Callable[[], dict[str, Any]]
    ) -> dict[str, Any]:
        """Runs `action` at most once per (scope, key) and returns its (stored) result. Raises
        IdempotencyKeyReused for the same key with a different payload, RequestInProgress while the first
        run is still going."""
        ...


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes
    params: tuple[tuple[str, str], ...] = ()


class DeliveryFailed(Exception):
    """The provider refused the message or kept failing after its own retries. `retryable` says whether
    trying again later may succeed (throttling, an outage) or not (a rejected address)."""

    def __init__(self, reason: str, retryable: bool = True) -> None:
        super().__init__(reason)
        self.retryable = retryable


class EmailSender(Protocol):
    def send(
        self,
        *,
        to: str,
        subject: str,
        text: str,
        html: str,
        from_name: str,
        reply_to: str | None = None,
        attachments: tuple[Attachment, ...] = (),
    ) -> str:
        """Sends and returns the provider's message id; raises DeliveryFailed."""
        ...


class SmsSender(Protocol):
    def send(self, *, to: str, text: str, sender_id: str | None = None) -> str:
        """Sends and returns the provider's message id; raises DeliveryFailed."""
        ...


class SmsBudget(Protocol):
    def take(self, tenant_id: str, day: date, cap: int) -> bool:
        """Counts one text against the business's cap for `day` (its local date), atomically; False, and
        nothing counted, once `cap` texts were counted that day."""
        ...


class RetryScheduler(Protocol):
    def schedule_retry(self, tenant_id: str, booking_id: str, key: str, channel: str, at: datetime) -> None:
        """A one-time timer that hands the message back to the sender at `at` (idempotent)."""
        ...


class ReminderScheduler(Protocol):
    def schedule(self, reminder: PlannedReminder) -> None:
        """Creates the one-time schedule (idempotent: an existing one is left as it is)."""
        ...

    def cancel(self, reminder: PlannedReminder) -> None:
        """Deletes the schedule (idempotent: a missing one is fine)."""
        ...


class MessageLog(Protocol):
    def claim(self, tenant_id: str, booking_id: str, record: MessageRecord) -> bool:
        """Records the message (with its request) if it is not recorded yet; False means another run
        already has it, so this one must not send it."""
        ...

    def get(self, tenant_id: str, booking_id: str, key: str, channel: str) -> MessageRecord | None:
        """The message as recorded now (strongly consistent), with its request."""
        ...

    def replace(
        self, tenant_id: str, booking_id: str, record: MessageRecord, expected: MessageRecord
    ) -> bool:
        """Records the message's new state if it is still at `expected` (same status and attempt);
        False when another run has moved it on meanwhile."""
        ...

    def put(self, tenant_id: str, booking_id: str, record: MessageRecord) -> None:
        """Records an entry unconditionally (the reminder schedule entries)."""
        ...

    def records(self, tenant_id: str, booking_id: str) -> list[MessageRecord]: ...


class MeetingLinks(Protocol):
    """One business's account at a meeting provider. Each call raises a MeetingProviderError subclass
    (domain/meetings.py) on failure: CredentialsRejected, MeetingRefused, ProviderRateLimited (with the
    provider's Retry-After) or ProviderUnavailable."""

    def check_credentials(self) -> None:
        """Proves the credentials work (e.g. fetches a token); CredentialsRejected when they do not."""
        ...

    def create(self, spec: MeetingSpec) -> CreatedMeeting: ...

    def update(self, meeting_id: str, spec: MeetingSpec) -> CreatedMeeting:
        """The meeting moved to the spec's times: changed in place where the provider allows, otherwise
        made anew (the old one deleted), so the answer's id and link may differ."""
        ...

    def delete(self, meeting_id: str) -> None:
        """Deletes the meeting; one that is already gone is fine."""
        ...


class MeetingProviders(Protocol):
    """Each business's provider accounts, made from the credentials it stored."""

    def for_business(self, business: Business, provider: str) -> MeetingLinks:
        """The business's account at `provider`; CredentialsMissing when it stored none."""
        ...

    def for_credentials(self, business: Business, provider: str, credentials: Any) -> MeetingLinks:
        """An account from credentials not stored yet (to check them before they are)."""
        ...


class CredentialsStore(Protocol):
    """Per-business provider credentials (Secrets Manager): written and read by the back end only, never
    shown to anyone."""

    def put(self, tenant_id: str, provider: str, credentials: dict[str, Any]) -> None: ...

    def get(self, tenant_id: str, provider: str, fresh: bool = False) -> dict[str, Any] | None:
        """The credentials (cached briefly); `fresh` when the cached ones proved wrong (rotated, or just
        connected): read again, at most once every few seconds."""
        ...

    def delete(self, tenant_id: str, provider: str) -> None: ...


class MeetingProvisioner(Protocol):
    def start(self, tenant_id: str, booking_id: str, version: int) -> None:
        """Starts provisioning the meeting of this version of the booking (idempotent: one run per
        booking version)."""
        ...


class MeetingIndex(Protocol):
    """Which booking a provider's meeting (by the provider's own id) belongs to."""

    def remember(
        self,
        tenant_id: str,
        provider: str,
        meeting_id: str,
        booking_id: str,
        *,
        expires_at: datetime | None = None,
    ) -> None:
        """Points the meeting at its booking (idempotent); the pointer may be dropped after `expires_at`."""
        ...

    def booking_for(self, tenant_id: str, provider: str, meeting_id: str) -> str | None: ...


class WebhookEvents(Protocol):
    """Providers' events already handled (by a key derived from the event), to recognise replays."""

    def seen(self, tenant_id: str, provider: str, event_key: str) -> bool: ...

    def record(
        self, tenant_id: str, provider: str, event_key: str, outcome: str, at: datetime, expires_at: datetime
    ) -> bool:
        """Records the event as handled, with a conditional write; False when it was recorded already."""
        ...


class SeriesRepository(Protocol):
    def put(self, series: Series) -> None: ...

    def get(self, tenant_id: str, series_id: str) -> Series | None: ...

    def delete(self, tenant_id: str, series_id: str) -> None: ...


class Documents(Protocol):
    """Each booking's invoices and credit notes, numbered from the business's gapless sequences and never
    changed once issued (adapters/dynamodb/invoices.py)."""

    def issued(self, tenant_id: str, booking_id: str) -> DocumentSet: ...

    def record(self, tenant_id: str, booking_id: str, seen: DocumentSet, new: list[RenderedDocument]) -> bool:
        """Stores `new` (numbered next in their sequences after `seen`) in one transaction, on condition
        that nothing was issued meanwhile for the booking or in those sequences: False when it was."""
        ...

    def file(self, tenant_id: str, booking_id: str, reference: str, fmt: str) -> bytes | None:
        """A document's file ("pdf" or "html") exactly as it was issued."""
        ...

    def for_customer(self, tenant_id: str, email: str) -> list[DocumentSummary]:
        """A customer's documents, oldest first."""
        ...


class Journal(Protocol):
    def post(self, lines: list[JournalLine]) -> None:
        """Writes journal lines; writing the same lines again changes nothing."""
        ...

    def lines(self, tenant_id: str, start: datetime, end: datetime) -> Iterator[JournalLine]:
        """The lines posted in [start, end), oldest first."""
        ...


class PhotoStore(Protocol):
    """Request photos: uploaded by the browser straight to storage, read back to check, shown by link."""

    def upload_form(self, key: str, content_type: str, size_bytes: int, expires_in: int) -> dict[str, Any]:
        """`{"url", "fields"}` for one browser upload of exactly this key, content type and size."""
        ...

    def head(self, key: str) -> tuple[int, bytes] | None:
        """The stored size and the first bytes (enough for `check_photo`), or None when nothing is there."""
        ...

    def copy(self, source: str, target: str, content_type: str) -> str | None:
        """Copies `source` to `target` typed `content_type`: the copy's ETag, None when `source` is absent."""
        ...

    def etag(self, key: str) -> str | None:
        """The stored object's ETag without reading it, or None when nothing is there."""
        ...

    def view_url(self, key: str, expires_in: int, content_type: str, filename: str) -> str:
        """A short-lived link to the photo (for staff only), served as `content_type`, inline as `filename`."""
        ...

    def delete(self, key: str) -> None:
        """Deletes the photo; one already gone is fine."""
        ...


class RequestRepository(Protocol):
    """Booking requests (domain/booking_requests.py)."""

    def save(
        self,
        request: ServiceRequest,
        previous: ServiceRequest | None,
        entry: RequestHistoryEntry,
        open_limit: int | None = None,
    ) -> None:
        """Writes the request on the version read: Conflict when another change came first. A new request
        with `open_limit` is written only while its customer has fewer open (domain OPEN), TooManyOpen
        otherwise, in the same transaction; a request leaving OPEN stops counting."""
        ...

    def get(
        self, tenant_id: str, request_id: str
    ) -> tuple[ServiceRequest, list[RequestHistoryEntry]] | None: ...

    def inbox(self, tenant_id: str, limit: int) -> list[ServiceRequest]:
        """Newest first."""
        ...

    def for_customer(self, tenant_id: str, email: str) -> list[ServiceRequest]: ...

    def open_count(self, tenant_id: str, email: str) -> int:
        """How many of the customer's requests are open (as `save` counts them)."""
        ...
