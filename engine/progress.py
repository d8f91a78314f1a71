"""How far an instance has come, step by step, for drawing it on its diagrams.

An instance runs one root SOP and pins the versions of the SOPs it calls
(``process_instance.called_definitions_json``). For each of these diagrams this
module tells which steps were completed and how often, and which are current,
from the engine's own records — the human-task table and the audit history —
without loading the workflow state:

- a user task is *completed* once per ``human_task`` row of its element in state
  ``completed``, and *current* while such a row is ``ready``;
- a call activity (BPMN 2.0 §10.2.5, "Call Activity") is *completed* once per
  ``called_process_completed`` event of the process it calls, and *current*
  while that process has been started more often than completed. The events name
  the called process, not the call activity, so a process called by two call
  activities of the same instance would be counted on both; no diagram in
  ``bpmn/`` does that (a test checks it).

Reads only; never writes.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy.orm import Session

from engine.catalog import Definition, get_definition
from storage import definitions, history, instances, tasks
from storage.errors import ProcessNotFound

__all__ = ["DiagramProgress", "InstanceProgress", "call_activities", "diagram_xml", "progress_of"]

_CALL_ACTIVITY = "callActivity"


@dataclass(frozen=True)
class DiagramProgress:
    """One diagram of an instance and where the instance stands on it.

    ``completed`` maps a BPMN element id to how many times it was completed
    (a step redone after "tidak" counts each time); ``current`` lists the
    element ids that are ready (user tasks) or running (call activities).
    """

    process_id: str
    name: str
    version: int
    root: bool
    completed: dict[str, int]
    current: tuple[str, ...]


@dataclass(frozen=True)
class InstanceProgress:
    """The progress of instance ``instance_id`` on its root diagram (first) and called ones."""

    instance_id: int
    status: str
    diagrams: tuple[DiagramProgress, ...]

    def to_json(self) -> dict[str, Any]:
        """A JSON-serializable dict (tuples as lists)."""
        found = asdict(self)
        found["diagrams"] = [{**d, "current": list(d["current"])} for d in found["diagrams"]]
        return found


def _definitions(session: Session, instance_id: int) -> tuple[str, list[Definition]]:
    """The instance's status and its definition versions, the root first, called ones by name.

    Raises ``InstanceNotFound``.
    """
    row = instances.get(session, instance_id)
    root = get_definition(session, row.definition_id)
    called = [get_definition(session, did)
              for did in json.loads(row.called_definitions_json or "{}").values()]
    return row.status, [root, *sorted(called, key=lambda d: (d.name, d.process_id))]


def progress_of(session: Session, instance_id: int) -> InstanceProgress:
    """Completed and current steps of instance ``instance_id`` on each of its diagrams.

    Raises ``InstanceNotFound``.
    """
    status, versions = _definitions(session, instance_id)
    rows = tasks.tasks_of_instance(session, instance_id)
    done = Counter((t.process_id, t.element_id) for t in rows if t.state == "completed")
    ready = {(t.process_id, t.element_id) for t in rows if t.state == "ready"}
    events = history.for_instance(session, instance_id)
    started = Counter(e.process_id for e in events if e.kind == "called_process_started")
    finished = Counter(e.process_id for e in events if e.kind == "called_process_completed")
    diagrams = []
    for index, definition in enumerate(versions):
        pid = definition.process_id
        completed = {element: n for (process, element), n in done.items() if process == pid}
        current = {element for process, element in ready if process == pid}
        for step in definition.meta.steps.values():
            if step.kind != _CALL_ACTIVITY or not step.called_element:
                continue
            if finished[step.called_element]:
                completed[step.id] = finished[step.called_element]
            if started[step.called_element] > finished[step.called_element]:
                current.add(step.id)
        diagrams.append(DiagramProgress(
            process_id=pid, name=definition.name, version=definition.version, root=index == 0,
            completed=dict(sorted(completed.items())), current=tuple(sorted(current))))
    return InstanceProgress(instance_id=instance_id, status=status, diagrams=tuple(diagrams))


def call_activities(session: Session, instance_id: int) -> dict[str, dict[str, str]]:
    """``{process id: {called process id: call activity element id}}`` over the instance's diagrams.

    Raises ``InstanceNotFound``.
    """
    _, versions = _definitions(session, instance_id)
    return {d.process_id: {step.called_element: step.id for step in d.meta.steps.values()
                           if step.kind == _CALL_ACTIVITY and step.called_element} for d in versions}


def diagram_xml(session: Session, instance_id: int, process_id: str) -> str:
    """The BPMN XML of ``process_id`` in the version instance ``instance_id`` runs.

    ``process_id`` is the instance's root process or one it calls. Raises
    ``InstanceNotFound``, and ``ProcessNotFound`` when the instance runs no such process.
    """
    _, versions = _definitions(session, instance_id)
    definition = next((d for d in versions if d.process_id == process_id), None)
    if definition is None:
        raise ProcessNotFound(process_id)
    return definitions.get(session, definition.id).bpmn_xml
