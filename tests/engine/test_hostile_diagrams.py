"""Hostile and careless diagrams (issue 6, items 1-5): refused at deploy with file, element and line.

Each case is a small diagram of our own in the shape another tool would draw
it; every refusal must name the file, the element id and its line, say in
Bahasa Indonesia what Alur does not support, show no Python repr, and store
nothing.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import func, select

from engine.database import Database
from engine.deploy import deploy_sources
from storage.errors import DeployError, UnsafeExpressionError
from storage.models import ProcessDefinition

NAMESPACES = (
    'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xmlns:alur="http://alur.dev/schema/bpmn/sop/1.0" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
    'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
    'xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" '
    'xmlns:xi="http://www.w3.org/2001/XInclude"'
)
REVIEW = "<bpmn:extensionElements><alur:review/></bpmn:extensionElements>"


def cond(text: str) -> str:
    """A sequence flow's condition element."""
    return f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{text}</bpmn:conditionExpression>'


def sop(body: str, *, pid: str = "sop_uji_serang", executable: str = "true", process_ext: str = "") -> bytes:
    """One process in lane "Staf" (every flow node listed in it); ``body`` holds nodes and flows."""
    ids = re.findall(r'<bpmn:(?!sequenceFlow|conditionExpression|dataObject\b)\w+ id="([^"]+)"', body)
    refs = "".join(f"<bpmn:flowNodeRef>{i}</bpmn:flowNodeRef>" for i in ids)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions {NAMESPACES} id="Defs_1" '
            f'targetNamespace="http://alur.dev/test">\n'
            f'<bpmn:process id="{pid}" name="SOP Uji" isExecutable="{executable}">{process_ext}\n'
            f'<bpmn:laneSet id="LaneSet_1"><bpmn:lane id="Lane_Staf" name="Staf">{refs}</bpmn:lane></bpmn:laneSet>\n'
            f"{body}\n</bpmn:process>\n</bpmn:definitions>\n").encode()


def line_of(data: bytes, needle: str) -> int:
    """1-based line of the first occurrence of ``needle``."""
    text = data.decode()
    return text[:text.index(needle)].count("\n") + 1


def review_sop(ya: str = 'keputusan == "setuju"', *, task_ext: str = REVIEW, extra: str = "",
               before: str = "") -> str:
    """Start -> Step_01 -> Gateway_1 (Ya to End, Tidak back to Step_01); ``before`` goes before Step_01."""
    first = "StartEvent_1"
    flows = ""
    if before:
        first = "Pre_1"
        flows = '<bpmn:sequenceFlow id="F0" sourceRef="StartEvent_1" targetRef="Pre_1"/>'
    return f"""
<bpmn:startEvent id="StartEvent_1"/>
{before}
<bpmn:userTask id="Step_01" name="Periksa">{task_ext}</bpmn:userTask>
<bpmn:exclusiveGateway id="Gateway_1" name="Setuju?"/>
<bpmn:endEvent id="End"/>
{extra}
{flows}
<bpmn:sequenceFlow id="F1" sourceRef="{first}" targetRef="Step_01"/>
<bpmn:sequenceFlow id="F2" sourceRef="Step_01" targetRef="Gateway_1"/>
<bpmn:sequenceFlow id="F_Ya" sourceRef="Gateway_1" targetRef="End">{cond(ya)}</bpmn:sequenceFlow>
<bpmn:sequenceFlow id="F_Tidak" sourceRef="Gateway_1" targetRef="Step_01">{cond('keputusan == "tidak"')}</bpmn:sequenceFlow>
"""


def _count(database: Database) -> int:
    with database.transaction() as session:
        return session.scalar(select(func.count()).select_from(ProcessDefinition)) or 0


def refused(database: Database, data: bytes, filename: str = "serang.bpmn") -> DeployError:
    """Deploy ``data`` expecting a refusal; check it names file, element and line and stores nothing."""
    with pytest.raises(DeployError) as info:
        with database.transaction() as session:
            deploy_sources(session, {filename: data})
    error = info.value
    message = str(error)
    assert error.file == filename and filename in message
    assert error.element_id and error.line is not None, message
    assert " at 0x" not in message and "<Element" not in message, message
    assert _count(database) == 0
    return error


