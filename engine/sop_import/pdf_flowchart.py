"""The flowchart of an SOP-AP PDF page: symbols, arrows and where "Tidak" goes.

Works on the table structure found by :mod:`engine.sop_import.pdf` (column boundaries,
row bands): rectangles and closed curves in the Pelaksana columns become symbols
(rectangle, capsule, polygon diamond, pentagon off-page connector with its letter),
four diagonal lines meeting at their ends a diamond, small filled triangles arrowheads,
and the remaining line segments arrows. Each diamond's outgoing chains of segments are
followed to the first symbol they reach; the one labelled "Tidak" (or, unlabelled, going
back to an earlier row) is the Tidak arrow, completed across a page break through the
connector with the same letter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from engine.sop_import.draft import ImportReport
from engine.sop_import.table import Header, TableRow

__all__ = ["Box", "Columns", "Links", "PageTable", "PlacedShape", "Seg", "Shape", "drawing", "place",
           "resolve_connectors", "tidak_links"]

Seg = tuple[float, float, float, float]     # x0, y0, x1, y1 (y grows downwards)
Box = tuple[float, float, float, float]     # x0, top, x1, bottom


@dataclass
class Shape:
    """A closed figure of the flowchart: ``kind`` rect | capsule | diamond | connector; ``box`` in pt."""

    kind: str        # rect | capsule | diamond | connector
    box: Box

    @property
    def centre(self) -> tuple[float, float]:
        """(x, y) of the box's centre."""
        return (self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2


@dataclass
class Columns:
    """The table's column boundaries (x of each vertical rule, pt), its header, the Pelaksana names."""

    bounds: list[float]          # x of each vertical ruling line, left to right
    header: Header
    names: list[str]
    body_top: float | None = None  # where the body starts under a header with no rule below it (pt)

    def index(self, x: float) -> int | None:
        """The column holding ``x`` (pt), or None outside the table."""
        for i in range(len(self.bounds) - 1):
            if self.bounds[i] <= x < self.bounds[i + 1]:
                return i
        return None


@dataclass
class PlacedShape:
    """A shape in its table row (global index) and Pelaksana column."""

    shape: Shape
    row: int                     # global row index
    lane: int                    # index into the Pelaksana columns; -1 for an off-page connector
    letter: str | None = None    # an off-page connector's letter


@dataclass
class Links:
    """Tidak arrows found so far: complete ones, and those broken by a page break (by connector letter)."""

    tidak: dict[int, int] = field(default_factory=dict)
    pending: dict[int, tuple[str, bool, int]] = field(default_factory=dict)   # row -> (letter, labelled, page)
    connector_targets: dict[tuple[int, str], int] = field(default_factory=dict)  # (page, letter) -> row


@dataclass
class PageTable:
    """One page's part of the table: its number, words, row bands and arrowheads."""

    number: int
    words: list[dict[str, Any]]
    rows: list[tuple[int, Box]] = field(default_factory=list)   # (global row index, band)
    heads: list[tuple[float, float]] = field(default_factory=list)   # arrowhead centres


def drawing(page: Any, columns: Columns, current: PageTable) -> tuple[list[Shape], list[Seg]]:
    """Symbols and loose line segments of the page's table area."""
    if not current.rows:
        return [], []
    top = current.rows[0][1][1]
    bottom = current.rows[-1][1][3]
    role_cols = [c for c, _ in columns.header.roles]
    left, right = columns.bounds[role_cols[0]], columns.bounds[role_cols[-1] + 1]
    shapes: list[Shape] = []
    segments: list[Seg] = []
    diagonals: list[Seg] = []

    def inside(box: Box) -> bool:
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        return left <= cx <= right and top <= cy <= bottom

    for rect in page.rects:
        box = (rect["x0"], rect["top"], rect["x1"], rect["bottom"])
        if rect["width"] >= 8 and rect["height"] >= 6 and inside(box) and not _fills_cell(box, columns, current):
            shapes.append(Shape("rect", box))
    for curve in page.curves:
        box = (curve["x0"], curve["top"], curve["x1"], curve["bottom"])
        if not inside(box):
            continue
        pts = [(float(x), float(y)) for x, y in curve["pts"]]
        closed = len(pts) > 2 and abs(pts[0][0] - pts[-1][0]) < 1 and abs(pts[0][1] - pts[-1][1]) < 1
        if curve["width"] < 9 and curve["height"] < 9:
            if curve.get("fill"):
                current.heads.append(((box[0] + box[2]) / 2, (box[1] + box[3]) / 2))
            continue
        if closed:
            shapes.append(Shape(_curve_kind(pts, box), box))
        else:
            segments.extend((a[0], a[1], b[0], b[1]) for a, b in zip(pts, pts[1:], strict=False))
    for line in page.lines:
        seg = (float(line["x0"]), float(line["top"]), float(line["x1"]), float(line["bottom"]))
        pts = line.get("pts") or []
        if len(pts) >= 2:
            seg = (float(pts[0][0]), float(pts[0][1]), float(pts[-1][0]), float(pts[-1][1]))
        if not (left - 1 <= min(seg[0], seg[2]) and max(seg[0], seg[2]) <= right + 1
                and top - 1 <= min(seg[1], seg[3]) and max(seg[1], seg[3]) <= bottom + 1):
            continue
        if abs(seg[0] - seg[2]) > 1 and abs(seg[1] - seg[3]) > 1:
            diagonals.append(seg)
        elif not _on_ruling(seg, columns, current):
            segments.append(seg)
    shapes.extend(_line_diamonds(diagonals))
    return shapes, segments


def _fills_cell(box: Box, columns: Columns, current: PageTable) -> bool:
    """True for a cell's background or border rectangle (as wide as its column or as tall as its row)."""
    col = columns.index((box[0] + box[2]) / 2)
    if col is not None and box[2] - box[0] >= columns.bounds[col + 1] - columns.bounds[col] - 1.5:
        return True
    return any(box[3] - box[1] >= band[3] - band[1] - 1.5 for _, band in current.rows
               if band[1] - 1 <= (box[1] + box[3]) / 2 <= band[3] + 1)


def _on_ruling(seg: Seg, columns: Columns, current: PageTable) -> bool:
    if abs(seg[0] - seg[2]) <= 1:
        return any(abs(seg[0] - b) < 1 for b in columns.bounds)
    return any(abs(seg[1] - band[1]) < 1 or abs(seg[1] - band[3]) < 1 for _, band in current.rows)


def _curve_kind(pts: list[tuple[float, float]], box: Box) -> str:
    x0, top, x1, bottom = box
    cx, cy = (x0 + x1) / 2, (top + bottom) / 2
    corners = {(round(x), round(y)) for x, y in pts}
    if 4 <= len(corners) <= 5 and all(abs(x - cx) < 1.5 or abs(y - cy) < 1.5 for x, y in pts):
        return "diamond"
    if 5 <= len(corners) <= 6 and sum(1 for x, y in pts if abs(y - top) < 1) >= 2 and any(
            abs(x - cx) < 1.5 and abs(y - bottom) < 1 for x, y in pts):
        return "connector"                             # pentagon off-page connector
    if len(corners) <= 5 and all(min(abs(x - x0), abs(x - x1)) < 1 and min(abs(y - top), abs(y - bottom)) < 1
                                 for x, y in pts):
        return "rect"
    return "capsule"


def _line_diamonds(diagonals: list[Seg]) -> list[Shape]:
    """Diamonds drawn as four separate diagonal lines: group lines that share endpoints."""
    groups: list[list[Seg]] = []
    for seg in diagonals:
        ends = [(seg[0], seg[1]), (seg[2], seg[3])]
        home = next((g for g in groups if any(_near(e, (o[0], o[1])) or _near(e, (o[2], o[3]))
                                              for o in g for e in ends)), None)
        if home is None:
            groups.append([seg])
        else:
            home.append(seg)
    shapes = []
    for group in groups:
        if len(group) == 4:
            xs = [v for s in group for v in (s[0], s[2])]
            ys = [v for s in group for v in (s[1], s[3])]
            shapes.append(Shape("diamond", (min(xs), min(ys), max(xs), max(ys))))
    return shapes


def _near(a: tuple[float, float], b: tuple[float, float], tolerance: float = 2.5) -> bool:
    return abs(a[0] - b[0]) <= tolerance and abs(a[1] - b[1]) <= tolerance


def place(shapes: list[Shape], words: list[dict[str, Any]], columns: Columns, current: PageTable,
           report: ImportReport) -> list[PlacedShape]:
    """Symbols in their row and Pelaksana column; off-page connectors with their letter."""
    role_cols = [c for c, _ in columns.header.roles]
    placed = []
    for shape in shapes:
        cx, cy = shape.centre
        col = columns.index(cx)
        row = next((index for index, band in current.rows if band[1] - 1 <= cy < band[3] + 1), None)
        if shape.kind == "connector":
            x0, top, x1, bottom = shape.box
            letter = next((w["text"] for w in words if re.fullmatch(r"[A-Z]{1,2}", w["text"])
                           and x0 - 1 <= (w["x0"] + w["x1"]) / 2 <= x1 + 1
                           and top - 1 <= (w["top"] + w["bottom"]) / 2 <= bottom + 1), None)
            if letter is not None and row is not None:
                placed.append(PlacedShape(shape, row, -1, letter))
            continue
        if col not in role_cols or row is None:
            report.add("peringatan", "Simbol di luar kolom Pelaksana atau di luar baris kegiatan: diabaikan",
                       page=current.number)
            continue
        placed.append(PlacedShape(shape, row, role_cols.index(col)))
    return placed


def tidak_links(segments: list[Seg], words: list[dict[str, Any]], current: PageTable,
                 placed: list[PlacedShape], rows: list[TableRow], links: Links, report: ImportReport) -> None:
    """Follow the lines leaving each diamond on this page; the "Tidak" one gives the target row.

    A line ending at an off-page connector is completed by :func:`resolve_connectors` from the
    connector with the same letter on another page.
    """
    on_page = [p for p in placed if any(p.row == index for index, _ in current.rows)]
    tidak_words = [((w["x0"] + w["x1"]) / 2, (w["top"] + w["bottom"]) / 2) for w in words
                   if re.fullmatch(r"tidak", w["text"], re.IGNORECASE)]
    for connector in (p for p in on_page if p.letter is not None):
        for _path, reached in _paths(connector, segments, on_page, current.heads):
            if reached is not None and reached.letter is None:
                links.connector_targets[(current.number, connector.letter or "")] = reached.row
    for diamond in (p for p in on_page if p.shape.kind == "diamond"):
        for path, reached in _paths(diamond, segments, on_page, current.heads):
            if reached is None or reached.row == diamond.row and reached.letter is None:
                continue
            start = next(p for p in ((path[0][0], path[0][1]), (path[0][2], path[0][3]))
                         if _touches(p, diamond.shape.box, 2.5))
            if any(_near(start, head, 6.0) for head in current.heads):
                continue                               # an arrow coming into the diamond
            labelled = any(_seg_distance(seg, point) <= 12 for seg in path[:2] for point in tidak_words)
            if reached.letter is not None:
                links.pending[diamond.row] = (reached.letter, labelled, current.number)
                continue
            _link(diamond.row, reached.row, labelled, current.number, rows, links, report)


def _link(source: int, target: int, labelled: bool, page: int, rows: list[TableRow], links: Links,
          report: ImportReport) -> None:
    if not labelled and target > source:
        return                                          # the Ya arrow to a later row
    if target > source:
        report.add("peringatan", f"Panah 'Tidak' menuju baris sesudahnya ({rows[target].label})",
                   page=page, row=rows[source].label)
        return
    links.tidak[source] = target
    how = "berlabel 'Tidak'" if labelled else "tanpa label, kembali ke baris sebelumnya"
    report.add("info" if labelled else "dugaan", f"Panah 'Tidak' ({how}) ke baris {rows[target].label}",
               page=page, row=rows[source].label)


def resolve_connectors(links: Links, rows: list[TableRow], report: ImportReport) -> None:
    """Complete arrows broken by a page break through the off-page connectors' letters."""
    for source, (letter, labelled, page) in sorted(links.pending.items()):
        target = next((row for (other, found), row in links.connector_targets.items()
                       if found == letter and other != page), None)
        if target is None:
            report.add("tidak terbaca", f"Penghubung antarhalaman {letter!r} dari keputusan ini tidak ditemukan "
                                        "pasangannya", page=page, row=rows[source].label)
            continue
        if labelled or target < source:
            report.add("info", f"Panah melewati pergantian halaman lewat penghubung {letter!r}", page=page,
                       row=rows[source].label)
        _link(source, target, labelled, page, rows, links, report)


def _seg_distance(seg: Seg, point: tuple[float, float]) -> float:
    x0, y0, x1, y1 = seg
    px, py = point
    dx, dy = x1 - x0, y1 - y0
    length = dx * dx + dy * dy
    t = 0.0 if length == 0 else max(0.0, min(1.0, ((px - x0) * dx + (py - y0) * dy) / length))
    return float(((x0 + t * dx - px) ** 2 + (y0 + t * dy - py) ** 2) ** 0.5)


def _touches(point: tuple[float, float], box: Box, tolerance: float = 4.0) -> bool:
    return box[0] - tolerance <= point[0] <= box[2] + tolerance and box[1] - tolerance <= point[1] <= box[3] + tolerance


def _paths(diamond: PlacedShape, segments: list[Seg], placed: list[PlacedShape],
           heads: list[tuple[float, float]]) -> Iterable[tuple[list[Seg], PlacedShape | None]]:
    """Each chain of connected segments leaving the diamond, and the first other symbol it reaches
    (an arrowhead at a chain's end bridges the gap between the line and the symbol)."""
    used: set[int] = set()
    for start, seg in enumerate(segments):
        ends = [(seg[0], seg[1]), (seg[2], seg[3])]
        if start in used or not any(_touches(e, diamond.shape.box, 2.5) for e in ends):
            continue
        far = ends[1] if _touches(ends[0], diamond.shape.box, 2.5) else ends[0]
        path, reached = [seg], None
        used.add(start)
        frontier = [far]
        while frontier and reached is None and len(path) < 40:
            point = frontier.pop()
            reach = 9.0 if any(_near(point, head, 5.0) for head in heads) else 4.0
            hit = next((p for p in placed if p is not diamond and _touches(point, p.shape.box, reach)), None)
            if hit is not None:
                reached = hit
                break
            for index, other in enumerate(segments):
                if index in used:
                    continue
                a, b = (other[0], other[1]), (other[2], other[3])
                if _near(point, a) or _near(point, b) or _seg_distance(other, point) <= 1.0:
                    used.add(index)
                    path.append(other)
                    frontier.append(b if _near(point, a) else a)
        yield path, reached


