"""The hash chain over audit events and the seals (storage.chain).

A database administrator can lift the append-only triggers; each test does so
inside the test's own transaction (rolled back afterwards), then edits, deletes,
reorders or inserts rows directly in SQL, and verification must name the first
broken link. Runs on SQLite and, with ALUR_TEST_POSTGRES_URL, on PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from storage import chain, history, org
from storage.models import AuditEvent, AuditSeal

T0 = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)


def _lift_triggers(session: Session, backend: str) -> None:
    """What a DBA could do: switch the append-only triggers off (inside this transaction)."""
    if backend == "sqlite":
        for name in ("audit_event_no_update", "audit_event_no_delete", "audit_seal_no_update",
                     "audit_seal_no_delete"):
            session.execute(text(f"DROP TRIGGER {name}"))
    else:
        session.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_change"))
        session.execute(text("ALTER TABLE audit_seal DISABLE TRIGGER audit_seal_no_change"))


def _history(session: Session, instance_id: int, actor: int, steps: range) -> list[AuditEvent]:
    events = []
    if 0 in steps:
        events.append(history.append(session, instance_id=instance_id, kind="instance_started", occurred_at=T0,
                                     actor_id=actor, process_id="sop_uji", data={"title": "Uji"}))
    for i in steps:
        if i == 0:
            continue
        events.append(history.append(
            session, instance_id=instance_id, kind="task_completed", occurred_at=T0 + timedelta(hours=i),
            actor_id=actor, element_id=f"Step_{i}", process_id="sop_uji",
            keputusan="tidak" if i == 2 else None, catatan="Lengkapi tabel" if i == 2 else None,
            data={"iteration": 1, "nama": "Überprüfung é"}))
    return events


@pytest.fixture
def scene(demo_session: Session, new_instance) -> tuple[Session, int, list[AuditEvent], list[AuditEvent]]:
    """Two instances whose events interleave by id."""
    actor = org.get_user_by_username(demo_session, "camat.contoh").id
    first, second = new_instance(demo_session), new_instance(demo_session)
    mine = _history(demo_session, first.id, actor, range(0, 2))
    others = _history(demo_session, second.id, actor, range(0, 1))
    mine += _history(demo_session, first.id, actor, range(2, 4))
    others += _history(demo_session, second.id, actor, range(1, 2))
    return demo_session, first.id, mine, others


def test_hash_follows_the_documented_canonical_json(demo_session: Session, new_instance) -> None:
    instance = new_instance(demo_session)
    first = history.append(demo_session, instance_id=instance.id, kind="instance_started", occurred_at=T0,
                           data={"b": 1, "a": "é"})
    second = history.append(demo_session, instance_id=instance.id, kind="task_completed",
                            occurred_at=T0 + timedelta(microseconds=7), keputusan="setuju", catatan="Baik")
    canonical = json.dumps({
        "actor_id": None, "catatan": None, "data_json": '{"a": "é", "b": 1}', "element_id": None,
        "human_task_id": None, "instance_id": instance.id, "keputusan": None, "kind": "instance_started",
        "occurred_at": "2026-03-02T01:30:00.000000Z", "process_id": None,
    }, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert first.chain_hash == hashlib.sha256(bytes(32) + canonical).digest()
    assert len(second.chain_hash or b"") == 32
    assert b'"occurred_at":"2026-03-02T01:30:00.000007Z"' in chain.canonical_event(
        instance_id=instance.id, occurred_at=second.occurred_at, kind=second.kind, actor_id=None,
        human_task_id=None, element_id=None, process_id=None, keputusan="setuju", catatan="Baik", data_json="{}")
    assert second.chain_hash == chain.event_hash(first.chain_hash or b"", chain.canonical_event(
        instance_id=instance.id, occurred_at=second.occurred_at, kind=second.kind, actor_id=None,
        human_task_id=None, element_id=None, process_id=None, keputusan="setuju", catatan="Baik",
        data_json="{}"))


def test_untouched_history_verifies(scene) -> None:
    session, instance_id, mine, others = scene
    assert chain.verify_instance(session, instance_id) is None
    assert chain.verify_instance(session, others[0].instance_id) is None
    session.expire_all()  # read back what the database holds (timestamps round-trip)
    assert chain.verify_instance(session, instance_id) is None


@pytest.mark.parametrize("column,value", [
    ("catatan", "'Sudah lengkap'"), ("keputusan", "'setuju'"), ("actor_id", "NULL"),
    ("data_json", "'{\"iteration\": 2}'"), ("occurred_at", "occurred_at"),  # same value: must still hold
])
def test_an_edited_event_is_found(scene, backend: str, column: str, value: str) -> None:
    session, instance_id, mine, _ = scene
    _lift_triggers(session, backend)
    target = mine[2]
    session.execute(text(f"UPDATE audit_event SET {column} = {value} WHERE id = :id"), {"id": target.id})
    session.expire_all()
    found = chain.verify_instance(session, instance_id)
    if column == "occurred_at":
        assert found is None
        return
    assert found is not None and found.event_id == target.id
    assert "diubah" in found.reason


def test_an_edited_timestamp_is_found(scene, backend: str) -> None:
    session, instance_id, mine, _ = scene
    _lift_triggers(session, backend)
    session.execute(text("UPDATE audit_event SET occurred_at = :t WHERE id = :id"),
                    {"t": (T0 - timedelta(days=1)).replace(tzinfo=None) if backend == "sqlite"
                     else T0 - timedelta(days=1), "id": mine[1].id})
    session.expire_all()
    found = chain.verify_instance(session, instance_id)
    assert found is not None and found.event_id == mine[1].id


def test_a_deleted_event_breaks_the_next_link(scene, backend: str) -> None:
    session, instance_id, mine, _ = scene
    _lift_triggers(session, backend)
    session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": mine[1].id})
    session.expire_all()
    found = chain.verify_instance(session, instance_id)
    assert found is not None and found.event_id == mine[2].id
    assert "dihapus" in found.reason


def test_reordered_events_are_found(scene, backend: str) -> None:
    session, instance_id, mine, _ = scene
    _lift_triggers(session, backend)
    a, b = mine[1], mine[2]
    columns = "occurred_at, kind, actor_id, human_task_id, element_id, process_id, keputusan, catatan, " \
              "data_json, chain_hash"
    rows = {r.id: r for r in session.execute(text(f"SELECT id, {columns} FROM audit_event WHERE id IN (:a, :b)"),
                                             {"a": a.id, "b": b.id})}
    for target, source in ((a.id, b.id), (b.id, a.id)):
        values = rows[source]._asdict()
        values.pop("id")
        sets = ", ".join(f"{c} = :{c}" for c in values)
        session.execute(text(f"UPDATE audit_event SET {sets} WHERE id = :id"), {**values, "id": target})
    session.expire_all()
    found = chain.verify_instance(session, instance_id)
    assert found is not None and found.event_id == a.id
    assert "urutan" in found.reason


def test_an_event_inserted_in_the_middle_is_found(scene, backend: str) -> None:
    """A forged event with a correct hash from its predecessor, put where another instance's event was."""
    session, instance_id, mine, others = scene
    _lift_triggers(session, backend)
    slot = next(o for o in others if mine[1].id < o.id < mine[2].id)
    session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": slot.id})
    occurred = T0 + timedelta(minutes=5)
    data_json = '{"iteration": 1}'
    content = chain.canonical_event(instance_id=instance_id, occurred_at=occurred, kind="task_completed",
                                    actor_id=None, human_task_id=None, element_id="Step_X", process_id="sop_uji",
                                    keputusan="setuju", catatan=None, data_json=data_json)
    session.execute(text(
        "INSERT INTO audit_event (id, instance_id, occurred_at, kind, element_id, process_id, keputusan, "
        "data_json, chain_hash) VALUES (:id, :i, :t, 'task_completed', 'Step_X', 'sop_uji', 'setuju', :d, :h)"),
        {"id": slot.id, "i": instance_id, "t": occurred.replace(tzinfo=None) if backend == "sqlite" else occurred,
         "d": data_json, "h": chain.event_hash(mine[1].chain_hash or b"", content)})
    session.expire_all()
    assert chain.verify_instance(session, instance_id) == chain.Break(
        instance_id, mine[2].id, None, "urutan berubah: kejadian sebelumnya dihapus, disisipkan atau dipindah")


