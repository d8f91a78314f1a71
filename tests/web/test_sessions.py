"""Sessions end on the server: logout, "keluar dari semua perangkat", "ganti kata sandi"."""

from __future__ import annotations

import logging

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from engine.database import Database
from storage.demo import DEMO_PASSWORD
from storage.models import LoginAttempt, LoginSession, User
from tests.web.conftest import AuthActions, csrf_token
from web import create_app

NEW_PASSWORD = "kopi tubruk di pagi hari"


def _device(app: Flask, username: str = "staf1.kecamatan", password: str = DEMO_PASSWORD) -> FlaskClient:
    client = app.test_client()
    assert AuthActions(client).login(username, password).status_code == 302
    return client


def _replay(app: Flask, cookie: str) -> FlaskClient:
    """A new client presenting a saved session cookie, as an attacker who copied it would."""
    thief = app.test_client()
    thief.set_cookie("alur_session", cookie)
    return thief


def test_a_cookie_saved_before_logout_no_longer_works(app: Flask) -> None:
    device = _device(app)
    saved = device.get_cookie("alur_session").value
    assert _replay(app, saved).get("/api/v1/inbox").status_code == 200
    assert AuthActions(device).logout().headers["Location"] == "/masuk"
    thief = _replay(app, saved)
    api = thief.get("/api/v1/inbox")
    assert api.status_code == 401 and api.get_json()["error"]["code"] == "unauthenticated"
    for url in ("/", "/mulai", "/akun/kata-sandi"):
        page = thief.get(url)
        assert page.status_code == 302 and page.headers["Location"].startswith("/masuk"), url


def test_logout_ends_only_this_device(app: Flask) -> None:
    laptop, phone = _device(app), _device(app)
    AuthActions(laptop).logout()
    assert laptop.get("/").status_code == 302
    assert phone.get("/").status_code == 200


def test_logout_everywhere_ends_every_device(app: Flask, csrf, database: Database) -> None:
    laptop, phone = _device(app), _device(app)
    other_user = _device(app, "camat.contoh")
    saved = laptop.get_cookie("alur_session").value
    response = laptop.post("/keluar/semua", data={"csrf_token": csrf(laptop, "/akun/kata-sandi")})
    assert response.status_code == 302 and response.headers["Location"] == "/masuk"
    assert "Anda telah keluar dari semua perangkat." in laptop.get("/masuk").get_data(as_text=True)
    assert phone.get("/api/v1/inbox").status_code == 401
    assert phone.get("/").status_code == 302 and laptop.get("/").status_code == 302
    assert _replay(app, saved).get("/api/v1/inbox").status_code == 401
    assert other_user.get("/").status_code == 200  # someone else's sessions are theirs
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(LoginSession)) == 1


def test_logout_everywhere_needs_a_post_with_a_token(app: Flask) -> None:
    laptop, phone = _device(app), _device(app)
    assert laptop.get("/keluar/semua").status_code == 405
    assert laptop.post("/keluar/semua").status_code == 400
    assert phone.get("/").status_code == 200 and laptop.get("/").status_code == 200


def _change(client: FlaskClient, current: str, new: str, repeat: str | None = None):
    token = csrf_token(client.get("/akun/kata-sandi").get_data(as_text=True))
    return client.post("/akun/kata-sandi", data={"current": current, "new": new,
                                                  "repeat": new if repeat is None else repeat, "csrf_token": token})


