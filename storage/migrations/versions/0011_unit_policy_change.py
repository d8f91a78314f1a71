"""the record of changes to a unit's follow-up policy

``unit_policy_change``: one row per change made on the administrator's page
``/admin/kebijakan/<unit>`` — who, when, the policy before and after (the
webhook secret itself is never recorded, only that it was set or changed).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "unit_policy_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("before_json", sa.Text(), nullable=False),
        sa.Column("after_json", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_unit_policy_change_unit_id_unit"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["actor_id"], ["app_user.id"], name=op.f("fk_unit_policy_change_actor_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_policy_change")),
    )
    op.create_index(op.f("ix_unit_policy_change_unit_id_id"), "unit_policy_change", ["unit_id", "id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_unit_policy_change_unit_id_id"), table_name="unit_policy_change")
    op.drop_table("unit_policy_change")
