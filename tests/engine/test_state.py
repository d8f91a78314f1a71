"""Saving and restoring the workflow state at every wait state changes nothing.

After SpiffWorkflow's own test base: each SOP runs twice in memory with the same
decisions, once on one live ``BpmnWorkflow`` and once pruned, dumped and loaded
again at every wait state; both must see the same ready tasks and end with the
same data. A review loop taken 1,000 times must keep working and keep the state
small (``engine.state.prune``).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from SpiffWorkflow.util.task import TaskState

from engine import catalog, instances, state
from engine.catalog import Definition
from storage import instances as instance_rows

BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"
PROCESS_IDS = sorted(p.stem for p in BPMN_DIR.glob("*.bpmn"))
_MAX_STEPS = 300

ReadySet = tuple[tuple[str, str], ...]


@dataclass
class MemoryRun:
    """What an in-memory run saw: the ready (process id, task id) set at each wait state."""

    ready: list[ReadySet]
    completed: bool
    data: dict[str, Any]
    last_task_data: dict[str, Any]
    dumps: list[str]


def _definitions(alur_db, process_id: str) -> tuple[Definition, dict[str, Definition]]:
    with alur_db.transaction() as session:
        root = catalog.latest_definition(session, process_id)
        return root, catalog.called_closure(session, root)


def _ready(workflow) -> ReadySet:
    return tuple(sorted((t.workflow.spec.name, t.task_spec.bpmn_id)
                        for t in workflow.get_tasks(state=TaskState.READY, manual=True)))


def run_in_memory(root: Definition, called: dict[str, Definition], *, save_restore: bool,
                  rejections: int = 1) -> MemoryRun:
    """Run an SOP to its end, answering each review "tidak" ``rejections`` times, then "setuju".

    Each step writes a counter into the task data, so the final data shows every
    step taken and how often. With ``save_restore``, the state is pruned, dumped
    and loaded at every wait state, and the reloaded state must dump identically.
    """
    definitions = {root.process_id: root, **called}
    subprocess_specs = {pid: d.spec for pid, d in called.items()}
    workflow = state.new_workflow(root.spec, subprocess_specs)
    workflow.do_engine_steps()
    answered: Counter[tuple[str, str]] = Counter()
    seen: list[ReadySet] = []
    dumps: list[str] = []
    for _ in range(_MAX_STEPS + 4 * rejections):
        if save_restore:
            state.prune(workflow)
            dumped = state.dump_state(workflow)
            workflow = state.load_state(dumped, root.spec, subprocess_specs)
            assert state.dump_state(workflow) == dumped
            dumps.append(dumped)
        ready = workflow.get_tasks(state=TaskState.READY, manual=True)
        seen.append(_ready(workflow))
        if not ready:
            break
        assert len(ready) == 1, seen[-1]
        task = ready[0]
        key = (task.workflow.spec.name, task.task_spec.bpmn_id)
        step = definitions[key[0]].meta.steps[key[1]]
        answered[key] += 1
        data: dict[str, Any] = {f"{key[0]}.{key[1]}": answered[key]}
        if step.review:
            rejected = answered[key] <= rejections
            data["keputusan"] = "tidak" if rejected else "setuju"
            data["catatan"] = f"Perbaiki ({answered[key]})" if rejected else None
        task.data.update(data)
        task.run()
        workflow.do_engine_steps()
    else:
        raise AssertionError(f"{root.process_id} did not end")
    return MemoryRun(seen, workflow.is_completed(), dict(workflow.data),
                     dict(workflow.last_task.data) if workflow.last_task else {}, dumps)


@pytest.mark.parametrize("process_id", PROCESS_IDS)
def test_save_and_restore_at_every_wait_state_changes_nothing(alur_db, diagrams, process_id: str) -> None:
    root, called = _definitions(alur_db, process_id)

    live = run_in_memory(root, called, save_restore=False)
    restored = run_in_memory(root, called, save_restore=True)

    assert live.completed and restored.completed
    assert restored.ready == live.ready
    assert restored.data == live.data
    assert restored.last_task_data == live.last_task_data
    expected = diagrams.expected_trail(process_id, reject_first=True)
    assert [r for r in live.ready if r] == [((pid, step),) for pid, step, _ in expected]
    steps_taken = Counter(f"{pid}.{step}" for pid, step, _ in expected)
    assert {k: v for k, v in live.data.items() if k.startswith("sop_")} == dict(steps_taken)
    assert live.data.get("keputusan") in (None, "setuju")


def test_state_leaves_the_specs_out(alur_db) -> None:
    root, called = _definitions(alur_db, "sop_penyusunan_lakip_dinas")
    run = run_in_memory(root, called, save_restore=True)
    # The spec is stored once per definition version, never in an instance's state.
    with_subprocess = 0
    for dumped in run.dumps:
        dct = json.loads(dumped)
        assert "spec" not in dct and "subprocess_specs" not in dct
        for sub in dct["subprocesses"].values():
            assert isinstance(sub.get("spec", ""), str)
            with_subprocess += 1
    assert with_subprocess > 0
    assert '"task_specs"' in state.dump_spec(root.spec)
    assert not any('"task_specs"' in dumped for dumped in run.dumps)


def test_a_review_loop_rejected_1000_times_in_memory_keeps_a_small_state(alur_db) -> None:
    # sop_surat_masuk: Step_01, Step_02, Step_03 (review; "Tidak" -> Step_02), Step_04, Step_05.
    root, called = _definitions(alur_db, "sop_surat_masuk")

    once = run_in_memory(root, called, save_restore=True, rejections=1)
    many = run_in_memory(root, called, save_restore=True, rejections=1000)

    assert many.completed
    assert [r for r in many.ready if r] == (
        [(("sop_surat_masuk", "Step_01"),)]
        + [(("sop_surat_masuk", "Step_02"),), (("sop_surat_masuk", "Step_03"),)] * 1001
        + [(("sop_surat_masuk", "Step_04"),), (("sop_surat_masuk", "Step_05"),)]
    )
    assert many.data["sop_surat_masuk.Step_03"] == 1001
    # Same wait state (Step_02 ready again) after 1 and after 1,000 rejections:
    after_one, after_many = once.dumps[3], many.dumps[2 * 1000 + 1]
    assert len(after_many) <= 1.1 * len(after_one)
    assert max(map(len, many.dumps)) <= 1.1 * max(map(len, once.dumps))


def test_a_review_loop_rejected_1000_times_end_to_end(alur_db) -> None:
    """1,000 rejections through engine.instances on SQLite, one transaction per action."""
    rejections = 1000
    with alur_db.transaction() as session:
        view = instances.start_instance(session, process_id="sop_surat_masuk", unit_code="dinas-kominfo",
                                        title="Surat undangan rapat koordinasi SAKIP", username="staf1.kominfo")
    instance_id = view.id
    sizes: dict[int, int] = {}

    def complete(expected_step: str, **kwargs: Any) -> instances.InstanceView:
        with alur_db.transaction() as session:
            (task,) = instances.get_instance(session, instance_id).ready_tasks
            assert task.step_id == expected_step
            user = instances.candidates(session, task.id)[0]
            return instances.complete_task(session, task.id, username=user, **kwargs)

    complete("Step_01")
    for n in range(1, rejections + 1):
        complete("Step_02")
        after = complete("Step_03", keputusan="tidak", catatan=f"Nomor agenda salah (ke-{n})")
        (task,) = after.ready_tasks
        assert (task.step_id, task.iteration) == ("Step_02", n + 1)
        if n in (1, rejections):
            with alur_db.transaction() as session:
                sizes[n] = len(instance_rows.get(session, instance_id).state_json)
    complete("Step_02")
    after = complete("Step_03", keputusan="setuju")
    assert [t.step_id for t in after.ready_tasks] == ["Step_04"]
    complete("Step_04")
    final = complete("Step_05")

    assert final.status == "completed"
    assert sizes[rejections] <= 1.1 * sizes[1]
    with alur_db.transaction() as session:
        history = instances.history_of(session, instance_id)
    decisions = [(e.keputusan, e.catatan) for e in history if e.kind == "task_completed" and e.step_id == "Step_03"]
    assert decisions == [("tidak", f"Nomor agenda salah (ke-{n})") for n in range(1, rejections + 1)] + [
        ("setuju", None)]
