"""Human tasks, the inbox and exactly-once completion (storage.tasks)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session

from storage import org, tasks
from storage.db import make_session_factory
from storage.errors import TaskAlreadyCompleted, TaskNotFound
from storage.models import HumanTask, ProcessInstance

T0 = datetime(2025, 5, 5, 0, 30, tzinfo=UTC)  # Senin 07:30 WIB


def _ready(
    session: Session,
    instance: ProcessInstance,
    *,
    element_id: str = "Step_01",
    process_id: str = "sop_uji",
    lane: str = "Staf",
    team_id: int | None = None,
    ready_at: datetime = T0,
    due_at: datetime | None = None,
) -> HumanTask:
    role = None if team_id else org.resolve_role(session, instance.unit_id, lane)
    return tasks.add_ready(
        session,
        id=str(uuid.uuid4()),
        instance_id=instance.id,
        definition_id=instance.definition_id,
        process_id=process_id,
        element_id=element_id,
        name=f"Kegiatan {element_id}",
        lane_name=lane,
        role_id=role.id if role else None,
        team_id=team_id,
        unit_id=instance.unit_id,
        ready_at=ready_at,
        due_at=due_at,
        waktu="PT30M" if due_at else None,
        is_review=False,
    )


def _user(session: Session, username: str) -> int:
    return org.get_user_by_username(session, username).id


def test_add_ready_counts_iterations_per_element(demo_session: Session, new_instance) -> None:
    instance = new_instance(demo_session)
    first = _ready(demo_session, instance)
    other = _ready(demo_session, instance, element_id="Step_02")
    tasks.mark_completed(demo_session, first.id, user_id=_user(demo_session, "staf1.kecamatan"),
                         completed_at=T0)
    again = _ready(demo_session, instance)  # sent back by a "tidak"
    assert (first.iteration, other.iteration, again.iteration) == (1, 1, 2)
    assert again.state == "ready"
    elsewhere = _ready(demo_session, new_instance(demo_session))
    assert elsewhere.iteration == 1


def test_iterations_are_counted_per_process(demo_session: Session, new_instance) -> None:
    """A called SOP runs in the caller's instance and may reuse its element ids."""
    instance = new_instance(demo_session)
    caller_step = _ready(demo_session, instance, element_id="Step_01")
    called_step = _ready(demo_session, instance, element_id="Step_01", process_id="sop_fgd")
    assert (caller_step.iteration, called_step.iteration) == (1, 1)
    assert _ready(demo_session, instance, element_id="Step_01", process_id="sop_fgd").iteration == 2


def test_get_and_missing(demo_session: Session, new_instance) -> None:
    task = _ready(demo_session, new_instance(demo_session))
    assert tasks.get(demo_session, task.id) is task
    with pytest.raises(TaskNotFound):
        tasks.get(demo_session, "tidak-ada")


def test_mark_completed_once(demo_session: Session, new_instance) -> None:
    task = _ready(demo_session, new_instance(demo_session))
    staf1 = _user(demo_session, "staf1.kecamatan")
    tasks.mark_completed(demo_session, task.id, user_id=staf1, completed_at=T0 + timedelta(hours=1))
    assert (task.state, task.completed_by_id) == ("completed", staf1)
    demo_session.expire_all()
    stored = tasks.get(demo_session, task.id)
    assert (stored.state, stored.completed_by_id, stored.completed_at) == (
        "completed", staf1, T0 + timedelta(hours=1)
    )
    with pytest.raises(TaskAlreadyCompleted):
        tasks.mark_completed(demo_session, task.id, user_id=_user(demo_session, "staf2.kecamatan"),
                             completed_at=T0)
    with pytest.raises(TaskNotFound):
        tasks.mark_completed(demo_session, "tidak-ada", user_id=staf1, completed_at=T0)


def test_mark_cancelled_only_touches_ready_tasks(demo_session: Session, new_instance) -> None:
    instance = new_instance(demo_session)
    done, open_1, open_2 = (_ready(demo_session, instance, element_id=f"S{i}") for i in range(3))
    tasks.mark_completed(demo_session, done.id, user_id=_user(demo_session, "staf1.kecamatan"),
                         completed_at=T0)
    cancelled_at = T0 + timedelta(days=1)
    assert tasks.mark_cancelled(demo_session, [done.id, open_1.id, open_2.id], at=cancelled_at) == 2
    assert tasks.mark_cancelled(demo_session, [], at=cancelled_at) == 0
    assert (done.state, open_1.state, open_2.state) == ("completed", "cancelled", "cancelled")
    assert open_1.completed_at == cancelled_at and done.completed_at == T0
    assert tasks.ready_for_instance(demo_session, instance.id) == []


def test_ready_and_all_tasks_of_instance(demo_session: Session, new_instance) -> None:
    instance = new_instance(demo_session)
    later = _ready(demo_session, instance, element_id="S2", ready_at=T0 + timedelta(minutes=5))
    first = _ready(demo_session, instance, element_id="S1")
    tasks.mark_completed(demo_session, first.id, user_id=_user(demo_session, "staf1.kecamatan"),
                         completed_at=T0)
    assert tasks.ready_for_instance(demo_session, instance.id) == [later]
    assert tasks.tasks_of_instance(demo_session, instance.id) == [first, later]


