"""A history to audit: months of SOP runs in the demo units, recorded through the engine in the past.

:func:`generate` starts, in each demo unit, a few instances of the unit's SOPs per
month over the last ``months`` months and completes their steps through
``engine.instances`` with past timestamps (the engine's ``now`` parameter), so
everything — due times on the unit's calendar, human tasks, audit events and
their hash chain — is what the engine itself writes. Nothing is inserted behind
its back.

Working times are drawn per step from a log-normal spread around the step's
Waktu (median 60 % of it in the Bagian, 70 % in the Dinas, 85 % in the
Kecamatan; about 15–35 % of steps run late), counted in working minutes on the
unit's calendar. A review answers "tidak" with probability 25 % the first
time and 10 % the second, never a third time. Parallel steps are completed in
the order their drawn completion times fall. Instances whose next completion
would fall after ``end`` stay running, as in a real office. Deterministic for a
given ``seed``.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from engine import catalog, instances
from engine.calendar import WorkCalendar, unit_calendar
from engine.demo import _pick_team
from engine.lanes import unresolved_lanes
from engine.waktu import Waktu
from storage import org

__all__ = ["Generated", "generate"]

Transaction = Callable[[], AbstractContextManager[Session]]

_MEDIAN_SHARE = {"bagian": 0.6, "dinas": 0.7, "kecamatan": 0.85}
_SIGMA = 0.55
_NO_WAKTU_MINUTES = (20, 180)
_TIDAK_CHANCE = (0.25, 0.10)
_MAX_STEPS = 400
_BULAN = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
          "November", "Desember")


@dataclass
class Generated:
    """What :func:`generate` did: instances started and completed, steps, "tidak" answers, late steps."""

    started: int = 0
    completed: int = 0
    steps: int = 0
    tidak: int = 0
    late: int = 0


def generate(transaction: Transaction, *, months: int = 12, per_month: int = 2, seed: int = 2026,
             end: datetime | None = None) -> Generated:
    """Record ``months`` months of runs before ``end`` (default now): ``per_month`` instances per unit and month.

    One transaction per instance. Raises ``ValueError`` for months outside
    1..60 or per_month outside 1..50.
    """
    if not 1 <= months <= 60 or not 1 <= per_month <= 50:
        raise ValueError("months 1..60 and per_month 1..50")
    rng = random.Random(seed)
    end = end or datetime.now(UTC)
    result = Generated()
    with transaction() as session:
        plan = _plan(session, months, per_month, end, rng)
    for unit_code, process_id, title, start in plan:
        with transaction() as session:
            _run(session, rng, unit_code, process_id, title, start, end, result)
    return result


def _plan(session: Session, months: int, per_month: int, end: datetime,
          rng: random.Random) -> list[tuple[str, str, str, datetime]]:
    roots = [d for d in catalog.list_latest(session) if d.meta.unit_kind != "any"]
    plan = []
    first = (end.replace(day=1, hour=0, minute=0, second=0, microsecond=0) - timedelta(days=31 * (months - 1))
             ).replace(day=1)
    for unit in org.list_units(session):
        sops = [d for d in roots if d.meta.unit_kind == unit.kind and not unresolved_lanes(
            session, unit_id=unit.id, root=d, called=catalog.called_closure(session, d))]
        if not sops:  # e.g. the demo Inspektorat: a Dinas-kind unit without the Dinas SOPs' jabatan
            continue
        month = first
        n = 0
        while month < end:
            for _ in range(per_month):
                sop = sops[n % len(sops)]
                n += 1
                start = month + timedelta(days=rng.randint(0, 27), hours=rng.randint(0, 8), minutes=rng.randint(0, 59))
                if start >= end:
                    continue
                title = f"{sop.name} — {_BULAN[start.month - 1]} {start.year} ({n})"
                plan.append((unit.code, sop.process_id, title, start))
            month = (month + timedelta(days=32)).replace(day=1)
    plan.sort(key=lambda p: p[3])
    return plan


def _calendar(session: Session, unit_code: str) -> WorkCalendar:
    unit = org.get_unit_by_code(session, unit_code)
    return unit_calendar(session, unit)


def _draw(rng: random.Random, calendar: WorkCalendar, task: instances.TaskView, share: float) -> datetime:
    """When ``task`` gets completed: ready time plus a drawn working time."""
    if task.waktu:
        standard = calendar.working_minutes_between(task.ready_at, calendar.add(task.ready_at,
                                                                                 Waktu.from_iso(task.waktu)))
        minutes = max(5, round(standard * math.exp(rng.gauss(math.log(share), _SIGMA))))
    else:
        minutes = rng.randint(*_NO_WAKTU_MINUTES)
    return calendar.add(task.ready_at, Waktu(minutes, "menit")) + timedelta(seconds=rng.randint(0, 59))


def _run(session: Session, rng: random.Random, unit_code: str, process_id: str, title: str, start: datetime,
         end: datetime, result: Generated) -> None:
    unit = org.get_unit_by_code(session, unit_code)
    calendar = _calendar(session, unit_code)
    share = _MEDIAN_SHARE.get(unit.kind, 0.7)
    starter = rng.choice(instances.starters(session, process_id, unit_code))
    view = instances.start_instance(session, process_id=process_id, unit_code=unit_code, title=title,
                                    username=starter, now=start)
    result.started += 1
    due: dict[str, datetime] = {}
    rejected: Counter[tuple[str, str]] = Counter()
    for _ in range(_MAX_STEPS):
        if view.status != "running" or not view.ready_tasks:
            break
        for task in view.ready_tasks:
            due.setdefault(task.id, _draw(rng, calendar, task, share))
        task = min(view.ready_tasks, key=lambda t: (due[t.id], t.id))
        at = due.pop(task.id)
        if at > end:
            return
        view = _complete(session, rng, task, at, rejected, result)
    if view.status == "completed":
        result.completed += 1


def _complete(session: Session, rng: random.Random, task: instances.TaskView, at: datetime,
              rejected: Counter[tuple[str, str]], result: Generated) -> instances.InstanceView:
    user = rng.choice(instances.candidates(session, task.id))
    keputusan = catatan = None
    if task.is_review:
        key = (task.process_id, task.step_id)
        tries = rejected[key]
        keputusan = "tidak" if tries < len(_TIDAK_CHANCE) and rng.random() < _TIDAK_CHANCE[tries] else "setuju"
        if keputusan == "tidak":
            rejected[key] += 1
            result.tidak += 1
            catatan = rng.choice((
                "Data capaian belum lengkap; lengkapi tabel IKU.",
                "Lampiran bukti dukung belum dilampirkan.",
                "Angka realisasi tidak sesuai laporan bulan lalu; mohon dicek ulang.",
                "Format belum sesuai Permenpan RB; perbaiki sistematika.",
            ))
    team = _pick_team(session, task) if task.forms_team else None
    if task.due_at is not None and at > task.due_at:
        result.late += 1
    result.steps += 1
    return instances.complete_task(session, task.id, username=user, keputusan=keputusan, catatan=catatan,
                                   team=team, now=at)
