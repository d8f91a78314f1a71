"""Test helpers: read a committed diagram into a comparable shape, and write it back out as an
SOP-AP table (TSV, XLSX with DrawingML shapes anchored to cells) the way an office's files look."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from lxml import etree
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from engine.sop import BPMN_NS, read_process_meta

REPO = Path(__file__).resolve().parents[2]
BPMN_DIR = REPO / "bpmn"
DIAGRAMS = sorted(BPMN_DIR.glob("*.bpmn"))


@dataclass(frozen=True)
class Row:
    """One step of a diagram, as an SOP-AP row."""

    step_id: str
    row: str
    lane: str
    text: str
    kelengkapan: str | None
    waktu: str | None
    output: str | None
    keterangan: str | None
    review_tidak: str | None
    calls: str | None


@dataclass(frozen=True)
class Diagram:
    """A diagram's lanes (in order), rows (in execution order) and name."""

    process_id: str
    name: str
    lanes: list[str]
    rows: list[Row]

    def comparable(self) -> dict[str, object]:
        """What a round trip must give back: lanes, step lanes, reviews with Tidak targets (as row
        positions), Mutu Baku, called SOPs."""
        index = {r.step_id: i for i, r in enumerate(self.rows)}
        return {
            "lanes": [" ".join(lane.split()).casefold() for lane in self.lanes],
            "steps": [(r.lane.casefold(), index[r.review_tidak] if r.review_tidak else None,
                       r.kelengkapan, r.waktu, r.output, r.calls) for r in self.rows],
        }


def read_diagram(path: Path) -> Diagram:
    """Read a .bpmn of bpmn/ (format: bpmn/README.md)."""
    tree = etree.parse(str(path))
    process = tree.find(f"{{{BPMN_NS}}}process")
    assert process is not None
    meta = read_process_meta(process)
    targets = {f.get("id"): f.get("targetRef") for f in process.iter(f"{{{BPMN_NS}}}sequenceFlow")}
    order: list[str] = []
    node = next(f.get("targetRef") for f in process.iter(f"{{{BPMN_NS}}}sequenceFlow")
                if f.get("sourceRef") == "StartEvent_1")
    while node in meta.steps:
        order.append(node)
        if meta.steps[node].review:
            node = targets[f"Flow_{node}_Ya"]
        else:
            node = next(f.get("targetRef") for f in process.iter(f"{{{BPMN_NS}}}sequenceFlow")
                        if f.get("sourceRef") == node)
    rows = []
    for step_id in order:
        step = meta.steps[step_id]
        rows.append(Row(step_id, step.row or "", step.lane or "", step.text or "", step.kelengkapan,
                        step.waktu_text, step.output, step.keterangan,
                        targets.get(f"Flow_{step_id}_Tidak") if step.review else None, step.called_element))
    return Diagram(meta.process_id, meta.name, [lane.name for lane in meta.lanes.values()], rows)


def deployed_names() -> dict[str, str]:
    """``{process id: name}`` of every diagram in bpmn/ (what a fresh deployment holds)."""
    return {d.process_id: d.name for d in map(read_diagram, DIAGRAMS)}


def _keterangan(row: Row, names: dict[str, str]) -> str:
    """A call activity's row names the called SOP in Keterangan (as the SOP-AP document does)."""
    if row.keterangan:
        return row.keterangan
    return names[row.calls] if row.calls else ""


def _numbered(diagram: Diagram) -> list[str]:
    """Row labels as printed: a "tanpa nomor" row has an empty No. cell."""
    return ["" if r.row.startswith("tanpa nomor") else r.row for r in diagram.rows]


