"""jobs, notifications, notification preferences, unit follow-up policy

``job`` holds the work of ``alur worker`` (reminders, escalations, e-mails,
webhook calls; later BPMN timers): claimed with ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, under a lease. ``notification`` is the in-app list of each user;
``notification_preference`` a user's e-mail address and mode; ``unit_policy``
a unit's reminder/escalation/webhook settings (no row: the defaults of
``engine.followups``). The new audit kinds ``task_reminded`` and
``task_escalated`` (and ``timer_fired``) need no schema change (checked in ``storage.history``).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fk(table: str, column: str, target: str, ondelete: str | None = None) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"),
                                   ondelete=ondelete)


def upgrade() -> None:
    op.create_table(
        "job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload_json", sa.Text(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("claim_token", sa.String(36), nullable=True),
        sa.Column("locked_by", sa.String(255), nullable=True),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unconfirmed_sends", sa.Integer(), nullable=False),
        sa.Column("result", sa.String(255), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("state IN ('pending', 'running', 'done', 'failed')", name=op.f("ck_job_state")),
        _fk("job", "instance_id", "process_instance"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job")),
        sa.UniqueConstraint("key", name=op.f("uq_job_key")),
    )
    op.create_index(op.f("ix_job_state_run_at"), "job", ["state", "run_at"])
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.Column("human_task_id", sa.String(36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("emailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("data_json", sa.Text(), nullable=False),
        sa.CheckConstraint("kind IN ('task_ready', 'task_returned', 'task_reminder', 'task_due', "
                           "'task_escalated', 'task_reassigned')", name=op.f("ck_notification_kind")),
        _fk("notification", "user_id", "app_user", "CASCADE"),
        _fk("notification", "unit_id", "unit"),
        _fk("notification", "instance_id", "process_instance"),
        sa.ForeignKeyConstraint(["human_task_id"], ["human_task.id"],
                                name=op.f("fk_notification_human_task_id_human_task")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
    )
    op.create_index(op.f("ix_notification_user_id_read_at"), "notification", ["user_id", "read_at"])
    op.create_table(
        "notification_preference",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(255), nullable=True),
        sa.Column("email_mode", sa.String(16), nullable=False),
        sa.CheckConstraint("email_mode IN ('immediate', 'digest', 'off')",
                           name=op.f("ck_notification_preference_email_mode")),
        _fk("notification_preference", "user_id", "app_user", "CASCADE"),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_notification_preference")),
    )
    op.create_table(
        "unit_policy",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("reminder_percent", sa.Integer(), nullable=False),
        sa.Column("remind_when_due", sa.Boolean(), nullable=False),
        sa.Column("escalate_after_minutes", sa.Integer(), nullable=False),
        sa.Column("webhook_url", sa.String(500), nullable=True),
        sa.Column("webhook_secret", sa.String(255), nullable=True),
        sa.CheckConstraint("reminder_percent BETWEEN 1 AND 99", name=op.f("ck_unit_policy_reminder_percent")),
        sa.CheckConstraint("escalate_after_minutes >= 0", name=op.f("ck_unit_policy_escalate_after_minutes")),
        _fk("unit_policy", "unit_id", "unit", "CASCADE"),
        sa.PrimaryKeyConstraint("unit_id", name=op.f("pk_unit_policy")),
    )


def downgrade() -> None:
    op.drop_table("unit_policy")
    op.drop_table("notification_preference")
    op.drop_index(op.f("ix_notification_user_id_read_at"), table_name="notification")
    op.drop_table("notification")
    op.drop_index(op.f("ix_job_state_run_at"), table_name="job")
    op.drop_table("job")
