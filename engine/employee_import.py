"""Import employees from a staffing system's CSV or XLSX export: a dry run, then apply.

Columns (header row, any order, case and spaces ignored): ``NIP``, ``Nama``,
``Jabatan``, ``Unit Kerja`` (a unit's code or exact name), optional
``Username`` (default: the NIP). One row per jabatan of a person; a person with
two jabatan has two rows. The file is the truth for the units it names:

- a NIP not yet known becomes a user (active, no password: issue a
  set-password link, ``engine.password_links``) holding the jabatan of its rows;
- a known NIP gets the name and the jabatan of its rows (jabatan of those units
  not in the file end; jabatan elsewhere stay), and is reactivated;
- an active user with a NIP whose home unit is one of the file's units and
  who is not in the file is deactivated (claims released, ``engine.org_changes``).

Rows that cannot be applied (bad NIP, unknown unit or jabatan, a NIP with two
names) are listed as problems and the rest still apply. Importing the same file
again changes nothing. Built for 5,000 rows in well under 10 s: every lookup is
one query loaded into a dict (``scripts/import_benchmark.py`` prints the time).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine import org_changes
from engine.organisation import check_nip
from storage import org
from storage.errors import InvalidFieldError, InvalidTaskDataError
from storage.models import Role, RoleAlias, RoleMember, User

__all__ = ["Change", "ImportPlan", "MAX_ROWS", "apply", "plan", "read_rows"]

MAX_ROWS = 20_000
_COLUMNS = {"nip": "nip", "nama": "nama", "nama lengkap": "nama", "jabatan": "jabatan", "unit kerja": "unit",
            "unit": "unit", "username": "username", "nama pengguna": "username"}


@dataclass(frozen=True)
class Change:
    """One person in the plan: ``what`` lists the differences in Indonesian ("nama: A → B")."""

    nip: str
    name: str
    what: tuple[str, ...] = ()


@dataclass
class ImportPlan:
    """What an import will do: people ``added``, ``changed``, ``deactivated``; ``problems`` by row."""

    added: list[Change] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)
    deactivated: list[Change] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    rows: int = 0
    _people: dict[str, _Person] = field(default_factory=dict, repr=False)
    _unit_ids: set[int] = field(default_factory=set, repr=False)

    @property
    def empty(self) -> bool:
        """Whether applying changes nothing."""
        return not (self.added or self.changed or self.deactivated)


@dataclass
class _Person:
    nip: str
    name: str
    username: str
    home_unit_id: int
    role_ids: set[int]


def read_rows(filename: str, content: bytes) -> list[dict[str, str]]:
    """The rows of a ``.csv`` (UTF-8, comma or semicolon) or ``.xlsx`` file as dicts of the known columns.

    Raises ``InvalidTaskDataError``: another kind of file, no NIP/Nama/Jabatan/Unit
    Kerja header, more than :data:`MAX_ROWS` rows, an unreadable file.
    """
    lower = filename.lower()
    if lower.endswith(".csv"):
        text = content.decode("utf-8-sig", errors="replace")
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t") if text.strip() else csv.excel
        raw: Iterable[list[str]] = csv.reader(io.StringIO(text), dialect)
    elif lower.endswith(".xlsx"):
        raw = _xlsx_rows(content)
    else:
        raise InvalidTaskDataError("Berkas harus CSV atau XLSX")
    rows = iter(raw)
    header = [_COLUMNS.get(" ".join(str(h or "").casefold().split()), "") for h in next(rows, [])]
    if not {"nip", "nama", "jabatan", "unit"} <= set(header):
        raise InvalidTaskDataError("Baris judul harus memuat kolom NIP, Nama, Jabatan dan Unit Kerja")
    found: list[dict[str, str]] = []
    for values in rows:
        if len(found) >= MAX_ROWS:
            raise InvalidTaskDataError(f"Paling banyak {MAX_ROWS} baris")
        row = {key: " ".join(str(v if v is not None else "").split()) for key, v in zip(header, values, strict=False)
               if key}
        if any(row.values()):
            found.append(row)
    return found


def _xlsx_rows(content: bytes) -> Iterable[list[str]]:
    from openpyxl import load_workbook  # only for this file kind

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise InvalidTaskDataError("Berkas XLSX tidak dapat dibaca") from exc
    sheet = book.worksheets[0]
    for values in sheet.iter_rows(values_only=True):
        yield ["" if v is None else str(v) for v in values]


def plan(session: Session, rows: list[dict[str, str]], *, unit_codes: frozenset[str] | None = None) -> ImportPlan:
    """Compare ``rows`` (from :func:`read_rows`) with the organisation; change nothing.

    ``unit_codes`` limits the units the file may name (an administrator's scope;
    None: every unit); a row of another unit is a problem.
    """
    result = ImportPlan(rows=len(rows))
    units = {u.code.casefold(): u for u in org.list_units(session)
             if unit_codes is None or u.code in unit_codes}
    units.update({u.name.casefold(): u for u in units.values()})
    roles: dict[tuple[int, str], int] = {}
    for role in session.scalars(select(Role)):
        roles[(role.unit_id, org.normalize_role_name(role.name))] = role.id
    for alias in session.scalars(select(RoleAlias)):
        roles.setdefault((alias.unit_id, alias.alias), alias.role_id)
    people = result._people
    for number, row in enumerate(rows, start=2):
        unit = units.get(row.get("unit", "").casefold())
        if unit is None:
            result.problems.append(f"baris {number}: unit kerja {row.get('unit')!r} tidak dikenal")
            continue
        role_id = roles.get((unit.id, org.normalize_role_name(row.get("jabatan", ""))))
        if role_id is None:
            result.problems.append(f"baris {number}: jabatan {row.get('jabatan')!r} tidak ada di {unit.name}")
            continue
        try:
            nip = check_nip(row.get("nip", ""))
        except InvalidFieldError as exc:
            result.problems.append(f"baris {number}: {exc.problem}")
            continue
        name = row.get("nama", "")
        if not name or len(name) > 255:
            result.problems.append(f"baris {number}: nama wajib diisi (paling banyak 255 karakter)")
            continue
        person = people.get(nip)
        if person is None:
            people[nip] = _Person(nip, name, row.get("username") or nip, unit.id, {role_id})
        elif person.name != name:
            result.problems.append(f"baris {number}: NIP {nip} bernama lain di baris sebelumnya ({person.name})")
        else:
            person.role_ids.add(role_id)
        result._unit_ids.add(unit.id)
    _compare(session, result)
    return result


def _compare(session: Session, result: ImportPlan) -> None:
    known = {u.nip: u for u in session.scalars(select(User).where(User.nip.is_not(None)))}
    taken = set(session.scalars(select(User.username)))
    role_unit = dict(session.execute(select(Role.id, Role.unit_id)).tuples().all())
    role_name = dict(session.execute(select(Role.id, Role.name)).tuples().all())
    held: dict[int, set[int]] = {}
    for user_id, role_id in session.execute(select(RoleMember.user_id, RoleMember.role_id)).tuples():
        held.setdefault(user_id, set()).add(role_id)
    for person in result._people.values():
        user = known.get(person.nip)
        if user is None:
            if person.username in taken:
                result.problems.append(f"NIP {person.nip}: nama pengguna {person.username!r} sudah dipakai")
                continue
            taken.add(person.username)
            result.added.append(Change(person.nip, person.name, tuple(
                f"jabatan: {role_name[r]}" for r in sorted(person.role_ids))))
            continue
        what = []
        if user.full_name != person.name:
            what.append(f"nama: {user.full_name} → {person.name}")
        if not user.active:
            what.append("diaktifkan kembali")
        mine = {r for r in held.get(user.id, set()) if role_unit[r] in result._unit_ids}
        what += [f"jabatan baru: {role_name[r]}" for r in sorted(person.role_ids - mine)]
        what += [f"jabatan berakhir: {role_name[r]}" for r in sorted(mine - person.role_ids)]
        if what:
            result.changed.append(Change(person.nip, person.name, tuple(what)))
    for user in known.values():
        if user.active and user.unit_id in result._unit_ids and user.nip not in result._people:
            result.deactivated.append(Change(user.nip or "", user.full_name, ("dinonaktifkan",)))


def apply(session: Session, result: ImportPlan, *, by_id: int | None, now: datetime) -> None:
    """Carry out ``result`` (a fresh :func:`plan` of the same session); record one summary change. Flushes."""
    known = {u.nip: u for u in session.scalars(select(User).where(User.nip.is_not(None)))}
    role_unit = dict(session.execute(select(Role.id, Role.unit_id)).tuples().all())
    changed = {c.nip for c in result.changed}
    for change in result.added:
        person = result._people[change.nip]
        user = User(username=person.username, full_name=person.name, nip=person.nip,
                    unit_id=person.home_unit_id, active=True)
        session.add(user)
        known[person.nip] = user
    session.flush()
    members = []
    for change in result.added:
        user = known[change.nip]
        members += [RoleMember(user_id=user.id, role_id=r) for r in sorted(result._people[change.nip].role_ids)]
    for nip in changed:
        person, user = result._people[nip], known[nip]
        user.full_name, user.active = person.name, True
        mine = set(session.scalars(select(RoleMember.role_id).where(RoleMember.user_id == user.id)))
        mine = {r for r in mine if role_unit[r] in result._unit_ids}
        ended = mine - person.role_ids
        if ended:
            session.execute(delete(RoleMember).where(RoleMember.user_id == user.id, RoleMember.role_id.in_(ended)))
            org_changes.on_holder_removed(session, user.id, "jabatan berakhir (impor pegawai)")
        members += [RoleMember(user_id=user.id, role_id=r) for r in sorted(person.role_ids - mine)]
    session.add_all(members)
    for change in result.deactivated:
        user = known[change.nip]
        user.active = False
        org_changes.on_holder_removed(session, user.id, "dinonaktifkan (impor pegawai)")
    session.flush()
    unit_id = next(iter(result._unit_ids)) if len(result._unit_ids) == 1 else None
    org_changes.record(session, at=now, actor_id=by_id, unit_id=unit_id, kind="employees_imported",
                       subject="impor pegawai", before=None,
                       after={"added": [c.nip for c in result.added], "changed": sorted(changed),
                              "deactivated": [c.nip for c in result.deactivated], "rows": result.rows})
