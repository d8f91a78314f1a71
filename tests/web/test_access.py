"""Authorization matrix: every role of every demo unit, and every access grant, against an instance.

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

import pytest
from flask import Flask

from engine import audit, instances
from engine.database import Database
from storage.demo import DEMO_ACCESS, DEMO_PASSWORD, DEMO_UNITS
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
