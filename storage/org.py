"""Organisation: units, users, roles (the Pelaksana of a lane) and teams.

A lane of a BPMN process names a Pelaksana as the SOP table names it ("Kasubag
Evapor", "Staff"). :func:`resolve_role` maps that name to a role of the unit
running the instance, by the role's own name or one of its aliases. A team lane
(``<alur:lane team="true"/>``) is staffed per instance by :func:`create_team`.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.errors import InvalidTaskDataError, UnitNotFound, UserNotFound
from storage.models import Role, RoleAlias, RoleMember, Team, TeamMember, Unit, User

__all__ = [
    "create_team",
    "get_unit",
    "get_unit_by_code",
    "get_user",
    "get_user_by_username",
    "list_units",
    "normalize_role_name",
    "resolve_role",
    "roles_of",
    "team_for",
    "team_member_ids",
    "unit_users",
    "users_with_role",
]


def get_user(session: Session, user_id: int) -> User:
    """Return the user with id ``user_id``. Raises ``UserNotFound``."""
    user = session.get(User, user_id)
    if user is None:
        raise UserNotFound(user_id)
    return user


def get_user_by_username(session: Session, username: str) -> User:
    """Return the user named ``username`` (exact match). Raises ``UserNotFound``.

    A name with NUL names no one (no column can hold it; PostgreSQL refuses it in a query).
    """
    if "\x00" in username:
        raise UserNotFound(username)
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise UserNotFound(username)
    return user


def get_unit(session: Session, unit_id: int) -> Unit:
    """Return the unit with id ``unit_id``. Raises ``UnitNotFound``."""
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise UnitNotFound(unit_id)
    return unit


def get_unit_by_code(session: Session, code: str) -> Unit:
    """Return the unit with ``code`` (e.g. "kecamatan-contoh"). Raises ``UnitNotFound``."""
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise UnitNotFound(code)
    return unit


def list_units(session: Session) -> list[Unit]:
    """Return every unit, ordered by code."""
    return list(session.scalars(select(Unit).order_by(Unit.code)))


def roles_of(session: Session, user_id: int) -> list[Role]:
    """Return the roles ``user_id`` holds (in any unit), ordered by unit id then name."""
    stmt = (
        select(Role)
        .join(RoleMember, RoleMember.role_id == Role.id)
        .where(RoleMember.user_id == user_id)
        .order_by(Role.unit_id, Role.name)
    )
    return list(session.scalars(stmt))


def normalize_role_name(name: str) -> str:
    """Normalize a lane or role name for matching: casefold, single spaces, stripped.

    ``"  Kasubag   EVAPOR "`` -> ``"kasubag evapor"``. Aliases are stored this way.
    """
    return " ".join(name.casefold().split())


def resolve_role(session: Session, unit_id: int, lane_name: str) -> Role | None:
    """Return the role of unit ``unit_id`` that a lane named ``lane_name`` stands for.

    Matches the normalized role name first, then the unit's aliases; ``None`` when
    neither matches (a team lane, or a lane the unit has no role for).
    """
    wanted = normalize_role_name(lane_name)
    for role in session.scalars(select(Role).where(Role.unit_id == unit_id)):
        if normalize_role_name(role.name) == wanted:
            return role
    stmt = (
        select(Role)
        .join(RoleAlias, RoleAlias.role_id == Role.id)
        .where(RoleAlias.unit_id == unit_id, RoleAlias.alias == wanted)
    )
    return session.scalar(stmt)


def lane_names(session: Session, unit_id: int) -> frozenset[str]:
    """The normalized lane names unit ``unit_id`` has a role for: its role names and aliases.

    A lane ``name`` resolves in the unit (:func:`resolve_role`) exactly when
    ``normalize_role_name(name)`` is in this set. Two queries.
    """
    names = {normalize_role_name(n) for n in session.scalars(select(Role.name).where(Role.unit_id == unit_id))}
    names.update(session.scalars(select(RoleAlias.alias).where(RoleAlias.unit_id == unit_id)))
    return frozenset(names)


def users_with_role(session: Session, role_id: int) -> list[User]:
    """Return the users holding ``role_id``, ordered by username."""
    stmt = (
        select(User)
        .join(RoleMember, RoleMember.user_id == User.id)
        .where(RoleMember.role_id == role_id)
        .order_by(User.username)
    )
    return list(session.scalars(stmt))


def unit_users(session: Session, unit_id: int) -> list[User]:
    """Return the users holding any role of unit ``unit_id``, each once, ordered by username."""
    holders = (
        select(RoleMember.user_id)
        .join(Role, Role.id == RoleMember.role_id)
        .where(Role.unit_id == unit_id)
    )
    stmt = select(User).where(User.id.in_(holders)).order_by(User.username)
    return list(session.scalars(stmt))


def create_team(
    session: Session,
    *,
    instance_id: int,
    lane_name: str,
    member_ids: Iterable[int],
    formed_by_task_id: str,
) -> Team:
    """Staff the team lane ``lane_name`` of an instance with ``member_ids``.

    If the team exists (re-formed after a review answered "tidak") its members
    are replaced. Raises ``InvalidTaskDataError`` when no members are given or an
    id is not a user.
    """
    members = set(member_ids)
    _check_members(session, members)
    team = team_for(session, instance_id, lane_name)
    if team is None:
        team = Team(instance_id=instance_id, lane_name=lane_name)
        session.add(team)
    team.formed_by_task_id = formed_by_task_id
    session.flush()
    session.execute(delete(TeamMember).where(TeamMember.team_id == team.id))
    session.add_all(TeamMember(team_id=team.id, user_id=u) for u in sorted(members))
    session.flush()
    return team


def _check_members(session: Session, members: set[int]) -> None:
    if not members:
        raise InvalidTaskDataError("Anggota tim belum dipilih / a team needs at least one member")
    known = set(session.scalars(select(User.id).where(User.id.in_(members))))
    if known != members:
        unknown = ", ".join(str(u) for u in sorted(members - known))
        raise InvalidTaskDataError(
            f"Anggota tim tidak dikenal: {unknown} / unknown team member(s): {unknown}"
        )


def team_for(session: Session, instance_id: int, lane_name: str) -> Team | None:
    """Return the team staffing lane ``lane_name`` (exact name) of an instance, or ``None``."""
    stmt = select(Team).where(Team.instance_id == instance_id, Team.lane_name == lane_name)
    return session.scalar(stmt)


def team_member_ids(session: Session, team_id: int) -> set[int]:
    """Return the user ids of the members of ``team_id``."""
    stmt = select(TeamMember.user_id).where(TeamMember.team_id == team_id)
    return set(session.scalars(stmt))
