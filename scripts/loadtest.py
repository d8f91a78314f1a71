"""Load test: several gunicorn servers and several workers on one PostgreSQL, then the invariants.

    .venv/bin/python scripts/loadtest.py [--seconds 300] [--users 50] [--servers 2] [--web-workers 2]
                                         [--workers 2] [--kill-workers-every 20] [--database-url URL]

Loopback only. Makes a fresh PostgreSQL database next to the one named by
``--database-url`` (default ``ALUR_TEST_POSTGRES_URL``), sets it up as ``alur
init`` does, gives every demo user an e-mail address (immediate mode), and runs
a local SMTP server (aiosmtpd) that the workers send to. Then ``--users``
simulated users (threads, one login each, spread over the demo users) do a
realistic mix for ``--seconds``: the inbox page, the inbox over the API, a task
page, complete a task (Setuju, sometimes Tidak with a catatan, a team where the
step forms one), start an SOP, an instance page. With ``--kill-workers-every``
a worker is killed with SIGKILL at that interval and a new one started.
Afterwards the servers stop, the workers finish the due jobs, and the
invariants of ``engine.invariants`` are checked in the database, with: every
e-mail job sent (each message at most twice, and exactly once when no worker
was killed). Prints the figures and exits 1 on any error, 5xx or violation.

A "conflict" (409: another user completed the task first, or 404: the task was
cancelled meanwhile) is the expected outcome of a race on a shared lane, not an
error.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent

from engine import invariants, notifications  # noqa: E402
from engine.database import open_database  # noqa: E402
from engine.settings import load_settings  # noqa: E402
from storage.demo import DEMO_PASSWORD, DEMO_UNITS  # noqa: E402

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
RACE_STATUSES = (404, 409)


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- the database -------------------------------------------------------------


def create_database(admin_url: str) -> str:
    """A new PostgreSQL database beside ``admin_url``, set up by ``alur init``; return its URL."""
    from sqlalchemy import create_engine, make_url, text

    name = f"alur_load_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    subprocess.run([str(BIN / "alur"), "init"], cwd=ROOT, env={**os.environ, "ALUR_DATABASE_URL": url},
                   check=True, capture_output=True, timeout=600)
    return url


def drop_database(admin_url: str, url: str) -> None:
    """Drop the database made by :func:`create_database`."""
    from sqlalchemy import create_engine, make_url, text

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def give_everyone_email(url: str) -> None:
    """Every demo user takes notifications by e-mail at once (``<username>@contoh.go.id``)."""
    database = open_database(_settings(url))
    try:
        with database.transaction() as session:
            for unit in DEMO_UNITS:
                for role in unit.roles:
                    for user in role.users:
                        notifications.set_preference(session, user.username, email=f"{user.username}@contoh.go.id",
                                                     mode="immediate")
    finally:
        database.dispose()


def _settings(url: str) -> Any:
    from dataclasses import replace

    return replace(load_settings(), database_url=url)


# --- the mail server ------------------------------------------------------------


class SmtpSink:
    """A local SMTP server (aiosmtpd) counting the messages it receives, by Message-ID."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.port = free_port()
        self.ids: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Count one received message."""
        head = envelope.content.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
        match = re.search(r"^Message-ID:\s*(\S+)", head, re.M | re.I)
        with self._lock:
            self.ids[match.group(1) if match else "?"] += 1
        return "250 OK"

    def __enter__(self) -> SmtpSink:
        self._controller.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._controller.stop()


# --- the processes ------------------------------------------------------------


@dataclass
class Cluster:
    """gunicorn servers and ``alur worker`` processes on one database."""

    url: str
    servers: int = 2
    web_workers: int = 2
    workers: int = 2
    smtp_port: int | None = None
    lease_seconds: float = 5.0
    bases: list[str] = field(default_factory=list)
    web: list[subprocess.Popen[bytes]] = field(default_factory=list)
    job_workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    killed: int = 0

    def env(self) -> dict[str, str]:
        """The environment of every process."""
        env = {**os.environ, "ALUR_DATABASE_URL": self.url, "ALUR_SECRET_KEY": "uji-beban-rahasia",
               "ALUR_SESSION_COOKIE_SECURE": "0", "ALUR_WORKER_LEASE_SECONDS": str(self.lease_seconds),
               "ALUR_WORKER_POLL_SECONDS": "0.5", "ALUR_BASE_URL": "http://127.0.0.1"}
        if self.smtp_port:
            env |= {"ALUR_SMTP_HOST": "127.0.0.1", "ALUR_SMTP_PORT": str(self.smtp_port), "ALUR_SMTP_TLS": "none",
                    "ALUR_SMTP_SENDER": "alur@contoh.go.id"}
        return env

    def start(self) -> None:
        """Start the servers (waiting until each answers) and the workers."""
        for _ in range(self.servers):
            port = free_port()
            env = {**self.env(), "ALUR_BIND": f"127.0.0.1:{port}", "ALUR_WORKERS": str(self.web_workers)}
            self.web.append(subprocess.Popen([str(BIN / "gunicorn"), "--config", "web/gunicorn_conf.py",
                                              "web.wsgi:app"], cwd=ROOT, env=env,
                                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            self.bases.append(f"http://127.0.0.1:{port}")
        for _ in range(self.workers):
            self.start_worker()
        for base in self.bases:
            _wait_for(f"{base}/masuk")

    def start_worker(self) -> None:
        """Start one more ``alur worker``."""
        self.job_workers.append(subprocess.Popen([str(BIN / "alur"), "worker"], cwd=ROOT, env=self.env(),
                                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    def kill_a_worker(self, rng: random.Random) -> None:
        """SIGKILL one running worker (as a crash would) and start a new one."""
        alive = [p for p in self.job_workers if p.poll() is None]
        if alive:
            victim = rng.choice(alive)
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            self.killed += 1
        self.start_worker()

    def stop_web(self) -> None:
        """Stop the servers."""
        for process in self.web:
            process.terminate()
        for process in self.web:
            process.wait(timeout=30)

    def stop_workers(self) -> None:
        """Stop the workers (SIGTERM: each finishes the job in hand)."""
        for process in self.job_workers:
            if process.poll() is None:
                process.terminate()
        for process in self.job_workers:
            process.wait(timeout=60)


def _wait_for(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=5)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


# --- the simulated users --------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


@dataclass
class Stats:
    """Counts of one run, shared by the user threads."""

    requests: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    completions: int = 0
    starts: int = 0
    races: int = 0
    errors: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, status: int, detail: str = "") -> None:
        """Count one answer; a 5xx or an unexpected status is an error."""
        with self.lock:
            self.requests[kind] += 1
            self.statuses[status] += 1
            if status >= 500 or (status >= 400 and not (kind == "complete" and status in RACE_STATUSES)):
                if len(self.errors) < 50:
                    self.errors.append(f"{kind} {status} {detail[:200]}")


class User:
    """One logged-in simulated user on one server."""

    def __init__(self, base: str, username: str, stats: Stats, rng: random.Random) -> None:
        self.base, self.username, self.stats, self.rng = base, username, stats, rng
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect())
        self.csrf = ""
        self.startable: list[dict[str, Any]] = []
        self.instances: list[int] = []

    def request(self, kind: str, path: str, body: dict[str, Any] | None = None,
                form: dict[str, str] | None = None) -> tuple[int, bytes]:
        """One request; returns (status, body) and records it."""
        data, headers = None, {}
        if body is not None:
            data, headers = json.dumps(body).encode(), {"Content-Type": "application/json", "X-CSRFToken": self.csrf}
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
        request = urllib.request.Request(self.base + path, data=data, headers=headers)
        try:
            with self.opener.open(request, timeout=60) as response:
                status, content = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, content = exc.code, exc.read()
        except OSError as exc:
            status, content = 599, str(exc).encode()
        self.stats.record(kind, status, content.decode("utf-8", "replace") if status >= 400 else "")
        return status, content

    def login(self) -> None:
        """Log in through the form; fetch the API's CSRF token and the startable SOPs."""
        _, page = self.request("login_page", "/masuk")
        token = _CSRF.search(page.decode()).group(1)  # type: ignore[union-attr]
        status, _ = self.request("login", "/masuk", form={"username": self.username, "password": DEMO_PASSWORD,
                                                          "csrf_token": token})
        _, raw = self.request("csrf", "/api/v1/csrf-token")
        self.csrf = json.loads(raw)["csrf_token"]
        _, raw = self.request("processes", "/api/v1/processes")
        self.startable = [p for p in json.loads(raw)["processes"] if not p["starts_from_letter"]]

    def step(self) -> None:
        """One action of the mix."""
        roll = self.rng.random()
        if roll < 0.15:
            self.request("inbox_page", "/")
            return
        if roll < 0.22 and self.instances:
            self.request("instance_page", f"/proses/{self.rng.choice(self.instances[-20:])}")
            return
        status, raw = self.request("inbox", "/api/v1/inbox?limit=10")
        tasks = json.loads(raw)["tasks"] if status == 200 else []
        if not tasks or roll > 0.93:
            self.start()
            return
        task = self.rng.choice(tasks[:5])
        if self.rng.random() < 0.3:
            self.request("task_page", f"/tugas/{task['id']}")
        self.complete(task)

    def start(self) -> None:
        """Start one of the SOPs this user may start."""
        if not self.startable:
            return
        sop = self.rng.choice(self.startable)
        status, raw = self.request("start", "/api/v1/instances", body={
            "process_id": sop["process_id"], "unit_code": sop["unit_codes"][0],
            "title": f"Uji beban {uuid.uuid4().hex[:8]}"})
        if status == 201:
            with self.stats.lock:
                self.stats.starts += 1
            self.instances.append(json.loads(raw)["id"])

    def complete(self, task: dict[str, Any]) -> None:
        """Complete a task: Setuju (Tidak with a catatan one time in ten) on reviews, a team where needed."""
        body: dict[str, Any] = {}
        if task["is_review"]:
            body["keputusan"] = "tidak" if self.rng.random() < 0.1 else "setuju"
            if body["keputusan"] == "tidak":
                body["catatan"] = "Mohon dilengkapi (uji beban)."
        else:  # where the step's Output names a document, the API takes the reason it goes outside Alur
            body["dokumen_di_luar_sistem"] = "Diserahkan langsung (uji beban)."
        if task.get("forms_team"):
            status, raw = self.request("task", f"/api/v1/tasks/{task['id']}")
            if status != 200:
                return
            choices = [c["username"] for c in json.loads(raw)["team_choices"]]
            body["tim"] = choices[:2]
        status, raw = self.request("complete", f"/api/v1/tasks/{task['id']}/complete", body=body)
        with self.stats.lock:
            if status == 200:
                self.stats.completions += 1
                self.instances.append(task["instance_id"])
            elif status in RACE_STATUSES:
                self.stats.races += 1


