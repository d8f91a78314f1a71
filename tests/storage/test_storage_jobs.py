"""The job table: idempotent enqueue, claim under a lease, finish only while the claim holds."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select

from storage import jobs
from storage.db import make_session_factory
from storage.models import Job

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)


def _state(factory, job_id: int) -> Job:  # type: ignore[no-untyped-def]
    with factory() as session:
        return session.scalars(select(Job).where(Job.id == job_id)).one()


def test_enqueue_is_idempotent_by_key(isolated_engine: Engine) -> None:
    factory = make_session_factory(isolated_engine)
    with factory.begin() as session:
        assert jobs.enqueue(session, kind="email", key="email:1", run_at=T0, payload={"n": 1})
        assert not jobs.enqueue(session, kind="email", key="email:1", run_at=T0 + LEASE, payload={"n": 2})
    with factory() as session:
        (row,) = session.scalars(select(Job)).all()
    assert (row.state, row.run_at, row.payload, row.attempts) == ("pending", T0, {"n": 1}, 0)


def test_claim_takes_due_jobs_once_and_honours_run_at(isolated_engine: Engine) -> None:
    factory = make_session_factory(isolated_engine)
    with factory.begin() as session:
        jobs.enqueue(session, kind="k", key="due", run_at=T0)
        jobs.enqueue(session, kind="k", key="later", run_at=T0 + timedelta(hours=1))
    with factory.begin() as session:
        first = jobs.claim(session, worker="w1", now=T0, lease=LEASE)
    with factory.begin() as session:
        second = jobs.claim(session, worker="w2", now=T0 + timedelta(seconds=30), lease=LEASE)
    assert [j.key for j in first] == ["due"] and first[0].attempts == 1
    assert second == []
    row = _state(factory, first[0].id)
    assert (row.state, row.locked_by, row.locked_until) == ("running", "w1", T0 + LEASE)


def test_expired_lease_is_reclaimed_and_old_claim_cannot_finish(isolated_engine: Engine) -> None:
    factory = make_session_factory(isolated_engine)
    with factory.begin() as session:
        jobs.enqueue(session, kind="k", key="j", run_at=T0)
    with factory.begin() as session:
        (dead,) = jobs.claim(session, worker="killed", now=T0, lease=LEASE)
    later = T0 + LEASE + timedelta(seconds=1)
    with factory.begin() as session:
        (alive,) = jobs.claim(session, worker="w2", now=later, lease=LEASE)
    assert alive.id == dead.id and alive.attempts == 2 and alive.token != dead.token
    with factory.begin() as session:
        assert not jobs.hold(session, dead.id, dead.token, now=later, lease=LEASE)
        assert not jobs.finish(session, dead.id, dead.token, now=later)
    with factory.begin() as session:
        assert jobs.hold(session, alive.id, alive.token, now=later, lease=LEASE)
        assert jobs.finish(session, alive.id, alive.token, now=later, result="ok")
    row = _state(factory, alive.id)
    assert (row.state, row.result, row.claim_token, row.attempts) == ("done", "ok", None, 2)
    with factory.begin() as session:
        assert jobs.claim(session, worker="w3", now=later + timedelta(days=1), lease=LEASE) == []


def test_reschedule_does_not_count_an_attempt_and_retry_does(isolated_engine: Engine) -> None:
    factory = make_session_factory(isolated_engine)
    with factory.begin() as session:
        jobs.enqueue(session, kind="k", key="j", run_at=T0)
    with factory.begin() as session:
        (job,) = jobs.claim(session, worker="w", now=T0, lease=LEASE)
        assert jobs.reschedule(session, job.id, job.token, run_at=T0 + timedelta(hours=2))
    assert (_state(factory, job.id).attempts, _state(factory, job.id).state) == (0, "pending")
    with factory.begin() as session:
        (job,) = jobs.claim(session, worker="w", now=T0 + timedelta(hours=2), lease=LEASE)
        assert jobs.retry_later(session, job.id, job.token, run_at=T0 + timedelta(hours=3), error="boom")
    row = _state(factory, job.id)
    assert (row.attempts, row.state, row.last_error) == (1, "pending", "boom")


def test_concurrent_claimers_never_share_a_job(isolated_engine: Engine) -> None:
    factory = make_session_factory(isolated_engine)
    with factory.begin() as session:
        for n in range(60):
            jobs.enqueue(session, kind="k", key=f"j{n}", run_at=T0)
    claimed: list[list[int]] = [[], [], []]

    def claimer(slot: int) -> None:
        while True:
            with factory.begin() as session:
                got = jobs.claim(session, worker=f"w{slot}", now=T0, lease=LEASE, limit=4)
            if not got:
                return
            claimed[slot].extend(j.id for j in got)

    threads = [threading.Thread(target=claimer, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    every = [i for ids in claimed for i in ids]
    assert sorted(every) == sorted(set(every)) and len(every) == 60


def test_advance_moves_a_staged_job_to_its_next_stage_as_fresh(isolated_engine: Engine) -> None:
    factory = make_session_factory(isolated_engine)
    with factory.begin() as session:
        jobs.enqueue(session, kind="k", key="followup:t", run_at=T0, payload={"stage": "ready"})
    with factory.begin() as session:
        (job,) = jobs.claim(session, worker="w", now=T0, lease=LEASE)
        assert jobs.advance(session, job.id, job.token, run_at=T0 + timedelta(hours=5),
                            payload={"stage": "share"}, result="ready: ok")
    row = _state(factory, job.id)
    assert (row.state, row.run_at, row.payload, row.attempts, row.result, row.claim_token) == (
        "pending", T0 + timedelta(hours=5), {"stage": "share"}, 0, "ready: ok", None)
    with factory.begin() as session:  # a lost claim cannot advance it
        assert not jobs.advance(session, job.id, job.token, run_at=T0, payload={}, result="x")
        assert jobs.claim(session, worker="w", now=T0 + timedelta(hours=4), lease=LEASE) == []


def test_delete_finished_before_keeps_unfinished_and_recent_jobs(isolated_engine: Engine) -> None:
    factory = make_session_factory(isolated_engine)
    with factory.begin() as session:
        for key in ("old", "recent", "pending"):
            jobs.enqueue(session, kind="k", key=key, run_at=T0)
    with factory.begin() as session:
        claimed = {j.key: j for j in jobs.claim(session, worker="w", now=T0, lease=LEASE)}
        old, recent = claimed["old"], claimed["recent"]
        jobs.finish(session, old.id, old.token, now=T0 - timedelta(days=31))
        jobs.fail(session, recent.id, recent.token, now=T0 - timedelta(days=1), error="x")
    with factory.begin() as session:
        assert jobs.delete_finished_before(session, T0 - timedelta(days=30)) == 1
    with factory() as session:
        assert sorted(session.scalars(select(Job.key))) == ["pending", "recent"]
        assert session.scalars(select(Job.state).where(Job.key == "pending")).one() == "running"
