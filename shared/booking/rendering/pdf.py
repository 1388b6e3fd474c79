"""A small A4 text layout engine on pydyf (a pure-Python, dependency-free PDF writer: fpdf2 and reportlab pull
in Pillow and fonttools, too heavy for the Lambda layer): text in the standard Helvetica fonts every PDF
reader has, with WinAnsiEncoding, so nothing is embedded; widths from Adobe's metrics to right-align and cut
text without a font library; rows flowing onto new pages. The price of no embedded font: only the
characters of Windows-1252 (Latin scripts) print; any other prints as "?". Used by the invoices
(rendering/invoices.py)."""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterable
from typing import Literal

import pydyf

PAGE_WIDTH, PAGE_HEIGHT = 595.28, 841.89  # A4, in points
MARGIN = 50.0
RIGHT = PAGE_WIDTH - MARGIN
BOTTOM = MARGIN + 20  # room for the page footer
Font = Literal["regular", "bold"]
_FONT_NAMES: dict[Font, str] = {"regular": "Helvetica", "bold": "Helvetica-Bold"}
_FONT_RESOURCES: dict[Font, str] = {"regular": "F1", "bold": "F2"}

# Glyph widths (1/1000 em) of bytes 32-255 under WinAnsiEncoding, from Adobe's Core 14 AFM files
# (Helvetica.afm, Helvetica-Bold.afm), to right-align amounts and cut text to a column without a font library.
# 0 marks the bytes cp1252 leaves undefined, which _pdf_bytes never produces.
# fmt: off
_HELVETICA = (
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, 0,
    556, 0, 222, 556, 333, 1000, 556, 556, 333, 1000, 667, 333, 1000, 0, 611, 0,
    0, 222, 222, 333, 333, 350, 556, 1000, 333, 1000, 500, 333, 944, 0, 500, 667,
    278, 333, 556, 556, 556, 556, 260, 556, 333, 737, 370, 556, 584, 333, 737, 333,
    400, 584, 333, 333, 333, 556, 537, 278, 333, 333, 365, 556, 834, 834, 834, 611,
    667, 667, 667, 667, 667, 667, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278,
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611,
    556, 556, 556, 556, 556, 556, 889, 500, 556, 556, 556, 556, 278, 278, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 584, 611, 556, 556, 556, 556, 500, 556, 500,
)
_HELVETICA_BOLD = (
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611,
    975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556,
    333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611,
    611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584, 0,
    556, 0, 278, 556, 500, 1000, 556, 556, 333, 1000, 667, 333, 1000, 0, 611, 0,
    0, 278, 278, 500, 500, 350, 556, 1000, 333, 1000, 556, 333, 944, 0, 500, 667,
    278, 333, 556, 556, 556, 556, 280, 556, 333, 737, 370, 556, 584, 333, 737, 333,
    400, 584, 333, 333, 333, 611, 556, 278, 333, 333, 365, 556, 834, 834, 834, 611,
    722, 722, 722, 722, 722, 722, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278,
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611,
    556, 556, 556, 556, 556, 556, 889, 556, 556, 556, 556, 556, 278, 278, 278, 278,
    611, 611, 611, 611, 611, 611, 611, 584, 611, 611, 611, 611, 611, 556, 611, 556,
)
# fmt: on
_WIDTHS: dict[Font, tuple[int, ...]] = {"regular": _HELVETICA, "bold": _HELVETICA_BOLD}
_ELLIPSIS = "\u2026"


def pdf_bytes(text: str) -> bytes:
    """The text as the standard fonts' WinAnsiEncoding (cp1252) bytes. Accents are composed first (e + ¨ is
    ë); control characters become spaces; a character cp1252 lacks becomes "?" (see the module docstring)."""
    composed = unicodedata.normalize("NFC", text)
    printable = "".join(" " if unicodedata.category(c) in {"Cc", "Zl", "Zp"} else c for c in composed)
    return printable.encode("cp1252", errors="replace")


