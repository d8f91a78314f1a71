"""office hours for a date range per unit: shortened days in Ramadan

``calendar_hours``: one row per period whose office hours replace the usual
ones (``engine.calendar.HoursPeriod``), set on the unit's administration page
``/admin/organisasi/unit/<id>``; changes go to ``org_change``.

Revision ID: 0013
Revises: 0008
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calendar_hours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("weekly_json", sa.Text(), nullable=False),
        sa.Column("note", sa.String(length=255), nullable=False),
        sa.CheckConstraint("end_date >= start_date", name=op.f("ck_calendar_hours_date_range")),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_calendar_hours_unit_id_unit"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_hours")),
    )
    op.create_index(op.f("ix_calendar_hours_unit_id"), "calendar_hours", ["unit_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_calendar_hours_unit_id"), table_name="calendar_hours")
    op.drop_table("calendar_hours")
