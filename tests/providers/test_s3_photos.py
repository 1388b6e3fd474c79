"""Request photos in S3 (the embedded AWS's), over real HTTP as a browser does: each photo type uploaded
with the presigned POST form, read back and checked; the verified copy, which a re-posted form cannot
change; view links that serve the bytes with the verified type, inline under a safe name; a missing photo;
what the signed form pins down; the uploads S3 refuses for breaking the form's policy (the embedded S3
enforces expiry, key, Content-Type and size as S3 does, though not the signature); and a file whose bytes
are not the declared type, which only the check after upload refuses."""

from __future__ import annotations

import base64
import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

import pytest
import requests

from booking.adapters.s3_photos import S3Photos, photos_client
from booking.domain.photos import MAX_PHOTO_BYTES, Photo, check_photo, photo_key
from local.aws import EmbeddedAws, LocalResources, photos_cors
from local.template import load_template
from tests.support.images import JPEG, PNG, SAMPLES

Aws = tuple[EmbeddedAws, LocalResources]
WIDGET_ORIGIN = "https://www.plumber.example"


@pytest.fixture
def photos(resources: LocalResources) -> S3Photos:
    return S3Photos(photos_client(), resources.photos_bucket)


@pytest.fixture
def key() -> str:
    return photo_key(f"t-{secrets.token_hex(4)}", f"r-{secrets.token_hex(4)}", 0)


def upload(form: dict[str, Any], content: bytes, content_type: str | None = None) -> requests.Response:
    """What the widget does: multipart/form-data, the form's fields first, then the file."""
    fields = dict(form["fields"])
    if content_type is not None:
        fields["Content-Type"] = content_type
    return requests.post(
        form["url"],
        data=fields,
        files={"file": ("photo", content, fields["Content-Type"])},
        headers={"Origin": WIDGET_ORIGIN},
        timeout=30,
    )


def stored_problem(photos: S3Photos, photo: Photo) -> str | None:
    """The check the request service runs once the customer says the upload is done."""
    found = photos.head(photo.key)
    assert found is not None
    size, head = found
    return check_photo(photo, head, size)


@pytest.mark.parametrize("content_type", sorted(SAMPLES))
def test_each_photo_type_uploads_with_the_form_and_passes_the_check(
    photos: S3Photos, key: str, content_type: str
) -> None:
    content = SAMPLES[content_type]
    form = photos.upload_form(key, content_type, len(content))
    response = upload(form, content)
    assert response.status_code == 204, response.text
    size, head = photos.head(key) or (None, b"")
    assert (size, head) == (len(content), content)
    photo = Photo(index=0, key=key, content_type=content_type, size_bytes=len(content))
    assert check_photo(photo, head, len(content)) is None


def test_the_view_link_serves_the_photo_for_five_minutes(photos: S3Photos, key: str) -> None:
    assert upload(photos.upload_form(key, "image/png", len(PNG)), PNG).status_code == 204
    url = photos.view_url(key)
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]  # SigV4: S3 refuses SigV2 on new buckets
    assert query["X-Amz-Expires"] == ["300"]
    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    assert (response.content, response.headers["Content-Type"]) == (PNG, "image/png")
    assert "X-Amz-Expires=60" in photos.view_url(key, expires_in=60)


def test_the_verified_copy_is_out_of_the_forms_reach(photos: S3Photos, key: str) -> None:
    form = photos.upload_form(key, "image/jpeg", len(JPEG))
    assert upload(form, JPEG).status_code == 204
    verified = key.replace("/photos/", "/verified/")
    etag = photos.copy(key, verified, "image/jpeg")
    assert etag is not None and photos.etag(verified) == etag
    assert photos.head(verified) == (len(JPEG), JPEG)

    # The same form posted again with other bytes of the declared size and type: S3 takes them, at the
    # upload's key only.
    page = b"<html><script>alert(1)</script></html>".ljust(len(JPEG), b" ")
    assert upload(form, page).status_code == 204
    assert photos.head(key) == (len(page), page[:262])
    assert photos.head(verified) == (len(JPEG), JPEG)
    assert photos.etag(verified) == etag
    other = {**form, "fields": {**form["fields"], "key": verified}}
    assert refusal(upload(other, page))[:2] == (403, "AccessDenied")  # nor can it name the copy
    assert photos.etag(verified) == etag


def test_nothing_to_copy_or_look_at(photos: S3Photos, key: str) -> None:
    assert photos.copy(key, key.replace("/photos/", "/verified/"), "image/png") is None
    assert photos.etag(key) is None


