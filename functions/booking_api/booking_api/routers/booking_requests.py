"""Booking requests: signed-in, onboarded customers ask for a job (with up to 3 photos uploaded straight to
storage); the business triages and answers it from an inbox of leads."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Depends, Request, Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from booking.domain.access import Principal
from booking.domain.booking_requests import RequestState
from booking.services.booking_requests import BookingRequests, RequestCaller
from booking_api.cors import request_origin, respond
from booking_api.deps import SignedIn, booking_requests, principal, signed_in
from booking_api.openapi import ADMIN_SECURITY
from booking_api.schemas.requests import (
    AcceptRequest,
    AssignRequest,
    CounterProposal,
    CounterReply,
    DeclineRequest,
    Photo,
    RequestDetailOut,
    RequestDraft,
    RequestOut,
    SubmittedOut,
)

router = APIGatewayRouter()

Caller = Annotated[Principal, Depends(principal)]
Requests = Annotated[BookingRequests, Depends(booking_requests)]
SlugParam = Annotated[str, Path(pattern=r"^[a-z0-9-]{1,50}$")]
RequestId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
PhotoIndex = Annotated[int, Path(ge=0, le=2)]

MINE = "/v1/public/businesses/<slug>/customers/me/booking-requests"
ONE_OF_MINE = f"{MINE}/<request_id>"
CUSTOMER_TAGS = ["public: booking requests"]
ADMIN = "/v1/admin/booking-requests"
ADMIN_TAGS = ["admin: booking requests"]


# --- customers -------------------------------------------------------------------------------------------


Me = Annotated[SignedIn, Depends(signed_in)]


def _caller(me: SignedIn) -> RequestCaller:
    return RequestCaller(me.session.tenant_id, me.session.email, me.session.acting_user)


@router.post(MINE, tags=CUSTOMER_TAGS, responses={201: {"description": "Submitted"}})
def submit_request(
    slug: SlugParam,
    body: RequestDraft,
    requests: Requests,
    me: Me,
    request: Request,
) -> Response[SubmittedOut]:
    """Submits a request (Authorization: Bearer <customer token>; onboarded customers only). The answer
    carries a presigned POST for each declared photo (valid five minutes): upload each straight to
    storage, then call `.../photos/{index}/uploaded` so it is checked. 429 (problem+json, nothing written)
    past the business's limits: open requests per customer (no Retry-After: it lifts with an answer or a
    cancellation), submissions per customer per hour and per day, and per business per hour (Retry-After
    until the window ends)."""
    submitted = requests.submit(_caller(me), body.to_domain())
    out = SubmittedOut(**RequestOut.of(submitted.request).model_dump(), uploads=submitted.uploads)
    return respond(out, me.business, request_origin(request), status=201)


@router.get(MINE, tags=CUSTOMER_TAGS)
def my_requests(slug: SlugParam, requests: Requests, me: Me, request: Request) -> Response[list[RequestOut]]:
    """The signed-in customer's requests, newest first."""
    mine = requests.mine(_caller(me))
    return respond([RequestOut.of(r) for r in mine], me.business, request_origin(request))


@router.get(ONE_OF_MINE, tags=CUSTOMER_TAGS)
def my_request(
    slug: SlugParam,
    request_id: RequestId,
    requests: Requests,
    me: Me,
    request: Request,
) -> Response[RequestDetailOut]:
    """One of the signed-in customer's requests, with its history and the business's answers."""
    found = requests.view_mine(_caller(me), request_id)
    return respond(RequestDetailOut.detail(found), me.business, request_origin(request))


@router.post(f"{ONE_OF_MINE}/cancel", tags=CUSTOMER_TAGS)
def cancel_my_request(
    slug: SlugParam,
    request_id: RequestId,
    requests: Requests,
    me: Me,
    request: Request,
) -> Response[RequestOut]:
    """Cancels a request not confirmed yet (a time held for it is released)."""
    cancelled = requests.cancel(_caller(me), request_id)
    return respond(RequestOut.of(cancelled), me.business, request_origin(request))


@router.post(f"{ONE_OF_MINE}/counter-proposal/accept", tags=CUSTOMER_TAGS)
def accept_counter_proposal(
    slug: SlugParam,
    request_id: RequestId,
    requests: Requests,
    me: Me,
    request: Request,
) -> Response[RequestOut]:
    """Accepts the proposed time while it is held: it becomes the customer's booking (confirmation and
    invite follow). 409 once the hold expired."""
    answered = requests.reply(_caller(me), request_id, True, "")
    return respond(RequestOut.of(answered), me.business, request_origin(request))


