"""The SOP-AP PDF of every diagram in bpmn/: vector, selectable, symbols in the right row and column.

Read back with pdfplumber, the way an importer reads an office's PDF: the
Kegiatan column's horizontal rules are the row boundaries, the Pelaksana column
of a symbol is where its centre lies, the text is extracted from the page.
"""

from __future__ import annotations

import time
from io import BytesIO
from pathlib import Path
from typing import Any

import pdfplumber
import pytest
from lxml import etree

from engine.sop import BPMN_NS, read_process_meta
from engine.sop_document import SopDocument, build_document
from tests.support import long_sop_xml
from web import sop_render

BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"
DIAGRAMS = sorted(BPMN_DIR.glob("*.bpmn"))
NS = {"bpmn": BPMN_NS}
PT_PER_PX = 0.75
NAMES = {p.stem: etree.parse(str(p)).getroot().find("bpmn:process", NS).get("name") for p in DIAGRAMS}


def _document(data: bytes) -> SopDocument:
    process = etree.fromstring(data).find("bpmn:process", NS)
    return build_document(data, read_process_meta(process), version=1, called_names=NAMES,
                          unit_name="Dinas Komunikasi dan Informatika Kabupaten Contoh",
                          institution="Pemerintah Kabupaten Contoh")


def _words(page: Any) -> str:
    return " ".join(w["text"] for w in page.extract_words())


def _row_bands(page: Any, kegiatan_x: tuple[float, float]) -> list[tuple[float, float]]:
    """(top, bottom) of the table's body rows: horizontal rules across the Kegiatan column."""
    ys = sorted({round(line["top"], 1) for line in page.lines
                 if abs(line["top"] - line["bottom"]) < 0.01 and line["x0"] <= kegiatan_x[0] + 2
                 and line["x1"] >= kegiatan_x[1] - 2})
    merged: list[float] = []
    for y in ys:
        if not merged or y - merged[-1] > 1.5:
            merged.append(y)
    return list(zip(merged[1:], merged[2:], strict=False))  # the first rule tops the header row


def _symbols(page: Any) -> list[tuple[str, float, float]]:
    """(kind, centre x, centre y) of the flowchart symbols: rect, diamond, capsule (stroked shapes)."""
    found = [("rect", r["x0"] + r["width"] / 2, r["top"] + r["height"] / 2) for r in page.rects
             if r["stroke"] and r["width"] < 120]
    for curve in page.curves:
        if not curve["stroke"] or curve["width"] < 15:  # pentagon connectors are narrower
            continue
        kind = "diamond" if curve["height"] > 16 else "capsule"
        found.append((kind, curve["x0"] + curve["width"] / 2, curve["top"] + curve["height"] / 2))
    return found


