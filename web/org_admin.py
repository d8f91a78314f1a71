"""The organisation's administration pages (``/admin/organisasi``): units, jabatan, users.

Only a holder of the ``administrator`` grant (``engine.access``) covering a unit
sees and changes it; for everyone else every address here answers 404, as any
page they may not see does. An administrator is not an auditor: these pages
show the organisation, never instances, and give no right to complete a step.
Every change is written to the change record (``engine.org_changes``) shown on
the unit's page. The rules on the data live in ``engine.organisation``.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Flask, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms import BooleanField, DateField, SelectField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, Optional

from engine import organisation
from engine.access import ADMINISTRATOR
from engine.calendar import RAMADAN_OFFICE_HOURS, format_intervals
from storage import org, org_changes
from storage.errors import AlurError, InvalidFieldError, InvalidTaskDataError
from storage.models import UNIT_JENIS, Role, RoleAlias, RoleMember, Unit, User
from web.access import refuse
from web.auth import now
from web.db import transaction
from web.errors import status_for

__all__ = ["bp", "init_app", "user_in_scope"]

bp = Blueprint("org_admin", __name__, url_prefix="/admin/organisasi")
ZONES = (("Asia/Jakarta", "WIB"), ("Asia/Pontianak", "WIB (Pontianak)"), ("Asia/Makassar", "WITA"),
         ("Asia/Jayapura", "WIT"))


def init_app(app: Flask) -> None:
    """Register the organisation pages on ``app``."""
    app.register_blueprint(bp)


class UnitForm(FlaskForm):
    """A unit's name, jenis, parent unit and time zone."""

    nama = StringField(_l("Nama unit"), validators=[InputRequired(), Length(max=255)])
    jenis = SelectField(_l("Jenis"), choices=[(j, j) for j in UNIT_JENIS])
    induk = SelectField(_l("Unit induk"), choices=[])
    zona = SelectField(_l("Zona waktu"), choices=list(ZONES))
    submit = SubmitField(_l("Simpan unit"))


class CorrectionForm(FlaskForm):
    """One day of the unit's calendar: working or not, with a note; or remove the correction."""

    tanggal = DateField(_l("Tanggal"), validators=[InputRequired(_l("Isi tanggal."))])
    status = SelectField(_l("Status hari"), choices=[("libur", _l("Hari libur / cuti bersama")),
                                                    ("kerja", _l("Hari kerja"))])
    keterangan = StringField(_l("Keterangan"), validators=[Length(max=255)])
    hapus = BooleanField(_l("Hapus koreksi hari ini"))
    submit = SubmitField(_l("Simpan koreksi kalender"))


class HoursForm(FlaskForm):
    """A period of shortened office hours (Ramadan): dates, Monday-Thursday and Friday hours, a note."""

    mulai = DateField(_l("Mulai"), validators=[InputRequired(_l("Isi tanggal mulai."))])
    selesai = DateField(_l("Selesai"), validators=[InputRequired(_l("Isi tanggal selesai."))])
    senin_kamis = StringField(_l("Jam Senin–Kamis"), default=format_intervals(RAMADAN_OFFICE_HOURS.weekly[0]),
                              validators=[Length(max=100)])
    jumat = StringField(_l("Jam Jumat"), default=format_intervals(RAMADAN_OFFICE_HOURS.weekly[4]),
                        validators=[Length(max=100)])
    keterangan = StringField(_l("Keterangan (mis. Ramadan 1448 H)"), validators=[Length(max=255)])
    submit = SubmitField(_l("Simpan jam kerja khusus"))


class RemoveForm(FlaskForm):
    """A button that removes one row (its CSRF token only)."""

    submit = SubmitField(_l("Hapus"))


class RoleForm(FlaskForm):
    """A jabatan's aliases (comma-separated) and superior."""

    alias = StringField(_l("Alias (pisahkan dengan koma)"), validators=[Length(max=1000)])
    atasan = SelectField(_l("Atasan"), choices=[])
    submit = SubmitField(_l("Simpan jabatan"))


class UserForm(FlaskForm):
    """A user's name with titles, NIP and whether active."""

    nama = StringField(_l("Nama lengkap dengan gelar"), validators=[InputRequired(), Length(max=255)])
    nip = StringField(_l("NIP (18 angka)"), validators=[Optional(), Length(max=32)])
    aktif = BooleanField(_l("Aktif"))
    submit = SubmitField(_l("Simpan pengguna"))


