"""The SOP-AP document model and its flowchart geometry, for every diagram in bpmn/ and hostile ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from engine.sop import BPMN_NS, read_process_meta
from engine.sop_document import SopDocument, build_document, document_from_bpmn
from engine.sop_flowchart import PageLayout, Shape, layout_flowchart
from storage.errors import DeployError
from tests.support import long_sop_xml

BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"
DIAGRAMS = sorted(BPMN_DIR.glob("*.bpmn"))
NS = {"bpmn": BPMN_NS, "alur": "http://alur.dev/schema/bpmn/sop/1.0"}


def _document(data: bytes, **kwargs: Any) -> SopDocument:
    process = etree.fromstring(data).find("bpmn:process", NS)
    return build_document(data, read_process_meta(process), **kwargs)


def _diagram(path: Path) -> tuple[etree._Element, SopDocument]:
    data = path.read_bytes()
    return etree.fromstring(data).find("bpmn:process", NS), _document(data)


@pytest.mark.parametrize("path", DIAGRAMS, ids=[p.stem for p in DIAGRAMS])
def test_rows_lanes_and_decisions_match_the_diagram(path: Path) -> None:
    process, doc = _diagram(path)
    lanes = process.findall("bpmn:laneSet/bpmn:lane", NS)
    assert doc.lanes == tuple(lane.get("name") for lane in lanes)
    lane_of = {ref.text: i for i, lane in enumerate(lanes) for ref in lane.iterfind("bpmn:flowNodeRef", NS)}
    steps = [n for n in process if etree.QName(n).localname in ("userTask", "callActivity")]
    # One row per step, numbered 1..n, in the generator's execution order (= the file's order).
    assert [row.symbol_id for row in doc.rows] == [s.get("id") for s in steps]
    assert [row.number for row in doc.rows] == list(range(1, len(steps) + 1))
    flows = process.findall("bpmn:sequenceFlow", NS)
    for row, step in zip(doc.rows, steps, strict=True):
        assert row.lane == lane_of[step.get("id")], row.symbol_id
        assert row.kegiatan == step.findtext("bpmn:documentation", namespaces=NS).strip()
        mutu = step.find("bpmn:extensionElements/alur:mutuBaku", NS)
        assert (row.kelengkapan, row.waktu, row.output) == (
            mutu.get("kelengkapan", ""), mutu.get("waktuText", ""), mutu.get("output", ""))
        review = step.find("bpmn:extensionElements/alur:review", NS) is not None
        assert (row.symbol == "decision") == review and (row.decision is not None) == review
        if review:
            gateway = f"Gateway_{step.get('id')}"
            by_name = {f.get("name"): f.get("targetRef") for f in flows if f.get("sourceRef") == gateway}
            assert row.decision is not None and row.decision.gateway_id == gateway
            assert row.decision.tidak == (by_name["Tidak"],) and row.decision.ya == (by_name["Ya"],)
            assert doc.symbol_row(by_name["Tidak"]) <= row.index, "Tidak goes back"
        if step.get("calledElement"):
            assert row.called_process_id == step.get("calledElement")
            assert step.get("calledElement") in row.keterangan  # no catalogue here: the id stands for the name
    # Capsules: the start in the first row, the end in the last, each in its own lane.
    start, end = (next(t for t in doc.terminals if t.kind == kind) for kind in ("start", "end"))
    assert (start.row, start.lane, start.label) == (0, lane_of["StartEvent_1"], "Mulai")
    assert (end.row, end.lane, end.label) == (len(doc.rows) - 1, lane_of["EndEvent_1"], "Selesai")
    # Every non-Tidak arrow goes forward (same row into a capsule, or down the table).
    for flow in doc.flows:
        if flow.label != "Tidak":
            assert doc.symbol_row(flow.target) >= doc.symbol_row(flow.source), flow


def test_a_call_activity_names_the_called_sop_and_keeps_its_keterangan() -> None:
    doc = _document((BPMN_DIR / "sop_penyusunan_lakip_dinas.bpmn").read_bytes(),
                    called_names={"sop_fgd": "SOP Focus Group Discussion"})
    row = next(r for r in doc.rows if r.called_process_id == "sop_fgd")
    assert row.keterangan == "SOP FGD\nSOP Focus Group Discussion"
    assert row.called_name == "SOP Focus Group Discussion"


def test_identity_fields_reach_the_document() -> None:
    data = (BPMN_DIR / "sop_pengukuran_kinerja_pegawai_dinas.bpmn").read_bytes().replace(
        b'unitKind="dinas">', b'unitKind="dinas" nomor="800/7/2026" tanggalEfektif="2026-02-01">'
        b'<alur:disahkanOleh jabatan="Kepala Dinas" nama="Budi" nip="196804121990031004"/>', 1)
    identity = _document(data, unit_name="Dinas Kominfo", institution="Pemerintah Kabupaten Contoh").identity
    assert (identity.nomor, identity.tanggal_efektif, identity.tanggal_revisi) == ("800/7/2026", "2026-02-01", None)
    assert identity.disahkan_oleh is not None and identity.disahkan_oleh.nip == "196804121990031004"
    assert identity.dasar_hukum[0].startswith("Permenpan dan RB Nomor 35 Tahun 2012")
    assert identity.peralatan == ("Internet", "Komputer", "Printer", "ATK")
    assert (identity.unit_name, identity.institution) == ("Dinas Kominfo", "Pemerintah Kabupaten Contoh")


@pytest.mark.parametrize("data, message", [
    (b"<bpmn:definitions", "XML tidak valid"),
    (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
     b'<d xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&x;</d>', "tidak ada dalam XML"),
])
def test_bad_xml_is_refused(data: bytes, message: str) -> None:
    meta = read_process_meta(etree.fromstring((BPMN_DIR / "sop_fgd.bpmn").read_bytes()).find("bpmn:process", NS))
    with pytest.raises(DeployError, match=message):
        build_document(data, meta)


# ------------------------------------------------------------------------------- geometry

LANE_W = 70.0


def _inside(shape: Shape, a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Whether segment a-b (axis-parallel) passes through the inside of shape's box (0.5 px inset)."""
    x0, y0, x1, y1 = shape.x + 0.5, shape.y + 0.5, shape.x + shape.w - 0.5, shape.y + shape.h - 0.5
    lo_x, hi_x = sorted((a[0], b[0]))
    lo_y, hi_y = sorted((a[1], b[1]))
    return lo_x < x1 and hi_x > x0 and lo_y < y1 and hi_y > y0