@pytest.mark.parametrize("path", DIAGRAMS, ids=[p.stem for p in DIAGRAMS])
def test_pdf_of_every_sop_is_vector_selectable_and_symbols_sit_in_their_row_and_column(path: Path) -> None:
    doc = _document(path.read_bytes())
    paper = sop_render.PAPERS["A4"]
    started = time.perf_counter()
    rendered = sop_render.render_pdf(doc, paper=paper)
    elapsed = time.perf_counter() - started
    assert elapsed < 10, f"rendering took {elapsed:.1f} s"
    assert rendered.pdf is not None and rendered.pdf.startswith(b"%PDF-")
    columns = sop_render._columns(paper, len(doc.lanes))
    left = paper.margin_side_mm * sop_render.PX_PER_MM
    edges = [left]
    for width in columns.widths:
        edges.append(edges[-1] + width)
    edges_pt = [x * PT_PER_PX for x in edges]
    lane_ranges = [(edges_pt[2 + i], edges_pt[3 + i]) for i in range(len(doc.lanes))]
    with pdfplumber.open(BytesIO(rendered.pdf)) as pdf:
        assert len(pdf.pages) == len(rendered.layouts)
        assert "Halaman 1 dari" in _words(pdf.pages[0])
        assert doc.identity.nama_sop.split()[1] in _words(pdf.pages[0])
        for page, layout in zip(pdf.pages, rendered.layouts, strict=True):
            text = _words(page)
            assert f"Halaman {page.page_number} dari {len(pdf.pages)}" in text
            if not layout.rows:
                continue
            for header in ("No", "Kegiatan", "Pelaksana", "Mutu Baku", "Kelengkapan", "Waktu", "Output",
                           "Keterangan"):
                assert header in text, f"page {page.page_number}: header {header!r} missing"
            bands = _row_bands(page, (edges_pt[1], edges_pt[2]))
            # header rows (2) + body rows, each band a row
            body = bands[-len(layout.rows):]
            assert len(body) == len(layout.rows), (page.page_number, bands)
            symbols = _symbols(page)
            words = page.extract_words()
            for row_index, (top, bottom) in zip(layout.rows, body, strict=True):
                row = doc.rows[row_index]
                kegiatan = [w["text"] for w in words if top < w["top"] < bottom and edges_pt[1] < w["x0"] < edges_pt[2]]
                assert " ".join(kegiatan).startswith(row.kegiatan.split()[0]), (row.number, kegiatan[:3])
                lo, hi = lane_ranges[row.lane]
                kind = "diamond" if row.symbol == "decision" else "rect"
                inside = [s for s in symbols if top < s[2] < bottom and s[0] == kind and lo < s[1] < hi]
                assert len(inside) == 1, f"row {row.number}: {kind} in column {doc.lanes[row.lane]}"
                for terminal in (t for t in doc.terminals if t.row == row_index):
                    lo, hi = lane_ranges[terminal.lane]
                    assert any(s[0] == "capsule" and top < s[2] < bottom and lo < s[1] < hi for s in symbols)
            # every symbol and line of the flowchart lies inside the Pelaksana columns
            for kind, x, _y in symbols:
                assert edges_pt[2] < x < edges_pt[2 + len(doc.lanes)], (kind, x)
            heads = [c for c in page.curves if c["fill"] and not c["stroke"] and len(c["pts"]) >= 3]
            assert len(heads) == len(layout.lines)
            labels = [w["text"] for w in words if w["text"] in ("Ya", "Tidak")
                      and edges_pt[2] < w["x0"] < edges_pt[2 + len(doc.lanes)]]
            assert sorted(labels) == sorted(label.text for label in layout.labels)


def test_long_sop_repeats_the_header_and_connects_pages_with_letters() -> None:
    doc = _document(long_sop_xml(24, 4))
    rendered = sop_render.render_pdf(doc, paper=sop_render.PAPERS["A4"])
    assert rendered.pdf is not None
    with pdfplumber.open(BytesIO(rendered.pdf)) as pdf:
        assert len(pdf.pages) >= 3
        for page in pdf.pages[1:]:
            text = _words(page)
            assert "Kegiatan" in text and "Pelaksana" in text and "Mutu Baku" in text
            assert all(lane in text for lane in ("Peran 0", "Peran 3"))
        letters = [w["text"] for page in pdf.pages for w in page.extract_words() if w["text"] in ("A", "B", "C")]
        assert letters.count("A") == 2 and letters.count("B") == 2


def test_f4_is_wider_than_a4_and_both_are_landscape() -> None:
    doc = _document((BPMN_DIR / "sop_penyusunan_lakip_dinas.bpmn").read_bytes())
    sizes = {}
    for name in ("A4", "F4"):
        pdf_bytes = sop_render.render_pdf(doc, paper=sop_render.paper_named(name.lower())).pdf
        assert pdf_bytes is not None
        with pdfplumber.open(BytesIO(pdf_bytes)) as pdf:
            sizes[name] = (round(float(pdf.pages[0].width) / 72 * 25.4), round(float(pdf.pages[0].height) / 72 * 25.4))
    assert sizes == {"A4": (297, 210), "F4": (330, 215)}
    with pytest.raises(ValueError, match="A4 atau F4"):
        sop_render.paper_named("Letter")


