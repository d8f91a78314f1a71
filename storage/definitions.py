"""Deployed process definitions: one row per version of a BPMN process.

Deploying the same file twice is recognised by its SHA-256 (:func:`find_by_sha`);
a changed file becomes the next version. Running instances keep the version they
started with.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, undefer

from storage.errors import ConflictError, ProcessNotFound
from storage.models import ProcessDefinition

__all__ = [
    "add",
    "bpmn_xml_of",
    "find_by_sha",
    "get",
    "latest",
    "latest_id",
    "shas_of",
    "list_latest",
    "list_versions",
    "sha_of",
    "version_id",
]

_FULL = (undefer(ProcessDefinition.bpmn_xml), undefer(ProcessDefinition.spec_json))


def find_by_sha(
    session: Session, process_id: str, sha256: str
) -> ProcessDefinition | None:
    """Return the version of ``process_id`` deployed from a file with this SHA-256, or ``None``."""
    stmt = select(ProcessDefinition).options(*_FULL).where(
        ProcessDefinition.process_id == process_id, ProcessDefinition.sha256 == sha256
    )
    return session.scalar(stmt)


def latest(session: Session, process_id: str) -> ProcessDefinition | None:
    """Return the newest version of ``process_id``, or ``None`` if it was never deployed."""
    stmt = (
        select(ProcessDefinition)
        .options(*_FULL)
        .where(ProcessDefinition.process_id == process_id)
        .order_by(ProcessDefinition.version.desc())
        .limit(1)
    )
    return session.scalar(stmt)


def get(session: Session, definition_id: int) -> ProcessDefinition:
    """Return the definition with id ``definition_id``, XML and spec loaded.

    Raises ``ProcessNotFound``.
    """
    definition = session.get(ProcessDefinition, definition_id, options=_FULL)
    if definition is None:
        raise ProcessNotFound(definition_id)
    return definition


def add(
    session: Session,
    *,
    process_id: str,
    name: str,
    unit_kind: str,
    sha256: str,
    filename: str,
    bpmn_xml: str,
    spec_json: str,
    meta_json: str,
) -> ProcessDefinition:
    """Store a new version of ``process_id`` (previous highest version + 1) and flush it.

    ``unit_kind`` is bagian|dinas|kecamatan|any. Raises ``ConflictError`` when the
    same version or file was stored concurrently; the session stays usable.
    """
    session.flush()
    previous = session.scalar(
        select(func.max(ProcessDefinition.version)).where(
            ProcessDefinition.process_id == process_id
        )
    )
    definition = ProcessDefinition(
        process_id=process_id,
        version=(previous or 0) + 1,
        name=name,
        unit_kind=unit_kind,
        sha256=sha256,
        filename=filename,
        bpmn_xml=bpmn_xml,
        spec_json=spec_json,
        meta_json=meta_json,
    )
    try:
        with session.begin_nested():
            session.add(definition)
    except IntegrityError as exc:
        raise ConflictError(
            f"Proses {process_id} sedang di-deploy bersamaan / "
            f"{process_id} was deployed concurrently"
        ) from exc
    return definition


def list_latest(session: Session) -> list[ProcessDefinition]:
    """Return the newest version of every process, ordered by process id (XML/spec deferred)."""
    newest = (
        select(
            ProcessDefinition.process_id,
            func.max(ProcessDefinition.version).label("version"),
        )
        .group_by(ProcessDefinition.process_id)
        .subquery()
    )
    stmt = (
        select(ProcessDefinition)
        .join(
            newest,
            (newest.c.process_id == ProcessDefinition.process_id)
            & (newest.c.version == ProcessDefinition.version),
        )
        .order_by(ProcessDefinition.process_id)
    )
    return list(session.scalars(stmt))


def list_versions(session: Session, process_id: str) -> list[ProcessDefinition]:
    """Return every version of ``process_id``, oldest first (XML/spec deferred)."""
    stmt = (
        select(ProcessDefinition)
        .where(ProcessDefinition.process_id == process_id)
        .order_by(ProcessDefinition.version)
    )
    return list(session.scalars(stmt))


def shas_of(session: Session, definition_ids: Iterable[int]) -> dict[int, str]:
    """``{id: SHA-256}`` of those of ``definition_ids`` that exist, in one query."""
    ids = list(definition_ids)
    if not ids:
        return {}
    stmt = select(ProcessDefinition.id, ProcessDefinition.sha256).where(ProcessDefinition.id.in_(ids))
    return {row.id: row.sha256 for row in session.execute(stmt)}


def sha_of(session: Session, definition_id: int) -> str:
    """Return the SHA-256 of definition ``definition_id`` (one lookup, no XML or spec loaded).

    Raises ``ProcessNotFound``.
    """
    sha = session.scalar(
        select(ProcessDefinition.sha256).where(ProcessDefinition.id == definition_id)
    )
    if sha is None:
        raise ProcessNotFound(definition_id)
    return sha


def latest_id(session: Session, process_id: str) -> int | None:
    """Return the id of the newest version of ``process_id``, or ``None``; loads no XML."""
    stmt = (
        select(ProcessDefinition.id)
        .where(ProcessDefinition.process_id == process_id)
        .order_by(ProcessDefinition.version.desc())
        .limit(1)
    )
    return session.scalar(stmt)


def version_id(session: Session, process_id: str, version: int) -> int | None:
    """Return the id of version ``version`` of ``process_id``, or ``None``; loads no XML."""
    stmt = select(ProcessDefinition.id).where(
        ProcessDefinition.process_id == process_id, ProcessDefinition.version == version
    )
    return session.scalar(stmt)


def bpmn_xml_of(session: Session, definition_id: int) -> str:
    """Return the BPMN XML of definition ``definition_id``. Raises ``ProcessNotFound``."""
    xml = session.scalar(select(ProcessDefinition.bpmn_xml).where(ProcessDefinition.id == definition_id))
    if xml is None:
        raise ProcessNotFound(definition_id)
    return xml
