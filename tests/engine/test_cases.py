"""Proses (``engine.cases``, ``storage.cases``): keyset pages, "Saya terlibat", current steps and the late mark.

Rows are written directly (instances of a stub definition, human tasks), on
SQLite and on PostgreSQL when ``ALUR_TEST_POSTGRES_URL`` is set; the demo
Kecamatan's roles: Camat (camat.contoh), Tim (tim1-3), Staf (staf1, staf2).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import cases as engine_cases
from engine.cases import CaseQuery
from engine.views import JsonView
from storage import cases, org
from storage.errors import InvalidTaskDataError
from storage.models import HumanTask, ProcessInstance
from tests.conftest import NewInstance

NOW = datetime(2026, 5, 4, 3, 0, tzinfo=UTC)
UNIT = "kecamatan-contoh"

Task = Callable[..., HumanTask]


@pytest.fixture
def task(demo_session: Session) -> Task:
    """``add(instance, lane, state="ready", ...)``: a human task of ``instance`` in the unit's role ``lane``."""
    made = [0]

    def add(instance: ProcessInstance, lane: str, *, state: str = "ready", team_id: int | None = None,
            ready_at: datetime = NOW - timedelta(days=2), due_at: datetime | None = None,
            completed_by: str | None = None, claimed_by: str | None = None) -> HumanTask:
        made[0] += 1
        role = None if team_id is not None else org.resolve_role(demo_session, instance.unit_id, lane)
        human = HumanTask(
            id=f"00000000-0000-0000-0000-{made[0]:012d}", instance_id=instance.id,
            definition_id=instance.definition_id, process_id="sop_uji", element_id=f"Step_{made[0]}",
            name=f"Langkah {made[0]}", lane_name=lane, role_id=role.id if role else None, team_id=team_id,
            unit_id=instance.unit_id, state=state, iteration=1, ready_at=ready_at, due_at=due_at,
            completed_at=NOW - timedelta(days=1) if state == "completed" else None,
            completed_by_id=_uid(demo_session, completed_by) if completed_by else None,
            assignee_id=_uid(demo_session, claimed_by) if claimed_by else None)
        demo_session.add(human)
        demo_session.flush()
        return human

    return add


def _uid(session: Session, username: str) -> int:
    return org.get_user_by_username(session, username).id


def _instances(session: Session, new_instance: NewInstance, specs: list[tuple[str, datetime]],
               unit_code: str = UNIT) -> list[ProcessInstance]:
    made = []
    for title, started_at in specs:
        instance = new_instance(session, unit_code=unit_code)
        instance.title, instance.started_at = title, started_at
        made.append(instance)
    session.flush()
    return made


def _walk(session: Session, username: str, query: CaseQuery, limit: int) -> list[int]:
    """Every id of a list, page after page by the cursors; fails on a page that repeats a row."""
    seen: list[int] = []
    after = None
    for _ in range(50):
        rows, after = engine_cases.page(session, username, query, after=after, limit=limit, now=NOW)
        assert not {r.id for r in rows} & set(seen), "a row came back on a later page"
        seen += [r.id for r in rows]
        if after is None:
            return seen
    raise AssertionError("the pages did not end")


@pytest.mark.parametrize("sort", ["terbaru", "terlama", "judul"])
def test_keyset_pages_cross_equal_sort_keys(demo_session: Session, new_instance: NewInstance, sort: str) -> None:
    # three instances share a start time, two share another; titles repeat: the id decides among equals
    t1, t2 = NOW - timedelta(days=3), NOW - timedelta(days=1)
    made = _instances(demo_session, new_instance, [
        ("Sama", t1), ("Sama", t1), ("Beda", t1), ("Sama", t2), ("Awal", t2), ("Sama", NOW), ("Zaman", t1)])
    _instances(demo_session, new_instance, [("Sama", t1)], unit_code="dinas-kominfo")  # not the Camat's unit
    if sort == "judul":
        expected = sorted(made, key=lambda i: (i.title, i.id))
    else:
        expected = sorted(made, key=lambda i: (i.started_at, i.id), reverse=sort == "terbaru")
    for limit in (1, 2, 3, 7, 50):
        assert _walk(demo_session, "camat.contoh", CaseQuery(daftar="unit", sort=sort), limit) == \
            [i.id for i in expected], limit


