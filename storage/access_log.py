"""What auditors opened: who, what, when (``audit_access``, migration 0006).

Written by the caller's read transaction (a page view is one transaction);
read by administrators, newest first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import AuditAccess, User

__all__ = ["Opened", "entries", "record"]

_KEY_MAX = 500


def record(session: Session, *, user_id: int, what: str, key: str, at: datetime,
           instance_id: int | None = None) -> None:
    """Add one row: ``user_id`` opened ``what`` (``key`` cut to 500 characters) at ``at``. Flushes."""
    session.add(AuditAccess(user_id=user_id, opened_at=at, what=what[:32], key=key[:_KEY_MAX],
                            instance_id=instance_id))
    session.flush()


@dataclass(frozen=True)
class Opened:
    """One recorded read: row id, when, username and full name, what, key, instance."""

    id: int
    opened_at: datetime
    username: str
    full_name: str
    what: str
    key: str
    instance_id: int | None


def entries(session: Session, *, user_id: int | None = None, before_id: int | None = None,
            limit: int = 100) -> list[Opened]:
    """The newest ``limit`` reads (of one user, before row ``before_id`` for the next page)."""
    stmt = (select(AuditAccess, User.username, User.full_name).join(User, User.id == AuditAccess.user_id)
            .order_by(AuditAccess.id.desc()).limit(limit))
    if user_id is not None:
        stmt = stmt.where(AuditAccess.user_id == user_id)
    if before_id is not None:
        stmt = stmt.where(AuditAccess.id < before_id)
    return [Opened(a.id, a.opened_at, username, full_name, a.what, a.key, a.instance_id)
            for a, username, full_name in session.execute(stmt)]
