"""Housekeeping by the worker: old finished jobs and old login attempts are deleted, periodically.

One periodic job (key :data:`JOB_KEY`) reschedules itself every
:data:`INTERVAL`; every worker queues it when it starts (idempotent: one row
whatever the number of workers), so no cron and no singleton process is needed.
Each run deletes, in one transaction:

- ``done`` and ``failed`` jobs finished more than :data:`JOB_RETENTION` ago
  (pending and running jobs are never touched);
- login attempts older than :data:`LOGIN_ATTEMPT_RETENTION` (the record read
  at ``/admin/masuk``; throttling looks back at most 24 hours, ``engine.logins``);
- login sessions that have expired.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from engine.worker import JobRun, register
from storage import jobs, logins
from storage.errors import JobLeaseLost

__all__ = ["INTERVAL", "JOB_KEY", "JOB_KINDS", "JOB_RETENTION", "LOGIN_ATTEMPT_RETENTION", "schedule"]

JOB_KINDS = ("housekeeping",)
JOB_KEY = "housekeeping"
JOB_RETENTION = timedelta(days=30)
LOGIN_ATTEMPT_RETENTION = timedelta(days=90)
INTERVAL = timedelta(hours=24)


def schedule(session: Session, *, now: datetime) -> bool:
    """Queue the periodic housekeeping job to run at ``now`` unless it is queued already; True when added."""
    return jobs.enqueue(session, kind="housekeeping", key=JOB_KEY, run_at=now)


@register("housekeeping")
def run_housekeeping(run: JobRun) -> None:
    """Delete what outlived its retention, then reschedule this job :data:`INTERVAL` later."""
    with run.transaction() as session:
        now = run.clock()
        old_jobs = jobs.delete_finished_before(session, now - JOB_RETENTION)
        attempts = logins.delete_attempts_before(session, now - LOGIN_ATTEMPT_RETENTION)
        sessions = logins.delete_expired_sessions(session, now)
        result = f"dihapus / deleted: {old_jobs} job, {attempts} login_attempt, {sessions} login_session"
        if not jobs.advance(session, run.job.id, run.job.token, run_at=now + INTERVAL, payload={}, result=result):
            raise JobLeaseLost(run.job.id)
