"""Proses: the lists of cases (instances) a user started, takes part in, or oversees.

- ``GET /proses?daftar=mulai|terlibat|unit`` — *Saya mulai*, *Saya terlibat*,
  *Semua proses unit* (heads and secretaries of a unit, auditors in scope;
  ``engine.cases``), filtered by SOP, status (berjalan/selesai), period started,
  late steps, rework and words of the title; sorted; keyset pages (``setelah``).

The JSON API serves the same lists at ``/api/v1/cases`` (``web.api``) through
:func:`read_query`. Dates are days in the user's home time zone, inclusive.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, DateField, SelectField, StringField
from wtforms.validators import Length, Optional

from engine import cases, catalog
from engine.cases import CaseQuery
from storage.errors import InvalidTaskDataError
from web import openapi
from web.db import transaction

__all__ = ["PAGE", "CardTexts", "CaseForm", "bp", "card_texts", "read_query"]

bp = Blueprint("cases", __name__)
PAGE = openapi.CASE_PAGE


class CaseForm(FlaskForm):
    """The list's filters (GET, no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    daftar = SelectField(_l("Daftar"), validators=[Optional()], choices=[
        ("terlibat", _l("Saya terlibat")), ("mulai", _l("Saya mulai")), ("unit", _l("Semua proses unit"))],
        default="terlibat")
    sop = SelectField(_l("SOP"), validators=[Optional()], validate_choice=True)
    status = SelectField(_l("Status"), validators=[Optional()], choices=[
        ("", _l("Semua")), ("berjalan", _l("Berjalan")), ("selesai", _l("Selesai"))])
    dimulai_dari = DateField(_l("Dimulai dari"), validators=[Optional()])
    dimulai_sampai = DateField(_l("Dimulai sampai"), validators=[Optional()])
    terlambat = BooleanField(_l("Ada langkah terlambat"))
    perbaikan = BooleanField(_l("Ada perbaikan (keputusan \u201ctidak\u201d)"))
    teks = StringField(_l("Perihal memuat"), validators=[Optional(), Length(max=200)])
    urut = SelectField(_l("Urutan"), validators=[Optional()], choices=[
        ("terbaru", _l("Terbaru dimulai")), ("terlama", _l("Terlama dimulai")), ("judul", _l("Perihal A–Z"))],
        default="terbaru")


def _bound(day: date | None, *, end: bool) -> datetime | None:
    if day is None:
        return None
    return datetime.combine(day + timedelta(days=1) if end else day, time(0), ZoneInfo(current_user.timezone))


_CHOICES: dict[tuple[str, str], list[tuple[str, str]]] = {}


def _translated(field: SelectField) -> list[tuple[str, str]]:
    """``field``'s fixed choices with their labels in the reader's language, looked up once per language.

    A lazy label is looked up through Flask-Babel at each use (twice per option
    when a select renders: 0.1 ms a select).
    """
    key = (str(get_locale()), field.name)
    if key not in _CHOICES:
        _CHOICES[key] = [(str(value), str(label)) for value, label in field.choices]
    return _CHOICES[key]


def read_query(session: Session, args: MultiDict[str, str]) -> tuple[CaseForm, CaseQuery | None]:
    """The filters of ``args`` as a form (with its errors) and, when valid, the engine's query."""
    form = CaseForm(args)
    offered = cases.lists_for(session, current_user.username)
    for field in (form.daftar, form.status, form.urut):
        field.choices = _translated(field)
    form.daftar.choices = [c for c in form.daftar.choices if c[0] in offered]
    form.sop.choices = [("", _("Semua SOP"))] + catalog.latest_names(session)
    if not form.validate():
        return form, None
    return form, CaseQuery(
        daftar=form.daftar.data or "terlibat", process_id=form.sop.data or None, status=form.status.data or None,
        started_from=_bound(form.dimulai_dari.data, end=False), started_to=_bound(form.dimulai_sampai.data, end=True),
        late=bool(form.terlambat.data), rework=bool(form.perbaikan.data), text=form.teks.data or None,
        sort=form.urut.data or "terbaru")


@bp.get("/proses")
@login_required
def index() -> ResponseReturnValue:
    """One page of a list, the filters, the next page's link."""
    status, rows, cursor, problem = 200, None, None, None
    with transaction() as session:
        form, query = read_query(session, request.args)
        offered = cases.lists_for(session, current_user.username)
        if query is None:
            status = 422
        else:
            try:
                rows, cursor = cases.page(session, current_user.username, query,
                                          after=request.args.get("setelah") or None, limit=PAGE)
            except InvalidTaskDataError as exc:
                problem, status = str(exc), 422
    args = {k: v for k, v in request.args.items() if k not in ("setelah", "daftar")}
    chosen = form.daftar.data if form.daftar.data in offered else "terlibat"
    return render_template("cases/index.html", form=form, rows=rows, cursor=cursor, problem=problem, args=args,
                           offered=offered, chosen=chosen, texts=card_texts()), status


@dataclass(frozen=True)
class CardTexts:
    """The fixed texts of a page's cards in the reader's language, looked up once per page (a page has 50
    cards, each Babel lookup costs). The template fills the placeholders with ``|format(...)``;
    ``late(n)``/``reworked(n)``: the count badges, one lookup per count."""

    now: str
    due: str
    overdue: str
    started: str
    completed: str
    claimed: str
    late: Callable[[int], str]
    reworked: Callable[[int], str]


def card_texts() -> CardTexts:
    """The :class:`CardTexts` of this request's language."""
    return CardTexts(
        now=_("Langkah sekarang:"), due=_("Batas waktu"), overdue=_("Terlambat"),
        started=_("Dimulai %(waktu)s oleh %(who)s"), completed=_("Selesai %(waktu)s"),
        claimed=_("sedang dikerjakan oleh %(nama)s"),
        late=cache(lambda n: ngettext("%(num)d langkah terlambat", "%(num)d langkah terlambat", n)),
        reworked=cache(lambda n: ngettext("%(num)d kali diperbaiki", "%(num)d kali diperbaiki", n)))
