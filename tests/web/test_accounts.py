"""Accounts: Argon2id hashes, demo passwords, web settings."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from engine.database import Database
from storage.demo import DEMO_PASSWORD, demo_usernames, set_demo_passwords
from storage.models import User
from web.accounts import authenticate, hash_password, load_account
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
        assert load_account(session, account.get_id()) == account
        assert load_account(session, f"{account.id}:0000") is None
        assert load_account(session, "abc") is None and load_account(session, "99999:x") is None


def test_web_settings() -> None:
    default = load_web_settings({})
    assert (default.secret_key, default.session_cookie_secure, default.session_hours) == (None, True, 8)
    custom = load_web_settings({"ALUR_SECRET_KEY": "k", "ALUR_SESSION_COOKIE_SECURE": "0", "ALUR_SESSION_HOURS": "2"})
    assert (custom.secret_key, custom.session_cookie_secure, custom.session_hours) == ("k", False, 2)
    with pytest.raises(ValueError):
        load_web_settings({"ALUR_SESSION_HOURS": "0"})
