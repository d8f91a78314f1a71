"""The studio's view of deployed SOPs: the catalogue, versions, who may edit, who gets a lane.

- :func:`catalogue` / :func:`sop_versions`: every deployed SOP with the units
  that run it (units whose kind is the SOP's ``unit_kind``; ``any``: every unit),
  each version with who deployed it, when, with which note (versions made in the
  studio; templates from ``bpmn/`` have none) and its running/completed instances.
- :func:`may_edit`: the rule for process analysts (``analis_proses`` grants).
  An SOP is written per kind of unit, not per unit, so a grant over one unit
  lets its holder edit the SOPs of that unit's kind (``analis.kecamatan`` edits
  the Kecamatan SOPs, which every Kecamatan runs); SOPs for ``any`` kind (the
  shared SOPs every unit calls) need a grant over every unit.
- :func:`lane_performers`: for each lane, the role in each unit that will
  receive its steps (``storage.org.resolve_role``, as ``engine.lanes`` routes).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from engine.access import ANALIS_PROSES, Grants
from storage import definitions, instances, org, studio_log
from storage.errors import ProcessNotFound
from storage.models import ProcessDefinition, Unit

__all__ = [
    "LanePerformers", "SopSummary", "StudioEventView", "UnitRole", "VersionSummary", "catalogue", "lane_performers",
    "may_edit", "sop_versions", "studio_events", "units_running",
]


@dataclass(frozen=True)
class VersionSummary:
    """One deployed version: who (None for a template from ``bpmn/``), when, note, instances."""

    definition_id: int
    version: int
    deployed_at: datetime
    deployed_by: str | None
    note: str | None
    from_studio: bool
    running: int
    completed: int


@dataclass(frozen=True)
class SopSummary:
    """A deployed SOP: its name, kind of unit, the units running it, its versions (oldest first)."""

    process_id: str
    name: str
    unit_kind: str
    units: tuple[str, ...]
    versions: tuple[VersionSummary, ...]

    @property
    def current(self) -> VersionSummary:
        """The newest version (the one new instances start)."""
        return self.versions[-1]


@dataclass(frozen=True)
class UnitRole:
    """In one unit: the role a lane resolves to (None: nobody) and its holders."""

    unit_code: str
    unit_name: str
    role: str | None
    users: tuple[str, ...]


@dataclass(frozen=True)
class LanePerformers:
    """Who receives a lane's steps in each unit running the SOP; ``missing``: units with nobody."""

    lane: str
    team: bool
    units: tuple[UnitRole, ...]

    @property
    def missing(self) -> tuple[str, ...]:
        """Codes of the units where no role takes this lane (a team lane is formed per instance)."""
        return () if self.team else tuple(u.unit_code for u in self.units if u.role is None)


@dataclass(frozen=True)
class StudioEventView:
    """One recorded studio action: what, who, when, on which draft/version, with which note."""

    kind: str
    actor: str
    occurred_at: datetime
    draft_id: int | None
    version: int | None
    note: str | None
    data: dict[str, Any]


def studio_events(session: Session, process_id: str) -> list[StudioEventView]:
    """The studio's record of one SOP (saves, deploys, restores, moves), newest first."""
    versions = {d.id: d.version for d in definitions.list_versions(session, process_id)}
    names: dict[int, str] = {}
    result = []
    for event in studio_log.for_process(session, process_id):
        if event.actor_id not in names:
            names[event.actor_id] = org.get_user(session, event.actor_id).username
        result.append(StudioEventView(
            kind=event.kind, actor=names[event.actor_id], occurred_at=event.occurred_at, draft_id=event.draft_id,
            version=versions.get(event.definition_id) if event.definition_id else None, note=event.note,
            data=event.data))
    return result


def units_running(session: Session, unit_kind: str) -> list[Unit]:
    """The units whose kind runs an SOP of ``unit_kind`` (``any``: every unit), by code."""
    return [u for u in org.list_units(session) if unit_kind in ("any", u.kind)]


def _summaries(session: Session, rows: list[ProcessDefinition]) -> tuple[VersionSummary, ...]:
    counts = instances.counts_by_definition(session, [r.id for r in rows])
    events = studio_log.deploy_events(session, [r.id for r in rows])
    names: dict[int, str] = {}
    result = []
    for row in rows:
        event = events.get(row.id)
        if event is not None and event.actor_id not in names:
            names[event.actor_id] = org.get_user(session, event.actor_id).username
        count = counts.get(row.id, {})
        result.append(VersionSummary(
            definition_id=row.id, version=row.version, deployed_at=event.occurred_at if event else row.deployed_at,
            deployed_by=names[event.actor_id] if event else None, note=event.note if event else None,
            from_studio=event is not None, running=count.get("running", 0), completed=count.get("completed", 0)))
    return tuple(result)


def sop_versions(session: Session, process_id: str) -> SopSummary:
    """One SOP with every version, oldest first. Raises ``ProcessNotFound``."""
    rows = definitions.list_versions(session, process_id)
    if not rows:
        raise ProcessNotFound(process_id)
    latest = rows[-1]
    return SopSummary(process_id=process_id, name=latest.name, unit_kind=latest.unit_kind,
                      units=tuple(u.code for u in units_running(session, latest.unit_kind)),
                      versions=_summaries(session, rows))


def catalogue(session: Session) -> list[SopSummary]:
    """Every deployed SOP with its versions, ordered by name."""
    found = [sop_versions(session, row.process_id) for row in definitions.list_latest(session)]
    return sorted(found, key=lambda s: (s.name, s.process_id))


def may_edit(session: Session, grants: Grants, unit_kind: str) -> bool:
    """Whether a holder of ``grants`` may edit and deploy an SOP of ``unit_kind`` (module docstring)."""
    scope = grants.scope(ANALIS_PROSES)
    if scope is None:
        return True
    if unit_kind == "any" or not scope:
        return False
    kinds = {u.kind for u in org.list_units(session) if u.code in scope}
    return unit_kind in kinds


def lane_performers(session: Session, unit_kind: str, lanes: Iterable[tuple[str, bool]]) -> list[LanePerformers]:
    """For each ``(lane name, is team lane)``, the role and holders in every unit running the SOP."""
    units = units_running(session, unit_kind)
    result = []
    for name, team in lanes:
        per_unit = []
        for unit in units:
            role = org.resolve_role(session, unit.id, name)
            users = tuple(u.username for u in org.users_with_role(session, role.id)) if role else ()
            per_unit.append(UnitRole(unit.code, unit.name, role.name if role else None, users))
        result.append(LanePerformers(lane=name, team=team, units=tuple(per_unit)))
    return result