def deploys(database: Database, data: bytes) -> None:
    with database.transaction() as session:
        assert deploy_sources(session, {"baik.bpmn": data})


# --- 1. timers and every expression-bearing element -------------------------------

def boundary_timer(kind: str, value: str) -> bytes:
    return sop(review_sop(extra=f"""
<bpmn:boundaryEvent id="Timer_1" attachedToRef="Step_01">
  <bpmn:timerEventDefinition id="TimerDef_1"><bpmn:{kind} xsi:type="bpmn:tFormalExpression">{value}</bpmn:{kind}></bpmn:timerEventDefinition>
</bpmn:boundaryEvent>
<bpmn:endEvent id="End_Timer"/>
<bpmn:sequenceFlow id="F_Timer" sourceRef="Timer_1" targetRef="End_Timer"/>"""))


@pytest.mark.parametrize(("kind", "value"), [
    ("timeDuration", '__import__("os").system("id")'),
    ("timeDuration", "${durasi}"),
    ("timeDuration", "PT"),
    ("timeDate", "besok pagi"),
    ("timeDate", "2026-02-30T09:00:00"),
    ("timeCycle", "0 0 9 * * ?"),
])
def test_timer_value_that_is_not_an_iso_literal_is_refused(empty_db: Database, kind: str, value: str) -> None:
    data = boundary_timer(kind, value.replace('"', "&quot;"))
    error = refused(empty_db, data)
    assert isinstance(error, UnsafeExpressionError)
    assert "ISO 8601" in error.message and kind in error.message
    assert error.element_id == "TimerDef_1" and error.line == line_of(data, f"<bpmn:{kind}")


@pytest.mark.parametrize(("kind", "value"), [
    ("timeDuration", "P7D"), ("timeDate", "2026-12-31T09:00:00+07:00"), ("timeCycle", "R3/PT10H"),
    ("timeCycle", "R/2026-01-01T08:00:00Z/P1D"),
])
def test_valid_boundary_timer_on_a_user_task_deploys(empty_db: Database, kind: str, value: str) -> None:
    """Issue 8: the worker runs timers, so a valid ISO 8601 boundary timer on a user task deploys."""
    deploys(empty_db, boundary_timer(kind, value))
    with empty_db.transaction() as session:
        spec_json = session.scalars(select(ProcessDefinition.spec_json)).one()
    assert f'\\"{value}\\"' in spec_json  # handed to SpiffWorkflow as the quoted string it evaluates
    with empty_db.transaction() as session:
        stored = session.scalars(select(ProcessDefinition.bpmn_xml)).one()
    assert f">{value}</bpmn:{kind}>" in stored  # the stored file is the file deployed


def test_quoted_timer_value_deploys_but_quoted_expression_is_refused(empty_db: Database) -> None:
    error = refused(empty_db, boundary_timer("timeDuration", "&quot;P2D&quot; + durasi"))
    assert isinstance(error, UnsafeExpressionError) and "ISO 8601" in error.message
    deploys(empty_db, boundary_timer("timeDuration", "&quot;P2D&quot;"))


def test_timer_start_event_is_refused_as_not_run(empty_db: Database) -> None:
    body = review_sop().replace('<bpmn:startEvent id="StartEvent_1"/>', """<bpmn:startEvent id="StartEvent_1">
        <bpmn:timerEventDefinition id="TD_Start"><bpmn:timeCycle>R/2026-01-01T08:00:00Z/P1D</bpmn:timeCycle>
        </bpmn:timerEventDefinition></bpmn:startEvent>""")
    data = sop(body)
    error = refused(empty_db, data)
    assert "belum dijalankan oleh Alur" in error.message and "startEvent" in error.message
    assert error.element_id == "StartEvent_1" and error.line == line_of(data, '<bpmn:startEvent id="StartEvent_1"')


def test_boundary_timer_on_a_call_activity_is_refused_as_not_run(empty_db: Database) -> None:
    data = sop(review_sop(extra="""
<bpmn:callActivity id="Call_1" name="Panggil" calledElement="sop_uji_serang"/>
<bpmn:boundaryEvent id="Timer_1" attachedToRef="Call_1">
  <bpmn:timerEventDefinition id="TimerDef_1"><bpmn:timeDuration>P7D</bpmn:timeDuration></bpmn:timerEventDefinition>
</bpmn:boundaryEvent>"""))
    error = refused(empty_db, data)
    assert "belum dijalankan oleh Alur" in error.message and "timeDuration=P7D" in error.message
    assert error.element_id == "Timer_1"


