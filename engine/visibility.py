"""Who sees which instances: the one visibility rule, for single pages and for lists.

A user sees an instance when at least one holds:

1. **Lane** — they hold the lane of one of its tasks, ready or done (the role
   the lane resolves to, or membership of the instance's team for a team
   lane), or they completed one of its tasks. The same rule as completing a
   task (issue 3).
2. **Unit head or secretary** — they hold the head or the secretary role of the
   instance's unit (:data:`HEAD_ROLES`, :data:`SECRETARY_ROLES`): the Camat and
   the Sekretaris Camat of a Kecamatan, the Kepala Dinas and the Sekretaris of a
   Dinas, the Kabag of a Bagian. These are the roles the SOPs' approving lanes
   resolve to ("Camat", "Kadin"/"Kepala Dinas", "Kabag"); aliases count
   (``storage.org.resolve_role``). A Bagian of the Setda has no secretary of its
   own (its "Sekretaris" lane is the Sekretaris Daerah's office), so none is
   listed. Reading only: what they may *do* is still decided by their lanes.
3. **Auditor** — an ``auditor`` access grant covers the instance's unit (or every
   unit): read every instance, task, document and history in scope; never act
   (``engine.access``).
4. **Escalation** — they were sent an escalation about one of its tasks (issue 8,
   ``engine.followups``): they read that task and the instance, never act (completing
   stays with the lane's holders).

Rules 2 and 3 give read access to *every* task of the instance (:func:`reads_whole_unit`);
rule 1 alone gives the instance page and the tasks of the user's lanes; rule 4 the
instance page and the escalated task (:func:`reads_task`). Lists
(:func:`visible_instances_filter`) apply rules 1 to 3.
:func:`visible_instances_filter` is the same rule as SQL for lists (search,
"Semua proses unit").
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from storage import grants as grant_store
from storage import instances as instance_store
from storage import notifications as notification_store
from storage import org, search, tasks
from storage.errors import InstanceNotFound
from storage.models import UNIT_KINDS, Role

__all__ = [
    "HEAD_ROLES", "SECRETARY_ROLES", "Reach", "audits_unit", "can_see_instance", "heads_unit", "overseen_units",
    "reach_of",
    "reads_task", "reads_whole_unit", "visible_instances_filter",
]

HEAD_ROLES: dict[str, tuple[str, ...]] = {
    "kecamatan": ("Camat",),
    "dinas": ("Kepala Dinas", "Kadin", "Kepala SKPD"),
    "bagian": ("Kabag", "Kepala Bagian"),
}
"""Lane names of a unit's head per unit kind; the first that resolves in the unit counts."""

SECRETARY_ROLES: dict[str, tuple[str, ...]] = {
    "kecamatan": ("Sekretaris Camat", "Sekretaris"),
    "dinas": ("Sekretaris",),
    "bagian": (),
}
"""Lane names of a unit's secretary per unit kind (none for a Bagian, see the module docstring)."""

assert set(HEAD_ROLES) == set(SECRETARY_ROLES) == set(UNIT_KINDS)


def _first_role(session: Session, unit_id: int, names: tuple[str, ...]) -> int | None:
    for name in names:
        role = org.resolve_role(session, unit_id, name)
        if role is not None:
            return role.id
    return None


def heads_unit(session: Session, user_id: int, unit_id: int) -> bool:
    """Whether ``user_id`` holds the head role of ``unit_id`` (:data:`HEAD_ROLES`; not the secretary).

    The head may reassign a claimed step of the unit (``engine.claims``).
    """
    unit = org.get_unit(session, unit_id)
    role_id = _first_role(session, unit_id, HEAD_ROLES.get(unit.kind, ()))
    return role_id is not None and role_id in {r.id for r in org.roles_of(session, user_id)}


def overseen_units(session: Session, user_id: int, roles: list[Role] | None = None) -> frozenset[int]:
    """Ids of the units whose head or secretary role ``user_id`` holds (rule 2).

    ``roles``: the user's roles (``org.roles_of``) when the caller has read them already.
    """
    mine = {r.id: r.unit_id for r in (org.roles_of(session, user_id) if roles is None else roles)}
    if not mine:
        return frozenset()
    units = {unit_id: org.get_unit(session, unit_id) for unit_id in set(mine.values())}  # identity map: no query
    found = set()
    for unit in units.values():
        for table in (HEAD_ROLES, SECRETARY_ROLES):
            role_id = _first_role(session, unit.id, table.get(unit.kind, ()))
            if role_id is not None and role_id in mine:
                found.add(unit.id)
                break  # the head needs no secretary lookup (two queries fewer)
    return frozenset(found)


