"""Claims on the ready tasks of shared lanes: who works on a step now ("Saya kerjakan").

A claim is ``human_task.assignee_id``/``claimed_at`` (migration 0010). Every
change is one conditional UPDATE, so two people claiming the same task at once
cannot both win: the UPDATE of the second finds ``assignee_id`` already set and
changes no row (the caller then reads who won). The rules (who may claim,
release, reassign; the history events) are ``engine.claims``'.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from storage.db import sync_loaded
from storage.models import HumanTask

__all__ = ["claimed_by", "set_claim", "take"]


def _change(session: Session, task_id: str, condition: Any, values: dict[str, Any]) -> bool:
    stmt = (update(HumanTask).where(HumanTask.id == task_id, HumanTask.state == "ready", condition)
            .values(**values).execution_options(synchronize_session=False))
    result = cast("CursorResult[Any]", session.execute(stmt))
    if result.rowcount == 0:
        return False
    sync_loaded(session, HumanTask, [task_id], values)
    return True


def take(session: Session, task_id: str, *, user_id: int, at: datetime) -> bool:
    """Claim a ready, unclaimed task for ``user_id``; False when it is not ready or already claimed.

    ``UPDATE human_task SET assignee_id = :user, claimed_at = :at WHERE id = :id
    AND state = 'ready' AND assignee_id IS NULL``: of two concurrent claims one
    changes the row, the other none.
    """
    return _change(session, task_id, HumanTask.assignee_id.is_(None), {"assignee_id": user_id, "claimed_at": at})


def set_claim(session: Session, task_id: str, *, expected_id: int | None, user_id: int | None,
              at: datetime | None) -> bool:
    """Move the claim of a ready task from ``expected_id`` to ``user_id`` (None: release); False if it moved first.

    The UPDATE only changes the row while ``assignee_id`` is still ``expected_id``
    (None: unclaimed), so a release and a reassignment racing each other do not
    both apply.
    """
    current = HumanTask.assignee_id.is_(None) if expected_id is None else HumanTask.assignee_id == expected_id
    return _change(session, task_id, current, {"assignee_id": user_id, "claimed_at": at})


def claimed_by(session: Session, user_id: int) -> list[HumanTask]:
    """The ready tasks ``user_id`` has claimed, oldest claim first (through ``ix_human_task_assignee``)."""
    stmt = (select(HumanTask).where(HumanTask.assignee_id == user_id, HumanTask.state == "ready")
            .order_by(HumanTask.claimed_at, HumanTask.id))
    return list(session.scalars(stmt))
