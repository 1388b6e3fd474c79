"""What every meeting-provider adapter shares: JSON over HTTPS with the standard library (the vendor SDKs
would add 100+ MB to the layer), the provider's errors mapped to domain errors, and a cached token."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from booking.domain.meetings import (
    CredentialsRejected,
    MeetingProviderError,
    MeetingRefused,
    ProviderRateLimited,
    ProviderUnavailable,
)
from booking.ports import Clock

TIMEOUT_SECONDS = 8.0
MAX_ERROR_TEXT = 300


@dataclass(frozen=True)
class Response:
    status: int
    body: Any  # parsed JSON (a dict or list), or the text when it was not JSON, or None when empty
    headers: Mapping[str, str]


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date (RFC 9110 section 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - now).total_seconds())


def _reason(provider: str, response: Response) -> str:
    """The provider's own words for what went wrong, shortened: its error bodies name the problem."""
    body = response.body
    text = ""
    if isinstance(body, dict):
        for key in ("message", "error_description", "info", "error", "detail"):
            value = body.get(key)
            if isinstance(value, dict):  # Google and Graph: {"error": {"message": ...}}
                value = value.get("message") or value.get("code")
            if value:
                text = str(value)
                break
    elif isinstance(body, str):
        text = body
    text = " ".join(text.split())[:MAX_ERROR_TEXT]
    return f"{provider} answered {response.status}" + (f": {text}" if text else "")


def error_for(provider: str, response: Response, now: datetime) -> MeetingProviderError:
    """The domain error for a provider's answer that was not a success."""
    reason = _reason(provider, response)
    if response.status in (401, 403):
        return CredentialsRejected(reason)
    if response.status == 429:
        return ProviderRateLimited(
            reason, retry_after=retry_after_seconds(response.headers.get("retry-after"), now)
        )
    if response.status >= 500:
        return ProviderUnavailable(
            reason, retry_after=retry_after_seconds(response.headers.get("retry-after"), now)
        )
    return MeetingRefused(reason)


class JsonHttp:
    """Requests to one provider's API. Every failure to get an answer (DNS, refused connection, timeout)
    is ProviderUnavailable; answers of any status are returned for the adapter to judge."""

    def __init__(self, provider: str, base_url: str, timeout: float = TIMEOUT_SECONDS) -> None:
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self._timeout = timeout

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
    ) -> Response:
        url = self.base_url + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data: bytes | None = None
        sent = {"Accept": "application/json", **(headers or {})}
        if json_body is not None:
            data = json.dumps(json_body).encode()
            sent["Content-Type"] = "application/json"
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        request = urllib.request.Request(url, data=data, headers=sent, method=method)  # noqa: S310 - https (or a local fake)
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as answer:  # noqa: S310
                return Response(answer.status, _parse(answer.read()), _lower(answer.headers))
        except urllib.error.HTTPError as error:
            with error:
                return Response(error.code, _parse(error.read()), _lower(error.headers))
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            raise ProviderUnavailable(
                f"{self.provider} could not be reached ({type(error).__name__})"
            ) from None


def _parse(raw: bytes) -> Any:
    if not raw:
        return None
    text = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def _lower(headers: Any) -> dict[str, str]:
    return {key.lower(): value for key, value in headers.items()} if headers is not None else {}


class TokenCache:
    """An access token reused until shortly before it expires, fetched again by one caller at a time."""

    MARGIN = timedelta(seconds=60)

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires: datetime | None = None

    def get(self, fetch: Callable[[], tuple[str, int]]) -> str:
        """The cached token, or the one `fetch` returns as (token, lifetime in seconds)."""
        with self._lock:
            now = self._clock.now()
            if self._token is None or self._expires is None or now >= self._expires - self.MARGIN:
                token, lifetime = fetch()
                self._token, self._expires = token, now + timedelta(seconds=lifetime)
            return self._token

    def forget(self) -> None:
        """Drops the token (the provider refused it before its time, e.g. revoked)."""
        with self._lock:
            self._token = self._expires = None


# A provider's link opens only around its own session, never days before or after: people may come a
# little early to try their camera and sound, and a session may overrun; outside this window a link that
# was forwarded or leaked opens nothing. Providers that can bound a room (Daily, Whereby) use these two.
JOIN_EARLY = timedelta(minutes=15)
STAY_LATE = timedelta(minutes=30)


def session_window(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """When a session's link may be used: from JOIN_EARLY before its start to STAY_LATE after its end."""
    return start - JOIN_EARLY, end + STAY_LATE
