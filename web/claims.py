"""Claiming a shared step from its page: "Saya kerjakan", "Lepaskan", "Alihkan" (the unit's head).

Each is a POST form on the task page (``tasks/_claim.html``) that changes one
claim through ``engine.claims`` and goes back to the page. A claim someone else
won, or a task completed meanwhile, answers 409 with the page and changes
nothing; a user outside the lane gets 404 (``web.errors``); a bad choice 422.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine import claims
from storage.errors import ConflictError, InvalidTaskDataError
from web.access import require_task
from web.auth import now
from web.db import transaction
from web.errors import status_for

__all__ = ["bp"]

bp = Blueprint("claims", __name__)


def _act(task_id: str, action: str) -> ResponseReturnValue:
    with transaction() as session:
        require_task(session, current_user, task_id)
    try:
        with transaction() as session:
            if action == "claim":
                claims.claim(session, task_id, username=current_user.username, now=now())
                message = _("Anda sedang mengerjakan langkah ini; rekan satu lajur melihatnya.")
            elif action == "release":
                claims.release(session, task_id, username=current_user.username, now=now())
                message = _("Langkah dilepaskan: siapa pun pemegang lajurnya dapat mengerjakannya.")
            else:
                to = request.form.get("kepada", "")
                view = claims.reassign(session, task_id, username=current_user.username, to_username=to,
                                       now=now())
                message = _("Langkah dialihkan kepada %(nama)s.", nama=view.by_name or to)
    except (ConflictError, InvalidTaskDataError) as exc:
        with transaction() as session:
            view_task = require_task(session, current_user, task_id)
            claim = claims.claim_of(session, task_id, current_user.username)
        return render_template("tasks/claim_refused.html", task=view_task, claim=claim, message=str(exc)), \
            status_for(exc)
    flash(message, "success")
    return redirect(url_for("tasks.show", task_id=task_id))


@bp.post("/tugas/<task_id:task_id>/ambil")
@login_required
def claim(task_id: str) -> ResponseReturnValue:
    """Claim the step ("Saya kerjakan")."""
    return _act(task_id, "claim")


@bp.post("/tugas/<task_id:task_id>/lepas")
@login_required
def release(task_id: str) -> ResponseReturnValue:
    """Release the step the user claimed ("Lepaskan")."""
    return _act(task_id, "release")


@bp.post("/tugas/<task_id:task_id>/alihkan")
@login_required
def reassign(task_id: str) -> ResponseReturnValue:
    """The unit's head gives the step to another holder of its lane (form field ``kepada``: a username)."""
    return _act(task_id, "reassign")