def test_hostile_text_is_escaped_and_nothing_is_fetched() -> None:
    data = (BPMN_DIR / "sop_fgd.bpmn").read_bytes()
    hostile = ('&lt;img src=&quot;http://example.invalid/x.png&quot;&gt;&lt;/style&gt;&lt;script&gt;alert(1)'
               '&lt;/script&gt; &amp; &quot;kutip&quot;')
    data = data.replace(b'name="SOP FGD" isExecutable', f'name="{hostile}" isExecutable'.encode(), 1)
    process = etree.fromstring(data).find("bpmn:process", NS)
    doc = build_document(data, read_process_meta(process), called_names={})
    rendered = sop_render.render_html(doc)
    assert "<script>" not in rendered.html and "<img" not in rendered.html
    assert "&lt;script&gt;" in rendered.html
    pdf_bytes = sop_render.render_pdf(doc).pdf
    assert pdf_bytes is not None
    with pdfplumber.open(BytesIO(pdf_bytes)) as pdf:
        assert '<script>alert(1)</script> & "kutip"' in pdf.pages[0].extract_text()


def _signed(xml: bytes, tanda_tangan: str | None, jabatan: str = "Kepala Dinas") -> SopDocument:
    kind = f' tandaTangan="{tanda_tangan}"' if tanda_tangan else ""
    header = (f'<bpmn:extensionElements><alur:sop unitKind="any" nomor="SOP-7/2026"><alur:disahkanOleh '
              f'jabatan="{jabatan}" nama="Drs. Budi Santoso" nip="197001011990031001"{kind}/></alur:sop>'
              f'</bpmn:extensionElements>')
    return _document(xml.replace(b'isExecutable="true">', b'isExecutable="true">' + header.encode(), 1))


def _numbers(page: Any, paper: sop_render.Paper) -> list[str]:
    """The printed row numbers: the words inside the No column."""
    left = paper.margin_side_mm * sop_render.PX_PER_MM
    right = left + sop_render._columns(paper, 1).widths[0]
    return [w["text"] for w in page.extract_words()
            if w["text"].isdigit() and left * PT_PER_PX <= w["x0"] and w["x1"] <= right * PT_PER_PX]


def test_electronic_signature_note_on_every_page_and_no_lone_last_row() -> None:
    """8 rows on A4 fill page 1 with 7 and leave the 8th alone: it takes the 7th along, and the
    off-page connector moves with them; an electronic signature puts its note in every footer."""
    paper = sop_render.PAPERS["A4"]
    doc = _signed(long_sop_xml(8, 4), "elektronik")
    rendered = sop_render.render_pdf(doc, paper=paper)
    assert [len(layout.rows) for layout in rendered.layouts] == [6, 2]
    assert rendered.pdf is not None
    with pdfplumber.open(BytesIO(rendered.pdf)) as pdf:
        assert len(pdf.pages) == 2
        for page in pdf.pages:
            text = page.extract_text()
            assert "Dokumen ini telah ditandatangani secara elektronik menggunakan sertifikat elektronik" in text
            assert "Badan Siber dan Sandi Negara" in text
        assert "Ditandatangani secara elektronik" in pdf.pages[0].extract_text()
        assert [_numbers(page, paper) for page in pdf.pages] == [["1", "2", "3", "4", "5", "6"], ["7", "8"]]
        letters = [sorted(w["text"] for w in page.extract_words() if w["text"] in ("A", "B", "C"))
                   for page in pdf.pages]
        # A: the flow from row 6 down to row 7; B: row 8's Tidak back up to row 5 — a pair each
        assert letters == [["A", "B"], ["A", "B"]]
    # signed by hand by a Plt (the post vacant): "Plt." before the jabatan (SE Kepala BKN 1/SE/I/2021)
    by_hand = sop_render.render_pdf(_signed(long_sop_xml(8, 4), None, "Plt. Kepala Dinas"), paper=paper)
    assert by_hand.pdf is not None
    with pdfplumber.open(BytesIO(by_hand.pdf)) as pdf:
        assert not any("ditandatangani" in page.extract_text().casefold() for page in pdf.pages)
        assert "Plt. Kepala Dinas" in pdf.pages[0].extract_text()
        assert "Drs. Budi Santoso" in pdf.pages[0].extract_text()

