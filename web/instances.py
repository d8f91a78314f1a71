"""Start an SOP, and the page of one running (or finished) SOP with its history.

A user may start the SOPs whose first step belongs to a lane they hold
(``engine.instances.starters``), in the units where they hold it. An SOP
whose first step takes an incoming letter (Kelengkapan "Surat masuk" or
"Disposisi surat", or the first step is SOP Surat Masuk itself) also asks for
the letter's nomor and tanggal, kept as the instance's input data.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import DateField, SelectField, StringField, SubmitField
from wtforms.validators import InputRequired, Length

from engine import audit, catalog, documents, instances, sop
from engine import restaff as restaffing
from engine.catalog import Definition
from storage.errors import AlurError, InvalidFieldError, InvalidTaskDataError, PermissionDeniedError, ProcessNotFound
from web import diagram
from web.access import refuse, require_instance
from web.accounts import Account, people, unit_names
from web.auth import now
from web.db import transaction
from web.errors import status_for

__all__ = ["Startable", "bp", "startable", "starts_from_letter", "unit_name"]

bp = Blueprint("instances", __name__)
bp.register_blueprint(diagram.bp)  # the instance page's diagram: XML and step states for bpmn-js

_FORM_FIELD = {"unit_code": "unit"}  # the engine's field name -> the start form's


@bp.app_template_filter("nama_unit")
def unit_name(unit_code: str | None) -> str:
    """A unit's name for the screen ("Kecamatan Contoh"), never its code; read once per request."""
    if unit_code is None:
        return ""
    if "alur_unit_names" not in g:
        with transaction() as session:
            g.alur_unit_names = unit_names(session)
    names: dict[str, str] = g.alur_unit_names
    return names.get(unit_code, unit_code)


@dataclass(frozen=True)
class Startable:
    """An SOP the user may start: in which of their units, and whether it takes a letter."""

    process_id: str
    name: str
    unit_codes: tuple[str, ...]
    letter: bool


def starts_from_letter(definition: Definition) -> bool:
    """Whether the first step takes an incoming letter: the engine's rule, :func:`engine.sop.starts_from_letter`."""
    return sop.starts_from_letter(definition.meta)


def _startable(session: Session, account: Account, definition: Definition) -> Startable | None:
    units = tuple(
        code for code, kind in zip(account.unit_codes, account.unit_kinds, strict=True)
        if definition.meta.unit_kind in ("any", kind)
        and account.username in instances.starters(session, definition.process_id, code))
    if not units:
        return None
    return Startable(definition.process_id, definition.name, units, starts_from_letter(definition))


def startable(session: Session, account: Account) -> list[Startable]:
    """The SOPs ``account`` may start, ordered by name."""
    found = filter(None, (_startable(session, account, d) for d in catalog.list_latest(session)))
    return sorted(found, key=lambda s: (s.name, s.process_id))


class StartForm(FlaskForm):
    """Perihal and unit of a new instance."""

    title = StringField(_l("Perihal"), validators=[
        InputRequired(_l("Isi perihal, mis. \u201cLaporan Kinerja Triwulan III 2026\u201d.")), Length(max=255)])
    unit = SelectField(_l("Unit kerja"), validators=[InputRequired()])
    submit = SubmitField(_l("Mulai"))


class LetterStartForm(StartForm):
    """A start form that also asks for the incoming letter."""

    nomor_surat = StringField(_l("Nomor surat masuk"), validators=[
        InputRequired(_l("Isi nomor surat masuk.")), Length(max=100)])
    tanggal_surat = DateField(_l("Tanggal surat masuk"), validators=[
        InputRequired(_l("Isi tanggal surat masuk."))])


@bp.get("/mulai")
@login_required
def start_list() -> ResponseReturnValue:
    """The SOPs the user may start."""
    with transaction() as session:
        sops = startable(session, current_user)
    return render_template("instances/start_list.html", sops=sops)


