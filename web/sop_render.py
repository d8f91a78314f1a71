"""Render an SOP-AP document as HTML (print styles) and as a vector PDF (WeasyPrint).

Rendering is two passes of the same template (``web/templates/sop/dokumen.html``):

1. *measure*: every row on one very long page, nothing drawn; WeasyPrint's
   layout gives the height of the identity part, the header and each row's
   text (``Page.anchors``: the box of every element with an ``id``, in CSS px);
2. *final*: :func:`engine.sop_flowchart.layout_flowchart` paginates with those
   heights and draws the flowchart; each page is a ``<section>`` with the
   identity part (page 1), the table header and its rows at fixed heights, and
   one absolutely positioned inline SVG over the Pelaksana columns.

The PDF keeps everything vector: text is text, symbols are SVG shapes
(rectangles, rounded rectangles, polygons), arrows are line segments with
filled triangle heads. Nothing is fetched while rendering (the URL fetcher
refuses every URL). Paper: A4 (297 × 210 mm) or F4 (330 × 215 mm), landscape.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from engine.sop_document import Row, SopDocument
from engine.sop_flowchart import PageLayout, layout_flowchart

__all__ = [
    "ESIGN_NOTE", "PAPERS", "Paper", "RenderedDocument", "css_string", "paper_named", "render_html", "render_pdf",
]

PX_PER_MM = 96 / 25.4
_TEMPLATES = Path(__file__).resolve().parent / "templates"
_BULAN = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
          "Oktober", "November", "Desember")
# The footer note of an electronically signed document (UU 11/2008 ITE Pasal 11 and PP 71/2019: a
# signature made with a certificate from an Indonesian certification authority, BSrE of BSSN for
# government offices, has legal force); a hand-signed one gets the blank signature cell instead.
ESIGN_NOTE = ("Dokumen ini telah ditandatangani secara elektronik menggunakan sertifikat elektronik yang "
              "diterbitkan oleh Balai Besar Sertifikasi Elektronik (BSrE), Badan Siber dan Sandi Negara")
_MEASURE_SLACK_PX = 3.0  # kept free at the foot of each page against rounding


@dataclass(frozen=True)
class Paper:
    """A landscape paper size and the table's column widths on it (mm for the page, px for columns)."""

    name: str
    width_mm: float
    height_mm: float
    margin_top_mm: float = 10.0
    margin_side_mm: float = 10.0
    margin_bottom_mm: float = 14.0

    @property
    def content_w(self) -> float:
        """Width between the side margins, in px."""
        return (self.width_mm - 2 * self.margin_side_mm) * PX_PER_MM

    @property
    def content_h(self) -> float:
        """Height between the top and bottom margins, in px."""
        return (self.height_mm - self.margin_top_mm - self.margin_bottom_mm) * PX_PER_MM


PAPERS = {"A4": Paper("A4", 297.0, 210.0), "F4": Paper("F4", 330.0, 215.0)}


def paper_named(name: str) -> Paper:
    """The paper called ``name`` (``A4`` or ``F4``, any case). Raises ``ValueError`` for others."""
    paper = PAPERS.get(name.strip().upper())
    if paper is None:
        raise ValueError(f"kertas {name!r} tidak dikenal (pilih A4 atau F4)")
    return paper


@dataclass(frozen=True)
class _Columns:
    """Column widths in px: No, Kegiatan, the Pelaksana columns, Kelengkapan, Waktu, Output, Keterangan."""

    widths: tuple[float, ...]
    lanes: int

    @property
    def flow_left(self) -> float:
        return self.widths[0] + self.widths[1]

    @property
    def flow_w(self) -> float:
        return sum(self.widths[2:2 + self.lanes])

    @property
    def lane_widths(self) -> tuple[float, ...]:
        return self.widths[2:2 + self.lanes]


def _columns(paper: Paper, lanes: int) -> _Columns:
    total = paper.content_w
    fixed = {"no": 26.0, "kelengkapan": total * 0.105, "waktu": 50.0, "output": total * 0.10,
             "keterangan": total * 0.095}
    kegiatan_min = total * 0.20
    rest = total - sum(fixed.values()) - kegiatan_min
    lane_w = min(112.0, max(56.0, rest / max(lanes, 1)))
    kegiatan = total - sum(fixed.values()) - lane_w * lanes
    widths = (fixed["no"], kegiatan, *([lane_w] * lanes), fixed["kelengkapan"], fixed["waktu"], fixed["output"],
              fixed["keterangan"])
    return _Columns(widths=widths, lanes=lanes)


def _tanggal_id(value: str | None) -> str:
    """An ISO date as Indonesian text ("2026-01-05" -> "5 Januari 2026"); "" for none."""
    if not value:
        return ""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return value
    return f"{day.day} {_BULAN[day.month - 1]} {day.year}"


def css_string(value: str) -> Markup:
    """``value`` as a double-quoted CSS string, safe inside a ``<style>`` element."""
    escaped = re.sub(r'[\\"<>\n\r]', lambda m: f"\\{ord(m.group()):X} ", value)
    return Markup(f'"{escaped}"')


