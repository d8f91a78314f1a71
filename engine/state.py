"""Workflow state: the SpiffWorkflow objects behind an instance, saved and restored.

Three things here keep long-running SOP instances cheap:

- The serialized state leaves the process specs out: specs are stored once per
  process definition version and cached in memory, so each save writes only the
  task tree (``dump_state`` / ``load_state``).
- ``prune`` drops the finished part of the task tree after every step. A review
  loop ("jika tidak dikembalikan untuk diperbaiki") re-creates its tasks each time
  round, so without pruning the tree grows by a few tasks per iteration:
  completion gets slower as history grows, and SpiffWorkflow's ``TaskIterator``
  stops descending at depth 1,000 (``max_depth=1000``), silently stalling a loop
  taken a few hundred times. The history auditors need lives in the audit table,
  not in this tree.
- Conditions and scripts run in :class:`SafeEnvironment`, never in ``eval``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from copy import deepcopy
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff, migrate_workflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine import expressions

__all__ = [
    "SERIALIZER_VERSION",
    "SafeEnvironment",
    "dump_spec",
    "dump_state",
    "load_spec",
    "load_state",
    "new_workflow",
    "prune",
    "rebind",
    "removed_specs",
]


class SafeEnvironment:
    """Script environment that evaluates only :mod:`engine.expressions`' subset."""

    def evaluate(self, expression: str, context: dict[str, Any], external_context: Any = None) -> Any:
        """Evaluate a gateway condition against the task data ``context``."""
        return expressions.evaluate(expression, context)

    def execute(self, script: str, context: dict[str, Any], external_context: Any = None) -> bool:
        """Run a script task or pre/post script, updating ``context`` in place."""
        expressions.execute(script, context)
        return True

    def call_service(self, context: dict[str, Any], **kwargs: Any) -> Any:
        """Service tasks are not supported: SOP steps are done by people."""
        raise NotImplementedError("Service task tidak didukung (service tasks are not supported)")


SCRIPT_ENGINE = PythonScriptEngine(environment=SafeEnvironment())


class _StateConverter(BpmnWorkflowConverter):
    """Workflow converter that leaves the specs out of the state and takes them back in."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = super(BpmnWorkflowConverter, self).to_dict(workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(
        self,
        dct: dict[str, Any],
        spec: BpmnProcessSpec | None = None,
        subprocess_specs: Mapping[str, BpmnProcessSpec] | None = None,
    ) -> BpmnWorkflow:
        workflow = self.target_class(spec, dict(subprocess_specs or {}), deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


_CONFIG = deepcopy(SPIFF_CONFIG)
_CONFIG[BpmnWorkflow] = _StateConverter
_REGISTRY = BpmnWorkflowSerializer.configure(_CONFIG)
_SERIALIZER = BpmnWorkflowSerializer(_REGISTRY)
SERIALIZER_VERSION: str = f"spiff-{_SERIALIZER.VERSION}+alur-1"


def dump_spec(spec: BpmnProcessSpec) -> str:
    """Serialize a process spec to JSON text (stored once per definition version)."""
    return json.dumps(_REGISTRY.convert(spec), separators=(",", ":"), sort_keys=True)


def load_spec(spec_json: str) -> BpmnProcessSpec:
    """Restore a process spec from :func:`dump_spec` output."""
    return _REGISTRY.restore(json.loads(spec_json))


def new_workflow(spec: BpmnProcessSpec, subprocess_specs: Mapping[str, BpmnProcessSpec]) -> BpmnWorkflow:
    """Create a fresh workflow running in the safe script environment."""
    return BpmnWorkflow(spec, dict(subprocess_specs), script_engine=SCRIPT_ENGINE)


def dump_state(workflow: BpmnWorkflow) -> str:
    """Serialize a workflow's state, without its specs, to compact JSON text."""
    _REGISTRY._encoder_mode = True
    try:
        dct = _REGISTRY.convert(workflow)
    finally:
        _REGISTRY._encoder_mode = False
    dct[_SERIALIZER.VERSION_KEY] = _SERIALIZER.VERSION
    return json.dumps(dct, cls=_SERIALIZER._encoder_cls, separators=(",", ":"))


