"""The studio's JavaScript, checked in Node: lint rules, the bundle, round trips.

- ``node --test tests/js/`` runs every ``*.test.mjs``: a unit test per Alur lint rule
  (``web/js/bpmnlint-plugin-alur``), the whole rule set over ``bpmn/`` (zero problems),
  and the modeler's save-without-edits round trip.
- The bundle built by ``scripts/build_web.mjs`` lists every page in its manifest.

Skipped without node or ``node_modules`` (run ``bash scripts/bootstrap.sh --with-node``),
except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PAGES = sorted(p.stem for p in (REPO / "web" / "js" / "pages").glob("*.js"))


def _node() -> str:
    node = shutil.which("node")
    if node is None or not (REPO / "node_modules" / "bpmnlint").is_dir():
        reason = "node or node_modules missing: run `bash scripts/bootstrap.sh --with-node`"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true: this check must run in CI)")
        pytest.skip(reason)
    return node


def test_node_unit_tests_of_rules_and_round_trips_pass() -> None:
    node = _node()
    tests = sorted(str(p.relative_to(REPO)) for p in (REPO / "tests" / "js").glob("*.test.mjs"))
    assert tests, "no *.test.mjs in tests/js"
    result = subprocess.run([node, "--test", *tests], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout


def test_lint_of_bpmn_dir_reports_zero_problems() -> None:
    result = subprocess.run([_node(), "tests/js/lint_bpmn.mjs"], cwd=REPO, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("18 files, 0 problems")


def test_every_page_is_built_with_its_manifest_entry() -> None:
    _node()
    manifest_path = REPO / "web" / "static" / "build" / "manifest.json"
    if not manifest_path.is_file():
        pytest.fail("web/static/build/manifest.json missing: run `node scripts/build_web.mjs`")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    assert sorted(manifest) == PAGES
    for page, entry in manifest.items():
        assert (manifest_path.parent / entry["js"]).is_file(), page
        assert all((manifest_path.parent / css).is_file() for css in entry["css"]), page
