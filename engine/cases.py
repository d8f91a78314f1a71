"""The cases lists ("Proses"): the instances a user started, took part in, or oversees as head of a unit.

Three lists (:data:`LISTS`):

- ``mulai`` — *Saya mulai*: the instances the user started;
- ``terlibat`` — *Saya terlibat*: a step of theirs is done or ready for them
  (their role's or team's lane, or they completed it);
- ``unit`` — *Semua proses unit*: every instance of the units the user reads
  whole — the head and the secretary of a unit, an auditor in their grant's scope
  (rules 2 and 3 of ``engine.visibility``); offered only to them.

Every list is also bounded by :func:`engine.visibility.visible_instances_filter`,
the one rule of who may see an instance, so a list never shows what the
instance page would refuse. Filters (SOP, status, period started, late steps,
rework, words of the title), the sorts and the keyset pages are the auditors'
search (``storage.search``); each row adds the current steps and who holds them
(``storage.cases.ready_steps``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import and_
from sqlalchemy.orm import Session

from engine import visibility
from engine.views import JsonView
from storage import cases, search
from storage.errors import InvalidTaskDataError

__all__ = ["LISTS", "STATUSES", "CaseQuery", "CaseRow", "CurrentStep", "lists_for", "page"]

LISTS = ("terlibat", "mulai", "unit")
STATUSES = {"berjalan": "running", "selesai": "completed"}
"""The status filter's words and the instance statuses they mean."""


@dataclass(frozen=True)
class CaseQuery:
    """What one list page asks for. Datetimes aware (UTC), the period half-open [from, to).

    ``daftar`` one of :data:`LISTS`; ``status`` a key of :data:`STATUSES` or None;
    ``late``: a step completed after its due time or still open past it;
    ``rework``: a review answered "tidak"; ``text``: part of the title;
    ``sort`` one of ``storage.search.SORTS``.
    """

    daftar: str = "terlibat"
    process_id: str | None = None
    status: str | None = None
    started_from: datetime | None = None
    started_to: datetime | None = None
    late: bool = False
    rework: bool = False
    text: str | None = None
    sort: str = "terbaru"


@dataclass(frozen=True)
class CurrentStep(JsonView):
    """A ready step of a case: name, lane, due time, whether it is past due, its claimer and holders (full names)."""

    task_id: str
    name: str
    lane: str
    due_at: datetime | None
    overdue: bool
    claimed_by: str | None
    holders: tuple[str, ...]


@dataclass(frozen=True)
class CaseRow(JsonView):
    """One instance of a list: SOP, title, unit, status, times, its late and rework counts, current steps.

    ``due_at`` is the earliest due time of its ready steps; ``late`` is true when
    a step was or is late (``late_steps`` > 0).
    """

    id: int
    title: str
    process_id: str
    process_name: str
    unit_code: str
    unit_name: str
    status: str
    started_at: datetime
    completed_at: datetime | None
    started_by: str
    due_at: datetime | None
    late: bool
    late_steps: int
    tidak: int
    steps: tuple[CurrentStep, ...]


def lists_for(session: Session, username: str) -> tuple[str, ...]:
    """The lists ``username`` is offered: ``unit`` only to whoever reads a unit whole. Raises ``UserNotFound``."""
    reach = visibility.reach_of(session, username)
    return LISTS if reach.all_units or reach.unit_ids else LISTS[:2]


def page(session: Session, username: str, query: CaseQuery, *, after: str | None = None, limit: int = 50,
         now: datetime | None = None) -> tuple[list[CaseRow], str | None]:
    """One page of a list and the cursor of the next page (None on the last page).

    Raises ``UserNotFound`` and ``InvalidTaskDataError`` (an unknown list, status
    or sort, a list not offered to the user, a bad cursor).
    """
    at = now or datetime.now(UTC)
    if query.daftar not in lists_for(session, username):
        raise InvalidTaskDataError(f"Daftar tidak dikenal: {query.daftar!r} (pilih {', '.join(LISTS)})")
    if query.status is not None and query.status not in STATUSES:
        raise InvalidTaskDataError(f"Status tidak dikenal: {query.status!r} (pilih berjalan atau selesai)")
    reach = visibility.reach_of(session, username)
    if query.daftar == "mulai":
        scope = cases.started_by(reach.user_id)
    elif query.daftar == "terlibat":
        scope = cases.involving(reach.user_id, reach.role_ids, cases.team_ids_of(session, reach.user_id),
                                dense=cases.is_dense(session, reach.user_id))
    else:
        scope = cases.units(None if reach.all_units else reach.unit_ids)
    criteria = search.Criteria(
        process_id=query.process_id, started_from=query.started_from, started_to=query.started_to,
        status=STATUSES[query.status] if query.status else None, late=query.late, rework=query.rework,
        text=query.text, sort=query.sort, now=at)
    visible = and_(visibility.visible_instances_filter(session, username), scope)
    found, cursor = search.page(session, criteria, visible, after=after, limit=limit)
    steps = cases.ready_steps(session, [f.id for f in found])
    return [_row(f, steps.get(f.id, []), at) for f in found], cursor


def _row(found: search.Found, ready: list[cases.ReadyStep], at: datetime) -> CaseRow:
    current = tuple(CurrentStep(s.task_id, s.name, s.lane, s.due_at, s.due_at is not None and s.due_at < at,
                                s.claimed_by, s.holders) for s in ready)
    dues = [s.due_at for s in current if s.due_at is not None]
    return CaseRow(
        id=found.id, title=found.title, process_id=found.process_id, process_name=found.process_name,
        unit_code=found.unit_code, unit_name=found.unit_name, status=found.status, started_at=found.started_at,
        completed_at=found.completed_at, started_by=found.started_by, due_at=min(dues) if dues else None,
        late=found.late_steps > 0, late_steps=found.late_steps, tidak=found.tidak, steps=current)
