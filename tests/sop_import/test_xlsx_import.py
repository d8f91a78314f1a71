"""XLSX import: the table in cells, the flowchart as DrawingML shapes anchored to cells."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from engine.sop_import import ImportedSop, import_document
from storage.errors import SopImportError
from tests.sop_import.diagrams import BPMN_DIR, DIAGRAMS, add_drawing, deployed_names, read_diagram, to_xlsx


def comparable(result: ImportedSop) -> dict[str, object]:
    """The imported draft in the shape of :meth:`Diagram.comparable`."""
    draft = result.draft
    return {
        "lanes": [" ".join(lane.name.split()).casefold() for lane in draft.lanes],
        "steps": [(draft.lanes[r.lanes[0]].name.casefold(), r.tidak if r.review else None,
                   r.kelengkapan, r.waktu, r.output, r.calls) for r in draft.rows],
    }


@pytest.mark.parametrize("path", DIAGRAMS, ids=lambda p: p.stem)
def test_xlsx_round_trip(path: Path) -> None:
    """diagram -> XLSX (shapes anchored to cells, Tidak connectors) -> import: same lanes, steps,
    reviews and Tidak targets, Mutu Baku and called SOPs; every lane read from a shape."""
    names = deployed_names()
    diagram = read_diagram(path)
    (result,) = import_document(to_xlsx(diagram, names), f"{path.stem}.xlsx", names)
    assert comparable(result) == diagram.comparable()
    assert not any(r.lane_inferred for r in result.draft.rows)


@pytest.mark.parametrize("options", [
    {"header_rows": 1}, {"identity_rows": 3}, {"geometry_connectors": True},
    {"header_rows": 1, "identity_rows": 3, "geometry_connectors": True},
], ids=["header-one-row", "identity-above", "plain-lines", "all-at-once"])
@pytest.mark.parametrize("process_id", ["sop_surat_masuk", "sop_penyusunan_lakip_dinas",
                                        "sop_pelaporan_kinerja_kecamatan"])
def test_xlsx_layouts(options: dict[str, object], process_id: str) -> None:
    names = deployed_names()
    diagram = read_diagram(BPMN_DIR / f"{process_id}.bpmn")
    (result,) = import_document(to_xlsx(diagram, names, **options), "sop.xlsx", names)
    assert comparable(result) == diagram.comparable()
    assert not any(f.confirm and "Tidak" in f.message for f in result.report.findings)
    if options.get("identity_rows"):
        assert result.draft.identity["Nomor SOP"] == "001/SOP/2026"
        assert result.draft.name == diagram.name
        assert result.draft.header == {"dasarHukum": ["Peraturan Menteri PANRB Nomor 35 Tahun 2012",
                                                      "Peraturan Bupati Nomor 7 Tahun 2024"],
                                       "peralatan": ["Komputer", "Printer"]}
        assert b"<alur:peralatan>Printer</alur:peralatan>" in result.bpmn


def test_xlsx_joint_step() -> None:
    names = deployed_names()
    diagram = read_diagram(BPMN_DIR / "sop_pengukuran_kinerja_kecamatan.bpmn")
    (result,) = import_document(to_xlsx(diagram, names, joint={"Step_08": "Tim"}), "sop.xlsx", names)
    row = result.draft.rows[7]
    assert [result.draft.lanes[i].name for i in row.lanes] == ["Sekretaris", "Tim"]
    assert comparable(result) == diagram.comparable()


def test_xlsx_merged_waktu_cell_counts_for_both_rows() -> None:
    names = deployed_names()
    diagram = read_diagram(BPMN_DIR / "sop_fgd.bpmn")
    data = to_xlsx(diagram, names)
    book = load_workbook(io.BytesIO(data))
    sheet = book.active
    assert sheet is not None
    waktu_col = 3 + len(diagram.lanes) + 1
    first = next(r for r in range(1, 20) if sheet.cell(r, 1).value == "W1")
    sheet.cell(first + 1, waktu_col).value = None
    sheet.merge_cells(start_row=first, start_column=waktu_col, end_row=first + 1, end_column=waktu_col)
    buffer = io.BytesIO()
    book.save(buffer)
    drawing = zipfile.ZipFile(io.BytesIO(data)).read("xl/drawings/drawing1.xml").decode()
    anchors = drawing.split(">", 2)[2].rsplit("</xdr:wsDr>", 1)[0]
    (result,) = import_document(add_drawing(buffer.getvalue(), anchors), "sop.xlsx", names)
    assert result.draft.rows[0].waktu == result.draft.rows[1].waktu == diagram.rows[0].waktu


# ----------------------------------------------------------------------------- hostile input


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_zip_bomb_inside_an_xlsx_is_refused_before_decompressing() -> None:
    names = deployed_names()
    good = to_xlsx(read_diagram(BPMN_DIR / "sop_fgd.bpmn"), names)
    source = zipfile.ZipFile(io.BytesIO(good))
    entries = {name: source.read(name) for name in source.namelist()}
    entries["xl/media/image1.png"] = b"\0" * (30 * 1024 * 1024)
    bomb = _zip(entries)
    assert len(bomb) < 1024 * 1024
    started = time.monotonic()
    with pytest.raises(SopImportError, match="zip bomb"):
        import_document(bomb, "bom.xlsx", names)
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("data", [
    b"PK\x03\x04" + b"\x00" * 200,
    _zip({"[Content_Types].xml": b"<Types/>"}),
    _zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook><sheets><sheet"}),
], ids=["not-a-zip", "no-workbook", "broken-workbook-xml"])
def test_malformed_xlsx_is_refused(data: bytes) -> None:
    with pytest.raises(SopImportError, match="XLSX"):
        import_document(data, "rusak.xlsx", deployed_names())


def test_xlsx_without_a_table_is_refused() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet["A1"] = "Daftar hadir rapat"
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(SopImportError, match="Tidak ditemukan tabel SOP"):
        import_document(buffer.getvalue(), "hadir.xlsx", deployed_names())


def test_drawing_with_entities_is_refused() -> None:
    names = deployed_names()
    good = to_xlsx(read_diagram(BPMN_DIR / "sop_fgd.bpmn"), names)
    source = zipfile.ZipFile(io.BytesIO(good))
    entries = {name: source.read(name) for name in source.namelist()}
    entries["xl/drawings/drawing1.xml"] = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
                                           b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
                                           b'<xdr:wsDr xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/'
                                           b'spreadsheetDrawing">&b;</xdr:wsDr>')
    with pytest.raises(SopImportError, match="DOCTYPE"):
        import_document(_zip(entries), "sop.xlsx", names)
