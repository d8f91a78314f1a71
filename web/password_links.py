"""Set-password links: issued by an administrator (``/admin/organisasi/pengguna/<id>/tautan-sandi``),
used once by the user (``/atur-sandi/<token>``). The rules are in ``engine.password_links``; the
password policy is ``web.password.password_problem``; hashes are Argon2id (``web.accounts``)."""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import PasswordField, SubmitField
from wtforms.validators import EqualTo, InputRequired

from engine import password_links
from storage.errors import AlurError
from web.accounts import hash_password
from web.auth import now
from web.db import transaction
from web.org_admin import user_in_scope
from web.password import MIN_LENGTH, password_problem

__all__ = ["bp", "init_app", "user_in_scope"]

logger = logging.getLogger("alur.web.auth")
bp = Blueprint("password_links", __name__)


class SetPasswordForm(FlaskForm):
    """The new password, twice."""

    new = PasswordField(_l("Kata sandi baru"), validators=[InputRequired(_l("Isi kata sandi baru."))],
                        render_kw={"autocomplete": "new-password", "minlength": MIN_LENGTH})
    repeat = PasswordField(_l("Ulangi kata sandi baru"), validators=[
        InputRequired(_l("Ulangi kata sandi baru.")), EqualTo("new", _l("Kedua kata sandi baru tidak sama."))],
        render_kw={"autocomplete": "new-password"})
    submit = SubmitField(_l("Simpan kata sandi"))


def init_app(app: Flask) -> None:
    """Register the pages on ``app``."""
    app.register_blueprint(bp)


@bp.post("/admin/organisasi/pengguna/<id:user_id>/tautan-sandi")
@login_required
def issue(user_id: int) -> ResponseReturnValue:
    """Issue a link and show it once to the administrator (404 outside the administrator's units)."""
    with transaction() as session:
        user = user_in_scope(session, user_id)
        try:
            token = password_links.issue(session, user.username, by_id=current_user.id, now=now())
        except AlurError as exc:
            flash(str(exc), "danger")
            return redirect(url_for("org_admin.user_page", user_id=user_id))
        name, username = user.full_name, user.username
    link = url_for(".use", token=token, _external=True)
    logger.info("set-password link issued: user=%s by %s", username, current_user.username)
    return render_template("org_admin/password_link.html", link=link, name=name, user_id=user_id,
                           hours=int(password_links.LIFETIME.total_seconds() // 3600))


@bp.route("/atur-sandi/<token>", methods=("GET", "POST"))
def use(token: str) -> ResponseReturnValue:
    """Set a password with a link; 404 for a link that is unknown, used or expired."""
    form = SetPasswordForm()
    with transaction() as session:
        user = password_links.user_for(session, token, now())
        if user is None:
            return render_template("org_admin/password_link_invalid.html"), 404
        username, nip = user.username, user.nip
    if not form.validate_on_submit():
        return render_template("org_admin/set_password.html", form=form, username=username), (
            422 if form.is_submitted() else 200)
    problem = password_problem(form.new.data or "", username=username, nip=nip)
    if problem is not None:
        form.new.errors = [problem]
        return render_template("org_admin/set_password.html", form=form, username=username), 422
    try:
        with transaction() as session:
            password_links.redeem(session, token, hash_password(form.new.data or ""), now())
    except AlurError:
        return render_template("org_admin/password_link_invalid.html"), 404
    logger.info("password set by link: user=%s from %s", username, request.remote_addr)
    flash(_("Kata sandi disimpan. Silakan masuk dengan nama pengguna %(u)s.", u=username), "success")
    return redirect(url_for("auth.login"))
