"""Working time left before a task's due time, on its unit's working calendar.

The inbox says "sisa 2 jam kerja" or "lewat 1 hari kerja": the working minutes
between now and the due time, counted by ``engine.calendar.WorkCalendar`` (the
one calendar rule: office hours, weekends, holidays, the unit's corrections).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from engine.calendar import WorkCalendar, unit_calendar
from engine.views import TaskView
from storage import org

__all__ = ["working_minutes_left"]


def working_minutes_left(session: Session, tasks: Iterable[TaskView], now: datetime) -> dict[str, int]:
    """``{task id: working minutes from now to its due time}``; negative when late, tasks without a due time left out.

    ``now`` is timezone-aware. One calendar per unit (``engine.calendar.unit_calendar``, cached).
    Raises ``UnitNotFound`` for a task of an unknown unit.
    """
    calendars: dict[str, WorkCalendar] = {}
    left = {}
    for task in tasks:
        if task.due_at is None:
            continue
        calendar = calendars.get(task.unit_code)
        if calendar is None:
            unit = org.get_unit_by_code(session, task.unit_code)
            calendar = calendars.setdefault(
                task.unit_code, unit_calendar(session, unit))
        left[task.id] = calendar.working_minutes_between(now, task.due_at)
    return left