def test_inbox_by_role(demo_session: Session, new_instance) -> None:
    instance = new_instance(demo_session)
    staf_task = _ready(demo_session, instance, lane="Staff")
    camat_task = _ready(demo_session, instance, element_id="S2", lane="Camat")
    staf1 = _user(demo_session, "staf1.kecamatan")
    assert tasks.inbox(demo_session, staf1) == [staf_task]
    assert tasks.inbox(demo_session, _user(demo_session, "staf2.kecamatan")) == [staf_task]
    assert tasks.inbox(demo_session, _user(demo_session, "camat.contoh")) == [camat_task]
    assert tasks.inbox(demo_session, _user(demo_session, "staf1.kominfo")) == []
    tasks.mark_completed(demo_session, staf_task.id, user_id=staf1, completed_at=T0)
    assert tasks.inbox(demo_session, staf1) == []


def test_inbox_by_team(demo_session: Session, new_instance) -> None:
    instance = new_instance(demo_session)
    staf1, camat = _user(demo_session, "staf1.kecamatan"), _user(demo_session, "camat.contoh")
    team = org.create_team(demo_session, instance_id=instance.id, lane_name="Tim",
                           member_ids=[camat], formed_by_task_id="t0")
    team_task = _ready(demo_session, instance, lane="Tim", team_id=team.id)
    assert tasks.inbox(demo_session, camat) == [team_task]
    # tim1 holds the role "Tim" but is not a member of this instance's team
    assert tasks.inbox(demo_session, _user(demo_session, "tim1.kecamatan")) == []
    assert tasks.inbox(demo_session, staf1) == []
    org.create_team(demo_session, instance_id=instance.id, lane_name="Tim",
                    member_ids=[staf1], formed_by_task_id="t1")
    assert tasks.inbox(demo_session, staf1) == [team_task]
    assert tasks.inbox(demo_session, camat) == []


def test_inbox_order_filter_and_limit(demo_session: Session, new_instance) -> None:
    instance = new_instance(demo_session)
    other = new_instance(demo_session, process_id="sop_lain")
    no_due = _ready(demo_session, instance, element_id="A")
    late_due = _ready(demo_session, instance, element_id="B", due_at=T0 + timedelta(days=3))
    soon_due = _ready(demo_session, instance, element_id="C", due_at=T0 + timedelta(hours=1))
    no_due_older = _ready(demo_session, instance, element_id="D", ready_at=T0 - timedelta(days=1))
    elsewhere = _ready(demo_session, other, element_id="E", process_id="sop_lain")
    staf1 = _user(demo_session, "staf1.kecamatan")
    assert tasks.inbox(demo_session, staf1, process_id="sop_uji") == [
        soon_due, late_due, no_due_older, no_due
    ]
    assert tasks.inbox(demo_session, staf1, process_id="sop_uji", limit=2) == [soon_due, late_due]
    assert tasks.inbox(demo_session, staf1, process_id="sop_lain") == [elsewhere]
    assert len(tasks.inbox(demo_session, staf1)) == 5


def test_inbox_is_one_query_on_the_indexes(
    demo_session: Session, new_instance, backend: str
) -> None:
    instance = new_instance(demo_session)
    _ready(demo_session, instance)
    staf1 = _user(demo_session, "staf1.kecamatan")
    statements: list[tuple[str, object]] = []
    at = datetime.now(UTC)

    def capture(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append((statement, parameters))

    connection = demo_session.connection()
    event.listen(connection, "before_cursor_execute", capture)
    try:
        assert len(tasks.inbox(demo_session, staf1, at=at)) == 1  # reads the user's roles, then the inbox
        assert len(tasks.inbox(demo_session, staf1, at=at)) == 1  # the roles are known (as after the login)
    finally:
        event.remove(connection, "before_cursor_execute", capture)
    assert len(statements) == 3, statements
    assert "role_member" in statements[0][0] and "designation" in statements[0][0]
    assert statements[1] == statements[2]
    statements = statements[1:]
    sql, params = statements[0]
    assert "process_instance" not in sql and "state_json" not in sql
    if backend == "sqlite":
        plan = " | ".join(
            row[-1] for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)
        )
        assert "ix_human_task_inbox_role" in plan and "ix_human_task_inbox_team" in plan, plan
        assert "SCAN human_task" not in plan, plan


def test_concurrent_completion_exactly_one_wins(
    isolated_engine: Engine, new_instance, race
) -> None:
    factory = make_session_factory(isolated_engine)
    with factory.begin() as session:
        task_id = _ready(session, new_instance(session)).id
        staf = [_user(session, "staf1.kecamatan"), _user(session, "staf2.kecamatan")]
    claimed = iter(staf)

    def read(session: Session) -> None:
        assert tasks.get(session, task_id).state == "ready"

    def write(session: Session) -> None:
        tasks.mark_completed(session, task_id, user_id=next(claimed), completed_at=T0)

    assert race(factory, read, write) == ["TaskAlreadyCompleted", "committed"]
    with factory() as session:
        task = tasks.get(session, task_id)
        assert task.state == "completed" and task.completed_by_id in staf
        count = session.execute(
            text("SELECT count(*) FROM human_task WHERE state = 'completed'")
        ).scalar()
        assert count == 1
