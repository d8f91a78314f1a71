"""Hostile and careless input on the pages and the API, on SQLite and PostgreSQL (issue 6).

- ids past the database's integer range answer 404, never 500 (item 6);
- control characters and over-long text answer 422 naming the field, and
  change nothing (item 7);
- an ambiguous task form (both Setuju and Tidak) or JSON body (a key twice)
  is refused with 422, and changes nothing (item 11);
- ``Strict-Transport-Security`` on every response when cookies are secure (item 12).

SOP Pelaporan Kinerja (Kecamatan): Step_01 Tim, ..., Step_04 Kasubag Evapor review.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from engine import instances
from engine.database import Database
from engine.views import InstanceView
from storage.demo import DEMO_PASSWORD
from storage.errors import InvalidFieldError
from storage.models import ProcessInstance
from tests.support import advance_until, ready_task

KECAMATAN = "kecamatan-contoh"
PELAPORAN = "sop_pelaporan_kinerja_kecamatan"
PERENCANAAN = "sop_perencanaan_kinerja_kecamatan"  # Step_02 (Sekretaris) forms the Tim
EVALUASI = "sop_dokumen_evaluasi_kinerja_kecamatan"  # starts from an incoming letter
KASUBAG = "kasubag.evapor.kecamatan"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

PAST_POSTGRESQL = 2**31  # first id past PostgreSQL's INTEGER
PAST_SQLITE = 2**63  # first id past SQLite's INTEGER
ID_ROUTES = ("/proses/{}", "/proses/{}/langkah.json", "/proses/{}/diagram/" + PELAPORAN + ".bpmn",
             "/dokumen/{}", "/api/v1/instances/{}", "/api/v1/instances/{}/history")


def _login(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    token = _CSRF.search(client.get("/masuk").get_data(as_text=True))
    assert token
    response = client.post("/masuk", data={"username": username, "password": DEMO_PASSWORD,
                                           "csrf_token": token.group(1)})
    assert response.status_code == 302, username
    return client


def _api_post(client: FlaskClient, path: str, body: Any = None, *, raw: str | None = None) -> TestResponse:
    token = client.get("/api/v1/csrf-token").get_json()["csrf_token"]
    data = raw if raw is not None else json.dumps(body)
    return client.post("/api/v1" + path, data=data, content_type="application/json",
                       headers={"X-CSRFToken": token})


def _form_post(client: FlaskClient, url: str, data: dict[str, Any]) -> TestResponse:
    token = _CSRF.search(client.get(url).get_data(as_text=True))
    assert token
    return client.post(url, data={**data, "csrf_token": token.group(1)})


def _start(database: Database, process_id: str = PELAPORAN, title: str = "Laporan Kinerja Triwulan III 2026",
           **letter: str) -> InstanceView:
    with database.transaction() as session:
        username = instances.starters(session, process_id, KECAMATAN)[0]
        return instances.start_instance(session, process_id=process_id, unit_code=KECAMATAN, title=title,
                                        username=username, input_data=letter)


def _history_length(database: Database, instance_id: int) -> int:
    with database.transaction() as session:
        return len(instances.history_of(session, instance_id))


def _instance_count(database: Database) -> int:
    with database.transaction() as session:
        return session.scalar(select(func.count()).select_from(ProcessInstance)) or 0


# --- item 6: ids past the integer range ---------------------------------------------------------

@pytest.mark.parametrize("route", ID_ROUTES)
@pytest.mark.parametrize("number", [PAST_POSTGRESQL, PAST_SQLITE, 10**30, 2**31 - 1, 0])
def test_ids_outside_the_database_range_answer_404(any_app: Flask, route: str, number: int) -> None:
    client = _login(any_app, "camat.contoh")
    response = client.get(route.format(number))
    assert response.status_code == 404, (route, number)
    if route.startswith("/api/"):
        assert response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("path", ["/mulai/sop%00x", "/proses/1/diagram/sop%00x.bpmn", "/tugas/x%00",
                                  "/api/v1/tasks/%00", "/api/v1/tasks/" + "a" * 5000])
def test_text_ids_with_control_characters_answer_404(any_app: Flask, path: str) -> None:
    assert _login(any_app, "camat.contoh").get(path).status_code == 404


def test_every_id_in_a_route_is_bounded(any_app: Flask) -> None:
    """No route takes a bare ``int`` (unbounded) or free text where the database keeps an id."""
    from web import BpmnIdConverter, DatabaseIdConverter, TaskIdConverter
    kinds = {"process_id": BpmnIdConverter, "task_id": TaskIdConverter}
    seen = 0
    for rule in any_app.url_map.iter_rules():
        for name, converter in (rule._converters or {}).items():
            if name.endswith("_id"):
                seen += 1
                assert isinstance(converter, kinds.get(name, DatabaseIdConverter)), (rule.rule, name)
    assert seen >= 10


# --- item 7: control characters and over-long text ----------------------------------------------

_BAD_TITLES = ["Laporan\x00Kinerja", "Laporan\x07", "Laporan\x7f", "Laporan\u0085", "Baris\nbaru",
               "L" * 256]


@pytest.mark.parametrize("title", _BAD_TITLES)
def test_api_start_with_a_bad_title_is_422_naming_it(any_app: Flask, any_database: Database, title: str) -> None:
    client = _login(any_app, "tim1.kecamatan")
    before = _instance_count(any_database)
    response = _api_post(client, "/instances", {"process_id": PELAPORAN, "title": title})
    assert response.status_code == 422, response.get_data(as_text=True)
    assert set(response.get_json()["error"]["fields"]) == {"title"}
    assert _instance_count(any_database) == before


def test_api_start_with_a_lone_surrogate_is_422(any_app: Flask, any_database: Database) -> None:
    client = _login(any_app, "tim1.kecamatan")
    before = _instance_count(any_database)
    response = _api_post(client, "/instances", raw=f'{{"process_id": "{PELAPORAN}", "title": "Sur\\ud800rogat"}}')
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"title"}
    assert _instance_count(any_database) == before


def test_api_letter_fields_with_control_characters_are_422(any_app: Flask, any_database: Database) -> None:
    with any_database.transaction() as session:
        starter = instances.starters(session, EVALUASI, KECAMATAN)[0]
    client = _login(any_app, starter)
    before = _instance_count(any_database)
    response = _api_post(client, "/instances", {"process_id": EVALUASI, "title": "Evaluasi NUL-surat",
                                                "nomor_surat": "005/\x00/2026", "tanggal_surat": "2026-03-05"})
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"nomor_surat"}
    assert _instance_count(any_database) == before


@pytest.mark.parametrize("catatan", ["Tabel\x00capaian", "\x1b[31m merah", "x" * 4001])
def test_api_catatan_with_control_characters_is_422(any_app: Flask, any_database: Database, catatan: str) -> None:
    review = advance_until(any_database, _start(any_database).id, "Step_04")
    before = _history_length(any_database, review.instance_id)
    response = _api_post(_login(any_app, KASUBAG), f"/tasks/{review.id}/complete",
                         {"keputusan": "tidak", "catatan": catatan})
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"catatan"}
    assert _history_length(any_database, review.instance_id) == before
    assert ready_task(any_database, review.instance_id).id == review.id


def test_api_catatan_may_span_lines(any_app: Flask, any_database: Database) -> None:
    review = advance_until(any_database, _start(any_database).id, "Step_04")
    response = _api_post(_login(any_app, KASUBAG), f"/tasks/{review.id}/complete",
                         {"keputusan": "tidak", "catatan": "1.\tTabel capaian\r\n2.\tGrafik"})
    assert response.status_code == 200, response.get_data(as_text=True)


def test_api_team_member_with_control_characters_is_422(any_app: Flask, any_database: Database) -> None:
    instance = _start(any_database, PERENCANAAN)
    step = advance_until(any_database, instance.id, "Step_02")
    with any_database.transaction() as session:
        sekretaris = instances.candidates(session, step.id)[0]
    response = _api_post(_login(any_app, sekretaris), f"/tasks/{step.id}/complete",
                         {"tim": ["staf1.kecamatan\x00", "staf2.kecamatan"]})
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"tim"}
    assert ready_task(any_database, instance.id).id == step.id


@pytest.mark.parametrize("title", ["Laporan\x00Kinerja", "Laporan\x1fKinerja", "L" * 256])
def test_start_form_with_a_bad_title_shows_it_at_the_field(any_app: Flask, any_database: Database,
                                                           title: str) -> None:
    client = _login(any_app, "tim1.kecamatan")
    before = _instance_count(any_database)
    response = _form_post(client, f"/mulai/{PELAPORAN}", {"title": title, "unit": KECAMATAN})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r'id="title"[^>]*is-invalid|is-invalid[^>]*id="title"', page), "no error at the field"
    assert _instance_count(any_database) == before


def test_task_form_with_a_bad_catatan_shows_it_at_the_field(any_app: Flask, any_database: Database) -> None:
    review = advance_until(any_database, _start(any_database).id, "Step_04")
    before = _history_length(any_database, review.instance_id)
    response = _form_post(_login(any_app, KASUBAG), f"/tugas/{review.id}",
                          {"tidak": "Tidak", "catatan": "Tabel\x00capaian"})
    assert response.status_code == 422
    assert 'is-invalid" id="catatan"' in response.get_data(as_text=True) or \
        re.search(r'id="catatan"[^>]*is-invalid|is-invalid[^>]*id="catatan"', response.get_data(as_text=True))
    assert _history_length(any_database, review.instance_id) == before


def test_a_login_name_with_nul_is_a_failed_login(any_app: Flask) -> None:
    client = any_app.test_client()
    response = _form_post(client, "/masuk", {"username": "camat.contoh\x00", "password": DEMO_PASSWORD})
    assert response.status_code == 200 and 'name="password"' in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still not logged in


@pytest.mark.parametrize(("field", "value"), [("title", "Judul\x00"), ("title", "J" * 256),
                                              ("nomor_surat", "005\x00"), ("unit_code", "kec\x00")])
def test_the_engine_refuses_control_characters_for_every_caller(any_database: Database, field: str,
                                                               value: str) -> None:
    """The command line calls the engine directly: it is refused there, naming the field."""
    arguments: dict[str, Any] = {"process_id": EVALUASI, "unit_code": KECAMATAN, "title": "Evaluasi",
                                 "input_data": {"nomor_surat": "005/12/2026", "tanggal_surat": "2026-03-05"}}
    if field in arguments:
        arguments[field] = value
    else:
        arguments["input_data"][field] = value
    with any_database.transaction() as session:
        username = instances.starters(session, EVALUASI, KECAMATAN)[0]
        with pytest.raises(InvalidFieldError) as caught:
            instances.start_instance(session, username=username, **arguments)
    assert caught.value.field == field


# --- item 11: ambiguous answers --------------------------------------------------------------------

@pytest.mark.parametrize("data", [
    {"setuju": "Setuju", "tidak": "Tidak", "catatan": "Tabel capaian belum lengkap"},
    {"setuju": ["Setuju", "Setuju"]},
    {"tidak": ["Tidak", "Tidak"], "catatan": "Tabel capaian belum lengkap"},
    {"setuju": "Setuju", "selesai": "Selesai"},
])
def test_an_ambiguous_review_form_is_422_and_changes_nothing(any_app: Flask, any_database: Database,
                                                             data: dict[str, Any]) -> None:
    review = advance_until(any_database, _start(any_database).id, "Step_04")
    before = _history_length(any_database, review.instance_id)
    response = _form_post(_login(any_app, KASUBAG), f"/tugas/{review.id}", data)
    assert response.status_code == 422
    assert "Pilih salah satu" in response.get_data(as_text=True)
    assert _history_length(any_database, review.instance_id) == before
    assert ready_task(any_database, review.instance_id).id == review.id


def test_a_keputusan_button_on_a_step_that_is_no_review_is_422(any_app: Flask, any_database: Database) -> None:
    instance = _start(any_database)
    task = instance.ready_tasks[0]
    response = _form_post(_login(any_app, "tim1.kecamatan"), f"/tugas/{task.id}",
                          {"selesai": "Selesai", "tidak": "Tidak", "catatan": "x"})
    assert response.status_code == 422
    assert ready_task(any_database, instance.id).id == task.id


def test_a_json_key_given_twice_is_422_and_changes_nothing(any_app: Flask, any_database: Database) -> None:
    review = advance_until(any_database, _start(any_database).id, "Step_04")
    before = _history_length(any_database, review.instance_id)
    response = _api_post(_login(any_app, KASUBAG), f"/tasks/{review.id}/complete",
                         raw='{"keputusan": "tidak", "keputusan": "setuju", "catatan": "Belum lengkap"}')
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"keputusan"}
    assert _history_length(any_database, review.instance_id) == before


# --- item 12: HSTS ---------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/masuk", "/api/v1/openapi.json", "/api/v1/inbox", "/tidak-ada",
                                  "/static/alur.css"])
def test_hsts_when_cookies_are_secure(app: Flask, path: str) -> None:
    assert app.config["SESSION_COOKIE_SECURE"] is True
    header = app.test_client().get(path).headers.get("Strict-Transport-Security", "")
    match = re.fullmatch(r"max-age=(\d+)(; .*)?", header)
    assert match and int(match.group(1)) >= 365 * 24 * 3600, (path, header)


def test_no_hsts_in_local_development(db_path: Any) -> None:
    from web import create_app
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SESSION_COOKIE_SECURE": False,
                      "ALUR_DATABASE_URL": f"sqlite:///{db_path}"})
    try:
        for path in ("/masuk", "/api/v1/openapi.json", "/tidak-ada"):
            assert "Strict-Transport-Security" not in app.test_client().get(path).headers
    finally:
        app.extensions["alur.database"].dispose()
