"""The auditors' room in the engine: history generator, visibility rule, search, proof, re-execution."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from engine import audit, compliance, demo, instances, replay, riwayat, visibility
from engine.database import Database
from storage import org
from storage import search as finder
from storage.demo import DEMO_ACCESS, demo_usernames
from storage.models import AuditEvent, HumanTask, ProcessInstance
from storage.search import Criteria

END = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


@pytest.fixture
def history_db(alur_db: Database) -> Database:
    """Two months of generated runs (one instance per unit and month) plus one demo run with a loop."""
    generated = riwayat.generate(alur_db.transaction, months=2, per_month=1, seed=7, end=END)
    assert 3 <= generated.started <= 6 and generated.steps > 40
    demo.run_sop(alur_db.transaction, "sop_pelaporan_kinerja_kecamatan", "Pelaporan", "kecamatan-contoh")
    return alur_db


def test_generated_history_is_recorded_through_the_engine_in_the_past(history_db: Database) -> None:
    with history_db.transaction() as session:
        rows = session.query(ProcessInstance).order_by(ProcessInstance.id).all()
        past = [r for r in rows if r.started_at < END]
        assert 3 <= len(past) <= 6
        assert all(END - timedelta(days=70) < r.started_at for r in past)
        assert {r.unit_id for r in past} == {1, 2, 3}
        done = session.query(HumanTask).filter(HumanTask.state == "completed").all()
        assert all(t.working_minutes is not None and t.working_minutes >= 0 for t in done)
        assert all(t.completed_at is not None and t.completed_at >= t.ready_at for t in done)
        late = [t for t in done if t.due_at is not None and t.completed_at is not None and t.completed_at > t.due_at]
        assert 0 < len(late) < len(done)
        assert audit.verify(session).intact
        for row in rows:
            outcome = replay.replay(session, row.id)
            assert outcome.clean, outcome.differences
            assert outcome.completions == sum(1 for t in done if t.instance_id == row.id)


def test_the_generator_refuses_silly_sizes(alur_db: Database) -> None:
    with pytest.raises(ValueError):
        riwayat.generate(alur_db.transaction, months=0)
    with pytest.raises(ValueError):
        riwayat.generate(alur_db.transaction, months=2, per_month=500)


def test_the_list_rule_is_the_page_rule_for_every_demo_user(history_db: Database) -> None:
    """engine.visibility's SQL filter and its per-instance rule agree, user by user."""
    with history_db.transaction() as session:
        ids = [r.id for r in session.query(ProcessInstance).all()]
        for username in demo_usernames():
            listed = {f.id for f in audit.search(session, username, Criteria(), limit=500).rows}
            seen = {i for i in ids if instances.can_see_instance(session, i, username)}
            assert listed == seen, username
        everyone = {f.id for f in audit.search(session, "auditor.inspektorat", Criteria(), limit=500).rows}
        assert everyone == set(ids)
        kecamatan = {f.id for f in audit.search(session, "evaluator.kecamatan", Criteria(), limit=500).rows}
        camat = {f.id for f in audit.search(session, "camat.contoh", Criteria(), limit=500).rows}
        assert kecamatan == camat and 0 < len(kecamatan) < len(ids)
        assert not audit.search(session, "admin.alur", Criteria(), limit=500).rows


def test_heads_and_secretaries_by_unit_kind(alur_db: Database) -> None:
    with alur_db.transaction() as session:
        def units(username: str) -> set[int]:
            return set(visibility.reach_of(session, username).unit_ids)
        assert units("camat.contoh") == units("sekretaris.kecamatan") == {3}
        assert units("kadin.kominfo") == units("sekretaris.kominfo") == {2}
        assert units("kabag.organisasi") == {1}
        assert units("sekretaris.organisasi") == set()  # the Setda's secretary lane, not the Bagian's own
        assert units("staf1.kecamatan") == units("tim1.kecamatan") == set()
        assert units("evaluator.kecamatan") == {3}
        assert visibility.reach_of(session, "auditor.inspektorat").all_units
        assert {a.user.username for a in DEMO_ACCESS} >= {"auditor.inspektorat", "evaluator.kecamatan"}


