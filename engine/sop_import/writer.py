"""Turn a :class:`~engine.sop_import.draft.DraftSop` into a BPMN diagram (format: bpmn/README.md).

The draft is settled first (:func:`settle`): each Keterangan citing a deployed SOP
becomes a call activity (fuzzy match, reported), an unknown citation stays text with
a warning; each decision gets a "Tidak" target (read, or inferred and reported).
Then :func:`write_bpmn` builds a spec for the project's layout generator
(:mod:`engine.layout`), validated by the same rules as the committed diagrams, and
lays it out with full BPMNDI.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from engine.layout import MAX_NAME_CHARS, SpecError, build_xml, validate_spec
from engine.sop_import.called import cite, fits_dispatch, match_sop
from engine.sop_import.draft import DraftSop, ImportReport
from engine.sop_import.wording import is_paraf_only
from engine.waktu import parse_waktu
from storage.errors import CalendarError, SopImportError

__all__ = ["process_id_for", "settle", "short_name", "write_bpmn"]

_FORMS_TEAM = re.compile(r"^(?:membentuk|mengumpulkan)\s+tim\b|mengesahkan\s+sk\s+tim", re.IGNORECASE)


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def process_id_for(name: str) -> str:
    """A process id from an SOP name: "SOP Perencanaan Kinerja" → ``sop_perencanaan_kinerja``."""
    words = re.findall(r"[a-z0-9]+", _ascii(name).casefold())
    if words and words[0] == "sop":
        words = words[1:]
    slug = "_".join(words)[:60].strip("_") or "impor"
    return f"sop_{slug}"


def short_name(kegiatan: str) -> str:
    """A diagram label of at most 40 characters: the Kegiatan up to its first clause, cut at a word."""
    text = " ".join(kegiatan.split())
    clause = re.split(r"[,.;:]|\s+(?:jika|bila|apabila)\s+", text, maxsplit=1, flags=re.IGNORECASE)[0].strip()
    clause = clause or text or "Langkah"
    if len(clause) <= MAX_NAME_CHARS:
        return clause
    cut = clause[:MAX_NAME_CHARS - 1].rsplit(" ", 1)[0]
    return cut.rstrip(" ,-") + "…"


def settle(draft: DraftSop, report: ImportReport, known_sops: Mapping[str, str]) -> None:
    """Resolve called SOPs and "Tidak" targets in place, reporting every inference.

    ``known_sops`` is ``{process id: name}`` of the deployed SOPs a step may call.
    """
    for index, row in enumerate(draft.rows):
        citation = cite(row.keterangan)
        if row.calls is None and citation is not None:
            found = match_sop(citation.text, known_sops)
            if found is None:
                report.add("peringatan", f"Keterangan menyebut {citation.text!r}, tetapi tidak ada SOP ter-deploy "
                                         "dengan nama itu: tetap sebagai teks Keterangan", page=row.page, row=row.label)
            elif row.review:
                report.add("peringatan", f"Keterangan menyebut {citation.text!r}, tetapi baris ini sebuah "
                                         "keputusan: tidak dijadikan call activity", page=row.page, row=row.label)
            elif not fits_dispatch(row.kegiatan, known_sops[found[0]]):
                report.add("dugaan", f"Keterangan menyebut {citation.text!r}, tetapi baris ini bukan langkah "
                                     "pengiriman itu sendiri (perintah, atau kegiatan lain): tidak dijadikan "
                                     "call activity", page=row.page, row=row.label)
            else:
                process_id, score = found
                row.calls = process_id
                report.add("dugaan", f"Keterangan {citation.text!r} dicocokkan dengan SOP ter-deploy "
                                     f"{known_sops[process_id]!r} ({process_id}, kemiripan {score:.0%}): "
                                     "call activity", page=row.page, row=row.label)
        if row.review and row.tidak is None:
            target = next((j for j in range(index - 1, -1, -1)
                           if not is_paraf_only(draft.rows[j].kegiatan)), None)
            if target is None:
                row.review = False
                report.add("peringatan", "Keputusan tanpa langkah sebelumnya untuk 'Tidak': dijadikan langkah "
                                         "biasa", page=row.page, row=row.label)
            else:
                row.tidak = target
                report.add("dugaan", f"Arah 'Tidak' tidak terbaca; kembali ke langkah sebelumnya "
                                     f"(baris {draft.rows[target].label})", page=row.page, row=row.label)


_BULAN = {name: number for number, name in enumerate(
    ("januari", "februari", "maret", "april", "mei", "juni", "juli", "agustus", "september", "oktober",
     "november", "desember"), start=1)}
_BULAN.update({"agu": 8, "agt": 8, "okt": 10, "des": 12, "feb": 2, "jan": 1, "mar": 3, "apr": 4, "jun": 6,
               "jul": 7, "sep": 9, "nov": 11, "nop": 11, "nopember": 11, "pebruari": 2})


def iso_date(text: str) -> str | None:
    """An Indonesian date as ISO ``YYYY-MM-DD``: "2 Januari 2026", "02-01-2026", "2026-01-02"; else None."""
    text = text.strip().casefold()
    found = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
    if found:
        year, month, day = (int(v) for v in found.groups())
    elif found := re.fullmatch(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})", text):
        day, month, year = (int(v) for v in found.groups())
    elif found := re.fullmatch(r"(\d{1,2})\s+([a-z]+)\.?\s+(\d{4})", text):
        day, year = int(found.group(1)), int(found.group(3))
        month = _BULAN.get(found.group(2), 0)
    else:
        return None
    try:
        return datetime.date(year, month, day).isoformat()
    except ValueError:
        return None


def _identity(draft: DraftSop, report: ImportReport) -> dict[str, Any]:
    """The identity fields the diagram format carries (``alur:sop`` nomor, tanggal..., disahkanOleh)."""
    found: dict[str, Any] = {}
    identity = draft.identity
    if identity.get("Nomor SOP") and identity["Nomor SOP"].strip() not in ("-", ""):
        found["nomor"] = identity["Nomor SOP"].strip()
    for label, key in (("Tanggal Pembuatan", "tanggal_pembuatan"), ("Tanggal Revisi", "tanggal_revisi"),
                       ("Tanggal Efektif", "tanggal_efektif")):
        value = identity.get(label, "").strip()
        if value in ("", "-"):
            continue
        iso = iso_date(value)
        if iso is None:
            report.add("tidak terbaca", f"{label} {value!r} bukan tanggal yang dapat dibaca: tidak dibawa")
        else:
            found[key] = iso
    signer = {"jabatan": identity.get("Disahkan oleh"), "nama": identity.get("Nama pengesah"),
              "nip": identity.get("NIP")}
    if signer["nip"] is not None and not re.fullmatch(r"\d{18}", signer["nip"]):
        report.add("tidak terbaca", f"NIP {signer['nip']!r} bukan 18 angka: tidak dibawa")
        signer["nip"] = None
    signer = {k: v.strip() for k, v in signer.items() if v and v.strip() not in ("", "-")}
    if signer:
        found["disahkan_oleh"] = signer
    return found


def _lane_id(name: str, used: set[str]) -> str:
    words = re.findall(r"[A-Za-z0-9]+", _ascii(name))
    base = "Lane_" + "".join(w[:1].upper() + w[1:] for w in words) if words else "Lane_Pelaksana"
    if base[5:6].isdigit():
        base = "Lane_P" + base[5:]
    lane_id, n = base, 2
    while lane_id in used:
        lane_id, n = f"{base}_{n}", n + 1
    used.add(lane_id)
    return lane_id


def _step_ids(labels: list[str]) -> list[str]:
    ids: list[str] = []
    for index, label in enumerate(labels):
        number = re.fullmatch(r"\s*(\d{1,4})\s*[.:]?\s*", label)
        if number:
            candidate = f"Step_{int(number.group(1)):02d}"
        elif ids:
            candidate = ids[-1] + "a"
        else:
            candidate = f"Step_{index + 1:02d}"
        while candidate in ids:
            candidate += "a"
        ids.append(candidate)
    return ids


def write_bpmn(draft: DraftSop, report: ImportReport, *, known_ids: set[str],
               process_id: str | None = None, taken: set[str] | None = None) -> tuple[str, bytes]:
    """Lay out the settled draft as a BPMN 2.0 file; returns ``(process id, UTF-8 bytes)``.

    ``taken`` are process ids already used by other drafts of the same document (a
    suffix keeps ids apart). Raises :class:`~storage.errors.SopImportError` when the
    draft has no Pelaksana column or no row (nothing to draw).
    """
    if not draft.lanes:
        raise SopImportError("Kolom Pelaksana tidak ditemukan: tidak ada lane untuk diagram")
    if not draft.rows:
        raise SopImportError("Tidak ada baris Kegiatan yang terbaca")
    pid = process_id or process_id_for(draft.name)
    base, n = pid, 2
    while taken and pid in taken:
        pid, n = f"{base}_{n}", n + 1
    used: set[str] = set()
    lane_ids = [_lane_id(lane.name, used) for lane in draft.lanes]
    teams = [i for i, lane in enumerate(draft.lanes) if re.match(r"^\s*tim\b", lane.name, re.IGNORECASE)]
    step_ids = _step_ids([row.label for row in draft.rows])
    formed: set[int] = set()
    steps: list[dict[str, Any]] = []
    for index, row in enumerate(draft.rows):
        performer = row.lanes[0] if row.lanes else 0
        if not row.lanes:
            report.add("tidak terbaca", f"Pelaksana tidak ditemukan; sementara di lane {draft.lanes[0].name!r}",
                       page=row.page, row=row.label)
        text = " ".join(row.kegiatan.split()) or f"Langkah {row.label}"
        if len(row.lanes) > 1:
            text += " (bersama: " + ", ".join(draft.lanes[i].name for i in row.lanes[1:]) + ")"
        step: dict[str, Any] = {"id": step_ids[index], "row": row.label or str(index + 1),
                                "lane": lane_ids[performer], "name": short_name(row.kegiatan), "text": text}
        for key in ("kelengkapan", "output", "keterangan"):
            value = getattr(row, key)
            if value and value.strip():
                step[key] = " ".join(value.split())
        if row.waktu and row.waktu.strip():
            try:
                step["waktu"] = parse_waktu(" ".join(row.waktu.split())).text
            except CalendarError:
                report.add("tidak terbaca", f"Waktu {row.waktu!r} tidak dapat dibaca (menit/jam/hari/minggu): "
                                            "dikosongkan", page=row.page, row=row.label)
        if row.review and row.tidak is not None:
            if row.tidak > index:
                report.add("peringatan", "Arah 'Tidak' menuju langkah sesudahnya: keputusan dijadikan langkah "
                                         "biasa", page=row.page, row=row.label)
            else:
                step["review_tidak"] = step_ids[row.tidak]
        if row.calls and "review_tidak" not in step:
            step["calls"] = row.calls
        if row.ya is not None and row.ya != index + 1:
            report.add("peringatan", f"Arah 'Ya' menuju baris {draft.rows[row.ya].label}, bukan baris berikutnya; "
                                     "diagram mengikuti urutan baris", page=row.page, row=row.label)
        team = next((t for t in teams if t not in formed), None)
        if team is not None and _FORMS_TEAM.search(row.kegiatan):
            formed.add(team)
            step["forms_team"] = lane_ids[team]
            report.add("dugaan", f"Langkah ini membentuk tim {draft.lanes[team].name!r} (anggota dipilih saat "
                                 "langkah diselesaikan)", page=row.page, row=row.label)
        steps.append(step)
    source = re.sub(r"[\x00-\x1f]", "", draft.source.replace("\\", "/").rsplit("/", 1)[-1])[:120] or "dokumen"
    sop: dict[str, Any] = {"id": pid, "name": draft.name, "source": f"impor:{source}",
                           "unit_kind": draft.unit_kind}
    for key, spec_key in (("dasarHukum", "dasar_hukum"), ("kualifikasiPelaksana", "kualifikasi_pelaksana"),
                          ("keterkaitan", "keterkaitan"), ("peralatan", "peralatan")):
        if draft.header.get(key):
            sop[spec_key] = list(draft.header[key])
    for key in ("peringatan", "pencatatan"):
        if draft.header.get(key):
            sop[key] = "; ".join(draft.header[key])
    sop.update(_identity(draft, report))
    lanes = [{"id": lane_ids[i], "name": lane.name, "team": i in teams} for i, lane in enumerate(draft.lanes)]
    try:
        spec = validate_spec({"sop": sop, "lanes": lanes, "steps": steps}, known_ids, sources=("impor:",))
    except SpecError as exc:
        raise SopImportError(f"Draf tidak dapat disusun menjadi diagram: {exc}") from exc
    return pid, build_xml(spec, exporter="Alur impor")
