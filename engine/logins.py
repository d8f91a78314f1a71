"""Logins: throttling, the record of every attempt, and sessions that end on the server.

**Throttling** (issue 6, item 9). NIST SP 800-63B §5.2.2 ("Rate Limiting
(Throttling)") asks a verifier to limit failed attempts on an account, for
example by "requiring the claimant to wait following a failed attempt for a
period of time that increases as the account approaches its maximum allowance
… (e.g., 30 seconds up to an hour)"; the OWASP Authentication Cheat Sheet
("Account Lockout") describes the same threshold / observation window /
lockout duration, and warns that a lockout without end lets anyone lock a real
user out. Alur's rules (:data:`ACCOUNT_RULE`, :data:`ADDRESS_RULE`):

- per account (the username as typed): the failures since its last successful
  login, within the last 24 hours; from the 5th on, the account waits
  1 minute after its latest failure, doubling with each further failure
  (2, 4, 8, 16, 32 minutes) up to 60 minutes at most;
- per client address: the failures from that address within the last hour,
  whatever the username; from the 20th on, the same growing wait.

During a wait every attempt is refused without checking the password — the
right password too, or the throttle would only slow down wrong guesses — and is
recorded as ``throttled``. Those refusals are not failures: they do not
lengthen the wait. So the wait is bounded: at most 60 minutes after the latest
real guess, and over by itself once guessing stops. The counts are rows of the
database, so every gunicorn worker sees the same throttle; two requests racing
at the limit may each get a guess (at most one extra guess per worker).

**Sessions** (item 10). Each login stores a row (``storage.logins``) holding
the SHA-256 of a random token that only the session cookie carries; a request
is logged in only while that row exists, has not expired and was made with the
user's current password hash. Logout deletes the row, "keluar dari semua
perangkat" every row of the user, a password change every other row.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from storage import logins as store
from storage import org
from storage.errors import UnitNotFound, UserNotFound
from storage.models import LOGIN_OUTCOMES, User

__all__ = [
    "ACCOUNT_RULE", "ADDRESS_RULE", "LOGIN_OUTCOMES", "AttemptPage", "LoginRecord", "ThrottleRule", "attempts",
    "change_password", "clean_text", "end_session", "end_user_sessions", "password_fingerprint", "record_attempt",
    "session_user", "start_session", "throttle_wait",
]


@dataclass(frozen=True, kw_only=True)
class ThrottleRule:
    """After ``threshold`` failures within ``window``, wait ``first_wait``, doubling per failure, up to ``max_wait``."""

    threshold: int
    window: timedelta
    first_wait: timedelta
    max_wait: timedelta

    def wait_after(self, failures: int) -> timedelta:
        """The wait after the latest of ``failures`` failures (zero below the threshold)."""
        if failures < self.threshold:
            return timedelta(0)
        doublings = min(failures - self.threshold, 30)  # 2**30 minutes is far past any cap
        return min(self.first_wait * 2**doublings, self.max_wait)


ACCOUNT_RULE = ThrottleRule(threshold=5, window=timedelta(hours=24), first_wait=timedelta(minutes=1),
                            max_wait=timedelta(minutes=60))
ADDRESS_RULE = ThrottleRule(threshold=20, window=timedelta(hours=1), first_wait=timedelta(minutes=1),
                            max_wait=timedelta(minutes=60))


def throttle_wait(session: Session, *, username: str, address: str, now: datetime) -> timedelta | None:
    """How long a login as ``username`` from ``address`` must still wait at ``now``; None: it may try now.

    The longer of the account's and the address's waits (see the module
    docstring); ``now`` is aware UTC. Names and addresses are cleaned as
    :func:`record_attempt` stores them.
    """
    username, address = clean_text(username.strip(), 64), clean_text(address, 64)
    since = now - ACCOUNT_RULE.window
    last_success = store.last_success_at(session, username)
    if last_success is not None and last_success > since:
        since = last_success
    waits = [timedelta(0)]
    for rule, count_newest in (
        (ACCOUNT_RULE, store.failures(session, since=since, username=username)),
        (ADDRESS_RULE, store.failures(session, since=now - ADDRESS_RULE.window, address=address)),
    ):
        count, newest = count_newest
        if newest is not None:
            waits.append(newest + rule.wait_after(count) - now)
    wait = max(waits)
    return wait if wait > timedelta(0) else None


def clean_text(text: str, limit: int) -> str:
    """``text`` fit for the record: at most ``limit`` characters, with control and format characters
    (NUL, escape sequences, right-to-left overrides) and lone surrogates as U+FFFD."""
    return "".join("\ufffd" if unicodedata.category(c) in ("Cc", "Cf", "Cs") else c for c in text[:limit])


def record_attempt(session: Session, *, username: str, address: str, user_agent: str, outcome: str,
                   now: datetime) -> None:
    """Record a login attempt (``outcome``: success | failure | throttled) at ``now``.

    ``username`` is the name typed; the account it names, if any, is looked up.
    Texts are cleaned and cut to their columns (:func:`clean_text`).
    """
    name = clean_text(username.strip(), 64)
    user_id = None
    if name == username.strip():
        try:
            user_id = org.get_user_by_username(session, name).id
        except UserNotFound:
            pass
    store.add_attempt(session, attempted_at=now, username=name, user_id=user_id,
                      address=clean_text(address, 64), user_agent=clean_text(user_agent, 255), outcome=outcome)


@dataclass(frozen=True)
class LoginRecord:
    """One attempt as the administrator's page shows it; ``full_name`` and ``unit_code`` None for unknown names."""

    attempted_at: datetime
    username: str
    full_name: str | None
    unit_code: str | None
    address: str
    user_agent: str
    outcome: str


