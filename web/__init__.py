"""Alur's web inbox: a Flask app built by :func:`create_app`.

One blueprint per area — ``auth`` (log in/out), ``inbox``, ``instances``
(start an SOP, an instance's page), ``tasks`` (the task page and its form),
``api`` (the JSON API under ``/api/v1``, described by ``web.openapi``) —
plus ``i18n`` (language, dates) and ``errors`` (every error to an HTTP status,
in one place). Each user action is one database transaction (``web.db``); the
app talks to the engine's public API, never to SpiffWorkflow. Blueprints are
imported inside the factory, so importing ``web`` (as the ``alur`` command line
does) loads no web code.

Security: every form carries a CSRF token (Flask-WTF's ``CSRFProtect`` refuses a
POST without one: 400; API calls send it in the ``X-CSRFToken`` header); session
cookies are HttpOnly, SameSite=Lax and Secure; responses forbid framing and
sniffing and allow only the app's own scripts and styles (Content-Security-Policy).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import Flask, Response

__all__ = ["create_app"]

logger = logging.getLogger(__name__)

_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; "
                               "base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app from the ``ALUR_*`` environment, overridden by ``test_config``.

    ``test_config`` may set any Flask setting and ``ALUR_DATABASE_URL`` (default:
    ``engine.settings``). The database must be migrated, with the diagrams
    deployed (``alur init``). Raises ``ValueError`` for a bad setting.
    """
    from flask_bootstrap import Bootstrap5
    from flask_wtf.csrf import CSRFProtect

    from engine.settings import load_settings
    from web import api, auth, db, documents, errors, i18n, inbox, instances, notifications, tasks
    from web.settings import load_web_settings

    settings = load_web_settings()
    app = Flask(__name__)
    app.config.from_mapping(
        ALUR_DATABASE_URL=load_settings().database_url,
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_NAME="alur_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_hours),
        WTF_CSRF_TIME_LIMIT=None,  # a form's token lives as long as the login itself
        BOOTSTRAP_SERVE_LOCAL=True,  # offices may have no internet: no CDN
    )
    if test_config is not None:
        app.config.from_mapping(test_config)
    if not app.config["SECRET_KEY"]:
        logger.warning("ALUR_SECRET_KEY is not set: using a random key, so logins end when the "
                       "server restarts and several workers cannot share them")
        app.config["SECRET_KEY"] = secrets.token_hex(32)

    db.init_app(app)
    CSRFProtect(app)
    Bootstrap5(app)
    i18n.init_app(app)
    errors.init_app(app)
    auth.init_app(app)
    inbox.init_app(app)
    app.register_blueprint(instances.bp)
    app.register_blueprint(tasks.bp)
    documents.init_app(app)
    api.init_app(app)
    notifications.init_app(app)
    app.after_request(_security_headers)
    return app


def _security_headers(response: Response) -> Response:
    for name, value in _SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
