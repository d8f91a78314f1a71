"""Notifications of users, their e-mail preference, and each unit's follow-up policy.

Rows are written by the engine in the transaction of the event they report (a
step became ready, a reminder was sent); the worker sets ``emailed_at`` when
it has sent them; the user sets ``read_at``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from storage.models import (
    EMAIL_MODES,
    NOTIFICATION_KINDS,
    Notification,
    NotificationPreference,
    UnitPolicy,
    UnitPolicyChange,
)

__all__ = [
    "add", "add_many", "escalated_to", "for_user", "get", "mark_emailed", "mark_read", "pending_email", "policy",
    "policy_changes", "preference", "preferences", "record_policy_change", "save_policy", "save_preference",
    "unread_count",
]


def add(
    session: Session, *, user_id: int, kind: str, unit_id: int, created_at: datetime,
    instance_id: int | None = None, human_task_id: str | None = None, data: dict[str, Any] | None = None,
) -> Notification:
    """Store one notification for ``user_id`` and flush it. ``kind`` in ``NOTIFICATION_KINDS`` (else ValueError)."""
    if kind not in NOTIFICATION_KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    row = Notification(user_id=user_id, kind=kind, unit_id=unit_id, created_at=created_at, instance_id=instance_id,
                       human_task_id=human_task_id,
                       data_json=json.dumps(data or {}, sort_keys=True, ensure_ascii=False, default=str))
    session.add(row)
    session.flush()
    return row


def escalated_to(session: Session, user_id: int, *, task_id: str | None = None,
                 instance_id: int | None = None) -> bool:
    """Whether ``user_id`` received an escalation about that task (or any task of that instance)."""
    stmt = select(Notification.id).where(Notification.user_id == user_id, Notification.kind == "task_escalated")
    if task_id is not None:
        stmt = stmt.where(Notification.human_task_id == task_id)
    if instance_id is not None:
        stmt = stmt.where(Notification.instance_id == instance_id)
    return session.scalar(stmt.limit(1)) is not None


def add_many(session: Session, *, user_ids: Iterable[int], kind: str, unit_id: int, created_at: datetime,
             instance_id: int | None = None, human_task_id: str | None = None,
             data: dict[str, Any] | None = None) -> list[Notification]:
    """The same notification for each of ``user_ids``, stored with one flush (ids assigned), in that order."""
    if kind not in NOTIFICATION_KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    data_json = json.dumps(data or {}, sort_keys=True, ensure_ascii=False, default=str)
    rows = [Notification(user_id=user_id, kind=kind, unit_id=unit_id, created_at=created_at, instance_id=instance_id,
                         human_task_id=human_task_id, data_json=data_json) for user_id in user_ids]
    session.add_all(rows)
    session.flush()
    return rows


def get(session: Session, notification_id: int) -> Notification | None:
    """The notification with that id, or None."""
    return session.get(Notification, notification_id)


def for_user(session: Session, user_id: int, *, limit: int = 100) -> list[Notification]:
    """A user's notifications, newest first, at most ``limit``."""
    stmt = (select(Notification).where(Notification.user_id == user_id)
            .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit))
    return list(session.scalars(stmt))


def unread_count(session: Session, user_id: int) -> int:
    """How many of a user's notifications are unread (index ``user_id, read_at``)."""
    stmt = select(func.count()).select_from(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))
    return session.scalar(stmt) or 0


def mark_read(session: Session, user_id: int, notification_ids: Iterable[int] | None, *, at: datetime) -> int:
    """Mark unread notifications of ``user_id`` read (all when ``notification_ids`` is None); return how many.

    Ids of other users' notifications are ignored.
    """
    stmt = update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    if notification_ids is not None:
        stmt = stmt.where(Notification.id.in_(list(notification_ids)))
    result = session.execute(stmt.values(read_at=at).returning(Notification.id)
                             .execution_options(synchronize_session=False))
    return len(list(result))


def pending_email(session: Session, user_id: int, *, created_before: datetime) -> list[Notification]:
    """A user's notifications not yet e-mailed, created before ``created_before``, oldest first."""
    stmt = (select(Notification)
            .where(Notification.user_id == user_id, Notification.emailed_at.is_(None),
                   Notification.created_at <= created_before)
            .order_by(Notification.created_at, Notification.id))
    return list(session.scalars(stmt))


def mark_emailed(session: Session, notification_ids: Iterable[int], *, at: datetime) -> None:
    """Record that these notifications were sent by e-mail at ``at``."""
    ids = list(notification_ids)
    if ids:
        session.execute(update(Notification).where(Notification.id.in_(ids)).values(emailed_at=at)
                        .execution_options(synchronize_session=False))


def preference(session: Session, user_id: int) -> NotificationPreference | None:
    """A user's e-mail preference row, or None (no e-mail address given yet)."""
    return session.get(NotificationPreference, user_id)


def preferences(session: Session, user_ids: Iterable[int]) -> dict[int, NotificationPreference]:
    """``{user_id: preference}`` of those of ``user_ids`` that have one, in one query."""
    ids = list(user_ids)
    if not ids:
        return {}
    stmt = select(NotificationPreference).where(NotificationPreference.user_id.in_(ids))
    return {row.user_id: row for row in session.scalars(stmt)}


def save_preference(session: Session, user_id: int, *, email: str | None, email_mode: str) -> NotificationPreference:
    """Create or replace a user's e-mail preference. ``email_mode`` in ``EMAIL_MODES`` (else ValueError)."""
    if email_mode not in EMAIL_MODES:
        raise ValueError(f"unknown e-mail mode {email_mode!r}")
    row = session.get(NotificationPreference, user_id)
    if row is None:
        row = NotificationPreference(user_id=user_id)
        session.add(row)
    row.email, row.email_mode = email, email_mode
    session.flush()
    return row


def policy(session: Session, unit_id: int) -> UnitPolicy | None:
    """A unit's follow-up policy row, or None (the unit uses the defaults)."""
    return session.get(UnitPolicy, unit_id)


def save_policy(session: Session, unit_id: int, **values: Any) -> UnitPolicy:
    """Create or update a unit's policy with ``values`` (the columns of ``UnitPolicy`` but ``unit_id``).

    A new row must get every non-null column. Raises ``IntegrityError`` (at
    flush) for values outside the table's checks.
    """
    row = session.get(UnitPolicy, unit_id)
    if row is None:
        row = UnitPolicy(unit_id=unit_id)
        session.add(row)
    for key, value in values.items():
        if key == "unit_id" or not hasattr(UnitPolicy, key):
            raise ValueError(f"unknown policy field {key!r}")
        setattr(row, key, value)
    session.flush()
    return row


def record_policy_change(session: Session, *, unit_id: int, actor_id: int, at: datetime, before: dict[str, Any],
                         after: dict[str, Any]) -> UnitPolicyChange:
    """Append one change of a unit's policy (who, when, before, after) and flush it. Never pass the secret."""
    row = UnitPolicyChange(unit_id=unit_id, actor_id=actor_id, changed_at=at,
                           before_json=json.dumps(before, sort_keys=True, ensure_ascii=False),
                           after_json=json.dumps(after, sort_keys=True, ensure_ascii=False))
    session.add(row)
    session.flush()
    return row


def policy_changes(session: Session, unit_id: int, *, limit: int = 100) -> list[UnitPolicyChange]:
    """The newest ``limit`` recorded changes of a unit's policy, newest first."""
    stmt = (select(UnitPolicyChange).where(UnitPolicyChange.unit_id == unit_id)
            .order_by(UnitPolicyChange.id.desc()).limit(limit))
    return list(session.scalars(stmt))
