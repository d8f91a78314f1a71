"""The audit trail of a process instance: who did what, when, with which keputusan.

``audit_event`` is append-only; the database refuses UPDATE and DELETE
(triggers of migration 0001), so this module only appends and reads. Every
appended event carries its link in the instance's hash chain
(``storage.chain``), computed before the INSERT.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import chain
from storage.models import AUDIT_KINDS, AuditEvent

__all__ = ["append", "completions", "for_instance"]


def append(
    session: Session,
    *,
    instance_id: int,
    kind: str,
    occurred_at: datetime,
    actor_id: int | None = None,
    human_task_id: str | None = None,
    element_id: str | None = None,
    process_id: str | None = None,
    keputusan: str | None = None,
    catatan: str | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the history of ``instance_id`` and flush it.

    ``kind`` is one of ``models.AUDIT_KINDS`` (``ValueError`` otherwise);
    ``keputusan`` is "setuju"/"tidak" for a review; ``data`` is stored as JSON
    with sorted keys. ``chain_hash`` links it to the instance's previous event
    (``storage.chain``); the caller's transaction must hold the instance's
    optimistic lock (``instances.save_state`` or ``instances.bump_lock``) so
    that two writers of one instance cannot both append to the same link.
    The link written is remembered for the rest of the transaction, so a
    completion's second event needs no query for its previous hash.
    """
    if kind not in AUDIT_KINDS:
        raise ValueError(f"unknown audit event kind {kind!r}")
    data_json = json.dumps(data or {}, sort_keys=True, ensure_ascii=False)
    content = chain.canonical_event(
        instance_id=instance_id, occurred_at=occurred_at, kind=kind, actor_id=actor_id,
        human_task_id=human_task_id, element_id=element_id, process_id=process_id, keputusan=keputusan,
        catatan=catatan, data_json=data_json)
    event = AuditEvent(
        instance_id=instance_id,
        kind=kind,
        occurred_at=occurred_at,
        actor_id=actor_id,
        human_task_id=human_task_id,
        element_id=element_id,
        process_id=process_id,
        keputusan=keputusan,
        catatan=catatan,
        data_json=data_json,
        chain_hash=chain.event_hash(_tail(session, instance_id), content),
    )
    session.add(event)
    session.flush()
    session.info.setdefault("alur.chain_tails", {})[instance_id] = event.chain_hash
    return event


def _tail(session: Session, instance_id: int) -> bytes:
    """The instance's latest chain hash: the one this transaction wrote last, else from the database."""
    known: dict[int, bytes] = session.info.get("alur.chain_tails", {})
    return known.get(instance_id) or chain.last_hash(session, instance_id)


def for_instance(session: Session, instance_id: int) -> list[AuditEvent]:
    """Return the history of ``instance_id`` in the order it was written."""
    stmt = select(AuditEvent).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.id)
    return list(session.scalars(stmt))


def completions(session: Session, instance_id: int, task_ids: Collection[str] | None = None) -> list[AuditEvent]:
    """The ``task_completed`` events of ``instance_id`` (only of ``task_ids`` when given), in the order written."""
    stmt = select(AuditEvent).where(AuditEvent.instance_id == instance_id, AuditEvent.kind == "task_completed")
    if task_ids is not None:
        stmt = stmt.where(AuditEvent.human_task_id.in_(list(task_ids)))
    return list(session.scalars(stmt.order_by(AuditEvent.id)))