class MembershipForm(FlaskForm):
    """A jabatan of the user with its dates."""

    jabatan = SelectField(_l("Jabatan"), choices=[], validators=[InputRequired()])
    mulai = DateField(_l("Mulai"), validators=[Optional()])
    selesai = DateField(_l("Selesai"), validators=[Optional()])
    hapus = BooleanField(_l("Hapus jabatan ini"))
    submit = SubmitField(_l("Simpan jabatan pengguna"))


def _unit_in_scope(session: Session, unit_id: int) -> Unit:
    unit = session.get(Unit, unit_id)
    if unit is None or not current_user.grants.covers(ADMINISTRATOR, unit.code):
        refuse(current_user, "unit", unit_id)
    return unit


def user_in_scope(session: Session, user_id: int) -> User:
    """The user ``user_id`` if the current administrator covers their home unit or a unit of their jabatan; else 404."""
    user = session.get(User, user_id)
    if user is None:
        refuse(current_user, "user", user_id)
    units = {user.unit_id, *session.scalars(select(Role.unit_id).join(RoleMember, RoleMember.role_id == Role.id)
                                          .where(RoleMember.user_id == user.id))}
    codes = {u.code for u in session.scalars(select(Unit).where(Unit.id.in_(units)))}
    if not any(current_user.grants.covers(ADMINISTRATOR, c) for c in codes):
        refuse(current_user, "user", user_id)
    return user


def _field_error(form: FlaskForm, exc: AlurError, fields: dict[str, str]) -> None:
    if isinstance(exc, InvalidFieldError) and exc.field in fields:
        getattr(form, fields[exc.field]).errors = [exc.problem]
    else:
        flash(str(exc), "danger")


def _refused(session: Session, change: Callable[[], object], form: FlaskForm, fields: dict[str, str],
             page: Callable[[int], ResponseReturnValue]) -> ResponseReturnValue | None:
    """Run ``change`` in a savepoint; None when done, else ``page(status)`` with the problem shown.

    The problem goes to its field (``fields`` maps the engine's field names to
    the form's) or, for any other error, to a flashed message; the savepoint
    is rolled back, so nothing of the change stays.
    """
    try:
        with session.begin_nested():
            change()
    except AlurError as exc:
        _field_error(form, exc, fields)
        return page(status_for(exc))
    return None


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    """The units the administrator manages."""
    if not current_user.grants.has(ADMINISTRATOR):
        refuse(current_user, "page", "admin/organisasi")
    with transaction() as session:
        units = [u for u in org.list_units(session) if current_user.grants.covers(ADMINISTRATOR, u.code)]
        rows = [(u, len(org.unit_users(session, u.id))) for u in units]
    return render_template("org_admin/index.html", rows=rows)


def _unit_page(session: Session, unit: Unit, form: UnitForm | None = None, status: int = 200,
               correction: CorrectionForm | None = None, hours: HoursForm | None = None) -> ResponseReturnValue:
    units = org.list_units(session)
    if form is None:
        form = UnitForm(nama=unit.name, jenis=unit.jenis, zona=unit.timezone,
                        induk=str(unit.parent_id or ""))
    form.induk.choices = [("", _("(tidak ada)"))] + [(str(u.id), u.name) for u in units if u.id != unit.id]
    roles = list(session.scalars(select(Role).where(Role.unit_id == unit.id).order_by(Role.name)))
    at = now()
    jabatan = []
    for role in roles:
        aliases = sorted(session.scalars(select(RoleAlias.alias).where(RoleAlias.role_id == role.id)))
        role_form = RoleForm(prefix=f"j{role.id}", alias=", ".join(aliases), atasan=str(role.superior_role_id or ""))
        role_form.atasan.choices = [("", _("(kepala unit)"))] + [(str(r.id), r.name) for r in roles if r.id != role.id]
        holders = org.users_with_role(session, role.id, at)
        jabatan.append((role, role_form, holders))
    coverage = organisation.lane_coverage(session, unit.code, at)
    missing = [c for c in coverage if not c.team and not c.holders]
    changes = org_changes.recent(session, unit_id=unit.id, limit=30)
    actors = {c.actor_id: org.get_user(session, c.actor_id).username for c in changes if c.actor_id}
    members = org.unit_users(session, unit.id)
    home = list(session.scalars(select(User).where(User.unit_id == unit.id).order_by(User.username)))
    people = sorted({u.id: u for u in [*members, *home]}.values(), key=lambda u: u.username)
    return render_template("org_admin/unit.html", unit=unit, form=form, jabatan=jabatan, coverage=coverage,
                           missing=missing, changes=changes, actors=actors, people=people,
                           correction=correction or CorrectionForm(prefix="k"),
                           corrections=organisation.unit_corrections(session, unit.code),
                           hours=hours or HoursForm(prefix="h"), remove=RemoveForm(prefix="x"),
                           periods=organisation.unit_hours_periods(session, unit.code)), status


