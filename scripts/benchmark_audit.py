"""Ruang Auditor benchmark on PostgreSQL: instance search over HTTP, the compliance report.

    .venv/bin/python scripts/benchmark_audit.py [--postgres URL] [--instances 100000] [--samples 200]

1. Search: p95 of ``GET /audit?...`` (the auditors' search page, an every-unit
   auditor, a mix of filters and sorts, first and later keyset pages) over
   HTTP against the app served by gunicorn at N (100,000) instances.
   Target: p95 ≤ 100 ms.
2. Report: ``engine.compliance.report`` for one year of 10,000 completed
   instances (every unit, every SOP), in process, median of 5. Target ≤ 1 s.

Data: a few instances are run through the engine (``engine.riwayat``), then
copied in SQL (``INSERT ... SELECT`` over ``generate_series``) until there are
N, their start times spread over ten years; then the completed runs are copied
again, their completions spread over the report's year, until that year holds
10,000 (``--year-completed``) completed instances. The copies' rows (instance,
human tasks, audit events) are those of real runs, with new ids and shifted
times. The copies' hash chains are not recomputed (the benchmark measures
reads). The tables are then vacuumed and analysed, as autovacuum leaves them.
The script drops and recreates its own schema ``alur_bench_audit`` in the
database it is given, nothing else. Prints each figure against its target;
asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Connection, text  # noqa: E402

from engine import compliance, riwayat  # noqa: E402
from engine.database import open_database  # noqa: E402
from engine.settings import Settings  # noqa: E402
from scripts.benchmark import percentile, report  # noqa: E402
from web.accounts import initialize  # noqa: E402

END = datetime(2026, 11, 1, tzinfo=UTC)
SCHEMA = "alur_bench_audit"
SPAN_DAYS = 3650


def in_schema(url: str) -> str:
    """``url`` with its search path set to the benchmark's own schema (other users of the database are left alone)."""
    from sqlalchemy.engine import make_url

    return make_url(url).update_query_dict({"options": f"-csearch_path={SCHEMA}"}).render_as_string(
        hide_password=False)


def _copy(conn: Connection, *, base: str, first: int, copies: int, shift: str, params: dict[str, object]) -> None:
    """Copy the base instances chosen by ``base`` (a condition on ``p``) ``copies`` times, copy ``n`` getting
    ids ``id + (first + n) * :stride`` and every time moved back by ``shift`` (an interval over ``p`` and ``n``)."""
    params = {**params, "first": first, "copies": copies}
    uuid = ("substr(md5(n || h.id), 1, 8) || '-' || substr(md5(n || h.id), 9, 4) || '-' || "
            "substr(md5(n || h.id), 13, 4) || '-' || substr(md5(n || h.id), 17, 4) || '-' || "
            "substr(md5(n || h.id), 21, 12)").replace("n ||", "(:first + n) ||")
    series = f"generate_series(1, :copies) AS n JOIN process_instance p ON {base} AND p.id < :stride"
    new_id = "(:first + n) * :stride"
    conn.execute(text(f"""
        INSERT INTO process_instance (id, definition_id, unit_id, title, status, started_by_id, started_at,
            completed_at, state_json, serializer_version, called_definitions_json, input_json, lock_version)
        SELECT p.id + {new_id}, p.definition_id, p.unit_id, p.title || ' #' || (:first + n), p.status,
               p.started_by_id, p.started_at - {shift}, p.completed_at - {shift}, p.state_json,
               p.serializer_version, p.called_definitions_json, p.input_json, p.lock_version
        FROM {series}"""), params)
    conn.execute(text(f"""
        INSERT INTO human_task (id, instance_id, definition_id, process_id, element_id, name, lane_name, role_id,
            team_id, unit_id, assignee_id, state, iteration, ready_at, due_at, completed_at, completed_by_id,
            waktu, is_review, working_minutes)
        SELECT {uuid}, h.instance_id + {new_id}, h.definition_id, h.process_id, h.element_id, h.name,
               h.lane_name, h.role_id, h.team_id, h.unit_id, h.assignee_id, h.state, h.iteration,
               h.ready_at - {shift}, h.due_at - {shift}, h.completed_at - {shift}, h.completed_by_id, h.waktu,
               h.is_review, h.working_minutes
        FROM {series} JOIN human_task h ON h.instance_id = p.id"""), params)
    conn.execute(text(f"""
        INSERT INTO audit_event (instance_id, occurred_at, kind, actor_id, human_task_id, element_id,
            process_id, keputusan, catatan, data_json, chain_hash)
        SELECT e.instance_id + {new_id}, e.occurred_at - {shift}, e.kind, e.actor_id,
               CASE WHEN e.human_task_id IS NULL THEN NULL ELSE {uuid.replace('h.id', 'e.human_task_id')} END,
               e.element_id, e.process_id, e.keputusan, e.catatan, e.data_json, e.chain_hash
        FROM {series} JOIN audit_event e ON e.instance_id = p.id"""), params)


