"""Access grants as the engine's callers see them: who administers, analyses, audits.

A Pelaksana role decides which steps a user performs (``engine.lanes``); an
access grant (``storage.grants``) decides what else a user may do, per unit or
for every unit:

- ``administrator``: the organisation (units, jabatan, users);
- ``analis_proses``: edit, check and deploy diagrams (the studio);
- ``auditor``: read every instance, task, document and history, never act.

This module is the one place that answers "does this user have right X over
unit Y"; callers hold a user's :class:`Grants`, loaded once per request.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from storage import grants as grant_store
from storage import org
from storage.models import ACCESS_KINDS

__all__ = [
    "ACCESS_KINDS", "ADMINISTRATOR", "ANALIS_PROSES", "AUDITOR", "Grants", "describe", "grant", "grants_of",
    "holders", "revoke",
]

ADMINISTRATOR = "administrator"
ANALIS_PROSES = "analis_proses"
AUDITOR = "auditor"


@dataclass(frozen=True)
class Grants:
    """A user's access grants: ``pairs`` of ``(kind, unit code or None for every unit)``."""

    pairs: tuple[tuple[str, str | None], ...] = ()

    def covers(self, kind: str, unit_code: str) -> bool:
        """Whether a grant of ``kind`` covers the unit ``unit_code`` (or every unit)."""
        return any(k == kind and (u is None or u == unit_code) for k, u in self.pairs)

    def has(self, kind: str) -> bool:
        """Whether the user holds ``kind`` for at least one unit."""
        return any(k == kind for k, _ in self.pairs)

    def scope(self, kind: str) -> frozenset[str] | None:
        """The unit codes ``kind`` covers; None when it covers every unit (empty: none)."""
        units: set[str] = set()
        for k, u in self.pairs:
            if k != kind:
                continue
            if u is None:
                return None
            units.add(u)
        return frozenset(units)


def grants_of(session: Session, username: str) -> Grants:
    """The grants of ``username``. Raises ``UserNotFound``."""
    user = org.get_user_by_username(session, username)
    return Grants(tuple(grant_store.grants_of(session, user.id)))


def grant(session: Session, username: str, kind: str, unit_code: str | None = None, *,
          granted_by: str | None = None) -> None:
    """Give ``username`` the right ``kind`` over ``unit_code`` (None: every unit); idempotent.

    Raises ``UserNotFound``, ``UnitNotFound``, ``InvalidTaskDataError`` (unknown kind).
    """
    user = org.get_user_by_username(session, username)
    unit_id = org.get_unit_by_code(session, unit_code).id if unit_code is not None else None
    by = org.get_user_by_username(session, granted_by).id if granted_by else None
    grant_store.grant(session, user_id=user.id, kind=kind, unit_id=unit_id, granted_by_id=by)


def revoke(session: Session, username: str, kind: str, unit_code: str | None = None) -> bool:
    """Take the right ``kind`` over ``unit_code`` from ``username``; False if it was not held.

    Raises ``UserNotFound``, ``UnitNotFound``, ``InvalidTaskDataError``.
    """
    user = org.get_user_by_username(session, username)
    unit_id = org.get_unit_by_code(session, unit_code).id if unit_code is not None else None
    return grant_store.revoke(session, user_id=user.id, kind=kind, unit_id=unit_id) > 0


def holders(session: Session, kind: str | None = None) -> list[tuple[str, str, str | None]]:
    """Every grant as ``[(username, kind, unit code or None)]``, optionally of one kind."""
    return grant_store.holders(session, kind)


def describe(pairs: Iterable[tuple[str, str | None]]) -> str:
    """``"analis_proses (semua unit), auditor (kecamatan-contoh)"``: grants as text for the CLI."""
    return ", ".join(f"{kind} ({unit or 'semua unit'})" for kind, unit in pairs) or "-"
