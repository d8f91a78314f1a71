"""Accounts: Argon2id hashes, demo passwords, web settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from engine.database import Database
from storage.demo import DEMO_PASSWORD, demo_usernames, set_demo_passwords
from storage.models import User
from web.accounts import authenticate, hash_password, load_account, log_in
from web.settings import load_web_settings


def test_hashes_are_salted_argon2id() -> None:
    first, second = hash_password("rahasia"), hash_password("rahasia")
    assert first.startswith("$argon2id$") and first != second
    assert PasswordHasher().verify(first, "rahasia")


def test_demo_users_get_the_demo_password_once(database: Database) -> None:
    demo_names = set(demo_usernames())
    with database.transaction() as session:
        users = session.scalars(select(User)).all()
        assert {u.username for u in users} == demo_names
        assert len({u.password_hash for u in users}) == len(users)  # one salt each
        assert set_demo_passwords(session, hash_password) == 0  # all set already: unchanged
        assert set_demo_passwords(session, lambda plain: f"x-{plain}", replace=True) == len(users)
        assert {u.password_hash for u in session.scalars(select(User))} == {f"x-{DEMO_PASSWORD}"}


def test_authenticate(database: Database) -> None:
    with database.transaction() as session:
        account = authenticate(session, " camat.contoh ", DEMO_PASSWORD)
        assert account is not None
        assert (account.username, account.unit_code, account.timezone) == (
            "camat.contoh", "kecamatan-contoh", "Asia/Jayapura")
        assert account.unit_codes == ("kecamatan-contoh",) and account.unit_kinds == ("kecamatan",)
        assert authenticate(session, "camat.contoh", "alur-demo ") is None
        assert authenticate(session, "camat.contoh\x00", DEMO_PASSWORD) is None
        assert account.session_token == ""  # no session until log_in
        now = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
        logged_in = log_in(session, account, address="10.0.0.1", user_agent="pytest", now=now,
                           lifetime=timedelta(hours=8))
        assert len(logged_in.session_token) >= 40 and logged_in.get_id().startswith(f"{account.id}:")
        assert load_account(session, logged_in.get_id(), now) == logged_in
        assert load_account(session, logged_in.get_id(), now + timedelta(hours=8)) is None  # expired on the server
        assert load_account(session, account.get_id(), now) is None  # no token
        assert load_account(session, f"{account.id}:0000", now) is None
        other = authenticate(session, "staf1.kecamatan", DEMO_PASSWORD)
        assert other is not None
        assert load_account(session, f"{other.id}:{logged_in.session_token}", now) is None  # not their session
        assert load_account(session, "abc", now) is None and load_account(session, "99999:x", now) is None


def test_web_settings() -> None:
    default = load_web_settings({})
    assert (default.secret_key, default.session_cookie_secure, default.session_hours) == (None, True, 8)
    custom = load_web_settings({"ALUR_SECRET_KEY": "k", "ALUR_SESSION_COOKIE_SECURE": "0", "ALUR_SESSION_HOURS": "2"})
    assert (custom.secret_key, custom.session_cookie_secure, custom.session_hours) == ("k", False, 2)
    assert default.proxy_count == 0 and load_web_settings({"ALUR_PROXY_COUNT": "1"}).proxy_count == 1
    for bad in ({"ALUR_SESSION_HOURS": "0"}, {"ALUR_PROXY_COUNT": "-1"}, {"ALUR_PROXY_COUNT": "11"},
                {"ALUR_PROXY_COUNT": "satu"}):
        with pytest.raises(ValueError):
            load_web_settings(bad)
