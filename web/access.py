"""Who may see what: tasks and instances of the lanes a user holds.

The rule (issue 3): a user sees and acts on a task only when they hold its lane
— the unit's role the lane resolves to, or membership of the instance's team
for a team lane — exactly the engine's rule for completing it
(``engine.instances.candidates``); a user who completed a task may still read
it; a superior who was sent an escalation about a task may read it and its
instance (issue 8). An instance is visible to whoever may see one of its tasks, ready or done.
Anything else, including ids that do not exist, is answered 404 — the same
answer, so ids of other units' work cannot be probed — and the attempt is
logged on the ``alur.web.access`` logger.
"""

from __future__ import annotations

import logging
from typing import NoReturn

from flask import abort, request
from sqlalchemy.orm import Session

from engine import instances, notifications
from engine.views import TaskView
from storage.errors import TaskNotFound
from web.accounts import Account

__all__ = ["refuse", "require_instance", "require_task"]

logger = logging.getLogger("alur.web.access")


def refuse(account: Account, what: str, key: object) -> NoReturn:
    """Log a refused attempt on ``what`` (``"task"``, ``"instance"``) ``key`` and answer 404."""
    logger.warning("refused: user=%s %s=%s %s %s from %s", account.username, what, key,
                   request.method, request.path, request.remote_addr)
    abort(404)


def require_task(session: Session, account: Account, task_id: str) -> TaskView:
    """The task ``task_id`` if ``account`` may see it; otherwise :func:`refuse` (404)."""
    try:
        view = instances.get_task(session, task_id)
    except TaskNotFound:
        refuse(account, "task", task_id)
    if (view.completed_by != account.username and account.username not in instances.candidates(session, task_id)
            and not notifications.escalated_to(session, account.username, task_id=task_id)):
        refuse(account, "task", task_id)
    return view


def require_instance(session: Session, account: Account, instance_id: int) -> None:
    """Return if ``account`` may see instance ``instance_id``; otherwise :func:`refuse` (404)."""
    if (not instances.can_see_instance(session, instance_id, account.username)
            and not notifications.escalated_to(session, account.username, instance_id=instance_id)):
        refuse(account, "instance", instance_id)

