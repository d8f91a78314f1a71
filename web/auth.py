"""Log in and out (Flask-Login), with Argon2id password hashes and CSRF-protected forms.

Every page except the login page needs a logged-in user. A login lasts
``ALUR_SESSION_HOURS``; the session cookie is HttpOnly, SameSite=Lax and Secure
(see ``web/settings.py``) and holds only the user id and the token of a
server-side session (``engine.logins``): "Keluar" ends that session, "Keluar
dari semua perangkat" every session of the user, so a cookie saved before
either no longer logs anyone in.

Logins are throttled per account and per client address (the policy and its
sources are in ``engine.logins``): during a wait the form answers 429 with
``Retry-After`` (seconds) and says how many minutes to wait, whatever the
password. Every attempt is recorded (time, username typed, account, address,
user agent, outcome; ``/admin/masuk`` shows the record) and logged on the
``alur.web.auth`` logger.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import InputRequired, Length

from engine import logins
from web.accounts import Account, authenticate, load_account, log_in
from web.db import request_session, transaction

__all__ = ["LoginForm", "bp", "client_address", "init_app", "login_manager", "now", "retry_after", "safe_next",
           "wait_message"]

logger = logging.getLogger("alur.web.auth")
bp = Blueprint("auth", __name__)
login_manager = LoginManager()


class LoginForm(FlaskForm):
    """Username and password."""

    username = StringField(_l("Nama pengguna"), validators=[
        InputRequired(_l("Isi nama pengguna.")), Length(max=64)],
        render_kw={"autocomplete": "username", "autofocus": True})
    password = PasswordField(_l("Kata sandi"), validators=[
        InputRequired(_l("Isi kata sandi.")), Length(max=256)],
        render_kw={"autocomplete": "current-password"})
    submit = SubmitField(_l("Masuk"))


def init_app(app: Flask) -> None:
    """Attach Flask-Login and the login/logout routes to ``app``."""
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Silakan masuk terlebih dahulu.")
    login_manager.login_message_category = "info"
    app.register_blueprint(bp)


@login_manager.user_loader
def _load_user(login_id: str) -> Account | None:
    # read in the request's own transaction (web.db): no transaction of its own
    return load_account(request_session(), login_id, now())


def now() -> datetime:
    """The current time (aware UTC) from the app's ``ALUR_CLOCK``, which tests may freeze."""
    moment: datetime = current_app.config["ALUR_CLOCK"]()
    return moment


def client_address() -> str:
    """The client's address: the peer, or ``X-Forwarded-For`` behind ``ALUR_PROXY_COUNT`` trusted proxies."""
    return request.remote_addr or "-"


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site (``/tugas/...``), else None: no open redirects."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc else target


def _restart_session() -> None:
    """Drop everything in the session (old CSRF token included) but the language choice."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def wait_message(wait: timedelta) -> str:
    """"Terlalu banyak percobaan masuk. Coba lagi dalam N menit." with ``wait`` rounded up to whole minutes."""
    minutes = max(1, math.ceil(wait.total_seconds() / 60))
    return ngettext("Terlalu banyak percobaan masuk. Coba lagi dalam %(num)d menit.",
                    "Terlalu banyak percobaan masuk. Coba lagi dalam %(num)d menit.", minutes)


def _throttled(form: LoginForm, wait: timedelta, *, wrong: bool = False) -> ResponseReturnValue:
    """The login page answered 429 with ``Retry-After`` in whole seconds."""
    if wrong:
        flash(_("Nama pengguna atau kata sandi salah."), "danger")
    flash(wait_message(wait), "danger")
    return render_template("auth/login.html", form=form), 429, {"Retry-After": retry_after(wait)}


def retry_after(wait: timedelta) -> str:
    """The ``Retry-After`` header for ``wait``: whole seconds, rounded up (RFC 9110 §10.2.3)."""
    return str(max(1, math.ceil(wait.total_seconds())))


def _attempt(username: str, password: str) -> tuple[Account | None, timedelta | None, bool]:
    """One recorded login attempt: ``(account logged in or None, wait now due or None, password checked)``."""
    address, agent, moment = client_address(), request.headers.get("User-Agent", ""), now()
    with transaction() as db_session:
        wait = logins.throttle_wait(db_session, username=username, address=address, now=moment)
        if wait is not None:
            logins.record_attempt(db_session, username=username, address=address, user_agent=agent,
                                  outcome="throttled", now=moment)
            logger.warning("login throttled: user=%r from %s, %d s to wait", username, address,
                           wait.total_seconds())
            return None, wait, False
        account = authenticate(db_session, username, password)
        logins.record_attempt(db_session, username=username, address=address, user_agent=agent,
                              outcome="failure" if account is None else "success", now=moment)
        if account is None:
            logger.warning("login failed: user=%r from %s", username, address)
            return None, logins.throttle_wait(db_session, username=username, address=address, now=moment), True
        logger.info("login: user=%s from %s", account.username, address)
        return log_in(db_session, account, address=address, user_agent=agent, now=moment,
                      lifetime=current_app.permanent_session_lifetime), None, True


@bp.route("/masuk", methods=("GET", "POST"))
def login() -> ResponseReturnValue:
    """The login form; on success go to ``?next=`` (a local path) or the inbox; 429 while throttled."""
    if current_user.is_authenticated:
        return redirect(url_for("inbox.index"))
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form)
    account, wait, checked = _attempt(form.username.data or "", form.password.data or "")
    if wait is not None:
        return _throttled(form, wait, wrong=checked)
    if account is None:
        flash(_("Nama pengguna atau kata sandi salah."), "danger")
        return render_template("auth/login.html", form=form)
    _restart_session()
    login_user(account)
    session.permanent = True
    return redirect(safe_next(request.args.get("next")) or url_for("inbox.index"))


@bp.post("/keluar")
@login_required
def logout() -> ResponseReturnValue:
    """Log out on this device: end its server-side session (a POST with the CSRF token)."""
    with transaction() as db_session:
        logins.end_session(db_session, current_user.session_token)
    logger.info("logout: user=%s", current_user.username)
    logout_user()
    _restart_session()
    flash(_("Anda telah keluar."), "info")
    return redirect(url_for("auth.login"))


@bp.post("/keluar/semua")
@login_required
def logout_everywhere() -> ResponseReturnValue:
    """Keluar dari semua perangkat: end every session of the user, this one included."""
    with transaction() as db_session:
        ended = logins.end_user_sessions(db_session, current_user.id)
    logger.info("logout everywhere: user=%s, %d sessions ended", current_user.username, ended)
    logout_user()
    _restart_session()
    flash(_("Anda telah keluar dari semua perangkat."), "info")
    return redirect(url_for("auth.login"))
