"""Who may see what: the engine's one visibility rule (``engine.visibility``) applied to pages.

A user acts on a task only when they hold its lane — the unit's role the lane
resolves to, or membership of the instance's team for a team lane — exactly the
engine's rule for completing it (``engine.instances.candidates``). A user reads
a task they may act on or completed, and every task of an instance whose unit
they read whole (its head or secretary, or an auditor whose scope covers it), and
a task a superior was sent an escalation about (issue 8); they read an instance by
``engine.instances.can_see_instance`` (all of it in ``engine.visibility``). Reading never
lets anyone act: a POST on a task by someone who may only read it is refused.
Anything else, including ids that do not exist, is answered 404 — the same
answer, so ids of other units' work cannot be probed — and the attempt is
logged on the ``alur.web.access`` logger. What an auditor opens is recorded
(``engine.audit.record_read``).
"""

from __future__ import annotations

import logging
from typing import NoReturn

from flask import abort, request
from sqlalchemy.orm import Session

from engine import audit, instances, visibility
from engine.views import TaskView
from storage.db import transaction_memo
from storage.errors import TaskNotFound
from web.accounts import Account
from web.auth import now

__all__ = ["may_act", "refuse", "require_instance", "require_task"]

logger = logging.getLogger("alur.web.access")


def refuse(account: Account, what: str, key: object) -> NoReturn:
    """Log a refused attempt on ``what`` (``"task"``, ``"instance"``) ``key`` and answer 404."""
    logger.warning("refused: user=%s %s=%s %s %s from %s", account.username, what, key,
                   request.method, request.path, request.remote_addr)
    abort(404)


def may_act(session: Session, account: Account, task_id: str) -> bool:
    """Whether ``account`` holds the lane of task ``task_id`` (may complete it while it is ready).

    The engine's rule (``engine.instances.may_complete``), asked once per task until the transaction
    writes or ends (``storage.db.transaction_memo``). Raises ``TaskNotFound``.
    """
    known = transaction_memo(session, "may_act")
    if (account.id, task_id) not in known:
        known[account.id, task_id] = instances.may_complete(session, task_id, account.username, now())
    return known[account.id, task_id]


def require_task(session: Session, account: Account, task_id: str) -> TaskView:
    """The task ``task_id`` if ``account`` may read it; otherwise :func:`refuse` (404). Records an auditor's read."""
    try:
        view = instances.get_task(session, task_id)
    except TaskNotFound:
        refuse(account, "task", task_id)
    if view.completed_by != account.username and not may_act(session, account, task_id):
        if not visibility.reads_task(session, view.instance_id, task_id, account.username):
            refuse(account, "task", task_id)
    audit.record_read(session, account.username, "task", task_id, instance_id=view.instance_id)
    return view


def require_instance(session: Session, account: Account, instance_id: int, *, record: str | None = "instance",
                     key: object = None) -> None:
    """Return if ``account`` may see instance ``instance_id``; otherwise :func:`refuse` (404).

    An auditor's read is recorded as ``record`` (``key``, default the instance id);
    ``record=None`` for parts of a page already recorded (its diagram, its JSON).
    """
    if not instances.can_see_instance(session, instance_id, account.username):
        refuse(account, "instance", instance_id)
    if record is not None:
        audit.record_read(session, account.username, record, instance_id if key is None else key,
                          instance_id=instance_id)

