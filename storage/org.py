"""Organisation: units, users, roles (the Pelaksana of a lane) and teams.

A lane of a BPMN process names a Pelaksana as the SOP table names it ("Kasubag
Evapor", "Staff"). :func:`resolve_role` maps that name to a role of the unit
running the instance, by the role's own name or one of its aliases. A team lane
(``<alur:lane team="true"/>``) is staffed per instance by :func:`create_team`.

Who holds a role at an instant ``at`` (:func:`users_with_role`, :func:`roles_of`,
:func:`acting_role_ids` — one rule, used by the inbox, the completion check,
visibility and follow-ups):

1. an *active* user whose membership covers the day of ``at`` in the unit's
   time zone (``start_date``/``end_date`` inclusive, NULL open);
2. the holder of a Plh or Plt designation of the role whose range covers ``at``
   (``Designation.starts_at <= at < ends_at``). A Plh acts beside the official,
   who keeps the steps in view (UU 30/2014 Pasal 14; SE Kepala BKN 1/SE/I/2021).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, CompoundSelect, Select, case, delete, or_, select, union
from sqlalchemy.orm import Session

from storage.db import hold, transaction_memo
from storage.errors import InvalidTaskDataError, UnitNotFound, UserNotFound
from storage.models import Designation, Role, RoleAlias, RoleMember, Team, TeamMember, Unit, User, utcnow

__all__ = [
    "acting_designation",
    "INDONESIAN_ZONES",
    "acting_role_ids",
    "acting_roles_select",
    "holdings_select",
    "create_team",
    "local_day",
    "get_unit",
    "get_unit_by_code",
    "get_user",
    "get_user_by_username",
    "lane_holders",
    "list_units",
    "normalize_role_name",
    "resolve_role",
    "roles_of",
    "team_for",
    "team_member_ids",
    "teams_of_instance",
    "unit_users",
    "users_with_role",
]


def get_user(session: Session, user_id: int) -> User:
    """Return the user with id ``user_id``. Raises ``UserNotFound``."""
    user = session.get(User, user_id)
    if user is None:
        raise UserNotFound(user_id)
    hold(session, (User, user_id), user)  # read once per transaction
    return user


def get_user_by_username(session: Session, username: str) -> User:
    """Return the user named ``username`` (exact match). Raises ``UserNotFound``.

    A name with NUL names no one (no column can hold it; PostgreSQL refuses it in a query).
    Looked up once per session (transaction): a request asks for the same user
    several times.
    """
    if "\x00" in username:
        raise UserNotFound(username)
    known: dict[str, User] = session.info.setdefault("alur.users", {})
    cached = known.get(username)
    if cached is not None and cached in session and cached.username == username:
        return cached
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise UserNotFound(username)
    known[username] = user
    return user


def get_unit(session: Session, unit_id: int) -> Unit:
    """Return the unit with id ``unit_id``. Raises ``UnitNotFound``."""
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise UnitNotFound(unit_id)
    hold(session, (Unit, unit_id), unit)  # read once per transaction
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


def local_day(at: datetime, timezone: str) -> date:
    """The calendar day of the aware instant ``at`` in the IANA zone ``timezone`` (a unit's WIB/WITA/WIT)."""
    return at.astimezone(ZoneInfo(timezone)).date()


def _covers(member: RoleMember, day: date) -> bool:
    return ((member.start_date is None or member.start_date <= day)
            and (member.end_date is None or day <= member.end_date))


INDONESIAN_ZONES = ("Asia/Jakarta", "Asia/Pontianak", "Asia/Makassar", "Asia/Jayapura")
"""The IANA zones of WIB (Jakarta, Pontianak), WITA (Makassar) and WIT (Jayapura): the zones a unit may have."""


def _day_in_unit_zone(moment: datetime) -> ColumnElement[date]:
    """SQL: the day of ``moment`` in the zone of the joined ``unit`` row (UTC for a zone not listed)."""
    whens = [(Unit.timezone == zone, local_day(moment, zone)) for zone in INDONESIAN_ZONES]
    return case(*whens, else_=local_day(moment, "UTC"))


def holdings_select(at: datetime | None = None, *, user_id: int | None = None,
                    role_ids: Iterable[int] | Select[Any] | None = None) -> CompoundSelect:
    """SQL selecting ``(role_id, user_id)`` of who holds which role at ``at`` (default now): the module's rule.

    A row for each active user's membership whose days cover ``at`` in the
    role's unit zone, UNION each active user's Plh/Plt designation in range
    (UU 30/2014 Pasal 14; SE Kepala BKN 1/SE/I/2021). Narrowed to one user
    (``user_id``) or to some roles (``role_ids``: ids, or a select of them) so callers stay one statement:
    the inbox (:func:`acting_roles_select`), :func:`users_with_role` and the
    Proses list's holders (``storage.cases``) all read this one rule.
    """
    moment = at or utcnow()
    day = _day_in_unit_zone(moment)
    members = (
        select(RoleMember.role_id.label("role_id"), RoleMember.user_id.label("user_id"))
        .join(Role, Role.id == RoleMember.role_id)
        .join(Unit, Unit.id == Role.unit_id)
        .join(User, User.id == RoleMember.user_id)
        .where(User.active.is_(True),
               or_(RoleMember.start_date.is_(None), RoleMember.start_date <= day),
               or_(RoleMember.end_date.is_(None), RoleMember.end_date >= day))
    )
    designated = (
        select(Designation.role_id.label("role_id"), Designation.user_id.label("user_id"))
        .join(User, User.id == Designation.user_id)
        .where(User.active.is_(True), Designation.starts_at <= moment, Designation.ends_at > moment)
    )
    if user_id is not None:
        members = members.where(RoleMember.user_id == user_id)
        designated = designated.where(Designation.user_id == user_id)
    if role_ids is not None:
        ids = role_ids if isinstance(role_ids, Select) else sorted(set(role_ids))
        members = members.where(RoleMember.role_id.in_(ids))
        designated = designated.where(Designation.role_id.in_(ids))
    return union(members, designated)


def acting_roles_select(user_id: int, at: datetime | None = None) -> Select[tuple[int]]:
    """SQL selecting the ids of the roles ``user_id`` holds at ``at`` (default now) by :func:`holdings_select`.

    One statement, so the inbox stays one query.
    """
    held = holdings_select(at, user_id=user_id).subquery()
    return select(held.c.role_id)


def acting_role_ids(session: Session, user_id: int, at: datetime | None = None) -> frozenset[int]:
    """Ids of the roles ``user_id`` holds at ``at`` (default now) by the rule of this module.

    Read once per user and minute of ``at`` until the session next writes or its
    transaction ends (:func:`storage.db.transaction_memo`; a request asks for them
    at login, for its inbox and before a completion): memberships and
    designations begin and end on whole minutes (midnight in the unit's zone),
    so a remembered answer is the one a new read would give.
    """
    moment = at or utcnow()
    memo = transaction_memo(session, "acting_role_ids")
    key = (user_id, moment.replace(second=0, microsecond=0))
    found: frozenset[int] | None = memo.get(key)
    if found is None:
        found = memo[key] = frozenset(session.scalars(acting_roles_select(user_id, moment)))
    return found


def acting_designation(session: Session, role_id: int, user_id: int,
                       at: datetime | None = None) -> Designation | None:
    """The Plh/Plt designation through which ``user_id`` holds ``role_id`` at ``at``, or None.

    None also when the user holds the role as its official (a membership covering the day).
    """
    moment = at or utcnow()
    designation = session.scalar(  # first: most completions have none, and then nothing else is read
        select(Designation).where(Designation.role_id == role_id, Designation.user_id == user_id,
                                  Designation.starts_at <= moment, Designation.ends_at > moment))
    if designation is None:
        return None
    member = session.get(RoleMember, (user_id, role_id))
    if member is not None:
        role = session.get(Role, role_id)
        unit = session.get(Unit, role.unit_id) if role is not None else None
        if unit is not None and _covers(member, local_day(moment, unit.timezone)):
            return None
    return designation


def roles_of(session: Session, user_id: int, at: datetime | None = None) -> list[Role]:
    """Return the roles ``user_id`` holds at ``at`` (default now; in any unit), ordered by unit id then name."""
    held = acting_role_ids(session, user_id, at)  # remembered: the page's inbox and checks ask again
    if not held:
        return []
    return list(session.scalars(select(Role).where(Role.id.in_(sorted(held))).order_by(Role.unit_id, Role.name)))


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


def users_with_role(session: Session, role_id: int, at: datetime | None = None) -> list[User]:
    """Return the users holding ``role_id`` at ``at`` (default now) by :func:`holdings_select`, ordered by username."""
    held = holdings_select(at, role_ids=[role_id]).subquery()
    return list(session.scalars(select(User).where(User.id.in_(select(held.c.user_id))).order_by(User.username)))


def lane_holders(session: Session, *, team_id: int | None, role_id: int | None,
                 at: datetime | None = None) -> list[User]:
    """Who holds a task's lane at ``at`` (default now): the one rule for recipients, claimers and completers.

    ``team_id`` set (a team lane staffed by "Membentuk tim"): the team's active
    members; else ``role_id``: :func:`users_with_role` (dated memberships, Plh/Plt
    designations); neither: nobody. Ordered by username, so notification
    recipients and the history's ``recipients``/``holders`` lists are the same
    on every run. ``engine.lanes`` decides which team or role a task's lane is.
    """
    if team_id is not None:
        stmt = (select(User).join(TeamMember, TeamMember.user_id == User.id)
                .where(TeamMember.team_id == team_id, User.active.is_(True)).order_by(User.username))
        return list(session.scalars(stmt))
    return users_with_role(session, role_id, at) if role_id is not None else []


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


def teams_of_instance(session: Session, instance_id: int) -> list[Team]:
    """The teams formed in an instance, by lane name."""
    return list(session.scalars(select(Team).where(Team.instance_id == instance_id).order_by(Team.lane_name)))
