"""Deploy BPMN files as process definition versions.

A deployment reads a set of ``.bpmn`` files, refuses anything unsafe or
inconsistent, and stores each process once per distinct content: deploying the
same bytes again returns the existing version; a changed file makes a new
version, while running instances stay on the versions they started with.

Checks, all made before anything is stored (a deployment is all or nothing):

- XML is parsed with entity resolution, DTD loading and network access off, and a
  document with a DOCTYPE is refused outright (external entities, "billion laughs").
- The BPMN 2.0 XML schema (OMG formal/2011-01-03), via SpiffWorkflow's validator.
- Every exclusive/inclusive gateway with more than one outgoing sequence flow has a
  condition on each flow except its ``default`` (BPMN 2.0, 13.3.2: a flow without
  condition and not default would be taken unconditionally).
- Every condition, script task and pre/post script is in the safe subset of
  :mod:`engine.expressions`.
- Every call activity's ``calledElement`` names a process in this deployment or an
  already deployed one.
- The SOP-AP identity fields of ``alur:sop`` are well formed: dates ``YYYY-MM-DD``,
  an 18-digit NIP (:func:`engine.sop.identity_problems`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from sqlalchemy.orm import Session

from engine import expressions
from engine.sop import BPMN_NS, ProcessMeta, identity_problems, read_process_meta
from engine.state import dump_spec
from storage import definitions
from storage.errors import DeployError, UnsafeExpressionError

__all__ = ["DeployedProcess", "deploy_directory", "deploy_sources", "parse_bpmn"]

_NS = {"bpmn": BPMN_NS, "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}
_MAX_FILE_BYTES = 5 * 1024 * 1024
_PROLOG_BYTES = 64 * 1024


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
    parser = SpiffBpmnParser(validator=VALIDATOR)
    for name, tree in trees.items():
        try:
            parser.add_bpmn_xml(tree, filename=name)
        except ValidationException as exc:
            raise _from_spiff(exc, name) from exc
    processes: list[tuple[str, etree._Element]] = []
    for name, tree in trees.items():
        _check_gateways(tree, name)
        _check_expressions(tree, name)
        processes.extend((name, p) for p in tree.iterfind("bpmn:process", _NS)
                         if p.get("isExecutable") != "false")
    for name, process in processes:
        problems = identity_problems(process)
        if problems:
            element, message = problems[0]
            raise DeployError(message, file=name, element_id=process.get("id"), line=element.sourceline)
    known = {p.get("id") for _, p in processes}
    for name, process in processes:
        _check_called_elements(session, process, name, known)
    staged = []
    for name, process in processes:
        try:
            spec = parser.get_spec(process.get("id"))
        except ValidationException as exc:
            raise _from_spiff(exc, name) from exc
        except SpiffWorkflowException as exc:
            raise DeployError(str(exc), file=name, element_id=process.get("id"),
                              line=process.sourceline) from exc
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


def _from_spiff(exc: ValidationException, filename: str) -> DeployError:
    line = getattr(exc, "line_number", None)
    return DeployError(
        f"BPMN tidak valid: {exc}", file=getattr(exc, "file_name", None) or filename,
        element_id=getattr(exc, "id", None) or None, line=line if isinstance(line, int) else None,
    )


def _check_gateways(tree: etree._ElementTree, filename: str) -> None:
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
                if condition is None or not (condition.text or "").strip():
                    raise DeployError(
                        f"Cabang gateway {gateway.get('id')!r} tanpa kondisi "
                        f"(gateway branch without condition)",
                        file=filename, element_id=flow.get("id"), line=flow.sourceline,
                    )


def _expression_sources(tree: etree._ElementTree) -> Iterable[tuple[etree._Element, str, bool]]:
    for condition in tree.iterfind(".//bpmn:conditionExpression", _NS):
        yield condition, condition.text or "", False
    for condition in tree.iterfind(".//bpmn:completionCondition", _NS):
        yield condition, condition.text or "", False
    for script in tree.iterfind(".//bpmn:scriptTask/bpmn:script", _NS):
        yield script, script.text or "", True
    for tag in ("preScript", "postScript"):
        for script in tree.iterfind(f".//spiffworkflow:{tag}", _NS):
            yield script, script.text or "", True


def _check_expressions(tree: etree._ElementTree, filename: str) -> None:
    for element, text, is_script in _expression_sources(tree):
        owner = element
        while owner is not None and owner.get("id") is None:
            owner = owner.getparent()
        try:
            (expressions.check_script if is_script else expressions.check_expression)(text)
        except UnsafeExpressionError as exc:
            raise UnsafeExpressionError(
                str(exc), file=filename, element_id=owner.get("id") if owner is not None else None,
                line=element.sourceline,
            ) from exc


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
