"""Browser tests: Playwright for Python driving Debian's Chromium against a live server.

Playwright's own browser download does not work here, so the tests launch
``/usr/bin/chromium`` (``.ci/run`` installs it) with the flags this machine needs.
Without Chromium or the ``playwright`` package the tests are skipped with the
reason — except under ``CI=true``, where they fail.

- ``browser_db``    a migrated SQLite file: bpmn/ deployed, demo org, demo passwords (per session)
- ``live_server``   the app on a copy of it, served by werkzeug in a thread on a free
                    localhost port (per module); ``live_server.url`` and ``.database``
- ``browser``       one Chromium for the test session
- ``page``          a new browser context and page per test; console errors (among them
                    Content-Security-Policy violations), page errors and failed loads of assets or data fail it
- ``artifacts``     ``test-artifacts/browser/``, where screenshots are saved
- ``auth``          ``auth.login(username)``, ``auth.logout()`` through the real forms
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from werkzeug.serving import BaseWSGIServer, make_server

from engine.database import Database, open_database
from engine.settings import Settings
from storage.demo import DEMO_PASSWORD
from web import create_app
from web.accounts import initialize

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page, Response

ROOT = Path(__file__).resolve().parents[2]
BPMN_DIR = ROOT / "bpmn"
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
TIMEOUT_MS = 15_000


def _missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is not installed (pip install -e '.[test]')"
    if not os.access(CHROMIUM, os.X_OK):
        return f"Debian's Chromium is not at {CHROMIUM} (apt-get install chromium; .ci/run installs it)"
    return None


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _open(path: Path) -> Database:
    return open_database(Settings(database_url=f"sqlite:///{path}", bpmn_dir=BPMN_DIR))


@pytest.fixture(scope="session")
def browser_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file with bpmn/ deployed, the demo org and the demo passwords."""
    path = tmp_path_factory.mktemp("browser-template") / "alur.sqlite3"
    database = _open(path)
    initialize(database, BPMN_DIR)
    database.dispose()
    return path


@dataclass(frozen=True)
class LiveServer:
    """A running app: its base ``url`` (no trailing slash) and its ``database``."""

    url: str
    database: Database


@pytest.fixture(scope="module")
def live_server(browser_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The app on a fresh copy of ``browser_db``, over HTTP on a free localhost port."""
    path = tmp_path_factory.mktemp("browser") / "alur.sqlite3"
    shutil.copy(browser_db, path)
    app = create_app({"SECRET_KEY": "browser-test-secret", "SESSION_COOKIE_SECURE": False,
                      "ALUR_DATABASE_URL": f"sqlite:///{path}"})
    server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="alur-live-server", daemon=True)
    thread.start()
    database = _open(path)
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", database=database)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        database.dispose()
        app.extensions["alur.database"].dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright; skipped (failed under CI) if missing."""
    reason = _missing()
    if reason is not None:
        if _in_ci():
            pytest.fail(f"browser tests cannot run under CI: {reason}", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def expected_http_errors() -> list[tuple[int, str, str]]:
    """``(status, method, path)`` answers a test provokes on purpose (a stale save's 409, a refused
    deploy's 422): the ``page`` fixture does not count them as failures."""
    return []


@pytest.fixture
def page(browser: Browser, expected_http_errors: list[tuple[int, str, str]]) -> Iterator[Page]:
    """A fresh page (own cookies); a console error (CSP violations are ones), an uncaught
    script error or an HTTP error answer to a script, style sheet or fetch (but for
    /favicon.ico and ``expected_http_errors``) fails the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="id-ID")
    context.set_default_timeout(TIMEOUT_MS)
    new_page = context.new_page()
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        # a failed load is reported by on_response, with its address (the favicon may 404)
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(f"console error: {message.text}")

    def on_response(response: Response) -> None:
        # pages themselves may answer 4xx on purpose (a refused form): the tests check those
        expected = any(response.status == status and response.request.method == method
                       and response.url.split("?")[0].endswith(path) for status, method, path in expected_http_errors)
        if (response.status >= 400 and response.request.resource_type != "document"
                and not response.url.endswith("/favicon.ico") and not expected):
            problems.append(f"HTTP {response.status}: {response.request.method} {response.url}")

    new_page.on("console", on_console)
    new_page.on("response", on_response)
    new_page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    yield new_page
    context.close()
    assert problems == []


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots go: ``test-artifacts/browser/`` (not committed)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


class BrowserAuth:
    """Log in and out through the real forms of the live server."""

    def __init__(self, page: Page, server: LiveServer) -> None:
        self._page = page
        self._server = server

    def login(self, username: str, password: str = DEMO_PASSWORD) -> None:
        """Fill and submit the login form; the inbox must follow."""
        self._page.goto(f"{self._server.url}/masuk")
        self._page.fill("#username", username)
        self._page.fill("#password", password)
        self._page.click("main form [type=submit]")
        self._page.wait_for_selector("#nav-inbox-count")

    def logout(self) -> None:
        """Press Keluar in the navigation; the login form must follow."""
        self._page.click("nav form[action$='/keluar'] button")
        self._page.wait_for_selector("#username")


@pytest.fixture
def auth(page: Page, live_server: LiveServer) -> BrowserAuth:
    """``auth.login(username)`` / ``auth.logout()`` on ``page``."""
    return BrowserAuth(page, live_server)