def build(url: str, count: int, year_completed: int) -> None:
    """A database with ``count`` instances, ``year_completed`` of them completed in the report's year.

    Real runs copied (see the module docstring): first every run, its copies'
    start times spread over ten years; then copies of the completed runs, their
    completions spread over the last year, until the year holds
    ``year_completed`` completed instances.
    """
    admin = open_database(Settings(database_url=url, bpmn_dir=ROOT / "bpmn"))
    with admin.engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    admin.dispose()
    url = in_schema(url)
    database = open_database(Settings(database_url=url, bpmn_dir=ROOT / "bpmn"))
    initialize(database, ROOT / "bpmn")
    began = time.perf_counter()
    generated = riwayat.generate(database.transaction, months=3, per_month=2, seed=1, end=END - timedelta(days=90))
    print(f"   ({generated.started} instances run through the engine in {time.perf_counter() - began:.1f} s, "
          f"{generated.completed} completed)", flush=True)
    year_start = END - timedelta(days=365)
    with database.engine.begin() as conn:
        base = conn.execute(text("SELECT count(*), max(id) FROM process_instance")).one()
        copies = max(0, (count - base[0]) // base[0] + 1)
        params: dict[str, object] = {"stride": int(base[1]) + 1, "step": SPAN_DAYS * 24 * 60 // max(1, copies),
                                     "start": year_start, "end": END}
        began = time.perf_counter()
        _copy(conn, base="true", first=0, copies=copies, shift="make_interval(mins => (n * :step)::int)",
              params=params)
        done = conn.execute(text("SELECT count(*) FROM process_instance WHERE completed_at >= :start "
                                 "AND completed_at < :end"), params).scalar_one()
        finished = conn.execute(text("SELECT count(*) FROM process_instance WHERE status = 'completed' "
                                     "AND id < :stride"), params).scalar_one()
        more = -(-max(0, year_completed - done) // max(1, finished))
        if more and finished:
            # copy n of a completed run completes at start + (n - ½) × (a year / more)
            _copy(conn, base="p.status = 'completed'", first=copies, copies=more, params={
                **params, "ystep": 365 * 24 * 60 / more},
                shift="(p.completed_at - (CAST(:start AS timestamptz) + make_interval(mins => "
                      "((n - 0.5) * :ystep)::int)))")
        conn.execute(text("SELECT setval(pg_get_serial_sequence('process_instance', 'id'), "
                          "(SELECT max(id) FROM process_instance))"))
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))  # as autovacuum leaves a table in use: visibility map, statistics
        total = conn.execute(text("SELECT count(*) FROM process_instance")).scalar_one()
        tasks = conn.execute(text("SELECT count(*) FROM human_task")).scalar_one()
        events = conn.execute(text("SELECT count(*) FROM audit_event")).scalar_one()
    print(f"   ({total} instances, {tasks} human tasks, {events} audit events copied in "
          f"{time.perf_counter() - began:.1f} s)", flush=True)
    database.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bench_search(url: str, samples: int) -> None:
    """Figure 1: the search page over HTTP under gunicorn."""
    port = _free_port()
    env = {**os.environ, "ALUR_DATABASE_URL": url, "ALUR_SECRET_KEY": "bench", "ALUR_BIND": f"127.0.0.1:{port}",
           "ALUR_WORKERS": "2", "ALUR_SESSION_COOKIE_SECURE": "0"}
    server = subprocess.Popen([str(ROOT / ".venv" / "bin" / "gunicorn"), "--config", "web/gunicorn_conf.py",
                               "web.wsgi:app"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        for _ in range(100):
            try:
                page = opener.open(f"{base}/masuk", timeout=5).read().decode()
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("gunicorn did not start")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        opener.open(f"{base}/masuk", urllib.parse.urlencode(
            {"username": "auditor.inspektorat", "password": "alur-demo", "csrf_token": token}).encode(), timeout=10)
        year_ago = (END - timedelta(days=365)).date().isoformat()
        queries = [
            "", "urut=terlama", "urut=judul", "unit=kecamatan-contoh", "terlambat=y",
            "unit=kecamatan-contoh&terlambat=y&perbaikan=y", f"dimulai_dari={year_ago}&urut=terlama",
            "sop=sop_pelaporan_kinerja_kecamatan&status=completed", "teks=Triwulan", "peserta=camat.contoh",
            f"selesai_dari={year_ago}&perbaikan=y",
        ]
        for q in queries:  # warm up, and collect a second-page cursor per query
            opener.open(f"{base}/audit?{q}", timeout=30).read()
        nexts = []
        for q in queries:
            html = opener.open(f"{base}/audit?{q}", timeout=30).read().decode()
            found = re.search(r'id="next-page" href="([^"]+)"', html)
            if found:
                nexts.append(found.group(1).replace("&amp;", "&"))
        urls = [f"/audit?{q}" for q in queries] + nexts
        times = []
        per_url: dict[str, list[float]] = {}
        for i in range(samples):
            began = time.perf_counter()
            body = opener.open(base + urls[i % len(urls)], timeout=30).read()
            times.append(time.perf_counter() - began)
            per_url.setdefault(urls[i % len(urls)], []).append(times[-1])
            assert b'id="results"' in body or b'id="no-results"' in body
        slowest = max(per_url, key=lambda u: statistics.median(per_url[u]))
        print(f"   ({len(urls)} different searches, {samples} requests; median "
              f"{statistics.median(times) * 1000:.1f} ms, slowest {max(times) * 1000:.1f} ms; slowest search "
              f"{slowest[:90]} at a median {statistics.median(per_url[slowest]) * 1000:.1f} ms; "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
        report("1. search over HTTP at the instances above (p95)", percentile(times, 95) * 1000, "ms", 100)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def bench_report(url: str, rounds: int) -> None:
    """Figure 2: the compliance report for a year, in process."""
    database = open_database(Settings(database_url=url, bpmn_dir=ROOT / "bpmn"))
    start = END - timedelta(days=365)
    with database.engine.connect() as conn:
        completed = conn.execute(text("SELECT count(*) FROM process_instance WHERE completed_at >= :s "
                                      "AND completed_at < :e"), {"s": start, "e": END}).scalar_one()
    times = []
    for _ in range(rounds):
        with database.transaction() as session:
            began = time.perf_counter()
            found = compliance.report(session, "auditor.inspektorat", start=start, end=END)
            times.append(time.perf_counter() - began)
    print(f"   ({completed} instances completed in the year; {found.runs} steps; {len(found.steps)} step rows)")
    report("2. compliance report for a year (median)", statistics.median(times), "s", 1)
    database.dispose()


def main() -> None:
    """Build the data, then print each figure."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", default=os.environ.get("ALUR_BENCH_POSTGRES_URL",
                                                             "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--instances", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--year-completed", type=int, default=10_000,
                        help="completed instances in the report's year (default 10,000)")
    parser.add_argument("--no-build", action="store_true", help="reuse the data of the previous run")
    args = parser.parse_args()
    if not args.no_build:
        build(args.postgres, args.instances, args.year_completed)
    bench_search(in_schema(args.postgres), args.samples)
    bench_report(in_schema(args.postgres), 5)


if __name__ == "__main__":
    main()