def test_intermediate_timer_with_expression_is_refused(empty_db: Database) -> None:
    body = review_sop(before="""<bpmn:intermediateCatchEvent id="Pre_1"><bpmn:timerEventDefinition id="TD">
        <bpmn:timeDate>tanggal_surat</bpmn:timeDate></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>""")
    assert "ISO 8601" in refused(empty_db, sop(body)).message


ATTACK = "__import__(&quot;os&quot;).system(&quot;id&quot;)"


@pytest.mark.parametrize("where", ["loopCardinality", "completionCondition", "assignment", "conditional event"])
def test_code_in_other_expression_elements_is_refused(empty_db: Database, where: str) -> None:
    if where in ("loopCardinality", "completionCondition"):
        ext = (f'<bpmn:multiInstanceLoopCharacteristics><bpmn:{where} xsi:type="bpmn:tFormalExpression">{ATTACK}'
               f'</bpmn:{where}></bpmn:multiInstanceLoopCharacteristics>')
        data = sop(review_sop(task_ext=REVIEW + ext))
    elif where == "assignment":
        ext = (f'<bpmn:dataInputAssociation id="DIA_1"><bpmn:targetRef>Step_01</bpmn:targetRef><bpmn:assignment>'
               f'<bpmn:from>{ATTACK}</bpmn:from><bpmn:to>x</bpmn:to></bpmn:assignment></bpmn:dataInputAssociation>')
        data = sop(review_sop(task_ext=REVIEW + ext))
    else:
        data = sop(review_sop(before=f"""<bpmn:intermediateCatchEvent id="Pre_1"><bpmn:conditionalEventDefinition
            id="CE"><bpmn:condition xsi:type="bpmn:tFormalExpression">{ATTACK}</bpmn:condition>
            </bpmn:conditionalEventDefinition></bpmn:intermediateCatchEvent>"""))
    error = refused(empty_db, data)
    assert isinstance(error, UnsafeExpressionError) and "tidak diizinkan" in error.message


def test_valid_multi_instance_is_refused_with_reason(empty_db: Database) -> None:
    ext = ('<bpmn:multiInstanceLoopCharacteristics id="MI_1"><bpmn:loopCardinality xsi:type="bpmn:tFormalExpression">'
           '3</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>')
    error = refused(empty_db, sop(review_sop(task_ext=REVIEW + ext)))
    assert "multi-instance tidak didukung" in error.message and error.element_id == "MI_1"


# --- 2. XInclude --------------------------------------------------------------------

@pytest.mark.parametrize("namespace", ["http://www.w3.org/2001/XInclude", "http://www.w3.org/2003/XInclude"])
@pytest.mark.parametrize("place", ["extensionElements", "documentation"])
def test_xinclude_is_refused_and_not_processed(empty_db: Database, namespace: str, place: str) -> None:
    include = f'<x:include xmlns:x="{namespace}" href="/etc/passwd" parse="text"/>'
    task = (f"<bpmn:extensionElements><alur:review/>{include}</bpmn:extensionElements>" if place == "extensionElements"
            else f"<bpmn:documentation>{include}</bpmn:documentation>{REVIEW}")
    data = sop(review_sop(task_ext=task))
    error = refused(empty_db, data)
    assert "XInclude (include) tidak diizinkan" in error.message
    assert error.element_id == "Step_01" and error.line == line_of(data, "<x:include")


# --- 3. data flow ---------------------------------------------------------------------

def test_condition_on_a_variable_no_step_sets_is_refused(empty_db: Database) -> None:
    data = sop(review_sop(ya="setuju == True"))
    error = refused(empty_db, data)
    assert error.element_id == "Gateway_1" and error.line == line_of(data, '<bpmn:exclusiveGateway id="Gateway_1"')
    assert "'setuju'" in error.message and "tidak diisi" in error.message


