"""Re-execution: run an instance's recorded completions again and compare with what is stored.

:func:`replay` builds a fresh workflow from the definition versions the
instance pinned (its root SOP and the SOPs it calls), then, for every
``task_completed`` event in id order, completes the matching ready user task
with the recorded keputusan and catatan, exactly as ``engine.instances`` does.
After the start and after each completion it lists the user tasks that became
ready — SOP, step, lane (resolved as the engine resolves it), iteration, in the
engine's order — and compares them with the ``task_ready`` events stored after
the same action; at the end it compares the final state (completed or not, the
steps still ready) with the instance row and its open human tasks. Nothing is
written: the caller's transaction is only read (the CLI and the web roll it
back anyway).

A difference means the stored history does not follow from the diagram and the
recorded decisions: a keputusan, a step or an order was changed, or events are
missing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy.orm import Session

from engine import state
from engine.catalog import Definition, get_definition
from engine.lanes import resolve_performer
from engine.views import JsonView
from storage import history, instances, tasks
from storage.models import AuditEvent, ProcessInstance

__all__ = ["Replay", "replay"]

Ready = tuple[str, str, str, int]  # process id, step (element) id, lane, iteration


@dataclass(frozen=True)
class Replay(JsonView):
    """The outcome: ``clean`` when every ready list and the final state match.

    ``completions`` is how many recorded completions were re-run;
    ``differences`` lists what differs, in Bahasa Indonesia, first difference
    first (the replay stops at the first diverging step).
    """

    instance_id: int
    clean: bool
    completions: int
    differences: list[str] = field(default_factory=list)


def _definitions(session: Session, row: ProcessInstance) -> dict[str, Definition]:
    root = get_definition(session, row.definition_id)
    return {root.process_id: root, **{pid: get_definition(session, did)
                                      for pid, did in row.called_definitions.items()}}


def _fmt(item: Ready) -> str:
    return f"{item[0]}:{item[1]} [{item[2]}] putaran {item[3]}"


def replay(session: Session, instance_id: int) -> Replay:
    """Re-run instance ``instance_id`` from its pinned diagrams and recorded decisions; see the module docstring.

    Raises ``InstanceNotFound``.
    """
    row = instances.get(session, instance_id)
    definitions = _definitions(session, row)
    root = next(d for d in definitions.values() if d.id == row.definition_id)
    workflow = state.new_workflow(root.spec, {pid: d.spec for pid, d in definitions.items() if d.id != root.id})
    workflow.do_engine_steps()
    groups = _recorded_groups(history.for_instance(session, instance_id))
    counts: Counter[tuple[str, str]] = Counter()
    known: set[str] = set()
    differences: list[str] = []
    produced = _newly_ready(session, row, workflow, definitions, counts, known)
    done = 0
    for index, (completion, expected) in enumerate(groups):
        if produced != expected:
            differences.append(_difference(index, completion, expected, produced))
            break
        if completion is None:
            continue
        problem = _complete(workflow, completion, counts, definitions)
        if problem:
            differences.append(problem)
            break
        done += 1
        produced = _newly_ready(session, row, workflow, definitions, counts, known)
    else:
        differences.extend(_final(session, row, workflow, produced))
    return Replay(instance_id, not differences, done, differences)


def _recorded_groups(events: list[AuditEvent]) -> list[tuple[AuditEvent | None, list[Ready]]]:
    """``[(completion before, ready tasks stored after it)]``: the start's group first (completion None)."""
    groups: list[tuple[AuditEvent | None, list[Ready]]] = [(None, [])]
    for event in events:
        if event.kind == "task_completed":
            groups.append((event, []))
        elif event.kind == "task_ready":
            data = event.data
            groups[-1][1].append((event.process_id or "", event.element_id or "", str(data.get("lane", "")),
                                  int(data.get("iteration", 0))))
    # The ready list produced by an action is compared before the next completion: shift by one.
    shifted: list[tuple[AuditEvent | None, list[Ready]]] = []
    for i, (_, ready) in enumerate(groups):
        following = groups[i + 1][0] if i + 1 < len(groups) else None
        shifted.append((following, ready))
    return shifted


def _newly_ready(session: Session, row: ProcessInstance, workflow: BpmnWorkflow,
                 definitions: dict[str, Definition], counts: Counter[tuple[str, str]], known: set[str]) -> list[Ready]:
    found = []
    for spiff_task in workflow.get_tasks(state=TaskState.READY, manual=True):
        if str(spiff_task.id) in known:
            continue
        known.add(str(spiff_task.id))
        key = (spiff_task.workflow.spec.name, spiff_task.task_spec.bpmn_id)
        counts[key] += 1
        performer = resolve_performer(session, instance_id=row.id, unit_id=row.unit_id, task=spiff_task,
                                      definitions=definitions)
        found.append((key[0], key[1], performer.lane_name if performer else "?", counts[key]))
    return found


def _complete(workflow: BpmnWorkflow, event: AuditEvent, counts: Counter[tuple[str, str]],
              definitions: dict[str, Definition]) -> str | None:
    key = (event.process_id or "", event.element_id or "")
    ready = [t for t in workflow.get_tasks(state=TaskState.READY, manual=True)
             if (t.workflow.spec.name, t.task_spec.bpmn_id) == key]
    if not ready:
        return (f"kejadian {event.id}: langkah {key[0]}:{key[1]} diselesaikan dalam riwayat, "
                f"tetapi tidak siap saat diputar ulang")
    spiff_task = ready[0]
    step = definitions[key[0]].meta.steps.get(key[1]) if key[0] in definitions else None
    data: dict[str, object] = {"catatan": event.catatan}
    if step is not None and step.review:
        if event.keputusan not in ("setuju", "tidak"):
            return f"kejadian {event.id}: langkah pemeriksaan {key[1]} tanpa keputusan yang sah ({event.keputusan!r})"
        data["keputusan"] = event.keputusan
    spiff_task.data.update(data)
    try:
        spiff_task.run()
        workflow.do_engine_steps()
    except WorkflowException as exc:
        return f"kejadian {event.id}: alur gagal dijalankan ulang: {exc}"
    state.prune(workflow)
    return None


def _difference(index: int, completion: AuditEvent | None, expected: list[Ready], produced: list[Ready]) -> str:
    after = "setelah mulai" if index == 0 else f"sebelum kejadian {completion.id}" if completion else "di akhir"
    return (f"langkah siap berbeda ({after}): tersimpan [{', '.join(map(_fmt, expected))}], "
            f"diputar ulang [{', '.join(map(_fmt, produced))}]")


def _final(session: Session, row: ProcessInstance, workflow: BpmnWorkflow, produced: list[Ready]) -> list[str]:
    problems = []
    completed = workflow.is_completed()
    if completed != (row.status == "completed"):
        problems.append(f"status akhir berbeda: tersimpan {row.status}, diputar ulang "
                        f"{'completed' if completed else 'running'}")
    stored_open = sorted((t.process_id, t.element_id) for t in tasks.ready_for_instance(session, row.id))
    replay_open = sorted((t.workflow.spec.name, t.task_spec.bpmn_id)
                         for t in workflow.get_tasks(state=TaskState.READY, manual=True))
    if stored_open != replay_open:
        problems.append(f"langkah terbuka berbeda: tersimpan {stored_open}, diputar ulang {replay_open}")
    return problems
