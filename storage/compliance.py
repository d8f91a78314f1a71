"""Kepatuhan Mutu Baku: working time of completed steps against their Waktu, in SQL.

Reads ``human_task`` (completed steps: ``working_minutes`` on the unit's
calendar, ``due_at`` from the Waktu) and ``audit_event`` (keputusan of reviews)
only — never a workflow state. Every figure is grouped in the database: the
tables per SOP, step, role, unit and month in one ``GROUPING SETS`` query on
PostgreSQL (:func:`breakdowns`), the rework rates in a second, the longest
waits in a third. The median and 90th percentile use ``percentile_cont`` on
PostgreSQL and, as SQLite has no percentile function, an ordered read of the
one column on SQLite.

A step counts in the period when it was completed in ``[start, end)``; on time
when ``completed_at <= due_at``; a step without a Waktu has no due time and
counts in neither share. Rework rate of a review step = "tidak" answers / all
answers in the period.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, literal_column, null, select, text, tuple_, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import True_

from storage.models import AuditEvent, HumanTask, ProcessInstance

__all__ = ["BREAKDOWNS", "Figures", "Scope", "Wait", "breakdowns", "longest", "rework"]


@dataclass(frozen=True)
class Scope:
    """Which completions count: period ``[start, end)``, instances ``visible`` (a clause on
    ``process_instance``), optionally one unit and one SOP (the step's process id)."""

    start: datetime
    end: datetime
    visible: ColumnElement[bool]
    unit_id: int | None = None
    process_id: str | None = None


@dataclass(frozen=True)
class Figures:
    """Figures of one group: ``key`` (the group's columns), runs, runs with a due time, on time,
    median / p90 / max working minutes (None without data)."""

    key: tuple[Any, ...]
    runs: int
    timed: int
    on_time: int
    median_minutes: float | None
    p90_minutes: float | None
    max_minutes: int | None

    @property
    def on_time_share(self) -> float | None:
        """Share of runs with a due time completed by it (0..1), None when none had one."""
        return self.on_time / self.timed if self.timed else None

    @property
    def late_share(self) -> float | None:
        """Share of runs with a due time completed after it (0..1)."""
        return 1 - self.on_time / self.timed if self.timed else None


def _everything(clause: ColumnElement[bool]) -> bool:
    """Whether the visibility clause is the constant TRUE (an every-unit auditor): no join needed."""
    return isinstance(clause, True_)


def _conditions(scope: Scope) -> list[ColumnElement[bool]]:
    h = HumanTask
    found = [h.state == "completed", h.completed_at >= scope.start, h.completed_at < scope.end]
    if not _everything(scope.visible):
        found.append(h.instance_id.in_(select(ProcessInstance.id).where(scope.visible)))
    if scope.unit_id is not None:
        found.append(h.unit_id == scope.unit_id)
    if scope.process_id is not None:
        found.append(h.process_id == scope.process_id)
    return found


BREAKDOWNS: dict[str, tuple[str, ...]] = {
    "steps": ("process_id", "element_id", "name", "waktu"),
    "sops": ("process_id",),
    "roles": ("unit_id", "lane_name"),
    "units": ("unit_id",),
    "months": ("month",),
}
"""The report's tables and the columns each groups by (``month``: "YYYY-MM" of completion, UTC)."""

_COLUMNS = ("process_id", "element_id", "name", "waktu", "unit_id", "lane_name", "month")


def _columns(postgres: bool) -> dict[str, Any]:
    h = HumanTask
    if postgres:
        # literal text (not bound parameters) so that GROUP BY matches the select list; the text keys are
        # grouped byte-wise (COLLATE "C": equal is equal, and sorting them skips the locale's rules)
        month: Any = func.to_char(func.date_trunc(literal_column("'month'"), func.timezone(
            literal_column("'UTC'"), h.completed_at)), literal_column("'YYYY-MM'"))
        return {"process_id": h.process_id.collate("C"), "element_id": h.element_id.collate("C"),
                "name": h.name.collate("C"), "waktu": h.waktu.collate("C"), "unit_id": h.unit_id,
                "lane_name": h.lane_name.collate("C"), "month": month.collate("C")}
    month = func.strftime(literal_column("'%Y-%m'"), h.completed_at)
    return {"process_id": h.process_id, "element_id": h.element_id, "name": h.name, "waktu": h.waktu,
            "unit_id": h.unit_id, "lane_name": h.lane_name, "month": month}


def _percentile(ordered: list[int], fraction: float) -> float | None:
    """Linear interpolation between closest ranks, as PostgreSQL's ``percentile_cont``."""
    if not ordered:
        return None
    rank = fraction * (len(ordered) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def breakdowns(session: Session, scope: Scope) -> dict[str, list[Figures]]:
    """Every table of :data:`BREAKDOWNS` for the scope: ``{table: [Figures]}``, largest group first (months oldest
    first); a ``Figures.key`` holds the table's columns in the order given there.

    PostgreSQL: one query, ``GROUP BY GROUPING SETS`` over the completed steps
    with ``percentile_cont`` for the median and p90 (``GROUPING()`` tells the
    sets apart). SQLite, which has neither: one ``UNION ALL`` of the groupings
    for the counts and one read of the working minutes in order for the
    percentiles (same interpolation as ``percentile_cont``).
    """
    h = HumanTask
    postgres = session.get_bind().dialect.name == "postgresql"
    columns = _columns(postgres)
    where = _conditions(scope)
    measures = [func.count(), func.sum(case((h.due_at.is_not(None), 1), else_=0)),
                func.sum(case((and_(h.due_at.is_not(None), h.completed_at <= h.due_at), 1), else_=0)),
                func.max(h.working_minutes)]
    width = len(_COLUMNS)
    rows: list[tuple[str, tuple[Any, ...], Sequence[Any], tuple[float | None, float | None]]] = []
    if postgres:
        # the sorts of a year's steps (~170,000 rows) fit in memory, and JIT compiling costs more than it saves;
        # both settings end with this read-only transaction
        session.execute(text("SET LOCAL work_mem = '64MB'"))
        session.execute(text("SET LOCAL jit = off"))
        masks = {sum(1 << (width - 1 - i) for i, c in enumerate(_COLUMNS) if c not in cols): table
                 for table, cols in BREAKDOWNS.items()}
        stmt = (select(func.grouping(*columns.values()), *columns.values(), *measures,
                       func.percentile_cont(0.5).within_group(h.working_minutes),
                       func.percentile_cont(0.9).within_group(h.working_minutes))
                .where(*where)
                .group_by(func.grouping_sets(*(tuple_(*(columns[c] for c in cols)) for cols in BREAKDOWNS.values()))))
        for row in session.execute(stmt):
            table = masks[row[0]]
            values = dict(zip(_COLUMNS, row[1:width + 1], strict=True))
            rows.append((table, tuple(values[c] for c in BREAKDOWNS[table]), row[width + 1:width + 5],
                         (row[width + 5], row[width + 6])))
    else:
        parts = [select(literal(table), *(columns[c] if c in cols else null() for c in _COLUMNS), *measures)
                 .where(*where).group_by(*(columns[c] for c in cols)) for table, cols in BREAKDOWNS.items()]
        minutes: dict[tuple[str, tuple[Any, ...]], list[int]] = defaultdict(list)
        read = (select(*columns.values(), h.working_minutes)
                .where(*where, h.working_minutes.is_not(None)).order_by(h.working_minutes))
        for row in session.execute(read):
            values = dict(zip(_COLUMNS, row[:width], strict=True))
            for table, cols in BREAKDOWNS.items():
                minutes[(table, tuple(values[c] for c in cols))].append(row[width])
        for row in session.execute(union_all(*parts)):
            table = row[0]
            values = dict(zip(_COLUMNS, row[1:width + 1], strict=True))
            key = tuple(values[c] for c in BREAKDOWNS[table])
            ordered = minutes.get((table, key), [])
            rows.append((table, key, row[width + 1:width + 5],
                         (_percentile(ordered, 0.5), _percentile(ordered, 0.9))))
    found: dict[str, list[Figures]] = {table: [] for table in BREAKDOWNS}
    for table, key, (runs, timed, on_time, longest_minutes), (median, p90) in rows:
        found[table].append(Figures(key, int(runs), int(timed or 0), int(on_time or 0),
                                    None if median is None else float(median), None if p90 is None else float(p90),
                                    None if longest_minutes is None else int(longest_minutes)))
    for table, figures in found.items():
        figures.sort(key=(lambda f: f.key) if table == "months" else (lambda f: (-f.runs, [str(k) for k in f.key])))
    return found


def rework(session: Session, scope: Scope) -> dict[tuple[str, str], tuple[int, int]]:
    """``{(process id, step id): ("tidak" answers, all answers)}`` of review steps answered in the period."""
    e = AuditEvent
    where = [e.kind == "task_completed", e.keputusan.is_not(None), e.occurred_at >= scope.start,
             e.occurred_at < scope.end]
    if not _everything(scope.visible):
        where.append(e.instance_id.in_(select(ProcessInstance.id).where(scope.visible)))
    if scope.unit_id is not None:
        where.append(e.instance_id.in_(select(ProcessInstance.id).where(ProcessInstance.unit_id == scope.unit_id)))
    if scope.process_id is not None:
        where.append(e.process_id == scope.process_id)
    tidak = func.sum(case((e.keputusan == "tidak", 1), else_=0))
    stmt = select(e.process_id, e.element_id, tidak, func.count()).where(*where).group_by(e.process_id, e.element_id)
    return {(p or "", s or ""): (int(t or 0), int(n)) for p, s, t, n in session.execute(stmt)}


@dataclass(frozen=True)
class Wait:
    """One long-running completed step: instance, title, step, lane, working minutes, Waktu, completion."""

    instance_id: int
    title: str
    step_name: str
    lane: str
    working_minutes: int
    waktu: str | None
    completed_at: datetime


def longest(session: Session, scope: Scope, *, limit: int = 10) -> list[Wait]:
    """The ``limit`` completed steps that took the most working time in the scope, longest first."""
    h = HumanTask
    top = (select(h.instance_id, h.name, h.lane_name, h.working_minutes, h.waktu, h.completed_at)
           .where(*_conditions(scope), h.working_minutes.is_not(None))
           .order_by(h.working_minutes.desc(), h.instance_id).limit(limit).subquery())
    # the titles of the ``limit`` steps only: the join comes after the top-N, not before it
    stmt = (select(top.c.instance_id, ProcessInstance.title, top.c.name, top.c.lane_name, top.c.working_minutes,
                   top.c.waktu, top.c.completed_at)
            .join(ProcessInstance, ProcessInstance.id == top.c.instance_id)
            .order_by(top.c.working_minutes.desc(), top.c.instance_id))
    return [Wait(i, title, name, lane, minutes or 0, waktu, at or scope.end)
            for i, title, name, lane, minutes, waktu, at in session.execute(stmt)]
