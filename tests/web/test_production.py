"""Production setting: gunicorn with several workers sharing one secret key."""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.demo import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, db_path: Path) -> Iterator[str]:
    """This test's SQLite copy, or a throwaway PostgreSQL database set up as `alur init` does."""
    if request.param == "sqlite":
        yield f"sqlite:///{db_path}"
        return
    admin_url = os.environ.get("ALUR_TEST_POSTGRES_URL")
    if not admin_url:
        pytest.skip("ALUR_TEST_POSTGRES_URL not set")
    from sqlalchemy import create_engine, make_url, text

    name = f"alur_gunicorn_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    env = {**os.environ, "ALUR_DATABASE_URL": url}
    subprocess.run([str(Path(sys.executable).parent / "alur"), "init"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=300)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def server(database_url: str) -> Iterator[str]:
    """gunicorn serving web.wsgi:app with 3 workers on this test's database."""
    port = _free_port()
    env = {**os.environ, "ALUR_DATABASE_URL": database_url, "ALUR_SECRET_KEY": "uji-rahasia",
           "ALUR_SESSION_COOKIE_SECURE": "0", "ALUR_BIND": f"127.0.0.1:{port}", "ALUR_WORKERS": "3"}
    process = subprocess.Popen([str(GUNICORN), "--config", "web/gunicorn_conf.py", "web.wsgi:app"],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{base}/masuk", timeout=5)
                break
            except OSError:  # not listening yet, or a worker still booting
                if process.poll() is not None:
                    pytest.fail(process.stderr.read().decode() if process.stderr else "gunicorn exited")
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_login_holds_across_workers(server: str) -> None:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{server}/masuk").read().decode()
    token = _CSRF.search(page).group(1)
    body = urllib.parse.urlencode({"username": "camat.contoh", "password": DEMO_PASSWORD,
                                   "csrf_token": token}).encode()
    opener.open(f"{server}/masuk", data=body)
    pages = [opener.open(f"{server}/").read().decode() for _ in range(12)]
    assert all("camat.contoh" in page or "Yohanes Wenda" in page for page in pages)
    assert all('name="csrf_token"' in page for page in pages)


def test_production_refuses_to_start_without_a_secret_key() -> None:
    env = {k: v for k, v in os.environ.items() if k != "ALUR_SECRET_KEY"}
    result = subprocess.run([sys.executable, "-c", "import web.wsgi"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "ALUR_SECRET_KEY wajib diisi" in result.stderr
