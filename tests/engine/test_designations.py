"""Plh and Plt (issue 9): a designee holds a jabatan's steps for a date range, recorded "selaku Plh Camat"."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from engine import audit, designations, documents, followups, instances
from engine.database import Database
from engine.demo import _pick_team
from engine.views import TaskView
from storage import org
from storage.errors import InvalidTaskDataError, PermissionDeniedError

UNIT = "kecamatan-contoh"  # WIT, UTC+9
SOP = "sop_pelaporan_kinerja_kecamatan"
T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # Monday 10:00 WIT
START = date(2026, 11, 2)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _run_until_lane(session: Session, instance_id: int, lane: str, at: datetime) -> TaskView:
    """Complete the instance's steps (setuju everywhere) until a step of ``lane`` is ready."""
    for _ in range(60):
        view = instances.get_instance(session, instance_id)
        for task in view.ready_tasks:
            if task.lane == lane:
                return task
        task = view.ready_tasks[0]
        user = instances.candidates(session, task.id, at)[0]
        instances.complete_task(session, task.id, username=user, keputusan="setuju" if task.is_review else None,
                                team=_pick_team(session, task) if task.forms_team else None, now=at)
    raise AssertionError(f"no {lane} step reached")


def _camat_task(session: Session, title: str) -> TaskView:
    view = instances.start_instance(session, process_id=SOP, unit_code=UNIT, title=title,
                                    username="tim1.kecamatan", now=T0)
    return _run_until_lane(session, view.id, "Camat", T0)


def _designate(session: Session, **overrides: object) -> designations.DesignationView:
    values: dict[str, object] = dict(unit_code=UNIT, role_name="Camat", holder="sekretaris.kecamatan", kind="plh",
                                     start=START, end=START + timedelta(days=2), by="camat.contoh",
                                     reason="Cuti tahunan", now=T0)
    values.update(overrides)
    return designations.designate(session, **values)  # type: ignore[arg-type]


def _inbox_ids(session: Session, username: str, at: datetime) -> set[str]:
    return {t.id for t in instances.inbox(session, username, now=at)}


def test_a_plh_holds_the_camat_steps_during_the_range_and_signs_selaku_plh(alur_db: Database) -> None:
    with alur_db.transaction() as session:
        first = _camat_task(session, "Laporan Kinerja Triwulan IV")
        second = _camat_task(session, "Laporan Kinerja Semester II")
        before = T0 - timedelta(hours=2)  # 08:00 WIT on the first day is inside; 07:59 the day before is not
        assert first.id not in _inbox_ids(session, "sekretaris.kecamatan", before - timedelta(days=1))
        made = _designate(session)
        assert (made.kind, made.role, made.holder) == ("plh", "Camat", "sekretaris.kecamatan")
        during = T0 + timedelta(days=1)
        assert {first.id, second.id} <= _inbox_ids(session, "sekretaris.kecamatan", during)
        assert first.id in _inbox_ids(session, "camat.contoh", during)  # a Plh: the official keeps them
        assert "sekretaris.kecamatan" in instances.candidates(session, first.id, during)
        instances.complete_task(session, first.id, username="sekretaris.kecamatan",
                                keputusan="setuju" if first.is_review else None, now=during)
        (done,) = [e for e in instances.history_of(session, first.instance_id)
                   if e.kind == "task_completed" and e.task_id == first.id]
        assert done.data["selaku"]["kind"] == "plh" and done.data["selaku"]["role"] == "Camat"
        assert audit.acting_label(done.data) == "Plh Camat"
        signed = documents.attach(session, first.id, username="sekretaris.kecamatan", filename="laporan.pdf",
                                  data=PDF, now=during)
        assert signed.signed_as == "Plh. Camat"  # the output's signature block: SE Kepala BKN 1/SE/I/2021
        (run,) = [r for r in audit.step_runs(session, first.instance_id) if r.task_id == first.id]
        assert run.acting_as == "Plh Camat" and run.documents[0].signed_as == "Plh. Camat"
        assert documents.get_document(session, signed.id).signed_as == "Plh. Camat"
        after = datetime(2026, 11, 4, 15, 0, tzinfo=UTC)  # 5 November 00:00 WIT: the range is over
        assert second.id not in _inbox_ids(session, "sekretaris.kecamatan", after)
        assert second.id in _inbox_ids(session, "camat.contoh", after)
        with pytest.raises(PermissionDeniedError):
            instances.complete_task(session, second.id, username="sekretaris.kecamatan",
                                    keputusan="setuju" if second.is_review else None, now=after)
        instances.complete_task(session, second.id, username="camat.contoh",
                                keputusan="setuju" if second.is_review else None, now=after)
        (official,) = [e for e in instances.history_of(session, second.instance_id)
                       if e.kind == "task_completed" and e.task_id == second.id]
        assert "selaku" not in official.data
        own = documents.attach(session, second.id, username="camat.contoh", filename="laporan.pdf", data=PDF,
                               now=after)
        assert own.signed_as is None and documents.documents_of(session, second.instance_id)[-1].signed_as is None


