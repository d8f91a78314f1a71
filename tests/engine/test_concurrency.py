"""Two people complete the same task at the same moment: exactly one of them wins.

Each contender runs in its own thread with its own session and transaction on
the same :class:`Database`; a barrier releases both right before
``complete_task``. The loser gets a ``ConflictError`` (``TaskAlreadyCompleted``
or ``StaleInstanceError``), the history records one completion and the instance
state moves on exactly once. Runs on SQLite, and on PostgreSQL too when
``ALUR_TEST_POSTGRES_URL`` is set (``backend``/``scratch_db_url`` fixtures of
``tests/conftest.py``: a schema of its own, dropped afterwards).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import instances
from engine.database import Database
from engine.views import InstanceView
from storage import org
from storage import tasks as storage_tasks
from storage.errors import ConflictError, TaskAlreadyCompleted
from storage.models import AuditEvent, HumanTask, ProcessInstance
from tests.support import race

ROUNDS = 10
# sop_surat_masuk in the Dinas: Staf, Staf, Kasubag Umum (review), Sekretaris, Staf.
PROCESS_ID, UNIT = "sop_surat_masuk", "dinas-kominfo"
STEPS = ["Step_01", "Step_02", "Step_03", "Step_04", "Step_05"]


@pytest.fixture
def database(scratch_alur_db: Database) -> Database:
    """This module's races run on ``scratch_alur_db`` (SQLite, and PostgreSQL when configured)."""
    return scratch_alur_db


@dataclass(frozen=True)
class State:
    """What completing one task may change."""

    lock_version: int
    task_state: str
    completed_by_id: int | None
    completions: int  # task_completed events of the task
    events: int  # every event of the instance
    ready: tuple[str, ...]  # step ids ready in the instance


def _state(database: Database, instance_id: int, task_id: str) -> State:
    with database.transaction() as session:
        task = session.get(HumanTask, task_id)
        return State(
            lock_version=session.get(ProcessInstance, instance_id).lock_version,
            task_state=task.state,
            completed_by_id=task.completed_by_id,
            completions=session.scalar(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.human_task_id == task_id, AuditEvent.kind == "task_completed")),
            events=session.scalar(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.instance_id == instance_id)),
            ready=tuple(t.step_id for t in instances.get_instance(session, instance_id).ready_tasks),
        )


def _next_task(database: Database, instance: InstanceView | None,
               steps: list[str] = STEPS) -> tuple[InstanceView, instances.TaskView]:
    """The next ready task, among ``steps``, of a running sop_surat_masuk instance.

    Tasks of other steps are completed on the way; a new instance is started when
    the last one has ended.
    """
    while True:
        with database.transaction() as session:
            if instance is not None:
                instance = instances.get_instance(session, instance.id)
            if instance is None or instance.status != "running":
                starter = instances.starters(session, PROCESS_ID, UNIT)[0]
                instance = instances.start_instance(session, process_id=PROCESS_ID, unit_code=UNIT,
                                                    title="Surat undangan evaluasi SAKIP", username=starter)
            (task,) = instance.ready_tasks
            if task.step_id in steps:
                return instance, task
            instances.complete_task(session, task.id, username=instances.candidates(session, task.id)[0],
                                    keputusan="setuju" if task.is_review else None)


def _race(database: Database, task: instances.TaskView, usernames: list[str]) -> list[object]:
    """Complete ``task`` from one thread per user at once; return each thread's InstanceView or exception."""
    keputusan = "setuju" if task.is_review else None

    def both_saw_it_ready(session: Session) -> None:
        assert instances.get_task(session, task.id).state == "ready"

    def complete_as(username: str) -> Callable[[Session], object]:
        return lambda session: instances.complete_task(session, task.id, username=username, keputusan=keputusan)

    return race(database, [(both_saw_it_ready, complete_as(u)) for u in usernames], join_timeout_s=60)


def test_two_users_completing_the_same_task_at_once(database: Database) -> None:
    instance: InstanceView | None = None
    steps_seen = []
    for _ in range(ROUNDS):
        instance, task = _next_task(database, instance)
        with database.transaction() as session:
            holders = instances.candidates(session, task.id)
            usernames = [holders[0], holders[-1]]  # two people where the lane has two holders
            user_ids = [org.get_user_by_username(session, u).id for u in usernames]
        before = _state(database, instance.id, task.id)

        outcomes = _race(database, task, usernames)

        wins = [o for o in outcomes if isinstance(o, InstanceView)]
        losses = [o for o in outcomes if not isinstance(o, InstanceView)]
        assert len(wins) == 1, outcomes
        assert len(losses) == 1 and isinstance(losses[0], ConflictError), outcomes
        after = _state(database, instance.id, task.id)
        assert after.task_state == "completed"
        assert after.completed_by_id == user_ids[outcomes.index(wins[0])]
        assert after.completions == before.completions + 1 == 1
        assert after.lock_version == before.lock_version + 1
        assert after.ready == tuple(t.step_id for t in wins[0].ready_tasks)
        # One task_completed, then one task_ready for the next step or instance_completed at the end.
        assert after.events == before.events + 2
        steps_seen.append(task.step_id)
    assert steps_seen == (STEPS * ROUNDS)[:ROUNDS]


@pytest.mark.parametrize("step_id", STEPS)
def test_a_loser_reading_the_state_after_the_winner_committed(
        database: Database, monkeypatch: pytest.MonkeyPatch, step_id: str) -> None:
    """The loser sees the task ready, then the winner commits, then the loser loads the state.

    Completing a review step (Step_03) or the last step (Step_05) prunes the
    completed task from the saved state, so the loser does not find it there.
    """
    instance, task = _next_task(database, None, [step_id])
    keputusan = "setuju" if task.is_review else None
    with database.transaction() as session:
        user = instances.candidates(session, task.id)[0]
    before = _state(database, instance.id, task.id)
    read_task = storage_tasks.get
    winner_started: list[bool] = []
    winner_done: list[InstanceView] = []

    def read_then_let_the_winner_commit(session, task_id):
        row = read_task(session, task_id)
        if not winner_started:  # the loser's read; the winner's own read goes straight through
            winner_started.append(True)

            def winner() -> None:
                with database.transaction() as own:
                    winner_done.append(instances.complete_task(own, task_id, username=user, keputusan=keputusan))
            thread = threading.Thread(target=winner)
            thread.start()
            thread.join(timeout=60)
            assert winner_done, "the winner did not complete"
        return row

    monkeypatch.setattr(storage_tasks, "get", read_then_let_the_winner_commit)
    with pytest.raises(ConflictError), database.transaction() as session:
        instances.complete_task(session, task.id, username=user, keputusan=keputusan)
    monkeypatch.undo()

    after = _state(database, instance.id, task.id)
    assert (after.completions, after.lock_version) == (1, before.lock_version + 1)
    assert after.ready == tuple(t.step_id for t in winner_done[0].ready_tasks)


def test_a_double_submit_is_refused_and_changes_nothing(database: Database) -> None:
    instance, task = _next_task(database, None)
    with database.transaction() as session:
        user = instances.candidates(session, task.id)[0]
        first = instances.complete_task(session, task.id, username=user)
    assert [t.step_id for t in first.ready_tasks] == ["Step_02"]
    before = _state(database, instance.id, task.id)

    with pytest.raises(TaskAlreadyCompleted), database.transaction() as session:
        instances.complete_task(session, task.id, username=user)

    assert _state(database, instance.id, task.id) == before
    assert before.completions == 1 and before.ready == ("Step_02",)
