"""Plh / Plt designations (``/penunjukan``): the official, the superior or an administrator designates.

The rules (who may designate, no self or overlapping designations) are those of
``engine.designations``; this page lists the jabatan the user may designate for,
the designations of their units, and ends one early.
"""

from __future__ import annotations

import time

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms import DateField, SelectField, StringField, SubmitField
from wtforms.validators import InputRequired, Length

from engine import designations
from storage import org
from storage.errors import AlurError
from storage.models import Designation, Role, Unit, User
from web.access import refuse
from web.auth import now
from web.db import transaction
from web.errors import status_for

__all__ = ["DesignationForm", "bp", "init_app", "may_designate_here"]

bp = Blueprint("designations", __name__)


class DesignationForm(FlaskForm):
    """Jabatan, designee, Plh or Plt, dates, reason."""

    jabatan = SelectField(_l("Jabatan"), validators=[InputRequired()], choices=[])
    pelaksana = SelectField(_l("Ditunjuk"), validators=[InputRequired()], choices=[])
    jenis = SelectField(_l("Jenis"), choices=[("plh", _l("Plh (Pelaksana Harian)")),
                                              ("plt", _l("Plt (Pelaksana Tugas)"))])
    mulai = DateField(_l("Mulai"), validators=[InputRequired(_l("Isi tanggal mulai."))])
    selesai = DateField(_l("Selesai"), validators=[InputRequired(_l("Isi tanggal selesai."))])
    alasan = StringField(_l("Alasan (mis. cuti tahunan, dinas luar)"), validators=[
        InputRequired(_l("Isi alasan penunjukan.")), Length(max=500)])
    submit = SubmitField(_l("Tunjuk"))


def init_app(app: Flask) -> None:
    """Register the page on ``app``, and ``nav_may_designate()`` for the navigation (called only when rendered)."""
    app.register_blueprint(bp)
    app.context_processor(lambda: {"nav_may_designate": may_designate_here})


def _designable(session: Session) -> list[tuple[Role, Unit]]:
    """The jabatan the current user may designate a Plh/Plt for, with their units (``engine.designations``)."""
    return designations.designable_roles(session, org.get_user(session, current_user.id), now())


NAV_HINT_SECONDS = 60.0
"""How long a process reuses its answer to "may this user designate?" for the navigation's link (seconds)."""


def _nav_hints() -> dict[int, tuple[float, bool]]:
    """This app's remembered answers: user id -> (``time.monotonic()`` when read, answer)."""
    hints: dict[int, tuple[float, bool]] = current_app.extensions.setdefault("alur.nav_designate_hints", {})
    return hints


def may_designate_here() -> bool:
    """Whether the current user may designate anyone (the page's rule): the navigation shows the link then.

    The rule (:func:`engine.designations.may_designate_any`) reads about ten
    rows; the link is only a hint (the page itself asks the rule on every
    request and refuses with 403), so each process keeps the answer for
    :data:`NAV_HINT_SECONDS` per user: a jabatan given or taken shows in the
    navigation within a minute, at once in this process after a designation.
    """
    if not current_user.is_authenticated:
        return False
    user_id = int(current_user.id)
    moment = time.monotonic()
    hints = _nav_hints()
    known = hints.get(user_id)
    if known is not None and moment - known[0] < NAV_HINT_SECONDS:
        return known[1]
    with transaction() as session:
        answer = designations.may_designate_any(session, org.get_user(session, user_id), now())
    if len(hints) > 10_000:  # bounded: a province's users fit; past that, start again
        hints.clear()
    hints[user_id] = (moment, answer)
    return answer


def _page(session: Session, form: DesignationForm | None = None, status: int = 200) -> ResponseReturnValue:
    roles = _designable(session)
    if not roles:
        refuse(current_user, "page", "penunjukan")
    form = form or DesignationForm()
    form.jabatan.choices = [(str(r.id), f"{r.name} — {u.name}") for r, u in roles]
    units = sorted({u.id: u for _, u in roles}.values(), key=lambda u: u.name)
    people = sorted({p.id: p for u in units for p in org.unit_users(session, u.id) if p.active}.values(),
                    key=lambda p: p.full_name)
    form.pelaksana.choices = [(p.username, f"{p.full_name} ({p.username})") for p in people]
    listed = [(u, designations.designations_of_unit(session, u.code)) for u in units]
    return render_template("designations/page.html", form=form, listed=listed), status


@bp.get("/penunjukan")
@login_required
def page() -> ResponseReturnValue:
    """The form and the designations of the user's units (404 for a user who may designate for none)."""
    with transaction() as session:
        return _page(session)


@bp.post("/penunjukan")
@login_required
def create() -> ResponseReturnValue:
    """Designate a Plh/Plt; 422 with the reason when refused (nothing stored)."""
    form = DesignationForm()
    with transaction() as session:
        roles = {str(r.id): (r, u) for r, u in _designable(session)}
        if not roles:
            refuse(current_user, "page", "penunjukan")
        form.jabatan.choices = [(k, k) for k in roles]
        form.pelaksana.choices = [(u, u) for u in session.scalars(select(User.username).where(User.active))]
        if not form.validate_on_submit():
            return _page(session, form, 422)
        role, unit = roles[form.jabatan.data or ""]
        try:
            with session.begin_nested():
                made = designations.designate(
                    session, unit_code=unit.code, role_name=role.name, holder=form.pelaksana.data or "",
                    kind=form.jenis.data or "", start=form.mulai.data, end=form.selesai.data,
                    by=current_user.username, reason=form.alasan.data or "", now=now())
        except AlurError as exc:
            flash(str(exc), "danger")
            return _page(session, form, status_for(exc))
    _nav_hints().clear()  # the Plh/Plt may now designate (a superior's jabatan): not a minute later
    flash(_("%(name)s ditunjuk sebagai %(label)s.", name=made.holder_name,
            label=designations.label(made.kind, made.role)), "success")
    return redirect(url_for(".page"))


@bp.post("/penunjukan/<id:designation_id>/akhiri")
@login_required
def end(designation_id: int) -> ResponseReturnValue:
    """End a designation now (404 when the user may not)."""
    with transaction() as session:
        row = session.get(Designation, designation_id)
        if row is None:
            refuse(current_user, "designation", designation_id)
        try:
            with session.begin_nested():
                designations.end_designation(session, designation_id, by=current_user.username, now=now())
        except AlurError:
            refuse(current_user, "designation", designation_id)
    _nav_hints().clear()
    flash(_("Penunjukan diakhiri."), "success")
    return redirect(url_for(".page"))
