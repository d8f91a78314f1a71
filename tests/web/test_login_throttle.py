"""Login throttling through the real form: 429 with the wait, per account, per address, across workers.

Time is frozen with the app's ``ALUR_CLOCK``; nothing sleeps.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from engine import logins
from engine.database import Database
from storage.demo import DEMO_PASSWORD
from storage.models import LoginAttempt, User
from web import create_app

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
WAIT_1 = "Terlalu banyak percobaan masuk. Coba lagi dalam 1 menit."


class Clock:
    """A settable clock for ``ALUR_CLOCK``."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(app: Flask) -> Clock:
    app.config["ALUR_CLOCK"] = clock = Clock()
    return clock


def _login(client: FlaskClient, username: str, password: str, address: str = "127.0.0.1",
           **headers: str) -> TestResponse:
    environ = {"REMOTE_ADDR": address}
    token = _CSRF.search(client.get("/masuk", environ_base=environ).get_data(as_text=True))
    assert token, "no login form"
    return client.post("/masuk", data={"username": username, "password": password, "csrf_token": token.group(1)},
                       environ_base=environ, headers=headers)


def test_fifty_wrong_passwords_then_the_right_one_waits(app: Flask, client: FlaskClient, clock: Clock) -> None:
    statuses = [_login(client, "camat.contoh", f"salah-{n}").status_code for n in range(50)]
    assert statuses[:4] == [200] * 4 and statuses[4:] == [429] * 46  # the 5th failure starts the wait
    right = _login(client, "camat.contoh", DEMO_PASSWORD)
    assert right.status_code == 429
    assert right.headers["Retry-After"] == "60"
    assert WAIT_1 in right.get_data(as_text=True)
    assert client.get("/").status_code == 302  # not logged in

    clock.advance(seconds=30)
    half = _login(client, "camat.contoh", DEMO_PASSWORD)
    assert half.status_code == 429 and half.headers["Retry-After"] == "30" and WAIT_1 in half.get_data(as_text=True)

    clock.advance(seconds=30)
    after = _login(client, "camat.contoh", DEMO_PASSWORD)
    assert after.status_code == 302 and after.headers["Location"] == "/"
    assert client.get("/").status_code == 200


def test_the_fifth_failure_says_both_what_went_wrong_and_how_long_to_wait(client: FlaskClient, clock: Clock) -> None:
    for _ in range(4):
        assert "Nama pengguna atau kata sandi salah." in _login(client, "camat.contoh", "salah").get_data(as_text=True)
    fifth = _login(client, "camat.contoh", "salah")
    page = fifth.get_data(as_text=True)
    assert fifth.status_code == 429 and "Nama pengguna atau kata sandi salah." in page and WAIT_1 in page
    for _ in range(10):  # refusals during the wait do not lengthen it
        _login(client, "camat.contoh", "salah")
    clock.advance(minutes=1)
    assert _login(client, "camat.contoh", "salah").status_code == 429  # 6th real failure: 2 minutes now
    waiting = _login(client, "camat.contoh", DEMO_PASSWORD)
    assert waiting.headers["Retry-After"] == "120"
    assert "Coba lagi dalam 2 menit." in waiting.get_data(as_text=True)


def test_the_wait_message_in_english(client: FlaskClient, clock: Clock, csrf) -> None:
    client.post("/bahasa", data={"lang": "en", "csrf_token": csrf(client, "/masuk")})
    for _ in range(5):
        _login(client, "camat.contoh", "salah")
    page = _login(client, "camat.contoh", DEMO_PASSWORD).get_data(as_text=True)
    assert "Too many login attempts. Try again in 1 minute." in page


def _seed_failures(database: Database, clock: Clock, address: str, count: int) -> None:
    """``count`` failed attempts on as many names from ``address``, stored directly (no slow hashes)."""
    with database.transaction() as session:
        for n in range(count):
            logins.record_attempt(session, username=f"tebakan{n}", address=address, user_agent="x",
                                  outcome="failure", now=clock.now)


def test_one_address_is_limited_across_usernames(app: Flask, clock: Clock, database: Database) -> None:
    attacker, colleague = app.test_client(), app.test_client()
    _seed_failures(database, clock, "203.0.113.7", 18)
    for name in ("tebakan-a", "tebakan-b"):  # the 19th and 20th, through the form
        assert _login(attacker, name, "salah", address="203.0.113.7").status_code in (200, 429)
    refused = _login(attacker, "camat.contoh", DEMO_PASSWORD, address="203.0.113.7")
    assert refused.status_code == 429 and WAIT_1 in refused.get_data(as_text=True)
    assert _login(colleague, "camat.contoh", DEMO_PASSWORD, address="203.0.113.8").status_code == 302
    clock.advance(minutes=1)
    assert _login(attacker, "sekretaris.kecamatan", DEMO_PASSWORD, address="203.0.113.7").status_code == 302


