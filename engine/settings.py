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
``ALUR_BASE_URL``
    the address users open Alur at, for links in e-mails and webhooks; default
    ``http://127.0.0.1:5000``.
``ALUR_SMTP_HOST``, ``ALUR_SMTP_PORT``, ``ALUR_SMTP_TLS``, ``ALUR_SMTP_USER``,
``ALUR_SMTP_PASSWORD``, ``ALUR_SMTP_SENDER``
    the mail server the worker sends notifications through; no host: no
    e-mail. TLS is ``starttls`` (default), ``ssl`` or ``none``; port default 587
    (465 for ``ssl``, 25 for ``none``); sender default ``alur@localhost``.
``ALUR_WORKER_LEASE_SECONDS``, ``ALUR_WORKER_POLL_SECONDS``
    how long a claimed job stays a worker's before another may retry it
    (default 60), and how often an idle worker looks for due jobs (default 2).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DEFAULT_UPLOAD_MAX_BYTES", "MAX_UPLOAD_MAX_BYTES", "MailSettings", "Settings", "load_settings"]

_REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_UPLOAD_MAX_BYTES = 20 * 1024 * 1024
MAX_UPLOAD_MAX_BYTES = 1_000_000_000  # SQLite's longest BLOB by default; PostgreSQL's bytea stops at 1 GiB


_TLS_MODES = {"starttls": 587, "ssl": 465, "none": 25}


@dataclass(frozen=True, kw_only=True)
class MailSettings:
    """The SMTP server of the worker. ``host`` None: e-mail is off. ``tls``: starttls | ssl | none."""

    host: str | None = None
    port: int = 587
    tls: str = "starttls"
    user: str | None = None
    password: str | None = None
    sender: str = "alur@localhost"


@dataclass(frozen=True, kw_only=True)
class Settings:
    """All of Alur's settings. ``database_url`` is a SQLAlchemy URL; ``upload_max_bytes`` in bytes.

    ``instansi`` is the units' parent institution for SOP-AP documents (``None``: not shown).

    ``base_url`` prefixes links in e-mails and webhooks; ``worker_lease_seconds``
    and ``worker_poll_seconds`` are the worker's lease and idle poll interval.
    """

    database_url: str
    bpmn_dir: Path
    upload_max_bytes: int = DEFAULT_UPLOAD_MAX_BYTES
    instansi: str | None = None
    base_url: str = "http://127.0.0.1:5000"
    mail: MailSettings = MailSettings()
    worker_lease_seconds: float = 60.0
    worker_poll_seconds: float = 2.0


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
        base_url=(env.get("ALUR_BASE_URL") or "http://127.0.0.1:5000").rstrip("/"),
        mail=_mail_settings(env),
        worker_lease_seconds=_positive(env, "ALUR_WORKER_LEASE_SECONDS", 60.0),
        worker_poll_seconds=_positive(env, "ALUR_WORKER_POLL_SECONDS", 2.0),
    )


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    try:
        value = float(env.get(name) or default)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number of seconds, not {env.get(name)!r}") from exc
    if not 0 < value <= 86400:
        raise ValueError(f"{name} must be more than 0 and at most 86400 seconds, not {value}")
    return value


def _mail_settings(env: Mapping[str, str]) -> MailSettings:
    """Read the ``ALUR_SMTP_*`` settings. Raises ``ValueError`` for an unknown TLS mode or bad port."""
    tls = (env.get("ALUR_SMTP_TLS") or "starttls").strip().lower()
    if tls not in _TLS_MODES:
        raise ValueError(f"ALUR_SMTP_TLS must be one of {', '.join(_TLS_MODES)}, not {tls!r}")
    port_text = env.get("ALUR_SMTP_PORT") or str(_TLS_MODES[tls])
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ValueError(f"ALUR_SMTP_PORT must be a port number from 1 to 65535, not {port_text!r}")
    return MailSettings(
        host=env.get("ALUR_SMTP_HOST") or None, port=int(port_text), tls=tls,
        user=env.get("ALUR_SMTP_USER") or None, password=env.get("ALUR_SMTP_PASSWORD") or None,
        sender=env.get("ALUR_SMTP_SENDER") or "alur@localhost",
    )
