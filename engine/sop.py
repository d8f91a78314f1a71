"""SOP metadata carried in a diagram: lanes (Pelaksana), steps and their Mutu Baku.

The diagrams keep the SOP-AP table (Permenpan RB 35/2012) in ``alur:``
extension elements that bpmn.io preserves (format: ``bpmn/README.md``). This
module reads them into plain dataclasses that are stored as JSON with each
process definition version, so nothing at run time re-reads XML.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from lxml import etree

__all__ = [
    "ALUR_NS", "BPMN_NS", "DATE_FIELDS", "LETTER_VARIABLES", "LaneMeta", "Pengesahan", "ProcessMeta",
    "StepMeta", "identity_problems", "read_process_meta", "start_variables", "starts_from_letter", "with_unit_kind",
]

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
ALUR_NS = "http://alur.dev/schema/bpmn/sop/1.0"
_NS = {"bpmn": BPMN_NS, "alur": ALUR_NS}
LETTER_VARIABLES = ("nomor_surat", "tanggal_surat")
"""Start data of an SOP that starts from an incoming letter: its number and date (ISO date)."""
_LETTER = re.compile(r"\bsurat masuk\b|\bdisposisi surat\b", re.IGNORECASE)
_LETTER_SOP = "sop_surat_masuk"
_HEADER_FIELDS = (
    "dasarHukum", "kualifikasiPelaksana", "keterkaitan", "peralatan", "peringatan", "pencatatan",
)
DATE_FIELDS = ("tanggalPembuatan", "tanggalRevisi", "tanggalEfektif")
"""The ``alur:sop`` date attributes: ISO 8601 calendar dates ``YYYY-MM-DD``."""
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NIP = re.compile(r"^\d{18}$")


@dataclass(frozen=True)
class LaneMeta:
    """One lane = one Pelaksana column. ``team``: a Tim rather than a standing post."""

    id: str
    name: str
    team: bool = False


@dataclass(frozen=True)
class StepMeta:
    """One Kegiatan row: a user task or call activity with its Mutu Baku.

    ``waktu`` is an ISO 8601 duration (``PT30M``, ``P1D`` = working days) and
    ``waktu_text`` the source wording; ``forms_team`` the name of the team lane
    whose members this step names; ``review`` marks a "jika setuju ... jika
    tidak ..." step whose completion needs a keputusan.
    """

    id: str
    name: str
    kind: str
    lane: str | None
    row: str | None = None
    text: str | None = None
    kelengkapan: str | None = None
    waktu: str | None = None
    waktu_text: str | None = None
    output: str | None = None
    keterangan: str | None = None
    review: bool = False
    forms_team: str | None = None
    called_element: str | None = None


@dataclass(frozen=True)
class Pengesahan:
    """"Disahkan oleh" of an SOP-AP header: the official who signs the SOP.

    ``nip`` is the 18-digit Nomor Induk Pegawai (PP 17/2020 on civil-service
    management); each field is ``None`` where the diagram leaves it out.
    ``elektronik`` (``tandaTangan="elektronik"``): signed with an electronic
    certificate (UU 11/2008 ITE Pasal 11, PP 71/2019) rather than by hand.
    """

    jabatan: str | None = None
    nama: str | None = None
    nip: str | None = None
    elektronik: bool = False


@dataclass(frozen=True)
class ProcessMeta:
    """An SOP's identity, header fields, lanes and steps, keyed by BPMN id.

    The identity fields of the SOP-AP header (Permenpan RB 35/2012): ``nomor``
    (Nomor SOP), ``tanggal_pembuatan`` / ``tanggal_revisi`` / ``tanggal_efektif``
    as ISO dates ``YYYY-MM-DD`` (checked at deploy), ``disahkan_oleh``; each is
    ``None`` when the diagram does not carry it. ``header`` maps the list fields
    (``dasarHukum``, ``kualifikasiPelaksana``, ``keterkaitan``, ``peralatan``,
    ``peringatan``, ``pencatatan``) to their entries in diagram order.
    """

    process_id: str
    name: str
    source: str | None
    unit_kind: str
    header: dict[str, list[str]] = field(default_factory=dict)
    lanes: dict[str, LaneMeta] = field(default_factory=dict)
    steps: dict[str, StepMeta] = field(default_factory=dict)
    nomor: str | None = None
    tanggal_pembuatan: str | None = None
    tanggal_revisi: str | None = None
    tanggal_efektif: str | None = None
    disahkan_oleh: Pengesahan | None = None
    working_time_timers: tuple[str, ...] = ()  # ids of timer events with <alur:timer workingTime="true"/>

    def lane_by_name(self, name: str) -> LaneMeta | None:
        """The lane called ``name`` in this SOP, if any."""
        return next((lane for lane in self.lanes.values() if lane.name == name), None)

    def to_json_dict(self) -> dict[str, Any]:
        """A JSON-serializable dict (inverse of :meth:`from_json_dict`)."""
        return asdict(self)

    @classmethod
    def from_json_dict(cls, dct: dict[str, Any]) -> ProcessMeta:
        """Rebuild from :meth:`to_json_dict` output."""
        return cls(
            process_id=dct["process_id"],
            name=dct["name"],
            source=dct.get("source"),
            unit_kind=dct["unit_kind"],
            header=dct.get("header", {}),
            lanes={k: LaneMeta(**v) for k, v in dct.get("lanes", {}).items()},
            steps={k: StepMeta(**v) for k, v in dct.get("steps", {}).items()},
            nomor=dct.get("nomor"),
            tanggal_pembuatan=dct.get("tanggal_pembuatan"),
            tanggal_revisi=dct.get("tanggal_revisi"),
            tanggal_efektif=dct.get("tanggal_efektif"),
            disahkan_oleh=Pengesahan(**dct["disahkan_oleh"]) if dct.get("disahkan_oleh") else None,
            working_time_timers=tuple(dct.get("working_time_timers", ())),
        )


def read_process_meta(process: etree._Element) -> ProcessMeta:
    """Read the SOP metadata of one ``bpmn:process`` element.

    A process without ``alur:sop`` gets ``unit_kind="any"`` and its name or id;
    steps without Mutu Baku are still listed (a diagram drawn from scratch in
    bpmn.io runs, it just has no standard times).
    """
    sop = process.find("bpmn:extensionElements/alur:sop", _NS)
    header: dict[str, list[str]] = {}
    if sop is not None:
        for name in _HEADER_FIELDS:
            values = [(e.text or "").strip() for e in sop.findall(f"alur:{name}", _NS)]
            if values:
                header[name] = values
    lanes: dict[str, LaneMeta] = {}
    lane_of: dict[str, str] = {}
    for lane in process.iterfind(".//bpmn:lane", _NS):
        ext = lane.find("bpmn:extensionElements/alur:lane", _NS)
        team = ext is not None and ext.get("team") == "true"
        lanes[lane.get("id")] = LaneMeta(lane.get("id"), lane.get("name") or lane.get("id"), team)
        for ref in lane.iterfind("bpmn:flowNodeRef", _NS):
            lane_of[(ref.text or "").strip()] = lane.get("name") or lane.get("id")
    steps = {}
    for node in process.iterchildren(f"{{{BPMN_NS}}}userTask", f"{{{BPMN_NS}}}callActivity",
                                     f"{{{BPMN_NS}}}manualTask", f"{{{BPMN_NS}}}task"):
        steps[node.get("id")] = _read_step(node, lane_of.get(node.get("id")), lanes)
    signer = sop.find("alur:disahkanOleh", _NS) if sop is not None else None
    return ProcessMeta(
        process_id=process.get("id"),
        name=process.get("name") or process.get("id"),
        source=sop.get("source") if sop is not None else None,
        unit_kind=(sop.get("unitKind") if sop is not None else None) or "any",
        header=header,
        lanes=lanes,
        steps=steps,
        nomor=_attr(sop, "nomor"),
        tanggal_pembuatan=_attr(sop, "tanggalPembuatan"),
        tanggal_revisi=_attr(sop, "tanggalRevisi"),
        tanggal_efektif=_attr(sop, "tanggalEfektif"),
        disahkan_oleh=Pengesahan(_attr(signer, "jabatan"), _attr(signer, "nama"), _attr(signer, "nip"),
                                 _attr(signer, "tandaTangan") == "elektronik")
        if signer is not None else None,
        working_time_timers=tuple(sorted(
            e.getparent().getparent().get("id")
            for e in process.iterfind(".//bpmn:extensionElements/alur:timer[@workingTime='true']", _NS))),
    )


def with_unit_kind(tree: etree._ElementTree, unit_kind: str) -> bytes:
    """The BPMN ``tree`` (parsed safely by the caller) with ``alur:sop unitKind`` of its first
    executable process set to ``unit_kind`` (``alur:sop`` added when missing), as UTF-8 XML."""
    process = next(p for p in tree.getroot().iterfind("bpmn:process", _NS) if p.get("isExecutable") != "false")
    ext = process.find("bpmn:extensionElements", _NS)
    if ext is None:
        ext = etree.Element(f"{{{BPMN_NS}}}extensionElements")
        process.insert(0, ext)
    sop = ext.find("alur:sop", _NS)
    if sop is None:
        sop = etree.SubElement(ext, f"{{{ALUR_NS}}}sop")
    sop.set("unitKind", unit_kind)
    data: bytes = etree.tostring(tree, xml_declaration=True, encoding="UTF-8")
    return data


def identity_problems(process: etree._Element) -> list[tuple[etree._Element, str]]:
    """Malformed identity fields of a process's ``alur:sop`` header.

    Returns ``(element, message)`` pairs, empty when all is well: a date
    attribute (``tanggalPembuatan``, ``tanggalRevisi``, ``tanggalEfektif``) that
    is not a real calendar date written ``YYYY-MM-DD``, a NIP of
    ``alur:disahkanOleh`` that is not 18 digits, a ``tandaTangan`` other than
    ``basah``/``elektronik``, or a second ``alur:disahkanOleh``.
    Messages are Bahasa Indonesia first, then English.
    """
    sop = process.find("bpmn:extensionElements/alur:sop", _NS)
    if sop is None:
        return []
    problems: list[tuple[etree._Element, str]] = []
    for name in DATE_FIELDS:
        value = sop.get(name)
        if value is not None and not _is_iso_date(value):
            problems.append((sop, f"alur:sop {name}={value!r} bukan tanggal YYYY-MM-DD "
                                  f"(not an ISO date YYYY-MM-DD)"))
    signers = sop.findall("alur:disahkanOleh", _NS)
    if len(signers) > 1:
        problems.append((signers[1], "alur:disahkanOleh lebih dari satu (more than one)"))
    for signer in signers:
        nip = signer.get("nip")
        if nip is not None and not _NIP.match(nip):
            problems.append((signer, f"alur:disahkanOleh nip={nip!r} harus 18 angka (NIP must be 18 digits)"))
        kind = signer.get("tandaTangan")
        if kind is not None and kind not in ("basah", "elektronik"):
            problems.append((signer, f"alur:disahkanOleh tandaTangan={kind!r} harus 'basah' atau 'elektronik' "
                                     f"(must be 'basah' or 'elektronik')"))
    return problems


def _is_iso_date(value: str) -> bool:
    if not _ISO_DATE.match(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _attr(element: etree._Element | None, name: str) -> str | None:
    if element is None:
        return None
    value = (element.get(name) or "").strip()
    return value or None


def _read_step(node: etree._Element, lane: str | None, lanes: dict[str, LaneMeta]) -> StepMeta:
    ext = node.find("bpmn:extensionElements", _NS)

    def find(tag: str) -> etree._Element | None:
        return ext.find(f"alur:{tag}", _NS) if ext is not None else None

    mutu = find("mutuBaku")
    step = find("step")
    keterangan = find("keterangan")
    forms = find("formsTeam")
    documentation = node.find("bpmn:documentation", _NS)
    forms_lane = lanes.get(forms.get("lane")) if forms is not None else None
    return StepMeta(
        id=node.get("id"),
        name=node.get("name") or node.get("id"),
        kind=etree.QName(node).localname,
        lane=lane,
        row=step.get("row") if step is not None else None,
        text=(documentation.text or "").strip() if documentation is not None else None,
        kelengkapan=mutu.get("kelengkapan") if mutu is not None else None,
        waktu=mutu.get("waktu") if mutu is not None else None,
        waktu_text=mutu.get("waktuText") if mutu is not None else None,
        output=mutu.get("output") if mutu is not None else None,
        keterangan=(keterangan.text or "").strip() if keterangan is not None else None,
        review=find("review") is not None,
        forms_team=forms_lane.name if forms_lane is not None else None,
        called_element=node.get("calledElement"),
    )


def starts_from_letter(meta: ProcessMeta) -> bool:
    """Whether the SOP's first step takes an incoming letter.

    Its Kelengkapan names "surat masuk" or "disposisi surat", or it calls
    ``sop_surat_masuk``. The start form asks for the letter's nomor and tanggal
    then (``web.instances``), and conditions may read them (:func:`start_variables`).
    """
    first = next(iter(meta.steps.values()), None)
    if first is None:
        return False
    return bool(_LETTER.search(first.kelengkapan or "")) or first.called_element == _LETTER_SOP


def start_variables(meta: ProcessMeta) -> tuple[str, ...]:
    """Names of the variables an instance of this SOP starts with (:data:`LETTER_VARIABLES` or none)."""
    return LETTER_VARIABLES if starts_from_letter(meta) else ()
