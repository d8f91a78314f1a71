"""Test helper: draw a diagram as an SOP-AP PDF the way spreadsheet/word-processor exports do.

Ruled table (cell borders as line segments), one or two header rows, the flowchart as vector
symbols in the Pelaksana columns (rectangles, capsules as rounded rectangles, diamonds as a
polygon or as four lines), arrows as segments with small filled triangles, "Ya"/"Tidak" as
separate words next to a diamond's outgoing lines, identity part on the first page or a page of
its own, the table continued over pages with the header repeated and pentagon connectors.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

from tests.sop_import.diagrams import Diagram, _keterangan, _numbered

FONT, SIZE, LEAD = "Helvetica", 6.5, 8.0
MARGIN = 24.0


@dataclass
class Layout:
    """How the document is drawn."""

    header_rows: int = 2                  # 1: "Pelaksana" and role names in one row
    diamond: str = "polygon"              # "polygon" | "lines"
    identity: str = "top"                 # "top" | "page" | "none"
    rows_per_page: int | None = None      # None: as many as fit
    joint: dict[str, str] = field(default_factory=dict)   # step id -> extra lane (a joint step)
    encrypt: str | None = None            # user password
    skip_symbols: set[str] = field(default_factory=set)   # step ids drawn without a symbol
    open_roles: bool = False              # no row borders inside the Pelaksana columns


def _wrap(text: str, width: float) -> list[str]:
    return simpleSplit(text, FONT, SIZE, width) or [""]


def _arrowhead(c: Canvas, x: float, y: float, direction: str) -> None:
    s = 3.0
    points = {"down": [(x, y), (x - s, y + 2 * s), (x + s, y + 2 * s)],
              "up": [(x, y), (x - s, y - 2 * s), (x + s, y - 2 * s)],
              "left": [(x, y), (x + 2 * s, y - s), (x + 2 * s, y + s)],
              "right": [(x, y), (x - 2 * s, y - s), (x - 2 * s, y + s)]}[direction]
    path = c.beginPath()
    path.moveTo(*points[0])
    for p in points[1:]:
        path.lineTo(*p)
    path.close()
    c.drawPath(path, stroke=0, fill=1)


def to_pdf(diagram: Diagram, names: dict[str, str], layout: Layout | None = None) -> bytes:
    """The diagram as an SOP-AP PDF (A4 landscape), drawn with reportlab."""
    layout = layout or Layout()
    buffer = io.BytesIO()
    encrypt = StandardEncryption(layout.encrypt, canPrint=1) if layout.encrypt else None
    c = Canvas(buffer, pagesize=landscape(A4), encrypt=encrypt)
    c.setTitle(diagram.name)
    width, height = landscape(A4)
    n = len(diagram.lanes)
    fixed = [22.0, 190.0]
    mutu = [78.0, 44.0, 78.0, 84.0]
    role_w = (width - 2 * MARGIN - sum(fixed) - sum(mutu)) / n
    widths = fixed + [role_w] * n + mutu
    xs = [MARGIN]
    for w in widths:
        xs.append(xs[-1] + w)
    labels = _numbered(diagram)
    texts = []
    for label, row in zip(labels, diagram.rows, strict=True):
        cells = [label, row.text, *[""] * n, row.kelengkapan or "", row.waktu or "", row.output or "",
                 _keterangan(row, names)]
        wrapped = [_wrap(t, widths[i] - 6) for i, t in enumerate(cells)]
        texts.append((wrapped, max(40.0, max(len(w) for w in wrapped) * LEAD + 10)))

    def identity(top: float) -> float:
        rows = [("Nomor SOP", "SOP-2-17/17000/2026"), ("Tanggal Pembuatan", "2 Januari 2026"),
                ("Tanggal Revisi", "-"), ("Tanggal Efektif", "5 Januari 2026"),
                ("Disahkan oleh", "Kepala Dinas"), ("", "Drs. Budi Santoso, M.Si"),
                ("", "NIP. 197001011990031001"), ("Nama SOP", diagram.name)]
        x0, x1, x2 = width / 2, width / 2 + 110, width - MARGIN
        c.setFont("Helvetica-Bold", 9)
        c.drawString(MARGIN, top - 14, "PEMERINTAH KABUPATEN CONTOH")
        c.setFont(FONT, 8)
        y = top
        for label, value in rows:
            c.line(x0, y, x2, y)
            c.drawString(x0 + 3, y - 11, label)
            c.drawString(x1 + 3, y - 11, value)
            y -= 15
        c.line(x0, y, x2, y)
        c.line(x0, top, x0, y)
        c.line(x1, top, x1, y)
        c.line(x2, top, x2, y)
        y -= 10
        c.drawString(MARGIN, y - 8, "Dasar Hukum:")
        c.drawString(MARGIN + 10, y - 18, "1. Peraturan Menteri PANRB Nomor 35 Tahun 2012")
        c.drawString(width / 2, y - 8, "Kualifikasi Pelaksana:")
        c.drawString(width / 2 + 10, y - 18, "1. Memahami tugas pokok dan fungsi")
        return y - 30

    def header(top: float) -> float:
        c.setFont("Helvetica-Bold", SIZE)
        one_row_lines = max(len(_wrap(t, widths[i] - 4)) for i, t in enumerate(
            ["No", "Kegiatan", f"Pelaksana: {diagram.lanes[0]}", *diagram.lanes[1:]]))
        h1 = 14.0 if layout.header_rows == 2 else one_row_lines * LEAD + 6
        name_lines = max(len(_wrap(lane, role_w - 4)) for lane in diagram.lanes)
        h2 = max(22.0, name_lines * LEAD + 8) if layout.header_rows == 2 else 0.0
        bottom = top - h1 - h2
        c.line(xs[0], top, xs[-1], top)
        c.line(xs[0], bottom, xs[-1], bottom)
        for i, x in enumerate(xs):
            spans = layout.header_rows == 2 and (3 <= i <= 1 + n or 3 + n <= i <= 4 + n)
            c.line(x, bottom if spans else top, x, top - h1 if spans else bottom)
            if spans:
                c.line(x, top - h1, x, bottom)
        if layout.header_rows == 2:
            c.line(xs[2], top - h1, xs[2 + n + 3], top - h1)
            c.drawCentredString((xs[0] + xs[1]) / 2, top - 20, "No")
            c.drawCentredString((xs[1] + xs[2]) / 2, top - 20, "Kegiatan")
            c.drawCentredString((xs[2] + xs[2 + n]) / 2, top - 10, "Pelaksana")
            c.drawCentredString((xs[2 + n] + xs[5 + n]) / 2, top - 10, "Mutu Baku")
            c.drawCentredString((xs[5 + n] + xs[6 + n]) / 2, top - 20, "Keterangan")
            for i, lane in enumerate(diagram.lanes):
                for k, line in enumerate(_wrap(lane, role_w - 4)):
                    c.drawCentredString(xs[2 + i] + role_w / 2, top - h1 - 9 - k * LEAD, line)
            for i, title in enumerate(("Kelengkapan", "Waktu", "Output")):
                c.drawCentredString((xs[2 + n + i] + xs[3 + n + i]) / 2, top - h1 - 12, title)
        else:
            titles = ["No", "Kegiatan", *[f"Pelaksana: {lane}" if i == 0 else lane
                                          for i, lane in enumerate(diagram.lanes)],
                      "Kelengkapan", "Waktu", "Output", "Keterangan"]
            for i, title in enumerate(titles):
                for k, line in enumerate(_wrap(title, widths[i] - 4)):
                    c.drawCentredString((xs[i] + xs[i + 1]) / 2, top - 8 - k * LEAD, line)
        c.setFont(FONT, SIZE)
        return bottom

    centres: dict[int, tuple[int, float, float]] = {}   # row -> (page, x, y) of the symbol centre
    symbol_w = min(role_w - 14, 60.0)
    page = 1
    top = height - MARGIN
    if layout.identity == "page":
        identity(top)
        c.showPage()
        page += 1
    elif layout.identity == "top":
        top = identity(top)
    y = header(top)
    table_top = top
    on_page = 0
    letters = iter("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    pending: str | None = None
    for index, (row, (wrapped, row_h)) in enumerate(zip(diagram.rows, texts, strict=True)):
        full = layout.rows_per_page is not None and on_page >= layout.rows_per_page
        if y - row_h < MARGIN + 12 or full:
            _close_table(c, xs, table_top, y)
            letter = next(letters)
            prev = centres[index - 1]
            _pentagon(c, prev[1], y - 6, letter)
            c.line(prev[1], prev[2] - 12, prev[1], y - 1)
            c.drawString(xs[-1] - 60, MARGIN - 10, f"Halaman {page}")
            c.showPage()
            page += 1
            top = height - MARGIN
            table_top = top
            y = header(top)
            on_page = 0
            pending = letter
        for i, lines in enumerate(wrapped):
            for k, line in enumerate(lines):
                if i == 0:
                    c.drawCentredString((xs[0] + xs[1]) / 2, y - 10 - k * LEAD, line)
                else:
                    c.drawString(xs[i] + 3, y - 10 - k * LEAD, line)
        lane = diagram.lanes.index(row.lane)
        cx, cy = xs[2 + lane] + role_w / 2, y - row_h / 2
        first_or_last = index in (0, len(diagram.rows) - 1)
        if row.step_id in layout.skip_symbols:
            pass
        elif row.review_tidak:
            _diamond(c, cx, cy, symbol_w, 26, layout.diamond)
            c.drawString(cx + symbol_w / 2 + 2, cy + 3, "Tidak")
            c.drawString(cx + 3, cy - 13 - 6, "Ya")
        elif first_or_last:
            c.roundRect(cx - symbol_w / 2, cy - 9, symbol_w, 18, 9, stroke=1, fill=0)
        else:
            c.rect(cx - symbol_w / 2, cy - 10, symbol_w, 20, stroke=1, fill=0)
        extra = layout.joint.get(row.step_id)
        if extra is not None:
            ex = xs[2 + diagram.lanes.index(extra)] + role_w / 2
            c.rect(ex - symbol_w / 2, cy - 10, symbol_w, 20, stroke=1, fill=0)
            c.line(cx + symbol_w / 2, cy, ex - symbol_w / 2, cy)
            _arrowhead(c, ex - symbol_w / 2, cy, "right")
        if pending is not None:
            _pentagon(c, cx, y - 2, pending, top_of_page=True)
            pending = None
        elif index:
            _forward(c, centres[index - 1], (page, cx, cy), y)
        centres[index] = (page, cx, cy)
        y -= row_h
        if layout.open_roles:
            c.line(xs[0], y, xs[2], y)
            c.line(xs[2 + n], y, xs[-1], y)
        else:
            c.line(xs[0], y, xs[-1], y)
        on_page += 1
        if row.review_tidak:
            target = next(i for i, r in enumerate(diagram.rows) if r.step_id == row.review_tidak)
            tp, tx, ty = centres[target]
            if tp == page:
                _back(c, (cx, cy), (tx, ty), symbol_w, xs, diagram, lane, target, index)
    _close_table(c, xs, table_top, y)
    c.drawString(xs[-1] - 60, MARGIN - 10, f"Halaman {page}")
    c.showPage()
    c.save()
    return buffer.getvalue()


def _close_table(c: Canvas, xs: list[float], top: float, bottom: float) -> None:
    for x in xs:
        c.line(x, top, x, bottom)


def _diamond(c: Canvas, cx: float, cy: float, w: float, h: float, style: str) -> None:
    pts = [(cx, cy + h / 2), (cx + w / 2, cy), (cx, cy - h / 2), (cx - w / 2, cy)]
    if style == "lines":
        for a, b in zip(pts, pts[1:] + pts[:1], strict=True):
            c.line(*a, *b)
        return
    path = c.beginPath()
    path.moveTo(*pts[0])
    for p in pts[1:]:
        path.lineTo(*p)
    path.close()
    c.drawPath(path, stroke=1, fill=0)


def _pentagon(c: Canvas, cx: float, top: float, letter: str, top_of_page: bool = False) -> None:
    w, h = 14.0, 12.0
    path = c.beginPath()
    path.moveTo(cx - w / 2, top)
    path.lineTo(cx + w / 2, top)
    path.lineTo(cx + w / 2, top - h * 0.6)
    path.lineTo(cx, top - h)
    path.lineTo(cx - w / 2, top - h * 0.6)
    path.close()
    c.drawPath(path, stroke=1, fill=0)
    c.drawCentredString(cx, top - 7, letter)


def _forward(c: Canvas, source: tuple[int, float, float], target: tuple[int, float, float], row_top: float) -> None:
    """Down from the previous symbol, across at the row border, down into the next symbol."""
    _, sx, sy = source
    _, tx, ty = target
    bottom, top = sy - 10, ty + 10
    if abs(sx - tx) < 1:
        c.line(sx, bottom, sx, top + 0.5)
    else:
        c.line(sx, bottom, sx, row_top)
        c.line(sx, row_top, tx, row_top)
        c.line(tx, row_top, tx, top + 0.5)
    _arrowhead(c, tx, top, "down")


def _back(c: Canvas, source: tuple[float, float], target: tuple[float, float], symbol_w: float,
          xs: list[float], diagram: Diagram, lane: int, target_row: int, row: int) -> None:
    """"Tidak": right from the diamond, up beside the symbols, left into the target's right side."""
    sx, sy = source
    tx, ty = target
    target_lane = diagram.lanes.index(diagram.rows[target_row].lane)
    track = xs[3 + max(lane, target_lane)] - 4 - 2 * (row % 3)
    entry_x, entry_y = tx + symbol_w / 4, ty + 14     # above the target, right of its centre
    c.line(sx + symbol_w / 2, sy, track, sy)
    c.line(track, sy, track, entry_y + 3)
    c.line(track, entry_y + 3, entry_x, entry_y + 3)
    c.line(entry_x, entry_y + 3, entry_x, entry_y - 3.5)
    _arrowhead(c, entry_x, entry_y - 4, "down")
