"""claims on shared lanes, the cases lists ("Proses")

Adds ``human_task.claimed_at`` beside the long-unused ``assignee_id`` (now the
claimer of a ready task of a shared lane, ``engine.claims``), a partial index
on claimed tasks, ``ready_at, id`` at the end of the inbox's role index (its
order: the inbox sorts index entries, not rows), an index for "Saya mulai" (``process_instance`` by starter and
start time), and the notification kind ``claim_reassigned``. The new audit
kinds ``task_claimed``, ``task_released`` and ``task_claim_reassigned`` need no
schema change (checked in ``storage.history``).

Revision ID: 0010
Revises: 0007
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KINDS = ("'task_ready', 'task_returned', 'task_reminder', 'task_due', 'task_escalated', 'task_reassigned'")


def upgrade() -> None:
    with op.batch_alter_table("human_task") as batch:
        batch.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_human_task_assignee", "human_task", ["assignee_id"],
                    sqlite_where=sa.text("assignee_id IS NOT NULL"),
                    postgresql_where=sa.text("assignee_id IS NOT NULL"))
    op.create_index("ix_process_instance_starter", "process_instance", ["started_by_id", "started_at", "id"])
    # the inbox's order within the index: a sort of the index entries, not of the rows
    op.drop_index("ix_human_task_inbox_role", table_name="human_task")
    op.create_index("ix_human_task_inbox_role", "human_task", ["state", "role_id", "due_at", "ready_at", "id"])
    # "Saya terlibat" probes a team's ready steps by instance without reading the rows
    op.drop_index("ix_human_task_inbox_team", table_name="human_task")
    op.create_index("ix_human_task_inbox_team", "human_task", ["state", "team_id", "instance_id"])
    with op.batch_alter_table("notification") as batch:
        batch.drop_constraint(op.f("ck_notification_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_notification_kind"), f"kind IN ({_KINDS}, 'claim_reassigned')")


def downgrade() -> None:
    op.execute("DELETE FROM notification WHERE kind = 'claim_reassigned'")
    with op.batch_alter_table("notification") as batch:
        batch.drop_constraint(op.f("ck_notification_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_notification_kind"), f"kind IN ({_KINDS})")
    op.drop_index("ix_process_instance_starter", table_name="process_instance")
    op.drop_index("ix_human_task_inbox_role", table_name="human_task")
    op.create_index("ix_human_task_inbox_role", "human_task", ["state", "role_id", "due_at"])
    op.drop_index("ix_human_task_inbox_team", table_name="human_task")
    op.create_index("ix_human_task_inbox_team", "human_task", ["state", "team_id"])
    op.drop_index("ix_human_task_assignee", table_name="human_task")
    with op.batch_alter_table("human_task") as batch:
        batch.drop_column("claimed_at")
