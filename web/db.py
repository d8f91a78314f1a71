"""The app's database: one ``engine.database.Database`` per app, one transaction per action.

Views run each user action in ``with transaction() as session:`` — committed
when the block ends, rolled back when it raises — and hand the session to the
engine; no view writes SQL.

A request opens as few transactions as it can: the logged-in user is loaded
(``web.auth``) through :func:`request_session`, whose session and transaction
the request's first ``transaction()`` block then takes over, so a page that
reads in one block runs in one transaction on one connection (one pool
checkout; on PostgreSQL one BEGIN/COMMIT). When no block takes it over, the
request's end rolls it back and closes it (it only read). A user loaded while a
block is running is read in that block's session.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from flask import Flask, current_app, g, has_request_context
from sqlalchemy.orm import Session

from engine.database import Database, open_database
from engine.settings import load_settings

__all__ = ["get_database", "init_app", "request_session", "transaction"]

_KEY = "alur.database"
_PENDING = "_alur_pending_session"  # g: the session request_session() opened, not yet taken over
_ACTIVE = "_alur_active_sessions"  # g: sessions of the transaction() blocks running, innermost last


def init_app(app: Flask) -> None:
    """Open the database named by ``app.config["ALUR_DATABASE_URL"]`` for ``app``."""
    settings = replace(load_settings(), database_url=app.config["ALUR_DATABASE_URL"])
    app.extensions[_KEY] = open_database(settings)
    app.teardown_request(_close_pending)


def get_database() -> Database:
    """The current app's :class:`Database`."""
    database: Database = current_app.extensions[_KEY]
    return database


@contextmanager
def transaction() -> Iterator[Session]:
    """One transaction on the current app's database: commit on success, roll back on error.

    The first block of a request continues the transaction :func:`request_session`
    opened (the logged-in user's reads), if any.
    """
    if not has_request_context():
        with get_database().transaction() as session:
            yield session
        return
    pending: Session | None = g.pop(_PENDING, None)
    active: list[Session] = g.setdefault(_ACTIVE, [])
    if pending is None:
        with get_database().transaction() as session:
            active.append(session)
            try:
                yield session
            finally:
                active.pop()
        return
    active.append(pending)
    try:
        yield pending
        pending.commit()
    except BaseException:
        pending.rollback()
        raise
    finally:
        active.pop()
        pending.close()


def request_session() -> Session:
    """A session to read in at the start of a request: the running block's, else one left open for the next block.

    Only for reads (loading the logged-in user): what is read here is committed
    with the request's first ``transaction()`` block, or rolled back at the
    request's end when there is none. Needs a request context.
    """
    active: list[Session] = g.get(_ACTIVE) or []
    if active:
        return active[-1]
    pending: Session | None = g.get(_PENDING)
    if pending is None:
        pending = get_database().sessions()
        pending.begin()
        setattr(g, _PENDING, pending)
    return pending


def _close_pending(_error: BaseException | None) -> None:
    pending: Session | None = g.pop(_PENDING, None)
    if pending is not None:
        pending.rollback()
        pending.close()
