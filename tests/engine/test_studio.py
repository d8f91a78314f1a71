"""Studio, engine side: drafts (conflicts), deploy with a note, restore, templates kept, moving instances."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine import drafts, instances, migration, studio
from engine.access import Grants
from engine.database import Database
from engine.templates import deploy_templates, template_files
from storage import definitions, org
from storage import drafts as draft_store
from storage.errors import DeployError, InvalidTaskDataError, NewSopRefused, StaleDraftError
from tests.support import ready_task

BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"
SOP = "sop_perencanaan_kinerja_kecamatan"
ANALYST = "analis.kecamatan"


def _xml(database: Database, version: int = 1) -> str:
    with database.transaction() as session:
        row = definitions.list_versions(session, SOP)[version - 1]
        return definitions.get(session, row.id).bpmn_xml


def _with_waktu(xml: str, step: str, iso: str, text: str) -> str:
    pattern = re.compile(rf'(<bpmn:userTask id="{step}".*?<alur:mutuBaku[^>]*?)waktu="[^"]*" waktuText="[^"]*"', re.S)
    changed, count = pattern.subn(rf'\1waktu="{iso}" waktuText="{text}"', xml, count=1)
    assert count == 1
    return changed


def _draft(database: Database, xml: str, user: str = ANALYST) -> drafts.DraftView:
    with database.transaction() as session:
        return drafts.create_draft(session, process_id=SOP, xml=xml, username=user, base_version=1)


def test_a_stale_save_is_refused_with_whose_change_and_nothing_is_overwritten(alur_db: Database) -> None:
    draft = _draft(alur_db, _xml(alur_db))
    with alur_db.transaction() as session:
        first = drafts.save_draft(session, draft.id, xml=_with_waktu(_xml(alur_db), "Step_03", "PT2H", "2 jam"),
                                  revision=draft.revision, username="analis.organisasi")
    assert first.revision == 2 and first.updated_by == "analis.organisasi"
    with pytest.raises(StaleDraftError) as caught, alur_db.transaction() as session:
        drafts.save_draft(session, draft.id, xml=_xml(alur_db), revision=draft.revision, username=ANALYST)
    with alur_db.transaction() as session:
        conflict = drafts.conflict_of(session, caught.value)
        _view, xml = drafts.get_draft(session, draft.id)
    assert conflict["updated_by"] == "analis.organisasi" and conflict["revision"] == 2
    assert 'waktu="PT2H"' in xml  # the first save survived
    mine = _draft(alur_db, _xml(alur_db))  # "keep mine as a separate draft"
    with alur_db.transaction() as session:
        assert {d.id for d in drafts.open_drafts(session, SOP)} == {draft.id, mine.id}


@pytest.mark.parametrize("xml, error", [
    ("", InvalidTaskDataError),
    ("<not-closed", DeployError),
    ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x/>', DeployError),
])
def test_hostile_or_careless_drafts_are_refused(alur_db: Database, xml: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        _draft(alur_db, xml)


def test_a_draft_with_another_process_id_is_refused(alur_db: Database) -> None:
    with pytest.raises(DeployError, match="tepat satu proses"):
        _draft(alur_db, _xml(alur_db).replace(f'id="{SOP}"', 'id="sop_lain"'))


def test_deploy_needs_a_note_runs_the_engine_checks_and_counts_instances_left_behind(
        alur_db: Database, runner) -> None:
    old = runner.start(SOP)
    draft = _draft(alur_db, _with_waktu(_xml(alur_db), "Step_01", "P2D", "2 hari"))
    with pytest.raises(InvalidTaskDataError, match="Catatan"), alur_db.transaction() as session:
        drafts.deploy_draft(session, draft.id, revision=draft.revision, note="  ", username=ANALYST)
    with alur_db.transaction() as session:
        outcome = drafts.deploy_draft(session, draft.id, revision=draft.revision, note="Waktu langkah 1: 2 hari",
                                      username=ANALYST)
    assert (outcome.version, outcome.running_on_older, outcome.deployed_by) == (2, 1, ANALYST)
    with alur_db.transaction() as session:
        sop = studio.sop_versions(session, SOP)
        assert [(v.version, v.from_studio, v.note, v.running) for v in sop.versions] == [
            (1, False, None, 1), (2, True, "Waktu langkah 1: 2 hari", 0)]
        assert instances.get_instance(session, old.id).version == 1
    bad = _draft(alur_db, _xml(alur_db, 2).replace('keputusan == "tidak"', '__import__("os")', 1))
    with pytest.raises(DeployError) as caught, alur_db.transaction() as session:
        drafts.deploy_draft(session, bad.id, revision=bad.revision, note="x", username=ANALYST)
    assert caught.value.element_id and caught.value.element_id.startswith("Flow_")


def test_templates_never_silently_replace_a_studio_version(alur_db: Database) -> None:
    draft = _draft(alur_db, _with_waktu(_xml(alur_db), "Step_01", "P3D", "3 hari"))
    with alur_db.transaction() as session:
        drafts.deploy_draft(session, draft.id, revision=draft.revision, note="3 hari", username=ANALYST)
    sources = template_files(BPMN_DIR)
    sources[f"{SOP}.bpmn"] = sources[f"{SOP}.bpmn"].replace(b"Perintahkan perencanaan", b"Perintahkan rencana")
    with alur_db.transaction() as session:
        result = deploy_templates(session, sources)
        assert [(k.process_id, k.version, k.deployed_by) for k in result.kept] == [(SOP, 2, ANALYST)]
        assert definitions.latest(session, SOP).version == 2
    with alur_db.transaction() as session:
        forced = deploy_templates(session, sources, force=True)
        assert forced.kept == [] and definitions.latest(session, SOP).version == 3


def test_may_edit_follows_the_kind_of_the_analysts_units(alur_db: Database) -> None:
    with alur_db.transaction() as session:
        unit_scoped = Grants((("analis_proses", "kecamatan-contoh"),))
        assert studio.may_edit(session, unit_scoped, "kecamatan")
        assert not studio.may_edit(session, unit_scoped, "dinas")
        assert not studio.may_edit(session, unit_scoped, "any")
        assert studio.may_edit(session, Grants((("analis_proses", None),)), "any")
        assert not studio.may_edit(session, Grants((("auditor", None),)), "kecamatan")


def test_lane_performers_warn_where_no_unit_has_the_role(alur_db: Database) -> None:
    with alur_db.transaction() as session:
        found = studio.lane_performers(session, "kecamatan", [("Kasubag Evapor", False), ("Juru Tulis", False),
                                                               ("Tim", True)])
    evapor, unknown, team = found
    assert evapor.missing == () and evapor.units[0].users
    assert unknown.missing == ("kecamatan-contoh",)
    assert team.missing == ()


def test_moving_a_running_instance_keeps_its_ready_task_and_it_continues(alur_db: Database, runner) -> None:
    old = runner.start(SOP)
    runner.run(old.id, reject_first=False, until=lambda t: t.step_id == "Step_03")
    ready = ready_task(alur_db, old.id)
    draft = _draft(alur_db, _with_waktu(_xml(alur_db), "Step_04", "PT3H", "3 jam"))
    with alur_db.transaction() as session:
        drafts.deploy_draft(session, draft.id, revision=draft.revision, note="Step 4: 3 jam", username=ANALYST)
        dry = migration.plan(session, SOP)
    assert [(c.instance_id, c.movable, c.ready_steps) for c in dry.candidates] == [(old.id, True, ("Step_03",))]
    with alur_db.transaction() as session:
        moved = migration.move_all(session, SOP, username=ANALYST)
    assert moved.moved == (old.id,)
    assert ready_task(alur_db, old.id).id == ready.id  # the same ready task, same inbox row
    with alur_db.transaction() as session:
        assert instances.get_instance(session, old.id).version == 2
        assert [e.kind for e in instances.history_of(session, old.id)][-1] == "instance_migrated"
    runner.run(old.id, reject_first=False, until=lambda t: t.step_id == "Step_04")
    assert ready_task(alur_db, old.id).waktu == "PT3H"
    assert runner.run(old.id, reject_first=True)  # and on to its end on version 2
    with alur_db.transaction() as session:
        assert instances.get_instance(session, old.id).status == "completed"


def test_an_instance_whose_ready_step_was_removed_is_not_movable(alur_db: Database, runner) -> None:
    old = runner.start(SOP)
    assert ready_task(alur_db, old.id).step_id == "Step_01"
    xml = _xml(alur_db).replace('name="Camat">', 'name="Camat Baru">', 1)
    draft = _draft(alur_db, xml)
    with alur_db.transaction() as session:
        drafts.deploy_draft(session, draft.id, revision=draft.revision, note="lajur", username=ANALYST)
        dry = migration.plan(session, SOP)
    (candidate,) = dry.candidates
    assert not candidate.movable and "pindah lajur" in candidate.reasons[0]
    with alur_db.transaction() as session:
        assert migration.move_all(session, SOP, username=ANALYST).moved == ()


def _new_sop(xml: str) -> str:
    """The Kecamatan SOP's XML renamed to a new process id (an SOP not deployed yet)."""
    return xml.replace(f'id="{SOP}"', 'id="sop_baru_kecamatan"').replace(f'processRef="{SOP}"',
                                                                           'processRef="sop_baru_kecamatan"')


