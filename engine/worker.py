"""``alur worker``: runs due jobs from the job table — reminders, escalations, e-mails, webhooks.

Any number of workers may run against one PostgreSQL database, on any number
of machines: each claims due jobs with ``FOR UPDATE SKIP LOCKED`` under a lease
(``ALUR_WORKER_LEASE_SECONDS``) and finishes a job only while it still holds
the claim, in the transaction that makes the job's effects (``storage.jobs``).
A worker killed mid-job leaves the job ``running``; when the lease ends, another
worker claims it again and runs it from the start. A job that changes an
instance's workflow state saves it through the instance's optimistic lock
(``storage.instances.save_state``), as a user's completion does; reminders and
escalations change no workflow state and instead lock the step's task row, so
they never run beside that step's completion.

On SQLite (the single-machine default) run one worker: SQLite lets one writer at
a time, so a second worker is safe (claims are single atomic statements) but
only waits for the first.

Why our own table and not a library: procrastinate (the maintained PostgreSQL
job queue) runs only on PostgreSQL, keeps its own schema outside our Alembic
migrations and defers jobs on its own connection, so a job could not be queued
in the same transaction as the step that causes it; APScheduler 3 keeps
schedules per process (every worker would fire every periodic job) and its
version 4 with shared data stores is still a pre-release. Our periodic work is
event-driven instead: each job is queued, with its due time, in the transaction
of the event that makes it due (a step becomes ready → its reminders and
escalation: one self-rescheduling job per step, ``engine.followups``), so no
scanning scheduler is needed. The one periodic job, housekeeping
(``engine.housekeeping``), reschedules itself too; every worker queues it when
it starts, and its unique key keeps it one row.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from engine.database import Database
from engine.settings import Settings
from storage import jobs
from storage.errors import JobLeaseLost

__all__ = ["HANDLERS", "JobRun", "Worker", "backoff", "register", "serve"]

logger = logging.getLogger(__name__)

Handler = Callable[["JobRun"], None]
HANDLERS: dict[str, Handler] = {}
"""Job kind → the function that runs it; filled by :func:`register` in the modules that own the kinds."""

RETRY_BASE_SECONDS = 30.0
RETRY_MAX_SECONDS = 6 * 3600.0


def register(kind: str) -> Callable[[Handler], Handler]:
    """Decorator: run jobs of ``kind`` with the decorated function."""
    def decorate(handler: Handler) -> Handler:
        HANDLERS[kind] = handler
        return handler
    return decorate


def backoff(attempts: int, base_seconds: float = RETRY_BASE_SECONDS) -> timedelta:
    """Exponential back-off before retry number ``attempts``: base × 2^(attempts−1), at most 6 hours."""
    return timedelta(seconds=min(base_seconds * 2 ** max(attempts - 1, 0), RETRY_MAX_SECONDS))


@dataclass
class JobRun:
    """One claimed job being run: the job, the database, the settings, the clock and the lease."""

    job: jobs.ClaimedJob
    database: Database
    settings: Settings
    clock: Callable[[], datetime]
    lease: timedelta
    retry_base_seconds: float = RETRY_BASE_SECONDS

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A transaction that first checks and renews the claim; raises ``JobLeaseLost`` if it was lost."""
        with self.database.transaction() as session:
            if not jobs.hold(session, self.job.id, self.job.token, now=self.clock(), lease=self.lease):
                raise JobLeaseLost(self.job.id)
            yield session

    def finish(self, session: Session, result: str = "ok") -> None:
        """Mark the job done inside ``session`` (the transaction of its effects)."""
        if not jobs.finish(session, self.job.id, self.job.token, now=self.clock(), result=result):
            raise JobLeaseLost(self.job.id)

    def retry_at(self) -> datetime:
        """When to try again after a failed attempt (exponential back-off)."""
        return self.clock() + backoff(self.job.attempts, self.retry_base_seconds)


def _default_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


