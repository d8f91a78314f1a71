"""Engines, session factories and transaction behaviour (storage.db)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.db import SQLITE_BUSY_TIMEOUT_MS, make_engine, make_session_factory
from storage.models import Unit, User


@pytest.mark.parametrize("url", ["postgresql://u@h/db", "postgres://u@h/db"])
def test_postgresql_urls_use_psycopg3(url: str) -> None:
    engine = make_engine(url)
    assert engine.url.drivername == "postgresql+psycopg"
    assert engine.dialect.driver == "psycopg"


def test_explicit_psycopg_url_is_kept() -> None:
    assert make_engine("postgresql+psycopg://u@h/db").url.drivername == "postgresql+psycopg"


def test_other_backends_are_refused() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        make_engine("mysql://u@h/db")


def test_sqlite_pragmas(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == SQLITE_BUSY_TIMEOUT_MS
    engine.dispose()


def test_session_factory_keeps_objects_loaded_after_commit(isolated_engine: Engine) -> None:
    factory = make_session_factory(isolated_engine)
    with factory.begin() as session:
        unit = Unit(code="u", name="Unit", kind="dinas", timezone="Asia/Makassar")
        session.add(unit)
    assert unit.code == "u"  # no DetachedInstanceError: expire_on_commit=False


def test_foreign_keys_are_enforced(session: Session) -> None:
    session.add(User(username="x", full_name="X", unit_id=987654))
    with pytest.raises(IntegrityError):
        session.flush()


def test_outer_rollback_undoes_released_savepoint(engine: Engine) -> None:
    """The test-session recipe works: a savepoint nests inside the outer transaction."""
    with engine.connect() as connection:
        outer = connection.begin()
        session = Session(bind=connection, join_transaction_mode="create_savepoint")
        session.add(Unit(code="sementara", name="S", kind="dinas", timezone="Asia/Jakarta"))
        session.commit()  # releases the savepoint only
        session.close()
        outer.rollback()
    with engine.connect() as connection:
        count = connection.scalar(select(func.count()).where(Unit.code == "sementara"))
    assert count == 0


def test_reads_do_not_open_a_sqlite_write_transaction(tmp_path: Path) -> None:
    """SELECTs leave the database unlocked; the first write sends BEGIN."""
    engine = make_engine(f"sqlite:///{tmp_path / 'b.db'}")
    with engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        connection.execute(text("SELECT 1"))
        assert not raw.in_transaction
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
        assert raw.in_transaction
        connection.rollback()
        assert not raw.in_transaction
        assert connection.execute(text("SELECT count(*) FROM sqlite_master")).scalar() == 0
    engine.dispose()
