"""Migrations: upgrade, revision, downgrade, and agreement with the models."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from storage import chain
from storage.db import make_engine
from storage.migrate import alembic_config, current_revision, upgrade
from storage.models import POSTGRES_ONLY_INDEXES, AuditEvent, Base

TABLES = {
    "unit",
    "app_user",
    "role",
    "role_alias",
    "role_member",
    "calendar_correction",
    "calendar_hours",
    "process_definition",
    "process_instance",
    "team",
    "team_member",
    "human_task",
    "audit_event",
    "document",
    "access_grant",
    "login_attempt",
    "login_session",
    "sop_draft",
    "studio_event",
    "audit_seal",
    "audit_access",
    "job",
    "notification",
    "notification_preference",
    "unit_policy",
    "unit_policy_change",
    "designation",
    "org_change",
    "password_token",
}
HEAD = "0013"


def test_models_and_migrations_agree(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True,
            "include_object": lambda obj, name, kind, reflected, other: name not in POSTGRES_ONLY_INDEXES})
        assert compare_metadata(context, Base.metadata) == []


def test_title_search_index_on_postgresql_only(engine: Engine) -> None:
    """The trigram index of migration 0008 serves ILIKE on PostgreSQL; SQLite has none."""
    names = {ix["name"] for ix in inspect(engine).get_indexes("process_instance")}
    assert ("ix_process_instance_title_trgm" in names) == (engine.dialect.name == "postgresql")
    assert {"ix_process_instance_status_started", "ix_process_instance_definition_started",
            "ix_process_instance_starter"} <= names


def test_every_contract_table_exists(engine: Engine) -> None:
    assert TABLES <= set(inspect(engine).get_table_names())
    assert TABLES == set(Base.metadata.tables)


def test_inbox_indexes_exist(engine: Engine) -> None:
    indexes = {ix["name"]: ix["column_names"] for ix in inspect(engine).get_indexes("human_task")}
    assert indexes["ix_human_task_inbox_role"] == ["state", "role_id", "due_at", "ready_at", "id"]
    assert indexes["ix_human_task_inbox_team"] == ["state", "team_id", "instance_id"]
    assert indexes["ix_human_task_instance_state"] == ["instance_id", "state"]


def test_upgrade_from_empty_then_again(scratch_db_url: str) -> None:
    engine = make_engine(scratch_db_url)
    try:
        assert current_revision(engine) is None
        upgrade(engine)
        assert current_revision(engine) == HEAD
        upgrade(engine)  # nothing left to do
        assert current_revision(engine) == HEAD
    finally:
        engine.dispose()


def test_downgrade_to_base_removes_everything(isolated_engine: Engine) -> None:
    with isolated_engine.begin() as connection:
        command.downgrade(alembic_config(connection), "base")
    assert current_revision(isolated_engine) is None
    assert set(inspect(isolated_engine).get_table_names()) <= {"alembic_version"}
    upgrade(isolated_engine)
    assert current_revision(isolated_engine) == HEAD


def test_0002_adds_documents_to_a_database_in_use(scratch_db_url: str) -> None:
    engine = make_engine(scratch_db_url)
    try:
        upgrade(engine, "0001")
        assert "document" not in inspect(engine).get_table_names()
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO unit (code, name, kind, timezone) "
                                    "VALUES ('u', 'Unit', 'dinas', 'Asia/Jakarta')"))
        upgrade(engine)
        assert current_revision(engine) == HEAD
        unique = {tuple(u["column_names"]) for u in inspect(engine).get_unique_constraints("document")}
        assert unique == {("human_task_id",), ("instance_id", "process_id", "element_id", "version")}
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT count(*) FROM unit")) == 1
        with engine.begin() as connection:
            command.downgrade(alembic_config(connection), "0001")
        assert "document" not in inspect(engine).get_table_names()
        assert current_revision(engine) == "0001"
    finally:
        engine.dispose()


def test_0004_adds_login_tables_to_a_database_in_use(scratch_db_url: str) -> None:
    engine = make_engine(scratch_db_url)
    try:
        upgrade(engine, "0003")
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO unit (code, name, kind, timezone) "
                                    "VALUES ('u', 'Unit', 'dinas', 'Asia/Jakarta')"))
            connection.execute(text("INSERT INTO app_user (username, full_name, unit_id, password_hash) "
                                    "SELECT 'budi', 'Budi', id, 'h' FROM unit"))
        upgrade(engine)
        tables = set(inspect(engine).get_table_names())
        assert {"login_attempt", "login_session"} <= tables
        unique = {tuple(u["column_names"]) for u in inspect(engine).get_unique_constraints("login_session")}
        assert unique == {("token_hash",)}
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT password_hash FROM app_user")) == "h"
        with engine.begin() as connection:
            command.downgrade(alembic_config(connection), "0003")
        assert not {"login_attempt", "login_session"} & set(inspect(engine).get_table_names())
        assert current_revision(engine) == "0003"
    finally:
        engine.dispose()


def test_0006_backfills_the_chain_of_existing_events(scratch_db_url: str) -> None:
    engine = make_engine(scratch_db_url)
    try:
        upgrade(engine, "0003")
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO unit (id, code, name, kind, timezone) "
                                    "VALUES (1, 'u', 'Unit', 'dinas', 'Asia/Jakarta')"))
            connection.execute(text("INSERT INTO app_user (id, username, full_name, unit_id) VALUES (1, 'a', 'A', 1)"))
            connection.execute(text(
                "INSERT INTO process_definition (id, process_id, version, name, unit_kind, sha256, filename, "
                "bpmn_xml, spec_json, meta_json, deployed_at) VALUES (1, 'p', 1, 'P', 'any', 'x', 'p.bpmn', '', "
                "'{}', '{}', '2026-01-01 00:00:00')"))
            for instance_id in (1, 2):
                connection.execute(text(
                    "INSERT INTO process_instance (id, definition_id, unit_id, title, status, started_by_id, "
                    "started_at, state_json, serializer_version, called_definitions_json, input_json, "
                    "lock_version) VALUES (:i, 1, 1, 'T', 'running', 1, '2026-01-01 00:00:00', '{}', '1', '{}', "
                    "'{}', 1)"), {"i": instance_id})
            for n, instance_id in enumerate((1, 2, 1, 1, 2)):
                connection.execute(text(
                    "INSERT INTO audit_event (instance_id, occurred_at, kind, actor_id, catatan, data_json) "
                    "VALUES (:i, :t, 'task_ready', 1, :c, '{\"n\": 1}')"),
                    {"i": instance_id, "t": f"2026-01-0{n + 1} 02:03:04.000005", "c": f"catatan é {n}"})
        upgrade(engine)
        with Session(engine) as session:
            assert session.scalar(text("SELECT count(*) FROM audit_event WHERE chain_hash IS NULL")) == 0
            assert chain.verify_instance(session, 1) is None
            assert chain.verify_instance(session, 2) is None
            event = session.scalars(select(AuditEvent).where(AuditEvent.instance_id == 1)
                                    .order_by(AuditEvent.id)).first()
            assert event is not None and event.chain_hash == chain.event_hash(chain.GENESIS, chain.canonical_event(
                instance_id=1, occurred_at=event.occurred_at, kind="task_ready", actor_id=1, human_task_id=None,
                element_id=None, process_id=None, keputusan=None, catatan="catatan é 0", data_json='{"n": 1}'))
        with engine.begin() as connection, pytest.raises(DBAPIError, match="append-only"):
            connection.execute(text("UPDATE audit_event SET catatan = 'x'"))
        with engine.begin() as connection:
            command.downgrade(alembic_config(connection), "0003")
        assert "chain_hash" not in {c["name"] for c in inspect(engine).get_columns("audit_event")}
        with engine.begin() as connection, pytest.raises(DBAPIError, match="append-only"):
            connection.execute(text("DELETE FROM audit_event"))
    finally:
        engine.dispose()
