"""Data flow of a process: every variable a condition or script reads is set before it on every path.

A classic "definitely assigned" analysis (a forward must-analysis, as compilers
do for uninitialised variables) over the process graph of flow nodes and
sequence flows:

- ``IN(n)`` is the intersection of ``OUT(p)`` over the predecessors ``p`` of
  ``n`` (a variable must be set on *every* path into ``n``), except at a
  converging parallel gateway, which waits for all its branches and merges
  their data (BPMN 2.0, 13.3.1), so there it is the union;
- ``OUT(n) = IN(n) ∪ GEN(n)``; the variables a node sets, ``GEN(n)``, are
  ``catatan`` for every user task (Alur always records it), ``keputusan`` for a
  review step (``alur:review``, see :mod:`engine.instances`), the variables a
  script task or pre/post script assigns on every path through it, nothing
  for a call activity (what the called SOP sets is not counted);
- at a start event the variables are the start data: ``nomor_surat`` and
  ``tanggal_surat`` for an SOP that starts from an incoming letter
  (:func:`engine.sop.start_variables`).

Loops are handled by iterating to the fixed point from "everything set"
(the greatest solution), so a review loop back to an earlier step does not
hide the variable set before the loop. A gateway whose condition reads a
variable not in ``IN`` is refused, naming the gateway, its line and the
variable: at run time its first completion would fail.
"""

from __future__ import annotations

import ast

from lxml import etree

from engine import expressions
from engine.deploy_checks import SPIFF_NS, refuse
from engine.sop import ALUR_NS, BPMN_NS, read_process_meta, start_variables
from storage.errors import DeployError

__all__ = ["check_process", "script_effect"]

_NS = {"bpmn": BPMN_NS, "alur": ALUR_NS, "spiffworkflow": SPIFF_NS}
_NOT_NODES = {"sequenceFlow", "laneSet", "lane", "extensionElements", "documentation", "textAnnotation",
              "association", "group", "property", "ioSpecification", "dataObject"}


def script_effect(source: str, defined: frozenset[str]) -> tuple[set[str], frozenset[str]]:
    """What a script reads before setting, and what is set after it runs.

    ``defined`` are the variables set before the script. Returns ``(read, after)``:
    ``read`` the names it reads that are not set at that point, ``after`` the
    variables set once it has run on any path through its ``if`` statements.
    Raises :class:`~storage.errors.UnsafeExpressionError` for a script outside the subset.
    """
    missing: set[str] = set()
    return missing, _body(expressions.check_script(source).body, defined, missing)


def _body(body: list[ast.stmt], defined: frozenset[str], missing: set[str]) -> frozenset[str]:
    for stmt in body:
        if isinstance(stmt, ast.Assign):
            missing |= expressions.names_read(stmt.value) - defined
            defined = defined | {t.id for t in stmt.targets if isinstance(t, ast.Name)}
        elif isinstance(stmt, ast.AugAssign):
            missing |= (expressions.names_read(stmt.value) | {getattr(stmt.target, "id", "")}) - defined
            defined = defined | {getattr(stmt.target, "id", "")}
        elif isinstance(stmt, ast.If):
            missing |= expressions.names_read(stmt.test) - defined
            defined = _body(stmt.body, defined, missing) & _body(stmt.orelse, defined, missing)
        elif isinstance(stmt, ast.Expr):
            missing |= expressions.names_read(stmt.value) - defined
    return defined


