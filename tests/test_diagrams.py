"""The BPMN diagrams in bpmn/: schema, bpmn.io compatibility, layout, contract, generator.

The committed .bpmn files are the source of truth; scripts/bpmn_layout.py generated
them from scripts/sops/*.toml. See bpmn/README.md for the format.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from itertools import pairwise
from pathlib import Path
from types import ModuleType

import pytest
from lxml import etree

from engine.waktu import parse_waktu

REPO = Path(__file__).resolve().parent.parent
BPMN_DIR = REPO / "bpmn"
SPEC_DIR = REPO / "scripts" / "sops"
GENERATOR = REPO / "scripts" / "bpmn_layout.py"
DIAGRAMS = sorted(BPMN_DIR.glob("*.bpmn"))

# Diagrams an analyst has deliberately edited in bpmn.io beyond what the generator can
# produce: exempt from "committed file == generator output" (every other test still applies).
HAND_EDITED: set[str] = set()

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
    "alur": "http://alur.dev/schema/bpmn/sop/1.0",
}

# Process id -> seed file prefix ("written" for the referenced SOPs we wrote) and the
# Pelaksana columns of its source table, as the seed text spells them (design contract).
SEED_000, SEED_001, SEED_002, SEED_003, SEED_004 = "000", "001", "002", "003", "004"
KECAMATAN_A = ["Camat", "Sekretaris", "Tim", "Kasubag Evapor", "Staf", "Kasubag Umum"]
KECAMATAN_B = ["Tim", "Kasubag Evapor", "Staf", "Sekretaris", "Camat", "Kasubag Umum"]
SOURCES: dict[str, tuple[str, list[str] | None]] = {
    "sop_pengumpulan_data_kinerja_bagian": (SEED_000, ["Kabag", "Kasubag", "Tim Penyusunan SAKIP", "Staf"]),
    "sop_evaluasi_bagian": (SEED_000, ["kabag", "kasubag", "Kasubag AD", "Kasubag LN", "Staff"]),
    "sop_pelaporan_kinerja_tahunan_bagian": (SEED_000, ["Kabag", "kasubag", "Staff"]),
    "sop_pelaporan_kinerja_periodik_dinas": (
        SEED_001, ["Kadin", "Sekretaris", "Kabid", "Kasi/Ka.sub ag", "Staf", "Tim SAKIP"]),
    "sop_penyusunan_lakip_dinas": (SEED_002, ["KEPALA DINAS", "SEKRETARIS", "KEPALA BIDANG TERKAIT",
                                              "KEPALA SUB BAGIAN PERENCANAAN", "TIM PENYUSUN LAKIP"]),
    "sop_pengukuran_kinerja_pegawai_dinas": (SEED_003, ["Kepala SKPD", "Sekretaris", "Kepala Bidang",
                                                        "Fungsional", "Kasubag Perencanaan & Pelaporan"]),
    "sop_perencanaan_kinerja_kecamatan": (SEED_004, KECAMATAN_A),
    "sop_pemantauan_kinerja_kecamatan": (SEED_004, KECAMATAN_A),
    "sop_pengukuran_kinerja_kecamatan": (
        SEED_004, ["Camat", "Sekretaris", "Tim", "Kasubag Renvapor", "Staf", "Kasubag Umum"]),
    "sop_pengumpulan_data_iku_kecamatan": (SEED_004, KECAMATAN_B),
    "sop_pelaporan_kinerja_kecamatan": (SEED_004, KECAMATAN_B),
    "sop_dokumen_evaluasi_kinerja_kecamatan": (SEED_004, ["Camat", "Sekretaris", "Tim", "Kasubag Evapor",
                                                          "Staf", "Kasubag Umum"]),
    "sop_pengiriman_surat_dokumen": ("written", None),
    "sop_rapat_koordinasi_internal_dinas": ("written", None),
    "sop_surat_masuk": ("written", None),
    "sop_fgd": ("written", None),
    "sop_pengumpulan_pengolahan_data": ("written", None),
    "sop_pengadministrasian_umum": ("written", None),
}
UNIT_KIND_BY_SEED = {SEED_000: "bagian", SEED_001: "dinas", SEED_002: "dinas", SEED_003: "dinas",
                     SEED_004: "kecamatan", "written": "any"}
FLOW_NODE_TAGS = {
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
    "task", "userTask", "manualTask", "serviceTask", "scriptTask", "sendTask", "receiveTask",
    "businessRuleTask", "callActivity", "subProcess", "exclusiveGateway", "parallelGateway",
    "inclusiveGateway", "eventBasedGateway", "complexGateway",
}
CONDITIONS = {"Ya": 'keputusan == "setuju"', "Tidak": 'keputusan == "tidak"'}
REGENERATE_HINT = (
    "The committed bpmn/*.bpmn files are the source of truth, and this test checks that\n"
    "scripts/bpmn_layout.py still reproduces them from scripts/sops/*.toml.\n"
    "- You changed a spec (TOML): regenerate with\n"
    "      python scripts/bpmn_layout.py --write --force scripts/sops/<id>.toml\n"
    "  and review the diff before committing.\n"
    "- You edited a diagram in bpmn.io on purpose: carry the change into its spec so the\n"
    "  generator produces the same file, or, if the diagram has deliberately moved beyond\n"
    "  what the generator can produce, add its process id to HAND_EDITED in\n"
    "  tests/test_diagrams.py (the file then stays as edited; all other checks still apply)."
)

Box = tuple[float, float, float, float]  # x, y, width, height


def _ids(paths: list[Path]) -> list[str]:
    return [path.stem for path in paths]


def _q(prefix: str, tag: str) -> str:
    return f"{{{NS[prefix]}}}{tag}"


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def _parse(path: Path) -> etree._ElementTree:
    return etree.parse(str(path))


def _process(tree: etree._ElementTree) -> etree._Element:
    processes = tree.findall("bpmn:process", NS)
    assert len(processes) == 1, "exactly one bpmn:process"
    return processes[0]


def _flow_nodes(process: etree._Element) -> list[etree._Element]:
    return [child for child in process if isinstance(child.tag, str) and _local(child) in FLOW_NODE_TAGS]


def _bounds(element: etree._Element) -> Box:
    box = element.find("dc:Bounds", NS)
    assert box is not None, f"{element.get('id')}: no dc:Bounds"
    return tuple(float(box.get(key)) for key in ("x", "y", "width", "height"))  # type: ignore[return-value]


def _shapes(tree: etree._ElementTree) -> dict[str, etree._Element]:
    shapes: dict[str, etree._Element] = {}
    for shape in tree.iterfind(".//bpmndi:BPMNShape", NS):
        element_id = shape.get("bpmnElement")
        assert element_id not in shapes, f"two BPMNShapes for {element_id}"
        shapes[element_id] = shape
    return shapes


def _edges(tree: etree._ElementTree) -> dict[str, etree._Element]:
    return {edge.get("bpmnElement"): edge for edge in tree.iterfind(".//bpmndi:BPMNEdge", NS)}


def _waypoints(edge: etree._Element) -> list[tuple[float, float]]:
    return [(float(p.get("x")), float(p.get("y"))) for p in edge.iterfind("di:waypoint", NS)]


def _overlap(a: Box, b: Box) -> bool:
    """True if the two boxes share a region of positive area."""
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def _inside(inner: Box, outer: Box) -> bool:
    return (outer[0] <= inner[0] and inner[0] + inner[2] <= outer[0] + outer[2]
            and outer[1] <= inner[1] and inner[1] + inner[3] <= outer[1] + outer[3])


def _contains(box: Box, point: tuple[float, float]) -> bool:
    return box[0] <= point[0] <= box[0] + box[2] and box[1] <= point[1] <= box[1] + box[3]


def _segment_enters(box: Box, a: tuple[float, float], b: tuple[float, float]) -> bool:
    """True if the axis-parallel segment a-b passes through the open interior of box."""
    (x0, x1), (y0, y1) = sorted((a[0], b[0])), sorted((a[1], b[1]))
    left, top, right, bottom = box[0], box[1], box[0] + box[2], box[1] + box[3]
    if y0 == y1:  # horizontal
        return top < y0 < bottom and x0 < right and left < x1
    return left < x0 < right and y0 < bottom and top < y1


def _norm(name: str) -> str:
    return re.sub(r"\s+", "", name.casefold())


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bpmn_layout", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bpmn_layout"] = module
    spec.loader.exec_module(module)
    return module


def _run_generator(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(GENERATOR), *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def bpmn_schema() -> etree.XMLSchema:
    """The BPMN 2.0 XSD shipped with SpiffWorkflow (located, not imported)."""
    spec = importlib.util.find_spec("SpiffWorkflow")
    assert spec is not None and spec.origin is not None, "SpiffWorkflow is not installed"
    xsd = Path(spec.origin).parent / "bpmn" / "parser" / "schema" / "BPMN20.xsd"
    return etree.XMLSchema(etree.parse(str(xsd)))


# ------------------------------------------------------------------- the set of files


def test_exactly_the_18_contract_diagrams() -> None:
    assert sorted(_ids(DIAGRAMS)) == sorted(SOURCES), "bpmn/ must hold one <process id>.bpmn per contract SOP"


def test_every_spec_has_its_diagram() -> None:
    assert sorted(p.stem for p in SPEC_DIR.glob("*.toml")) == sorted(_ids(DIAGRAMS))


# -------------------------------------------------------------------------- validity


@pytest.mark.parametrize("path", DIAGRAMS, ids=_ids(DIAGRAMS))
def test_validates_against_bpmn20_xsd(path: Path, bpmn_schema: etree.XMLSchema) -> None:
    document = _parse(path)
    if not bpmn_schema.validate(document):
        errors = "\n".join(str(error) for error in bpmn_schema.error_log)
        pytest.fail(f"{path.name} is not valid BPMN 2.0 (OMG XSD):\n{errors}")


def test_bpmn_moddle_reads_and_round_trips_every_diagram() -> None:
    """bpmn.io (bpmn-moddle) imports every file without warnings, with and without alur-moddle.json."""
    node = shutil.which("node")
    if node is None or not (REPO / "node_modules" / "bpmn-moddle").is_dir():
        reason = "node or node_modules/bpmn-moddle missing: run `npm ci` at the repository root"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true: this check must run in CI)")
        pytest.skip(reason)
    result = subprocess.run([node, "tests/js/check_moddle.mjs"], cwd=REPO, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(DIAGRAMS)}/{len(DIAGRAMS)} file OK" in result.stdout


# ---------------------------------------------------------------------------- contract


@pytest.mark.parametrize("path", DIAGRAMS, ids=_ids(DIAGRAMS))
def test_structure_follows_the_contract(path: Path) -> None:
    tree = _parse(path)
    process = _process(tree)
    root = tree.getroot()
    assert process.get("id") == path.stem and process.get("isExecutable") == "true"
    assert process.get("name")
    collaborations = root.findall("bpmn:collaboration", NS)
    assert [c.get("id") for c in collaborations] == ["Collaboration_1"]
    participants = collaborations[0].findall("bpmn:participant", NS)
    assert [(p.get("id"), p.get("processRef")) for p in participants] == [("Participant_1", path.stem)]
    lane_sets = process.findall("bpmn:laneSet", NS)
    assert [ls.get("id") for ls in lane_sets] == ["LaneSet_1"]
    assert not process.findall("bpmn:scriptTask", NS), "no script tasks in Alur diagrams"

    nodes = _flow_nodes(process)
    starts = [n for n in nodes if _local(n) == "startEvent"]
    ends = [n for n in nodes if _local(n) == "endEvent"]
    assert [(n.get("id"), n.get("name")) for n in starts] == [("StartEvent_1", "Mulai")]
    assert [(n.get("id"), n.get("name")) for n in ends] == [("EndEvent_1", "Selesai")]

    # Every flow node lies in exactly one lane.
    refs = [ref.text for ref in lane_sets[0].iterfind("bpmn:lane/bpmn:flowNodeRef", NS)]
    assert sorted(refs) == sorted(n.get("id") for n in nodes)

    # incoming/outgoing children agree with the sequence flows' sourceRef/targetRef.
    flows = process.findall("bpmn:sequenceFlow", NS)
    node_ids = {n.get("id") for n in nodes}
    for flow in flows:
        assert flow.get("sourceRef") in node_ids and flow.get("targetRef") in node_ids, flow.get("id")
    for node in nodes:
        incoming = sorted(f.get("id") for f in flows if f.get("targetRef") == node.get("id"))
        outgoing = sorted(f.get("id") for f in flows if f.get("sourceRef") == node.get("id"))
        assert sorted(e.text for e in node.findall("bpmn:incoming", NS)) == incoming, node.get("id")
        assert sorted(e.text for e in node.findall("bpmn:outgoing", NS)) == outgoing, node.get("id")


@pytest.mark.parametrize("path", DIAGRAMS, ids=_ids(DIAGRAMS))
def test_sop_header_and_lanes_match_the_source(path: Path) -> None:
    """alur:sop names the right seed and unit kind; one lane per Pelaksana column, in order."""
    process = _process(_parse(path))
    seed, columns = SOURCES[path.stem]
    headers = process.findall("bpmn:extensionElements/alur:sop", NS)
    assert len(headers) == 1
    source = headers[0].get("source")
    if seed == "written":
        assert source == "written"
    else:
        assert re.fullmatch(rf"seeds/{seed}_[0-9a-f]{{16}}\.txt", source or ""), source
    assert headers[0].get("unitKind") == UNIT_KIND_BY_SEED[seed]

    lanes = process.findall("bpmn:laneSet/bpmn:lane", NS)
    assert lanes, "at least one lane"
    if columns is not None:
        assert [_norm(lane.get("name")) for lane in lanes] == [_norm(c) for c in columns]
    team_lanes = {lane.get("id") for lane in lanes
                  if lane.find("bpmn:extensionElements/alur:lane[@team='true']", NS) is not None}
    for forms in process.iterfind(".//alur:formsTeam", NS):
        assert forms.get("lane") in team_lanes, f"formsTeam names {forms.get('lane')}, not a team lane"


@pytest.mark.parametrize("path", DIAGRAMS, ids=_ids(DIAGRAMS))
def test_steps_carry_their_sop_data(path: Path) -> None:
    process = _process(_parse(path))
    steps = [n for n in _flow_nodes(process) if _local(n) in ("userTask", "callActivity")]
    assert steps
    for step in steps:
        where = f"{path.stem}/{step.get('id')}"
        assert re.fullmatch(r"Step_\w+", step.get("id")), where
        assert 0 < len(step.get("name") or "") <= 40, where
        assert (step.findtext("bpmn:documentation", namespaces=NS) or "").strip(), where
        extension = step.find("bpmn:extensionElements", NS)
        assert extension is not None, where
        assert [(e.get("row") or "").strip() != "" for e in extension.findall("alur:step", NS)] == [True], where
        mutu = extension.findall("alur:mutuBaku", NS)
        assert len(mutu) == 1, where
        waktu, text = mutu[0].get("waktu"), mutu[0].get("waktuText")
        assert (waktu is None) == (text is None), f"{where}: waktu and waktuText go together"
        if waktu is not None:
            assert parse_waktu(text).iso == waktu, where
        if _local(step) == "callActivity":
            called = step.get("calledElement")
            assert called in SOURCES and called != path.stem, f"{where}: calledElement {called}"
            assert extension.find("alur:review", NS) is None, where


@pytest.mark.parametrize("path", DIAGRAMS, ids=_ids(DIAGRAMS))
def test_every_review_is_followed_by_a_ya_tidak_gateway(path: Path) -> None:
    process = _process(_parse(path))
    by_id = {n.get("id"): n for n in _flow_nodes(process)}
    flows = process.findall("bpmn:sequenceFlow", NS)
    reviews = [n for n in by_id.values() if n.find("bpmn:extensionElements/alur:review", NS) is not None]
    gateways = [n for n in by_id.values() if _local(n) == "exclusiveGateway"]
    assert len(gateways) == len(reviews), "one exclusive gateway per review step, no others"
    for review in reviews:
        where = f"{path.stem}/{review.get('id')}"
        assert _local(review) == "userTask", where
        out = [f for f in flows if f.get("sourceRef") == review.get("id")]
        assert len(out) == 1, f"{where}: a review task has one outgoing flow"
        gateway = by_id[out[0].get("targetRef")]
        assert _local(gateway) == "exclusiveGateway", where
        assert (gateway.get("id"), gateway.get("name")) == (f"Gateway_{review.get('id')}", "Setuju?")
        branches = {f.get("name"): f for f in flows if f.get("sourceRef") == gateway.get("id")}
        assert sorted(branches) == ["Tidak", "Ya"], f"{where}: exactly Ya and Tidak"
        for name, flow in branches.items():
            assert flow.get("id") == f"Flow_{review.get('id')}_{name}", where
            condition = flow.findall("bpmn:conditionExpression", NS)
            assert len(condition) == 1, where
            assert condition[0].get(_q("xsi", "type")) == "bpmn:tFormalExpression", where
            assert condition[0].text == CONDITIONS[name], where
        assert _local(by_id[branches["Tidak"].get("targetRef")]) in ("userTask", "callActivity"), where


# ------------------------------------------------------------------------------ layout


@pytest.mark.parametrize("path", DIAGRAMS, ids=_ids(DIAGRAMS))
def test_di_is_complete_and_shapes_do_not_overlap(path: Path) -> None:
    tree = _parse(path)
    process = _process(tree)
    shapes, edges = _shapes(tree), _edges(tree)
    planes = tree.findall(".//bpmndi:BPMNPlane", NS)
    assert [p.get("bpmnElement") for p in planes] == ["Collaboration_1"]

    pool = _bounds(shapes["Participant_1"])
    assert shapes["Participant_1"].get("isHorizontal") == "true"
    lanes = process.findall("bpmn:laneSet/bpmn:lane", NS)
    lane_boxes = {}
    for lane in lanes:
        assert lane.get("id") in shapes, f"lane {lane.get('id')} has no BPMNShape"
        assert shapes[lane.get("id")].get("isHorizontal") == "true"
        lane_boxes[lane.get("id")] = _bounds(shapes[lane.get("id")])
    # Lanes stacked top to bottom in laneSet order, no gaps or overlaps, filling the pool
    # right of its 30 px label strip.
    y = pool[1]
    for lane in lanes:
        x, top, width, height = lane_boxes[lane.get("id")]
        assert (x, top, x + width) == (pool[0] + 30, y, pool[0] + pool[2]), lane.get("id")
        assert 100 <= height, lane.get("id")
        y = top + height
    assert y == pool[1] + pool[3], "lanes fill the pool height"

    node_boxes: dict[str, Box] = {}
    for lane in lanes:
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            assert ref.text in shapes, f"flow node {ref.text} has no BPMNShape"
            box = _bounds(shapes[ref.text])
            assert _inside(box, lane_boxes[lane.get("id")]), f"{ref.text} is not inside lane {lane.get('id')}"
            node_boxes[ref.text] = box
    assert set(node_boxes) == {n.get("id") for n in _flow_nodes(process)}
    ids = sorted(node_boxes)
    for i, first in enumerate(ids):
        for second in ids[i + 1:]:
            assert not _overlap(node_boxes[first], node_boxes[second]), f"{first} overlaps {second}"

    # External labels (events, gateways, flows) stay in the pool and off every node shape.
    labelled = [*shapes.values(), *edges.values()]
    for element in labelled:
        label = element.find("bpmndi:BPMNLabel", NS)
        if label is None:
            continue
        box = _bounds(label)
        assert _inside(box, pool), f"label of {element.get('bpmnElement')} leaves the pool"
        for node_id, node_box in node_boxes.items():
            assert not _overlap(box, node_box), f"label of {element.get('bpmnElement')} overlaps {node_id}"


@pytest.mark.parametrize("path", DIAGRAMS, ids=_ids(DIAGRAMS))
def test_sequence_flows_are_orthogonal_and_avoid_shapes(path: Path) -> None:
    tree = _parse(path)
    process = _process(tree)
    shapes, edges = _shapes(tree), _edges(tree)
    node_boxes = {n.get("id"): _bounds(shapes[n.get("id")]) for n in _flow_nodes(process)}
    segments: list[tuple[str, tuple[float, float], tuple[float, float]]] = []
    for flow in process.findall("bpmn:sequenceFlow", NS):
        flow_id = flow.get("id")
        assert flow_id in edges, f"sequence flow {flow_id} has no BPMNEdge"
        points = _waypoints(edges[flow_id])
        assert len(points) >= 2, f"{flow_id}: fewer than 2 waypoints"
        source, target = flow.get("sourceRef"), flow.get("targetRef")
        assert _contains(node_boxes[source], points[0]), f"{flow_id} does not start at {source}"
        assert _contains(node_boxes[target], points[-1]), f"{flow_id} does not end at {target}"
        for index, (a, b) in enumerate(pairwise(points)):
            assert a[0] == b[0] or a[1] == b[1], f"{flow_id}: segment {a}-{b} is not horizontal/vertical"
            for node_id, box in node_boxes.items():
                if (index == 0 and node_id == source) or (index == len(points) - 2 and node_id == target):
                    continue
                assert not _segment_enters(box, a, b), f"{flow_id} passes through {node_id}"
            segments.append((flow_id, a, b))
    # No two flows share a stretch of line (each back-flow has its own corridor).
    for i, (id_a, a1, a2) in enumerate(segments):
        for id_b, b1, b2 in segments[i + 1:]:
            if id_a == id_b:
                continue
            for axis in (0, 1):
                other = 1 - axis
                if a1[axis] == a2[axis] == b1[axis] == b2[axis]:
                    lo = max(min(a1[other], a2[other]), min(b1[other], b2[other]))
                    hi = min(max(a1[other], a2[other]), max(b1[other], b2[other]))
                    assert hi <= lo, f"{id_a} and {id_b} overlap along {'xy'[axis]}={a1[axis]}"


# --------------------------------------------------------------------------- generator


def test_committed_diagrams_equal_generator_output() -> None:
    specs = [p for p in sorted(SPEC_DIR.glob("*.toml")) if p.stem not in HAND_EDITED]
    assert specs
    result = _run_generator("--check", *specs)
    assert result.returncode == 0, f"{result.stdout}{result.stderr}\n{REGENERATE_HINT}"


def test_generator_is_deterministic(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    for out in (first, second):
        result = _run_generator("--write", "--out-dir", out)
        assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in first.glob("*.bpmn"))
    assert names == sorted(p.name for p in second.glob("*.bpmn")) and len(names) == len(SOURCES)
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
        assert (first / name).read_bytes().startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')


def test_generator_refuses_to_overwrite_a_differing_file(tmp_path: Path) -> None:
    spec = SPEC_DIR / "sop_pelaporan_kinerja_kecamatan.toml"
    target = tmp_path / "sop_pelaporan_kinerja_kecamatan.bpmn"

    created = _run_generator("--write", "--out-dir", tmp_path, spec)
    assert created.returncode == 0 and target.exists(), created.stderr
    generated = target.read_bytes()
    assert _run_generator("--write", "--out-dir", tmp_path, spec).returncode == 0  # identical: no-op

    edited = generated.replace(b'name="Mulai"', b'name="Mulai (diedit)"')
    target.write_bytes(edited)
    refused = _run_generator("--write", "--out-dir", tmp_path, spec)
    assert refused.returncode == 2
    assert "--force" in refused.stderr and str(target) in refused.stderr
    assert target.read_bytes() == edited

    dry = _run_generator("--out-dir", tmp_path, spec)
    assert dry.returncode == 1 and '-    <bpmn:startEvent id="StartEvent_1" name="Mulai (diedit)">' in dry.stdout
    assert _run_generator("--check", "--out-dir", tmp_path, spec).returncode == 1
    assert target.read_bytes() == edited

    forced = _run_generator("--write", "--force", "--out-dir", tmp_path, spec)
    assert forced.returncode == 0 and target.read_bytes() == generated


SCRATCH_SPEC = """
[sop]
id = "sop_uji"
name = "SOP Uji"
source = "written"
unit_kind = "any"