def test_the_view_link_serves_the_verified_type_inline_under_a_safe_name(
    embedded_aws: Aws, resources: LocalResources, photos: S3Photos, key: str
) -> None:
    # Stored with a type that would render as a page: the link still answers as the type it names.
    embedded_aws[0].client("s3").put_object(
        Bucket=resources.photos_bucket, Key=key, Body=PNG, ContentType="text/html"
    )
    url = photos.view_url(key, 300, "image/png", "request-01JABC-photo-1.png")
    response = requests.get(url, timeout=10)
    assert response.status_code == 200 and response.content == PNG
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["Content-Disposition"] == 'inline; filename="request-01JABC-photo-1.png"'
    with pytest.raises(ValueError, match="file name"):
        photos.view_url(key, 300, "image/png", 'x"; filename="evil.html')
    with pytest.raises(ValueError, match="photo type"):
        photos.view_url(key, 300, "text/html", "photo.html")


def test_the_bucket_is_private(resources: LocalResources, key: str, photos: S3Photos) -> None:
    assert upload(photos.upload_form(key, "image/png", len(PNG)), PNG).status_code == 204
    url = f"{resources.endpoint}/{resources.photos_bucket}/{key}"
    assert requests.get(url, timeout=10).status_code == 403  # no link, no photo


def test_a_photo_never_uploaded_or_deleted_is_absent(photos: S3Photos, key: str) -> None:
    assert photos.head(key) is None
    photos.delete(key)  # nothing there: fine
    assert upload(photos.upload_form(key, "image/jpeg", len(JPEG)), JPEG).status_code == 204
    assert photos.head(key) is not None
    photos.delete(key)
    assert photos.head(key) is None


def test_only_the_first_bytes_are_read_with_the_full_size(photos: S3Photos, key: str) -> None:
    content = PNG + bytes(range(256)) * 40
    assert upload(photos.upload_form(key, "image/png", len(content)), content).status_code == 204
    assert photos.head(key) == (len(content), content[:262])


def test_an_empty_object_reads_as_empty_and_fails_the_check(
    embedded_aws: Aws, resources: LocalResources, photos: S3Photos, key: str
) -> None:
    # The form never allows an empty upload; this is an object put some other way.
    embedded_aws[0].client("s3").put_object(Bucket=resources.photos_bucket, Key=key, Body=b"")
    assert photos.head(key) == (0, b"")
    photo = Photo(index=0, key=key, content_type="image/jpeg", size_bytes=len(JPEG))
    assert stored_problem(photos, photo) == "the photo is empty"


def test_the_form_pins_the_key_the_type_and_the_exact_size_for_five_minutes(
    photos: S3Photos, key: str
) -> None:
    before = datetime.now(UTC)
    form = photos.upload_form(key, "image/heic", 4321)
    fields = form["fields"]
    assert (fields["key"], fields["Content-Type"]) == (key, "image/heic")
    assert fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    policy = json.loads(base64.b64decode(fields["policy"]))
    conditions = policy["conditions"]
    # What S3 enforces before it stores a byte (the embedded S3 too: see below).
    assert {"key": key} in conditions
    assert {"Content-Type": "image/heic"} in conditions
    assert ["content-length-range", 4321, 4321] in conditions
    assert {"bucket": photos.bucket} in conditions
    assert not [c for c in conditions if isinstance(c, list) and c[0] == "starts-with"]
    expires = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    assert before + timedelta(seconds=299) <= expires <= datetime.now(UTC) + timedelta(seconds=301)


@pytest.mark.parametrize(
    ("content_type", "size_bytes"),
    [("image/gif", 10), ("text/html", 10), ("image/png", 0), ("image/png", MAX_PHOTO_BYTES + 1)],
)
def test_no_form_is_signed_for_another_type_or_size(
    photos: S3Photos, key: str, content_type: str, size_bytes: int
) -> None:
    with pytest.raises(ValueError):
        photos.upload_form(key, content_type, size_bytes)


def test_no_link_is_signed_with_sigv2(embedded_aws: Aws, resources: LocalResources, key: str) -> None:
    # A boto3 client made without signature_version="s3v4" presigns with SigV2, which S3 refuses.
    plain = S3Photos(embedded_aws[0].client("s3"), resources.photos_bucket)
    with pytest.raises(RuntimeError, match="SigV4"):
        plain.upload_form(key, "image/png", len(PNG))
    with pytest.raises(RuntimeError, match="SigV4"):
        plain.view_url(key)