@dataclass(frozen=True)
class Reach:
    """What a user reads beyond their lanes: ``all_units`` (an every-unit auditor grant)
    or the ``unit_ids`` read whole (rules 2 and 3); ``audited`` the units (None: all) where
    the user reads as an auditor, whose reads are recorded; ``role_ids`` the roles the
    user holds (``org.roles_of``), whose lanes' tasks they see (rule 1)."""

    user_id: int
    all_units: bool
    unit_ids: frozenset[int]
    audited: frozenset[int] | None
    role_ids: frozenset[int] = frozenset()

    def covers(self, unit_id: int) -> bool:
        """Whether the user reads every instance of ``unit_id``."""
        return self.all_units or unit_id in self.unit_ids


def reach_of(session: Session, username: str) -> Reach:
    """The user's :class:`Reach`, computed once per session (transaction). Raises ``UserNotFound``."""
    known: dict[str, Reach] = session.info.setdefault("alur.reach", {})
    if username not in known:
        known[username] = _reach(session, username)
    return known[username]


def _reach(session: Session, username: str) -> Reach:
    user = org.get_user_by_username(session, username)
    audited: set[int] | None = set()
    units = org.list_units(session)  # kept: overseen_units finds them in the session's identity map
    codes = {u.code: u.id for u in units}
    for kind, unit_code in grant_store.grants_of(session, user.id):
        if kind != "auditor":
            continue
        if unit_code is None:
            audited = None
            break
        assert audited is not None
        audited.add(codes[unit_code])
    frozen = None if audited is None else frozenset(audited)
    roles = org.roles_of(session, user.id)
    return Reach(user.id, audited is None, overseen_units(session, user.id, roles) | (frozen or frozenset()), frozen,
                 frozenset(r.id for r in roles))


def audits_unit(reach: Reach, unit_id: int) -> bool:
    """Whether the user reads ``unit_id`` as an auditor (so each read is recorded)."""
    return reach.audited is None or unit_id in reach.audited


def reads_whole_unit(session: Session, instance_id: int, username: str) -> bool:
    """Whether ``username`` reads every task of the instance (rules 2 and 3). Raises ``UserNotFound``."""
    try:
        unit_id = instance_store.unit_of(session, instance_id)
    except InstanceNotFound:
        return False
    return reach_of(session, username).covers(unit_id)


def reads_task(session: Session, instance_id: int, task_id: str, username: str) -> bool:
    """Whether ``username`` reads task ``task_id`` of ``instance_id`` beyond their lanes (rules 2, 3 and 4).

    Rule 1 (the lane, or having completed it) is the caller's: it is also the
    rule for acting. Raises ``UserNotFound``.
    """
    if reads_whole_unit(session, instance_id, username):
        return True
    user = org.get_user_by_username(session, username)
    return notification_store.escalated_to(session, user.id, task_id=task_id)


def can_see_instance(session: Session, instance_id: int, username: str) -> bool:
    """Whether ``username`` sees instance ``instance_id`` by any of the four rules; False if it does not exist.

    Raises ``UserNotFound``.
    """
    if reads_whole_unit(session, instance_id, username):
        return True
    user = org.get_user_by_username(session, username)
    if notification_store.escalated_to(session, user.id, instance_id=instance_id):
        return True
    my_roles = {r.id for r in org.roles_of(session, user.id)}
    teams: dict[int, bool] = {}
    for human in tasks.tasks_of_instance(session, instance_id):
        if human.completed_by_id == user.id or (human.role_id is not None and human.role_id in my_roles):
            return True
        if human.team_id is not None:
            if human.team_id not in teams:
                teams[human.team_id] = user.id in org.team_member_ids(session, human.team_id)
            if teams[human.team_id]:
                return True
    return False


def visible_instances_filter(session: Session, username: str) -> ColumnElement[bool]:
    """The same rule as a SQL condition on ``process_instance`` rows, for lists and searches.

    Raises ``UserNotFound``.
    """
    reach = reach_of(session, username)
    if reach.all_units:
        return search.visible_clause(user_id=reach.user_id, all_units=True, unit_ids=frozenset(),
                                     role_ids=frozenset())
    return search.visible_clause(user_id=reach.user_id, all_units=reach.all_units, unit_ids=reach.unit_ids,
                                 role_ids=reach.role_ids)
