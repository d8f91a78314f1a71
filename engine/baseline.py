"""The floor Alur's engine is measured against: SpiffWorkflow alone, in memory.

Used by ``scripts/benchmark.py`` (SpiffWorkflow is imported only in ``engine/``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from engine.catalog import Definition
from engine.state import new_workflow

__all__ = ["stock_completion_seconds"]


def stock_completion_seconds(root: Definition, called: Mapping[str, Definition], rounds: int) -> list[float]:
    """Seconds per task completion with SpiffWorkflow's stock serializer, no database.

    Each completion = ``deserialize_json`` + run the first ready user task
    (reviews answered "setuju") + ``do_engine_steps`` + ``serialize_json``, as an
    application using SpiffWorkflow directly would do per request. Runs the SOP
    to its end ``rounds`` times; returns every completion's duration.
    """
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    times = []
    for _ in range(rounds):
        workflow = new_workflow(root.spec, {k: d.spec for k, d in called.items()})
        workflow.do_engine_steps()
        saved = serializer.serialize_json(workflow)
        while True:
            began = time.perf_counter()
            workflow = serializer.deserialize_json(saved)
            ready = workflow.get_tasks(state=TaskState.READY, manual=True)
            if not ready:
                break
            ready[0].data["keputusan"] = "setuju"
            ready[0].run()
            workflow.do_engine_steps()
            saved = serializer.serialize_json(workflow)
            times.append(time.perf_counter() - began)
    return times
