"""The task page: the step's Kegiatan and Mutu Baku, and the form that completes it.

A review step ("jika setuju ... jika tidak ...", Permenpan RB 35/2012) is
answered with Setuju or Tidak; Tidak needs a catatan, so whoever fixes the work
knows what to fix. A "Membentuk tim" step names the team's members from the
unit. Any step may come with its Output document (``web.documents``), checked
before anything is done and stored in the transaction that completes the task,
so the two are kept together or not at all. Completing a task that is no longer
ready (a second submit, or someone else was first) changes nothing and says so
(409): no document is stored twice. A form that presses more than one answer
(Setuju and Tidak, a button twice, or an answer the step does not have) is
refused (422) rather than read one way: nothing is changed.

After a completion the message says where the work went: back to whom for
rework, on to which lane and its holders, or that the SOP is finished
(:func:`where_it_went`). Where the step's Output names a document
(``engine.documents.output_document``) the form asks for it; completing
without it needs the reason it is handed over outside Alur, kept in the
history.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy.orm import Session
from wtforms import Field, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.validators import Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from engine import claims, documents, instances, visibility
from engine.sop import StepMeta
from engine.views import HistoryEntry, InstanceView, TaskView
from storage import org
from storage.errors import (
    ConflictError,
    InvalidFieldError,
    InvalidTaskDataError,
    ProcessExecutionError,
    TaskAlreadyCompleted,
)
from web.access import may_act, refuse, require_task
from web.accounts import people
from web.auth import now
from web.db import transaction
from web.documents import max_bytes, read_upload
from web.errors import status_for
from web.inbox import nav_counts

__all__ = ["TaskForm", "TeamChoice", "bp", "team_choices", "where_it_went"]

bp = Blueprint("tasks", __name__)
_RECENT_NOTES = 5
_ANSWERS = ("setuju", "tidak", "selesai")  # the form's submit buttons
_FORM_FIELD = {"tim": "tim", "catatan": "catatan", "dokumen": "dokumen",
               documents.OUTSIDE_REASON_KEY: "di_luar"}  # the engine's field name -> the task form's


class _Checkboxes(SelectMultipleField):
    """A multiple choice shown as checkboxes (works without JavaScript)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class TaskForm(FlaskForm):
    """Every field a step may need; :func:`task_form` removes those a step does not use."""

    catatan = TextAreaField(_l("Catatan"), validators=[Length(max=4000)])
    tim = _Checkboxes(_l("Anggota tim"))
    dokumen = FileField(_l("Dokumen Output"))
    di_luar = StringField(_l("Diserahkan di luar sistem karena"), validators=[
        Length(max=documents.OUTSIDE_REASON_MAX)])
    setuju = SubmitField(_l("Setuju"))
    tidak = SubmitField(_l("Tidak"))
    selesai = SubmitField(_l("Selesai"))

    def validate_catatan(self, field: Field) -> None:
        """Tidak needs a catatan."""
        if "tidak" in self._fields and self.tidak.data and not (field.data or "").strip():
            raise ValidationError(_l("Catatan belum diisi."))

    def validate_dokumen(self, field: Field) -> None:
        """Size, extension and content of the Output document, checked by the engine's rules."""
        upload = read_upload(field.data)
        if upload is not None:
            try:
                documents.check(upload.filename, upload.data, max_bytes=max_bytes())
            except InvalidTaskDataError as exc:
                raise ValidationError(str(exc)) from exc

    def validate_tim(self, field: Field) -> None:
        """A team needs at least one member."""
        if not field.data:
            raise ValidationError(_l("Pilih sedikitnya satu anggota tim."))

    @property
    def keputusan(self) -> str | None:
        """"setuju" | "tidak" on a review step (the button pressed), else None."""
        if "setuju" not in self._fields:
            return None
        return "setuju" if self.setuju.data else "tidak" if self.tidak.data else None


@dataclass(frozen=True)
class TeamChoice:
    """A person a team may be formed of: login name, full name and jabatan (role names in the unit)."""

    username: str
    full_name: str
    jabatan: str


