"""Read an SOP-AP table from a PDF by the positions of its lines, symbols and words (pdfplumber).

Spreadsheet and word-processor exports keep the table as vector drawing: ruling lines,
words with coordinates, and the flowchart as rectangles, curves (capsules, polygon
diamonds) and line segments (arrows, four-line diamonds) with small filled triangles
as arrowheads. The reader

1. finds the header ("Kegiatan" and "Pelaksana") and the column boundaries from the
   vertical ruling lines crossing the header's lowest row; the role names are the
   words between the Kegiatan and the Mutu Baku columns (one or two header rows);
2. cuts the table into rows at the long horizontal ruling lines below the header; a table
   drawn without row rules (or without any lines) is cut by word positions instead
   (:mod:`engine.sop_import.pdf_unruled`);
3. puts every symbol in the row and Pelaksana column its centre sits in (a joint step:
   symbols in several columns, the first performs);
4. follows the line segments leaving each diamond; the one labelled "Tidak" (or, with
   no label, the one reaching an earlier row) gives where "Tidak" goes;
5. continues the table on the following pages (header repeated) and reads the identity
   part (Nomor SOP, Tanggal ..., Disahkan oleh, Nama SOP, Dasar Hukum ...) from the
   first page or a page of its own.

Steps 3-4 live in :mod:`engine.sop_import.pdf_flowchart`, step 5's identity part in
:mod:`engine.sop_import.pdf_identity`. Bounded: at most :data:`MAX_PAGES` pages and :data:`TIME_BUDGET_S` seconds; an
encrypted or scanned (image-only) PDF is refused with a clear message.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Sequence
from typing import Any

from engine.sop_import.draft import DraftSop, ImportReport
from engine.sop_import.pdf_flowchart import (
    Box,
    Columns,
    Links,
    PageTable,
    PlacedShape,
    drawing,
    place,
    resolve_connectors,
    tidak_links,
)
from engine.sop_import.pdf_identity import identity_part, join_wrapped, text_lines
from engine.sop_import.pdf_unruled import header_bottom, numbered_rows, row_bounds, word_bounds
from engine.sop_import.table import Header, Symbol, TableRow, assemble, classify_header
from storage.errors import SopImportError

__all__ = ["MAX_PAGES", "TIME_BUDGET_S", "read_pdf"]

MAX_PAGES = 60
TIME_BUDGET_S = 30.0

_HEADER_WORDS = re.compile(r"(?:kegiatan|aktivitas|uraian)", re.IGNORECASE)
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
    columns: Columns | None = None
    rows: list[TableRow] = []
    placed: list[PlacedShape] = []
    pages: list[PageTable] = []
    identity_words: list[list[dict[str, Any]]] = []
    chars = images = 0
    links = Links()
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
            current = PageTable(page.page_number, words)
            pages.append(current)
            _rows(page, words, columns, top, current, rows, report)
            shapes, segments = drawing(page, columns, current)
            placed.extend(place(shapes, words, columns, current, report))
            tidak_links(segments, words, current, placed, rows, links, report)
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
    name, identity, header_fields = identity_part(identity_words)
    resolve_connectors(links, rows, report)
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


def _row_rules(page: Any, columns: Columns) -> list[float]:
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


def _columns(page: Any, words: list[dict[str, Any]], header: tuple[float, float, float]) -> Columns | None:
    """The table's columns under ``header``: from its ruling lines, or from its words when it has none.

    ``Columns.body_top`` is set where a header without a rule below it ends (None: ruled).
    """
    kegiatan_x, top, keyword_bottom = header
    near = [(a, b) for y, a, b in _h_spans(page) if abs(y - top) < 30]
    width = max((b - a for a, b in near), default=0.0)
    table_x0, table_x1 = -1e9, 1e9
    bottom: float | None = None
    if width > 0:
        table_x0 = min(a for a, b in near if b - a >= 0.6 * width)
        table_x1 = max(b for a, b in near if b - a >= 0.6 * width)
        below = [y for y in _long_h(page, table_x0, table_x1) if y > keyword_bottom - 0.5]
        bottom = below[0] if below else None
    probe = (bottom if bottom is not None else keyword_bottom + 0.5) - 3
    xs = sorted(e["x0"] for e in page.vertical_edges if e["top"] <= probe <= e["bottom"]
                and table_x0 - 2 <= e["x0"] <= table_x1 + 2)
    bounds: list[float] = []
    for x in xs:
        if not bounds or x - bounds[-1] > 2:
            bounds.append(x)
    if len(bounds) < 5:
        bounds = word_bounds(words, top, keyword_bottom, kegiatan_x)
        if len(bounds) < 5:
            return None
    header_end = bottom if bottom is not None else keyword_bottom + 30
    classified = _classified_header(words, bounds, top, header_end + 1)
    if classified is None or not classified.roles:
        return None
    columns = Columns(bounds, classified, [n for _, n in classified.roles])
    columns.header = classified
    if bottom is None:
        columns.body_top = header_bottom(page, words, columns, keyword_bottom)
        if columns.body_top < header_end:   # the role names were read down to the body: read them again
            return _renamed(columns, words, top)
    return columns


def _classified_header(words: list[dict[str, Any]], bounds: Sequence[float], top: float,
                       bottom: float) -> Header | None:
    """``classify_header`` of the header texts between ``top`` and ``bottom`` (points), column by column.

    Per column: the last keyword line ("Pelaksana", "Mutu Baku", ...) as the first
    header row, the other lines (a role's name, "Pelaksana:" dropped) joined as the second.
    """
    texts_a: list[str] = []
    texts_b: list[str] = []
    for i in range(len(bounds) - 1):
        inside = [w for w in words if bounds[i] <= (w["x0"] + w["x1"]) / 2 < bounds[i + 1]
                  and top - 2 <= w["top"] and w["bottom"] <= bottom]
        lines = text_lines(inside)
        keyword = [t for t in lines if _is_keyword(t)]
        names = [re.sub(r"^pelaksana\s*:\s*", "", t, flags=re.IGNORECASE) for t in lines if not _is_keyword(t)]
        texts_a.append(keyword[-1] if keyword else "")
        texts_b.append(join_wrapped([n for n in names if n]))
    return classify_header([texts_a, texts_b])


def _renamed(columns: Columns, words: list[dict[str, Any]], top: float) -> Columns | None:
    """``columns`` with the header texts read between ``top`` and ``columns.body_top`` only."""
    assert columns.body_top is not None
    classified = _classified_header(words, columns.bounds, top, columns.body_top)
    if classified is None or not classified.roles:
        return None
    renamed = Columns(columns.bounds, classified, [n for _, n in classified.roles])
    renamed.body_top = columns.body_top
    return renamed


def _is_keyword(text: str) -> bool:
    return bool(re.match(r"^\s*(?:no\.?|nomor|kegiatan|aktivitas|uraian.*|pelaksana|mutu\s+baku|kelengkapan|"
                         r"persyaratan.*|waktu|output|keluaran|keterangan|ket\.?)\s*$", text, re.IGNORECASE))


def _same_columns(page: Any, columns: Columns) -> bool:
    xs = [e["x0"] for e in page.vertical_edges]
    hits = sum(1 for b in columns.bounds if any(abs(x - b) < 1.5 for x in xs))
    return hits >= 0.8 * len(columns.bounds)


def _rows(page: Any, words: list[dict[str, Any]], columns: Columns, top: float, current: PageTable,
          rows: list[TableRow], report: ImportReport) -> None:
    x0, x1 = columns.bounds[0], columns.bounds[-1]
    ys = [y for y in _row_rules(page, columns) if y >= top - 0.5]
    header = columns.header
    body_top = columns.body_top if columns.body_top is not None else top
    if len(ys) - 1 < numbered_rows(words, columns, body_top):
        # fewer ruled rows than numbers: no row rules (only column lines, or no lines); cut by word positions
        ys = row_bounds(page, words, columns, body_top)
        if ys:
            report.add("dugaan", "Tabel tanpa garis baris: baris dipisah menurut nomor dan jarak antarbaris teks",
                       page=current.number)
    for upper, lower in zip(ys, ys[1:], strict=False):
        band: Box = (x0, upper, x1, lower)
        cells: dict[int, str] = {}
        for i in range(len(columns.bounds) - 1):
            inside = [w for w in words if columns.bounds[i] <= (w["x0"] + w["x1"]) / 2 < columns.bounds[i + 1]
                      and upper <= (w["top"] + w["bottom"]) / 2 < lower]
            cells[i] = join_wrapped(text_lines(inside))

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


