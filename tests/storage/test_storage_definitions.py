"""Process definitions: versions, lookup by SHA-256 (storage.definitions)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from storage import definitions
from storage.errors import ConflictError, ProcessNotFound
from storage.models import ProcessDefinition


def _add(session: Session, process_id: str, sha: str) -> ProcessDefinition:
    return definitions.add(
        session,
        process_id=process_id,
        name=f"SOP {process_id}",
        unit_kind="kecamatan",
        sha256=sha,
        filename=f"{process_id}.bpmn",
        bpmn_xml=f"<xml sha='{sha}'/>",
        spec_json='{"spec": 1}',
        meta_json='{"source": "written"}',
    )


def test_versions_count_up_per_process(session: Session) -> None:
    first = _add(session, "sop_b", "a" * 64)
    second = _add(session, "sop_b", "b" * 64)
    other = _add(session, "sop_a", "a" * 64)
    assert (first.version, second.version, other.version) == (1, 2, 1)
    assert [d.version for d in definitions.list_versions(session, "sop_b")] == [1, 2]


def test_find_by_sha_and_latest(session: Session) -> None:
    first = _add(session, "sop_b", "a" * 64)
    second = _add(session, "sop_b", "b" * 64)
    assert definitions.find_by_sha(session, "sop_b", "a" * 64) is first
    assert definitions.find_by_sha(session, "sop_c", "a" * 64) is None
    assert definitions.latest(session, "sop_b") is second
    assert definitions.latest(session, "sop_tidak_ada") is None


def test_get_loads_everything(session: Session) -> None:
    definition_id = _add(session, "sop_b", "a" * 64).id
    session.expunge_all()
    definition = definitions.get(session, definition_id)
    session.expunge(definition)  # detached: deferred columns must already be loaded
    assert definition.bpmn_xml == "<xml sha='" + "a" * 64 + "'/>"
    assert definition.spec_json == '{"spec": 1}'
    with pytest.raises(ProcessNotFound):
        definitions.get(session, 10**9)


def test_list_latest_one_per_process_ordered(session: Session) -> None:
    _add(session, "sop_b", "a" * 64)
    _add(session, "sop_b", "b" * 64)
    _add(session, "sop_a", "c" * 64)
    latest = definitions.list_latest(session)
    assert [(d.process_id, d.version) for d in latest] == [("sop_a", 1), ("sop_b", 2)]


def test_same_file_twice_is_a_conflict_and_session_survives(session: Session) -> None:
    _add(session, "sop_b", "a" * 64)
    with pytest.raises(ConflictError):
        _add(session, "sop_b", "a" * 64)
    assert _add(session, "sop_b", "b" * 64).version == 2


def test_sha_of_and_latest_id(session: Session) -> None:
    first = _add(session, "sop_b", "a" * 64)
    second = _add(session, "sop_b", "b" * 64)
    assert definitions.sha_of(session, first.id) == "a" * 64
    assert definitions.latest_id(session, "sop_b") == second.id
    assert definitions.latest_id(session, "sop_tidak_ada") is None
    with pytest.raises(ProcessNotFound):
        definitions.sha_of(session, 10**9)
