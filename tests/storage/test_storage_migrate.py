"""Migrations: upgrade, revision, downgrade, and agreement with the models."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from storage.db import make_engine
from storage.migrate import alembic_config, current_revision, upgrade
from storage.models import Base

TABLES = {
    "unit",
    "app_user",
    "role",
    "role_alias",
    "role_member",
    "calendar_correction",
    "process_definition",
    "process_instance",
    "team",
    "team_member",
    "human_task",
    "audit_event",
    "document",
    "access_grant",
    "job",
    "notification",
    "notification_preference",
    "unit_policy",
}
HEAD = "0007"


def test_models_and_migrations_agree(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_every_contract_table_exists(engine: Engine) -> None:
    assert TABLES <= set(inspect(engine).get_table_names())
    assert TABLES == set(Base.metadata.tables)


def test_inbox_indexes_exist(engine: Engine) -> None:
    indexes = {ix["name"]: ix["column_names"] for ix in inspect(engine).get_indexes("human_task")}
    assert indexes["ix_human_task_inbox_role"] == ["state", "role_id", "due_at"]
    assert indexes["ix_human_task_inbox_team"] == ["state", "team_id"]
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