def test_a_bad_cursor_is_refused(demo_session: Session, new_instance: NewInstance) -> None:
    _instances(demo_session, new_instance, [("Satu", NOW)])
    for cursor in ("rusak", "2026-13-01T00:00:00|5", "|5", "2026-05-01T00:00:00|x"):
        with pytest.raises(InvalidTaskDataError):
            engine_cases.page(demo_session, "camat.contoh", CaseQuery(daftar="unit"), after=cursor, now=NOW)


def test_involving_is_the_same_set_probed_or_hashed(demo_session: Session, new_instance: NewInstance,
                                                    task: Task) -> None:
    done, staf_ready, team_ready, staf_done_only, nothing = _instances(demo_session, new_instance, [
        (f"Kasus {n}", NOW - timedelta(hours=n)) for n in range(5)])
    task(done, "Tim", state="completed", completed_by="tim1.kecamatan")
    task(staf_ready, "Staf")
    team = org.create_team(demo_session, instance_id=team_ready.id, lane_name="Tim Penyusun",
                           member_ids=[_uid(demo_session, "tim2.kecamatan")], formed_by_task_id="x")
    task(team_ready, "Tim Penyusun", team_id=team.id)
    task(staf_done_only, "Staf", state="completed", completed_by="staf2.kecamatan")
    task(nothing, "Camat", state="completed", completed_by="camat.contoh")
    expected = {"tim1.kecamatan": {done.id}, "staf1.kecamatan": {staf_ready.id},
                "staf2.kecamatan": {staf_ready.id, staf_done_only.id}, "tim2.kecamatan": {team_ready.id}}
    for username, ids in expected.items():
        user_id = _uid(demo_session, username)
        roles = frozenset(r.id for r in org.roles_of(demo_session, user_id))
        teams = cases.team_ids_of(demo_session, user_id)
        for dense in (False, True):
            found = set(demo_session.scalars(select(ProcessInstance.id).where(
                cases.involving(user_id, roles, teams, dense=dense))))
            assert found == ids, (username, dense)
        rows, _ = engine_cases.page(demo_session, username, CaseQuery(daftar="terlibat"), now=NOW)
        assert {r.id for r in rows} == ids, username
    assert not cases.is_dense(demo_session, _uid(demo_session, "tim1.kecamatan"))


def test_current_steps_name_their_holders_and_claimer(demo_session: Session, new_instance: NewInstance,
                                                      task: Task) -> None:
    first, second, bare = _instances(demo_session, new_instance, [
        ("Satu", NOW - timedelta(days=1)), ("Dua", NOW - timedelta(days=2)), ("Tiga", NOW - timedelta(days=3))])
    later = task(first, "Staf", ready_at=NOW - timedelta(hours=1))
    earlier = task(first, "Tim", ready_at=NOW - timedelta(hours=5), claimed_by="tim3.kecamatan")
    team = org.create_team(demo_session, instance_id=second.id, lane_name="Tim Penyusun",
                           member_ids=[_uid(demo_session, u) for u in ("tim2.kecamatan", "staf1.kecamatan")],
                           formed_by_task_id="x")
    task(second, "Tim Penyusun", team_id=team.id)
    task(second, "Staf", state="completed", completed_by="staf1.kecamatan")
    task(bare, "Tidak Ada", )  # a lane no role holds: no holders
    names = {u: org.get_user_by_username(demo_session, u).full_name
             for u in ("staf1.kecamatan", "staf2.kecamatan", "tim1.kecamatan", "tim2.kecamatan", "tim3.kecamatan")}
    found = cases.ready_steps(demo_session, [first.id, second.id, bare.id, first.id])
    assert [s.task_id for s in found[first.id]] == [earlier.id, later.id]  # oldest ready first
    assert found[first.id][0].claimed_by == names["tim3.kecamatan"]
    assert found[first.id][0].holders == tuple(sorted(names[u] for u in ("tim1.kecamatan", "tim2.kecamatan",
                                                                          "tim3.kecamatan")))
    assert found[first.id][1].claimed_by is None
    assert found[first.id][1].holders == tuple(sorted([names["staf1.kecamatan"], names["staf2.kecamatan"]]))
    assert [s.holders for s in found[second.id]] == [tuple(sorted([names["tim2.kecamatan"],
                                                                   names["staf1.kecamatan"]]))]
    assert [s.holders for s in found[bare.id]] == [()]
    assert cases.ready_steps(demo_session, []) == {}


