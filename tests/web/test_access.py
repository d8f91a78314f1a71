"""Authorization matrix: every role of every demo unit, and every access grant, against an instance;
every demo user against the administrator's login record (``/admin/masuk``).

For one instance per unit (its first step done, its second ready), each role's
first holder and each demo holder of an access grant asks for the done task,
the ready task, the instance page, and posts the ready task's form with a valid
CSRF token of their own session. Holders of a lane of the instance see it and
the tasks of their lanes; the head and the secretary of its unit, and auditors
whose scope covers its unit, read the instance and every task of it but never
act (the POST is refused); everyone else gets 404 (the same answer as for an id
that does not exist). Refusals are logged, nothing changes, and what the
auditors opened is recorded.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from engine import access, audit, drafts, instances, logins
from engine.database import Database
from storage import definitions
from storage.demo import DEMO_ACCESS, DEMO_PASSWORD, DEMO_UNITS, demo_usernames
from tests.support import AUDITORS, OVERSEERS, ROLE_HOLDERS, SOP_OF_UNIT
from tests.support import access_scene as _scene

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _login(app: Flask, username: str):
    client = app.test_client()
    token = _CSRF.search(client.get("/masuk").get_data(as_text=True)).group(1)
    response = client.post("/masuk", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token})
    assert response.status_code == 302, username
    return client, _CSRF.search(client.get("/").get_data(as_text=True)).group(1)


@pytest.mark.parametrize("unit_code", sorted(SOP_OF_UNIT))
def test_every_role_against_an_instance(app: Flask, database: Database, start, unit_code: str,
                                        caplog: pytest.LogCaptureFixture) -> None:
    scene = _scene(database, start, unit_code)
    with database.transaction() as session:
        history_before = len(instances.history_of(session, scene.instance_id))
    lane_holders = scene.done_candidates | scene.ready_candidates
    wrong: list[str] = []
    checked_outsiders = 0
    caplog.set_level(logging.WARNING, logger="alur.web.access")
    people = [*ROLE_HOLDERS, *((a.home, "-", a.user.username) for a in DEMO_ACCESS)]
    for holder_unit, role, username in people:
        client, token = _login(app, username)
        reader = ((holder_unit == unit_code and role in OVERSEERS[unit_code])
                  or (username in AUDITORS and AUDITORS[username] in (None, unit_code)))
        expected = {
            f"GET /tugas/{scene.done_task}": 200 if username in scene.done_candidates or reader else 404,
            f"GET /tugas/{scene.ready_task}": 200 if username in scene.ready_candidates or reader else 404,
            f"GET /proses/{scene.instance_id}": 200 if username in lane_holders or reader else 404,
        }
        if username not in scene.ready_candidates:
            expected[f"POST /tugas/{scene.ready_task}"] = 404
        for request, status in expected.items():
            method, url = request.split(" ")
            if method == "GET":
                response = client.get(url)
            else:
                response = client.post(url, data={"csrf_token": token, "catatan": "coba", "selesai": "Selesai",
                                                  "setuju": "Setuju"})
            if response.status_code != status:
                wrong.append(f"{holder_unit}/{role} ({username}) {request}: {response.status_code}, expected {status}")
            if status == 404 and scene.title in response.get_data(as_text=True):
                wrong.append(f"{username} {request}: the 404 page shows the instance title")
        refusals = sum(f"user={username} " in r.getMessage() for r in caplog.records)
        if refusals != sum(s == 404 for s in expected.values()):
            wrong.append(f"{username}: {refusals} refusals logged")
        caplog.clear()
        checked_outsiders += holder_unit != unit_code and role != "-"
    assert wrong == []
    assert checked_outsiders == sum(len(u.roles) for u in DEMO_UNITS if u.code != unit_code)
    with database.transaction() as session:
        log = audit.read_log(session)
    readers = {e.username for e in log}
    assert readers == {u for u, scope in AUDITORS.items() if scope in (None, unit_code)}
    for username in readers:  # the instance and both tasks (the refused POST opened the ready one again)
        assert sorted((e.what, e.key) for e in log if e.username == username) == sorted(
            [("instance", str(scene.instance_id)), ("task", scene.done_task), ("task", scene.ready_task),
             ("task", scene.ready_task)])
    with database.transaction() as session:
        assert len(instances.history_of(session, scene.instance_id)) == history_before
        assert [t.id for t in instances.get_instance(session, scene.instance_id).ready_tasks] == [scene.ready_task]


def test_ids_that_do_not_exist_answer_the_same(app: Flask) -> None:
    client, token = _login(app, "camat.contoh")
    for url in ("/tugas/00000000-0000-0000-0000-000000000000", "/tugas/x", "/proses/999999"):
        assert client.get(url).status_code == 404, url
    assert client.post("/tugas/x", data={"csrf_token": token}).status_code == 404


def _everyone() -> list[tuple[str, bool]]:
    """Every demo user and whether they hold the administrator grant."""
    administrators = {a.user.username for a in DEMO_ACCESS if any(k == "administrator" for k, _ in a.grants)}
    return [(username, username in administrators) for username in demo_usernames()]


def test_login_record_only_for_administrators(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    wrong: list[str] = []
    assert any(is_admin for _, is_admin in _everyone())
    caplog.set_level(logging.WARNING, logger="alur.web.access")
    for username, is_admin in _everyone():
        client, _token = _login(app, username)
        page = client.get("/admin/masuk")
        expected = 200 if is_admin else 404
        if page.status_code != expected:
            wrong.append(f"{username} GET /admin/masuk: {page.status_code}, expected {expected}")
        if not is_admin and ("Catatan masuk" in page.get_data(as_text=True)  # nor in the navigation
                             or 'href="/admin/masuk"' in page.get_data(as_text=True)):
            wrong.append(f"{username}: sees the login record or its link")
        if not is_admin and not any(f"user={username} " in r.getMessage() for r in caplog.records):
            wrong.append(f"{username}: refusal not logged")
        caplog.clear()
    assert wrong == []


def test_login_record_shows_attempts_newest_first_filtered_and_paged(app: Flask, database: Database) -> None:
    outsider = app.test_client()
    token = _CSRF.search(outsider.get("/masuk").get_data(as_text=True)).group(1)
    outsider.post("/masuk", data={"username": "penyusup", "password": "x", "csrf_token": token},
                  headers={"User-Agent": "curl/8.0"})
    with database.transaction() as session:  # more than a page (50 per page), without 60 slow hashes
        for _ in range(60):
            logins.record_attempt(session, username="staf1.kecamatan", address="10.0.0.9", user_agent="Firefox",
                                  outcome="success", now=datetime.now(UTC) - timedelta(minutes=5))
    client, _token = _login(app, "admin.alur")
    page = client.get("/admin/masuk").get_data(as_text=True)
    assert "62 percobaan masuk" in page and "Catatan masuk" in client.get("/").get_data(as_text=True) and "Halaman 1 dari 2" in page
    rows = re.findall(r"<code>([^<]+)</code>", page)
    assert rows[0:4:2] == ["admin.alur", "penyusup"]  # newest first (name, address, name, ...)
    assert "curl/8.0" in page and "tidak ada akun dengan nama ini" in page
    last = client.get("/admin/masuk?halaman=2").get_data(as_text=True)
    assert last.count("<code>staf1.kecamatan</code>") == 12 and "Halaman 2 dari 2" in last
    failed = client.get("/admin/masuk?hasil=gagal").get_data(as_text=True)
    assert "1 percobaan masuk" in failed and "penyusup" in failed and "staf1.kecamatan" not in failed
    mine = client.get("/admin/masuk?pengguna=admin.alur&hasil=berhasil").get_data(as_text=True)
    assert "1 percobaan masuk" in mine
    for hostile in ("?halaman=0", "?halaman=-1", "?halaman=99999999999999999999", "?halaman=abc",
                    "?hasil=semua", "?pengguna=%00" + "x" * 500):
        assert client.get("/admin/masuk" + hostile).status_code in (200, 404), hostile
    assert client.get("/admin/masuk?halaman=999").status_code == 200


def test_login_record_of_a_unit_administrator(app: Flask, database: Database) -> None:
    with database.transaction() as session:
        access.grant(session, "kadin.kominfo", "administrator", "dinas-kominfo")
    _login(app, "camat.contoh")
    _login(app, "staf1.kominfo")
    client, _token = _login(app, "kadin.kominfo")
    page = client.get("/admin/masuk").get_data(as_text=True)
    names = set(re.findall(r"<code>([^<]+)</code>", page)) - {"127.0.0.1"}
    assert {"kadin.kominfo", "staf1.kominfo"} <= names and "camat.contoh" not in names


# --- Studio SOP: everyone logged in views; analysts edit the SOPs of their units' kind -----------
# (engine.studio.may_edit: a grant over one unit covers the SOPs of that unit's kind; the shared
# SOPs, unitKind "any", need a grant over every unit.)
_STUDIO_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')
STUDIO_EDITORS = {
    "sop_perencanaan_kinerja_kecamatan": {"analis.organisasi", "analis.kecamatan"},
    "sop_penyusunan_lakip_dinas": {"analis.organisasi", "analis.kominfo"},
    "sop_evaluasi_bagian": {"analis.organisasi", "analis.bagian"},
    "sop_pengiriman_surat_dokumen": {"analis.organisasi"},
}


def _xml(database: Database, process_id: str) -> str:
    with database.transaction() as session:
        return definitions.latest(session, process_id).bpmn_xml


def _studio_login(app: Flask, username: str):
    client, _form_token = _login(app, username)
    page = client.get("/studio/sop_fgd").get_data(as_text=True)
    return client, _STUDIO_CSRF.search(page).group(1)


def test_studio_rights_for_every_demo_user(app: Flask, database: Database) -> None:
    """Every grant holder and the first role holder of each unit (role holders have no studio rights;
    logins are slow, Argon2): the catalogue (200), the modeler, a new draft, restore and moving instances
    of four SOPs — analysts of the SOP's kind only, everyone else 403."""
    grant_holders = {a.user.username for a in DEMO_ACCESS}
    first_of_unit = {unit: username for unit, _role, username in reversed(ROLE_HOLDERS)}
    users = sorted(set(first_of_unit.values()) | grant_holders)
    xml = {process_id: _xml(database, process_id) for process_id in STUDIO_EDITORS}
    wrong = []
    for username in users:
        client, token = _studio_login(app, username)
        expected = {("GET", "/studio/"): 200}
        for process_id, editors in STUDIO_EDITORS.items():
            editor = username in editors
            expected[("GET", f"/studio/{process_id}/ubah")] = 200 if editor else 403
            expected[("POST", f"/api/studio/{process_id}/drafts")] = 201 if editor else 403
            expected[("POST", f"/api/studio/{process_id}/versions/1/restore")] = 201 if editor else 403
            expected[("POST", f"/api/studio/{process_id}/migration")] = 200 if editor else 403
        for (method, url), status in expected.items():
            if method == "GET":
                got = client.get(url).status_code
            else:
                process_id = url.split("/")[3]
                got = client.post(url, json={"xml": xml[process_id], "base_version": 1},
                                  headers={"X-CSRFToken": token}).status_code
            if got != status:
                wrong.append(f"{username} {method} {url}: {got}, expected {status}")
    assert wrong == []
    with database.transaction() as session:
        for process_id, editors in STUDIO_EDITORS.items():
            made = {d.created_by for d in drafts.open_drafts(session, process_id)}
            assert made == editors, process_id  # refused requests stored nothing


def test_an_administrator_is_not_an_auditor_and_acts_on_no_task(app: Flask, database: Database, start) -> None:
    """Issue 9: the administrator grant opens the organisation pages only — no instance, no task, no completion."""
    scene = _scene(database, start, "kecamatan-contoh")
    client, token = _login(app, "admin.alur")
    assert client.get("/admin/organisasi/").status_code == 200
    assert client.get(f"/proses/{scene.instance_id}").status_code == 404
    assert client.get(f"/tugas/{scene.ready_task}").status_code == 404
    assert client.post(f"/tugas/{scene.ready_task}", data={"csrf_token": token, "selesai": "Selesai",
                                                          "setuju": "Setuju"}).status_code == 404
    assert client.get("/audit").status_code in (200, 404)
    assert f"/proses/{scene.instance_id}" not in client.get("/audit").get_data(as_text=True)
    with database.transaction() as session:
        assert [t.id for t in instances.get_instance(session, scene.instance_id).ready_tasks] == [scene.ready_task]
        assert "admin.alur" not in instances.candidates(session, scene.ready_task)
