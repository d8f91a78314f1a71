"""Kepatuhan Mutu Baku: how the completed steps of a period kept to the SOPs' standard times.

For a period and the user's scope (``engine.visibility``), per SOP, per step,
per role (lane) and per unit: number of runs, median and 90th-percentile
working time against the Waktu, share on time, rework rate ("tidak" per
review answer), the longest waits, the trend by month, and the share of late
runs per step for the heatmap on the diagram. Computed in SQL
(``storage.compliance``) from ``human_task`` and ``audit_event``; no workflow
state is loaded. The latest seal of the audit chain is part of the report, so a
printed copy anchors the history it was computed from (Permenpan RB 35/2012:
Mutu Baku = Kelengkapan, Waktu, Output of each step).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from engine import visibility
from engine.catalog import latest_definition, latest_names
from storage import chain, definitions, org
from storage import compliance as store
from storage.errors import InvalidTaskDataError, ProcessNotFound

__all__ = ["Line", "Report", "latest_xml", "report", "year_bounds"]


@dataclass(frozen=True)
class Line:
    """One row of a table: what it is about (``label``, ``detail``: names as people read them — an SOP's name
    and Nomor SOP, a step and its SOP's name, a role and its unit's name, a unit's name, a month), and its figures.

    ``median_minutes``/``p90_minutes`` working minutes; ``on_time_share``,
    ``late_share`` and ``rework_rate`` 0..1 or None; ``waktu`` ISO 8601 for a step.
    """

    label: str
    detail: str
    runs: int
    median_minutes: float | None
    p90_minutes: float | None
    max_minutes: int | None
    on_time_share: float | None
    late_share: float | None
    rework_rate: float | None = None
    waktu: str | None = None
    process_id: str | None = None
    step_id: str | None = None


@dataclass(frozen=True)
class Report:
    """The report: period, tables, the month trend, heatmap shares, longest waits, latest seal."""

    start: datetime
    end: datetime
    sops: list[Line]
    steps: list[Line]
    roles: list[Line]
    units: list[Line]
    months: list[Line]
    waits: list[store.Wait]
    heatmap: dict[str, dict[str, float]]
    runs: int
    on_time_share: float | None
    latest_seal: chain.SealView | None


def _line(f: store.Figures, label: str, detail: str = "", *, rework_rate: float | None = None,
          waktu: str | None = None, process_id: str | None = None, step_id: str | None = None) -> Line:
    return Line(label, detail, f.runs, f.median_minutes, f.p90_minutes, f.max_minutes, f.on_time_share,
                f.late_share, rework_rate, waktu, process_id, step_id)


def report(session: Session, username: str, *, start: datetime, end: datetime, unit_code: str | None = None,
           process_id: str | None = None) -> Report:
    """The compliance report of the steps completed in ``[start, end)`` that ``username`` may read.

    Raises ``UserNotFound``, ``InvalidTaskDataError`` (end not after start, a
    period over 5 years, an unknown unit).
    """
    if end <= start or (end - start).days > 5 * 366:
        raise InvalidTaskDataError("Periode tidak sah: akhir harus setelah awal, paling lama 5 tahun")
    every_unit = org.list_units(session)
    units = {u.id: u.name for u in every_unit}  # the tables name units, never by code (issue 11)
    unit_id = next((u.id for u in every_unit if u.code == unit_code), None) if unit_code else None
    if unit_code and unit_id is None:
        raise InvalidTaskDataError(f"Unit {unit_code} tidak dikenal / unknown unit")
    scope = store.Scope(start, end, visibility.visible_instances_filter(session, username), unit_id, process_id)
    names = dict(latest_names(session))
    redo = store.rework(session, scope)
    tables = store.breakdowns(session, scope)
    steps = []
    heatmap: dict[str, dict[str, float]] = {}
    for f in tables["steps"]:
        pid, step_id, step_name, waktu = f.key
        tidak, answers = redo.get((pid, step_id), (0, 0))
        steps.append(_line(f, step_name, names.get(pid, pid), rework_rate=tidak / answers if answers else None,
                           waktu=waktu, process_id=pid, step_id=step_id))
        if f.late_share is not None:
            heatmap.setdefault(pid, {})[step_id] = max(heatmap.get(pid, {}).get(step_id, 0.0), f.late_share)
    sop_redo: dict[str, tuple[int, int]] = {}
    for (pid, _), (t, n) in redo.items():
        a, b = sop_redo.get(pid, (0, 0))
        sop_redo[pid] = (a + t, b + n)
    sops = [_line(f, names.get(f.key[0], f.key[0]), _nomor(session, f.key[0]),
                  rework_rate=(sop_redo[f.key[0]][0] / sop_redo[f.key[0]][1]) if sop_redo.get(f.key[0], (0, 0))[1]
                  else None, process_id=f.key[0])
            for f in tables["sops"]]
    roles = [_line(f, f.key[1], units.get(f.key[0], "?")) for f in tables["roles"]]
    unit_lines = [_line(f, units.get(f.key[0], "?")) for f in tables["units"]]
    months = [_line(f, f.key[0]) for f in tables["months"]]
    runs = sum(s.runs for s in unit_lines)
    timed_on = [(u.on_time_share, u.runs) for u in unit_lines if u.on_time_share is not None]
    share = (sum(s * r for s, r in timed_on) / sum(r for _, r in timed_on)) if timed_on else None
    latest = next(iter(chain.seals(session, limit=1)), None)
    return Report(start, end, sops, steps, roles, unit_lines, months, store.longest(session, scope), heatmap, runs,
                  share, latest)


def _nomor(session: Session, process_id: str) -> str:
    """The Nomor SOP of the newest version (SOP-AP identity), "" when the diagram carries none."""
    try:
        return latest_definition(session, process_id).meta.nomor or ""
    except ProcessNotFound:
        return ""


def latest_xml(session: Session, process_id: str) -> str:
    """The BPMN XML of the newest version of ``process_id`` (the heatmap's diagram). Raises ``ProcessNotFound``."""
    return definitions.get(session, latest_definition(session, process_id).id).bpmn_xml


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """``[1 January, 1 January next year)`` in UTC."""
    return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
