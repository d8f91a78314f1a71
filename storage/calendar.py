"""Corrections to the working-day calendar, globally or per unit.

National holidays and cuti bersama come from the ``holidays`` package (engine);
they are set each year by a joint decree (SKB 3 Menteri) and revised during the
year, so an office must be able to correct its calendar: a correction marks a
day as working or non-working. A row with ``unit_id`` NULL applies to every
unit; a unit's own row for the same day overrides it.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from storage.models import CalendarCorrection

__all__ = ["corrections", "remove_correction", "set_correction"]


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
