"""Process instances and the optimistic lock (storage.instances)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from storage import instances
from storage.db import make_session_factory
from storage.errors import InstanceNotFound, StaleInstanceError
from storage.models import ProcessInstance

DONE_AT = datetime(2025, 5, 2, 9, 0, tzinfo=UTC)


def test_create_starts_running_at_version_one(demo_session: Session, new_instance) -> None:
    instance = new_instance(demo_session)
    assert (instance.status, instance.lock_version) == ("running", 1)
    assert instance.started_at.tzinfo is UTC
    assert instance.completed_at is None
    assert json.loads(instance.input_json) == {"tahun": 2025}


def test_create_stores_pinned_called_definitions(demo_session: Session, new_instance) -> None:
    template = new_instance(demo_session)
    instance = instances.create(
        demo_session,
        definition_id=template.definition_id,
        unit_id=template.unit_id,
        title="Dengan call activity",
        started_by_id=template.started_by_id,
        state_json="{}",
        serializer_version="1.0",
        called_definitions={"sop_surat_masuk": 4, "sop_fgd": 2},
        input_data={"catatan": "ringkas"},
    )
    assert instance.called_definitions_json == '{"sop_fgd": 2, "sop_surat_masuk": 4}'
    assert instance.called_definitions == {"sop_fgd": 2, "sop_surat_masuk": 4}


def test_get_loads_state_even_when_detached(demo_session: Session, new_instance) -> None:
    instance_id = new_instance(demo_session).id
    demo_session.expunge_all()
    instance = instances.get(demo_session, instance_id)
    demo_session.expunge(instance)
    assert instance.state_json == '{"state": "awal"}'
    with pytest.raises(InstanceNotFound):
        instances.get(demo_session, 10**9)


def _save(
    session: Session,
    instance_id: int,
    version: int,
    state: str = "{}",
    status: str = "running",
    completed_at: datetime | None = None,
) -> int:
    return instances.save_state(
        session, instance_id, expected_version=version, state_json=state,
        status=status, completed_at=completed_at,
    )


def test_save_state_bumps_the_version(demo_session: Session, new_instance) -> None:
    instance = new_instance(demo_session)
    assert _save(demo_session, instance.id, 1, '{"s": 2}') == 2
    assert _save(demo_session, instance.id, 2, '{"s": 3}', "completed", DONE_AT) == 3
    # the loaded object follows, and so does the database
    loaded = (instance.lock_version, instance.status, instance.completed_at)
    assert loaded == (3, "completed", DONE_AT)
    columns = (
        ProcessInstance.lock_version, ProcessInstance.state_json, ProcessInstance.completed_at
    )
    row = demo_session.execute(select(*columns).where(ProcessInstance.id == instance.id)).one()
    assert tuple(row) == (3, '{"s": 3}', DONE_AT)


def test_save_state_with_stale_version_raises(demo_session: Session, new_instance) -> None:
    instance = new_instance(demo_session)
    _save(demo_session, instance.id, 1)
    with pytest.raises(StaleInstanceError) as caught:
        _save(demo_session, instance.id, 1, '{"lost": 1}')
    assert caught.value.expected_version == 1
    demo_session.expire_all()
    assert instances.get(demo_session, instance.id).state_json == "{}"


def test_save_state_of_missing_instance(session: Session) -> None:
    with pytest.raises(InstanceNotFound):
        _save(session, 10**9, 1)


def test_save_state_refuses_unknown_status(demo_session: Session, new_instance) -> None:
    instance = new_instance(demo_session)
    with pytest.raises(ValueError):
        _save(demo_session, instance.id, 1, status="done")


def test_list_instances_filters(demo_session: Session, new_instance) -> None:
    first = new_instance(demo_session)
    second = new_instance(demo_session, unit_code="dinas-kominfo")
    _save(demo_session, first.id, 1, status="completed", completed_at=DONE_AT)

    def ids(**filters) -> list[int]:
        return [i.id for i in instances.list_instances(demo_session, **filters)]

    assert sorted(ids()) == sorted([first.id, second.id])
    assert ids(unit_id=second.unit_id) == [second.id]
    assert ids(status="completed") == [first.id]
    assert ids(unit_id=second.unit_id, status="completed") == []


def test_concurrent_save_state_one_wins(isolated_engine: Engine, new_instance, race) -> None:
    factory = make_session_factory(isolated_engine)
    with factory.begin() as session:
        instance_id = new_instance(session).id

    def read(session: Session) -> None:
        assert instances.get(session, instance_id).lock_version == 1

    def write(session: Session) -> None:
        _save(session, instance_id, 1, '{"w": 1}')

    assert race(factory, read, write) == ["StaleInstanceError", "committed"]
    with factory() as session:
        assert instances.get(session, instance_id).lock_version == 2
