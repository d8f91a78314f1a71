"""Read SOP-AP tables from plain text or TSV (a Word/Excel table copied as text).

One table per SOP: a header line with "Kegiatan" (or "Aktivitas", "Uraian
Prosedur") and "Pelaksana", the role names in the same or the next line, then one
tab-separated line per Kegiatan row (the seeds in ``../shared/seeds/`` are such
copies). The Mutu Baku cells are found from the Waktu cell ("15 menit", "2 Jam"),
so rows shifted by stray empty cells still read. A mark in a Pelaksana cell ("√",
"v", "x") gives the lane; where the marks are lost, the lane is inferred from the
wording (:mod:`engine.sop_import.wording`) and reported as needing confirmation.

The lines above a table (after the previous one) are its identity part, read as the
XLSX reader reads cells (:mod:`engine.sop_import.identity_cells`): Nomor SOP, Tanggal
Pembuatan/Revisi/Efektif, Disahkan oleh with name and NIP, Nama SOP, and the lists
Dasar Hukum ... Pencatatan dan Pendataan; lists whose two-column layout was lost in
the copy are split by their numbering and reported as a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.sop_import.draft import DraftLane, DraftRow, DraftSop, ImportReport
from engine.sop_import.identity_cells import header_lists, identity_fields, paired_lists, sop_name
from engine.sop_import.table import infer_missing_lanes, resolve_reviews
from engine.sop_import.wording import is_review
from storage.errors import SopImportError

__all__ = ["read_text"]

_KEGIATAN = re.compile(r"^\s*(?:kegiatan|aktivitas|uraian\s+prosedur(?:/aktivitas)?|uraian\s+kegiatan)\b",
                       re.IGNORECASE)
_KEYWORDS = re.compile(r"^\s*(?:no\.?|nomor|kegiatan|aktivitas|uraian.*|pelaksana|mutu\s+baku|kelengkapan|"
                       r"persyaratan.*|waktu|output|keluaran|keterangan|ket\.?)\s*$", re.IGNORECASE)
_WAKTU = re.compile(r"^\s*\d{1,4}\s*(?:menit|jam|hari|minggu)\b", re.IGNORECASE)
_MARK = re.compile(r"^\s*(?:[√✓✔vVxX*•●■]|ya)\s*$")
_NUMBERED = re.compile(r"^\s*(\d{1,3})\s*[:.)]\s*(.*)$", re.DOTALL)
_TAG = re.compile(r"<[^>]{0,300}>")
MAX_ROWS = 500


@dataclass
class _Header:
    line: int
    kegiatan: int
    no: int | None
    roles: list[tuple[int, str]]
    waktu: int | None
    rows_from: int


def _cells(line: str) -> list[str]:
    return [_TAG.sub(" ", cell).strip() for cell in line.rstrip("\r\n").split("\t")]


def _find_header(lines: list[str], start: int) -> _Header | None:
    for index in range(start, len(lines)):
        cells = _cells(lines[index])
        if len(cells) < 3 or not any(re.search(r"pelaksana", c, re.IGNORECASE) for c in cells):
            continue
        kegiatan = next((i for i, c in enumerate(cells) if _KEGIATAN.match(c)), None)
        if kegiatan is None:
            continue
        no = next((i for i, c in enumerate(cells) if re.match(r"^\s*no\.?\s*$", c, re.IGNORECASE)), None)
        second = _cells(lines[index + 1]) if index + 1 < len(lines) else []
        continued = bool(second) and not _NUMBERED.match(second[0] or "x") and not (second[0] or "").strip().isdigit() \
            and any(re.match(r"^\s*(?:kelengkapan|persyaratan|waktu|output)", c, re.IGNORECASE) for c in second)
        width = max(len(cells), len(second) if continued else 0)
        merged: list[tuple[int, str]] = []
        waktu = None
        for col in range(width):
            texts = [row[col] for row in ((cells, second) if continued else (cells,)) if col < len(row)]
            for text in texts:
                if re.match(r"^\s*waktu\s*$", text, re.IGNORECASE):
                    waktu = col
            if col <= kegiatan:
                continue
            names = [t for t in texts if t and not _KEYWORDS.match(t)]
            if names and (waktu is None or col < waktu) and not any(
                    re.match(r"^\s*(?:kelengkapan|persyaratan)", t, re.IGNORECASE) for t in texts):
                merged.append((col, " ".join(names[-1].split())))
        return _Header(index, kegiatan, no, merged, waktu, index + (2 if continued else 1))
    return None


def _sop_name(lines: list[str], header_line: int, floor: int) -> str:
    for index in range(header_line - 1, floor - 1, -1):
        if "\t" in lines[index]:
            break
        text = re.sub(r"^[#*\s]+|[*\s]+$", "", lines[index])
        if re.search(r"\bSOP\b", text, re.IGNORECASE):
            text = re.sub(r"^SOP\s*:\s*", "SOP ", text, flags=re.IGNORECASE)
            if text.isupper():
                text = " ".join(w if len(w) <= 3 or w.startswith("(") else w.capitalize() for w in text.split())
            return " ".join(text.split())
    return "SOP Impor"


def read_text(data: bytes, source: str) -> list[tuple[DraftSop, ImportReport]]:
    """Read every SOP-AP table in a text/TSV document; one draft and report per table.

    Raises :class:`~storage.errors.SopImportError` when no table is found (no line
    with "Kegiatan" and "Pelaksana" followed by tab-separated rows).
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    lines = text.replace("\r\n", "\n").split("\n")
    results: list[tuple[DraftSop, ImportReport]] = []
    start = floor = 0
    while True:
        header = _find_header(lines, start)
        if header is None:
            break
        next_header = _find_header(lines, header.rows_from)
        end = next_header.line if next_header is not None else len(lines)
        above = lines[floor:header.line]
        name = sop_name([_cells(line) for line in above]) or _sop_name(lines, header.line, floor)
        report = ImportReport(source=source, kind="teks")
        draft = DraftSop(name=name, source=source, lanes=[DraftLane(n) for _, n in header.roles])
        _read_identity(above, draft, report)
        _read_rows(lines[header.rows_from:end], header, draft, report, first_line=header.rows_from + 1)
        if draft.rows:
            infer_missing_lanes(draft, report)
            resolve_reviews(draft, report)
            results.append((draft, report))
        start, floor = end, header.rows_from
    if not results:
        raise SopImportError("Tidak ditemukan tabel SOP dalam teks: perlu baris judul dengan 'Kegiatan' dan "
                             "'Pelaksana', lalu satu baris per kegiatan dengan kolom dipisah tab")
    return results