def usernames() -> list[str]:
    """Every demo role holder, each once."""
    return sorted({u.username for unit in DEMO_UNITS for role in unit.roles for u in role.users})


def drive(cluster: Cluster, *, users: int, seconds: float, kill_every: float | None, seed: int = 8) -> Stats:
    """Run ``users`` simulated users against the cluster for ``seconds``."""
    stats, names, rng = Stats(), usernames(), random.Random(seed)
    logged_in, go = threading.Barrier(users + 1), threading.Event()
    deadline = [0.0]

    def loop(i: int) -> None:
        user = User(cluster.bases[i % len(cluster.bases)], names[i % len(names)], stats, random.Random(seed + i))
        try:
            try:
                user.login()
            finally:
                logged_in.wait()
            go.wait()
            while time.monotonic() < deadline[0]:
                user.step()
        except Exception as exc:  # a client bug must show, not hang the run
            with stats.lock:
                stats.errors.append(f"client {user.username}: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=loop, args=(i,), daemon=True) for i in range(users)]
    for thread in threads:
        thread.start()
    logged_in.wait()
    deadline[0] = time.monotonic() + seconds  # logins (and each server's warm-up) are not timed
    go.set()
    next_kill = time.monotonic() + kill_every if kill_every else None
    while any(t.is_alive() for t in threads):
        time.sleep(0.2)
        if next_kill is not None and time.monotonic() >= next_kill and time.monotonic() < deadline[0]:
            cluster.kill_a_worker(rng)
            next_kill += kill_every or 0
    stats.elapsed = time.monotonic() - (deadline[0] - seconds)
    return stats


def settle(url: str, lease_seconds: float, timeout: float = 120.0) -> None:
    """Wait until no job is due or running (the workers have caught up, expired leases retried)."""
    from datetime import UTC, datetime

    from sqlalchemy import and_, func, or_, select

    from storage.models import Job

    database = open_database(_settings(url))
    try:
        deadline = time.monotonic() + timeout + lease_seconds
        while time.monotonic() < deadline:
            with database.transaction() as session:
                busy = session.scalar(select(func.count()).select_from(Job).where(or_(
                    and_(Job.state == "pending", Job.run_at <= datetime.now(UTC)), Job.state == "running")))
            if not busy:
                return
            time.sleep(0.5)
    finally:
        database.dispose()


def check(url: str, smtp: SmtpSink, *, killed: int) -> invariants.Report:
    """The invariants, plus the e-mail rules: every e-mail job sent; at most one duplicate, none without kills."""
    from sqlalchemy import func, select

    from storage.models import Job, Notification

    database = open_database(_settings(url))
    try:
        with database.transaction() as session:
            report = invariants.check(session)
            email_jobs = session.scalar(select(func.count()).select_from(Job).where(Job.kind == "email")) or 0
            emailed = session.scalar(select(func.count()).select_from(Notification)
                                     .where(Notification.emailed_at.is_not(None))) or 0
            retried = session.scalar(select(func.count()).select_from(Job)
                                     .where(Job.state == "done", Job.attempts > 1)) or 0
    finally:
        database.dispose()
    report.counts |= {"email_jobs": email_jobs, "notifications_emailed": emailed,
                      "smtp_messages": sum(smtp.ids.values()), "smtp_distinct": len(smtp.ids),
                      "workers_killed": killed, "jobs_retried": retried}
    if len(smtp.ids) != emailed or emailed != email_jobs:
        report.violations.append(f"e-mail: {email_jobs} jobs, {emailed} notifications marked sent, "
                                 f"{len(smtp.ids)} distinct messages received")
    most = max(smtp.ids.values(), default=0)
    if most > (2 if killed else 1):
        report.violations.append(f"e-mail: a message arrived {most} times (killed workers: {killed})")
    return report


def run(admin_url: str, *, seconds: float, users: int, servers: int, web_workers: int, workers: int,
        kill_every: float | None, keep: bool = False) -> tuple[Stats, invariants.Report, float]:
    """The whole scenario; returns the user statistics, the invariant report and the measured seconds."""
    url = create_database(admin_url)
    try:
        give_everyone_email(url)
        with SmtpSink() as smtp:
            cluster = Cluster(url, servers, web_workers, workers, smtp.port)
            cluster.start()
            try:
                stats = drive(cluster, users=users, seconds=seconds, kill_every=kill_every)
                elapsed = stats.elapsed
            finally:
                cluster.stop_web()
            try:
                settle(url, cluster.lease_seconds)
            finally:
                cluster.stop_workers()
            report = check(url, smtp, killed=cluster.killed)
        return stats, report, elapsed
    finally:
        if not keep:
            drop_database(admin_url, url)


def main() -> None:
    """Parse the options, run, print, exit 1 on any error or violation."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--kill-workers-every", type=float, default=None, metavar="SECONDS")
    parser.add_argument("--database-url", default=os.environ.get("ALUR_TEST_POSTGRES_URL"))
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    if not args.database_url or not args.database_url.startswith("postgresql"):
        parser.error("needs PostgreSQL: --database-url or ALUR_TEST_POSTGRES_URL")
    if not 1 <= args.seconds <= 3600 or not 1 <= args.users <= 500:
        parser.error("--seconds 1..3600, --users 1..500")
    stats, report, elapsed = run(args.database_url, seconds=args.seconds, users=args.users, servers=args.servers,
                                 web_workers=args.web_workers, workers=args.workers,
                                 kill_every=args.kill_workers_every, keep=args.keep)
    total = sum(stats.requests.values())
    five = sum(n for s, n in stats.statuses.items() if s >= 500)
    print(f"load: {args.users} users, {args.servers} servers x {args.web_workers} gunicorn workers, "
          f"{args.workers} workers, {elapsed:.0f} s, workers killed: {report.counts['workers_killed']}")
    print(f"requests: {total} ({total / elapsed:.1f}/s) {dict(stats.requests)}")
    print(f"statuses: {dict(sorted(stats.statuses.items()))}")
    print(f"completions: {stats.completions} ({stats.completions / elapsed:.1f}/s), races lost: {stats.races}, "
          f"starts: {stats.starts}")
    print(f"invariants: {report.counts}")
    print(f"errors: {len(stats.errors)} (target 0), 5xx: {five} (target 0), "
          f"violations: {len(report.violations)} (target 0)")
    for line in stats.errors[:10] + report.violations[:20]:
        print(f"  {line}")
    sys.exit(1 if stats.errors or five or report.violations else 0)


if __name__ == "__main__":
    main()
