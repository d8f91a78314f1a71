"""access_grant: administrators, process analysts and auditors

Rights that are not a Pelaksana role of a unit: ``administrator`` (the
organisation), ``analis_proses`` (edit and deploy diagrams), ``auditor``
(read every instance in scope). ``unit_id`` NULL means every unit.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "access_grant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("granted_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("kind IN ('administrator', 'analis_proses', 'auditor')",
                           name=op.f("ck_access_grant_kind")),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], name=op.f("fk_access_grant_user_id_app_user"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_access_grant_unit_id_unit"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["granted_by_id"], ["app_user.id"],
                                name=op.f("fk_access_grant_granted_by_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_grant")),
        sa.UniqueConstraint("user_id", "kind", "unit_id", name=op.f("uq_access_grant_user_id_kind_unit_id")),
    )
    op.create_index(op.f("ix_access_grant_kind"), "access_grant", ["kind"])


def downgrade() -> None:
    op.drop_index(op.f("ix_access_grant_kind"), table_name="access_grant")
    op.drop_table("access_grant")
