"""The task page and its form: Mutu Baku, completing, reviews, double submits, team picking.

SOP Pelaporan Kinerja (Kecamatan): Step_01 Tim, Step_02 Kasubag Evapor, Step_03 Staf,
Step_04 Kasubag Evapor review ("Tidak" -> Step_03), Step_05 Tim review, ...
SOP Perencanaan Kinerja (Kecamatan): Step_01 Camat, Step_02 Sekretaris forms the Tim,
Step_03 Tim.
"""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from engine import instances
from engine.database import Database
from tests.support import advance_until as _advance
from tests.support import ready_task as _ready

KECAMATAN = "kecamatan-contoh"
PELAPORAN = "sop_pelaporan_kinerja_kecamatan"
PERENCANAAN = "sop_perencanaan_kinerja_kecamatan"
KASUBAG = "kasubag.evapor.kecamatan"
OUTSIDE = "Diserahkan langsung dalam rapat staf"


def _history(database: Database, instance_id: int) -> list:
    with database.transaction() as session:
        return instances.history_of(session, instance_id)


def test_task_page_shows_kegiatan_and_mutu_baku(client: FlaskClient, auth, start) -> None:
    task = start(PELAPORAN, KECAMATAN).ready_tasks[0]
    auth.login("tim1.kecamatan")
    page = client.get(f"/tugas/{task.id}").get_data(as_text=True)
    for text in ("Rumuskan bahan laporan kinerja", "Merumuskan bahan laporan kinerja",  # name, Kegiatan
                 "Data Data Kinerja", "1 hari", "Bahan Penyusunan Laporan",             # Mutu Baku
                 "Batas waktu", "WIT", 'name="selesai"', 'name="catatan"'):
        assert text in page, text
    assert 'name="setuju"' not in page and 'name="tim"' not in page


def test_complete_a_step(client: FlaskClient, auth, form_post, start, database: Database) -> None:
    view = start(PELAPORAN, KECAMATAN)
    auth.login("tim1.kecamatan")
    response = form_post(client, f"/tugas/{view.ready_tasks[0].id}",
                         {"catatan": "Bahan dari 12 kelurahan", "selesai": "Selesai", "di_luar": OUTSIDE})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    inbox = client.get("/").get_data(as_text=True)
    assert "Tugas selesai: Rumuskan bahan laporan kinerja. Diteruskan ke Kasubag Evapor (Frans Kambu, S.E.)." in inbox
    assert _ready(database, view.id).step_id == "Step_02"
    completed = [e for e in _history(database, view.id) if e.kind == "task_completed"]
    assert [(e.actor, e.catatan) for e in completed] == [("tim1.kecamatan", "Bahan dari 12 kelurahan")]
    assert completed[0].data["data"] == {"dokumen_di_luar_sistem": OUTSIDE}  # kept for auditors
    page = client.get(f"/proses/{view.id}").get_data(as_text=True)
    assert f"Dokumen diserahkan di luar sistem: {OUTSIDE}" in page


def test_a_step_whose_output_names_a_document_needs_it_or_a_reason(client: FlaskClient, auth, form_post, start,
                                                                   database: Database) -> None:
    view = start(PELAPORAN, KECAMATAN)
    task = view.ready_tasks[0]
    auth.login("tim1.kecamatan")
    page = client.get(f"/tugas/{task.id}").get_data(as_text=True)
    assert "Dokumen Output: Bahan Penyusunan Laporan" in page and 'name="di_luar"' in page
    assert "Boleh dikosongkan." not in page.split('id="dokumen-help"')[1].split("</div>")[0]
    before = _history(database, view.id)
    for reason in ("", "   "):
        response = form_post(client, f"/tugas/{task.id}", {"selesai": "Selesai", "di_luar": reason})
        assert response.status_code == 422
        assert "unggah dokumennya, atau tulis alasan" in response.get_data(as_text=True)
    bad = form_post(client, f"/tugas/{task.id}", {"selesai": "Selesai", "di_luar": "x\x07y"})
    assert bad.status_code == 422
    assert _history(database, view.id) == before and _ready(database, view.id).id == task.id


def test_a_review_step_asks_for_no_output_document(client: FlaskClient, auth, start, database: Database) -> None:
    view = start(PELAPORAN, KECAMATAN)
    review = _advance(database, view.id, "Step_04")
    auth.login(KASUBAG)
    page = client.get(f"/tugas/{review.id}").get_data(as_text=True)
    assert 'name="di_luar"' not in page and "Boleh dikosongkan." in page


