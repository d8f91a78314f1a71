"""Reminders and escalation of ready steps, as a unit's policy (no diagram change needed).

When a step (a human task) becomes ready, ONE follow-up job is queued for it
(``followup:<task id>``, one cheap INSERT in the completing request's
transaction). The worker runs it through its stages, each due on the unit's
working calendar (``engine.calendar``), and after each stage reschedules the
same row for the next one:

- ``ready`` (due at once): the holders are notified that the step arrived
  (``task_ready``), or came back for correction after "tidak" (``task_returned``);
- ``share``: a reminder to the step's holders when ``reminder_percent`` of its
  Waktu (in working minutes) has passed — default :data:`DEFAULT_REMINDER_PERCENT`;
- ``due``: a reminder to the holders when it falls due (``remind_when_due``);
- ``escalate``: when it is overdue by ``escalate_after_minutes`` working minutes
  (default :data:`DEFAULT_ESCALATE_AFTER_MINUTES`, one working day), a message
  to the superior of the lane (:func:`superiors_of_lane`).

Each reminder and escalation is recorded in the instance's history
(``task_reminded``, ``task_escalated``) and notifies its recipients; a stage's
effects and the move to the next stage commit in one transaction, so each stage
happens once. A follow-up whose step is no longer ready (completed, cancelled)
finishes without doing anything; a stage whose time moved because the unit's
policy changed is put back to its new time, one the policy turned off is
skipped. A unit without a ``unit_policy`` row uses the defaults.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import notifications
from engine.calendar import WorkCalendar, unit_calendar
from engine.visibility import HEAD_ROLES
from engine.waktu import Waktu
from engine.worker import JobRun, register
from storage import history, jobs, org
from storage import notifications as store
from storage.errors import InvalidTaskDataError, JobLeaseLost
from storage.models import AuditEvent, HumanTask, User

__all__ = [
    "DEFAULT_ESCALATE_AFTER_MINUTES", "DEFAULT_REMINDER_PERCENT", "DEFAULT_REMIND_WHEN_DUE",
    "JOB_KINDS", "Policy", "PolicyChange", "escalated_task_ids", "followup_times", "policy_changes", "policy_of",
    "head_role_id", "set_policy", "superior_role_id", "superiors_of_lane",
    "followup_key", "task_became_ready",
]

DEFAULT_REMINDER_PERCENT = 75
DEFAULT_REMIND_WHEN_DUE = True
DEFAULT_ESCALATE_AFTER_MINUTES = 450  # one working day of the default office hours (7.5 h)
JOB_KINDS = ("task_followup",)
STAGES = ("share", "due", "escalate")
READY = "ready"
"""The first stage of a step's follow-up job: notify the holders that the step arrived."""


@dataclass(frozen=True)
class Policy:
    """A unit's follow-up policy (see the module docstring); webhook fields None: no webhook."""

    reminder_percent: int = DEFAULT_REMINDER_PERCENT
    remind_when_due: bool = DEFAULT_REMIND_WHEN_DUE
    escalate_after_minutes: int = DEFAULT_ESCALATE_AFTER_MINUTES
    webhook_url: str | None = None
    webhook_secret: str | None = None


def policy_of(session: Session, unit_id: int) -> Policy:
    """The unit's policy, or the defaults when it has none."""
    row = store.policy(session, unit_id)
    if row is None:
        return Policy()
    return Policy(row.reminder_percent, row.remind_when_due, row.escalate_after_minutes, row.webhook_url,
                  row.webhook_secret)


@dataclass(frozen=True)
class PolicyChange:
    """One recorded change of a unit's policy: who (username), when, the fields before and after.

    ``before``/``after`` map field names to values; the webhook secret appears
    only as ``webhook_secret_set`` (bool) and, in ``after``, ``webhook_secret_changed``.
    """

    changed_by: str
    changed_at: datetime
    before: dict[str, object]
    after: dict[str, object]


def _recorded(policy: Policy) -> dict[str, object]:
    """A policy as the change record keeps it: every field, the secret only as set or not."""
    return {"reminder_percent": policy.reminder_percent, "remind_when_due": policy.remind_when_due,
            "escalate_after_minutes": policy.escalate_after_minutes, "webhook_url": policy.webhook_url,
            "webhook_secret_set": bool(policy.webhook_secret)}


