"""The app's database: one ``engine.database.Database`` per app, one transaction per action.

Views run each user action in ``with transaction() as session:`` — committed
when the block ends, rolled back when it raises — and hand the session to the
engine; no view writes SQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from flask import Flask, current_app
from sqlalchemy.orm import Session

from engine.database import Database, open_database
from engine.settings import load_settings

__all__ = ["get_database", "init_app", "transaction"]

_KEY = "alur.database"


def init_app(app: Flask) -> None:
    """Open the database named by ``app.config["ALUR_DATABASE_URL"]`` for ``app``."""
    settings = replace(load_settings(), database_url=app.config["ALUR_DATABASE_URL"])
    app.extensions[_KEY] = open_database(settings)


def get_database() -> Database:
    """The current app's :class:`Database`."""
    database: Database = current_app.extensions[_KEY]
    return database


@contextmanager
def transaction() -> Iterator[Session]:
    """One transaction on the current app's database: commit on success, roll back on error."""
    with get_database().transaction() as session:
        yield session
