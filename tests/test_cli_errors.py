"""The CLI on hostile diagrams (issue 6, items 1, 3, 4): ``Galat: …``, exit 1, no traceback, nothing changed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.engine.test_hostile_diagrams import boundary_timer, review_sop, sop

ALUR = Path(sys.executable).parent / "alur"
STAF = "staf1.kecamatan"

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def alur(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """``alur(*args)`` on a database of its own, set up by ``alur init``."""
    directory = tmp_path_factory.mktemp("cli-errors")
    env = {**os.environ, "ALUR_DATABASE_URL": f"sqlite:///{directory / 'cli.sqlite3'}"}
    env.pop("ALUR_BPMN_DIR", None)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(ALUR), *args], env=env, cwd=directory, capture_output=True, text=True,
                              timeout=120)

    assert run("init").returncode == 0
    return run


def _failed(result: subprocess.CompletedProcess[str]) -> str:
    assert (result.returncode, result.stdout) == (1, ""), result
    assert result.stderr.startswith("Galat: ") and "Traceback" not in result.stderr
    return result.stderr


def test_deploying_a_timer_is_refused_with_file_element_and_line(alur: Run, tmp_path: Path) -> None:
    path = tmp_path / "timer.bpmn"
    path.write_bytes(boundary_timer("timeDuration", '__import__("os").system("id")'.replace('"', "&quot;")))
    message = _failed(alur("deploy", str(path)))
    assert "timer.bpmn:" in message and "(TimerDef_1)" in message and "ISO 8601" in message
    assert "sop_uji_serang" not in alur("processes").stdout


def test_expression_past_its_bounds_at_completion_is_a_galat_and_changes_nothing(alur: Run, tmp_path: Path) -> None:
    path = tmp_path / "batas.bpmn"
    path.write_bytes(sop(review_sop(ya='keputusan * 1500000000 != ""'), pid="sop_uji_batas"))
    assert alur("deploy", str(path)).returncode == 0
    started = json.loads(alur("start", "sop_uji_batas", "--unit", "kecamatan-contoh", "--user", STAF,
                              "--title", "Uji batas", "--json").stdout)
    (task,) = started["ready_tasks"]
    message = _failed(alur("complete", task["id"], "--user", STAF, "--setuju"))
    assert "Proses tidak dapat dilanjutkan" in message and "melebihi 100000" in message
    assert task["id"] in [t["id"] for t in json.loads(alur("inbox", STAF, "--json").stdout)]
    history = json.loads(alur("history", str(started["id"]), "--json").stdout)
    assert [e["kind"] for e in history] == ["instance_started", "task_ready"]  # no task_completed
