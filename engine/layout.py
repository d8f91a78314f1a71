"""Lay out an SOP as a BPMN 2.0 diagram with full BPMNDI (the project's layout generator).

An SOP :class:`Spec` (lanes in Pelaksana column order, steps in execution order) becomes
one collaboration with one participant (the pool), one executable process with one
lane per Pelaksana column, a user task or call activity per Kegiatan, an exclusive
gateway "Setuju?" after each review step, and full BPMNDI (OMG BPMN 2.0, chapter 12)
laid out left to right, one column per flow node (format: ``bpmn/README.md``).
Output is deterministic: the same spec always gives the same bytes.

Specs come from ``scripts/sops/*.toml`` (:func:`load_spec`, used by the CLI
``scripts/bpmn_layout.py``) or are built in code (the SOP importer,
:mod:`engine.sop_import`). Raises :class:`SpecError` for an invalid spec.
"""

from __future__ import annotations

import datetime
import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from itertools import pairwise
from pathlib import Path
from typing import Any

from lxml import etree

from engine.waktu import parse_waktu
from storage.errors import CalendarError

__all__ = ["CONDITIONS", "NS", "Lane", "Spec", "SpecError", "Step", "build_graph", "build_xml",
           "layout", "load_spec", "spec_ids", "validate_spec"]


NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
    "alur": "http://alur.dev/schema/bpmn/sop/1.0",
}
TARGET_NAMESPACE = "http://alur.dev/bpmn"
UNIT_KINDS = ("bagian", "dinas", "kecamatan", "any")
HEADER_LISTS = {"dasar_hukum": "dasarHukum", "kualifikasi_pelaksana": "kualifikasiPelaksana",
                "keterkaitan": "keterkaitan", "peralatan": "peralatan"}
HEADER_TEXTS = {"peringatan": "peringatan", "pencatatan": "pencatatan"}
IDENTITY_ATTRS = {"nomor": "nomor", "tanggal_pembuatan": "tanggalPembuatan",
                  "tanggal_revisi": "tanggalRevisi", "tanggal_efektif": "tanggalEfektif"}
SIGNER_KEYS = ("jabatan", "nama", "nip")
SOP_KEYS = {"id", "name", "source", "unit_kind", *IDENTITY_ATTRS, "disahkan_oleh", *HEADER_LISTS, *HEADER_TEXTS}
LANE_KEYS = {"id", "name", "team"}
STEP_KEYS = {"id", "row", "lane", "name", "text", "kelengkapan", "waktu", "output", "keterangan",
             "review_tidak", "calls", "forms_team"}
NCNAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
MAX_NAME_CHARS = 40
RESERVED_IDS = {"Definitions_1", "Collaboration_1", "Participant_1", "LaneSet_1", "StartEvent_1",
                "EndEvent_1", "BPMNDiagram_1", "BPMNPlane_1"}
CONDITIONS = {"Ya": 'keputusan == "setuju"', "Tidak": 'keputusan == "tidak"'}

# Layout, in BPMNDI pixels.
TASK_W, TASK_H, GATEWAY_SIZE, EVENT_SIZE = 100, 80, 50, 36
POOL_X, POOL_Y = 160, 80
POOL_LABEL_W = 30      # the pool's name strip at the left of the pool
LANE_LABEL_W = 30      # bpmn.io draws each lane's name in its own left 30 px
FIRST_GAP, COLUMN_GAP, RIGHT_MARGIN = 40, 50, 50
BAND_MIN, TRACK_STEP, BAND_PAD = 25, 8, 12  # free band above/below the nodes of a lane
LABEL_H, LABEL_GAP = 14, 5
BACK_ENTRY_OFFSETS = (20, 35, -20, -35, 45, -45)  # where "Tidak" flows enter a task's top, from its centre


class SpecError(ValueError):
    """A spec file is invalid; the message names the file and the step or lane."""


Fail = Callable[[str, str], SpecError]  # (where, message) -> error naming the spec file
Box = tuple[int, int, int, int]          # x, y, width, height in BPMNDI pixels