def _read_identity(lines: list[str], draft: DraftSop, report: ImportReport) -> None:
    """The identity part in ``lines`` (above the table) into ``draft.identity`` and ``draft.header``."""
    grid = [_cells(line) for line in lines]
    draft.identity = identity_fields(grid)
    draft.header = header_lists(grid)
    paired, notes = paired_lists([line for line in lines if "\t" not in line.strip()])
    new = {key for key in paired if key not in draft.header}
    for key in new:
        draft.header[key] = paired[key]
    for keys, note in notes:
        if new & set(keys):
            report.add("dugaan", note)


def _read_rows(lines: list[str], header: _Header, draft: DraftSop, report: ImportReport, first_line: int) -> None:
    last_label = "0"
    role_cols = [col for col, _ in header.roles]
    for offset, line in enumerate(lines):
        cells = _cells(line)
        if len(cells) < 3 or re.match(r"^-+$", cells[0]):
            continue
        kegiatan = " ".join(cells[header.kegiatan].split()) if header.kegiatan < len(cells) else ""
        label = cells[header.no].strip() if header.no is not None and header.no < len(cells) else ""
        numbered = _NUMBERED.match(kegiatan)
        if header.no is None and numbered:
            label, kegiatan = numbered.group(1), numbered.group(2).strip()
        if not kegiatan:
            continue
        if len(draft.rows) >= MAX_ROWS:
            raise SopImportError(f"Tabel lebih dari {MAX_ROWS} baris kegiatan")
        label = label.rstrip(".:") if label else f"tanpa nomor (setelah {last_label})"
        if not label.startswith("tanpa"):
            last_label = label
        row = DraftRow(label=label, kegiatan=kegiatan)
        waktu = next((i for i in range(header.kegiatan + 1, len(cells)) if _WAKTU.match(cells[i])), None)
        if waktu is None and header.waktu is not None:
            waktu = header.waktu
            report.add("dugaan", f"Kolom Waktu tidak terbaca pada baris teks {first_line + offset}: Mutu Baku dibaca "
                                 "menurut posisi judul kolom", row=label)
        if waktu is not None:
            mark_before = waktu - 1 in role_cols and bool(_MARK.match(cells[waktu - 1]))
            row.kelengkapan, row.waktu, row.output, row.keterangan = (
                None if mark_before else _cell(cells, waktu - 1, header.kegiatan),
                _cell(cells, waktu, header.kegiatan), _cell(cells, waktu + 1, header.kegiatan),
                _cell(cells, waktu + 2, header.kegiatan))
        row.lanes = [i for i, col in enumerate(role_cols) if col < len(cells) and _MARK.match(cells[col])]
        row.review = is_review(kegiatan)
        draft.rows.append(row)


def _cell(cells: list[str], index: int, kegiatan: int) -> str | None:
    """The stripped cell at ``index`` right of the Kegiatan column, None when empty or absent."""
    if kegiatan < index < len(cells):
        return cells[index].strip() or None
    return None
