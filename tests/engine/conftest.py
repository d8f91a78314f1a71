"""Engine fixtures: a database with every diagram deployed and the demo offices loaded.

Deploying all of ``bpmn/`` takes a moment, so it is done once per test session
into a template SQLite file that each test copies.

- ``template_db``  the template file (session scope)
- ``alur_db``      a fresh copy of it for one test
- ``empty_db``     migrated, nothing deployed
- ``scratch_alur_db`` a new database of the backend under test (SQLite, or PostgreSQL when
                   ``ALUR_TEST_POSTGRES_URL`` is set), with bpmn/ and the demo org: for races
- ``diagrams``     every bpmn/ diagram read with lxml: the tests' own oracle of the
                   path a run must take (``expected_trail``, ``tidak_target``)
- ``runner``       a ``SopRunner`` driving instances on ``alur_db``
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from lxml import etree

from engine import instances
from engine.database import Database, open_database
from engine.settings import Settings
from engine.views import InstanceView, TaskView
from storage import org

BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"


def _settings(url: str) -> Settings:
    return Settings(database_url=url, bpmn_dir=BPMN_DIR)


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file with bpmn/ deployed and the demo org loaded."""
    path = tmp_path_factory.mktemp("template") / "alur.sqlite3"
    database = open_database(_settings(f"sqlite:///{path}"))
    database.initialize(BPMN_DIR)
    database.dispose()
    return path


@pytest.fixture
def alur_db(template_db: Path, tmp_path: Path) -> Iterator[Database]:
    """A fresh copy of the template database for one test."""
    path = tmp_path / "alur.sqlite3"
    shutil.copy(template_db, path)
    database = open_database(_settings(f"sqlite:///{path}"))
    yield database
    database.dispose()


@pytest.fixture
def empty_db(tmp_path: Path) -> Iterator[Database]:
    """A migrated database with nothing deployed and no demo data."""
    database = open_database(_settings(f"sqlite:///{tmp_path / 'empty.sqlite3'}"))
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture
def scratch_alur_db(scratch_db_url: str) -> Iterator[Database]:
    """A new database of the backend under test (``scratch_db_url``), migrated, bpmn/ deployed, demo org loaded.

    Unlike ``alur_db`` (always a SQLite copy) it runs on PostgreSQL when configured:
    the concurrency tests race there.
    """
    database = open_database(_settings(scratch_db_url))
    database.initialize(BPMN_DIR)
    try:
        yield database
    finally:
        database.dispose()


# --- SOP runs: the diagrams read independently of the engine, and a driver --------
#
# Added for the run, state, routing and concurrency tests. ``Diagrams`` reads the
# BPMN XML with lxml (not through the engine) so the tests have an oracle of their
# own: which step a "Tidak" flow goes back to, and the whole expected trail of a
# run. ``SopRunner`` drives an instance through ``engine.instances``, one
# transaction per user action, choosing a user who holds each task's lane.

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
ALUR_NS = "http://alur.dev/schema/bpmn/sop/1.0"
_NS = {"bpmn": BPMN_NS, "alur": ALUR_NS}
UNIT_FOR_KIND = {
    "bagian": "bagian-organisasi",
    "dinas": "dinas-kominfo",
    "kecamatan": "kecamatan-contoh",
    "any": "dinas-kominfo",
}
_MAX_STEPS = 300

Step = tuple[str, str]
"""(process id, user task id): one step, wherever it sits in the call tree."""


