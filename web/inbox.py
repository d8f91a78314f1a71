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

from flask import Blueprint, Flask, render_template, request, send_from_directory
from flask.typing import ResponseReturnValue
from flask_babel import gettext, ngettext
from flask_login import current_user, login_required

from engine import catalog, followups, instances, lanes, notifications, time_left
from engine.calendar import DEFAULT_OFFICE_HOURS
from storage.tasks import INBOX_ORDERS
from web.auth import now
from web.db import transaction

__all__ = ["ORDERS", "bp", "init_app", "working_time_left"]

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


def _nav_count() -> dict[str, int | None]:
    """The navigation's counts — ready tasks and unread notifications — read in one transaction."""
    if not current_user.is_authenticated:
        return {"nav_inbox_count": None, "nav_unread_count": None}
    with transaction() as session:
        return {"nav_inbox_count": instances.inbox_count(session, current_user.username, now=now()),
                "nav_unread_count": notifications.unread_count(session, current_user.username)}


def working_time_left(minutes: int | None) -> str:
    """Working minutes before a due time in words: "sisa 2 jam kerja", "lewat 1 hari kerja"; "" for None.

    Whole working days (of the default 7.5-hour day) from a day on, whole hours
    from an hour on, minutes below; rounded down.
    """
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
    mine = [t for t in tasks if t.claimed_by == current_user.username]  # tasks/_claim.html: "Saya kerjakan"
    return render_template("inbox/index.html", tasks=[t for t in tasks if t.claimed_by != current_user.username],
                           claimed=mine, total=total, sops=sops, chosen=chosen, escalated=escalated, left=left,
                           order=order, text=text or "")
