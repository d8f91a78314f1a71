"""Ruang Auditor pages: search and exports, verification, re-execution, the report, the read log."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import text

from engine import demo, instances, riwayat
from engine.database import Database

END = datetime.now(UTC)


@pytest.fixture
def runs(database: Database) -> list[int]:
    """Two months of runs in every unit, plus a finished demo run with a review loop in the Kecamatan."""
    riwayat.generate(database.transaction, months=2, per_month=2, seed=5, end=END)
    result = demo.run_sop(database.transaction, "sop_pelaporan_kinerja_kecamatan", "Laporan", "kecamatan-contoh")
    assert result.finished and result.instance_id is not None
    return [result.instance_id]


EXPORT_HEADER = ["No. proses", "Perihal", "SOP", "Versi SOP", "Unit kerja", "Status", "Dimulai", "Selesai",
                 "Dimulai oleh", "Langkah terlambat", "Putaran \u201ctidak\u201d", "Kode SOP (untuk mesin)",
                 "Kode unit (untuk mesin)"]


def _csv(body: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))


def test_search_pages_filters_and_exports(client: FlaskClient, auth, runs: list[int]) -> None:
    auth.login("evaluator.kecamatan")
    page = client.get("/audit?urut=terlama")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="results"' in html and "bagian-organisasi" not in html.split('id="results"')[1]
    exported = _csv(client.get("/audit/ekspor.csv").get_data(as_text=True))
    assert exported[0] == EXPORT_HEADER and len(exported) > 2
    assert {row[4] for row in exported[1:]} == {"Kecamatan Contoh"}  # the evaluator's scope only, by name
    assert {row[12] for row in exported[1:]} == {"kecamatan-contoh"}  # the code only in its column for machines
    assert {row[5] for row in exported[1:]} <= {"Berjalan", "Selesai", "Galat"}
    assert all(re.fullmatch(r"\d{1,2} \w{3} \d{4}, \d{2}\.\d{2} WIT", row[6]) for row in exported[1:])  # Papua
    for row in exported[1:]:  # no code, username or English status outside the two code columns
        assert not any(re.fullmatch(r"[a-z0-9_.-]+", cell) and not cell.isdigit() for cell in row[:11]), row
    late = _csv(client.get("/audit/ekspor.csv?terlambat=y").get_data(as_text=True))[1:]
    assert late and all(int(row[9]) > 0 for row in late)
    book = load_workbook(io.BytesIO(client.get("/audit/ekspor.xlsx?perbaikan=y").data), read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    assert list(rows[0]) == EXPORT_HEADER and len(rows) > 1 and all(row[10] > 0 for row in rows[1:])
    assert str(runs[0]) in {str(row[0]) for row in rows[1:]}
    with client.session_transaction() as browser:
        browser["lang"] = "en"
    english = _csv(client.get("/audit/ekspor.csv").get_data(as_text=True))
    assert english[0][:3] == ["Case no.", "Subject (perihal)", "SOP"] and english[0][-2:] == [
        "SOP code (for machines)", "Unit code (for machines)"]


@pytest.mark.parametrize("query", ["dimulai_dari=2026-13-01", "peserta=tidak.ada", "setelah=xx", "unit=planet",
                                   "urut=acak", "teks=" + "x" * 300])
def test_careless_search_input_is_a_clear_422(client: FlaskClient, auth, query: str) -> None:
    auth.login("auditor.inspektorat")
    response = client.get(f"/audit?{query}")
    assert response.status_code == 422
    assert client.get(f"/audit/ekspor.csv?{query}").status_code in (200, 422)


def test_keyset_pages_cover_every_row_once(client: FlaskClient, auth, runs: list[int]) -> None:
    auth.login("auditor.inspektorat")
    seen: list[str] = []
    url = "/audit?urut=judul"
    while url:
        html = client.get(url).get_data(as_text=True)
        seen.extend(re.findall(r'data-instance-id="(\d+)"', html))
        found = re.search(r'id="next-page" href="([^"]+)"', html)
        url = found.group(1).replace("&amp;", "&") if found else ""
    everything = _csv(client.get("/audit/ekspor.csv?urut=judul").get_data(as_text=True))[1:]
    assert seen == [row[0] for row in everything] and len(seen) > 10  # pages of 50: engine tests page by 2


def test_verify_rerun_and_timeline_of_an_instance(client: FlaskClient, auth, runs: list[int],
                                                   database: Database) -> None:
    instance_id = runs[0]
    auth.login("camat.contoh")  # the head of the Kecamatan reads it, without being an auditor
    assert 'data-intact="true"' in client.get(f"/proses/{instance_id}/verifikasi").get_data(as_text=True)
    assert 'data-clean="true"' in client.get(f"/proses/{instance_id}/putar-ulang").get_data(as_text=True)
    timeline = client.get(f"/proses/{instance_id}/linimasa.json").get_json()
    assert timeline["diagrams"][0]["root"] and timeline["events"][0]["kind"] == "instance_started"
    assert any(e["keputusan"] == "tidak" for e in timeline["events"])
    assert all(e["actor"] is None or "." not in e["actor"].split(",")[0].split()[0] for e in timeline["events"])
    page = client.get(f"/proses/{instance_id}").get_data(as_text=True)
    assert 'id="step-runs"' in page and "2 dari 2" in page and 'id="timeline"' in page
    filtered = client.get(f"/proses/{instance_id}?jenis=task_completed").get_data(as_text=True)
    assert 'data-kind="task_ready"' not in filtered.split('id="history"')[1]
    with database.transaction() as session:
        session.execute(text("DROP TRIGGER audit_event_no_update"))
        session.execute(text("UPDATE audit_event SET keputusan = 'setuju' WHERE instance_id = :i "
                             "AND keputusan = 'tidak'"), {"i": instance_id})
    broken = client.get(f"/proses/{instance_id}/verifikasi").get_data(as_text=True)
    assert 'data-intact="false"' in broken and "diubah" in broken
    assert 'data-clean="false"' in client.get(f"/proses/{instance_id}/putar-ulang").get_data(as_text=True)


def test_outsiders_get_404_and_auditors_never_act(client: FlaskClient, auth, runs: list[int],
                                                   database: Database) -> None:
    instance_id = runs[0]
    auth.login("kadin.kominfo")
    for url in (f"/proses/{instance_id}/verifikasi", f"/proses/{instance_id}/putar-ulang",
                f"/proses/{instance_id}/linimasa.json", "/audit/akses"):
        assert client.get(url).status_code == 404, url
    auth.logout()
    auth.login("auditor.inspektorat")
    with database.transaction() as session:
        started = instances.start_instance(session, process_id="sop_surat_masuk", unit_code="dinas-kominfo",
                                           title="Surat uji", username="staf1.kominfo")
    task_id = started.ready_tasks[0].id
    page = client.get(f"/tugas/{task_id}").get_data(as_text=True)
    assert 'id="task-read-only"' in page and 'id="task-form"' not in page
    assert client.post(f"/tugas/{task_id}", data={"selesai": "Selesai"}).status_code in (400, 404)


def test_the_report_and_its_exports(client: FlaskClient, auth, runs: list[int]) -> None:
    auth.login("auditor.inspektorat")
    start = (END - timedelta(days=365)).date().isoformat()
    page = client.get(f"/audit/kepatuhan?dari={start}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for table in ("months-table", "sops-table", "steps-table", "roles-table", "units-table", "waits-table"):
        assert f'id="{table}"' in html
    assert 'id="heatmap"' in html and "data-shares" in html
    rows = _csv(client.get(f"/audit/kepatuhan.csv?dari={start}").get_data(as_text=True))
    assert rows[0][:4] == ["Tabel", "Nama", "Keterangan", "Waktu baku"]
    assert {r[0] for r in rows[1:]} == {"SOP", "Langkah", "Peran", "Unit kerja", "Bulan"}
    waktu = {r[3] for r in rows[1:] if r[0] == "Langkah"} - {""}
    assert waktu and all(re.fullmatch(r"\d+ (menit|jam|hari kerja|minggu)", w) for w in waktu), waktu  # not PT2H
    assert all(0 <= float(r[8]) <= 100 for r in rows[1:] if r[8])  # percentages
    book = load_workbook(io.BytesIO(client.get(f"/audit/kepatuhan.xlsx?dari={start}").data), read_only=True)
    assert {"Laporan", "SOP", "Langkah", "Peran", "Unit kerja", "Bulan"} <= set(book.sheetnames)
    assert client.get("/audit/kepatuhan?dari=2026-05-01&sampai=2026-01-01").status_code == 422
    kecamatan = client.get(f"/audit/kepatuhan.csv?dari={start}&unit=kecamatan-contoh").get_data(as_text=True)
    assert {r[2] for r in _csv(kecamatan)[1:] if r[0] == "Peran"} == {"Kecamatan Contoh"}
    assert "kecamatan-contoh" not in kecamatan and "sop_" not in kecamatan  # names, never codes
    html = client.get(f"/audit/kepatuhan?dari={start}").get_data(as_text=True)
    assert '<option value="kecamatan-contoh">Kecamatan Contoh</option>' in html  # the unit select shows names


def test_only_administrators_read_the_read_log(client: FlaskClient, auth, runs: list[int]) -> None:
    auth.login("auditor.inspektorat")
    client.get(f"/proses/{runs[0]}")
    client.get("/audit?terlambat=y")
    assert client.get("/audit/akses").status_code == 404
    auth.logout()
    auth.login("admin.alur")
    html = client.get("/audit/akses").get_data(as_text=True)
    assert "Dra. Lusiana Pardede" in html and f">{runs[0]}<" in html and "terlambat=y" in html
    assert "Dra. Lusiana Pardede" in client.get("/audit/akses?pengguna=auditor.inspektorat").get_data(as_text=True)
    assert "Lusiana" not in client.get("/audit/akses?pengguna=camat.contoh").get_data(as_text=True)


def test_the_report_as_pdf_carries_its_figures_and_the_latest_seal(
        client: FlaskClient, auth, runs: list[int], database: Database) -> None:
    import pdfplumber

    from engine import audit

    with database.transaction() as session:
        sealed = audit.seal(session)
    assert sealed is not None
    auth.login("auditor.inspektorat")
    start = (END - timedelta(days=365)).date().isoformat()
    html = client.get(f"/audit/kepatuhan?dari={start}").get_data(as_text=True)
    assert f'href="/audit/kepatuhan.pdf?dari={start}"' in html  # beside the CSV and XLSX links
    runs_shown = re.search(r'id="report-runs">(\d+)<', html).group(1)
    response = client.get(f"/audit/kepatuhan.pdf?dari={start}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    folder = Path(__file__).resolve().parents[2] / "test-artifacts" / "audit"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "kepatuhan.pdf").write_bytes(response.data)  # to look at (pdftoppm)
    with pdfplumber.open(io.BytesIO(response.data)) as pdf:
        text_ = "\n".join(page.extract_text() or "" for page in pdf.pages)
        pages = len(pdf.pages)
        footers = [(page.extract_text() or "").splitlines()[-1] for page in pdf.pages]
    assert pages >= 2 and all(f.endswith(f"Halaman {n} dari {pages}") for n, f in enumerate(footers, 1)), footers
    with client.session_transaction() as browser:
        browser["lang"] = "en"
    with pdfplumber.open(io.BytesIO(client.get(f"/audit/kepatuhan.pdf?dari={start}").data)) as pdf:
        english = [(page.extract_text() or "").splitlines()[-1] for page in pdf.pages]
    assert all(f.endswith(f"Page {n} of {len(english)}") for n, f in enumerate(english, 1)), english
    with client.session_transaction() as browser:
        browser["lang"] = "id"
    rows = _csv(client.get(f"/audit/kepatuhan.csv?dari={start}").get_data(as_text=True))
    sop = next(r for r in rows if r[0] == "SOP")
    assert "Kepatuhan Mutu Baku" in text_ and "Per langkah" in text_ and "Segel riwayat terakhir" in text_
    assert f"{runs_shown} langkah selesai" in text_
    assert sop[1] in text_.replace("\n", " ") and f" {sop[4]} " in text_  # an SOP's name and its number of runs
    assert str(sealed["seal_hash"])[:40] in text_.replace("\n", "")
    assert client.get("/audit/kepatuhan.pdf?dari=2026-05-01&sampai=2026-01-01").status_code == 422


def test_the_participant_filter_takes_a_name(client: FlaskClient, auth, runs: list[int]) -> None:
    """Auditors know people by name (issue 11): a part of a full name that fits one person is that person."""
    auth.login("evaluator.kecamatan")
    by_username = _csv(client.get("/audit/ekspor.csv?peserta=staf1.kecamatan").get_data(as_text=True))[1:]
    by_name = _csv(client.get("/audit/ekspor.csv?peserta=yuliana+tabuni").get_data(as_text=True))[1:]
    assert by_username and by_name == by_username
    several = client.get("/audit?peserta=a")
    assert several.status_code == 422 and "Lebih dari satu pegawai cocok" in several.get_data(as_text=True)
    assert client.get("/audit?peserta=Tidak+Ada+Orang").status_code == 422
    assert "(nama)" in client.get("/audit").get_data(as_text=True)  # the label asks for a name, not a username