@dataclass(frozen=True)
class Lane:
    """One Pelaksana column of the source table (a BPMN lane)."""

    id: str
    name: str
    team: bool


@dataclass(frozen=True)
class Step:
    """One Kegiatan row: a user task, or a call activity when `calls` is set."""

    id: str
    row: str
    lane: str
    name: str
    text: str
    kelengkapan: str | None = None
    waktu: str | None = None
    waktu_iso: str | None = None
    output: str | None = None
    keterangan: str | None = None
    review_tidak: str | None = None
    calls: str | None = None
    forms_team: str | None = None


@dataclass(frozen=True)
class Spec:
    """A parsed, validated SOP spec; ``path`` is its TOML file (None for a spec built in code)."""

    path: Path | None
    sop: dict[str, Any]
    lanes: tuple[Lane, ...]
    steps: tuple[Step, ...]

    @property
    def id(self) -> str:
        """The process id (also the .bpmn file stem)."""
        return str(self.sop["id"])


@dataclass
class Node:
    """A flow node with its shape bounds (x, y = top left corner)."""

    id: str
    kind: str            # startEvent | endEvent | userTask | callActivity | exclusiveGateway
    name: str
    lane: str
    w: int
    h: int
    step: Step | None = None
    x: int = 0
    y: int = 0
    incoming: list[str] = field(default_factory=list)
    outgoing: list[str] = field(default_factory=list)

    @property
    def cx(self) -> int:
        """Horizontal centre."""
        return self.x + self.w // 2

    @property
    def cy(self) -> int:
        """Vertical centre."""
        return self.y + self.h // 2


@dataclass
class Flow:
    """A sequence flow with its waypoints and optional label bounds."""

    id: str
    source: Node
    target: Node
    name: str | None = None
    back: bool = False
    waypoints: list[tuple[int, int]] = field(default_factory=list)
    label: Box | None = None


# --------------------------------------------------------------------------- spec


