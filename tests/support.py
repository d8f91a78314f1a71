"""Helpers shared by test modules (engine, web, API): drive an instance, set up an access scene."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from engine import instances
from engine.database import Database
from engine.views import InstanceView, TaskView
from storage.demo import DEMO_UNITS

CSRF_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

# One SOP per demo unit, for authorization matrices.
SOP_OF_UNIT = {
    "kecamatan-contoh": "sop_pelaporan_kinerja_kecamatan",
    "dinas-kominfo": "sop_penyusunan_lakip_dinas",
    "bagian-organisasi": "sop_evaluasi_bagian",
}
# Written out here, not read from engine.visibility: the heads and secretaries of the demo units,
# who read every instance of their unit, and the demo auditors with their scope (None: every unit).
OVERSEERS = {"kecamatan-contoh": {"Camat", "Sekretaris"}, "dinas-kominfo": {"Kepala Dinas", "Sekretaris"},
             "bagian-organisasi": {"Kabag"}}
AUDITORS = {"auditor.inspektorat": None, "evaluator.kecamatan": "kecamatan-contoh"}
# (unit code, role name, first holder's username) for every role of every demo unit.
ROLE_HOLDERS = [(unit.code, role.name, role.users[0].username) for unit in DEMO_UNITS for role in unit.roles]


def ready_task(database: Database, instance_id: int) -> TaskView:
    """The instance's single ready task (fails if there is not exactly one)."""
    with database.transaction() as session:
        (task,) = instances.get_instance(session, instance_id).ready_tasks
    return task


def advance_until(database: Database, instance_id: int, until_step: str) -> TaskView:
    """Complete the instance's steps through the engine ("setuju" on reviews) until ``until_step`` is ready."""
    while (task := ready_task(database, instance_id)).step_id != until_step:
        with database.transaction() as session:
            user = instances.candidates(session, task.id)[0]
            instances.complete_task(session, task.id, username=user,
                                    keputusan="setuju" if task.is_review else None)
    return task


@dataclass(frozen=True)
class AccessScene:
    """An instance with one completed and one ready task, and who may see what."""

    instance_id: int
    title: str
    done_task: str
    ready_task: str
    done_candidates: frozenset[str]
    ready_candidates: frozenset[str]


def access_scene(database: Database, start: Callable[..., InstanceView], unit_code: str) -> AccessScene:
    """Start the unit's SOP (``start`` is the web ``start`` fixture) and complete its first step."""
    view = start(SOP_OF_UNIT[unit_code], unit_code, title=f"Rahasia {unit_code}")
    first = view.ready_tasks[0]
    with database.transaction() as session:
        done_by = instances.candidates(session, first.id)
        (ready,) = instances.complete_task(session, first.id, username=done_by[0]).ready_tasks
        ready_by = instances.candidates(session, ready.id)
    return AccessScene(view.id, view.title, first.id, ready.id, frozenset(done_by), frozenset(ready_by))


BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
ALUR_NS = "http://alur.dev/schema/bpmn/sop/1.0"


def long_sop_xml(steps: int, lanes: int) -> bytes:
    """A scratch SOP: steps walk across the lanes; every 4th step reviews and sends Tidak 3 rows back."""
    lane_xml = "".join(f'<bpmn:lane id="L{i}" name="Peran {i}">' + "".join(
        f"<bpmn:flowNodeRef>S{s}</bpmn:flowNodeRef>" + (f"<bpmn:flowNodeRef>G{s}</bpmn:flowNodeRef>" if s % 4 == 3 else "")
        for s in range(steps) if s % lanes == i) + ("<bpmn:flowNodeRef>Start</bpmn:flowNodeRef>" if i == 0 else "")
        + ("<bpmn:flowNodeRef>End</bpmn:flowNodeRef>" if i == (steps - 1) % lanes else "") + "</bpmn:lane>"
        for i in range(lanes))
    nodes, flows = ['<bpmn:startEvent id="Start"/>', '<bpmn:endEvent id="End"/>'], ['<bpmn:sequenceFlow id="F_s" sourceRef="Start" targetRef="S0"/>']
    for s in range(steps):
        review = s % 4 == 3
        nodes.append(f'<bpmn:userTask id="S{s}" name="Langkah {s}"><bpmn:documentation>Langkah nomor {s} '
                     f'{"memeriksa, jika setuju lanjut, jika tidak kembali" if review else "mengerjakan"}</bpmn:documentation>'
                     + ('<bpmn:extensionElements><alur:review/></bpmn:extensionElements>' if review else "") + "</bpmn:userTask>")
        after = f"S{s + 1}" if s + 1 < steps else "End"
        if review:
            nodes.append(f'<bpmn:exclusiveGateway id="G{s}"/>')
            flows += [f'<bpmn:sequenceFlow id="F{s}" sourceRef="S{s}" targetRef="G{s}"/>',
                      f'<bpmn:sequenceFlow id="F{s}y" name="Ya" sourceRef="G{s}" targetRef="{after}"/>',
                      f'<bpmn:sequenceFlow id="F{s}t" name="Tidak" sourceRef="G{s}" targetRef="S{s - 3}"/>']
        else:
            flows.append(f'<bpmn:sequenceFlow id="F{s}" sourceRef="S{s}" targetRef="{after}"/>')
    return (f'<bpmn:definitions xmlns:bpmn="{BPMN_NS}" xmlns:alur="{ALUR_NS}" id="D" targetNamespace="t">'
            f'<bpmn:process id="sop_panjang" name="SOP Panjang" isExecutable="true"><bpmn:laneSet>{lane_xml}'
            f'</bpmn:laneSet>{"".join(nodes)}{"".join(flows)}</bpmn:process></bpmn:definitions>').encode()


RaceJob = tuple[Callable[[Session], object], Callable[[Session], object]]
"""``(read, write)``: what one contender does before and after the others have read too."""


def race(database: Database, jobs: Sequence[RaceJob], *, join_timeout_s: float = 90.0) -> list[object]:
    """Run each job in its own thread and transaction: ``read(session)``, then wait at a barrier until every
    job has read, then ``write(session)`` — so all contenders write on what they read before anyone wrote.

    Returns each job's ``write`` result or the exception it raised (``BaseException``
    included: a failed assert is reported, not lost in the thread), in ``jobs`` order.
    Fails the test when a thread is still running after ``join_timeout_s`` seconds.
    """
    barrier = threading.Barrier(len(jobs))
    outcomes: list[object] = [None] * len(jobs)

    def contend(index: int) -> None:
        read, write = jobs[index]
        try:
            with database.transaction() as session:
                read(session)
                barrier.wait(timeout=30)
                outcomes[index] = write(session)
        except BaseException as exc:  # reported to the test thread
            outcomes[index] = exc

    threads = [threading.Thread(target=contend, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=join_timeout_s)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes
