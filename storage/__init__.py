"""Storage layer of Alur: SQLAlchemy models, Alembic migrations and query functions.

Query functions take a ``Session`` first and never commit: the caller (engine,
CLI, web request) owns the transaction. ``storage`` imports neither Flask, nor
``web``, nor SpiffWorkflow.

Modules: ``errors`` (the project's exception tree), ``models``, ``db`` (engines,
session factories), ``migrate`` (Alembic upgrade), ``org``, ``definitions``,
``instances``, ``tasks``, ``history``, ``documents``, ``calendar``, ``demo``, ``grants``,
``logins`` (login attempts and login sessions).
"""

__all__ = [
    "calendar",
    "db",
    "definitions",
    "demo",
    "documents",
    "errors",
    "grants",
    "history",
    "instances",
    "logins",
    "migrate",
    "models",
    "org",
    "tasks",
]
