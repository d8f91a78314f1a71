"""BPMN timers executed by the worker: boundary timers on a user task (interrupting and not) and an
intermediate timer catch event, each fired once through the optimistic lock, on real (short) durations.

The boundary timers' value is quoted (``"PT2S"``), the intermediate one's bare (``PT2S``): deploy accepts both."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from engine import instances, invariants
from engine.database import Database
from engine.deploy import deploy_sources
from engine.settings import Settings
from engine.worker import Worker
from storage.models import Job

TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xmlns:alur="http://alur.dev/schema/bpmn/sop/1.0"
  id="Definitions_1" targetNamespace="http://alur.dev/test">
  <bpmn:process id="{pid}" name="SOP Uji Timer" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_Staf" name="Staf">
        <bpmn:flowNodeRef>StartEvent_1</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Step_01</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Boundary_1</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Timer_1</bpmn:flowNodeRef>
      </bpmn:lane>
      <bpmn:lane id="Lane_Kasubag" name="Kasubag Evapor">
        <bpmn:flowNodeRef>Step_02</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Step_Late</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>EndEvent_1</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>End_Late</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="StartEvent_1" name="Mulai"/>
    <bpmn:userTask id="Step_01" name="Ketik konsep"/>
    <bpmn:boundaryEvent id="Boundary_1" name="Lewat waktu" attachedToRef="Step_01" cancelActivity="{cancel}">
      <bpmn:timerEventDefinition><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">"PT2S"</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:userTask id="Step_Late" name="Tindak lanjuti keterlambatan"/>
    <bpmn:intermediateCatchEvent id="Timer_1" name="Tunggu">
      <bpmn:timerEventDefinition><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">PT2S</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:userTask id="Step_02" name="Periksa konsep"/>
    <bpmn:endEvent id="EndEvent_1" name="Selesai"/>
    <bpmn:endEvent id="End_Late" name="Selesai (terlambat)"/>
    <bpmn:sequenceFlow id="F1" sourceRef="StartEvent_1" targetRef="Step_01"/>
    <bpmn:sequenceFlow id="F2" sourceRef="Step_01" targetRef="Timer_1"/>
    <bpmn:sequenceFlow id="F3" sourceRef="Timer_1" targetRef="Step_02"/>
    <bpmn:sequenceFlow id="F4" sourceRef="Step_02" targetRef="EndEvent_1"/>
    <bpmn:sequenceFlow id="F5" sourceRef="Boundary_1" targetRef="Step_Late"/>
    <bpmn:sequenceFlow id="F6" sourceRef="Step_Late" targetRef="End_Late"/>
  </bpmn:process>
</bpmn:definitions>
"""
UNIT = "kecamatan-contoh"
BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"


def _deploy_and_start(database: Database, pid: str, cancel: bool) -> int:
    with database.transaction() as session:
        deploy_sources(session, {f"{pid}.bpmn": TEMPLATE.format(pid=pid, cancel=str(cancel).lower()).encode()})
        return instances.start_instance(session, process_id=pid, unit_code=UNIT, title="Uji timer",
                                        username="staf1.kecamatan").id


def _ready_steps(database: Database, instance_id: int) -> dict[str, str]:
    with database.transaction() as session:
        return {t.step_id: t.id for t in instances.get_instance(session, instance_id).ready_tasks}


def _wait_and_fire(database: Database) -> None:
    with database.transaction() as session:
        due = max(session.scalars(select(Job.run_at).where(Job.kind == "bpmn_timer", Job.state == "pending")))
    time.sleep(max((due - datetime.now(UTC)).total_seconds(), 0) + 0.2)
    Worker(database, Settings(database_url=str(database.engine.url), bpmn_dir=BPMN_DIR)).drain()


def _kinds(database: Database, instance_id: int) -> list[str]:
    with database.transaction() as session:
        return [e.kind for e in instances.history_of(session, instance_id)]


def _complete(database: Database, task_id: str, username: str) -> None:
    with database.transaction() as session:
        instances.complete_task(session, task_id, username=username)


