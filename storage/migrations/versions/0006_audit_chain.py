"""audit chain: chain_hash on every audit event, audit_seal, audit_access, search indexes

Adds ``audit_event.chain_hash`` (SHA-256 over the previous event's hash and the
event's canonical content, ``storage.chain``) and backfills it for the rows
already there, instance by instance in id order. ``audit_event`` refuses UPDATE
(triggers of migration 0001): the backfill lifts that refusal for its own
statements only (SQLite: drops and re-creates the triggers inside this
migration's transaction; PostgreSQL: disables and re-enables the row trigger)
and nothing else writes meanwhile, since DDL and the backfill share one
transaction. Adds ``audit_seal`` (append-only, like ``audit_event``),
``audit_access`` (what auditors opened) and the indexes of the auditors' search
and the compliance report.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AUDIT_MESSAGE = "audit_event hanya boleh ditambah / audit_event is append-only"
SEAL_MESSAGE = "audit_seal hanya boleh ditambah / audit_seal is append-only"
GENESIS = bytes(32)


def upgrade() -> None:
    op.add_column("audit_event", sa.Column("chain_hash", sa.LargeBinary(32), nullable=True))
    # working time of a completed task, for the compliance report; NULL for tasks completed before 0006
    op.add_column("human_task", sa.Column("working_minutes", sa.Integer(), nullable=True))
    _backfill_chain()
    op.create_index("ix_audit_event_kind_keputusan", "audit_event", ["kind", "keputusan", "instance_id"])
    op.create_index("ix_audit_event_decisions", "audit_event", ["occurred_at"],
                    sqlite_where=sa.text("keputusan IS NOT NULL"), postgresql_where=sa.text("keputusan IS NOT NULL"))
    op.create_table(
        "audit_seal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_event_id", sa.Integer(), nullable=False),
        sa.Column("last_event_id", sa.Integer(), nullable=False),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("events_digest", sa.LargeBinary(32), nullable=False),
        sa.Column("seal_hash", sa.LargeBinary(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_seal")),
    )
    _append_only("audit_seal", SEAL_MESSAGE)
    op.create_table(
        "audit_access",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("what", sa.String(32), nullable=False),
        sa.Column("key", sa.String(500), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], name=op.f("fk_audit_access_user_id_app_user"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_access")),
    )
    op.create_index(op.f("ix_audit_access_user_id_id"), "audit_access", ["user_id", "id"])
    op.create_index("ix_process_instance_started", "process_instance", ["started_at", "id"])
    op.create_index("ix_process_instance_unit_started", "process_instance", ["unit_id", "started_at", "id"])
    op.create_index("ix_process_instance_completed", "process_instance", ["completed_at", "id"])
    op.create_index("ix_process_instance_title", "process_instance", ["title", "id"])
    op.create_index("ix_human_task_completed", "human_task", ["state", "completed_at"])
    op.create_index("ix_human_task_completed_by", "human_task", ["completed_by_id", "instance_id"])


def _stamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _backfill_chain() -> None:
    """Compute chain_hash for existing events (the same rule as ``storage.chain``, frozen here)."""
    bind = op.get_bind()
    dialect = bind.dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER audit_event_no_update")
    else:
        op.execute("ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_change")
    event = sa.table("audit_event", *(sa.column(c, sa.Integer()) for c in ("id", "instance_id", "actor_id")),
                     sa.column("occurred_at", sa.DateTime(timezone=True)),
                     *(sa.column(c, sa.Text()) for c in ("kind", "human_task_id", "element_id", "process_id",
                                                         "keputusan", "catatan", "data_json")))
    rows = bind.execute(sa.select(event).order_by(event.c.instance_id, event.c.id)).all()
    previous: dict[int, bytes] = {}
    update = sa.text("UPDATE audit_event SET chain_hash = :h WHERE id = :id")
    for r in rows:
        content = json.dumps({
            "actor_id": r.actor_id, "catatan": r.catatan, "data_json": r.data_json, "element_id": r.element_id,
            "human_task_id": r.human_task_id, "instance_id": r.instance_id, "keputusan": r.keputusan,
            "kind": r.kind, "occurred_at": _stamp(r.occurred_at), "process_id": r.process_id,
        }, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        digest = hashlib.sha256(previous.get(r.instance_id, GENESIS) + content).digest()
        previous[r.instance_id] = digest
        bind.execute(update, {"h": digest, "id": r.id})
    if dialect == "sqlite":
        op.execute(f"CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
                   f"BEGIN SELECT RAISE(ABORT, '{AUDIT_MESSAGE}'); END")
    else:
        op.execute("ALTER TABLE audit_event ENABLE TRIGGER audit_event_no_change")


def _append_only(table: str, message: str) -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, '{message}'); END")
    else:
        op.execute(f"CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                   f"RAISE EXCEPTION USING MESSAGE = '{message} (' || TG_OP || ')'; END $$")
        op.execute(f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()")
        op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()")


def downgrade() -> None:
    for name, table in (("ix_human_task_completed_by", "human_task"), ("ix_human_task_completed", "human_task"),
                        ("ix_process_instance_completed", "process_instance"),
                        ("ix_process_instance_title", "process_instance"),
                        ("ix_process_instance_unit_started", "process_instance"),
                        ("ix_process_instance_started", "process_instance"),
                        ("ix_audit_event_kind_keputusan", "audit_event"), ("ix_audit_event_decisions", "audit_event")):
        op.drop_index(name, table_name=table)
    op.drop_table("audit_access")
    op.drop_table("audit_seal")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION audit_seal_append_only()")
    op.drop_column("audit_event", "chain_hash")
    op.drop_column("human_task", "working_minutes")  # SQLite >= 3.35 drops a column in place, triggers kept