def _pairs(points: Sequence[Any]) -> Iterator[tuple[Any, Any]]:
    return pairwise(points)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(_TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=False)
    env.filters["tanggal_id"] = _tanggal_id
    env.filters["css_string"] = css_string
    env.filters["pairs"] = _pairs
    return env


_ENV = _environment()


@dataclass(frozen=True)
class _Page:
    rows: Sequence[tuple[Row, float | None]]
    layout: PageLayout | None = None
    header_h: bool = False
    header_h1: float = 0.0
    header_h2: float = 0.0
    svg_top: float | None = None


@dataclass(frozen=True)
class RenderedDocument:
    """The final HTML, the layout of each page (rows, symbols, arrows in px) and, from
    :func:`render_pdf`, the PDF bytes (``None`` from :func:`render_html`)."""

    html: str
    layouts: list[PageLayout]
    pdf: bytes | None = None


def _refuse_urls(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    raise ValueError(f"dokumen SOP tidak memuat sumber luar: {url}")


def _template_html(doc: SopDocument, paper: Paper, columns: _Columns, pages: Iterable[_Page], *, measure: bool,
                   nonce: str | None = None, toolbar: Markup | None = None) -> str:
    identity = doc.identity
    footer = identity.nama_sop + (f" — Nomor {identity.nomor}" if identity.nomor else "")
    esign = bool(identity.disahkan_oleh and identity.disahkan_oleh.elektronik)
    if esign:
        footer += "\n" + ESIGN_NOTE
    return _ENV.get_template("sop/dokumen.html").render(
        identity=identity, lanes=doc.lanes, paper=paper, columns=columns, pages=list(pages), measure=measure,
        nonce=nonce, toolbar=toolbar, footer_left=footer, footer_esign=esign,
    )


def _weasy(html: str) -> Any:
    from weasyprint import HTML  # imported here: loading pango takes ~0.3 s, only renders need it

    return HTML(string=html, url_fetcher=_refuse_urls, base_url=str(_TEMPLATES)).render()


def _box(anchors: dict[str, tuple[float, ...]], key: str) -> tuple[float, float, float, float]:
    box = anchors[key]
    return (box[0], box[1], box[2], box[3]) if len(box) == 4 else (box[0], box[1], box[0], box[1])


@functools.lru_cache(maxsize=64)
def _measure(html: str) -> dict[str, tuple[float, ...]]:
    """The anchors (element id -> box in CSS px) of the measuring pass; cached by its HTML."""
    anchors: dict[str, tuple[float, ...]] = {}
    for page in _weasy(html).pages:
        anchors.update({key: tuple(value) for key, value in page.anchors.items()})
    return anchors


def _plan(doc: SopDocument, paper: Paper) -> tuple[_Columns, list[_Page], list[PageLayout]]:
    columns = _columns(paper, len(doc.lanes))
    every_row = _Page(rows=[(row, None) for row in doc.rows])
    anchors = _measure(_template_html(doc, paper, columns, [every_row], measure=True))
    identity_h = _box(anchors, "identity-end")[1] - _box(anchors, "identity-part")[1]
    heights = [(_box(anchors, f"r{row.index}")[3] - _box(anchors, f"r{row.index}")[1]) for row in doc.rows]
    if doc.rows:
        h1 = _box(anchors, "h1-0")[3] - _box(anchors, "h1-0")[1]
        h2 = _box(anchors, "h2-0")[3] - _box(anchors, "h2-0")[1]
    else:
        h1 = h2 = 0.0
    header = h1 + h2
    available = paper.content_h - _MEASURE_SLACK_PX
    layouts = layout_flowchart(doc, columns.lane_widths, heights, available - identity_h - header, available - header)
    pages = []
    for layout in layouts:
        rows = [(doc.rows[i], h) for i, h in zip(layout.rows, layout.heights, strict=True)]
        pages.append(_Page(rows=rows, layout=layout if rows else None, header_h=bool(rows), header_h1=h1,
                           header_h2=h2, svg_top=header if rows else None))
    return columns, pages, layouts


def render_html(doc: SopDocument, *, paper: Paper = PAPERS["A4"], nonce: str | None = None,
                toolbar: Markup | None = None) -> RenderedDocument:
    """The SOP-AP document as one HTML page with print styles (all CSS inline in one ``<style>``).

    ``nonce`` goes on the ``<style>`` element (for a Content-Security-Policy);
    ``toolbar`` is HTML shown above the pages on screen only.
    """
    columns, pages, layouts = _plan(doc, paper)
    return RenderedDocument(_template_html(doc, paper, columns, pages, measure=False, nonce=nonce, toolbar=toolbar),
                            layouts)


def render_pdf(doc: SopDocument, *, paper: Paper = PAPERS["A4"]) -> RenderedDocument:
    """The SOP-AP document as a vector PDF (``RenderedDocument.pdf``), landscape ``paper``."""
    columns, pages, layouts = _plan(doc, paper)
    html = _template_html(doc, paper, columns, pages, measure=False)
    return RenderedDocument(html, layouts, _pdf_of(html))


@functools.lru_cache(maxsize=16)
def _pdf_of(html: str) -> bytes:
    """The PDF of a final HTML; cached, so asking again for the same document costs no layout."""
    pdf: bytes = _weasy(html).write_pdf()
    return pdf
