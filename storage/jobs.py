"""The job table: due work for ``alur worker``, claimed under a lease, finished once.

A job is a row (see ``models.Job``). Its life: :func:`enqueue` (``pending``;
the ``key`` makes enqueueing idempotent) → :func:`claim` (``running``, a fresh
``claim_token``, ``locked_until`` = now + lease) → in the transaction that makes
the job's effects, :func:`hold` (still ours? renews the lease and locks the row)
and :func:`finish` (``done``) — or :func:`retry_later` / :func:`reschedule` /
:func:`fail`. Every write after the claim is conditional on the claim token, so
a worker whose lease expired (it was killed, or stalled) can no longer finish a
job another worker has re-claimed: each job's database effects commit once.

Claiming is one statement, ``UPDATE job ... WHERE id IN (SELECT ... FOR UPDATE
SKIP LOCKED LIMIT n) RETURNING ...``: on PostgreSQL any number of workers claim
disjoint rows without waiting on each other (the job-executor pattern of
Camunda 7); SQLite ignores ``FOR UPDATE`` but runs one writer at a time, so the
same statement is atomic there too.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, and_, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import Job, utcnow

__all__ = [
    "ClaimedJob", "NewJob", "advance", "begin_send", "claim", "delete_finished_before", "enqueue", "enqueue_many",
    "fail", "finish", "hold", "reschedule", "retry_later", "send_failed",
]


@dataclass(frozen=True)
class ClaimedJob:
    """A job a worker has claimed: what to run and the token that proves the claim."""

    id: int
    kind: str
    key: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    unconfirmed_sends: int
    token: str


def enqueue(
    session: Session, *, kind: str, key: str, run_at: datetime, payload: dict[str, Any] | None = None,
    instance_id: int | None = None, max_attempts: int = 10,
) -> bool:
    """Queue a job unless one with ``key`` exists; return whether a row was added.

    ``INSERT ... ON CONFLICT (key) DO NOTHING``: the same job queued twice (two
    transactions racing, or a repeated call) is one row. ``run_at`` is aware UTC.
    """
    row = _row(NewJob(kind=kind, key=key, run_at=run_at, payload=payload or {}, instance_id=instance_id,
                      max_attempts=max_attempts), utcnow())
    stmt = _insert(session).values(**row).on_conflict_do_nothing(index_elements=["key"]).returning(Job.id)
    return session.execute(stmt).first() is not None


@dataclass(frozen=True)
class NewJob:
    """A job to queue with :func:`enqueue_many` (the arguments of :func:`enqueue`)."""

    kind: str
    key: str
    run_at: datetime
    payload: dict[str, Any]
    instance_id: int | None = None
    max_attempts: int = 10


def enqueue_many(session: Session, new_jobs: list[NewJob]) -> None:
    """Queue several jobs with one cached statement (executemany), skipping keys that exist."""
    if new_jobs:
        now = utcnow()
        stmt = _insert(session).on_conflict_do_nothing(index_elements=["key"])
        session.execute(stmt, [_row(j, now) for j in new_jobs])


def _insert(session: Session) -> Any:
    return (postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert)(Job)


def _row(job: NewJob, now: datetime) -> dict[str, Any]:
    return {"kind": job.kind, "key": job.key, "state": "pending", "run_at": job.run_at,
            "payload_json": json.dumps(job.payload, sort_keys=True, ensure_ascii=False),
            "instance_id": job.instance_id, "attempts": 0, "max_attempts": job.max_attempts,
            "unconfirmed_sends": 0, "created_at": now}


def claim(
    session: Session, *, worker: str, now: datetime, lease: timedelta, limit: int = 10,
) -> list[ClaimedJob]:
    """Claim up to ``limit`` due jobs for ``worker``; return them, soonest due first.

    Due: ``pending`` with ``run_at <= now``, or ``running`` whose lease ended
    before ``now`` (its worker died). Each claim adds one to ``attempts``.
    The caller commits right away, so other workers see the claim.
    """
    due = or_(and_(Job.state == "pending", Job.run_at <= now),
              and_(Job.state == "running", Job.locked_until < now))
    chosen = (select(Job.id).where(due).order_by(Job.run_at, Job.id).limit(limit)
              .with_for_update(skip_locked=True))
    token = str(uuid.uuid4())
    stmt = (
        update(Job)
        .where(Job.id.in_(chosen.scalar_subquery()), due)
        .values(state="running", claim_token=token, locked_by=worker[:255], locked_until=now + lease,
                attempts=Job.attempts + 1)
        .returning(Job.id, Job.kind, Job.key, Job.payload_json, Job.attempts, Job.max_attempts,
                   Job.unconfirmed_sends, Job.run_at)
        .execution_options(synchronize_session=False)
    )
    rows = sorted(session.execute(stmt), key=lambda r: (r.run_at, r.id))
    return [ClaimedJob(id=r.id, kind=r.kind, key=r.key, payload=json.loads(r.payload_json), attempts=r.attempts,
                       max_attempts=r.max_attempts, unconfirmed_sends=r.unconfirmed_sends, token=token)
            for r in rows]


def _mine(job_id: int, token: str) -> Any:
    return and_(Job.id == job_id, Job.claim_token == token, Job.state == "running")


def _update(session: Session, job_id: int, token: str, **values: Any) -> bool:
    stmt = update(Job).where(_mine(job_id, token)).values(**values).execution_options(synchronize_session=False)
    return cast("CursorResult[Any]", session.execute(stmt)).rowcount == 1


def hold(session: Session, job_id: int, token: str, *, now: datetime, lease: timedelta) -> bool:
    """Renew the lease of a claimed job; False when the claim was lost (lease expired, re-claimed).

    The first statement of a job's transaction: it locks the job row until the
    transaction ends (PostgreSQL) or starts the single write transaction (SQLite).
    """
    return _update(session, job_id, token, locked_until=now + lease)


def finish(session: Session, job_id: int, token: str, *, now: datetime, result: str = "ok") -> bool:
    """Mark a claimed job done with a short ``result``; False when the claim was lost."""
    return _update(session, job_id, token, state="done", finished_at=now, result=result[:255],
                   claim_token=None, locked_until=None, unconfirmed_sends=0)


def fail(session: Session, job_id: int, token: str, *, now: datetime, error: str) -> bool:
    """Give a claimed job up for good (``failed``), keeping ``error``; False when the claim was lost."""
    return _update(session, job_id, token, state="failed", finished_at=now, last_error=error,
                   claim_token=None, locked_until=None)


def retry_later(session: Session, job_id: int, token: str, *, run_at: datetime, error: str) -> bool:
    """Put a claimed job back to ``pending`` until ``run_at`` after an error; False when the claim was lost."""
    return _update(session, job_id, token, state="pending", run_at=run_at, last_error=error,
                   claim_token=None, locked_until=None)


def reschedule(session: Session, job_id: int, token: str, *, run_at: datetime) -> bool:
    """Put a claimed job back to ``pending`` until ``run_at`` without counting an attempt.

    For a job that found, when it ran, that its time has moved (the unit's
    policy changed). Returns False when the claim was lost.
    """
    return _update(session, job_id, token, state="pending", run_at=run_at, attempts=Job.attempts - 1,
                   claim_token=None, locked_until=None)


def advance(session: Session, job_id: int, token: str, *, run_at: datetime, payload: dict[str, Any],
            result: str) -> bool:
    """Put a claimed job back to ``pending`` until ``run_at`` with a new ``payload``, as a fresh job.

    For a job that runs in stages (a step's follow-up: reminder, due
    reminder, escalation): the stage done is kept in ``result``, the attempts
    and unconfirmed sends start again from 0. Returns False when the claim was lost.
    """
    return _update(session, job_id, token, state="pending", run_at=run_at, attempts=0, unconfirmed_sends=0,
                   payload_json=json.dumps(payload, sort_keys=True, ensure_ascii=False), result=result[:255],
                   last_error=None, claim_token=None, locked_until=None)


def begin_send(session: Session, job_id: int, token: str, *, now: datetime, lease: timedelta) -> bool:
    """Record that an external send (SMTP, webhook) is about to start; False when the claim was lost.

    Committed before the send, so a worker killed between sending and
    recording leaves ``unconfirmed_sends`` raised for the next claimer to see.
    """
    return _update(session, job_id, token, unconfirmed_sends=Job.unconfirmed_sends + 1,
                   locked_until=now + lease)


def send_failed(session: Session, job_id: int, token: str, *, run_at: datetime, error: str) -> bool:
    """Undo :func:`begin_send` after a send that surely did not happen, and retry at ``run_at``."""
    return _update(session, job_id, token, state="pending", run_at=run_at, last_error=error,
                   unconfirmed_sends=Job.unconfirmed_sends - 1, claim_token=None, locked_until=None)


def delete_finished_before(session: Session, before: datetime) -> int:
    """Delete ``done`` and ``failed`` jobs that finished before ``before``; return how many.

    Pending and running jobs stay, whatever their age.
    """
    stmt = (delete(Job).where(Job.state.in_(("done", "failed")), Job.finished_at < before)
            .execution_options(synchronize_session=False))
    return cast("CursorResult[Any]", session.execute(stmt)).rowcount
