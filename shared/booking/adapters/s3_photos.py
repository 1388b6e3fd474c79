"""Request photos in S3: the form a browser uploads one photo with (a presigned POST), the copy to the
verified key and its first bytes (for `domain.photos.check_photo`), short-lived links to view it, and
deletion.

Nothing is ever public: the bucket blocks public access, uploads need a form this adapter signed for one
key, one content type and one size, and staff see photos through presigned GETs that expire in minutes.
A presigned GET cannot add X-Content-Type-Options: nosniff (S3 lets a link override only Content-Type,
Content-Disposition and a few others; nosniff needs a CloudFront response-headers policy). The links name
the verified type and `inline` with a filename instead, and they only ever point at the verified copy,
whose bytes were checked to be that image and which no upload form can replace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from booking.domain.photos import HEAD_BYTES, MAX_PHOTO_BYTES, PHOTO_TYPES, UPLOAD_FORM_SECONDS

# botocore still presigns with SigV2 unless told otherwise, and S3 refuses SigV2 on buckets made since
# 2020. Virtual-hosted style gives regional URLs (bucket.s3.<region>.amazonaws.com): the global endpoint
# redirects a new bucket's requests for up to a day, and a browser's redirected upload fails CORS.
# (An endpoint given as an IP address, like the embedded AWS's, still gets path-style URLs.)
PRESIGNING = Config(
    signature_version="s3v4",
    s3={"addressing_style": "virtual"},
    retries={"mode": "standard", "max_attempts": 3},
    connect_timeout=2,
    read_timeout=5,
)

# A client whose signature version was not set explicitly presigns with SigV2 (no error, until S3 refuses
# the upload): refuse to hand such a link out.
_NOT_SIGV4 = "photo links must be signed with SigV4: make the client with photos_client()"
_MISSING = frozenset({"NoSuchKey", "404", "NotFound"})
_SAFE_FILENAME = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
_TOTAL = re.compile(r"/(\d+)$")  # Content-Range: bytes 0-261/48213


@dataclass(frozen=True)
class S3Photos:
    client: Any  # boto3 s3 client, made by `photos_client()`
    bucket: str

    def upload_form(
        self, key: str, content_type: str, size_bytes: int, expires_in: int = UPLOAD_FORM_SECONDS
    ) -> dict[str, Any]:
        """`{"url", "fields"}`: the browser POSTs the fields, then the file (as the last field `file`),
        as multipart/form-data to the url. S3 refuses the upload unless the key, the Content-Type and the
        size are exactly these, or once the form has expired."""
        if content_type not in PHOTO_TYPES:
            raise ValueError(f"not a photo type: {content_type}")
        if not 1 <= size_bytes <= MAX_PHOTO_BYTES:
            raise ValueError(f"a photo is 1 to {MAX_PHOTO_BYTES} bytes, not {size_bytes}")
        form: dict[str, Any] = self.client.generate_presigned_post(
            Bucket=self.bucket,
            Key=key,  # botocore adds the exact-key (and bucket) condition itself
            Fields={"Content-Type": content_type},
            Conditions=[
                {"Content-Type": content_type},
                # The declared size exactly: the stored object is the file the customer declared.
                ["content-length-range", size_bytes, size_bytes],
            ],
            ExpiresIn=expires_in,
        )
        if "x-amz-signature" not in form["fields"]:
            raise RuntimeError(_NOT_SIGV4)
        return form

    def head(self, key: str) -> tuple[int, bytes] | None:
        """The stored size and the first HEAD_BYTES bytes, or None when nothing is stored at `key`."""
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key, Range=f"bytes=0-{HEAD_BYTES - 1}")
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code in _MISSING:
                return None
            if code == "InvalidRange":  # S3 answers a range of an empty object so
                return 0, b""
            raise
        head: bytes = response["Body"].read()
        total = _TOTAL.search(response.get("ContentRange") or "")
        return (int(total.group(1)) if total else int(response["ContentLength"])), head

    def copy(self, source: str, target: str, content_type: str) -> str | None:
        """Copies the object at `source` to `target`, typed `content_type`; the copy's ETag, or None when
        nothing is stored at `source`. The caller checks the copy, not the source: a form re-posted
        meanwhile changes the source only."""
        try:
            answer = self.client.copy_object(
                Bucket=self.bucket,
                Key=target,
                CopySource={"Bucket": self.bucket, "Key": source},
                MetadataDirective="REPLACE",  # the type we check, not whatever the form said
                ContentType=content_type,
                ContentDisposition="inline",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _MISSING:
                return None
            raise
        return str(answer["CopyObjectResult"]["ETag"])

    def etag(self, key: str) -> str | None:
        """The stored object's ETag (a HEAD: no bytes read), or None when nothing is stored at `key`."""
        try:
            answer = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _MISSING:
                return None
            raise
        return str(answer["ETag"])

    def view_url(
        self,
        key: str,
        expires_in: int = 300,
        content_type: str | None = None,
        filename: str | None = None,
    ) -> str:
        """A link that shows the photo for `expires_in` seconds, to whoever has it: hand it only to staff.
        With `content_type` and `filename`, S3 answers with that Content-Type and `inline` under that
        name, whatever the object's own headers say."""
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if content_type is not None:
            if content_type not in PHOTO_TYPES:
                raise ValueError(f"not a photo type: {content_type}")
            params["ResponseContentType"] = content_type
        if filename is not None:
            if not _SAFE_FILENAME.match(filename):
                raise ValueError(f"not a safe file name: {filename!r}")
            params["ResponseContentDisposition"] = f'inline; filename="{filename}"'
        url: str = self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in)
        if "X-Amz-Signature=" not in url:
            raise RuntimeError(_NOT_SIGV4)
        return url

    def delete(self, key: str) -> None:
        """Deletes the photo; one that is already gone is fine (S3 says so itself)."""
        self.client.delete_object(Bucket=self.bucket, Key=key)


def photos_client() -> Any:
    """The S3 client `S3Photos` needs (region, credentials and endpoint from the environment, as usual)."""
    return boto3.client("s3", config=PRESIGNING)
