"""Corrections to the working-day calendar, globally or per unit.

National holidays and cuti bersama come from the ``holidays`` package (engine);
they are set each year by a joint decree (SKB 3 Menteri) and revised during the
year, so an office must be able to correct its calendar: a correction marks a
day as working or non-working. A row with ``unit_id`` NULL applies to every
unit; a unit's own row for the same day overrides it.

Shortened office hours for a date range (Ramadan) are ``calendar_hours`` rows:
:func:`hours_periods`, :func:`add_hours`, :func:`remove_hours`. What the
hours mean is ``engine.calendar``'s business; here they are stored JSON.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from storage.models import CalendarCorrection, CalendarHours

__all__ = ["add_hours", "corrections", "hours_periods", "remove_correction", "remove_hours", "set_correction"]


def corrections(session: Session, unit_id: int | None) -> dict[date, tuple[bool, str]]:
    """Return ``{day: (is_working_day, note)}`` in effect for ``unit_id``.

    Global rows (``unit_id`` NULL) are overridden by the unit's own rows; pass
    ``None`` for the global rows alone.
    """
    stmt = select(CalendarCorrection).where(
        or_(CalendarCorrection.unit_id.is_(None), CalendarCorrection.unit_id == unit_id)
    )
    rows = sorted(session.scalars(stmt), key=lambda row: row.unit_id is not None)
    return {row.day: (row.is_working_day, row.note) for row in rows}


def _find(session: Session, unit_id: int | None, day: date) -> CalendarCorrection | None:
    owner = (
        CalendarCorrection.unit_id.is_(None)
        if unit_id is None
        else CalendarCorrection.unit_id == unit_id
    )
    return session.scalar(select(CalendarCorrection).where(owner, CalendarCorrection.day == day))


def set_correction(
    session: Session,
    *,
    unit_id: int | None,
    day: date,
    is_working_day: bool,
    note: str,
) -> CalendarCorrection:
    """Insert or update the correction of ``day`` for ``unit_id`` (``None``: every unit)."""
    row = _find(session, unit_id, day)
    if row is None:
        row = CalendarCorrection(unit_id=unit_id, day=day)
        session.add(row)
    row.is_working_day = is_working_day
    row.note = note
    session.flush()
    return row


def remove_correction(session: Session, *, unit_id: int | None, day: date) -> bool:
    """Delete the correction of ``day`` for ``unit_id``; return whether one existed."""
    row = _find(session, unit_id, day)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True



def hours_periods(session: Session, unit_id: int | None) -> list[CalendarHours]:
    """The shortened-hours periods in effect for ``unit_id``: global rows and the unit's own, by start date.

    Pass ``None`` for the global rows alone.
    """
    stmt = select(CalendarHours).where(
        or_(CalendarHours.unit_id.is_(None), CalendarHours.unit_id == unit_id)
    ).order_by(CalendarHours.start_date, CalendarHours.id)
    return list(session.scalars(stmt))


def add_hours(
    session: Session, *, unit_id: int | None, start_date: date, end_date: date, weekly_json: str, note: str
) -> CalendarHours:
    """Insert a period (``start_date``..``end_date`` inclusive, local dates) with its weekly hours JSON."""
    row = CalendarHours(unit_id=unit_id, start_date=start_date, end_date=end_date, weekly_json=weekly_json,
                        note=note)
    session.add(row)
    session.flush()
    return row


def remove_hours(session: Session, *, unit_id: int | None, period_id: int) -> CalendarHours | None:
    """Delete period ``period_id`` of ``unit_id``; return the deleted row, or None when the unit has no such row."""
    row = session.get(CalendarHours, period_id)
    if row is None or row.unit_id != unit_id:
        return None
    session.delete(row)
    session.flush()
    return row
