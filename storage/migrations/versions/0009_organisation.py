"""organisation: unit jenis and parent, jabatan superiors, dated memberships, Plh/Plt, change record

- ``unit.jenis`` (Bagian, Dinas, Badan, Inspektorat, Kecamatan, Kelurahan, ...:
  the office's kind as people name it; ``unit.kind`` stays the family of SOPs it
  runs) and ``unit.parent_id``;
- ``role.superior_role_id``: the jabatan above (escalation, who may reassign);
- ``role_member.start_date``/``end_date`` (NULL: open) and ``app_user.active``;
- ``designation``: a Plh or Plt for a jabatan over a date range in the unit's
  zone (``starts_at``/``ends_at`` are its UTC bounds);
- ``org_change``: every change of the organisation (who, what, before/after);
- ``password_token``: one-time set-password links (SHA-256 of the token only).

On SQLite a column with a foreign key is added (and dropped) by a plain ``ALTER
TABLE`` with a column constraint (SQLite allows it for a NULL default): a batch
re-creation of ``unit`` or ``role`` would, with foreign keys enforced, cascade
the delete of the old table into every child row. The two references are NO
ACTION, like every plain reference of the schema.

Revision ID: 0009
Revises: 0011
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fk(table: str, column: str, target: str, ondelete: str | None = None) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"),
                                   ondelete=ondelete)


def _add_reference(table: str, column: str, target: str) -> None:
    """Add a nullable integer column referencing ``target.id`` (NO ACTION, like every plain reference)."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE {table} ADD COLUMN {column} INTEGER "
                   f"CONSTRAINT fk_{table}_{column}_{target} REFERENCES {target} (id)")
        return
    op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
    op.create_foreign_key(op.f(f"fk_{table}_{column}_{target}"), table, target, [column], ["id"])


def upgrade() -> None:
    op.add_column("unit", sa.Column("jenis", sa.String(32), nullable=False, server_default=""))
    op.execute("UPDATE unit SET jenis = CASE kind WHEN 'bagian' THEN 'Bagian' WHEN 'dinas' THEN 'Dinas' "
               "WHEN 'kecamatan' THEN 'Kecamatan' ELSE '' END")
    _add_reference("unit", "parent_id", "unit")
    _add_reference("role", "superior_role_id", "role")
    op.add_column("role_member", sa.Column("start_date", sa.Date(), nullable=True))
    op.add_column("role_member", sa.Column("end_date", sa.Date(), nullable=True))
    op.add_column("app_user", sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.create_table(
        "designation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("role_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("designated_by_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('plh', 'plt')", name=op.f("ck_designation_kind")),
        sa.CheckConstraint("end_date >= start_date", name=op.f("ck_designation_range")),
        _fk("designation", "role_id", "role", "CASCADE"),
        _fk("designation", "user_id", "app_user"),
        _fk("designation", "designated_by_id", "app_user"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_designation")),
    )
    op.create_index(op.f("ix_designation_role_id_ends_at"), "designation", ["role_id", "ends_at"])
    op.create_index(op.f("ix_designation_user_id_ends_at"), "designation", ["user_id", "ends_at"])
    op.create_table(
        "org_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("before_json", sa.Text(), nullable=False),
        sa.Column("after_json", sa.Text(), nullable=False),
        _fk("org_change", "actor_id", "app_user", "SET NULL"),
        _fk("org_change", "unit_id", "unit", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_change")),
    )
    op.create_index(op.f("ix_org_change_unit_id_occurred_at"), "org_change", ["unit_id", "occurred_at"])
    op.create_table(
        "password_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        _fk("password_token", "user_id", "app_user", "CASCADE"),
        _fk("password_token", "created_by_id", "app_user", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_token")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_password_token_token_sha256")),
    )


def downgrade() -> None:
    op.drop_table("password_token")
    op.drop_index(op.f("ix_org_change_unit_id_occurred_at"), table_name="org_change")
    op.drop_table("org_change")
    op.drop_index(op.f("ix_designation_user_id_ends_at"), table_name="designation")
    op.drop_index(op.f("ix_designation_role_id_ends_at"), table_name="designation")
    op.drop_table("designation")
    op.drop_column("app_user", "active")
    op.drop_column("role_member", "end_date")
    op.drop_column("role_member", "start_date")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("fk_role_superior_role_id_role"), "role", type_="foreignkey")
        op.drop_constraint(op.f("fk_unit_parent_id_unit"), "unit", type_="foreignkey")
    op.drop_column("role", "superior_role_id")
    op.drop_column("unit", "parent_id")
    op.drop_column("unit", "jenis")
