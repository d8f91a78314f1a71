"""sop_draft, studio_event: the studio's drafts and its record of saves, deploys, restores

``sop_draft`` keeps an SOP diagram being edited (author, time, the version it
started from, an optimistic ``revision``); ``studio_event`` records who saved,
deployed, restored or moved instances, when, with which note. Audit events of
kind ``instance_migrated`` need no schema change (``audit_event.kind`` is free text).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sop_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process_id", sa.String(128), nullable=False),
        sa.Column("base_definition_id", sa.Integer(), nullable=True),
        sa.Column("bpmn_xml", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deployed_definition_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("status IN ('open', 'deployed', 'discarded')", name=op.f("ck_sop_draft_status")),
        sa.CheckConstraint("revision >= 1", name=op.f("ck_sop_draft_revision")),
        sa.ForeignKeyConstraint(["base_definition_id"], ["process_definition.id"],
                                name=op.f("fk_sop_draft_base_definition_id_process_definition")),
        sa.ForeignKeyConstraint(["created_by_id"], ["app_user.id"], name=op.f("fk_sop_draft_created_by_id_app_user")),
        sa.ForeignKeyConstraint(["updated_by_id"], ["app_user.id"], name=op.f("fk_sop_draft_updated_by_id_app_user")),
        sa.ForeignKeyConstraint(["deployed_definition_id"], ["process_definition.id"],
                                name=op.f("fk_sop_draft_deployed_definition_id_process_definition")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sop_draft")),
    )
    op.create_index(op.f("ix_sop_draft_process_id_status"), "sop_draft", ["process_id", "status"])
    op.create_table(
        "studio_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("process_id", sa.String(128), nullable=False),
        sa.Column("draft_id", sa.Integer(), nullable=True),
        sa.Column("definition_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("data_json", sa.Text(), nullable=False),
        sa.CheckConstraint("kind IN ('draft_created', 'draft_saved', 'draft_discarded', 'deployed', 'restored', "
                           "'instances_moved')", name=op.f("ck_studio_event_kind")),
        sa.ForeignKeyConstraint(["actor_id"], ["app_user.id"], name=op.f("fk_studio_event_actor_id_app_user")),
        sa.ForeignKeyConstraint(["draft_id"], ["sop_draft.id"], name=op.f("fk_studio_event_draft_id_sop_draft")),
        sa.ForeignKeyConstraint(["definition_id"], ["process_definition.id"],
                                name=op.f("fk_studio_event_definition_id_process_definition")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_studio_event")),
    )
    op.create_index(op.f("ix_studio_event_process_id_id"), "studio_event", ["process_id", "id"])
    op.create_index(op.f("ix_studio_event_definition_id"), "studio_event", ["definition_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_studio_event_definition_id"), table_name="studio_event")
    op.drop_index(op.f("ix_studio_event_process_id_id"), table_name="studio_event")
    op.drop_table("studio_event")
    op.drop_index(op.f("ix_sop_draft_process_id_status"), table_name="sop_draft")
    op.drop_table("sop_draft")
