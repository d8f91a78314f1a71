"""Engine fixtures: a database with every diagram deployed and the demo offices loaded.

Deploying all of ``bpmn/`` takes a moment, so it is done once per test session
into a template SQLite file that each test copies.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.database import Database, open_database
from engine.deploy import deploy_directory
from engine.settings import Settings

BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"


def _settings(url: str) -> Settings:
    return Settings(database_url=url, bpmn_dir=BPMN_DIR)


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file with bpmn/ deployed and the demo org loaded."""
    path = tmp_path_factory.mktemp("template") / "alur.sqlite3"
    database = open_database(_settings(f"sqlite:///{path}"))
    database.migrate()
    with database.transaction() as session:
        deploy_directory(session, BPMN_DIR)
    database.load_demo_org()
    database.dispose()
    return path


@pytest.fixture
def alur_db(template_db: Path, tmp_path: Path) -> Iterator[Database]:
    """A fresh copy of the template database for one test."""
    path = tmp_path / "alur.sqlite3"
    shutil.copy(template_db, path)
    database = open_database(_settings(f"sqlite:///{path}"))
    yield database
    database.dispose()


@pytest.fixture
def empty_db(tmp_path: Path) -> Iterator[Database]:
    """A migrated database with nothing deployed and no demo data."""
    database = open_database(_settings(f"sqlite:///{tmp_path / 'empty.sqlite3'}"))
    database.migrate()
    yield database
    database.dispose()
