"""Access grants: administrators, process analysts and auditors.

A Pelaksana role decides which steps a user performs; an access grant decides
what else a user may do: administer the organisation (``administrator``),
edit and deploy diagrams (``analis_proses``), read every instance of a unit
(``auditor``). A grant covers one unit, or every unit when ``unit_id`` is None.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.orm import Session

from storage.errors import InvalidTaskDataError
from storage.models import ACCESS_KINDS, AccessGrant, Unit, User

__all__ = ["grant", "grants_of", "holders", "revoke"]


def _check_kind(kind: str) -> None:
    if kind not in ACCESS_KINDS:
        raise InvalidTaskDataError(
            f"Jenis hak akses tidak dikenal: {kind!r} (pilih {', '.join(ACCESS_KINDS)}) / unknown access kind"
        )


def grant(session: Session, *, user_id: int, kind: str, unit_id: int | None = None,
          granted_by_id: int | None = None) -> AccessGrant:
    """Give ``user_id`` the right ``kind`` over ``unit_id`` (None: every unit); idempotent.

    Returns the grant row (the existing one when it was already given). Raises
    ``InvalidTaskDataError`` for an unknown ``kind``. Flushes; never commits.
    """
    _check_kind(kind)
    existing = session.scalar(select(AccessGrant).where(
        AccessGrant.user_id == user_id, AccessGrant.kind == kind,
        AccessGrant.unit_id.is_(None) if unit_id is None else AccessGrant.unit_id == unit_id))
    if existing is not None:
        return existing
    row = AccessGrant(user_id=user_id, kind=kind, unit_id=unit_id, granted_by_id=granted_by_id)
    session.add(row)
    session.flush()
    return row


def revoke(session: Session, *, user_id: int, kind: str, unit_id: int | None = None) -> int:
    """Take the right ``kind`` over ``unit_id`` (None: the all-units grant) from ``user_id``.

    Returns how many grants were removed (0 or 1). Raises ``InvalidTaskDataError``
    for an unknown ``kind``. Never commits.
    """
    _check_kind(kind)
    stmt = delete(AccessGrant).where(
        AccessGrant.user_id == user_id, AccessGrant.kind == kind,
        AccessGrant.unit_id.is_(None) if unit_id is None else AccessGrant.unit_id == unit_id)
    result = cast("CursorResult[Any]", session.execute(stmt.execution_options(synchronize_session=False)))
    return result.rowcount


def grants_of(session: Session, user_id: int) -> list[tuple[str, str | None]]:
    """The rights of ``user_id`` as ``[(kind, unit code or None for every unit)]``, sorted."""
    rows = session.execute(
        select(AccessGrant.kind, Unit.code).outerjoin(Unit, Unit.id == AccessGrant.unit_id)
        .where(AccessGrant.user_id == user_id)
    ).all()
    return sorted(((kind, code) for kind, code in rows), key=lambda g: (g[0], g[1] or ""))


def holders(session: Session, kind: str | None = None) -> list[tuple[str, str, str | None]]:
    """Every grant as ``[(username, kind, unit code or None)]``, optionally of one ``kind``, sorted."""
    stmt = (select(User.username, AccessGrant.kind, Unit.code)
            .join(User, User.id == AccessGrant.user_id)
            .outerjoin(Unit, Unit.id == AccessGrant.unit_id))
    if kind is not None:
        _check_kind(kind)
        stmt = stmt.where(AccessGrant.kind == kind)
    return sorted(((u, k, c) for u, k, c in session.execute(stmt).all()), key=lambda g: (g[0], g[1], g[2] or ""))
