"""The inbox: ready tasks of the lanes the user holds, soonest due first.

Reads through ``engine.instances.inbox``/``inbox_count`` only (the human-task
table; no workflow state is loaded). The count is shown in the navigation on
every page, beside the unread notifications. The SOP filter offers the SOPs
that run in the user's units (``engine.lanes.runs_in_units``); ``?urut=`` sorts (due | waiting | sop)
and ``?q=`` keeps the tasks whose title contains a text. Each task says the
working time left before its due time ("sisa 2 jam kerja", "lewat 1 hari
kerja", ``engine.time_left``). Below Bootstrap's ``md`` breakpoint the table is
shown as a list of cards (``static/alur.css``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from babel.support import NullTranslations
from flask import Blueprint, Flask, g, render_template, request, send_from_directory, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_translations, gettext, ngettext
from flask_login import current_user, login_required
from sqlalchemy.orm import Session

from engine import catalog, followups, instances, lanes, notifications, time_left
from engine.calendar import DEFAULT_OFFICE_HOURS
from engine.views import TaskView
from storage.tasks import INBOX_ORDERS
from web.auth import now
from web.db import transaction
from web.i18n import datetime_formatter, since_formatter

__all__ = ["ORDERS", "InboxRow", "bp", "init_app", "nav_counts", "working_time_left"]

bp = Blueprint("inbox", __name__)
ORDERS = tuple(INBOX_ORDERS)
"""The inbox's sort orders (``storage.tasks.INBOX_ORDERS``): due time, waiting since, SOP name."""
_QUERY_MAX = 100  # characters of a title search
_DAY_MINUTES = DEFAULT_OFFICE_HOURS.weekly_minutes // 5  # a working day of the default hours: 450


def init_app(app: Flask) -> None:
    """Register the inbox, the navigation's task count and the ``sisa_kerja`` filter on ``app``."""
    app.register_blueprint(bp)
    app.context_processor(_nav_count)
    app.jinja_env.filters["sisa_kerja"] = working_time_left


_NAV = "_alur_nav_counts"  # g: the navigation's counts, when the view read them in its own transaction


def _nav_count() -> dict[str, int | None]:
    """The navigation's counts — ready tasks and unread notifications — read in one transaction.

    A view that already read them (:func:`nav_counts`) is not asked again.
    """
    if not current_user.is_authenticated:
        return {"nav_inbox_count": None, "nav_unread_count": None}
    known: dict[str, int | None] | None = g.get(_NAV)
    if known is not None:
        return known
    with transaction() as session:
        return nav_counts(session)


def nav_counts(session: Session, *, inbox_count: int | None = None) -> dict[str, int | None]:
    """Read the navigation's counts in the view's transaction, for the page it renders next.

    ``inbox_count`` is the user's whole inbox count when the view has it already.
    Call it after the view's last change, so the counts are those of the page.
    """
    counts: dict[str, int | None] = {
        "nav_inbox_count": inbox_count if inbox_count is not None
        else instances.inbox_count(session, current_user.username, now=now()),
        "nav_unread_count": notifications.unread_count(session, current_user.username)}
    setattr(g, _NAV, counts)
    return counts


def working_time_left(minutes: int | None) -> str:
    """Working minutes before a due time in words: "sisa 2 jam kerja", "lewat 1 hari kerja"; "" for None.

    Whole working days (of the default 7.5-hour day) from a day on, whole hours
    from an hour on, minutes below; rounded down.
    """
    return _time_left_text(minutes, gettext, ngettext)


def _time_left_text(minutes: int | None, gettext: Callable[..., str], ngettext: Callable[..., str]) -> str:
    if minutes is None:
        return ""
    amount = abs(minutes)
    if amount >= _DAY_MINUTES:
        n = amount // _DAY_MINUTES
        span = ngettext("%(num)d hari kerja", "%(num)d hari kerja", n)
    elif amount >= 60:
        n = amount // 60
        span = ngettext("%(num)d jam kerja", "%(num)d jam kerja", n)
    else:
        span = ngettext("%(num)d menit kerja", "%(num)d menit kerja", amount)
    if minutes < 0:
        return gettext("lewat %(span)s", span=span)
    return gettext("sisa %(span)s", span=span)


