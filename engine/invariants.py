"""Invariants of a database in use, checked after a load test (or at any time by an operator).

Each rule reads committed rows only and reports violations as text:

1. the ready human-task rows of each running instance are exactly the ready
   user tasks of its stored workflow state (SpiffWorkflow, deserialized);
2. every completed task has exactly one ``task_completed`` history event, and no
   other task has any (one completion stored once, no task completed twice);
3. every running instance has a ready task or a pending timer job;
4. no job is left ``running`` past its lease, and none ``failed``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select
from sqlalchemy.orm import Session, undefer

from engine import state
from engine.catalog import get_definition
from storage.models import AuditEvent, HumanTask, Job, ProcessInstance

__all__ = ["Report", "check"]

TIMER_JOB_KINDS = ("bpmn_timer",)


@dataclass
class Report:
    """What was checked (``counts``) and every violation found (``violations``, empty when all hold)."""

    counts: dict[str, int] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)


def check(session: Session, *, now: datetime | None = None, check_jobs: bool = True) -> Report:
    """Check every rule on the committed data visible to ``session``; return the report."""
    report = Report()
    _ready_rows_match_state(session, report)
    _one_completion_each(session, report)
    if check_jobs:
        _jobs_settled(session, report, now or datetime.now(UTC))
    return report


def _ready_rows_match_state(session: Session, report: Report) -> None:
    running = session.scalars(select(ProcessInstance).where(ProcessInstance.status == "running")
                              .options(undefer(ProcessInstance.state_json))).all()
    ready_rows: dict[int, set[str]] = {}
    for task_id, instance_id in session.execute(select(HumanTask.id, HumanTask.instance_id)
                                                .where(HumanTask.state == "ready")):
        ready_rows.setdefault(instance_id, set()).add(task_id)
    timers = {i for i in session.scalars(select(Job.instance_id).where(
        Job.kind.in_(TIMER_JOB_KINDS), Job.state.in_(("pending", "running"))))}
    report.counts["running_instances"] = len(running)
    for row in running:
        root = get_definition(session, row.definition_id)
        called = {pid: get_definition(session, did).spec
                  for pid, did in json.loads(row.called_definitions_json or "{}").items()}
        workflow = state.load_state(row.state_json, root.spec, called)
        engine_ready = {str(t.id) for t in workflow.get_tasks(state=TaskState.READY, manual=True)}
        rows = ready_rows.get(row.id, set())
        if engine_ready != rows:
            report.violations.append(f"instance {row.id}: ready rows {sorted(rows)} != engine {sorted(engine_ready)}")
        if not rows and row.id not in timers:
            report.violations.append(f"instance {row.id}: running without a ready task or pending timer")


def _one_completion_each(session: Session, report: Report) -> None:
    events: dict[str | None, int] = {task_id: n for task_id, n in session.execute(
        select(AuditEvent.human_task_id, func.count()).where(AuditEvent.kind == "task_completed")
        .group_by(AuditEvent.human_task_id))}
    completed = set(session.scalars(select(HumanTask.id).where(HumanTask.state == "completed")))
    report.counts["completed_tasks"] = len(completed)
    report.counts["completion_events"] = sum(events.values())
    for task_id in completed:
        if events.get(task_id, 0) != 1:
            report.violations.append(f"task {task_id}: {events.get(task_id, 0)} completion events (want 1)")
    for stray in set(events) - completed:
        report.violations.append(f"task {stray}: completion event(s) but the task is not completed")


def _jobs_settled(session: Session, report: Report, now: datetime) -> None:
    by_state = {state_: n for state_, n in session.execute(select(Job.state, func.count()).group_by(Job.state))}
    report.counts.update({f"jobs_{k}": v for k, v in by_state.items()})
    stuck = session.scalars(select(Job.key).where(Job.state == "running", Job.locked_until < now)).all()
    report.violations += [f"job {key}: running past its lease" for key in stuck]
    failed = session.execute(select(Job.key, Job.last_error).where(Job.state == "failed"))
    report.violations += [f"job {key}: failed ({error})" for key, error in failed]
