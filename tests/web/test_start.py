"""Starting an SOP from the web: which SOPs are offered, perihal, incoming letters."""

from __future__ import annotations

import logging
import re

import pytest
from flask.testing import FlaskClient

from engine import instances
from engine.catalog import latest_definition
from engine.database import Database
from web.instances import starts_from_letter

PELAPORAN = "sop_pelaporan_kinerja_kecamatan"
EVALUASI = "sop_dokumen_evaluasi_kinerja_kecamatan"  # Camat's first step takes "Surat masuk"


def _offered(page: str) -> set[str]:
    return set(re.findall(r'data-process-id="([^"]+)"', page))


def test_offers_the_sops_whose_first_step_is_the_users(client: FlaskClient, auth, database: Database) -> None:
    auth.login("tim1.kecamatan")
    offered = _offered(client.get("/mulai").get_data(as_text=True))
    assert offered == {PELAPORAN, "sop_pengumpulan_data_iku_kecamatan"}
    with database.transaction() as session:
        for process_id in offered:
            assert "tim1.kecamatan" in instances.starters(session, process_id, "kecamatan-contoh")

    auth.logout()
    auth.login("camat.contoh")
    offered = _offered(client.get("/mulai").get_data(as_text=True))
    assert EVALUASI in offered and "sop_perencanaan_kinerja_kecamatan" in offered
    assert PELAPORAN not in offered


def test_start_with_a_perihal(client: FlaskClient, auth, form_post, database: Database) -> None:
    auth.login("tim1.kecamatan")
    page = client.get(f"/mulai/{PELAPORAN}").get_data(as_text=True)
    assert 'name="nomor_surat"' not in page  # this SOP does not start from a letter
    response = form_post(client, f"/mulai/{PELAPORAN}",
                         {"title": "Laporan Kinerja Triwulan III 2026", "unit": "kecamatan-contoh"})
    assert response.status_code == 302
    with database.transaction() as session:
        (first,) = instances.inbox(session, "tim1.kecamatan")
    assert response.headers["Location"] == f"/tugas/{first.id}"  # the first step is the starter's: go to it
    instance_id = first.instance_id
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "SOP dimulai: Laporan Kinerja Triwulan III 2026" in page
    assert "Rumuskan bahan laporan kinerja" in page
    with database.transaction() as session:
        view = instances.get_instance(session, instance_id)
        assert view.title == "Laporan Kinerja Triwulan III 2026" and view.unit_code == "kecamatan-contoh"
        assert [t.id for t in instances.inbox(session, "tim1.kecamatan")] == [view.ready_tasks[0].id]


@pytest.mark.parametrize("data", [
    {"title": "", "unit": "kecamatan-contoh"},
    {"title": "   ", "unit": "kecamatan-contoh"},
    {"title": "Laporan", "unit": "dinas-kominfo"},  # not a unit where the user may start it
])
def test_invalid_start_creates_nothing(client: FlaskClient, auth, form_post, database: Database,
                                       data: dict[str, str]) -> None:
    auth.login("tim1.kecamatan")
    response = form_post(client, f"/mulai/{PELAPORAN}", data)
    assert response.status_code == 422
    with database.transaction() as session:
        assert instances.inbox_count(session, "tim1.kecamatan") == 0


def test_letter_sop_asks_for_nomor_and_tanggal(client: FlaskClient, auth, form_post, database: Database) -> None:
    auth.login("camat.contoh")
    page = client.get(f"/mulai/{EVALUASI}").get_data(as_text=True)
    assert 'name="nomor_surat"' in page and 'type="date"' in page
    missing = form_post(client, f"/mulai/{EVALUASI}", {"title": "Evaluasi 2026", "unit": "kecamatan-contoh"})
    assert missing.status_code == 422
    assert "Isi nomor surat masuk." in missing.get_data(as_text=True)

    response = form_post(client, f"/mulai/{EVALUASI}", {
        "title": "Evaluasi Kinerja 2026", "unit": "kecamatan-contoh",
        "nomor_surat": "800/115/BAG.ORG", "tanggal_surat": "2026-03-05"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/tugas/")
    with database.transaction() as session:
        instance_id = instances.get_task(session, response.headers["Location"].rsplit("/", 1)[1]).instance_id
    page = client.get(f"/proses/{instance_id}").get_data(as_text=True)
    assert "Nomor 800/115/BAG.ORG, tanggal 5 Maret 2026" in page
    with database.transaction() as session:
        started = instances.history_of(session, instance_id)[0]
    assert started.data["input"] == {"nomor_surat": "800/115/BAG.ORG", "tanggal_surat": "2026-03-05"}


def test_which_sops_start_from_a_letter(database: Database) -> None:
    letters = {"sop_dokumen_evaluasi_kinerja_kecamatan", "sop_pelaporan_kinerja_periodik_dinas",
               "sop_pengukuran_kinerja_pegawai_dinas", "sop_surat_masuk"}
    others = {PELAPORAN, "sop_evaluasi_bagian", "sop_pengiriman_surat_dokumen", "sop_penyusunan_lakip_dinas"}
    with database.transaction() as session:
        for process_id in letters | others:
            assert starts_from_letter(latest_definition(session, process_id)) == (process_id in letters), process_id


@pytest.mark.parametrize("process_id", ["sop_perencanaan_kinerja_kecamatan", "sop_evaluasi_bagian", "sop_tidak_ada"])
def test_sop_the_user_cannot_start_is_404(client: FlaskClient, auth, csrf, caplog: pytest.LogCaptureFixture,
                                          process_id: str) -> None:
    auth.login("staf1.kecamatan")
    with caplog.at_level(logging.WARNING, logger="alur.web.access"):
        assert client.get(f"/mulai/{process_id}").status_code == 404
        token = csrf(client, "/mulai")
        response = client.post(f"/mulai/{process_id}", data={"title": "x", "unit": "kecamatan-contoh",
                                                              "csrf_token": token})
    assert response.status_code == 404
    assert sum(f"process={process_id}" in r.getMessage() for r in caplog.records) == 2
