"""A diagram that fails at run time answers 422 with the reason, page and API, and changes nothing (issue 6, item 3)."""

from __future__ import annotations

from flask import Flask

from engine import instances
from engine.database import Database
from engine.deploy import deploy_sources
from tests.engine.test_hostile_diagrams import review_sop, sop
from tests.web.conftest import AuthActions, csrf_token

STAF = "staf1.kecamatan"


def _ready_task(database: Database) -> str:
    """Deploy a review whose condition builds too large a string; start it; its ready task's id."""
    with database.transaction() as session:
        deploy_sources(session, {"batas.bpmn": sop(review_sop(ya='keputusan * 1500000000 != ""'),
                                                   pid="sop_uji_batas")})
        view = instances.start_instance(session, process_id="sop_uji_batas", unit_code="kecamatan-contoh",
                                        title="Uji batas", username=STAF)
    return view.ready_tasks[0].id


def _still_ready(database: Database, task_id: str) -> None:
    with database.transaction() as session:
        task = instances.get_task(session, task_id)
        assert task.state == "ready"
        assert [e.kind for e in instances.history_of(session, task.instance_id)] == ["instance_started", "task_ready"]


def test_api_answers_422_with_the_reason(app: Flask, database: Database) -> None:
    task_id = _ready_task(database)
    client = app.test_client()
    AuthActions(client).login(STAF)
    token = client.get("/api/v1/csrf-token").get_json()["csrf_token"]
    response = client.post(f"/api/v1/tasks/{task_id}/complete", json={"keputusan": "setuju"},
                           headers={"X-CSRFToken": token})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid_data" and "Proses tidak dapat dilanjutkan" in error["message"]
    assert "melebihi 100000" in error["message"]
    _still_ready(database, task_id)


def test_task_page_answers_422_with_the_reason(app: Flask, database: Database) -> None:
    task_id = _ready_task(database)
    client = app.test_client()
    AuthActions(client).login(STAF)
    token = csrf_token(client.get(f"/tugas/{task_id}").get_data(as_text=True))
    response = client.post(f"/tugas/{task_id}", data={"csrf_token": token, "setuju": "1"})
    assert response.status_code == 422
    assert "Proses tidak dapat dilanjutkan" in response.get_data(as_text=True)
    _still_ready(database, task_id)