def team_choices(session: Session, unit_code: str, picker: str) -> list[TeamChoice]:
    """Everyone holding a role in the unit, by jabatan then name; the picker and the unit head last.

    The head is found by ``engine.visibility.HEAD_ROLES`` (the one rule of who
    heads a unit). Raises ``UnitNotFound``.
    """
    unit = org.get_unit_by_code(session, unit_code)
    head = next(filter(None, (org.resolve_role(session, unit.id, name)
                              for name in visibility.HEAD_ROLES.get(unit.kind, ()))), None)
    found = []
    for user in org.unit_users(session, unit.id):
        roles = [r for r in org.roles_of(session, user.id) if r.unit_id == unit.id]
        last = user.username == picker or (head is not None and head.id in {r.id for r in roles})
        jabatan = ", ".join(sorted(r.name for r in roles))
        found.append((last, jabatan.casefold(), user.full_name.casefold(),
                      TeamChoice(user.username, user.full_name, jabatan)))
    return [choice for *_key, choice in sorted(found, key=lambda item: item[:3])]


def task_form(task: TaskView, members: list[TeamChoice]) -> TaskForm:
    """The form for ``task``: Setuju/Tidak on a review step, Selesai otherwise; a team picker
    (``members``) on a step that forms a team."""
    form = TaskForm()
    if task.is_review:
        del form.selesai
    else:
        del form.setuju, form.tidak
    if task.forms_team:
        form.tim.choices = [(m.username, m.full_name) for m in members]
    else:
        del form.tim
    return form


def _rejection(history: list[HistoryEntry], task: TaskView) -> HistoryEntry | None:
    """The "Tidak" that sent ``task`` back for rework (completed when ``task`` became ready), or None."""
    if task.iteration < 2:
        return None
    return next((e for e in reversed(history) if e.kind == "task_completed" and e.keputusan == "tidak"
                 and e.occurred_at == task.ready_at), None)


def _context(session: Session, task: TaskView) -> dict[str, Any]:
    """What the page shows besides the task: step, team choices, recent catatan, the rejection to fix."""
    members = team_choices(session, task.unit_code, current_user.username) if task.forms_team else []
    history = instances.history_of(session, task.instance_id)
    notes = [e for e in history if e.kind == "task_completed" and e.catatan][-_RECENT_NOTES:][::-1]
    docs = documents.documents_of(session, task.instance_id)
    who = ({e.actor for e in notes if e.actor} | {d.uploaded_by for d in docs}
           | ({task.completed_by} if task.completed_by else set()))
    step = instances.step_of_task(session, task.id)
    return {"step": step, "members": members, "notes": notes, "documents": docs,
            "rejection": _rejection(history, task), "output_document": documents.output_document(step),
            "names": people(session, who), "accept": documents.ACCEPT, "max_bytes": max_bytes(),
            "claim": claims.claim_of(session, task.id, current_user.username)}


def where_it_went(session: Session, before: set[str], after: InstanceView, keputusan: str | None) -> str:
    """Say where a completion sent the work: the lanes made ready and who holds them, or the end.

    ``before`` are the ids of the instance's ready tasks before the completion,
    ``after`` the instance afterwards. Holders come from
    ``engine.instances.candidates`` (the lane-holder rule of ``engine.lanes``).
    """
    if after.status == "completed":
        return _("SOP selesai.")
    made = [t for t in after.ready_tasks if t.id not in before]
    if not made:
        return _("Menunggu langkah lain yang sedang berjalan.")
    holders = {t.id: instances.candidates(session, t.id, now()) for t in made}
    names = people(session, {u for users in holders.values() for u in users})
    places = []
    for task in made:
        who = ", ".join(names.get(u, u) for u in holders[task.id])
        place = f"{task.lane} ({who})" if who else task.lane
        if place not in places:
            places.append(place)
    where = "; ".join(places)
    if keputusan == "tidak":
        return _("Dikembalikan ke %(where)s untuk diperbaiki.", where=where)
    return _("Diteruskan ke %(where)s.", where=where)


