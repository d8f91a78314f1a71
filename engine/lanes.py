"""Who performs a task: lanes (Pelaksana) resolved to roles or teams of a unit.

Rules, in order:

1. A task in a team lane (``alur:lane team="true"``) goes to the members that
   this instance's forming step named ("Membentuk tim"); before a team is formed
   it goes to the unit's standing role of that name, if there is one.
2. Any other lane goes to the unit's role of that name or alias
   (``storage.org.resolve_role``).
3. A task inside a called SOP whose lane is missing, or names a role the unit does
   not have, goes to the lane of the call activity that called it (recursively).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from SpiffWorkflow.task import Task
from sqlalchemy.orm import Session

from engine.catalog import Definition
from engine.sop import StepMeta
from storage import org

__all__ = ["Performer", "first_step_lanes", "resolve_performer", "runs_in_units", "step_of", "unresolved_lanes"]


@dataclass(frozen=True)
class Performer:
    """Where a ready task is routed: exactly one of ``role_id`` / ``team_id`` is set."""

    lane_name: str
    role_id: int | None
    team_id: int | None


def step_of(task: Task, definitions: Mapping[str, Definition]) -> StepMeta | None:
    """The SOP step metadata of a SpiffWorkflow task, or None if the diagram has none."""
    definition = definitions.get(task.workflow.spec.name)
    return definition.meta.steps.get(task.task_spec.bpmn_id) if definition else None


def resolve_performer(
    session: Session, *, instance_id: int, unit_id: int, task: Task,
    definitions: Mapping[str, Definition],
) -> Performer | None:
    """Resolve the performer of ``task`` by the rules of this module; None if nobody."""
    lane = task.task_spec.lane
    definition = definitions.get(task.workflow.spec.name)
    if lane and definition is not None:
        lane_meta = definition.meta.lane_by_name(lane)
        if lane_meta is not None and lane_meta.team:
            team = org.team_for(session, instance_id, lane)
            if team is not None:
                return Performer(lane, None, team.id)
        role = org.resolve_role(session, unit_id, lane)
        if role is not None:
            return Performer(lane, role.id, None)
    caller = _calling_task(task)
    if caller is not None:
        return resolve_performer(session, instance_id=instance_id, unit_id=unit_id, task=caller,
                                 definitions=definitions)
    return None


def _calling_task(task: Task) -> Task | None:
    workflow = task.workflow
    parent_id = getattr(workflow, "parent_task_id", None)
    if parent_id is None or workflow is workflow.top_workflow:
        return None
    return workflow.top_workflow.get_task_from_id(parent_id)


def unresolved_lanes(session: Session, *, unit_id: int, root: Definition,
                     called: Mapping[str, Definition]) -> list[str]:
    """Lanes of ``root`` that no role or team of the unit can take, as ``"SOP: lane"``.

    Lanes of called SOPs may fall back to the calling lane, so only the root's
    lanes must resolve. A team lane resolves when the SOP has a forming step for
    it or the unit has a standing role of that name.
    """
    missing = []
    forming = {s.forms_team for s in root.meta.steps.values() if s.forms_team}
    for lane in root.meta.lanes.values():
        if lane.team and lane.name in forming:
            continue
        if org.resolve_role(session, unit_id, lane.name) is None:
            missing.append(f"{root.meta.name}: {lane.name}")
    return missing


def runs_in_units(session: Session, definitions: Iterable[Definition],
                  unit_codes: Iterable[str]) -> list[Definition]:
    """The SOPs of ``definitions`` that can run in at least one of the units ``unit_codes``.

    An SOP runs in a unit when it is meant for the unit's kind and every lane of
    its root resolves there, as :func:`unresolved_lanes` checks (a team lane
    formed by one of its steps counts as resolved). The units' lane names are
    read once (``storage.org.lane_names``). Raises ``UnitNotFound``.
    """
    units = [org.get_unit_by_code(session, code) for code in unit_codes]
    names = {u.id: org.lane_names(session, u.id) for u in units}
    found = []
    for definition in definitions:
        forming = {s.forms_team for s in definition.meta.steps.values() if s.forms_team}
        lanes = [org.normalize_role_name(lane.name) for lane in definition.meta.lanes.values()
                 if not (lane.team and lane.name in forming)]
        if any(definition.meta.unit_kind in ("any", u.kind) and all(n in names[u.id] for n in lanes)
               for u in units):
            found.append(definition)
    return found


def first_step_lanes(root: Definition, called: Mapping[str, Definition]) -> list[tuple[str, ...]]:
    """Lanes of the first user tasks of ``root`` (those ready right after start).

    Walks the spec from its start event through events and gateways. A call
    activity is followed into the called SOP; each result is a chain of lane
    names, most specific first — the called SOP's lane, then the call
    activity's lane it falls back to (rule 3 of this module).
    """
    return _first_lanes(root, called, fallback=())


def _first_lanes(definition: Definition, called: Mapping[str, Definition],
                 fallback: tuple[str, ...]) -> list[tuple[str, ...]]:
    chains: list[tuple[str, ...]] = []
    seen: set[str] = set()
    pending = list(definition.spec.start.outputs)
    while pending:
        spec = pending.pop()
        if spec.name in seen:
            continue
        seen.add(spec.name)
        lane_name: str | None = getattr(spec, "lane", None)
        lane = (lane_name,) if lane_name else ()
        step = definition.meta.steps.get(spec.bpmn_id)
        if step is not None and step.called_element is not None and step.called_element in called:
            chains.extend(_first_lanes(called[step.called_element], called, lane + fallback))
        elif step is not None or getattr(spec, "manual", False):
            chains.append(lane + fallback)
        else:
            pending.extend(spec.outputs)
    return chains
