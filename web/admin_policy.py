"""The administrator's page for each unit's follow-up policy (``/admin/kebijakan``).

The policy (``engine.followups``): when the holders of a step are reminded (a
share of its Waktu), whether again when it falls due, after how many working
hours overdue it is escalated, and the unit's webhook (URL and HMAC secret).
Only holders of the ``administrator`` grant (``engine.access``) for a unit see
and change its policy; for anyone else, and for units outside the grant, the
address answers 404, as any page they may not see does. Every change is
recorded (who, when, before and after; never the secret) and listed on the page.
"""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import BooleanField, DecimalField, IntegerField, PasswordField, StringField, SubmitField
from wtforms.validators import URL, InputRequired, Length, NumberRange, Optional

from engine import followups
from engine.access import ADMINISTRATOR
from storage import org
from storage.errors import InvalidTaskDataError, UnitNotFound
from storage.models import Unit
from web.access import refuse
from web.db import transaction

__all__ = ["PolicyForm", "bp", "init_app"]

bp = Blueprint("admin_policy", __name__, url_prefix="/admin")
MAX_ESCALATION_HOURS = 750  # a hundred working days of 7.5 hours


class PolicyForm(FlaskForm):
    """A unit's follow-up policy; the escalation delay in working hours (stored as working minutes)."""

    reminder_percent = IntegerField(
        _l("Pengingat setelah (persen dari Waktu langkah)"),
        validators=[InputRequired(_l("Isi persentase pengingat.")),
                    NumberRange(1, 99, _l("Persentase pengingat harus 1 sampai 99."))])
    remind_when_due = BooleanField(_l("Ingatkan lagi saat tenggat tiba"))
    escalate_after_hours = DecimalField(
        _l("Eskalasi setelah terlambat (jam kerja)"), places=2,
        validators=[InputRequired(_l("Isi jam kerja sebelum eskalasi.")),
                    NumberRange(0, MAX_ESCALATION_HOURS,
                                _l("Jam eskalasi harus 0 sampai %(max)d jam kerja.", max=MAX_ESCALATION_HOURS))])
    webhook_url = StringField(
        _l("URL webhook (kosongkan bila tidak ada)"),
        validators=[Optional(),
                    Length(max=500, message=_l("URL webhook terlalu panjang (paling banyak 500 karakter).")),
                    URL(require_tld=False, message=_l("URL webhook harus berupa alamat http:// atau https://."))])
    webhook_secret = PasswordField(
        _l("Kunci rahasia webhook (kosongkan untuk tetap memakai yang lama)"),
        validators=[Optional(), Length(min=16, max=255,
                                       message=_l("Kunci rahasia harus 16 sampai 255 karakter."))])
    simpan = SubmitField(_l("Simpan kebijakan"))


def init_app(app: Flask) -> None:
    """Register the policy pages on ``app``."""
    app.register_blueprint(bp)


def _require_admin() -> frozenset[str] | None:
    """The unit codes the user administers (None: every unit); 404 without the administrator grant."""
    if not current_user.grants.has(ADMINISTRATOR):
        refuse(current_user, "page", "admin/kebijakan")
    return current_user.grants.scope(ADMINISTRATOR)


@bp.get("/kebijakan")
@login_required
def index() -> ResponseReturnValue:
    """The units the administrator covers, each with its current policy."""
    scope = _require_admin()
    with transaction() as session:
        units = [u for u in org.list_units(session) if scope is None or u.code in scope]
        rows = [(unit, followups.policy_of(session, unit.id)) for unit in units]
    return render_template("admin/policy_list.html", rows=rows)


def _unit_in_scope(session: Session, unit_id: int, scope: frozenset[str] | None) -> Unit:
    """The unit ``unit_id`` if the administrator's grant covers it; otherwise 404 (also for an unknown id)."""
    try:
        unit = org.get_unit(session, unit_id)
    except UnitNotFound:
        refuse(current_user, "unit", unit_id)
    if scope is not None and unit.code not in scope:
        refuse(current_user, "unit", unit_id)
    return unit


@bp.route("/kebijakan/<id:unit_id>", methods=("GET", "POST"))
@login_required
def edit(unit_id: int) -> ResponseReturnValue:
    """A unit's policy form and its record of changes; POST saves a change (recorded: who, when, before/after)."""
    scope = _require_admin()
    form = PolicyForm()
    with transaction() as session:
        unit = _unit_in_scope(session, unit_id, scope)
        unit_code, unit_name = unit.code, unit.name
        current = followups.policy_of(session, unit_id)
    if request.method == "GET":
        form.reminder_percent.data = current.reminder_percent
        form.remind_when_due.data = current.remind_when_due
        form.escalate_after_hours.data = Decimal(current.escalate_after_minutes) / 60
        form.webhook_url.data = current.webhook_url or ""
    elif form.validate_on_submit():
        url = (form.webhook_url.data or "").strip()
        if url and not url.lower().startswith(("http://", "https://")):
            form.webhook_url.errors = [*form.webhook_url.errors,
                                       _("URL webhook harus berupa alamat http:// atau https://.")]
        elif url and not form.webhook_secret.data and not current.webhook_secret:
            form.webhook_secret.errors = [*form.webhook_secret.errors, _("Webhook memerlukan kunci rahasia.")]
        else:
            try:
                with transaction() as session:
                    _unit_in_scope(session, unit_id, scope)
                    followups.set_policy(
                        session, unit_code, reminder_percent=form.reminder_percent.data,
                        remind_when_due=bool(form.remind_when_due.data),
                        escalate_after_minutes=round(form.escalate_after_hours.data * 60),
                        webhook_url=url or None, webhook_secret=form.webhook_secret.data or None,
                        clear_webhook=not url, changed_by=current_user.username)
            except InvalidTaskDataError as exc:
                form.form_errors.append(str(exc))
            else:
                flash(_("Kebijakan tindak lanjut %(unit)s disimpan.", unit=unit_name), "success")
                return redirect(url_for("admin_policy.edit", unit_id=unit_id))
    with transaction() as session:
        changes = followups.policy_changes(session, unit_id)
    status = 422 if request.method == "POST" and (form.errors or form.form_errors) else 200
    return render_template("admin/policy_edit.html", form=form, unit_name=unit_name, unit_code=unit_code,
                           current=current, changes=changes), status