def test_non_interrupting_boundary_then_intermediate_timer(alur_db: Database) -> None:
    instance_id = _deploy_and_start(alur_db, "sop_uji_timer", cancel=False)
    assert set(_ready_steps(alur_db, instance_id)) == {"Step_01"}
    _wait_and_fire(alur_db)
    ready = _ready_steps(alur_db, instance_id)
    assert set(ready) == {"Step_01", "Step_Late"}  # the step stays; the follow-up arrives beside it
    _complete(alur_db, ready["Step_01"], "staf1.kecamatan")
    assert set(_ready_steps(alur_db, instance_id)) == {"Step_Late"}  # Timer_1 waits
    _wait_and_fire(alur_db)
    ready = _ready_steps(alur_db, instance_id)
    assert set(ready) == {"Step_Late", "Step_02"}
    kasubag = "kasubag.evapor.kecamatan"
    _complete(alur_db, ready["Step_Late"], kasubag)
    _complete(alur_db, ready["Step_02"], kasubag)
    kinds = _kinds(alur_db, instance_id)
    assert kinds.count("timer_fired") == 2 and kinds[-1] == "instance_completed"
    with alur_db.transaction() as session:
        report = invariants.check(session)
        assert report.violations == []
        assert {j.state for j in session.scalars(select(Job).where(Job.kind == "bpmn_timer"))} == {"done"}


def test_interrupting_boundary_timer_cancels_the_step(alur_db: Database) -> None:
    instance_id = _deploy_and_start(alur_db, "sop_uji_timer_putus", cancel=True)
    first = _ready_steps(alur_db, instance_id)["Step_01"]
    _wait_and_fire(alur_db)
    assert set(_ready_steps(alur_db, instance_id)) == {"Step_Late"}
    kinds = _kinds(alur_db, instance_id)
    assert kinds.count("timer_fired") == 1 and "task_cancelled" in kinds
    with alur_db.transaction() as session:
        assert instances.get_task(session, first).state == "cancelled"
        assert invariants.check(session).violations == []


def test_cycle_boundary_timer_fires_each_time(alur_db: Database) -> None:
    pid = "sop_uji_timer_siklus"
    source = TEMPLATE.format(pid=pid, cancel="false").replace(
        '<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">"PT2S"</bpmn:timeDuration></bpmn:timerEventDefinition>\n'
        '    </bpmn:boundaryEvent>',
        '<bpmn:timeCycle xsi:type="bpmn:tFormalExpression">"R2/PT2S"</bpmn:timeCycle></bpmn:timerEventDefinition>\n'
        '    </bpmn:boundaryEvent>')
    assert "R2/PT2S" in source
    with alur_db.transaction() as session:
        deploy_sources(session, {f"{pid}.bpmn": source.encode()})
        instance_id = instances.start_instance(session, process_id=pid, unit_code=UNIT, title="Siklus",
                                               username="staf1.kecamatan").id
    _wait_and_fire(alur_db)
    _wait_and_fire(alur_db)
    with alur_db.transaction() as session:
        late = [t for t in instances.get_instance(session, instance_id).ready_tasks if t.step_id == "Step_Late"]
        assert len(late) == 2  # R2: two repetitions, each a follow-up beside the step
        assert invariants.check(session, check_jobs=False).violations == []
    assert _kinds(alur_db, instance_id).count("timer_fired") >= 1


def test_working_time_timer_counts_on_the_units_calendar(alur_db: Database) -> None:
    from engine.calendar import calendar_for
    from engine.waktu import Waktu

    pid = "sop_uji_timer_kerja"
    source = TEMPLATE.format(pid=pid, cancel="false").replace(
        'cancelActivity="false">\n',
        'cancelActivity="false">\n      <bpmn:extensionElements><alur:timer workingTime="true"/></bpmn:extensionElements>\n'
    ).replace('"PT2S"</bpmn:timeDuration></bpmn:timerEventDefinition>\n    </bpmn:boundaryEvent>',
              '"PT30M"</bpmn:timeDuration></bpmn:timerEventDefinition>\n    </bpmn:boundaryEvent>')
    assert 'workingTime="true"' in source and '"PT30M"' in source
    calendar = calendar_for("Asia/Jayapura")
    before = datetime.now(UTC)
    with alur_db.transaction() as session:
        deploy_sources(session, {f"{pid}.bpmn": source.encode()})
        instances.start_instance(session, process_id=pid, unit_code=UNIT, title="Jam kerja",
                                 username="staf1.kecamatan")
    after = datetime.now(UTC)
    with alur_db.transaction() as session:
        (run_at,) = session.scalars(select(Job.run_at).where(Job.kind == "bpmn_timer"))
    assert calendar.add(before, Waktu(30, "menit")) <= run_at <= calendar.add(after, Waktu(30, "menit"))