def _check_geometry(doc: SopDocument, pages: list[PageLayout], first_px: float, page_px: float) -> None:
    assert [r for p in pages for r in p.rows] == list(range(len(doc.rows))), "every row once, in order"
    for index, page in enumerate(pages):
        assert page.height <= (first_px if index == 0 else page_px) + 0.01 or len(page.rows) == 1
        for line in page.lines:
            points = [*line.points, line.head[0]]
            for a, b in zip(points, points[1:], strict=False):
                assert a[0] == pytest.approx(b[0]) or a[1] == pytest.approx(b[1]), f"{line.flow_id} not orthogonal"
                for shape in page.shapes:
                    assert not _inside(shape, a, b), f"{line.flow_id} crosses {shape.kind} {shape.symbol_id or shape.text}"
            tip = line.head[0]
            assert any(abs(tip[1] - s.y) < 0.01 or abs(tip[1] - (s.y + s.h)) < 0.01 or abs(tip[0] - (s.x + s.w)) < 0.01
                       for s in page.shapes), f"{line.flow_id}: arrowhead not on a symbol"
        for shape in page.shapes:
            assert 0 <= shape.x and shape.x + shape.w <= LANE_W * len(doc.lanes)
    letters = [s.text for p in pages for s in p.shapes if s.kind == "pentagon"]
    assert all(letters.count(letter) == 2 for letter in letters), letters
    crossings = sum(1 for f in doc.flows
                    if _page_of(pages, doc.symbol_row(f.source)) != _page_of(pages, doc.symbol_row(f.target)))
    assert len(letters) == 2 * crossings


