"""Claiming the steps of shared lanes: "Saya kerjakan", "Lepaskan", reassignment by the unit's head.

A lane is *shared* when more than one person may complete its task: a team
lane (the Tim an instance formed), or a role held by several people. Any of
them may claim a ready task of such a lane; while it is claimed only the
claimer may complete it (the others get :class:`TaskClaimedError`, 409) — so
two team members no longer write the same catatan at once and lose one. The
claimer may release it; the head of the task's unit (``engine.visibility``
``HEAD_ROLES``) may reassign it to another holder of the lane, who is
notified (``claim_reassigned``). An unclaimed task stays first-come, as
before. Claims, releases and reassignments are audit events
(``task_claimed``, ``task_released``, ``task_claim_reassigned``) on the
instance's hash chain, written under the instance's lock
(``storage.instances.bump_lock``), which also makes a completion that read the
task before a concurrent claim lose with ``StaleInstanceError``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from engine import notifications, visibility
from storage import claims, history, instances, org, tasks
from storage.errors import (
    InvalidTaskDataError,
    PermissionDeniedError,
    TaskAlreadyCompleted,
    TaskClaimedError,
)
from storage.models import HumanTask, User

__all__ = ["ClaimView", "check_may_complete", "check_may_complete_task", "claim", "claim_of", "holders", "reassign",
           "release", "release_claims_of_user"]


@dataclass(frozen=True)
class ClaimView:
    """The claim state of a task as one user sees it.

    ``shared``: several people hold the lane; ``by``/``by_name``/``since``: the
    claimer (username, full name) and when (None when unclaimed); ``mine``: the
    viewer claimed it; ``can_claim``/``can_release``/``can_reassign``: what the
    viewer may do now; ``holders``: ``(username, full name)`` of the lane's
    holders, by full name (the choices of a reassignment, as a person reads them).
    """

    shared: bool
    by: str | None
    by_name: str | None
    since: datetime | None
    mine: bool
    can_claim: bool
    can_release: bool
    can_reassign: bool
    holders: tuple[tuple[str, str], ...]


def holders(session: Session, human: HumanTask, at: datetime | None = None) -> list[User]:
    """Who may complete ``human`` at ``at`` (default now): ``storage.org.lane_holders`` (its team's active
    members, or the holders of its role with Plh/Plt designations), ordered by username."""
    return org.lane_holders(session, team_id=human.team_id, role_id=human.role_id, at=at)


def _shared(human: HumanTask, people: list[User]) -> bool:
    return human.team_id is not None or len(people) > 1


def claim_of(session: Session, task_id: str, username: str) -> ClaimView:
    """The claim state of ``task_id`` for ``username``. Raises ``TaskNotFound``, ``UserNotFound``."""
    human = tasks.get(session, task_id)
    user = org.get_user_by_username(session, username)
    people = holders(session, human)
    shared = _shared(human, people)
    ready = human.state == "ready"
    holder = user.id in {p.id for p in people}
    claimer = org.get_user(session, human.assignee_id) if human.assignee_id is not None else None
    if claimer is not None and claimer.id not in {p.id for p in people}:
        claimer = None  # a claim of someone who no longer holds the lane holds nothing (released when next touched)
    mine = claimer is not None and claimer.id == user.id
    head = ready and shared and visibility.heads_unit(session, user.id, human.unit_id)
    return ClaimView(
        shared=shared, by=claimer.username if claimer else None, by_name=claimer.full_name if claimer else None,
        since=human.claimed_at if claimer else None, mine=mine,
        can_claim=ready and shared and holder and claimer is None,
        can_release=ready and mine, can_reassign=head,
        holders=tuple((p.username, p.full_name) for p in sorted(people, key=lambda u: (u.full_name, u.username))))


def check_may_complete(session: Session, human: HumanTask, user_id: int, at: datetime | None = None) -> None:
    """Refuse to complete a task claimed by someone other than ``user_id`` (``TaskClaimedError``).

    A claim of someone who no longer holds the lane at ``at`` (a Plh/Plt range that
    ended, a jabatan that ended, a deactivated user: issue 9) is released here, in the
    caller's transaction, and blocks nobody.
    """
    if human.assignee_id is not None and human.assignee_id != user_id:
        moment = at or datetime.now(UTC)
        if human.assignee_id not in {p.id for p in holders(session, human, moment)}:
            _release_lost(session, human, moment, "pengambil tidak lagi memegang lajur ini")
            return
        claimer = org.get_user(session, human.assignee_id)
        raise TaskClaimedError(human.id, by=claimer.full_name, since=human.claimed_at or datetime.now(UTC))


def check_may_complete_task(session: Session, task_id: str, username: str, at: datetime | None = None) -> None:
    """:func:`check_may_complete` by task id and username, for a caller that must refuse a claimed step
    before anything else (the task form checks the claim before the Output document).

    Raises ``TaskNotFound``, ``UserNotFound`` and ``TaskClaimedError``.
    """
    check_may_complete(session, tasks.get(session, task_id), org.get_user_by_username(session, username).id, at)


def _release_lost(session: Session, human: HumanTask, at: datetime, reason: str) -> bool:
    """Release ``human``'s claim because its claimer lost the lane; record ``task_released``. True if released."""
    claimer_id = human.assignee_id
    if claimer_id is None or not claims.set_claim(session, human.id, expected_id=claimer_id, user_id=None, at=None):
        return False
    _record(session, human, "task_released", at, None, {"released_from": claimer_id, "reason": reason})
    return True


