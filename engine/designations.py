"""Plh and Plt: another official performs a jabatan's steps for a date range.

UU 30/2014 tentang Administrasi Pemerintahan, Pasal 14 (mandat), and SE Kepala
BKN 1/SE/I/2021: a Pelaksana Harian (``plh``) stands in while the official is
briefly absent (cuti, dinas luar), a Pelaksana Tugas (``plt``) while the post is
vacant. Rules:

- the official of the jabatan (when it is one person's post, not a group such
  as Staf), a holder of its superior jabatan
  (``engine.followups.superiors_of_lane``) or an ``administrator`` whose grant
  covers the unit designates;
- nobody designates himself, nor an official of the jabatan itself, nor an
  inactive user; ranges of one jabatan never overlap; the end is not before
  the start;
- the range is whole days in the unit's time zone; during it the designee holds
  the jabatan (``storage.org``) and each completion is recorded "selaku Plh
  <jabatan>" (``engine.instances``); when it ends the steps go back by themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import access, org_changes
from engine.followups import head_role_id, superior_role_id
from storage import org
from storage.errors import InvalidTaskDataError, PermissionDeniedError
from storage.models import DESIGNATION_KINDS, Designation, Role, RoleMember, Unit, User

__all__ = [
    "DesignationView", "designable_roles", "designate", "designations_of_unit", "end_designation", "label",
    "may_designate", "may_designate_any", "signature_label",
]

REASON_MAX = 500


@dataclass(frozen=True)
class DesignationView:
    """A designation as pages show it: ``kind`` "plh"/"plt", dates inclusive in the unit's zone."""

    id: int
    role: str
    holder: str
    holder_name: str
    kind: str
    start_date: date
    end_date: date
    designated_by: str
    reason: str


def label(kind: str, role_name: str) -> str:
    """``"Plh Camat"``: how a designee signs (the BKN circular's abbreviations)."""
    return f"{'Plh' if kind == 'plh' else 'Plt'} {role_name}"


def signature_label(kind: str, role_name: str) -> str:
    """``"Plh. Camat"``: the jabatan in the signature block of what a designee signs.

    SE Kepala BKN 1/SE/I/2021: a Plh or Plt signs with "Plh." or "Plt." before
    the jabatan's name, then his own name.
    """
    return f"{'Plh.' if kind == 'plh' else 'Plt.'} {role_name}"


def _bound(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone))


def may_designate(session: Session, user: User, role: Role, at: datetime) -> bool:
    """Whether ``user`` may designate a Plh/Plt of ``role`` at ``at`` (rules of this module)."""
    return _may(session, user, role, org.get_unit(session, role.unit_id), at,
                access.grants_of(session, user.username), org.acting_role_ids(session, user.id, at),
                superior_role_id(session, role.unit_id, role.name))


def designable_roles(session: Session, user: User, at: datetime) -> list[tuple[Role, Unit]]:
    """The jabatan ``user`` may designate a Plh/Plt for at ``at``, with their units, by unit name and jabatan name.

    The rule of :func:`may_designate`, applied to the jabatan of the units where
    ``user`` holds a jabatan or has an ``administrator`` grant.
    """
    return list(_designable(session, user, at))


def may_designate_any(session: Session, user: User, at: datetime) -> bool:
    """Whether :func:`designable_roles` is not empty (stops at the first jabatan found): the navigation's link."""
    return next(_designable(session, user, at), None) is not None


def _designable(session: Session, user: User, at: datetime) -> Iterator[tuple[Role, Unit]]:
    grants = access.grants_of(session, user.username)
    held = org.acting_role_ids(session, user.id, at)
    units = set(session.scalars(select(Role.unit_id).where(Role.id.in_(held))))
    units |= {u.id for u in org.list_units(session) if grants.covers(access.ADMINISTRATOR, u.code)}
    rows = session.execute(select(Role, Unit).join(Unit, Unit.id == Role.unit_id).where(Unit.id.in_(units))
                           .order_by(Unit.name, Role.name)).all()
    heads: dict[int, int | None] = {}
    for role, unit in rows:
        # superior_role_id(role's own name) without looking the role up again: its superior, else the head
        if role.superior_role_id is None and unit.id not in heads:
            heads[unit.id] = head_role_id(session, unit.id)
        superior = role.superior_role_id if role.superior_role_id is not None else heads[unit.id]
        if _may(session, user, role, unit, at, grants, held, superior):
            yield role, unit


def _may(session: Session, user: User, role: Role, unit: Unit, at: datetime, grants: access.Grants,
         held: frozenset[int], superior: int | None) -> bool:
    """The rule: an administrator of the unit, the official of a one-person post, or a holder of its superior."""
    if grants.covers(access.ADMINISTRATOR, unit.code):
        return True
    if role.id in held and org.acting_designation(session, role.id, user.id, at) is None and _is_a_post(
            session, role, at):
        return True
    return superior is not None and superior in held


def _is_a_post(session: Session, role: Role, at: datetime) -> bool:
    """Whether ``role`` is one official's post (one member), not a group such as Staf."""
    members = [u for u in org.users_with_role(session, role.id, at)
               if org.acting_designation(session, role.id, u.id, at) is None]
    return len(members) == 1