def _page_of(pages: list[PageLayout], row: int) -> int:
    return next(i for i, p in enumerate(pages) if row in p.rows)


@pytest.mark.parametrize("path", DIAGRAMS, ids=[p.stem for p in DIAGRAMS])
@pytest.mark.parametrize("room", [(600.0, 700.0), (150.0, 260.0)], ids=["a4", "sempit"])
def test_flowchart_arrows_never_cross_symbols(path: Path, room: tuple[float, float]) -> None:
    _, doc = _diagram(path)
    heights = [30.0 + 9 * (len(row.kegiatan) // 45) for row in doc.rows]
    pages = layout_flowchart(doc, [LANE_W] * len(doc.lanes), heights, *room)
    _check_geometry(doc, pages, *room)
    symbols = [s for p in pages for s in p.shapes if s.kind != "pentagon"]
    assert len(symbols) == len(doc.rows) + len(doc.terminals)
    assert sum(s.kind == "diamond" for s in symbols) == sum(r.symbol == "decision" for r in doc.rows)
    labels = [label.text for p in pages for label in p.labels]
    assert sorted(labels) == sorted(["Ya", "Tidak"] * sum(r.decision is not None for r in doc.rows))


@pytest.mark.parametrize("steps, lanes", [(30, 5), (25, 3), (9, 1)])
def test_long_sop_breaks_over_pages_with_lettered_connectors(steps: int, lanes: int) -> None:
    doc = _document(long_sop_xml(steps, lanes))
    assert len(doc.rows) == steps and sum(r.decision is not None for r in doc.rows) == len(range(3, steps, 4))
    pages = layout_flowchart(doc, [LANE_W] * lanes, [34.0] * steps, 300.0, 420.0)
    assert len(pages) >= 3 if steps > 20 else len(pages) >= 1
    _check_geometry(doc, pages, 300.0, 420.0)
    letters = sorted({s.text for p in pages for s in p.shapes if s.kind == "pentagon"})
    if len(pages) > 1:
        assert letters[:2] == ["A", "B"]


def test_identity_alone_on_page_one_when_no_row_fits() -> None:
    _, doc = _diagram(BPMN_DIR / "sop_fgd.bpmn")
    pages = layout_flowchart(doc, [LANE_W] * len(doc.lanes), [40.0] * len(doc.rows), 20.0, 700.0)
    assert pages[0].rows == [] and pages[1].rows == list(range(len(doc.rows)))
    assert not any(s.kind == "pentagon" for p in pages for s in p.shapes), "no connector before the first row"


def test_text_heights_must_match_the_rows() -> None:
    _, doc = _diagram(BPMN_DIR / "sop_fgd.bpmn")
    with pytest.raises(ValueError, match="text heights"):
        layout_flowchart(doc, [LANE_W] * len(doc.lanes), [40.0], 600.0, 700.0)


def test_document_from_a_bpmn_file_without_a_database() -> None:
    doc = document_from_bpmn((BPMN_DIR / "sop_surat_masuk.bpmn").read_bytes(), unit_name="Kecamatan Contoh")
    assert doc.process_id == "sop_surat_masuk" and doc.unit_kind == "any" and doc.identity.unit_name == "Kecamatan Contoh"
    not_executable = (BPMN_DIR / "sop_fgd.bpmn").read_bytes().replace(b'isExecutable="true"', b'isExecutable="false"')
    with pytest.raises(DeployError, match="no executable process"):
        document_from_bpmn(not_executable)