class Worker:
    """Claims and runs due jobs; :meth:`run_once` for one round, :meth:`run` until stopped.

    ``name`` identifies the worker in ``job.locked_by`` (default host:pid:thread);
    ``clock`` returns aware UTC now (tests pass their own); ``batch`` is how
    many jobs one claim takes.
    """

    def __init__(self, database: Database, settings: Settings, *, name: str | None = None,
                 clock: Callable[[], datetime] | None = None, batch: int = 10,
                 retry_base_seconds: float = RETRY_BASE_SECONDS) -> None:
        _load_handlers()
        self.database = database
        self.settings = settings
        self.name = name or _default_name()
        self.clock = clock or (lambda: datetime.now(UTC))
        self.batch = batch
        self.lease = timedelta(seconds=settings.worker_lease_seconds)
        self.retry_base_seconds = retry_base_seconds

    def run(self, stop: threading.Event) -> None:
        """Run rounds until ``stop`` is set, waiting ``worker_poll_seconds`` when nothing was due."""
        logger.info("worker %s started", self.name)
        try:
            self.schedule_periodic()
        except Exception:  # the database is away: the next start queues it
            logger.exception("worker %s: could not queue the periodic jobs", self.name)
        while not stop.is_set():
            try:
                done = self.run_once()
            except Exception:  # the database is away: log, wait, try again
                logger.exception("worker %s: claiming failed", self.name)
                done = 0
            if done == 0:
                stop.wait(self.settings.worker_poll_seconds)
        logger.info("worker %s stopped", self.name)

    def schedule_periodic(self) -> None:
        """Queue the periodic jobs (housekeeping) unless queued already: every worker does so when it starts."""
        from engine import housekeeping

        with self.database.transaction() as session:
            housekeeping.schedule(session, now=self.clock())

    def run_once(self) -> int:
        """Claim one batch of due jobs and run them; return how many were claimed."""
        with self.database.transaction() as session:
            claimed = jobs.claim(session, worker=self.name, now=self.clock(), lease=self.lease, limit=self.batch)
        for job in claimed:
            self._run(job)
        return len(claimed)

    def drain(self, max_rounds: int = 100) -> int:
        """Run rounds until nothing is due (tests, ``alur worker --once``); return jobs claimed."""
        total = 0
        for _ in range(max_rounds):
            done = self.run_once()
            total += done
            if done == 0:
                break
        return total

    def _run(self, job: jobs.ClaimedJob) -> None:
        run = JobRun(job, self.database, self.settings, self.clock, self.lease, self.retry_base_seconds)
        handler = HANDLERS.get(job.kind)
        try:
            if handler is None:
                raise LookupError(f"no handler for job kind {job.kind!r}")
            if job.attempts > job.max_attempts:
                raise RuntimeError(f"gave up after {job.max_attempts} attempts")
            handler(run)
        except JobLeaseLost:
            logger.warning("worker %s lost its claim on job %s (%s)", self.name, job.id, job.key)
        except Exception as exc:
            logger.exception("job %s (%s) failed", job.id, job.key)
            self._record_failure(run, f"{type(exc).__name__}: {exc}",
                                 final=handler is None or job.attempts >= job.max_attempts)

    def _record_failure(self, run: JobRun, error: str, *, final: bool) -> None:
        try:
            with self.database.transaction() as session:
                if final:
                    jobs.fail(session, run.job.id, run.job.token, now=self.clock(), error=error)
                else:
                    jobs.retry_later(session, run.job.id, run.job.token, run_at=run.retry_at(), error=error)
        except Exception:  # leave it to the lease: another round will retry
            logger.exception("could not record the failure of job %s", run.job.id)


def serve(database: Database, settings: Settings, *, once: bool = False, name: str | None = None) -> int:
    """Run a worker in this process until SIGTERM/SIGINT (``alur worker``); return jobs claimed with ``once``.

    With ``once``, run the jobs due now and return. Otherwise a signal lets the
    job in hand finish and then stops the loop.
    """
    import signal

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    worker = Worker(database, settings, name=name)
    if once:
        worker.schedule_periodic()
        return worker.drain()
    stop = threading.Event()

    def _stop(signum: int, _frame: object) -> None:
        logger.info("worker %s: signal %s, stopping", worker.name, signum)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    worker.run(stop)
    return 0


def _load_handlers() -> None:
    """Import the modules that register job kinds (kept out of import time: they import the engine)."""
    from engine import followups, housekeeping, notifications, timer_events

    kinds = {*followups.JOB_KINDS, *housekeeping.JOB_KINDS, *notifications.JOB_KINDS, *timer_events.JOB_KINDS}
    missing = kinds - HANDLERS.keys()
    if missing:
        raise RuntimeError(f"job kinds without a handler: {sorted(missing)}")
