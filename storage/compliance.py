"""Kepatuhan Mutu Baku: working time of completed steps against their Waktu, in SQL.

Reads ``human_task`` (completed steps: ``working_minutes`` on the unit's
calendar, ``due_at`` from the Waktu) and ``audit_event`` (keputusan of reviews)
only — never a workflow state. Every figure is grouped in the database; the
median and 90th percentile use ``percentile_cont`` on PostgreSQL and, as SQLite
has no percentile function, an ordered read of the one column on SQLite.

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

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import True_

from storage.models import AuditEvent, HumanTask, ProcessInstance, Unit

__all__ = ["Figures", "Scope", "Wait", "by_group", "by_month", "longest", "rework", "unit_codes"]


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


def _percentiles_sqlite(session: Session, columns: Sequence[Any], where: list[ColumnElement[bool]]
                        ) -> dict[tuple[Any, ...], tuple[float | None, float | None]]:
    values: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    stmt = (select(*columns, HumanTask.working_minutes)
            .where(*where, HumanTask.working_minutes.is_not(None)).order_by(HumanTask.working_minutes))
    for row in session.execute(stmt):
        values[tuple(row[:-1])].append(row[-1])
    return {key: (_percentile(v, 0.5), _percentile(v, 0.9)) for key, v in values.items()}


def _percentile(ordered: list[int], fraction: float) -> float | None:
    """Linear interpolation between closest ranks, as PostgreSQL's ``percentile_cont``."""
    if not ordered:
        return None
    rank = fraction * (len(ordered) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def by_group(session: Session, scope: Scope, columns: Sequence[Any]) -> list[Figures]:
    """Figures grouped by ``columns`` (e.g. ``HumanTask.process_id, HumanTask.element_id``), largest first."""
    h = HumanTask
    where = _conditions(scope)
    on_time = func.sum(case((and_(h.due_at.is_not(None), h.completed_at <= h.due_at), 1), else_=0))
    timed = func.sum(case((h.due_at.is_not(None), 1), else_=0))
    postgres = session.get_bind().dialect.name == "postgresql"
    extra: list[Any] = []
    if postgres:
        extra = [func.percentile_cont(0.5).within_group(h.working_minutes),
                 func.percentile_cont(0.9).within_group(h.working_minutes)]
    stmt = (select(*columns, func.count(), timed, on_time, func.max(h.working_minutes), *extra)
            .where(*where).group_by(*columns))
    rows = session.execute(stmt).all()
    width = len(columns)
    percentiles = {} if postgres else _percentiles_sqlite(session, columns, where)
    found = []
    for row in rows:
        key = tuple(row[:width])
        runs, timed_n, on_time_n, longest = row[width:width + 4]
        median, p90 = (row[width + 4], row[width + 5]) if postgres else percentiles.get(key, (None, None))
        found.append(Figures(key, int(runs), int(timed_n or 0), int(on_time_n or 0),
                             None if median is None else float(median), None if p90 is None else float(p90),
                             None if longest is None else int(longest)))
    return sorted(found, key=lambda f: (-f.runs, [str(k) for k in f.key]))


def by_month(session: Session, scope: Scope) -> list[Figures]:
    """Figures per calendar month (UTC) of completion, oldest first; ``key`` = ("YYYY-MM",)."""
    h = HumanTask
    if session.get_bind().dialect.name == "postgresql":
        month: Any = func.to_char(func.date_trunc("month", func.timezone("UTC", h.completed_at)), "YYYY-MM")
    else:
        month = func.strftime("%Y-%m", h.completed_at)
    return sorted(by_group(session, scope, [month.label("month")]), key=lambda f: f.key)


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
    stmt = (select(h.instance_id, ProcessInstance.title, h.name, h.lane_name, h.working_minutes, h.waktu,
                   h.completed_at)
            .join(ProcessInstance, ProcessInstance.id == h.instance_id)
            .where(*_conditions(scope), h.working_minutes.is_not(None))
            .order_by(h.working_minutes.desc(), h.instance_id).limit(limit))
    return [Wait(i, title, name, lane, minutes or 0, waktu, at or scope.end)
            for i, title, name, lane, minutes, waktu, at in session.execute(stmt)]


def unit_codes(session: Session) -> dict[int, str]:
    """``{unit id: code}``."""
    return {i: c for i, c in session.execute(select(Unit.id, Unit.code))}
