"""engine.progress: completed and current steps of an instance, per diagram.

The oracle is the run itself: a ``SopRunner`` run records every step it
completes, and the diagrams read with lxml (``diagrams``) say which call
activity calls which SOP and how often a run enters it.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from engine import catalog, progress
from engine.database import Database
from storage.errors import InstanceNotFound, ProcessNotFound

if TYPE_CHECKING:
    from tests.engine.conftest import Diagrams, SopRunner

BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"
SOPS = sorted(p.stem for p in BPMN_DIR.glob("*.bpmn"))
PELAPORAN = "sop_pelaporan_kinerja_kecamatan"
PENGIRIMAN = "sop_pengiriman_surat_dokumen"


def _progress(database: Database, instance_id: int) -> progress.InstanceProgress:
    with database.transaction() as session:
        return progress.progress_of(session, instance_id)


def test_a_new_instance_is_at_its_first_step(runner: SopRunner) -> None:
    view = runner.start(PELAPORAN)
    found = _progress(runner.database, view.id)
    assert found.status == "running"
    assert [(d.process_id, d.root) for d in found.diagrams] == [(PELAPORAN, True), (PENGIRIMAN, False)]
    root, called = found.diagrams
    assert root.current == ("Step_01",) and root.completed == {}
    assert called.current == () and called.completed == {}
    assert found.to_json()["diagrams"][0]["current"] == ["Step_01"]


def test_redone_steps_are_counted_and_a_running_call_activity_is_current(runner: SopRunner) -> None:
    view = runner.start(PELAPORAN, unit_code="kecamatan-contoh")
    done = runner.run(view.id, reject_first=True, until=lambda task: task.process_id == PENGIRIMAN)
    root, called = _progress(runner.database, view.id).diagrams
    expected = Counter(c.step_id for c in done if c.process_id == PELAPORAN)
    assert expected["Step_03"] == 2  # "Tidak" at Step_04 sent it back once
    assert root.completed == dict(expected)
    assert root.current == ("Step_09",)  # the call activity: SOP Pengiriman runs
    assert called.current == ("Step_01",) and called.completed == {}


@pytest.mark.parametrize("process_id", SOPS)
def test_a_finished_run_is_completed_on_every_diagram(runner: SopRunner, diagrams: Diagrams,
                                                      process_id: str) -> None:
    view = runner.start(process_id)
    done = runner.run(view.id, reject_first=True)
    found = _progress(runner.database, view.id)
    assert found.status == "completed"
    calls = diagrams.expected_calls(process_id, reject_first=True)
    for diagram in found.diagrams:
        expected = Counter(c.step_id for c in done if c.process_id == diagram.process_id)
        for call_id, called in diagrams[diagram.process_id].called.items():
            if calls[called]:
                expected[call_id] = calls[called]
        assert diagram.completed == dict(expected), diagram.process_id
        assert diagram.current == (), diagram.process_id


def test_no_sop_calls_the_same_sop_from_two_call_activities(alur_db: Database) -> None:
    """progress counts a called SOP on the call activity that calls it: it must be the only one."""
    with alur_db.transaction() as session:
        for root in catalog.list_latest(session):
            versions = [root, *catalog.called_closure(session, root).values()]
            called = [s.called_element for d in versions for s in d.meta.steps.values() if s.called_element]
            assert len(called) == len(set(called)), root.process_id


def test_diagram_xml_is_the_version_the_instance_runs(runner: SopRunner) -> None:
    view = runner.start(PELAPORAN)
    with runner.database.transaction() as session:
        root = progress.diagram_xml(session, view.id, PELAPORAN)
        called = progress.diagram_xml(session, view.id, PENGIRIMAN)
        with pytest.raises(ProcessNotFound):
            progress.diagram_xml(session, view.id, "sop_fgd")
        with pytest.raises(InstanceNotFound):
            progress.diagram_xml(session, view.id + 1000, PELAPORAN)
        with pytest.raises(InstanceNotFound):
            progress.progress_of(session, view.id + 1000)
    assert root == (BPMN_DIR / f"{PELAPORAN}.bpmn").read_text(encoding="utf-8")
    assert f'<bpmn:process id="{PENGIRIMAN}"' in called
