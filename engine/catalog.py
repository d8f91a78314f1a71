"""Deployed process definitions, loaded once per version and kept in memory.

A definition version never changes once stored, so its parsed spec and SOP
metadata can be cached by id for the life of the process.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from sqlalchemy.orm import Session

from engine.sop import ProcessMeta
from engine.state import load_spec
from storage import definitions
from storage.errors import ProcessNotFound

__all__ = ["Definition", "called_closure", "get_definition", "latest_definition", "latest_names", "list_latest",
           "prefetch_definitions"]


@dataclass(frozen=True)
class Definition:
    """One deployed version of a process: its spec and its SOP metadata."""

    id: int
    process_id: str
    version: int
    name: str
    spec: BpmnProcessSpec
    meta: ProcessMeta


_cache: dict[tuple[int, str], Definition] = {}
_lock = threading.Lock()


def get_definition(session: Session, definition_id: int) -> Definition:
    """The definition version ``definition_id``. Raises ``ProcessNotFound``.

    Cached by id and content hash (one indexed lookup per session), so two
    databases that reuse an id for different content never share an entry.
    """
    seen: dict[int, Definition] = session.info.setdefault("alur.definitions", {})
    if definition_id in seen:
        return seen[definition_id]
    sha = definitions.sha_of(session, definition_id)
    cached = _cache.get((definition_id, sha))
    if cached is not None:
        seen[definition_id] = cached
        return cached
    row = definitions.get(session, definition_id)
    loaded = Definition(
        id=row.id, process_id=row.process_id, version=row.version, name=row.name,
        spec=load_spec(row.spec_json), meta=ProcessMeta.from_json_dict(json.loads(row.meta_json)),
    )
    with _lock:
        seen[definition_id] = _cache.setdefault((definition_id, sha), loaded)
    return seen[definition_id]


def prefetch_definitions(session: Session, definition_ids: Iterable[int]) -> None:
    """Check several cached definitions with one query (instead of one per :func:`get_definition`).

    Those found in the cache with an unchanged content hash are remembered for
    this session; the rest are loaded later by :func:`get_definition` as usual.
    """
    seen: dict[int, Definition] = session.info.setdefault("alur.definitions", {})
    missing = {i for i in definition_ids if i not in seen}
    if len(missing) < 2:
        return
    for definition_id, sha in definitions.shas_of(session, missing).items():
        cached = _cache.get((definition_id, sha))
        if cached is not None:
            seen[definition_id] = cached


def latest_definition(session: Session, process_id: str) -> Definition:
    """The newest deployed version of ``process_id``. Raises ``ProcessNotFound``."""
    definition_id = definitions.latest_id(session, process_id)
    if definition_id is None:
        raise ProcessNotFound(process_id)
    return get_definition(session, definition_id)


def called_closure(session: Session, root: Definition) -> dict[str, Definition]:
    """Latest versions of every process ``root`` calls, directly or through others.

    Returns ``{process_id: Definition}``; an instance pins these at start so a
    later deployment of a called SOP does not change a running instance.
    """
    found: dict[str, Definition] = {}
    pending = [root]
    while pending:
        definition = pending.pop()
        for step in definition.meta.steps.values():
            called = step.called_element
            if called and called not in found and called != root.process_id:
                found[called] = latest_definition(session, called)
                pending.append(found[called])
    return found


def latest_names(session: Session) -> list[tuple[str, str]]:
    """``[(process id, name)]`` of the newest version of every process, by process id (one query)."""
    return [(row.process_id, row.name) for row in definitions.list_latest(session)]


def list_latest(session: Session) -> list[Definition]:
    """The newest version of every deployed process, ordered by process id.

    One query: the rows carry their content hash, so a cached definition needs no
    further lookup (:func:`get_definition` checks the hash by id otherwise).
    """
    seen: dict[int, Definition] = session.info.setdefault("alur.definitions", {})
    found = []
    for row in definitions.list_latest(session):
        cached = seen.get(row.id) or _cache.get((row.id, row.sha256))
        if cached is not None:
            seen[row.id] = cached
        found.append(cached if cached is not None else get_definition(session, row.id))
    return found
