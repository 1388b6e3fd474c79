"""What a committed change of a booking request means for its customer and for the business, and the
escalation of a request left unanswered. Run by the reminders function from the table's stream (kind
"booking_request") and from its timers, exactly as a booking's messages are (services/notifications.py).

    new request                     ──> the business (contact address) and every dispatcher: "New booking
                                        request"; the customer: "received" (email, and SMS to a phone,
                                        at most one per customer in 10 minutes);
                                        the first escalation timer, at submission + escalation_hours
    submitted -> under_review       ──> the customer: "we're reviewing your request"
    -> counter_proposed             ──> the customer: the time proposed, until when it is held, the message
                                        and where to accept or decline it (email and SMS)
    -> declined                     ──> the customer: the business's message and the alternatives
    -> confirmed                    ──> nothing sent here: the booking the answer made sends its own
                                        confirmation with the invite (and reminders); the request's log
                                        records that, once
    counter_proposed -> under_review──> the business and dispatchers (and the assigned staff member): the
                                        customer's message; a new escalation timer (the business owes an
                                        answer again)
    -> cancelled (by the customer)  ──> the business and dispatchers (and the assigned staff member)

The communications log: a request's messages are recorded in the message log (`MessageLog`, through
`MessageDelivery`) under the REQUEST's id where a booking's are under the booking's id (keys.py: "a
request's communications are in the message log under its id, as a booking's are"). Request and booking
ids are distinct ULIDs (a booking made from a request is "<request id>-r<version>"), so the two logs never
mix. Keys start with "request-" (the reminders function sends a message's retry timer here by that prefix)
and are deterministic per version of the request (`request-received@v1`...), per recipient for the
business's messages, and per interval for escalations (`request-escalation-<n>:<email>`): a redelivered
stream record or a timer that fires twice finds its message claimed and sends nothing twice.

The escalation: an EventBridge Scheduler one-time timer (like the payment timers: deterministic name,
deleted after it fires, on the dev clock locally), `req-esc-<request id>-<n>`, at the start of the wait +
escalation_hours. When it fires the request is read again, and nothing is sent unless it is still waiting
for the business (submitted or under review) in the same wait: an answer or a cancellation meanwhile ends
the chain. Otherwise the request's `escalations` becomes n (saved on its version, with an "escalated"
history entry: an answer that lands at the same moment makes the save fail, and the request is read once
more), the dispatchers are emailed (the contact address when there are none), and while n <
max_escalations timer n + 1 is set, escalation_hours after this firing. At most max_escalations reminders
per request in all. A customer who declines a proposed time starts a new wait: its timers are named
`req-esc-<request id>-<n>-r<k>` (the k-th wait), and a timer of an earlier wait that fires finds its
wait over and does nothing. A change of escalation_hours applies to the timers set after it. An answer
does not delete the pending timer: it fires, finds the request answered and records that in the log.

Why a timer and not a Step Functions execution per request (DESIGN.md once drew it there): Step Functions
earns its keep where outside services must be retried and backed off (meeting links); here a timer
re-checked when it fires is simpler, far cheaper (no execution waiting 48 hours per request), keeps the
state in one place (the request), and runs on the dev clock locally like every other timer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo

from aws_lambda_powertools import Logger

from booking.domain.booking import Actor, Booking, BookingStatus
from booking.domain.booking_requests import (
    UNANSWERED,
    RequestHistoryEntry,
    RequestSettings,
    RequestState,
    ServiceRequest,
)
from booking.domain.catalogue import Business, Catalogue
from booking.domain.communications import Audience, MessageChannel, MessageRecord, MessageRequest
from booking.domain.errors import Conflict
from booking.domain.sms import allowed_countries, country_refusal
from booking.messages import (
    REQUEST_CUSTOMER_KINDS,
    RequestCustomerKind,
    RequestKind,
    RequestStaffKind,
    request_message,
)
from booking.ports import (
    CatalogueReader,
    Clock,
    CustomerRepository,
    MessageLog,
    RateLimiter,
    RequestRepository,
    SmsBudget,
)
from booking.services.delivery import MessageDelivery, Rendered
from booking.services.payment_timers import TimerScheduler

logger = Logger(child=True)

ESCALATION_EVENT: Final = "request_escalation"  # the `type` of an escalation timer's payload
ESCALATION: Final = "request_escalation"  # the message's kind
ESCALATOR = Actor(kind="system", id="request-escalation")
KEY_PREFIX: Final = "request-"
MIN_LEAD = timedelta(minutes=1)  # a timer due already (the stream ran late) fires this soon
# One "received" text per customer in this long: a burst of requests is acknowledged by email, and cannot
# spend the business's daily SMS cap (RateLimiter.once_in, per customer).
RECEIVED_TEXT_PERIOD = timedelta(minutes=10)


def is_request_message(key: str) -> bool:
    """Whether a message's retry is this service's to make (it is in a request's log, not a booking's)."""
    return key.startswith(KEY_PREFIX)


def message_key(kind: RequestKind | str, version: int, recipient: str | None = None) -> str:
    """`request-received@v1`; a message to the business has one per recipient (`...@v1:<email>`)."""
    key = f"{kind.replace('_', '-')}@v{version}"
    return f"{key}:{recipient.lower()}" if recipient else key


def escalation_key(n: int, recipient: str | None = None) -> str:
    """The n-th reminder to one recipient (`request-escalation-<n>:<email>`); without a recipient, the
    timer's own entry in the log."""
    key = f"{KEY_PREFIX}escalation-{n}"
    return f"{key}:{recipient.lower()}" if recipient else key


