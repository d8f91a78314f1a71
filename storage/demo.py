"""A demo organisation: the three offices of the source SOPs, with roles and users.

Role names are the Pelaksana columns of the source SOP tables; aliases are the
other spellings the tables use for the same post ("Staff", "Kasubag
(Pengendalian)", "Kadin"...). Names and NIPs are invented; a NIP has the civil
servant's 18-digit shape (birth date, appointment year and month, 1 = male /
2 = female, serial). :func:`load_demo_org` leaves passwords unset;
:func:`set_demo_passwords` gives every demo user the documented demo password
:data:`DEMO_PASSWORD`, hashed by a function the caller passes in (storage knows
no hashing scheme).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import grants
from storage.models import Role, RoleAlias, RoleMember, Unit, User
from storage.org import normalize_role_name

__all__ = [
    "DEMO_ACCESS", "DEMO_INSTANSI", "DEMO_PASSWORD", "DEMO_UNITS", "DemoAccess", "DemoRole", "DemoUnit",
    "DemoUser", "demo_usernames", "load_demo_org", "set_demo_passwords",
]

DEMO_PASSWORD = "alur-demo"
"""The password of every demo user (documented in the README; demo data only)."""


@dataclass(frozen=True)
class DemoUser:
    """A demo user: login name, full name with titles, 18-digit NIP."""

    username: str
    full_name: str
    nip: str


@dataclass(frozen=True)
class DemoRole:
    """A role of a demo unit, its aliases as lanes may spell it, and its holders."""

    name: str
    users: tuple[DemoUser, ...]
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class DemoUnit:
    """A demo office."""

    code: str
    name: str
    kind: str
    timezone: str
    roles: tuple[DemoRole, ...]
    jenis: str = ""
    superiors: tuple[tuple[str, str], ...] = ()
    """``(jabatan, its superior jabatan)`` pairs of the unit."""


def _role(name: str, *users: tuple[str, str, str], aliases: tuple[str, ...] = ()) -> DemoRole:
    return DemoRole(name, tuple(DemoUser(*u) for u in users), aliases)


DEMO_INSTANSI = "Pemerintah Kabupaten Contoh"
"""The parent institution of every demo unit (``ALUR_INSTANSI`` of the demo server)."""

BAGIAN_ORGANISASI = DemoUnit(
    code="bagian-organisasi",
    name="Bagian Organisasi Sekretariat Daerah Kabupaten Contoh",
    kind="bagian",
    timezone="Asia/Jakarta",  # WIB
    roles=(
        _role("Kabag", ("kabag.organisasi", "Drs. Bambang Suryanto, M.Si.", "196805141994031005")),
        _role(
            "Kasubag",
            ("kasubag.organisasi", "Sri Wahyuni, S.Sos.", "197602222002122003"),
            aliases=("Kasubag Pengendalian", "Kasubag (Pengendalian)"),
        ),
        _role("Kasubag AD", ("kasubag.ad.organisasi", "Agus Setiawan, S.H.", "197811092005011004")),
        _role("Kasubag LN", ("kasubag.ln.organisasi", "Dewi Lestari, S.E.", "198003172006042011")),
        _role(
            "Staf",
            ("staf1.organisasi", "Rina Marlina", "199001052015032002"),
            ("staf2.organisasi", "Joko Prasetyo, A.Md.", "198807212014021001"),
            aliases=("Staff",),
        ),
        _role(
            "Tim Penyusunan SAKIP",
            ("tim1.organisasi", "Hendra Gunawan, S.Kom.", "198512302010011007"),
            ("tim2.organisasi", "Nur Aini, S.AP.", "198909142011012005"),
        ),
        _role("Kasubag Umum", ("kasubag.umum.organisasi", "Slamet Riyadi", "197204101998031006")),
        _role(
            "Sekretaris",
            ("sekretaris.organisasi", "Endang Purwaningsih, S.Sos.", "197701282003122004"),
        ),
    ),
    superiors=(("Kasubag", "Kabag"), ("Kasubag AD", "Kabag"), ("Kasubag LN", "Kabag"), ("Kasubag Umum", "Kabag"),
               ("Sekretaris", "Kabag"), ("Staf", "Kasubag"), ("Tim Penyusunan SAKIP", "Kasubag")),
)

DINAS_KOMINFO = DemoUnit(
    code="dinas-kominfo",
    name="Dinas Komunikasi dan Informatika Kabupaten Contoh",
    kind="dinas",
    timezone="Asia/Makassar",  # WITA
    roles=(
        _role(
            "Kepala Dinas",
            ("kadin.kominfo", "Ir. Andi Muhammad Yusuf, M.T.", "196909121995031003"),
            aliases=("Kadin", "Kepala SKPD"),
        ),
        _role(
            "Sekretaris", ("sekretaris.kominfo", "Hj. Nurhayati, S.E., M.M.", "197405062000032005")
        ),
        _role(
            "Kepala Bidang",
            ("kabid.kominfo", "Muhammad Arifin, S.T.", "197808152003121002"),
            aliases=("Kabid", "Kepala Bidang Terkait"),
        ),
        _role(
            "Kasi/Ka.Subag",
            ("kasi.kominfo", "Sitti Rahmawati, S.Kom.", "198102242006042008"),
            aliases=("Kasi", "Ka.Subag"),
        ),
        _role(
            "Kepala Sub Bagian Perencanaan",
            ("kasubag.perencanaan.kominfo", "Andi Syamsul Bahri, S.IP.", "198006112005011009"),
            aliases=("Kasubag Perencanaan & Pelaporan", "Kasubag Perencanaan"),
        ),
        _role(
            "Fungsional",
            ("fungsional1.kominfo", "Fitriani Hasan, S.Kom.", "199002172015032004"),
            ("fungsional2.kominfo", "Ahmad Fauzi, S.T.", "198911032014031002"),
        ),
        _role(
            "Staf",
            ("staf1.kominfo", "Yusran Latif", "199203082019031005"),
            ("staf2.kominfo", "Wahyuni Syam, A.Md.", "199405162020122003"),
            aliases=("Staff",),
        ),
        _role(
            "Tim SAKIP",
            ("tim.sakip1.kominfo", "Irwan Saputra, S.E.", "198707222012121002"),
            ("tim.sakip2.kominfo", "Nurul Hidayah, S.AP.", "199106042016022001"),
        ),
        _role(
            "Tim Penyusun LAKIP",
            ("tim.lakip1.kominfo", "Rahmat Hidayat, S.Sos.", "198604192010011006"),
            ("tim.lakip2.kominfo", "Sri Rahayu Ningsih, S.E.", "198812262013022003"),
        ),
        _role("Kasubag Umum", ("kasubag.umum.kominfo", "Baharuddin, S.Sos.", "197510301999031004")),
    ),
    superiors=(("Sekretaris", "Kepala Dinas"), ("Kepala Bidang", "Kepala Dinas"), ("Kasubag Umum", "Sekretaris"),
               ("Kepala Sub Bagian Perencanaan", "Sekretaris"), ("Kasi/Ka.Subag", "Kepala Bidang"),
               ("Fungsional", "Kepala Bidang"), ("Staf", "Kasi/Ka.Subag"), ("Tim SAKIP", "Sekretaris"),
               ("Tim Penyusun LAKIP", "Sekretaris")),
)

KECAMATAN_CONTOH = DemoUnit(
    code="kecamatan-contoh",
    name="Kecamatan Contoh",
    kind="kecamatan",
    timezone="Asia/Jayapura",  # WIT
    roles=(
        _role("Camat", ("camat.contoh", "Yohanes Wenda, S.STP., M.Si.", "197907152000121001")),
        _role(
            "Sekretaris",
            ("sekretaris.kecamatan", "Maria Magdalena Rumbiak, S.Sos.", "198105092006042006"),
            aliases=("Sekretaris Camat",),
        ),
        _role(
            "Tim",
            ("tim1.kecamatan", "Daniel Mandowen, S.IP.", "198703122011011004"),
            ("tim2.kecamatan", "Agustina Yikwa, S.E.", "199008242015032003"),
            ("tim3.kecamatan", "Petrus Kogoya, S.Sos.", "198902152014031001"),
        ),
        _role(
            "Kasubag Evapor",
            ("kasubag.evapor.kecamatan", "Frans Kambu, S.E.", "198011202005011003"),
            aliases=("Kasubag Renvapor",),
        ),
        _role(
            "Staf",
            ("staf1.kecamatan", "Yuliana Tabuni", "199307112019032002"),
            ("staf2.kecamatan", "Markus Wanimbo", "199512012020121004"),
            aliases=("Staff",),
        ),
        _role(
            "Kasubag Umum", ("kasubag.umum.kecamatan", "Siti Aminah, S.AP.", "198204032008012009")
        ),
    ),
    superiors=(("Sekretaris", "Camat"), ("Tim", "Sekretaris"), ("Kasubag Evapor", "Sekretaris"),
               ("Kasubag Umum", "Sekretaris"), ("Staf", "Kasubag Evapor")),
)

INSPEKTORAT = DemoUnit(
    code="inspektorat",
    name="Inspektorat Kabupaten Contoh",
    kind="dinas",  # an Inspektorat runs the SOPs written for a Dinas (Kepala SKPD)
    timezone="Asia/Jakarta",  # WIB
    jenis="Inspektorat",
    roles=(
        _role("Inspektur", ("inspektur.inspektorat", "Drs. Hotman Simanjuntak, M.Si., Ak.", "196811201995031002"),
              aliases=("Kepala SKPD",)),
        _role("Sekretaris", ("sekretaris.inspektorat", "Rosmawati, S.E., M.Ak.", "197512122001122003")),
        _role("Staf", ("staf1.inspektorat", "Yogi Pratama, A.Md.", "199611272020121002"),
              ("staf2.inspektorat", "Ni Luh Putu Sari, S.Ak.", "199702032021032004"), aliases=("Staff",)),
    ),
    superiors=(("Sekretaris", "Inspektur"), ("Staf", "Sekretaris")),
)

DEMO_UNITS: tuple[DemoUnit, ...] = (BAGIAN_ORGANISASI, DINAS_KOMINFO, KECAMATAN_CONTOH, INSPEKTORAT)


@dataclass(frozen=True)
class DemoAccess:
    """A demo user who holds access grants rather than a Pelaksana role.

    ``grants`` are ``(kind, unit code or None for every unit)`` pairs; ``home`` is
    the code of the user's home unit.
    """

    user: DemoUser
    home: str
    grants: tuple[tuple[str, str | None], ...]


DEMO_ACCESS: tuple[DemoAccess, ...] = (
    DemoAccess(DemoUser("admin.alur", "Administrator Alur", "198601012010011001"), "bagian-organisasi",
               (("administrator", None),)),
    # Process analysts: the Bagian Organisasi of the Setda for every unit, and one per unit.
    DemoAccess(DemoUser("analis.organisasi", "Ratna Sari Dewi, S.AP., M.PA.", "198404122009022004"),
               "bagian-organisasi", (("analis_proses", None),)),
    DemoAccess(DemoUser("analis.bagian", "Taufik Hidayat, S.Kom.", "199102052015031003"), "bagian-organisasi",
               (("analis_proses", "bagian-organisasi"),)),
    DemoAccess(DemoUser("analis.kominfo", "Andi Nurfadillah, S.Kom.", "199208112016022002"), "dinas-kominfo",
               (("analis_proses", "dinas-kominfo"),)),
    DemoAccess(DemoUser("analis.kecamatan", "Yosua Rumaropen, S.IP.", "199004232014031002"), "kecamatan-contoh",
               (("analis_proses", "kecamatan-contoh"),)),
    # Auditors: an Inspektorat auditor (APIP) for every unit, a SAKIP evaluator for the Kecamatan.
    DemoAccess(DemoUser("auditor.inspektorat", "Dra. Lusiana Pardede, M.Ak.", "197303152000032002"),
               "inspektorat", (("auditor", None),)),
    DemoAccess(DemoUser("evaluator.kecamatan", "Barnabas Iek, S.E., M.Si.", "198209302008011005"),
               "kecamatan-contoh", (("auditor", "kecamatan-contoh"),)),
)


def demo_usernames() -> list[str]:
    """Login names of every demo user: role holders, then the holders of access grants."""
    return ([u.username for unit in DEMO_UNITS for role in unit.roles for u in role.users]
            + [a.user.username for a in DEMO_ACCESS])


def load_demo_org(session: Session) -> None:
    """Create the demo units, roles, aliases, users, memberships and access grants that are missing.

    Idempotent: rows that exist (matched by unit code, role name, alias, username)
    are left as they are, so a second call changes nothing. Flushes; never commits.
    """
    for demo_unit in DEMO_UNITS:
        unit = _ensure_unit(session, demo_unit)
        for demo_role in demo_unit.roles:
            role = _ensure_role(session, unit, demo_role)
            for demo_user in demo_role.users:
                user = _ensure_user(session, unit, demo_user)
                if session.get(RoleMember, (user.id, role.id)) is None:
                    session.add(RoleMember(user_id=user.id, role_id=role.id))
        _ensure_superiors(session, unit, demo_unit)
    units = {u.code: u for u in session.scalars(select(Unit))}
    for access in DEMO_ACCESS:
        user = _ensure_user(session, units[access.home], access.user)
        for kind, unit_code in access.grants:
            grants.grant(session, user_id=user.id, kind=kind,
                         unit_id=units[unit_code].id if unit_code is not None else None)
    session.flush()


def set_demo_passwords(
    session: Session, hash_password: Callable[[str], str], *, replace: bool = False
) -> int:
    """Give the demo users :data:`DEMO_PASSWORD`, hashed by ``hash_password``; return how many.

    ``hash_password(plain) -> str`` is called once per user, so each hash gets its
    own salt. Users who already have a password keep it unless ``replace``; users
    that are not demo users are never touched. Flushes; never commits.
    """
    usernames = demo_usernames()
    changed = 0
    for user in session.scalars(select(User).where(User.username.in_(usernames))):
        if user.password_hash is None or replace:
            user.password_hash = hash_password(DEMO_PASSWORD)
            changed += 1
    session.flush()
    return changed


def _ensure_unit(session: Session, demo: DemoUnit) -> Unit:
    unit = session.scalar(select(Unit).where(Unit.code == demo.code))
    if unit is None:
        unit = Unit(code=demo.code, name=demo.name, kind=demo.kind, timezone=demo.timezone,
                    jenis=demo.jenis or demo.kind.capitalize())
        session.add(unit)
        session.flush()
    return unit


def _ensure_superiors(session: Session, unit: Unit, demo: DemoUnit) -> None:
    roles = {r.name: r for r in session.scalars(select(Role).where(Role.unit_id == unit.id))}
    for name, superior in demo.superiors:
        if roles[name].superior_role_id is None:
            roles[name].superior_role_id = roles[superior].id


def _ensure_role(session: Session, unit: Unit, demo: DemoRole) -> Role:
    role = session.scalar(select(Role).where(Role.unit_id == unit.id, Role.name == demo.name))
    if role is None:
        role = Role(unit_id=unit.id, name=demo.name)
        session.add(role)
        session.flush()
    for alias in demo.aliases:
        normalized = normalize_role_name(alias)
        exists = session.scalar(
            select(RoleAlias.id).where(RoleAlias.unit_id == unit.id, RoleAlias.alias == normalized)
        )
        if exists is None:
            session.add(RoleAlias(unit_id=unit.id, alias=normalized, role_id=role.id))
    return role


def _ensure_user(session: Session, unit: Unit, demo: DemoUser) -> User:
    user = session.scalar(select(User).where(User.username == demo.username))
    if user is None:
        user = User(
            username=demo.username, full_name=demo.full_name, nip=demo.nip, unit_id=unit.id
        )
        session.add(user)
        session.flush()
    return user
