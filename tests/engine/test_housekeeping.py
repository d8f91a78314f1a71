"""Housekeeping: the worker deletes old finished jobs and old login attempts with one self-rescheduling job."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from engine import housekeeping
from engine.database import Database
from engine.settings import Settings
from engine.worker import Worker
from storage import jobs, logins
from storage.models import Job, LoginAttempt

BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


def _finished_job(session, key: str, state: str, finished_at: datetime) -> None:  # type: ignore[no-untyped-def]
    jobs.enqueue(session, kind="email", key=key, run_at=finished_at)
    row = session.scalars(select(Job).where(Job.key == key)).one()
    row.state, row.finished_at = state, finished_at


def _attempt(session, at: datetime, name: str) -> None:  # type: ignore[no-untyped-def]
    logins.add_attempt(session, attempted_at=at, username=name, user_id=None, address="127.0.0.1",
                       user_agent="uji", outcome="failure")


def test_old_jobs_and_login_attempts_are_deleted_and_the_job_comes_back_daily(alur_db: Database) -> None:
    with alur_db.transaction() as session:
        _finished_job(session, "old-done", "done", NOW - timedelta(days=31))
        _finished_job(session, "old-failed", "failed", NOW - timedelta(days=40))
        _finished_job(session, "recent-done", "done", NOW - timedelta(days=29))
        jobs.enqueue(session, kind="email", key="old-pending", run_at=NOW + timedelta(days=1))
        _attempt(session, NOW - timedelta(days=91), "lama")
        _attempt(session, NOW - timedelta(days=89), "baru")
    clock = [NOW]
    worker = Worker(alur_db, Settings(database_url=str(alur_db.engine.url), bpmn_dir=BPMN_DIR),
                    clock=lambda: clock[0])
    worker.run(stop=_stopped())  # a starting worker queues the periodic job (and stops at once here)
    worker.schedule_periodic()  # idempotent: still one row
    worker.drain()
    with alur_db.transaction() as session:
        keys = set(session.scalars(select(Job.key)))
        names = set(session.scalars(select(LoginAttempt.username)))
        periodic = session.scalars(select(Job).where(Job.key == housekeeping.JOB_KEY)).one()
        periodic_state = (periodic.state, periodic.run_at, periodic.attempts)
        result = periodic.result or ""
    assert keys == {"recent-done", "old-pending", housekeeping.JOB_KEY}
    assert names == {"baru"}
    assert periodic_state == ("pending", NOW + housekeeping.INTERVAL, 0)
    assert "2 job" in result and "1 login_attempt" in result
    clock[0] = NOW + housekeeping.INTERVAL + timedelta(days=1)  # a day later the recent ones are old enough
    worker.drain()
    with alur_db.transaction() as session:
        assert set(session.scalars(select(Job.key))) == {"old-pending", housekeeping.JOB_KEY}


def _stopped() -> threading.Event:
    event = threading.Event()
    event.set()
    return event