def test_an_event_without_hash_is_found(scene, backend: str) -> None:
    session, instance_id, mine, _ = scene
    session.execute(text("INSERT INTO audit_event (instance_id, occurred_at, kind, data_json) "
                         "VALUES (:i, :t, 'task_ready', '{}')"),
                    {"i": instance_id, "t": T0.replace(tzinfo=None) if backend == "sqlite" else T0})
    found = chain.verify_instance(session, instance_id)
    assert found is not None and found.event_id > mine[-1].id and "tanpa hash" in found.reason


def test_seals_chain_and_verify(scene) -> None:
    session, _, mine, others = scene
    assert chain.verify_seals(session) is None
    first = chain.seal(session, now=T0)
    assert first is not None and first.first_event_id == 1 and first.last_event_id == max(e.id for e in others)
    assert chain.seal(session, now=T0) is None  # nothing new
    history.append(session, instance_id=mine[0].instance_id, kind="task_ready", occurred_at=T0)
    second = chain.seal(session, now=T0 + timedelta(hours=1))
    assert second is not None and (second.first_event_id, second.event_count) == (first.last_event_id + 1, 1)
    assert [s.id for s in chain.seals(session)] == [second.id, first.id]
    assert chain.verify_seals(session) is None


def test_a_deleted_instance_history_is_caught_by_the_seal(scene, backend: str) -> None:
    """Deleting every event of an instance leaves its own chain empty, so only the seal sees it."""
    session, instance_id, mine, others = scene
    sealed = chain.seal(session, now=T0)
    assert sealed is not None
    _lift_triggers(session, backend)
    other_id = others[0].instance_id
    session.execute(text("DELETE FROM audit_event WHERE instance_id = :i"), {"i": other_id})
    session.expire_all()
    assert chain.verify_instance(session, other_id) is None
    found = chain.verify_seals(session)
    assert found is not None and found.seal_id == sealed.id and "berubah" in found.reason


