"""Alur's web inbox: a Flask app built by :func:`create_app`.

One blueprint per area — ``auth`` (log in/out), ``inbox``, ``instances``
(start an SOP, an instance's page), ``tasks`` (the task page and its form),
``api`` (the JSON API under ``/api/v1``, described by ``web.openapi``),
``password`` (change one's password), ``admin`` (the login record),
``audit`` (Ruang Auditor: search, exports, verification, re-execution,
the compliance report),
``sop_import`` (an existing SOP document to draft diagrams and an import report) —
plus ``i18n`` (language, dates) and ``errors`` (every error to an HTTP status,
in one place). Each user action is one database transaction (``web.db``); the
app talks to the engine's public API, never to SpiffWorkflow. Blueprints are
imported inside the factory, so importing ``web`` (as the ``alur`` command line
does) loads no web code.

Security: every form carries a CSRF token (Flask-WTF's ``CSRFProtect`` refuses a
POST without one: 400; API calls send it in the ``X-CSRFToken`` header); session
cookies are HttpOnly, SameSite=Lax and Secure; responses forbid framing and
sniffing and allow only the app's own scripts and styles (Content-Security-Policy);
with secure cookies (``ALUR_SESSION_COOKIE_SECURE``, production behind HTTPS)
every response also carries ``Strict-Transport-Security`` for a year, so the
browser never tries plain HTTP again; without them (local development) it does not.

Ids in URLs: every route names a database id with the ``id`` converter
(:class:`DatabaseIdConverter`, 1 to 2147483647, the range of an INTEGER column on
both SQLite and PostgreSQL) and a task id with ``task_id`` (:class:`TaskIdConverter`,
a UUID), and a BPMN process id with ``bpmn_id`` (:class:`BpmnIdConverter`);
anything else does not match a route: 404, never a database error.

Logins are throttled and recorded, and sessions end on the server (``web.auth``,
``engine.logins``); behind ``ALUR_PROXY_COUNT`` proxies the client address is
read from ``X-Forwarded-For`` (Werkzeug's ``ProxyFix``).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, Response, current_app
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import BaseConverter, IntegerConverter, Map

from storage.models import MAX_ID

__all__ = ["BpmnIdConverter", "DatabaseIdConverter", "TaskIdConverter", "create_app"]

logger = logging.getLogger(__name__)

_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; "
                               "base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
_HSTS = "max-age=31536000"  # one year (RFC 6797); no includeSubDomains: other hosts of the office's domain



class DatabaseIdConverter(IntegerConverter):
    """``<id:name>``: a database id, an integer 1..2147483647 written in plain digits."""

    def __init__(self, url_map: Map) -> None:
        super().__init__(url_map, min=1, max=MAX_ID)


class TaskIdConverter(BaseConverter):
    """``<task_id:name>``: a task id, the lowercase UUID SpiffWorkflow gives a task (a ``str``)."""

    regex = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


class BpmnIdConverter(BaseConverter):
    """``<bpmn_id:name>``: a BPMN process id: 1 to 128 characters, no slash or control character."""

    regex = r"[^/\x00-\x1f\x7f-\x9f]{1,128}"


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app from the ``ALUR_*`` environment, overridden by ``test_config``.

    ``test_config`` may set any Flask setting and ``ALUR_DATABASE_URL`` (default:
    ``engine.settings``). The database must be migrated, with the diagrams
    deployed (``alur init``). Raises ``ValueError`` for a bad setting.
    """
    from flask_bootstrap import Bootstrap5
    from flask_wtf.csrf import CSRFProtect

    from engine.settings import load_settings
    from web import (
        admin,
        admin_policy,
        api,
        assets,
        audit,
        auth,
        cases,
        claims,
        db,
        designations,
        documents,
        errors,
        i18n,
        inbox,
        instances,
        notifications,
        org_admin,
        org_import,
        password,
        password_links,
        sop_dokumen,
        sop_import,
        studio,
        tasks,
    )
    from web.settings import load_web_settings

    settings = load_web_settings()
    app = Flask(__name__)
    app.config.from_mapping(
        ALUR_DATABASE_URL=load_settings().database_url,
        ALUR_INSTANSI=load_settings().instansi,
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_NAME="alur_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_hours),
        WTF_CSRF_TIME_LIMIT=None,  # a form's token lives as long as the login itself
        BOOTSTRAP_SERVE_LOCAL=True,  # offices may have no internet: no CDN
        ALUR_PROXY_COUNT=settings.proxy_count,
        ALUR_CLOCK=lambda: datetime.now(UTC),  # the time logins are throttled and expire by; tests freeze it
    )
    if test_config is not None:
        app.config.from_mapping(test_config)
    if app.config["ALUR_PROXY_COUNT"]:
        count = app.config["ALUR_PROXY_COUNT"]
        # Flask's documented way to wrap the WSGI app ("Tell Flask it is Behind a Proxy"); mypy sees a method.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)  # type: ignore[method-assign]
    if not app.config["SECRET_KEY"]:
        logger.warning("ALUR_SECRET_KEY is not set: using a random key, so logins end when the "
                       "server restarts and several workers cannot share them")
        app.config["SECRET_KEY"] = secrets.token_hex(32)

    app.url_map.converters["id"] = DatabaseIdConverter
    app.url_map.converters["task_id"] = TaskIdConverter
    app.url_map.converters["bpmn_id"] = BpmnIdConverter
    db.init_app(app)
    assets.init_app(app)
    CSRFProtect(app)
    Bootstrap5(app)
    i18n.init_app(app)
    errors.init_app(app)
    auth.init_app(app)
    password.init_app(app)
    admin.init_app(app)
    admin_policy.init_app(app)
    org_admin.init_app(app)
    org_import.init_app(app)
    password_links.init_app(app)
    designations.init_app(app)
    inbox.init_app(app)
    app.register_blueprint(instances.bp)
    app.register_blueprint(tasks.bp)
    app.register_blueprint(sop_import.bp)
    app.register_blueprint(sop_dokumen.bp)
    app.register_blueprint(audit.bp)
    app.register_blueprint(cases.bp)
    app.register_blueprint(claims.bp)
    documents.init_app(app)
    api.init_app(app)
    studio.init_app(app)
    notifications.init_app(app)
    app.after_request(_security_headers)
    return app


def _security_headers(response: Response) -> Response:
    for name, value in _SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if current_app.config["SESSION_COOKIE_SECURE"]:
        response.headers.setdefault("Strict-Transport-Security", _HSTS)
    return response
