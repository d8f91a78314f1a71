"""Run SOP instances: start one, complete its user tasks, read its history.

Every function takes a ``Session`` and leaves the transaction to the caller: one
user action = one transaction, in which the workflow state, the human-task rows
and the audit events change together or not at all. Conflicts surface as errors
(``TaskAlreadyCompleted``, ``StaleInstanceError``) and roll back cleanly.

Review steps ("Memeriksa ... jika setuju ... jika tidak dikembalikan untuk
diperbaiki", Permenpan RB 35/2012 decision symbol) take a ``keputusan``:
``"setuju"`` or ``"tidak"``; a catatan is required for ``"tidak"`` so the person
fixing the work knows what to fix.

Whatever the engine raises while running the process on (a condition no branch
satisfies, a variable no step set, an expression past its bounds, a diagram
stored without the deploy checks) becomes a :class:`ProcessExecutionError`
before anything is written, so the caller's transaction rolls back with the
task still ready: the user gets the reason, never a traceback.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException, TaskNotFoundException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy.orm import Session

from engine import claims, followups, state, timer_events, visibility
from engine.calendar import unit_calendar
from engine.catalog import Definition, called_closure, get_definition, latest_definition, prefetch_definitions
from engine.lanes import first_step_lanes, resolve_performer, step_of, unresolved_lanes
from engine.sop import StepMeta
from engine.text import CATATAN_MAX, INPUT_TEXT_MAX, NOMOR_SURAT_MAX, TITLE_MAX, check_text
from engine.views import HistoryEntry, InstanceView, TaskView
from engine.waktu import Waktu
from storage import history, instances, org, tasks
from storage.errors import (
    AlurError,
    InvalidTaskDataError,
    PermissionDeniedError,
    ProcessExecutionError,
    TaskAlreadyCompleted,
)
from storage.models import HumanTask, ProcessInstance, Role

__all__ = [
    "KEPUTUSAN", "can_see_instance", "candidates", "complete_task", "fire_timers", "get_instance", "get_task",
    "history_of", "inbox", "inbox_count", "may_complete", "ready_task_ids", "start_instance", "starters",
    "step_of_task", "unheld_ready_tasks",
]

KEPUTUSAN = ("setuju", "tidak")
INBOX_PAGE = 100
# What a diagram's conditions and scripts can raise when run (engine.expressions, SpiffWorkflow).
_ENGINE_ERRORS = (SpiffWorkflowException, AlurError, ArithmeticError, LookupError, NameError, TypeError,
                  ValueError, RecursionError)
_REPR = re.compile(r"<[^<>]* at 0x[0-9a-fA-F]+>")
_NAME_MAX = 200  # characters of an id or name looked up (process id, unit code, username, task id)
_INPUT_MAX = {"nomor_surat": NOMOR_SURAT_MAX}


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def start_instance(
    session: Session, *, process_id: str, unit_code: str, title: str, username: str,
    input_data: Mapping[str, Any] | None = None, now: datetime | None = None,
) -> InstanceView:
    """Start the latest version of SOP ``process_id`` in a unit, on behalf of a user.

    ``title`` is the perihal ("Laporan Kinerja Triwulan III 2026"); ``input_data``
    extra JSON data (e.g. an incoming letter's ``nomor_surat`` and ``tanggal_surat``),
    kept with the instance and given to the process as its start data, which
    conditions may read (:func:`engine.sop.start_variables`). Raises
    ``ProcessNotFound``, ``UnitNotFound``, ``UserNotFound``, ``InvalidTaskDataError``
    (empty title, SOP not meant for this kind of unit, lanes the unit cannot fill),
    ``PermissionDeniedError`` (the user cannot perform the first step),
    ``ProcessExecutionError`` (the diagram fails before its first step; nothing stored)
    and ``InvalidFieldError`` naming a text with a control character or too long
    (``engine.text``: title at most ``TITLE_MAX``, nomor_surat ``NOMOR_SURAT_MAX``).
    ``now`` (aware) is the engine's clock for this action: start time, due times
    and audit times (default: the current time); the history generator passes
    past times.
    """
    at = _now(now)
    for field, value in (("process_id", process_id), ("unit_code", unit_code), ("username", username)):
        check_text(field, value, max_length=_NAME_MAX)
    check_text("title", title or "", max_length=TITLE_MAX)
    _check_data(input_data or {})
    title = (title or "").strip()
    if not title:
        raise InvalidTaskDataError("Judul (perihal) wajib diisi (title is required)")
    unit = org.get_unit_by_code(session, unit_code)
    user = org.get_user_by_username(session, username)
    root = latest_definition(session, process_id)
    if root.meta.unit_kind not in ("any", unit.kind):
        raise InvalidTaskDataError(
            f"{root.name} adalah SOP untuk {root.meta.unit_kind}, bukan {unit.kind} ({unit.code})")
    called = called_closure(session, root)
    missing = unresolved_lanes(session, unit_id=unit.id, root=root, called=called)
    if missing:
        raise InvalidTaskDataError(f"Unit {unit.code} tidak memiliki peran untuk: {', '.join(missing)}")
    unheld = _unheld_first_steps(session, unit.id, root, called, at)
    if unheld:
        raise InvalidTaskDataError(
            f"Langkah pertama {root.name} tidak dapat dimulai: tidak ada pemegang jabatan {', '.join(unheld)} "
            f"di {unit.name}")
    workflow = state.new_workflow(root.spec, {pid: d.spec for pid, d in called.items()})
    workflow.task_tree.data.update(dict(input_data or {}))  # the start data conditions may read
    _run_engine(workflow.do_engine_steps, root.name)
    due = _due_timers(session, workflow, unit.id, {root.process_id: root, **called})
    row = instances.create(
        session, definition_id=root.id, unit_id=unit.id, title=title, started_by_id=user.id,
        state_json=state.dump_state(workflow), serializer_version=state.SERIALIZER_VERSION,
        called_definitions={pid: d.id for pid, d in called.items()}, input_data=dict(input_data or {}),
        started_at=at,
    )
    history.append(session, instance_id=row.id, kind="instance_started", occurred_at=at,
                   actor_id=user.id, process_id=root.process_id,
                   data={"title": title, "version": root.version, "input": dict(input_data or {})})
    _audit_subprocesses(session, row.id, {}, _active_subprocesses(workflow), at, user.id)
    definitions = {root.process_id: root, **called}
    new_tasks = _sync_tasks(session, row, workflow, definitions, at, previously_ready=set())
    timer_events.enqueue(session, row.id, due)
    if not any(_can_perform(session, user.id, t, at) for t in new_tasks):
        raise PermissionDeniedError(
            f"{username} tidak memegang peran untuk langkah pertama {root.name} "
            f"(user does not hold the first step's lane)")
    return _instance_view(session, row)


def complete_task(
    session: Session, task_id: str, *, username: str, keputusan: str | None = None,
    catatan: str | None = None, team: Sequence[str] | None = None,
    data: Mapping[str, Any] | None = None, now: datetime | None = None,
) -> InstanceView:
    """Complete a ready user task as ``username``; return the instance afterwards.

    ``keputusan`` ("setuju" | "tidak") is required on review steps and refused
    elsewhere; ``catatan`` is required with "tidak"; ``team`` (usernames of the
    unit) is required on a step that forms a team; ``data`` is kept in the
    history. Raises ``TaskNotFound``, ``TaskAlreadyCompleted`` (also when a
    concurrent completion won), ``TaskClaimedError`` (a shared step claimed by
    someone else, ``engine.claims``), ``PermissionDeniedError``,
    ``InvalidTaskDataError``, ``InvalidFieldError`` (naming ``catatan``, ``tim``...
    for a control character or a text too long, see ``engine.text``),
    ``StaleInstanceError`` and ``ProcessExecutionError`` (a condition or script
    of the diagram fails; nothing is changed, the task stays ready).
    """
    at = _now(now)
    for field, value in (("task_id", task_id), ("username", username), *(("tim", n) for n in team or ())):
        check_text(field, value, max_length=_NAME_MAX)
    check_text("catatan", catatan or "", max_length=CATATAN_MAX, multiline=True)
    _check_data(data or {}, field="data")
    human = tasks.get(session, task_id)
    if human.state != "ready":
        raise TaskAlreadyCompleted(task_id)
    user = org.get_user_by_username(session, username)
    if not _can_perform(session, user.id, human, at):
        raise PermissionDeniedError(f"{username} tidak memegang lajur {human.lane_name!r} untuk tugas ini")
    claims.check_may_complete(session, human, user.id, at)  # a shared step claimed by someone else
    row = instances.get(session, human.instance_id)
    definitions = _definitions_of(session, row)
    workflow = _load(row, definitions)
    try:
        spiff_task = workflow.get_task_from_id(UUID(task_id))
    except TaskNotFoundException as exc:  # completed and pruned by a concurrent winner
        raise TaskAlreadyCompleted(task_id) from exc
    if not spiff_task.has_state(TaskState.READY):
        raise TaskAlreadyCompleted(task_id)
    step = step_of(spiff_task, definitions)
    task_data, team_ids = _checked_input(session, human, step, row.unit_id,
                                         keputusan=keputusan, catatan=catatan, team=team)
    spiff_task.data.update(task_data)
    ready_rows = tasks.ready_for_instance(session, row.id)
    previously_ready = {t.id for t in ready_rows}
    active_before = _active_subprocesses(workflow)

    def run() -> None:
        spiff_task.run()
        workflow.do_engine_steps()

    _run_engine(run, human.name)
    state.prune(workflow)
    unit = org.get_unit(session, row.unit_id)
    calendar = unit_calendar(session, unit)
    tasks.mark_completed(session, task_id, user_id=user.id, completed_at=at,
                         working_minutes=max(0, calendar.working_minutes_between(human.ready_at, at)))
    history.append(session, instance_id=row.id, kind="task_completed", occurred_at=at, actor_id=user.id,
                   human_task_id=task_id, element_id=human.element_id, process_id=human.process_id,
                   keputusan=keputusan, catatan=(catatan or "").strip() or None,
                   data={"data": dict(data or {}), "team": list(team or []), "iteration": human.iteration,
                         **_acting_as(session, user.id, human, at)})
    if team_ids is not None and step is not None and step.forms_team:
        formed = org.create_team(session, instance_id=row.id, lane_name=step.forms_team,
                                 member_ids=team_ids, formed_by_task_id=task_id)
        history.append(session, instance_id=row.id, kind="team_formed", occurred_at=at, actor_id=user.id,
                       human_task_id=task_id, element_id=human.element_id, process_id=human.process_id,
                       data={"lane": step.forms_team, "team_id": formed.id, "members": sorted(team or [])})
    _audit_subprocesses(session, row.id, active_before, _active_subprocesses(workflow), at, user.id)
    added = _sync_tasks(session, row, workflow, definitions, at, previously_ready=previously_ready - {task_id})
    done = workflow.is_completed()
    due = _due_timers(session, workflow, row.unit_id, definitions)
    instances.save_state(session, row.id, expected_version=row.lock_version,
                         state_json=state.dump_state(workflow), status="completed" if done else "running",
                         completed_at=at if done else None)
    timer_events.enqueue(session, row.id, due)
    if done:
        history.append(session, instance_id=row.id, kind="instance_completed", occurred_at=at,
                       actor_id=user.id, process_id=_root_process_id(definitions, row))
    # the ready tasks now, from the rows at hand (mark_completed/mark_cancelled updated them, save_state
    # the instance row): no second read of what this transaction just wrote
    still_ready = [h for h in ready_rows if h.state == "ready"] + added
    return _instance_view(session, row, sorted(still_ready, key=lambda h: (h.ready_at, h.id)))


def _run_engine(step: Callable[[], None], where: str) -> None:
    """Run the engine on; turn whatever the diagram makes it raise into a :class:`ProcessExecutionError`.

    Called before anything is written, so the caller's rollback leaves every
    row as it was. ``where`` names the step (or SOP) for the message.
    """
    try:
        step()
    except _ENGINE_ERRORS as exc:
        raise _execution_error(exc, where) from exc


def _execution_error(exc: BaseException, where: str) -> ProcessExecutionError:
    failed = getattr(exc, "task_spec", None)
    element_id = getattr(failed, "bpmn_id", None) if failed is not None else None
    chain: list[BaseException] = []
    error: BaseException | None = exc
    while error is not None and len(chain) < 5:
        chain.append(error)
        error = error.__cause__ or error.__context__
    reasons = [_text_of(e) for e in reversed(chain)]  # the root cause first
    reason = "; ".join(dict.fromkeys(r for r in reasons if r)) or type(exc).__name__
    at = f" (elemen {element_id})" if element_id else ""
    return ProcessExecutionError(
        f"Proses tidak dapat dilanjutkan setelah {where!r}{at}: {reason}. Tidak ada yang diubah; "
        f"laporkan kepada pengelola SOP agar diagramnya diperbaiki (the process could not run on; "
        f"nothing was changed)", element_id=element_id)


def _text_of(error: BaseException) -> str:
    """An error's own message, without Python reprs; never raises.

    SpiffWorkflow's ``str()`` joins notes that may be ``None`` and then fails
    ("<exception str() failed>"), so its first argument is used instead.
    """
    if isinstance(error, SpiffWorkflowException):
        text = str(error.args[0]) if error.args else ""
    else:
        try:
            text = str(error)
        except Exception:  # a str() that fails must not hide the error being reported
            text = ""
    return _REPR.sub("elemen", text).strip(" .") or type(error).__name__


def _check_data(data: Any, field: str | None = None) -> None:
    """Every text in JSON-like ``data`` (``engine.text`` rules); a top-level key names the field."""
    if isinstance(data, str):
        check_text(field or "data", data, max_length=_INPUT_MAX.get(field or "", INPUT_TEXT_MAX))
    elif isinstance(data, Mapping):
        for key, value in data.items():
            check_text(field or "data", str(key), max_length=_NAME_MAX)
            _check_data(value, field or str(key))
    elif isinstance(data, list | tuple):
        for value in data:
            _check_data(value, field)

def fire_timers(session: Session, instance_id: int, *, now: datetime, job_id: int | None = None) -> list[str]:
    """Fire the due BPMN timers of a running instance and run it to its next wait state (the worker's job).

    Records ``timer_fired`` for each timer that fired, new ready tasks, tasks an
    interrupting boundary timer cancelled, and saves the state through the
    optimistic lock. Returns the ids of the timer tasks that fired (empty when
    none was due or the instance is no longer running). Raises
    ``InstanceNotFound`` and ``StaleInstanceError`` (a concurrent change: retry).
    """
    row = instances.get(session, instance_id)
    if row.status != "running":
        return []
    definitions = _definitions_of(session, row)
    workflow = _load(row, definitions)
    waiting = {str(t.id): (t.task_spec.bpmn_id, t.workflow.spec.name, json.dumps(t.internal_data, default=str))
               for t in workflow.get_tasks(state=TaskState.WAITING)}
    previously_ready = {t.id for t in tasks.ready_for_instance(session, row.id)}
    active_before = _active_subprocesses(workflow)

    def run() -> None:
        workflow.refresh_timers()
        workflow.do_engine_steps()

    _run_engine(run, "timer")
    still = {str(t.id): json.dumps(t.internal_data, default=str) for t in workflow.get_tasks(state=TaskState.WAITING)}
    # Fired: left the waiting state, or (a cycle) moved on to its next repetition.
    fired = sorted(tid for tid, (_, _, data) in waiting.items() if still.get(tid) != data)
    if not fired:
        return []
    for task_id in fired:
        element_id, process_id, _ = waiting[task_id]
        history.append(session, instance_id=row.id, kind="timer_fired", occurred_at=now, element_id=element_id,
                       process_id=process_id, data={"timer_task": task_id, "job_id": job_id})
    state.prune(workflow)
    _audit_subprocesses(session, row.id, active_before, _active_subprocesses(workflow), now, None)
    _sync_tasks(session, row, workflow, definitions, now, previously_ready=previously_ready)
    done = workflow.is_completed()
    due = _due_timers(session, workflow, row.unit_id, definitions)
    instances.save_state(session, row.id, expected_version=row.lock_version, state_json=state.dump_state(workflow),
                         status="completed" if done else "running", completed_at=now if done else None)
    timer_events.enqueue(session, row.id, due)
    if done:
        history.append(session, instance_id=row.id, kind="instance_completed", occurred_at=now,
                       process_id=_root_process_id(definitions, row))
    return fired


def _due_timers(session: Session, workflow: BpmnWorkflow, unit_id: int,
                definitions: Mapping[str, Definition]) -> dict[str, datetime]:
    """The waiting timers' times, working-time timers counted on the unit's calendar (``engine.timer_events``)."""
    working = {t for d in definitions.values() for t in d.meta.working_time_timers}
    if not working:
        return timer_events.due_times(workflow)
    unit = org.get_unit(session, unit_id)
    return timer_events.due_times(workflow, unit_calendar(session, unit),
                            working)


def _root_process_id(definitions: Mapping[str, Definition], row: ProcessInstance) -> str:
    """The BPMN process id of an instance's root SOP."""
    return next(pid for pid, d in definitions.items() if d.id == row.definition_id)


def _checked_input(
    session: Session, human: HumanTask, step: StepMeta | None, unit_id: int, *, keputusan: str | None,
    catatan: str | None, team: Sequence[str] | None,
) -> tuple[dict[str, Any], list[int] | None]:
    task_data: dict[str, Any] = {}
    if human.is_review:
        if keputusan not in KEPUTUSAN:
            raise InvalidTaskDataError("Langkah pemeriksaan: pilih keputusan 'setuju' atau 'tidak'")
        if keputusan == "tidak" and not (catatan or "").strip():
            raise InvalidTaskDataError("Catatan wajib diisi bila keputusan 'tidak' (catatan required)")
        task_data["keputusan"] = keputusan
    elif keputusan is not None:
        raise InvalidTaskDataError("Langkah ini bukan langkah pemeriksaan: keputusan tidak dipakai")
    task_data["catatan"] = (catatan or "").strip() or None
    team_ids = None
    if step is not None and step.forms_team:
        names = sorted(set(team or []))
        if not names:
            raise InvalidTaskDataError(f"Langkah ini membentuk {step.forms_team}: sebutkan anggota tim")
        members = {u.username: u.id for u in org.unit_users(session, unit_id)}
        unknown = [n for n in names if n not in members]
        if unknown:
            raise InvalidTaskDataError(f"Bukan pegawai unit ini: {', '.join(unknown)}")
        team_ids = [members[n] for n in names]
    elif team:
        raise InvalidTaskDataError("Langkah ini tidak membentuk tim")
    return task_data, team_ids


def _unheld_first_steps(session: Session, unit_id: int, root: Definition, called: Mapping[str, Definition],
                        at: datetime) -> list[str]:
    """Jabatan of the first steps that resolve to a role nobody holds at ``at`` (issue 9: say who is missing)."""
    missing = []
    for chain in first_step_lanes(root, called):
        role = next(filter(None, (org.resolve_role(session, unit_id, lane) for lane in chain)), None)
        if role is not None and not org.users_with_role(session, role.id, at):
            missing.append(role.name)
    return sorted(set(missing))


def ready_task_ids(session: Session, instance_id: int) -> list[str]:
    """Ids of the instance's ready tasks, oldest first (one query; no view is built)."""
    return [h.id for h in tasks.ready_for_instance(session, instance_id)]


def unheld_ready_tasks(session: Session, instance_id: int, now: datetime | None = None) -> list[TaskView]:
    """Ready tasks of an instance that nobody may complete at ``now``: no holder of the jabatan, or an empty team."""
    at = _now(now)
    return [_task_view(session, h) for h in tasks.ready_for_instance(session, instance_id)
            if not (org.team_member_ids(session, h.team_id) if h.team_id is not None
                    else (h.role_id is not None and org.users_with_role(session, h.role_id, at)))]


def _can_perform(session: Session, user_id: int, human: HumanTask, at: datetime) -> bool:
    if human.team_id is not None:
        return user_id in org.team_member_ids(session, human.team_id)
    return human.role_id is not None and human.role_id in org.acting_role_ids(session, user_id, at)


def _acting_as(session: Session, user_id: int, human: HumanTask, at: datetime) -> dict[str, Any]:
    """``{"selaku": {...}}`` when ``user_id`` completes ``human`` as Plh/Plt of its jabatan, else ``{}``."""
    if human.role_id is None:
        return {}
    designation = org.acting_designation(session, human.role_id, user_id, at)
    if designation is None:
        return {}
    role = session.get(Role, human.role_id)
    return {"selaku": {"kind": designation.kind, "role": role.name if role else human.lane_name,
                       "designation_id": designation.id}}


def can_see_instance(session: Session, instance_id: int, username: str) -> bool:
    """Whether ``username`` may read instance ``instance_id``: the one rule of ``engine.visibility``.

    A holder of one of its lanes (ready or done, or who completed one of its
    tasks), the head or secretary of its unit, or an auditor whose scope covers
    its unit. Raises ``UserNotFound``.
    """
    return visibility.can_see_instance(session, instance_id, username)


def step_of_task(session: Session, task_id: str) -> StepMeta | None:
    """The SOP step (Kegiatan text, Mutu Baku) of a task, from the definition version it runs.

    Raises ``TaskNotFound``.
    """
    human = tasks.get(session, task_id)
    return get_definition(session, human.definition_id).meta.steps.get(human.element_id)


def _definitions_of(session: Session, row: ProcessInstance) -> dict[str, Definition]:
    called_ids: dict[str, int] = json.loads(row.called_definitions_json or "{}")
    prefetch_definitions(session, [row.definition_id, *called_ids.values()])
    root = get_definition(session, row.definition_id)
    called = {pid: get_definition(session, did) for pid, did in called_ids.items()}
    return {root.process_id: root, **called}


def _load(row: ProcessInstance, definitions: Mapping[str, Definition]) -> BpmnWorkflow:
    root = next(d for d in definitions.values() if d.id == row.definition_id)
    subs = {pid: d.spec for pid, d in definitions.items() if d.id != row.definition_id}
    return state.load_state(row.state_json, root.spec, subs)


def _active_subprocesses(workflow: BpmnWorkflow) -> dict[UUID, str]:
    return {tid: sp.spec.name for tid, sp in workflow.subprocesses.items() if not sp.completed}


def _audit_subprocesses(session: Session, instance_id: int, before: Mapping[UUID, str],
                        after: Mapping[UUID, str], at: datetime, actor_id: int | None) -> None:
    for tid, process_id in after.items():
        if tid not in before:
            history.append(session, instance_id=instance_id, kind="called_process_started",
                           occurred_at=at, actor_id=actor_id, process_id=process_id,
                           data={"call_task": str(tid)})
    for tid, process_id in before.items():
        if tid not in after:
            history.append(session, instance_id=instance_id, kind="called_process_completed",
                           occurred_at=at, actor_id=actor_id, process_id=process_id,
                           data={"call_task": str(tid)})


def _sync_tasks(session: Session, row: ProcessInstance, workflow: BpmnWorkflow,
                definitions: Mapping[str, Definition], at: datetime,
                previously_ready: set[str]) -> list[HumanTask]:
    """Add a human-task row (with its due time) for every newly ready user task."""
    unit = org.get_unit(session, row.unit_id)
    calendar = unit_calendar(session, unit)
    ready = workflow.get_tasks(state=TaskState.READY, manual=True)
    added = []
    for spiff_task in ready:
        task_id = str(spiff_task.id)
        if task_id in previously_ready:
            continue
        step = step_of(spiff_task, definitions)
        performer = resolve_performer(session, instance_id=row.id, unit_id=row.unit_id,
                                      task=spiff_task, definitions=definitions)
        if performer is None:
            raise InvalidTaskDataError(
                f"Tidak ada pelaksana untuk lajur {spiff_task.task_spec.lane!r} di unit {unit.code}")
        waktu = step.waktu if step else None
        human = tasks.add_ready(
            session, id=task_id, instance_id=row.id, definition_id=definitions[spiff_task.workflow.spec.name].id,
            process_id=spiff_task.workflow.spec.name, element_id=spiff_task.task_spec.bpmn_id,
            name=step.name if step else (spiff_task.task_spec.bpmn_name or spiff_task.task_spec.bpmn_id),
            lane_name=performer.lane_name, role_id=performer.role_id, team_id=performer.team_id,
            unit_id=row.unit_id, ready_at=at,
            due_at=calendar.add(at, Waktu.from_iso(waktu)) if waktu else None,
            waktu=waktu, is_review=bool(step and step.review),
        )
        history.append(session, instance_id=row.id, kind="task_ready", occurred_at=at,
                       human_task_id=task_id, element_id=human.element_id, process_id=human.process_id,
                       data=_ready_data(human))
        followups.task_became_ready(session, human, at=at)
        added.append(human)
    gone = previously_ready - {str(t.id) for t in ready}
    if gone:
        tasks.mark_cancelled(session, sorted(gone), at=at)
        for task_id in sorted(gone):
            history.append(session, instance_id=row.id, kind="task_cancelled", occurred_at=at,
                           human_task_id=task_id)
    return added


def _ready_data(human: HumanTask) -> dict[str, Any]:
    """A ``task_ready`` event's data: lane, role_id or team_id, due_at (with a Waktu), iteration.

    Keys whose value is None are left out (a third of a history's bytes are these events).
    """
    found = {"lane": human.lane_name, "role_id": human.role_id, "team_id": human.team_id,
             "due_at": human.due_at.isoformat() if human.due_at else None, "iteration": human.iteration}
    return {k: v for k, v in found.items() if v is not None}


def _task_view(session: Session, human: HumanTask, title: str | None = None,
               unit_code: str | None = None) -> TaskView:
    definition = get_definition(session, human.definition_id)
    step = definition.meta.steps.get(human.element_id)
    completed_by = org.get_user(session, human.completed_by_id).username if human.completed_by_id else None
    claimer = org.get_user(session, human.assignee_id) if human.assignee_id is not None else None
    return TaskView(
        id=human.id, instance_id=human.instance_id,
        instance_title=title if title is not None else instances.get(session, human.instance_id).title,
        unit_code=unit_code or org.get_unit(session, human.unit_id).code, process_id=human.process_id,
        process_name=definition.name, step_id=human.element_id, step_name=human.name,
        lane=human.lane_name, state=human.state, iteration=human.iteration, is_review=human.is_review,
        forms_team=step.forms_team if step else None, ready_at=human.ready_at, due_at=human.due_at,
        waktu=human.waktu, completed_at=human.completed_at, completed_by=completed_by,
        claimed_by=claimer.username if claimer else None, claimed_by_name=claimer.full_name if claimer else None,
        claimed_at=human.claimed_at if claimer else None,
    )


def _instance_view(session: Session, row: ProcessInstance, ready: Sequence[HumanTask] | None = None) -> InstanceView:
    """The view of ``row``; ``ready`` its ready tasks in ``ready_for_instance`` order when the caller has them."""
    definition = get_definition(session, row.definition_id)
    unit = org.get_unit(session, row.unit_id)
    return InstanceView(
        id=row.id, title=row.title, process_id=definition.process_id, process_name=definition.name,
        version=definition.version, unit_code=unit.code,
        status=row.status, started_at=row.started_at, completed_at=row.completed_at,
        ready_tasks=tuple(_task_view(session, h, row.title, unit.code)
                          for h in (tasks.ready_for_instance(session, row.id) if ready is None else ready)),
    )


def get_instance(session: Session, instance_id: int) -> InstanceView:
    """The instance ``instance_id`` with its ready tasks. Raises ``InstanceNotFound``."""
    return _instance_view(session, instances.get(session, instance_id))


def get_task(session: Session, task_id: str) -> TaskView:
    """One user task, ready or done. Raises ``TaskNotFound``."""
    return _task_view(session, tasks.get(session, task_id))


def inbox(session: Session, username: str, *, process_id: str | None = None,
          limit: int | None = INBOX_PAGE, now: datetime | None = None, order: str = "due",
          text: str | None = None) -> list[TaskView]:
    """Ready tasks of ``username``'s roles and teams at ``now``, soonest due first, at most ``limit``.

    Roles held by a Plh/Plt designation count during its range (``storage.org``).
    ``order`` is one of ``storage.tasks.INBOX_ORDERS`` (due | waiting | sop);
    ``text`` keeps the tasks whose instance title contains it. Reads the
    human-task table (and instance titles) only; no workflow state is
    deserialized. Raises ``UserNotFound`` and ``ValueError`` (unknown order).
    """
    user = org.get_user_by_username(session, username)
    rows = tasks.inbox(session, user.id, process_id=process_id, limit=limit, at=now, order=order, text=text)
    titles = instances.titles(session, {h.instance_id for h in rows})
    units = {u.id: u.code for u in org.list_units(session)}
    return [_task_view(session, h, titles[h.instance_id], units[h.unit_id]) for h in rows]


def inbox_count(session: Session, username: str, *, process_id: str | None = None,
                now: datetime | None = None, text: str | None = None) -> int:
    """How many ready tasks ``username`` has at ``now`` (the inbox without its page limit)."""
    user = org.get_user_by_username(session, username)
    return tasks.count_inbox(session, user.id, process_id=process_id, at=now, text=text)


def history_of(session: Session, instance_id: int) -> list[HistoryEntry]:
    """Every audit event of an instance, oldest first. Raises ``InstanceNotFound``."""
    row = instances.get(session, instance_id)
    definitions = _definitions_of(session, row)
    usernames: dict[int, str] = {}
    unit = org.get_unit(session, row.unit_id)
    calendar = unit_calendar(session, unit)
    timing = {h.id: h for h in tasks.tasks_of_instance(session, instance_id)}
    entries = []
    for event in history.for_instance(session, instance_id):
        if event.actor_id is not None and event.actor_id not in usernames:
            usernames[event.actor_id] = org.get_user(session, event.actor_id).username
        definition = definitions.get(event.process_id or "")
        step = definition.meta.steps.get(event.element_id or "") if definition else None
        entries.append(HistoryEntry(
            id=event.id, occurred_at=event.occurred_at, kind=event.kind,
            actor=usernames.get(event.actor_id) if event.actor_id is not None else None,
            process_id=event.process_id, step_id=event.element_id,
            step_name=step.name if step else None, keputusan=event.keputusan, catatan=event.catatan,
            data=json.loads(event.data_json or "{}"), task_id=event.human_task_id,
            **_timing(timing.get(event.human_task_id or ""), calendar, event.kind),
        ))
    return entries


def _timing(human: HumanTask | None, calendar: Any, kind: str) -> dict[str, Any]:
    """Time taken against the Waktu for a ``task_completed`` event (empty otherwise)."""
    if kind != "task_completed" or human is None or human.completed_at is None:
        return {}
    return {
        "waktu": human.waktu,
        "working_minutes": calendar.working_minutes_between(human.ready_at, human.completed_at),
        "on_time": human.completed_at <= human.due_at if human.due_at is not None else None,
    }


def candidates(session: Session, task_id: str, now: datetime | None = None) -> list[str]:
    """Usernames who may complete task ``task_id`` at ``now`` (its role's holders or team's members)."""
    human = tasks.get(session, task_id)
    if human.team_id is not None:
        ids = org.team_member_ids(session, human.team_id)
        return sorted(org.get_user(session, i).username for i in ids)
    if human.role_id is None:
        return []
    return sorted(u.username for u in org.users_with_role(session, human.role_id, now))


def may_complete(session: Session, task_id: str, username: str, now: datetime | None = None) -> bool:
    """Whether ``username`` holds the lane of task ``task_id`` at ``now``: is one of its :func:`candidates`.

    The rule :func:`complete_task` checks (a role the user holds by ``storage.org``'s
    rule, or membership of the task's team), asked without listing every holder.
    Raises ``TaskNotFound`` and ``UserNotFound``.
    """
    human = tasks.get(session, task_id)
    return _can_perform(session, org.get_user_by_username(session, username).id, human, _now(now))


def starters(session: Session, process_id: str, unit_code: str) -> list[str]:
    """Usernames of the unit who hold a lane of the SOP's first step, i.e. may start it."""
    root = latest_definition(session, process_id)
    unit = org.get_unit_by_code(session, unit_code)
    names: set[str] = set()
    for chain in first_step_lanes(root, called_closure(session, root)):
        role = next(filter(None, (org.resolve_role(session, unit.id, lane) for lane in chain)), None)
        if role is not None:
            names.update(u.username for u in org.users_with_role(session, role.id))
    return sorted(names)
