"""Documents (storage.documents): versions per element, SHA-256, append-only rows."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, inspect, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from storage import documents, history, org, tasks
from storage.errors import ConflictError, NotFoundError
from storage.models import Document, HumanTask, ProcessInstance

T0 = datetime(2025, 5, 5, 1, 0, tzinfo=UTC)
PDF = b"%PDF-1.7\n" + bytes(range(256)) + b"\n%%EOF\n"  # every byte value survives the round trip


def _completed_task(session: Session, instance: ProcessInstance, element_id: str = "Step_03",
                    process_id: str = "sop_uji") -> HumanTask:
    staf = org.get_user_by_username(session, "staf1.kecamatan").id
    task = tasks.add_ready(
        session, id=str(uuid.uuid4()), instance_id=instance.id, definition_id=instance.definition_id,
        process_id=process_id, element_id=element_id, name=f"Kegiatan {element_id}", lane_name="Staf",
        role_id=org.resolve_role(session, instance.unit_id, "Staf").id, team_id=None,
        unit_id=instance.unit_id, ready_at=T0, due_at=None, waktu=None, is_review=False)
    tasks.mark_completed(session, task.id, user_id=staf, completed_at=T0 + timedelta(hours=1))
    return task


def _add(session: Session, task: HumanTask, content: bytes = PDF, filename: str = "laporan.pdf") -> Document:
    return documents.add(
        session, instance_id=task.instance_id, human_task_id=task.id, process_id=task.process_id,
        element_id=task.element_id, filename=filename, content_type="application/pdf", content=content,
        uploaded_by_id=task.completed_by_id, uploaded_at=T0 + timedelta(hours=1))


def test_sha256_and_size_are_computed_from_the_content(demo_session: Session, new_instance) -> None:
    task = _completed_task(demo_session, new_instance(demo_session))
    stored = _add(demo_session, task)
    assert stored.sha256 == hashlib.sha256(PDF).hexdigest()
    assert stored.size_bytes == len(PDF)
    assert (stored.version, stored.filename, stored.content_type) == (1, "laporan.pdf", "application/pdf")
    demo_session.expire_all()
    assert documents.get(demo_session, stored.id, with_content=True).content == PDF
    assert documents.for_task(demo_session, task.id).id == stored.id
    assert documents.for_task(demo_session, str(uuid.uuid4())) is None


def test_versions_count_per_element_per_instance(demo_session: Session, new_instance) -> None:
    instance = new_instance(demo_session)
    other_instance = new_instance(demo_session)
    first = _add(demo_session, _completed_task(demo_session, instance))
    other_step = _add(demo_session, _completed_task(demo_session, instance, "Step_05"))
    same_id_called_sop = _add(demo_session, _completed_task(demo_session, instance, process_id="sop_lain"))
    redone = _add(demo_session, _completed_task(demo_session, instance), content=PDF + b"v2")
    elsewhere = _add(demo_session, _completed_task(demo_session, other_instance))
    assert [first.version, redone.version] == [1, 2]
    assert other_step.version == same_id_called_sop.version == elsewhere.version == 1
    assert first.sha256 != redone.sha256
    listed = documents.for_instance(demo_session, instance.id)
    assert [d.id for d in listed] == [first.id, other_step.id, same_id_called_sop.id, redone.id]
    demo_session.expire_all()
    assert all("content" in inspect(d).unloaded for d in documents.for_instance(demo_session, instance.id))


def test_one_document_per_completion(demo_session: Session, new_instance) -> None:
    task = _completed_task(demo_session, new_instance(demo_session))
    kept = _add(demo_session, task)
    with pytest.raises(ConflictError, match="sudah tersimpan"):
        _add(demo_session, task, content=b"%PDF-1.7 lagi")
    assert [d.id for d in documents.for_instance(demo_session, task.instance_id)] == [kept.id]


def test_unknown_document(demo_session: Session) -> None:
    with pytest.raises(NotFoundError, match="Dokumen 404"):
        documents.get(demo_session, 404)


def test_document_attached_is_an_audit_kind(demo_session: Session, new_instance) -> None:
    task = _completed_task(demo_session, new_instance(demo_session))
    stored = _add(demo_session, task)
    event = history.append(demo_session, instance_id=task.instance_id, kind="document_attached", occurred_at=T0,
                           actor_id=task.completed_by_id, human_task_id=task.id,
                           data={"document_id": stored.id, "sha256": stored.sha256})
    assert event.data["sha256"] == stored.sha256


@pytest.mark.parametrize(
    "statement",
    [
        update(Document).values(filename="lain.pdf").execution_options(synchronize_session=False),
        update(Document).values(content=b"%PDF-palsu").execution_options(synchronize_session=False),
        delete(Document).execution_options(synchronize_session=False),
        text("UPDATE document SET sha256 = 'x'"),
        text("DELETE FROM document"),
    ],
    ids=["orm-update-name", "orm-update-content", "orm-delete", "sql-update", "sql-delete"],
)
def test_documents_are_append_only(demo_session: Session, new_instance, statement) -> None:
    stored = _add(demo_session, _completed_task(demo_session, new_instance(demo_session)))
    with pytest.raises(DBAPIError, match="append-only"):
        with demo_session.begin_nested():
            demo_session.execute(statement)
    demo_session.expire_all()
    again = documents.get(demo_session, stored.id, with_content=True)
    assert (again.filename, again.sha256, again.content) == ("laporan.pdf", hashlib.sha256(PDF).hexdigest(), PDF)


def test_documents_cannot_be_truncated_on_postgresql(demo_session: Session, new_instance, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL only")
    _add(demo_session, _completed_task(demo_session, new_instance(demo_session)))
    with pytest.raises(DBAPIError, match="append-only"):
        with demo_session.begin_nested():
            demo_session.execute(text("TRUNCATE document"))