def test_keputusan_after_a_step_that_is_not_a_review_is_refused(empty_db: Database) -> None:
    error = refused(empty_db, sop(review_sop(task_ext="")))
    assert error.element_id == "Gateway_1" and "'keputusan'" in error.message


def test_variable_set_on_one_branch_only_is_refused(empty_db: Database) -> None:
    script = "if catatan:\n    prioritas = 1"
    body = review_sop(ya='keputusan == "setuju" and prioritas == 1', extra=(
        f'<bpmn:scriptTask id="Script_1" scriptFormat="python"><bpmn:script>{script}</bpmn:script></bpmn:scriptTask>'
    )).replace('sourceRef="Step_01" targetRef="Gateway_1"', 'sourceRef="Step_01" targetRef="Script_1"') + \
        '<bpmn:sequenceFlow id="F3" sourceRef="Script_1" targetRef="Gateway_1"/>'
    error = refused(empty_db, sop(body))
    assert error.element_id == "Gateway_1" and "'prioritas'" in error.message
    deploys(empty_db, sop(body.replace(script, "prioritas = 0\nif catatan:\n    prioritas = 1")))


def test_script_reading_an_unset_variable_is_refused(empty_db: Database) -> None:
    body = review_sop(before='<bpmn:scriptTask id="Pre_1" scriptFormat="python"><bpmn:script>n = jumlah + 1'
                             '</bpmn:script></bpmn:scriptTask>')
    error = refused(empty_db, sop(body))
    assert error.element_id == "Pre_1" and "'jumlah'" in error.message


def test_variable_set_before_a_review_loop_counts(empty_db: Database) -> None:
    body = review_sop(ya='keputusan == "setuju" and putaran &lt; 5',
                      before='<bpmn:scriptTask id="Pre_1" scriptFormat="python"><bpmn:script>putaran = 0'
                             '</bpmn:script></bpmn:scriptTask>')
    deploys(empty_db, sop(body))


LETTER_STEP = ('<bpmn:extensionElements><alur:mutuBaku kelengkapan="Surat masuk"/><alur:review/>'
               '</bpmn:extensionElements>')


def test_letter_start_data_may_be_read_only_by_an_sop_that_starts_from_a_letter(empty_db: Database) -> None:
    ya = 'keputusan == "setuju" and nomor_surat != ""'
    assert "'nomor_surat'" in refused(empty_db, sop(review_sop(ya=ya), pid="sop_lain")).message
    deploys(empty_db, sop(review_sop(ya=ya, task_ext=LETTER_STEP)))


# --- 4. bounds ------------------------------------------------------------------------

@pytest.mark.parametrize("ya", ['("a" * 1500000000) != ""', "[0] * 1000000 == []", "1" + "0" * 100 + " * 10 > 1",
                                '"%999999999d" % 1 != ""'])
def test_expression_certain_to_exceed_the_bounds_is_refused(empty_db: Database, ya: str) -> None:
    error = refused(empty_db, sop(review_sop(ya=f'keputusan == "setuju" and {ya}'.replace('"', "&quot;"))))
    assert isinstance(error, UnsafeExpressionError) and error.element_id == "F_Ya"
    assert "melampaui batas" in error.message


# --- 5. diagrams from other tools -------------------------------------------------------

DATA_STORE = """
<bpmn:dataStoreReference id="DataStoreRef_1" name="Arsip"/>
<bpmn:dataObject id="DataObject_1"/>
<bpmn:dataObjectReference id="DataObjectRef_1" dataObjectRef="DataObject_1"/>"""


@pytest.mark.parametrize(("case", "element", "words"), [
    ("data store", "DataStoreRef_1", "penyimpanan data (data store reference) tidak didukung"),
    ("data object", "DataObject_1", "objek data (data object) tidak didukung"),
    ("data input association", "DIA_1", "asosiasi data masukan"),
    ("data output association", "DOA_1", "asosiasi data keluaran"),
])
def test_data_stores_objects_and_associations_are_refused(empty_db: Database, case: str, element: str,
                                                          words: str) -> None:
    extra = {"data store": DATA_STORE.split("\n")[1], "data object": DATA_STORE.split("\n")[2]}.get(case, "")
    task = REVIEW
    if case == "data input association":
        task += ('<bpmn:dataInputAssociation id="DIA_1"><bpmn:sourceRef>DataStoreRef_1</bpmn:sourceRef>'
                 '<bpmn:targetRef>Step_01</bpmn:targetRef></bpmn:dataInputAssociation>')
    elif case == "data output association":
        task += ('<bpmn:dataOutputAssociation id="DOA_1"><bpmn:targetRef>DataStoreRef_1</bpmn:targetRef>'
                 '</bpmn:dataOutputAssociation>')
    data = sop(review_sop(task_ext=task, extra=extra))
    error = refused(empty_db, data)
    assert words in error.message and error.element_id == element


