"""Deploying diagrams: versions, and bad input refused with a clear error and nothing stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine import instances
from engine.catalog import latest_definition
from engine.database import Database
from engine.deploy import deploy_directory, deploy_sources
from storage.errors import DeployError, UnsafeExpressionError
from storage.models import ProcessDefinition

BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"

HEADER = """<?xml version="1.0" encoding="UTF-8"?>
"""
TEMPLATE = """<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xmlns:alur="http://alur.dev/schema/bpmn/sop/1.0"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
  id="Definitions_1" targetNamespace="http://alur.dev/test">
  <bpmn:process id="{pid}" name="SOP Uji" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_Staf" name="Staf">
        <bpmn:flowNodeRef>StartEvent_1</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Step_01</bpmn:flowNodeRef>
      </bpmn:lane>
      <bpmn:lane id="Lane_Kasubag" name="Kasubag Evapor">
        <bpmn:flowNodeRef>Step_02</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Gateway_1</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>{next_id}</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>End</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="StartEvent_1" name="Mulai"/>
    <bpmn:userTask id="Step_01" name="Ketik konsep">
      <bpmn:extensionElements>
        <alur:mutuBaku kelengkapan="Data" waktu="P1D" waktuText="1 hari" output="Konsep"/>
        {prescript}
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:userTask id="Step_02" name="Periksa konsep">
      <bpmn:extensionElements><alur:review/></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:exclusiveGateway id="Gateway_1" name="Setuju?"/>
    {next}
    <bpmn:endEvent id="End" name="Selesai"/>
    <bpmn:sequenceFlow id="F1" sourceRef="StartEvent_1" targetRef="Step_01"/>
    <bpmn:sequenceFlow id="F2" sourceRef="Step_01" targetRef="Step_02"/>
    <bpmn:sequenceFlow id="F3" sourceRef="Step_02" targetRef="Gateway_1"/>
    <bpmn:sequenceFlow id="F_Ya" name="Ya" sourceRef="Gateway_1" targetRef="{next_id}">{ya}</bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="F_Tidak" name="Tidak" sourceRef="Gateway_1" targetRef="Step_01">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">keputusan == "tidak"</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="F4" sourceRef="{next_id}" targetRef="End"/>
  </bpmn:process>
