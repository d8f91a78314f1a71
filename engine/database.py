"""The database an Alur process works against: engine, migrations, transactions.

Callers (command line, web) open one :class:`Database` from the settings and run
each user action in ``with database.transaction() as session:`` — committed when
the block ends, rolled back when it raises.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from engine.settings import Settings
from engine.templates import TemplateDeployment, deploy_templates, template_files
from storage import db, demo, migrate

__all__ = ["Database", "open_database"]


@dataclass(frozen=True)
class Database:
    """A SQLAlchemy engine and its session factory."""

    engine: Engine
    sessions: sessionmaker[Session]

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One transaction: commit on success, roll back on error."""
        with self.sessions.begin() as session:
            yield session

    def migrate(self) -> None:
        """Create or upgrade the schema to the newest Alembic revision."""
        migrate.upgrade(self.engine)

    def initialize(self, bpmn_dir: Path, *, demo: bool = True, force: bool = False) -> TemplateDeployment:
        """Set up as ``alur init`` does: migrate, deploy every diagram of ``bpmn_dir``, load the demo org.

        Idempotent: unchanged diagrams keep their versions, demo data is not duplicated.
        An SOP whose newest version was made in the studio is kept (listed in the
        result) unless ``force`` (``engine.templates``). Raises ``DeployError``
        (nothing deployed) for a bad diagram.
        """
        self.migrate()
        with self.transaction() as session:
            deployed = deploy_templates(session, template_files(bpmn_dir), force=force)
        if demo:
            self.load_demo_org()
        return deployed

    def load_demo_org(self) -> None:
        """Load the three demo units and their users (idempotent)."""
        with self.transaction() as session:
            demo.load_demo_org(session)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def open_database(settings: Settings) -> Database:
    """Open the database named by ``settings.database_url`` (not migrated yet)."""
    engine = db.make_engine(settings.database_url)
    return Database(engine, db.make_session_factory(engine))
