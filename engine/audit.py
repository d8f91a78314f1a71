"""The auditors' room: search, the grouped history, proof of an untouched history, the read log.

- :func:`search` / :func:`export_rows`: instances in the user's reach
  (``engine.visibility``) by SOP, unit, period, status, late steps, rework,
  participant and title; keyset pages (``storage.search``).
- :func:`step_runs`: the history grouped as one row per step and iteration.
- :func:`verify` / :func:`seal`: the hash chain of ``storage.chain`` ("utuh" or
  the first broken link).
- :func:`record_read` / :func:`read_log`: each thing an auditor opens, for
  administrators.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import visibility
from engine.calendar import unit_calendar
from engine.catalog import get_definition
from engine.designations import label as designation_label
from engine.documents import DocumentView, documents_of
from engine.views import JsonView
from storage import access_log, chain, history, instances, org, tasks
from storage import grants as grant_store
from storage import search as finder
from storage.errors import InvalidTaskDataError, UnitNotFound, UserNotFound
from storage.models import AuditEvent, User

__all__ = [
    "SearchPage", "StepRun", "Verdict", "acting_label", "export_rows", "filter_ids", "read_log", "record_read",
    "search", "seal", "seals", "step_runs", "verify",
]


@dataclass(frozen=True)
class SearchPage:
    """One page of a search: the rows, ``flags[id] = (late steps, "tidak" answers)``, the next cursor."""

    rows: list[finder.Found]
    flags: dict[int, tuple[int, int]]
    next_cursor: str | None


def search(session: Session, username: str, criteria: finder.Criteria, *, after: str | None = None,
           limit: int = 50) -> SearchPage:
    """A page of the instances ``username`` may read that match ``criteria``.

    ``limit`` is 1..500. Raises ``UserNotFound``, ``InvalidTaskDataError``
    (bad sort, cursor or limit).
    """
    if not 1 <= limit <= 500:
        raise InvalidTaskDataError("Jumlah baris per halaman 1–500 / page size 1-500")
    visible = visibility.visible_instances_filter(session, username)
    found, cursor = finder.page(session, criteria, visible, after=after, limit=limit)
    return SearchPage(found, {f.id: (f.late_steps, f.tidak) for f in found}, cursor)


def filter_ids(session: Session, *, unit_code: str | None, username: str | None) -> tuple[int | None, int | None]:
    """Ids of a search's unit (by code) and participant (by username, or by a part of the full name that fits
    exactly one person: auditors know people by name, issue 11).

    Raises ``InvalidTaskDataError`` for an unknown unit or user, or a name part
    that fits several people (naming up to five of them), since it is a search
    filter: a user error rather than a missing page.
    """
    try:
        unit_id = org.get_unit_by_code(session, unit_code).id if unit_code else None
    except UnitNotFound as exc:
        raise InvalidTaskDataError(f"Unit {unit_code} tidak dikenal / unknown unit") from exc
    return unit_id, _participant_id(session, username) if username else None


def _participant_id(session: Session, text: str) -> int:
    try:
        return org.get_user_by_username(session, text).id
    except UserNotFound:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        found = list(session.execute(select(User.id, User.full_name).where(User.full_name.ilike(pattern, escape="\\"))
                                     .order_by(User.full_name).limit(6)))
    if len(found) == 1:
        return int(found[0].id)
    if not found:
        raise InvalidTaskDataError(f"Pegawai {text} tidak dikenal / unknown user")
    names = ", ".join(row.full_name for row in found[:5])
    raise InvalidTaskDataError(f"Lebih dari satu pegawai cocok dengan \u201c{text}\u201d ({names}): tulis lebih lengkap"
                               " / several people match")


def export_rows(session: Session, username: str, criteria: finder.Criteria, *,
                limit: int = 100_000) -> Iterator[tuple[finder.Found, tuple[int, int]]]:
    """Every match (at most ``limit``) with its (late steps, "tidak" answers), a thousand a query: for exports."""
    visible = visibility.visible_instances_filter(session, username)
    for found in finder.rows(session, criteria, visible, limit=limit):
        yield found, (found.late_steps, found.tidak)


@dataclass(frozen=True)
class StepRun(JsonView):
    """One step in one iteration: when it became ready, who completed it when, against its Waktu.

    ``iteration`` of ``iterations`` (the nth time this step was ready in the
    instance); ``working_minutes`` on the unit's calendar; ``on_time`` None
    without a Waktu or while open; ``completed_by`` a full name; ``acting_as``
    "Plh Camat" when it was completed under a Plh/Plt designation (``engine.designations``).
    """

    task_id: str
    process_id: str
    process_name: str
    step_id: str
    step_name: str
    lane: str
    iteration: int
    iterations: int
    state: str
    ready_at: datetime
    due_at: datetime | None
    completed_at: datetime | None
    completed_by: str | None
    completed_by_username: str | None
    waktu: str | None
    working_minutes: int | None
    on_time: bool | None
    keputusan: str | None
    catatan: str | None
    documents: tuple[DocumentView, ...] = field(default=())
    acting_as: str | None = None


def acting_label(data: dict[str, Any]) -> str | None:
    """``"Plh Camat"`` from a ``task_completed`` event's data recorded under a designation, else None."""
    selaku = data.get("selaku")
    if not isinstance(selaku, dict):
        return None
    return designation_label(str(selaku.get("kind")), str(selaku.get("role", "")))