def _ready(session: Session, task_id: str) -> HumanTask:
    human = tasks.get(session, task_id)
    if human.state != "ready":
        raise TaskAlreadyCompleted(task_id)
    return human


def _record(session: Session, human: HumanTask, kind: str, at: datetime, actor_id: int | None,
            data: dict[str, object]) -> None:
    instances.bump_lock(session, human.instance_id)  # the chain's writer lock (storage.history.append)
    history.append(session, instance_id=human.instance_id, kind=kind, occurred_at=at, actor_id=actor_id,
                   human_task_id=human.id, element_id=human.element_id, process_id=human.process_id, data=data)


def _refuse_taken(session: Session, task_id: str) -> None:
    """After a conditional UPDATE changed nothing: say why (completed meanwhile, or claimed by someone)."""
    session.expire_all()
    human = _ready(session, task_id)
    check_may_complete(session, human, -1)
    raise TaskAlreadyCompleted(task_id)  # pragma: no cover - a claim that vanished between the two reads


def claim(session: Session, task_id: str, *, username: str, now: datetime | None = None) -> ClaimView:
    """``username`` claims ready task ``task_id`` of a shared lane ("Saya kerjakan").

    Raises ``TaskNotFound``, ``TaskAlreadyCompleted`` (not ready), ``PermissionDeniedError``
    (not a holder of the lane), ``InvalidTaskDataError`` (the lane is not shared, or the
    user already claimed it) and ``TaskClaimedError`` (someone else claimed it, also when
    their claim won a race with this one).
    """
    at = now or datetime.now(UTC)
    human = _ready(session, task_id)
    user = org.get_user_by_username(session, username)
    people = holders(session, human)
    if user.id not in {p.id for p in people}:
        raise PermissionDeniedError(f"{username} tidak memegang lajur {human.lane_name!r} untuk tugas ini")
    if not _shared(human, people):
        raise InvalidTaskDataError("Langkah ini hanya dipegang oleh Anda: tidak perlu diambil terlebih dahulu")
    if human.assignee_id == user.id:
        raise InvalidTaskDataError("Anda sudah mengambil langkah ini")
    check_may_complete(session, human, user.id)
    if not claims.take(session, task_id, user_id=user.id, at=at):
        _refuse_taken(session, task_id)
    _record(session, human, "task_claimed", at, user.id, {"claimed_by": username})
    return claim_of(session, task_id, username)


