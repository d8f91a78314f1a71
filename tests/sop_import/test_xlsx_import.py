"""XLSX import: the table in cells, the flowchart as DrawingML shapes anchored to cells."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.sop_import import ImportedSop, import_document
from tests.sop_import.diagrams import DIAGRAMS, deployed_names, read_diagram, to_xlsx


def comparable(result: ImportedSop) -> dict[str, object]:
    """The imported draft in the shape of :meth:`Diagram.comparable`."""
    draft = result.draft
    return {
        "lanes": [" ".join(lane.name.split()).casefold() for lane in draft.lanes],
        "steps": [(draft.lanes[r.lanes[0]].name.casefold(), r.tidak if r.review else None,
                   r.kelengkapan, r.waktu, r.output, r.calls) for r in draft.rows],
    }


@pytest.mark.parametrize("path", DIAGRAMS, ids=lambda p: p.stem)
def test_xlsx_round_trip(path: Path) -> None:
    """diagram -> XLSX (shapes anchored to cells, Tidak connectors) -> import: same lanes, steps,
    reviews and Tidak targets, Mutu Baku and called SOPs; every lane read from a shape."""
    names = deployed_names()
    diagram = read_diagram(path)
    (result,) = import_document(to_xlsx(diagram, names), f"{path.stem}.xlsx", names)
    assert comparable(result) == diagram.comparable()
    assert not any(r.lane_inferred for r in result.draft.rows)
