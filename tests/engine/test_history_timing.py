"""History shows the time each step took against its Waktu, on the unit's working calendar."""

from __future__ import annotations

from datetime import UTC, datetime

from engine import instances
from engine.database import Database

PID = "sop_pelaporan_kinerja_kecamatan"  # Step_01 (Tim): Waktu 1 hari; Kecamatan Contoh is WIT (UTC+9)


def _complete_first(alur_db: Database, instance_id: int, at: datetime) -> None:
    with alur_db.transaction() as session:
        task = instances.get_instance(session, instance_id).ready_tasks[0]
        user = instances.candidates(session, task.id)[0]
        instances.complete_task(session, task.id, username=user, now=at)


def _completed(alur_db: Database, instance_id: int) -> list[instances.HistoryEntry]:
    with alur_db.transaction() as session:
        return [e for e in instances.history_of(session, instance_id) if e.kind == "task_completed"]


def test_working_minutes_and_on_time(alur_db: Database) -> None:
    ready = datetime(2026, 8, 12, 0, 30, tzinfo=UTC)      # Wednesday 09:30 WIT
    with alur_db.transaction() as session:
        starter = instances.starters(session, PID, "kecamatan-contoh")[0]
        view = instances.start_instance(session, process_id=PID, unit_code="kecamatan-contoh",
                                        title="Laporan", username=starter, now=ready)
    _complete_first(alur_db, view.id, datetime(2026, 8, 12, 5, 0, tzinfo=UTC))  # 14:00 WIT, lunch skipped
    (entry,) = _completed(alur_db, view.id)
    assert (entry.waktu, entry.working_minutes, entry.on_time) == ("P1D", 210, True)


def test_late_completion_over_a_holiday_is_marked_late(alur_db: Database) -> None:
    ready = datetime(2026, 8, 14, 0, 30, tzinfo=UTC)      # Friday 09:30 WIT; Monday 17 Aug is a holiday
    with alur_db.transaction() as session:
        starter = instances.starters(session, PID, "kecamatan-contoh")[0]
        view = instances.start_instance(session, process_id=PID, unit_code="kecamatan-contoh",
                                        title="Laporan", username=starter, now=ready)
    _complete_first(alur_db, view.id, datetime(2026, 8, 18, 5, 0, tzinfo=UTC))  # Tuesday 14:00 WIT
    (entry,) = _completed(alur_db, view.id)
    # Friday 09:30-11:30 and 13:00-16:30 (330) + Tuesday 07:30-12:00 and 13:00-14:00 (330)
    assert entry.working_minutes == 660
    assert entry.on_time is False