def test_review_tidak_without_catatan_is_refused(client: FlaskClient, auth, form_post, start,
                                                 database: Database) -> None:
    view = start(PELAPORAN, KECAMATAN)
    review = _advance(database, view.id, "Step_04")
    before = len(_history(database, view.id))
    auth.login(KASUBAG)
    page = client.get(f"/tugas/{review.id}").get_data(as_text=True)
    assert 'name="setuju"' in page and 'name="tidak"' in page and "Pemeriksaan" in page

    for catatan in ("", "   "):
        response = form_post(client, f"/tugas/{review.id}", {"catatan": catatan, "tidak": "Tidak"})
        assert response.status_code == 422
        text = response.get_data(as_text=True)
        assert "Catatan belum diisi." in text
        assert text.count("tulis apa yang harus diperbaiki") == 1  # the help, not repeated by the error
    response = form_post(client, f"/tugas/{review.id}", {"catatan": "Apa pun"})  # neither button
    assert response.status_code == 422 and "Pilih Setuju atau Tidak." in response.get_data(as_text=True)
    assert _ready(database, view.id).id == review.id
    assert len(_history(database, view.id)) == before


def test_review_tidak_sends_the_work_back_with_the_catatan(client: FlaskClient, auth, form_post, start,
                                                           database: Database) -> None:
    view = start(PELAPORAN, KECAMATAN)
    review = _advance(database, view.id, "Step_04")
    auth.login(KASUBAG)
    response = form_post(client, f"/tugas/{review.id}",
                         {"catatan": "Tabel capaian IKU belum lengkap", "tidak": "Tidak"})
    assert response.status_code == 302
    again = _ready(database, view.id)
    assert (again.step_id, again.iteration) == ("Step_03", 2)
    flashed = client.get("/").get_data(as_text=True)
    assert "Dikembalikan ke Staf (Yuliana Tabuni, Markus Wanimbo) untuk diperbaiki." in flashed

    auth.logout()
    auth.login("staf2.kecamatan")
    inbox = client.get("/").get_data(as_text=True)
    assert again.id in inbox and "Perbaikan ke-1" in inbox
    page = client.get(f"/tugas/{again.id}").get_data(as_text=True)
    alert = page.split('id="rejection"')[1].split("</div>\n</div>")[0]  # at the top, before the form
    assert "Tabel capaian IKU belum lengkap" in alert and "Frans Kambu" in alert
    assert page.index('id="rejection"') < page.index('id="task-form"')

    history = client.get(f"/proses/{view.id}").get_data(as_text=True)
    assert "Tabel capaian IKU belum lengkap" in history and "text-bg-danger" in history


def test_review_setuju_moves_on(client: FlaskClient, auth, form_post, start, database: Database) -> None:
    view = start(PELAPORAN, KECAMATAN)
    review = _advance(database, view.id, "Step_04")
    auth.login(KASUBAG)
    assert form_post(client, f"/tugas/{review.id}", {"setuju": "Setuju"}).status_code == 302
    assert _ready(database, view.id).step_id == "Step_05"
    (decision,) = [e for e in _history(database, view.id) if e.keputusan]
    assert (decision.keputusan, decision.catatan, decision.actor) == ("setuju", None, KASUBAG)


def test_double_submit_changes_nothing(client: FlaskClient, auth, csrf, start, database: Database) -> None:
    view = start(PELAPORAN, KECAMATAN)
    task = view.ready_tasks[0]
    auth.login("tim1.kecamatan")
    token = csrf(client, f"/tugas/{task.id}")
    form = {"catatan": "Sekali saja", "selesai": "Selesai", "di_luar": OUTSIDE, "csrf_token": token}
    assert client.post(f"/tugas/{task.id}", data=form).status_code == 302
    after_first = _history(database, view.id)

    second = client.post(f"/tugas/{task.id}", data=form)
    assert second.status_code == 409
    page = second.get_data(as_text=True)
    assert "Tugas ini sudah diselesaikan oleh Daniel Mandowen, S.IP." in page
    assert "Kiriman Anda tidak mengubah apa pun." in page
    assert 'id="task-form"' not in page
    assert _history(database, view.id) == after_first

    auth.logout()  # a team mate who had the form open too
    auth.login("tim2.kecamatan")
    late = client.post(f"/tugas/{task.id}", data={"selesai": "Selesai", "csrf_token": csrf(client, "/")})
    assert late.status_code == 409
    assert _history(database, view.id) == after_first
    assert "sudah diselesaikan" in client.get(f"/tugas/{task.id}").get_data(as_text=True)