@router.post(f"{ONE_OF_MINE}/counter-proposal/decline", tags=CUSTOMER_TAGS)
def decline_counter_proposal(
    slug: SlugParam,
    request_id: RequestId,
    body: CounterReply,
    requests: Requests,
    me: Me,
    request: Request,
) -> Response[RequestOut]:
    """Declines the proposed time, saying why: the request goes back to the business."""
    answered = requests.reply(_caller(me), request_id, False, body.message)
    return respond(RequestOut.of(answered), me.business, request_origin(request))


@router.post(f"{ONE_OF_MINE}/photos/<index>/uploaded", tags=CUSTOMER_TAGS)
def photo_uploaded(
    slug: SlugParam,
    request_id: RequestId,
    index: PhotoIndex,
    requests: Requests,
    me: Me,
    request: Request,
) -> Response[Photo]:
    """Checks an uploaded photo (really an image of the declared type and size) in its verified copy, which
    no upload form can change; 422 naming the problem otherwise (the upload is deleted). Once verified,
    asking again answers from the record."""
    photo = requests.photo_uploaded(_caller(me), request_id, index)
    return respond(photo, me.business, request_origin(request))


# --- the business ----------------------------------------------------------------------------------------


@router.get(ADMIN, tags=ADMIN_TAGS, security=ADMIN_SECURITY)
def inbox(
    caller: Caller,
    requests: Requests,
    state: Annotated[list[RequestState] | None, Query(description="only these states")] = None,
    older_than_hours: Annotated[int | None, Query(ge=0, le=24 * 365)] = None,
) -> list[RequestOut]:
    """Incoming requests as leads, newest first; staff see those assigned to them."""
    found = requests.inbox(caller, set(state) if state else None, older_than_hours)
    return [RequestOut.of(r) for r in found]


@router.get(f"{ADMIN}/<request_id>", tags=ADMIN_TAGS, security=ADMIN_SECURITY)
def view_request(request_id: RequestId, caller: Caller, requests: Requests) -> RequestDetailOut:
    """The request with its history, links to its photos (five minutes) and the customer's bookings."""
    found = requests.view(caller, request_id)
    return RequestDetailOut.detail(found, requests.customer_bookings(caller, found.request))


@router.post(f"{ADMIN}/<request_id>/review", tags=ADMIN_TAGS, security=ADMIN_SECURITY)
def mark_under_review(request_id: RequestId, caller: Caller, requests: Requests) -> RequestOut:
    """Marks a submitted request as being looked at; the customer is told it is under review."""
    return RequestOut.of(requests.review(caller, request_id))


@router.put(f"{ADMIN}/<request_id>/assignee", tags=ADMIN_TAGS, security=ADMIN_SECURITY)
def assign_request(
    request_id: RequestId, body: AssignRequest, caller: Caller, requests: Requests
) -> RequestOut:
    """Who answers it (owners, admins, dispatchers); staff answer only requests assigned to them."""
    return RequestOut.of(requests.assign(caller, request_id, body.staff_id))


@router.post(f"{ADMIN}/<request_id>/accept", tags=ADMIN_TAGS, security=ADMIN_SECURITY)
def accept_request(
    request_id: RequestId, body: AcceptRequest, caller: Caller, requests: Requests
) -> RequestOut:
    """Accepts: a booking for the staff member at that time and length (half a day, days), with the job's
    address. Of two answers at once exactly one wins; the other gets 409."""
    return RequestOut.of(requests.accept(caller, request_id, body.to_domain()))


@router.post(f"{ADMIN}/<request_id>/counter-proposal", tags=ADMIN_TAGS, security=ADMIN_SECURITY)
def counter_propose(
    request_id: RequestId, body: CounterProposal, caller: Caller, requests: Requests
) -> RequestOut:
    """Proposes another time, held for the customer (the business's counter_hold_hours)."""
    return RequestOut.of(requests.counter_propose(caller, request_id, body.to_domain()))


@router.post(f"{ADMIN}/<request_id>/decline", tags=ADMIN_TAGS, security=ADMIN_SECURITY)
def decline_request(
    request_id: RequestId, body: DeclineRequest, caller: Caller, requests: Requests
) -> RequestOut:
    """Declines the request with a message to the customer (a time held for a counter-proposal is freed)."""
    return RequestOut.of(requests.decline(caller, request_id, body.to_domain()))
