"""Instance search for auditors and unit heads: filters, sorting, keyset pagination.

Every query reads ``process_instance`` through its indexes (migration 0006:
``started_at``, ``unit_id, started_at``, ``completed_at``, ``title``; 0008:
``status, started_at``, ``definition_id, started_at``, ``started_by_id,
started_at`` and, on PostgreSQL, a ``pg_trgm`` GIN index for the title's
ILIKE) and tests the "late", "rework" and "took part" filters with correlated
EXISTS on ``human_task`` and ``audit_event`` indexes; no workflow state is
loaded. :func:`visible_clause`
is the visibility rule of ``engine.visibility`` in SQL.

Keyset pagination: a page ends with a cursor ``"<sort value>|<id>"``; the next
page asks for rows strictly after it in the sort order, so a page costs the
same at row 50 and at row 99,950.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, and_, exists, false, func, literal, or_, select, true, tuple_
from sqlalchemy.orm import Session

from storage.errors import InvalidTaskDataError
from storage.models import (
    AuditEvent,
    HumanTask,
    ProcessDefinition,
    ProcessInstance,
    TeamMember,
    Unit,
    User,
)

__all__ = ["SORTS", "Criteria", "Found", "cursor_of", "page", "rows", "visible_clause"]

SORTS = ("terbaru", "terlama", "judul")
"""Sort orders: newest started first, oldest first, by title."""


def visible_clause(*, user_id: int, all_units: bool, unit_ids: frozenset[int],
                   role_ids: frozenset[int]) -> ColumnElement[bool]:
    """Rows of ``process_instance`` the user sees (``engine.visibility`` decides the inputs).

    ``all_units``/``unit_ids``: units read whole; ``role_ids``: the user's roles,
    whose lanes' tasks (and the user's own completions and team lanes) make an
    instance visible.
    """
    if all_units:
        return true()
    pi = ProcessInstance
    lane = select(HumanTask.id).where(HumanTask.instance_id == pi.id, or_(
        HumanTask.role_id.in_(role_ids) if role_ids else false(),
        HumanTask.completed_by_id == user_id,
        HumanTask.team_id.in_(select(TeamMember.team_id).where(TeamMember.user_id == user_id)),
    ))
    return or_(pi.unit_id.in_(unit_ids) if unit_ids else false(), exists(lane))


@dataclass(frozen=True)
class Criteria:
    """What to look for. Every field is optional; datetimes are aware (UTC), ranges half-open [from, to).

    ``late``: a step completed after its due time, or still open past it at
    ``now``; ``rework``: a review answered "tidak"; ``participant_id``: the user
    started the instance or completed one of its steps; ``text``: part of the
    title (case-insensitive).
    """

    process_id: str | None = None
    unit_id: int | None = None
    started_from: datetime | None = None
    started_to: datetime | None = None
    completed_from: datetime | None = None
    completed_to: datetime | None = None
    status: str | None = None
    late: bool = False
    rework: bool = False
    participant_id: int | None = None
    text: str | None = None
    sort: str = "terbaru"
    now: datetime | None = None


@dataclass(frozen=True)
class Found:
    """One instance in a result: the columns a list shows, with its late steps and "tidak" answers."""

    id: int
    title: str
    process_id: str
    process_name: str
    version: int
    unit_code: str
    unit_name: str
    status: str
    started_at: datetime
    completed_at: datetime | None
    started_by: str
    late_steps: int = 0
    tidak: int = 0


def _late(now: datetime | None) -> ColumnElement[bool]:
    return exists(select(HumanTask.id).where(HumanTask.instance_id == ProcessInstance.id, _late_condition(now)))


def _rework() -> ColumnElement[bool]:
    e = AuditEvent
    return exists(select(e.id).where(e.kind == "task_completed", e.keputusan == "tidak",
                                     e.instance_id == ProcessInstance.id))


def _late_condition(now: datetime | None) -> ColumnElement[bool]:
    h = HumanTask
    cond = and_(h.due_at.is_not(None), h.state == "completed", h.completed_at > h.due_at)
    return or_(cond, and_(h.state == "ready", h.due_at < now)) if now is not None else cond


_DENSE = 2000
"""Completed steps from which a participant counts as one who took part in much of the history."""


def _is_dense(session: Session, user_id: int) -> bool:
    """Whether ``user_id`` completed at least :data:`_DENSE` steps (an index-only count that stops there)."""
    some = select(HumanTask.id).where(HumanTask.completed_by_id == user_id).limit(_DENSE).subquery()
    return (session.scalar(select(func.count()).select_from(some)) or 0) >= _DENSE


def _took_part(user_id: int, *, dense: bool) -> ColumnElement[bool]:
    """The user started the instance or completed one of its steps, in the form the planner serves best.

    ``dense`` (a head of unit, in most instances): a correlated EXISTS probed per
    candidate row through ``ix_human_task_completed_by``, walking the sort order
    until a page is full (OFFSET 0 keeps PostgreSQL from first hashing every
    instance the user was ever in). Otherwise: the few instances the user was in,
    from the same index and ``ix_process_instance_starter``, as a semi-join.
    """
    pi = ProcessInstance
    if dense:
        probe = (select(HumanTask.id).where(HumanTask.completed_by_id == user_id, HumanTask.instance_id == pi.id)
                 .offset(0))
        return or_(pi.started_by_id == user_id, exists(probe))
    started = select(ProcessInstance.id).where(ProcessInstance.started_by_id == user_id)
    return pi.id.in_(select(HumanTask.instance_id).where(HumanTask.completed_by_id == user_id).union(started))


def _filtered(criteria: Criteria, visible: ColumnElement[bool], *, dense_participant: bool = False) -> Select[Any]:
    """One query for a page: the instance, its SOP, unit and starter, and its two counts."""
    pi = ProcessInstance
    late = (select(func.count()).where(HumanTask.instance_id == pi.id, _late_condition(criteria.now))
            .scalar_subquery())
    tidak = (select(func.count()).where(AuditEvent.instance_id == pi.id, AuditEvent.kind == "task_completed",
                                        AuditEvent.keputusan == "tidak").scalar_subquery())
    d = ProcessDefinition
    stmt = cast("Select[Any]", (
        select(pi.id, pi.title, d.process_id, d.name, d.version, Unit.code, Unit.name, pi.status, pi.started_at,
               pi.completed_at, User.full_name, late, tidak)
        .join(ProcessDefinition, ProcessDefinition.id == pi.definition_id)
        .join(Unit, Unit.id == pi.unit_id).join(User, User.id == pi.started_by_id)
        .where(visible)))
    c = criteria
    if c.process_id:
        stmt = stmt.where(pi.definition_id.in_(
            select(ProcessDefinition.id).where(ProcessDefinition.process_id == c.process_id)))
    if c.unit_id is not None:
        stmt = stmt.where(pi.unit_id == c.unit_id)
    for column, low, high in ((pi.started_at, c.started_from, c.started_to),
                              (pi.completed_at, c.completed_from, c.completed_to)):
        if low is not None:
            stmt = stmt.where(column >= low)
        if high is not None:
            stmt = stmt.where(column < high)
    if c.status:
        stmt = stmt.where(pi.status == c.status)
    if c.late:
        stmt = stmt.where(_late(c.now))
    if c.rework:
        stmt = stmt.where(_rework())
    if c.participant_id is not None:
        stmt = stmt.where(_took_part(c.participant_id, dense=dense_participant))
    if c.text and c.text.strip():
        pattern = "%" + c.text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        # ILIKE on PostgreSQL (served by the trigram index of migration 0008), lower() LIKE lower() on SQLite
        stmt = stmt.where(pi.title.ilike(pattern, escape="\\"))
    return stmt


def _ordered(stmt: Select[Any], sort: str, after: str | None) -> Select[Any]:
    pi = ProcessInstance
    if sort not in SORTS:
        raise InvalidTaskDataError(f"Urutan tidak dikenal: {sort!r} (pilih {', '.join(SORTS)})")
    key = pi.title if sort == "judul" else pi.started_at
    if after is not None:
        value, _, last_id = after.rpartition("|")
        if not last_id.isdigit() or not value:
            raise InvalidTaskDataError("Penanda halaman tidak sah / bad page cursor")
        bound: object = value
        if sort != "judul":
            try:
                bound = datetime.fromisoformat(value)
            except ValueError as exc:
                raise InvalidTaskDataError("Penanda halaman tidak sah / bad page cursor") from exc
        # a row comparison, not "key < v OR (key = v AND id < n)": PostgreSQL turns it into one index range
        after_key = tuple_(key, pi.id), tuple_(literal(bound, key.type), literal(int(last_id), pi.id.type))
        stmt = stmt.where(after_key[0] < after_key[1] if sort == "terbaru" else after_key[0] > after_key[1])
    if sort == "terbaru":
        return stmt.order_by(key.desc(), pi.id.desc())
    return stmt.order_by(key.asc(), pi.id.asc())


def cursor_of(found: Found, sort: str) -> str:
    """The keyset cursor after ``found`` in order ``sort``."""
    return f"{found.title if sort == 'judul' else found.started_at.isoformat()}|{found.id}"


def page(session: Session, criteria: Criteria, visible: ColumnElement[bool], *, after: str | None = None,
         limit: int = 50) -> tuple[list[Found], str | None]:
    """One page of matches and the cursor of the next page (None on the last page).

    Raises ``InvalidTaskDataError`` for an unknown sort or a bad cursor.
    """
    dense = criteria.participant_id is not None and _is_dense(session, criteria.participant_id)
    stmt = _ordered(_filtered(criteria, visible, dense_participant=dense), criteria.sort, after).limit(limit + 1)
    found = [Found(*row) for row in session.execute(stmt)]
    if len(found) > limit:
        return found[:limit], cursor_of(found[limit - 1], criteria.sort)
    return found, None


def rows(session: Session, criteria: Criteria, visible: ColumnElement[bool], *,
         batch: int = 1000, limit: int = 100_000) -> Iterator[Found]:
    """Every match in order (at most ``limit``), read a page at a time: for exports."""
    after = None
    given = 0
    while given < limit:
        found, after = page(session, criteria, visible, after=after, limit=min(batch, limit - given))
        yield from found
        given += len(found)
        if after is None:
            return
