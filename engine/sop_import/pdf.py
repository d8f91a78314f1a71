"""Read an SOP-AP table from a PDF by the positions of its lines, symbols and words (pdfplumber).

Spreadsheet and word-processor exports keep the table as vector drawing: ruling lines,
words with coordinates, and the flowchart as rectangles, curves (capsules, polygon
diamonds) and line segments (arrows, four-line diamonds) with small filled triangles
as arrowheads. The reader

1. finds the header ("Kegiatan" and "Pelaksana") and the column boundaries from the
   vertical ruling lines crossing the header's lowest row; the role names are the
   words between the Kegiatan and the Mutu Baku columns (one or two header rows);
2. cuts the table into rows at the long horizontal ruling lines below the header;
3. puts every symbol in the row and Pelaksana column its centre sits in (a joint step:
   symbols in several columns, the first performs);
4. follows the line segments leaving each diamond; the one labelled "Tidak" (or, with
   no label, the one reaching an earlier row) gives where "Tidak" goes;
5. continues the table on the following pages (header repeated) and reads the identity
   part (Nomor SOP, Tanggal ..., Disahkan oleh, Nama SOP, Dasar Hukum ...) from the
   first page or a page of its own.

Bounded: at most :data:`MAX_PAGES` pages and :data:`TIME_BUDGET_S` seconds; an
encrypted or scanned (image-only) PDF is refused with a clear message.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from engine.sop_import.draft import DraftSop, ImportReport
from engine.sop_import.table import Header, Symbol, TableRow, assemble, classify_header
from storage.errors import SopImportError

__all__ = ["MAX_PAGES", "TIME_BUDGET_S", "read_pdf"]

MAX_PAGES = 60
TIME_BUDGET_S = 30.0
Seg = tuple[float, float, float, float]     # x0, y0, x1, y1 (y grows downwards)
Box = tuple[float, float, float, float]     # x0, top, x1, bottom

_HEADER_WORDS = re.compile(r"(?:kegiatan|aktivitas|uraian)", re.IGNORECASE)
_IDENTITY = ("Nomor SOP", "Tanggal Pembuatan", "Tanggal Revisi", "Tanggal Efektif", "Disahkan oleh", "Nama SOP")
_HEADER_LISTS = {"dasar hukum": "dasarHukum", "kualifikasi pelaksana": "kualifikasiPelaksana",
                 "keterkaitan": "keterkaitan", "peralatan": "peralatan", "peringatan": "peringatan",
                 "pencatatan": "pencatatan"}


@dataclass
class _Shape:
    kind: str        # rect | capsule | diamond | connector
    box: Box

    @property
    def centre(self) -> tuple[float, float]:
        return (self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2


@dataclass
class _Columns:
    bounds: list[float]          # x of each vertical ruling line, left to right
    header: Header
    names: list[str]

    def index(self, x: float) -> int | None:
        for i in range(len(self.bounds) - 1):
            if self.bounds[i] <= x < self.bounds[i + 1]:
                return i
        return None


@dataclass
class _PlacedShape:
    shape: _Shape
    row: int                     # global row index
    lane: int                    # index into the Pelaksana columns; -1 for an off-page connector
    letter: str | None = None    # an off-page connector's letter


@dataclass
class _Links:
    """Tidak arrows found so far: complete ones, and those broken by a page break (by connector letter)."""

    tidak: dict[int, int] = field(default_factory=dict)
    pending: dict[int, tuple[str, bool, int]] = field(default_factory=dict)   # row -> (letter, labelled, page)
    connector_targets: dict[tuple[int, str], int] = field(default_factory=dict)  # (page, letter) -> row


@dataclass
class _Page:
    number: int
    words: list[dict[str, Any]]
    rows: list[tuple[int, Box]] = field(default_factory=list)   # (global row index, band)
    heads: list[tuple[float, float]] = field(default_factory=list)   # arrowhead centres


def _open(data: bytes) -> Any:
    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfminer.psparser import PSException
    from pdfplumber.utils.exceptions import PdfminerException

    try:
        pdf = pdfplumber.open(io.BytesIO(data))
        _ = pdf.doc.catalog
    except PdfminerException as exc:
        cause = exc.args[0] if exc.args else exc
        if isinstance(cause, PDFPasswordIncorrect | PDFEncryptionError):
            raise SopImportError("PDF terenkripsi (dilindungi kata sandi): buka kuncinya atau ekspor ulang "
                                 "tanpa kata sandi") from exc
        raise SopImportError(f"PDF rusak atau tidak dapat dibaca ({cause})") from exc
    except (PDFSyntaxError, PSException, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise SopImportError(f"PDF rusak atau tidak dapat dibaca ({type(exc).__name__})") from exc
    return pdf


def _page_count(pdf: Any) -> int:
    from pdfminer.pdftypes import resolve1

    try:
        count = resolve1(resolve1(pdf.doc.catalog.get("Pages")).get("Count"))
        return int(count)
    except (AttributeError, TypeError, ValueError):
        return len(pdf.pages)


def read_pdf(data: bytes, source: str) -> list[tuple[DraftSop, ImportReport]]:
    """Read the SOP-AP table of a PDF; one draft and report (the PDF holds one SOP).

    Raises :class:`SopImportError`: encrypted, malformed, more than :data:`MAX_PAGES`
    pages, image-only (needs OCR), no SOP table, or over the time budget.
    """
    started = time.monotonic()
    pdf = _open(data)
    try:
        count = _page_count(pdf)
        if count > MAX_PAGES:
            raise SopImportError(f"PDF terlalu panjang ({count} halaman; maksimum {MAX_PAGES}). Sebuah SOP-AP "
                                 "biasanya 1-10 halaman: pisahkan dokumen per SOP")
        return [_read(pdf, source, count, started)]
    finally:
        pdf.close()


def _read(pdf: Any, source: str, count: int, started: float) -> tuple[DraftSop, ImportReport]:
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfminer.psparser import PSException
    from pdfplumber.utils.exceptions import PdfminerException

    report = ImportReport(source=source, kind="pdf", pages=count)
    columns: _Columns | None = None
    rows: list[TableRow] = []
    placed: list[_PlacedShape] = []
    pages: list[_Page] = []
    identity_words: list[list[dict[str, Any]]] = []
    chars = images = 0
    links = _Links()
    try:
        for page in pdf.pages:
            if time.monotonic() - started > TIME_BUDGET_S:
                raise SopImportError(f"Waktu membaca PDF habis (lebih dari {TIME_BUDGET_S:.0f} detik) pada halaman "
                                     f"{page.page_number}", page=page.page_number)
            chars += len(page.chars)
            images += len(page.images)
            words = page.extract_words(x_tolerance=1.5, y_tolerance=2)
            header = _find_header(words)
            if header is not None:
                found = _columns(page, words, header)
                if found is None:
                    report.add("tidak terbaca", "Judul tabel ditemukan, tetapi garis kolomnya tidak",
                               page=page.page_number)
                    continue
                if columns is not None and [n.casefold() for n in found.names] != [
                        n.casefold() for n in columns.names]:
                    report.add("peringatan", "Kolom Pelaksana berbeda dari halaman sebelumnya: dipakai yang pertama",
                               page=page.page_number)
                    found.names = columns.names
                if columns is None:
                    identity_words.append([w for w in words if w["bottom"] <= header[1]])
                columns = found
                top = header[2]
            elif columns is not None and _same_columns(page, columns):
                top = min((e["top"] for e in page.horizontal_edges), default=0.0)
            else:
                if columns is None:
                    identity_words.append(words)
                continue
            current = _Page(page.page_number, words)
            pages.append(current)
            _rows(page, words, columns, top, current, rows, report)
            shapes, segments = _drawing(page, columns, current)
            placed.extend(_place(shapes, words, columns, current, report))
            _tidak_links(segments, words, current, placed, rows, links, report)
    except (PDFSyntaxError, PSException, PDFPasswordIncorrect, PDFEncryptionError, PdfminerException) as exc:
        raise SopImportError(f"PDF rusak atau tidak dapat dibaca ({type(exc).__name__})") from exc
    if columns is None:
        if chars == 0 and images:
            raise SopImportError("PDF ini hasil pindai (hanya gambar, tanpa teks): perlu OCR terlebih dahulu; "
                                 "Alur tidak membaca gambar. Unggah PDF hasil ekspor Excel/Word, XLSX atau teks")
        raise SopImportError("Tidak ditemukan tabel SOP dalam PDF: perlu baris judul dengan 'Kegiatan' dan "
                             "'Pelaksana'")
    if not rows:
        raise SopImportError("Tabel SOP ditemukan, tetapi tidak ada baris kegiatan yang terbaca")
    name, identity, header_fields = _identity(identity_words)
    _resolve_connectors(links, rows, report)
    symbols = [Symbol(p.row, p.lane, p.shape.kind) for p in placed if p.letter is None]
    draft = assemble(name or (pdf.metadata.get("Title") if isinstance(pdf.metadata.get("Title"), str) else None)
                     or source, source, columns.names, rows, symbols, links.tidak, report)
    draft.identity = identity
    draft.header = header_fields
    if not identity:
        report.add("info", "Bagian identitas (Nomor SOP, Tanggal, Disahkan oleh) tidak ditemukan")
    for key, value in identity.items():
        report.add("info", f"Identitas dibaca — {key}: {value}")
    return draft, report


def _find_header(words: list[dict[str, Any]]) -> tuple[float, float, float] | None:
    """(x of Kegiatan, top of the header, bottom of its lowest row's Mutu Baku titles) or None.

    The header is a Kegiatan (Aktivitas, Uraian) cell with "Pelaksana" or the Mutu Baku
    titles (Kelengkapan, Waktu, Output) beside it.
    """
    kegiatan = [w for w in words if _HEADER_WORDS.fullmatch(w["text"].strip(".:"))]
    pelaksana = [w for w in words if re.match(r"^pelaksana", w["text"], re.IGNORECASE)]
    titles = [w for w in words if re.match(r"^(?:kelengkapan|persyaratan|waktu|output|keluaran)$", w["text"],
                                           re.IGNORECASE)]
    best: tuple[int, tuple[float, float, float]] | None = None
    for k in kegiatan:
        near = [p for p in pelaksana if -20 < p["top"] - k["top"] < 40 and not any(
            re.match(r"^kualifikasi", w["text"], re.IGNORECASE) and abs(w["top"] - p["top"]) < 2
            and 0 < p["x0"] - w["x1"] < 8 for w in words)]
        below = [t for t in titles if -20 < t["top"] - k["top"] < 40]
        if near or len(below) >= 2:
            top = min(k["top"], *(p["top"] for p in near), *(t["top"] for t in below))
            bottom = max([k["bottom"], *(t["bottom"] for t in below)])
            score = len(near) + len(below)
            if best is None or score > best[0]:
                best = (score, (k["x0"], top, bottom))
    return best[1] if best is not None else None


def _h_spans(page: Any) -> list[tuple[float, float, float]]:
    """Horizontal rules as (y, x0, x1): collinear segments (one per cell border, as HTML and
    word-processor exports draw them) merged where they touch."""
    rows: dict[int, list[tuple[float, float, float]]] = {}
    for edge in page.horizontal_edges:
        rows.setdefault(round(edge["top"] * 2), []).append((edge["top"], edge["x0"], edge["x1"]))
    spans: list[tuple[float, float, float]] = []
    for key in sorted(rows):
        parts = sorted(rows[key], key=lambda part: part[1])
        y, x0, x1 = parts[0]
        for _, a, b in parts[1:]:
            if a <= x1 + 2:
                x1 = max(x1, b)
            else:
                spans.append((y, x0, x1))
                x0, x1 = a, b
        spans.append((y, x0, x1))
    return spans


def _long_h(page: Any, x0: float, x1: float, share: float = 0.6) -> list[float]:
    """The y of every rule covering at least ``share`` of [x0, x1], top to bottom."""
    ys = sorted(y for y, a, b in _h_spans(page) if min(b, x1) - max(a, x0) >= share * (x1 - x0))
    merged: list[float] = []
    for y in ys:
        if not merged or y - merged[-1] > 1.5:
            merged.append(y)
    return merged


def _row_rules(page: Any, columns: _Columns) -> list[float]:
    """Row boundaries: rules across the Kegiatan column covering at least 35 % of the table in all
    (the flowchart area of some exports has no inner borders)."""
    x0, x1 = columns.bounds[0], columns.bounds[-1]
    k0, k1 = columns.bounds[columns.header.kegiatan], columns.bounds[columns.header.kegiatan + 1]
    by_y: dict[int, list[tuple[float, float, float]]] = {}
    for y, a, b in _h_spans(page):
        by_y.setdefault(round(y), []).append((y, a, b))
    ys = []
    for spans in by_y.values():
        covered = sum(max(0.0, min(b, x1) - max(a, x0)) for _, a, b in spans)
        if covered >= 0.35 * (x1 - x0) and any(a <= k0 + 2 and b >= k1 - 2 for _, a, b in spans):
            ys.append(min(y for y, _, _ in spans))
    merged: list[float] = []
    for y in sorted(ys):
        if not merged or y - merged[-1] > 1.5:
            merged.append(y)
    return merged


def _columns(page: Any, words: list[dict[str, Any]], header: tuple[float, float, float]) -> _Columns | None:
    _, top, keyword_bottom = header
    near = [(a, b) for y, a, b in _h_spans(page) if abs(y - top) < 30]
    width = max((b - a for a, b in near), default=0.0)
    if width <= 0:
        return None
    table_x0 = min(a for a, b in near if b - a >= 0.6 * width)
    table_x1 = max(b for a, b in near if b - a >= 0.6 * width)
    below = [y for y in _long_h(page, table_x0, table_x1) if y > keyword_bottom - 0.5]
    if not below:
        return None
    bottom = below[0]
    probe = bottom - 3
    xs = sorted(e["x0"] for e in page.vertical_edges if e["top"] <= probe <= e["bottom"]
                and table_x0 - 2 <= e["x0"] <= table_x1 + 2)
    bounds: list[float] = []
    for x in xs:
        if not bounds or x - bounds[-1] > 2:
            bounds.append(x)
    if len(bounds) < 5:
        return None
    texts_a: list[str] = []
    texts_b: list[str] = []
    for i in range(len(bounds) - 1):
        inside = [w for w in words if bounds[i] <= (w["x0"] + w["x1"]) / 2 < bounds[i + 1]
                  and top - 2 <= w["top"] and w["bottom"] <= bottom + 1]
        lines = _lines(inside)
        keyword = [t for t in lines if _is_keyword(t)]
        names = [re.sub(r"^pelaksana\s*:\s*", "", t, flags=re.IGNORECASE) for t in lines if not _is_keyword(t)]
        texts_a.append(keyword[-1] if keyword else "")
        texts_b.append(_join([n for n in names if n]))
    classified = classify_header([texts_a, texts_b])
    if classified is None or not classified.roles:
        return None
    columns = _Columns(bounds, classified, [n for _, n in classified.roles])
    columns.header = classified
    return columns


def _is_keyword(text: str) -> bool:
    return bool(re.match(r"^\s*(?:no\.?|nomor|kegiatan|aktivitas|uraian.*|pelaksana|mutu\s+baku|kelengkapan|"
                         r"persyaratan.*|waktu|output|keluaran|keterangan|ket\.?)\s*$", text, re.IGNORECASE))


def _lines(words: Iterable[dict[str, Any]]) -> list[str]:
    """Words grouped into lines (by top, 2 pt tolerance), each line left to right."""
    lines: list[list[dict[str, Any]]] = []
    for word in sorted(words, key=lambda w: (w["top"], w["x0"])):
        if lines and abs(lines[-1][0]["top"] - word["top"]) <= 2:
            lines[-1].append(word)
        else:
            lines.append([word])
    return [" ".join(w["text"] for w in sorted(line, key=lambda w: w["x0"])) for line in lines]


def _join(lines: list[str]) -> str:
    """A cell's wrapped lines as one text: no space where a line broke after "/" or inside a
    hyphenated word ("surat/" + "dokumen", "masing-" + "masing")."""
    text = ""
    for line in lines:
        if text and (text.endswith("/") or (text.endswith("-") and text[-2:-1].isalpha() and line[:1].islower())):
            text += line
        else:
            text = f"{text} {line}" if text else line
    return text


def _same_columns(page: Any, columns: _Columns) -> bool:
    xs = [e["x0"] for e in page.vertical_edges]
    hits = sum(1 for b in columns.bounds if any(abs(x - b) < 1.5 for x in xs))
    return hits >= 0.8 * len(columns.bounds)


def _rows(page: Any, words: list[dict[str, Any]], columns: _Columns, top: float, current: _Page,
          rows: list[TableRow], report: ImportReport) -> None:
    x0, x1 = columns.bounds[0], columns.bounds[-1]
    ys = [y for y in _row_rules(page, columns) if y >= top - 0.5]
    header = columns.header
    for upper, lower in zip(ys, ys[1:], strict=False):
        band: Box = (x0, upper, x1, lower)
        cells: dict[int, str] = {}
        for i in range(len(columns.bounds) - 1):
            inside = [w for w in words if columns.bounds[i] <= (w["x0"] + w["x1"]) / 2 < columns.bounds[i + 1]
                      and upper <= (w["top"] + w["bottom"]) / 2 < lower]
            cells[i] = _join(_lines(inside))

        kegiatan, label = cells.get(header.kegiatan) or None, _cell(cells, header.no)
        if not kegiatan:
            if label:
                report.add("tidak terbaca", f"Baris bernomor {label} tanpa teks Kegiatan: dilewati",
                           page=current.number)
            continue
        if not label and rows and not current.rows and rows[-1].page != current.number \
                and not _cell(cells, header.waktu):
            rows[-1].kegiatan += " " + kegiatan
            report.add("dugaan", f"Baris tanpa nomor di awal halaman tanpa Waktu: dianggap lanjutan baris "
                                 f"{rows[-1].label} dari halaman sebelumnya", page=current.number, row=rows[-1].label)
            continue
        if not label:
            label = f"tanpa nomor (setelah {rows[-1].label})" if rows else "tanpa nomor"
        current.rows.append((len(rows), band))
        rows.append(TableRow(label.rstrip(".:"), kegiatan, _cell(cells, header.kelengkapan),
                             _cell(cells, header.waktu), _cell(cells, header.output),
                             _cell(cells, header.keterangan), page=current.number))


def _cell(cells: dict[int, str], col: int | None) -> str | None:
    return (cells.get(col) or None) if col is not None else None


def _drawing(page: Any, columns: _Columns, current: _Page) -> tuple[list[_Shape], list[Seg]]:
    """Symbols and loose line segments of the page's table area."""
    if not current.rows:
        return [], []
    top = current.rows[0][1][1]
    bottom = current.rows[-1][1][3]
    role_cols = [c for c, _ in columns.header.roles]
    left, right = columns.bounds[role_cols[0]], columns.bounds[role_cols[-1] + 1]
    shapes: list[_Shape] = []
    segments: list[Seg] = []
    diagonals: list[Seg] = []

    def inside(box: Box) -> bool:
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        return left <= cx <= right and top <= cy <= bottom

    for rect in page.rects:
        box = (rect["x0"], rect["top"], rect["x1"], rect["bottom"])
        if rect["width"] >= 8 and rect["height"] >= 6 and inside(box) and not _fills_cell(box, columns, current):
            shapes.append(_Shape("rect", box))
    for curve in page.curves:
        box = (curve["x0"], curve["top"], curve["x1"], curve["bottom"])
        if not inside(box):
            continue
        pts = [(float(x), float(y)) for x, y in curve["pts"]]
        closed = len(pts) > 2 and abs(pts[0][0] - pts[-1][0]) < 1 and abs(pts[0][1] - pts[-1][1]) < 1
        if curve["width"] < 9 and curve["height"] < 9:
            if curve.get("fill"):
                current.heads.append(((box[0] + box[2]) / 2, (box[1] + box[3]) / 2))
            continue
        if closed:
            shapes.append(_Shape(_curve_kind(pts, box), box))
        else:
            segments.extend((a[0], a[1], b[0], b[1]) for a, b in zip(pts, pts[1:], strict=False))
    for line in page.lines:
        seg = (float(line["x0"]), float(line["top"]), float(line["x1"]), float(line["bottom"]))
        pts = line.get("pts") or []
        if len(pts) >= 2:
            seg = (float(pts[0][0]), float(pts[0][1]), float(pts[-1][0]), float(pts[-1][1]))
        if not (left - 1 <= min(seg[0], seg[2]) and max(seg[0], seg[2]) <= right + 1
                and top - 1 <= min(seg[1], seg[3]) and max(seg[1], seg[3]) <= bottom + 1):
            continue
        if abs(seg[0] - seg[2]) > 1 and abs(seg[1] - seg[3]) > 1:
            diagonals.append(seg)
        elif not _on_ruling(seg, columns, current):
            segments.append(seg)
    shapes.extend(_line_diamonds(diagonals))
    return shapes, segments


def _fills_cell(box: Box, columns: _Columns, current: _Page) -> bool:
    """True for a cell's background or border rectangle (as wide as its column or as tall as its row)."""
    col = columns.index((box[0] + box[2]) / 2)
    if col is not None and box[2] - box[0] >= columns.bounds[col + 1] - columns.bounds[col] - 1.5:
        return True
    return any(box[3] - box[1] >= band[3] - band[1] - 1.5 for _, band in current.rows
               if band[1] - 1 <= (box[1] + box[3]) / 2 <= band[3] + 1)


def _on_ruling(seg: Seg, columns: _Columns, current: _Page) -> bool:
    if abs(seg[0] - seg[2]) <= 1:
        return any(abs(seg[0] - b) < 1 for b in columns.bounds)
    return any(abs(seg[1] - band[1]) < 1 or abs(seg[1] - band[3]) < 1 for _, band in current.rows)


def _curve_kind(pts: list[tuple[float, float]], box: Box) -> str:
    x0, top, x1, bottom = box
    cx, cy = (x0 + x1) / 2, (top + bottom) / 2
    corners = {(round(x), round(y)) for x, y in pts}
    if 4 <= len(corners) <= 5 and all(abs(x - cx) < 1.5 or abs(y - cy) < 1.5 for x, y in pts):
        return "diamond"
    if 5 <= len(corners) <= 6 and sum(1 for x, y in pts if abs(y - top) < 1) >= 2 and any(
            abs(x - cx) < 1.5 and abs(y - bottom) < 1 for x, y in pts):
        return "connector"                             # pentagon off-page connector
    if len(corners) <= 5 and all(min(abs(x - x0), abs(x - x1)) < 1 and min(abs(y - top), abs(y - bottom)) < 1
                                 for x, y in pts):
        return "rect"
    return "capsule"


def _line_diamonds(diagonals: list[Seg]) -> list[_Shape]:
    """Diamonds drawn as four separate diagonal lines: group lines that share endpoints."""
    groups: list[list[Seg]] = []
    for seg in diagonals:
        ends = [(seg[0], seg[1]), (seg[2], seg[3])]
        home = next((g for g in groups if any(_near(e, (o[0], o[1])) or _near(e, (o[2], o[3]))
                                              for o in g for e in ends)), None)
        if home is None:
            groups.append([seg])
        else:
            home.append(seg)
    shapes = []
    for group in groups:
        if len(group) == 4:
            xs = [v for s in group for v in (s[0], s[2])]
            ys = [v for s in group for v in (s[1], s[3])]
            shapes.append(_Shape("diamond", (min(xs), min(ys), max(xs), max(ys))))
    return shapes


def _near(a: tuple[float, float], b: tuple[float, float], tolerance: float = 2.5) -> bool:
    return abs(a[0] - b[0]) <= tolerance and abs(a[1] - b[1]) <= tolerance


def _place(shapes: list[_Shape], words: list[dict[str, Any]], columns: _Columns, current: _Page,
           report: ImportReport) -> list[_PlacedShape]:
    """Symbols in their row and Pelaksana column; off-page connectors with their letter."""
    role_cols = [c for c, _ in columns.header.roles]
    placed = []
    for shape in shapes:
        cx, cy = shape.centre
        col = columns.index(cx)
        row = next((index for index, band in current.rows if band[1] - 1 <= cy < band[3] + 1), None)
        if shape.kind == "connector":
            x0, top, x1, bottom = shape.box
            letter = next((w["text"] for w in words if re.fullmatch(r"[A-Z]{1,2}", w["text"])
                           and x0 - 1 <= (w["x0"] + w["x1"]) / 2 <= x1 + 1
                           and top - 1 <= (w["top"] + w["bottom"]) / 2 <= bottom + 1), None)
            if letter is not None and row is not None:
                placed.append(_PlacedShape(shape, row, -1, letter))
            continue
        if col not in role_cols or row is None:
            report.add("peringatan", "Simbol di luar kolom Pelaksana atau di luar baris kegiatan: diabaikan",
                       page=current.number)
            continue
        placed.append(_PlacedShape(shape, row, role_cols.index(col)))
    return placed


def _tidak_links(segments: list[Seg], words: list[dict[str, Any]], current: _Page,
                 placed: list[_PlacedShape], rows: list[TableRow], links: _Links, report: ImportReport) -> None:
    """Follow the lines leaving each diamond on this page; the "Tidak" one gives the target row.

    A line ending at an off-page connector is completed by :func:`_resolve_connectors` from the
    connector with the same letter on another page.
    """
    on_page = [p for p in placed if any(p.row == index for index, _ in current.rows)]
    tidak_words = [((w["x0"] + w["x1"]) / 2, (w["top"] + w["bottom"]) / 2) for w in words
                   if re.fullmatch(r"tidak", w["text"], re.IGNORECASE)]
    for connector in (p for p in on_page if p.letter is not None):
        for _path, reached in _paths(connector, segments, on_page, current.heads):
            if reached is not None and reached.letter is None:
                links.connector_targets[(current.number, connector.letter or "")] = reached.row
    for diamond in (p for p in on_page if p.shape.kind == "diamond"):
        for path, reached in _paths(diamond, segments, on_page, current.heads):
            if reached is None or reached.row == diamond.row and reached.letter is None:
                continue
            start = next(p for p in ((path[0][0], path[0][1]), (path[0][2], path[0][3]))
                         if _touches(p, diamond.shape.box, 2.5))
            if any(_near(start, head, 6.0) for head in current.heads):
                continue                               # an arrow coming into the diamond
            labelled = any(_seg_distance(seg, point) <= 12 for seg in path[:2] for point in tidak_words)
            if reached.letter is not None:
                links.pending[diamond.row] = (reached.letter, labelled, current.number)
                continue
            _link(diamond.row, reached.row, labelled, current.number, rows, links, report)


def _link(source: int, target: int, labelled: bool, page: int, rows: list[TableRow], links: _Links,
          report: ImportReport) -> None:
    if not labelled and target > source:
        return                                          # the Ya arrow to a later row
    if target > source:
        report.add("peringatan", f"Panah 'Tidak' menuju baris sesudahnya ({rows[target].label})",
                   page=page, row=rows[source].label)
        return
    links.tidak[source] = target
    how = "berlabel 'Tidak'" if labelled else "tanpa label, kembali ke baris sebelumnya"
    report.add("info" if labelled else "dugaan", f"Panah 'Tidak' ({how}) ke baris {rows[target].label}",
               page=page, row=rows[source].label)


def _resolve_connectors(links: _Links, rows: list[TableRow], report: ImportReport) -> None:
    """Complete arrows broken by a page break through the off-page connectors' letters."""
    for source, (letter, labelled, page) in sorted(links.pending.items()):
        target = next((row for (other, found), row in links.connector_targets.items()
                       if found == letter and other != page), None)
        if target is None:
            report.add("tidak terbaca", f"Penghubung antarhalaman {letter!r} dari keputusan ini tidak ditemukan "
                                        "pasangannya", page=page, row=rows[source].label)
            continue
        if labelled or target < source:
            report.add("info", f"Panah melewati pergantian halaman lewat penghubung {letter!r}", page=page,
                       row=rows[source].label)
        _link(source, target, labelled, page, rows, links, report)


def _seg_distance(seg: Seg, point: tuple[float, float]) -> float:
    x0, y0, x1, y1 = seg
    px, py = point
    dx, dy = x1 - x0, y1 - y0
    length = dx * dx + dy * dy
    t = 0.0 if length == 0 else max(0.0, min(1.0, ((px - x0) * dx + (py - y0) * dy) / length))
    return float(((x0 + t * dx - px) ** 2 + (y0 + t * dy - py) ** 2) ** 0.5)


def _touches(point: tuple[float, float], box: Box, tolerance: float = 4.0) -> bool:
    return box[0] - tolerance <= point[0] <= box[2] + tolerance and box[1] - tolerance <= point[1] <= box[3] + tolerance


def _paths(diamond: _PlacedShape, segments: list[Seg], placed: list[_PlacedShape],
           heads: list[tuple[float, float]]) -> Iterable[tuple[list[Seg], _PlacedShape | None]]:
    """Each chain of connected segments leaving the diamond, and the first other symbol it reaches
    (an arrowhead at a chain's end bridges the gap between the line and the symbol)."""
    used: set[int] = set()
    for start, seg in enumerate(segments):
        ends = [(seg[0], seg[1]), (seg[2], seg[3])]
        if start in used or not any(_touches(e, diamond.shape.box, 2.5) for e in ends):
            continue
        far = ends[1] if _touches(ends[0], diamond.shape.box, 2.5) else ends[0]
        path, reached = [seg], None
        used.add(start)
        frontier = [far]
        while frontier and reached is None and len(path) < 40:
            point = frontier.pop()
            reach = 9.0 if any(_near(point, head, 5.0) for head in heads) else 4.0
            hit = next((p for p in placed if p is not diamond and _touches(point, p.shape.box, reach)), None)
            if hit is not None:
                reached = hit
                break
            for index, other in enumerate(segments):
                if index in used:
                    continue
                a, b = (other[0], other[1]), (other[2], other[3])
                if _near(point, a) or _near(point, b) or _seg_distance(other, point) <= 1.0:
                    used.add(index)
                    path.append(other)
                    frontier.append(b if _near(point, a) else a)
        yield path, reached


def _continued(lines: list[list[dict[str, Any]]], index: int, value: str) -> list[str]:
    """Lines below an identity value that continue it (wrapped in its cell): starting where it starts."""
    count = len(value.split())
    line = lines[index]
    found: list[str] = []
    if count > len(line) or line[len(line) - count]["text"] != value.split()[0]:
        return found
    start = line[len(line) - count]["x0"]
    for line in lines[index + 1:index + 4]:
        here = [w for w in line if w["x0"] >= start - 2]
        text = " ".join(w["text"] for w in here)
        if not here or abs(here[0]["x0"] - start) > 2 or re.match(r"^nip\b", text, re.IGNORECASE) or any(
                label.casefold() in " ".join(w["text"] for w in line).casefold() for label in _IDENTITY):
            break
        if line[0]["x0"] < start - 2:       # a label cell on this line: another field
            break
        found.append(text)
    return found


def _header_label(line: list[dict[str, Any]], index: int) -> str | None:
    """The ``alur:sop`` child a header label starting at word ``index`` names ("Dasar Hukum:" ...)."""
    text = " ".join(w["text"] for w in line[index:index + 3]).casefold()
    if index and line[index - 1]["text"].casefold().startswith(("kualifikasi", "pencatatan")):
        return None
    return next((v for k, v in _HEADER_LISTS.items() if text.startswith(k)), None)


def _identity(pages: list[list[dict[str, Any]]]) -> tuple[str | None, dict[str, str], dict[str, list[str]]]:
    """Nama SOP, identity fields and header lists from the words above the table."""
    identity: dict[str, str] = {}
    header: dict[str, list[str]] = {}
    name = None
    for words in pages:
        lines: list[list[dict[str, Any]]] = []
        for word in sorted(words, key=lambda w: (w["top"], w["x0"])):
            if lines and abs(lines[-1][0]["top"] - word["top"]) <= 2:
                lines[-1].append(word)
            else:
                lines.append([word])
        for line in lines:
            line.sort(key=lambda w: w["x0"])
        for index, line in enumerate(lines):
            text = " ".join(w["text"] for w in line)
            for label in _IDENTITY:
                position = text.casefold().find(label.casefold())
                if position < 0 or label in identity:
                    continue
                rest = text[position + len(label):].strip(" :")
                rest = re.split(r"\s{2,}|(?=\b(?:" + "|".join(_IDENTITY) + r")\b)", rest)[0].strip(" :")
                if rest and rest != "-":
                    wrapped = _continued(lines, index, rest) if label == "Nama SOP" else []
                    identity[label] = _join([rest, *wrapped])
        labels = [(index, word_index, key) for index, line in enumerate(lines)
                  for word_index, word in enumerate(line)
                  for key in [_header_label(line, word_index)] if key is not None]
        for index, word_index, key in labels:
            x = lines[index][word_index]["x0"]
            right = min((lines[i][w]["x0"] for i, w, _ in labels if i == index and lines[i][w]["x0"] > x + 5),
                        default=10_000.0)
            below = [j for j, _, _ in labels if j > index and any(
                x - 5 <= lines[j][w]["x0"] < right for jj, w, _ in labels if jj == j)]
            stop = min(below, default=len(lines))
            entries: list[str] = []
            numbered_x: float | None = None
            for follow in lines[index + 1:stop]:
                entry = sorted((w for w in follow if x - 2 <= w["x0"] < right - 2), key=lambda w: w["x0"])
                if not entry:
                    continue
                text = " ".join(w["text"] for w in entry)
                number = re.match(r"^\d+\s*[.)]\s*", text)
                if number:
                    numbered_x = entry[0]["x0"]
                    entries.append(text[number.end():])
                elif entries and (numbered_x is None or entry[0]["x0"] > numbered_x + 3):
                    entries[-1] = _join([entries[-1], text])
                elif not entries:
                    entries.append(text)
                else:
                    break
            if entries:
                header.setdefault(key, []).extend(entries)
        for index, line in enumerate(lines):
            text = " ".join(w["text"] for w in line)
            nip = re.search(r"\bNIP\.?\s*:?\s*([\d ]{8,30})", text)
            if nip and "NIP" not in identity:
                identity["NIP"] = re.sub(r"\s", "", nip.group(1))
                start = next(w["x0"] for w in line if w["text"].upper().startswith("NIP"))
                above = [w for w in lines[index - 1] if abs(w["x0"] - start) < 60 or w["x0"] > start] if index else []
                candidate = " ".join(w["text"] for w in above if w["x0"] >= start - 2)
                if candidate and not any(label.casefold() in candidate.casefold() for label in _IDENTITY):
                    identity["Nama pengesah"] = candidate
    if "Nama SOP" in identity:
        name = identity.pop("Nama SOP")
    return name, identity, header
