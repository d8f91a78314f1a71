"""Human tasks: the ready user tasks that make up every user's inbox.

A row is written when a BPMN user task becomes ready and is closed by exactly
one :func:`mark_completed` (a conditional UPDATE on ``state = 'ready'``) or by
:func:`mark_cancelled`. The inbox reads only ``human_task`` and the membership
tables through their indexes, never the instance state.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Select, func, literal_column, select, union_all, update
from sqlalchemy.orm import Session

from storage import org
from storage.db import hold, sync_loaded
from storage.errors import TaskAlreadyCompleted, TaskNotFound
from storage.models import HumanTask, ProcessDefinition, ProcessInstance, TeamMember

__all__ = [
    "INBOX_ORDERS",
    "add_ready",
    "count_inbox",
    "get",
    "inbox",
    "mark_cancelled",
    "mark_completed",
    "ready_for_instance",
    "rebind_ready",
    "tasks_of_instance",
]


def add_ready(
    session: Session,
    *,
    id: str,
    instance_id: int,
    definition_id: int,
    process_id: str,
    element_id: str,
    name: str,
    lane_name: str,
    role_id: int | None,
    team_id: int | None,
    unit_id: int,
    ready_at: datetime,
    due_at: datetime | None,
    waktu: str | None,
    is_review: bool,
) -> HumanTask:
    """Store a task that just became ready and flush it.

    ``id`` is the SpiffWorkflow task UUID; ``waktu`` the Mutu Baku duration in ISO
    8601 ("PT30M"); ``due_at`` is computed by the caller from the working calendar.
    ``iteration`` is 1 + the number of earlier rows for this element of this
    process in this instance (a "tidak" sends the flow back to an earlier step;
    element ids are unique per process only, and called SOPs share the instance).
    """
    earlier = session.scalar(
        select(func.count())
        .select_from(HumanTask)
        .where(
            HumanTask.instance_id == instance_id,
            HumanTask.process_id == process_id,
            HumanTask.element_id == element_id,
        )
    )
    task = HumanTask(
        id=id,
        instance_id=instance_id,
        definition_id=definition_id,
        process_id=process_id,
        element_id=element_id,
        name=name,
        lane_name=lane_name,
        role_id=role_id,
        team_id=team_id,
        unit_id=unit_id,
        state="ready",
        iteration=(earlier or 0) + 1,
        ready_at=ready_at,
        due_at=due_at,
        waktu=waktu,
        is_review=is_review,
    )
    session.add(task)
    session.flush()
    return task


def get(session: Session, task_id: str) -> HumanTask:
    """Return the task with id ``task_id``. Raises ``TaskNotFound``."""
    task = session.get(HumanTask, task_id)
    if task is None:
        raise TaskNotFound(task_id)
    hold(session, (HumanTask, task_id), task)  # read once per transaction however often it is asked for
    return task


def mark_completed(
    session: Session, task_id: str, *, user_id: int, completed_at: datetime,
    working_minutes: int | None = None,
) -> None:
    """Close a ready task as completed by ``user_id``, exactly once.

    One ``UPDATE ... WHERE id = :id AND state = 'ready'``: of two users completing
    the same task concurrently, one wins and the other gets
    ``TaskAlreadyCompleted``. Raises ``TaskNotFound`` if there is no such task.
    ``working_minutes`` is the working time it took (the unit's calendar).
    """
    values = {"state": "completed", "completed_at": completed_at, "completed_by_id": user_id,
              "working_minutes": working_minutes}
    stmt = (
        update(HumanTask)
        .where(HumanTask.id == task_id, HumanTask.state == "ready")
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    result = cast("CursorResult[Any]", session.execute(stmt))  # an UPDATE always returns a CursorResult
    if result.rowcount == 0:
        if session.get(HumanTask, task_id) is None:
            raise TaskNotFound(task_id)
        raise TaskAlreadyCompleted(task_id)
    sync_loaded(session, HumanTask, [task_id], values)


def mark_cancelled(session: Session, task_ids: Iterable[str], *, at: datetime) -> int:
    """Cancel those of ``task_ids`` that are still ready; return how many were cancelled.

    ``at`` is stored in ``completed_at`` (when the task left the ready state).
    """
    ids = list(task_ids)
    if not ids:
        return 0
    values = {"state": "cancelled", "completed_at": at}
    stmt = (
        update(HumanTask)
        .where(HumanTask.id.in_(ids), HumanTask.state == "ready")
        .values(**values)
        .returning(HumanTask.id)
        .execution_options(synchronize_session=False)
    )
    cancelled = list(session.scalars(stmt))
    sync_loaded(session, HumanTask, cancelled, values)
    return len(cancelled)


def ready_for_instance(session: Session, instance_id: int) -> list[HumanTask]:
    """Return the ready tasks of an instance, oldest first."""
    stmt = (
        select(HumanTask)
        .where(HumanTask.instance_id == instance_id, HumanTask.state == "ready")
        .order_by(HumanTask.ready_at, HumanTask.id)
    )
    return list(session.scalars(stmt))


INBOX_ORDERS: dict[str, tuple[str, ...]] = {
    "due": ("no_due", "due_at", "ready_at", "id"),
    "waiting": ("ready_at", "id"),
    "sop": ("sop_name", "no_due", "due_at", "ready_at", "id"),
}
"""How an inbox may be sorted (by due time, by how long the task has waited, by SOP name): the
columns of the inbox query it orders by, in order."""


def inbox(
    session: Session,
    user_id: int,
    *,
    process_id: str | None = None,
    limit: int | None = None,
    at: datetime | None = None,
    order: str = "due",
    text: str | None = None,
) -> list[HumanTask]:
    """Return the ready tasks ``user_id`` may complete at ``at`` (default now), most urgent first.

    A task is in the inbox when its lane's role is one the user holds at ``at``
    (``storage.org.acting_role_ids``: dated memberships, Plh/Plt designations), or
    its team lane has the user as a member. Ordered by ``due_at`` (tasks without a
    Waktu last), then ``ready_at``; ``order="waiting"`` puts the longest waiting
    first, ``order="sop"`` sorts by SOP name, then due time. ``text`` keeps the
    tasks whose instance title contains it (case-insensitive). One query: a UNION
    ALL of two index lookups (``ix_human_task_inbox_role``/``ix_human_task_inbox_team``)
    that read the rows themselves, ordered and limited as a whole; a task has a
    role or a team, never both, so no row comes twice. (Reading their ids first and
    the rows back through the text primary key cost SQLite 20 times as much at
    10,000 active instances.) Raises ``ValueError`` for an ``order`` not in
    :data:`INBOX_ORDERS`.
    """
    if order not in INBOX_ORDERS:
        raise ValueError(f"unknown inbox order {order!r}")
    base = cast("Select[Any]", select(HumanTask, HumanTask.due_at.is_(None).label("no_due")))
    keys = INBOX_ORDERS[order]
    if order == "sop":
        # a scalar subquery, not a join: SQLite matches a compound's ORDER BY names only over one table
        base = base.add_columns(select(ProcessDefinition.name).where(
            ProcessDefinition.id == HumanTask.definition_id).scalar_subquery().label("sop_name"))
    compound = union_all(*_inbox_selects(session, user_id, process_id, base, at, text)).order_by(
        *(literal_column(name) for name in keys))
    if limit is not None:
        compound = compound.limit(limit)
    return list(session.scalars(select(HumanTask).from_statement(compound)))


def count_inbox(session: Session, user_id: int, *, process_id: str | None = None,
                at: datetime | None = None, text: str | None = None) -> int:
    """Return how many tasks :func:`inbox` would return without a limit (one query, index-only counts)."""
    found = union_all(*_inbox_selects(session, user_id, process_id, select(literal_column("1").label("one")), at,
                                      text)).subquery()
    return session.scalar(select(func.count()).select_from(found)) or 0


def _inbox_selects(session: Session, user_id: int, process_id: str | None, base: Select[Any],
                   at: datetime | None = None, text: str | None = None) -> tuple[Select[Any], Select[Any]]:
    """``base`` narrowed to the ready tasks of the roles the user holds at ``at``, and to those of their teams.

    Two index lookups rather than one "role_id IN (...) OR team_id IN (...)":
    SQLite cannot use an index for each side of the OR and would read every ready task.
    The user's roles are :func:`storage.org.acting_role_ids` (read once per request).
    """
    my_roles = sorted(org.acting_role_ids(session, user_id, at))
    my_teams = select(TeamMember.team_id).where(TeamMember.user_id == user_id)
    if process_id is not None:
        base = base.where(HumanTask.process_id == process_id)
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        base = base.where(HumanTask.instance_id.in_(
            select(ProcessInstance.id).where(ProcessInstance.title.ilike(pattern, escape="\\"))))
    return (base.where(HumanTask.state == "ready", HumanTask.role_id.in_(my_roles)),
            base.where(HumanTask.state == "ready", HumanTask.team_id.in_(my_teams)))


def tasks_of_instance(session: Session, instance_id: int) -> list[HumanTask]:
    """Return every task of an instance (any state), in the order they became ready."""
    stmt = (
        select(HumanTask)
        .where(HumanTask.instance_id == instance_id)
        .order_by(HumanTask.ready_at, HumanTask.id)
    )
    return list(session.scalars(stmt))


def rebind_ready(session: Session, instance_id: int, *, process_id: str, definition_id: int) -> int:
    """Point the ready tasks of ``process_id`` in an instance at another definition version; return how many."""
    stmt = (update(HumanTask)
            .where(HumanTask.instance_id == instance_id, HumanTask.state == "ready",
                   HumanTask.process_id == process_id)
            .values(definition_id=definition_id)
            .execution_options(synchronize_session="fetch"))
    result = cast("CursorResult[Any]", session.execute(stmt))
    return result.rowcount