def _ambiguity(task: TaskView) -> str | None:
    """Why the buttons posted do not give one answer for ``task``, or None when they do (or none was)."""
    pressed = [name for name in _ANSWERS for _value in request.form.getlist(name)]
    allowed = ("setuju", "tidak") if task.is_review else ("selesai",)
    if len(pressed) <= 1 and all(name in allowed for name in pressed):
        return None
    if task.is_review:
        return _("Pilih salah satu: Setuju atau Tidak, tidak keduanya. Tugas belum diselesaikan.")
    return _("Pilih salah satu tombol saja: Selesai (langkah ini bukan langkah pemeriksaan). "
             "Tugas belum diselesaikan.")


def _complete(task: TaskView, form: TaskForm, step: StepMeta | None) -> int | str:
    """Complete ``task`` from ``form``; the message saying where the work went, else the HTTP status.

    ``PermissionDeniedError`` (the lane changed hands meanwhile) is left to
    ``web.errors``: 404, logged.
    """
    if task.state != "ready":
        return 409
    valid = form.validate_on_submit()
    ambiguity = _ambiguity(task)
    if ambiguity is not None:
        form.form_errors.append(ambiguity)
        return 422
    if task.is_review and form.keputusan is None:
        form.form_errors.append(_("Pilih Setuju atau Tidak."))
        valid = False
    if not valid:
        return 422
    upload = read_upload(form.dokumen.data)
    try:
        with transaction() as session:
            # a step someone else claimed is refused as such, before what the form lacks
            claims.check_may_complete_task(session, task.id, current_user.username, now())
            outside = documents.check_output(step, has_document=upload is not None, reason=form.di_luar.data)
            before = set(instances.ready_task_ids(session, task.instance_id))
            after = instances.complete_task(
                session, task.id, username=current_user.username, keputusan=form.keputusan,
                catatan=form.catatan.data, team=form.tim.data if "tim" in form._fields else None, now=now(),
                data={documents.OUTSIDE_REASON_KEY: outside} if outside else None)
            if upload is not None:
                documents.attach(session, task.id, username=current_user.username, filename=upload.filename,
                                 data=upload.data, max_bytes=max_bytes(), now=now())
            return where_it_went(session, before, after, form.keputusan)
    except TaskAlreadyCompleted as exc:
        return status_for(exc)
    except InvalidFieldError as exc:  # e.g. a control character: shown at its field
        field = form._fields.get(_FORM_FIELD.get(exc.field, ""))
        if field is not None:
            field.errors.append(exc.problem)
        else:
            flash(str(exc), "danger")
        return status_for(exc)
    except (ConflictError, InvalidTaskDataError, ProcessExecutionError) as exc:
        flash(str(exc), "danger")  # beside the form, which keeps what was typed
        return status_for(exc)


@bp.route("/tugas/<task_id:task_id>", methods=("GET", "POST"))
@login_required
def show(task_id: str) -> ResponseReturnValue:
    """The task page; a POST completes the task and goes back to the inbox."""
    submitted = request.method == "POST"  # the route's one submitting method (FlaskForm.is_submitted)
    with transaction() as session:
        task = require_task(session, current_user, task_id)
        can_act = may_act(session, current_user, task_id)
        if submitted:  # what the completion needs; the page's context only when the form comes back
            step = instances.step_of_task(session, task_id)
            members = team_choices(session, task.unit_code, current_user.username) if task.forms_team else []
        else:
            context = _context(session, task)
            nav_counts(session)
    if not submitted:
        return render_template("tasks/show.html", task=task, form=task_form(task, context["members"]),
                               resubmitted=False, can_act=can_act, **context)
    if not can_act:
        refuse(current_user, "task", task_id)  # a reader (auditor, unit head) never acts
    form = task_form(task, members)
    outcome = _complete(task, form, step)
    if isinstance(outcome, str):
        flash(_("Tugas selesai: %(step)s. %(where)s", step=task.step_name, where=outcome), "success")
        return redirect(url_for("inbox.index"))
    with transaction() as session:
        task = instances.get_task(session, task_id)
        context = _context(session, task)
        can_act = may_act(session, current_user, task_id)
        nav_counts(session)
    return render_template("tasks/show.html", task=task, form=form, resubmitted=outcome == 409, can_act=can_act,
                           **context), outcome