def test_task_with_two_outgoing_flows_is_refused(empty_db: Database) -> None:
    body = review_sop() + '<bpmn:sequenceFlow id="F_Extra" sourceRef="Step_01" targetRef="End"/>'
    data = sop(body)
    error = refused(empty_db, data)
    assert error.element_id == "Step_01" and "2 alur keluar" in error.message and "gateway" in error.message
    assert error.line == line_of(data, '<bpmn:userTask id="Step_01"')


def test_file_without_executable_process_is_refused(empty_db: Database) -> None:
    error = refused(empty_db, sop(review_sop(), executable="false"))
    assert "Tidak ada proses yang dapat dijalankan" in error.message and error.element_id == "sop_uji_serang"


@pytest.mark.parametrize(("condition", "words"), [
    ("= approved", "Ekspresi FEEL"), ("${approved}", "Ekspresi JUEL"), ("#{approved == true}", "Ekspresi JUEL"),
])
def test_feel_and_juel_conditions_are_refused_by_name(empty_db: Database, condition: str, words: str) -> None:
    data = sop(review_sop(ya=condition))
    error = refused(empty_db, data)
    assert words in error.message and error.element_id == "F_Ya"
    assert error.line == line_of(data, condition)


def test_condition_in_another_language_is_refused(empty_db: Database) -> None:
    body = review_sop().replace('<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">keputusan == "setuju"',
                                '<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" language="javascript">'
                                'keputusan == "setuju"')
    assert "Bahasa ekspresi 'javascript'" in refused(empty_db, sop(body)).message


@pytest.mark.parametrize(("extension", "words"), [
    ('<camunda:inputOutput><camunda:inputParameter name="x">1</camunda:inputParameter></camunda:inputOutput>',
     "camunda:inputOutput"),
    ('<camunda:taskListener event="create" class="org.Contoh"/>', "camunda:taskListener"),
    ('<zeebe:taskDefinition type="kirim-email"/>', "zeebe:taskDefinition"),
    ('<zeebe:ioMapping><zeebe:input source="=a" target="b"/></zeebe:ioMapping>', "zeebe:ioMapping"),
])
def test_vendor_extensions_that_change_execution_are_refused(empty_db: Database, extension: str, words: str) -> None:
    data = sop(review_sop(task_ext=f"<bpmn:extensionElements><alur:review/>{extension}</bpmn:extensionElements>"))
    error = refused(empty_db, data)
    assert words in error.message and "tidak didukung" in error.message and error.element_id == "Step_01"


def test_camunda_assignee_attribute_is_refused(empty_db: Database) -> None:
    data = sop(review_sop().replace('name="Periksa"', 'name="Periksa" camunda:assignee="demo"'))
    assert "camunda:assignee" in refused(empty_db, data).message


def test_annotating_vendor_extensions_are_ignored(empty_db: Database) -> None:
    ext = ('<bpmn:extensionElements><alur:review/><camunda:properties><camunda:property name="a" value="b"/>'
           '</camunda:properties><zeebe:formDefinition formKey="f"/><zeebe:userTask/></bpmn:extensionElements>')
    deploys(empty_db, sop(review_sop(task_ext=ext).replace('name="Periksa"',
                                                           'name="Periksa" camunda:formKey="f" camunda:asyncBefore="true"')))


def test_service_task_is_refused(empty_db: Database) -> None:
    data = sop(review_sop(before='<bpmn:serviceTask id="Pre_1" name="Kirim"/>'))
    error = refused(empty_db, data)
    assert error.element_id == "Pre_1" and "service task" in error.message


