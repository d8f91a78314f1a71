"""Read an SOP-AP table from an XLSX workbook, with its flowchart drawn as shapes.

The table is in cells (openpyxl); the flowchart symbols are DrawingML shapes in
``xl/drawings/drawingN.xml`` anchored to cells, which openpyxl does not load: they are
read here with a hardened lxml parser (no entities, no network, no DTD). A shape's
centre gives its cell, so its column gives the step's lane and its row the step;
``flowChartDecision``/``diamond`` is a decision, terminators and rounded rectangles
are capsules. Connectors from a diamond (``stCxn``/``endCxn``, or their line
geometry) to an earlier row give where "Tidak" goes.

The zip is checked before anything is decompressed: entry count, sizes and
compression ratio (a zip bomb is refused), so memory stays bounded.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from bisect import bisect_right
from dataclasses import dataclass
from typing import Any

from lxml import etree

from engine.sop_import.draft import DraftSop, ImportReport
from engine.sop_import.identity_cells import header_lists, identity_fields
from engine.sop_import.table import Header, Symbol, TableRow, assemble, classify_header, is_header_row
from storage.errors import SopImportError

__all__ = ["read_xlsx"]

MAX_ENTRIES = 2000
MAX_ENTRY_BYTES = 8 * 1024 * 1024      # an SOP workbook's parts are kilobytes; a logo image a few MiB
MAX_TOTAL_BYTES = 32 * 1024 * 1024
MAX_RATIO = 150
MAX_SCAN_ROWS, MAX_SCAN_COLS, MAX_ROWS = 400, 60, 500
EMU_PER_PX, EMU_PER_PT = 9525, 12700

_NS = {
    "xdr": "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "main": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
}
_KINDS = {
    "rect": "rect", "flowChartProcess": "rect", "flowChartPredefinedProcess": "rect",
    "roundRect": "capsule", "flowChartTerminator": "capsule", "flowChartAlternateProcess": "capsule",
    "ellipse": "capsule", "snipRoundRect": "capsule",
    "diamond": "diamond", "flowChartDecision": "diamond",
}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


@dataclass
class _Shape:
    sid: str
    kind: str                    # rect | capsule | diamond | connector | other
    text: str
    box: tuple[int, int, int, int]   # x0, y0, x1, y1 in EMU
    flip_h: bool = False
    flip_v: bool = False
    start: str | None = None
    end: str | None = None


def check_zip(data: bytes) -> zipfile.ZipFile:
    """Open the workbook's zip after checking its directory: entry count, sizes, compression ratio.

    Raises :class:`SopImportError` for a malformed zip or a zip bomb, before decompressing anything.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise SopImportError("Berkas XLSX rusak (bukan arsip zip yang sah)") from exc
    entries = archive.infolist()
    if len(entries) > MAX_ENTRIES:
        raise SopImportError(f"Berkas XLSX berisi terlalu banyak bagian ({len(entries)})")
    total = 0
    for entry in entries:
        total += entry.file_size
        ratio = entry.file_size / max(entry.compress_size, 1)
        if entry.file_size > MAX_ENTRY_BYTES or total > MAX_TOTAL_BYTES or (
                entry.file_size > 1024 * 1024 and ratio > MAX_RATIO):
            raise SopImportError("Berkas XLSX ditolak: isi yang dimampatkan terlalu besar "
                                 f"({entry.filename}: {entry.file_size} byte; kemungkinan 'zip bomb')")
    names = set(archive.namelist())
    if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
        raise SopImportError("Berkas XLSX rusak: xl/workbook.xml tidak ada")
    return archive


