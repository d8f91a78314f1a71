"""PDF import: positions of ruling lines, symbols and words give lanes, decisions and Tidak targets."""

from __future__ import annotations

import dataclasses
import io
import time
from pathlib import Path

import pytest
from PIL import Image
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from engine.sop_import import ImportedSop, import_document
from storage.errors import SopImportError
from tests.sop_import.diagrams import BPMN_DIR, DIAGRAMS, Diagram, deployed_names, read_diagram
from tests.sop_import.pdfs import Layout, to_pdf
from tests.sop_import.test_xlsx_import import comparable


def _import(data: bytes, name: str = "sop.pdf") -> ImportedSop:
    (result,) = import_document(data, name, deployed_names())
    return result


@pytest.mark.parametrize("path", DIAGRAMS, ids=lambda p: p.stem)
def test_pdf_round_trip(path: Path) -> None:
    """diagram -> SOP-AP PDF (test writer) -> import: same lanes, step lanes, reviews and Tidak
    targets, Mutu Baku and called SOPs; every lane and every Tidak read from the drawing."""
    names = deployed_names()
    diagram = read_diagram(path)
    result = _import(to_pdf(diagram, names), f"{path.stem}.pdf")
    assert comparable(result) == diagram.comparable()
    assert not any(r.lane_inferred for r in result.draft.rows)
    rows = result.draft.rows
    across_pages = {r.label for r in rows if r.review and r.tidak is not None and rows[r.tidak].page != r.page}
    worded = {f.row for f in result.report.findings if "Arah 'Tidak'" in f.message and f.confirm}
    assert worded <= across_pages, "only a Tidak arrow broken by a page break is taken from the wording"
    assert result.draft.name == diagram.name


def _seven_lanes() -> Diagram:
    diagram = read_diagram(BPMN_DIR / "sop_perencanaan_kinerja_kecamatan.bpmn")
    return dataclasses.replace(diagram, lanes=[*diagram.lanes, "Kepala Seksi Pemerintahan"])


@pytest.mark.parametrize("layout", [
    Layout(header_rows=1),
    Layout(diamond="lines"),
    Layout(identity="page"),
    Layout(identity="none"),
    Layout(rows_per_page=4),
    Layout(open_roles=True),
    Layout(header_rows=1, diamond="lines", identity="page", rows_per_page=3),
], ids=["header-one-row", "diamond-four-lines", "identity-own-page", "no-identity", "four-rows-per-page",
        "no-row-borders-in-pelaksana", "all-at-once"])
@pytest.mark.parametrize("process_id", ["sop_surat_masuk", "sop_pelaporan_kinerja_kecamatan", "seven-lanes"])
def test_pdf_layouts(layout: Layout, process_id: str) -> None:
    """Header in one or two rows, diamonds as polygons or four lines, identity part on the first
    page, its own page or absent, a table over several pages; 3, 6 and 7 Pelaksana columns."""
    names = deployed_names()
    diagram = _seven_lanes() if process_id == "seven-lanes" else read_diagram(BPMN_DIR / f"{process_id}.bpmn")
    result = _import(to_pdf(diagram, names, layout))
    expected = diagram.comparable()
    got = comparable(result)
    assert got["lanes"] == expected["lanes"]
    assert [s[0] for s in got["steps"]] == [s[0] for s in expected["steps"]]
    assert got == expected or layout.rows_per_page is not None, "only a page break may hide a Tidak arrow"
    if got != expected:   # a Tidak arrow across a page break: the wording gives it, reported
        assert any("Arah 'Tidak'" in f.message and f.confirm for f in result.report.findings)
    pages = {r.page for r in result.draft.rows}
    assert len(pages) >= (2 if layout.rows_per_page else 1)
    if layout.identity != "none":
        assert result.draft.identity["Nomor SOP"] == "SOP-2-17/17000/2026"
        assert result.draft.header["dasarHukum"] == ["Peraturan Menteri PANRB Nomor 35 Tahun 2012"]
        assert result.draft.header["kualifikasiPelaksana"] == ["Memahami tugas pokok dan fungsi"]
        assert b'nomor="SOP-2-17/17000/2026" tanggalPembuatan="2026-01-02"' in result.bpmn
        assert b'tanggalEfektif="2026-01-05"' in result.bpmn and b"tanggalRevisi" not in result.bpmn
        assert (b'<alur:disahkanOleh jabatan="Kepala Dinas" nama="Drs. Budi Santoso, M.Si" '
                b'nip="197001011990031001"/>') in result.bpmn


