"""Booking request use cases: customers who completed onboarding ask for a job; the business reviews it
and accepts it (a booking in the chosen staff member's schedule), proposes another time (held for the
customer in the time ledger), or declines it.

Exactly one answer wins: the request is saved on the version read, and the booking an answer makes has an
id derived from the request and that version, so two staff accepting at once race for the same booking id
and the database lets one of them write it. The loser is told the request was answered first.

Messages and the 48-hour escalation react to the committed change (services/messaging/requests.py).

Longer than our 500-line mark on purpose: one class holds both parties' moves because every move goes
through the same few steps (load the request with its version, check the transition table for the party,
place or release the held time, save on the version read); split by party, those steps would be shared
through inheritance or a helper object, which reads worse than one file in two sections.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from booking.domain.access import OUTSIDE_SHIFT_BOOKERS, Principal, Role
from booking.domain.availability import within_working_hours
from booking.domain.booking import (
    Actor,
    Booking,
    BookingCommand,
    BookingStatus,
    CustomerDetails,
    Hold,
    RequestOrigin,
)
from booking.domain.booking_requests import (
    AcceptRequest,
    BusinessResponse,
    CounterProposal,
    CustomerReply,
    DeclineRequest,
    RequestCustomer,
    RequestDraft,
    RequestHistoryEntry,
    RequestSettings,
    RequestState,
    ServiceRequest,
    TooManyOpen,
    answering_state,
    check_transition,
    submission_windows,
)
from booking.domain.catalogue import Catalogue
from booking.domain.communications import MessageRecord
from booking.domain.errors import Conflict, Forbidden, NotFound, SlotTaken, TooManyRequests
from booking.domain.photos import (
    UPLOAD_FORM_SECONDS,
    Photo,
    check_photo,
    photo_filename,
    photo_key,
    verified_photo_key,
)
from booking.ports import (
    BookingRepository,
    Clock,
    CustomerRepository,
    IdGenerator,
    MessageLog,
    PhotoStore,
    RateLimiter,
    RequestRepository,
)
from booking.services.booking_engine import BookingEngine, invalid
from booking.services.bookings import actor_for
from booking.services.payments.changes import save_change

# Who triages and answers every request; staff answer the ones assigned to them.
TRIAGE = frozenset({Role.OWNER, Role.ADMIN, Role.DISPATCHER})
ANSWERERS = frozenset({*TRIAGE, Role.STAFF})
INBOX_LIMIT = 200
PHOTO_VIEW_SECONDS = 300


@dataclass(frozen=True)
class RequestCaller:
    """A signed-in customer of one business (a customer session; `acting_user` when an owner or admin acts
    through "login as client")."""

    tenant_id: str
    email: str
    acting_user: str | None = None


@dataclass(frozen=True)
class Submitted:
    request: ServiceRequest
    uploads: list[dict[str, object]]  # one presigned POST per declared photo: url and fields


@dataclass(frozen=True)
class RequestDetail:
    request: ServiceRequest
    history: list[RequestHistoryEntry]
    photo_urls: dict[int, str]  # verified photos, by index: short-lived links for staff
    communications: list[MessageRecord] = field(default_factory=list)  # what was sent about it (staff)


class BookingRequests:
    def __init__(
        self,
        engine: BookingEngine,
        requests: RequestRepository,
        bookings: BookingRepository,
        customers: CustomerRepository,
        photos: PhotoStore,
        messages: MessageLog,
        clock: Clock,
        ids: IdGenerator,
        limiter: RateLimiter,
    ) -> None:
        self._engine = engine
        self._requests = requests
        self._bookings = bookings
        self._customers = customers
        self._photos = photos
        self._messages = messages
        self._clock = clock
        self._ids = ids
        self._limiter = limiter

    # --- customers ------------------------------------------------------------------------------------

    def submit(self, caller: RequestCaller, draft: RequestDraft) -> Submitted:
        catalogue = self._engine.tenant_catalogue(caller.tenant_id)
        settings = self._settings(catalogue)
        profile = self._customers.profile(caller.tenant_id, caller.email)
        if profile is None or not profile.onboarded:
            raise Forbidden(
                f"booking requests are for {catalogue.business.name}'s onboarded customers; "
                "please contact them to be set up"
            )
        service_name = None
        if draft.service_id is not None:
            service = catalogue.service(draft.service_id)
            if draft.service_id not in settings.services or service is None:
                raise invalid("service_id", "not one of the services offered for requests")
            service_name = service.name
        elif not settings.allow_free_text:
            raise invalid("free_text", "choose one of the services offered for requests")
        today = self._clock.now().astimezone(ZoneInfo(catalogue.business.time_zone)).date()
        for position, day in enumerate(draft.preferred_dates):
            if day < today:
                raise invalid(f"preferred_dates.{position}", f"{day.isoformat()} is in the past")
        address = draft.address or profile.address
        if not address:
            raise invalid("address", "give the job's address: there is none on file")
        now = self._clock.now()
        request_id = self._ids.new_id()
        photos = [
            Photo(
                index=index,
                key=photo_key(caller.tenant_id, request_id, index),
                content_type=declared.content_type,
                size_bytes=declared.size_bytes,
                status="awaiting_upload",
                problem=None,
            )
            for index, declared in enumerate(draft.photos)
        ]
        request = ServiceRequest(
            id=request_id,
            tenant_id=caller.tenant_id,
            state=RequestState.SUBMITTED,
            customer=RequestCustomer(name=profile.name, email=profile.email, phone=profile.phone),
            service_id=draft.service_id,
            service_name=service_name,
            free_text=draft.free_text if draft.service_id is None else None,
            preferred_dates=draft.preferred_dates,
            time_preference=draft.time_preference,
            address=address,
            notes=draft.notes,
            photos=photos,
            created_at=now,
            updated_at=now,
        )
        actor = _customer(caller)
        # Flood limits last, once the request is known good: a refused submission writes nothing (no
        # request, no upload forms, so no messages and no timer); a bad one costs no allowance. The open
        # requests are read first so a customer at that limit uses up no window; the save checks them
        # again in its transaction (two submissions at once).
        if self._requests.open_count(caller.tenant_id, caller.email) >= settings.max_open_per_customer:
            raise TooManyOpen(settings.max_open_per_customer)
        for window in submission_windows(settings, caller.email, now):
            if not self._limiter.take(
                caller.tenant_id, window.counter, window.start, window.length, window.limit
            ):
                raise TooManyRequests(window.refusal, window.retry_after(now))
        self._requests.save(
            request,
            None,
            RequestHistoryEntry(at=now, actor=actor, action="submitted", to_state=request.state),
            open_limit=settings.max_open_per_customer,
        )
        uploads = [
            self._photos.upload_form(p.key, p.content_type, p.size_bytes, UPLOAD_FORM_SECONDS) for p in photos
        ]
        return Submitted(request, uploads)

    def mine(self, caller: RequestCaller) -> list[ServiceRequest]:
        return self._requests.for_customer(caller.tenant_id, caller.email)

    def view_mine(self, caller: RequestCaller, request_id: str) -> RequestDetail:
        request, history = self._own(caller, request_id)
        return RequestDetail(request, history, {})

    def photo_uploaded(self, caller: RequestCaller, request_id: str, index: int) -> Photo:
        """Checks an uploaded photo: copied to its verified key (which no upload form can write), and the
        copy really an image of the declared type and size. A photo that is not is deleted and refused (422
        naming it); the request keeps it as rejected. Once verified, the record answers (the photo is not
        read again) unless its verified copy has gone."""
        request, _ = self._own(caller, request_id)
        if not 0 <= index < len(request.photos):
            raise NotFound(f"this request has no photo {index}")
        photo = request.photos[index]
        if (
            photo.status == "verified"
            and photo.verified_key is not None
            and self._photos.etag(photo.verified_key) == photo.etag
        ):
            return photo  # answered from the record: the checked copy is still there
        target = verified_photo_key(request.tenant_id, request.id, index)
        etag = self._photos.copy(photo.key, target, photo.content_type)
        if etag is None:
            raise Conflict("the photo has not been uploaded yet")
        # The copy is what is checked and shown: a form re-posted after this changes only the upload.
        size, first_bytes = self._photos.head(target) or (0, b"")
        problem = check_photo(photo, first_bytes, size)
        if problem:
            self._photos.delete(target)
        checked = photo.model_copy(
            update={
                "status": "rejected" if problem else "verified",
                "problem": problem,
                "size_bytes": size,
                "verified_key": None if problem else target,
                "etag": None if problem else etag,
            }
        )
        photos = list(request.photos)
        photos[index] = checked
        self._change(
            request,
            _customer(caller),
            "photo_rejected" if problem else "photo_verified",
            None,
            {"photo": str(index)} | ({"problem": problem} if problem else {}),
            photos=photos,
        )
        # Once recorded (a save refused meanwhile leaves it for the customer's retry), the upload has
        # served: it is in the verified copy, or it was refused.
        self._photos.delete(photo.key)
        if problem:
            raise invalid(f"photos.{index}", problem)
        return checked

    def cancel(self, caller: RequestCaller, request_id: str) -> ServiceRequest:
        request, _ = self._own(caller, request_id)
        check_transition(request.state, RequestState.CANCELLED, "customer")
        self._withdraw_hold(request, "the request was cancelled")
        return self._change(request, _customer(caller), "cancelled", RequestState.CANCELLED)

    def reply(self, caller: RequestCaller, request_id: str, accepted: bool, message: str) -> ServiceRequest:
        """The customer accepts the proposed time (it becomes their booking) or declines it (the request
        goes back to the business, with the customer's message)."""
        request, _ = self._own(caller, request_id)
        target = RequestState.CONFIRMED if accepted else RequestState.UNDER_REVIEW
        check_transition(request.state, target, "customer")
        counter = request.open_counter
        assert counter is not None  # COUNTER_PROPOSED always ends with one
        position, proposal = counter
        now = self._clock.now()
        reply = CustomerReply(response=position, accepted=accepted, at=now, message=message)
        if not accepted:
            self._withdraw_hold(request, "the customer declined the proposed time")
            return self._change(
                request,
                _customer(caller),
                "counter_declined",
                target,
                {"message": message} if message else {},
                replies=[*request.replies, reply],
            )
        if proposal.hold_expires_at is not None and now >= proposal.hold_expires_at:
            raise Conflict("the proposed time was held until it expired; the business will propose another")
        assert proposal.booking_id is not None
        found = self._bookings.get(request.tenant_id, proposal.booking_id)
        if found is None or not found[0].on_hold:
            raise Conflict("the proposed time is no longer held; the business will propose another")
        # The hold becomes the booking, confirmed now (its confirmation, invite and reminders follow from
        # the committed change); the time is claimed for good in the same transaction, or SlotTaken.
        save_change(
            self._bookings,
            found[0],
            at=now,
            actor=_customer(caller),
            action="proposed_time_accepted",
            details={"request_id": request.id},
            status=BookingStatus.CONFIRMED,
            hold_expires_at=None,
        )
        return self._change(
            request,
            _customer(caller),
            "counter_accepted",
            target,
            replies=[*request.replies, reply],
            booking_id=proposal.booking_id,
        )

    # --- the business ---------------------------------------------------------------------------------

    def inbox(
        self,
        principal: Principal,
        states: set[RequestState] | None = None,
        older_than_hours: int | None = None,
    ) -> list[ServiceRequest]:
        """Incoming requests, newest first: by state and age; staff see those assigned to them."""
        principal.require(ANSWERERS)
        now = self._clock.now()
        found = self._requests.inbox(principal.tenant_id, INBOX_LIMIT)
        if principal.role is Role.STAFF:
            found = [r for r in found if r.assigned_staff_id == principal.staff_id]
        if states:
            found = [r for r in found if r.state in states]
        if older_than_hours is not None:
            found = [r for r in found if now - r.created_at >= timedelta(hours=older_than_hours)]
        return found

    def view(self, principal: Principal, request_id: str) -> RequestDetail:
        request, history = self._for(principal, request_id)
        urls = {
            p.index: self._photos.view_url(
                # A photo verified before verified copies existed is still at its upload key, whose forms
                # (900 s then) have long expired.
                p.verified_key or p.key,
                PHOTO_VIEW_SECONDS,
                p.content_type,
                photo_filename(request.id, p.index, p.content_type),
            )
            for p in request.photos
            if p.status == "verified"
        }
        # A request's messages are logged under its id, as a booking's are (services/messaging/requests.py).
        return RequestDetail(request, history, urls, self._messages.records(request.tenant_id, request.id))

    def customer_bookings(self, principal: Principal, request: ServiceRequest) -> list[Booking]:
        """The requesting customer's bookings with the business (a staff member: those they gave)."""
        found = self._bookings.customer_bookings(principal.tenant_id, request.customer.email)
        if principal.role is Role.STAFF:
            found = [b for b in found if b.staff_id == principal.staff_id]
        return found

    def review(self, principal: Principal, request_id: str) -> ServiceRequest:
        request, _ = self._for(principal, request_id)
        check_transition(request.state, RequestState.UNDER_REVIEW, "business")
        return self._change(request, actor_for(principal), "under_review", RequestState.UNDER_REVIEW)

    def assign(self, principal: Principal, request_id: str, staff_id: str | None) -> ServiceRequest:
        principal.require(TRIAGE)
        request, _ = self._for(principal, request_id)
        if (
            staff_id is not None
            and self._engine.tenant_catalogue(principal.tenant_id).staff_member(staff_id) is None
        ):
            raise invalid("staff_id", "no such staff member")
        return self._change(
            request,
            actor_for(principal),
            "assigned",
            None,
            {"staff_id": staff_id or ""},
            assigned_staff_id=staff_id,
        )

    def accept(self, principal: Principal, request_id: str, answer: AcceptRequest) -> ServiceRequest:
        request = self._answerable(principal, request_id, RequestState.CONFIRMED)
        booking_id = self._book(principal, request, answer, hold_until=None)
        response = self._timed_response("accepted", principal, answer, booking_id, None)
        return self._answer(principal, request, RequestState.CONFIRMED, response, booking_id=booking_id)

    def counter_propose(
        self, principal: Principal, request_id: str, answer: CounterProposal
    ) -> ServiceRequest:
        request = self._answerable(principal, request_id, RequestState.COUNTER_PROPOSED)
        settings = self._settings(self._engine.tenant_catalogue(principal.tenant_id))
        hold_until = self._clock.now() + timedelta(hours=settings.counter_hold_hours)
        booking_id = self._book(principal, request, answer, hold_until=hold_until)
        response = self._timed_response("counter_proposal", principal, answer, booking_id, hold_until)
        return self._answer(principal, request, RequestState.COUNTER_PROPOSED, response)

    def decline(self, principal: Principal, request_id: str, answer: DeclineRequest) -> ServiceRequest:
        request = self._answerable(principal, request_id, RequestState.DECLINED)
        response = BusinessResponse(
            kind="declined",
            at=self._clock.now(),
            by=actor_for(principal),
            message=answer.message,
            alternatives=answer.alternatives,
        )
        return self._answer(principal, request, RequestState.DECLINED, response)

    # --- helpers ----------------------------------------------------------------------------------------

    def _settings(self, catalogue: Catalogue) -> RequestSettings:
        settings = catalogue.business.booking_requests
        if not settings.enabled:
            raise NotFound(f"{catalogue.business.name} does not take booking requests")
        return settings

    def _own(
        self, caller: RequestCaller, request_id: str
    ) -> tuple[ServiceRequest, list[RequestHistoryEntry]]:
        found = self._requests.get(caller.tenant_id, request_id)
        if found is None or found[0].customer.email.lower() != caller.email.lower():
            raise NotFound(f"request {request_id} not found")  # another customer's is no request at all
        return found

    def _for(self, principal: Principal, request_id: str) -> tuple[ServiceRequest, list[RequestHistoryEntry]]:
        principal.require(ANSWERERS)
        found = self._requests.get(principal.tenant_id, request_id)
        if found is None:
            raise NotFound(f"request {request_id} not found")
        if principal.role is Role.STAFF and found[0].assigned_staff_id != principal.staff_id:
            raise NotFound(f"request {request_id} not found")  # staff see what is assigned to them
        return found

    def _book(
        self,
        principal: Principal,
        request: ServiceRequest,
        answer: AcceptRequest,
        hold_until: datetime | None,
    ) -> str:
        """The booking an answer makes (confirmed, or held for the customer), with an id of this request
        and version: two answers at once race for the same id, and only one is written."""
        if principal.role is Role.STAFF and answer.staff_id != principal.staff_id:
            raise Forbidden("staff answer with their own time only")
        service_id = answer.service_id or request.service_id
        if service_id is None:
            raise invalid("service_id", "name the service booked: the request was described in free text")
        catalogue = self._engine.tenant_catalogue(request.tenant_id)
        anywhere = self._may_place(principal, catalogue, answer)
        booking_id = f"{request.id}-r{request.version}"
        try:
            self._engine.create(
                catalogue,
                BookingCommand(
                    services=(service_id,),
                    staff=answer.staff_id,
                    start=answer.start,
                    end=answer.end,
                    customer=CustomerDetails(
                        name=request.customer.name, email=request.customer.email, phone=request.customer.phone
                    ),
                    notes=request.notes,
                    actor=actor_for(principal),
                    source="admin",
                    allow_outside_shift=anywhere,
                    booking_id=booking_id,
                    hold=Hold(hold_until) if hold_until is not None else None,
                    request=RequestOrigin(request.id, request.address),
                ),
            )
        except SlotTaken:
            if self._bookings.get(request.tenant_id, booking_id) is not None:
                raise Conflict("the request was answered by someone else a moment ago") from None
            raise
        return booking_id

    @staticmethod
    def _may_place(principal: Principal, catalogue: Catalogue, answer: AcceptRequest) -> bool:
        """The one rule for where an answer (accepting or proposing a time) may place the job, so both
        answer alike: owners, admins and the staff member themselves anywhere (a job over several days, an
        evening), never over another booking; a dispatcher within the staff member's working hours, breaks
        included (a full day across the lunch break). InvalidInput naming the hours otherwise."""
        if principal.role in OUTSIDE_SHIFT_BOOKERS:
            return True
        member = catalogue.staff_member(answer.staff_id)
        if member is None:
            return False  # the engine names the unknown staff member
        if not within_working_hours(catalogue.business, member, answer.start, answer.end):
            raise invalid(
                "start",
                f"a dispatcher places jobs within {member.name}'s working hours that day (their breaks "
                "may fall inside the job); an owner or admin can place it outside them",
            )
        # Within the shift but across a break: the slot engine would refuse it; the ledger still refuses
        # any overlap with another booking.
        return True

    def _answer(
        self,
        principal: Principal,
        request: ServiceRequest,
        target: RequestState,
        response: BusinessResponse,
        booking_id: str | None = None,
    ) -> ServiceRequest:
        try:
            return self._change(
                request,
                actor_for(principal),
                response.kind,
                target,
                {"message": response.message} if response.message else {},
                responses=[*request.responses, response],
                booking_id=booking_id,
            )
        except Conflict:
            # Changed meanwhile (the customer cancelled): the booking this answer made goes again.
            if response.booking_id is not None:
                self._release(request.tenant_id, response.booking_id, "the request changed before the answer")
            raise

    def _answerable(self, principal: Principal, request_id: str, target: RequestState) -> ServiceRequest:
        """The request, if the business may move it to `target` now; a lapsed proposal's record released."""
        request, _ = self._for(principal, request_id)
        check_transition(self._awaiting(request), target, "business")
        self._lapse(request)
        return request

    def _timed_response(
        self,
        kind: Literal["accepted", "counter_proposal"],
        principal: Principal,
        answer: AcceptRequest,
        booking_id: str,
        hold_until: datetime | None,
    ) -> BusinessResponse:
        return BusinessResponse(
            kind=kind,
            at=self._clock.now(),
            by=actor_for(principal),
            message=answer.message,
            staff_id=answer.staff_id,
            start=answer.start,
            end=answer.end,
            booking_id=booking_id,
            hold_expires_at=hold_until,
        )

    def _awaiting(self, request: ServiceRequest) -> RequestState:
        return answering_state(request, self._clock.now())

    def _lapse(self, request: ServiceRequest) -> None:
        """Frees the record of a lapsed proposed time before another answer (the ledger freed the time)."""
        if self._awaiting(request) is not request.state:
            self._withdraw_hold(request, "the proposed time lapsed unanswered")

    def _withdraw_hold(self, request: ServiceRequest, why: str) -> None:
        counter = request.open_counter
        if counter is not None and counter[1].booking_id is not None:
            self._release(request.tenant_id, counter[1].booking_id, why)

    def _release(self, tenant_id: str, booking_id: str, why: str) -> None:
        found = self._bookings.get(tenant_id, booking_id)
        if found is not None and found[0].status is BookingStatus.PENDING:
            self._engine.set_status(
                found[0], BookingStatus.CANCELLED, Actor(kind="system", id="requests"), why
            )

    def _change(
        self,
        request: ServiceRequest,
        actor: Actor,
        action: str,
        target: RequestState | None,
        details: dict[str, str] | None = None,
        **updates: object,
    ) -> ServiceRequest:
        now = self._clock.now()
        changed = request.model_copy(
            update={
                **updates,
                **({"state": target} if target is not None else {}),
                "updated_at": now,
                "version": request.version + 1,
            }
        )
        entry = RequestHistoryEntry(
            at=now,
            actor=actor,
            action=action,
            from_state=request.state if target is not None else None,
            to_state=target,
            details=details or {},
        )
        self._requests.save(changed, request, entry)
        return changed


def _customer(caller: RequestCaller) -> Actor:
    return Actor(kind="customer", id=caller.email.lower(), on_behalf_of=caller.acting_user)
