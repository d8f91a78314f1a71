"""The deploy checks on one parsed BPMN file: what Alur runs, and a clear refusal of the rest.

Each check raises :class:`~storage.errors.DeployError` (or its
:class:`~storage.errors.UnsafeExpressionError` branch) naming the file, the
element id and its line, and saying in Bahasa Indonesia what Alur does not
support. :mod:`engine.deploy` runs them in this order:

1. :func:`check_xinclude` — any element of the XInclude namespace (2001 or 2003)
   is refused. lxml never expands XInclude on its own (only an explicit call on a
   tree, or a parser built to expand it, does, and neither Alur nor
   SpiffWorkflow has either; a test checks), but a stored ``xi:include`` would
   be a trap for any later tool.
2. :func:`executable_processes` — a file with no executable process is refused
   (BPMN 2.0, 8.3.8 ``isExecutable``: a non-executable process is a picture).
3. :func:`check_expressions` — every expression-bearing element (sequence-flow
   and conditional-event conditions, script tasks, pre/post scripts,
   multi-instance ``loopCardinality``/``completionCondition``, loop conditions,
   data association ``assignment``/``transformation``) is in the safe subset of
   :mod:`engine.expressions`; FEEL (``= …``), JUEL (``${…}``, ``#{…}``) and any
   other ``language`` are refused by name.
4. :func:`check_timers` — ``timeDate``, ``timeDuration`` and ``timeCycle`` must be
   ISO 8601 literals (:mod:`engine.timers`; bare, ``P7D``, or as a quoted string,
   ``"P7D"``). A valid timer deploys where ``alur worker`` runs it
   (:mod:`engine.timer_events`): a boundary timer on a user task, interrupting or
   not, and an intermediate timer catch event; a timer anywhere else (a timer
   start event, a boundary timer on a call activity...) is refused.
   :func:`quote_timer_values` then hands SpiffWorkflow each value as the quoted
   string its script engine evaluates.
5. :func:`check_supported` — elements Alur does not execute are refused with the
   reason: data stores, data objects, data input/output associations and
   ``ioSpecification`` (Alur keeps a step's data itself); service, send, receive
   and business-rule tasks (SOP steps are done by people); message, signal,
   error, escalation, compensation, cancel and conditional events; event-based
   and complex gateways; embedded, ad-hoc and transaction sub-processes (use a
   call activity); multi-instance and standard loops; a task with more than one
   outgoing sequence flow (use a gateway); a condition on a flow that does not
   leave an exclusive or inclusive gateway; scripts in another language than
   Python; a flow node with an id SpiffWorkflow reserves for itself (``Start``,
   ``Root``, ``*.EndJoin``: the start event ``Start`` replaces the engine's own
   start, and the diagram deploys but can never be started).
6. :func:`check_vendor_extensions` — Camunda 7 (``camunda:``, also the older
   ``activiti:`` and ``flowable:``) and Camunda 8 (``zeebe:``) extensions. The
   choice: an extension that only annotates (properties, form keys, modeler
   version tags, ``asyncBefore``, task headers) is ignored, so a diagram drawn
   in Camunda Modeler still deploys; one that would change how the process runs
   (listeners, input/output mappings, job types, delegate classes and
   expressions, assignees and candidate groups, a called element or script or
   loop given in the extension) is refused, because Alur would silently run
   something else than what the diagram says.
7. :func:`check_gateways` — every exclusive/inclusive gateway with more than one
   outgoing flow has a condition on each flow except its ``default`` (BPMN 2.0,
   13.3.2).

The data-flow check (every variable a condition reads is set before it) is
:mod:`engine.dataflow`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from lxml import etree

from engine import expressions
from engine.sop import BPMN_NS
from engine.timers import TIMER_KINDS, TimerValueError, parse_timer
from storage.errors import DeployError, UnsafeExpressionError

__all__ = [
    "SPIFF_NS", "check_expressions", "check_gateways", "check_supported", "check_timers",
    "check_vendor_extensions", "check_xinclude", "executable_processes", "owner_of", "quote_timer_values",
    "refuse",
]

SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
_NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}
_XINCLUDE_NS = ("http://www.w3.org/2001/XInclude", "http://www.w3.org/2003/XInclude")
_PYTHON_LANGUAGES = {"", "python", "text/x-python", "text/python", "application/x-python"}

_UNSUPPORTED: dict[str, str] = {
    "dataStore": "penyimpanan data (data store)",
    "dataStoreReference": "penyimpanan data (data store reference)",
    "dataObject": "objek data (data object)",
    "dataObjectReference": "objek data (data object reference)",
    "dataInputAssociation": "asosiasi data masukan (data input association)",
    "dataOutputAssociation": "asosiasi data keluaran (data output association)",
    "ioSpecification": "spesifikasi masukan/keluaran (ioSpecification)",
    "serviceTask": "service task (langkah SOP dikerjakan orang, bukan layanan otomatis)",
    "sendTask": "send task (pesan antarproses)",
    "receiveTask": "receive task (pesan antarproses)",
    "businessRuleTask": "business rule task (tabel keputusan DMN)",
    "messageEventDefinition": "event pesan (message event)",
    "signalEventDefinition": "event sinyal (signal event)",
    "errorEventDefinition": "event galat (error event)",
    "escalationEventDefinition": "event eskalasi (escalation event)",
    "compensateEventDefinition": "event kompensasi (compensation event)",
    "cancelEventDefinition": "event pembatalan (cancel event)",
    "conditionalEventDefinition": "event bersyarat (conditional event)",
    "eventBasedGateway": "gateway berbasis event (event-based gateway)",
    "complexGateway": "gateway kompleks (complex gateway)",
    "subProcess": "sub-proses tersemat (embedded sub-process; gunakan call activity)",
    "adHocSubProcess": "sub-proses ad-hoc",
    "transaction": "sub-proses transaksi (transaction)",
    "multiInstanceLoopCharacteristics": "perulangan multi-instance",
    "standardLoopCharacteristics": "perulangan langkah (standard loop)",
}
_ACTIVITIES = ("task", "userTask", "manualTask", "scriptTask", "callActivity", "serviceTask", "sendTask",
               "receiveTask", "businessRuleTask", "subProcess", "adHocSubProcess", "transaction")
_CONDITIONAL_SOURCES = ("exclusiveGateway", "inclusiveGateway")
_RESERVED_IDS = {"Start", "Root"}  # SpiffWorkflow's own task specs; a flow node so named replaces one

_VENDOR_NS = {
    "http://camunda.org/schema/1.0/bpmn": "camunda",
    "http://activiti.org/bpmn": "activiti",
    "http://flowable.org/bpmn": "flowable",
    "http://camunda.org/schema/zeebe/1.0": "zeebe",
}
# Extensions that change what runs; every other vendor extension only annotates and is ignored.
_VENDOR_SEMANTIC = {
    "camunda": {"inputOutput", "in", "out", "executionListener", "taskListener", "connector", "script",
                "class", "delegateExpression", "expression", "resultVariable", "type", "topic", "assignee",
                "candidateUsers", "candidateGroups", "dueDate", "followUpDate", "collection",
                "elementVariable", "initiator", "calledElementBinding", "calledElementVersion",
                "variableMappingClass", "variableMappingDelegateExpression", "decisionRef", "caseRef"},
    "zeebe": {"taskDefinition", "ioMapping", "input", "output", "calledElement", "script", "subscription",
              "loopCharacteristics", "calledDecision", "assignmentDefinition", "taskSchedule",
              "executionListeners", "executionListener", "taskListeners", "taskListener"},
}
_VENDOR_SEMANTIC["activiti"] = _VENDOR_SEMANTIC["flowable"] = _VENDOR_SEMANTIC["camunda"]


def refuse(message: str, filename: str, element: etree._Element,
           error: type[DeployError] = DeployError) -> DeployError:
    """A deploy error for ``element`` of ``filename``: the id of it or its nearest ancestor with one, its line."""
    owner = owner_of(element)
    return error(message, file=filename, element_id=owner.get("id") if owner is not None else None,
                 line=element.sourceline)


def owner_of(element: etree._Element) -> etree._Element | None:
    """``element`` or its nearest ancestor that has an ``id``."""
    node: etree._Element | None = element
    while node is not None and node.get("id") is None:
        node = node.getparent()
    return node


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def _prefixed(element: etree._Element) -> str:
    qname = etree.QName(element)
    prefix = {BPMN_NS: "bpmn", SPIFF_NS: "spiffworkflow", **_VENDOR_NS}.get(qname.namespace or "", "")
    return f"{prefix}:{qname.localname}" if prefix else qname.localname


def _elements(tree: etree._ElementTree) -> Iterator[etree._Element]:
    return (e for e in tree.iter() if isinstance(e.tag, str))


def check_xinclude(tree: etree._ElementTree, filename: str) -> None:
    """Refuse any element of the XInclude namespace (``xi:include``, ``xi:fallback``)."""
    for element in _elements(tree):
        if etree.QName(element).namespace in _XINCLUDE_NS:
            raise refuse(f"XInclude ({_local(element)}) tidak diizinkan dalam berkas BPMN: Alur tidak "
                         f"menyertakan berkas lain (XInclude is not allowed)", filename, element)


def executable_processes(tree: etree._ElementTree, filename: str) -> list[etree._Element]:
    """The executable processes of a file; refuse a file that has none.

    A process without ``isExecutable`` counts as executable (bpmn.io leaves it
    out on some processes); ``isExecutable="false"`` does not.
    """
    processes = list(tree.iterfind("bpmn:process", _NS))
    executable = [p for p in processes if p.get("isExecutable") != "false"]
    if not executable:
        where = processes[0] if processes else tree.getroot()
        raise refuse("Tidak ada proses yang dapat dijalankan dalam berkas ini: setiap proses bertanda "
                     "isExecutable=\"false\" atau tidak ada proses sama sekali; Alur hanya menjalankan proses "
                     "dengan isExecutable=\"true\" (no executable process)", filename, where)
    return executable


def _expression_sources(tree: etree._ElementTree) -> Iterable[tuple[etree._Element, bool]]:
    """``(element, is_script)`` for every element whose text Alur (or SpiffWorkflow) would evaluate."""
    for tag in ("conditionExpression", "condition", "completionCondition", "loopCardinality", "loopCondition",
                "from", "to", "transformation"):
        for element in tree.iterfind(f".//bpmn:{tag}", _NS):
            yield element, False
    for script in tree.iterfind(".//bpmn:scriptTask/bpmn:script", _NS):
        yield script, True
    for tag in ("preScript", "postScript"):
        for script in tree.iterfind(f".//spiffworkflow:{tag}", _NS):
            yield script, True


def check_expressions(tree: etree._ElementTree, filename: str) -> None:
    """Refuse an expression or script outside :mod:`engine.expressions`' subset, or in another language."""
    for element, is_script in _expression_sources(tree):
        text = "".join(element.itertext())
        language = (element.get("language") or "").strip().lower()
        if language not in _PYTHON_LANGUAGES:
            raise refuse(f"Bahasa ekspresi {element.get('language')!r} tidak didukung: Alur hanya membaca "
                         f"ekspresi Python sederhana (expression language not supported)", filename, element,
                         UnsafeExpressionError)
        stripped = text.strip()
        if "${" in stripped or "#{" in stripped:
            raise refuse(f"Ekspresi JUEL/Camunda {stripped!r} tidak didukung: tulis kondisi sebagai ekspresi "
                         f"Python sederhana, misalnya keputusan == \"setuju\" (JUEL expressions are not "
                         f"supported)", filename, element, UnsafeExpressionError)
        if stripped.startswith("="):
            raise refuse(f"Ekspresi FEEL {stripped!r} tidak didukung: tulis kondisi sebagai ekspresi Python "
                         f"sederhana, misalnya keputusan == \"setuju\" (FEEL expressions are not supported)",
                         filename, element, UnsafeExpressionError)
        try:
            (expressions.check_script if is_script else expressions.check_expression)(text)
        except UnsafeExpressionError as exc:
            raise refuse(str(exc), filename, element, UnsafeExpressionError) from exc


