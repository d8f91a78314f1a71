"""Notifications in the web app: the list, the unread count in the navigation, read marks, e-mail settings,
and the inbox's escalation mark."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask.testing import FlaskClient

from engine import notifications
from engine.database import Database
from engine.settings import Settings
from engine.worker import Worker

KECAMATAN = "kecamatan-contoh"
PELAPORAN = "sop_pelaporan_kinerja_kecamatan"  # Step_01, lane Tim, Waktu 1 hari
BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"


def _unread(page: str) -> int:
    return int(re.search(r'id="nav-unread-count">(\d+)<', page).group(1))


def _worker(database: Database) -> None:
    """Run the due jobs: the worker, not the request, writes the "new step" notifications."""
    Worker(database, Settings(database_url=str(database.engine.url), bpmn_dir=BPMN_DIR)).drain()


def test_new_step_shows_in_the_list_and_count_until_read(client: FlaskClient, auth, start, form_post,
                                                         database: Database) -> None:
    auth.login("tim2.kecamatan")
    before = _unread(client.get("/").get_data(as_text=True))
    view = start(PELAPORAN, KECAMATAN, title="Laporan Triwulan III")
    assert _unread(client.get("/notifikasi").get_data(as_text=True)) == before  # not yet: the worker writes it
    _worker(database)
    page = client.get("/notifikasi").get_data(as_text=True)
    assert _unread(page) == before + 1
    assert "Langkah baru untuk Anda" in page and "Laporan Triwulan III" in page
    (note_id,) = re.findall(r'data-notification-id="(\d+)" data-kind="task_ready"', page)[:1]
    answer = form_post(client, "/notifikasi/baca", {"id": note_id, "task_id": view.ready_tasks[0].id},
                       page="/notifikasi")
    assert answer.status_code == 302 and answer.headers["Location"].endswith(f"/tugas/{view.ready_tasks[0].id}")
    assert _unread(client.get("/notifikasi").get_data(as_text=True)) == before


def test_mark_all_read_touches_only_my_notifications(client: FlaskClient, auth, start, form_post,
                                                     database: Database) -> None:
    start(PELAPORAN, KECAMATAN)
    _worker(database)
    auth.login("tim2.kecamatan")
    with database.transaction() as session:
        others_before = notifications.unread_count(session, "tim1.kecamatan")
    form_post(client, "/notifikasi/baca", {}, page="/notifikasi")
    assert _unread(client.get("/notifikasi").get_data(as_text=True)) == 0
    with database.transaction() as session:
        assert notifications.unread_count(session, "tim1.kecamatan") == others_before > 0
    # Someone else's notification id changes nothing either.
    with database.transaction() as session:
        foreign = notifications.list_for(session, "tim1.kecamatan")[0].id
    form_post(client, "/notifikasi/baca", {"id": str(foreign)}, page="/notifikasi")
    with database.transaction() as session:
        assert notifications.unread_count(session, "tim1.kecamatan") == others_before


def test_email_settings_are_saved_and_bad_input_is_refused(client: FlaskClient, auth, form_post,
                                                           database: Database) -> None:
    auth.login("staf1.kecamatan")
    saved = form_post(client, "/notifikasi/pengaturan", {"email": "staf1@kab-contoh.go.id", "mode": "digest"})
    assert saved.status_code == 302
    with database.transaction() as session:
        assert notifications.preference_of(session, "staf1.kecamatan") == ("staf1@kab-contoh.go.id", "digest")
    for bad in ({"email": "bukan alamat", "mode": "immediate"}, {"email": "a@b.go.id", "mode": "weekly"}):
        answer = form_post(client, "/notifikasi/pengaturan", bad)
        assert answer.status_code == 422
    with database.transaction() as session:
        assert notifications.preference_of(session, "staf1.kecamatan") == ("staf1@kab-contoh.go.id", "digest")


def test_pages_need_a_login(client: FlaskClient) -> None:
    assert client.get("/notifikasi").status_code == 302
    assert client.post("/notifikasi/baca").status_code in (302, 400)


def test_inbox_marks_an_escalated_step(client: FlaskClient, auth, start, database: Database) -> None:
    t0 = datetime(2026, 11, 22, 23, 0, tzinfo=UTC)
    view = start(PELAPORAN, KECAMATAN, title="Laporan terlambat", now=t0)
    settings = Settings(database_url=str(database.engine.url), bpmn_dir=BPMN_DIR)
    Worker(database, settings, clock=lambda: t0 + timedelta(days=10)).drain()
    auth.login("tim2.kecamatan")
    page = client.get("/").get_data(as_text=True)
    row = page[page.index(f'data-task-id="{view.ready_tasks[0].id}"'):]
    row = row[:row.index("</tr>")]
    assert "Dieskalasi" in row and "Terlambat" in row
    auth.logout()
    auth.login("sekretaris.kecamatan")  # the superior jabatan of the Tim in the demo Kecamatan (issue 9)
    listing = client.get("/notifikasi").get_data(as_text=True)
    assert 'data-kind="task_escalated"' in listing and "Eskalasi" in listing
    history = client.get(f"/proses/{view.id}").get_data(as_text=True)
    assert 'data-kind="task_escalated"' in history and "Maria Magdalena Rumbiak" in history  # the superior (Sekretaris), by name
    assert client.get(f"/tugas/{view.ready_tasks[0].id}").status_code == 200  # the escalation's link opens
    auth.logout()
    auth.login("staf1.kecamatan")  # neither holder nor superior
    assert client.get(f"/proses/{view.id}").status_code == 404
