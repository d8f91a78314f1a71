"""The hash chain over the audit history: each event's hash, seals, and verification.

**An event's hash.** ``chain_hash = SHA-256(previous ‖ canonical)`` where
``previous`` is the 32-byte ``chain_hash`` of the instance's previous event (in
id order; 32 zero bytes for its first event) and ``canonical`` is the UTF-8
encoding of this JSON object, with keys sorted, no spaces
(``separators=(",", ":")``) and non-ASCII characters kept as they are::

    {"actor_id": 7 | null, "catatan": str | null, "data_json": "<the stored text>",
     "element_id": str | null, "human_task_id": str | null, "instance_id": 3,
     "keputusan": "setuju" | "tidak" | null, "kind": "task_completed",
     "occurred_at": "2026-11-25T03:04:05.123456Z", "process_id": str | null}

``occurred_at`` is UTC with microseconds; ``data_json`` is the stored text
itself (not re-encoded). The row id is left out so the hash can be written in
the INSERT itself (the table refuses UPDATE); the order is fixed by the chain:
a changed, deleted, inserted or reordered event breaks the next link.

**Seals.** ``alur audit seal`` covers every event with an id above the last
seal's ``last_event_id``: ``events_digest = SHA-256`` over, in id order, each
event's id as 8 bytes big-endian followed by its 32-byte ``chain_hash``;
``seal_hash = SHA-256(previous seal_hash ‖ canonical seal)`` with the canonical
seal ``{"event_count", "events_digest" (hex), "first_event_id",
"last_event_id", "sealed_at"}`` encoded as above. A deleted instance, or the
deleted last events of an instance, change a sealed digest.

**Serialisation.** Appending reads the instance's last hash. Concurrent writers
of one instance are serialised by that instance's optimistic lock
(``storage.instances.save_state`` / :func:`storage.instances.bump_lock`): the
loser rolls back with its events. Nothing is locked across instances on the
write path; sealing takes a SHARE lock on ``audit_event`` (PostgreSQL) so that
it waits for transactions still writing events with lower ids.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import AuditEvent, AuditSeal

__all__ = [
    "GENESIS", "Break", "SealView", "canonical_event", "event_hash", "last_hash", "seal", "seals",
    "verify_instance", "verify_seals",
]

GENESIS = bytes(32)
"""The ``previous`` hash of an instance's first event, and of the first seal."""

_BATCH = 2000


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _canonical(payload: dict[str, object]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def canonical_event(*, instance_id: int, occurred_at: datetime, kind: str, actor_id: int | None,
                    human_task_id: str | None, element_id: str | None, process_id: str | None,
                    keputusan: str | None, catatan: str | None, data_json: str) -> bytes:
    """The canonical bytes of an event's content (see the module docstring)."""
    return _canonical({
        "actor_id": actor_id, "catatan": catatan, "data_json": data_json, "element_id": element_id,
        "human_task_id": human_task_id, "instance_id": instance_id, "keputusan": keputusan, "kind": kind,
        "occurred_at": _stamp(occurred_at), "process_id": process_id,
    })


def _event_content(event: AuditEvent) -> bytes:
    return canonical_event(
        instance_id=event.instance_id, occurred_at=event.occurred_at, kind=event.kind, actor_id=event.actor_id,
        human_task_id=event.human_task_id, element_id=event.element_id, process_id=event.process_id,
        keputusan=event.keputusan, catatan=event.catatan, data_json=event.data_json)


def event_hash(previous: bytes, content: bytes) -> bytes:
    """``SHA-256(previous ‖ content)``: 32 bytes."""
    return hashlib.sha256(previous + content).digest()


def last_hash(session: Session, instance_id: int) -> bytes:
    """The chain hash of the instance's latest event; :data:`GENESIS` when it has none (or it is NULL)."""
    found = session.scalar(select(AuditEvent.chain_hash).where(AuditEvent.instance_id == instance_id)
                           .order_by(AuditEvent.id.desc()).limit(1))
    return found or GENESIS


@dataclass(frozen=True)
class Break:
    """The first broken link found: which event (or seal), and what no longer matches.

    ``event_id`` is the event whose stored hash disagrees (None for a seal break),
    ``seal_id`` the seal concerned (None for an instance's chain); ``reason`` in
    Bahasa Indonesia.
    """

    instance_id: int | None
    event_id: int | None
    seal_id: int | None
    reason: str


def _instance_events(session: Session, instance_id: int) -> Iterator[AuditEvent]:
    stmt = select(AuditEvent).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.id)
    yield from session.scalars(stmt.execution_options(yield_per=_BATCH))