_QUOTED = re.compile(r"""(["'])([^"'\\]*)\1""")
_TIMER_HOSTS = ("boundaryEvent", "intermediateCatchEvent")


def _timer_text(value: etree._Element) -> str:
    """A timer value's ISO 8601 text: the element's text, without the quotes of a quoted literal."""
    text = "".join(value.itertext()).strip()
    quoted = _QUOTED.fullmatch(text)
    return quoted.group(2).strip() if quoted else text


def check_timers(tree: etree._ElementTree, filename: str) -> None:
    """Parse every timer value as an ISO 8601 literal; refuse a timer where the worker does not run one.

    Runs: a boundary timer attached to a user task (``cancelActivity`` true or
    false) and an intermediate timer catch event (BPMN 2.0, 10.5.5). Refused, with
    the reason: a value that is not an ISO 8601 literal of its kind (an expression,
    FEEL, a cron line), a timer with no value, and a timer on any other element
    (timer start events, event sub-processes, boundary timers on call activities).
    """
    for definition in tree.iterfind(".//bpmn:timerEventDefinition", _NS):
        values = [child for child in definition if isinstance(child.tag, str) and _local(child) in TIMER_KINDS]
        for value in values:
            try:
                parse_timer(_local(value), _timer_text(value))
            except TimerValueError as exc:
                raise refuse(f"Nilai timer {_local(value)} harus berupa literal ISO 8601, bukan ekspresi: {exc} "
                             f"(timer value must be an ISO 8601 literal)", filename, value,
                             UnsafeExpressionError) from exc
        host = definition.getparent()
        what = ", ".join(f"{_local(v)}={_timer_text(v)}" for v in values) or "tanpa nilai"
        if host is None or not values:
            raise refuse(f"Event timer ({what}) tanpa nilai timeDate, timeDuration atau timeCycle tidak dapat "
                         f"dijalankan (a timer needs a value)", filename, host if host is not None else definition)
        if _local(host) in _TIMER_HOSTS and (_local(host) != "boundaryEvent" or _attached_to_user_task(host)):
            continue
        raise refuse(f"Event timer ({what}) pada {_local(host)} belum dijalankan oleh Alur: hanya timer batas "
                     f"(boundary) pada tugas pengguna dan timer antara (intermediate catch event) yang dijalankan "
                     f"worker (only boundary timers on user tasks and intermediate timer catch events run)",
                     filename, host)


