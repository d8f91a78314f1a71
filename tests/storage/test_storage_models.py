"""Models: UTCDateTime and the JSON helpers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from storage import history
from storage.models import AuditEvent, ProcessDefinition, UTCDateTime, utcnow

WIT = ZoneInfo("Asia/Jayapura")


def test_utcnow_is_aware_utc() -> None:
    assert utcnow().utcoffset() == timedelta(0)


def test_utc_datetime_round_trip_is_aware_utc(demo_session: Session, new_instance) -> None:
    instance = new_instance(demo_session)
    local = datetime(2025, 3, 14, 7, 30, 15, 123456, tzinfo=WIT)
    event = history.append(
        demo_session, instance_id=instance.id, kind="instance_started", occurred_at=local
    )
    demo_session.expire_all()
    stored = demo_session.scalar(select(AuditEvent.occurred_at).where(AuditEvent.id == event.id))
    assert stored == local
    assert stored.tzinfo is UTC
    assert stored == datetime(2025, 3, 13, 22, 30, 15, 123456, tzinfo=UTC)


def test_stored_value_is_utc(demo_session: Session, new_instance, backend: str) -> None:
    instance = new_instance(demo_session)
    local = datetime(2025, 3, 14, 7, 30, tzinfo=WIT)
    event = history.append(
        demo_session, instance_id=instance.id, kind="instance_started", occurred_at=local
    )
    raw = demo_session.execute(
        text("SELECT occurred_at FROM audit_event WHERE id = :id"), {"id": event.id}
    ).scalar()
    if backend == "sqlite":  # text without zone, in UTC
        assert raw.startswith("2025-03-13 22:30:00")
    else:  # timestamptz
        assert raw == local


def test_naive_datetime_is_refused(demo_session: Session, new_instance) -> None:
    instance = new_instance(demo_session)
    with pytest.raises(StatementError) as caught:
        history.append(
            demo_session,
            instance_id=instance.id,
            kind="instance_started",
            occurred_at=datetime(2025, 3, 14, 7, 30),
        )
    assert isinstance(caught.value.orig, ValueError)


def test_process_bind_param_rejects_naive_directly() -> None:
    with pytest.raises(ValueError, match="naive"):
        UTCDateTime().process_bind_param(datetime(2025, 1, 1), dialect=sqlite.dialect())


def test_defaults_are_callables_giving_aware_times(demo_session: Session, new_instance) -> None:
    before = utcnow()
    instance = new_instance(demo_session)
    demo_session.expire_all()
    definition = demo_session.get(ProcessDefinition, instance.definition_id)
    assert definition is not None
    assert definition.deployed_at.tzinfo is UTC
    assert before - timedelta(seconds=5) <= definition.deployed_at <= utcnow()


def test_json_helpers(demo_session: Session, new_instance) -> None:
    instance = new_instance(demo_session)
    assert instance.input_data == {"tahun": 2025}
    assert instance.called_definitions == {}
