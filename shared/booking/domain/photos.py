"""Photos attached to a booking request: what a customer may declare before uploading, where each photo is
stored, and the check that the stored object really is the image declared.

The browser uploads straight to S3 with a presigned POST whose policy pins the key, the content type and
the size; S3 does not look at the bytes, so after the upload the object is copied to its verified key (one
no form names, so nothing a browser sends can change it) and the copy's first bytes are checked here
(`filetype`, magic numbers). Staff are only ever shown the verified copy. Pure: the caller reads the object.
"""

from __future__ import annotations

from typing import Annotated, Literal

import filetype
from filetype.types.isobmff import IsoBmff
from pydantic import BaseModel, Field

from booking.domain.types import Model

PhotoType = Literal["image/jpeg", "image/png", "image/heic", "image/webp"]
PHOTO_TYPES: frozenset[str] = frozenset({"image/jpeg", "image/png", "image/heic", "image/webp"})
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_PHOTOS = 3
# How much of the object `check_photo` needs: filetype's signatures all lie within the first 262 bytes.
HEAD_BYTES = 262
# How long an upload form works: enough to send 10 MB from a phone, short enough that a form copied out of
# the page is soon useless (and the verified copy never changes whatever a form sends).
UPLOAD_FORM_SECONDS = 300
_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/heic": "heic", "image/webp": "webp"}

PhotoStatus = Literal["awaiting_upload", "verified", "rejected"]

_NAMES = {"image/jpeg": "a JPEG image", "image/png": "a PNG image", "image/heic": "a HEIC image"}
_NAMES |= {"image/webp": "a WebP image", "image/apng": "a PNG image", "application/pdf": "a PDF document"}


class PhotoDeclaration(Model):
    """A photo the customer is about to upload, as the browser knows it (the file's type and size)."""

    content_type: PhotoType
    size_bytes: Annotated[int, Field(ge=1, le=MAX_PHOTO_BYTES)]


class Photo(BaseModel):
    """A photo of a request: declared, then verified (or rejected) once the upload has been checked."""

    index: int
    key: str
    content_type: PhotoType
    size_bytes: int
    status: PhotoStatus = "awaiting_upload"
    problem: str | None = None
    verified_key: str | None = None  # the checked copy staff are shown (None: not verified)
    etag: str | None = None  # the verified copy's ETag, as it was checked


def photo_key(tenant_id: str, request_id: str, index: int) -> str:
    """The upload's key: under the tenant and the request, so a form signed for one photo can write nothing
    else, and a tenant's photos can be found (and deleted) together."""
    return f"tenants/{tenant_id}/requests/{request_id}/photos/{index}"


def verified_photo_key(tenant_id: str, request_id: str, index: int) -> str:
    """Where a photo is copied once checked: a key no upload form names (a form is signed for exactly its
    upload key), so re-posting a form cannot change what staff see."""
    return f"tenants/{tenant_id}/requests/{request_id}/verified/{index}"


def photo_filename(request_id: str, index: int, content_type: str) -> str:
    """The name a staff member's browser gives a photo (`request-<id>-photo-1.jpg`): built from our own ids
    only, so it is safe in a Content-Disposition header."""
    return f"request-{request_id}-photo-{index + 1}.{_EXTENSIONS.get(content_type, 'bin')}"


class _HeicHeix(IsoBmff):  # type: ignore[misc]
    """HEIC with the `heix` brand (10-bit HEVC, e.g. HDR phone photos): still image/heic, but filetype
    1.2.0 only knows the `heic` brand and would call such a file unknown."""

    MIME = "image/heic"
    EXTENSION = "heic"

    def __init__(self) -> None:
        super().__init__(mime=self.MIME, extension=self.EXTENSION)

    def match(self, buf: bytes) -> bool:
        if not self._is_isobmff(buf):
            return False
        major, _, compatible = self._get_ftyp(buf)
        return bool(major == "heix" or (major in ("mif1", "msf1") and "heix" in compatible))


_MATCHERS = [*filetype.types, _HeicHeix()]


def _name(mime: str) -> str:
    return _NAMES.get(mime, mime)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def check_photo(declared: PhotoDeclaration | Photo, head_bytes: bytes, stored_size: int) -> str | None:
    """The problem with the stored object, in words a customer understands, or None when it really is an
    image of the declared type and size. `head_bytes` are its first HEAD_BYTES bytes (or all of it)."""
    if stored_size <= 0 or not head_bytes:
        return "the photo is empty"
    if stored_size > MAX_PHOTO_BYTES:
        return f"the photo is {_megabytes(stored_size)}, more than the {_megabytes(MAX_PHOTO_BYTES)} allowed"
    if stored_size != declared.size_bytes:
        return f"the photo is {stored_size} bytes, not the {declared.size_bytes} bytes declared"
    kind = filetype.match(head_bytes[:HEAD_BYTES], matchers=_MATCHERS)
    found = kind.mime if kind is not None else None
    if found == "image/apng":  # an animated PNG is a PNG to every browser and viewer
        found = "image/png"
    if found == declared.content_type:
        return None
    expected = _name(declared.content_type)
    if found is None:
        return f"the file is not an image we recognise, not {expected} as declared"
    return f"the file is {_name(found)}, not {expected} as declared"
