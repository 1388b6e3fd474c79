"""A local Google: the OAuth token endpoint (service-account JWT bearer grant, the RS256 assertion
checked against the service account's public key) and the Calendar API's events with Meet conferences.

Tokens, events and Meet codes live in memory. Errors use Google's bodies: {"error": "invalid_grant",
"error_description": ...} from the token endpoint, {"error": {"code", "message", "errors": [...]}}
from the Calendar API."""

from __future__ import annotations

import secrets
import string
import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from booking.adapters.system import SystemClock
from booking.ports import Clock
from local.fakes.server import FakeServer, Reply, Request

TOKEN_LIFETIME = 3599
ASSERTION_MAX_LIFETIME = timedelta(hours=1)
CLOCK_SKEW = timedelta(minutes=5)
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CALENDAR_SCOPES = {
    "https://www.googleapis.com/auth/calendar",
    "https://www.googleapis.com/auth/calendar.events",
}
BASE32HEX = set("0123456789abcdefghijklmnopqrstuv")
UNAUTHENTICATED = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other "
    "valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."
)


def generate_private_key_pem() -> str:
    """A new service-account key as Google hands it out: RSA 2048, PKCS#8 PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


_DEMO_PRIVATE_KEY = generate_private_key_pem()  # once per process: RSA generation takes a moment

DEMO_CREDENTIALS: dict[str, str] = {
    "client_email": "booking-demo@booking-demo.iam.gserviceaccount.com",
    "private_key": _DEMO_PRIVATE_KEY,
    "private_key_id": "3f1e0c9a7b5d4e2f8a6c1b0d9e7f5a3c2b1d0e9f",
    "calendar_id": "primary",
}


def google_error(status: int, message: str, reason: str, domain: str = "global") -> dict[str, Any]:
    """A Calendar API error body."""
    return {
        "error": {
            "errors": [{"domain": domain, "reason": reason, "message": message}],
            "code": status,
            "message": message,
        }
    }


def _oauth_error(error: str, description: str) -> dict[str, str]:
    return {"error": error, "error_description": description}


class FakeGoogle(FakeServer):
    """`events` holds the live events by id; `conference_pending` makes that many answers about a new
    event (its creation's included) show the Meet conference still "pending" before it succeeds."""

    name = "google"

    def __init__(
        self,
        credentials: Mapping[str, Any] = DEMO_CREDENTIALS,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(host, port)
        self.client_email = str(credentials["client_email"])
        self.private_key_id = credentials.get("private_key_id")
        self.calendar_id = str(credentials.get("calendar_id") or "primary")
        private_key = serialization.load_pem_private_key(
            str(credentials["private_key"]).encode(), password=None
        )
        if not isinstance(private_key, rsa.RSAPrivateKey):
            raise ValueError("a Google service-account key is an RSA key")
        self._public_key = private_key.public_key()
        self.events: dict[str, dict[str, Any]] = {}
        self.cancelled: dict[str, dict[str, Any]] = {}  # Google keeps deleted events (status "cancelled")
        self.tokens: dict[str, datetime] = {}  # access token -> expiry
        self.conference_pending = 0
        self.meet_enabled = True  # False: conference requests are dropped (Meet off for the account)
        self.token_lifetime = TOKEN_LIFETIME  # seconds; 0 makes every token refused on arrival
        self.clock: Clock = clock or SystemClock()  # tokens and assertions expire by it
        self._data_lock = threading.Lock()
        self._pending: dict[str, int] = {}

        events = r"/calendar/v3/calendars/(?P<calendar>[^/]+)/events"
        self.route("POST", "/token", self._token)
        self.route("GET", events, self._list)
        self.route("POST", events, self._insert)
        self.route("GET", events + r"/(?P<event>[^/]+)", self._get)
        self.route("PATCH", events + r"/(?P<event>[^/]+)", self._patch)
        self.route("DELETE", events + r"/(?P<event>[^/]+)", self._delete)

    def revoke_tokens(self) -> None:
        """Every access token issued so far stops working (as when a key is deleted)."""
        with self._data_lock:
            self.tokens.clear()

    @property
    def token_requests(self) -> int:
        return sum(1 for r in self.requests if r.path == "/token")

    def not_found(self, request: Request) -> Reply:
        return Reply(404, google_error(404, "Not Found", "notFound"))

    # --- OAuth ------------------------------------------------------------------------------------------

    def _token(self, request: Request) -> Reply:
        form = request.form()
        if form.get("grant_type") != JWT_BEARER_GRANT:
            return Reply(
                400,
                _oauth_error("unsupported_grant_type", f"Invalid grant_type: {form.get('grant_type', '')}"),
            )
        assertion = form.get("assertion", "")
        try:
            header = jwt.get_unverified_header(assertion)
            unverified = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            return Reply(400, _oauth_error("invalid_grant", "Invalid JWT: Token must be a JWT."))
        if unverified.get("iss") != self.client_email:
            return Reply(400, _oauth_error("invalid_grant", "Invalid grant: account not found"))
        if header.get("alg") != "RS256" or (self.private_key_id and header.get("kid") != self.private_key_id):
            return Reply(400, _oauth_error("invalid_grant", "Invalid JWT Signature."))
        try:
            claims = jwt.decode(
                assertion,
                self._public_key,
                algorithms=["RS256"],
                audience=f"{self.base_url}/token",
                options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
            )
        except jwt.InvalidAudienceError:
            return Reply(400, _oauth_error("invalid_grant", "Invalid JWT: Failed audience check."))
        except jwt.PyJWTError:
            return Reply(400, _oauth_error("invalid_grant", "Invalid JWT Signature."))
        now = self.clock.now()
        issued = datetime.fromtimestamp(int(claims.get("iat", 0)), UTC)
        expires = datetime.fromtimestamp(int(claims.get("exp", 0)), UTC)
        if (
            not (issued - CLOCK_SKEW <= now < expires + CLOCK_SKEW)
            or expires - issued > ASSERTION_MAX_LIFETIME
        ):
            return Reply(
                400,
                _oauth_error(
                    "invalid_grant",
                    "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. "
                    "Check your iat and exp values in the JWT claim.",
                ),
            )
        if not set(str(claims.get("scope", "")).split()) & CALENDAR_SCOPES:
            return Reply(
                400, _oauth_error("invalid_scope", "Invalid OAuth scope or ID token audience provided.")
            )
        token = "ya29.fake-" + secrets.token_urlsafe(32)
        with self._data_lock:
            self.tokens[token] = now + timedelta(seconds=self.token_lifetime)
        return Reply(200, {"access_token": token, "expires_in": self.token_lifetime, "token_type": "Bearer"})

    def _denied(self, request: Request, calendar: str) -> Reply | None:
        """401 for a missing, unknown or expired token; 404 for a calendar the account cannot see."""
        token = request.bearer()
        with self._data_lock:
            expiry = self.tokens.get(token or "")
        if expiry is None or self.clock.now() >= expiry:
            body = google_error(401, "Invalid Credentials", "authError")
            body["error"].update(message=UNAUTHENTICATED, status="UNAUTHENTICATED")
            return Reply(401, body, {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'})
        if unquote(calendar) not in {"primary", self.calendar_id, self.client_email}:
            return Reply(404, google_error(404, "Not Found", "notFound"))
        return None

    # --- Calendar events --------------------------------------------------------------------------------

    def _list(self, request: Request) -> Reply:
        if denied := self._denied(request, request.params["calendar"]):
            return denied
        with self._data_lock:
            items = [self._render(e, read=False) for e in self.events.values()]
        limit = int(request.query.get("maxResults", ["250"])[0])
        return Reply(200, {"kind": "calendar#events", "summary": self.client_email, "items": items[:limit]})

    def _insert(self, request: Request) -> Reply:
        if denied := self._denied(request, request.params["calendar"]):
            return denied
        body = request.json() or {}
        event_id = body.get("id")
        if event_id is not None and (
            not isinstance(event_id, str) or not 5 <= len(event_id) <= 1024 or not set(event_id) <= BASE32HEX
        ):
            return Reply(400, google_error(400, "Invalid resource id value.", "invalid"))
        problem = _time_problem(body)
        if problem:
            return problem
        conference = None
        wants_conference = request.query.get("conferenceDataVersion") == ["1"] and body.get("conferenceData")
        if wants_conference and self.meet_enabled:
            create = body["conferenceData"].get("createRequest") or {}
            if (create.get("conferenceSolutionKey") or {}).get("type") != "hangoutsMeet":
                return Reply(400, google_error(400, "Invalid conference type value.", "invalid"))
            if not create.get("requestId"):
                return Reply(400, google_error(400, "Missing conference request id.", "required"))
            conference = _new_conference(str(create["requestId"]))
        with self._data_lock:
            event_id = event_id or _new_event_id()
            if event_id in self.events or event_id in self.cancelled:
                return Reply(409, google_error(409, "The requested identifier already exists.", "duplicate"))
            now = _rfc3339(self.clock.now())
            event = {
                "kind": "calendar#event",
                "id": event_id,
                "status": "confirmed",
                "htmlLink": f"https://www.google.com/calendar/event?eid={event_id}",
                "created": now,
                "updated": now,
                "summary": body.get("summary", ""),
                "creator": {"email": self.client_email, "self": True},
                "organizer": {"email": self.client_email, "self": True},
                "start": body["start"],
                "end": body["end"],
                "iCalUID": f"{event_id}@google.com",
                "sequence": 0,
                "extendedProperties": body.get("extendedProperties"),
                "reminders": {"useDefault": True},
                "eventType": "default",
                "conferenceData": conference,
            }
            self.events[event_id] = event
            self._pending[event_id] = self.conference_pending if conference else 0
            return Reply(200, self._render(event))

    def _get(self, request: Request) -> Reply:
        if denied := self._denied(request, request.params["calendar"]):
            return denied
        event_id = unquote(request.params["event"])
        with self._data_lock:
            if event_id in self.cancelled:
                return Reply(200, self._render(self.cancelled[event_id], read=False))
            if event_id not in self.events:
                return Reply(404, google_error(404, "Not Found", "notFound"))
            return Reply(200, self._render(self.events[event_id]))

    def _patch(self, request: Request) -> Reply:
        if denied := self._denied(request, request.params["calendar"]):
            return denied
        event_id = unquote(request.params["event"])
        body = request.json() or {}
        with self._data_lock:
            if event_id in self.cancelled:
                return Reply(410, google_error(410, "Resource has been deleted", "deleted"))
            if event_id not in self.events:
                return Reply(404, google_error(404, "Not Found", "notFound"))
            event = self.events[event_id]
            merged = {
                **event,
                **{k: v for k, v in body.items() if k in ("summary", "description", "start", "end")},
            }
            problem = _time_problem(merged)
            if problem:
                return problem
            merged["sequence"] = int(event["sequence"]) + 1
            merged["updated"] = _rfc3339(self.clock.now())
            self.events[event_id] = merged  # conferenceData untouched: the Meet link stays
            return Reply(200, self._render(merged))

    def _delete(self, request: Request) -> Reply:
        if denied := self._denied(request, request.params["calendar"]):
            return denied
        event_id = unquote(request.params["event"])
        with self._data_lock:
            if event_id in self.cancelled:
                return Reply(410, google_error(410, "Resource has been deleted", "deleted"))
            event = self.events.pop(event_id, None)
            if event is None:
                return Reply(404, google_error(404, "Not Found", "notFound"))
            self.cancelled[event_id] = {**event, "status": "cancelled"}
            return Reply(204)

    def _render(self, event: dict[str, Any], *, read: bool = True) -> dict[str, Any]:
        """The event as Google answers it; `read` counts the answer towards a pending conference."""
        shown = {k: v for k, v in event.items() if v is not None and k != "conferenceData"}
        conference = event.get("conferenceData")
        if not conference or event.get("status") == "cancelled":
            return shown
        pending = self._pending.get(event["id"], 0)
        if read and pending > 0:
            self._pending[event["id"]] = pending - 1
        create = {
            **conference["createRequest"],
            "status": {"statusCode": "pending" if pending else "success"},
        }
        if pending:
            shown["conferenceData"] = {"createRequest": create}
            return shown
        shown["conferenceData"] = {**conference, "createRequest": create}
        shown["hangoutLink"] = conference["entryPoints"][0]["uri"]
        return shown


def _time_problem(event: Mapping[str, Any]) -> Reply | None:
    """Google's 400s for missing, unreadable or backwards times."""
    times = []
    for key in ("start", "end"):
        value = (event.get(key) or {}).get("dateTime")
        if not value:
            return Reply(400, google_error(400, f"Missing {key} time.", "required"))
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            return Reply(400, google_error(400, "Bad Request", "badRequest"))
        if moment.tzinfo is None and not (event.get(key) or {}).get("timeZone"):
            return Reply(400, google_error(400, "Missing time zone definition for start time.", "required"))
        times.append(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    if times[1] <= times[0]:
        return Reply(
            400, google_error(400, "The specified time range is empty.", "timeRangeEmpty", "calendar")
        )
    return None


def _new_event_id() -> str:
    return "".join(secrets.choice("0123456789abcdefghijklmnopqrstuv") for _ in range(26))


def _new_conference(request_id: str) -> dict[str, Any]:
    letters = string.ascii_lowercase
    code = "-".join("".join(secrets.choice(letters) for _ in range(n)) for n in (3, 4, 3))
    pin = "".join(secrets.choice(string.digits) for _ in range(9))
    more_pin = "".join(secrets.choice(string.digits) for _ in range(13))
    return {
        "createRequest": {"requestId": request_id, "conferenceSolutionKey": {"type": "hangoutsMeet"}},
        "entryPoints": [
            {
                "entryPointType": "video",
                "uri": f"https://meet.google.com/{code}",
                "label": f"meet.google.com/{code}",
            },
            {"entryPointType": "more", "uri": f"https://tel.meet/{code}?pin={more_pin}", "pin": more_pin},
            {
                "entryPointType": "phone",
                "uri": "tel:+1-555-010-0142",
                "label": "+1 555-010-0142",
                "pin": pin,
                "regionCode": "US",
            },
        ],
        "conferenceSolution": {"key": {"type": "hangoutsMeet"}, "name": "Google Meet"},
        "conferenceId": code,
    }


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
