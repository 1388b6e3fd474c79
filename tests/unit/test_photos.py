"""Request photos in the pure domain: where each is uploaded and where its verified copy goes (out of every
form's reach), how long a form works, the name staff see, what a customer may declare, and the check that
the stored object really is the image declared (a PNG sent as a JPEG, a PDF, text, an empty or oversized
object are refused in plain words)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from booking.domain.photos import (
    HEAD_BYTES,
    MAX_PHOTO_BYTES,
    MAX_PHOTOS,
    PHOTO_TYPES,
    UPLOAD_FORM_SECONDS,
    Photo,
    PhotoDeclaration,
    check_photo,
    photo_filename,
    photo_key,
    verified_photo_key,
)
from tests.support.images import JPEG, PNG, SAMPLES, WEBP, heif


def declared(content_type: str, content: bytes) -> PhotoDeclaration:
    return PhotoDeclaration.model_validate({"content_type": content_type, "size_bytes": len(content)})


def check(content_type: str, content: bytes) -> str | None:
    return check_photo(declared(content_type, content), content[:HEAD_BYTES], len(content))


def test_the_limits_are_four_image_types_ten_megabytes_and_three_photos() -> None:
    assert set(PHOTO_TYPES) == {"image/jpeg", "image/png", "image/heic", "image/webp"}
    assert MAX_PHOTO_BYTES == 10 * 1024 * 1024
    assert MAX_PHOTOS == 3


def test_the_key_is_scoped_to_the_tenant_and_the_request() -> None:
    assert photo_key("t-1", "r-9", 2) == "tenants/t-1/requests/r-9/photos/2"
    assert photo_key("t-1", "r-9", 0) != photo_key("t-2", "r-9", 0) != photo_key("t-1", "r-8", 0)


def test_the_verified_copy_has_a_key_no_upload_form_names() -> None:
    # A form is signed for exactly its upload key (S3's "eq" condition): any other key is out of its reach.
    verified = verified_photo_key("t-1", "r-9", 2)
    assert verified == "tenants/t-1/requests/r-9/verified/2"
    assert verified not in {photo_key("t-1", "r-9", i) for i in range(MAX_PHOTOS)}
    assert verified.startswith("tenants/t-1/requests/r-9/")  # a request's photos still go together


def test_forms_work_five_minutes() -> None:
    assert UPLOAD_FORM_SECONDS == 300


@pytest.mark.parametrize(
    ("content_type", "name"),
    [
        ("image/jpeg", "request-01JABC-photo-1.jpg"),
        ("image/png", "request-01JABC-photo-1.png"),
        ("image/heic", "request-01JABC-photo-1.heic"),
        ("image/webp", "request-01JABC-photo-1.webp"),
    ],
)
def test_a_photo_is_named_from_our_ids_and_its_verified_type(content_type: str, name: str) -> None:
    assert photo_filename("01JABC", 0, content_type) == name


@pytest.mark.parametrize("content_type", sorted(SAMPLES))
def test_a_real_image_of_the_declared_type_passes(content_type: str) -> None:
    assert check(content_type, SAMPLES[content_type]) is None


@pytest.mark.parametrize(
    "content",
    [
        heif(b"mif1", b"mif1", b"heic"),  # a still image whose major brand is the generic one
        heif(b"heix", b"mif1", b"heix"),  # 10-bit HEIC (HDR photos), unknown to filetype 1.2.0 alone
        heif(b"mif1", b"mif1", b"heix"),
    ],
)
def test_heic_variants_phones_write_pass(content: bytes) -> None:
    assert check("image/heic", content) is None


def test_a_png_declared_as_a_jpeg_is_refused() -> None:
    assert check("image/jpeg", PNG) == "the file is a PNG image, not a JPEG image as declared"


def test_an_avif_declared_as_heic_is_refused() -> None:
    avif = heif(b"avif", b"mif1", b"avif")
    assert check("image/heic", avif) == "the file is image/avif, not a HEIC image as declared"


def test_a_pdf_is_refused() -> None:
    pdf = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
    assert check("image/png", pdf) == "the file is a PDF document, not a PNG image as declared"


@pytest.mark.parametrize(
    "content",
    [b"hello, this is not a photo\n", b"<svg xmlns='http://www.w3.org/2000/svg'/>", b"\x00" * 100],
)
def test_a_file_that_is_no_image_is_refused(content: bytes) -> None:
    assert (
        check("image/webp", content) == "the file is not an image we recognise, not a WebP image as declared"
    )


def test_an_empty_object_is_refused() -> None:
    declaration = declared("image/jpeg", JPEG)
    assert check_photo(declaration, b"", 0) == "the photo is empty"


def test_a_stored_object_over_the_limit_is_refused() -> None:
    declaration = PhotoDeclaration(content_type="image/jpeg", size_bytes=MAX_PHOTO_BYTES)
    problem = check_photo(declaration, JPEG, MAX_PHOTO_BYTES + 1)
    assert problem == "the photo is 10.0 MB, more than the 10.0 MB allowed"


def test_a_stored_object_of_another_size_than_declared_is_refused() -> None:
    declaration = PhotoDeclaration(content_type="image/jpeg", size_bytes=len(JPEG) + 10)
    assert check_photo(declaration, JPEG, len(JPEG)) == (
        f"the photo is {len(JPEG)} bytes, not the {len(JPEG) + 10} bytes declared"
    )


def test_the_check_reads_only_the_first_bytes() -> None:
    big = PNG + b"\x00" * 5000
    assert check_photo(declared("image/png", big), big[:HEAD_BYTES], len(big)) is None
    assert check_photo(declared("image/png", big), big, len(big)) is None  # more is harmless


def test_a_stored_photo_is_checked_like_a_declaration() -> None:
    photo = Photo(index=0, key=photo_key("t", "r", 0), content_type="image/webp", size_bytes=len(WEBP))
    assert (photo.status, photo.problem) == ("awaiting_upload", None)
    assert check_photo(photo, WEBP, len(WEBP)) is None
    assert check_photo(photo, PNG[: len(WEBP)], len(WEBP)) is not None


@pytest.mark.parametrize(
    ("content_type", "size_bytes", "problem"),
    [
        ("image/gif", 100, "content_type"),
        ("image/svg+xml", 100, "content_type"),
        ("application/pdf", 100, "content_type"),
        ("image/jpeg", 0, "size_bytes"),
        ("image/jpeg", MAX_PHOTO_BYTES + 1, "size_bytes"),
    ],
)
def test_a_declaration_of_another_type_or_size_is_refused(
    content_type: str, size_bytes: int, problem: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        PhotoDeclaration.model_validate({"content_type": content_type, "size_bytes": size_bytes})
    assert [error["loc"] for error in refused.value.errors()] == [(problem,)]


def test_a_declaration_at_the_limit_is_accepted() -> None:
    assert (
        PhotoDeclaration(content_type="image/heic", size_bytes=MAX_PHOTO_BYTES).size_bytes == MAX_PHOTO_BYTES
    )