[[lanes]]
id = "Lane_A"
name = "Staf"

[[steps]]
id = "Step_01"
row = "1"
lane = "Lane_A"
name = "Kerjakan"
text = "Mengerjakan"

[[steps]]
id = "Step_02"
row = "2"
lane = "Lane_A"
name = "Periksa"
text = "Memeriksa, jika setuju selesai, jika tidak diperbaiki"
review_tidak = "Step_01"
"""


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('lane = "Lane_A"\nname = "Periksa"', 'lane = "Lane_X"\nname = "Periksa"',
         "langkah Step_02: lane 'Lane_X' tidak dikenal"),
        ('review_tidak = "Step_01"', 'review_tidak = "Step_09"', "langkah Step_02: review_tidak 'Step_09' bukan"),
        ('text = "Mengerjakan"', 'text = "Mengerjakan"\nreview_tidak = "Step_02"',
         "langkah Step_01: review_tidak 'Step_02' menunjuk langkah sesudahnya"),
        ('text = "Mengerjakan"', 'text = "Mengerjakan"\ncalls = "sop_tidak_ada"',
         "langkah Step_01: calls 'sop_tidak_ada' bukan id proses"),
        ('text = "Mengerjakan"', 'text = "Mengerjakan"\nwaktu = "1 bulan"', "langkah Step_01: waktu '1 bulan'"),
        ('text = "Mengerjakan"', 'text = "Mengerjakan"\nreview_tdak = "Step_01"',
         "langkah Step_01: kunci tidak dikenal: review_tdak"),
        ('unit_kind = "any"', 'unit_kind = "any"\ntanggal_efektif = "01-02-2026"',
         "[sop]: 'tanggal_efektif' harus tanggal YYYY-MM-DD"),
        ('unit_kind = "any"', 'unit_kind = "any"\ntanggal_revisi = "2026-02-30"',
         "[sop]: 'tanggal_revisi' harus tanggal YYYY-MM-DD"),
        ('unit_kind = "any"', 'unit_kind = "any"\ndisahkan_oleh = { nama = "A", nip = "1968 0412"}',
         "[sop.disahkan_oleh]: nip harus 18 angka"),
        ('unit_kind = "any"', 'unit_kind = "any"\ndisahkan_oleh = { nama = "A", pangkat = "IV/a"}',
         "[sop.disahkan_oleh]: kunci tidak dikenal: pangkat"),
    ],
)
def test_generator_rejects_invalid_specs(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in SCRATCH_SPEC
    spec = tmp_path / "sop_uji.toml"
    spec.write_text(SCRATCH_SPEC.replace(old, new, 1), encoding="utf-8")
    result = _run_generator("--write", "--out-dir", tmp_path, spec)
    assert result.returncode == 3
    assert str(spec) in result.stderr and message in result.stderr, result.stderr
    assert not (tmp_path / "sop_uji.bpmn").exists()


def test_back_flows_get_separate_corridors(tmp_path: Path) -> None:
    """Two nested "Tidak" loops in one lane run on different corridor tracks."""
    generator = _load_generator()
    path = tmp_path / "sop_uji.toml"
    path.write_text(SCRATCH_SPEC + """
