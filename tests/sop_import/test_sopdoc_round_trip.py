"""Round trip through the product's own SOP-AP document: diagram -> PDF (WeasyPrint, web.sop_render)
-> import gives back the same lanes, steps in the same lanes, reviews with the same Tidak targets,
the same Mutu Baku, called SOPs and header fields; every lane and Tidak read from the drawing."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from engine.sop import BPMN_NS, read_process_meta
from engine.sop_document import build_document
from engine.sop_import import import_document
from tests.sop_import.diagrams import DIAGRAMS, deployed_names, read_diagram
from tests.sop_import.test_xlsx_import import comparable
from web import sop_render


@pytest.mark.parametrize("path", DIAGRAMS, ids=lambda p: p.stem)
def test_sop_document_pdf_round_trip(path: Path) -> None:
    names = deployed_names()
    data = path.read_bytes()
    meta = read_process_meta(etree.fromstring(data).find(f"{{{BPMN_NS}}}process"))
    document = build_document(data, meta, version=1, called_names=names,
                              unit_name="Dinas Komunikasi dan Informatika Kabupaten Contoh",
                              institution="Pemerintah Kabupaten Contoh")
    pdf = sop_render.render_pdf(document).pdf
    assert pdf is not None
    (result,) = import_document(pdf, f"{path.stem}.pdf", names)
    diagram = read_diagram(path)
    assert comparable(result) == diagram.comparable()
    assert result.draft.name == diagram.name
    assert result.draft.header == meta.header
    assert not any(r.lane_inferred for r in result.draft.rows)
    assert not any(f.confirm and ("Tidak" in f.message or "Pelaksana" in f.message)
                   for f in result.report.findings), result.report.text(result.draft)
