"""Re-staffing a team lane of a running instance, by the unit's head (issue 9, people who come and go).

A team lane (``alur:lane team="true"``) is staffed per instance by its forming
step ("Membentuk tim", ``storage.org.create_team``). When a member leaves — is
deactivated or leaves the unit — the head of the instance's unit
(``engine.visibility.HEAD_ROLES``: Camat, Kepala Dinas, Kabag; a Plh/Plt of the
head too, ``storage.org``) names the members anew. Ready steps of the lane go
to the new members at once (routing is read at the instant). Recorded in the
instance's history as ``team_restaffed`` with the members before and after.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from engine.visibility import HEAD_ROLES
from storage import history, instances, org
from storage.errors import InvalidTaskDataError, PermissionDeniedError

__all__ = ["is_unit_head", "may_restaff", "restaff_team", "teams_of"]


def is_unit_head(session: Session, user_id: int, unit_id: int, at: datetime) -> bool:
    """Whether ``user_id`` holds the head jabatan of unit ``unit_id`` at ``at`` (official, Plh or Plt)."""
    unit = org.get_unit(session, unit_id)
    held = org.acting_role_ids(session, user_id, at)
    for name in HEAD_ROLES.get(unit.kind, ()):
        role = org.resolve_role(session, unit.id, name)
        if role is not None:
            return role.id in held
    return False


def may_restaff(session: Session, user_id: int, instance_id: int, at: datetime) -> bool:
    """Whether ``user_id`` may re-staff the team lanes of a running instance (its unit's head).

    Raises ``InstanceNotFound``.
    """
    row = instances.get(session, instance_id)
    return row.status == "running" and is_unit_head(session, user_id, row.unit_id, at)


def teams_of(session: Session, instance_id: int) -> list[tuple[str, list[str]]]:
    """The team lanes formed in an instance and their members' usernames: ``[(lane, [username...])]``."""
    found = []
    for team in org.teams_of_instance(session, instance_id):
        found.append((team.lane_name, sorted(org.get_user(session, u).username
                                             for u in org.team_member_ids(session, team.id))))
    return found


def restaff_team(session: Session, instance_id: int, lane_name: str, members: Sequence[str], *, by: str,
                 now: datetime) -> list[str]:
    """Replace the members of team lane ``lane_name`` of a running instance; return the new usernames.

    Raises ``InstanceNotFound``, ``UserNotFound``, ``PermissionDeniedError`` (``by``
    is not the head of the instance's unit) and ``InvalidTaskDataError`` (no such
    team, the instance is not running, no members, a member who is inactive or
    holds no jabatan of the unit).
    """
    row = instances.get(session, instance_id)
    actor = org.get_user_by_username(session, by)
    if not is_unit_head(session, actor.id, row.unit_id, now):
        raise PermissionDeniedError(f"{by} bukan kepala unit instans ini")
    if row.status != "running":
        raise InvalidTaskDataError("Instans tidak sedang berjalan")
    team = org.team_for(session, instance_id, lane_name)
    if team is None:
        raise InvalidTaskDataError(f"Tim {lane_name!r} belum dibentuk di instans ini")
    staff = {u.username: u for u in org.unit_users(session, row.unit_id) if u.active}
    names = sorted({m.strip() for m in members if m.strip()})
    unknown = [n for n in names if n not in staff]
    if unknown:
        raise InvalidTaskDataError(f"Bukan pegawai aktif unit ini: {', '.join(unknown)}")
    before = sorted(org.get_user(session, u).username for u in org.team_member_ids(session, team.id))
    org.create_team(session, instance_id=instance_id, lane_name=lane_name,
                    member_ids=[staff[n].id for n in names], formed_by_task_id=team.formed_by_task_id)
    instances.bump_lock(session, instance_id)
    history.append(session, instance_id=instance_id, kind="team_restaffed", occurred_at=now, actor_id=actor.id,
                   data={"lane": lane_name, "before": before, "members": names})
    return names
