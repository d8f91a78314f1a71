"""Who may see what: tasks and instances of the lanes a user holds.

The rule (issue 3): a user sees and acts on a task only when they hold its lane
— the unit's role the lane resolves to, or membership of the instance's team
for a team lane — exactly the engine's rule for completing it
(``engine.instances.candidates``); a user who completed a task may still read
it. An instance is visible to whoever may see one of its tasks, ready or done.
Anything else, including ids that do not exist, is answered 404 — the same
answer, so ids of other units' work cannot be probed — and the attempt is
logged on the ``alur.web.access`` logger.

Instance visibility reads ``storage`` (the engine has no call for "every task of
an instance" yet); it belongs in ``engine/`` with the accounts API.
"""

from __future__ import annotations

import logging
from typing import NoReturn

from flask import abort, request
from sqlalchemy.orm import Session

from engine import catalog, instances
from engine.sop import StepMeta
from engine.views import TaskView
from storage import org, tasks
from storage.errors import TaskNotFound
from web.accounts import Account

__all__ = ["refuse", "require_instance", "require_task", "task_step"]

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
    if view.completed_by != account.username and account.username not in instances.candidates(session, task_id):
        refuse(account, "task", task_id)
    return view


def require_instance(session: Session, account: Account, instance_id: int) -> None:
    """Return if ``account`` may see instance ``instance_id``; otherwise :func:`refuse` (404)."""
    my_roles = {r.id for r in org.roles_of(session, account.id)}
    teams: dict[int, bool] = {}
    for task in tasks.tasks_of_instance(session, instance_id):
        if task.completed_by_id == account.id or task.role_id in my_roles:
            return
        if task.team_id is not None:
            if task.team_id not in teams:
                teams[task.team_id] = account.id in org.team_member_ids(session, task.team_id)
            if teams[task.team_id]:
                return
    refuse(account, "instance", instance_id)


def task_step(session: Session, task_id: str) -> StepMeta | None:
    """The SOP step (Kegiatan text, Mutu Baku) of a task, from the definition version it runs.

    Raises ``TaskNotFound``.
    """
    human = tasks.get(session, task_id)
    return catalog.get_definition(session, human.definition_id).meta.steps.get(human.element_id)
