"""Text/TSV import: the seed SOPs reproduce bpmn/SOURCES.md's lanes; TSV round trip of every diagram."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.sop_import import ImportedSop, import_document
from engine.sop_import.text import read_text
from storage.errors import SopImportError
from tests.sop_import.diagrams import DIAGRAMS, deployed_names, read_diagram, to_tsv

SEEDS = Path(__file__).parent / "data" / "seeds"
# The SOP tables of each seed, in the order they appear, and the diagram SOURCES.md made of each.
SEED_TABLES = {
    "000_b8b28d671da69d05.txt": ["sop_pengumpulan_data_kinerja_bagian", "sop_evaluasi_bagian",
                                 "sop_pelaporan_kinerja_tahunan_bagian"],
    "001_759fb276d00fb359.txt": ["sop_pelaporan_kinerja_periodik_dinas"],
    "002_ac54faf19602f954.txt": ["sop_penyusunan_lakip_dinas"],
    "004_c33272c829c45490.txt": ["sop_perencanaan_kinerja_kecamatan", "sop_pemantauan_kinerja_kecamatan",
                                 "sop_pengukuran_kinerja_kecamatan", "sop_pengumpulan_data_iku_kecamatan",
                                 "sop_pelaporan_kinerja_kecamatan", "sop_dokumen_evaluasi_kinerja_kecamatan"],
}
# Rows whose lane bpmn/SOURCES.md decides by judgement rather than by its written rules 1-6:
# - the six "Rows with two performers" (SOURCES.md's own table);
# - 000 Pengumpulan Step_02 ("so the receiver of the order forms the team") and Step_04
#   ("the only row for the Staf column": chosen so the column has a step);
# - 000 Evaluasi Step_07 ("siap diajukan kepada Kabag ... here means ready for his signature");
# - 001 Step_05, Step_06: "Sek. Tim SAKIP" is "read as the Ka.Subag";
# - 004 IKU Step_01 and Pelaporan Step_01 ("first column; the Tim works first as in ...");
# - 004 Pelaporan Step_09 (Kasubag Umum: "no 'Memerintahkan Staf' row here, unlike the other tables").
# Seed 003 (OCR'd scan) has no columns left in its text: SOURCES.md reconstructs every row by hand.
JUDGEMENT = {
    ("sop_pengumpulan_data_kinerja_bagian", "Step_07a"), ("sop_evaluasi_bagian", "Step_03"),
    ("sop_penyusunan_lakip_dinas", "Step_06"), ("sop_pemantauan_kinerja_kecamatan", "Step_08"),
    ("sop_pengukuran_kinerja_kecamatan", "Step_08"),
    ("sop_pengumpulan_data_kinerja_bagian", "Step_02"), ("sop_pengumpulan_data_kinerja_bagian", "Step_04"),
    ("sop_evaluasi_bagian", "Step_07"),
    ("sop_pelaporan_kinerja_periodik_dinas", "Step_05"), ("sop_pelaporan_kinerja_periodik_dinas", "Step_06"),
    ("sop_pengumpulan_data_iku_kecamatan", "Step_01"), ("sop_pelaporan_kinerja_kecamatan", "Step_01"),
    ("sop_pelaporan_kinerja_kecamatan", "Step_09"),
}


def _norm(name: str) -> str:
    return "".join(name.split()).casefold()


def seed_lane_matches() -> list[tuple[str, str, bool]]:
    """(process id, step id, imported lane == SOURCES.md lane) for every row of the readable seeds."""
    found = []
    for seed, process_ids in SEED_TABLES.items():
        drafts = read_text((SEEDS / seed).read_bytes(), seed)
        assert len(drafts) == len(process_ids), seed
        for (draft, _report), process_id in zip(drafts, process_ids, strict=True):
            diagram = read_diagram(Path(__file__).parents[2] / "bpmn" / f"{process_id}.bpmn")
            assert len(draft.rows) == len(diagram.rows), process_id
            for row, expected in zip(draft.rows, diagram.rows, strict=True):
                lane = draft.lanes[row.lanes[0]].name if row.lanes else ""
                found.append((process_id, expected.step_id, _norm(lane) == _norm(expected.lane)))
    return found


def test_seed_lanes_match_sources_md_except_judgement_calls() -> None:
    matches = seed_lane_matches()
    wrong = [(p, s) for p, s, ok in matches if not ok and (p, s) not in JUDGEMENT]
    assert wrong == []
    # Judgement calls are not required, but most still match (the figure is in the report).
    assert sum(ok for *_, ok in matches) / len(matches) >= 0.9


def test_every_inferred_lane_is_reported_for_confirmation() -> None:
    (draft, report), = read_text((SEEDS / "001_759fb276d00fb359.txt").read_bytes(), "001.txt")
    lane_findings = [f for f in report.findings if "Pelaksana" in f.message]
    assert len(lane_findings) == len(draft.rows) and all(f.confirm for f in lane_findings)
    assert all(row.lane_inferred for row in draft.rows)


def test_seed_reviews_get_their_tidak_targets() -> None:
    results = import_document((SEEDS / "004_c33272c829c45490.txt").read_bytes(), "004.txt", deployed_names())
    perencanaan = results[0]
    rows = perencanaan.draft.rows
    assert [(r.label, rows[r.tidak].label) for r in rows if r.review] == [("6", "5"), ("7", "6")]
    text = perencanaan.report.text(perencanaan.draft)
    assert "baris 6: Arah 'Tidak' ke 'Staf'" in text and "perlu dikonfirmasi" in text


def test_ocr_text_without_columns_is_refused_clearly() -> None:
    with pytest.raises(SopImportError, match="Tidak ditemukan tabel SOP"):
        read_text((SEEDS / "003_5673e55a475cea00.txt").read_bytes(), "003.txt")


@pytest.mark.parametrize("path", DIAGRAMS, ids=lambda p: p.stem)
def test_tsv_round_trip(path: Path) -> None:
    """diagram -> TSV with marks -> import: same lanes, step lanes, reviews and Tidak targets,
    Mutu Baku and called SOPs."""
    names = deployed_names()
    diagram = read_diagram(path)
    (result,) = import_document(to_tsv(diagram, names), f"{path.stem}.tsv", names)
    assert _comparable(result) == diagram.comparable()


def _comparable(result: ImportedSop) -> dict[str, object]:
    draft = result.draft
    return {
        "lanes": [" ".join(lane.name.split()).casefold() for lane in draft.lanes],
        "steps": [(draft.lanes[r.lanes[0]].name.casefold(), r.tidak if r.review else None,
                   r.kelengkapan, r.waktu, r.output, r.calls) for r in draft.rows],
    }


def test_tsv_identity_part_is_read_as_from_pdf_and_xlsx() -> None:
    names = deployed_names()
    diagram = read_diagram(DIAGRAMS[0])
    (result,) = import_document(to_tsv(diagram, names, identity=True), "sop.tsv", names)
    draft = result.draft
    assert draft.name == diagram.name
    assert draft.identity == {"Nomor SOP": "SOP-2-17/17000/2026", "Tanggal Pembuatan": "2 Januari 2026",
                              "Tanggal Efektif": "5 Januari 2026", "Disahkan oleh": "Kepala Dinas",
                              "NIP": "197001011990031001", "Nama pengesah": "Drs. Budi Santoso, M.Si"}
    assert draft.header == {
        "dasarHukum": ["Peraturan Menteri PANRB Nomor 35 Tahun 2012 tentang Pedoman Penyusunan SOP "
                       "Administrasi Pemerintahan", "Peraturan Bupati Nomor 7 Tahun 2024"],
        "kualifikasiPelaksana": ["Memahami tugas pokok dan fungsi", "Mampu mengoperasikan komputer"],
        "keterkaitan": ["SOP Pengiriman Surat/Dokumen"], "peralatan": ["Komputer", "Printer"],
        "peringatan": ["Laporan terlambat bila SOP tidak dilaksanakan"],
        "pencatatan": ["Disimpan sebagai arsip elektronik"]}
    assert b'nomor="SOP-2-17/17000/2026" tanggalPembuatan="2026-01-02"' in result.bpmn
    assert b'tanggalEfektif="2026-01-05"' in result.bpmn and b"tanggalRevisi" not in result.bpmn
    assert b'nama="Drs. Budi Santoso, M.Si"' in result.bpmn and b'nip="197001011990031001"' in result.bpmn
    assert b"<alur:dasarHukum>Peraturan Bupati Nomor 7 Tahun 2024</alur:dasarHukum>" in result.bpmn
    assert _comparable(result) == diagram.comparable(), "the table reads as without the identity part"


def test_text_copy_that_lost_the_two_columns_splits_lists_by_numbering() -> None:
    """Seed 003's identity part (labels in pairs, then both lists), above a tab-separated table."""
    names = deployed_names()
    seed = (SEEDS / "003_5673e55a475cea00.txt").read_text(encoding="utf-8").split("\n")
    above = seed[:next(i for i, line in enumerate(seed) if line.startswith("PELAKSANA"))]
    above += ["Nomor SOP : 061/12/SKPD/2024", "Tanggal Pembuatan : 2 Januari 2024", ""]
    table = to_tsv(read_diagram(DIAGRAMS[0]), names).decode("utf-8")
    (result,) = import_document(("\n".join(above) + "\n" + table).encode("utf-8"), "003-tsv.txt", names)
    header = result.draft.header
    assert header["dasarHukum"][0] == ("Permenpan dan RB Nomor 35 Tahun 2012 tentang Pedoman Penyusunan SOP "
                                       "Administrasi Pemerintahan")
    assert len(header["dasarHukum"]) == 2
    assert header["kualifikasiPelaksana"] == ["Memiliki kemampuan mengolah data",
                                              "Mengetahui mekanisme pembuatan laporan"]
    assert header["keterkaitan"] == ["SOP Perjanjian Kinerja"]
    assert header["peralatan"] == ["Internet", "Komputer", "Printer", "ATK"]
    assert header["peringatan"][0].startswith("Jika pengukuran kinerja tidak dilaksanakan")
    assert header["pencatatan"][0].startswith("Rumusan rencana sasaran kinerja")
    assert result.draft.identity == {"Nomor SOP": "061/12/SKPD/2024", "Tanggal Pembuatan": "2 Januari 2024"}
    guesses = [f.message for f in result.report.findings if f.confirm and "dipisah menurut penomoran" in f.message]
    assert len(guesses) == 3 and "Dasar Hukum dan Kualifikasi Pelaksana" in guesses[0]