def test_the_deleted_last_event_of_an_instance_is_caught_by_the_seal(scene, backend: str) -> None:
    session, instance_id, mine, _ = scene
    chain.seal(session, now=T0)
    _lift_triggers(session, backend)
    session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": mine[-1].id})
    session.expire_all()
    assert chain.verify_instance(session, instance_id) is None
    assert chain.verify_seals(session) is not None


def test_an_edited_or_deleted_seal_is_found(scene, backend: str) -> None:
    session, *_ = scene
    first = chain.seal(session, now=T0)
    history.append(session, instance_id=scene[1], kind="task_ready", occurred_at=T0)
    second = chain.seal(session, now=T0)
    assert first is not None and second is not None
    _lift_triggers(session, backend)
    session.execute(text("UPDATE audit_seal SET event_count = event_count + 1 WHERE id = :id"), {"id": second.id})
    session.expire_all()
    found = chain.verify_seals(session)
    assert found is not None and found.seal_id == second.id
    session.execute(text("UPDATE audit_seal SET event_count = event_count - 1 WHERE id = :id"), {"id": second.id})
    session.execute(text("DELETE FROM audit_seal WHERE id = :id"), {"id": first.id})
    session.expire_all()
    found = chain.verify_seals(session)
    assert found is not None and found.seal_id == second.id


def test_seals_refuse_update_through_the_triggers(scene) -> None:
    session, *_ = scene
    chain.seal(session, now=T0)
    with pytest.raises(DBAPIError, match="append-only"):
        with session.begin_nested():
            session.execute(text("DELETE FROM audit_seal"))
    assert session.query(AuditSeal).count() == 1
