"""Notifications in the app: the list, the unread count in the navigation, the e-mail preference.

The rows are written by ``alur worker`` (``engine.followups``): a step arrived or
came back for correction (seconds after the request that made it ready), a
reminder, an escalation; e-mail and webhooks go out from the worker too, never
from a request.
"""

from __future__ import annotations

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import EmailField, RadioField, SubmitField
from wtforms.validators import Length, Optional

from engine import notifications
from storage.errors import InvalidTaskDataError
from web.db import transaction

__all__ = ["PreferenceForm", "bp", "init_app"]

bp = Blueprint("notifications", __name__)


class PreferenceForm(FlaskForm):
    """A user's e-mail address and how notifications reach it."""

    email = EmailField(_l("Alamat e-mail"), validators=[Optional(), Length(max=255)])
    mode = RadioField(_l("Kirim e-mail"), choices=[
        ("immediate", _l("Segera, satu e-mail per notifikasi")),
        ("digest", _l("Ringkasan harian (pukul 07.00)")),
        ("off", _l("Tidak usah")),
    ], default="immediate")
    simpan = SubmitField(_l("Simpan"))


def init_app(app: Flask) -> None:
    """Register the pages on ``app`` (the unread count is read with the inbox count, ``web.inbox``)."""
    app.register_blueprint(bp)


@bp.get("/notifikasi")
@login_required
def index() -> ResponseReturnValue:
    """The user's latest notifications, newest first, unread ones marked."""
    with transaction() as session:
        rows = notifications.list_for(session, current_user.username)
    return render_template("notifications/index.html", notifications=rows)


@bp.post("/notifikasi/baca")
@login_required
def mark_read() -> ResponseReturnValue:
    """Mark one notification (``id``) or all of them read; then open its step, or the list."""
    raw = request.form.get("id")
    ids = [int(raw)] if raw and raw.isdigit() else None
    with transaction() as session:
        notifications.mark_read(session, current_user.username, ids)
    target = request.form.get("task_id")
    if ids and target:
        return redirect(url_for("tasks.show", task_id=target))
    return redirect(url_for("notifications.index"))


@bp.route("/notifikasi/pengaturan", methods=("GET", "POST"))
@login_required
def settings() -> ResponseReturnValue:
    """The user's e-mail address and e-mail mode (immediate, daily digest, off)."""
    form = PreferenceForm()
    if request.method == "GET":
        with transaction() as session:
            form.email.data, form.mode.data = notifications.preference_of(session, current_user.username)
    elif form.validate_on_submit():
        try:
            with transaction() as session:
                notifications.set_preference(session, current_user.username, email=form.email.data,
                                             mode=form.mode.data)
        except InvalidTaskDataError as exc:
            form.form_errors.append(str(exc))
        else:
            flash(_("Pengaturan notifikasi disimpan."), "success")
            return redirect(url_for("notifications.settings"))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("notifications/settings.html", form=form), status
