"""Small real images of each type a request photo may be, for the photo tests: a 1x1 JPEG, PNG and WebP,
and the start of a HEIC file as phones write it."""

from __future__ import annotations

import struct
import zlib


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png() -> bytes:
    """A real 1x1 red PNG."""
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit RGB
    pixels = zlib.compress(b"\x00\xff\x00\x00")  # filter byte, then one red pixel
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", pixels)
        + _png_chunk(b"IEND", b"")
    )


def heif(major: bytes, *compatible: bytes) -> bytes:
    """The start of a HEIF file as phones write it: the ftyp box with its brands, then the meta box (a
    stub here: the check reads only the brands)."""
    brands = major + b"\x00\x00\x00\x00" + b"".join(compatible)
    ftyp = struct.pack(">I", 8 + len(brands)) + b"ftyp" + brands
    meta = struct.pack(">I", 12) + b"meta" + b"\x00\x00\x00\x00"
    return ftyp + meta + b"\x00" * 64


# A 1x1 grey JPEG (arithmetic-coded, 125 bytes, per the JPEG standard).
JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010101004800480000ffdb004300030202020202030202020303030304060404040404080606"
    "050609080a0a090809090a0c0f0c0a0b0e0b09090d110d0e0f101011100a0c12131210130f101010ffc9000b0800010001"
    "01011100ffcc000600101005ffda0008010100003f00d2cf20ffd9"
)
PNG = _png()
# A 1x1 lossless WebP (VP8L).
WEBP = bytes.fromhex("524946461a000000574542505650384c0d0000002f00000010071011118888fe0700")
HEIC = heif(b"heic", b"mif1", b"heic")
SAMPLES = {"image/jpeg": JPEG, "image/png": PNG, "image/webp": WEBP, "image/heic": HEIC}