def designate(session: Session, *, unit_code: str, role_name: str, holder: str, kind: str, start: date,
              end: date, by: str, reason: str, now: datetime) -> DesignationView:
    """Designate ``holder`` as Plh/Plt (``kind``) of jabatan ``role_name`` of a unit from ``start`` to ``end``.

    Raises ``UnitNotFound``, ``UserNotFound``, ``PermissionDeniedError`` (``by``
    may not designate) and ``InvalidTaskDataError`` (unknown jabatan or kind, end
    before start, a self designation, an overlapping one, an inactive holder,
    no reason). Records the change. Flushes.
    """
    unit = org.get_unit_by_code(session, unit_code)
    role = org.resolve_role(session, unit.id, role_name)
    if role is None:
        raise InvalidTaskDataError(f"Jabatan {role_name!r} tidak ada di {unit.name}")
    actor = org.get_user_by_username(session, by)
    designee = org.get_user_by_username(session, holder)
    reason = " ".join(reason.split())
    if kind not in DESIGNATION_KINDS:
        raise InvalidTaskDataError("Jenis penunjukan harus Plh atau Plt")
    if not reason or len(reason) > REASON_MAX:
        raise InvalidTaskDataError(f"Alasan penunjukan wajib diisi (paling banyak {REASON_MAX} karakter)")
    if end < start:
        raise InvalidTaskDataError("Tanggal selesai tidak boleh sebelum tanggal mulai")
    if not may_designate(session, actor, role, now):
        raise PermissionDeniedError(f"{by} tidak berwenang menunjuk Plh/Plt {role.name}")
    if designee.id == actor.id:
        raise InvalidTaskDataError("Tidak dapat menunjuk diri sendiri sebagai Plh/Plt")
    if not designee.active:
        raise InvalidTaskDataError(f"{designee.full_name} tidak aktif")
    if session.get(RoleMember, (designee.id, role.id)) is not None:
        raise InvalidTaskDataError(f"{designee.full_name} sudah memegang jabatan {role.name}")
    overlap = session.scalar(select(Designation).where(
        Designation.role_id == role.id, Designation.start_date <= end, Designation.end_date >= start,
        Designation.ends_at > Designation.starts_at))
    if overlap is not None:
        raise InvalidTaskDataError(
            f"Sudah ada {label(overlap.kind, role.name)} untuk {overlap.start_date:%d-%m-%Y} s.d. "
            f"{overlap.end_date:%d-%m-%Y}: rentang tanggal tidak boleh tumpang tindih")
    row = Designation(role_id=role.id, user_id=designee.id, kind=kind, start_date=start, end_date=end,
                      starts_at=_bound(start, unit.timezone), ends_at=_bound(end + timedelta(days=1), unit.timezone),
                      designated_by_id=actor.id, reason=reason, created_at=now)
    session.add(row)
    session.flush()
    view = _view(session, row)
    org_changes.record(session, at=now, actor_id=actor.id, unit_id=unit.id, kind="designation_created",
                       subject=f"jabatan:{unit.code}:{role.name}", before=None, after=view.__dict__)
    return view


def end_designation(session: Session, designation_id: int, *, by: str, now: datetime) -> DesignationView:
    """End a designation today (its last day becomes yesterday, or it is cut at ``now`` if running).

    Raises ``InvalidTaskDataError`` (no such designation, already over) and
    ``PermissionDeniedError``. The steps go back to the official at once; claims
    of the designee are released (``engine.org_changes.on_holder_removed``).
    """
    row = session.get(Designation, designation_id)
    if row is None or row.ends_at <= now or row.ends_at == row.starts_at:  # over, or ended before it began
        raise InvalidTaskDataError("Penunjukan tidak ada atau sudah berakhir")
    role = session.get(Role, row.role_id)
    assert role is not None  # a designation's role is deleted with it
    actor = org.get_user_by_username(session, by)
    if not may_designate(session, actor, role, now):
        raise PermissionDeniedError(f"{by} tidak berwenang mengakhiri penunjukan ini")
    before = _view(session, row).__dict__
    unit = org.get_unit(session, role.unit_id)
    today = org.local_day(now, unit.timezone)
    row.ends_at = max(row.starts_at, now)
    row.end_date = max(row.start_date, today - timedelta(days=1)) if row.starts_at > now else today
    session.flush()
    org_changes.on_holder_removed(session, row.user_id, f"penunjukan {label(row.kind, role.name)} diakhiri")
    view = _view(session, row)
    org_changes.record(session, at=now, actor_id=actor.id, unit_id=unit.id, kind="designation_ended",
                       subject=f"jabatan:{unit.code}:{role.name}", before=before, after=view.__dict__)
    return view


def designations_of_unit(session: Session, unit_code: str) -> list[DesignationView]:
    """Every designation of the unit's jabatan, latest start first. Raises ``UnitNotFound``."""
    unit = org.get_unit_by_code(session, unit_code)
    rows = session.scalars(select(Designation).join(Role, Role.id == Designation.role_id)
                           .where(Role.unit_id == unit.id)
                           .order_by(Designation.start_date.desc(), Designation.id.desc()))
    return [_view(session, r) for r in rows]


def _view(session: Session, row: Designation) -> DesignationView:
    role = session.get(Role, row.role_id)
    holder = org.get_user(session, row.user_id)
    by = org.get_user(session, row.designated_by_id)
    return DesignationView(id=row.id, role=role.name if role else "?", holder=holder.username,
                           holder_name=holder.full_name, kind=row.kind, start_date=row.start_date,
                           end_date=row.end_date, designated_by=by.username, reason=row.reason)
