"""Ganti kata sandi: a user changes their own password, which ends their other sessions.

The policy follows NIST SP 800-63B §5.1.1.2 (memorized secrets): at least 10
characters (the standard's floor is 8; Alur asks a little more), at most 256,
any characters; refused when it is on a list of commonly used passwords
(``web/data/common-passwords.txt``, also with trailing digits and symbols
dropped: "bismillah123!"), has fewer than 4 different characters, contains the
username or NIP, or is the current password. No composition rules and no
forced expiry (the same section advises against both). The current password is
required; wrong ones count as failed logins for the throttle (``engine.logins``).
The hash stays Argon2id (``web.accounts``).
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import PasswordField, SubmitField
from wtforms.validators import EqualTo, InputRequired, Length

from engine import logins
from web.accounts import check_password, hash_password
from web.auth import client_address, now, retry_after, wait_message
from web.db import transaction

__all__ = ["MIN_LENGTH", "PasswordForm", "bp", "init_app", "password_problem"]

logger = logging.getLogger("alur.web.auth")
bp = Blueprint("password", __name__)

MIN_LENGTH = 10
MAX_LENGTH = 256
_COMMON_FILE = Path(__file__).resolve().parent / "data" / "common-passwords.txt"
_TRAILING = "0123456789!@#$%^&*()-_=+.,;:?~ "


@cache
def _common() -> frozenset[str]:
    lines = _COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def password_problem(password: str, *, username: str, nip: str | None) -> str | None:
    """Why ``password`` may not be a new password for ``username`` (NIP ``nip``), or None if it may.

    Only the policy of the module docstring; length is checked too. The answer
    is a translated sentence for the form.
    """
    if len(password) < MIN_LENGTH:
        return _("Kata sandi baru paling sedikit %(n)d karakter.", n=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _("Kata sandi baru paling banyak %(n)d karakter.", n=MAX_LENGTH)
    lowered = password.lower()
    if lowered in _common() or lowered.rstrip(_TRAILING) in _common():
        return _("Kata sandi ini terlalu umum dan mudah ditebak. Pilih yang lain.")
    if len(set(password)) < 4:
        return _("Kata sandi baru harus memakai paling sedikit 4 karakter yang berbeda.")
    for own in (username, nip):
        if own and own.lower() in lowered:
            return _("Kata sandi baru tidak boleh memuat nama pengguna atau NIP Anda.")
    return None


class PasswordForm(FlaskForm):
    """The current password, the new one, and the new one again."""

    current = PasswordField(_l("Kata sandi sekarang"), validators=[
        InputRequired(_l("Isi kata sandi sekarang.")), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"})
    new = PasswordField(_l("Kata sandi baru"), validators=[InputRequired(_l("Isi kata sandi baru."))],
                        render_kw={"autocomplete": "new-password", "minlength": MIN_LENGTH})
    repeat = PasswordField(_l("Ulangi kata sandi baru"), validators=[
        InputRequired(_l("Ulangi kata sandi baru.")), EqualTo("new", _l("Kedua kata sandi baru tidak sama."))],
        render_kw={"autocomplete": "new-password"})
    submit = SubmitField(_l("Ganti kata sandi"))


def init_app(app: Flask) -> None:
    """Register the page on ``app``."""
    app.register_blueprint(bp)


def _page(form: PasswordForm, status: int = 200,
          headers: dict[str, str] | None = None) -> ResponseReturnValue:
    return render_template("auth/password.html", form=form), status, headers or {}


def _refuse_current(session: Session, form: PasswordForm, address: str) -> ResponseReturnValue | None:
    """The answer when the current password may not be checked (429) or is wrong (422, recorded); else None."""
    moment = now()
    wait = logins.throttle_wait(session, username=current_user.username, address=address, now=moment)
    if wait is not None:
        form.current.errors = [wait_message(wait)]
        return _page(form, 429, {"Retry-After": retry_after(wait)})
    if not check_password(session, current_user.id, form.current.data or ""):
        logins.record_attempt(session, username=current_user.username, address=address,
                              user_agent=request.headers.get("User-Agent", ""), outcome="failure", now=moment)
        logger.warning("password change refused: user=%s from %s: wrong current password",
                       current_user.username, address)
        form.current.errors = [_("Kata sandi sekarang salah.")]
        return _page(form, 422)
    if form.current.data == form.new.data:
        form.new.errors = [_("Kata sandi baru harus berbeda dari kata sandi sekarang.")]
        return _page(form, 422)
    return None


@bp.route("/akun/kata-sandi", methods=("GET", "POST"))
@login_required
def change() -> ResponseReturnValue:
    """The form; a changed password keeps this session and ends every other one. 422 refused, 429 throttled."""
    form = PasswordForm()
    if not form.validate_on_submit():
        return _page(form, 422 if form.is_submitted() else 200)
    new = form.new.data or ""
    problem = password_problem(new, username=current_user.username, nip=current_user.nip)
    if problem is not None:
        form.new.errors = [problem]
        return _page(form, 422)
    address = client_address()
    with transaction() as session:  # a refusal is recorded: it commits too
        refusal = _refuse_current(session, form, address)
        if refusal is not None:
            return refusal
        ended = logins.change_password(session, current_user.id, hash_password(new),
                                       keep_token=current_user.session_token)
    logger.info("password changed: user=%s from %s, %d other sessions ended", current_user.username, address, ended)
    flash(_("Kata sandi telah diganti. Sesi Anda di perangkat lain telah diakhiri."), "success")
    return redirect(url_for("inbox.index"))
