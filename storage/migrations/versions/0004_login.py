"""login_attempt and login_session: throttled logins on record, sessions ended on the server

``login_attempt`` records every try at the login form (success, failure, or
refused while throttled) with its time, the username typed, the account it
names, the client address and user agent; the throttle counts its rows.
``login_session`` is one row per login on one device: the cookie holds a random
token whose SHA-256 is ``token_hash``; logout deletes the row (issue 6, items 9
and 10).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("user_agent", sa.String(255), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.CheckConstraint("outcome IN ('success', 'failure', 'throttled')", name=op.f("ck_login_attempt_outcome")),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], name=op.f("fk_login_attempt_user_id_app_user"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempt")),
    )
    op.create_index(op.f("ix_login_attempt_username_attempted_at"), "login_attempt", ["username", "attempted_at"])
    op.create_index(op.f("ix_login_attempt_address_attempted_at"), "login_attempt", ["address", "attempted_at"])
    op.create_index(op.f("ix_login_attempt_attempted_at"), "login_attempt", ["attempted_at"])
    op.create_table(
        "login_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("password_fingerprint", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("user_agent", sa.String(255), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], name=op.f("fk_login_session_user_id_app_user"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_login_session_token_hash")),
    )
    op.create_index(op.f("ix_login_session_user_id"), "login_session", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_login_session_user_id"), table_name="login_session")
    op.drop_table("login_session")
    op.drop_index(op.f("ix_login_attempt_attempted_at"), table_name="login_attempt")
    op.drop_index(op.f("ix_login_attempt_address_attempted_at"), table_name="login_attempt")
    op.drop_index(op.f("ix_login_attempt_username_attempted_at"), table_name="login_attempt")
    op.drop_table("login_attempt")
