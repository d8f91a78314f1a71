"""Throughput: task completions per second over HTTP on PostgreSQL, with where a request's time goes.

    .venv/bin/python scripts/throughput.py [--seconds 30] [--clients 9] [--web-workers 3] [--instances 300]
                                           [--database-url URL]

Loopback only. Makes a fresh PostgreSQL database (beside ``--database-url``,
default ``ALUR_TEST_POSTGRES_URL``), starts ``--instances`` Kecamatan SOPs
through the engine so every lane has work, serves the app with gunicorn
(``--web-workers``) and lets ``--clients`` logged-in users (one per Kecamatan
role holder, threads) read their inbox over the API and complete a task, for
``--seconds``. Prints completions per second against the target (300/s), the
share of attempts lost to races on shared lanes, and a profile (pyinstrument)
of the same requests run in this process, summed by layer.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TARGET_PER_SECOND = 300.0
SOPS = ("sop_pelaporan_kinerja_kecamatan", "sop_pengumpulan_data_iku_kecamatan", "sop_perencanaan_kinerja_kecamatan")
UNIT = "kecamatan-contoh"


def _loadtest() -> Any:
    spec = importlib.util.spec_from_file_location("alur_loadtest", ROOT / "scripts" / "loadtest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def seed_work(url: str, count: int) -> list[str]:
    """Start ``count`` Kecamatan SOPs through the engine; return the Kecamatan's role holders."""
    from engine import instances
    from engine.database import open_database
    from storage.demo import DEMO_UNITS

    loadtest = _loadtest()
    database = open_database(loadtest._settings(url))
    try:
        for n in range(count):
            with database.transaction() as session:
                process_id = SOPS[n % len(SOPS)]
                starter = instances.starters(session, process_id, UNIT)[0]
                instances.start_instance(session, process_id=process_id, unit_code=UNIT, title=f"Throughput {n}",
                                         username=starter)
    finally:
        database.dispose()
    unit = next(u for u in DEMO_UNITS if u.code == UNIT)
    return sorted({user.username for role in unit.roles for user in role.users})


def measure(base: str, users: list[str], clients: int, seconds: float) -> tuple[int, int, Counter[int]]:
    """``clients`` users complete tasks for ``seconds``; return (completions, attempts, statuses)."""
    loadtest = _loadtest()
    stats = loadtest.Stats()
    done, attempts = [0], [0]
    lock = threading.Lock()
    ready = threading.Barrier(clients + 1)
    go, deadline = threading.Event(), [0.0]

    def client(i: int) -> None:
        user = loadtest.User(base, users[i % len(users)], stats, random.Random(i))
        try:
            user.login()
        finally:
            ready.wait()
        go.wait()
        while time.monotonic() < deadline[0]:
            status, raw = user.request("inbox", "/api/v1/inbox?limit=20")
            tasks = json.loads(raw)["tasks"] if status == 200 else []
            if not tasks:
                time.sleep(0.05)
                continue
            task = tasks[(i * 7 + random.randrange(3)) % len(tasks)]
            before = stats.completions
            user.complete(task)
            with lock:
                attempts[0] += 1
                done[0] += 1 if stats.completions > before else 0

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    ready.wait()
    deadline[0] = time.monotonic() + seconds
    go.set()
    for thread in threads:
        thread.join()
    return stats.completions, attempts[0], stats.statuses