def test_a_new_sop_draft_has_no_base_version_and_deploys_as_version_1(alur_db: Database) -> None:
    kecamatan = Grants((("analis_proses", "kecamatan-contoh"),))
    xml = _new_sop(_xml(alur_db))
    with alur_db.transaction() as session:
        with pytest.raises(NewSopRefused) as refused:
            drafts.create_new_sop_draft(session, xml=xml, username=ANALYST, grants=kecamatan, unit_kind="dinas")
        assert refused.value.reason == "no_grant"
        with pytest.raises(NewSopRefused) as clash:
            drafts.create_new_sop_draft(session, xml=_xml(alur_db), username=ANALYST, grants=kecamatan)
        assert clash.value.reason == "deployed" and "versi baru SOP itu" in str(clash.value)
        view = drafts.create_new_sop_draft(session, xml=xml, username=ANALYST, grants=kecamatan)
        assert (view.process_id, view.base_version) == ("sop_baru_kecamatan", None)
        with pytest.raises(NewSopRefused) as twice:
            drafts.create_new_sop_draft(session, xml=xml, username=ANALYST, grants=kecamatan)
        assert (twice.value.reason, twice.value.draft_id) == ("draft_open", view.id)
        listed = drafts.new_sop_drafts(session)
        assert [(d.draft.id, d.unit_kind) for d in listed] == [(view.id, "kecamatan")]
        outcome = drafts.deploy_draft(session, view.id, revision=view.revision, note="SOP baru", username=ANALYST)
        assert outcome.version == 1 and drafts.new_sop_drafts(session) == []


