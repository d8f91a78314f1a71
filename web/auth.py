"""Log in and out (Flask-Login), with Argon2id password hashes and CSRF-protected forms.

Every page except the login page needs a logged-in user. A login lasts
``ALUR_SESSION_HOURS``; the session cookie is HttpOnly, SameSite=Lax and Secure
(see ``web/settings.py``). Failed logins are logged with the username tried.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Blueprint, Flask, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import InputRequired, Length

from web.accounts import Account, authenticate, load_account
from web.db import transaction

__all__ = ["LoginForm", "bp", "init_app", "login_manager", "safe_next"]

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
    with transaction() as db_session:
        return load_account(db_session, login_id)


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


@bp.route("/masuk", methods=("GET", "POST"))
def login() -> ResponseReturnValue:
    """The login form; on success go to ``?next=`` (a local path) or the inbox."""
    if current_user.is_authenticated:
        return redirect(url_for("inbox.index"))
    form = LoginForm()
    if form.validate_on_submit():
        with transaction() as db_session:
            account = authenticate(db_session, form.username.data or "", form.password.data or "")
        if account is None:
            logger.warning("login failed: user=%r from %s", form.username.data, request.remote_addr)
            flash(_("Nama pengguna atau kata sandi salah."), "danger")
        else:
            _restart_session()
            login_user(account)
            session.permanent = True
            logger.info("login: user=%s from %s", account.username, request.remote_addr)
            return redirect(safe_next(request.args.get("next")) or url_for("inbox.index"))
    return render_template("auth/login.html", form=form)


@bp.post("/keluar")
@login_required
def logout() -> ResponseReturnValue:
    """Log out (a POST with the CSRF token, so no other site can log a user out)."""
    logger.info("logout: user=%s", current_user.username)
    logout_user()
    _restart_session()
    flash(_("Anda telah keluar."), "info")
    return redirect(url_for("auth.login"))
