"""Deploy BPMN files as process definition versions.

A deployment reads a set of ``.bpmn`` files, refuses anything unsafe or
inconsistent, and stores each process once per distinct content: deploying the
same bytes again returns the existing version; a changed file makes a new
version, while running instances stay on the versions they started with.

Checks, all made before anything is stored (a deployment is all or nothing); every
refusal names the file, the element id and its line, and says in Bahasa Indonesia
what is wrong or what Alur does not support:

- XML is parsed with entity resolution, DTD loading and network access off, and a
  document with a DOCTYPE is refused outright (external entities, "billion laughs").
- No XInclude element (``xi:include``, 2001 and 2003 namespaces).
- The BPMN 2.0 XML schema (OMG formal/2011-01-03), via SpiffWorkflow's validator.
- The file has at least one executable process (``isExecutable`` not ``"false"``).
- Every expression-bearing element (conditions, scripts, pre/post scripts,
  multi-instance and loop expressions, data assignments) is in the safe, bounded
  subset of :mod:`engine.expressions`; FEEL, JUEL and other languages are refused.
- Every timer value (``timeDate``, ``timeDuration``, ``timeCycle``) is an ISO 8601
  literal, on a timer the worker runs (a boundary timer on a user task, an
  intermediate timer catch event; :mod:`engine.timer_events`); any other timer
  (a timer start event, a boundary timer elsewhere) is refused.
- Nothing Alur does not execute: data stores, data objects and data associations,
  service/send/receive/business-rule tasks, message/signal/error/escalation/
  compensation/cancel/conditional events, event-based and complex gateways,
  embedded sub-processes, loops and multi-instance, a task with several outgoing
  flows, a condition on a flow not leaving a gateway, Camunda/Zeebe extensions
  that change execution (list and reasons: :mod:`engine.deploy_checks`).
- Every exclusive/inclusive gateway with more than one outgoing sequence flow has a
  condition on each flow except its ``default`` (BPMN 2.0, 13.3.2: a flow without
  condition and not default would be taken unconditionally).
- Data flow: every variable a condition or script reads is set before it on every
  path, by a review step (``keputusan``), a script or the start data
  (:mod:`engine.dataflow`).
- Every call activity's ``calledElement`` names a process in this deployment or an
  already deployed one, and no chain of call activities leads back to the process
  it starts from.
- The SOP-AP identity fields of ``alur:sop`` are well formed: dates ``YYYY-MM-DD``,
  an 18-digit NIP (:func:`engine.sop.identity_problems`).
- What SpiffWorkflow still refuses when building the spec is reported with the
  element's id and line, never with a Python object's repr.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from sqlalchemy.orm import Session

from engine import dataflow, deploy_checks
from engine.sop import BPMN_NS, ProcessMeta, identity_problems, read_process_meta
from engine.state import dump_spec
from storage import definitions
from storage.errors import DeployError

__all__ = ["DeployedProcess", "deploy_directory", "deploy_sources", "parse_bpmn"]

_NS = {"bpmn": BPMN_NS, "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}
_MAX_FILE_BYTES = 5 * 1024 * 1024
_PROLOG_BYTES = 64 * 1024
_REPR = re.compile(r"<Element \{[^}]*\}(\w+) at 0x[0-9a-fA-F]+>|<[^<>]* at 0x[0-9a-fA-F]+>")


@dataclass(frozen=True)
class DeployedProcess:
    """Result of deploying one process: its version and whether this call created it."""

    process_id: str
    name: str
    version: int
    definition_id: int
    created: bool


def parse_bpmn(data: bytes, filename: str) -> etree._ElementTree:
    """Parse BPMN XML safely.

    ``data`` is the file's bytes (at most 5 MiB). Raises :class:`DeployError` for
    malformed XML, a DOCTYPE (so no entity can expand or be fetched) or a file too
    large.
    """
    if len(data) > _MAX_FILE_BYTES:
        raise DeployError(f"Berkas terlalu besar ({len(data)} byte, maksimum {_MAX_FILE_BYTES})", file=filename)
    if b"<!DOCTYPE" in data[:_PROLOG_BYTES].upper():
        raise DeployError("DOCTYPE/entitas tidak diizinkan dalam berkas BPMN (DOCTYPE not allowed)",
                          file=filename, line=data[:data.upper().index(b"<!DOCTYPE")].count(b"\n") + 1)
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
        huge_tree=False, remove_comments=False,
    )
    try:
        tree = etree.ElementTree(etree.fromstring(data, parser))
    except etree.XMLSyntaxError as exc:
        raise DeployError(f"XML tidak valid: {exc.msg}", file=filename, line=exc.lineno) from exc
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise DeployError("DOCTYPE/entitas tidak diizinkan dalam berkas BPMN (DOCTYPE not allowed)",
                          file=filename, line=1)
    return tree


def deploy_directory(session: Session, directory: Path) -> list[DeployedProcess]:
    """Deploy every ``*.bpmn`` file of ``directory`` (sorted by name). See :func:`deploy_sources`."""
    files = sorted(directory.glob("*.bpmn"))
    if not files:
        raise DeployError(f"Tidak ada berkas .bpmn di {directory}")
    return deploy_sources(session, {f.name: f.read_bytes() for f in files})


def deploy_sources(session: Session, sources: Mapping[str, bytes]) -> list[DeployedProcess]:
    """Validate and store a set of BPMN files ``{filename: bytes}``.

    Returns one :class:`DeployedProcess` per executable process, in file order.
    Raises :class:`DeployError` (file, element id and line in the message) and
    stores nothing when any file fails. The caller owns the transaction.
    """
    trees = {name: parse_bpmn(data, name) for name, data in sources.items()}
    for name, tree in trees.items():
        deploy_checks.check_xinclude(tree, name)
    parser = SpiffBpmnParser(validator=VALIDATOR)
    for name, tree in trees.items():
        try:
            parser.add_bpmn_xml(tree, filename=name)
        except ValidationException as exc:
            raise _from_spiff(exc, name, tree) from exc
    processes: list[tuple[str, etree._Element]] = []
    for name, tree in trees.items():
        executable = deploy_checks.executable_processes(tree, name)
        deploy_checks.check_expressions(tree, name)
        deploy_checks.check_timers(tree, name)
        deploy_checks.quote_timer_values(tree)
        deploy_checks.check_supported(tree, name)
        deploy_checks.check_vendor_extensions(tree, name)
        deploy_checks.check_gateways(tree, name)
        for process in executable:
            dataflow.check_process(process, name)
        processes.extend((name, p) for p in executable)
    for name, process in processes:
        problems = identity_problems(process)
        if problems:
            element, message = problems[0]
            raise DeployError(message, file=name, element_id=process.get("id"), line=element.sourceline)
    known = {p.get("id") for _, p in processes}
    for name, process in processes:
        _check_called_elements(session, process, name, known)
    _check_call_cycles(session, processes)
    staged = []
    for name, process in processes:
        try:
            spec = parser.get_spec(process.get("id"))
        except ValidationException as exc:
            raise _from_spiff(exc, name, trees[name]) from exc
        except SpiffWorkflowException as exc:
            raise DeployError(f"BPMN tidak dapat dijalankan: {_scrub(str(exc))}", file=name,
                              element_id=process.get("id"), line=process.sourceline) from exc
        staged.append((name, process, read_process_meta(process), dump_spec(spec)))
    return [_store(session, name, sources[name], process, meta, spec_json)
            for name, process, meta, spec_json in staged]


def _store(session: Session, filename: str, data: bytes, process: etree._Element,
           meta: ProcessMeta, spec_json: str) -> DeployedProcess:
    sha = hashlib.sha256(data).hexdigest()
    existing = definitions.find_by_sha(session, meta.process_id, sha)
    if existing is not None:
        return DeployedProcess(meta.process_id, existing.name, existing.version, existing.id, False)
    row = definitions.add(
        session, process_id=meta.process_id, name=meta.name, unit_kind=meta.unit_kind, sha256=sha,
        filename=filename, bpmn_xml=data.decode("utf-8"), spec_json=spec_json,
        meta_json=json.dumps(meta.to_json_dict(), ensure_ascii=False),  # key order = diagram order
    )
    return DeployedProcess(meta.process_id, row.name, row.version, row.id, True)


def _scrub(message: str) -> str:
    """``message`` without Python reprs (``<Element {ns}dataInputAssociation at 0x7fc4…>`` → its tag)."""
    return _REPR.sub(lambda m: m.group(1) or "elemen", message)


def _from_spiff(exc: ValidationException, filename: str, tree: etree._ElementTree) -> DeployError:
    """A DeployError for SpiffWorkflow's refusal, with the element's line looked up by id."""
    element_id = getattr(exc, "id", None) or None
    line = getattr(exc, "line_number", None)
    if not isinstance(line, int) and element_id is not None:
        found = tree.xpath("//*[@id=$id]", id=element_id)
        line = found[0].sourceline if found else None
    if element_id is None and isinstance(line, int):  # an XSD error: name the element on that line
        on_line = next((e for e in tree.iter() if isinstance(e.tag, str) and e.sourceline == line), None)
        owner = deploy_checks.owner_of(on_line) if on_line is not None else None
        element_id = owner.get("id") if owner is not None else None
    return DeployError(
        f"BPMN tidak valid: {_scrub(str(exc))}", file=getattr(exc, "file_name", None) or filename,
        element_id=element_id, line=line if isinstance(line, int) else None,
    )


def _check_called_elements(session: Session, process: etree._Element, filename: str,
                           known: set[str]) -> None:
    for call in process.iter(f"{{{BPMN_NS}}}callActivity"):
        called = call.get("calledElement")
        if not called:
            raise DeployError("Call activity tanpa calledElement", file=filename,
                              element_id=call.get("id"), line=call.sourceline)
        if called not in known and definitions.latest(session, called) is None:
            raise DeployError(
                f"Proses yang dipanggil {called!r} tidak ditemukan (called process not found)",
                file=filename, element_id=call.get("id"), line=call.sourceline,
            )


def _check_call_cycles(session: Session, processes: list[tuple[str, etree._Element]]) -> None:
    """Refuse a call activity that leads back to its own process (A → B → A), directly or not.

    The called processes are this deployment's or the latest deployed versions.
    An instance pins one version of each called SOP, so a cycle could never run.
    """
    calls = {p.get("id"): [c.get("calledElement") for c in p.iter(f"{{{BPMN_NS}}}callActivity")]
             for _, p in processes}

    def callees(process_id: str) -> list[str]:
        if process_id in calls:
            return calls[process_id]
        row = definitions.latest(session, process_id)
        steps = json.loads(row.meta_json).get("steps", {}) if row is not None else {}
        return [s["called_element"] for s in steps.values() if s.get("called_element")]

    for name, process in processes:
        root = process.get("id")
        for call in process.iter(f"{{{BPMN_NS}}}callActivity"):
            path = _path_back(call.get("calledElement"), root, callees)
            if path is not None:
                raise DeployError(
                    f"Call activity membentuk putaran pemanggilan {' → '.join([root, *path])}: SOP tidak boleh "
                    f"memanggil dirinya sendiri, langsung atau lewat SOP lain (recursive call activity)",
                    file=name, element_id=call.get("id"), line=call.sourceline)


def _path_back(start: str, target: str, callees: Callable[[str], list[str]]) -> list[str] | None:
    """The chain of process ids from ``start`` to ``target`` through ``callees``, or ``None``."""
    pending, seen = [[start]], {start}
    while pending:
        path = pending.pop()
        if path[-1] == target:
            return path
        for called in callees(path[-1]):
            if called not in seen:
                seen.add(called)
                pending.append([*path, called])
    return None
