"""The change record of the organisation: who changed what, before and after (table ``org_change``).

Rows are only added; :func:`add` stores the before/after states as canonical
JSON (sorted keys) so two records of the same state compare equal.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from storage.models import OrgChange

__all__ = ["add", "recent"]


def _dump(state: Any) -> str:
    return json.dumps(state, sort_keys=True, ensure_ascii=False, default=str)


def add(session: Session, *, occurred_at: datetime, actor_id: int | None, unit_id: int | None, kind: str,
        subject: str, before: Any, after: Any) -> OrgChange:
    """Record one change; ``before``/``after`` are JSON-able (dates become ISO text). Flushes."""
    row = OrgChange(occurred_at=occurred_at, actor_id=actor_id, unit_id=unit_id, kind=kind, subject=subject,
                    before_json=_dump(before), after_json=_dump(after))
    session.add(row)
    session.flush()
    return row


def recent(session: Session, *, unit_id: int | None = None, subject: str | None = None,
           limit: int = 100) -> list[OrgChange]:
    """The latest ``limit`` changes, newest first; only those of ``unit_id`` / ``subject`` when given.

    ``subject`` also matches the subjects below it (``"user:budi"`` matches ``"user:budi:jabatan:Staf"``).
    """
    stmt = select(OrgChange).order_by(OrgChange.occurred_at.desc(), OrgChange.id.desc()).limit(limit)
    if unit_id is not None:
        stmt = stmt.where(OrgChange.unit_id == unit_id)
    if subject is not None:
        stmt = stmt.where(or_(OrgChange.subject == subject, OrgChange.subject.startswith(subject + ":",
                                                                                         autoescape=True)))
    return list(session.scalars(stmt))
