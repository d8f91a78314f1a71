"""The draft an importer reads from an SOP-AP document, and the import report.

A :class:`DraftSop` is the SOP-AP table (Permenpan RB 35/2012) as read, before it
becomes BPMN: the Pelaksana columns in order, one :class:`DraftRow` per Kegiatan
row with the column(s) its symbol sits in, its Mutu Baku and Keterangan, whether
it is a decision (with the row its "Tidak" goes back to) and the SOP it calls.
Every reader (PDF, XLSX, text) fills one, and writes what it had to infer or could
not read into the :class:`ImportReport`, with page and row.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = ["CONFIRM", "DraftLane", "DraftRow", "DraftSop", "Finding", "ImportReport", "Level"]

Level = Literal["info", "dugaan", "peringatan", "tidak terbaca"]
CONFIRM = "perlu dikonfirmasi"


@dataclass
class DraftLane:
    """One Pelaksana column, named as the table names it."""

    name: str


@dataclass
class DraftRow:
    """One Kegiatan row.

    ``lanes`` are indices into :attr:`DraftSop.lanes` (the first performs, the others
    take part: a joint step); empty when no column could be found. ``tidak`` is the
    index into :attr:`DraftSop.rows` of the row a decision's "Tidak" goes back to;
    ``ya`` the row its "Ya" goes to when that is not the next row. ``calls`` is a
    deployed process id. ``page`` is 1-based (None for text input).
    """

    label: str
    kegiatan: str
    lanes: list[int] = field(default_factory=list)
    kelengkapan: str | None = None
    waktu: str | None = None
    output: str | None = None
    keterangan: str | None = None
    review: bool = False
    tidak: int | None = None
    ya: int | None = None
    calls: str | None = None
    page: int | None = None
    symbol: str | None = None       # "rect", "capsule", "diamond", or None (text input)
    lane_inferred: bool = False     # the lane comes from the wording, not from a mark or symbol


@dataclass
class DraftSop:
    """An SOP as read from a document: name, header fields, Pelaksana columns, rows.

    ``header`` maps the ``alur:sop`` children (``dasarHukum``, ``kualifikasiPelaksana``,
    ``keterkaitan``, ``peralatan``, ``peringatan``, ``pencatatan``) to their entries;
    ``identity`` keeps the identity fields the diagram format has no place for yet
    (Nomor SOP, Tanggal Pembuatan, Disahkan oleh, ...), shown in the report.
    """

    name: str
    source: str
    lanes: list[DraftLane] = field(default_factory=list)
    rows: list[DraftRow] = field(default_factory=list)
    header: dict[str, list[str]] = field(default_factory=dict)
    identity: dict[str, str] = field(default_factory=dict)
    unit_kind: str = "any"


@dataclass(frozen=True)
class Finding:
    """One line of the import report: what was inferred or could not be read, and where."""

    level: Level
    message: str
    page: int | None = None
    row: str | None = None

    @property
    def confirm(self) -> bool:
        """True when an analyst must confirm it (an inference, not a reading)."""
        return self.level == "dugaan"

    def text(self) -> str:
        """The finding as one report line: ``[level] hal. 2, baris 7: message (perlu dikonfirmasi)``."""
        where = ", ".join(part for part in (
            f"hal. {self.page}" if self.page is not None else "",
            f"baris {self.row}" if self.row is not None else "") if part)
        suffix = f" ({CONFIRM})" if self.confirm else ""
        return f"[{self.level}] {where + ': ' if where else ''}{self.message}{suffix}"


@dataclass
class ImportReport:
    """Everything an import inferred or could not read, in reading order."""

    source: str
    kind: str                      # "pdf", "xlsx", "teks"
    findings: list[Finding] = field(default_factory=list)
    pages: int | None = None

    def add(self, level: Level, message: str, *, page: int | None = None, row: str | None = None) -> None:
        """Append one finding."""
        self.findings.append(Finding(level, message, page, row))

    def count(self, level: Level) -> int:
        """How many findings have ``level``."""
        return sum(1 for f in self.findings if f.level == level)

    def text(self, draft: DraftSop | None = None) -> str:
        """The report as plain text (Bahasa Indonesia), one finding per line."""
        lines = [f"Laporan impor: {self.source} ({self.kind}"
                 + (f", {self.pages} halaman)" if self.pages else ")")]
        if draft is not None:
            lines.append(f"SOP: {draft.name}")
            lines.append("Pelaksana (lane): " + " | ".join(lane.name for lane in draft.lanes))
            lines.append(f"Langkah: {len(draft.rows)}, keputusan: {sum(1 for r in draft.rows if r.review)}, "
                         f"memanggil SOP: {sum(1 for r in draft.rows if r.calls)}")
            for key, value in draft.identity.items():
                lines.append(f"Identitas — {key}: {value}")
        lines.append(f"Dugaan yang {CONFIRM}: {self.count('dugaan')}; peringatan: {self.count('peringatan')}; "
                     f"tidak terbaca: {self.count('tidak terbaca')}")
        lines.extend(f.text() for f in self.findings)
        return "\n".join(lines) + "\n"

    def to_json_dict(self, draft: DraftSop | None = None) -> dict[str, Any]:
        """A JSON-serializable dict of the report (and a summary of the draft)."""
        data: dict[str, Any] = {
            "source": self.source, "kind": self.kind, "pages": self.pages,
            "findings": [{**asdict(f), "perlu_dikonfirmasi": f.confirm} for f in self.findings],
        }
        if draft is not None:
            data["sop"] = {
                "name": draft.name, "lanes": [lane.name for lane in draft.lanes], "identity": draft.identity,
                "rows": [{"row": r.label, "kegiatan": r.kegiatan,
                          "lanes": [draft.lanes[i].name for i in r.lanes], "review": r.review,
                          "tidak": draft.rows[r.tidak].label if r.tidak is not None else None,
                          "calls": r.calls, "page": r.page} for r in draft.rows],
            }
        return data