def test_forming_a_team_picks_members_of_the_unit(client: FlaskClient, auth, form_post, start,
                                                  database: Database) -> None:
    view = start(PERENCANAAN, KECAMATAN, title="Rencana Kinerja 2027")
    forming = _advance(database, view.id, "Step_02")
    auth.login("sekretaris.kecamatan")
    page = client.get(f"/tugas/{forming.id}").get_data(as_text=True)
    choices = re.findall(r'name="tim" value="([^"]+)"', page)
    assert {"tim1.kecamatan", "staf1.kecamatan", "camat.contoh"} <= set(choices)
    # By jabatan then name; the picker herself and the unit head last; name and jabatan shown.
    assert set(choices[-2:]) == {"sekretaris.kecamatan", "camat.contoh"}
    assert choices[0] == "kasubag.evapor.kecamatan"
    assert re.search(r"Frans Kambu, S.E.\s*<span[^>]*>Kasubag Evapor</span>", page)
    assert 'id="team-search"' in page
    assert not any(c.endswith(".kominfo") or c.endswith(".organisasi") for c in choices)

    empty = form_post(client, f"/tugas/{forming.id}", {"selesai": "Selesai"})
    assert empty.status_code == 422 and "Pilih sedikitnya satu anggota tim." in empty.get_data(as_text=True)
    outsider = form_post(client, f"/tugas/{forming.id}", {"selesai": "Selesai", "tim": ["staf1.kominfo"]})
    assert outsider.status_code == 422
    assert _ready(database, view.id).id == forming.id

    done = form_post(client, f"/tugas/{forming.id}",
                     {"selesai": "Selesai", "tim": ["tim2.kecamatan", "staf1.kecamatan"]})
    assert done.status_code == 302
    team_task = _ready(database, view.id)
    assert team_task.step_id == "Step_03"
    history = client.get(f"/proses/{view.id}").get_data(as_text=True)
    assert "Tim dibentuk" in history and "Yuliana Tabuni, Agustina Yikwa, S.E." in history
    assert "staf1.kecamatan" not in history  # people, not usernames

    auth.logout()
    auth.login("tim2.kecamatan")
    assert team_task.id in client.get("/").get_data(as_text=True)
    assert client.get(f"/tugas/{team_task.id}").status_code == 200
    auth.logout()
    auth.login("tim1.kecamatan")  # holds the Tim role, but was not named to this team
    assert team_task.id not in client.get("/").get_data(as_text=True)
    assert client.get(f"/tugas/{team_task.id}").status_code == 404


def test_instance_page_links_only_the_users_own_steps(client: FlaskClient, auth, start, database: Database) -> None:
    view = start(PELAPORAN, KECAMATAN)
    step_02 = _advance(database, view.id, "Step_02")
    auth.login("tim1.kecamatan")  # did Step_01, may read the instance, cannot act on Step_02
    page = client.get(f"/proses/{view.id}").get_data(as_text=True)
    assert "Kumpulkan bahan laporan kinerja" in page
    assert f'href="/tugas/{step_02.id}"' not in page
    assert client.get(f"/tugas/{step_02.id}").status_code == 404
    auth.logout()
    auth.login(KASUBAG)
    assert f'href="/tugas/{step_02.id}"' in client.get(f"/proses/{view.id}").get_data(as_text=True)


def test_a_reviews_second_look_is_a_repeat_review(client: FlaskClient, auth, form_post, start,
                                                  database: Database) -> None:
    view = start(PELAPORAN, KECAMATAN)
    review = _advance(database, view.id, "Step_04")
    auth.login(KASUBAG)
    form_post(client, f"/tugas/{review.id}", {"catatan": "Perbaiki tabel", "tidak": "Tidak"})
    redo = _ready(database, view.id)
    with database.transaction() as session:
        instances.complete_task(session, redo.id, username="staf1.kecamatan")
    second = _ready(database, view.id)
    assert (second.step_id, second.iteration) == ("Step_04", 2)
    inbox = client.get("/").get_data(as_text=True)
    assert "Pemeriksaan ulang ke-1" in inbox and "Perbaikan ke-1" not in inbox
    assert "Pemeriksaan ulang ke-1" in client.get(f"/tugas/{second.id}").get_data(as_text=True)


def _visible(page: str) -> str:
    """The page's text without its tags, scripts and attributes."""
    return re.sub(r"<[^>]+>", " ", re.sub(r"<script.*?</script>", " ", page, flags=re.S))


def test_no_technical_ids_on_screen(client: FlaskClient, auth, start, database: Database) -> None:
    view = start(PELAPORAN, KECAMATAN)
    step = _advance(database, view.id, "Step_01")
    auth.login("tim1.kecamatan")
    for url in ("/mulai", f"/mulai/{PELAPORAN}", f"/proses/{view.id}", f"/tugas/{step.id}", "/"):
        text = _visible(client.get(url).get_data(as_text=True))
        assert KECAMATAN not in text and PELAPORAN not in text, url
        assert "baris " not in text, url
    form = client.get(f"/mulai/{PELAPORAN}").get_data(as_text=True)
    assert f'<option selected value="{KECAMATAN}">Kecamatan Contoh</option>' in form or \
        f'<option value="{KECAMATAN}">Kecamatan Contoh</option>' in form