def _xml(archive: zipfile.ZipFile, name: str) -> etree._Element | None:
    """Parse one part; None when absent. A DOCTYPE (entities) is refused, as in BPMN deploys."""
    try:
        raw = archive.read(name)
    except KeyError:
        return None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        raise SopImportError(f"Berkas XLSX rusak: {name} tidak dapat dibaca") from exc
    if b"<!DOCTYPE" in raw[:65536].upper():
        raise SopImportError(f"Berkas XLSX ditolak: {name} memuat DOCTYPE/entitas")
    try:
        return etree.fromstring(raw, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise SopImportError(f"Berkas XLSX rusak: {name} tidak dapat dibaca") from exc


def _rels(archive: zipfile.ZipFile, part: str) -> dict[str, str]:
    folder, base = posixpath.split(part)
    root = _xml(archive, f"{folder}/_rels/{base}.rels")
    if root is None:
        return {}
    found = {}
    for rel in root.iterfind("rel:Relationship", _NS):
        target = rel.get("Target", "")
        path = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
        found[rel.get("Id", "")] = posixpath.normpath(path)
    return found


def _sheet_drawings(archive: zipfile.ZipFile) -> list[str | None]:
    """The drawing part of each sheet, in workbook order (None for a sheet without drawing)."""
    workbook = _xml(archive, "xl/workbook.xml")
    if workbook is None:
        return []
    rels = _rels(archive, "xl/workbook.xml")
    found: list[str | None] = []
    for sheet in workbook.iterfind("main:sheets/main:sheet", _NS):
        part = rels.get(sheet.get(f"{{{_NS['r']}}}id", ""))
        sheet_xml = _xml(archive, part) if part else None
        drawing = sheet_xml.find("main:drawing", _NS) if sheet_xml is not None else None
        rid = drawing.get(f"{{{_NS['r']}}}id") if drawing is not None else None
        found.append(_rels(archive, part).get(rid or "") if part and rid else None)
    return found


def _shapes(root: etree._Element, col_x: list[int], row_y: list[int]) -> list[_Shape]:
    shapes: list[_Shape] = []

    def position(marker: etree._Element | None) -> tuple[int, int]:
        if marker is None:
            return 0, 0
        col = int(marker.findtext("xdr:col", "0", _NS))
        row = int(marker.findtext("xdr:row", "0", _NS))
        x = _at(col_x, col) + int(marker.findtext("xdr:colOff", "0", _NS))
        y = _at(row_y, row) + int(marker.findtext("xdr:rowOff", "0", _NS))
        return x, y

    for anchor in root:
        if not isinstance(anchor.tag, str):
            continue
        tag = etree.QName(anchor).localname
        if tag not in ("twoCellAnchor", "oneCellAnchor"):
            continue
        x0, y0 = position(anchor.find("xdr:from", _NS))
        if tag == "twoCellAnchor":
            x1, y1 = position(anchor.find("xdr:to", _NS))
        else:
            ext = anchor.find("xdr:ext", _NS)
            x1 = x0 + int(ext.get("cx", "0")) if ext is not None else x0
            y1 = y0 + int(ext.get("cy", "0")) if ext is not None else y0
        for element in anchor.iter(f"{{{_NS['xdr']}}}sp", f"{{{_NS['xdr']}}}cxnSp"):
            shapes.append(_shape(element, (x0, y0, x1, y1)))
            break
    return shapes


def _shape(element: etree._Element, box: tuple[int, int, int, int]) -> _Shape:
    props = element.find("xdr:nvSpPr/xdr:cNvPr", _NS)
    if props is None:
        props = element.find("xdr:nvCxnSpPr/xdr:cNvPr", _NS)
    sid = props.get("id", "") if props is not None else ""
    name = props.get("name", "") if props is not None else ""
    geometry = element.find("xdr:spPr/a:prstGeom", _NS)
    prst = geometry.get("prst", "") if geometry is not None else ""
    xfrm = element.find("xdr:spPr/a:xfrm", _NS)
    text = " ".join(" ".join(t.text or "" for t in element.iterfind(".//a:t", _NS)).split())
    shape = _Shape(sid, _KINDS.get(prst, "other"), text or name, box,
                   flip_h=xfrm is not None and xfrm.get("flipH") == "1",
                   flip_v=xfrm is not None and xfrm.get("flipV") == "1")
    if etree.QName(element).localname == "cxnSp" or prst in ("line", "straightConnector1") or "Connector" in prst:
        shape.kind = "connector"
        start = element.find("xdr:nvCxnSpPr/xdr:cNvCxnSpPr/a:stCxn", _NS)
        end = element.find("xdr:nvCxnSpPr/xdr:cNvCxnSpPr/a:endCxn", _NS)
        shape.start = start.get("id") if start is not None else None
        shape.end = end.get("id") if end is not None else None
        shape.text = text or name
    return shape


def _at(edges: list[int], index: int) -> int:
    return edges[min(index, len(edges) - 1)] + (max(0, index - len(edges) + 1)) * (edges[-1] - edges[-2])


def _edges(sheet: Any, count: int, widths: bool) -> list[int]:
    """Left (top) edge in EMU of each column (row) 0..count (openpyxl dimensions; Excel defaults)."""
    from openpyxl.utils import get_column_letter

    edges = [0]
    for i in range(1, count + 2):
        if widths:
            width = sheet.column_dimensions[get_column_letter(i)].width or 8.43
            size = int((width * 7 + 5) * EMU_PER_PX)
        else:
            height = sheet.row_dimensions[i].height or 15
            size = int(height * EMU_PER_PT)
        edges.append(edges[-1] + size)
    return edges


def read_xlsx(data: bytes, source: str) -> list[tuple[DraftSop, ImportReport]]:
    """Read each worksheet holding an SOP-AP table; one draft and report per table.

    Raises :class:`SopImportError` for a malformed workbook, a zip bomb, or no table.
    """
    archive = check_zip(data)
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(io.BytesIO(data), data_only=True)
    except (InvalidFileException, KeyError, ValueError, TypeError, IndexError, AttributeError,
            zipfile.BadZipFile, etree.XMLSyntaxError, SyntaxError, EOFError, OSError) as exc:
        raise SopImportError(f"Berkas XLSX rusak atau tidak dapat dibaca ({type(exc).__name__})") from exc
    drawings = _sheet_drawings(archive)
    results = []
    for index, sheet in enumerate(book.worksheets):
        found = _read_sheet(sheet, archive, drawings[index] if index < len(drawings) else None, source)
        if found is not None:
            results.append(found)
    if not results:
        raise SopImportError("Tidak ditemukan tabel SOP di lembar kerja mana pun: perlu baris judul dengan "
                             "'Kegiatan' dan 'Pelaksana'")
    return results


def _cell_text(value: Any) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def _read_sheet(sheet: Any, archive: zipfile.ZipFile, drawing: str | None,
                source: str) -> tuple[DraftSop, ImportReport] | None:
    max_row = min(sheet.max_row or 0, MAX_SCAN_ROWS + MAX_ROWS)
    max_col = min(sheet.max_column or 0, MAX_SCAN_COLS)
    raw = [["" if c is None else str(c) for c in row] for row in sheet.iter_rows(
        min_row=1, max_row=min(max_row, MAX_SCAN_ROWS), max_col=max_col, values_only=True)]
    grid = [[_cell_text(c) for c in row] for row in sheet.iter_rows(min_row=1, max_row=max_row,
                                                                     max_col=max_col, values_only=True)]
    for merged in sheet.merged_cells.ranges:
        value = grid[merged.min_row - 1][merged.min_col - 1] if merged.min_row <= len(grid) else ""
        for r in range(merged.min_row, min(merged.max_row, len(grid)) + 1):
            for c in range(merged.min_col, min(merged.max_col, max_col) + 1):
                if (r, c) != (merged.min_row, merged.min_col) and merged.max_row > merged.min_row:
                    grid[r - 1][c - 1] = value if merged.min_col == merged.max_col else grid[r - 1][c - 1]
    top = next((i for i, row in enumerate(grid[:MAX_SCAN_ROWS]) if is_header_row(row)), None)
    if top is None:
        return None
    second = grid[top + 1] if top + 1 < len(grid) else []
    two_rows = any(re.match(r"^\s*(?:kelengkapan|persyaratan|waktu|output)", c, re.IGNORECASE) for c in second) \
        and not any(re.match(r"^\s*(?:kelengkapan|persyaratan|waktu|output)", c, re.IGNORECASE) for c in grid[top])
    band = [grid[top], second] if two_rows else [grid[top]]
    header = classify_header(band)
    if header is None or not header.roles:
        return None
    report = ImportReport(source=source, kind="xlsx")
    name = _sop_name(grid[:top]) or sheet.title
    rows, excel_rows = _rows(grid, top + len(band), header, report)
    lanes = [n for _, n in header.roles]
    symbols: list[Symbol] = []
    tidak: dict[int, int] = {}
    if drawing is not None:
        root = _xml(archive, drawing)
        if root is not None:
            symbols, tidak = _place(root, sheet, header, excel_rows, rows, report)
    else:
        report.add("peringatan", f"Lembar {sheet.title!r} tidak memuat gambar bagan alir: pelaksana disimpulkan "
                                 "dari kata-kata kegiatan")
    draft = assemble(name, source, lanes, rows, symbols, tidak, report)
    draft.identity = identity_fields(grid[:top])
    draft.header = header_lists(raw[:top])
    return draft, report


def _sop_name(rows: list[list[str]]) -> str | None:
    for row in rows:
        for i, cell in enumerate(row):
            if re.match(r"^\s*nama\s+sop\s*:?\s*$", cell, re.IGNORECASE):
                value = next((c for c in row[i + 1:] if c and c != ":"), "")
                if value:
                    return value
    for row in reversed(rows):
        text = next((c for c in row if re.search(r"\bSOP\b", c)), None)
        if text:
            return text
    return None


def _rows(grid: list[list[str]], start: int, header: Header,
          report: ImportReport) -> tuple[list[TableRow], list[int]]:
    rows: list[TableRow] = []
    excel_rows: list[int] = []
    blank, last = 0, "0"

    def cell(row: list[str], col: int | None) -> str | None:
        return (row[col] or None) if col is not None and col < len(row) else None

    for r in range(start, len(grid)):
        row = grid[r]
        kegiatan = cell(row, header.kegiatan)
        if not kegiatan:
            blank += 1
            if blank >= 5:
                break
            continue
        blank = 0
        if is_header_row(row):
            continue
        if len(rows) >= MAX_ROWS:
            raise SopImportError(f"Tabel lebih dari {MAX_ROWS} baris kegiatan")
        label = (cell(row, header.no) or "").rstrip(".:")
        if not label:
            label = f"tanpa nomor (setelah {last})"
        else:
            last = label
        rows.append(TableRow(label, kegiatan, cell(row, header.kelengkapan), cell(row, header.waktu),
                             cell(row, header.output), cell(row, header.keterangan)))
        excel_rows.append(r)
    return rows, excel_rows


def _place(root: etree._Element, sheet: Any, header: Header, excel_rows: list[int], rows: list[TableRow],
           report: ImportReport) -> tuple[list[Symbol], dict[int, int]]:
    """Symbols per row and lane from the shapes' centres; Tidak links from connectors."""
    last_col = max([c for c, _ in header.roles] + [header.keterangan or 0, header.output or 0]) + 2
    col_x = _edges(sheet, last_col, widths=True)
    row_y = _edges(sheet, (excel_rows[-1] + 2) if excel_rows else 2, widths=False)
    shapes = _shapes(root, col_x, row_y)
    role_cols = [c for c, _ in header.roles]
    row_of_excel = {r: i for i, r in enumerate(excel_rows)}
    symbols: list[Symbol] = []
    where: dict[str, tuple[int, int]] = {}
    for shape in shapes:
        if shape.kind in ("connector", "other"):
            continue
        x0, y0, x1, y1 = shape.box
        col = bisect_right(col_x, (x0 + x1) // 2) - 1
        excel_row = bisect_right(row_y, (y0 + y1) // 2) - 1
        index = row_of_excel.get(excel_row)
        if col not in role_cols or index is None:
            report.add("peringatan", f"Simbol {shape.text or shape.sid!r} di luar kolom Pelaksana atau baris "
                                     f"kegiatan (sel {col + 1},{excel_row + 1}): diabaikan")
            continue
        symbols.append(Symbol(index, role_cols.index(col), shape.kind))
        where[shape.sid] = (index, role_cols.index(col))
    tidak: dict[int, int] = {}
    diamonds = {s.sid: where[s.sid][0] for s in shapes if s.kind == "diamond" and s.sid in where}
    for shape in shapes:
        if shape.kind != "connector":
            continue
        start, end = where.get(shape.start or ""), where.get(shape.end or "")
        if start is None or end is None:
            start, end = _by_geometry(shape, shapes, where)
        if start is None or end is None or shape.start not in diamonds and start[0] not in diamonds.values():
            continue
        if end[0] < start[0] or re.search(r"\btidak\b", shape.text, re.IGNORECASE):
            tidak[start[0]] = end[0]
            report.add("info", f"Panah 'Tidak' dari baris {rows[start[0]].label} ke baris {rows[end[0]].label}",
                       row=rows[start[0]].label)
    return symbols, tidak


def _by_geometry(shape: _Shape, shapes: list[_Shape],
                 where: dict[str, tuple[int, int]]) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
    """A connector without stCxn/endCxn: its endpoints (box corners, flips) to the nearest symbols."""
    x0, y0, x1, y1 = shape.box
    start = (x1 if shape.flip_h else x0, y1 if shape.flip_v else y0)
    end = (x0 if shape.flip_h else x1, y0 if shape.flip_v else y1)

    def nearest(point: tuple[int, int]) -> tuple[int, int] | None:
        best, distance = None, None
        for other in shapes:
            if other.sid not in where:
                continue
            ox0, oy0, ox1, oy1 = other.box
            dx = max(ox0 - point[0], 0, point[0] - ox1)
            dy = max(oy0 - point[1], 0, point[1] - oy1)
            d = dx * dx + dy * dy
            if distance is None or d < distance:
                best, distance = where[other.sid], d
        return best

    return nearest(start), nearest(end)
