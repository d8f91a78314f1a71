"""Run-time safety net (issue 6, items 3-4): an engine error is a clear error and nothing changes.

The diagrams here get past the deploy checks only because the test switches the
data-flow check off (``bypass``), as a diagram stored by an older Alur would
be: the run-time net must hold on its own.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from engine import instances
from engine.database import Database
from engine.deploy import deploy_sources
from storage.errors import ExpressionLimitError, ProcessExecutionError
from storage.models import AuditEvent, HumanTask, ProcessInstance
from tests.engine.test_hostile_diagrams import LETTER_STEP, boundary_timer, cond, review_sop, sop

UNIT = "kecamatan-contoh"


@pytest.fixture
def bypass(monkeypatch: pytest.MonkeyPatch) -> None:
    """Deploy without the data-flow check."""
    from engine import dataflow  # imported here so the file also collects on code without the check

    monkeypatch.setattr(dataflow, "check_process", lambda process, filename: None)


def _deploy(database: Database, data: bytes) -> str:
    with database.transaction() as session:
        (deployed,) = deploy_sources(session, {"uji.bpmn": data})
    return deployed.process_id


def _start(database: Database, process_id: str, **kwargs: object) -> instances.InstanceView:
    with database.transaction() as session:
        starter = instances.starters(session, process_id, UNIT)[0]
        return instances.start_instance(session, process_id=process_id, unit_code=UNIT, title="Uji galat",
                                        username=starter, **kwargs)


def _snapshot(database: Database, instance_id: int) -> tuple[object, ...]:
    with database.transaction() as session:
        row = session.get(ProcessInstance, instance_id)
        assert row is not None
        events = session.scalar(select(func.count()).select_from(AuditEvent)
                                .where(AuditEvent.instance_id == instance_id))
        ready = session.scalars(select(HumanTask.id).where(HumanTask.instance_id == instance_id,
                                                           HumanTask.state == "ready")).all()
        return row.state_json, row.lock_version, row.status, events, sorted(ready)


def _complete_fails(database: Database, view: instances.InstanceView) -> ProcessExecutionError:
    task = view.ready_tasks[0]
    before = _snapshot(database, view.id)
    with pytest.raises(ProcessExecutionError) as info:
        with database.transaction() as session:
            user = instances.candidates(session, task.id)[0]
            instances.complete_task(session, task.id, username=user, keputusan="setuju")
    assert _snapshot(database, view.id) == before  # task still ready, no history, same state and version
    assert " at 0x" not in str(info.value) and "Traceback" not in str(info.value)
    return info.value


def test_condition_on_unset_variable_fails_cleanly_and_changes_nothing(alur_db: Database, bypass: None) -> None:
    pid = _deploy(alur_db, sop(review_sop(ya="setuju == True")))
    error = _complete_fails(alur_db, _start(alur_db, pid))
    assert "Proses tidak dapat dilanjutkan setelah 'Periksa' (elemen Gateway_1): variabel 'setuju' belum ada" \
        in str(error)
    assert "Tidak ada yang diubah" in str(error)


def test_expression_past_its_bounds_at_run_time_fails_cleanly(alur_db: Database) -> None:
    pid = _deploy(alur_db, sop(review_sop(ya='keputusan * 1500000000 != ""')))  # not constant: deploys
    began = time.monotonic()
    error = _complete_fails(alur_db, _start(alur_db, pid))
    assert time.monotonic() - began < 5
    assert isinstance(error.__cause__, Exception) and "melebihi 100000" in str(error)


def test_failure_while_starting_stores_no_instance(alur_db: Database, bypass: None) -> None:
    body = f"""<bpmn:startEvent id="StartEvent_1"/><bpmn:exclusiveGateway id="Gateway_0" default="F_Default"/>
<bpmn:userTask id="Step_01" name="Ketik"/><bpmn:endEvent id="End"/>
<bpmn:sequenceFlow id="F1" sourceRef="StartEvent_1" targetRef="Gateway_0"/>
<bpmn:sequenceFlow id="F_Cepat" sourceRef="Gateway_0" targetRef="End">{cond("prioritas > 1")}</bpmn:sequenceFlow>
<bpmn:sequenceFlow id="F_Default" sourceRef="Gateway_0" targetRef="Step_01"/>
<bpmn:sequenceFlow id="F2" sourceRef="Step_01" targetRef="End"/>"""
    pid = _deploy(alur_db, sop(body))
    with alur_db.transaction() as session:
        count = session.scalar(select(func.count()).select_from(ProcessInstance))
    with pytest.raises(ProcessExecutionError) as info:
        _start(alur_db, pid)
    assert "'prioritas'" in str(info.value)
    with alur_db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(ProcessInstance)) == count


def test_letter_start_data_reaches_the_conditions(alur_db: Database) -> None:
    pid = _deploy(alur_db, sop(review_sop(ya='keputusan == "setuju" and nomor_surat != ""', task_ext=LETTER_STEP)))
    view = _start(alur_db, pid, input_data={"nomor_surat": "005/12", "tanggal_surat": "2026-11-02"})
    with alur_db.transaction() as session:
        task = view.ready_tasks[0]
        after = instances.complete_task(session, task.id, username=instances.candidates(session, task.id)[0],
                                        keputusan="setuju")
    assert after.status == "completed"


def test_timer_stored_without_the_deploy_check_fails_cleanly_at_start(alur_db: Database,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from engine import deploy_checks  # imported here so the file also collects on code without the check

    monkeypatch.setattr(deploy_checks, "check_timers", lambda tree, filename: None)
    monkeypatch.setattr(deploy_checks, "quote_timer_values", lambda tree: None)  # P7D stays a Python name
    pid = _deploy(alur_db, boundary_timer("timeDuration", "P7D"))
    with alur_db.transaction() as session:
        count = session.scalar(select(func.count()).select_from(ProcessInstance))
    with pytest.raises(ProcessExecutionError) as info:
        _start(alur_db, pid)
    assert "Timer_1" in str(info.value) and "Tidak ada yang diubah" in str(info.value)
    with alur_db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(ProcessInstance)) == count


def test_limit_error_is_a_process_execution_error() -> None:
    assert issubclass(ExpressionLimitError, ProcessExecutionError)


