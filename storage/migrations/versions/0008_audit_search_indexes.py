"""audit search and report: trigram index on titles (PostgreSQL), keyset indexes, longest waits

The auditors' search (``storage.search``) looks for part of a title with
``ILIKE '%…%'``, which no B-tree serves: on PostgreSQL a GIN index with the
``pg_trgm`` operator class answers it (``CREATE EXTENSION IF NOT EXISTS
pg_trgm``; the extension goes into ``public`` when that schema exists, so that
dropping an application schema never drops it for others). SQLite has no
trigram index and keeps scanning titles (its databases are small). Three
composite indexes follow the keyset order (``started_at DESC, id DESC``) under
the status and SOP filters and for the instances a participant started;
``ix_human_task_longest`` gives the compliance report its longest waits
without sorting a year of steps.

The trigram index is not declared in ``storage.models`` (SQLAlchemy cannot
declare an index for one dialect only); ``storage.models.POSTGRES_ONLY_INDEXES``
names it so that the model/migration comparison leaves it aside.

Revision ID: 0008
Revises: 0009
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGRAM_INDEX = "ix_process_instance_title_trgm"


def upgrade() -> None:
    op.create_index("ix_process_instance_status_started", "process_instance", ["status", "started_at", "id"])
    op.create_index("ix_process_instance_definition_started", "process_instance",
                    ["definition_id", "started_at", "id"])
    op.create_index("ix_human_task_longest", "human_task", ["state", "working_minutes"])
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    has_public = bind.execute(sa.text("SELECT count(*) FROM pg_namespace WHERE nspname = 'public'")).scalar_one()
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm" + (" WITH SCHEMA public" if has_public else ""))
    schema = bind.execute(sa.text(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'pg_trgm'")).scalar_one()
    op.execute(f'CREATE INDEX {TRIGRAM_INDEX} ON process_instance USING gin (title "{schema}".gin_trgm_ops)')


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index(TRIGRAM_INDEX, table_name="process_instance")  # the extension stays: others may use it
    op.drop_index("ix_human_task_longest", table_name="human_task")
    op.drop_index("ix_process_instance_definition_started", table_name="process_instance")
    op.drop_index("ix_process_instance_status_started", table_name="process_instance")