def release(session: Session, task_id: str, *, username: str, now: datetime | None = None) -> ClaimView:
    """The claimer releases ready task ``task_id`` ("Lepaskan"): it is first-come again.

    Raises ``TaskNotFound``, ``TaskAlreadyCompleted``, ``InvalidTaskDataError`` (not claimed)
    and ``TaskClaimedError`` (claimed by someone else).
    """
    at = now or datetime.now(UTC)
    human = _ready(session, task_id)
    user = org.get_user_by_username(session, username)
    if human.assignee_id is None:
        raise InvalidTaskDataError("Langkah ini tidak sedang diambil siapa pun")
    check_may_complete(session, human, user.id)
    if not claims.set_claim(session, task_id, expected_id=user.id, user_id=None, at=None):
        _refuse_taken(session, task_id)
    _record(session, human, "task_released", at, user.id, {"released_by": username})
    return claim_of(session, task_id, username)


def reassign(session: Session, task_id: str, *, username: str, to_username: str,
             now: datetime | None = None) -> ClaimView:
    """The head of the task's unit gives ready task ``task_id`` to ``to_username``, another holder of its lane.

    The task becomes claimed by ``to_username`` (whoever held it before, or nobody),
    who is notified (``claim_reassigned``). Raises ``TaskNotFound``,
    ``TaskAlreadyCompleted``, ``UserNotFound``, ``PermissionDeniedError`` (not the
    unit's head), ``InvalidTaskDataError`` (the lane is not shared, ``to_username``
    does not hold it or already has it) and ``TaskClaimedError`` (the claim changed
    meanwhile: reload).
    """
    at = now or datetime.now(UTC)
    human = _ready(session, task_id)
    user = org.get_user_by_username(session, username)
    people = holders(session, human)
    if not visibility.heads_unit(session, user.id, human.unit_id):
        raise PermissionDeniedError(f"{username} bukan pimpinan unit langkah ini: tidak dapat mengalihkan")
    if not _shared(human, people):
        raise InvalidTaskDataError("Langkah ini hanya dipegang satu orang: tidak ada yang dapat dialihkan")
    target = next((p for p in people if p.username == to_username), None)
    if target is None:
        raise InvalidTaskDataError(f"{to_username} tidak memegang lajur {human.lane_name!r}: pilih pemegang lajur")
    if human.assignee_id == target.id:
        raise InvalidTaskDataError(f"Langkah ini sudah dikerjakan oleh {target.full_name}")
    before = org.get_user(session, human.assignee_id) if human.assignee_id is not None else None
    if not claims.set_claim(session, task_id, expected_id=human.assignee_id, user_id=target.id, at=at):
        _refuse_taken(session, task_id)
    _record(session, human, "task_claim_reassigned", at, user.id,
            {"from": before.username if before else None, "to": target.username})
    notifications.notify(session, kind="claim_reassigned", users=[target], human=human, at=at,
                         source_key=f"claim:{task_id}:{target.id}:{at.isoformat()}",
                         data={"by": user.full_name, "from": before.full_name if before else None})
    return claim_of(session, task_id, username)


def release_claims_of_user(session: Session, user_id: int, reason: str, *, now: datetime | None = None,
                           only_lost: bool = False) -> int:
    """Release every claim ``user_id`` holds on ready tasks (they left the jabatan or were deactivated).

    With ``only_lost``, only the claims on steps whose lane the user no longer holds
    at ``now`` (a user who leaves one jabatan keeps the steps of the others).
    Each release is a ``task_released`` event without an actor, with ``reason`` in
    its data; the tasks become first-come for the lane's other holders. Returns how
    many were released.
    """
    at = now or datetime.now(UTC)
    released = 0
    for human in claims.claimed_by(session, user_id):
        if only_lost and user_id in {p.id for p in holders(session, human, at)}:
            continue
        if claims.set_claim(session, human.id, expected_id=user_id, user_id=None, at=None):
            _record(session, human, "task_released", at, None, {"released_from": user_id, "reason": reason})
            released += 1
    return released
