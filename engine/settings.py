"""Alur's settings: read from the environment, under the ``ALUR_`` prefix, in one place.

| variable | default | meaning |
|---|---|---|
| ``ALUR_DATABASE_URL`` | ``sqlite:///alur.sqlite3`` (in the working directory) | SQLAlchemy URL; PostgreSQL as ``postgresql+psycopg://user@host:5432/db`` |
| ``ALUR_BPMN_DIR`` | the repository's ``bpmn/`` | diagrams deployed by ``alur init`` |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Settings", "load_settings"]

_REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True, kw_only=True)
class Settings:
    """All of Alur's settings. ``database_url`` is a SQLAlchemy URL."""

    database_url: str
    bpmn_dir: Path


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read :class:`Settings` from ``environ`` (default: ``os.environ``)."""
    env = os.environ if environ is None else environ
    default_db = f"sqlite:///{Path.cwd() / 'alur.sqlite3'}"
    return Settings(
        database_url=env.get("ALUR_DATABASE_URL") or default_db,
        bpmn_dir=Path(env.get("ALUR_BPMN_DIR") or _REPO_ROOT / "bpmn"),
    )
