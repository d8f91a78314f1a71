"""The demo run: every deployed SOP driven to its end by the demo users.

Each step is completed by a user who holds the step's lane, in its own
transaction (as separate people in an office would), so the workflow state goes
through the database at every wait state. Every review step is answered
"tidak" the first time it is reached (with a catatan) and "setuju" afterwards,
so each review loop is taken once; call activities run their called SOP.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from engine import catalog, instances
from engine.lanes import unresolved_lanes
from storage import org
from storage.models import User

__all__ = ["DemoResult", "run_demo", "run_sop"]

_MAX_STEPS = 400
_UNIT_PREFERENCE = ("dinas", "bagian", "kecamatan")


@dataclass
class DemoResult:
    """What happened to one SOP in the demo run."""

    process_id: str
    process_name: str
    unit_code: str
    instance_id: int | None = None
    steps: int = 0
    loops: int = 0
    call_activities: list[str] = field(default_factory=list)
    status: str = "not started"
    error: str | None = None
    trail: list[str] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        """True when the instance reached its end event."""
        return self.status == "completed"


Transaction = Callable[[], AbstractContextManager[Session]]


def run_demo(transaction: Transaction, *, clock: Callable[[], datetime] | None = None) -> list[DemoResult]:
    """Run every deployed SOP once, each in a unit whose kind it is meant for.

    ``transaction()`` opens one transaction (``session_factory.begin``). SOPs
    meant for any unit (the referenced SOPs) run in the first unit whose roles
    fill their lanes, preferring a Dinas.
    """
    with transaction() as session:
        plan = [(d.process_id, d.name, _unit_for(session, d)) for d in catalog.list_latest(session)]
    return [run_sop(transaction, process_id, name, unit, clock=clock) for process_id, name, unit in plan]


def _unit_for(session: Session, definition: catalog.Definition) -> str:
    units = sorted(org.list_units(session),
                   key=lambda u: _UNIT_PREFERENCE.index(u.kind) if u.kind in _UNIT_PREFERENCE else 9)
    for unit in units:
        if definition.meta.unit_kind in ("any", unit.kind):
            called = catalog.called_closure(session, definition)
            if not unresolved_lanes(session, unit_id=unit.id, root=definition, called=called):
                return unit.code
    return units[0].code if units else "-"


def run_sop(transaction: Transaction, process_id: str, name: str, unit_code: str, *,
            clock: Callable[[], datetime] | None = None) -> DemoResult:
    """Start SOP ``process_id`` in ``unit_code`` and complete its steps until it ends."""
    result = DemoResult(process_id, name, unit_code)
    def now() -> datetime | None:
        return clock() if clock is not None else None

    try:
        with transaction() as session:
            starter = instances.starters(session, process_id, unit_code)[0]
            view = instances.start_instance(session, process_id=process_id, unit_code=unit_code,
                                            title=f"Demo {name}", username=starter, now=now())
        result.instance_id, result.status = view.id, view.status
        rejected: Counter[tuple[str, str]] = Counter()
        for _ in range(_MAX_STEPS):
            with transaction() as session:
                view = instances.get_instance(session, result.instance_id)
                if view.status != "running" or not view.ready_tasks:
                    break
                task = view.ready_tasks[0]
                _complete(session, task, rejected, result, now())
        with transaction() as session:
            result.status = instances.get_instance(session, result.instance_id).status
            result.call_activities = [e.process_id or "?" for e in instances.history_of(session, result.instance_id)
                                      if e.kind == "called_process_started"]
    except Exception as exc:  # the demo reports every failure per SOP and goes on
        result.error = f"{type(exc).__name__}: {exc}"
        result.status = "error"
    return result


def _complete(session: Session, task: instances.TaskView, rejected: Counter[tuple[str, str]],
              result: DemoResult, now: datetime | None) -> None:
    user = instances.candidates(session, task.id)[0]
    key = (task.process_id, task.step_id)
    keputusan = catatan = None
    team = None
    if task.is_review:
        keputusan = "tidak" if rejected[key] == 0 else "setuju"
        if keputusan == "tidak":
            rejected[key] += 1
            result.loops += 1
            catatan = f"Mohon diperbaiki sebelum diteruskan ({task.step_name})."
    if task.forms_team:
        team = _pick_team(session, task)
    instances.complete_task(session, task.id, username=user, keputusan=keputusan, catatan=catatan,
                            team=team, now=now)
    result.steps += 1
    mark = f" [{keputusan}]" if keputusan else ""
    result.trail.append(f"{task.process_id}:{task.step_id} {task.step_name} — {user}{mark}")


def _pick_team(session: Session, task: instances.TaskView) -> list[str]:
    unit = org.get_unit_by_code(session, task.unit_code)
    standing = org.resolve_role(session, unit.id, task.forms_team or "")
    if standing is not None:
        members = [u.username for u in org.users_with_role(session, standing.id)]
        if members:
            return members[:3]
    return [u.username for u in _iter_staff(session, unit.id)][:3]


def _iter_staff(session: Session, unit_id: int) -> Iterator[User]:
    staf = org.resolve_role(session, unit_id, "Staf")
    if staf is not None:
        yield from org.users_with_role(session, staf.id)
    yield from org.unit_users(session, unit_id)