def load_spec(path: Path, known_ids: set[str]) -> Spec:
    """Read and validate one spec file.

    `known_ids` are the process ids a step may call. Raises SpecError naming the file
    and the step or lane at fault (unknown lane/step ids, review_tidak to a later or
    unknown step, calls to an unknown process, unparsable Waktu, missing fields).
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SpecError(f"{path}: tidak dapat dibaca: {exc}") from exc
    return validate_spec(data, known_ids, path=path)


def validate_spec(data: dict[str, Any], known_ids: set[str], *, path: Path | None = None,
                  sources: tuple[str, ...] = ("written", "seeds/")) -> Spec:
    """Validate a spec given as data (the shape of a spec file: ``sop``, ``lanes``, ``steps``).

    ``known_ids`` are the process ids a step may call; ``sources`` the allowed values
    (or prefixes, when ending in ``/`` or ``:``) of ``sop.source``. Raises
    :class:`SpecError` naming ``path`` (or "spec") and the step or lane at fault.
    """
    origin = str(path) if path is not None else "spec"

    def fail(where: str, msg: str) -> SpecError:
        return SpecError(f"{origin}: {where}: {msg}")

    unknown_tables = sorted(set(data) - {"sop", "lanes", "steps"})
    if unknown_tables:
        raise fail("berkas", f"tabel tidak dikenal: {', '.join(unknown_tables)}")
    sop = data.get("sop")
    if not isinstance(sop, dict):
        raise fail("[sop]", "tabel [sop] tidak ada")
    _check_keys(sop, SOP_KEYS, "[sop]", fail)
    for key in ("id", "name", "source", "unit_kind"):
        if not isinstance(sop.get(key), str) or not sop[key].strip():
            raise fail("[sop]", f"'{key}' wajib diisi (string)")
    if not NCNAME.match(sop["id"]):
        raise fail("[sop]", f"id '{sop['id']}' bukan id XML yang sah")
    if sop["unit_kind"] not in UNIT_KINDS:
        raise fail("[sop]", f"unit_kind '{sop['unit_kind']}' bukan salah satu dari {UNIT_KINDS}")
    if not any(sop["source"] == allowed or (allowed.endswith(("/", ":")) and sop["source"].startswith(allowed))
               for allowed in sources):
        shown = " atau ".join(f"'{a}<file>'" if a.endswith(("/", ":")) else f"'{a}'" for a in sources)
        raise fail("[sop]", f"source '{sop['source']}' harus {shown}")
    for key in HEADER_LISTS:
        if key in sop and not (isinstance(sop[key], list) and all(isinstance(v, str) for v in sop[key])):
            raise fail("[sop]", f"'{key}' harus daftar string")
    for key in HEADER_TEXTS:
        if key in sop and not isinstance(sop[key], str):
            raise fail("[sop]", f"'{key}' harus string")
    sop = _with_identity(sop, fail)

    lanes = tuple(_load_lane(raw, i, fail) for i, raw in enumerate(data.get("lanes") or []))
    if not lanes:
        raise fail("[[lanes]]", "tidak ada lane")
    lane_ids = [lane.id for lane in lanes]
    if len(set(lane_ids)) != len(lane_ids):
        raise fail("[[lanes]]", f"id lane ganda: {sorted({i for i in lane_ids if lane_ids.count(i) > 1})}")
    team_lanes = {lane.id for lane in lanes if lane.team}

    raw_steps = data.get("steps") or []
    if not raw_steps:
        raise fail("[[steps]]", "tidak ada langkah")
    step_ids = [str(raw.get("id")) if isinstance(raw, dict) else "" for raw in raw_steps]
    steps: list[Step] = []
    for index, raw in enumerate(raw_steps):
        step = _load_step(raw, index, fail)
        where = f"langkah {step.id}"
        if step_ids.count(step.id) > 1:
            raise fail(where, "id langkah ganda")
        if step.lane not in lane_ids:
            raise fail(where, f"lane '{step.lane}' tidak dikenal (lane: {', '.join(lane_ids)})")
        if step.review_tidak is not None:
            if step.review_tidak not in step_ids:
                raise fail(where, f"review_tidak '{step.review_tidak}' bukan langkah yang dikenal")
            if step_ids.index(step.review_tidak) > index:
                raise fail(where, f"review_tidak '{step.review_tidak}' menunjuk langkah sesudahnya")
            if step.calls is not None:
                raise fail(where, "langkah review tidak boleh sekaligus call activity (calls)")
        if step.calls == sop["id"]:
            raise fail(where, "calls menunjuk proses ini sendiri")
        if step.calls is not None and step.calls not in known_ids:
            raise fail(where, f"calls '{step.calls}' bukan id proses yang dikenal (spec di scripts/sops/)")
        if step.forms_team is not None and step.forms_team not in team_lanes:
            raise fail(where, f"forms_team '{step.forms_team}' bukan lane tim (team = true)")
        if step.waktu is not None:
            step = _with_waktu_iso(step, fail)
        steps.append(step)
    own_ids = [*lane_ids, *step_ids]
    clashes = sorted({i for i in own_ids if own_ids.count(i) > 1 or i in RESERVED_IDS or i == sop["id"]
                      or i.startswith(("Gateway_", "Flow_")) or i.endswith("_di")})
    if clashes:
        raise fail("id", f"id bentrok dengan id lain atau id buatan generator: {', '.join(clashes)}")
    return Spec(path=path, sop=sop, lanes=lanes, steps=tuple(steps))


def _with_identity(sop: dict[str, Any], fail: Fail) -> dict[str, Any]:
    """Check the identity fields; dates (TOML dates or "YYYY-MM-DD") become ISO strings."""
    sop = dict(sop)
    if "nomor" in sop and not isinstance(sop["nomor"], str):
        raise fail("[sop]", "'nomor' harus string")
    for key in ("tanggal_pembuatan", "tanggal_revisi", "tanggal_efektif"):
        if key not in sop:
            continue
        value = sop[key]
        if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
            sop[key] = value.isoformat()
            continue
        try:
            if not (isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)):
                raise ValueError(value)
            datetime.date.fromisoformat(value)
        except ValueError:
            raise fail("[sop]", f"'{key}' harus tanggal YYYY-MM-DD, bukan {value!r}") from None
    signer = sop.get("disahkan_oleh")
    if signer is not None:
        if not isinstance(signer, dict):
            raise fail("[sop]", "'disahkan_oleh' harus tabel (jabatan, nama, nip)")
        _check_keys(signer, set(SIGNER_KEYS), "[sop.disahkan_oleh]", fail)
        if not all(isinstance(v, str) for v in signer.values()):
            raise fail("[sop.disahkan_oleh]", "jabatan, nama, nip harus string")
        if "nip" in signer and not re.fullmatch(r"\d{18}", signer["nip"]):
            raise fail("[sop.disahkan_oleh]", f"nip harus 18 angka, bukan {signer['nip']!r}")
    return sop


def _check_keys(table: dict[str, Any], allowed: set[str], where: str, fail: Fail) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise fail(where, f"kunci tidak dikenal: {', '.join(unknown)}")


def _load_lane(raw: Any, index: int, fail: Fail) -> Lane:
    where = f"lane #{index + 1}"
    if not isinstance(raw, dict):
        raise fail(where, "harus tabel [[lanes]]")
    _check_keys(raw, LANE_KEYS, where, fail)
    lane_id, name, team = raw.get("id"), raw.get("name"), raw.get("team", False)
    if not isinstance(lane_id, str) or not NCNAME.match(lane_id):
        raise fail(where, f"id '{lane_id}' bukan id XML yang sah")
    if not isinstance(name, str) or not name.strip():
        raise fail(f"lane {lane_id}", "'name' wajib diisi")
    if not isinstance(team, bool):
        raise fail(f"lane {lane_id}", "'team' harus true/false")
    return Lane(id=lane_id, name=name, team=team)


def _load_step(raw: Any, index: int, fail: Fail) -> Step:
    where = f"langkah #{index + 1}"
    if not isinstance(raw, dict):
        raise fail(where, "harus tabel [[steps]]")
    step_id = raw.get("id")
    if not isinstance(step_id, str) or not NCNAME.match(step_id):
        raise fail(where, f"id '{step_id}' bukan id XML yang sah")
    where = f"langkah {step_id}"
    _check_keys(raw, STEP_KEYS, where, fail)
    for key in ("row", "lane", "name", "text"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise fail(where, f"'{key}' wajib diisi (string)")
    for key in STEP_KEYS - {"id", "row", "lane", "name", "text"}:
        if key in raw and (not isinstance(raw[key], str) or not raw[key].strip()):
            raise fail(where, f"'{key}' harus string tidak kosong (hapus kuncinya bila sel kosong)")
    if len(raw["name"]) > MAX_NAME_CHARS:
        raise fail(where, f"name lebih dari {MAX_NAME_CHARS} karakter: '{raw['name']}'")
    return Step(id=step_id, row=raw["row"], lane=raw["lane"], name=raw["name"], text=raw["text"],
                **{key: raw.get(key) for key in STEP_KEYS - {"id", "row", "lane", "name", "text"}})


def _with_waktu_iso(step: Step, fail: Fail) -> Step:
    """Fill waktu_iso from the Waktu text via engine.waktu.parse_waktu."""
    try:
        waktu = parse_waktu(step.waktu or "")
    except CalendarError as exc:
        raise fail(f"langkah {step.id}", f"waktu '{step.waktu}' tidak dapat dibaca: {exc}") from exc
    return replace(step, waktu=waktu.text, waktu_iso=waktu.iso)


def spec_ids(paths: Iterable[Path]) -> set[str]:
    """Process ids declared by the given spec files (unreadable files are skipped)."""
    ids: set[str] = set()
    for path in paths:
        try:
            sop_id = tomllib.loads(path.read_text(encoding="utf-8")).get("sop", {}).get("id")
        except (OSError, tomllib.TOMLDecodeError, AttributeError):
            continue
        if isinstance(sop_id, str):
            ids.add(sop_id)
    return ids


# ------------------------------------------------------------------------- layout


def build_graph(spec: Spec) -> tuple[list[Node], list[Flow]]:
    """Turn a spec into flow nodes (execution order) and sequence flows, no geometry yet."""
    first, last = spec.steps[0], spec.steps[-1]
    nodes = [Node("StartEvent_1", "startEvent", "Mulai", first.lane, EVENT_SIZE, EVENT_SIZE)]
    by_id: dict[str, Node] = {}
    for step in spec.steps:
        kind = "callActivity" if step.calls else "userTask"
        node = Node(step.id, kind, step.name, step.lane, TASK_W, TASK_H, step=step)
        nodes.append(node)
        by_id[step.id] = node
        if step.review_tidak is not None:
            nodes.append(Node(f"Gateway_{step.id}", "exclusiveGateway", "Setuju?", step.lane,
                              GATEWAY_SIZE, GATEWAY_SIZE, step=step))
    end = Node("EndEvent_1", "endEvent", "Selesai", last.lane, EVENT_SIZE, EVENT_SIZE)
    nodes.append(end)

    flows: list[Flow] = []
    for source, target in pairwise(nodes):
        if source.kind == "exclusiveGateway":
            assert source.step is not None
            flows.append(Flow(f"Flow_{source.step.id}_Ya", source, target, name="Ya"))
            back_target = by_id[source.step.review_tidak or ""]
            flows.append(Flow(f"Flow_{source.step.id}_Tidak", source, back_target, name="Tidak", back=True))
        else:
            flows.append(Flow(f"Flow_{source.id}_{target.id}", source, target))
    for flow in flows:
        flow.source.outgoing.append(flow.id)
        flow.target.incoming.append(flow.id)
    return nodes, flows


def layout(spec: Spec, nodes: list[Node], flows: list[Flow]) -> dict[str, Box]:
    """Place nodes and route flows in place; return lane and pool bounds (x, y, w, h).

    Columns: one per node, left to right. Rows: lanes top to bottom in spec order,
    each node vertically centred in its lane. "Tidak" back-flows leave the gateway
    at the top, run left in a corridor track in the free band at the top of the upper
    of the two lanes involved (one track per overlapping back-flow), and enter the
    target task from above, right of its centre.
    """
    x = POOL_X + POOL_LABEL_W + LANE_LABEL_W + FIRST_GAP
    for node in nodes:
        node.x = x
        x += node.w + COLUMN_GAP
    lane_index = {lane.id: i for i, lane in enumerate(spec.lanes)}

    # Corridor tracks for back-flows: (lane, track) per flow; outer loops get the top track.
    entries: dict[str, int] = {}
    corridors: dict[str, tuple[str, int]] = {}
    tracks: dict[str, list[list[tuple[int, int]]]] = {lane.id: [] for lane in spec.lanes}
    back = [f for f in flows if f.back]
    for index, flow in enumerate(back):
        earlier = sum(1 for other in back[:index] if other.target is flow.target)
        entries[flow.id] = flow.target.cx + BACK_ENTRY_OFFSETS[earlier % len(BACK_ENTRY_OFFSETS)]
    for flow in sorted(back, key=lambda f: (entries[f.id] - f.source.cx, f.source.x)):
        upper = min(flow.source.lane, flow.target.lane, key=lane_index.__getitem__)
        span = (entries[flow.id] - 10, flow.source.cx + 10)
        lane_tracks = tracks[upper]
        index = next((i for i, used in enumerate(lane_tracks)
                      if all(span[1] < a or b < span[0] for a, b in used)), len(lane_tracks))
        if index == len(lane_tracks):
            lane_tracks.append([span])
        else:
            lane_tracks[index].append(span)
        corridors[flow.id] = (upper, index)

    bounds: dict[str, Box] = {}
    pool_right = max(nodes[-1].x + nodes[-1].w, nodes[-1].cx + _label_w(nodes[-1].name) // 2) + RIGHT_MARGIN
    lane_x, lane_w = POOL_X + POOL_LABEL_W, pool_right - POOL_X - POOL_LABEL_W
    y = POOL_Y
    lane_top: dict[str, int] = {}
    for lane in spec.lanes:
        band = max(BAND_MIN, TRACK_STEP * len(tracks[lane.id]) + BAND_PAD)
        height = TASK_H + 2 * band
        bounds[lane.id] = (lane_x, y, lane_w, height)
        lane_top[lane.id] = y
        centre = y + height // 2
        for node in nodes:
            if node.lane == lane.id:
                node.y = centre - node.h // 2
        y += height
    bounds["Participant_1"] = (POOL_X, POOL_Y, pool_right - POOL_X, y - POOL_Y)

    for flow in flows:
        src, tgt = flow.source, flow.target
        if flow.back:
            corridor_lane, track = corridors[flow.id]
            ty = lane_top[corridor_lane] + TRACK_STEP * (track + 1)
            ex = entries[flow.id]
            flow.waypoints = [(src.cx, src.y), (src.cx, ty), (ex, ty), (ex, tgt.y)]
            flow.label = (src.cx + 6, src.y - LABEL_H - 6, _label_w("Tidak"), LABEL_H)
            continue
        start = (src.x + src.w, src.cy)
        if src.lane == tgt.lane:
            flow.waypoints = [start, (tgt.x, tgt.cy)]
        else:
            enter_y = tgt.y if tgt.cy > src.cy else tgt.y + tgt.h
            flow.waypoints = [start, (tgt.cx, src.cy), (tgt.cx, enter_y)]
        if flow.name:
            flow.label = (src.x + src.w + 6, src.cy - LABEL_H - 6, _label_w(flow.name), LABEL_H)
    return bounds


def _label_w(text: str) -> int:
    """Approximate width of an external label in bpmn.io's 11 px font."""
    return max(14, round(len(text) * 6.5))