def test_spiffworkflow_refusals_lose_their_python_reprs() -> None:
    tree = etree.ElementTree(etree.fromstring(sop(review_sop())))
    node = tree.find(".//{http://www.omg.org/spec/BPMN/20100524/MODEL}userTask")
    from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException

    from engine.deploy import _from_spiff, _scrub

    message = f"Cannot resolve dataInputAssociation {node!r}"
    error = _from_spiff(ValidationException(message, node=node), "c6.bpmn", tree)
    assert "0x" not in str(error) and "Cannot resolve dataInputAssociation userTask" in str(error)
    assert error.element_id == "Step_01" and error.line == node.sourceline
    assert _scrub("x <SpiffWorkflow.task.Task object at 0x7fc4aa> y") == "x elemen y"


def test_start_event_with_the_id_the_engine_reserves_is_refused(empty_db: Database) -> None:
    error = refused(empty_db, sop(review_sop().replace('"StartEvent_1"', '"Start"')))
    assert error.element_id == "Start" and "id lain" in error.message


MIWG = Path(__file__).parent / "data" / "miwg"


def test_miwg_c91_from_camunda_modeler_is_refused_for_its_timer(empty_db: Database) -> None:
    data = (MIWG / "C.9.1.bpmn").read_bytes()
    error = refused(empty_db, data, "C.9.1.bpmn")
    assert error.element_id == "BoundaryEvent_1" and "timeCycle=R6/P1D" in error.message
    assert "belum dijalankan oleh Alur" in error.message


def test_file_with_no_process_at_all_is_refused(empty_db: Database) -> None:
    data = (f'<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions {NAMESPACES} id="Defs_Kosong" '
            f'targetNamespace="http://alur.dev/test">\n<bpmn:collaboration id="Collab_1"/>\n</bpmn:definitions>\n').encode()
    error = refused(empty_db, data)
    assert "Tidak ada proses yang dapat dijalankan" in error.message and error.element_id == "Defs_Kosong"


def test_nothing_alur_runs_processes_xinclude() -> None:
    """lxml expands XInclude only when asked (``.xinclude()``, ``XMLParser(xinclude=True)``): nobody asks."""
    import SpiffWorkflow

    roots = [Path(__file__).resolve().parents[2] / p for p in ("engine", "storage", "web", "scripts")]
    roots.append(Path(SpiffWorkflow.__file__).parent)
    asking = [str(f) for root in roots for f in root.rglob("*.py")
              if re.search(r"\.xinclude\(|xinclude\s*=\s*True|XInclude\(", f.read_text(encoding="utf-8"))]
    assert asking == []


CALLS = """<bpmn:startEvent id="StartEvent_1"/><bpmn:callActivity id="Call_1" name="Panggil" calledElement="{called}"/>
<bpmn:userTask id="Step_01" name="Ketik"/><bpmn:endEvent id="End"/>
<bpmn:sequenceFlow id="F1" sourceRef="StartEvent_1" targetRef="Call_1"/>
<bpmn:sequenceFlow id="F2" sourceRef="Call_1" targetRef="Step_01"/>
<bpmn:sequenceFlow id="F3" sourceRef="Step_01" targetRef="End"/>"""


def test_call_activity_calling_its_own_process_is_refused(empty_db: Database) -> None:
    data = sop(CALLS.format(called="sop_uji_serang"))
    error = refused(empty_db, data)
    assert error.element_id == "Call_1" and "sop_uji_serang → sop_uji_serang" in error.message


def test_call_cycle_through_a_deployed_process_is_refused(empty_db: Database) -> None:
    plain = sop(review_sop(), pid="sop_b")
    deploys(empty_db, plain)
    with empty_db.transaction() as session:
        deploy_sources(session, {"a.bpmn": sop(CALLS.format(called="sop_b"), pid="sop_a")})
    calls_a = sop(CALLS.format(called="sop_a"), pid="sop_b")  # a new sop_b calling sop_a, which calls sop_b
    with pytest.raises(DeployError) as info:
        with empty_db.transaction() as session:
            deploy_sources(session, {"b.bpmn": calls_a})
    assert "sop_b → sop_a → sop_b" in str(info.value) and info.value.element_id == "Call_1"