def step_runs(session: Session, instance_id: int) -> list[StepRun]:
    """The history grouped: one :class:`StepRun` per human task, in the order they became ready.

    Raises ``InstanceNotFound``.
    """
    row = instances.get(session, instance_id)
    unit = org.get_unit(session, row.unit_id)
    calendar = unit_calendar(session, unit)
    humans = tasks.tasks_of_instance(session, instance_id)
    decided = {e.human_task_id: e for e in history.for_instance(session, instance_id) if e.kind == "task_completed"}
    docs: dict[str, list[DocumentView]] = {}
    for document in documents_of(session, instance_id):
        docs.setdefault(document.task_id, []).append(document)
    totals: dict[tuple[str, str], int] = {}
    for h in humans:
        totals[(h.process_id, h.element_id)] = max(totals.get((h.process_id, h.element_id), 0), h.iteration)
    users: dict[int, tuple[str, str]] = {}
    names: dict[int, str] = {}
    runs = []
    for h in humans:
        if h.completed_by_id is not None and h.completed_by_id not in users:
            user = org.get_user(session, h.completed_by_id)
            users[h.completed_by_id] = (user.username, user.full_name)
        if h.definition_id not in names:
            names[h.definition_id] = get_definition(session, h.definition_id).name
        done = h.state == "completed" and h.completed_at is not None
        minutes = h.working_minutes
        if done and minutes is None and h.completed_at is not None:
            minutes = max(0, calendar.working_minutes_between(h.ready_at, h.completed_at))
        event = decided.get(h.id)
        who = users.get(h.completed_by_id) if h.completed_by_id is not None else None
        runs.append(StepRun(
            task_id=h.id, process_id=h.process_id, process_name=names[h.definition_id], step_id=h.element_id,
            step_name=h.name, lane=h.lane_name, iteration=h.iteration,
            iterations=totals[(h.process_id, h.element_id)], state=h.state, ready_at=h.ready_at, due_at=h.due_at,
            completed_at=h.completed_at, completed_by=who[1] if who else None,
            completed_by_username=who[0] if who else None, waktu=h.waktu, working_minutes=minutes,
            on_time=(h.completed_at <= h.due_at) if done and h.due_at is not None and h.completed_at else None,
            keputusan=event.keputusan if event else None, catatan=event.catatan if event else None,
            documents=tuple(docs.get(h.id, ())), acting_as=acting_label(event.data) if event else None,
        ))
    return runs


