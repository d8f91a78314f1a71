"""What every reader shares: the header of an SOP-AP table, and rows + symbols → draft.

A reader (PDF, XLSX) finds the table's columns and rows in its own way, then hands
:func:`classify_header` the header band (one or two rows of cell texts, by column)
and :func:`assemble` the rows, the symbols found in each row's Pelaksana columns and
the "Tidak" links it could follow. :func:`assemble` turns these into a
:class:`~engine.sop_import.draft.DraftSop`: the lane of a step is the column its
symbol sits in (a joint step: the first column performs); rows without a symbol get
their lane from the wording, reported as needing confirmation.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from engine.sop_import.draft import DraftLane, DraftRow, DraftSop, ImportReport
from engine.sop_import.wording import (
    LaneRoles,
    infer_lanes,
    is_paraf_only,
    is_review,
    resolve_role,
    tidak_role_text,
)

__all__ = ["Header", "Symbol", "TableRow", "assemble", "classify_header", "infer_missing_lanes",
           "resolve_reviews"]

_KEGIATAN = re.compile(r"^\s*(?:kegiatan|aktivitas|uraian)", re.IGNORECASE)
_NO = re.compile(r"^\s*no\.?\s*$", re.IGNORECASE)
_KELENGKAPAN = re.compile(r"^\s*(?:kelengkapan|persyaratan)", re.IGNORECASE)
_WAKTU = re.compile(r"^\s*waktu\s*$", re.IGNORECASE)
_OUTPUT = re.compile(r"^\s*(?:output|keluaran)\s*$", re.IGNORECASE)
_KETERANGAN = re.compile(r"^\s*(?:keterangan|ket\.?)\s*$", re.IGNORECASE)
_KEYWORD = re.compile(r"^\s*(?:no\.?|nomor|kegiatan|aktivitas|uraian.*|pelaksana|mutu\s+baku|kelengkapan|"
                      r"persyaratan.*|waktu|output|keluaran|keterangan|ket\.?)\s*$", re.IGNORECASE)


@dataclass
class Header:
    """Column indices of an SOP-AP table; ``roles`` are (column, Pelaksana name) left to right."""

    kegiatan: int
    no: int | None = None
    roles: list[tuple[int, str]] = field(default_factory=list)
    kelengkapan: int | None = None
    waktu: int | None = None
    output: int | None = None
    keterangan: int | None = None


def is_header_row(cells: Sequence[str]) -> bool:
    """True for the first header row: a Kegiatan cell and a Pelaksana (or Mutu Baku) cell."""
    texts = [" ".join(c.split()) for c in cells if c]
    return any(_KEGIATAN.match(t) for t in texts) and any(
        re.search(r"pelaksana|mutu\s+baku", t, re.IGNORECASE) for t in texts)


def classify_header(band: Sequence[Sequence[str]]) -> Header | None:
    """Read the columns from a header band of one or two rows (cell texts by column index).

    "Pelaksana" may span the role columns with the names in the row below, or stand in
    the same row; role columns are the named columns between Kegiatan and the Mutu Baku
    columns. None when there is no Kegiatan column.
    """
    width = max((len(r) for r in band), default=0)
    columns = [[" ".join((r[c] if c < len(r) else "").split()) for r in band] for c in range(width)]
    kegiatan = next((c for c, texts in enumerate(columns) if any(_KEGIATAN.match(t) for t in texts)), None)
    if kegiatan is None:
        return None
    header = Header(kegiatan=kegiatan)

    def find(pattern: re.Pattern[str]) -> int | None:
        return next((c for c, texts in enumerate(columns) if c > kegiatan and any(pattern.match(t) for t in texts)),
                    None)

    header.no = next((c for c, texts in enumerate(columns) if c < kegiatan and any(_NO.match(t) for t in texts)),
                     None)
    header.kelengkapan, header.waktu = find(_KELENGKAPAN), find(_WAKTU)
    header.output, header.keterangan = find(_OUTPUT), find(_KETERANGAN)
    mutu = next((c for c, texts in enumerate(columns)
                 if c > kegiatan and any(re.match(r"^\s*mutu\s+baku", t, re.IGNORECASE) for t in texts)), None)
    limit = min(c for c in (header.kelengkapan, header.waktu, mutu, header.keterangan, width) if c is not None)
    for c in range(kegiatan + 1, limit):
        names = [re.sub(r"^pelaksana\s*:\s*", "", t, flags=re.IGNORECASE) for t in columns[c]
                 if t and not _KEYWORD.match(t)]
        if names:
            header.roles.append((c, names[-1]))
    return header


@dataclass
class TableRow:
    """One Kegiatan row as read: cells, page, and its position in the reader's row list."""

    label: str
    kegiatan: str
    kelengkapan: str | None = None
    waktu: str | None = None
    output: str | None = None
    keterangan: str | None = None
    page: int | None = None


