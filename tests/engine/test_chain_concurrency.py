"""Many completions at once, on PostgreSQL: the hash chain of every instance stays one line, never a fork.

Threads, each with its own session and transaction on the same
:class:`Database`, meet at a barrier and then complete tasks: two contenders
per task of two instances (racing on the instance's optimistic lock, which
also serialises the appending of its audit events) and one lone completion
of a third instance (which must never wait for or lose to the others: no lock
is shared across instances). Afterwards ``verify`` says "utuh" for every
instance, no two events of an instance chain onto the same predecessor, and
each loser got a ``ConflictError`` and nothing else. PostgreSQL only (SQLite
serialises every writer on its file lock, so nothing races there): skipped
without ``ALUR_TEST_POSTGRES_URL``.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine import audit, instances
from engine.database import Database
from engine.views import InstanceView
from storage import chain
from storage.errors import ConflictError
from storage.models import AuditEvent
from tests.support import RaceJob, race

PROCESS_ID, UNIT = "sop_surat_masuk", "dinas-kominfo"  # five sequential steps, one review
ROUNDS = 4


@pytest.fixture
def database(backend: str, scratch_alur_db: Database) -> Database:
    """``scratch_alur_db`` on PostgreSQL; skipped on SQLite, which serialises every writer."""
    if backend != "postgresql":
        pytest.skip("races need PostgreSQL (set ALUR_TEST_POSTGRES_URL)")
    return scratch_alur_db


def _start(database: Database, title: str) -> int:
    with database.transaction() as session:
        starter = instances.starters(session, PROCESS_ID, UNIT)[0]
        return instances.start_instance(session, process_id=PROCESS_ID, unit_code=UNIT, title=title,
                                        username=starter).id


def _ready(database: Database, instance_id: int) -> tuple[str, bool, list[str]]:
    """The instance's one ready task: id, whether it is a review, the users holding its lane."""
    with database.transaction() as session:
        (task,) = instances.get_instance(session, instance_id).ready_tasks
        return task.id, task.is_review, instances.candidates(session, task.id)


def _forks(database: Database, instance_id: int) -> list[int]:
    """Events whose predecessor (found by hash, not by id order) already has another successor."""
    with database.transaction() as session:
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance_id)
                                      .order_by(AuditEvent.id)))
    hashes = [chain.GENESIS, *(e.chain_hash for e in events if e.chain_hash is not None)]
    successors: dict[bytes, int] = {}
    forks = []
    for e in events:
        content = chain.canonical_event(
            instance_id=e.instance_id, occurred_at=e.occurred_at, kind=e.kind, actor_id=e.actor_id,
            human_task_id=e.human_task_id, element_id=e.element_id, process_id=e.process_id,
            keputusan=e.keputusan, catatan=e.catatan, data_json=e.data_json)
        (previous,) = [h for h in hashes if chain.event_hash(h, content) == e.chain_hash]
        if previous in successors:
            forks.append(e.id)
        successors[previous] = e.id
    return forks


def _race(database: Database, jobs: list[tuple[int, str, str, bool]]) -> list[object]:
    """Run every (instance, task, username, review) completion in its own thread, all released at once after
    each has read its task; each job's InstanceView or exception."""
    def complete(task_id: str, username: str, review: bool) -> RaceJob:
        return (lambda session: instances.get_task(session, task_id),
                lambda session: instances.complete_task(session, task_id, username=username,
                                                        keputusan="setuju" if review else None))

    return race(database, [complete(task_id, username, review) for _, task_id, username, review in jobs])


def test_racing_completions_leave_one_unbroken_chain_per_instance(database: Database) -> None:
    raced = [_start(database, "Surat undangan A"), _start(database, "Surat undangan B")]
    alone = _start(database, "Surat undangan C")
    for _ in range(ROUNDS):
        jobs: list[tuple[int, str, str, bool]] = []  # instance, task, username, review
        for instance_id in raced:
            task_id, review, holders = _ready(database, instance_id)
            jobs += [(instance_id, task_id, holders[0], review), (instance_id, task_id, holders[-1], review)]
        task_id, review, holders = _ready(database, alone)
        jobs.append((alone, task_id, holders[0], review))
        outcomes = _race(database, jobs)
        for instance_id in raced:
            mine = [o for (i, *_), o in zip(jobs, outcomes, strict=True) if i == instance_id]
            assert sum(isinstance(o, InstanceView) for o in mine) == 1, mine
            losers = [o for o in mine if not isinstance(o, InstanceView)]
            assert len(losers) == 1 and isinstance(losers[0], ConflictError), losers
        assert isinstance(outcomes[-1], InstanceView), outcomes[-1]  # the lone completion never loses

    with database.transaction() as session:
        for instance_id in [*raced, alone]:
            assert audit.verify(session, instance_id).text == "utuh"
            completions = session.scalars(select(AuditEvent.human_task_id).where(
                AuditEvent.instance_id == instance_id, AuditEvent.kind == "task_completed")).all()
            assert len(completions) == len(set(completions)) == ROUNDS  # one completion per task, none twice
        assert audit.verify(session).intact
    for instance_id in [*raced, alone]:
        assert _forks(database, instance_id) == []


def test_the_fork_check_sees_two_events_on_one_predecessor(alur_db: Database) -> None:
    """The check above can fail: an event chained onto an earlier event than the latest is a fork."""
    from datetime import UTC, datetime

    instance_id = _start(alur_db, "Surat undangan D")
    with alur_db.transaction() as session:
        first = session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance_id)
                                .order_by(AuditEvent.id)).first()
        assert first is not None and first.chain_hash is not None
        at = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
        content = chain.canonical_event(instance_id=instance_id, occurred_at=at, kind="task_reminded", actor_id=None,
                                        human_task_id=None, element_id=None, process_id=None, keputusan=None,
                                        catatan=None, data_json="{}")
        forked = AuditEvent(instance_id=instance_id, occurred_at=at, kind="task_reminded", data_json="{}",
                            chain_hash=chain.event_hash(first.chain_hash, content))
        session.add(forked)
        session.flush()
        forked_id = forked.id
        events = session.scalar(select(func.count()).where(AuditEvent.instance_id == instance_id))
    assert events >= 3  # started, a task ready, ..., then the fork onto the first event
    assert _forks(alur_db, instance_id) == [forked_id]