def profile(url: str, users: list[str], requests: int) -> str:
    """Profile ``requests`` inbox + complete requests through the app in this process; a breakdown by layer."""
    from pyinstrument import Profiler

    from web import create_app

    os.environ.setdefault("ALUR_SECRET_KEY", "throughput")
    app = create_app({"ALUR_DATABASE_URL": url, "TESTING": False, "WTF_CSRF_ENABLED": False,
                      "SESSION_COOKIE_SECURE": False})
    from storage.demo import DEMO_PASSWORD

    clients = []
    for user in users:  # logged in before profiling: a login's argon2 hash is not the request path
        client = app.test_client()
        client.post("/masuk", data={"username": user, "password": DEMO_PASSWORD})
        clients.append((user, client))
    profiler = Profiler(interval=0.0005)
    done = 0
    with profiler:
        for user, client in clients:  # each Kecamatan user in turn works their inbox
            while done < requests:
                tasks = client.get("/api/v1/inbox?limit=20").get_json()["tasks"]
                if not tasks:
                    break
                task = tasks[0]
                body: dict[str, Any] = ({"keputusan": "setuju"} if task["is_review"]
                                        else {"dokumen_di_luar_sistem": "Diserahkan langsung (uji)."})
                if task.get("forms_team"):
                    body["tim"] = [user]
                if client.post(f"/api/v1/tasks/{task['id']}/complete", json=body).status_code != 200:
                    break
                done += 1
    session = profiler.last_session
    assert session is not None
    layers: Counter[str] = Counter()

    def walk(frame: Any) -> None:
        path = (frame.file_path or "").replace("\\", "/")
        layers[_layer(path)] += frame.total_self_time
        for child in frame.children:
            walk(child)

    root = session.root_frame()
    if root is not None:
        walk(root)
    total = sum(layers.values()) or 1.0
    lines = [f"profile: {done} completions (+ inbox reads) in this process, {session.duration:.2f} s, "
             f"{1000 * session.duration / max(done, 1):.1f} ms per inbox+complete; CPU {session.cpu_time:.2f} s of "
             f"that (the rest waits: for PostgreSQL round trips, or for a CPU on a loaded machine)"]
    lines += [f"  {name:<28} {100 * t / total:5.1f} %" for name, t in layers.most_common()]
    text = profiler.output_text(unicode=False, color=False, show_all=False)
    lines += ["  top of the call tree:"] + ["    " + line for line in text.splitlines()[:45]]
    return "\n".join(lines)


def _layer(path: str) -> str:
    rules = (("SpiffWorkflow", "SpiffWorkflow"), ("sqlalchemy", "SQLAlchemy"), ("psycopg", "psycopg (driver/DB wait)"),
             ("jinja2", "Jinja2"), ("werkzeug", "Flask/Werkzeug"), ("flask", "Flask/Werkzeug"),
             ("/engine/", "alur engine"), ("/storage/", "alur storage"), ("/web/", "alur web"),
             ("json", "json"), ("holidays", "holidays/calendar"), ("argon2", "argon2 (login)"))
    for needle, name in rules:
        if needle in path:
            return name
    return "other (stdlib, ...)"


def main() -> None:
    """Parse the options, measure, profile, print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=9)
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument("--instances", type=int, default=300)
    parser.add_argument("--profile-requests", type=int, default=60)
    parser.add_argument("--database-url", default=os.environ.get("ALUR_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    if not args.database_url or not args.database_url.startswith("postgresql"):
        parser.error("needs PostgreSQL: --database-url or ALUR_TEST_POSTGRES_URL")
    loadtest = _loadtest()
    url = loadtest.create_database(args.database_url)
    try:
        users = seed_work(url, args.instances)
        cluster = loadtest.Cluster(url, servers=1, web_workers=args.web_workers, workers=0)
        cluster.start()
        try:
            completions, attempts, statuses = measure(cluster.bases[0], users, args.clients, args.seconds)
        finally:
            cluster.stop_web()
        rate = completions / args.seconds
        lost = 1 - completions / attempts if attempts else 0.0
        print(f"throughput: {rate:.1f} task completions/s over HTTP on PostgreSQL "
              f"(target >= {TARGET_PER_SECOND:.0f}/s: {'reached' if rate >= TARGET_PER_SECOND else 'MISSED'}); "
              f"{args.web_workers} gunicorn workers, {args.clients} clients, {args.seconds:.0f} s, "
              f"{100 * lost:.0f} % of attempts lost to races; statuses {dict(sorted(statuses.items()))}; "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(profile(url, users, args.profile_requests))
    finally:
        loadtest.drop_database(args.database_url, url)


if __name__ == "__main__":
    main()