@dataclass(frozen=True)
class Symbol:
    """A flowchart symbol in a row: ``lane`` is the index into the Pelaksana columns."""

    row: int
    lane: int
    kind: str            # "rect", "capsule", "diamond"


def assemble(name: str, source: str, lane_names: Sequence[str], rows: Sequence[TableRow],
             symbols: Sequence[Symbol], tidak_links: dict[int, int], report: ImportReport) -> DraftSop:
    """Build the draft: lanes from symbols, decisions from diamonds (or wording), Tidak from links.

    ``tidak_links`` maps a row index to the row index its "Tidak" arrow reaches.
    """
    draft = DraftSop(name=name, source=source, lanes=[DraftLane(n) for n in lane_names])
    for index, table_row in enumerate(rows):
        row = DraftRow(label=table_row.label, kegiatan=table_row.kegiatan, kelengkapan=table_row.kelengkapan,
                       waktu=table_row.waktu, output=table_row.output, keterangan=table_row.keterangan,
                       page=table_row.page)
        own = sorted({s.lane: s for s in symbols if s.row == index}.values(), key=lambda s: s.lane)
        row.lanes = [s.lane for s in own]
        kinds = {s.kind for s in own}
        row.symbol = "diamond" if "diamond" in kinds else (own[0].kind if own else None)
        worded = is_review(row.kegiatan)
        row.review = "diamond" in kinds or worded
        if "diamond" in kinds and not worded:
            report.add("info", "Belah ketupat (keputusan) tanpa kata 'jika setuju/jika tidak' di kegiatan",
                       page=row.page, row=row.label)
        if worded and own and "diamond" not in kinds:
            report.add("dugaan", "Kegiatan berbunyi keputusan ('jika ... jika tidak'), tetapi simbolnya bukan "
                                 "belah ketupat: dijadikan keputusan", page=row.page, row=row.label)
        if len(own) > 1:
            others = ", ".join(lane_names[s.lane] for s in own[1:])
            report.add("info", f"Langkah bersama: simbol di {len(own)} kolom; {lane_names[own[0].lane]!r} "
                               f"melaksanakan, {others} disebut di dokumentasi", page=row.page, row=row.label)
        if index in tidak_links:
            row.tidak = tidak_links[index]
            if not row.review:
                row.review = True
        draft.rows.append(row)
    infer_missing_lanes(draft, report)
    resolve_reviews(draft, report)
    return draft


def infer_missing_lanes(draft: DraftSop, report: ImportReport) -> None:
    """Fill lanes no mark or symbol gave from the wording; report each as needing confirmation."""
    if not draft.lanes:
        report.add("tidak terbaca", "Nama kolom Pelaksana tidak terbaca")
        return
    known = [row.lanes[0] if row.lanes else None for row in draft.rows]
    if all(k is not None for k in known):
        return
    inferred = infer_lanes([row.kegiatan for row in draft.rows], [lane.name for lane in draft.lanes], known)
    symbols = any(k is not None for k in known)
    for row, lane in zip(draft.rows, inferred, strict=True):
        if not row.lanes and lane is not None:
            row.lanes = [lane]
            row.lane_inferred = True
            why = "tidak ada simbol di kolom Pelaksana" if symbols else "tanda di kolom Pelaksana tidak ada"
            report.add("dugaan", f"Pelaksana {draft.lanes[lane].name!r} disimpulkan dari kata-kata kegiatan ({why})",
                       page=row.page, row=row.label)


def resolve_reviews(draft: DraftSop, report: ImportReport) -> None:
    """For decisions without a read "Tidak" target, take the role the wording names (SOURCES.md).

    The target is the latest earlier step of that role that works on the content (a
    pure paraf step cannot correct, so it is skipped). Each is reported as an
    inference; a decision naming no role is left to :func:`~engine.sop_import.writer.settle`.
    """
    roles = LaneRoles(tuple(lane.name for lane in draft.lanes))
    for index, row in enumerate(draft.rows):
        if not row.review or row.tidak is not None:
            continue
        match = re.search(r"(?:ke|kepada)\s+(.{2,40})", tidak_role_text(row.kegiatan), re.IGNORECASE)
        lane = resolve_role(match.group(1), roles) if match else None
        if lane is None:
            continue
        target = next((j for j in range(index, -1, -1) if draft.rows[j].lanes[:1] == [lane]
                       and not is_paraf_only(draft.rows[j].kegiatan)), None)
        if target is None:
            continue
        row.tidak = target
        report.add("dugaan", f"Arah 'Tidak' ke {draft.lanes[lane].name!r}: langkah terakhirnya sebelum keputusan "
                             f"(baris {draft.rows[target].label}), dari kata-kata kegiatan", page=row.page,
                   row=row.label)
