"""Proses (the cases lists) and claiming shared steps, on the pages and in the JSON API.

``sop_pelaporan_kinerja_kecamatan`` starts with a step of the Tim lane, held by
three people in the demo Kecamatan; its Camat reads every instance of the unit.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine import instances
from engine.database import Database
from tests.web.conftest import AuthActions, FormPost
from tests.web.test_api import ApiClient, Contract, _login_client

SOP, UNIT = "sop_pelaporan_kinerja_kecamatan", "kecamatan-contoh"


def _start(database: Database, title: str, username: str = "tim1.kecamatan") -> str:
    with database.transaction() as session:
        return instances.start_instance(session, process_id=SOP, unit_code=UNIT, title=title,
                                        username=username).ready_tasks[0].id


def _history(database: Database, task_id: str) -> list[str]:
    with database.transaction() as session:
        instance_id = instances.get_task(session, task_id).instance_id
        return [e.kind for e in instances.history_of(session, instance_id)]


@pytest.fixture
def contract(client: FlaskClient) -> Contract:
    """The document the app serves."""
    return Contract(client.get("/api/v1/openapi.json").get_json())


def test_lists_offer_the_unit_list_only_to_heads(client: FlaskClient, auth: AuthActions, database: Database,
                                                 form_post: FormPost) -> None:
    _start(database, "Laporan Kinerja Triwulan III 2026")
    _start(database, "Rencana Aksi 2027", username="tim2.kecamatan")
    auth.login("camat.contoh")
    page = client.get("/proses?daftar=unit&teks=triwulan").get_data(as_text=True)
    assert 'id="list-unit"' in page and "Laporan Kinerja Triwulan III 2026" in page
    assert "Rencana Aksi 2027" not in page
    assert "Daniel Mandowen, S.IP." in page and "Agustina Yikwa, S.E." in page  # the Tim's holders by name
    assert client.get("/proses?daftar=unit&urut=judul").get_data(as_text=True).index("Laporan") < \
        client.get("/proses?daftar=unit&urut=judul").get_data(as_text=True).index("Rencana")
    assert "Laporan Kinerja" not in client.get("/proses?daftar=unit&status=selesai").get_data(as_text=True)
    assert "Langkah sekarang:" in page and "Terbaru dimulai" in page and 'data-late' not in page
    form_post(client, "/bahasa", {"lang": "en"}, page="/proses")  # texts looked up once per page and language
    english = client.get("/proses?daftar=unit&teks=triwulan").get_data(as_text=True)
    assert "Current step:" in english and "Newest started" in english and "Started " in english
    assert "Terbaru dimulai" not in english and "Langkah sekarang" not in english
    form_post(client, "/bahasa", {"lang": "id"}, page="/proses")
    assert "Terbaru dimulai" in client.get("/proses?daftar=unit").get_data(as_text=True)
    auth.logout()
    auth.login("staf1.kecamatan")
    page = client.get("/proses").get_data(as_text=True)
    assert 'id="list-unit"' not in page and 'id="no-cases"' in page  # nothing of Staf's yet
    assert client.get("/proses?daftar=unit").status_code == 422
    assert client.get("/proses?setelah=rusak").status_code == 422
    auth.logout()
    auth.login("tim2.kecamatan")
    mine = client.get("/proses?daftar=mulai").get_data(as_text=True)
    assert "Rencana Aksi 2027" in mine and "Laporan Kinerja" not in mine
    involved = client.get("/proses?daftar=terlibat").get_data(as_text=True)
    assert "Rencana Aksi 2027" in involved and "Laporan Kinerja" in involved  # ready for the Tim


def test_claimed_step_cannot_be_completed_by_a_teammate(client: FlaskClient, auth: AuthActions,
                                                        form_post: FormPost, database: Database) -> None:
    task_id = _start(database, "Laporan Kinerja Triwulan III 2026")
    auth.login("tim1.kecamatan")
    assert form_post(client, f"/tugas/{task_id}/ambil", {}, page=f"/tugas/{task_id}").status_code == 302
    assert 'id="claimed"' in client.get("/").get_data(as_text=True)  # "Sedang saya kerjakan"
    auth.logout()
    auth.login("tim2.kecamatan")
    page = client.get(f"/tugas/{task_id}").get_data(as_text=True)
    assert "Sedang dikerjakan oleh Daniel Mandowen, S.IP. sejak" in page and 'id="task-form"' not in page
    assert "sedang dikerjakan oleh Daniel Mandowen" in client.get("/").get_data(as_text=True)
    before = _history(database, task_id)
    refused = form_post(client, f"/tugas/{task_id}", {"selesai": "Selesai"}, page="/")
    assert refused.status_code == 409 and "sedang dikerjakan oleh" in refused.get_data(as_text=True)
    again = form_post(client, f"/tugas/{task_id}/ambil", {}, page="/")
    assert again.status_code == 409 and "Tidak ada yang diubah" in again.get_data(as_text=True)
    assert _history(database, task_id) == before
    assert form_post(client, f"/tugas/{task_id}/lepas", {}, page="/").status_code == 409
    auth.logout()
    auth.login("staf1.kecamatan")  # not of the lane: 404, as for a task that does not exist
    assert form_post(client, f"/tugas/{task_id}/ambil", {}, page="/").status_code == 404
    auth.logout()
    auth.login("camat.contoh")
    page = client.get(f"/tugas/{task_id}").get_data(as_text=True)
    assert 'id="reassign-form"' in page and 'id="claim-button"' not in page
    assert form_post(client, f"/tugas/{task_id}/alihkan", {"kepada": "tim3.kecamatan"},
                     page=f"/tugas/{task_id}").status_code == 302
    assert _history(database, task_id)[-1] == "task_claim_reassigned"


def test_api_lists_and_claims(app: Flask, contract: Contract, database: Database) -> None:
    task_id = _start(database, "Laporan Kinerja Triwulan III 2026")
    camat = ApiClient(_login_client(app, "camat.contoh"), contract)
    found = camat.get("/cases?daftar=unit&teks=TRIWULAN&terlambat=false").get_json()
    assert [c["title"] for c in found["cases"]] == ["Laporan Kinerja Triwulan III 2026"]
    assert found["cases"][0]["steps"][0]["lane"] == "Tim" and found["lists"] == ["terlibat", "mulai", "unit"]
    assert camat.get("/cases?terlambat=ya").status_code == 422
    assert camat.get("/cases?limit=0").status_code == 422
    assert camat.get("/cases?dimulai_sampai=").status_code == 422  # an empty date is not "no bound" (schemathesis)
    for name in ("urut", "daftar"):  # nor an empty sort or list: their enums hold no "" (schemathesis)
        assert set(camat.get(f"/cases?{name}=").get_json()["error"]["fields"]) == {name}
    assert camat.get("/cases?dimulai_dari=2026-13-45").status_code == 422
    tim1 = ApiClient(_login_client(app, "tim1.kecamatan"), contract)
    tim2 = ApiClient(_login_client(app, "tim2.kecamatan"), contract)
    assert tim2.get("/cases?daftar=unit").status_code == 422
    claimed = tim1.post(f"/tasks/{task_id}/claim")
    assert claimed.status_code == 200 and claimed.get_json()["mine"]
    conflict = tim2.post(f"/tasks/{task_id}/complete", {})
    assert conflict.status_code == 409 and conflict.get_json()["error"]["code"] == "task_claimed"
    assert tim2.post(f"/tasks/{task_id}/claim").status_code == 409
    seen = tim2.get(f"/tasks/{task_id}").get_json()
    assert seen["claimed_by"] == "tim1.kecamatan" and not seen["can_complete"]
    assert camat.post(f"/tasks/{task_id}/reassign", {"kepada": "staf1.kecamatan"}).status_code == 422
    assert camat.post(f"/tasks/{task_id}/reassign", {"kepada": "tim2.kecamatan"}).get_json()["claimed_by"] \
        == "tim2.kecamatan"
    assert tim1.post(f"/tasks/{task_id}/release").status_code == 409
    assert tim2.post(f"/tasks/{task_id}/release").get_json()["claimed_by"] is None
