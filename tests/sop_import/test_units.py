"""Small parts of the importer: called-SOP matching, dates, labels, ids, kind detection, limits."""

from __future__ import annotations

import pytest

from engine.sop_import import detect_kind, import_document, pdf
from engine.sop_import.called import cite, match_sop
from engine.sop_import.writer import iso_date, process_id_for, short_name
from storage.errors import SopImportError
from tests.sop_import.diagrams import BPMN_DIR, deployed_names, read_diagram
from tests.sop_import.pdfs import to_pdf

KNOWN = {"sop_pengiriman_surat_dokumen": "SOP Pengiriman Surat/Dokumen",
         "sop_pengadministrasian_umum": "SOP Pengadministrasian Umum",
         "sop_rapat_koordinasi_internal_dinas": "SOP Rapat Koordinasi Internal Dinas",
         "sop_surat_masuk": "SOP Surat Masuk", "sop_fgd": "SOP FGD"}


@pytest.mark.parametrize(("keterangan", "expected"), [
    ("SOP Pengiriman", "sop_pengiriman_surat_dokumen"),
    ("SOP pengadministrasi umum", "sop_pengadministrasian_umum"),
    ("Lihat SOP Rapat Koordinasi Internal Dinas", "sop_rapat_koordinasi_internal_dinas"),
    ("sesuai SOP Surat Masuk", "sop_surat_masuk"),
    ("SOP Perjanjian Kinerja", None),
    ("Lihat SOP-2-17/17000/2024", None),
])
def test_citations_match_deployed_sops_by_name(keterangan: str, expected: str | None) -> None:
    citation = cite(keterangan)
    assert citation is not None
    found = match_sop(citation.text, KNOWN)
    assert (found[0] if found else None) == expected


@pytest.mark.parametrize("keterangan", [None, "", "Formula Pengukuran Kinerja : 1. Jumlah peserta : SOP pemrosesan",
                                        "Dikirim lewat pos"])
def test_text_that_only_mentions_an_sop_is_no_citation(keterangan: str | None) -> None:
    assert cite(keterangan) is None


@pytest.mark.parametrize(("text", "iso"), [("2 Januari 2026", "2026-01-02"), ("17 Agustus 2025", "2025-08-17"),
                                           ("05-01-2026", "2026-01-05"), ("2026-01-05", "2026-01-05"),
                                           ("31 Februari 2026", None), ("-", None), ("kemarin", None)])
def test_indonesian_dates(text: str, iso: str | None) -> None:
    assert iso_date(text) == iso


def test_labels_and_process_ids() -> None:
    assert short_name("Memeriksa hasil ketikan konsep rencana kinerja, Jika setuju diserahkan ke Tim") == \
        "Memeriksa hasil ketikan konsep rencana…"
    assert len(short_name("x" * 100)) <= 40
    assert process_id_for("SOP : Penyusunan LAKIP (Dinas)") == "sop_penyusunan_lakip_dinas"
    assert process_id_for("") == "sop_impor"


@pytest.mark.parametrize(("data", "kind"), [(b"%PDF-1.7\n", "pdf"), (b"PK\x03\x04rest", "xlsx"),
                                            (b"No\tKegiatan\tPelaksana", "teks")])
def test_kind_from_the_first_bytes(data: bytes, kind: str) -> None:
    assert detect_kind(data, "berkas") == kind


@pytest.mark.parametrize("data", [b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 10, b"\x89PNG\r\n\x1a\n\0\0\0"])
def test_other_binary_formats_are_refused(data: bytes) -> None:
    with pytest.raises(SopImportError):
        detect_kind(data, "berkas")


def test_empty_file_is_refused() -> None:
    with pytest.raises(SopImportError, match="kosong"):
        import_document(b"", "kosong.pdf", KNOWN)


def test_pdf_over_the_time_budget_stops_with_the_page(monkeypatch: pytest.MonkeyPatch) -> None:
    names = deployed_names()
    data = to_pdf(read_diagram(BPMN_DIR / "sop_fgd.bpmn"), names)
    monkeypatch.setattr(pdf, "TIME_BUDGET_S", 0.0)
    with pytest.raises(SopImportError, match="Waktu membaca PDF habis") as caught:
        import_document(data, "fgd.pdf", names)
    assert caught.value.page == 1