def text_width(text: str, font: Font, size: float) -> float:
    widths = _WIDTHS[font]
    return sum(widths[byte - 32] for byte in pdf_bytes(text)) * size / 1000


def fit_text(text: str, font: Font, size: float, width: float) -> str:
    """The text, cut and ended with an ellipsis when it is wider than `width`."""
    if text_width(text, font, size) <= width:
        return text
    composed = unicodedata.normalize("NFC", text)
    room = width - text_width(_ELLIPSIS, font, size)
    used, end = 0.0, 0
    for end, character in enumerate(composed):  # noqa: B007 - `end` is where the room runs out
        used += text_width(character, font, size)
        if used > room:
            break
    return composed[:end].rstrip() + _ELLIPSIS


def wrap_text(text: str, font: Font, size: float, width: float) -> list[str]:
    """The text broken into lines at spaces (and at its own line breaks) to fit `width`; a word wider than a
    whole line is cut."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        current = ""
        for word in paragraph.split():
            candidate = f"{current} {word}" if current else word
            if current and text_width(candidate, font, size) > width:
                lines.append(current)
                candidate = word
            current = fit_text(candidate, font, size, width)
        lines.append(current)
    return lines


class Pages:
    """Draws text top-down on A4 pages, starting a new page when the next row would not fit."""

    def __init__(self) -> None:
        self.streams: list[pydyf.Stream] = []
        self.y = 0.0
        self._new_page()

    def _new_page(self) -> None:
        self.streams.append(pydyf.Stream(compress=True))
        self.y = PAGE_HEIGHT - MARGIN

    def advance(self, height: float) -> float:
        """Moves down by `height` (to a new page when it would cross the bottom margin); the row's baseline."""
        if self.y - height < BOTTOM:
            self._new_page()
        self.y -= height
        return self.y

    def text(
        self,
        x: float,
        text: str,
        *,
        font: Font = "regular",
        size: float = 10,
        align: Literal["left", "right"] = "left",
        y: float | None = None,
        stream: pydyf.Stream | None = None,
    ) -> None:
        if align == "right":
            x -= text_width(text, font, size)
        target = stream if stream is not None else self.streams[-1]
        target.begin_text()
        target.set_font_size(_FONT_RESOURCES[font], size)
        target.set_text_matrix(1, 0, 0, 1, round(x, 2), round(self.y if y is None else y, 2))
        # pydyf escapes the bytes of a literal string ( \ ( ) ); a str it would write as UTF-16, which a
        # simple font does not read.
        target.show_text_string(pdf_bytes(text))
        target.end_text()

    def rule(self, y_offset: float = -4, width: float = 0.5) -> None:
        stream = self.streams[-1]
        stream.set_line_width(width)
        stream.move_to(MARGIN, round(self.y + y_offset, 2))
        stream.line_to(RIGHT, round(self.y + y_offset, 2))
        stream.stroke()


def write_pdf(streams: Iterable[pydyf.Stream], *, title: str) -> bytes:
    pdf = pydyf.PDF()
    fonts = pydyf.Dictionary()
    for font, resource in _FONT_RESOURCES.items():
        font_object = pydyf.Dictionary(
            {
                "Type": "/Font",
                "Subtype": "/Type1",
                "BaseFont": f"/{_FONT_NAMES[font]}",
                "Encoding": "/WinAnsiEncoding",
            }
        )
        pdf.add_object(font_object)
        fonts[resource] = font_object.reference
    resources = pydyf.Dictionary({"Font": fonts})
    for stream in streams:
        pdf.add_object(stream)
        page = pydyf.Dictionary(
            {
                "Type": "/Page",
                "Parent": pdf.pages.reference,
                "MediaBox": pydyf.Array([0, 0, PAGE_WIDTH, PAGE_HEIGHT]),
                "Resources": resources,
                "Contents": stream.reference,
            }
        )
        pdf.add_page(page)
    # Metadata is a text string, which pydyf writes as UTF-16 when needed: any script shows there.
    pdf.info["Title"] = pydyf.String(title)
    output = io.BytesIO()
    pdf.write(output)
    return output.getvalue()
