"""Administering the organisation: units, jabatan, users and their memberships, each change recorded.

Callers check the ``administrator`` grant (``engine.access``) for the unit first;
these functions check the data. Every change writes one row of the change
record (``engine.org_changes.record``: who, what, before/after). When a user
stops holding a lane (deactivated, a membership ended) the claims hook
``engine.org_changes.on_holder_removed`` runs; ready steps need nothing, their
routing is read at the instant (``storage.org``).

A NIP (Nomor Induk Pegawai, PP 11/2017 and Peraturan BKN) has 18 digits: birth
date ``YYYYMMDD``, appointment ``YYYYMM``, sex ``1``/``2``, serial ``NNN``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine import catalog, org_changes
from engine.calendar import HoursPeriod, OfficeHours, format_intervals, parse_intervals, period_of_row, weekly_json
from storage import calendar as calendar_store
from storage import org
from storage.errors import CalendarError, InvalidFieldError, InvalidTaskDataError
from storage.models import UNIT_JENIS, Role, RoleAlias, RoleMember, Unit, User

__all__ = [
    "HoursPeriodView", "LaneCoverage", "check_nip", "correct_calendar", "lane_coverage", "remove_hours_period",
    "save_membership", "save_role", "save_unit", "save_user", "set_hours_period", "unit_corrections",
    "unit_hours_periods", "unit_state", "user_state",
]

NAME_MAX = 255


def check_nip(nip: str) -> str:
    """Return the NIP stripped of spaces if it has the 18-digit shape; raise ``InvalidFieldError("nip", ...)``."""
    digits = "".join(nip.split())
    if len(digits) != 18 or not digits.isdigit():
        raise InvalidFieldError("nip", "NIP harus 18 angka")
    try:
        date(int(digits[0:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError as exc:
        raise InvalidFieldError("nip", "8 angka pertama NIP bukan tanggal lahir yang sah") from exc
    if not 1 <= int(digits[12:14]) <= 12:
        raise InvalidFieldError("nip", "angka 9–14 NIP bukan tahun dan bulan pengangkatan yang sah")
    if digits[14] not in "12":
        raise InvalidFieldError("nip", "angka ke-15 NIP (jenis kelamin) harus 1 atau 2")
    return digits


def _clean_name(field: str, value: str) -> str:
    name = " ".join(value.split())
    if not name or len(name) > NAME_MAX or any(ord(c) < 32 for c in name):
        raise InvalidFieldError(field, f"wajib diisi, paling banyak {NAME_MAX} karakter")
    return name


def unit_state(unit: Unit) -> dict[str, object]:
    """The recorded fields of a unit, for the change record."""
    return {"code": unit.code, "name": unit.name, "jenis": unit.jenis, "parent_id": unit.parent_id,
            "timezone": unit.timezone}


def save_unit(session: Session, unit_code: str, *, name: str, jenis: str, parent_code: str | None,
              timezone: str, by_id: int, now: datetime) -> Unit:
    """Change a unit's name, jenis (:data:`storage.models.UNIT_JENIS`), parent unit and zone (WIB/WITA/WIT).

    Raises ``UnitNotFound`` and ``InvalidFieldError`` (empty name, unknown jenis or
    zone, a parent that is the unit itself or below it).
    """
    unit = org.get_unit_by_code(session, unit_code)
    before = unit_state(unit)
    if jenis not in UNIT_JENIS:
        raise InvalidFieldError("jenis", f"pilih salah satu dari {', '.join(UNIT_JENIS)}")
    if timezone not in org.INDONESIAN_ZONES:
        raise InvalidFieldError("zona", "pilih WIB, WITA atau WIT")
    parent = org.get_unit_by_code(session, parent_code) if parent_code else None
    seen = parent
    while seen is not None:
        if seen.id == unit.id:
            raise InvalidFieldError("induk", "unit induk tidak boleh unit ini sendiri atau unit di bawahnya")
        seen = session.get(Unit, seen.parent_id) if seen.parent_id is not None else None
    unit.name, unit.jenis, unit.timezone = _clean_name("nama", name), jenis, timezone
    unit.parent_id = parent.id if parent else None
    session.flush()
    org_changes.record(session, at=now, actor_id=by_id, unit_id=unit.id, kind="unit_saved",
                       subject=f"unit:{unit.code}", before=before, after=unit_state(unit))
    return unit


def _role_state(session: Session, role: Role) -> dict[str, object]:
    aliases = sorted(session.scalars(select(RoleAlias.alias).where(RoleAlias.role_id == role.id)))
    superior = session.get(Role, role.superior_role_id) if role.superior_role_id else None
    return {"name": role.name, "aliases": aliases, "superior": superior.name if superior else None}


def save_role(session: Session, role_id: int, *, aliases: list[str], superior_role_id: int | None,
              by_id: int, now: datetime) -> Role:
    """Set a jabatan's aliases (other lane names) and its superior jabatan in the same unit.

    Raises ``InvalidTaskDataError``: unknown jabatan, a superior of another unit
    or a circle of superiors, an alias another jabatan of the unit already has
    (by name or alias).
    """
    role = session.get(Role, role_id)
    if role is None:
        raise InvalidTaskDataError("Jabatan tidak ada")
    before = _role_state(session, role)
    seen = session.get(Role, superior_role_id) if superior_role_id is not None else None
    if seen is not None and seen.unit_id != role.unit_id:
        raise InvalidFieldError("atasan", "atasan harus jabatan di unit yang sama")
    if superior_role_id is not None and seen is None:
        raise InvalidFieldError("atasan", "jabatan atasan tidak ada")
    while seen is not None:
        if seen.id == role.id:
            raise InvalidFieldError("atasan", "atasan tidak boleh jabatan ini sendiri atau bawahannya")
        seen = session.get(Role, seen.superior_role_id) if seen.superior_role_id is not None else None
    wanted = sorted({org.normalize_role_name(a) for a in aliases if a.strip()} - {org.normalize_role_name(role.name)})
    for alias in wanted:
        if len(alias) > 128:
            raise InvalidFieldError("alias", "alias paling banyak 128 karakter")
        other = org.resolve_role(session, role.unit_id, alias)
        if other is not None and other.id != role.id:
            raise InvalidFieldError("alias", f"{alias!r} sudah dipakai jabatan {other.name}")
    session.execute(delete(RoleAlias).where(RoleAlias.role_id == role.id))
    session.add_all(RoleAlias(unit_id=role.unit_id, alias=a, role_id=role.id) for a in wanted)
    role.superior_role_id = superior_role_id
    session.flush()
    unit = org.get_unit(session, role.unit_id)
    org_changes.record(session, at=now, actor_id=by_id, unit_id=role.unit_id, kind="role_saved",
                       subject=f"jabatan:{unit.code}:{role.name}", before=before, after=_role_state(session, role))
    return role


def user_state(user: User) -> dict[str, object]:
    """The recorded fields of a user, for the change record (never the password hash)."""
    return {"username": user.username, "full_name": user.full_name, "nip": user.nip, "active": user.active}


def save_user(session: Session, username: str, *, full_name: str, nip: str | None, active: bool,
              by_id: int, now: datetime) -> User:
    """Change a user's name with titles, NIP (checked, unique) and whether they are active.

    A deactivated user holds no lane from now on and their claims are released.
    Raises ``UserNotFound`` and ``InvalidFieldError``.
    """
    user = org.get_user_by_username(session, username)
    before = user_state(user)
    clean_nip = check_nip(nip) if nip else None
    if clean_nip is not None:
        other = session.scalar(select(User).where(User.nip == clean_nip, User.id != user.id))
        if other is not None:
            raise InvalidFieldError("nip", f"NIP sudah dipakai {other.full_name}")
    user.full_name, user.nip = _clean_name("nama", full_name), clean_nip
    deactivated = user.active and not active
    user.active = active
    session.flush()
    if deactivated:
        org_changes.on_holder_removed(session, user.id, "pengguna dinonaktifkan")
    org_changes.record(session, at=now, actor_id=by_id, unit_id=user.unit_id, kind="user_saved",
                       subject=f"user:{user.username}", before=before, after=user_state(user))
    return user


def save_membership(session: Session, username: str, role_id: int, *, start: date | None, end: date | None,
                    by_id: int, now: datetime, remove: bool = False) -> None:
    """Give ``username`` the jabatan ``role_id`` from ``start`` to ``end`` (inclusive, None open), or ``remove`` it.

    Ending or removing a membership releases the user's claims. Raises
    ``UserNotFound`` and ``InvalidTaskDataError`` (unknown jabatan, end before start).
    """
    user = org.get_user_by_username(session, username)
    role = session.get(Role, role_id)
    if role is None:
        raise InvalidTaskDataError("Jabatan tidak ada")
    if start is not None and end is not None and end < start:
        raise InvalidFieldError("selesai", "tanggal selesai tidak boleh sebelum tanggal mulai")
    member = session.get(RoleMember, (user.id, role.id))
    before = ({"start": member.start_date, "end": member.end_date} if member is not None else None)
    unit = org.get_unit(session, role.unit_id)
    if remove:
        if member is not None:
            session.delete(member)
        after = None
    else:
        if member is None:
            member = RoleMember(user_id=user.id, role_id=role.id)
            session.add(member)
        member.start_date, member.end_date = start, end
        after = {"start": start, "end": end}
    session.flush()
    if remove or (end is not None and end < org.local_day(now, unit.timezone)):
        org_changes.on_holder_removed(session, user.id, f"jabatan {role.name} berakhir")
    org_changes.record(session, at=now, actor_id=by_id, unit_id=unit.id, kind="membership_saved",
                       subject=f"user:{user.username}:jabatan:{role.name}", before=before, after=after)


@dataclass(frozen=True)
class LaneCoverage:
    """One lane of one SOP meant for a unit: the jabatan it resolves to and who holds it now."""

    process_id: str
    sop_name: str
    lane: str
    team: bool
    role: str | None
    holders: tuple[str, ...]


def lane_coverage(session: Session, unit_code: str, at: datetime) -> list[LaneCoverage]:
    """Every lane of every deployed SOP meant for the unit's kind, with its jabatan and holders at ``at``.

    A lane with ``role`` None or no ``holders`` has nobody to take its steps in
    this unit (a team lane formed by the SOP itself is staffed per instance).
    Raises ``UnitNotFound``.
    """
    unit = org.get_unit_by_code(session, unit_code)
    found = []
    for definition in catalog.list_latest(session):
        if definition.meta.unit_kind not in (unit.kind,):
            continue
        for lane in definition.meta.lanes.values():
            role = org.resolve_role(session, unit.id, lane.name)
            holders = tuple(u.full_name for u in org.users_with_role(session, role.id, at)) if role else ()
            found.append(LaneCoverage(definition.process_id, definition.name, lane.name, lane.team,
                                      role.name if role else None, holders))
    return found


NOTE_MAX = 255


def unit_corrections(session: Session, unit_code: str) -> list[tuple[date, bool, str]]:
    """The unit's own calendar corrections ``[(day, is_working_day, note)]``, by day. Raises ``UnitNotFound``."""
    unit = org.get_unit_by_code(session, unit_code)
    return sorted((day, working, note) for day, (working, note) in
                  calendar_store.corrections(session, unit.id).items())


