"""Process instances: the serialized workflow state, guarded by an optimistic lock.

Every write of the state goes through :func:`save_state`, a conditional UPDATE on
``lock_version``: of two writers that read the same version, one wins and the
other gets ``StaleInstanceError`` (see ``storage.db`` for why the loser waits
rather than failing with a locking error).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session, undefer
from sqlalchemy.orm.util import identity_key

from storage.db import hold, sync_loaded
from storage.errors import InstanceNotFound, StaleInstanceError
from storage.models import INSTANCE_STATUSES, ProcessInstance, utcnow

__all__ = [
    "bump_lock", "counts_by_definition", "create", "get", "list_instances", "rebind", "save_state", "titles", "unit_of",
]


def create(
    session: Session,
    *,
    definition_id: int,
    unit_id: int,
    title: str,
    started_by_id: int,
    state_json: str,
    serializer_version: str,
    called_definitions: dict[str, int],
    input_data: dict[str, Any],
    started_at: datetime | None = None,
) -> ProcessInstance:
    """Store a new running instance with ``lock_version`` 1 and flush it.

    ``called_definitions`` maps each called process id to the definition id pinned
    for this run; ``input_data`` is the start form's data. ``started_at`` defaults
    to now (UTC).
    """
    instance = ProcessInstance(
        definition_id=definition_id,
        unit_id=unit_id,
        title=title,
        status="running",
        started_by_id=started_by_id,
        started_at=started_at or utcnow(),
        state_json=state_json,
        serializer_version=serializer_version,
        called_definitions_json=json.dumps(called_definitions, sort_keys=True),
        input_json=json.dumps(input_data, sort_keys=True, ensure_ascii=False),
        lock_version=1,
    )
    session.add(instance)
    session.flush()
    return instance


def get(session: Session, instance_id: int) -> ProcessInstance:
    """Return the instance with its ``state_json`` loaded. Raises ``InstanceNotFound``."""
    instance = session.get(
        ProcessInstance, instance_id, options=[undefer(ProcessInstance.state_json)]
    )
    if instance is None:
        raise InstanceNotFound(instance_id)
    hold(session, (ProcessInstance, instance_id), instance)  # read once per transaction
    return instance


def unit_of(session: Session, instance_id: int) -> int:
    """The unit id of an instance, without loading its state. Raises ``InstanceNotFound``."""
    unit_id = session.scalar(select(ProcessInstance.unit_id).where(ProcessInstance.id == instance_id))
    if unit_id is None:
        raise InstanceNotFound(instance_id)
    return unit_id


def save_state(
    session: Session,
    instance_id: int,
    *,
    expected_version: int,
    state_json: str,
    status: str,
    completed_at: datetime | None = None,
) -> int:
    """Write the state if the instance is still at ``expected_version``; return the new version.

    One ``UPDATE ... WHERE id = :id AND lock_version = :expected`` that also sets
    ``lock_version + 1``. Raises ``StaleInstanceError`` when another writer got
    there first, ``InstanceNotFound`` when there is no such instance, ``ValueError``
    for a status outside running|completed|error.
    """
    if status not in INSTANCE_STATUSES:
        raise ValueError(f"unknown instance status {status!r}")
    values = {"state_json": state_json, "status": status, "completed_at": completed_at}
    stmt = (
        update(ProcessInstance)
        .where(
            ProcessInstance.id == instance_id,
            ProcessInstance.lock_version == expected_version,
        )
        .values(lock_version=ProcessInstance.lock_version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    result = cast("CursorResult[Any]", session.execute(stmt))  # an UPDATE always returns a CursorResult
    if result.rowcount == 0:
        if session.get(ProcessInstance, instance_id) is None:
            raise InstanceNotFound(instance_id)
        raise StaleInstanceError(instance_id, expected_version)
    new_version = expected_version + 1
    sync_loaded(session, ProcessInstance, [instance_id], {"lock_version": new_version, **values})
    return new_version


def bump_lock(session: Session, instance_id: int) -> None:
    """Take the instance's lock for a write that does not change its state (e.g. a document's event).

    ``UPDATE ... SET lock_version = lock_version + 1``: on PostgreSQL it holds the
    instance's row lock until the transaction ends, and a concurrent
    :func:`save_state` that read the old version loses with ``StaleInstanceError``.
    Raises ``InstanceNotFound``.
    """
    stmt = (update(ProcessInstance).where(ProcessInstance.id == instance_id)
            .values(lock_version=ProcessInstance.lock_version + 1).execution_options(synchronize_session=False))
    result = cast("CursorResult[Any]", session.execute(stmt))
    if result.rowcount == 0:
        raise InstanceNotFound(instance_id)
    loaded = session.identity_map.get(identity_key(ProcessInstance, instance_id))
    if loaded is not None:
        session.expire(loaded, ["lock_version"])


def list_instances(
    session: Session, *, unit_id: int | None = None, status: str | None = None,
    definition_id: int | None = None,
) -> list[ProcessInstance]:
    """Return instances, newest first, optionally of one unit, status and/or definition version (state deferred)."""
    stmt = select(ProcessInstance).order_by(
        ProcessInstance.started_at.desc(), ProcessInstance.id.desc()
    )
    if unit_id is not None:
        stmt = stmt.where(ProcessInstance.unit_id == unit_id)
    if status is not None:
        stmt = stmt.where(ProcessInstance.status == status)
    if definition_id is not None:
        stmt = stmt.where(ProcessInstance.definition_id == definition_id)
    return list(session.scalars(stmt))


def titles(session: Session, instance_ids: Iterable[int]) -> dict[int, str]:
    """Return ``{instance_id: title}`` for the given ids in one query (state not loaded)."""
    ids = set(instance_ids)
    if not ids:
        return {}
    rows = session.execute(select(ProcessInstance.id, ProcessInstance.title).where(ProcessInstance.id.in_(ids)))
    return {row.id: row.title for row in rows}


def counts_by_definition(session: Session, definition_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """``{definition_id: {status: count}}`` of instances, for the given versions (one query)."""
    ids = set(definition_ids)
    if not ids:
        return {}
    stmt = (select(ProcessInstance.definition_id, ProcessInstance.status, func.count())
            .where(ProcessInstance.definition_id.in_(ids))
            .group_by(ProcessInstance.definition_id, ProcessInstance.status))
    counts: dict[int, dict[str, int]] = {}
    for definition_id, status, count in session.execute(stmt):
        counts.setdefault(definition_id, {})[status] = count
    return counts


def rebind(session: Session, instance_id: int, *, expected_version: int, definition_id: int, state_json: str,
           called_definitions: dict[str, int]) -> int:
    """Move an instance to another definition version with its re-bound state; return the new lock version.

    Guarded like :func:`save_state` (``StaleInstanceError``, ``InstanceNotFound``).
    """
    stmt = (update(ProcessInstance)
            .where(ProcessInstance.id == instance_id, ProcessInstance.lock_version == expected_version)
            .values(lock_version=ProcessInstance.lock_version + 1, definition_id=definition_id,
                    state_json=state_json, called_definitions_json=json.dumps(called_definitions, sort_keys=True))
            .execution_options(synchronize_session=False))
    result = cast("CursorResult[Any]", session.execute(stmt))
    if result.rowcount == 0:
        if session.get(ProcessInstance, instance_id) is None:
            raise InstanceNotFound(instance_id)
        raise StaleInstanceError(instance_id, expected_version)
    sync_loaded(session, ProcessInstance, [instance_id], {
        "lock_version": expected_version + 1, "definition_id": definition_id, "state_json": state_json,
        "called_definitions_json": json.dumps(called_definitions, sort_keys=True)})
    return expected_version + 1