def test_a_new_sop_draft_is_refused_at_deploy_when_its_id_was_deployed_meanwhile(alur_db: Database) -> None:
    xml = _new_sop(_xml(alur_db))
    with alur_db.transaction() as session:
        first = drafts.create_new_sop_draft(session, xml=xml, username=ANALYST, grants=Grants((("analis_proses", None),)))
        drafts.deploy_draft(session, first.id, revision=first.revision, note="pertama", username=ANALYST)
    with alur_db.transaction() as session:  # a second analyst's draft, created before the first deploy
        user = org.get_user_by_username(session, "analis.organisasi")
        late = draft_store.create(session, process_id="sop_baru_kecamatan", base_definition_id=None,
                                  bpmn_xml=xml.replace("Struktur organisasi", "Struktur"), user_id=user.id,
                                  at=first.created_at)
        with pytest.raises(NewSopRefused, match="sudah di-deploy sejak draf baru ini dibuat"):
            drafts.deploy_draft(session, late.id, revision=1, note="kedua", username="analis.organisasi")
        assert [d.version for d in definitions.list_versions(session, "sop_baru_kecamatan")] == [1]


def test_a_draft_of_a_deployed_sop_without_base_starts_from_its_latest_version(alur_db: Database) -> None:
    with alur_db.transaction() as session:
        view = drafts.create_draft(session, process_id=SOP, xml=_xml(alur_db), username=ANALYST, base_version=None)
    assert view.base_version == 1