def correct_calendar(session: Session, unit_code: str, *, day: date, is_working_day: bool, note: str,
                     remove: bool, by_id: int, now: datetime) -> None:
    """Set (or ``remove``) the unit's correction of ``day``: an extra holiday, a cuti bersama change, a working day.

    Shortened Ramadan hours are not a day's status: :func:`set_hours_period`. The
    unit's row overrides the national calendar (``engine.calendar``). Raises
    ``UnitNotFound`` and ``InvalidFieldError`` (no note, or a note too long).
    """
    unit = org.get_unit_by_code(session, unit_code)
    clean = " ".join(note.split())
    if not remove and (not clean or len(clean) > NOTE_MAX):
        raise InvalidFieldError("keterangan", f"wajib diisi, paling banyak {NOTE_MAX} karakter")
    known = calendar_store.corrections(session, unit.id).get(day)
    before = {"day": day, "is_working_day": known[0], "note": known[1]} if known else None
    if remove:
        calendar_store.remove_correction(session, unit_id=unit.id, day=day)
        after = None
    else:
        calendar_store.set_correction(session, unit_id=unit.id, day=day, is_working_day=is_working_day, note=clean)
        after = {"day": day, "is_working_day": is_working_day, "note": clean}
    org_changes.record(session, at=now, actor_id=by_id, unit_id=unit.id, kind="calendar_corrected",
                       subject=f"unit:{unit.code}:kalender", before=before, after=after)