def check_process(process: etree._Element, filename: str) -> None:
    """Refuse a process in which a condition or script may read a variable not yet set.

    Raises :class:`~storage.errors.DeployError` naming the gateway (or script
    element), its line and the variable.
    """
    nodes = {e.get("id"): e for e in process if isinstance(e.tag, str) and e.get("id") is not None
             and etree.QName(e).localname not in _NOT_NODES}
    preds: dict[str, list[str]] = {n: [] for n in nodes}
    conditions: list[tuple[etree._Element, str]] = []
    for flow in process.iterfind("bpmn:sequenceFlow", _NS):
        source, target = flow.get("sourceRef") or "", flow.get("targetRef") or ""
        if source in nodes and target in nodes:
            preds[target].append(source)
            condition = flow.find("bpmn:conditionExpression", _NS)
            if condition is not None:
                conditions.append((condition, source))
    for node_id, node in nodes.items():
        attached = node.get("attachedToRef")
        if attached in nodes:
            preds[node_id].append(attached)
    start = frozenset(start_variables(read_process_meta(process)))
    out = _solve(nodes, preds, start, filename)
    for condition, gateway_id in conditions:
        gateway = nodes[gateway_id]
        text = "".join(condition.itertext())
        for name in sorted(expressions.names_read(expressions.check_expression(text)) - out[gateway_id]):
            raise DeployError(
                f"Kondisi {text.strip()!r} membaca variabel {name!r} yang tidak diisi oleh langkah mana pun "
                f"sebelum gateway ini di setiap jalur (keputusan diisi oleh langkah pemeriksaan "
                f"alur:review; data awal hanya nomor_surat/tanggal_surat pada SOP surat masuk) "
                f"(condition reads a variable no step sets before it)",
                file=filename, element_id=gateway_id, line=gateway.sourceline)


def _solve(nodes: dict[str, etree._Element], preds: dict[str, list[str]], start: frozenset[str],
           filename: str) -> dict[str, frozenset[str]]:
    """``OUT`` of every node at the greatest fixed point; then scripts are checked against their ``IN``."""
    universe = start | {v for n in nodes.values() for v in _assigned(n)} | {"catatan", "keputusan"}
    out = {n: universe for n in nodes}

    def before(node_id: str) -> frozenset[str]:
        incoming = [out[p] for p in preds[node_id]]
        if not incoming:
            return start
        if etree.QName(nodes[node_id]).localname == "parallelGateway":
            return frozenset().union(*incoming)
        return frozenset.intersection(*incoming)

    changed = True
    while changed:
        changed = False
        for node_id, node in nodes.items():
            after = _transfer(node, before(node_id))
            if after != out[node_id]:
                out[node_id], changed = after, True
    for node_id, node in nodes.items():
        _transfer(node, before(node_id), filename)
    return out


def _scripts(node: etree._Element, tag: str) -> list[etree._Element]:
    return node.findall(f"bpmn:extensionElements/spiffworkflow:{tag}", _NS)


def _transfer(node: etree._Element, before: frozenset[str], filename: str | None = None) -> frozenset[str]:
    """Variables set after ``node``: pre-script, the task itself (script body or user input), post-script.

    With ``filename``, a script reading a variable not set at its point is refused.
    """
    kind = etree.QName(node).localname
    defined = _run(_scripts(node, "preScript"), before, filename)
    if kind == "scriptTask":
        defined = _run(node.findall("bpmn:script", _NS), defined, filename)
    if kind == "userTask":
        defined = defined | {"catatan"}
        if node.find("bpmn:extensionElements/alur:review", _NS) is not None:
            defined = defined | {"keputusan"}
    return _run(_scripts(node, "postScript"), defined, filename)


def _run(scripts: list[etree._Element], defined: frozenset[str], filename: str | None) -> frozenset[str]:
    for script in scripts:
        missing, defined = script_effect("".join(script.itertext()), defined)
        if filename is not None:
            for name in sorted(missing):
                raise refuse(f"Skrip membaca variabel {name!r} yang belum diisi oleh langkah mana pun "
                             f"sebelumnya di setiap jalur (script reads a variable no step sets before it)",
                             filename, script)
    return defined


def _assigned(node: etree._Element) -> set[str]:
    names: set[str] = set()
    for script in [*_scripts(node, "preScript"), *node.findall("bpmn:script", _NS), *_scripts(node, "postScript")]:
        tree = expressions.check_script("".join(script.itertext()))
        names |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return names
