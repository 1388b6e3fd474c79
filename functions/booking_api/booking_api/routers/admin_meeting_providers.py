"""Admin API for the business's meeting-provider accounts: connect (the credentials are checked with the
provider, then stored in Secrets Manager), see which are connected, disconnect. Credentials are
write-only: no route ever returns them."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Depends, Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from booking.domain.access import Principal
from booking.services.meetings import MeetingAdmin
from booking_api.deps import meeting_admin, principal, tenant_catalogue
from booking_api.openapi import ADMIN_SECURITY
from booking_api.schemas.meetings import (
    ApiKeyCredentials,
    GoogleMeetCredentials,
    ProviderConnection,
    TeamsCredentials,
    ZoomCredentials,
)

router = APIGatewayRouter()

Caller = Annotated[Principal, Depends(principal)]
Meetings = Annotated[MeetingAdmin, Depends(meeting_admin)]
Provider = Annotated[str, Path(pattern=r"^(zoom|google_meet|microsoft_teams|daily|whereby)$")]
TAGS = ["admin: meeting providers"]
BASE = "/v1/admin/business/meeting-providers"


def _connect(meetings: MeetingAdmin, caller: Principal, provider: str, body: Any) -> ProviderConnection:
    checked = meetings.connect(caller, provider, body.model_dump())
    return ProviderConnection(provider=provider, connected=True, checked_at=checked)


@router.get(BASE, tags=TAGS, security=ADMIN_SECURITY)
def connections(caller: Caller, meetings: Meetings) -> list[ProviderConnection]:
    """Which hosted providers the business has connected (owners and admins). Never the credentials."""
    return [ProviderConnection(provider=p, connected=c) for p, c in meetings.connected(caller).items()]


@router.put(f"{BASE}/zoom", tags=TAGS, security=ADMIN_SECURITY)
def connect_zoom(body: ZoomCredentials, caller: Caller, meetings: Meetings) -> ProviderConnection:
    """A Server-to-Server OAuth app (account id, client id and secret). Checked with Zoom first."""
    return _connect(meetings, caller, "zoom", body)


@router.put(f"{BASE}/google_meet", tags=TAGS, security=ADMIN_SECURITY)
def connect_google_meet(
    body: GoogleMeetCredentials, caller: Caller, meetings: Meetings
) -> ProviderConnection:
    """A service account's JSON key (pasted whole) and the calendar it writes to. Checked with Google."""
    return _connect(meetings, caller, "google_meet", body)


@router.put(f"{BASE}/microsoft_teams", tags=TAGS, security=ADMIN_SECURITY)
def connect_teams(body: TeamsCredentials, caller: Caller, meetings: Meetings) -> ProviderConnection:
    """An Entra ID app (tenant, client id and secret) and the organiser's user id. Checked with Graph."""
    return _connect(meetings, caller, "microsoft_teams", body)


@router.put(f"{BASE}/daily", tags=TAGS, security=ADMIN_SECURITY)
def connect_daily(body: ApiKeyCredentials, caller: Caller, meetings: Meetings) -> ProviderConnection:
    """Connects Daily with an API key (checked with Daily, then stored write-only)."""
    return _connect(meetings, caller, "daily", body)


@router.put(f"{BASE}/whereby", tags=TAGS, security=ADMIN_SECURITY)
def connect_whereby(body: ApiKeyCredentials, caller: Caller, meetings: Meetings) -> ProviderConnection:
    """Connects Whereby with an API key (checked with Whereby, then stored write-only)."""
    return _connect(meetings, caller, "whereby", body)


@router.delete(
    f"{BASE}/<provider>", tags=TAGS, security=ADMIN_SECURITY, responses={204: {"description": "Gone"}}
)
def disconnect(provider: Provider, caller: Caller, meetings: Meetings) -> Response[None]:
    """Deletes the stored credentials; refused while the provider makes the business's links."""
    meetings.disconnect(caller, provider, tenant_catalogue(caller.tenant_id).business)
    return Response(status_code=204)
