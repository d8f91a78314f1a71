"""The inbox: ready tasks of the lanes the user holds, soonest due first.

Reads through ``engine.instances.inbox``/``inbox_count`` only (the human-task
table; no workflow state is loaded). The count is shown in the navigation on
every page, beside the unread notifications.
"""

from __future__ import annotations

from flask import Blueprint, Flask, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from engine import catalog, followups, instances, notifications
from web.auth import now
from web.db import transaction

__all__ = ["bp", "init_app"]

bp = Blueprint("inbox", __name__)


def init_app(app: Flask) -> None:
    """Register the inbox and the navigation's task count on ``app``."""
    app.register_blueprint(bp)
    app.context_processor(_nav_count)


def _nav_count() -> dict[str, int | None]:
    """The navigation's counts — ready tasks and unread notifications — read in one transaction."""
    if not current_user.is_authenticated:
        return {"nav_inbox_count": None, "nav_unread_count": None}
    with transaction() as session:
        return {"nav_inbox_count": instances.inbox_count(session, current_user.username, now=now()),
                "nav_unread_count": notifications.unread_count(session, current_user.username)}


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    """The inbox page; ``?sop=<process id>`` keeps the tasks of one SOP only.

    Steps the user claimed come first, in their own section (``inbox/_claimed.html``);
    the others follow, a step a colleague claimed marked with their name.
    """
    with transaction() as session:
        sops = [(d.process_id, d.name) for d in catalog.list_latest(session)
                if d.meta.unit_kind in ("any", *current_user.unit_kinds)]
        chosen = request.args.get("sop") or None
        if chosen not in {pid for pid, _ in sops}:
            chosen = None
        tasks = instances.inbox(session, current_user.username, process_id=chosen, now=now())
        total = instances.inbox_count(session, current_user.username, process_id=chosen, now=now())
        escalated = followups.escalated_task_ids(session, [(t.id, t.instance_id) for t in tasks])
    mine = [t for t in tasks if t.claimed_by == current_user.username]  # tasks/_claim.html: "Saya kerjakan"
    return render_template("inbox/index.html", tasks=[t for t in tasks if t.claimed_by != current_user.username],
                           claimed=mine, total=total, sops=sops, chosen=chosen, escalated=escalated)
