"""initial schema: organisation, definitions, instances, tasks, append-only audit

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY_MESSAGE = "audit_event hanya boleh ditambah / audit_event is append-only"


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _pk(table: str, *columns: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint(*columns, name=op.f(f"pk_{table}"))


def _fk(
    table: str, column: str, target: str, ondelete: str | None = None
) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def _uq(table: str, *columns: str) -> sa.UniqueConstraint:
    return sa.UniqueConstraint(*columns, name=op.f(f"uq_{table}_{'_'.join(columns)}"))


def _ck(table: str, name: str, sql: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(sql, name=op.f(f"ck_{table}_{name}"))


def _index(table: str, *columns: str, name: str | None = None) -> None:
    op.create_index(name or op.f(f"ix_{table}_{'_'.join(columns)}"), table, list(columns))


def upgrade() -> None:
    _create_organisation()
    _create_definitions_and_instances()
    _create_tasks()
    _create_audit_event()
    _create_append_only_triggers()


def _create_organisation() -> None:
    op.create_table(
        "unit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        _ck("unit", "kind", "kind IN ('bagian', 'dinas', 'kecamatan')"),
        _pk("unit", "id"),
        _uq("unit", "code"),
    )
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("full_name", sa.String(255), nullable=False),
        sa.Column("nip", sa.String(32), nullable=True),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        _fk("app_user", "unit_id", "unit"),
        _pk("app_user", "id"),
        _uq("app_user", "username"),
    )
    op.create_table(
        "role",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        _fk("role", "unit_id", "unit", "CASCADE"),
        _pk("role", "id"),
        _uq("role", "unit_id", "name"),
    )
    op.create_table(
        "role_alias",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("alias", sa.String(128), nullable=False),
        sa.Column("role_id", sa.Integer(), nullable=False),
        _fk("role_alias", "role_id", "role", "CASCADE"),
        _fk("role_alias", "unit_id", "unit", "CASCADE"),
        _pk("role_alias", "id"),
        _uq("role_alias", "unit_id", "alias"),
    )
    op.create_table(
        "role_member",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role_id", sa.Integer(), nullable=False),
        _fk("role_member", "role_id", "role", "CASCADE"),
        _fk("role_member", "user_id", "app_user", "CASCADE"),
        _pk("role_member", "user_id", "role_id"),
    )
    _index("role_member", "role_id")
    op.create_table(
        "calendar_correction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("is_working_day", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(255), nullable=False),
        _fk("calendar_correction", "unit_id", "unit", "CASCADE"),
        _pk("calendar_correction", "id"),
        _uq("calendar_correction", "unit_id", "day"),
    )
    op.create_index(
        "uq_calendar_correction_global_day",
        "calendar_correction",
        ["day"],
        unique=True,
        sqlite_where=sa.text("unit_id IS NULL"),
        postgresql_where=sa.text("unit_id IS NULL"),
    )


def _create_definitions_and_instances() -> None:
    op.create_table(
        "process_definition",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process_id", sa.String(128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("unit_kind", sa.String(16), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("bpmn_xml", sa.Text(), nullable=False),
        sa.Column("spec_json", sa.Text(), nullable=False),
        sa.Column("meta_json", sa.Text(), nullable=False),
        sa.Column("deployed_at", _utc(), nullable=False),
        _ck(
            "process_definition",
            "unit_kind",
            "unit_kind IN ('bagian', 'dinas', 'kecamatan', 'any')",
        ),
        _pk("process_definition", "id"),
        _uq("process_definition", "process_id", "sha256"),
        _uq("process_definition", "process_id", "version"),
    )
    op.create_table(
        "process_instance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("definition_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_by_id", sa.Integer(), nullable=False),
        sa.Column("started_at", _utc(), nullable=False),
        sa.Column("completed_at", _utc(), nullable=True),
        sa.Column("state_json", sa.Text(), nullable=False),
        sa.Column("serializer_version", sa.String(32), nullable=False),
        sa.Column("called_definitions_json", sa.Text(), nullable=False),
        sa.Column("input_json", sa.Text(), nullable=False),
        sa.Column("lock_version", sa.Integer(), nullable=False),
        _ck("process_instance", "status", "status IN ('running', 'completed', 'error')"),
        _fk("process_instance", "definition_id", "process_definition"),
        _fk("process_instance", "started_by_id", "app_user"),
        _fk("process_instance", "unit_id", "unit"),
        _pk("process_instance", "id"),
    )
    _index("process_instance", "unit_id", "status")


def _create_tasks() -> None:
    op.create_table(
        "team",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("lane_name", sa.String(255), nullable=False),
        sa.Column("formed_by_task_id", sa.String(36), nullable=False),
        _fk("team", "instance_id", "process_instance", "CASCADE"),
        _pk("team", "id"),
        _uq("team", "instance_id", "lane_name"),
    )
    op.create_table(
        "team_member",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        _fk("team_member", "team_id", "team", "CASCADE"),
        _fk("team_member", "user_id", "app_user", "CASCADE"),
        _pk("team_member", "team_id", "user_id"),
    )
    _index("team_member", "user_id")
    op.create_table(
        "human_task",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("definition_id", sa.Integer(), nullable=False),
        sa.Column("process_id", sa.String(128), nullable=False),
        sa.Column("element_id", sa.String(128), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("lane_name", sa.String(255), nullable=False),
        sa.Column("role_id", sa.Integer(), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("iteration", sa.Integer(), nullable=False),
        sa.Column("ready_at", _utc(), nullable=False),
        sa.Column("due_at", _utc(), nullable=True),
        sa.Column("completed_at", _utc(), nullable=True),
        sa.Column("completed_by_id", sa.Integer(), nullable=True),
        sa.Column("waktu", sa.String(32), nullable=True),
        sa.Column("is_review", sa.Boolean(), nullable=False),
        _ck("human_task", "state", "state IN ('ready', 'completed', 'cancelled')"),
        _fk("human_task", "assignee_id", "app_user"),
        _fk("human_task", "completed_by_id", "app_user"),
        _fk("human_task", "definition_id", "process_definition"),
        _fk("human_task", "instance_id", "process_instance", "CASCADE"),
        _fk("human_task", "role_id", "role"),
        _fk("human_task", "team_id", "team"),
        _fk("human_task", "unit_id", "unit"),
        _pk("human_task", "id"),
    )
    # The inbox reads only these indexes, never process_instance.state_json.
    _index("human_task", "state", "role_id", "due_at", name="ix_human_task_inbox_role")
    _index("human_task", "state", "team_id", name="ix_human_task_inbox_team")
    _index("human_task", "instance_id", "state", name="ix_human_task_instance_state")


def _create_audit_event() -> None:
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", _utc(), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("human_task_id", sa.String(36), nullable=True),
        sa.Column("element_id", sa.String(128), nullable=True),
        sa.Column("process_id", sa.String(128), nullable=True),
        sa.Column("keputusan", sa.String(16), nullable=True),
        sa.Column("catatan", sa.Text(), nullable=True),
        sa.Column("data_json", sa.Text(), nullable=False),
        _fk("audit_event", "actor_id", "app_user"),
        _fk("audit_event", "human_task_id", "human_task"),
        _fk("audit_event", "instance_id", "process_instance"),
        _pk("audit_event", "id"),
    )
    _index("audit_event", "instance_id", "id")


def _create_append_only_triggers() -> None:
    """Refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) of audit_event rows."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_event_no_{action.lower()} "
                f"BEFORE {action} ON audit_event "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_event_append_only() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            f"RAISE EXCEPTION USING MESSAGE = '{APPEND_ONLY_MESSAGE} (' || TG_OP || ')'; "
            "END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit_event "
            "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()"
        )
    else:
        raise NotImplementedError(f"no append-only triggers for dialect {dialect!r}")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in (
        "audit_event",
        "human_task",
        "team_member",
        "team",
        "process_instance",
        "process_definition",
        "calendar_correction",
        "role_member",
        "role_alias",
        "role",
        "app_user",
        "unit",
    ):
        op.drop_table(table)  # drops its indexes and triggers too
    if dialect == "postgresql":
        op.execute("DROP FUNCTION audit_event_append_only()")