def node_label(node: Node) -> Box | None:
    """Bounds of the external label below an event or gateway (tasks label inside)."""
    if node.kind in ("userTask", "callActivity"):
        return None
    width = _label_w(node.name)
    return (node.cx - width // 2, node.y + node.h + LABEL_GAP, width, LABEL_H)


# ---------------------------------------------------------------------------- XML


def _q(prefix: str, tag: str) -> str:
    return f"{{{NS[prefix]}}}{tag}"


def _sub(parent: etree._Element, prefix: str, tag: str, text: str | None = None,
         **attrs: str | None) -> etree._Element:
    element = etree.SubElement(parent, _q(prefix, tag))
    for key, value in attrs.items():
        if value is not None:
            element.set(key, value)
    if text is not None:
        element.text = text
    return element


def build_xml(spec: Spec, *, exporter: str = "Alur bpmn_layout") -> bytes:
    """Build the full BPMN document (semantics + BPMNDI) for a spec, as UTF-8 bytes.

    ``exporter`` goes into ``bpmn:definitions/@exporter`` (the generator's files keep
    "Alur bpmn_layout"; the importer writes its own name).
    """
    nodes, flows = build_graph(spec)
    bounds = layout(spec, nodes, flows)
    root = etree.Element(_q("bpmn", "definitions"), nsmap=NS)
    root.set("id", "Definitions_1")
    root.set("targetNamespace", TARGET_NAMESPACE)
    root.set("exporter", exporter)
    root.set("exporterVersion", "1")

    collaboration = _sub(root, "bpmn", "collaboration", id="Collaboration_1")
    _sub(collaboration, "bpmn", "participant", id="Participant_1", name=spec.sop["name"], processRef=spec.id)

    process = _sub(root, "bpmn", "process", id=spec.id, name=spec.sop["name"], isExecutable="true")
    _sop_header(_sub(process, "bpmn", "extensionElements"), spec.sop)
    lane_set = _sub(process, "bpmn", "laneSet", id="LaneSet_1")
    for lane in spec.lanes:
        lane_el = _sub(lane_set, "bpmn", "lane", id=lane.id, name=lane.name)
        if lane.team:
            _sub(_sub(lane_el, "bpmn", "extensionElements"), "alur", "lane", team="true")
        for node in nodes:
            if node.lane == lane.id:
                _sub(lane_el, "bpmn", "flowNodeRef", node.id)
    for node in nodes:
        _flow_node(process, node)
    for flow in flows:
        flow_el = _sub(process, "bpmn", "sequenceFlow", id=flow.id, name=flow.name,
                       sourceRef=flow.source.id, targetRef=flow.target.id)
        if flow.name:
            condition = _sub(flow_el, "bpmn", "conditionExpression", CONDITIONS[flow.name])
            condition.set(_q("xsi", "type"), "bpmn:tFormalExpression")

    diagram = _sub(root, "bpmndi", "BPMNDiagram", id="BPMNDiagram_1")
    plane = _sub(diagram, "bpmndi", "BPMNPlane", id="BPMNPlane_1", bpmnElement="Collaboration_1")
    for element_id in ["Participant_1", *(lane.id for lane in spec.lanes)]:
        shape = _sub(plane, "bpmndi", "BPMNShape", id=f"{element_id}_di", bpmnElement=element_id,
                     isHorizontal="true")
        _bounds(shape, bounds[element_id])
    for node in nodes:
        shape = _sub(plane, "bpmndi", "BPMNShape", id=f"{node.id}_di", bpmnElement=node.id,
                     isMarkerVisible="true" if node.kind == "exclusiveGateway" else None)
        _bounds(shape, (node.x, node.y, node.w, node.h))
        label = node_label(node)
        if label:
            _bounds(_sub(shape, "bpmndi", "BPMNLabel"), label)
    for flow in flows:
        edge = _sub(plane, "bpmndi", "BPMNEdge", id=f"{flow.id}_di", bpmnElement=flow.id)
        for px, py in flow.waypoints:
            _sub(edge, "di", "waypoint", x=str(px), y=str(py))
        if flow.label:
            _bounds(_sub(edge, "bpmndi", "BPMNLabel"), flow.label)
    body = etree.tostring(root, pretty_print=True, encoding="UTF-8")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body


def _bounds(parent: etree._Element, box: Box) -> None:
    x, y, w, h = box
    _sub(parent, "dc", "Bounds", x=str(x), y=str(y), width=str(w), height=str(h))


def _sop_header(extension: etree._Element, sop: dict[str, Any]) -> None:
    header = _sub(extension, "alur", "sop", source=sop["source"], unitKind=sop["unit_kind"],
                  **{attr: sop.get(key) for key, attr in IDENTITY_ATTRS.items()})
    if "disahkan_oleh" in sop:
        _sub(header, "alur", "disahkanOleh", **{key: sop["disahkan_oleh"].get(key) for key in SIGNER_KEYS})
    for key, tag in HEADER_LISTS.items():
        for value in sop.get(key, []):
            _sub(header, "alur", tag, value)
    for key, tag in HEADER_TEXTS.items():
        if key in sop:
            _sub(header, "alur", tag, sop[key])


def _flow_node(process: etree._Element, node: Node) -> None:
    """Append one flow node; children in BPMN 2.0 XSD order (documentation,
    extensionElements, incoming, outgoing)."""
    step = node.step
    calls = step.calls if step is not None and node.kind == "callActivity" else None
    element = _sub(process, "bpmn", node.kind, id=node.id, name=node.name, calledElement=calls)
    if step is not None and node.kind in ("userTask", "callActivity"):
        _sub(element, "bpmn", "documentation", step.text)
        extension = _sub(element, "bpmn", "extensionElements")
        _sub(extension, "alur", "step", row=step.row)
        _sub(extension, "alur", "mutuBaku", kelengkapan=step.kelengkapan, waktu=step.waktu_iso,
             waktuText=step.waktu, output=step.output)
        if step.keterangan is not None:
            _sub(extension, "alur", "keterangan", step.keterangan)
        if step.review_tidak is not None:
            _sub(extension, "alur", "review")
        if step.forms_team is not None:
            _sub(extension, "alur", "formsTeam", lane=step.forms_team)
    for flow_id in node.incoming:
        _sub(element, "bpmn", "incoming", flow_id)
    for flow_id in node.outgoing:
        _sub(element, "bpmn", "outgoing", flow_id)
