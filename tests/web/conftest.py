"""Web fixtures, in the style of Flask's tutorial: ``app``, ``client``, ``auth``.

Deploying ``bpmn/`` and hashing the demo passwords takes a few seconds, so it is
done once per test session into a template SQLite file that each test copies.
CSRF protection stays on: forms are posted with the token their page carries.

- ``web_template_db``  migrated, bpmn/ deployed, demo org with the demo password
- ``database``         a fresh copy for one test (an ``engine.database.Database``)
- ``app``              ``create_app`` on that copy
- ``client``           the app's test client
- ``auth``             ``auth.login(username)``, ``auth.logout()``
- ``start``            ``start(process_id, unit_code, title=..., now=...)``: an instance
                       started through the engine by the SOP's first starter
- ``form_post``        ``form_post(client, url, data)``: GET the page, POST its form with the token
- ``csrf``             ``csrf(client, url)``: the CSRF token on a page

On both backends (PostgreSQL too when ``ALUR_TEST_POSTGRES_URL`` is set; one
schema set up as ``alur init`` does, shared by the session's tests, so they
must not count rows they did not make):

- ``any_db_url``       this test's SQLite copy, or the shared PostgreSQL schema
- ``any_database``     the engine's view of it
- ``any_app``          ``create_app`` on it
- ``shared_url``       a fresh database on every backend (SQLite, and PostgreSQL when
                       ``ALUR_TEST_POSTGRES_URL`` is set): migrated, demo org, and the demo
                       password for ``camat.contoh`` and ``kadin.kominfo`` only (no diagrams)
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, make_url, select
from werkzeug.test import TestResponse

from engine import instances
from engine.database import Database, open_database
from engine.settings import Settings
from engine.views import InstanceView
from storage.db import make_engine, make_session_factory
from storage.demo import DEMO_PASSWORD, load_demo_org
from storage.migrate import upgrade
from storage.models import User
from web import create_app
from web.accounts import hash_password, initialize

BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _open(path: Path) -> Database:
    return open_database(Settings(database_url=f"sqlite:///{path}", bpmn_dir=BPMN_DIR))


@pytest.fixture(scope="session")
def web_template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file: bpmn/ deployed, demo org loaded, demo passwords set."""
    path = tmp_path_factory.mktemp("web-template") / "alur.sqlite3"
    database = _open(path)
    initialize(database, BPMN_DIR)
    database.dispose()
    return path


@pytest.fixture
def db_path(web_template_db: Path, tmp_path: Path) -> Path:
    """This test's copy of the template database."""
    path = tmp_path / "alur.sqlite3"
    shutil.copy(web_template_db, path)
    return path


@pytest.fixture
def database(db_path: Path) -> Iterator[Database]:
    """The engine's view of this test's database, for setting up and checking state."""
    database = _open(db_path)
    yield database
    database.dispose()


def _test_app(database_url: str) -> Flask:
    return create_app({"TESTING": True, "SECRET_KEY": "test-secret", "SESSION_COOKIE_SECURE": True,
                       "ALUR_DATABASE_URL": database_url})


@pytest.fixture
def app(db_path: Path) -> Iterator[Flask]:
    """The app on this test's database, CSRF protection on."""
    app = _test_app(f"sqlite:///{db_path}")
    yield app
    app.extensions["alur.database"].dispose()


@pytest.fixture(scope="session")
def postgres_web_url() -> Iterator[str]:
    """A new PostgreSQL schema set up as ``alur init`` does (demo passwords too); dropped afterwards."""
    base_url = os.environ.get("ALUR_TEST_POSTGRES_URL")
    if not base_url:
        pytest.skip("ALUR_TEST_POSTGRES_URL not set")
    schema = f"alur_web_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    url_text = url.render_as_string(hide_password=False)
    try:
        database = open_database(Settings(database_url=url_text, bpmn_dir=BPMN_DIR))
        initialize(database, BPMN_DIR)
        database.dispose()
        yield url_text
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_url(request: pytest.FixtureRequest, db_path: Path) -> str:
    """This test's SQLite copy, or the session's PostgreSQL schema (skipped without the setting)."""
    if request.param == "sqlite":
        return f"sqlite:///{db_path}"
    url: str = request.getfixturevalue("postgres_web_url")
    return url


@pytest.fixture
def any_database(any_db_url: str) -> Iterator[Database]:
    """The engine's view of ``any_db_url``."""
    database = open_database(Settings(database_url=any_db_url, bpmn_dir=BPMN_DIR))
    yield database
    database.dispose()


@pytest.fixture
def any_app(any_db_url: str) -> Iterator[Flask]:
    """The app on ``any_db_url``, CSRF protection on."""
    app = _test_app(any_db_url)
    yield app
    app.extensions["alur.database"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client (cookies kept between requests)."""
    return app.test_client()


def csrf_token(html: str) -> str:
    """The CSRF token of the first form in ``html``."""
    match = _CSRF.search(html)
    assert match, "no csrf_token in the page"
    return match.group(1)


FormPost = Callable[..., TestResponse]


@pytest.fixture
def form_post() -> FormPost:
    """``form_post(client, url, data, page=url)``: GET ``page``, POST ``data`` with its CSRF token."""

    def post(client: FlaskClient, url: str, data: dict[str, object], page: str | None = None) -> TestResponse:
        token = csrf_token(client.get(page or url).get_data(as_text=True))
        return client.post(url, data={**data, "csrf_token": token})

    return post


class AuthActions:
    """Log in and out through the real forms."""

    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def login(self, username: str, password: str = DEMO_PASSWORD) -> TestResponse:
        """POST the login form as ``username``."""
        token = csrf_token(self._client.get("/masuk").get_data(as_text=True))
        return self._client.post("/masuk", data={"username": username, "password": password,
                                                 "csrf_token": token})

    def logout(self) -> TestResponse:
        """POST the logout button of the inbox page."""
        token = csrf_token(self._client.get("/").get_data(as_text=True))
        return self._client.post("/keluar", data={"csrf_token": token})


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    """Log in/out helper on ``client``."""
    return AuthActions(client)


Start = Callable[..., InstanceView]


@pytest.fixture
def start(database: Database) -> Start:
    """``start(process_id, unit_code, title=..., username=None, now=None)`` through the engine."""

    def run(process_id: str, unit_code: str, *, title: str = "Laporan Kinerja Triwulan III 2026",
            username: str | None = None, now: datetime | None = None) -> InstanceView:
        with database.transaction() as session:
            username = username or instances.starters(session, process_id, unit_code)[0]
            return instances.start_instance(session, process_id=process_id, unit_code=unit_code,
                                            title=title, username=username, now=now)

    return run


@pytest.fixture
def csrf() -> Callable[[FlaskClient, str], str]:
    """``csrf(client, url)``: the CSRF token of the form on page ``url``."""
    return lambda client, url: csrf_token(client.get(url).get_data(as_text=True))


@pytest.fixture
def shared_url(scratch_db_url: str) -> Iterator[str]:
    """A fresh database on every backend: migrated, the demo org, two demo passwords (``camat.contoh``, ``kadin.kominfo``)."""
    engine = make_engine(scratch_db_url)
    upgrade(engine)
    with make_session_factory(engine).begin() as session:
        load_demo_org(session)
        for user in session.scalars(select(User).where(User.username.in_(["camat.contoh", "kadin.kominfo"]))):
            user.password_hash = hash_password(DEMO_PASSWORD)
    engine.dispose()
    yield scratch_db_url