def test_password_change_ends_the_other_sessions(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    laptop, phone = _device(app), _device(app)
    saved = phone.get_cookie("alur_session").value
    page = laptop.get("/akun/kata-sandi").get_data(as_text=True)
    assert "Ganti kata sandi" in page and 'autocomplete="new-password"' in page and "logout-everywhere" in page
    with caplog.at_level(logging.INFO, logger="alur.web.auth"):
        response = _change(laptop, DEMO_PASSWORD, NEW_PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "Sesi Anda di perangkat lain telah diakhiri." in laptop.get("/").get_data(as_text=True)
    assert laptop.get("/api/v1/inbox").status_code == 200  # this device stays in
    assert phone.get("/api/v1/inbox").status_code == 401
    assert _replay(app, saved).get("/").status_code == 302
    assert any("password changed: user=staf1.kecamatan" in r.getMessage() and "1 other" in r.getMessage()
               for r in caplog.records)
    fresh = app.test_client()
    assert AuthActions(fresh).login("staf1.kecamatan", DEMO_PASSWORD).status_code == 200  # the old one is gone
    assert AuthActions(fresh).login("staf1.kecamatan", NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize(("current", "new", "repeat", "message"), [
    ("salah-sekali", NEW_PASSWORD, None, "Kata sandi sekarang salah."),
    ("", NEW_PASSWORD, None, "Isi kata sandi sekarang."),
    (DEMO_PASSWORD, "pendek123", None, "paling sedikit 10 karakter"),
    (DEMO_PASSWORD, "x" * 257, None, "paling banyak 256 karakter"),
    (DEMO_PASSWORD, "1234567890", None, "terlalu umum"),
    (DEMO_PASSWORD, "Bismillah2026!", None, "terlalu umum"),
    (DEMO_PASSWORD, "qwertyuiop", None, "terlalu umum"),
    (DEMO_PASSWORD, "ababababab", None, "4 karakter yang berbeda"),
    (DEMO_PASSWORD, "STAF1.KECAMATAN", None, "nama pengguna atau NIP"),
    (DEMO_PASSWORD, "nip198905142015032001", None, "nama pengguna atau NIP"),
    (DEMO_PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "!", "Kedua kata sandi baru tidak sama."),
    (DEMO_PASSWORD, "", None, "Isi kata sandi baru."),
])
def test_password_policy(app: Flask, database: Database, current: str, new: str, repeat: str | None,
                         message: str) -> None:
    laptop, phone = _device(app), _device(app)
    with database.transaction() as session:
        user = session.scalars(select(User).where(User.username == "staf1.kecamatan")).one()
        before, nip = user.password_hash, user.nip
    new = new.replace("198905142015032001", nip or "")
    response = _change(laptop, current, new, repeat)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with database.transaction() as session:
        assert session.scalar(select(User.password_hash).where(User.username == "staf1.kecamatan")) == before
    assert phone.get("/").status_code == 200 and laptop.get("/").status_code == 200  # nothing ended


def test_same_password_again_is_refused(app: Flask) -> None:
    laptop = _device(app, "staf1.kecamatan")
    assert _change(laptop, DEMO_PASSWORD, NEW_PASSWORD).status_code == 302
    again = _change(laptop, NEW_PASSWORD, NEW_PASSWORD)
    assert again.status_code == 422 and "harus berbeda" in again.get_data(as_text=True)


def test_wrong_current_passwords_are_throttled_like_logins(app: Flask, database: Database) -> None:
    laptop = _device(app)
    statuses = [_change(laptop, f"tebakan-{n}", NEW_PASSWORD).status_code for n in range(6)]
    assert statuses == [422] * 5 + [429]
    refused = _change(laptop, DEMO_PASSWORD, NEW_PASSWORD)
    assert refused.status_code == 429 and refused.headers["Retry-After"]
    assert "Coba lagi dalam" in refused.get_data(as_text=True)
    with database.transaction() as session:
        failures = session.scalar(select(func.count()).select_from(LoginAttempt).where(
            LoginAttempt.username == "staf1.kecamatan", LoginAttempt.outcome == "failure"))
        assert failures == 5


def test_the_password_page_needs_a_login(client: FlaskClient) -> None:
    assert client.get("/akun/kata-sandi").headers["Location"].startswith("/masuk")


def test_logout_ends_the_session_on_every_backend(shared_url: str) -> None:
    app = create_app({"TESTING": True, "SECRET_KEY": "k", "ALUR_DATABASE_URL": shared_url})
    try:
        laptop, phone = _device(app, "camat.contoh"), _device(app, "camat.contoh")
        saved = laptop.get_cookie("alur_session").value
        AuthActions(laptop).logout()
        assert _replay(app, saved).get("/api/v1/inbox").status_code == 401
        assert phone.get("/api/v1/inbox").status_code == 200
        phone.post("/keluar/semua", data={"csrf_token": phone.get("/api/v1/csrf-token").get_json()["csrf_token"]})
        assert phone.get("/api/v1/inbox").status_code == 401
    finally:
        app.extensions["alur.database"].dispose()
