"""What a booking request's messages say, composed from the request as it is when each is sent: to its
customer (email and SMS), or to the business's people (email), each with the request's page in the customer
portal or the staff app. The pipeline decides whether and to whom (pipeline.py); this only composes."""

from __future__ import annotations

from booking.domain.booking_requests import ServiceRequest
from booking.domain.catalogue import Business
from booking.domain.communications import MessageChannel, MessageRequest
from booking.ports import CatalogueReader, RequestRepository
from booking.rendering.messages import request_message
from booking.services.messaging.checks import waiting_round, waiting_since
from booking.services.messaging.kinds import REQUEST_ESCALATION, MessageKind, Subject, request_subject
from booking.services.messaging.pipeline import Addressee, Composed


class RequestContent:
    """The pipeline's `Family` for booking requests (their messages are logged under the request's id)."""

    def __init__(self, catalogue: CatalogueReader, requests: RequestRepository, portal_base_url: str) -> None:
        self._catalogue = catalogue
        self._requests = requests
        self._portal_base_url = portal_base_url.rstrip("/")

    def load(self, tenant_id: str, subject_id: str) -> Subject[ServiceRequest] | None:
        found = self._requests.get(tenant_id, subject_id)
        catalogue = self._catalogue.load_catalogue(tenant_id) if found is not None else None
        return request_subject(found[0], catalogue) if found is not None and catalogue is not None else None

    def portal_url(self, request: ServiceRequest, business: Business) -> str:
        """The request's page in the customer portal. No token in it: the customer signs in there with the
        emailed code (as for every customer route), and the page calls the API's routes for their request
        (view, cancel, and accept or decline a proposed time). `business` names where to sign in."""
        return f"{self._portal_base_url}/requests/{request.id}?business={business.slug}"

    def staff_url(self, request: ServiceRequest) -> str:
        """The request in the staff app, on the same base as the portal and the manage links (the pages
        are served together: DESIGN.md's web layer). Staff sign in there, so no token in it either."""
        return f"{self._portal_base_url}/staff/requests/{request.id}"

    def compose(
        self,
        kind: MessageKind[ServiceRequest],
        subject: Subject[ServiceRequest],
        request: MessageRequest,
        channel: MessageChannel,
        to: Addressee,
    ) -> Composed:
        current, business = subject.current, subject.business
        escalation = kind.name == REQUEST_ESCALATION.name
        waited = None
        if escalation:  # how long it has waited: since it fired (about_start), from when the wait began
            since = request.previous_start or waiting_since(current)
            waited = int((request.about_start - since).total_seconds() // 3600)
        content = request_message(
            kind.name,  # type: ignore[arg-type]
            current,
            business,
            portal_url=self.portal_url(current, business),
            staff_url=self.staff_url(current),
            waited_hours=waited,
            since_reply=escalation and waiting_round(current) > 0,
            template=kind.template,
        )
        return content, ()