def load_state(
    state_json: str, spec: BpmnProcessSpec, subprocess_specs: Mapping[str, BpmnProcessSpec]
) -> BpmnWorkflow:
    """Restore a workflow from :func:`dump_state` output and the specs it was started with."""
    dct = json.loads(state_json)
    _SERIALIZER.migrate(dct)
    workflow = _REGISTRY.restore(dct, spec=spec, subprocess_specs=subprocess_specs)
    workflow.script_engine = SCRIPT_ENGINE
    return workflow


def prune(workflow: BpmnWorkflow) -> int:
    """Drop finished tasks that nothing can reach any more; return how many were dropped.

    For the top workflow and each running subprocess, every task that is not
    finished keeps its parent (a task that becomes ready takes its data from its
    parent); the lowest common ancestor of those parents is re-attached directly
    under the root task, and every task above or beside it (all finished) is
    deleted, together with the subprocesses of deleted call activities.
    """
    dropped = 0
    for wf in [workflow, *list(workflow.subprocesses.values())]:
        if wf is workflow or wf.parent_task_id in workflow.subprocesses:
            dropped += _prune_one(workflow, wf)
    return dropped


def _prune_one(top: BpmnWorkflow, wf: BpmnWorkflow) -> int:
    root = wf.task_tree
    anchors = [t.parent or t for t in wf.tasks.values() if not t.has_state(TaskState.FINISHED_MASK)]
    last = getattr(wf, "last_task", None)
    if last is not None and last.id in wf.tasks:
        anchors.append(last)
    if not anchors:
        return 0
    keep_from = _lowest_common_ancestor(anchors)
    if keep_from is root or keep_from.parent is root:
        return 0
    kept = {t.id for t in _subtree(keep_from)}
    kept.add(root.id)
    dropped = [t for t in wf.tasks.values() if t.id not in kept]
    for task in dropped:
        if task.id in top.subprocesses:
            for sub_task in top.delete_subprocess(task):
                wf.tasks.pop(sub_task.id, None)
        wf.tasks.pop(task.id, None)
    root._children = [keep_from.id]
    keep_from._parent = root.id
    return len(dropped)


def _lowest_common_ancestor(tasks: list[Task]) -> Task:
    paths = []
    for task in tasks:
        path = []
        node: Task | None = task
        while node is not None:
            path.append(node)
            node = node.parent
        paths.append(path[::-1])
    common = paths[0][0]
    for depth in range(min(len(p) for p in paths)):
        candidate = paths[0][depth]
        if all(p[depth] is candidate for p in paths):
            common = candidate
        else:
            break
    return common


def _subtree(task: Task) -> list[Task]:
    result, stack = [], [task]
    while stack:
        node = stack.pop()
        result.append(node)
        stack.extend(node.children)
    return result


def removed_specs(workflow: BpmnWorkflow, new_spec: BpmnProcessSpec) -> set[str]:
    """BPMN ids of the top workflow's task specs that ``new_spec`` no longer has (aligned by id)."""
    diff = SpecDiff(_REGISTRY, workflow.spec, new_spec)
    return {spec.bpmn_id or spec.name for spec in diff.removed}


def rebind(workflow: BpmnWorkflow, new_spec: BpmnProcessSpec) -> None:
    """Re-bind the top workflow's tasks to ``new_spec`` (same BPMN ids), keeping ready tasks as they are.

    SpiffWorkflow's ``migrate_workflow`` with only waiting tasks re-predicted, so
    ready tasks keep their ids (the inbox rows) and data; their successors are
    re-predicted from the new spec when they complete. Subprocesses (running
    called SOPs) keep their pinned specs.
    """
    diff = WorkflowDiff(workflow, SpecDiff(_REGISTRY, workflow.spec, new_spec))
    migrate_workflow(diff, workflow, new_spec, reset_mask=TaskState.WAITING)
    for task in workflow.get_tasks(state=TaskState.READY, skip_subprocesses=True):
        task._sync_children(task.task_spec.outputs, TaskState.LIKELY)