def test_every_attempt_is_recorded(client: FlaskClient, clock: Clock, database: Database) -> None:
    _login(client, "camat.contoh", "salah", address="10.0.0.5", **{"User-Agent": "Firefox/140"})
    _login(client, "tidak.ada", "salah", address="10.0.0.5")
    _login(client, " camat.contoh ", DEMO_PASSWORD, address="10.0.0.6", **{"User-Agent": "Chromium/140"})
    with database.transaction() as session:
        camat = session.scalar(select(User.id).where(User.username == "camat.contoh"))
        rows = [(r.attempted_at, r.username, r.user_id, r.address, r.user_agent, r.outcome)
                for r in session.scalars(select(LoginAttempt).order_by(LoginAttempt.id))]
    assert [(r[1], r[2], r[3], r[5]) for r in rows] == [
        ("camat.contoh", camat, "10.0.0.5", "failure"), ("tidak.ada", None, "10.0.0.5", "failure"),
        ("camat.contoh", camat, "10.0.0.6", "success")]
    assert rows[0][0] == clock.now and rows[0][4] == "Firefox/140" and rows[2][4] == "Chromium/140"


def test_hostile_usernames_are_refused_and_recorded_cleanly(client: FlaskClient, clock: Clock,
                                                            database: Database) -> None:
    response = _login(client, "camat.contoh\x00", DEMO_PASSWORD, **{"User-Agent": "x\x00y"})
    assert response.status_code == 200 and "Nama pengguna atau kata sandi salah." in response.get_data(as_text=True)
    with database.transaction() as session:
        row = session.scalars(select(LoginAttempt)).one()
        assert (row.username, row.user_id, row.outcome) == ("camat.contoh\ufffd", None, "failure")


@pytest.mark.parametrize(("proxies", "recorded"), [(0, "127.0.0.1"), (1, "198.51.100.4")])
def test_client_address_behind_a_trusted_proxy(db_path, proxies: int, recorded: str) -> None:
    app = create_app({"TESTING": True, "SECRET_KEY": "k", "ALUR_DATABASE_URL": f"sqlite:///{db_path}",
                      "ALUR_PROXY_COUNT": proxies})
    try:
        client = app.test_client()
        token = _CSRF.search(client.get("/masuk").get_data(as_text=True)).group(1)
        client.post("/masuk", data={"username": "camat.contoh", "password": "salah", "csrf_token": token},
                    headers={"X-Forwarded-For": "10.9.9.9, 198.51.100.4"})
        with app.extensions["alur.database"].transaction() as session:
            assert session.scalars(select(LoginAttempt.address)).all() == [recorded]
    finally:
        app.extensions["alur.database"].dispose()


def test_two_workers_share_one_throttle(shared_url: str) -> None:
    clock = Clock()
    workers = [create_app({"TESTING": True, "SECRET_KEY": "shared", "ALUR_DATABASE_URL": shared_url,
                           "ALUR_CLOCK": clock}) for _ in range(2)]
    try:
        first, second = (w.test_client() for w in workers)
        for n in range(5):  # alternate between the workers, as a load balancer would
            _login(first if n % 2 else second, "camat.contoh", "salah", address="10.0.0.1")
        for client in (first, second):
            refused = _login(client, "camat.contoh", DEMO_PASSWORD, address="10.0.0.2")
            assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"
        _seed_failures(workers[0].extensions["alur.database"], clock, "10.0.0.3", 18)
        _login(first, "tebakan-a", "salah", address="10.0.0.3")
        _login(second, "tebakan-b", "salah", address="10.0.0.3")
        assert _login(second, "kadin.kominfo", DEMO_PASSWORD, address="10.0.0.3").status_code == 429
        assert _login(first, "kadin.kominfo", DEMO_PASSWORD, address="10.0.0.4").status_code == 302
        clock.advance(minutes=1)
        assert _login(second, "camat.contoh", DEMO_PASSWORD, address="10.0.0.2").status_code == 302
    finally:
        for worker in workers:
            worker.extensions["alur.database"].dispose()


def test_hostile_names_on_every_backend(shared_url: str) -> None:
    app = create_app({"TESTING": True, "SECRET_KEY": "k", "ALUR_DATABASE_URL": shared_url, "ALUR_CLOCK": Clock()})
    try:
        client = app.test_client()
        for name in ("camat.contoh\x00", "\x00" * 64, "camat\x1b[31m.contoh", "\u202ecamat.contoh"):
            response = _login(client, name, DEMO_PASSWORD, **{"User-Agent": "bot\x00"})
            assert response.status_code == 200, repr(name)
            assert "Nama pengguna atau kata sandi salah." in response.get_data(as_text=True)
        for _ in range(3):  # the cleaned name is throttled like any other: the 5th failure waits
            _login(client, "camat.contoh\x00", "salah")
        assert _login(client, "camat.contoh\x00", "salah").status_code == 429
        assert _login(client, "camat.contoh", DEMO_PASSWORD, address="10.0.0.9").status_code == 302
    finally:
        app.extensions["alur.database"].dispose()
