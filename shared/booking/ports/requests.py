"""Booking requests and their photos."""

from __future__ import annotations

from typing import Any, Protocol

from booking.domain.booking_requests import RequestHistoryEntry, ServiceRequest


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
