"""Rule 4 of ``engine.visibility`` (issue 8): a superior sent an escalation reads that step and its instance.

The superior is today the unit's head, who reads the unit anyway (rule 2); the rule
matters once superiors come from the organisation model, so it is checked here with
a user of another unit, who reads nothing of the Kecamatan until escalated to.
"""

from __future__ import annotations

from datetime import UTC, datetime

from engine import instances, visibility
from engine.database import Database
from storage import notifications as notification_store
from storage import org

UNIT = "kecamatan-contoh"
OUTSIDER = "kadin.kominfo"  # the Kepala Dinas of another unit


def test_escalated_superior_reads_the_step_and_its_instance_but_never_acts(alur_db: Database) -> None:
    with alur_db.transaction() as session:
        view = instances.start_instance(session, process_id="sop_pelaporan_kinerja_kecamatan", unit_code=UNIT,
                                        title="Laporan Kinerja Triwulan IV", username="tim1.kecamatan")
        task_id = view.ready_tasks[0].id
        other = instances.start_instance(session, process_id="sop_pelaporan_kinerja_kecamatan", unit_code=UNIT,
                                         title="Laporan lain", username="tim1.kecamatan")
        assert not visibility.can_see_instance(session, view.id, OUTSIDER)
        assert not visibility.reads_task(session, view.id, task_id, OUTSIDER)
        notification_store.add(session, user_id=org.get_user_by_username(session, OUTSIDER).id,
                               kind="task_escalated", unit_id=org.get_unit_by_code(session, UNIT).id,
                               created_at=datetime.now(UTC), instance_id=view.id, human_task_id=task_id)
        assert visibility.can_see_instance(session, view.id, OUTSIDER)
        assert visibility.reads_task(session, view.id, task_id, OUTSIDER)
        assert OUTSIDER not in instances.candidates(session, task_id)  # reading only
        assert not visibility.can_see_instance(session, other.id, OUTSIDER)  # only the escalated instance
        assert not visibility.reads_task(session, other.id, other.ready_tasks[0].id, OUTSIDER)


def test_a_reminder_gives_no_read_access(alur_db: Database) -> None:
    with alur_db.transaction() as session:
        view = instances.start_instance(session, process_id="sop_pelaporan_kinerja_kecamatan", unit_code=UNIT,
                                        title="Laporan Kinerja Triwulan IV", username="tim1.kecamatan")
        task_id = view.ready_tasks[0].id
        notification_store.add(session, user_id=org.get_user_by_username(session, OUTSIDER).id,
                               kind="task_reminder", unit_id=org.get_unit_by_code(session, UNIT).id,
                               created_at=datetime.now(UTC), instance_id=view.id, human_task_id=task_id)
        assert not visibility.can_see_instance(session, view.id, OUTSIDER)
        assert not visibility.reads_task(session, view.id, task_id, OUTSIDER)