# The embedded S3 refuses a POST form upload that breaks the form's policy as S3 does, before it stores a
# byte (local/moto/s3.py, patch 9: moto itself stores whatever a form carries). The one thing a policy
# cannot see is what the bytes really are: the check after upload is what refuses that.


def refusal(response: requests.Response) -> tuple[int, str, str]:
    """The status, error code and message of S3's XML error answer."""
    error = ElementTree.fromstring(response.content)  # noqa: S314 - the embedded S3 answered it
    return response.status_code, error.findtext("Code") or "", error.findtext("Message") or ""


def test_a_png_sent_under_the_signed_jpeg_type_is_caught_by_the_check(photos: S3Photos, key: str) -> None:
    photo = Photo(index=0, key=key, content_type="image/jpeg", size_bytes=len(PNG))
    assert upload(photos.upload_form(key, "image/jpeg", len(PNG)), PNG).status_code == 204
    assert stored_problem(photos, photo) == "the file is a PNG image, not a JPEG image as declared"


def test_another_content_type_than_the_signed_one_is_refused_and_nothing_is_stored(
    photos: S3Photos, key: str
) -> None:
    page = b"<html><script>alert(1)</script></html>"
    response = upload(photos.upload_form(key, "image/jpeg", len(page)), page, content_type="text/html")
    status, code, message = refusal(response)
    assert (status, code) == (403, "AccessDenied")
    assert (
        message
        == 'Invalid according to Policy: Policy Condition failed: ["eq", "$Content-Type", "image/jpeg"]'
    )
    assert photos.head(key) is None


def test_another_key_than_the_signed_one_is_refused(photos: S3Photos, key: str) -> None:
    form = photos.upload_form(key, "image/jpeg", len(JPEG))
    other = key.replace("/photos/0", "/photos/1")
    form = {**form, "fields": {**form["fields"], "key": other}}
    status, code, message = refusal(upload(form, JPEG))
    assert (status, code) == (403, "AccessDenied")
    assert message == f'Invalid according to Policy: Policy Condition failed: ["eq", "$key", "{key}"]'
    assert photos.head(key) is None and photos.head(other) is None


def test_a_file_larger_than_declared_is_refused_and_nothing_is_stored(photos: S3Photos, key: str) -> None:
    padded = JPEG + b"\x00" * 1000
    status, code, _ = refusal(upload(photos.upload_form(key, "image/jpeg", len(JPEG)), padded))
    assert (status, code) == (400, "EntityTooLarge")
    assert photos.head(key) is None


def test_a_file_smaller_than_declared_is_refused_and_nothing_is_stored(photos: S3Photos, key: str) -> None:
    status, code, _ = refusal(upload(photos.upload_form(key, "image/jpeg", len(JPEG) + 1), JPEG))
    assert (status, code) == (400, "EntityTooSmall")
    assert photos.head(key) is None


def test_a_file_over_ten_megabytes_is_refused_and_nothing_is_stored(photos: S3Photos, key: str) -> None:
    oversized = JPEG + b"\x00" * (MAX_PHOTO_BYTES + 1 - len(JPEG))
    status, code, _ = refusal(upload(photos.upload_form(key, "image/jpeg", MAX_PHOTO_BYTES), oversized))
    assert (status, code) == (400, "EntityTooLarge")
    assert photos.head(key) is None


def test_an_expired_form_is_refused_and_nothing_is_stored(photos: S3Photos, key: str) -> None:
    form = photos.upload_form(key, "image/jpeg", len(JPEG), expires_in=-1)  # expired a second ago
    assert refusal(upload(form, JPEG)) == (
        403,
        "AccessDenied",
        "Invalid according to Policy: Policy expired.",
    )
    assert photos.head(key) is None


def test_the_local_bucket_has_the_templates_cors_so_widgets_may_upload(
    embedded_aws: Aws, resources: LocalResources
) -> None:
    s3 = embedded_aws[0].client("s3")
    rules = s3.get_bucket_cors(Bucket=resources.photos_bucket)["CORSRules"]
    assert rules == photos_cors(load_template())
    assert {"POST", "GET"} <= set(rules[0]["AllowedMethods"])
    preflight = requests.options(
        f"{resources.endpoint}/{resources.photos_bucket}",
        headers={"Origin": WIDGET_ORIGIN, "Access-Control-Request-Method": "POST"},
        timeout=10,
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] in {WIDGET_ORIGIN, "*"}
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert resources.environment()["PHOTOS_BUCKET_NAME"] == resources.photos_bucket
