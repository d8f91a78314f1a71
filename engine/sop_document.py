"""The SOP-AP document of a diagram: identity part, rows, symbols and flows.

An SOP Administrasi Pemerintahan (Permenpan RB 35/2012, annex) is printed as
an identity part (unit, Nomor SOP, dates, Disahkan oleh, Nama SOP, Dasar Hukum,
Kualifikasi Pelaksana, Keterkaitan, Peralatan/Perlengkapan, Peringatan,
Pencatatan dan Pendataan) and a table: No | Kegiatan | one column per Pelaksana
| Mutu Baku (Kelengkapan, Waktu, Output) | Keterangan, with the flowchart drawn
inside the Pelaksana columns using five symbols: capsule (start/end), rectangle
(activity), diamond (decision, arrows labelled Ya/Tidak), arrow, and pentagon
(off-page connector).

This module reads a deployed version's BPMN XML (lxml) and its
:class:`~engine.sop.ProcessMeta` into a :class:`SopDocument`: rows in the
SOP's order (a depth-first walk from the start event, "Ya" before "Tidak"), a
review step and its "Setuju?" gateway folded into one decision row, start and
end events as capsules in the row of their neighbouring step, and the flows
between the symbols. Geometry is :mod:`engine.sop_flowchart`'s business.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from lxml import etree
from sqlalchemy.orm import Session

from engine import catalog
from engine.sop import BPMN_NS, Pengesahan, ProcessMeta, read_process_meta
from storage import definitions, org
from storage.errors import DeployError, ProcessNotFound

__all__ = [
    "Decision", "DocFlow", "Identity", "Row", "SopDocument", "Terminal", "build_document", "document_for",
    "document_from_bpmn",
]

_NS = {"bpmn": BPMN_NS}
_ACTIVITIES = {"userTask", "callActivity", "manualTask", "task", "serviceTask", "sendTask", "receiveTask",
               "businessRuleTask", "subProcess", "scriptTask"}
_SKIPPED = {"laneSet", "sequenceFlow", "extensionElements", "documentation", "textAnnotation", "association",
            "dataObject", "dataObjectReference", "dataStoreReference", "ioSpecification", "property",
            "boundaryEvent"}


@dataclass(frozen=True)
class Identity:
    """The identity part of an SOP-AP document; an empty field is ``None`` or ``()``.

    Dates are ISO ``YYYY-MM-DD`` strings as the diagram carries them; lists are
    the numbered entries of the field, in diagram order.
    """

    nama_sop: str
    unit_name: str | None = None
    institution: str | None = None
    nomor: str | None = None
    tanggal_pembuatan: str | None = None
    tanggal_revisi: str | None = None
    tanggal_efektif: str | None = None
    disahkan_oleh: Pengesahan | None = None
    dasar_hukum: tuple[str, ...] = ()
    kualifikasi_pelaksana: tuple[str, ...] = ()
    keterkaitan: tuple[str, ...] = ()
    peralatan: tuple[str, ...] = ()
    peringatan: tuple[str, ...] = ()
    pencatatan: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    """The decision of a review row: where Ya and Tidak lead.

    ``gateway_id`` is the "Setuju?" gateway folded into the row; ``ya`` and
    ``tidak`` are symbol ids (a row's step id, or a terminal's event id).
    """

    gateway_id: str
    ya: tuple[str, ...]
    tidak: tuple[str, ...]


@dataclass(frozen=True)
class Row:
    """One Kegiatan row; ``index`` is 0-based, ``number`` the printed No (1, 2, ...).

    ``symbol`` is ``"activity"`` (rectangle) or ``"decision"`` (diamond);
    ``lane`` the index of the Pelaksana column that holds it; ``symbol_id`` the
    BPMN id of its step. ``called_process_id`` / ``called_name`` name the SOP a
    call activity runs; ``keterangan`` already includes it.
    """

    index: int
    number: int
    symbol_id: str
    symbol: str
    lane: int
    kegiatan: str
    kelengkapan: str = ""
    waktu: str = ""
    output: str = ""
    keterangan: str = ""
    called_process_id: str | None = None
    called_name: str | None = None
    decision: Decision | None = None


@dataclass(frozen=True)
class Terminal:
    """A start or end event, drawn as a capsule in row ``row`` of Pelaksana column ``lane``."""

    symbol_id: str
    kind: str  # "start" | "end"
    label: str
    lane: int
    row: int


@dataclass(frozen=True)
class DocFlow:
    """An arrow between two symbols (ids of rows' steps or terminals); ``label`` "Ya"/"Tidak"/""."""

    id: str
    source: str
    target: str
    label: str = ""


@dataclass(frozen=True)
class SopDocument:
    """Everything an SOP-AP document shows, independent of paper size and geometry.

    ``row_of`` maps a row's step id to its row index; ``unit_kind`` is the SOP's
    ``alur:sop unitKind`` (bagian, dinas, kecamatan, any).
    """

    process_id: str
    version: int | None
    identity: Identity
    lanes: tuple[str, ...]
    rows: tuple[Row, ...]
    terminals: tuple[Terminal, ...]
    flows: tuple[DocFlow, ...]
    row_of: dict[str, int] = field(default_factory=dict)
    unit_kind: str = "any"

    def symbol_row(self, symbol_id: str) -> int:
        """The row index that holds symbol ``symbol_id`` (a step or a terminal)."""
        if symbol_id in self.row_of:
            return self.row_of[symbol_id]
        return next(t.row for t in self.terminals if t.symbol_id == symbol_id)

    def symbol_lane(self, symbol_id: str) -> int:
        """The Pelaksana column index of symbol ``symbol_id``."""
        if symbol_id in self.row_of:
            return self.rows[self.row_of[symbol_id]].lane
        return next(t.lane for t in self.terminals if t.symbol_id == symbol_id)


def document_for(session: Session, process_id: str, *, version: int | None = None,
                 unit_code: str | None = None, institution: str | None = None) -> SopDocument:
    """The SOP-AP document of a deployed version (the latest when ``version`` is None).

    ``unit_code`` names the unit whose name the identity part shows (none: left
    empty); ``institution`` is its parent institution's name (``ALUR_INSTANSI``).
    Raises ``ProcessNotFound`` (unknown process or version) and ``UnitNotFound``.
    """
    if version is None:
        definition = catalog.latest_definition(session, process_id)
    else:
        definition_id = definitions.version_id(session, process_id, version)
        if definition_id is None:
            raise ProcessNotFound(f"{process_id} versi {version}")
        definition = catalog.get_definition(session, definition_id)
    unit_name = org.get_unit_by_code(session, unit_code).name if unit_code else None
    called: dict[str, str] = {}
    for step in definition.meta.steps.values():
        if step.called_element and step.called_element not in called:
            try:
                called[step.called_element] = catalog.latest_definition(session, step.called_element).name
            except ProcessNotFound:
                called[step.called_element] = step.called_element
    xml = definitions.bpmn_xml_of(session, definition.id).encode("utf-8")
    return build_document(xml, definition.meta, version=definition.version, called_names=called,
                          unit_name=unit_name, institution=institution)


def build_document(bpmn_xml: bytes, meta: ProcessMeta, *, version: int | None = None,
                   called_names: Mapping[str, str] | None = None, unit_name: str | None = None,
                   institution: str | None = None) -> SopDocument:
    """Build the document model of the process ``meta.process_id`` in ``bpmn_xml``.

    ``called_names`` maps a called process id to its SOP name (for Keterangan).
    The XML is parsed without entities, DTD or network. Raises ``DeployError``
    when the XML is malformed or does not contain that process.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(bpmn_xml, parser)
    except etree.XMLSyntaxError as exc:
        raise DeployError(f"XML tidak valid: {exc.msg}", line=exc.lineno) from exc
    process = next((p for p in root.iterfind("bpmn:process", _NS) if p.get("id") == meta.process_id), None)
    if process is None:
        raise DeployError(f"proses {meta.process_id!r} tidak ada dalam XML (process not in the XML)")
    return _Builder(process, meta, called_names or {}).build(
        version, _identity(meta, unit_name, institution))


def document_from_bpmn(bpmn_xml: bytes, *, version: int | None = None,
                       called_names: Mapping[str, str] | None = None, unit_name: str | None = None,
                       institution: str | None = None) -> SopDocument:
    """The document of the first executable process in a BPMN file (no database), e.g. a draft.

    Same arguments as :func:`build_document` without ``meta``, which is read
    from the XML. Raises ``DeployError`` for malformed XML or a file without an
    executable process.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(bpmn_xml, parser)
    except etree.XMLSyntaxError as exc:
        raise DeployError(f"XML tidak valid: {exc.msg}", line=exc.lineno) from exc
    process = next((p for p in root.iterfind("bpmn:process", _NS) if p.get("isExecutable") != "false"), None)
    if process is None:
        raise DeployError("tidak ada proses yang dapat dijalankan dalam XML (no executable process)")
    return build_document(bpmn_xml, read_process_meta(process), version=version, called_names=called_names,
                          unit_name=unit_name, institution=institution)


def _identity(meta: ProcessMeta, unit_name: str | None, institution: str | None) -> Identity:
    header = meta.header
    return Identity(
        nama_sop=meta.name, unit_name=unit_name, institution=institution, nomor=meta.nomor,
        tanggal_pembuatan=meta.tanggal_pembuatan, tanggal_revisi=meta.tanggal_revisi,
        tanggal_efektif=meta.tanggal_efektif, disahkan_oleh=meta.disahkan_oleh,
        dasar_hukum=tuple(header.get("dasarHukum", ())),
        kualifikasi_pelaksana=tuple(header.get("kualifikasiPelaksana", ())),
        keterkaitan=tuple(header.get("keterkaitan", ())), peralatan=tuple(header.get("peralatan", ())),
        peringatan=tuple(header.get("peringatan", ())), pencatatan=tuple(header.get("pencatatan", ())),
    )


@dataclass(frozen=True)
class _Flow:
    id: str
    source: str
    target: str
    name: str


class _Builder:
    """One pass over a ``bpmn:process``: nodes, flows, row order, symbols."""

    def __init__(self, process: etree._Element, meta: ProcessMeta, called_names: Mapping[str, str]) -> None:
        self.meta = meta
        self.called_names = called_names
        self.nodes: dict[str, etree._Element] = {}
        for child in process:
            if not isinstance(child.tag, str):
                continue
            local = etree.QName(child).localname
            if local not in _SKIPPED and child.get("id"):
                self.nodes[child.get("id")] = child
        self.flows = [_Flow(f.get("id"), f.get("sourceRef"), f.get("targetRef"), (f.get("name") or "").strip())
                      for f in process.iterfind("bpmn:sequenceFlow", _NS)
                      if f.get("sourceRef") in self.nodes and f.get("targetRef") in self.nodes]
        self.lane_names: list[str] = []
        self.lane_of: dict[str, int] = {}
        for lane in process.iterfind("bpmn:laneSet/bpmn:lane", _NS):
            self.lane_names.append((lane.get("name") or lane.get("id") or "").strip())
            for ref in lane.iterfind("bpmn:flowNodeRef", _NS):
                self.lane_of[(ref.text or "").strip()] = len(self.lane_names) - 1
        if not self.lane_names:
            self.lane_names = ["Pelaksana"]
        self.folded = self._folded_gateways()

    def kind(self, node_id: str) -> str:
        return etree.QName(self.nodes[node_id]).localname

    def outgoing(self, node_id: str) -> list[_Flow]:
        """Outgoing flows, "Tidak" last so that the walk follows the forward path first."""
        flows = [f for f in self.flows if f.source == node_id]
        return sorted(flows, key=lambda f: f.name.lower() == "tidak")

    def _folded_gateways(self) -> dict[str, str]:
        """``{gateway id: review step id}`` for each review step's own "Setuju?" gateway."""
        folded = {}
        for node_id in self.nodes:
            if self.kind(node_id) != "exclusiveGateway":
                continue
            incoming = [f for f in self.flows if f.target == node_id]
            if len(incoming) != 1:
                continue
            step = incoming[0].source
            if self.kind(step) in _ACTIVITIES and len(self.outgoing(step)) == 1 and self._is_review(step):
                folded[node_id] = step
        return folded

    def _is_review(self, step_id: str) -> bool:
        meta = self.meta.steps.get(step_id)
        return meta is not None and meta.review

    def order(self) -> list[str]:
        """Row-bearing node ids in the SOP's order: depth first from the start events."""
        seen: set[str] = set()
        ordered: list[str] = []
        starts = [n for n in self.nodes if self.kind(n) == "startEvent"]
        stack = list(reversed(starts))
        while stack:
            node_id = stack.pop()
            if node_id in seen:
                continue
            seen.add(node_id)
            if self._bears_row(node_id):
                ordered.append(node_id)
            stack.extend(reversed([f.target for f in self.outgoing(node_id) if f.target not in seen]))
        ordered += [n for n in self.nodes if n not in seen and self._bears_row(n)]
        return ordered

    def _bears_row(self, node_id: str) -> bool:
        return self.kind(node_id) not in ("startEvent", "endEvent") and node_id not in self.folded

    def symbol_of(self, node_id: str) -> str:
        """The symbol id a node is drawn as (a folded gateway is its review step's diamond)."""
        return self.folded.get(node_id, node_id)

    def build(self, version: int | None, identity: Identity) -> SopDocument:
        order = self.order()
        row_of = {node_id: i for i, node_id in enumerate(order)}
        gateway_of = {step: gateway for gateway, step in self.folded.items()}
        rows = tuple(self._row(i, node_id, gateway_of.get(node_id)) for i, node_id in enumerate(order))
        flows = []
        for flow in self.flows:
            if flow.target in self.folded:
                continue  # review step -> its own gateway: inside the diamond
            label = flow.name if flow.name.lower() in ("ya", "tidak") else ""
            flows.append(DocFlow(flow.id, self.symbol_of(flow.source), self.symbol_of(flow.target),
                                 label.capitalize()))
        terminals = tuple(self._terminals(row_of, flows))
        drawn = set(row_of) | {t.symbol_id for t in terminals}
        flows = [f for f in flows if f.source in drawn and f.target in drawn]
        return SopDocument(
            process_id=self.meta.process_id, version=version, identity=identity,
            lanes=tuple(self.lane_names), rows=rows, terminals=terminals, flows=tuple(flows), row_of=row_of,
            unit_kind=self.meta.unit_kind,
        )

    def _row(self, index: int, node_id: str, gateway_id: str | None) -> Row:
        node = self.nodes[node_id]
        step = self.meta.steps.get(node_id)
        documentation = node.find("bpmn:documentation", _NS)
        text = (documentation.text or "").strip() if documentation is not None else ""
        kegiatan = text or (node.get("name") or node_id).strip()
        called = node.get("calledElement") if self.kind(node_id) == "callActivity" else None
        called_name = self.called_names.get(called, called) if called else None
        keterangan = (step.keterangan if step else None) or ""
        if called_name and called_name.casefold() not in keterangan.casefold():
            keterangan = f"{keterangan}\n{called_name}".strip()
        decision = None
        symbol = "activity"
        if gateway_id is not None:
            symbol = "decision"
            outgoing = self.outgoing(gateway_id)
            decision = Decision(
                gateway_id=gateway_id,
                ya=tuple(self.symbol_of(f.target) for f in outgoing if f.name.lower() != "tidak"),
                tidak=tuple(self.symbol_of(f.target) for f in outgoing if f.name.lower() == "tidak"),
            )
        elif self.kind(node_id).endswith("Gateway"):
            symbol = "decision"
        return Row(
            index=index, number=index + 1, symbol_id=node_id, symbol=symbol,
            lane=self.lane_of.get(node_id, 0), kegiatan=kegiatan,
            kelengkapan=(step.kelengkapan if step else None) or "",
            waktu=(step.waktu_text if step else None) or "", output=(step.output if step else None) or "",
            keterangan=keterangan, called_process_id=called, called_name=called_name, decision=decision,
        )

    def _terminals(self, row_of: dict[str, int], flows: list[DocFlow]) -> list[Terminal]:
        """Start events in the row of the step they lead to, end events in the row that leads to them."""
        result = []
        last = max(len(row_of) - 1, 0)
        for node_id in self.nodes:
            kind = self.kind(node_id)
            if kind not in ("startEvent", "endEvent"):
                continue
            if kind == "startEvent":
                rows = [row_of[f.target] for f in flows if f.source == node_id and f.target in row_of]
                row = min(rows, default=0)
            else:
                rows = [row_of[f.source] for f in flows if f.target == node_id and f.source in row_of]
                row = max(rows, default=last)
            label = "Mulai" if kind == "startEvent" else "Selesai"
            result.append(Terminal(node_id, "start" if kind == "startEvent" else "end", label,
                                   self.lane_of.get(node_id, 0), row))
        return result
