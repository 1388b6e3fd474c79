"""Which messages a committed change of a booking request causes, and the escalation of a request left
unanswered: decided here, sent by the one pipeline (pipeline.py) as the kinds declare (kinds.py). Run by the
reminders function from the table's stream (kind "booking_request") and from its timers.

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

A request's messages are recorded in the communications log under the REQUEST's id where a booking's are
under the booking's id (keys.py). Request and booking ids are distinct ULIDs (a booking made from a request
is "<request id>-r<version>"), so the two logs never mix; a retry timer names the request
(`request_id`). Keys are deterministic per version of the request (`request-received@v1`...), per
recipient for the business's messages, and per interval for escalations (`request-escalation-<n>:<email>`):
a redelivered stream record or a timer that fires twice finds its message claimed and sends nothing twice.

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

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Literal

from aws_lambda_powertools import Logger

from booking.domain.booking import Actor, Booking, BookingStatus
from booking.domain.booking_requests import (
    UNANSWERED,
    RequestHistoryEntry,
    RequestSettings,
    RequestState,
    ServiceRequest,
)
from booking.domain.communications import MessageRecord, MessageRequest
from booking.domain.errors import Conflict
from booking.ports import (
    CatalogueReader,
    Clock,
    CustomerRepository,
    MessageLog,
    RequestRepository,
    TimerScheduler,
)
from booking.services.messaging.checks import waiting_round, waiting_since
from booking.services.messaging.kinds import (
    REQUEST_CANCELLED,
    REQUEST_COUNTER_DECLINED,
    REQUEST_COUNTER_PROPOSAL,
    REQUEST_DECLINED,
    REQUEST_ESCALATION,
    REQUEST_NEW,
    REQUEST_RECEIVED,
    REQUEST_UNDER_REVIEW,
    MessageKind,
    Subject,
    request_subject,
)
from booking.services.messaging.pipeline import MessagePipeline, timer_entry

logger = Logger(child=True)

ESCALATION_EVENT: Final = "request_escalation"  # the `type` of an escalation timer's payload
ESCALATOR = Actor(kind="system", id="request-escalation")
KEY_PREFIX: Final = "request-"
MIN_LEAD = timedelta(minutes=1)  # a timer due already (the stream ran late) fires this soon


def message_key(kind: str, version: int) -> str:
    """`request-received@v1` (a message to the business's people: one per recipient, `...@v1:<email>`)."""
    return f"{kind.replace('_', '-')}@v{version}"


def escalation_key(n: int) -> str:
    """The n-th reminder (to each recipient: `request-escalation-<n>:<email>`); the timer's own entry in the
    log is `Escalation.log_key`."""
    return f"{KEY_PREFIX}escalation-{n}"


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
        """The timer's own entry in the request's log (its messages: `escalation_key(n)` and a recipient)."""
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


class RequestMessages:
    def __init__(
        self,
        catalogue: CatalogueReader,
        requests: RequestRepository,
        customers: CustomerRepository,
        log: MessageLog,
        messages: MessagePipeline,
        timers: TimerScheduler,
        clock: Clock,
    ) -> None:
        self._catalogue = catalogue
        self._requests = requests
        self._customers = customers
        self._log = log  # the escalation timers' entries, and what a confirmed request leaves to its booking
        self.pipeline = messages
        self._timers = timers
        self._clock = clock

    # --- reacting to committed changes ----------------------------------------------------------------

    def request_changed(self, old: ServiceRequest | None, new: ServiceRequest) -> None:
        catalogue = self._catalogue.load_catalogue(new.tenant_id)
        if catalogue is None:
            logger.warning("request of an unknown business; nothing sent", extra={"request_id": new.id})
            return
        subject = request_subject(new, catalogue)
        if old is None:
            self._send(REQUEST_NEW, subject)
            self._send(REQUEST_RECEIVED, subject)
            self._schedule_escalation(subject, waiting_since(new))
            return
        if old.state is new.state:
            return  # a photo checked, an assignment, an escalation: nothing to tell anyone
        target = new.state
        if target is RequestState.UNDER_REVIEW and old.state is RequestState.COUNTER_PROPOSED:
            # The customer declined the time proposed: the business owes an answer again.
            self._send(REQUEST_COUNTER_DECLINED, subject)
            self._schedule_escalation(subject, waiting_since(new))
        elif target is RequestState.UNDER_REVIEW:
            self._send(REQUEST_UNDER_REVIEW, subject)
        elif target is RequestState.COUNTER_PROPOSED:
            self._send(REQUEST_COUNTER_PROPOSAL, subject)
        elif target is RequestState.DECLINED:
            self._send(REQUEST_DECLINED, subject)
        elif target is RequestState.CONFIRMED:
            self._confirmed(new)
        elif target is RequestState.CANCELLED:
            self._send(REQUEST_CANCELLED, subject)

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

    def _send(self, kind: MessageKind[ServiceRequest], subject: Subject[ServiceRequest]) -> None:
        """A message about the request as it is at this version: to the customer about the request (a time
        proposed: about that time), to the business's people about the request as it was submitted."""
        request = subject.current
        about_start, about_staff = request.created_at, ""
        counter = request.open_counter
        if kind is REQUEST_COUNTER_PROPOSAL and counter is not None and counter[1].start is not None:
            about_start, about_staff = counter[1].start, counter[1].staff_id or ""
        about = MessageRequest(kind=kind.name, about_start=about_start, about_staff_id=about_staff)
        self.pipeline.send(kind, subject, message_key(kind.name, request.version), about)

    # --- the escalation -------------------------------------------------------------------------------

    def _schedule_escalation(self, subject: Subject[ServiceRequest], since: datetime) -> None:
        """The first timer of a wait for the business's answer (none once max_escalations were sent)."""
        request = subject.current
        settings = subject.business.booking_requests
        timer = Escalation(request.tenant_id, request.id, request.escalations + 1, waiting_round(request))
        if timer.n > settings.max_escalations:
            return
        self._set_timer(subject, timer, since + timedelta(hours=settings.escalation_hours))

    def _set_timer(self, subject: Subject[ServiceRequest], timer: Escalation, due: datetime) -> None:
        now = self._clock.now()
        self._timers.schedule_at(timer.name, max(due, now + MIN_LEAD), timer.payload())
        recipients = ", ".join(self._escalated_to(subject))
        detail = f"reminder {timer.n} to {recipients or 'nobody'} if the request is still unanswered"
        entry = timer_entry(
            timer.log_key,
            REQUEST_ESCALATION.name,
            "scheduled",
            now,
            send_at=due,
            detail=detail,
            audience="staff",
        )
        # The log's entry for the timer (a redelivered change leaves it as it is).
        self._log.claim(timer.tenant_id, timer.request_id, entry)

    def _escalated_to(self, subject: Subject[ServiceRequest]) -> list[str]:
        return [person.address for person in self.pipeline.recipients(REQUEST_ESCALATION, subject)]

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
        subject = request_subject(request, catalogue)
        about = MessageRequest(
            kind=REQUEST_ESCALATION.name,
            about_start=now,
            about_staff_id="",
            previous_start=waiting_since(request),
        )
        self.pipeline.send(REQUEST_ESCALATION, subject, escalation_key(timer.n), about)
        recipients = self._escalated_to(subject)
        self._timer_entry(timer, "fired", now, f"reminder {timer.n} to {', '.join(recipients) or 'nobody'}")
        if timer.n < settings.max_escalations:
            following = Escalation(timer.tenant_id, timer.request_id, timer.n + 1, timer.round)
            self._set_timer(subject, following, now + timedelta(hours=settings.escalation_hours))
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
