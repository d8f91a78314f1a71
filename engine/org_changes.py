"""What follows a change of who holds a jabatan, and the record of every organisation change.

:func:`record` writes one row of the change record (who, what, before/after).
:func:`on_holder_removed` is called whenever a user stops holding a lane: the
user is deactivated, a membership ends, a Plh/Plt designation is ended early.
Ready steps need nothing: the routing is computed when read
(``storage.org``), so they leave the user's inbox by themselves.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from engine import claims
from storage import org_changes

__all__ = ["on_holder_removed", "record"]


def record(session: Session, *, at: datetime, actor_id: int | None, unit_id: int | None, kind: str,
           subject: str, before: Any, after: Any) -> None:
    """Record one organisation change (``storage.org_changes.add``); ``before``/``after`` JSON-able."""
    org_changes.add(session, occurred_at=at, actor_id=actor_id, unit_id=unit_id, kind=kind, subject=subject,
                    before=before, after=after)


def on_holder_removed(session: Session, user_id: int, reason: str) -> int:
    """Release the steps ``user_id`` claimed whose lane they no longer hold; return how many.

    ``engine.claims.release_claims_of_user`` with ``only_lost``: each release is a
    ``task_released`` event with ``reason``. A change dated in the future (a
    membership ending next week) releases nothing now; such a claim stops
    blocking anyone when the date passes (``engine.claims.check_may_complete``).
    """
    return claims.release_claims_of_user(session, user_id, reason, only_lost=True)
