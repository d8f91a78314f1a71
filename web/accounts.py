"""Accounts: who is logged in, password hashes, and the people of a unit.

Passwords are hashed with Argon2id (``argon2-cffi``, RFC 9106 parameters). A
login is a server-side session (``engine.logins``): the cookie carries the
user id and a random token (:attr:`Account.session_token`); the session ends
when its row is deleted (logout, "keluar dari semua perangkat", a password
change) or when the password hash it was made with changes in any way.

The engine does not offer user and unit reads yet, so this module (with
``web/access.py``) is where the web reads ``storage.org`` directly, read-only
apart from the demo passwords; it belongs in ``engine/`` once the engine grows
an accounts API.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_login import UserMixin
from sqlalchemy.orm import Session

from engine import logins
from engine.access import Grants
from engine.database import Database
from engine.templates import TemplateDeployment
from storage import demo, grants, org
from storage.errors import UserNotFound
from storage.models import User

__all__ = [
    "Account", "Member", "authenticate", "check_password", "ensure_demo_passwords", "hash_password", "initialize",
    "load_account", "log_in", "people", "unit_members", "unit_names", "unit_timezones",
]

_hasher = PasswordHasher()


@dataclass(frozen=True, eq=False)
class Account(UserMixin):
    """The logged-in user as the web app sees it.

    ``unit_codes`` are the units where the user holds a role, home unit first, and
    ``unit_kinds[i]`` is the kind (bagian | dinas | kecamatan) of ``unit_codes[i]``;
    ``timezone`` is the home unit's IANA zone; ``grants`` are the user's access
    grants (administrator, analis_proses, auditor; ``engine.access``);
    ``session_token`` is the token of this login's server-side session ("" until
    :func:`log_in` opens one).
    """

    id: int
    username: str
    full_name: str
    nip: str | None
    unit_code: str
    unit_name: str
    timezone: str
    unit_codes: tuple[str, ...]
    unit_kinds: tuple[str, ...]
    session_token: str
    grants: Grants = Grants()

    def get_id(self) -> str:
        """Flask-Login's id: user id and session token, ``"12:Xy3..."``."""
        return f"{self.id}:{self.session_token}"


@dataclass(frozen=True)
class Member:
    """A person of a unit, for pickers and history: login name and full name."""

    username: str
    full_name: str


def hash_password(plain: str) -> str:
    """An Argon2id hash of ``plain`` with a fresh salt (PHC string, ~100 chars)."""
    return _hasher.hash(plain)


@cache
def _dummy_hash() -> str:
    return _hasher.hash("alur: no such user")


def _account(session: Session, user: User, token: str = "") -> Account:
    home = org.get_unit(session, user.unit_id)
    units = {home.code: home.kind}
    for role in org.roles_of(session, user.id):
        unit = org.get_unit(session, role.unit_id)
        units.setdefault(unit.code, unit.kind)
    return Account(
        id=user.id, username=user.username, full_name=user.full_name, nip=user.nip,
        unit_code=home.code, unit_name=home.name, timezone=home.timezone, unit_codes=tuple(units),
        unit_kinds=tuple(units.values()),
        session_token=token,
        grants=Grants(tuple(grants.grants_of(session, user.id))),
    )


def _verify(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def authenticate(session: Session, username: str, password: str) -> Account | None:
    """The account of ``username`` if ``password`` is its password, else None.

    Unknown users, users without a password and names with control characters
    cost one hash verification too, so response time does not tell which
    usernames exist. An inactive user (``User.active``, issue 9) cannot log in.
    The account has no session yet (:func:`log_in`).
    """
    name = username.strip()
    user: User | None = None
    if name == logins.clean_text(name, 64):
        try:
            user = org.get_user_by_username(session, name)
        except UserNotFound:
            user = None
    if not _verify(user.password_hash if user is not None else None, password) or user is None:
        return None
    return _account(session, user) if user.active else None


def check_password(session: Session, user_id: int, password: str) -> bool:
    """Whether ``password`` is the current password of ``user_id``. Raises ``UserNotFound``."""
    return _verify(org.get_user(session, user_id).password_hash, password)


def log_in(session: Session, account: Account, *, address: str, user_agent: str, now: datetime,
           lifetime: timedelta) -> Account:
    """Open a server-side session for ``account`` (``engine.logins.start_session``); the account with its token."""
    token = logins.start_session(session, user_id=account.id, address=address, user_agent=user_agent, now=now,
                                 lifetime=lifetime)
    return replace(account, session_token=token)


def load_account(session: Session, login_id: str, now: datetime) -> Account | None:
    """The account for a Flask-Login id from :meth:`Account.get_id` at ``now``; None if ended or unknown."""
    user_id, _, token = login_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = logins.session_user(session, token, now)
    if user is None or user.id != int(user_id) or not user.active:
        return None
    return _account(session, user, token)


def unit_members(session: Session, unit_code: str) -> list[Member]:
    """Everyone holding a role in unit ``unit_code``, by username. Raises ``UnitNotFound``."""
    unit = org.get_unit_by_code(session, unit_code)
    return [Member(u.username, u.full_name) for u in org.unit_users(session, unit.id)]


def people(session: Session, usernames: set[str]) -> dict[str, str]:
    """Full names of ``usernames`` (``{username: full_name}``); unknown names are left out."""
    names = {}
    for username in sorted(usernames):
        try:
            names[username] = org.get_user_by_username(session, username).full_name
        except UserNotFound:
            continue
    return names


def unit_names(session: Session) -> dict[str, str]:
    """``{unit code: unit name}`` of every unit."""
    return {u.code: u.name for u in org.list_units(session)}


def unit_timezones(session: Session) -> dict[str, str]:
    """``{unit code: IANA time zone}`` of every unit."""
    return {u.code: u.timezone for u in org.list_units(session)}


def ensure_demo_passwords(session: Session) -> int:
    """Give demo users without a password the demo password; return how many were set."""
    return demo.set_demo_passwords(session, hash_password)


def initialize(database: Database, bpmn_dir: Path, *, demo: bool = True, force: bool = False) -> TemplateDeployment:
    """``Database.initialize`` plus the demo password for demo users without one (argon2: ~0.1 s each)."""
    deployed = database.initialize(bpmn_dir, demo=demo, force=force)
    if demo:
        with database.transaction() as session:
            ensure_demo_passwords(session)
    return deployed
