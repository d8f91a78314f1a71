"""House rules on imports: web -> engine -> storage, SpiffWorkflow only in engine/."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", ["engine", "storage"])
def test_lower_layers_never_import_flask_or_web(package: str) -> None:
    offenders = {str(p.relative_to(ROOT)): _imports(p) & {"flask", "web"} for p in _modules(package)}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_storage_never_imports_engine() -> None:
    offenders = [str(p.relative_to(ROOT)) for p in _modules("storage") if "engine" in _imports(p)]
    assert offenders == []


def test_spiffworkflow_only_in_engine() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for package in ("storage", "web", "scripts")
        for p in _modules(package)
        if "SpiffWorkflow" in _imports(p)
    ]
    assert offenders == []


def test_lxml_only_where_bpmn_xml_is_read_or_written() -> None:
    # engine/sop_import/xlsx.py reads the DrawingML shapes of an uploaded workbook with a hardened
    # lxml parser (openpyxl does not load shapes; issue 7).
    allowed = {"engine/deploy.py", "engine/sop.py", "engine/sop_document.py", "engine/layout.py",
               "engine/sop_import/xlsx.py", "engine/deploy_checks.py", "engine/dataflow.py",
               "scripts/bpmn_layout.py", "scripts/sop_documents.py"}
    users = {
        str(p.relative_to(ROOT))
        for package in ("engine", "storage", "web", "scripts")
        for p in _modules(package)
        if "lxml" in _imports(p)
    }
    assert users <= allowed
