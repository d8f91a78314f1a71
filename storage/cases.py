"""The cases lists' SQL ("Proses"): which instances a list holds, and their current steps.

The list query itself is the auditors' search (``storage.search.page``: filters,
sorts, keyset pages) with the list's condition added to the visibility rule of
``engine.visibility``; this module gives those conditions and, for one page of
instances, their ready steps with the names of who holds them — two indexed
queries per page (``ix_human_task_instance_state``, the membership tables), never
one per row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, exists, false, or_, select, true
from sqlalchemy.orm import Session

from storage.models import HumanTask, ProcessInstance, RoleMember, TeamMember, User

__all__ = ["ReadyStep", "involving", "ready_steps", "started_by", "team_ids_of", "units"]


def started_by(user_id: int) -> ColumnElement[bool]:
    """Instances ``user_id`` started ("Saya mulai"; ``ix_process_instance_starter``)."""
    return ProcessInstance.started_by_id == user_id


def team_ids_of(session: Session, user_id: int) -> frozenset[int]:
    """Ids of the teams (Tim of an instance) ``user_id`` is a member of."""
    return frozenset(session.scalars(select(TeamMember.team_id).where(TeamMember.user_id == user_id)))


def involving(user_id: int, role_ids: frozenset[int], team_ids: frozenset[int]) -> ColumnElement[bool]:
    """Instances with a step ``user_id`` completed or that is ready for them now ("Saya terlibat").

    Ready for them: its lane's role is one of ``role_ids`` or its team lane is
    one of ``team_ids``, the user's (the inbox's rule, ``storage.tasks.inbox``).

    Three correlated EXISTS, each one index probe per instance read
    (``ix_human_task_completed_by``, ``ix_human_task_instance_state``): a list
    reads instances newest first and stops after a page, so probing the rows it
    reads costs far less than collecting every instance the user ever touched
    (what PostgreSQL does with one EXISTS of an OR: 0.4 s at 100,000 instances).
    """
    h = HumanTask
    pi = ProcessInstance
    done = exists().where(h.completed_by_id == user_id, h.instance_id == pi.id)
    clauses = [done]
    if role_ids:
        clauses.append(exists().where(h.instance_id == pi.id, h.state == "ready", h.role_id.in_(role_ids)))
    if team_ids:
        clauses.append(exists().where(h.instance_id == pi.id, h.state == "ready", h.team_id.in_(team_ids)))
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
    """The ready steps of each of ``instance_ids`` (oldest first), with who holds them, by full name."""
    ids = sorted(set(instance_ids))
    if not ids:
        return {}
    h = HumanTask
    rows = session.execute(select(h.instance_id, h.id, h.name, h.lane_name, h.due_at, h.assignee_id, h.role_id,
                                  h.team_id).where(h.instance_id.in_(ids), h.state == "ready")
                           .order_by(h.ready_at, h.id)).all()
    role_ids = {r.role_id for r in rows if r.role_id is not None}
    team_ids = {r.team_id for r in rows if r.team_id is not None}
    by_role: dict[int, list[str]] = {}
    by_team: dict[int, list[str]] = {}
    if role_ids:
        for role_id, name in session.execute(select(RoleMember.role_id, User.full_name).join(
                User, User.id == RoleMember.user_id).where(RoleMember.role_id.in_(role_ids)).order_by(User.full_name)):
            by_role.setdefault(role_id, []).append(name)
    if team_ids:
        for team_id, name in session.execute(select(TeamMember.team_id, User.full_name).join(
                User, User.id == TeamMember.user_id).where(TeamMember.team_id.in_(team_ids)).order_by(User.full_name)):
            by_team.setdefault(team_id, []).append(name)
    claimers = {r.assignee_id for r in rows if r.assignee_id is not None}
    names = ({user_id: name for user_id, name in session.execute(
        select(User.id, User.full_name).where(User.id.in_(claimers)))} if claimers else {})
    found: dict[int, list[ReadyStep]] = {}
    for r in rows:
        holders = by_team.get(r.team_id, []) if r.team_id is not None else by_role.get(r.role_id, [])
        found.setdefault(r.instance_id, []).append(ReadyStep(
            r.instance_id, r.id, r.name, r.lane_name, r.due_at,
            names.get(r.assignee_id) if r.assignee_id is not None else None, tuple(holders)))
    return found