def waiting_round(request: ServiceRequest) -> int:
    """Which wait for the business's answer this is: 0 from submission, k after the customer declined a
    proposed time for the k-th time."""
    return sum(1 for reply in request.replies if not reply.accepted)


def waiting_since(request: ServiceRequest) -> datetime:
    """When the current wait for the business's answer began."""
    declined = [reply.at for reply in request.replies if not reply.accepted]
    return max(declined) if declined else request.created_at


@dataclass(frozen=True)
class Escalation:
    """The n-th reminder of a request (n counts across waits), in its `round`-th wait."""

    tenant_id: str
    request_id: str
    n: int
    round: int = 0

    @property
    def name(self) -> str:
        """Deterministic EventBridge Scheduler name (<= 64 chars, [0-9A-Za-z_.-])."""
        name = f"req-esc-{self.request_id}-{self.n}"
        return name if self.round == 0 else f"{name}-r{self.round}"

    @property
    def log_key(self) -> str:
        """The timer's own entry in the request's log (its messages: `escalation_key(n, recipient)`)."""
        key = escalation_key(self.n)
        return key if self.round == 0 else f"{key}-r{self.round}"

    def payload(self) -> dict[str, Any]:
        """What the reminders function receives when the timer fires."""
        return {
            "type": ESCALATION_EVENT,
            "tenant_id": self.tenant_id,
            "request_id": self.request_id,
            "n": self.n,
            "round": self.round,
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Escalation:
        if payload.get("type") != ESCALATION_EVENT:
            raise ValueError(f"not an escalation timer: {payload.get('type')!r}")
        return cls(
            tenant_id=str(payload["tenant_id"]),
            request_id=str(payload["request_id"]),
            n=int(payload["n"]),
            round=int(payload.get("round", 0)),
        )


def escalation_not_due(request: ServiceRequest, timer: Escalation, settings: RequestSettings) -> str | None:
    """Why the timer must send nothing (None: the reminder is due)."""
    if request.state not in UNANSWERED:
        return f"the request was answered or cancelled ({request.state.value})"
    if waiting_round(request) != timer.round or request.escalations > timer.n:
        return "a later wait or reminder took over"
    if timer.n > settings.max_escalations:
        return f"at most {settings.max_escalations} reminders"
    return None


def stale_reason(message: MessageRequest, request: ServiceRequest) -> str | None:
    """Why a message about to be sent again (a retry, a taken-over claim) is no longer true of the request
    as it is now. For a request's messages `about_start` is the time the message is about (the start
    proposed; for an escalation, when it fired) and `previous_start` the start of the wait an escalation
    reports."""
    if message.kind == "request_under_review" and request.state not in UNANSWERED:
        return "the request was answered since; that answer's message covers it"
    if message.kind == "request_counter_proposal":
        counter = request.open_counter
        if counter is None or (counter[1].start, counter[1].staff_id or "") != (
            message.about_start,
            message.about_staff_id,
        ):
            return "the proposed time was answered or withdrawn since"
    if message.kind == ESCALATION:
        if request.state not in UNANSWERED:
            return f"the request was answered or cancelled since ({request.state.value})"
        if message.previous_start is not None and waiting_since(request) != message.previous_start:
            return "the customer sent the request back since"
    return None


class RequestNotifications:
    def __init__(
        self,
        catalogue: CatalogueReader,
        requests: RequestRepository,
        customers: CustomerRepository,
        log: MessageLog,
        delivery: MessageDelivery,
        timers: TimerScheduler,
        sms_budget: SmsBudget,
        portal_base_url: str,
        clock: Clock,
        limiter: RateLimiter,
    ) -> None:
        self._catalogue = catalogue
        self._requests = requests
        self._customers = customers
        self._log = log
        self.delivery = delivery
        self._timers = timers
        self._sms_budget = sms_budget
        self._portal_base_url = portal_base_url.rstrip("/")
        self._clock = clock
        self._limiter = limiter

    # --- reacting to committed changes ----------------------------------------------------------------

    def request_changed(self, old: ServiceRequest | None, new: ServiceRequest) -> None:
        catalogue = self._catalogue.load_catalogue(new.tenant_id)
        if catalogue is None:
            logger.warning("request of an unknown business; nothing sent", extra={"request_id": new.id})
            return
        if old is None:
            self._business(catalogue, new, "request_new", self._business_recipients(catalogue, new))
            self._customer(catalogue, new, "request_received")
            self._schedule_escalation(catalogue, new, waiting_since(new))
            return
        if old.state is new.state:
            return  # a photo checked, an assignment, an escalation: nothing to tell anyone
        target = new.state
        if target is RequestState.UNDER_REVIEW and old.state is RequestState.COUNTER_PROPOSED:
            # The customer declined the time proposed: the business owes an answer again.
            recipients = self._business_recipients(catalogue, new, assigned=True)
            self._business(catalogue, new, "request_counter_declined", recipients)
            self._schedule_escalation(catalogue, new, waiting_since(new))
        elif target is RequestState.UNDER_REVIEW:
            self._customer(catalogue, new, "request_under_review")
        elif target is RequestState.COUNTER_PROPOSED:
            self._customer(catalogue, new, "request_counter_proposal")
        elif target is RequestState.DECLINED:
            self._customer(catalogue, new, "request_declined")
        elif target is RequestState.CONFIRMED:
            self._confirmed(new)
        elif target is RequestState.CANCELLED:
            recipients = self._business_recipients(catalogue, new, assigned=True)
            self._business(catalogue, new, "request_cancelled", recipients)

    def booking_changed(self, old: Booking | None, new: Booking) -> None:
        """A customer whose job was just completed is onboarded for booking requests, when the business
        chose so (`onboard_after_first_job`)."""
        if new.status is not BookingStatus.COMPLETED or (
            old is not None and old.status is BookingStatus.COMPLETED
        ):
            return
        catalogue = self._catalogue.load_catalogue(new.tenant_id)
        if catalogue is None or not catalogue.business.booking_requests.onboard_after_first_job:
            return
        profile = self._customers.profile(new.tenant_id, new.customer.email)
        if profile is not None and profile.onboarded:
            return
        if self._customers.mark_onboarded(new.tenant_id, new.customer.email):
            logger.info("customer onboarded by their first completed job", extra={"booking_id": new.id})

    def _confirmed(self, request: ServiceRequest) -> None:
        """Nothing to send: the booking the answer made (or the proposed time accepted) is confirmed, and
        its own stream change sends the confirmation with the invite, then the reminders. The request's log
        says so, once (a redelivered record finds the entry there)."""
        self._log.claim(
            request.tenant_id,
            request.id,
            MessageRecord(
                key=message_key("request_confirmed", request.version),
                kind="request_confirmed",
                channel="email",
                recipient=request.customer.email,
                status="skipped",
                at=self._clock.now(),
                detail=f"the confirmation with the invite goes out with booking {request.booking_id}",
            ),
        )

    # --- the escalation -------------------------------------------------------------------------------

    def _schedule_escalation(self, catalogue: Catalogue, request: ServiceRequest, since: datetime) -> None:
        """The first timer of a wait for the business's answer (none once max_escalations were sent)."""
        settings = catalogue.business.booking_requests
        timer = Escalation(request.tenant_id, request.id, request.escalations + 1, waiting_round(request))
        if timer.n > settings.max_escalations:
            return
        self._set_timer(catalogue, timer, since + timedelta(hours=settings.escalation_hours))

    def _set_timer(self, catalogue: Catalogue, timer: Escalation, due: datetime) -> None:
        now = self._clock.now()
        self._timers.schedule_at(timer.name, max(due, now + MIN_LEAD), timer.payload())
        recipients = ", ".join(self._escalation_recipients(catalogue))
        self._log.claim(  # the log's entry for the timer (a redelivered change leaves it as it is)
            timer.tenant_id,
            timer.request_id,
            MessageRecord(
                key=timer.log_key,
                kind=ESCALATION,
                channel="schedule",
                audience="staff",
                status="scheduled",
                at=now,
                send_at=due,
                detail=f"reminder {timer.n} to {recipients or 'nobody'} if the request is still unanswered",
            ),
        )

    def fire(self, payload: dict[str, Any]) -> str:
        """An escalation timer fired: reminds the dispatchers if the request still waits for an answer;
        returns what was done."""
        timer = Escalation.from_payload(payload)
        found = self._requests.get(timer.tenant_id, timer.request_id)
        catalogue = self._catalogue.load_catalogue(timer.tenant_id)
        if found is None or catalogue is None:
            logger.warning(
                "escalation of a request that does not exist", extra={"request_id": timer.request_id}
            )
            return "no_request"
        request = found[0]
        settings = catalogue.business.booking_requests
        now = self._clock.now()
        why = escalation_not_due(request, timer, settings)
        repeated = request.escalations >= timer.n  # an earlier run of this timer got this far
        if why is None and not repeated:
            try:
                request = self._escalated(request, timer, now)
            except Conflict:
                # Changed meanwhile: an answer (then nothing is sent) or another change; read it once more.
                again = self._requests.get(timer.tenant_id, timer.request_id)
                if again is None:
                    return "no_request"
                request = again[0]
                why = escalation_not_due(request, timer, settings)
                repeated = request.escalations >= timer.n
                if why is None and not repeated:
                    request = self._escalated(request, timer, now)  # a second Conflict: the timer runs again
        if why is not None:
            logger.info("no escalation", extra={"request_id": request.id, "reason": why})
            self._timer_entry(timer, "unscheduled", now, why)
            return "not_due"
        # escalations == n: saved now, or by an earlier run of this timer (its messages are claimed)
        recipients = self._escalation_recipients(catalogue)
        since = waiting_since(request)
        for recipient in recipients:
            message = MessageRequest(
                kind=ESCALATION, audience="staff", about_start=now, about_staff_id="", previous_start=since
            )
            self._send(catalogue, request, escalation_key(timer.n, recipient), "email", recipient, message)
        self._timer_entry(timer, "fired", now, f"reminder {timer.n} to {', '.join(recipients) or 'nobody'}")
        if timer.n < settings.max_escalations:
            following = Escalation(timer.tenant_id, timer.request_id, timer.n + 1, timer.round)
            self._set_timer(catalogue, following, now + timedelta(hours=settings.escalation_hours))
        return "repeated" if repeated else "escalated"

    def _escalated(self, request: ServiceRequest, timer: Escalation, now: datetime) -> ServiceRequest:
        """The request with `escalations` = n, saved on the version read (Conflict when it changed)."""
        changed = request.model_copy(
            update={"escalations": timer.n, "version": request.version + 1, "updated_at": now}
        )
        waited = int((now - waiting_since(request)).total_seconds() // 3600)
        entry = RequestHistoryEntry(
            at=now,
            actor=ESCALATOR,
            action="escalated",
            details={"reminder": str(timer.n), "waited_hours": str(waited)},
        )
        self._requests.save(changed, request, entry)
        return changed

    def _timer_entry(
        self, timer: Escalation, status: Literal["fired", "unscheduled"], now: datetime, detail: str
    ) -> None:
        """The timer's entry in the log: it fired and sent, or found nothing to do."""
        entry = self._log.get(timer.tenant_id, timer.request_id, timer.log_key, "schedule")
        if entry is None or entry.status != "scheduled":
            return  # settled by an earlier run
        self._log.put(
            timer.tenant_id,
            timer.request_id,
            entry.model_copy(update={"status": status, "at": now, "detail": detail}),
        )

    # --- retries --------------------------------------------------------------------------------------

    def retry_message(self, tenant_id: str, request_id: str, key: str, channel: str) -> None:
        """A message's retry timer fired: another attempt if it is unsettled and still true of the request
        as it is now."""
        record = self._log.get(tenant_id, request_id, key, channel)
        if record is None or record.request is None:
            logger.warning("retry of a message that is not in the log", extra={"request_id": request_id})
            return
        found = self._requests.get(tenant_id, request_id)
        catalogue = self._catalogue.load_catalogue(tenant_id)
        if found is None or catalogue is None:
            logger.warning("retry for a request that does not exist", extra={"request_id": request_id})
            return
        request, message = found[0], record.request
        self.delivery.resume(
            tenant_id,
            request_id,
            catalogue.business,
            record,
            partial(self._render, catalogue, request, message, channel, record.recipient),
            stale=partial(stale_reason, message, request),
        )

    # --- recipients -----------------------------------------------------------------------------------

    @staticmethod
    def _business_recipients(
        catalogue: Catalogue, request: ServiceRequest, *, assigned: bool = False
    ) -> list[tuple[str | None, str]]:
        """The business's contact address (its owner and admins read it) and every dispatcher; and, when
        `assigned`, the staff member the request is assigned to (by staff id, for the name)."""
        business = catalogue.business
        found: list[tuple[str | None, str]] = []
        emails = [str(business.contact_email)] if business.contact_email else []
        emails += [str(e) for e in business.booking_requests.dispatcher_emails]
        if assigned and request.assigned_staff_id is not None:
            member = catalogue.staff_member(request.assigned_staff_id)
            if member is not None:
                found.append((member.id, str(member.email)))
        for email in emails:
            if all(email.lower() != known.lower() for _, known in found):
                found.append((None, email))
        return found

    @staticmethod
    def _escalation_recipients(catalogue: Catalogue) -> list[str]:
        """The dispatchers; the business's contact address when it has none."""
        business = catalogue.business
        dispatchers = [str(e) for e in business.booking_requests.dispatcher_emails]
        if dispatchers:
            return dispatchers
        return [str(business.contact_email)] if business.contact_email else []

    # --- sending --------------------------------------------------------------------------------------

    def portal_url(self, request: ServiceRequest, business: Business) -> str:
        """The request's page in the customer portal. No token in it: the customer signs in there with the
        emailed code (as for every customer route), and the page calls the API's routes for their request
        (view, cancel, and accept or decline a proposed time). `business` names where to sign in."""
        return f"{self._portal_base_url}/requests/{request.id}?business={business.slug}"

    def staff_url(self, request: ServiceRequest) -> str:
        """The request in the staff app, on the same base as the portal and the manage links (the pages
        are served together: DESIGN.md's web layer). Staff sign in there, so no token in it either."""
        return f"{self._portal_base_url}/staff/requests/{request.id}"

    def _customer(self, catalogue: Catalogue, request: ServiceRequest, kind: RequestCustomerKind) -> None:
        """Email, and SMS to a customer with a phone (as a booking's messages decide: `_sms_refusal`)."""
        about_start, about_staff = request.created_at, ""
        counter = request.open_counter
        if kind == "request_counter_proposal" and counter is not None and counter[1].start is not None:
            about_start, about_staff = counter[1].start, counter[1].staff_id or ""
        message = MessageRequest(kind=kind, about_start=about_start, about_staff_id=about_staff)
        key = message_key(kind, request.version)
        channels: Sequence[MessageChannel] = ("email", "sms")
        for channel in channels:
            recipient = request.customer.email if channel == "email" else request.customer.phone
            self._send(catalogue, request, key, channel, recipient, message)

    def _business(
        self,
        catalogue: Catalogue,
        request: ServiceRequest,
        kind: RequestStaffKind,
        recipients: list[tuple[str | None, str]],
    ) -> None:
        if not recipients:
            logger.warning("no contact address or dispatcher to tell", extra={"request_id": request.id})
        for staff_id, email in recipients:
            message = MessageRequest(
                kind=kind,
                audience="staff",
                staff_id=staff_id,
                about_start=request.created_at,
                about_staff_id="",
            )
            self._send(catalogue, request, message_key(kind, request.version, email), "email", email, message)

    def _send(
        self,
        catalogue: Catalogue,
        request: ServiceRequest,
        key: str,
        channel: MessageChannel,
        recipient: str | None,
        message: MessageRequest,
    ) -> None:
        audience: Audience = message.audience
        record = MessageRecord(
            key=key,
            kind=message.kind,
            channel=channel,
            audience=audience,
            recipient=recipient,
            status="sending",
            at=self._clock.now(),
            request=message,
        )
        self.delivery.send(
            request.tenant_id,
            request.id,  # the request's own communications log
            catalogue.business,
            record,
            partial(self._render, catalogue, request, message, channel, recipient),
        )

    def _render(
        self,
        catalogue: Catalogue,
        request: ServiceRequest,
        message: MessageRequest,
        channel: str,
        recipient: str | None,
    ) -> Rendered:
        business = catalogue.business
        kind: RequestKind = message.kind  # type: ignore[assignment]
        if message.audience == "staff" and message.staff_id is not None:
            member = catalogue.staff_member(message.staff_id)
            if member is None:
                return Rendered(None, skip_reason="the staff member no longer exists")
            recipient = str(member.email)
        if kind in REQUEST_CUSTOMER_KINDS:
            recipient = request.customer.email if channel == "email" else request.customer.phone
        waited = None
        if kind == ESCALATION:
            since = message.previous_start or waiting_since(request)
            waited = int((message.about_start - since).total_seconds() // 3600)
        content = request_message(
            kind,
            request,
            business,
            portal_url=self.portal_url(request, business),
            staff_url=self.staff_url(request),
            waited_hours=waited,
            since_reply=kind == ESCALATION and waiting_round(request) > 0,
        )
        skip = self._sms_refusal(request, business, kind) if channel == "sms" else None
        return Rendered(recipient, content, skip_reason=skip)

    def _sms_refusal(self, request: ServiceRequest, business: Business, kind: RequestKind) -> str | None:
        """Why this text must not go out: a booking's rules (NotificationService._sms_refusal) for the
        request's customer, and at most one "received" text per customer in RECEIVED_TEXT_PERIOD. Taking
        one from the day's cap is the last check, so a text refused for another reason costs nothing."""
        if not business.sms_enabled:
            return "the business does not send SMS"
        phone = request.customer.phone
        if not phone:
            return "no phone number"
        profile = self._customers.profile(request.tenant_id, request.customer.email)
        if profile is not None and profile.sms_opt_out:
            return "customer opted out of SMS"
        refused = country_refusal(phone, allowed_countries(business.sms_countries, business.time_zone))
        if refused is not None:
            return refused
        if kind == "request_received" and not self._limiter.once_in(
            request.tenant_id,
            f"request-received-text:{request.customer.email.lower()}",
            request.id,  # the same request's retry is not a second text
            self._clock.now(),
            RECEIVED_TEXT_PERIOD,
        ):
            minutes = int(RECEIVED_TEXT_PERIOD.total_seconds() // 60)
            return f"the customer was texted about a request in the last {minutes} minutes: email only"
        today = self._clock.now().astimezone(ZoneInfo(business.time_zone)).date()
        if not self._sms_budget.take(business.id, today, business.sms_daily_cap):
            return f"the business's daily SMS cap ({business.sms_daily_cap}) is reached"
        return None