TSV_IDENTITY = [
    "PEMERINTAH KABUPATEN CONTOH", "DINAS KOMUNIKASI DAN INFORMATIKA",
    "Nomor SOP\t:\tSOP-2-17/17000/2026", "Tanggal Pembuatan\t:\t2 Januari 2026", "Tanggal Revisi\t:\t-",
    "Tanggal Efektif\t:\t5 Januari 2026", "Disahkan oleh\t:\tKepala Dinas", "\t\tDrs. Budi Santoso, M.Si",
    "\t\tNIP. 197001011990031001", "Nama SOP\t:\t{name}",
    "Dasar Hukum:\tKualifikasi Pelaksana:",
    "1. Peraturan Menteri PANRB Nomor 35 Tahun 2012 tentang Pedoman\t1. Memahami tugas pokok dan fungsi",
    "   Penyusunan SOP Administrasi Pemerintahan\t2. Mampu mengoperasikan komputer",
    "2. Peraturan Bupati Nomor 7 Tahun 2024\t",
    "Keterkaitan:\tPeralatan/Perlengkapan:", "1. SOP Pengiriman Surat/Dokumen\t1. Komputer", "\t2. Printer",
    "Peringatan:\tPencatatan dan Pendataan:",
    "Laporan terlambat bila SOP tidak dilaksanakan\tDisimpan sebagai arsip elektronik", "",
]


def to_tsv(diagram: Diagram, names: dict[str, str], *, marks: bool = True, identity: bool = False) -> bytes:
    """The SOP-AP table as a tab-separated text (two header rows), a "√" in the performer's column;
    ``identity``: the identity part above it in two columns (:data:`TSV_IDENTITY`)."""
    head = [line.replace("{name}", diagram.name) for line in TSV_IDENTITY] if identity else []
    lines = [*head, diagram.name, "",
             "\t".join(["No.", "Kegiatan", "Pelaksana", *[""] * (len(diagram.lanes) - 1),
                        "Mutu Baku", "", "", "Keterangan"]),
             "\t".join(["", "", *diagram.lanes, "Kelengkapan", "Waktu", "Output", ""])]
    for label, row in zip(_numbered(diagram), diagram.rows, strict=True):
        cells = ["√" if marks and lane == row.lane else "" for lane in diagram.lanes]
        lines.append("\t".join([label, row.text, *cells, row.kelengkapan or "", row.waktu or "",
                                row.output or "", _keterangan(row, names)]))
    return ("\n".join(lines) + "\n").encode("utf-8")


# ----------------------------------------------------------------------------- XLSX

_XDR = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
_A = "http://schemas.openxmlformats.org/drawingml/2006/main"


def _anchor(shape_id: int, col: int, row: int, geometry: str, text: str, *,
            connector: tuple[int, int] | None = None, name: str = "") -> str:
    """A twoCellAnchor holding one shape (or a connector between two shape ids) in cell (col, row), 0-based."""
    where = (f"<xdr:from><xdr:col>{col}</xdr:col><xdr:colOff>190500</xdr:colOff><xdr:row>{row}</xdr:row>"
             f"<xdr:rowOff>76200</xdr:rowOff></xdr:from><xdr:to><xdr:col>{col}</xdr:col>"
             f"<xdr:colOff>1333500</xdr:colOff><xdr:row>{row}</xdr:row><xdr:rowOff>533400</xdr:rowOff></xdr:to>")
    if connector is not None:
        start, end = connector
        body = (f'<xdr:cxnSp macro=""><xdr:nvCxnSpPr><xdr:cNvPr id="{shape_id}" name="{escape(name)}"/>'
                f'<xdr:cNvCxnSpPr><a:stCxn id="{start}" idx="0"/><a:endCxn id="{end}" idx="0"/></xdr:cNvCxnSpPr>'
                f'</xdr:nvCxnSpPr><xdr:spPr><a:prstGeom prst="bentConnector3"><a:avLst/></a:prstGeom>'
                f'<a:ln><a:tailEnd type="triangle"/></a:ln></xdr:spPr></xdr:cxnSp>')
    else:
        runs = f"<a:p><a:r><a:t>{escape(text)}</a:t></a:r></a:p>" if text else "<a:p/>"
        body = (f'<xdr:sp macro="" textlink=""><xdr:nvSpPr><xdr:cNvPr id="{shape_id}" name="{escape(name)}"/>'
                f'<xdr:cNvSpPr/></xdr:nvSpPr><xdr:spPr><a:prstGeom prst="{geometry}"><a:avLst/></a:prstGeom>'
                f'</xdr:spPr><xdr:txBody><a:bodyPr/><a:lstStyle/>{runs}</xdr:txBody></xdr:sp>')
    return f"<xdr:twoCellAnchor>{where}{body}<xdr:clientData/></xdr:twoCellAnchor>"