@dataclass(frozen=True)
class Verdict(JsonView):
    """The answer of a verification: ``intact`` ("utuh") or the first ``broken`` link.

    ``checked_instances`` and ``checked_seals`` say how much was recomputed;
    ``broken`` is ``{"instance_id", "event_id", "seal_id", "reason"}`` or None.
    """

    intact: bool
    checked_instances: int
    checked_seals: int
    broken: dict[str, object] | None
    latest_seal: dict[str, object] | None

    @property
    def text(self) -> str:
        """"utuh", or where the chain breaks and why, in Bahasa Indonesia."""
        if self.broken is None:
            return "utuh"
        b = self.broken
        where = (f"kejadian {b['event_id']} (instans {b['instance_id']})" if b["event_id"] is not None
                 else f"segel {b['seal_id']}")
        return f"rusak pada {where}: {b['reason']}"


def _seal_json(view: chain.SealView | None) -> dict[str, object] | None:
    if view is None:
        return None
    return {"id": view.id, "sealed_at": view.sealed_at.isoformat(), "first_event_id": view.first_event_id,
            "last_event_id": view.last_event_id, "event_count": view.event_count, "seal_hash": view.seal_hash}


def verify(session: Session, instance_id: int | None = None) -> Verdict:
    """Recompute the chain of one instance (``instance_id``) or of every instance and every seal.

    Raises ``InstanceNotFound`` for an unknown ``instance_id``.
    """
    latest = next(iter(chain.seals(session, limit=1)), None)
    if instance_id is not None:
        instances.unit_of(session, instance_id)
        broken = chain.verify_instance(session, instance_id)
        return Verdict(broken is None, 1, 0, broken.__dict__ if broken else None, _seal_json(latest))
    broken = chain.verify_seals(session)
    checked_seals = len(chain.seals(session))
    ids = list(session.scalars(select(AuditEvent.instance_id).distinct().order_by(AuditEvent.instance_id)))
    checked = 0
    for each in ids:
        if broken is not None:
            break
        broken = chain.verify_instance(session, each)
        checked += 1
    return Verdict(broken is None, checked, checked_seals, broken.__dict__ if broken else None, _seal_json(latest))


def seal(session: Session, *, now: datetime | None = None) -> dict[str, object] | None:
    """Seal every event written since the last seal; the new seal as JSON, None when nothing was new."""
    return _seal_json(chain.seal(session, now=now or datetime.now(UTC)))


def seals(session: Session, *, limit: int = 20) -> list[dict[str, object]]:
    """The latest seals, newest first, as JSON-ready dicts."""
    return [s for s in (_seal_json(v) for v in chain.seals(session, limit=limit)) if s is not None]


def record_read(session: Session, username: str, what: str, key: object, *, instance_id: int | None = None,
                now: datetime | None = None) -> bool:
    """Record that ``username`` opened ``what`` ``key`` if they read it as an auditor; True when recorded.

    An auditor reads as one when an ``auditor`` grant covers the instance's unit
    (or, without an instance, when they hold any auditor grant: a search, a
    report). Raises ``UserNotFound``.
    """
    user = org.get_user_by_username(session, username)
    if not any(kind == "auditor" for kind, _unit in grant_store.grants_of(session, user.id)):
        return False  # no auditor grant: most readers, known from one query without their whole reach
    reach = visibility.reach_of(session, username)
    if reach.audited is not None and not reach.audited:
        return False
    if instance_id is not None and not visibility.audits_unit(reach, instances.unit_of(session, instance_id)):
        return False
    access_log.record(session, user_id=reach.user_id, what=what, key=str(key), instance_id=instance_id,
                      at=now or datetime.now(UTC))
    return True


def read_log(session: Session, *, username: str | None = None, before_id: int | None = None,
             limit: int = 100) -> list[access_log.Opened]:
    """What auditors opened, newest first (of one user). Raises ``UserNotFound``."""
    user_id = org.get_user_by_username(session, username).id if username else None
    return access_log.entries(session, user_id=user_id, before_id=before_id, limit=limit)