@bp.route("/mulai/<bpmn_id:process_id>", methods=("GET", "POST"))
@login_required
def start(process_id: str) -> ResponseReturnValue:
    """The start form of one SOP; on success go to the starter's first step, else the new instance's page."""
    with transaction() as session:
        try:
            sop = _startable(session, current_user, catalog.latest_definition(session, process_id))
        except ProcessNotFound:
            sop = None
    if sop is None:
        refuse(current_user, "process", process_id)
    form = LetterStartForm() if sop.letter else StartForm()
    form.unit.choices = [(code, unit_name(code)) for code in sop.unit_codes]
    status = 200
    if form.validate_on_submit():
        letter = ({"nomor_surat": form.nomor_surat.data.strip(),
                   "tanggal_surat": form.tanggal_surat.data.isoformat()}
                  if isinstance(form, LetterStartForm) else {})
        try:
            with transaction() as session:
                view = instances.start_instance(
                    session, process_id=process_id, unit_code=form.unit.data, title=form.title.data,
                    username=current_user.username, input_data=letter, now=now())
                first = next((t.id for t in view.ready_tasks
                              if current_user.username in instances.candidates(session, t.id)), None)
        except InvalidFieldError as exc:  # e.g. a control character: shown at its field
            status = status_for(exc)
            field = form._fields.get(_FORM_FIELD.get(exc.field, exc.field))
            if field is not None:
                field.errors.append(exc.problem)
            else:
                flash(str(exc), "danger")
        except (InvalidTaskDataError, PermissionDeniedError) as exc:
            status = status_for(exc)
            flash(str(exc), "danger")
        else:
            flash(_("SOP dimulai: %(title)s", title=view.title), "success")
            if first is not None:  # the first step is the starter's own: go to it
                return redirect(url_for("tasks.show", task_id=first))
            return redirect(url_for("instances.show", instance_id=view.id))
    elif form.is_submitted():
        status = 422
    return render_template("instances/start_form.html", sop=sop, form=form), status


@bp.get("/proses/<id:instance_id>")
@login_required
def show(instance_id: int) -> ResponseReturnValue:
    """One instance: current steps, the history grouped per step and iteration, the raw event log.

    The event log is filtered by ``jenis`` (event kind), ``langkah`` (step id)
    and ``oleh`` (username); ``?pada=<event id>`` opens the timeline at that
    event (``static/js/timeline.js``).
    """
    with transaction() as session:
        require_instance(session, current_user, instance_id)
        view = instances.get_instance(session, instance_id)
        history = instances.history_of(session, instance_id)
        runs = audit.step_runs(session, instance_id)
        at = now()
        holders = {t.id: instances.candidates(session, t.id, at) for t in view.ready_tasks}
        mentioned = {e.actor for e in history if e.actor} | {u for users in holders.values() for u in users}
        for entry in history:
            mentioned.update(entry.data.get("members", []) + entry.data.get("recipients", []))
        names = people(session, mentioned)
        sop_names = {d.process_id: d.name for d in catalog.list_latest(session)}
        docs = documents.documents_of(session, instance_id)
        unheld = instances.unheld_ready_tasks(session, instance_id, at)
        restaff = (restaffing.teams_of(session, instance_id)
                   if restaffing.may_restaff(session, current_user.id, instance_id, at) else [])
    mine = {task_id for task_id, users in holders.items() if current_user.username in users}
    outside = {e.task_id: e.data["data"][documents.OUTSIDE_REASON_KEY] for e in history
               if e.kind == "task_completed" and e.task_id
               and isinstance(e.data.get("data"), dict) and e.data["data"].get(documents.OUTSIDE_REASON_KEY)}
    started = next((e for e in history if e.kind == "instance_started"), None)
    letter = started.data.get("input", {}) if started is not None else {}
    filters = {k: request.args.get(k, "").strip() for k in ("jenis", "langkah", "oleh")}
    log = [e for e in history
           if (not filters["jenis"] or e.kind == filters["jenis"])
           and (not filters["langkah"] or e.step_id == filters["langkah"])
           and (not filters["oleh"] or e.actor == filters["oleh"])]
    steps = sorted({(e.step_id, e.step_name) for e in history if e.step_id and e.step_name}, key=lambda s: s[1])
    return render_template("instances/show.html", instance=view, history=history, mine=mine,
                           names=names, sop_names=sop_names, letter=letter, documents=docs, runs=runs,
                           log=log, filters=filters, steps=steps, acting_label=audit.acting_label, unheld=unheld,
                           restaff=restaff, outside=outside,
                           holders={k: [names.get(u, u) for u in v] for k, v in holders.items()},
                           actors=sorted({e.actor for e in history if e.actor}))



@bp.post("/proses/<id:instance_id>/tim")
@login_required
def restaff(instance_id: int) -> ResponseReturnValue:
    """The unit head names a team lane's members anew (``engine.restaff``); 404 for anyone else."""
    lane = (request.form.get("lajur") or "").strip()
    members = (request.form.get("anggota") or "").split(",")
    with transaction() as session:
        require_instance(session, current_user, instance_id)
        try:
            with session.begin_nested():
                restaffing.restaff_team(session, instance_id, lane, members, by=current_user.username, now=now())
        except PermissionDeniedError:
            refuse(current_user, "instance", instance_id)
        except AlurError as exc:
            flash(str(exc), "danger")
            return redirect(url_for(".show", instance_id=instance_id))
    flash(_("Anggota tim %(lane)s diganti.", lane=lane), "success")
    return redirect(url_for(".show", instance_id=instance_id))
