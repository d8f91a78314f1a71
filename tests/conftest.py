"""Shared pytest fixtures.

Storage fixtures: every test that asks for ``engine`` or ``session`` runs once
per backend: SQLite (a temporary file) always, PostgreSQL too when
``ALUR_TEST_POSTGRES_URL`` is set (each database is a new schema, dropped
afterwards, so runs never see each other's rows).

- ``backend``            "sqlite" | "postgresql" (session scope, parametrized)
- ``db_url``             URL of a new empty database for the test session
- ``engine``             ``db_url`` migrated to head (session scope)
- ``session_factory``    sessionmaker on ``engine``
- ``session``            a Session inside an outer transaction rolled back after the test
- ``demo_session``       ``session`` with the demo organisation loaded
- ``scratch_db_url``     a new empty database for one test
- ``isolated_engine``    ``scratch_db_url`` migrated: for tests that commit from
                         several connections (concurrency)
- ``new_instance``       stores a process definition and a running instance
- ``race``               runs two transactions in two threads that meet before writing

Password hashes (every test, in this process): ``web.accounts`` hashes with Argon2id at
RFC 9106's low-memory parameters (t=3, 64 MiB, p=4: ~0.1 s a hash or a check). The tests
first check that those are the parameters, then swap in Argon2id with the cheapest ones
(t=1, 8 KiB, p=1) so that the 44 demo passwords of every template and every login cost
microseconds. A hash keeps its own parameters, so checks work either way. Subprocesses
(``alur init`` in the CLI and gunicorn tests) still hash with the real parameters.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from argon2 import PasswordHasher, Type
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from storage import definitions, instances, org
from storage.db import make_engine, make_session_factory
from storage.demo import load_demo_org
from storage.errors import ConflictError
from storage.migrate import upgrade
from storage.models import ProcessInstance

POSTGRES_URL_ENV = "ALUR_TEST_POSTGRES_URL"


# --- passwords: cheap Argon2id in tests ---------------------------------------


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashes() -> Iterator[None]:
    """Argon2id with the cheapest parameters for the test session (see the module docstring)."""
    from web import accounts  # web's hasher; storage and engine tests never hash

    real = accounts._hasher
    assert (real.type, real.time_cost, real.memory_cost, real.parallelism) == (Type.ID, 3, 65536, 4), \
        "web.accounts no longer hashes with Argon2id at RFC 9106's low-memory parameters"
    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=Type.ID)
    accounts._dummy_hash.cache_clear()
    try:
        yield
    finally:
        accounts._hasher = real
        accounts._dummy_hash.cache_clear()


# --- storage: databases -------------------------------------------------------


def _backends() -> list[str]:
    return ["sqlite", "postgresql"] if os.environ.get(POSTGRES_URL_ENV) else ["sqlite"]


@contextmanager
def _scratch_database(backend: str, directory: Path) -> Iterator[str]:
    """Yield the URL of a new, empty database and remove it afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{directory / 'alur.sqlite3'}"
        return
    base_url = os.environ[POSTGRES_URL_ENV]
    schema = f"alur_test_{uuid.uuid4().hex[:16]}"
    admin = make_engine(base_url)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@contextmanager
def _migrated_engine(url: str) -> Iterator[Engine]:
    engine = make_engine(url)
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()


@pytest.fixture(scope="session", params=_backends())
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend under test: "sqlite" or "postgresql"."""
    return request.param


@pytest.fixture(scope="session")
def db_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a new empty database shared by the whole test session."""
    with _scratch_database(backend, tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture(scope="session")
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on ``db_url``, migrated to the newest revision."""
    with _migrated_engine(db_url) as migrated:
        yield migrated


@pytest.fixture(scope="session")
def session_factory(engine: Engine) -> sessionmaker[Session]:
    """The application's session factory on ``engine``."""
    return make_session_factory(engine)


@pytest.fixture
def session(engine: Engine, session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work is rolled back after the test, even if the test commits."""
    with engine.connect() as connection:
        outer = connection.begin()
        test_session = session_factory(
            bind=connection, join_transaction_mode="create_savepoint"
        )
        try:
            yield test_session
        finally:
            test_session.close()
            outer.rollback()


@pytest.fixture
def demo_session(session: Session) -> Session:
    """``session`` with the demo organisation (storage.demo) loaded."""
    load_demo_org(session)
    return session


@pytest.fixture
def scratch_db_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """URL of a new empty database for this test alone."""
    with _scratch_database(backend, tmp_path) as url:
        yield url


@pytest.fixture
def isolated_engine(scratch_db_url: str) -> Iterator[Engine]:
    """A migrated engine on a database of its own, for tests that really commit."""
    with _migrated_engine(scratch_db_url) as migrated:
        yield migrated


# --- storage: sample rows -----------------------------------------------------


NewInstance = Callable[..., ProcessInstance]


@pytest.fixture
def new_instance() -> NewInstance:
    """Return ``make(session, unit_code="kecamatan-contoh", process_id="sop_uji")``.

    It loads the demo organisation if needed, deploys a tiny definition of
    ``process_id`` (once per file content) and starts an instance in the unit,
    started by the unit's first user.
    """

    def make(
        session: Session,
        *,
        unit_code: str = "kecamatan-contoh",
        process_id: str = "sop_uji",
    ) -> ProcessInstance:
        load_demo_org(session)
        unit = org.get_unit_by_code(session, unit_code)
        xml = f'<definitions><process id="{process_id}"/></definitions>'
        sha = hashlib.sha256(xml.encode()).hexdigest()
        definition = definitions.find_by_sha(session, process_id, sha) or definitions.add(
            session,
            process_id=process_id,
            name=f"SOP uji {process_id}",
            unit_kind=unit.kind,
            sha256=sha,
            filename=f"{process_id}.bpmn",
            bpmn_xml=xml,
            spec_json="{}",
            meta_json="{}",
        )
        return instances.create(
            session,
            definition_id=definition.id,
            unit_id=unit.id,
            title=f"Uji {process_id}",
            started_by_id=org.unit_users(session, unit.id)[0].id,
            state_json='{"state": "awal"}',
            serializer_version="1.0",
            called_definitions={},
            input_data={"tahun": 2025},
        )

    return make


# --- storage: concurrency -----------------------------------------------------


Step = Callable[[Session], None]
Race = Callable[[sessionmaker[Session], Step, Step], list[str]]


@pytest.fixture
def race() -> Race:
    """Return ``run(factory, read, write) -> outcomes`` for two concurrent transactions.

    Two threads each open a session from ``factory``, call ``read(session)``, wait
    until both have read, call ``write(session)``, hold their locks for 0.2 s and
    commit. The sorted outcomes are "committed", the class name of the
    ``ConflictError`` raised, or the repr of any other exception.
    """

    def run(factory: sessionmaker[Session], read: Step, write: Step) -> list[str]:
        both_read = threading.Barrier(2, timeout=30)
        outcomes: list[str] = []

        def worker() -> None:
            with factory() as session:
                try:
                    read(session)
                    both_read.wait()
                    write(session)
                    time.sleep(0.2)  # hold the lock: the other writer must wait, not fail
                    session.commit()
                    outcomes.append("committed")
                except ConflictError as exc:
                    session.rollback()
                    outcomes.append(type(exc).__name__)
                except Exception as exc:  # reported to the test, which fails on it
                    session.rollback()
                    outcomes.append(repr(exc))

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        return sorted(outcomes)

    return run