def test_search_filters_sort_and_pages(history_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    with history_db.transaction() as session:
        who = "auditor.inspektorat"
        everything = audit.search(session, who, Criteria(sort="terlama"), limit=500).rows
        starts = [f.started_at for f in everything]
        assert starts == sorted(starts)
        pages, after = [], None
        while True:
            page = audit.search(session, who, Criteria(sort="terbaru"), after=after, limit=2)
            pages.extend(f.id for f in page.rows)
            after = page.next_cursor
            if after is None:
                break
        assert pages == [f.id for f in reversed(everything)] or sorted(pages) == sorted(f.id for f in everything)
        assert len(pages) == len(set(pages)) == len(everything)
        by_title = audit.search(session, who, Criteria(sort="judul"), limit=500).rows
        assert [f.title for f in by_title] == sorted(f.title for f in by_title)
        late = audit.search(session, who, Criteria(late=True), limit=500)
        assert late.rows and all(late.flags[f.id][0] > 0 for f in late.rows)
        rework = audit.search(session, who, Criteria(rework=True), limit=500)
        assert rework.rows and all(rework.flags[f.id][1] > 0 for f in rework.rows)
        kec = audit.search(session, who, Criteria(unit_id=3, process_id="sop_pelaporan_kinerja_kecamatan"), limit=500)
        assert kec.rows and {(f.unit_code, f.process_id) for f in kec.rows} == {
            ("kecamatan-contoh", "sop_pelaporan_kinerja_kecamatan")}
        window = Criteria(started_from=END - timedelta(days=31), started_to=END)
        assert all(END - timedelta(days=31) <= f.started_at < END
                   for f in audit.search(session, who, window, limit=500).rows)
        assert audit.search(session, who, Criteria(text="PELAPORAN"), limit=500).rows
        assert not audit.search(session, who, Criteria(text="100%_tidak_ada"), limit=500).rows
        assert audit.search(session, who, Criteria(status="running"), limit=500).rows != everything
        part = audit.search(session, who, Criteria(participant_id=1), limit=500).rows
        assert len(part) < len(everything)
        takers = sorted(set(session.scalars(select(HumanTask.completed_by_id).where(
            HumanTask.completed_by_id.is_not(None)))))
        for user_id in takers[:2] + takers[-1:]:  # the dense form (per-row probe) and the sparse one (semi-join)
            expected = sorted(f.id for f in everything if f.started_by == org.get_user(session, user_id).full_name
                              or session.scalar(select(func.count()).where(
                                  HumanTask.instance_id == f.id, HumanTask.completed_by_id == user_id)))
            forms = []
            for dense in (1, 10**9):
                monkeypatch.setattr(finder, "_DENSE", dense)
                forms.append(sorted(f.id for f in audit.search(session, who, Criteria(participant_id=user_id),
                                                               limit=500).rows))
            assert forms[0] == forms[1] == expected and expected
        with pytest.raises(Exception, match="Urutan"):
            audit.search(session, who, Criteria(sort="acak"))
        for bad in ("x", "2026|y", "|1", "bukan-tanggal|3"):
            with pytest.raises(Exception, match="Penanda halaman"):
                audit.search(session, who, Criteria(), after=bad)
        with pytest.raises(Exception, match="1–500"):
            audit.search(session, who, Criteria(), limit=0)


def test_an_altered_keputusan_breaks_the_replay_and_the_chain(alur_db: Database) -> None:
    result = demo.run_sop(alur_db.transaction, "sop_pelaporan_kinerja_kecamatan", "Pelaporan", "kecamatan-contoh")
    assert result.finished and result.loops > 0
    instance_id = result.instance_id
    assert instance_id is not None
    with alur_db.transaction() as session:
        assert replay.replay(session, instance_id).clean
        session.execute(text("DROP TRIGGER audit_event_no_update"))  # as a DBA could
        changed = session.execute(text(
            "UPDATE audit_event SET keputusan = 'setuju', catatan = NULL WHERE id = (SELECT min(id) FROM audit_event "
            "WHERE instance_id = :i AND keputusan = 'tidak')"), {"i": instance_id})
        assert changed.rowcount == 1  # type: ignore[attr-defined]
        outcome = replay.replay(session, instance_id)
        assert not outcome.clean
        assert "langkah siap berbeda" in outcome.differences[0]
        verdict = audit.verify(session, instance_id)
        assert not verdict.intact and verdict.text.startswith("rusak pada kejadian")
        session.rollback()


def test_reads_are_recorded_for_auditors_only(history_db: Database) -> None:
    with history_db.transaction() as session:
        assert audit.record_read(session, "auditor.inspektorat", "instance", 1, instance_id=1)
        assert audit.record_read(session, "evaluator.kecamatan", "search", "late=1")
        other_unit = next(f.id for f in audit.search(session, "auditor.inspektorat", Criteria(unit_id=1)).rows)
        assert not audit.record_read(session, "evaluator.kecamatan", "instance", other_unit, instance_id=other_unit)
        assert not audit.record_read(session, "camat.contoh", "instance", 1, instance_id=1)
        log = audit.read_log(session)
        assert [(e.username, e.what) for e in log] == [("evaluator.kecamatan", "search"),
                                                       ("auditor.inspektorat", "instance")]
        assert audit.read_log(session, username="auditor.inspektorat")[0].full_name.startswith("Dra.")


def test_the_compliance_report_agrees_with_the_rows(history_db: Database) -> None:
    """Every figure of one step, and the totals, recomputed in Python from the task and audit rows."""
    start, end = END - timedelta(days=400), datetime.now(UTC) + timedelta(days=1)
    with history_db.transaction() as session:
        found = compliance.report(session, "auditor.inspektorat", start=start, end=end)
        done = session.query(HumanTask).filter(HumanTask.state == "completed").all()
        assert found.runs == len(done)
        step = max(found.steps, key=lambda s: s.runs)
        rows = [t for t in done if (t.process_id, t.element_id, t.name) == (step.process_id, step.step_id, step.label)]
        assert step.runs == len(rows)
        minutes = sorted(t.working_minutes for t in rows if t.working_minutes is not None)
        assert step.median_minutes == pytest.approx(statistics.median(minutes))
        timed = [t for t in rows if t.due_at is not None]
        if timed:
            on_time = sum(1 for t in timed if t.completed_at is not None and t.completed_at <= t.due_at)
            assert step.on_time_share == pytest.approx(on_time / len(timed))
        reviews = [s for s in found.steps if s.rework_rate is not None]
        assert reviews
        review = reviews[0]
        answers = session.query(AuditEvent).filter(
            AuditEvent.kind == "task_completed", AuditEvent.process_id == review.process_id,
            AuditEvent.element_id == review.step_id, AuditEvent.keputusan.is_not(None)).all()
        assert review.rework_rate == pytest.approx(sum(a.keputusan == "tidak" for a in answers) / len(answers))
        assert sum(m.runs for m in found.months) == found.runs
        assert found.heatmap and all(0 <= v <= 1 for shares in found.heatmap.values() for v in shares.values())
        kecamatan = compliance.report(session, "evaluator.kecamatan", start=start, end=end)
        assert {u.label for u in kecamatan.units} == {"Kecamatan Contoh"}  # names, not codes (issue 11)
        assert {r.detail for r in kecamatan.roles} == {"Kecamatan Contoh"}
        with pytest.raises(Exception, match="Periode"):
            compliance.report(session, "auditor.inspektorat", start=end, end=start)
