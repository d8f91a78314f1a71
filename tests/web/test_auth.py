"""Log in and out, session cookie flags, CSRF refusal, open redirects, password changes."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import update

from engine.database import Database
from storage.models import User
from web.accounts import hash_password


def test_pages_need_a_login(client: FlaskClient) -> None:
    for url in ("/", "/mulai", "/proses/1", "/tugas/00000000-0000-0000-0000-000000000000"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/masuk?next="), url


def test_login_page_has_a_csrf_protected_form(client: FlaskClient) -> None:
    page = client.get("/masuk").get_data(as_text=True)
    assert 'name="csrf_token"' in page
    assert 'autocomplete="current-password"' in page
    assert "Masuk ke Alur" in page


def test_login_then_inbox_then_logout(client: FlaskClient, auth) -> None:
    response = auth.login("staf1.kecamatan")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "Yuliana Tabuni" in page and "Kecamatan Contoh" in page

    response = auth.logout()
    assert response.status_code == 302 and response.headers["Location"] == "/masuk"
    assert "Anda telah keluar" in client.get("/masuk").get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_session_cookie_is_secure_httponly_lax(client: FlaskClient, auth) -> None:
    response = auth.login("staf1.kecamatan")
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("alur_session="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Expires=" in cookie  # a permanent session: ALUR_SESSION_HOURS


@pytest.mark.parametrize(("username", "password"), [
    ("staf1.kecamatan", "salah"),
    ("tidak.ada", "alur-demo"),
    ("STAF1.KECAMATAN", "alur-demo"),
])
def test_wrong_login_is_refused_and_logged(client: FlaskClient, auth, caplog: pytest.LogCaptureFixture,
                                           username: str, password: str) -> None:
    with caplog.at_level(logging.WARNING, logger="alur.web.auth"):
        response = auth.login(username, password)
    assert response.status_code == 200
    assert "Nama pengguna atau kata sandi salah." in response.get_data(as_text=True)
    assert client.get("/").status_code == 302
    assert any("login failed" in r.getMessage() and username in r.getMessage() for r in caplog.records)


def test_user_without_password_cannot_log_in(client: FlaskClient, auth, database: Database) -> None:
    with database.transaction() as session:
        session.execute(update(User).where(User.username == "camat.contoh").values(password_hash=None))
    response = auth.login("camat.contoh")
    assert "Nama pengguna atau kata sandi salah." in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_post_without_csrf_token_is_refused(client: FlaskClient, auth, caplog: pytest.LogCaptureFixture) -> None:
    response = client.post("/masuk", data={"username": "staf1.kecamatan", "password": "alur-demo"})
    assert response.status_code == 400
    assert "Formulir kedaluwarsa" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # not logged in

    auth.login("staf1.kecamatan")
    with caplog.at_level(logging.WARNING, logger="alur.web.access"):
        assert client.post("/keluar").status_code == 400
        assert client.post("/keluar", data={"csrf_token": "forged"}).status_code == 400
    assert client.get("/").status_code == 200  # still logged in
    assert sum("CSRF" in r.getMessage() and "/keluar" in r.getMessage() for r in caplog.records) == 2


def test_logout_is_post_only(client: FlaskClient, auth) -> None:
    auth.login("staf1.kecamatan")
    assert client.get("/keluar").status_code == 405
    assert client.get("/").status_code == 200


@pytest.mark.parametrize(("target", "expected"), [
    ("/mulai", "/mulai"),
    ("https://evil.example/", "/"),
    ("//evil.example/", "/"),
    ("/\\evil.example", "/"),
])
def test_next_only_goes_to_this_site(client: FlaskClient, csrf: Callable[..., str], target: str,
                                     expected: str) -> None:
    token = csrf(client, "/masuk")
    response = client.post("/masuk", query_string={"next": target},
                           data={"username": "staf1.kecamatan", "password": "alur-demo", "csrf_token": token})
    assert response.headers["Location"] == expected


def test_password_change_ends_existing_sessions(client: FlaskClient, auth, database: Database) -> None:
    auth.login("staf1.kecamatan")
    assert client.get("/").status_code == 200
    with database.transaction() as session:
        session.execute(update(User).where(User.username == "staf1.kecamatan")
                        .values(password_hash=hash_password("kata-sandi-baru")))
    assert client.get("/").status_code == 302
    assert auth.login("staf1.kecamatan", "kata-sandi-baru").headers["Location"] == "/"


def test_security_headers(client: FlaskClient) -> None:
    response = client.get("/masuk")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_bootstrap_is_served_locally(client: FlaskClient) -> None:
    page = client.get("/masuk").get_data(as_text=True)
    assert "cdn.jsdelivr.net" not in page
    css = client.get("/bootstrap/static/css/bootstrap.min.css")
    assert css.status_code == 200 and b"Bootstrap" in css.data[:200]