def to_xlsx(diagram: Diagram, names: dict[str, str], *, identity_rows: int = 0, header_rows: int = 2,
            geometry_connectors: bool = False, joint: dict[str, str] | None = None) -> bytes:
    """The SOP-AP table as an Excel workbook: the table in cells (merged header cells), the
    flowchart as DrawingML shapes anchored to the performer's cell (rectangle, diamond for a
    review, capsule at start and end) and "Tidak" connectors from each diamond to its target."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "SOP"
    sheet.cell(1, 1, diagram.name)
    top = 3
    if identity_rows:
        sheet.cell(2, 1, "Nomor SOP")
        sheet.cell(2, 3, "001/SOP/2026")
        sheet.cell(3, 1, "Nama SOP")
        sheet.cell(3, 3, diagram.name)
        sheet.cell(4, 1, "Dasar Hukum:")
        sheet.cell(5, 1, "1. Peraturan Menteri PANRB Nomor 35 Tahun 2012\n2. Peraturan Bupati Nomor 7 Tahun 2024")
        sheet.cell(4, 4, "Peralatan/Perlengkapan:")
        sheet.cell(5, 4, "1. Komputer")
        sheet.cell(6, 4, "2. Printer")
        top = identity_rows + 5
    n = len(diagram.lanes)
    sheet.cell(top, 1, "No")
    sheet.cell(top, 2, "Kegiatan")
    sheet.cell(top, 6 + n, "Keterangan")
    if header_rows == 2:
        sheet.cell(top, 3, "Pelaksana")
        sheet.merge_cells(start_row=top, start_column=3, end_row=top, end_column=2 + n)
        sheet.cell(top, 3 + n, "Mutu Baku")
        sheet.merge_cells(start_row=top, start_column=3 + n, end_row=top, end_column=5 + n)
    else:
        top -= 1     # one header row: "Pelaksana: <first role>", the other roles and the Mutu Baku titles
    for i, lane in enumerate(diagram.lanes):
        sheet.cell(top + 1, 3 + i, f"Pelaksana: {lane}" if header_rows == 1 and i == 0 else lane)
        sheet.column_dimensions[get_column_letter(3 + i)].width = 20  # 145 px: room for a 120 px symbol
    sheet.column_dimensions["B"].width = 50
    for i, title in enumerate(("Kelengkapan", "Waktu", "Output")):
        sheet.cell(top + 1, 3 + n + i, title)
    anchors: list[str] = []
    shape_of: dict[str, int] = {}
    places: dict[str, tuple[int, int]] = {}
    next_id = 2
    for r, (label, row) in enumerate(zip(_numbered(diagram), diagram.rows, strict=True)):
        excel_row = top + 2 + r
        sheet.row_dimensions[excel_row].height = 48  # 64 px: room for a 48 px symbol
        sheet.cell(excel_row, 1, label)
        sheet.cell(excel_row, 2, row.text)
        for i, value in enumerate((row.kelengkapan, row.waktu, row.output, _keterangan(row, names))):
            if value:
                sheet.cell(excel_row, 3 + n + i, value)
        col = diagram.lanes.index(row.lane) + 2  # 0-based drawing column of the lane's cell
        first_or_last = r in (0, len(diagram.rows) - 1)
        geometry = "flowChartDecision" if row.review_tidak else (
            "flowChartTerminator" if first_or_last else "rect")
        shape_of[row.step_id] = next_id
        places[row.step_id] = (col, excel_row - 1)
        anchors.append(_anchor(next_id, col, excel_row - 1, geometry, "", name=f"Shape {next_id}"))
        next_id += 1
        if joint and row.step_id in joint:
            anchors.append(_anchor(next_id, diagram.lanes.index(joint[row.step_id]) + 2, excel_row - 1, "rect", "",
                                   name=f"Shape {next_id}"))
            next_id += 1
    for row in diagram.rows:
        if row.review_tidak:
            if geometry_connectors:   # a plain line from the diamond's cell up to the target's cell
                (c0, r0), (c1, r1) = places[row.step_id], places[row.review_tidak]
                anchors.append(_line(next_id, (c0, r0), (c1, r1)))
            else:
                anchors.append(_anchor(next_id, 0, 0, "", "", name="Tidak",
                                       connector=(shape_of[row.step_id], shape_of[row.review_tidak])))
            next_id += 1
    buffer = io.BytesIO()
    book.save(buffer)
    return add_drawing(buffer.getvalue(), "".join(anchors))


def _line(shape_id: int, start: tuple[int, int], end: tuple[int, int]) -> str:
    """A straight line (no stCxn/endCxn) from the middle of cell ``start`` to the middle of ``end``,
    drawn as Excel does: anchored to its bounding box, flipped when it runs up or left."""
    (c0, r0), (c1, r1) = start, end
    left, right = sorted((c0, c1))
    upper, lower = sorted((r0, r1))
    flip = (' flipV="1"' if r1 < r0 else "") + (' flipH="1"' if c1 < c0 else "")
    where = (f"<xdr:from><xdr:col>{left}</xdr:col><xdr:colOff>690000</xdr:colOff><xdr:row>{upper}</xdr:row>"
             f"<xdr:rowOff>300000</xdr:rowOff></xdr:from><xdr:to><xdr:col>{right}</xdr:col>"
             f"<xdr:colOff>700000</xdr:colOff><xdr:row>{lower}</xdr:row><xdr:rowOff>300000</xdr:rowOff></xdr:to>")
    body = (f'<xdr:cxnSp macro=""><xdr:nvCxnSpPr><xdr:cNvPr id="{shape_id}" name="Straight Arrow {shape_id}"/>'
            f'<xdr:cNvCxnSpPr/></xdr:nvCxnSpPr><xdr:spPr><a:xfrm{flip}><a:off x="0" y="0"/><a:ext cx="0" cy="0"/>'
            f'</a:xfrm><a:prstGeom prst="straightConnector1"><a:avLst/></a:prstGeom>'
            f'<a:ln><a:tailEnd type="triangle"/></a:ln></xdr:spPr></xdr:cxnSp>')
    return f"<xdr:twoCellAnchor>{where}{body}<xdr:clientData/></xdr:twoCellAnchor>"


def add_drawing(xlsx: bytes, anchors: str, *, sheet: int = 1) -> bytes:
    """Add ``xl/drawings/drawing1.xml`` with ``anchors`` to a workbook, linked from sheet ``sheet``."""
    drawing = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
               f'<xdr:wsDr xmlns:xdr="{_XDR}" xmlns:a="{_A}">{anchors}</xdr:wsDr>')
    source = zipfile.ZipFile(io.BytesIO(xlsx))
    out = io.BytesIO()
    rels_name = f"xl/worksheets/_rels/sheet{sheet}.xml.rels"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == f"xl/worksheets/sheet{sheet}.xml":
                data = data.replace(b"</worksheet>", b'<drawing r:id="rIdAlurDrawing1"/></worksheet>')
                if b'xmlns:r="' not in data[:500]:
                    data = data.replace(b"<worksheet ", b'<worksheet xmlns:r="http://schemas.openxmlformats.org/'
                                                        b'officeDocument/2006/relationships" ', 1)
            if item.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", b'<Override PartName="/xl/drawings/drawing1.xml" ContentType='
                                                 b'"application/vnd.openxmlformats-officedocument.drawing+xml"/>'
                                                 b"</Types>")
            target.writestr(item, data)
        target.writestr(rels_name, '<?xml version="1.0" encoding="UTF-8"?>\n<Relationships xmlns="http://schemas.'
                        'openxmlformats.org/package/2006/relationships"><Relationship Id="rIdAlurDrawing1" Type="'
                        'http://schemas.openxmlformats.org/officeDocument/2006/relationships/drawing" '
                        'Target="../drawings/drawing1.xml"/></Relationships>')
        target.writestr("xl/drawings/drawing1.xml", drawing)
    return out.getvalue()