@bp.get("/unit/<id:unit_id>")
@login_required
def unit_page(unit_id: int) -> ResponseReturnValue:
    """A unit: its fields, jabatan (aliases, superior, holders), lanes it receives, users and change record."""
    with transaction() as session:
        return _unit_page(session, _unit_in_scope(session, unit_id))


@bp.post("/unit/<id:unit_id>")
@login_required
def save_unit(unit_id: int) -> ResponseReturnValue:
    """Save the unit's fields (422 with the problem at its field; nothing changed)."""
    form = UnitForm()
    with transaction() as session:
        unit = _unit_in_scope(session, unit_id)
        form.induk.choices = [("", "")] + [(str(u.id), u.name) for u in org.list_units(session)]
        if not form.validate_on_submit():
            return _unit_page(session, unit, form, 422)
        parent = session.get(Unit, int(form.induk.data)) if form.induk.data else None
        refused = _refused(session, lambda: organisation.save_unit(
            session, unit.code, name=form.nama.data or "", jenis=form.jenis.data or "",
            parent_code=parent.code if parent else None, timezone=form.zona.data or "", by_id=current_user.id,
            now=now()), form, {"nama": "nama", "jenis": "jenis", "zona": "zona", "induk": "induk"},
            lambda status: _unit_page(session, unit, form, status))
        if refused is not None:
            return refused
    flash(_("Unit disimpan."), "success")
    return redirect(url_for(".unit_page", unit_id=unit_id))


@bp.post("/unit/<id:unit_id>/kalender")
@login_required
def correct_calendar(unit_id: int) -> ResponseReturnValue:
    """Set or remove a correction of the unit's working calendar (recorded)."""
    form = CorrectionForm(prefix="k")
    with transaction() as session:
        unit = _unit_in_scope(session, unit_id)
        if not form.validate_on_submit() or form.tanggal.data is None:
            return _unit_page(session, unit, status=422, correction=form)
        day = form.tanggal.data
        refused = _refused(session, lambda: organisation.correct_calendar(
            session, unit.code, day=day, is_working_day=form.status.data == "kerja", note=form.keterangan.data or "",
            remove=bool(form.hapus.data), by_id=current_user.id, now=now()), form, {"keterangan": "keterangan"},
            lambda status: _unit_page(session, unit, status=status, correction=form))
        if refused is not None:
            return refused
    flash(_("Kalender kerja unit disimpan."), "success")
    return redirect(url_for(".unit_page", unit_id=unit_id) + "#kalender")


@bp.post("/unit/<id:unit_id>/jam-kerja")
@login_required
def set_hours(unit_id: int) -> ResponseReturnValue:
    """Give the unit shortened office hours for a date range (Ramadan); recorded; 422 with the problem at its field."""
    form = HoursForm(prefix="h")
    with transaction() as session:
        unit = _unit_in_scope(session, unit_id)
        start, end = form.mulai.data, form.selesai.data
        if not form.validate_on_submit() or start is None or end is None:
            return _unit_page(session, unit, status=422, hours=form)
        refused = _refused(session, lambda: organisation.set_hours_period(
            session, unit.code, start=start, end=end, mon_thu=form.senin_kamis.data or "",
            friday=form.jumat.data or "", note=form.keterangan.data or "", by_id=current_user.id, now=now()),
            form, {"mulai": "mulai", "selesai": "selesai", "senin_kamis": "senin_kamis", "jumat": "jumat",
                   "keterangan": "keterangan"},
            lambda status: _unit_page(session, unit, status=status, hours=form))
        if refused is not None:
            return refused
    flash(_("Jam kerja khusus unit disimpan."), "success")
    return redirect(url_for(".unit_page", unit_id=unit_id) + "#jam-kerja")


@bp.post("/unit/<id:unit_id>/jam-kerja/<id:period_id>/hapus")
@login_required
def remove_hours(unit_id: int, period_id: int) -> ResponseReturnValue:
    """Remove a period of shortened hours of the unit (recorded); 404 for a period of another unit."""
    form = RemoveForm(prefix="x")
    with transaction() as session:
        unit = _unit_in_scope(session, unit_id)
        if not form.validate_on_submit():
            return _unit_page(session, unit, status=422)
        try:
            with session.begin_nested():
                organisation.remove_hours_period(session, unit.code, period_id, by_id=current_user.id, now=now())
        except InvalidTaskDataError:
            refuse(current_user, "calendar_hours", period_id)
    flash(_("Jam kerja khusus dihapus."), "success")
    return redirect(url_for(".unit_page", unit_id=unit_id) + "#jam-kerja")


