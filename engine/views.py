"""Read-only views the engine hands to its callers (command line, web).

Callers never see SpiffWorkflow objects or ORM rows; these frozen dataclasses
are the engine's public shapes. Times are timezone-aware UTC datetimes.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass
from datetime import datetime
from typing import Any

__all__ = ["HistoryEntry", "InstanceView", "JsonView", "TaskView"]


def _jsonable(value: Any) -> Any:
    """``value`` as JSON types: views and other dataclasses as dicts (field by field, like ``asdict`` without
    its deep copies), datetimes as ISO 8601 strings, tuples as lists."""
    if isinstance(value, datetime):
        return value.isoformat()
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


class JsonView:
    """Base of the engine's frozen view dataclasses: ``to_json`` for the CLI and the API."""

    def to_json(self) -> dict[str, Any]:
        """A JSON-serializable dict (datetimes as ISO 8601 strings)."""
        return _jsonable(self)


@dataclass(frozen=True)
class TaskView(JsonView):
    """A user task as an inbox shows it. ``due_at`` comes from the step's Waktu."""

    id: str
    instance_id: int
    instance_title: str
    unit_code: str
    process_id: str
    process_name: str
    step_id: str
    step_name: str
    lane: str
    state: str
    iteration: int
    is_review: bool
    forms_team: str | None
    ready_at: datetime
    due_at: datetime | None
    waktu: str | None
    completed_at: datetime | None = None
    completed_by: str | None = None
    claimed_by: str | None = None  # username of who claimed it (a shared lane, engine.claims)
    claimed_by_name: str | None = None
    claimed_at: datetime | None = None


@dataclass(frozen=True)
class InstanceView(JsonView):
    """A process instance: one run of an SOP in a unit."""

    id: int
    title: str
    process_id: str
    process_name: str
    version: int
    unit_code: str
    status: str
    started_at: datetime
    completed_at: datetime | None
    ready_tasks: tuple[TaskView, ...]


@dataclass(frozen=True)
class HistoryEntry(JsonView):
    """One audit event, as auditors replay it.

    For ``task_completed``: ``waktu`` is the step's standard time (ISO 8601),
    ``working_minutes`` the working time from ready to completed on the unit's
    calendar, and ``on_time`` whether it was completed by its due time (None
    when the step has no Waktu). ``task_id`` is the user task the event concerns.
    """

    id: int
    occurred_at: datetime
    kind: str
    actor: str | None
    process_id: str | None
    step_id: str | None
    step_name: str | None
    keputusan: str | None
    catatan: str | None
    data: dict[str, Any]
    waktu: str | None = None
    working_minutes: int | None = None
    on_time: bool | None = None
    task_id: str | None = None
