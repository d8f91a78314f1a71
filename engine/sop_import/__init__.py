"""From an existing SOP-AP document to a draft BPMN diagram and an import report (issue 7, part 2).

Readers, one module per input kind, each filling the common draft model
(:mod:`engine.sop_import.draft`):

- :mod:`engine.sop_import.pdf`  — PDF of an SOP-AP table (Excel/Word exports): positions of
  ruling lines, symbols and words give each step's Pelaksana column;
- :mod:`engine.sop_import.xlsx` — XLSX: the table in cells, the flowchart shapes anchored to cells;
- :mod:`engine.sop_import.text` — plain text / TSV: lanes inferred from the wording.

:func:`import_document` picks the reader from the file's first bytes, settles called SOPs and
"Tidak" targets (:mod:`engine.sop_import.writer`) and lays the draft out with the project's
layout generator (:mod:`engine.layout`). It stores nothing; every refusal is a
:class:`~storage.errors.SopImportError` with an Indonesian message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from engine.sop_import.draft import DraftSop, ImportReport
from engine.sop_import.writer import settle, write_bpmn
from storage import definitions
from storage.errors import SopImportError

__all__ = ["ImportedSop", "MAX_FILE_BYTES", "deployed_sops", "detect_kind", "import_document"]

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_TEXT_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class ImportedSop:
    """One SOP read from a document: the draft, its report and the laid-out BPMN."""

    process_id: str
    draft: DraftSop
    report: ImportReport
    bpmn: bytes


def deployed_sops(session: Session) -> dict[str, str]:
    """``{process id: name}`` of the latest deployed version of every SOP (what a draft may call)."""
    return {row.process_id: row.name for row in definitions.list_latest(session)}


def detect_kind(data: bytes, filename: str) -> str:
    """``"pdf"``, ``"xlsx"`` or ``"teks"`` from the first bytes (the file name only breaks ties).

    Raises :class:`SopImportError` for other binary formats (DOC, images, ...).
    """
    if data[:5] == b"%PDF-" or data[:1024].lstrip().startswith(b"%PDF-"):
        return "pdf"
    if data[:4] == b"PK\x03\x04":
        return "xlsx"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise SopImportError("Berkas Excel/Word lama (.xls/.doc) tidak didukung: simpan sebagai .xlsx atau PDF")
    sample = data[:4096]
    if b"\x00" in sample:
        raise SopImportError(f"Jenis berkas {filename!r} tidak dikenali: kirim PDF, XLSX atau teks/TSV")
    return "teks"


def import_document(data: bytes, filename: str, known_sops: Mapping[str, str],
                    *, process_id: str | None = None) -> list[ImportedSop]:
    """Read an SOP document into draft diagrams, one per SOP table found.

    ``known_sops`` is ``{process id: name}`` of the deployed SOPs a Keterangan may
    cite (a call activity is made only to one of them). ``process_id`` overrides the
    id derived from the SOP name (only for a document holding one SOP). Bounded:
    at most 20 MiB (text 2 MiB), PDF pages and XLSX sizes checked before reading.
    Raises :class:`SopImportError` (Indonesian message) and stores nothing.
    """
    if not data:
        raise SopImportError("Berkas kosong")
    if len(data) > MAX_FILE_BYTES:
        raise SopImportError(f"Berkas terlalu besar ({len(data) // 1024 // 1024} MiB; maksimum "
                             f"{MAX_FILE_BYTES // 1024 // 1024} MiB)")
    kind = detect_kind(data, filename)
    if kind == "pdf":
        from engine.sop_import.pdf import read_pdf
        found = read_pdf(data, filename)
    elif kind == "xlsx":
        from engine.sop_import.xlsx import read_xlsx
        found = read_xlsx(data, filename)
    else:
        if len(data) > MAX_TEXT_BYTES:
            raise SopImportError(f"Berkas teks terlalu besar (maksimum {MAX_TEXT_BYTES // 1024 // 1024} MiB)")
        from engine.sop_import.text import read_text
        found = read_text(data, filename)
    if process_id is not None and len(found) > 1:
        raise SopImportError(f"Berkas memuat {len(found)} SOP: id proses hanya dapat ditentukan untuk satu SOP")
    results: list[ImportedSop] = []
    taken: set[str] = set()
    for draft, report in found:
        settle(draft, report, known_sops)
        pid, bpmn = write_bpmn(draft, report, known_ids=set(known_sops), process_id=process_id,
                               taken=taken)
        taken.add(pid)
        order = {row.label: index for index, row in enumerate(draft.rows)}
        report.findings.sort(key=lambda f: -1 if f.row is None else order.get(f.row, len(order)))
        results.append(ImportedSop(pid, draft, report, bpmn))
    return results
