"""What a request costs the database: SQL statements and transactions (issues 8 and 11).

Counted with SQLAlchemy's ``before_cursor_execute`` event (one per statement sent,
SQLite's own BEGIN/COMMIT not included) and the pool's ``checkout`` event (one per
transaction opened). Upper bounds, not timings: they fail when a page starts to
read per row again (the inbox with more tasks must cost the same), when the
logged-in user is read in a transaction of its own again, or when a completion
reads again what it just wrote. The bounds are today's counts plus a little room;
raise them only for a reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from werkzeug.test import TestResponse

KECAMATAN = "kecamatan-contoh"
PELAPORAN = "sop_pelaporan_kinerja_kecamatan"  # Step_01 lane Tim, its Output names a document
OUTSIDE = "Diserahkan langsung kepada Sekcam (uji)."

INBOX_STATEMENTS = 22  # 19 today: the login (6), the page (11), the navigation's unread count
COMPLETION_STATEMENTS = 40  # the task form's POST; 36 today
API_COMPLETION_STATEMENTS = 28  # 25 today


@dataclass
class Cost:
    """Statements sent and transactions opened while a block ran."""

    statements: list[str]
    transactions: int = 0


@contextmanager
def cost_of(app: Flask) -> Iterator[Cost]:
    """Count the app's statements and pool checkouts inside the block."""
    engine = app.extensions["alur.database"].engine
    cost = Cost([])

    def statement(_conn: object, _cursor: object, sql: str, *_rest: object) -> None:
        cost.statements.append(sql)

    def checkout(*_args: object) -> None:
        cost.transactions += 1

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine.pool, "checkout", checkout)
    try:
        yield cost
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine.pool, "checkout", checkout)


def _measure(app: Flask, request: Callable[[], TestResponse], status: int = 200) -> Cost:
    with cost_of(app) as cost:
        response = request()
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    return cost


def _rows(page: str) -> list[str]:
    return re.findall(r'data-task-id="([^"]+)"', page)


def test_the_inbox_page_reads_in_one_transaction_and_not_per_row(app: Flask, client: FlaskClient, auth,
                                                                  start) -> None:
    for n in range(2):
        start(PELAPORAN, KECAMATAN, title=f"Laporan {n}")
    auth.login("tim1.kecamatan")
    client.get("/")  # caches of the process (definitions, time zones) filled, as on a running server
    few = _measure(app, lambda: client.get("/"))
    for n in range(2, 12):
        start(PELAPORAN, KECAMATAN, title=f"Laporan {n}")
    many = _measure(app, lambda: client.get("/"))

    assert len(_rows(client.get("/").get_data(as_text=True))) == 12
    assert len(many.statements) == len(few.statements), "the inbox reads something per task again"
    assert len(many.statements) <= INBOX_STATEMENTS, many.statements
    assert many.transactions == 1  # the login's reads, the page and the navigation's counts


def test_the_inbox_page_of_a_search_still_counts_the_whole_inbox(client: FlaskClient, auth, start) -> None:
    start(PELAPORAN, KECAMATAN, title="Laporan Triwulan I")
    start(PELAPORAN, KECAMATAN, title="Data lain")
    auth.login("tim1.kecamatan")
    page = client.get("/", query_string={"q": "triwulan"}).get_data(as_text=True)
    assert len(_rows(page)) == 1 and "1 tugas menunggu" in page
    assert re.search(r'id="nav-inbox-count">2<', page)  # the navigation counts every task, not the search


def test_completing_from_the_task_form_costs_a_bounded_number_of_statements(app: Flask, client: FlaskClient,
                                                                            auth, start, csrf) -> None:
    tasks = [start(PELAPORAN, KECAMATAN, title=f"Laporan {n}").ready_tasks[0] for n in range(2)]
    auth.login("tim1.kecamatan")
    costs = []
    for task in tasks:
        token = csrf(client, f"/tugas/{task.id}")
        costs.append(_measure(app, lambda task=task, token=token: client.post(
            f"/tugas/{task.id}", data={"selesai": "Selesai", "di_luar": OUTSIDE, "csrf_token": token}), 302))

    cost = costs[-1]  # the second: the process's caches filled by the first
    assert len(cost.statements) <= COMPLETION_STATEMENTS, cost.statements
    assert cost.transactions <= 2  # reading the task and its form; completing it
    assert sum(s.lstrip().upper().startswith("SELECT HUMAN_TASK.ID") for s in cost.statements) <= 6


def test_completing_through_the_api_costs_a_bounded_number_of_statements(app: Flask, client: FlaskClient,
                                                                        auth, start) -> None:
    tasks = [start(PELAPORAN, KECAMATAN, title=f"Laporan {n}").ready_tasks[0] for n in range(2)]
    auth.login("tim1.kecamatan")
    token = client.get("/api/v1/csrf-token").get_json()["csrf_token"]
    costs = [_measure(app, lambda task=task: client.post(
        f"/api/v1/tasks/{task.id}/complete", json={"dokumen_di_luar_sistem": OUTSIDE},
        headers={"X-CSRFToken": token})) for task in tasks]

    cost = costs[-1]
    assert len(cost.statements) <= API_COMPLETION_STATEMENTS, cost.statements
    assert cost.transactions == 1  # the login's reads, the checks and the completion together
