"""Documents: the Output file of a step, stored with the completion of its human task.

One row per completion that came with a file, append-only (triggers of
migration 0002): a step redone after "tidak" gets the next ``version`` of its
element in the instance, and earlier versions stay as they were. The file is
kept in the row (``content``, deferred); this module computes its SHA-256 and
size itself, so they always describe the stored bytes. Which files are
acceptable (size, type) is the engine's decision (``engine.documents``).
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, undefer

from storage.errors import ConflictError, NotFoundError
from storage.models import Document

__all__ = ["add", "for_instance", "for_task", "get"]


def add(
    session: Session,
    *,
    instance_id: int,
    human_task_id: str,
    process_id: str,
    element_id: str,
    filename: str,
    content_type: str,
    content: bytes,
    uploaded_by_id: int,
    uploaded_at: datetime,
) -> Document:
    """Store the document of one completed human task as the next version of its element.

    ``version`` is 1 + the number of documents already stored for
    (``instance_id``, ``process_id``, ``element_id``); ``sha256`` (hex) and
    ``size_bytes`` are computed from ``content``. Raises ``ConflictError`` when
    the task already has a document (a second submit) or the version was taken
    concurrently; the session stays usable.
    """
    session.flush()
    previous = session.scalar(
        select(func.max(Document.version)).where(
            Document.instance_id == instance_id,
            Document.process_id == process_id,
            Document.element_id == element_id,
        )
    )
    document = Document(
        instance_id=instance_id,
        human_task_id=human_task_id,
        process_id=process_id,
        element_id=element_id,
        version=(previous or 0) + 1,
        filename=filename,
        content_type=content_type,
        size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        uploaded_by_id=uploaded_by_id,
        uploaded_at=uploaded_at,
    )
    try:
        with session.begin_nested():
            session.add(document)
    except IntegrityError as exc:
        raise ConflictError(
            f"Dokumen untuk tugas {human_task_id} sudah tersimpan / "
            f"task {human_task_id} already has a document"
        ) from exc
    return document


def get(session: Session, document_id: int, *, with_content: bool = False) -> Document:
    """Return the document ``document_id``; its ``content`` is loaded only ``with_content``.

    Raises ``NotFoundError``.
    """
    options = (undefer(Document.content),) if with_content else ()
    document = session.get(Document, document_id, options=options)
    if document is None:
        raise NotFoundError(
            document_id, f"Dokumen {document_id!r} tidak ditemukan / document not found"
        )
    return document


def for_task(session: Session, human_task_id: str) -> Document | None:
    """Return the document uploaded with the completion of ``human_task_id``, or ``None``."""
    return session.scalar(select(Document).where(Document.human_task_id == human_task_id))


def for_instance(session: Session, instance_id: int) -> list[Document]:
    """Return every document of ``instance_id`` (content not loaded), oldest first."""
    stmt = (
        select(Document)
        .where(Document.instance_id == instance_id)
        .order_by(Document.uploaded_at, Document.id)
    )
    return list(session.scalars(stmt))
