"""The cases lists' SQL ("Proses"): which instances a list holds, and their current steps.

The list query itself is the auditors' search (``storage.search.page``: filters,
sorts, keyset pages) with the list's condition added to the visibility rule of
``engine.visibility``; this module gives those conditions and, for one page of
instances, their ready steps with the names of who holds them — one indexed
query per page (``ix_human_task_instance_state``, the membership tables), never
one per row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, false, func, or_, select, true
from sqlalchemy.orm import Session, aliased

from storage import org
from storage.models import HumanTask, ProcessInstance, TeamMember, User

__all__ = ["DENSE", "ReadyStep", "involving", "is_dense", "ready_steps", "started_by", "team_ids_of", "units"]


def started_by(user_id: int) -> ColumnElement[bool]:
    """Instances ``user_id`` started ("Saya mulai"; ``ix_process_instance_starter``)."""
    return ProcessInstance.started_by_id == user_id


def team_ids_of(session: Session, user_id: int) -> frozenset[int]:
    """Ids of the teams (Tim of an instance) ``user_id`` is a member of."""
    return frozenset(session.scalars(select(TeamMember.team_id).where(TeamMember.user_id == user_id)))


DENSE = 2000
"""Completed steps from which a user counts as one who took part in much of the history (as in ``storage.search``)."""


def is_dense(session: Session, user_id: int) -> bool:
    """Whether ``user_id`` completed at least :data:`DENSE` steps (an index-only count that stops there)."""
    some = select(HumanTask.id).where(HumanTask.completed_by_id == user_id).limit(DENSE).subquery()
    return (session.scalar(select(func.count()).select_from(some)) or 0) >= DENSE


def involving(user_id: int, role_ids: frozenset[int], team_ids: frozenset[int], *,
              dense: bool = False) -> ColumnElement[bool]:
    """Instances with a step ``user_id`` completed or that is ready for them now ("Saya terlibat").

    Ready for them: its lane's role is one of ``role_ids`` or its team lane is
    one of ``team_ids``, the user's (the inbox's rule, ``storage.tasks.inbox``).

    Three EXISTS on ``ix_human_task_completed_by`` and ``ix_human_task_instance_state``.
    PostgreSQL runs an EXISTS under an OR as a hash of every row it could match,
    built before the first instance is read: right for a user in few instances
    (a few rows), 6 to 20 ms at 100,000 instances for one who completed steps in
    a fifth of them (22,000 rows). ``dense`` (:func:`is_dense`): OFFSET 0 keeps
    each EXISTS a probe per instance read instead; a list reads instances in its
    sort order and stops after a page, which for such a user is a few hundred
    probes (1 ms).
    """
    h = HumanTask
    pi = ProcessInstance

    def probe(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
        query = select(h.id).where(h.instance_id == pi.id, *conditions)
        return exists(query.offset(0) if dense else query)

    clauses = [probe(h.completed_by_id == user_id)]
    if role_ids:
        clauses.append(probe(h.state == "ready", h.role_id.in_(role_ids)))
    if team_ids:
        clauses.append(probe(h.state == "ready", h.team_id.in_(team_ids)))
    return or_(*clauses)


def units(unit_ids: frozenset[int] | None) -> ColumnElement[bool]:
    """Instances of ``unit_ids`` (None: every unit) — "Semua proses unit"."""
    if unit_ids is None:
        return true()
    return ProcessInstance.unit_id.in_(unit_ids) if unit_ids else false()


@dataclass(frozen=True)
class ReadyStep:
    """A ready step of an instance: its name, lane, due time, claimer and the full names of its holders."""

    instance_id: int
    task_id: str
    name: str
    lane: str
    due_at: datetime | None
    claimed_by: str | None
    holders: tuple[str, ...]


def ready_steps(session: Session, instance_ids: Iterable[int]) -> dict[int, list[ReadyStep]]:
    """The ready steps of each of ``instance_ids`` (oldest first), with who holds them, by full name.

    One statement (``ix_human_task_instance_state``): each ready step joined to
    its claimer and to who holds its lane by the one rule of ``storage.org``
    (:func:`storage.org.holdings_select` for a role lane: dated memberships,
    Plh/Plt designations; the active members of a team lane), a row per holder.
    """
    ids = sorted(set(instance_ids))
    if not ids:
        return {}
    h = HumanTask
    holder, claimer = aliased(User), aliased(User)
    role_ids = select(h.role_id).where(h.instance_id.in_(ids), h.state == "ready", h.team_id.is_(None))
    held = org.holdings_select(role_ids=role_ids).subquery()
    rows = session.execute(
        select(h.instance_id, h.id, h.name, h.lane_name, h.due_at, claimer.full_name, holder.full_name)
        .outerjoin(claimer, claimer.id == h.assignee_id)
        .outerjoin(held, and_(h.team_id.is_(None), held.c.role_id == h.role_id))
        .outerjoin(TeamMember, TeamMember.team_id == h.team_id)
        .outerjoin(holder, and_(holder.id == func.coalesce(TeamMember.user_id, held.c.user_id),
                                holder.active.is_(True)))
        .where(h.instance_id.in_(ids), h.state == "ready")
        .order_by(h.ready_at, h.id, holder.full_name)).all()
    found: dict[int, list[ReadyStep]] = {}
    holders: dict[str, list[str]] = {}
    for instance_id, task_id, name, lane, due_at, claimed_by, holder_name in rows:
        if task_id not in holders:
            holders[task_id] = []
            found.setdefault(instance_id, []).append(
                ReadyStep(instance_id, task_id, name, lane, due_at, claimed_by, ()))
        if holder_name is not None:
            holders[task_id].append(holder_name)
    return {instance_id: [replace(step, holders=tuple(holders[step.task_id])) for step in steps]
            for instance_id, steps in found.items()}
