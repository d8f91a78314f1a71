"""Settings of the web app, read from the environment under the ``ALUR_`` prefix.

The database and diagram settings are the engine's (``engine.settings``); these
are the ones only the web app needs.

``ALUR_SECRET_KEY``
    signs session cookies and CSRF tokens; set it in production — every worker
    must share it. Unset: the app makes a random key per process and logs a warning.
``ALUR_SESSION_COOKIE_SECURE``
    default ``1``; ``0`` sends the session cookie over plain HTTP too (local
    development only).
``ALUR_SESSION_HOURS``
    default ``8``: a login lasts this many hours (one working day).
``ALUR_PROXY_COUNT``
    default ``0``: how many reverse proxies (the HTTPS proxy in front of
    gunicorn) to trust. With ``N > 0`` the client address — which login
    throttling and the login record use — is taken from the ``N``th address from
    the right of ``X-Forwarded-For``, and the scheme from ``X-Forwarded-Proto``
    (Werkzeug's ``ProxyFix``). Leave it ``0`` unless every request passes through
    that many proxies that set those headers: otherwise any client could choose
    its own address and dodge the per-address throttle.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["WebSettings", "load_web_settings"]


@dataclass(frozen=True, kw_only=True)
class WebSettings:
    """The web app's settings; ``session_hours`` is the login lifetime in hours, ``proxy_count`` trusted proxies."""

    secret_key: str | None
    session_cookie_secure: bool
    session_hours: int
    proxy_count: int = 0


def _flag(value: str | None, default: bool) -> bool:
    if value is None or not value.strip():
        return default
    return value.strip().lower() not in ("0", "false", "no", "off")


def load_web_settings(environ: Mapping[str, str] | None = None) -> WebSettings:
    """Read :class:`WebSettings` from ``environ`` (default: ``os.environ``).

    Raises ``ValueError`` when ``ALUR_SESSION_HOURS`` is not a positive integer or
    ``ALUR_PROXY_COUNT`` not an integer from 0 to 10.
    """
    env = os.environ if environ is None else environ
    hours = int(env.get("ALUR_SESSION_HOURS") or 8)
    if hours <= 0:
        raise ValueError(f"ALUR_SESSION_HOURS must be positive, not {hours}")
    proxies = int(env.get("ALUR_PROXY_COUNT") or 0)
    if not 0 <= proxies <= 10:
        raise ValueError(f"ALUR_PROXY_COUNT must be from 0 to 10, not {proxies}")
    return WebSettings(
        secret_key=env.get("ALUR_SECRET_KEY") or None,
        session_cookie_secure=_flag(env.get("ALUR_SESSION_COOKIE_SECURE"), True),
        session_hours=hours,
        proxy_count=proxies,
    )