</bpmn:definitions>
"""
YA = '<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">keputusan == "setuju"</bpmn:conditionExpression>'
TASK_NEXT = '<bpmn:userTask id="Step_03" name="Paraf"/>'


def diagram(*, pid: str = "sop_uji", ya: str = YA, prescript: str = "", next: str = TASK_NEXT,
            next_id: str = "Step_03", header: str = HEADER) -> bytes:
    """A small valid SOP diagram, with one part swapped for a test."""
    body = TEMPLATE.format(pid=pid, ya=ya, prescript=prescript, next=next, next_id=next_id)
    return (header + body).encode()


def _with_sop(attrs: str, children: str = "") -> bytes:
    """The small diagram with an alur:sop header carrying ``attrs`` and ``children``."""
    header = f'<bpmn:extensionElements><alur:sop source="written" unitKind="any" {attrs}>{children}</alur:sop>' \
             '</bpmn:extensionElements>'
    return diagram().replace(b'isExecutable="true">', f'isExecutable="true">{header}'.encode(), 1)


def _count(database: Database) -> int:
    with database.transaction() as session:
        return session.scalar(select(func.count()).select_from(ProcessDefinition)) or 0


def test_every_diagram_in_bpmn_deploys(empty_db: Database) -> None:
    with empty_db.transaction() as session:
        deployed = deploy_directory(session, BPMN_DIR)
    assert len(deployed) == len(list(BPMN_DIR.glob("*.bpmn"))) == 18
    assert all(d.created and d.version == 1 for d in deployed)


def test_same_content_same_version_changed_file_new_version(empty_db: Database) -> None:
    with empty_db.transaction() as session:
        first = deploy_sources(session, {"uji.bpmn": diagram()})
        again = deploy_sources(session, {"uji.bpmn": diagram()})
        changed = deploy_sources(session, {"uji.bpmn": diagram(next='<bpmn:userTask id="Step_03" name="Tanda tangan"/>')})
    assert (first[0].version, first[0].created) == (1, True)
    assert (again[0].version, again[0].created, again[0].definition_id) == (1, False, first[0].definition_id)
    assert (changed[0].version, changed[0].created) == (2, True)


def test_running_instance_stays_on_its_version(alur_db: Database) -> None:
    pid = "sop_pelaporan_kinerja_kecamatan"
    with alur_db.transaction() as session:
        starter = instances.starters(session, pid, "kecamatan-contoh")[0]
        before = instances.start_instance(session, process_id=pid, unit_code="kecamatan-contoh",
                                          title="Laporan Triwulan I", username=starter)
        source = (BPMN_DIR / f"{pid}.bpmn").read_bytes().replace(b"</bpmn:definitions>",
                                                                 b"<!-- revisi -->\n</bpmn:definitions>")
        (redeployed,) = deploy_sources(session, {f"{pid}.bpmn": source})
    assert redeployed.version == before.version + 1
    with alur_db.transaction() as session:
        assert instances.get_instance(session, before.id).version == before.version
        task = instances.get_instance(session, before.id).ready_tasks[0]
        user = instances.candidates(session, task.id)[0]
        after = instances.complete_task(session, task.id, username=user)
        assert after.version == before.version


BAD_INPUTS = {
    "malformed XML": (diagram()[:-40], "XML tidak valid"),
    "external entity": (
        diagram(header='<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n')
        .replace(b'name="SOP Uji"', b'name="&xxe;"'), "DOCTYPE"),
    "billion laughs": (
        diagram(header='<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
                       '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>\n')
        .replace(b'name="SOP Uji"', b'name="&d;"'), "DOCTYPE"),
    "missing called process": (
        diagram(next='<bpmn:callActivity id="Call_1" name="Kirim" calledElement="sop_tidak_ada"/>', next_id="Call_1"),
        "sop_tidak_ada"),
    "gateway branch without condition": (diagram(ya=""), "tanpa kondisi"),
    "malformed Tanggal Efektif": (_with_sop('tanggalEfektif="1-4-2026"'), "tanggalEfektif='1-4-2026' bukan tanggal"),
    "impossible Tanggal Pembuatan": (_with_sop('tanggalPembuatan="2026-02-30"'), "bukan tanggal YYYY-MM-DD"),
    "NIP of 17 digits": (_with_sop('nomor="1"', '<alur:disahkanOleh nama="A" nip="19680412199003200"/>'),
                         "harus 18 angka"),
    "unknown kind of signature": (_with_sop('', '<alur:disahkanOleh nama="A" tandaTangan="stempel"/>'),
                                  "harus 'basah' atau 'elektronik'"),
    "two signers": (_with_sop('', '<alur:disahkanOleh nama="A"/><alur:disahkanOleh nama="B"/>'),
                    "disahkanOleh lebih dari satu"),
    "schema violation": (diagram().replace(b"<bpmn:endEvent", b"<bpmn:endEventt").replace(b'id="End" name="Selesai"/>', b'id="End" name="Selesai"></bpmn:endEventt>'), ""),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_refused_and_nothing_is_stored(empty_db: Database, case: str) -> None:
    data, expected = BAD_INPUTS[case]
    with pytest.raises(DeployError) as info:
        with empty_db.transaction() as session:
            deploy_sources(session, {"good.bpmn": diagram(pid="sop_baik"), "bad.bpmn": data})
    assert "bad.bpmn" in str(info.value)
    assert expected in str(info.value)
    assert _count(empty_db) == 0


ATTACKS = ["__import__('os').system('touch /tmp/alur-pwned')", "().__class__.__base__.__subclasses__()"]


@pytest.mark.parametrize("attack", ATTACKS)
@pytest.mark.parametrize("where", ["condition", "script task", "pre-script"])
def test_code_in_diagrams_is_refused_at_deploy(empty_db: Database, attack: str, where: str) -> None:
    escaped = attack.replace("'", "&apos;")
    if where == "condition":
        data = diagram(ya=f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{escaped}</bpmn:conditionExpression>')
    elif where == "script task":
        data = diagram(next=f'<bpmn:scriptTask id="Script_1" scriptFormat="python"><bpmn:script>{escaped}</bpmn:script></bpmn:scriptTask>',
                       next_id="Script_1")
    else:
        data = diagram(prescript=f"<spiffworkflow:preScript>{escaped}</spiffworkflow:preScript>")
    with pytest.raises(UnsafeExpressionError) as info:
        with empty_db.transaction() as session:
            deploy_sources(session, {"serang.bpmn": data})
    message = str(info.value)
    assert "serang.bpmn" in message and "tidak diizinkan" in message
    assert info.value.line is not None and info.value.element_id is not None
    assert _count(empty_db) == 0
    assert not Path("/tmp/alur-pwned").exists()


def test_identity_fields_are_stored_with_the_version(empty_db: Database) -> None:
    """Nomor, tanggal and Disahkan oleh reach the stored ProcessMeta (and back from JSON)."""
    data = _with_sop('nomor="800/1/2026" tanggalPembuatan="2026-01-05" tanggalEfektif="2026-02-01"',
                     '<alur:disahkanOleh jabatan="Camat" nama="Budi" nip="196804121990031004"/>')
    with empty_db.transaction() as session:
        deploy_sources(session, {"uji.bpmn": data})
        meta = latest_definition(session, "sop_uji").meta
    assert (meta.nomor, meta.tanggal_pembuatan, meta.tanggal_revisi, meta.tanggal_efektif) == (
        "800/1/2026", "2026-01-05", None, "2026-02-01")
    assert meta.disahkan_oleh is not None
    assert (meta.disahkan_oleh.jabatan, meta.disahkan_oleh.nama, meta.disahkan_oleh.nip) == (
        "Camat", "Budi", "196804121990031004")
