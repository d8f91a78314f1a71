"""documents: a step's Output file per completion, versioned, append-only

The file is kept in the row (``content``, a BLOB/BYTEA) rather than on disk, so
the completion of a task and its document commit in one transaction or not at
all, on SQLite and PostgreSQL alike, and a database backup holds everything.
Like ``audit_event``, rows are append-only: triggers refuse UPDATE and DELETE
(and TRUNCATE on PostgreSQL); a step redone after "tidak" adds a new version.
The new audit event kind ``document_attached`` needs no schema change
(``audit_event.kind`` is checked in ``storage.history``).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY_MESSAGE = "document hanya boleh ditambah / document is append-only"


def _fk(column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_document_{column}_{target}")
    )


def upgrade() -> None:
    op.create_table(
        "document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("human_task_id", sa.String(36), nullable=False),
        sa.Column("element_id", sa.String(128), nullable=False),
        sa.Column("process_id", sa.String(128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("version >= 1", name=op.f("ck_document_version")),
        sa.CheckConstraint("size_bytes >= 0", name=op.f("ck_document_size_bytes")),
        _fk("human_task_id", "human_task"),
        _fk("instance_id", "process_instance"),
        _fk("uploaded_by_id", "app_user"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document")),
        sa.UniqueConstraint("human_task_id", name=op.f("uq_document_human_task_id")),
        # Also the index of "the documents of an instance" (its leading column).
        sa.UniqueConstraint(
            "instance_id", "process_id", "element_id", "version",
            name=op.f("uq_document_instance_id_process_id_element_id_version"),
        ),
    )
    _create_append_only_triggers()


def _create_append_only_triggers() -> None:
    """Refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) of document rows."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER document_no_{action.lower()} "
                f"BEFORE {action} ON document "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION document_append_only() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            f"RAISE EXCEPTION USING MESSAGE = '{APPEND_ONLY_MESSAGE} (' || TG_OP || ')'; "
            "END $$"
        )
        op.execute(
            "CREATE TRIGGER document_no_change BEFORE UPDATE OR DELETE ON document "
            "FOR EACH ROW EXECUTE FUNCTION document_append_only()"
        )
        op.execute(
            "CREATE TRIGGER document_no_truncate BEFORE TRUNCATE ON document "
            "FOR EACH STATEMENT EXECUTE FUNCTION document_append_only()"
        )
    else:
        raise NotImplementedError(f"no append-only triggers for dialect {dialect!r}")


def downgrade() -> None:
    op.drop_table("document")  # drops its triggers too
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION document_append_only()")
