"""Login attempts and login sessions: the rows behind throttling, the record and logout.

``login_attempt`` keeps every try at the login form; ``login_session`` one row
per login on one device (its token's SHA-256, never the token). The policy
that reads them (how many failures, how long to wait) is ``engine.logins``.
Functions take a Session and never commit.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select
from sqlalchemy.orm import Session

from storage.errors import InvalidTaskDataError
from storage.models import LOGIN_OUTCOMES, LoginAttempt, LoginSession, User

__all__ = [
    "add_attempt", "add_session", "delete_attempts_before", "delete_expired_sessions", "delete_session",
    "delete_user_sessions", "failures", "find_session", "last_success_at", "list_attempts",
]


def add_attempt(session: Session, *, attempted_at: datetime, username: str, user_id: int | None, address: str,
                user_agent: str, outcome: str) -> LoginAttempt:
    """Store one login attempt. ``outcome`` is one of ``LOGIN_OUTCOMES``.

    Texts must already fit their columns (``username`` 64, ``address`` 64,
    ``user_agent`` 255 characters). Raises ``InvalidTaskDataError`` for an
    unknown ``outcome``. Flushes; never commits.
    """
    if outcome not in LOGIN_OUTCOMES:
        raise InvalidTaskDataError(f"Hasil percobaan masuk tidak dikenal: {outcome!r} / unknown login outcome")
    row = LoginAttempt(attempted_at=attempted_at, username=username, user_id=user_id, address=address,
                       user_agent=user_agent, outcome=outcome)
    session.add(row)
    session.flush()
    return row


def failures(session: Session, *, since: datetime, username: str | None = None,
             address: str | None = None) -> tuple[int, datetime | None]:
    """``(count, time of the newest)`` of failed attempts after ``since`` for ``username`` and/or ``address``.

    Only ``failure`` rows count: attempts refused while throttled checked no
    password. ``(0, None)`` when there are none.
    """
    stmt = select(func.count(), func.max(LoginAttempt.attempted_at)).where(
        LoginAttempt.outcome == "failure", LoginAttempt.attempted_at > since)
    if username is not None:
        stmt = stmt.where(LoginAttempt.username == username)
    if address is not None:
        stmt = stmt.where(LoginAttempt.address == address)
    count, newest = session.execute(stmt).one()  # max() keeps the column's type: aware UTC
    return int(count), newest


def last_success_at(session: Session, username: str) -> datetime | None:
    """When ``username`` last logged in successfully; None if never (on record)."""
    return session.scalar(select(LoginAttempt.attempted_at).where(
        LoginAttempt.username == username, LoginAttempt.outcome == "success")
        .order_by(LoginAttempt.attempted_at.desc()).limit(1))


def list_attempts(session: Session, *, username: str | None = None, outcome: str | None = None,
                  unit_ids: Collection[int] | None = None, offset: int = 0,
                  limit: int = 50) -> tuple[list[LoginAttempt], int]:
    """One page of attempts, newest first, and how many match in all.

    ``username`` keeps the attempts for that exact name; ``outcome`` those with
    that result; ``unit_ids`` (None: no limit) those naming an account whose home
    unit is one of them — attempts for unknown names then drop out.
    """
    stmt = select(LoginAttempt)
    if username is not None:
        stmt = stmt.where(LoginAttempt.username == username)
    if outcome is not None:
        stmt = stmt.where(LoginAttempt.outcome == outcome)
    if unit_ids is not None:
        stmt = stmt.join(User, User.id == LoginAttempt.user_id).where(User.unit_id.in_(list(unit_ids)))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(LoginAttempt.attempted_at.desc(), LoginAttempt.id.desc())
                           .offset(offset).limit(limit)).all()
    return list(rows), total


def add_session(session: Session, *, token_hash: str, user_id: int, password_fingerprint: str,
                created_at: datetime, expires_at: datetime, address: str, user_agent: str) -> LoginSession:
    """Store a new login session (``token_hash``: hex SHA-256 of the cookie's token). Flushes."""
    row = LoginSession(token_hash=token_hash, user_id=user_id, password_fingerprint=password_fingerprint,
                       created_at=created_at, expires_at=expires_at, address=address, user_agent=user_agent)
    session.add(row)
    session.flush()
    return row


def find_session(session: Session, token_hash: str) -> LoginSession | None:
    """The login session with ``token_hash``; None when there is none (ended or never made)."""
    return session.scalar(select(LoginSession).where(LoginSession.token_hash == token_hash))


def _deleted(session: Session, stmt: Any) -> int:
    result = cast("CursorResult[Any]", session.execute(stmt.execution_options(synchronize_session=False)))
    return result.rowcount


def delete_session(session: Session, token_hash: str) -> int:
    """End one login session; returns how many rows went (0 or 1)."""
    return _deleted(session, delete(LoginSession).where(LoginSession.token_hash == token_hash))


def delete_user_sessions(session: Session, user_id: int, *, keep: str | None = None) -> int:
    """End every login session of ``user_id`` but the one with token hash ``keep``; returns how many."""
    stmt = delete(LoginSession).where(LoginSession.user_id == user_id)
    if keep is not None:
        stmt = stmt.where(LoginSession.token_hash != keep)
    return _deleted(session, stmt)


def delete_expired_sessions(session: Session, now: datetime) -> int:
    """Remove login sessions that expired before ``now``; returns how many."""
    return _deleted(session, delete(LoginSession).where(LoginSession.expires_at <= now))


def delete_attempts_before(session: Session, before: datetime) -> int:
    """Delete login attempts made before ``before`` (index ``attempted_at``); returns how many."""
    return _deleted(session, delete(LoginAttempt).where(LoginAttempt.attempted_at < before))