PERIOD_DAYS_MAX = 366


@dataclass(frozen=True)
class HoursPeriodView:
    """A unit's period of shortened office hours as its page shows it.

    ``start``/``end`` local dates, both included; ``mon_thu`` and ``friday`` the
    opening intervals as offices write them (``"08.00-12.00, 12.30-15.00"``).
    """

    id: int
    start: date
    end: date
    mon_thu: str
    friday: str
    note: str


def _period_view(period_id: int, period: HoursPeriod) -> HoursPeriodView:
    weekly = period.office_hours.weekly
    return HoursPeriodView(period_id, period.start, period.end, format_intervals(weekly[0]),
                           format_intervals(weekly[4]), period.note)


def unit_hours_periods(session: Session, unit_code: str) -> list[HoursPeriodView]:
    """The unit's own periods of shortened hours (e.g. Ramadan), by start date. Raises ``UnitNotFound``."""
    unit = org.get_unit_by_code(session, unit_code)
    return [_period_view(row.id, period_of_row(row)) for row in calendar_store.hours_periods(session, unit.id)
            if row.unit_id == unit.id]


def set_hours_period(session: Session, unit_code: str, *, start: date, end: date, mon_thu: str, friday: str,
                     note: str, by_id: int, now: datetime) -> HoursPeriodView:
    """Give the unit shortened office hours from ``start`` to ``end`` (its local dates): shortened days in Ramadan.

    ``mon_thu`` are the hours of Monday to Thursday, ``friday`` Friday's, as
    ``"08.00-12.00, 12.30-15.00"`` (``engine.calendar.parse_intervals``);
    Saturday and Sunday stay closed, holidays stay holidays. Due times of steps
    that become ready afterwards follow these hours (``engine.calendar``).
    Raises ``UnitNotFound`` and ``InvalidFieldError`` naming the field
    (``mulai``, ``selesai``, ``senin_kamis``, ``jumat``, ``keterangan``): end
    before start, longer than a year, unreadable hours, no note, or a range
    overlapping another period of the unit. Records the change.
    """
    unit = org.get_unit_by_code(session, unit_code)
    clean = " ".join(note.split())
    if not clean or len(clean) > NOTE_MAX:
        raise InvalidFieldError("keterangan", f"wajib diisi, paling banyak {NOTE_MAX} karakter")
    if end < start:
        raise InvalidFieldError("selesai", "tidak boleh sebelum tanggal mulai")
    if (end - start).days >= PERIOD_DAYS_MAX:
        raise InvalidFieldError("selesai", f"periode paling lama {PERIOD_DAYS_MAX} hari")
    days = {}
    for field, text in (("senin_kamis", mon_thu), ("jumat", friday)):
        try:
            days[field] = parse_intervals(text)
        except CalendarError as exc:
            raise InvalidFieldError(field, str(exc)) from exc
    if not days["senin_kamis"] and not days["jumat"]:
        raise InvalidFieldError("senin_kamis", "isi jam kerja, mis. 08.00-12.00, 12.30-15.00")
    hours = OfficeHours(weekly=(days["senin_kamis"],) * 4 + (days["jumat"], (), ()),
                        substitute_weekday=0 if days["senin_kamis"] else 4)
    for row in calendar_store.hours_periods(session, unit.id):
        if row.start_date <= end and row.end_date >= start:
            raise InvalidFieldError("mulai", f"tumpang tindih dengan periode {row.start_date:%d-%m-%Y} s.d. "
                                             f"{row.end_date:%d-%m-%Y} ({row.note})")
    row = calendar_store.add_hours(session, unit_id=unit.id, start_date=start, end_date=end,
                                   weekly_json=weekly_json(hours), note=clean)
    view = _period_view(row.id, HoursPeriod(start, end, hours, clean))
    org_changes.record(session, at=now, actor_id=by_id, unit_id=unit.id, kind="calendar_hours_set",
                       subject=f"unit:{unit.code}:jam-kerja", before=None, after=asdict(view))
    return view


def remove_hours_period(session: Session, unit_code: str, period_id: int, *, by_id: int, now: datetime) -> None:
    """Remove the unit's period ``period_id``: its days get the usual hours back. Records the change.

    Raises ``UnitNotFound`` and ``InvalidTaskDataError`` when the unit has no such period.
    """
    unit = org.get_unit_by_code(session, unit_code)
    row = calendar_store.remove_hours(session, unit_id=unit.id, period_id=period_id)
    if row is None:
        raise InvalidTaskDataError("Periode jam kerja tidak ada di unit ini")
    org_changes.record(session, at=now, actor_id=by_id, unit_id=unit.id, kind="calendar_hours_removed",
                       subject=f"unit:{unit.code}:jam-kerja", before=asdict(_period_view(row.id, period_of_row(row))),
                       after=None)
