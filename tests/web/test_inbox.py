"""The inbox page: content, order by due time, overdue mark, SOP filter, count in the nav."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask.testing import FlaskClient

from engine import instances
from engine.database import Database
from storage.demo import DEMO_PASSWORD

KECAMATAN = "kecamatan-contoh"
PELAPORAN = "sop_pelaporan_kinerja_kecamatan"  # Step_01 "Rumuskan bahan laporan kinerja", lane Tim, 1 hari
IKU = "sop_pengumpulan_data_iku_kecamatan"      # Step_01 lane Tim too
BULAN = ["Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"]


def _wit(moment: datetime) -> str:
    """``moment`` as the page must show it in Kecamatan Contoh (Asia/Jayapura, WIT)."""
    local = moment.astimezone(ZoneInfo("Asia/Jayapura"))
    return f"{local.day} {BULAN[local.month - 1]} {local.year}, {local:%H.%M} WIT"


def _rows(page: str) -> list[str]:
    return re.findall(r'<tr class="[^"]*" data-task-id="([^"]+)"', page)


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def _nav_count(page: str) -> int:
    return int(re.search(r'id="nav-inbox-count">(\d+)<', page).group(1))


def test_inbox_lists_ready_tasks_soonest_due_first(client: FlaskClient, auth, start, database: Database) -> None:
    old = start(PELAPORAN, KECAMATAN, title="Laporan Triwulan I", now=datetime(2026, 3, 2, 0, 0, tzinfo=UTC))
    new = start(PELAPORAN, KECAMATAN, title="Laporan Triwulan III")
    auth.login("tim2.kecamatan")
    page = client.get("/").get_data(as_text=True)

    old_task, new_task = old.ready_tasks[0], new.ready_tasks[0]
    assert _rows(page) == [old_task.id, new_task.id]
    assert _nav_count(page) == 2 and "2 tugas menunggu" in page
    for text in ("SOP Pelaporan Kinerja", "Rumuskan bahan laporan kinerja", "Laporan Triwulan I",
                 "Laporan Triwulan III", f'href="/tugas/{old_task.id}"', f'href="/proses/{old.id}"'):
        assert text in page
    assert _wit(old_task.due_at) in page and _wit(old_task.ready_at) in page  # due time, waiting since
    old_row, new_row = page.split(f'data-task-id="{new_task.id}"')
    assert "Terlambat" in old_row and "table-danger" in old_row
    assert "Terlambat" not in new_row


def test_filter_by_sop(client: FlaskClient, auth, start) -> None:
    start(PELAPORAN, KECAMATAN)
    iku = start(IKU, KECAMATAN, title="Data IKU 2026")
    auth.login("tim1.kecamatan")
    page = client.get("/", query_string={"sop": IKU}).get_data(as_text=True)
    assert _rows(page) == [iku.ready_tasks[0].id]
    assert f'<option value="{IKU}" selected>' in page
    assert "1 tugas menunggu" in page
    assert _nav_count(page) == 2  # the navigation counts every task
    unknown = client.get("/", query_string={"sop": "sop_tidak_ada"}).get_data(as_text=True)
    assert len(_rows(unknown)) == 2  # an unknown SOP is ignored, not an empty list


def test_filter_offers_only_sops_of_the_users_units(client: FlaskClient, auth) -> None:
    auth.login("tim1.kecamatan")
    page = client.get("/").get_data(as_text=True)
    assert f'value="{PELAPORAN}"' in page and 'value="sop_surat_masuk"' in page
    assert 'value="sop_evaluasi_bagian"' not in page and 'value="sop_penyusunan_lakip_dinas"' not in page
    kominfo = client.application.test_client()
    kominfo.post("/masuk", data={"username": "staf1.kominfo", "password": DEMO_PASSWORD,
                                 "csrf_token": _csrf(kominfo.get("/masuk").get_data(as_text=True))})
    page = kominfo.get("/").get_data(as_text=True)
    assert 'value="sop_penyusunan_lakip_dinas"' in page and f'value="{PELAPORAN}"' not in page


def test_other_lanes_see_nothing(client: FlaskClient, auth, start) -> None:
    start(PELAPORAN, KECAMATAN)
    auth.login("staf1.kecamatan")
    page = client.get("/").get_data(as_text=True)
    assert _rows(page) == [] and _nav_count(page) == 0
    assert "Tidak ada tugas yang menunggu Anda." in page


def test_inbox_agrees_with_the_engine(client: FlaskClient, auth, start, database: Database) -> None:
    for n in range(3):
        start(PELAPORAN, KECAMATAN, title=f"Laporan {n}")
    auth.login("tim3.kecamatan")
    page = client.get("/").get_data(as_text=True)
    with database.transaction() as session:
        expected = [t.id for t in instances.inbox(session, "tim3.kecamatan")]
    assert _rows(page) == expected and len(expected) == 3


def test_search_in_titles_and_sorting(client: FlaskClient, auth, start) -> None:
    early = start(PELAPORAN, KECAMATAN, title="Laporan Triwulan I", now=datetime(2026, 3, 2, 0, 0, tzinfo=UTC))
    iku = start(IKU, KECAMATAN, title="Data IKU 100% lengkap", now=datetime(2026, 3, 3, 0, 0, tzinfo=UTC))
    late = start(PELAPORAN, KECAMATAN, title="Laporan Triwulan III")
    auth.login("tim1.kecamatan")
    found = client.get("/", query_string={"q": "triwulan"}).get_data(as_text=True)
    assert _rows(found) == [early.ready_tasks[0].id, late.ready_tasks[0].id] and "2 tugas menunggu" in found
    assert 'value="triwulan"' in found
    # LIKE's wildcards are searched for as themselves
    assert _rows(client.get("/", query_string={"q": "100%"}).get_data(as_text=True)) == [iku.ready_tasks[0].id]
    assert _rows(client.get("/", query_string={"q": "_"}).get_data(as_text=True)) == []
    none = client.get("/", query_string={"q": "tidak ada judul begini"}).get_data(as_text=True)
    assert "Tidak ada tugas yang cocok dengan saringan ini." in none

    waiting = client.get("/", query_string={"urut": "waiting"}).get_data(as_text=True)
    assert _rows(waiting) == [early.ready_tasks[0].id, iku.ready_tasks[0].id, late.ready_tasks[0].id]
    by_sop = _rows(client.get("/", query_string={"urut": "sop"}).get_data(as_text=True))
    # "SOP Pelaporan Kinerja" before "SOP Pengumpulan Data Terkait IKU", then by due time
    assert by_sop == [early.ready_tasks[0].id, late.ready_tasks[0].id, iku.ready_tasks[0].id]
    assert len(_rows(client.get("/", query_string={"urut": "bogus"}).get_data(as_text=True))) == 3


def test_inbox_says_the_working_time_left(client: FlaskClient, auth, start) -> None:
    start(PELAPORAN, KECAMATAN, title="Laporan lama", now=datetime(2026, 3, 2, 0, 0, tzinfo=UTC))
    start(PELAPORAN, KECAMATAN, title="Laporan baru")
    auth.login("tim1.kecamatan")
    page = client.get("/").get_data(as_text=True)
    left = re.findall(r'class="small [^"]*time-left">([^<]+)<', page)
    assert len(left) == 2
    assert re.fullmatch(r"lewat \d+ hari kerja", left[0])
    assert re.fullmatch(r"sisa \d+ (jam|menit|hari) kerja", left[1])


def test_working_time_left_in_words(app) -> None:
    from web.inbox import working_time_left
    with app.test_request_context():
        assert working_time_left(120) == "sisa 2 jam kerja"
        assert working_time_left(-450) == "lewat 1 hari kerja"
        assert working_time_left(-1000) == "lewat 2 hari kerja"
        assert working_time_left(59) == "sisa 59 menit kerja"
        assert working_time_left(None) == ""


def test_favicon_is_served_without_a_login(client: FlaskClient) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.data[:4] == b"\x00\x00\x01\x00"


def test_english_pluralises_working_days(app) -> None:
    from flask import session
    with app.test_request_context():
        session["lang"] = "en"
        waktu_baku = app.jinja_env.filters["waktu_baku"]
        assert waktu_baku("P1D") == "1 working day" and waktu_baku("P3D") == "3 working days"
        assert waktu_baku("PT1H") == "1 hour" and waktu_baku("P2W") == "2 working weeks"
        assert app.jinja_env.filters["sisa_kerja"](-450) == "1 working day overdue"