@dataclass(frozen=True)
class AttemptPage:
    """``records`` of page ``page`` (1-based, ``per_page`` each) out of ``total`` matching attempts."""

    records: list[LoginRecord]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """How many pages there are (at least 1)."""
        return max(1, -(-self.total // self.per_page))


def attempts(session: Session, *, scope: Iterable[str] | None, username: str | None = None,
             outcome: str | None = None, page: int = 1, per_page: int = 50) -> AttemptPage:
    """Login attempts newest first, for an administrator whose grant covers ``scope``.

    ``scope`` is the unit codes covered (None: every unit, which also shows names
    that match no account); unknown codes are skipped. ``username`` (exact) and
    ``outcome`` filter; ``page`` counts from 1.
    """
    unit_ids: list[int] | None = None
    if scope is not None:
        unit_ids = []
        for code in scope:
            try:
                unit_ids.append(org.get_unit_by_code(session, code).id)
            except UnitNotFound:
                continue
    rows, total = store.list_attempts(session, username=username, outcome=outcome, unit_ids=unit_ids,
                                      offset=(max(page, 1) - 1) * per_page, limit=per_page)
    users: dict[int, tuple[str | None, str | None]] = {}
    for user_id in {r.user_id for r in rows if r.user_id is not None}:
        user = org.get_user(session, user_id)
        users[user_id] = (user.full_name, org.get_unit(session, user.unit_id).code)
    records = []
    for r in rows:
        full_name, unit_code = users.get(r.user_id, (None, None)) if r.user_id is not None else (None, None)
        records.append(LoginRecord(r.attempted_at, r.username, full_name, unit_code, r.address, r.user_agent,
                                   r.outcome))
    return AttemptPage(records, total, max(page, 1), per_page)


# --- sessions ------------------------------------------------------------------------------------

def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def password_fingerprint(password_hash: str | None) -> str:
    """A short digest of a password hash, which changes whenever the password does (hex, 64 chars)."""
    return hashlib.sha256((password_hash or "").encode()).hexdigest()


def start_session(session: Session, *, user_id: int, address: str, user_agent: str, now: datetime,
                  lifetime: timedelta) -> str:
    """Open a login session for ``user_id`` lasting ``lifetime``; returns the token for the cookie.

    The token is 256 random bits (URL-safe base64); only its SHA-256 is stored.
    Expired sessions of every user are removed on the way. Raises ``UserNotFound``.
    """
    user = org.get_user(session, user_id)
    store.delete_expired_sessions(session, now)
    token = secrets.token_urlsafe(32)
    store.add_session(session, token_hash=_token_hash(token), user_id=user.id,
                      password_fingerprint=password_fingerprint(user.password_hash), created_at=now,
                      expires_at=now + lifetime, address=clean_text(address, 64),
                      user_agent=clean_text(user_agent, 255))
    return token


def session_user(session: Session, token: str, now: datetime) -> User | None:
    """The user of the live session ``token`` at ``now``; None if it ended, expired or the password changed."""
    row = store.find_session(session, _token_hash(token))
    if row is None or row.expires_at <= now:
        return None
    user = org.get_user(session, row.user_id)
    if not user.password_hash or password_fingerprint(user.password_hash) != row.password_fingerprint:
        return None
    return user


def end_session(session: Session, token: str) -> bool:
    """End the session ``token`` (logout on this device); False if it had already ended."""
    return store.delete_session(session, _token_hash(token)) > 0


def end_user_sessions(session: Session, user_id: int, *, keep_token: str | None = None) -> int:
    """End every session of ``user_id`` except ``keep_token``'s; returns how many ended."""
    keep = _token_hash(keep_token) if keep_token is not None else None
    return store.delete_user_sessions(session, user_id, keep=keep)


def change_password(session: Session, user_id: int, password_hash: str, *, keep_token: str | None) -> int:
    """Store ``password_hash`` for ``user_id`` and end its other sessions; returns how many ended.

    The session ``keep_token`` (the one changing the password) stays logged in.
    Raises ``UserNotFound``.
    """
    user = org.get_user(session, user_id)
    user.password_hash = password_hash
    ended = end_user_sessions(session, user_id, keep_token=keep_token)
    if keep_token is not None:
        row = store.find_session(session, _token_hash(keep_token))
        if row is not None:
            row.password_fingerprint = password_fingerprint(password_hash)
    session.flush()
    return ended