[[steps]]
id = "Step_03"
row = "3"
lane = "Lane_A"
name = "Periksa lagi"
text = "Memeriksa lagi, jika tidak kembali ke awal"
review_tidak = "Step_01"
""", encoding="utf-8")
    spec = generator.load_spec(path, known_ids=set())
    nodes, flows = generator.build_graph(spec)
    generator.layout(spec, nodes, flows)
    back = {f.id: f.waypoints for f in flows if f.back}
    assert set(back) == {"Flow_Step_02_Tidak", "Flow_Step_03_Tidak"}
    inner, outer = back["Flow_Step_02_Tidak"], back["Flow_Step_03_Tidak"]
    assert outer[1][1] < inner[1][1], "the outer loop runs above the inner one"
    assert outer[-1][0] != inner[-1][0], "each loop enters Step_01 at its own point"


IDENTITY_SPEC = SCRATCH_SPEC.replace('unit_kind = "any"\n', """unit_kind = "any"
nomor = "800/12/SOP/2026"
tanggal_pembuatan = 2026-01-05
tanggal_revisi = "2026-03-01"
tanggal_efektif = 2026-04-01
disahkan_oleh = { jabatan = "Kepala Dinas", nama = "Dra. Siti Aminah, M.Si & Rekan <uji>", nip = "196804121990032004" }
""")


def test_identity_fields_are_generated_and_survive_bpmn_moddle(tmp_path: Path) -> None:
    """Nomor, the three dates and Disahkan oleh reach alur:sop and survive a bpmn.io round trip."""
    spec = tmp_path / "sop_uji.toml"
    spec.write_text(IDENTITY_SPEC, encoding="utf-8")
    result = _run_generator("--write", "--out-dir", tmp_path, spec)
    assert result.returncode == 0, result.stderr
    header = _process(_parse(tmp_path / "sop_uji.bpmn")).find("bpmn:extensionElements/alur:sop", NS)
    assert {k: header.get(k) for k in ("nomor", "tanggalPembuatan", "tanggalRevisi", "tanggalEfektif")} == {
        "nomor": "800/12/SOP/2026", "tanggalPembuatan": "2026-01-05", "tanggalRevisi": "2026-03-01",
        "tanggalEfektif": "2026-04-01"}
    signer = header.find("alur:disahkanOleh", NS)
    assert dict(signer.attrib) == {"jabatan": "Kepala Dinas", "nama": "Dra. Siti Aminah, M.Si & Rekan <uji>",
                                   "nip": "196804121990032004"}
    node = shutil.which("node")
    if node is None or not (REPO / "node_modules" / "bpmn-moddle").is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail("node or node_modules/bpmn-moddle missing (CI=true)")
        pytest.skip("node or node_modules/bpmn-moddle missing")
    checked = subprocess.run([node, "tests/js/check_moddle.mjs", str(tmp_path / "sop_uji.bpmn")], cwd=REPO,
                             capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0 and "1/1 file OK" in checked.stdout, checked.stdout + checked.stderr
