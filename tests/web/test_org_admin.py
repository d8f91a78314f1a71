"""Organisation administration (issue 9): only administrators, every change recorded, bad input changes nothing."""

from __future__ import annotations

import io
import logging
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from engine import access
from engine.database import Database
from storage import org
from storage.demo import DEMO_ACCESS, DEMO_PASSWORD, demo_usernames
from storage.models import OrgChange, PasswordToken, RoleMember, User

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _login(app: Flask, username: str, password: str = DEMO_PASSWORD) -> tuple[FlaskClient, str]:
    client = app.test_client()
    token = _CSRF.search(client.get("/masuk").get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    response = client.post("/masuk", data={"username": username, "password": password, "csrf_token": token})
    assert response.status_code == 302, username
    return client, _CSRF.search(client.get("/").get_data(as_text=True)).group(1)  # type: ignore[union-attr]


def _ids(database: Database) -> dict[str, int]:
    with database.transaction() as session:
        return {"kec": org.get_unit_by_code(session, "kecamatan-contoh").id,
                "kominfo": org.get_unit_by_code(session, "dinas-kominfo").id,
                "camat": org.get_user_by_username(session, "camat.contoh").id,
                "staf": org.get_user_by_username(session, "staf1.kecamatan").id,
                "camat_role": org.resolve_role(session, org.get_unit_by_code(session, "kecamatan-contoh").id,
                                               "Camat").id}  # type: ignore[union-attr]


def _changes(database: Database) -> int:
    with database.transaction() as session:
        return session.scalar(select(func.count()).select_from(OrgChange)) or 0


def test_organisation_pages_only_for_administrators(app: Flask, database: Database,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    ids = _ids(database)
    administrators = {a.user.username for a in DEMO_ACCESS if any(k == "administrator" for k, _ in a.grants)}
    caplog.set_level(logging.WARNING, logger="alur.web.access")
    wrong = []
    for username in demo_usernames():
        client, _token = _login(app, username)
        for url in ("/admin/organisasi/", f"/admin/organisasi/unit/{ids['kec']}",
                    f"/admin/organisasi/pengguna/{ids['staf']}", "/admin/organisasi/impor"):
            expected = 200 if username in administrators else 404
            if client.get(url).status_code != expected:
                wrong.append(f"{username} {url}: expected {expected}")
        if username not in administrators and 'href="/admin/organisasi/"' in client.get("/").get_data(as_text=True):
            wrong.append(f"{username} sees the Organisasi link")
    assert wrong == []


def test_a_unit_administrator_sees_only_that_unit(app: Flask, database: Database) -> None:
    ids = _ids(database)
    with database.transaction() as session:
        access.grant(session, "kadin.kominfo", "administrator", "dinas-kominfo")
    client, token = _login(app, "kadin.kominfo")
    assert client.get(f"/admin/organisasi/unit/{ids['kominfo']}").status_code == 200
    assert client.get(f"/admin/organisasi/unit/{ids['kec']}").status_code == 404
    assert client.get(f"/admin/organisasi/pengguna/{ids['camat']}").status_code == 404
    before = _changes(database)
    forged = client.post(f"/admin/organisasi/unit/{ids['kec']}", data={
        "csrf_token": token, "nama": "Diambil alih", "jenis": "Kecamatan", "zona": "Asia/Jayapura", "induk": ""})
    assert forged.status_code == 404 and _changes(database) == before
    index = client.get("/admin/organisasi/").get_data(as_text=True)
    assert "Dinas Komunikasi" in index and "Kecamatan Contoh" not in index


def test_unit_page_saves_records_and_refuses_bad_input(app: Flask, database: Database) -> None:
    ids = _ids(database)
    client, token = _login(app, "admin.alur")
    page = client.get(f"/admin/organisasi/unit/{ids['kec']}").get_data(as_text=True)
    assert "SOP Pelaporan Kinerja" in page and "Yohanes Wenda" in page  # lanes received and their holders
    before = _changes(database)
    base = {"csrf_token": token, "nama": "Kecamatan Contoh", "jenis": "Kecamatan", "zona": "Asia/Jayapura"}
    assert client.post(f"/admin/organisasi/unit/{ids['kec']}", data={**base, "induk": str(ids["kec"])}
                       ).status_code == 422  # its own parent
    assert client.post(f"/admin/organisasi/unit/{ids['kec']}", data={**base, "zona": "Europe/Paris", "induk": ""}
                       ).status_code == 422
    assert client.post(f"/admin/organisasi/unit/{ids['kec']}", data={**base, "csrf_token": "forged", "induk": ""}
                       ).status_code == 400
    assert _changes(database) == before
    saved = client.post(f"/admin/organisasi/unit/{ids['kec']}", data={
        **base, "nama": "Kecamatan Contoh Baru", "induk": str(ids["kominfo"])})
    assert saved.status_code == 302
    page = client.get(f"/admin/organisasi/unit/{ids['kec']}").get_data(as_text=True)
    assert "Kecamatan Contoh Baru" in page and "unit_saved" in page and _changes(database) == before + 1


def test_missing_holders_are_reported_on_the_unit_page(app: Flask, database: Database) -> None:
    ids = _ids(database)
    client, token = _login(app, "admin.alur")
    assert 'id="missing-holders"' not in client.get(f"/admin/organisasi/unit/{ids['kec']}").get_data(as_text=True)
    response = client.post(f"/admin/organisasi/pengguna/{ids['camat']}", data={
        "csrf_token": token, "nama": "Yohanes Wenda, S.STP., M.Si.", "nip": "197907152000121001"})  # aktif unticked
    assert response.status_code == 302
    page = client.get(f"/admin/organisasi/unit/{ids['kec']}").get_data(as_text=True)
    assert 'id="missing-holders"' in page and "jabatan Camat tidak dipegang siapa pun" in page
    with database.transaction() as session:
        assert not org.get_user_by_username(session, "camat.contoh").active
    refused = app.test_client()
    login_token = _CSRF.search(refused.get("/masuk").get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    assert refused.post("/masuk", data={"username": "camat.contoh", "password": DEMO_PASSWORD,
                                        "csrf_token": login_token}).status_code != 302


def test_user_page_checks_the_nip_and_dates(app: Flask, database: Database) -> None:
    ids = _ids(database)
    client, token = _login(app, "admin.alur")
    before = _changes(database)
    for nip in ("12345", "1979071520001210011", "197913152000121001", "197907152000121001"):  # last: the Camat's
        response = client.post(f"/admin/organisasi/pengguna/{ids['staf']}", data={
            "csrf_token": token, "nama": "Yuliana Tabuni", "nip": nip, "aktif": "y"})
        assert response.status_code == 422 and "NIP" in response.get_data(as_text=True), nip
    bad_dates = client.post(f"/admin/organisasi/pengguna/{ids['staf']}/jabatan", data={
        "csrf_token": token, "m-jabatan": str(ids["camat_role"]), "m-mulai": "2026-12-10", "m-selesai": "2026-12-01"})
    assert bad_dates.status_code == 422
    assert _changes(database) == before
    ok = client.post(f"/admin/organisasi/pengguna/{ids['staf']}/jabatan", data={
        "csrf_token": token, "m-jabatan": str(ids["camat_role"]), "m-mulai": "2026-12-01", "m-selesai": "2026-12-10"})
    assert ok.status_code == 302
    with database.transaction() as session:
        member = session.get(RoleMember, (ids["staf"], ids["camat_role"]))
        assert member is not None and str(member.end_date) == "2026-12-10"
    assert "membership_saved" in client.get(f"/admin/organisasi/pengguna/{ids['staf']}").get_data(as_text=True)


def test_import_dry_run_then_apply_then_nothing(app: Flask, database: Database) -> None:
    client, token = _login(app, "admin.alur")
    rows = ["NIP;Nama;Jabatan;Unit Kerja",
            "199611272020121002;Yogi Pratama, A.Md.;Staf;inspektorat",  # known, unchanged
            "199702032021032004;Ni Luh Putu Sari, S.Ak.;Staf;inspektorat",
            "196811201995031002;Drs. Hotman Simanjuntak, M.Si., Ak.;Inspektur;inspektorat",
            "197512122001122003;Rosmawati, S.E., M.Ak.;Sekretaris;inspektorat",
            "199901012022031001;Andi Baru, S.Kom.;Staff;inspektorat",  # new, by an alias
            "12;Salah NIP;Staf;inspektorat", "199901012022031002;Tanpa Unit;Staf;unit-tak-ada"]
    content = ("\n".join(rows) + "\n").encode()

    def send(button: str) -> str:
        response = client.post("/admin/organisasi/impor", data={
            "csrf_token": token, button: "1", "berkas": (io.BytesIO(content), "pegawai.csv")},
            content_type="multipart/form-data")
        assert response.status_code == 200
        return response.get_data(as_text=True)

    preview = send("pratinjau")
    assert "1 ditambah" in preview and "2 masalah" in preview and "1 dinonaktifkan" in preview  # the auditor
    with database.transaction() as session:
        assert session.scalar(select(User).where(User.nip == "199901012022031001")) is None
    applied = send("terapkan")
    assert "Diterapkan" in applied
    with database.transaction() as session:
        new = session.scalar(select(User).where(User.nip == "199901012022031001"))
        assert new is not None and new.username == "199901012022031001" and new.password_hash is None
        assert [r.name for r in org.roles_of(session, new.id)] == ["Staf"]
        assert not org.get_user_by_username(session, "auditor.inspektorat").active
    again = send("pratinjau")
    assert "0 ditambah" in again and "0 diubah" in again and "0 dinonaktifkan" in again
    wrong = client.post("/admin/organisasi/impor", data={
        "csrf_token": token, "pratinjau": "1", "berkas": (io.BytesIO(b"a,b\n1,2\n"), "x.csv")},
        content_type="multipart/form-data")
    assert wrong.status_code == 422 and "NIP, Nama, Jabatan" in wrong.get_data(as_text=True)


def test_set_password_link_works_once(app: Flask, database: Database) -> None:
    ids = _ids(database)
    client, token = _login(app, "admin.alur")
    page = client.post(f"/admin/organisasi/pengguna/{ids['staf']}/tautan-sandi", data={"csrf_token": token})
    link = re.search(r'id="password-link" aria-label="[^"]*" value="([^"]+)"|value="([^"]+)" id="password-link"',
                     page.get_data(as_text=True))
    assert link is not None
    url = (link.group(1) or link.group(2)).replace("http://localhost", "")
    with database.transaction() as session:
        stored = session.scalars(select(PasswordToken.token_sha256)).all()
    assert stored and url.rsplit("/", 1)[1] not in stored  # only the hash is stored
    user = app.test_client()
    form = user.get(url)
    assert form.status_code == 200
    set_token = _CSRF.search(form.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    weak = user.post(url, data={"csrf_token": set_token, "new": "password123", "repeat": "password123"})
    assert weak.status_code == 422
    good = "kopi tubruk pagi hari"
    assert user.post(url, data={"csrf_token": set_token, "new": good, "repeat": good}).status_code == 302
    assert user.get(url).status_code == 404  # single use
    _login(app, "staf1.kecamatan", good)
    outsider = app.test_client()
    assert outsider.get("/atur-sandi/" + "x" * 43).status_code == 404


def test_designation_page_for_the_official(app: Flask, database: Database) -> None:
    client, token = _login(app, "camat.contoh")
    page = client.get("/penunjukan")
    assert page.status_code == 200
    staf, _t = _login(app, "staf1.kecamatan")
    assert staf.get("/penunjukan").status_code == 404
    ids = _ids(database)
    data = {"csrf_token": token, "jabatan": str(ids["camat_role"]), "pelaksana": "sekretaris.kecamatan",
            "jenis": "plh", "mulai": "2026-12-01", "selesai": "2026-12-03", "alasan": "Cuti tahunan"}
    assert client.post("/penunjukan", data={**data, "pelaksana": "camat.contoh"}).status_code == 422  # self
    assert client.post("/penunjukan", data=data).status_code == 302
    assert client.post("/penunjukan", data=data).status_code == 422  # overlapping (a double submit)
    listed = client.get("/penunjukan").get_data(as_text=True)
    assert "Plh Camat" in listed and "Maria Magdalena" in listed


def test_unit_head_restaffs_a_team_on_the_instance_page(app: Flask, database: Database) -> None:
    from engine import instances

    with database.transaction() as session:
        view = instances.start_instance(session, process_id="sop_perencanaan_kinerja_kecamatan",
                                        unit_code="kecamatan-contoh", title="Rencana Kinerja 2027",
                                        username="camat.contoh")
        for _ in range(10):
            task = instances.get_instance(session, view.id).ready_tasks[0]
            if task.lane == "Tim":
                break
            instances.complete_task(session, task.id, username=instances.candidates(session, task.id)[0],
                                    keputusan="setuju" if task.is_review else None,
                                    team=["tim1.kecamatan"] if task.forms_team else None)
    staf, staf_token = _login(app, "tim1.kecamatan")
    assert 'id="restaff"' not in staf.get(f"/proses/{view.id}").get_data(as_text=True)
    assert staf.post(f"/proses/{view.id}/tim", data={"csrf_token": staf_token, "lajur": "Tim",
                                                     "anggota": "tim1.kecamatan"}).status_code == 404
    camat, token = _login(app, "camat.contoh")
    assert 'id="restaff"' in camat.get(f"/proses/{view.id}").get_data(as_text=True)
    done = camat.post(f"/proses/{view.id}/tim", data={"csrf_token": token, "lajur": "Tim",
                                                      "anggota": "tim2.kecamatan, staf1.kecamatan"})
    assert done.status_code == 302
    page = camat.get(f"/proses/{view.id}").get_data(as_text=True)
    assert "Tim diganti oleh kepala unit" in page and "staf1.kecamatan, tim2.kecamatan" in page


def test_calendar_corrections_of_a_unit_are_saved_recorded_and_checked(app: Flask, database: Database) -> None:
    from storage import calendar as calendar_store

    ids = _ids(database)
    client, token = _login(app, "admin.alur")
    before = _changes(database)
    empty_note = client.post(f"/admin/organisasi/unit/{ids['kec']}/kalender", data={
        "csrf_token": token, "k-tanggal": "2026-12-24", "k-status": "libur", "k-keterangan": " "})
    assert empty_note.status_code == 422 and _changes(database) == before
    saved = client.post(f"/admin/organisasi/unit/{ids['kec']}/kalender", data={
        "csrf_token": token, "k-tanggal": "2026-12-24", "k-status": "libur", "k-keterangan": "Cuti bersama Natal"})
    assert saved.status_code == 302
    with database.transaction() as session:
        (day, (working, note)), = calendar_store.corrections(session, ids["kec"]).items()
        assert (str(day), working, note) == ("2026-12-24", False, "Cuti bersama Natal")
    page = client.get(f"/admin/organisasi/unit/{ids['kec']}").get_data(as_text=True)
    assert "24-12-2026" in page and "calendar_corrected" in page


def test_shortened_hours_of_a_unit_are_saved_recorded_used_and_removed(app: Flask, database: Database,
                                                                      start) -> None:
    """Ramadan hours for a date range (issue 9): checked, recorded, used for due times, removable."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from engine import organisation
    from engine.calendar import calendar_for, unit_calendar
    from engine.waktu import Waktu

    ids = _ids(database)
    client, token = _login(app, "admin.alur")
    url = f"/admin/organisasi/unit/{ids['kec']}/jam-kerja"
    page = client.get(f"/admin/organisasi/unit/{ids['kec']}").get_data(as_text=True)
    assert 'id="hours-form"' in page and 'value="08.00-12.00, 12.30-15.00"' in page  # Ramadan hours offered
    good = {"csrf_token": token, "h-mulai": "2026-07-06", "h-selesai": "2026-07-10",
            "h-senin_kamis": "08.00-12.00, 12.30-15.00", "h-jumat": "08.00-11.30, 12.30-15.30",
            "h-keterangan": "Ramadan (uji)"}
    before = _changes(database)
    for field, value in (("h-selesai", "2026-07-01"), ("h-senin_kamis", "8 sampai 12"), ("h-keterangan", " "),
                         ("h-jumat", "12.00-11.00")):
        refused = client.post(url, data={**good, field: value})
        assert refused.status_code == 422, field
        assert "is-invalid" in refused.get_data(as_text=True), field
    assert _changes(database) == before
    assert client.post(url, data=good).status_code == 302
    assert client.post(url, data={**good, "h-mulai": "2026-07-10", "h-selesai": "2026-07-20"}).status_code == 422
    assert _changes(database) == before + 1
    page = client.get(f"/admin/organisasi/unit/{ids['kec']}").get_data(as_text=True)
    assert "06-07-2026" in page and "Ramadan (uji)" in page and "calendar_hours_set" in page

    # A step made ready at 15.30 WIT inside the period: the office closed at 15.00, so its Waktu counts from
    # the next morning at 08.00 — the engine's due time follows the unit's calendar with the period.
    ready = datetime(2026, 7, 7, 15, 30, tzinfo=ZoneInfo("Asia/Jayapura"))
    view = start("sop_perencanaan_kinerja_kecamatan", "kecamatan-contoh", now=ready)
    task = view.ready_tasks[0]
    assert task.waktu and task.due_at is not None
    with database.transaction() as session:
        calendar = unit_calendar(session, org.get_unit(session, ids["kec"]))
    waktu = Waktu.from_iso(task.waktu)
    assert task.due_at == calendar.add(ready, waktu) != calendar_for("Asia/Jayapura").add(ready, waktu)

    with database.transaction() as session:
        (period,) = [p.id for p in organisation.unit_hours_periods(session, "kecamatan-contoh")]
    other = client.post(f"/admin/organisasi/unit/{ids['kominfo']}/jam-kerja/{period}/hapus",
                        data={"csrf_token": token})
    assert other.status_code == 404  # the period belongs to another unit
    assert client.post(f"{url}/{period}/hapus", data={"csrf_token": token}).status_code == 302
    assert _changes(database) == before + 2
    page = client.get(f"/admin/organisasi/unit/{ids['kec']}").get_data(as_text=True)
    assert "calendar_hours_removed" in page and 'data-period="' not in page


def test_penunjukan_link_for_everyone_who_may_designate(app: Flask) -> None:
    """The navigation shows "Penunjukan Plh/Plt" exactly to the users the page answers (one rule).

    The rule against every demo user and jabatan is checked in tests/engine/test_designations.py.
    """
    for username, official in (("camat.contoh", True), ("kasubag.organisasi", None), ("staf1.kecamatan", False),
                               ("auditor.inspektorat", False), ("admin.alur", None)):
        client, _token = _login(app, username)
        inbox = client.get("/").get_data(as_text=True)
        allowed = client.get("/penunjukan").status_code == 200
        assert ('href="/penunjukan"' in inbox) == allowed, username
        if official is not None:  # an official, not an administrator: the link is in the main navigation
            assert allowed == official and 'id="nav-admin"' not in inbox, username
