"""Engines and session factories for SQLite and PostgreSQL.

Transactions and concurrency
----------------------------
Alur settles every race with a *conditional UPDATE* that the database
serializes: ``UPDATE human_task ... WHERE id=:id AND state='ready'`` and
``UPDATE process_instance ... WHERE id=:id AND lock_version=:expected``. The
loser of a race sees 0 rows and raises ``TaskAlreadyCompleted`` or
``StaleInstanceError``. Both backends are set up so the loser *waits* for the
winner and then re-evaluates the WHERE clause, instead of failing with a
low-level locking error:

* PostgreSQL runs at READ COMMITTED (stated explicitly): a second UPDATE of the
  same row blocks on the row lock, then re-checks its WHERE against the
  committed row.
* SQLite keeps SQLite's default *deferred* transactions, but Alur (not the
  ``sqlite3`` driver) decides when ``BEGIN`` is sent: just before the first
  statement that writes (INSERT/UPDATE/DELETE/REPLACE, DDL) or sets a SAVEPOINT.
  Reads before that run on the latest committed data, as under READ COMMITTED.
  Because the write is the first statement of its transaction, SQLite waits up
  to ``busy_timeout`` for the write lock and then takes a *fresh* snapshot, so a
  concurrent writer serializes behind the winner. (Had BEGIN come before the
  reads, SQLite could not upgrade the stale read snapshot and would fail at once
  with "database is locked"; ``BEGIN IMMEDIATE`` would serialize every
  transaction, read-only ones included.) Sending BEGIN before a SAVEPOINT makes
  savepoints nest inside the transaction, so rolling it back undoes released
  savepoints, and before DDL makes migrations atomic. This is SQLAlchemy's
  recipe of taking over BEGIN from the driver, made lazy; do not change the
  isolation level of SQLite connections through execution options, which hands
  transaction control back to the driver.

WAL lets readers proceed while one writer writes. Foreign keys are enforced.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

__all__ = ["SQLITE_BUSY_TIMEOUT_MS", "hold", "make_engine", "make_session_factory", "sync_loaded", "transaction_memo"]

SQLITE_BUSY_TIMEOUT_MS = 10_000
_SQLITE_BEGIN_BEFORE = frozenset(
    {"INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER", "SAVEPOINT"}
)


def make_engine(url: str) -> Engine:
    """Create an Engine for a ``sqlite:`` or ``postgresql:`` URL.

    ``postgresql://`` and ``postgres://`` are rewritten to psycopg 3
    (``postgresql+psycopg://``). Raises ``ValueError`` for any other backend.
    """
    parsed = _normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed)
        _configure_sqlite(engine)
        return engine
    return create_engine(parsed, isolation_level="READ COMMITTED", pool_pre_ping=True)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return a session factory bound to ``engine`` with ``expire_on_commit=False``.

    Callers own the transaction: ``with factory.begin() as session: ...``.
    """
    return sessionmaker(bind=engine, expire_on_commit=False)


def sync_loaded(session: Session, model: type[Any], ids: Iterable[object], values: dict[str, Any]) -> None:
    """Give the rows of ``model`` with primary keys ``ids`` already loaded in ``session`` the ``values`` just
    written by a conditional UPDATE (``synchronize_session=False``), as committed values.

    The UPDATEs that settle races (see the module docstring) bypass the ORM; objects
    of the same rows loaded earlier would otherwise show the old values until
    expired. Rows not loaded are left alone (no query). ``values``: column
    attribute name -> value as written.
    """
    for key in ids:
        loaded = session.identity_map.get(identity_key(model, key))
        if loaded is not None:
            for name, value in values.items():
                set_committed_value(loaded, name, value)


def hold(session: Session, key: tuple[type, object], obj: object) -> None:
    """Keep ``obj`` (loaded under ``key``: its class and primary key) in ``session`` until the session ends.

    SQLAlchemy's identity map holds objects weakly: a row read by id, turned into
    a view and dropped is read again by the next ``session.get`` of the same id.
    Held objects stay in the identity map, so a request that asks for one task,
    instance, user or unit several times reads it once. They are what
    ``session.get`` would return anyway (expired on rollback as usual).
    """
    session.info.setdefault("alur.held", {})[key] = obj


_MEMOS = "alur.memos"  # session.info: name -> (models it depends on or None, {key: value})


def transaction_memo(session: Session, name: str, depends_on: tuple[type, ...] | None = None) -> dict[Any, Any]:
    """A dict to remember reads in for the rest of ``session``'s transaction, under ``name``.

    Emptied when the transaction ends, and when the session flushes a write:
    any write if ``depends_on`` is None, else only a write of a row of those
    model classes (an ORM write; a bulk ``UPDATE`` statement is not seen, so a
    memo must not depend on rows written that way). A request asks for the same
    rules several times (the user's roles, a unit's calendar); this is the one
    place they are remembered and forgotten.
    """
    memos: dict[str, tuple[tuple[type, ...] | None, dict[Any, Any]]] = session.info.setdefault(_MEMOS, {})
    if name not in memos:
        memos[name] = (depends_on, {})
    return memos[name][1]


@event.listens_for(Session, "after_flush")
def _forget_on_write(session: Session, _context: object) -> None:
    memos: dict[str, tuple[tuple[type, ...] | None, dict[Any, Any]]] | None = session.info.get(_MEMOS)
    if not memos:
        return
    written = [*session.new, *session.dirty, *session.deleted]  # still the flushed rows in after_flush
    for name, (depends_on, _values) in list(memos.items()):
        if depends_on is None or any(isinstance(row, depends_on) for row in written):
            del memos[name]


@event.listens_for(Session, "after_transaction_end")
def _forget_at_end(session: Session, _transaction: object) -> None:
    session.info.pop(_MEMOS, None)


def _normalize_url(url: str) -> URL:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ValueError(f"unsupported database URL {parsed!r}: use sqlite or postgresql")
    return parsed


def _configure_sqlite(engine: Engine) -> None:
    event.listen(engine, "connect", _on_sqlite_connect)
    event.listen(engine, "before_cursor_execute", _begin_before_write)


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take BEGIN away from the sqlite3 driver; _begin_before_write sends it.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


def _begin_before_write(
    conn: Any, cursor: Any, statement: str, _params: Any, _context: Any, _many: bool
) -> None:
    if conn.connection.dbapi_connection.in_transaction:
        return
    words = statement.lstrip().split(None, 1)
    if words and words[0].upper() in _SQLITE_BEGIN_BEFORE:
        cursor.execute("BEGIN")