def test_designations_refused_change_nothing(alur_db: Database) -> None:
    with alur_db.transaction() as session:
        with pytest.raises(InvalidTaskDataError, match="diri sendiri"):
            _designate(session, holder="camat.contoh", by="camat.contoh")
        with pytest.raises(PermissionDeniedError):
            _designate(session, by="staf1.kecamatan")
        with pytest.raises(InvalidTaskDataError, match="sebelum"):
            _designate(session, end=START - timedelta(days=1))
        with pytest.raises(InvalidTaskDataError, match="Alasan"):
            _designate(session, reason="   ")
        with pytest.raises(InvalidTaskDataError, match="Plh atau Plt"):
            _designate(session, kind="pj")
        assert designations.designations_of_unit(session, UNIT) == []
        _designate(session)
        with pytest.raises(InvalidTaskDataError, match="tumpang tindih"):
            _designate(session, holder="kasubag.umum.kecamatan", start=START + timedelta(days=2),
                       end=START + timedelta(days=5), by="admin.alur")
        # the superior of the Sekretaris (the Camat) and an administrator may designate too
        _designate(session, role_name="Sekretaris", holder="kasubag.umum.kecamatan", by="camat.contoh")
        _designate(session, start=START + timedelta(days=3), end=START + timedelta(days=3),
                   holder="kasubag.evapor.kecamatan", by="admin.alur", kind="plt")
        assert len(designations.designations_of_unit(session, UNIT)) == 3


def test_ending_a_designation_gives_the_steps_back_at_once(alur_db: Database) -> None:
    with alur_db.transaction() as session:
        task = _camat_task(session, "Laporan Kinerja Triwulan IV")
        made = _designate(session)
        during = T0 + timedelta(hours=3)
        assert task.id in _inbox_ids(session, "sekretaris.kecamatan", during)
        with pytest.raises(PermissionDeniedError):
            designations.end_designation(session, made.id, by="staf1.kecamatan", now=during)
        designations.end_designation(session, made.id, by="camat.contoh", now=during)
        assert task.id not in _inbox_ids(session, "sekretaris.kecamatan", during + timedelta(minutes=1))
        with pytest.raises(InvalidTaskDataError, match="berakhir"):
            designations.end_designation(session, made.id, by="camat.contoh", now=during)


def test_escalation_goes_to_the_superior_jabatan_else_the_head(alur_db: Database) -> None:
    with alur_db.transaction() as session:
        unit = org.get_unit_by_code(session, UNIT)
        assert [u.username for u in followups.superiors_of_lane(session, unit.id, "Staff")] == [
            "kasubag.evapor.kecamatan"]
        assert [u.username for u in followups.superiors_of_lane(session, unit.id, "Camat")] == ["camat.contoh"]
        _designate(session, role_name="Kasubag Evapor", holder="kasubag.umum.kecamatan", by="admin.alur")
        at = T0 + timedelta(hours=1)
        assert [u.username for u in followups.superiors_of_lane(session, unit.id, "Staf", at)] == [
            "kasubag.evapor.kecamatan", "kasubag.umum.kecamatan"]


