"""Who gets a task, what a completion must carry, when it is due, and what history keeps.

Lanes resolve to a unit's roles (by name or alias) or to the team an instance
formed; a task inside a called SOP falls back to the call activity's lane when
the unit lacks the called lane's role. Refused actions change nothing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from engine import instances
from engine.calendar import calendar_for
from engine.waktu import Waktu
from storage import calendar as calendar_store
from storage import org, tasks
from storage.errors import (
    InvalidTaskDataError,
    PermissionDeniedError,
    ProcessNotFound,
    UnitNotFound,
    UserNotFound,
)
from storage.models import AuditEvent, HumanTask, ProcessInstance, Role, Team

BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"
PROCESS_IDS = sorted(p.stem for p in BPMN_DIR.glob("*.bpmn"))
APPEND_ONLY = "audit_event hanya boleh ditambah / audit_event is append-only"


def _until(process_id: str, step_id: str):
    return lambda task: (task.process_id, task.step_id) == (process_id, step_id)


def _ready_task(database, instance_id: int) -> instances.TaskView:
    with database.transaction() as session:
        (task,) = instances.get_instance(session, instance_id).ready_tasks
        return task


def _snapshot(database, instance_id: int) -> tuple:
    """Everything a refused action must leave as it was."""
    with database.transaction() as session:
        row = session.get(ProcessInstance, instance_id)
        return (
            row.lock_version, row.status, len(instances.history_of(session, instance_id)),
            [(h.id, h.state, h.completed_by_id) for h in tasks.tasks_of_instance(session, instance_id)],
            session.scalar(select(func.count()).select_from(Team).where(Team.instance_id == instance_id)),
        )


def _inbox_ids(database, username: str) -> set[str]:
    with database.transaction() as session:
        return {t.id for t in instances.inbox(session, username)}


# --- lanes -> roles -----------------------------------------------------------------------


@pytest.mark.parametrize(("process_id", "step_id", "lane", "role", "holders"), [
    ("sop_pelaporan_kinerja_tahunan_bagian", "Step_04", "Staff", "Staf", ["staf1.organisasi", "staf2.organisasi"]),
    ("sop_pengukuran_kinerja_pegawai_dinas", "Step_01", "Kepala SKPD", "Kepala Dinas", ["kadin.kominfo"]),
    ("sop_pengukuran_kinerja_pegawai_dinas", "Step_07", "Kasubag Perencanaan & Pelaporan",
     "Kepala Sub Bagian Perencanaan", ["kasubag.perencanaan.kominfo"]),
    ("sop_pengukuran_kinerja_kecamatan", "Step_04", "Kasubag Renvapor", "Kasubag Evapor",
     ["kasubag.evapor.kecamatan"]),
    ("sop_pelaporan_kinerja_periodik_dinas", "Step_02", "Kasi/Ka.Subag", "Kasi/Ka.Subag", ["kasi.kominfo"]),
    # A team lane with no forming step in the SOP: the unit's standing role of that name.
    ("sop_pelaporan_kinerja_kecamatan", "Step_01", "Tim", "Tim", ["tim1.kecamatan", "tim2.kecamatan",
                                                                 "tim3.kecamatan"]),
])
def test_a_ready_task_goes_to_the_units_role_for_its_lane(
        runner, diagrams, process_id: str, step_id: str, lane: str, role: str, holders: list[str]) -> None:
    started = runner.start(process_id)
    runner.run(started.id, reject_first=False, until=_until(process_id, step_id))
    task = _ready_task(runner.database, started.id)
    assert (task.process_id, task.step_id, task.lane) == (process_id, step_id, lane)

    with runner.database.transaction() as session:
        human = tasks.get(session, task.id)
        assigned = session.get(Role, human.role_id)
        unit = org.get_unit_by_code(session, diagrams.unit_code(process_id))
        assert (assigned.name, assigned.unit_id, human.team_id) == (role, unit.id, None)
        assert instances.candidates(session, task.id) == holders
        others = [u.username for u in org.unit_users(session, unit.id) if u.username not in holders]
    for username in holders:
        assert task.id in _inbox_ids(runner.database, username)
    assert len(others) >= 5
    for username in others:
        assert task.id not in _inbox_ids(runner.database, username)


def _to_called_review(runner) -> tuple[int, instances.TaskView]:
    # Step_10 ("Staff" lane) calls sop_pengiriman_surat_dokumen; its Step_04 is in the "Kasubag Umum" lane.
    started = runner.start("sop_pelaporan_kinerja_tahunan_bagian")
    trail = runner.run(started.id, reject_first=False, until=_until("sop_pengiriman_surat_dokumen", "Step_04"))
    return started.id, trail


def test_a_called_sop_task_goes_to_the_called_lane_when_the_unit_has_that_role(runner) -> None:
    instance_id, trail = _to_called_review(runner)
    called_step_01 = next(c for c in trail if c.process_id == "sop_pengiriman_surat_dokumen")
    assert (called_step_01.step_id, called_step_01.lane) == ("Step_01", "Staf")
    task = _ready_task(runner.database, instance_id)
    assert task.lane == "Kasubag Umum"
    with runner.database.transaction() as session:
        assert session.get(Role, tasks.get(session, task.id).role_id).name == "Kasubag Umum"
        assert instances.candidates(session, task.id) == ["kasubag.umum.organisasi"]


def test_a_called_sop_task_falls_back_to_the_call_activity_lane(runner) -> None:
    with runner.database.transaction() as session:
        unit = org.get_unit_by_code(session, "bagian-organisasi")
        session.execute(delete(Role).where(Role.unit_id == unit.id, Role.name == "Kasubag Umum"))
    instance_id, trail = _to_called_review(runner)

    # Step_01 of the called SOP is in its "Staf" lane, which the unit has.
    called_step_01 = next(c for c in trail if c.process_id == "sop_pengiriman_surat_dokumen")
    assert (called_step_01.step_id, called_step_01.lane) == ("Step_01", "Staf")
    # Step_04's "Kasubag Umum" lane has no role any more: the call activity's "Staff" lane takes it.
    task = _ready_task(runner.database, instance_id)
    assert (task.process_id, task.step_id, task.lane) == ("sop_pengiriman_surat_dokumen", "Step_04", "Staff")
    with runner.database.transaction() as session:
        assert session.get(Role, tasks.get(session, task.id).role_id).name == "Staf"
        assert instances.candidates(session, task.id) == ["staf1.organisasi", "staf2.organisasi"]
    assert task.id not in _inbox_ids(runner.database, "kasubag.umum.organisasi")
    with runner.database.transaction() as session:
        instances.complete_task(session, task.id, username="staf2.organisasi", keputusan="setuju")
    assert _ready_task(runner.database, instance_id).step_id == "Step_05"


# --- teams --------------------------------------------------------------------------------


TEAM = ["staf1.kecamatan", "tim1.kecamatan"]


def _at_forming_step(runner) -> tuple[int, instances.TaskView]:
    # sop_perencanaan_kinerja_kecamatan: Step_01 Camat, Step_02 Sekretaris "Bentuk Tim" (forms Lane_Tim).
    started = runner.start("sop_perencanaan_kinerja_kecamatan")
    runner.run(started.id, reject_first=False, until=_until("sop_perencanaan_kinerja_kecamatan", "Step_02"))
    task = _ready_task(runner.database, started.id)
    assert (task.step_id, task.forms_team, task.lane) == ("Step_02", "Tim", "Sekretaris")
    return started.id, task


@pytest.mark.parametrize("team", [None, [], ["staf1.kecamatan", "tidak.ada"], ["staf1.kominfo"]],
                         ids=["tanpa-tim", "tim-kosong", "pegawai-tak-dikenal", "pegawai-unit-lain"])
def test_the_forming_step_needs_known_members_of_the_unit(runner, team) -> None:
    instance_id, task = _at_forming_step(runner)
    before = _snapshot(runner.database, instance_id)
    with pytest.raises(InvalidTaskDataError), runner.database.transaction() as session:
        instances.complete_task(session, task.id, username="sekretaris.kecamatan", team=team)
    assert _snapshot(runner.database, instance_id) == before


def test_team_lane_tasks_go_only_to_the_named_members(runner) -> None:
    instance_id, task = _at_forming_step(runner)
    with runner.database.transaction() as session:
        after = instances.complete_task(session, task.id, username="sekretaris.kecamatan", team=TEAM)
    (step_03,) = after.ready_tasks
    assert (step_03.step_id, step_03.lane) == ("Step_03", "Tim")
    with runner.database.transaction() as session:
        human = tasks.get(session, step_03.id)
        assert human.role_id is None and human.team_id is not None
        assert instances.candidates(session, step_03.id) == TEAM
        formed = [e for e in instances.history_of(session, instance_id) if e.kind == "team_formed"]
    assert [(e.step_id, e.actor, e.data["lane"], e.data["members"]) for e in formed] == [
        ("Step_02", "sekretaris.kecamatan", "Tim", TEAM)]

    for member in TEAM:
        assert step_03.id in _inbox_ids(runner.database, member)
    for outsider in ("tim2.kecamatan", "tim3.kecamatan", "camat.contoh"):  # tim2/3 hold the standing role "Tim"
        assert step_03.id not in _inbox_ids(runner.database, outsider)
        before = _snapshot(runner.database, instance_id)
        with pytest.raises(PermissionDeniedError), runner.database.transaction() as session:
            instances.complete_task(session, step_03.id, username=outsider)
        assert _snapshot(runner.database, instance_id) == before

    with runner.database.transaction() as session:
        instances.complete_task(session, step_03.id, username="tim1.kecamatan")
    # The review in the Tim lane goes to the same team.
    runner.run(instance_id, reject_first=False, until=_until("sop_perencanaan_kinerja_kecamatan", "Step_07"))
    step_07 = _ready_task(runner.database, instance_id)
    assert step_07.is_review
    with runner.database.transaction() as session:
        assert instances.candidates(session, step_07.id) == TEAM
    assert step_07.id not in _inbox_ids(runner.database, "tim2.kecamatan")


# --- who may complete, and with what ------------------------------------------------------


@pytest.mark.parametrize("username", ["staf1.kecamatan", "sekretaris.kecamatan", "camat.contoh",
                                      "kasubag.evapor.kecamatan", "sekretaris.kominfo"])
def test_a_user_without_the_lane_is_refused_and_nothing_changes(runner, username: str) -> None:
    # sop_pelaporan_kinerja_kecamatan Step_02 is in the "Kasubag Evapor" lane (kasubag.evapor.kecamatan).
    started = runner.start("sop_pelaporan_kinerja_kecamatan")
    runner.run(started.id, reject_first=False, until=_until("sop_pelaporan_kinerja_kecamatan", "Step_02"))
    task = _ready_task(runner.database, started.id)
    before = _snapshot(runner.database, started.id)
    if username == "kasubag.evapor.kecamatan":  # the holder: accepted, and the state moves on
        with runner.database.transaction() as session:
            after = instances.complete_task(session, task.id, username=username)
        assert [t.step_id for t in after.ready_tasks] == ["Step_03"]
        assert _snapshot(runner.database, started.id)[0] == before[0] + 1
        return
    with pytest.raises(PermissionDeniedError), runner.database.transaction() as session:
        instances.complete_task(session, task.id, username=username)
    assert _snapshot(runner.database, started.id) == before
    with runner.database.transaction() as session:
        assert instances.get_task(session, task.id).state == "ready"


@pytest.mark.parametrize("username", ["staf1.kominfo", "staf2.organisasi"])
def test_the_same_role_in_another_unit_does_not_count(runner, username: str) -> None:
    # Step_03 of sop_pelaporan_kinerja_kecamatan is in the "Staf" lane of kecamatan-contoh.
    started = runner.start("sop_pelaporan_kinerja_kecamatan")
    runner.run(started.id, reject_first=False, until=_until("sop_pelaporan_kinerja_kecamatan", "Step_03"))
    task = _ready_task(runner.database, started.id)
    assert task.id not in _inbox_ids(runner.database, username)
    before = _snapshot(runner.database, started.id)
    with pytest.raises(PermissionDeniedError), runner.database.transaction() as session:
        instances.complete_task(session, task.id, username=username)
    assert _snapshot(runner.database, started.id) == before


def _at_review(runner) -> tuple[int, instances.TaskView]:
    # sop_surat_masuk: Step_01, Step_02 (Staf), Step_03 review (Kasubag Umum), "Tidak" -> Step_02.
    started = runner.start("sop_surat_masuk", unit_code="dinas-kominfo")
    runner.run(started.id, reject_first=False, until=_until("sop_surat_masuk", "Step_03"))
    task = _ready_task(runner.database, started.id)
    assert task.is_review
    return started.id, task


@pytest.mark.parametrize(("keputusan", "catatan"), [
    (None, None), (None, "Sudah benar"), ("", None), ("Setuju", None), ("ya", None),
    ("tidak", None), ("tidak", ""), ("tidak", "   \n\t "),
], ids=["tanpa-keputusan", "catatan-saja", "keputusan-kosong", "huruf-besar", "bukan-pilihan",
        "tidak-tanpa-catatan", "tidak-catatan-kosong", "tidak-catatan-spasi"])
def test_review_input_is_checked_and_a_refusal_changes_nothing(runner, keputusan, catatan) -> None:
    instance_id, task = _at_review(runner)
    before = _snapshot(runner.database, instance_id)
    with pytest.raises(InvalidTaskDataError), runner.database.transaction() as session:
        instances.complete_task(session, task.id, username="kasubag.umum.kominfo", keputusan=keputusan,
                                catatan=catatan)
    assert _snapshot(runner.database, instance_id) == before


def test_a_valid_review_decision_is_accepted(runner) -> None:
    instance_id, task = _at_review(runner)
    with runner.database.transaction() as session:
        after = instances.complete_task(session, task.id, username="kasubag.umum.kominfo", keputusan="tidak",
                                        catatan="Lembar disposisi belum diparaf")
    assert [(t.step_id, t.iteration) for t in after.ready_tasks] == [("Step_02", 2)]


@pytest.mark.parametrize(("keputusan", "team"), [("setuju", None), ("tidak", None), (None, ["staf1.kominfo"])],
                         ids=["setuju", "tidak", "tim"])
def test_keputusan_and_team_are_refused_on_other_steps(runner, keputusan, team) -> None:
    started = runner.start("sop_surat_masuk", unit_code="dinas-kominfo")
    (task,) = started.ready_tasks
    assert (task.step_id, task.is_review, task.forms_team) == ("Step_01", False, None)
    before = _snapshot(runner.database, started.id)
    with pytest.raises(InvalidTaskDataError), runner.database.transaction() as session:
        instances.complete_task(session, task.id, username="staf1.kominfo", keputusan=keputusan,
                                catatan="Catatan", team=team)
    assert _snapshot(runner.database, started.id) == before


# --- starting an instance -----------------------------------------------------------------


def _nothing_stored(database) -> None:
    with database.transaction() as session:
        counts = [session.scalar(select(func.count()).select_from(model))
                  for model in (ProcessInstance, HumanTask, AuditEvent)]
    assert counts == [0, 0, 0]


@pytest.mark.parametrize(("kwargs", "error"), [
    ({"title": ""}, InvalidTaskDataError),
    ({"title": "   "}, InvalidTaskDataError),
    ({"unit_code": "dinas-kominfo", "username": "kadin.kominfo"}, InvalidTaskDataError),
    ({"unit_code": "bagian-organisasi", "username": "kabag.organisasi"}, InvalidTaskDataError),
    ({"username": "staf1.kecamatan"}, PermissionDeniedError),
    ({"username": "sekretaris.kecamatan"}, PermissionDeniedError),
    ({"username": "tidak.ada"}, UserNotFound),
    ({"unit_code": "kecamatan-lain"}, UnitNotFound),
    ({"process_id": "sop_tidak_ada"}, ProcessNotFound),
], ids=["judul-kosong", "judul-spasi", "sop-kecamatan-di-dinas", "sop-kecamatan-di-bagian",
        "staf-bukan-pelaksana-langkah-1", "sekretaris-bukan-pelaksana-langkah-1", "pengguna-tak-dikenal",
        "unit-tak-dikenal", "sop-tak-dikenal"])
def test_start_is_refused_and_nothing_is_stored(alur_db, kwargs, error) -> None:
    # sop_perencanaan_kinerja_kecamatan is a kecamatan SOP whose Step_01 is the Camat's.
    arguments = {"process_id": "sop_perencanaan_kinerja_kecamatan", "unit_code": "kecamatan-contoh",
                 "title": "Rencana Kinerja 2027", "username": "camat.contoh", **kwargs}
    with pytest.raises(error), alur_db.transaction() as session:
        instances.start_instance(session, **arguments)
    _nothing_stored(alur_db)


def test_start_is_refused_when_the_unit_cannot_fill_a_lane(alur_db) -> None:
    with alur_db.transaction() as session:
        unit = org.get_unit_by_code(session, "kecamatan-contoh")
        gone = org.resolve_role(session, unit.id, "Kasubag Evapor")
        assert gone is not None
        # a jabatan that is another's superior cannot be deleted (NO ACTION): detach its subordinates first
        session.execute(update(Role).where(Role.superior_role_id == gone.id).values(superior_role_id=None))
        session.execute(delete(Role).where(Role.id == gone.id))
    with pytest.raises(InvalidTaskDataError, match="Kasubag Evapor"), alur_db.transaction() as session:
        instances.start_instance(session, process_id="sop_perencanaan_kinerja_kecamatan",
                                 unit_code="kecamatan-contoh", title="Rencana Kinerja 2027", username="camat.contoh")
    _nothing_stored(alur_db)


def test_start_by_the_first_steps_holder(alur_db) -> None:
    with alur_db.transaction() as session:
        assert instances.starters(session, "sop_perencanaan_kinerja_kecamatan", "kecamatan-contoh") == [
            "camat.contoh"]
        # Its first step is a call activity to sop_surat_masuk, whose Step_01 is the Staf's.
        assert instances.starters(session, "sop_pelaporan_kinerja_periodik_dinas", "dinas-kominfo") == [
            "staf1.kominfo", "staf2.kominfo"]
        view = instances.start_instance(session, process_id="sop_perencanaan_kinerja_kecamatan",
                                        unit_code="kecamatan-contoh", title="  Rencana Kinerja 2027 ",
                                        username="camat.contoh")
    assert (view.title, view.status, view.unit_code, view.version) == (
        "Rencana Kinerja 2027", "running", "kecamatan-contoh", 1)
    assert [(t.step_id, t.lane, t.iteration) for t in view.ready_tasks] == [("Step_01", "Camat", 1)]


# --- due times ----------------------------------------------------------------------------


# Friday 14 August 2026, 16:20 WIT (Asia/Jayapura) = 07:20 UTC; Monday 17 August is a holiday.
FRIDAY_AFTERNOON = datetime(2026, 8, 14, 7, 20, tzinfo=UTC)


def test_due_time_follows_the_working_calendar_of_the_unit(runner) -> None:
    started = runner.start("sop_perencanaan_kinerja_kecamatan", now=FRIDAY_AFTERNOON)
    (task,) = started.ready_tasks
    # Step_01: Waktu 20 menit. 10 minutes left on Friday (closes 16:30), Monday is Hari Kemerdekaan,
    # so the other 10 minutes run from Tuesday 07:30 WIT: due Tuesday 18 August 07:40 WIT.
    assert (task.waktu, task.ready_at) == ("PT20M", FRIDAY_AFTERNOON)
    assert task.due_at == datetime(2026, 8, 17, 22, 40, tzinfo=UTC)


@pytest.mark.parametrize(("corrected_unit", "due_at"), [
    ("kecamatan-contoh", datetime(2026, 8, 18, 22, 40, tzinfo=UTC)),  # Tuesday off: due Wednesday 07:40 WIT
    (None, datetime(2026, 8, 18, 22, 40, tzinfo=UTC)),  # a correction for every unit
    ("dinas-kominfo", datetime(2026, 8, 17, 22, 40, tzinfo=UTC)),  # another unit's day off changes nothing
])
def test_due_time_follows_the_units_calendar_corrections(runner, corrected_unit, due_at) -> None:
    with runner.database.transaction() as session:
        unit_id = org.get_unit_by_code(session, corrected_unit).id if corrected_unit else None
        calendar_store.set_correction(session, unit_id=unit_id, day=date(2026, 8, 18), is_working_day=False,
                                      note="Cuti bersama (contoh)")
    started = runner.start("sop_perencanaan_kinerja_kecamatan", now=FRIDAY_AFTERNOON)
    (task,) = started.ready_tasks
    assert task.due_at == due_at


@pytest.mark.parametrize("process_id", PROCESS_IDS)
def test_every_task_is_due_its_waktu_after_it_became_ready(runner, diagrams, process_id: str) -> None:
    started = runner.start(process_id, now=FRIDAY_AFTERNOON)
    runner.run(started.id, reject_first=True, now=FRIDAY_AFTERNOON)

    with runner.database.transaction() as session:
        unit = org.get_unit_by_code(session, started.unit_code)
        calendar = calendar_for(unit.timezone, {})
        rows = tasks.tasks_of_instance(session, started.id)
    assert rows
    without_waktu = 0
    for row in rows:
        waktu = diagrams[row.process_id].waktu.get(row.element_id)
        assert (row.waktu, row.ready_at) == (waktu, FRIDAY_AFTERNOON), row.element_id
        if waktu is None:
            without_waktu += 1
            assert row.due_at is None
        else:
            assert row.due_at == calendar.add(FRIDAY_AFTERNOON, Waktu.from_iso(waktu)), row.element_id
            assert row.due_at > FRIDAY_AFTERNOON
    missing = sum(1 for pid, step, _ in diagrams.expected_trail(process_id, reject_first=True)
                  if step not in diagrams[pid].waktu)
    assert without_waktu == missing


# --- history ------------------------------------------------------------------------------


def test_a_full_run_is_in_the_history_in_order(alur_db) -> None:
    with alur_db.transaction() as session:
        view = instances.start_instance(session, process_id="sop_surat_masuk", unit_code="dinas-kominfo",
                                        title="Surat Bupati tentang LKjIP", username="staf2.kominfo")
    actions = [
        ("Step_01", "staf2.kominfo", None, None),
        ("Step_02", "staf1.kominfo", None, None),
        ("Step_03", "kasubag.umum.kominfo", "tidak", "Nomor agenda belum diisi"),
        ("Step_02", "staf1.kominfo", None, None),
        ("Step_03", "kasubag.umum.kominfo", "setuju", "Sudah lengkap"),
        ("Step_04", "sekretaris.kominfo", None, None),
        ("Step_05", "staf2.kominfo", None, None),
    ]
    for step_id, username, keputusan, catatan in actions:
        task = _ready_task(alur_db, view.id)
        assert task.step_id == step_id
        with alur_db.transaction() as session:
            instances.complete_task(session, task.id, username=username, keputusan=keputusan, catatan=catatan)

    with alur_db.transaction() as session:
        history = instances.history_of(session, view.id)
    expected = [("instance_started", None, "staf2.kominfo", None, None), ("task_ready", "Step_01", None, None, None)]
    for n, (step_id, username, keputusan, catatan) in enumerate(actions):
        expected.append(("task_completed", step_id, username, keputusan, catatan))
        if n + 1 < len(actions):
            expected.append(("task_ready", actions[n + 1][0], None, None, None))
    expected.append(("instance_completed", None, "staf2.kominfo", None, None))
    assert [(e.kind, e.step_id, e.actor, e.keputusan, e.catatan) for e in history] == expected
    assert history[0].data["title"] == "Surat Bupati tentang LKjIP"
    assert all(e.process_id == "sop_surat_masuk" for e in history)
    assert [e.data.get("iteration") for e in history if e.kind == "task_ready"] == [1, 1, 1, 2, 2, 1, 1]
    assert [e.id for e in history] == sorted(e.id for e in history)


@pytest.mark.parametrize("statement", [
    "UPDATE audit_event SET catatan = 'diubah' WHERE instance_id = :instance_id",
    "UPDATE audit_event SET kind = 'task_completed'",
    "DELETE FROM audit_event WHERE instance_id = :instance_id",
    "DELETE FROM audit_event",
])
def test_audit_events_cannot_be_changed_or_deleted(runner, statement: str) -> None:
    started = runner.start("sop_surat_masuk", unit_code="dinas-kominfo")
    runner.run(started.id, reject_first=True)
    with runner.database.transaction() as session:
        before = [(e.id, e.kind, e.keputusan, e.catatan) for e in instances.history_of(session, started.id)]
    assert len(before) == 16

    with pytest.raises(DBAPIError, match="append-only"), runner.database.transaction() as session:
        session.execute(text(statement), {"instance_id": started.id} if ":instance_id" in statement else {})

    with runner.database.transaction() as session:
        after = [(e.id, e.kind, e.keputusan, e.catatan) for e in instances.history_of(session, started.id)]
    assert after == before
