"""Ruang Auditor: instance search and its exports, verification, re-execution, the read log.

- ``GET /audit``                 search the instances the user may read (``engine.visibility``):
                                 SOP, unit, period started/completed, status, late steps,
                                 rework, participant, title; sorted; keyset pages (``setelah``).
- ``GET /audit/ekspor.csv|xlsx`` the same result as a file (at most 100,000 rows), for people: headers
                                 in the reader's language, unit and SOP names, people's names, statuses
                                 and times as on screen; the last two columns are the stable codes of the
                                 SOP and the unit, headed as codes for machines (to join other data).
- ``GET /audit/akses``           what auditors opened: administrators only.
- ``GET /proses/<id>/verifikasi`` the instance's hash chain: "utuh" or the first broken link.
- ``GET /proses/<id>/putar-ulang`` re-execution of its recorded completions (rolled back).
- ``GET /audit/kepatuhan[.csv|.xlsx|.pdf]`` Kepatuhan Mutu Baku for a period and scope
                                 (``engine.compliance``); ``/audit/diagram/<sop>.bpmn`` its heatmap's diagram.

Dates of the form are days in the user's home time zone, ranges inclusive.
An auditor's searches, exports and checks are recorded (``engine.audit``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, render_template, request, send_file, stream_with_context
from flask.typing import ResponseReturnValue
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy.orm import Session
from wtforms import BooleanField, DateField, SelectChoice, SelectField, StringField
from wtforms.validators import Length, Optional

from engine import audit, catalog, compliance, replay
from engine.access import ADMINISTRATOR
from storage.errors import InvalidTaskDataError, ProcessNotFound, UserNotFound
from storage.search import SORTS, Criteria, Found
from web.access import refuse, require_instance
from web.accounts import unit_names
from web.db import transaction
from web.i18n import local_datetime, standard_time
from web.sop_render import css_string

__all__ = ["STATUS_NAMES", "ReportForm", "SearchForm", "bp"]

bp = Blueprint("audit", __name__)

_PAGE = 50
_EXPORT_MAX = 100_000
STATUS_NAMES = {"running": _l("Berjalan"), "completed": _l("Selesai"), "error": _l("Galat")}
"""An instance's status as people say it (the search form's choices, the result list, the exports)."""


def _export_header() -> list[str]:
    """The search export's column titles in the reader's language (see ``_row``)."""
    return [_("No. proses"), _("Perihal"), _("SOP"), _("Versi SOP"), _("Unit kerja"), _("Status"), _("Dimulai"),
            _("Selesai"), _("Dimulai oleh"), _("Langkah terlambat"), _("Putaran \u201ctidak\u201d"),
            _("Kode SOP (untuk mesin)"), _("Kode unit (untuk mesin)")]


class SearchForm(FlaskForm):
    """The search filters (GET, no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    sop = SelectField(_l("SOP"), validators=[Optional()], validate_choice=True)
    unit = SelectField(_l("Unit kerja"), validators=[Optional()], validate_choice=True)
    dimulai_dari = DateField(_l("Dimulai dari"), validators=[Optional()])
    dimulai_sampai = DateField(_l("Dimulai sampai"), validators=[Optional()])
    selesai_dari = DateField(_l("Selesai dari"), validators=[Optional()])
    selesai_sampai = DateField(_l("Selesai sampai"), validators=[Optional()])
    status = SelectField(_l("Status"), validators=[Optional()], choices=[
        SelectChoice("", _l("Semua")), *(SelectChoice(code, name) for code, name in STATUS_NAMES.items())])
    terlambat = BooleanField(_l("Ada langkah terlambat"))
    perbaikan = BooleanField(_l("Ada perbaikan (keputusan \u201ctidak\u201d)"))
    peserta = StringField(_l("Pegawai yang terlibat (nama)"), validators=[Optional(), Length(max=120)])
    teks = StringField(_l("Perihal memuat"), validators=[Optional(), Length(max=200)])
    urut = SelectField(_l("Urutan"), choices=[
        SelectChoice("terbaru", _l("Terbaru dimulai")), SelectChoice("terlama", _l("Terlama dimulai")),
        SelectChoice("judul", _l("Perihal A–Z"))], default="terbaru")


def _scope_choices(session: Session, form: SearchForm | ReportForm) -> None:
    """Fill a form's SOP and unit choices: the SOPs' latest names and the units' names shown, codes sent."""
    form.sop.choices = [SelectChoice("", _("Semua SOP"))] + [
        SelectChoice(process_id, name) for process_id, name in catalog.latest_names(session)]
    form.unit.choices = [SelectChoice("", _("Semua unit"))] + [
        SelectChoice(code, name) for code, name in sorted(unit_names(session).items(), key=lambda item: item[1])]


def _form(session: Session) -> SearchForm:
    form = SearchForm(request.args)
    _scope_choices(session, form)
    return form


def _day_bounds(day: date | None, *, end: bool) -> datetime | None:
    if day is None:
        return None
    zone = ZoneInfo(current_user.timezone)
    moment = datetime.combine(day + timedelta(days=1) if end else day, time(0), zone)
    return moment


def _criteria(session: Session, form: SearchForm) -> Criteria:
    """The form as engine criteria; raises ``InvalidTaskDataError`` for an unknown participant."""
    unit_id, participant = audit.filter_ids(session, unit_code=form.unit.data or None,
                                            username=(form.peserta.data or "").strip() or None)
    return Criteria(
        process_id=form.sop.data or None, unit_id=unit_id,
        started_from=_day_bounds(form.dimulai_dari.data, end=False),
        started_to=_day_bounds(form.dimulai_sampai.data, end=True),
        completed_from=_day_bounds(form.selesai_dari.data, end=False),
        completed_to=_day_bounds(form.selesai_sampai.data, end=True),
        status=form.status.data or None, late=bool(form.terlambat.data), rework=bool(form.perbaikan.data),
        participant_id=participant, text=form.teks.data or None,
        sort=form.urut.data if form.urut.data in SORTS else "terbaru", now=datetime.now(ZoneInfo("UTC")))


def _query_key() -> str:
    return request.query_string.decode("utf-8", "replace") or "-"


@bp.get("/audit")
@login_required
def search() -> ResponseReturnValue:
    """The search page: filters, one page of results, the next page's link, export links."""
    status = 200
    page = None
    problem = None
    with transaction() as session:
        form = _form(session)
        if form.validate():
            try:
                criteria = _criteria(session, form)
                page = audit.search(session, current_user.username, criteria, after=request.args.get("setelah"),
                                    limit=_PAGE)
                audit.record_read(session, current_user.username, "search", _query_key())
            except InvalidTaskDataError as exc:
                problem, status = str(exc), 422
        else:
            status = 422
    args = {k: v for k, v in request.args.items() if k != "setelah"}
    return render_template("audit/search.html", form=form, page=page, problem=problem, args=args,
                           statuses=STATUS_NAMES), status


def _export_rows(criteria: Criteria) -> Iterator[list[object]]:
    with transaction() as session:
        audit.record_read(session, current_user.username, "export", _query_key())
    with transaction() as session:
        for found, (late, tidak) in audit.export_rows(session, current_user.username, criteria, limit=_EXPORT_MAX):
            yield _row(found, late, tidak)


def _row(found: Found, late: int, tidak: int) -> list[object]:
    """One exported instance: names, not codes; times in the unit's zone as on screen; codes last."""
    return [found.id, found.title, found.process_name, found.version, found.unit_name,
            str(STATUS_NAMES.get(found.status, found.status)), local_datetime(found.started_at, found.unit_code),
            local_datetime(found.completed_at, found.unit_code) if found.completed_at else "",
            found.started_by, late, tidak, found.process_id, found.unit_code]


def _bad_filter() -> Response:
    """The answer to an export or report file asked with filters that do not validate (422, nothing recorded)."""
    return Response(_("Filter tidak sah."), status=422, mimetype="text/plain")


def _workbook_file(book: Any, name: str) -> ResponseReturnValue:
    """An openpyxl workbook sent as the attachment ``name``."""
    data = io.BytesIO()
    book.save(data)
    data.seek(0)
    return send_file(data, as_attachment=True, download_name=name,
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _export_criteria() -> Criteria | None:
    with transaction() as session:
        form = _form(session)
        if not form.validate():
            return None
        try:
            return _criteria(session, form)
        except InvalidTaskDataError:
            return None


@bp.get("/audit/ekspor.csv")
@login_required
def export_csv() -> ResponseReturnValue:
    """The search result as CSV (UTF-8 with BOM, comma-separated; columns as ``_export_header``)."""
    criteria = _export_criteria()
    if criteria is None:
        return _bad_filter()

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")
        writer.writerow(_export_header())
        for row in _export_rows(criteria):
            writer.writerow(row)
            if buffer.tell() > 65536:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    response = Response(stream_with_context(lines()), mimetype="text/csv")
    response.headers["Content-Disposition"] = "attachment; filename=alur-pencarian.csv"
    return response


@bp.get("/audit/ekspor.xlsx")
@login_required
def export_xlsx() -> ResponseReturnValue:
    """The search result as an XLSX workbook (openpyxl, write-only mode)."""
    from openpyxl import Workbook

    criteria = _export_criteria()
    if criteria is None:
        return _bad_filter()
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Pencarian")
    sheet.append(_export_header())
    for row in _export_rows(criteria):
        sheet.append(row)
    return _workbook_file(book, "alur-pencarian.xlsx")


@bp.get("/audit/akses")
@login_required
def read_log() -> ResponseReturnValue:
    """What auditors opened, newest first: administrators only (404 for anyone else)."""
    if not current_user.grants.has(ADMINISTRATOR):
        refuse(current_user, "page", "audit/akses")
    before = request.args.get("sebelum", type=int)
    username = request.args.get("pengguna") or None
    with transaction() as session:
        try:
            entries = audit.read_log(session, username=username, before_id=before, limit=100)
        except UserNotFound:
            entries = []
    return render_template("audit/read_log.html", entries=entries, username=username)


@bp.get("/proses/<id:instance_id>/verifikasi")
@login_required
def verify(instance_id: int) -> ResponseReturnValue:
    """Recompute the instance's hash chain: "utuh" or the first broken link, with the latest seal."""
    with transaction() as session:
        require_instance(session, current_user, instance_id, record="verify")
        verdict = audit.verify(session, instance_id)
        title = audit_title(session, instance_id)
    return render_template("audit/verify.html", verdict=verdict, instance_id=instance_id, title=title)


@bp.get("/proses/<id:instance_id>/putar-ulang")
@login_required
def rerun(instance_id: int) -> ResponseReturnValue:
    """Re-execute the instance's recorded completions from its pinned diagrams and compare (rolled back)."""
    with transaction() as session:
        require_instance(session, current_user, instance_id, record="replay")
        title = audit_title(session, instance_id)
    with transaction() as session:
        outcome = replay.replay(session, instance_id)
        session.rollback()
    return render_template("audit/rerun.html", outcome=outcome, instance_id=instance_id, title=title)


def audit_title(session: Session, instance_id: int) -> str:
    """The instance's title (for headings)."""
    from engine import instances

    return instances.get_instance(session, instance_id).title


class ReportForm(FlaskForm):
    """The compliance report's period and scope (GET, no CSRF)."""

    class Meta:
        csrf = False

    dari = DateField(_l("Dari"), validators=[Optional()])
    sampai = DateField(_l("Sampai"), validators=[Optional()])
    unit = SelectField(_l("Unit kerja"), validators=[Optional()], validate_choice=True)
    sop = SelectField(_l("SOP"), validators=[Optional()], validate_choice=True)


def _report_form(session: Session) -> ReportForm:
    form = ReportForm(request.args)
    _scope_choices(session, form)
    return form


def _period(form: ReportForm) -> tuple[datetime, datetime]:
    """The form's period; default: the last 12 months up to today (in the user's zone)."""
    today = datetime.now(ZoneInfo(current_user.timezone)).date()
    end_day = form.sampai.data or today
    start_day = form.dari.data or date(end_day.year - 1, end_day.month, 1)
    zone = ZoneInfo(current_user.timezone)
    return datetime.combine(start_day, time(0), zone), datetime.combine(end_day + timedelta(days=1), time(0), zone)


def _compliance() -> tuple[ReportForm, compliance.Report | None, str | None]:
    with transaction() as session:
        form = _report_form(session)
        if not form.validate():
            return form, None, None
        start, end = _period(form)
        try:
            found = compliance.report(session, current_user.username, start=start, end=end,
                                      unit_code=form.unit.data or None, process_id=form.sop.data or None)
        except InvalidTaskDataError as exc:
            return form, None, str(exc)
        audit.record_read(session, current_user.username, "report", _query_key())
    return form, found, None


@bp.get("/audit/kepatuhan")
@login_required
def report() -> ResponseReturnValue:
    """Kepatuhan Mutu Baku: tables (readable without JavaScript), a month chart, a heatmap per SOP."""
    form, found, problem = _compliance()
    status = 200 if found is not None else 422
    args = {k: v for k, v in request.args.items()}
    heat_sop = request.args.get("peta") or (found.sops[0].process_id if found and found.sops else None)
    return render_template("audit/report.html", form=form, report=found, problem=problem, args=args,
                           heat_sop=heat_sop, chart=_chart_data(found) if found else None), status


def _chart_data(found: compliance.Report) -> dict[str, object]:
    return {"labels": [m.label for m in found.months], "runs": [m.runs for m in found.months],
            "on_time": [round(100 * m.on_time_share, 1) if m.on_time_share is not None else None
                        for m in found.months],
            "median": [m.median_minutes for m in found.months]}


def _report_header() -> list[str]:
    """The report export's column titles in the reader's language (see ``_report_rows``)."""
    return [_("Tabel"), _("Nama"), _("Keterangan"), _("Waktu baku"), _("Jumlah"), _("Median (menit kerja)"),
            _("P90 (menit kerja)"), _("Terlama (menit kerja)"), _("Tepat waktu (%)"), _("Terlambat (%)"),
            _("Perbaikan (%)")]


def _percent(share: float | None) -> float | str:
    return round(100 * share, 1) if share is not None else ""


def _report_rows(found: compliance.Report) -> Iterator[list[object]]:
    """Every line of the report's tables, the table's name first: names, readable Waktu, percentages."""
    for table, lines in ((_("SOP"), found.sops), (_("Langkah"), found.steps), (_("Peran"), found.roles),
                         (_("Unit kerja"), found.units), (_("Bulan"), found.months)):
        for line in lines:
            yield [table, line.label, line.detail, standard_time(line.waktu) if line.waktu else "", line.runs,
                   line.median_minutes, line.p90_minutes, line.max_minutes, _percent(line.on_time_share),
                   _percent(line.late_share), _percent(line.rework_rate)]


@bp.get("/audit/kepatuhan.csv")
@login_required
def report_csv() -> ResponseReturnValue:
    """The report's tables as one CSV (a ``tabel`` column names each row's table)."""
    _form, found, _problem = _compliance()
    if found is None:
        return _bad_filter()
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(_report_header())
    writer.writerows(_report_rows(found))
    response = Response(buffer.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = "attachment; filename=alur-kepatuhan.csv"
    return response


@bp.get("/audit/kepatuhan.xlsx")
@login_required
def report_xlsx() -> ResponseReturnValue:
    """The report as an XLSX workbook: one sheet per table, the period and the latest seal on the first."""
    from openpyxl import Workbook

    _form, found, _problem = _compliance()
    if found is None:
        return _bad_filter()
    book = Workbook(write_only=True)
    info = book.create_sheet("Laporan")
    info.append([_("Kepatuhan Mutu Baku"), found.start.isoformat(), found.end.isoformat()])
    if found.latest_seal is not None:
        info.append([_("Segel terakhir"), found.latest_seal.id, found.latest_seal.seal_hash])
    sheets: dict[str, Any] = {}
    for row in _report_rows(found):
        sheet = sheets.get(str(row[0]))
        if sheet is None:
            sheet = book.create_sheet(str(row[0]))
            sheet.append(_report_header()[1:])
            sheets[str(row[0])] = sheet
        sheet.append(row[1:])
    return _workbook_file(book, "alur-kepatuhan.xlsx")


def _choice_label(field: SelectField) -> str:
    """The name a select shows for its chosen value (a unit's or SOP's name, not its code)."""
    return next((str(choice.label) for choice in field.choices if choice.value == field.data), str(field.data))


def _page_counter_css() -> Markup:
    """The PDF footer's "Halaman 1 dari 7" / "Page 1 of 7" as a CSS ``content`` value for WeasyPrint's
    ``@page`` margin boxes: the translated sentence with ``counter(page)`` and ``counter(pages)`` where
    its placeholders stand (so each language keeps its own word order), the text as escaped CSS strings."""
    marker = "\x00"
    text = _("Halaman %(page)s dari %(pages)s", page=f"{marker}page{marker}", pages=f"{marker}pages{marker}")
    parts = [f"counter({piece})" if index % 2 else str(css_string(piece))
             for index, piece in enumerate(text.split(marker)) if piece]
    return Markup(" ".join(parts))


def _refuse_urls(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    raise ValueError(f"laporan kepatuhan tidak memuat sumber luar: {url}")


@bp.get("/audit/kepatuhan.pdf")
@login_required
def report_pdf() -> ResponseReturnValue:
    """The report as a PDF (WeasyPrint, as the SOP document): A4 landscape, Indonesian, every table, the latest
    seal and when and by whom it was printed, so that a paper copy anchors the history it was computed from."""
    from weasyprint import HTML  # imported here: loading pango takes ~0.3 s, only this file needs it

    form, found, _problem = _compliance()
    if found is None:
        return _bad_filter()
    zone = ZoneInfo(current_user.timezone)
    last_day = (found.end.astimezone(zone) - timedelta(days=1)).date()
    period = f"{format_date(found.start.astimezone(zone).date(), 'd MMMM y')} – {format_date(last_day, 'd MMMM y')}"
    scope = " · ".join(_choice_label(field) for field in (form.unit, form.sop) if field.data) or _(
        "semua unit dan SOP")
    html = render_template("audit/report_pdf.html", report=found, period=period, scope=scope,
                           unit_code=current_user.unit_code, printed=datetime.now(UTC),
                           printed_by=current_user.full_name, page_counter=_page_counter_css())
    pdf = HTML(string=html, url_fetcher=_refuse_urls, base_url=bp.root_path).write_pdf()
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = "attachment; filename=alur-kepatuhan.pdf"
    return response


@bp.get("/audit/diagram/<bpmn_id:process_id>.bpmn")
@login_required
def heat_diagram(process_id: str) -> ResponseReturnValue:
    """The newest BPMN XML of an SOP, for the report's heatmap (diagrams are not secret within the office)."""
    with transaction() as session:
        try:
            xml = compliance.latest_xml(session, process_id)
        except ProcessNotFound:
            refuse(current_user, "diagram", process_id)
    return Response(xml, mimetype="application/xml")