def set_policy(session: Session, unit_code: str, *, reminder_percent: int | None = None,
               remind_when_due: bool | None = None, escalate_after_minutes: int | None = None,
               webhook_url: str | None = None, webhook_secret: str | None = None,
               clear_webhook: bool = False, changed_by: str | None = None,
               at: datetime | None = None) -> Policy:
    """Change a unit's policy; arguments left None keep their value. Returns the new policy.

    With ``changed_by`` (a username) and ``at``, a change that alters anything is
    recorded (``policy_changes``: who, when, before and after; never the secret).
    Raises ``UnitNotFound``, ``UserNotFound``, ``InvalidTaskDataError`` (percent
    outside 1-99, negative minutes, a webhook URL that is not http(s), a webhook
    without secret).
    """
    unit = org.get_unit_by_code(session, unit_code)
    now = policy_of(session, unit.id)
    new = Policy(
        reminder_percent=now.reminder_percent if reminder_percent is None else reminder_percent,
        remind_when_due=now.remind_when_due if remind_when_due is None else remind_when_due,
        escalate_after_minutes=now.escalate_after_minutes if escalate_after_minutes is None
        else escalate_after_minutes,
        webhook_url=None if clear_webhook else (webhook_url or now.webhook_url),
        webhook_secret=None if clear_webhook else (webhook_secret or now.webhook_secret),
    )
    if not 1 <= new.reminder_percent <= 99:
        raise InvalidTaskDataError(f"Persentase pengingat harus 1-99, bukan {new.reminder_percent}")
    if new.escalate_after_minutes < 0:
        raise InvalidTaskDataError("Menit eskalasi tidak boleh negatif")
    if new.webhook_url and not new.webhook_url.lower().startswith(("http://", "https://")):
        raise InvalidTaskDataError(f"URL webhook harus http:// atau https://: {new.webhook_url!r}")
    if new.webhook_url and not new.webhook_secret:
        raise InvalidTaskDataError("Webhook memerlukan kunci rahasia (secret) untuk tanda tangan HMAC")
    store.save_policy(session, unit.id, **new.__dict__)
    if changed_by is not None and new != now:
        actor = org.get_user_by_username(session, changed_by)
        after = _recorded(new) | {"webhook_secret_changed": new.webhook_secret != now.webhook_secret}
        store.record_policy_change(session, unit_id=unit.id, actor_id=actor.id, at=at or datetime.now(UTC),
                                   before=_recorded(now), after=after)
    return new


def policy_changes(session: Session, unit_id: int, *, limit: int = 100) -> list[PolicyChange]:
    """The newest ``limit`` recorded changes of unit ``unit_id``'s policy, newest first."""
    return [PolicyChange(org.get_user(session, row.actor_id).username, row.changed_at, row.before, row.after)
            for row in store.policy_changes(session, unit_id, limit=limit)]


def superiors_of_lane(session: Session, unit_id: int, lane_name: str,
                      at: datetime | None = None) -> list[User]:
    """Who an escalation of a step in lane ``lane_name`` goes to: the superior of the lane's jabatan.

    The holders at ``at`` (default now; Plh/Plt included, ``storage.org``) of the
    jabatan set as the superior of the lane's role (``role.superior_role_id``,
    migration 0009); when none is set — or the lane is a team lane or the head's
    own — the holders of the unit's head role (``engine.visibility.HEAD_ROLES``:
    Camat, Kepala Dinas, Kabag). Empty when nobody holds it. The one place this rule lives
    (with :func:`superior_role_id`, which names the jabatan).
    """
    role_id = superior_role_id(session, unit_id, lane_name)
    return org.users_with_role(session, role_id, at) if role_id is not None else []


def superior_role_id(session: Session, unit_id: int, lane_name: str) -> int | None:
    """The id of the superior jabatan of lane ``lane_name`` in the unit (rule of :func:`superiors_of_lane`), or None.

    The lane's role's ``superior_role_id`` when set, else the unit's head role;
    None when the unit has no head role either.
    """
    role = org.resolve_role(session, unit_id, lane_name)
    if role is not None and role.superior_role_id is not None:
        return role.superior_role_id
    return head_role_id(session, unit_id)


def head_role_id(session: Session, unit_id: int) -> int | None:
    """The id of the unit's head jabatan (``engine.visibility.HEAD_ROLES``, aliases count), or None."""
    unit = org.get_unit(session, unit_id)
    for name in HEAD_ROLES.get(unit.kind, ()):
        head = org.resolve_role(session, unit.id, name)
        if head is not None:
            return head.id
    return None


def _calendar(session: Session, unit_id: int) -> WorkCalendar:
    unit = org.get_unit(session, unit_id)
    return unit_calendar(session, unit)


def followup_times(human: HumanTask, calendar: WorkCalendar, policy: Policy) -> dict[str, datetime | None]:
    """``{stage: when}`` for a ready task: share reminder, due reminder, escalation; None = none.

    A task without a due time (no Waktu) gets no follow-ups. The share point is
    ``ceil(percent × working minutes from ready to due)`` working minutes after
    ready; the escalation ``escalate_after_minutes`` working minutes after due.
    """
    if human.due_at is None:
        return dict.fromkeys(STAGES)
    total = calendar.working_minutes_between(human.ready_at, human.due_at)
    share_minutes = math.ceil(total * policy.reminder_percent / 100)
    return {
        "share": calendar.add(human.ready_at, Waktu(share_minutes, "menit")) if 0 < share_minutes < total else None,
        "due": human.due_at if policy.remind_when_due else None,
        "escalate": (calendar.add(human.due_at, Waktu(policy.escalate_after_minutes, "menit"))
                     if policy.escalate_after_minutes > 0 else human.due_at),
    }


def followup_key(task_id: str) -> str:
    """The key of a step's one follow-up job (``storage.jobs``: one row per key)."""
    return f"followup:{task_id}"