def test_late_mark_and_due_time(demo_session: Session, new_instance: NewInstance, task: Task) -> None:
    overdue, on_time, was_late, done = _instances(demo_session, new_instance, [
        (f"Kasus {n}", NOW - timedelta(days=n + 1)) for n in range(4)])
    task(overdue, "Staf", due_at=NOW - timedelta(hours=1))
    task(overdue, "Tim", due_at=NOW - timedelta(hours=3))
    task(on_time, "Staf", due_at=NOW + timedelta(hours=1))
    task(was_late, "Staf", state="completed", completed_by="staf1.kecamatan", due_at=NOW - timedelta(days=3))
    task(was_late, "Tim", due_at=None)
    task(done, "Staf", state="completed", completed_by="staf1.kecamatan", due_at=NOW)
    rows = {r.id: r for r in engine_cases.page(demo_session, "camat.contoh", CaseQuery(daftar="unit"), now=NOW)[0]}
    assert (rows[overdue.id].late, rows[overdue.id].late_steps) == (True, 2)
    assert rows[overdue.id].due_at == NOW - timedelta(hours=3)  # the earliest
    assert [s.overdue for s in rows[overdue.id].steps] == [True, True]
    assert (rows[on_time.id].late, rows[on_time.id].due_at, rows[on_time.id].steps[0].overdue) == \
        (False, NOW + timedelta(hours=1), False)
    assert (rows[was_late.id].late, rows[was_late.id].late_steps, rows[was_late.id].due_at) == (True, 1, None)
    assert (rows[done.id].late, rows[done.id].steps) == (False, ())
    for row in rows.values():  # the API's shape: CaseRow.to_json skips asdict's copies, same dict
        assert row.to_json() == JsonView.to_json(row)
        assert [s["overdue"] for s in row.to_json()["steps"]] == [s.overdue for s in row.steps]
    late_only, _ = engine_cases.page(demo_session, "camat.contoh", CaseQuery(daftar="unit", late=True), now=NOW)
    assert {r.id for r in late_only} == {overdue.id, was_late.id}


def test_current_steps_holders_follow_the_one_holder_rule(demo_session: Session, new_instance: NewInstance,
                                                          task: Task) -> None:
    """Holders shown in Proses are :func:`storage.org.lane_holders`: ended memberships out, a Plh in, inactive out."""
    from storage.models import Designation, RoleMember

    (instance,) = _instances(demo_session, new_instance, [("Satu", NOW - timedelta(days=1))])
    staf = task(instance, "Staf")
    camat = task(instance, "Camat")
    staf2 = org.get_user_by_username(demo_session, "staf2.kecamatan")
    member = demo_session.scalars(select(RoleMember).where(RoleMember.user_id == staf2.id,
                                                           RoleMember.role_id == staf.role_id)).one()
    member.end_date = (datetime.now(UTC) - timedelta(days=3)).date()  # left the jabatan three days ago
    org.get_user_by_username(demo_session, "staf1.kecamatan").active = False
    today = datetime.now(UTC)
    demo_session.add(Designation(role_id=camat.role_id, user_id=_uid(demo_session, "sekretaris.kecamatan"), kind="plh",
                                 start_date=today.date(), end_date=today.date(), starts_at=today - timedelta(hours=1),
                                 ends_at=today + timedelta(hours=1), designated_by_id=_uid(demo_session, "camat.contoh"),
                                 reason="Cuti"))
    demo_session.flush()
    found = {s.task_id: s.holders for s in cases.ready_steps(demo_session, [instance.id])[instance.id]}
    for step in (staf, camat):
        expected = org.lane_holders(demo_session, team_id=None, role_id=step.role_id)
        assert found[step.id] == tuple(sorted(u.full_name for u in expected))
    assert found[staf.id] == ()
    assert org.get_user_by_username(demo_session, "sekretaris.kecamatan").full_name in found[camat.id]
    assert org.get_user_by_username(demo_session, "camat.contoh").full_name in found[camat.id]