@dataclass(frozen=True)
class Diagram:
    """What the tests need of one diagram: flow nodes, flows, SOP extensions."""

    process_id: str
    unit_kind: str
    kinds: dict[str, str]  # node id -> local tag ("userTask", "exclusiveGateway", ...)
    outgoing: dict[str, list[tuple[str, str | None]]]  # node id -> [(target, flow name)]
    lanes: dict[str, str]  # node id -> lane name
    lane_is_team: dict[str, bool]  # lane name -> team lane?
    reviews: frozenset[str]
    forms_team: dict[str, str]  # step id -> lane name of the team it forms
    waktu: dict[str, str]  # step id -> ISO duration, only steps that have one
    called: dict[str, str]  # call activity id -> calledElement

    @classmethod
    def read(cls, path: Path) -> Diagram:
        """Parse one bpmn/*.bpmn file."""
        process = etree.parse(str(path)).find("bpmn:process", _NS)
        sop = process.find("bpmn:extensionElements/alur:sop", _NS)
        kinds, outgoing, lanes, lane_is_team = {}, {}, {}, {}
        reviews, forms_team, waktu, called = set(), {}, {}, {}
        lane_names = {}
        for lane in process.iterfind(".//bpmn:lane", _NS):
            lane_names[lane.get("id")] = lane.get("name")
            team = lane.find("bpmn:extensionElements/alur:lane[@team='true']", _NS)
            lane_is_team[lane.get("name")] = team is not None
            for ref in lane.iterfind("bpmn:flowNodeRef", _NS):
                lanes[ref.text.strip()] = lane.get("name")
        for node in process.iterchildren(tag=etree.Element):
            tag = etree.QName(node).localname
            if tag in ("sequenceFlow", "laneSet", "extensionElements", "documentation"):
                continue
            kinds[node.get("id")] = tag
            ext = node.find("bpmn:extensionElements", _NS)
            if ext is not None:
                if ext.find("alur:review", _NS) is not None:
                    reviews.add(node.get("id"))
                forms = ext.find("alur:formsTeam", _NS)
                if forms is not None:
                    forms_team[node.get("id")] = lane_names[forms.get("lane")]
                mutu = ext.find("alur:mutuBaku", _NS)
                if mutu is not None and mutu.get("waktu"):
                    waktu[node.get("id")] = mutu.get("waktu")
            if tag == "callActivity":
                called[node.get("id")] = node.get("calledElement")
        for flow in process.iterfind("bpmn:sequenceFlow", _NS):
            outgoing.setdefault(flow.get("sourceRef"), []).append((flow.get("targetRef"), flow.get("name")))
        return cls(process.get("id"), sop.get("unitKind") if sop is not None else "any", kinds, outgoing, lanes,
                   lane_is_team, frozenset(reviews), forms_team, waktu, called)

    def start(self) -> str:
        """The id of the start event."""
        return next(n for n, k in self.kinds.items() if k == "startEvent")

    def next_of(self, node: str) -> str:
        """The target of a node's single outgoing sequence flow."""
        (target, _name), = self.outgoing[node]
        return target

    def branch(self, gateway: str, name: str) -> str:
        """The target of a gateway's outgoing flow named ``name`` ("Ya" / "Tidak")."""
        (target,) = [t for t, n in self.outgoing[gateway] if n == name]
        return target

    def tidak_target(self, review: str) -> str:
        """Where "Tidak" after review step ``review`` goes: review -> gateway -> "Tidak" flow."""
        gateway = self.next_of(review)
        assert self.kinds[gateway] == "exclusiveGateway", (self.process_id, review, gateway)
        return self.branch(gateway, "Tidak")


class Diagrams:
    """Every diagram of bpmn/, with an oracle for the path a run must take."""

    def __init__(self, directory: Path) -> None:
        self.by_id = {d.process_id: d for d in map(Diagram.read, sorted(directory.glob("*.bpmn")))}

    def __getitem__(self, process_id: str) -> Diagram:
        return self.by_id[process_id]

    def unit_code(self, process_id: str) -> str:
        """The demo unit whose kind the SOP is meant for ("any" -> the Dinas)."""
        return UNIT_FOR_KIND[self[process_id].unit_kind]

    def first_steps(self, process_id: str, node: str) -> Step:
        """The user task that becomes ready when the flow reaches ``node`` (into call activities)."""
        diagram = self[process_id]
        while diagram.kinds[node] != "userTask":
            if diagram.kinds[node] == "callActivity":
                called = diagram.called[node]
                return self.first_steps(called, self[called].next_of(self[called].start()))
            node = diagram.next_of(node)
        return process_id, node

    def expected_trail(self, process_id: str, *, reject_first: bool) -> list[tuple[str, str, str | None]]:
        """The steps a run completes, in order, as (process id, step id, keputusan).

        Every review is answered "tidak" the first time it is reached (when
        ``reject_first``) and "setuju" after that; "Ya" continues, "Tidak" goes
        where the diagram's "Tidak" flow goes; call activities run the called SOP.
        """
        return self._walk(process_id, reject_first)[0]

    def expected_calls(self, process_id: str, *, reject_first: bool) -> Counter[str]:
        """How many times the run enters each called SOP (see :meth:`expected_trail`)."""
        return self._walk(process_id, reject_first)[1]

    def _walk(self, process_id: str, reject_first: bool) -> tuple[list[tuple[str, str, str | None]], Counter[str]]:
        trail: list[tuple[str, str, str | None]] = []
        calls: Counter[str] = Counter()
        self._walk_into(process_id, reject_first, set(), trail, calls)
        return trail, calls

    def _walk_into(self, process_id: str, reject_first: bool, rejected: set[Step],
                   trail: list[tuple[str, str, str | None]], calls: Counter[str]) -> None:
        diagram = self[process_id]
        node = diagram.next_of(diagram.start())
        last: str | None = None
        for _ in range(_MAX_STEPS):
            kind = diagram.kinds[node]
            if kind == "endEvent":
                return
            if kind == "userTask":
                last = None
                if node in diagram.reviews:
                    last = "tidak" if reject_first and (process_id, node) not in rejected else "setuju"
                    rejected.add((process_id, node))
                trail.append((process_id, node, last))
                node = diagram.next_of(node)
            elif kind == "callActivity":
                calls[diagram.called[node]] += 1
                self._walk_into(diagram.called[node], reject_first, rejected, trail, calls)
                node = diagram.next_of(node)
            elif kind == "exclusiveGateway":
                node = diagram.branch(node, "Ya" if last == "setuju" else "Tidak")
            else:
                node = diagram.next_of(node)
        raise AssertionError(f"{process_id}: no end event within {_MAX_STEPS} nodes")