def verify_instance(session: Session, instance_id: int) -> Break | None:
    """Recompute the chain of ``instance_id``; None when every link holds, else the first :class:`Break`."""
    previous = GENESIS
    for event in _instance_events(session, instance_id):
        if event.chain_hash is None:
            return Break(instance_id, event.id, None, "kejadian tanpa hash (ditulis di luar aplikasi)")
        expected = event_hash(previous, _event_content(event))
        if expected != event.chain_hash:
            own = any(event_hash(candidate, _event_content(event)) == event.chain_hash
                      for candidate in _hashes_before(session, event))
            reason = ("urutan berubah: kejadian sebelumnya dihapus, disisipkan atau dipindah"
                      if own else "hash tidak cocok: isi kejadian ini diubah, atau kejadian sebelum ini dihapus")
            return Break(instance_id, event.id, None, reason)
        previous = event.chain_hash
    return None


def _hashes_before(session: Session, event: AuditEvent) -> list[bytes]:
    """Chain hashes of the instance's other events, and GENESIS: to tell an edit from a reorder."""
    rows = session.scalars(select(AuditEvent.chain_hash).where(
        AuditEvent.instance_id == event.instance_id, AuditEvent.id != event.id)).all()
    return [GENESIS, *(r for r in rows if r is not None)]


def _digest(rows: Iterable[tuple[int, bytes | None]]) -> tuple[bytes, int]:
    digest = hashlib.sha256()
    count = 0
    for event_id, chain_hash in rows:
        digest.update(event_id.to_bytes(8, "big"))
        digest.update(chain_hash or GENESIS)
        count += 1
    return digest.digest(), count


def _range_rows(session: Session, first: int, last: int) -> Iterator[tuple[int, bytes | None]]:
    stmt = (select(AuditEvent.id, AuditEvent.chain_hash)
            .where(AuditEvent.id >= first, AuditEvent.id <= last).order_by(AuditEvent.id))
    for row in session.execute(stmt.execution_options(yield_per=_BATCH)):
        yield row[0], row[1]


def _seal_content(row: AuditSeal) -> bytes:
    return _canonical({"event_count": row.event_count, "events_digest": row.events_digest.hex(),
                       "first_event_id": row.first_event_id, "last_event_id": row.last_event_id,
                       "sealed_at": _stamp(row.sealed_at)})


@dataclass(frozen=True)
class SealView:
    """A seal as callers see it: its id, when, which events, and its hash in hex."""

    id: int
    sealed_at: datetime
    first_event_id: int
    last_event_id: int
    event_count: int
    seal_hash: str


def _view(row: AuditSeal) -> SealView:
    return SealView(row.id, row.sealed_at, row.first_event_id, row.last_event_id, row.event_count,
                    row.seal_hash.hex())


def seal(session: Session, *, now: datetime) -> SealView | None:
    """Seal every event written since the last seal; None when there is none. Flushes; never commits.

    On PostgreSQL first takes ``LOCK TABLE audit_event IN SHARE MODE`` (waits for
    transactions still inserting events, blocks new inserts until this
    transaction ends), so no event with a lower id can appear after the seal.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(0x41_6C_75_72)))  # one sealer at a time
        session.connection().exec_driver_sql("LOCK TABLE audit_event IN SHARE MODE")
    previous = session.scalars(select(AuditSeal).order_by(AuditSeal.id.desc()).limit(1)).first()
    after = previous.last_event_id if previous is not None else 0
    last = session.scalar(select(func.max(AuditEvent.id)).where(AuditEvent.id > after))
    if last is None:
        return None
    digest, count = _digest(_range_rows(session, after + 1, last))
    row = AuditSeal(sealed_at=now, first_event_id=after + 1, last_event_id=last, event_count=count,
                    events_digest=digest, seal_hash=b"")
    row.seal_hash = event_hash(previous.seal_hash if previous is not None else GENESIS, _seal_content(row))
    session.add(row)
    session.flush()
    return _view(row)


def seals(session: Session, *, limit: int | None = None) -> list[SealView]:
    """The seals, newest first (at most ``limit``)."""
    stmt = select(AuditSeal).order_by(AuditSeal.id.desc())
    if limit is not None:
        stmt = stmt.limit(limit)
    return [_view(r) for r in session.scalars(stmt)]


def verify_seals(session: Session) -> Break | None:
    """Recompute every seal in order: its link to the previous seal and its events' digest.

    Returns None when all hold, else the first :class:`Break` (a seal whose
    hash, range or events no longer match).
    """
    previous = GENESIS
    expected_first = 1
    for row in session.scalars(select(AuditSeal).order_by(AuditSeal.id)):
        if event_hash(previous, _seal_content(row)) != row.seal_hash:
            return Break(None, None, row.id, "segel tidak cocok dengan hash-nya atau segel sebelumnya")
        if row.first_event_id != expected_first:
            return Break(None, None, row.id, f"segel dimulai dari kejadian {row.first_event_id}, "
                                             f"seharusnya {expected_first}: segel hilang")
        digest, count = _digest(_range_rows(session, row.first_event_id, row.last_event_id))
        if count != row.event_count or digest != row.events_digest:
            return Break(None, None, row.id,
                         f"kejadian {row.first_event_id}–{row.last_event_id} berubah: {row.event_count} "
                         f"disegel, kini {count} (dihapus, disisipkan atau diubah)")
        previous, expected_first = row.seal_hash, row.last_event_id + 1
    return None