def test_joint_step_goes_to_the_first_column_and_names_the_others() -> None:
    names = deployed_names()
    diagram = read_diagram(BPMN_DIR / "sop_pemantauan_kinerja_kecamatan.bpmn")
    result = _import(to_pdf(diagram, names, Layout(joint={"Step_08": "Tim"})))
    row = result.draft.rows[7]
    assert [result.draft.lanes[i].name for i in row.lanes] == ["Sekretaris", "Tim"]
    assert b"(bersama: Tim)" in result.bpmn
    assert any("Langkah bersama" in f.message and f.row == "8" for f in result.report.findings)


def test_keterangan_citing_an_unknown_sop_number_stays_text_with_a_warning() -> None:
    names = deployed_names()
    diagram = read_diagram(BPMN_DIR / "sop_surat_masuk.bpmn")
    rows = [dataclasses.replace(r, keterangan="Lihat SOP-2-17/17000/2024") if r.step_id == "Step_05" else r
            for r in diagram.rows]
    result = _import(to_pdf(dataclasses.replace(diagram, rows=rows), names))
    assert result.draft.rows[4].keterangan == "Lihat SOP-2-17/17000/2024" and result.draft.rows[4].calls is None
    assert any(f.level == "peringatan" and "SOP-2-17/17000/2024" in f.message for f in result.report.findings)
    assert b"<alur:keterangan>Lihat SOP-2-17/17000/2024</alur:keterangan>" in result.bpmn


def test_step_without_symbol_gets_its_lane_from_the_wording_and_is_reported() -> None:
    names = deployed_names()
    diagram = read_diagram(BPMN_DIR / "sop_perencanaan_kinerja_kecamatan.bpmn")
    result = _import(to_pdf(diagram, names, Layout(skip_symbols={"Step_05"})))
    row = result.draft.rows[4]
    assert row.lane_inferred and result.draft.lanes[row.lanes[0]].name == "Staf"
    assert any(f.row == "5" and f.confirm and "Pelaksana 'Staf'" in f.message for f in result.report.findings)


# ------------------------------------------------------------------------------ hostile input


def _canvas() -> tuple[io.BytesIO, Canvas]:
    buffer = io.BytesIO()
    return buffer, Canvas(buffer, pagesize=landscape(A4))


def test_pdf_without_a_table_is_refused() -> None:
    buffer, c = _canvas()
    c.drawString(72, 500, "Surat undangan rapat koordinasi, tanpa tabel kegiatan.")
    c.showPage()
    c.save()
    with pytest.raises(SopImportError, match="Tidak ditemukan tabel SOP dalam PDF"):
        _import(buffer.getvalue())


def test_scanned_image_pdf_needs_ocr() -> None:
    buffer, c = _canvas()
    image = Image.new("L", (400, 300), color=255)
    c.drawImage(ImageReader(image), 50, 50, width=700, height=500)
    c.showPage()
    c.save()
    with pytest.raises(SopImportError, match="hasil pindai.*perlu OCR"):
        _import(buffer.getvalue())


def test_encrypted_pdf_is_refused() -> None:
    names = deployed_names()
    data = to_pdf(read_diagram(BPMN_DIR / "sop_fgd.bpmn"), names, Layout(encrypt="rahasia"))
    with pytest.raises(SopImportError, match="terenkripsi"):
        _import(data)


def test_two_hundred_pages_are_refused_within_seconds() -> None:
    buffer, c = _canvas()
    for number in range(200):
        c.drawString(72, 500, f"Halaman {number + 1}")
        c.showPage()
    c.save()
    started = time.monotonic()
    with pytest.raises(SopImportError, match="terlalu panjang \\(200 halaman"):
        _import(buffer.getvalue())
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("data", [b"%PDF-1.4\n%garbage", b"%PDF-1.7\n1 0 obj << /Type /Catalog", b"%PDF-"],
                         ids=["garbage", "truncated", "header-only"])
def test_malformed_pdf_is_refused(data: bytes) -> None:
    with pytest.raises(SopImportError):
        _import(data)


def test_oversized_file_is_refused_before_reading() -> None:
    with pytest.raises(SopImportError, match="terlalu besar"):
        _import(b"%PDF-1.4\n" + b"0" * (20 * 1024 * 1024 + 1))


