"""The studio's record: who saved, deployed, restored or moved instances, when, with which note.

Rows are only appended. A ``deployed`` event names the version it made, which is
how a version is known to come from the studio (``studio_versions``) rather than
from the templates in ``bpmn/``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import STUDIO_EVENT_KINDS, StudioEvent

__all__ = ["append", "deploy_events", "for_process"]


def append(session: Session, *, kind: str, actor_id: int, process_id: str, at: datetime,
           draft_id: int | None = None, definition_id: int | None = None, note: str | None = None,
           data: dict[str, Any] | None = None) -> StudioEvent:
    """Append one studio event and flush it. ``ValueError`` for a kind outside ``STUDIO_EVENT_KINDS``."""
    if kind not in STUDIO_EVENT_KINDS:
        raise ValueError(f"unknown studio event kind {kind!r}")
    event = StudioEvent(kind=kind, actor_id=actor_id, process_id=process_id, occurred_at=at, draft_id=draft_id,
                        definition_id=definition_id, note=note,
                        data_json=json.dumps(data or {}, sort_keys=True, ensure_ascii=False))
    session.add(event)
    session.flush()
    return event


def for_process(session: Session, process_id: str, *, limit: int = 200) -> list[StudioEvent]:
    """The newest ``limit`` studio events of one SOP, newest first."""
    stmt = (select(StudioEvent).where(StudioEvent.process_id == process_id)
            .order_by(StudioEvent.id.desc()).limit(limit))
    return list(session.scalars(stmt))


def deploy_events(session: Session, definition_ids: Iterable[int]) -> dict[int, StudioEvent]:
    """``{definition_id: its "deployed" event}`` for the versions made in the studio among ``definition_ids``."""
    ids = set(definition_ids)
    if not ids:
        return {}
    stmt = select(StudioEvent).where(StudioEvent.kind == "deployed", StudioEvent.definition_id.in_(ids))
    return {e.definition_id: e for e in session.scalars(stmt) if e.definition_id is not None}