def _attached_to_user_task(boundary: etree._Element) -> bool:
    ref = boundary.get("attachedToRef")
    process = boundary.getparent()
    if not ref or process is None:
        return False
    return any(_local(e) == "userTask" for e in process if isinstance(e.tag, str) and e.get("id") == ref)


def quote_timer_values(tree: etree._ElementTree) -> None:
    """Write every (checked) timer value as a quoted string, as SpiffWorkflow evaluates it.

    SpiffWorkflow's script engine evaluates a timer's text as an expression, so
    ``P7D`` becomes ``"P7D"``; an already quoted value is left as it is. Changes
    only the parsed tree given to the parser, never the stored file. Call after
    :func:`check_timers`.
    """
    for definition in tree.iterfind(".//bpmn:timerEventDefinition", _NS):
        for value in definition:
            if isinstance(value.tag, str) and _local(value) in TIMER_KINDS:
                text = "".join(value.itertext()).strip()
                if not _QUOTED.fullmatch(text):
                    for child in list(value):
                        value.remove(child)
                    value.text = f'"{text}"'


def check_supported(tree: etree._ElementTree, filename: str) -> None:
    """Refuse elements Alur does not execute (see the module docstring), each with its reason."""
    for element in _elements(tree):
        qname = etree.QName(element)
        if qname.namespace != BPMN_NS:
            continue
        element_id = element.get("id") or ""
        if (element_id in _RESERVED_IDS or element_id.endswith(".EndJoin")) and element.getparent() is not None \
                and etree.QName(element.getparent()).localname == "process":
            raise refuse(f"Id {element_id!r} dipakai mesin alur untuk dirinya sendiri: beri elemen ini id lain "
                         f"(reserved id)", filename, element)
        reason = _UNSUPPORTED.get(qname.localname)
        if reason is not None:
            raise refuse(f"{_prefixed(element)}: {reason} tidak didukung oleh Alur "
                         f"(element not supported)", filename, element)
        if qname.localname == "scriptTask":
            language = (element.get("scriptFormat") or "").strip().lower()
            if language not in _PYTHON_LANGUAGES:
                raise refuse(f"Bahasa skrip {element.get('scriptFormat')!r} tidak didukung: Alur hanya "
                             f"menjalankan skrip Python sederhana (script format not supported)", filename, element)
    nodes = {e.get("id"): e for e in _elements(tree) if e.get("id") is not None}
    outgoing: dict[str, list[etree._Element]] = {}
    for flow in tree.iterfind(".//bpmn:sequenceFlow", _NS):
        outgoing.setdefault(flow.get("sourceRef") or "", []).append(flow)
    for source_id, flows in outgoing.items():
        source = nodes.get(source_id)
        if source is None:
            continue
        kind = _local(source)
        if kind in _ACTIVITIES and len(flows) > 1:
            raise refuse(f"{_prefixed(source)} memiliki {len(flows)} alur keluar: Alur tidak mendukung lebih dari "
                         f"satu alur keluar dari sebuah langkah; gunakan gateway (multiple outgoing flows from a "
                         f"task are not supported)", filename, source)
        for flow in flows:
            condition = flow.find("bpmn:conditionExpression", _NS)
            if condition is not None and kind not in _CONDITIONAL_SOURCES:
                raise refuse(f"Alur {flow.get('id')!r} bersyarat tetapi keluar dari {_prefixed(source)}: Alur "
                             f"hanya mendukung kondisi pada alur yang keluar dari gateway eksklusif/inklusif "
                             f"(conditional flow not supported here)", filename, flow)