def test_start_refused_naming_the_jabatan_nobody_holds_and_stuck_steps_reported(alur_db: Database) -> None:
    with alur_db.transaction() as session:
        camat = org.get_user_by_username(session, "camat.contoh")
        view = instances.start_instance(session, process_id="sop_perencanaan_kinerja_kecamatan", unit_code=UNIT,
                                        title="Rencana Kinerja 2027", username="camat.contoh", now=T0)
        assert instances.unheld_ready_tasks(session, view.id, T0) == []
        camat.active = False
        session.flush()
        assert [t.lane for t in instances.unheld_ready_tasks(session, view.id, T0)] == ["Camat"]
        with pytest.raises(InvalidTaskDataError, match="tidak ada pemegang jabatan Camat"):
            instances.start_instance(session, process_id="sop_perencanaan_kinerja_kecamatan", unit_code=UNIT,
                                     title="Rencana Kinerja 2028", username="sekretaris.kecamatan", now=T0)


def test_the_unit_head_restaffs_a_team_lane_recorded_in_the_history(alur_db: Database) -> None:
    from engine import restaff

    with alur_db.transaction() as session:
        view = instances.start_instance(session, process_id="sop_perencanaan_kinerja_kecamatan", unit_code=UNIT,
                                        title="Rencana Kinerja 2027", username="camat.contoh", now=T0)
        task = _run_until_lane(session, view.id, "Tim", T0)
        (lane, members), = restaff.teams_of(session, view.id)
        assert lane == "Tim" and members and instances.candidates(session, task.id, T0) == members
        with pytest.raises(PermissionDeniedError):
            restaff.restaff_team(session, view.id, "Tim", ["staf2.kecamatan"], by="staf1.kecamatan", now=T0)
        with pytest.raises(InvalidTaskDataError, match="Bukan pegawai aktif"):
            restaff.restaff_team(session, view.id, "Tim", ["kadin.kominfo"], by="camat.contoh", now=T0)
        with pytest.raises(InvalidTaskDataError, match="belum dibentuk"):
            restaff.restaff_team(session, view.id, "Tim Lain", ["staf2.kecamatan"], by="camat.contoh", now=T0)
        restaff.restaff_team(session, view.id, "Tim", ["staf2.kecamatan", "tim3.kecamatan"], by="camat.contoh",
                             now=T0)
        assert instances.candidates(session, task.id, T0) == ["staf2.kecamatan", "tim3.kecamatan"]
        (event,) = [e for e in instances.history_of(session, view.id) if e.kind == "team_restaffed"]
        assert event.actor == "camat.contoh" and event.data["before"] == members
        assert event.data["members"] == ["staf2.kecamatan", "tim3.kecamatan"]


def test_designable_roles_follow_may_designate(alur_db: Database) -> None:
    """The page's list and the navigation's link (``designable_roles``, ``may_designate_any``) = the one rule."""
    from sqlalchemy import select

    from storage.models import Role

    users = ("kabag.organisasi", "kasubag.organisasi", "staf1.organisasi", "sekretaris.kominfo", "kabid.kominfo",
             "camat.contoh", "sekretaris.kecamatan", "tim1.kecamatan", "admin.alur", "analis.kecamatan", "auditor.inspektorat")
    with alur_db.transaction() as session:
        _designate(session)  # the Plh of the Camat holds the head's jabatan: he may designate too (superior)
        roles = list(session.scalars(select(Role)))
        some = 0
        for username in users:
            user = org.get_user_by_username(session, username)
            listed = {r.id for r, _unit in designations.designable_roles(session, user, T0)}
            assert listed == {r.id for r in roles if designations.may_designate(session, user, r, T0)}, username
            assert designations.may_designate_any(session, user, T0) == bool(listed), username
            some += bool(listed)
        assert 0 < some < len(users)


def test_a_designee_signs_plh_dot_jabatan() -> None:
    """SE Kepala BKN 1/SE/I/2021: "Plh." / "Plt." before the jabatan in a signature block."""
    assert designations.signature_label("plh", "Camat") == "Plh. Camat"
    assert designations.signature_label("plt", "Kepala Dinas") == "Plt. Kepala Dinas"
