"""The append-only audit trail (storage.history and the audit_event triggers)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from storage import history, org
from storage.models import AuditEvent

T0 = datetime(2025, 5, 5, 1, 0, tzinfo=UTC)


def test_append_and_read_in_order(demo_session: Session, new_instance) -> None:
    instance = new_instance(demo_session)
    camat = org.get_user_by_username(demo_session, "camat.contoh").id
    started = history.append(demo_session, instance_id=instance.id, kind="instance_started",
                             occurred_at=T0, actor_id=camat, process_id="sop_uji")
    decided = history.append(
        demo_session, instance_id=instance.id, kind="task_completed",
        occurred_at=T0 - timedelta(minutes=1),  # order is by id, not by clock
        actor_id=camat, element_id="Step_03", keputusan="tidak", catatan="Lengkapi data IKU",
        data={"z": 1, "a": "é"},
    )
    other = new_instance(demo_session)
    history.append(demo_session, instance_id=other.id, kind="instance_started", occurred_at=T0)
    assert history.for_instance(demo_session, instance.id) == [started, decided]
    assert decided.data_json == '{"a": "é", "z": 1}'
    assert decided.data == {"a": "é", "z": 1}
    assert started.data == {}
    assert (decided.keputusan, decided.catatan) == ("tidak", "Lengkapi data IKU")


def test_unknown_kind_is_refused(demo_session: Session, new_instance) -> None:
    instance = new_instance(demo_session)
    with pytest.raises(ValueError, match="kind"):
        history.append(demo_session, instance_id=instance.id, kind="oops", occurred_at=T0)


@pytest.mark.parametrize(
    "statement",
    [
        update(AuditEvent).values(catatan="diubah").execution_options(synchronize_session=False),
        delete(AuditEvent).execution_options(synchronize_session=False),
        text("UPDATE audit_event SET kind = 'task_ready'"),
        text("DELETE FROM audit_event"),
    ],
    ids=["orm-update", "orm-delete", "sql-update", "sql-delete"],
)
def test_audit_event_is_append_only(demo_session: Session, new_instance, statement) -> None:
    instance = new_instance(demo_session)
    event = history.append(demo_session, instance_id=instance.id, kind="instance_started",
                           occurred_at=T0, catatan="asli")
    with pytest.raises(DBAPIError, match="append-only"):
        with demo_session.begin_nested():
            demo_session.execute(statement)
    demo_session.expire_all()
    assert [(e.id, e.catatan) for e in history.for_instance(demo_session, instance.id)] == [
        (event.id, "asli")
    ]


def test_audit_event_cannot_be_truncated_on_postgresql(
    demo_session: Session, new_instance, backend: str
) -> None:
    if backend != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL only")
    history.append(demo_session, instance_id=new_instance(demo_session).id,
                   kind="instance_started", occurred_at=T0)
    with pytest.raises(DBAPIError, match="append-only"):
        with demo_session.begin_nested():
            demo_session.execute(text("TRUNCATE audit_event CASCADE"))
