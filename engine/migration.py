"""Moving running instances to a newer version of their SOP ("Pindahkan proses berjalan").

:func:`plan` is the dry run: every running instance of an older version of an
SOP, movable to the newest version or not, with the reasons. An instance is
movable when, in the newest version,

- each of its ready steps still exists (same BPMN id) in the same lane, and
  is still a step of the same kind (a review stays a review);
- each called SOP it is running (a call activity in progress) is still called
  by that step, with the same ``calledElement``.

:func:`move_all` moves every movable instance in one transaction: the workflow
state is re-bound to the new spec (``engine.state.rebind``; ready steps keep
their ids, inbox rows and due times), the instance and its ready human tasks
point at the new version, and each move is an ``instance_migrated`` event in the
instance's history plus one ``instances_moved`` studio event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy.orm import Session

from engine import state
from engine.catalog import Definition, called_closure, get_definition, latest_definition
from storage import definitions, history, instances, org, studio_log, tasks

__all__ = ["Candidate", "Plan", "move_all", "plan", "plan_json"]


@dataclass(frozen=True)
class Candidate:
    """One running instance of an older version: movable or not, and why not."""

    instance_id: int
    title: str
    unit_code: str
    version: int
    ready_steps: tuple[str, ...]
    reasons: tuple[str, ...]

    @property
    def movable(self) -> bool:
        """Whether nothing stands in the way of the move."""
        return not self.reasons


@dataclass(frozen=True)
class Plan:
    """The dry run (or the result of a move): the target version and every candidate."""

    process_id: str
    target_version: int
    candidates: tuple[Candidate, ...]
    moved: tuple[int, ...] = ()


def _reasons(session: Session, row_definition: Definition, target: Definition, workflow: Any) -> list[str]:
    reasons = []
    removed = state.removed_specs(workflow, target.spec)
    for task in workflow.get_tasks(state=TaskState.READY | TaskState.STARTED | TaskState.WAITING,
                                   skip_subprocesses=True):
        bpmn_id = task.task_spec.bpmn_id
        old = row_definition.meta.steps.get(bpmn_id or "")
        if old is None:
            continue
        new = target.meta.steps.get(bpmn_id or "")
        if new is None or bpmn_id in removed:
            reasons.append(f"langkah {old.name} ({bpmn_id}) tidak ada lagi di versi {target.version}")
        elif new.lane != old.lane:
            reasons.append(f"langkah {old.name} pindah lajur: {old.lane} → {new.lane}")
        elif new.kind != old.kind or new.review != old.review:
            reasons.append(f"langkah {old.name} berubah jenis")
        elif new.called_element != old.called_element:
            reasons.append(f"SOP yang dipanggil langkah {old.name} berubah: {old.called_element} → "
                           f"{new.called_element}")
    return reasons


def _load(session: Session, row: Any) -> tuple[Definition, dict[str, Definition], Any]:
    root = get_definition(session, row.definition_id)
    called = {pid: get_definition(session, did) for pid, did in row.called_definitions.items()}
    workflow = state.load_state(row.state_json, root.spec, {pid: d.spec for pid, d in called.items()})
    return root, called, workflow


def plan(session: Session, process_id: str) -> Plan:
    """The dry run for SOP ``process_id`` against its newest version. Raises ``ProcessNotFound``."""
    target = latest_definition(session, process_id)
    older = [d for d in definitions.list_versions(session, process_id) if d.id != target.id]
    units = {u.id: u.code for u in org.list_units(session)}
    candidates = []
    for version in older:
        for summary in instances.list_instances(session, status="running", definition_id=version.id):
            row = instances.get(session, summary.id)
            root, _called, workflow = _load(session, row)
            ready = tuple(t.element_id for t in tasks.ready_for_instance(session, row.id))
            candidates.append(Candidate(row.id, row.title, units[row.unit_id], root.version, ready,
                                        tuple(_reasons(session, root, target, workflow))))
    return Plan(process_id, target.version, tuple(candidates))


def move_all(session: Session, process_id: str, *, username: str, now: datetime | None = None) -> Plan:
    """Move every movable instance of older versions to the newest; return the plan with ``moved``."""
    at = now or datetime.now(UTC)
    user = org.get_user_by_username(session, username)
    dry = plan(session, process_id)
    target = latest_definition(session, process_id)
    new_called = called_closure(session, target)
    moved = []
    for candidate in dry.candidates:
        if not candidate.movable:
            continue
        row = instances.get(session, candidate.instance_id)
        _root, called, workflow = _load(session, row)
        state.rebind(workflow, target.spec)
        pins = {**{pid: d.id for pid, d in new_called.items()}, **{pid: d.id for pid, d in called.items()
                                                                    if pid not in new_called}}
        for sub in workflow.subprocesses.values():
            if sub.spec.name in called:
                pins[sub.spec.name] = called[sub.spec.name].id
        instances.rebind(session, row.id, expected_version=row.lock_version, definition_id=target.id,
                         state_json=state.dump_state(workflow), called_definitions=pins)
        tasks.rebind_ready(session, row.id, process_id=process_id, definition_id=target.id)
        history.append(session, instance_id=row.id, kind="instance_migrated", occurred_at=at, actor_id=user.id,
                       process_id=process_id, data={"from_version": candidate.version, "to_version": target.version,
                                                    "ready_steps": list(candidate.ready_steps)})
        moved.append(row.id)
    if moved:
        studio_log.append(session, kind="instances_moved", actor_id=user.id, process_id=process_id, at=at,
                          definition_id=target.id, data={"instances": moved, "to_version": target.version})
    return Plan(dry.process_id, dry.target_version, dry.candidates, tuple(moved))


def plan_json(found: Plan) -> dict[str, Any]:
    """The plan as JSON: ``{"process_id", "target_version", "moved", "candidates": [...]}``."""
    return {"process_id": found.process_id, "target_version": found.target_version, "moved": list(found.moved),
            "candidates": [{"instance_id": c.instance_id, "title": c.title, "unit": c.unit_code,
                            "version": c.version, "ready_steps": list(c.ready_steps), "movable": c.movable,
                            "reasons": list(c.reasons)} for c in found.candidates]}
