"""BPMN timer events, fired by the worker: boundary timers on user tasks and intermediate timer catch events.

SpiffWorkflow keeps a waiting timer as a WAITING task that fires when
``refresh_waiting_tasks`` runs after its time (ISO 8601 date, duration or
cycle, BPMN 2.0 §10.5.3 / Table 10.104). Alur makes that time a row: whenever a
workflow is saved with waiting timers, :func:`due_times` fixes each timer's
time in the state (before it is serialized) and :func:`enqueue` queues a
``bpmn_timer`` job for it. The job loads the instance, lets the due timers
fire, runs the engine to the next wait state, records new ready tasks (and
cancels those an interrupting boundary timer ended), and saves the state through
the instance's optimistic lock (``storage.instances.save_state``), exactly as
a user's completion does: a concurrent completion makes one of the two retry.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime

from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy.orm import Session

from engine.calendar import WorkCalendar
from engine.waktu import Waktu
from engine.worker import JobRun, register
from storage import jobs

__all__ = ["JOB_KINDS", "due_times", "enqueue"]

JOB_KINDS = ("bpmn_timer",)


def due_times(workflow: BpmnWorkflow, calendar: WorkCalendar | None = None,
              working_time: Collection[str] = ()) -> dict[str, datetime]:
    """``{task id: when}`` of every waiting timer; fixes each timer's time in the workflow state.

    Call before the state is serialized, so the time stored is the time queued.
    A ``timeDuration`` timer whose element id is in ``working_time`` (diagram:
    ``<alur:timer workingTime="true"/>``) counts its duration in working time on
    ``calendar`` (the unit's), from the moment it starts waiting; its duration
    must then be whole minutes, hours, days or weeks (``PT30M``, ``PT4H``,
    ``P2D``, ``P1W``; raises ``CalendarError`` otherwise).
    """
    due: dict[str, datetime] = {}
    for task in workflow.get_tasks(state=TaskState.WAITING):
        definition = getattr(task.task_spec, "event_definition", None)
        if not isinstance(definition, TimerEventDefinition):
            continue
        if (calendar is not None and isinstance(definition, DurationTimerEventDefinition)
                and task.task_spec.bpmn_id in working_time and not task._get_internal_data("alur_working_time")):
            # SpiffWorkflow fixed a calendar-time deadline when the timer began to wait; replace it.
            duration = workflow.script_engine.evaluate(task, definition.expression)
            start = datetime.fromtimestamp(task.last_state_change, UTC)
            task._set_internal_data(event_value=calendar.add(start, Waktu.from_iso(str(duration))).isoformat(),
                                    alur_working_time=True)
        if isinstance(definition, CycleTimerEventDefinition):
            definition.cycle_complete(task)
            value = task._get_internal_data("event_value")
            when = datetime.fromisoformat(value["next"]) if value else datetime.now(UTC)
        else:
            definition.has_fired(task)
            value = task._get_internal_data("event_value")
            when = (TimerEventDefinition.parse_time_or_duration(value)
                    if isinstance(definition, TimeDateEventDefinition) else TimerEventDefinition.get_datetime(value))
        due[str(task.id)] = when if when.tzinfo else when.replace(tzinfo=UTC)
    return due


def enqueue(session: Session, instance_id: int, due: dict[str, datetime]) -> None:
    """Queue one ``bpmn_timer`` job per waiting timer and time (idempotent by key)."""
    jobs.enqueue_many(session, [
        jobs.NewJob(kind="bpmn_timer", key=f"timer:{instance_id}:{task_id}:{when.isoformat()}", run_at=when,
                    payload={"instance_id": instance_id, "task_id": task_id}, instance_id=instance_id)
        for task_id, when in due.items()])


@register("bpmn_timer")
def fire(run: JobRun) -> None:
    """Let an instance's due timers fire and move it on; saved under the optimistic lock."""
    from engine import instances as engine_instances

    with run.transaction() as session:
        fired = engine_instances.fire_timers(session, run.job.payload["instance_id"], now=run.clock(),
                                             job_id=run.job.id)
        run.finish(session, f"{len(fired)} timer")
