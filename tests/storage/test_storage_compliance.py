"""The compliance figures grouped in SQL agree with the same figures computed here, on SQLite and PostgreSQL.

PostgreSQL groups every table in one GROUPING SETS query with percentile_cont;
SQLite takes the UNION ALL fallback. Both must give what a plain Python
computation over the rows gives (median and p90 by linear interpolation,
numpy's default and percentile_cont's definition).
"""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta

from sqlalchemy import true
from sqlalchemy.orm import Session

from storage import compliance
from storage.models import HumanTask

START = datetime(2026, 1, 1, tzinfo=UTC)


def _p90(values: list[int]) -> float:
    ordered = sorted(values)
    position = 0.9 * (len(ordered) - 1)
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def test_every_table_in_one_grouping_agrees_with_python(session: Session, new_instance) -> None:
    first = new_instance(session)
    second = new_instance(session, unit_code="dinas-kominfo", process_id="sop_lain")
    rows = []
    for n in range(23):
        instance = first if n % 3 else second
        done = START + timedelta(days=17 * n, hours=n)
        minutes = (n * 37) % 211 + 5
        task = HumanTask(
            id=f"00000000-0000-0000-0000-{n:012d}", instance_id=instance.id, definition_id=instance.definition_id,
            process_id="sop_uji" if instance is first else "sop_lain", element_id=f"Step_0{n % 2 + 1}",
            name=f"Langkah {n % 2 + 1}", lane_name="Staf" if n % 4 else "Kepala", role_id=None,
            unit_id=instance.unit_id, state="completed", iteration=1, ready_at=done - timedelta(days=1),
            due_at=None if n % 5 == 0 else done + timedelta(hours=(n % 3) - 1), completed_at=done,
            completed_by_id=instance.started_by_id, waktu=None if n % 5 == 0 else "PT1H", working_minutes=minutes)
        session.add(task)
        rows.append(task)
    session.add(HumanTask(  # outside the period, and one still open: neither counts
        id="10000000-0000-0000-0000-000000000000", instance_id=first.id, definition_id=first.definition_id,
        process_id="sop_uji", element_id="Step_01", name="Langkah 1", lane_name="Staf", unit_id=first.unit_id,
        state="completed", iteration=2, ready_at=START - timedelta(days=3), completed_at=START - timedelta(days=2),
        working_minutes=9999))
    session.flush()
    found = compliance.breakdowns(session, compliance.Scope(START, START + timedelta(days=400), true()))

    def expect(key_of) -> dict:
        groups: dict = {}
        for t in rows:
            groups.setdefault(key_of(t), []).append(t)
        return {key: (len(ts), sum(t.due_at is not None for t in ts),
                      sum(t.due_at is not None and t.completed_at <= t.due_at for t in ts),
                      statistics.median([t.working_minutes for t in ts]), _p90([t.working_minutes for t in ts]),
                      max(t.working_minutes for t in ts)) for key, ts in groups.items()}

    def got(table: str) -> dict:
        return {f.key: (f.runs, f.timed, f.on_time, f.median_minutes, f.p90_minutes, f.max_minutes)
                for f in found[table]}

    assert got("steps") == expect(lambda t: (t.process_id, t.element_id, t.name, t.waktu))
    assert got("sops") == expect(lambda t: (t.process_id,))
    assert got("roles") == expect(lambda t: (t.unit_id, t.lane_name))
    assert got("units") == expect(lambda t: (t.unit_id,))
    assert got("months") == expect(lambda t: (t.completed_at.strftime("%Y-%m"),))
    assert [f.key for f in found["months"]] == sorted(f.key for f in found["months"])
    assert found["sops"][0].runs >= found["sops"][-1].runs
