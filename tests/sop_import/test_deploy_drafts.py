"""Every draft the importer writes passes the engine's deploy checks (rolled back afterwards)."""

from __future__ import annotations

from pathlib import Path

from lxml import etree
from sqlalchemy.orm import Session

from engine.deploy import deploy_directory, deploy_sources
from engine.sop_import import import_document
from tests.sop_import.diagrams import BPMN_DIR, deployed_names, read_diagram, to_xlsx
from tests.sop_import.pdfs import Layout, to_pdf

SEEDS = Path(__file__).parent / "data" / "seeds"
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def test_drafts_from_text_xlsx_and_pdf_deploy(session: Session) -> None:
    deploy_directory(session, BPMN_DIR)          # the SOPs a draft may call
    names = deployed_names()
    documents = {name.name: name.read_bytes() for name in sorted(SEEDS.glob("00[0124]_*.txt"))}
    lakip = read_diagram(BPMN_DIR / "sop_penyusunan_lakip_dinas.bpmn")
    documents["lakip.xlsx"] = to_xlsx(lakip, names)
    documents["lakip.pdf"] = to_pdf(lakip, names, Layout(header_rows=1, diamond="lines", rows_per_page=5))
    count = 0
    for filename, data in documents.items():
        drafts = {}
        for imported in import_document(data, filename, names):
            drafts[f"{imported.process_id}.bpmn"] = imported.bpmn
            tree = etree.fromstring(imported.bpmn)
            shapes = {s.get("bpmnElement") for s in tree.iter("{http://www.omg.org/spec/BPMN/20100524/DI}BPMNShape")}
            nodes = {n.get("id") for n in tree.find(f"{{{BPMN}}}process") if n.get("id")}
            flows = {f.get("id") for f in tree.iter(f"{{{BPMN}}}sequenceFlow")}
            assert nodes - flows - {"LaneSet_1"} <= shapes, "every flow node has its DI shape"
        deployed = deploy_sources(session, drafts)
        assert {d.process_id for d in deployed} == {name.removesuffix(".bpmn") for name in drafts}
        assert all(d.created for d in deployed)
        count += len(deployed)
    assert count == 13       # 11 seed tables (003 is unreadable OCR), the XLSX and the PDF
