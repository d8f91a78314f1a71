"""Helpers shared by test modules (engine, web, API): drive an instance, set up an access scene."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

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
