"""SOP drafts: diagrams being edited in the studio, saved on the server.

A save names the ``revision`` it read; :func:`save` writes only if the row is
still at that revision (one conditional UPDATE, as ``storage.instances.save_state``
does for instance state), so two analysts saving the same draft never overwrite
each other: the second gets ``StaleDraftError`` with who saved last and when.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session, undefer

from storage.errors import DraftNotFound, StaleDraftError
from storage.models import SopDraft

__all__ = ["create", "get", "list_open", "save", "set_status"]


def create(session: Session, *, process_id: str, base_definition_id: int | None, bpmn_xml: str,
           user_id: int, at: datetime) -> SopDraft:
    """Store a new open draft at revision 1 and flush it."""
    draft = SopDraft(process_id=process_id, base_definition_id=base_definition_id, bpmn_xml=bpmn_xml,
                     status="open", revision=1, created_by_id=user_id, created_at=at, updated_by_id=user_id,
                     updated_at=at)
    session.add(draft)
    session.flush()
    return draft


def get(session: Session, draft_id: int) -> SopDraft:
    """The draft ``draft_id`` with its XML. Raises ``DraftNotFound``."""
    draft = session.get(SopDraft, draft_id, options=[undefer(SopDraft.bpmn_xml)])
    if draft is None:
        raise DraftNotFound(draft_id)
    return draft


def list_open(session: Session, process_id: str | None = None) -> list[SopDraft]:
    """Open drafts (of one SOP, or all), most recently saved first; XML not loaded."""
    stmt = select(SopDraft).where(SopDraft.status == "open").order_by(SopDraft.updated_at.desc(),
                                                                       SopDraft.id.desc())
    if process_id is not None:
        stmt = stmt.where(SopDraft.process_id == process_id)
    return list(session.scalars(stmt))


def save(session: Session, draft_id: int, *, expected_revision: int, bpmn_xml: str, user_id: int,
         at: datetime) -> int:
    """Write ``bpmn_xml`` if the open draft is still at ``expected_revision``; return the new revision.

    Raises ``DraftNotFound``, and ``StaleDraftError`` (attributes ``updated_by_id``,
    ``updated_at``, ``revision``: the save that came first) when another save got
    there first or the draft is no longer open.
    """
    stmt = (update(SopDraft)
            .where(SopDraft.id == draft_id, SopDraft.revision == expected_revision, SopDraft.status == "open")
            .values(bpmn_xml=bpmn_xml, revision=SopDraft.revision + 1, updated_by_id=user_id, updated_at=at)
            .execution_options(synchronize_session=False))
    result = cast("CursorResult[Any]", session.execute(stmt))
    if result.rowcount == 0:
        current = get(session, draft_id)
        session.refresh(current)
        raise StaleDraftError(draft_id, updated_by_id=current.updated_by_id, updated_at=current.updated_at,
                              revision=current.revision, status=current.status)
    draft = get(session, draft_id)
    session.refresh(draft)
    return draft.revision


def set_status(session: Session, draft: SopDraft, status: str, *, deployed_definition_id: int | None = None) -> None:
    """Close a draft: ``deployed`` (with the version it became) or ``discarded``; flushes."""
    draft.status = status
    draft.deployed_definition_id = deployed_definition_id
    draft.revision += 1
    session.flush()