@dataclass(frozen=True)
class InboxRow:
    """One task as the inbox page shows it, its texts formatted in Python once per page.

    ``since`` and ``due`` are local times ("5 Mar 2026, 08.30 WIT", ``due`` "" without
    a due time), ``waited`` how long ago it became ready ("3 jam lalu"), ``left`` the working
    time left in words ("" without a due time), ``late`` whether that is past, ``overdue``
    whether the due time has passed, ``escalated`` whether a superior was told,
    ``claimed_at`` when a colleague claimed it ("" when nobody did), ``task_url`` and
    ``instance_url`` its links. (An inbox page has up to 100 rows: formatting through
    Jinja filters and macros row by row cost more than the database.)
    """

    task: TaskView
    task_url: str
    instance_url: str
    since: str
    waited: str
    due: str
    overdue: bool
    left: str
    late: bool
    escalated: bool
    claimed_at: str


def _url_prefix(endpoint: str, name: str, sample: Any) -> str:
    """The URL of ``endpoint`` up to its last argument ``name`` (built once, then joined per row)."""
    url = url_for(endpoint, **{name: sample})
    assert url.endswith(str(sample)), url
    return url[: -len(str(sample))]


def inbox_rows(tasks: list[TaskView], left: Mapping[str, int], escalated: set[str]) -> list[InboxRow]:
    """The rows of the inbox page for ``tasks`` (see :class:`InboxRow`), in the reader's language."""
    if not tasks:
        return []
    moment, since = datetime_formatter(), since_formatter()
    translations = get_translations() or NullTranslations()

    def gettext(message: str, **values: Any) -> str:  # flask_babel's, with the translations looked up once
        return translations.ugettext(message) % values

    def ngettext(singular: str, plural: str, num: int) -> str:
        return translations.ungettext(singular, plural, num) % {"num": num}

    task_url = _url_prefix("tasks.show", "task_id", "00000000-0000-0000-0000-000000000000")
    instance_url = _url_prefix("instances.show", "instance_id", 1)
    at = datetime.now(UTC)
    return [InboxRow(
        task=t, task_url=task_url + t.id, instance_url=f"{instance_url}{t.instance_id}",
        since=moment(t.ready_at, t.unit_code), waited=gettext("%(lama)s lalu", lama=since(t.ready_at)),
        due=moment(t.due_at, t.unit_code) if t.due_at is not None else "",
        overdue=t.due_at is not None and t.due_at < at,
        left=_time_left_text(left.get(t.id), gettext, ngettext), late=left.get(t.id, 0) < 0,
        escalated=t.id in escalated,
        claimed_at=moment(t.claimed_at, t.unit_code) if t.claimed_by else "",
    ) for t in tasks]


@bp.get("/favicon.ico")
def favicon() -> ResponseReturnValue:
    """The small icon browsers ask for (``static/favicon.ico``), without a login."""
    return send_from_directory(bp.root_path + "/static", "favicon.ico", mimetype="image/vnd.microsoft.icon",
                               max_age=86400)


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    """The inbox page; ``?sop=<process id>`` keeps one SOP, ``?q=`` searches titles, ``?urut=`` sorts.

    Steps the user claimed come first, in their own section (``inbox/_claimed.html``);
    the others follow, a step a colleague claimed marked with their name.
    """
    order = request.args.get("urut", "due")
    order = order if order in ORDERS else "due"
    text = request.args.get("q", "").strip()[:_QUERY_MAX] or None
    with transaction() as session:
        sops = [(d.process_id, d.name)
                for d in lanes.runs_in_units(session, catalog.list_latest(session), current_user.unit_codes)]
        chosen = request.args.get("sop") or None
        if chosen not in {pid for pid, _ in sops}:
            chosen = None
        at = now()
        tasks = instances.inbox(session, current_user.username, process_id=chosen, now=at, order=order, text=text)
        total = instances.inbox_count(session, current_user.username, process_id=chosen, now=at, text=text)
        escalated = followups.escalated_task_ids(session, [(t.id, t.instance_id) for t in tasks])
        left = time_left.working_minutes_left(session, tasks, at)
        nav_counts(session, inbox_count=total if chosen is None and text is None else None)
    mine = [t for t in tasks if t.claimed_by == current_user.username]  # tasks/_claim.html: "Saya kerjakan"
    rows = inbox_rows([t for t in tasks if t.claimed_by != current_user.username], left, escalated)
    return render_template("inbox/index.html", rows=rows, claimed=mine, total=total, sops=sops, chosen=chosen,
                           order=order, text=text or "")
