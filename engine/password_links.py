"""One-time set-password links: an administrator issues one, the user sets a password with it.

The token (32 random bytes, URL-safe) is shown once to the administrator, who
hands it over; only its SHA-256 is stored (``password_token``), so a copy of the
database opens no account. A link lives :data:`LIFETIME` and works once; issuing
a new one for the user voids the older ones. No password is ever shown, mailed
or chosen by the administrator (NIST SP 800-63B §6.1.2.3: a reset is a new
authenticator set by the subscriber). The new password follows the policy of
``web.password`` and is hashed (Argon2id) by the caller; setting it ends every
session of the user (``engine.logins.change_password``).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from engine import logins, org_changes
from storage import org
from storage.errors import InvalidTaskDataError
from storage.models import PasswordToken, User

__all__ = ["LIFETIME", "issue", "redeem", "user_for"]

LIFETIME = timedelta(hours=72)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def issue(session: Session, username: str, *, by_id: int, now: datetime) -> str:
    """Issue a set-password link token for ``username``; return the token (shown once, never stored).

    Older unused tokens of the user are voided. Raises ``UserNotFound`` and
    ``InvalidTaskDataError`` for an inactive user. Recorded in the change record.
    """
    user = org.get_user_by_username(session, username)
    if not user.active:
        raise InvalidTaskDataError(f"{user.full_name} tidak aktif: aktifkan dulu sebelum membuat tautan")
    session.execute(update(PasswordToken).where(PasswordToken.user_id == user.id, PasswordToken.used_at.is_(None))
                    .values(used_at=now).execution_options(synchronize_session=False))
    token = secrets.token_urlsafe(32)
    session.add(PasswordToken(user_id=user.id, token_sha256=_digest(token), created_at=now,
                              expires_at=now + LIFETIME, created_by_id=by_id))
    session.flush()
    org_changes.record(session, at=now, actor_id=by_id, unit_id=user.unit_id, kind="password_link_issued",
                       subject=f"user:{user.username}", before=None,
                       after={"expires_at": (now + LIFETIME).isoformat()})
    return token


def user_for(session: Session, token: str, now: datetime) -> User | None:
    """The active user a valid (unused, unexpired) token belongs to, else None."""
    if not token or len(token) > 200:
        return None
    row = session.scalar(select(PasswordToken).where(PasswordToken.token_sha256 == _digest(token)))
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    user = session.get(User, row.user_id)
    return user if user is not None and user.active else None


def redeem(session: Session, token: str, password_hash: str, now: datetime) -> User:
    """Use ``token`` once to set the user's password to ``password_hash``; end the user's sessions.

    A conditional UPDATE marks it used, so of two concurrent uses one wins.
    Raises ``InvalidTaskDataError`` when the link is unknown, used or expired.
    """
    user = user_for(session, token, now)
    stmt = (update(PasswordToken)
            .where(PasswordToken.token_sha256 == _digest(token), PasswordToken.used_at.is_(None),
                   PasswordToken.expires_at > now)
            .values(used_at=now).execution_options(synchronize_session=False))
    if user is None or cast("CursorResult[Any]", session.execute(stmt)).rowcount != 1:
        raise InvalidTaskDataError("Tautan tidak berlaku: sudah dipakai, kedaluwarsa, atau tidak dikenal")
    logins.change_password(session, user.id, password_hash, keep_token=None)
    org_changes.record(session, at=now, actor_id=user.id, unit_id=user.unit_id, kind="password_set_by_link",
                       subject=f"user:{user.username}", before=None, after=None)
    return user