def check_vendor_extensions(tree: etree._ElementTree, filename: str) -> None:
    """Refuse Camunda/Zeebe extensions that change execution; ignore those that only annotate."""
    for element in _elements(tree):
        vendor = _VENDOR_NS.get(etree.QName(element).namespace or "")
        if vendor is not None and _local(element) in _VENDOR_SEMANTIC[vendor]:
            raise refuse(f"Ekstensi {vendor}:{_local(element)} mengubah cara proses dijalankan dan tidak "
                         f"didukung oleh Alur (vendor extension changes execution; not supported)",
                         filename, element)
        for name in element.attrib:
            qname = etree.QName(name)
            vendor = _VENDOR_NS.get(qname.namespace or "")
            if vendor is not None and qname.localname in _VENDOR_SEMANTIC[vendor]:
                raise refuse(f"Atribut {vendor}:{qname.localname} pada {_prefixed(element)} mengubah cara "
                             f"proses dijalankan dan tidak didukung oleh Alur (vendor extension changes "
                             f"execution; not supported)", filename, element)


def check_gateways(tree: etree._ElementTree, filename: str) -> None:
    """Refuse a gateway branch with neither a condition nor the ``default`` mark (BPMN 2.0, 13.3.2)."""
    flows = list(tree.iterfind(".//bpmn:sequenceFlow", _NS))
    for tag in ("exclusiveGateway", "inclusiveGateway"):
        for gateway in tree.iterfind(f".//bpmn:{tag}", _NS):
            outgoing = [f for f in flows if f.get("sourceRef") == gateway.get("id")]
            if len(outgoing) < 2:
                continue
            for flow in outgoing:
                if flow.get("id") == gateway.get("default"):
                    continue
                condition = flow.find("bpmn:conditionExpression", _NS)
                if condition is None or not "".join(condition.itertext()).strip():
                    raise refuse(f"Cabang gateway {gateway.get('id')!r} tanpa kondisi "
                                 f"(gateway branch without condition)", filename, flow)