@bp.post("/jabatan/<id:role_id>")
@login_required
def save_role(role_id: int) -> ResponseReturnValue:
    """Save a jabatan's aliases and superior."""
    form = RoleForm(prefix=f"j{role_id}")
    with transaction() as session:
        role = session.get(Role, role_id)
        if role is None:
            refuse(current_user, "role", role_id)
        unit = _unit_in_scope(session, role.unit_id)
        form.atasan.choices = [("", "")] + [(str(r.id), r.name) for r in session.scalars(
            select(Role).where(Role.unit_id == unit.id))]
        if not form.validate_on_submit():
            flash(_("Isian jabatan tidak sah."), "danger")
            return _unit_page(session, unit, status=422)
        refused = _refused(session, lambda: organisation.save_role(
            session, role.id, aliases=(form.alias.data or "").split(","),
            superior_role_id=int(form.atasan.data) if form.atasan.data else None, by_id=current_user.id,
            now=now()), form, {}, lambda status: _unit_page(session, unit, status=status))
        if refused is not None:
            return refused
    flash(_("Jabatan %(name)s disimpan.", name=role.name), "success")
    return redirect(url_for(".unit_page", unit_id=role.unit_id) + "#jabatan")


def _user_page(session: Session, user: User, form: UserForm | None = None,
               membership: MembershipForm | None = None, status: int = 200) -> ResponseReturnValue:
    form = form or UserForm(nama=user.full_name, nip=user.nip or "", aktif=user.active)
    covered = [u for u in org.list_units(session) if current_user.grants.covers(ADMINISTRATOR, u.code)]
    choices = [(str(r.id), f"{r.name} — {u.name}") for u in covered
               for r in session.scalars(select(Role).where(Role.unit_id == u.id).order_by(Role.name))]
    membership = membership or MembershipForm(prefix="m")
    membership.jabatan.choices = choices
    held = session.execute(select(RoleMember, Role, Unit).join(Role, Role.id == RoleMember.role_id)
                           .join(Unit, Unit.id == Role.unit_id).where(RoleMember.user_id == user.id)
                           .order_by(Unit.name, Role.name)).all()
    changes = org_changes.recent(session, subject=f"user:{user.username}", limit=20)
    return render_template("org_admin/user.html", user=user, form=form, membership=membership, held=held,
                           changes=changes, home=org.get_unit(session, user.unit_id)), status


@bp.get("/pengguna/<id:user_id>")
@login_required
def user_page(user_id: int) -> ResponseReturnValue:
    """A user: name, NIP, active, jabatan with dates."""
    with transaction() as session:
        return _user_page(session, user_in_scope(session, user_id))


@bp.post("/pengguna/<id:user_id>")
@login_required
def save_user(user_id: int) -> ResponseReturnValue:
    """Save a user's name, NIP and active flag."""
    form = UserForm()
    with transaction() as session:
        user = user_in_scope(session, user_id)
        if not form.validate_on_submit():
            return _user_page(session, user, form, status=422)
        refused = _refused(session, lambda: organisation.save_user(
            session, user.username, full_name=form.nama.data or "", nip=form.nip.data or None,
            active=bool(form.aktif.data), by_id=current_user.id, now=now()), form, {"nama": "nama", "nip": "nip"},
            lambda status: _user_page(session, user, form, status=status))
        if refused is not None:
            return refused
    flash(_("Pengguna disimpan."), "success")
    return redirect(url_for(".user_page", user_id=user_id))


@bp.post("/pengguna/<id:user_id>/jabatan")
@login_required
def save_membership(user_id: int) -> ResponseReturnValue:
    """Give, change or remove a jabatan of the user (only jabatan of units the administrator covers)."""
    membership = MembershipForm(prefix="m")
    with transaction() as session:
        user = user_in_scope(session, user_id)
        covered = {u.id for u in org.list_units(session) if current_user.grants.covers(ADMINISTRATOR, u.code)}
        membership.jabatan.choices = [(str(r.id), r.name) for r in session.scalars(
            select(Role).where(Role.unit_id.in_(covered)))]
        if not membership.validate_on_submit():
            return _user_page(session, user, membership=membership, status=422)
        refused = _refused(session, lambda: organisation.save_membership(
            session, user.username, int(membership.jabatan.data or 0), start=membership.mulai.data,
            end=membership.selesai.data, remove=bool(membership.hapus.data), by_id=current_user.id, now=now()),
            membership, {"selesai": "selesai"},
            lambda status: _user_page(session, user, membership=membership, status=status))
        if refused is not None:
            return refused
    flash(_("Jabatan pengguna disimpan."), "success")
    return redirect(url_for(".user_page", user_id=user_id))
