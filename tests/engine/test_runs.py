"""Every deployed SOP runs to its end: the happy path, every review loop, every call activity.

Each run goes through ``engine.instances`` on a copy of the template database,
one transaction per step, each step completed by a user who holds its lane. The
expected path comes from the BPMN XML itself (``Diagrams`` in conftest), read
with lxml independently of the engine.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from engine import catalog, instances
from storage.demo import DEMO_UNITS
from storage.org import normalize_role_name

BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"
PROCESS_IDS = sorted(p.stem for p in BPMN_DIR.glob("*.bpmn"))
WITH_CALL_ACTIVITIES = sorted(
    p.stem for p in BPMN_DIR.glob("*.bpmn") if "<bpmn:callActivity" in p.read_text(encoding="utf-8")
)


def test_every_diagram_is_deployed_and_named_after_its_process(diagrams, alur_db) -> None:
    with alur_db.transaction() as session:
        deployed = sorted(d.process_id for d in catalog.list_latest(session))
    assert len(PROCESS_IDS) == 18
    assert deployed == PROCESS_IDS == sorted(diagrams.by_id)


def demo_holders(unit_code: str, lane: str) -> tuple[str, ...]:
    """Usernames holding the demo role a lane names (by role name or alias), from storage.demo."""
    (unit,) = [u for u in DEMO_UNITS if u.code == unit_code]
    wanted = normalize_role_name(lane)
    (role,) = [r for r in unit.roles if wanted in {normalize_role_name(n) for n in (r.name, *r.aliases)}]
    return tuple(sorted(u.username for u in role.users))


def _history(runner, instance_id):
    with runner.database.transaction() as session:
        return instances.history_of(session, instance_id)


@pytest.mark.parametrize("process_id", PROCESS_IDS)
def test_happy_path_completes(runner, diagrams, process_id: str) -> None:
    started = runner.start(process_id)
    assert started.status == "running"
    assert started.unit_code == diagrams.unit_code(process_id)

    done = runner.run(started.id, reject_first=False)

    expected = diagrams.expected_trail(process_id, reject_first=False)
    assert [(c.process_id, c.step_id, c.keputusan) for c in done] == expected
    assert all(c.keputusan != "tidak" for c in done)
    team: tuple[str, ...] | None = None
    for c in done:
        lane = diagrams[c.process_id].lanes[c.step_id]
        assert c.lane == lane
        if diagrams[c.process_id].lane_is_team[lane] and team is not None:
            assert c.candidates == team, (c.step_id, lane)
        else:
            assert c.candidates == demo_holders(started.unit_code, lane), (c.step_id, lane)
        assert c.user in c.candidates
        if c.team is not None:
            team = tuple(sorted(c.team))
    assert (team is not None) == bool(diagrams[process_id].forms_team)
    with runner.database.transaction() as session:
        final = instances.get_instance(session, started.id)
    assert final.status == "completed"
    assert final.completed_at is not None
    assert final.ready_tasks == ()


@pytest.mark.parametrize("process_id", PROCESS_IDS)
def test_every_review_loop_goes_back_to_the_tidak_target(runner, diagrams, process_id: str) -> None:
    started = runner.start(process_id)

    done = runner.run(started.id, reject_first=True)

    assert [(c.process_id, c.step_id, c.keputusan) for c in done] == diagrams.expected_trail(
        process_id, reject_first=True)
    rejections = [c for c in done if c.keputusan == "tidak"]
    reviews = {(pid, s) for pid, d in diagrams.by_id.items() for s in d.reviews}
    assert {(c.process_id, c.step_id) for c in rejections} == {
        (c.process_id, c.step_id) for c in done if (c.process_id, c.step_id) in reviews}
    for c in rejections:
        target = diagrams[c.process_id].tidak_target(c.step_id)
        assert c.ready_after == (diagrams.first_steps(c.process_id, target),), (c.step_id, target)
        assert c.catatan
    with runner.database.transaction() as session:
        assert instances.get_instance(session, started.id).status == "completed"
    catatan = [(e.step_id, e.keputusan, e.catatan) for e in _history(runner, started.id)
               if e.kind == "task_completed" and e.keputusan == "tidak"]
    assert catatan == [(c.step_id, "tidak", c.catatan) for c in rejections]
    # iteration = how many times this step (of this process) has become ready in the instance
    seen: Counter[tuple[str, str]] = Counter()
    for c in done:
        seen[(c.process_id, c.step_id)] += 1
        assert c.iteration == seen[(c.process_id, c.step_id)], (c.process_id, c.step_id)
    if rejections:  # the first "tidak" sends the flow back to a step done exactly once before
        assert rejections[0].iteration_after == (2,)


def test_first_task_of_a_called_sop_is_its_first_iteration(runner) -> None:
    # sop_penyusunan_lakip_dinas: Step_01..Step_05 of its own, then Step_06 calls sop_fgd,
    # whose first user task is also called Step_01: it is ready for the first time.
    started = runner.start("sop_penyusunan_lakip_dinas")
    runner.run(started.id, reject_first=False, until=lambda t: t.process_id == "sop_fgd")
    with runner.database.transaction() as session:
        (task,) = instances.get_instance(session, started.id).ready_tasks
    assert (task.process_id, task.step_id) == ("sop_fgd", "Step_01")
    assert task.iteration == 1


@pytest.mark.parametrize("reject_first", [False, True], ids=["setuju", "tidak-sekali"])
@pytest.mark.parametrize("process_id", WITH_CALL_ACTIVITIES)
def test_every_call_activity_is_passed_through(runner, diagrams, process_id: str, reject_first: bool) -> None:
    started = runner.start(process_id)

    runner.run(started.id, reject_first=reject_first)

    expected = diagrams.expected_calls(process_id, reject_first=reject_first)
    assert set(diagrams[process_id].called.values()) <= set(expected)
    history = _history(runner, started.id)
    started_calls = Counter(e.process_id for e in history if e.kind == "called_process_started")
    completed_calls = Counter(e.process_id for e in history if e.kind == "called_process_completed")
    assert completed_calls == expected
    assert started_calls == expected
    kinds = [e.kind for e in history]
    assert kinds[-1] == "instance_completed"
    assert kinds.index("called_process_started") < kinds.index("called_process_completed")


def test_lakip_enters_its_called_data_sop_again_after_tidak(runner) -> None:
    # Step_09 "Tidak" goes back to the call activity Step_08: sop_pengumpulan_pengolahan_data runs twice.
    started = runner.start("sop_penyusunan_lakip_dinas")
    done = runner.run(started.id, reject_first=True)
    step_09 = [c for c in done if (c.process_id, c.step_id) == ("sop_penyusunan_lakip_dinas", "Step_09")]
    assert [c.keputusan for c in step_09] == ["tidak", "setuju"]
    assert step_09[0].ready_after == (("sop_pengumpulan_pengolahan_data", "Step_01"),)
    history = _history(runner, started.id)
    assert Counter(e.process_id for e in history if e.kind == "called_process_started") == Counter(
        {"sop_fgd": 1, "sop_pengumpulan_pengolahan_data": 2, "sop_pengadministrasian_umum": 1})


def test_call_activity_as_first_step_is_audited_at_start(runner) -> None:
    # sop_pelaporan_kinerja_periodik_dinas starts with Step_01, a call activity to sop_surat_masuk.
    started = runner.start("sop_pelaporan_kinerja_periodik_dinas")
    assert [(t.process_id, t.step_id) for t in started.ready_tasks] == [("sop_surat_masuk", "Step_01")]
    kinds = [(e.kind, e.process_id) for e in _history(runner, started.id)]
    assert kinds[0] == ("instance_started", "sop_pelaporan_kinerja_periodik_dinas")
    assert sorted(kinds[1:]) == [("called_process_started", "sop_surat_masuk"), ("task_ready", "sop_surat_masuk")]
