"""Alur's settings: read from the environment, under the ``ALUR_`` prefix, in one place.

``ALUR_DATABASE_URL``
    SQLAlchemy URL; default ``sqlite:///alur.sqlite3`` in the working directory;
    PostgreSQL as ``postgresql+psycopg://user@host:5432/db``.
``ALUR_BPMN_DIR``
    diagrams deployed by ``alur init``; default the repository's ``bpmn/``.
``ALUR_UPLOAD_MAX_BYTES``
    largest Output document a step accepts, in bytes; default ``20971520``
    (20 MiB), at most 1,000,000,000 (one database column).
``ALUR_INSTANSI``
    the parent institution of the units (e.g. "Pemerintah Kabupaten Contoh"),
    shown above the unit's name on SOP-AP documents; default none (unit name only).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DEFAULT_UPLOAD_MAX_BYTES", "MAX_UPLOAD_MAX_BYTES", "Settings", "load_settings"]

_REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_UPLOAD_MAX_BYTES = 20 * 1024 * 1024
MAX_UPLOAD_MAX_BYTES = 1_000_000_000  # SQLite's longest BLOB by default; PostgreSQL's bytea stops at 1 GiB


@dataclass(frozen=True, kw_only=True)
class Settings:
    """All of Alur's settings. ``database_url`` is a SQLAlchemy URL; ``upload_max_bytes`` in bytes;
    ``instansi`` the units' parent institution for SOP-AP documents (``None``: not shown)."""

    database_url: str
    bpmn_dir: Path
    upload_max_bytes: int = DEFAULT_UPLOAD_MAX_BYTES
    instansi: str | None = None


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read :class:`Settings` from ``environ`` (default: ``os.environ``).

    Raises ``ValueError`` when ``ALUR_UPLOAD_MAX_BYTES`` is not an integer from 1
    to ``MAX_UPLOAD_MAX_BYTES``.
    """
    env = os.environ if environ is None else environ
    default_db = f"sqlite:///{Path.cwd() / 'alur.sqlite3'}"
    upload_max_bytes = int(env.get("ALUR_UPLOAD_MAX_BYTES") or DEFAULT_UPLOAD_MAX_BYTES)
    if not 1 <= upload_max_bytes <= MAX_UPLOAD_MAX_BYTES:
        raise ValueError(f"ALUR_UPLOAD_MAX_BYTES must be from 1 to {MAX_UPLOAD_MAX_BYTES}, "
                         f"not {upload_max_bytes}")
    return Settings(
        database_url=env.get("ALUR_DATABASE_URL") or default_db,
        bpmn_dir=Path(env.get("ALUR_BPMN_DIR") or _REPO_ROOT / "bpmn"),
        upload_max_bytes=upload_max_bytes,
        instansi=(env.get("ALUR_INSTANSI") or "").strip() or None,
    )