@pytest.fixture(scope="session")
def diagrams() -> Diagrams:
    """Every diagram of bpmn/, read with lxml."""
    return Diagrams(BPMN_DIR)


@dataclass(frozen=True)
class Completion:
    """One completed step of a driven run."""

    process_id: str
    step_id: str
    task_id: str
    iteration: int
    lane: str
    user: str
    candidates: tuple[str, ...]
    keputusan: str | None
    catatan: str | None
    team: tuple[str, ...] | None
    ready_after: tuple[Step, ...]
    iteration_after: tuple[int, ...]


class SopRunner:
    """Drive SOP instances through ``engine.instances``, one transaction per action."""

    def __init__(self, database: Database, diagrams: Diagrams) -> None:
        self.database = database
        self.diagrams = diagrams

    def start(self, process_id: str, *, unit_code: str | None = None, title: str | None = None,
              now: datetime | None = None) -> InstanceView:
        """Start ``process_id`` in its unit, by the first user allowed to start it."""
        unit_code = unit_code or self.diagrams.unit_code(process_id)
        with self.database.transaction() as session:
            starter = instances.starters(session, process_id, unit_code)[0]
            return instances.start_instance(session, process_id=process_id, unit_code=unit_code,
                                            title=title or f"Uji {process_id}", username=starter, now=now)

    def team_for(self, unit_code: str) -> list[str]:
        """Team members the forming step names: the unit's first two users by username."""
        with self.database.transaction() as session:
            unit = org.get_unit_by_code(session, unit_code)
            return [u.username for u in org.unit_users(session, unit.id)][:2]

    def run(self, instance_id: int, *, reject_first: bool, now: datetime | None = None,
            until: Callable[[TaskView], bool] | None = None) -> list[Completion]:
        """Complete ready tasks one at a time until the instance ends (or ``until(task)``).

        Each task is completed by its first candidate; reviews are answered
        "tidak" (with a catatan) the first time when ``reject_first``, else "setuju";
        a forming step names :meth:`team_for` the unit.
        """
        rejected: set[Step] = set()
        done: list[Completion] = []
        for _ in range(_MAX_STEPS):
            with self.database.transaction() as session:
                view = instances.get_instance(session, instance_id)
                if view.status != "running":
                    return done
                assert len(view.ready_tasks) == 1, view.ready_tasks
                task = view.ready_tasks[0]
                if until is not None and until(task):
                    return done
                key = (task.process_id, task.step_id)
                keputusan = catatan = None
                if task.is_review:
                    keputusan = "tidak" if reject_first and key not in rejected else "setuju"
                    rejected.add(key)
                    catatan = f"Mohon perbaiki: {task.step_name}" if keputusan == "tidak" else None
                candidates = tuple(instances.candidates(session, task.id))
            members = tuple(self.team_for(view.unit_code)) if task.forms_team else None
            with self.database.transaction() as session:
                after = instances.complete_task(session, task.id, username=candidates[0], keputusan=keputusan,
                                                catatan=catatan, team=members, now=now)
            done.append(Completion(
                task.process_id, task.step_id, task.id, task.iteration, task.lane, candidates[0], candidates,
                keputusan, catatan, members, tuple((t.process_id, t.step_id) for t in after.ready_tasks),
                tuple(t.iteration for t in after.ready_tasks)))
        raise AssertionError(f"instance {instance_id} did not end within {_MAX_STEPS} steps")


@pytest.fixture
def runner(alur_db: Database, diagrams: Diagrams) -> SopRunner:
    """A :class:`SopRunner` on this test's copy of the template database."""
    return SopRunner(alur_db, diagrams)
