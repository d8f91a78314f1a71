"""PDF tables drawn without row rules (only column lines) or without any lines: rows and columns from
word positions. The fixture is the product's own SOP-AP document (WeasyPrint) with its borders taken off
by one extra CSS rule, so the same round trip as ``test_sopdoc_round_trip`` must hold."""

from __future__ import annotations

import io
from pathlib import Path

import pdfplumber
import pytest
from lxml import etree
from weasyprint import HTML

from engine.sop import BPMN_NS, read_process_meta
from engine.sop_document import build_document
from engine.sop_import import import_document
from tests.sop_import.diagrams import BPMN_DIR, deployed_names, read_diagram
from tests.sop_import.test_xlsx_import import comparable
from web import sop_render

STYLES = {
    "column-lines-only": "td, th { border-top: 0 !important; border-bottom: 0 !important; } "
                         "th { background: none !important; }",
    "no-lines": "td, th { border: 0 !important; } th { background: none !important; }",
    "column-lines-text-centred": "td, th { border-top: 0 !important; border-bottom: 0 !important; "
                                 "vertical-align: middle !important; } th { background: none !important; }",
}
# Two pages with a Tidak across the break (LAKIP), a joint-free Kecamatan SOP with two reviews.
SOPS = ["sop_penyusunan_lakip_dinas", "sop_perencanaan_kinerja_kecamatan"]


def _unruled_pdf(path: Path, css: str) -> bytes:
    data = path.read_bytes()
    meta = read_process_meta(etree.fromstring(data).find(f"{{{BPMN_NS}}}process"))
    document = build_document(data, meta, version=1, called_names=deployed_names(),
                              unit_name="Dinas Komunikasi dan Informatika Kabupaten Contoh",
                              institution="Pemerintah Kabupaten Contoh")
    html = sop_render.render_html(document).html.replace("</style>", css + "</style>", 1)
    pdf: bytes = HTML(string=html).write_pdf()
    return pdf


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("stem", SOPS)
def test_rows_are_split_by_word_positions(stem: str, style: str) -> None:
    path = BPMN_DIR / f"{stem}.bpmn"
    pdf = _unruled_pdf(path, STYLES[style])
    with pdfplumber.open(io.BytesIO(pdf)) as opened:
        first = opened.pages[0]
        kegiatan = next(w for w in first.extract_words() if w["text"] == "Kegiatan")
        below = [e for e in first.horizontal_edges if e["top"] > kegiatan["bottom"]
                 and e["x0"] <= kegiatan["x0"] and e["x1"] >= kegiatan["x1"]]
        assert below == [], "the fixture has no rule under the header across the Kegiatan column"
        if style == "no-lines":
            assert not [e for e in first.vertical_edges if e["x0"] < kegiatan["x0"]], "no column lines either"
    names = deployed_names()
    (result,) = import_document(pdf, f"{stem}.pdf", names)
    diagram = read_diagram(path)
    assert comparable(result) == diagram.comparable(), result.report.text(result.draft)
    assert [r.label for r in result.draft.rows] == [str(i + 1) for i in range(len(diagram.rows))]
    assert any("Tabel tanpa garis baris" in f.message for f in result.report.findings)