def task_became_ready(session: Session, human: HumanTask, *, at: datetime) -> None:
    """Queue a new ready task's one follow-up job (stage ``ready``, due at ``at``), in the caller's transaction.

    One INSERT and nothing else: the holders, the unit's policy and the
    notification rows are looked up by the worker (:func:`run_followup`), not in
    the request that made the step ready.
    """
    jobs.enqueue_many(session, [jobs.NewJob(kind="task_followup", key=followup_key(human.id), run_at=at,
                                            payload={"task_id": human.id, "stage": READY},
                                            instance_id=human.instance_id)])


@register("task_followup")
def run_followup(run: JobRun) -> None:
    """Run the due stage of one task's follow-up, then reschedule the job for its next stage (or finish it).

    Stage ``ready`` notifies the holders; ``share``/``due`` remind them;
    ``escalate`` tells the lane's superior. Each is recorded and notified once:
    its effects and the move to the next stage commit together.
    """
    stage, task_id = run.job.payload["stage"], run.job.payload["task_id"]
    with run.transaction() as session:
        # Lock the task row: a completion of this step waits for us, or we see it completed.
        human = session.get(HumanTask, task_id, with_for_update=True, populate_existing=True)
        if human is None or human.state != "ready":
            run.finish(session, "langkah sudah tidak menunggu / task no longer ready")
            return
        policy = policy_of(session, human.unit_id)
        calendar = _calendar(session, human.unit_id)
        times = followup_times(human, calendar, policy)
        now = run.clock()
        when = times.get(stage)
        if stage == READY:
            _notify_ready(session, human, policy, now)
            done = "diberitahukan / holders notified"
        elif when is None:
            done = "dimatikan oleh kebijakan unit / disabled by the unit's policy"
        elif when > now:
            jobs.reschedule(session, run.job.id, run.job.token, run_at=when)
            return
        else:
            done = _remind_or_escalate(session, run, human, stage, policy, calendar, now)
        following = STAGES[STAGES.index(stage) + 1:] if stage in STAGES else STAGES
        for later in following:
            next_at = times[later]
            if next_at is not None:
                if not jobs.advance(session, run.job.id, run.job.token, run_at=next_at,
                                    payload={"task_id": task_id, "stage": later}, result=f"{stage}: {done}"):
                    raise JobLeaseLost(run.job.id)
                return
        run.finish(session, f"{stage}: {done}")


def _notify_ready(session: Session, human: HumanTask, policy: Policy, now: datetime) -> None:
    """Stage ``ready``: notify the holders that the step arrived (or came back after "tidak")."""
    kind = "task_returned" if human.iteration > 1 else "task_ready"
    holders = org.lane_holders(session, team_id=human.team_id, role_id=human.role_id, at=now)
    notifications.notify(session, kind=kind, users=holders, human=human, at=human.ready_at,
                         source_key=f"ready:{human.id}", webhook_url=policy.webhook_url)


def _remind_or_escalate(session: Session, run: JobRun, human: HumanTask, stage: str, policy: Policy,
                        calendar: WorkCalendar, now: datetime) -> str:
    """Stage ``share``/``due``/``escalate``: record it in the history and notify; return the job's result."""
    holders = org.lane_holders(session, team_id=human.team_id, role_id=human.role_id, at=now)
    data = {"stage": stage, "job_id": run.job.id,
            "due_at": human.due_at.isoformat() if human.due_at else None}
    if stage == "escalate":
        recipients = superiors_of_lane(session, human.unit_id, human.lane_name, now)
        overdue = calendar.working_minutes_between(human.due_at, now) if human.due_at else 0
        data |= {"overdue_minutes": overdue, "holders": [u.username for u in holders]}
        kind, audit_kind = "task_escalated", "task_escalated"
    else:
        recipients = holders
        data |= {"percent": policy.reminder_percent if stage == "share" else 100}
        kind, audit_kind = ("task_reminder" if stage == "share" else "task_due"), "task_reminded"
    history.append(session, instance_id=human.instance_id, kind=audit_kind, occurred_at=now,
                   human_task_id=human.id, element_id=human.element_id, process_id=human.process_id,
                   data={**data, "recipients": [u.username for u in recipients]})
    notifications.notify(session, kind=kind, users=recipients, human=human, at=now,
                         source_key=f"{run.job.key}:{stage}", data=data, webhook_url=policy.webhook_url)
    return f"{len(recipients)} penerima / recipients"


def escalated_task_ids(session: Session, tasks: Iterable[tuple[str, int]]) -> set[str]:
    """Which of the tasks ``(task id, instance id)`` have been escalated (a ``task_escalated`` event).

    One query through the history's ``(instance_id, id)`` index.
    """
    pairs = list(tasks)
    if not pairs:
        return set()
    stmt = select(AuditEvent.human_task_id).where(
        AuditEvent.instance_id.in_({i for _, i in pairs}), AuditEvent.kind == "task_escalated",
        AuditEvent.human_task_id.in_([t for t, _ in pairs]))
    return {i for i in session.scalars(stmt) if i is not None}
