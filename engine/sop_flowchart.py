"""Geometry of an SOP-AP flowchart: pages, row heights, symbols and routed arrows.

Input: a :class:`~engine.sop_document.SopDocument`, the widths of the Pelaksana
columns and the height each row's text needs (all in CSS px, 96 per inch).
Output: one :class:`PageLayout` per page, in coordinates whose origin is the
top-left corner of the first Pelaksana column's first body row on that page.

Drawing rules (Permenpan RB 35/2012 symbols):

- each row holds its step's symbol (rectangle, or diamond for a decision) in
  the column of its Pelaksana, vertically centred; a start capsule sits in a
  band at the top of its row, an end capsule in a band at the bottom;
- an arrow to the next row (or to a capsule in the same row) leaves the bottom
  of its symbol, turns just below it and enters the target from above;
- every other arrow — a "Tidak" back to an earlier row, or a jump over rows —
  leaves the symbol's right side into a corridor at the right edge of a
  Pelaksana column (the right-most of the two columns involved), runs along it
  on its own track (nested loops on separate tracks) and enters the target
  from the right (a diamond from above). Symbols never sit in a corridor, so
  no arrow crosses a symbol;
- where the table breaks across pages, an arrow ends at a pentagon off-page
  connector with a letter (A, B, …) in a band at the bottom of the last row,
  and continues from the matching pentagon at the top of the next page's row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from engine.sop_document import DocFlow, SopDocument

__all__ = ["Label", "Line", "PageLayout", "Shape", "layout_flowchart", "rows_per_page"]

PAD_TOP, PAD_BOTTOM, GAP, ELBOW, DECISION_ELBOW = 7.0, 9.0, 14.0, 5.0, 11.0
RECT_H, DIAMOND_H, CAPSULE_H, CONNECTOR_H, CONNECTOR_W = 22.0, 28.0, 16.0, 15.0, 13.0
TRACK_GAP, CORRIDOR_MARGIN = 6.0, 4.0
ARROW_LEN, ARROW_HALF_W = 6.0, 2.6


@dataclass(frozen=True)
class Shape:
    """A symbol: ``kind`` is rect, capsule, diamond or pentagon; box in px; ``text`` inside it."""

    kind: str
    x: float
    y: float
    w: float
    h: float
    symbol_id: str = ""
    text: str = ""

    @property
    def cx(self) -> float:
        """Horizontal centre."""
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        """Vertical centre."""
        return self.y + self.h / 2

    def points(self) -> list[tuple[float, float]]:
        """Outline of a diamond or pentagon (pentagon: pointing down), clockwise from the top left."""
        x, y, w, h = self.x, self.y, self.w, self.h
        if self.kind == "diamond":
            return [(x + w / 2, y), (x + w, y + h / 2), (x + w / 2, y + h), (x, y + h / 2)]
        return [(x, y), (x + w, y), (x + w, y + h * 0.6), (x + w / 2, y + h), (x, y + h * 0.6)]


@dataclass(frozen=True)
class Line:
    """An orthogonal polyline; ``head`` is the filled arrowhead triangle at its end (or empty)."""

    points: tuple[tuple[float, float], ...]
    head: tuple[tuple[float, float], ...] = ()
    flow_id: str = ""


@dataclass(frozen=True)
class Label:
    """A "Ya"/"Tidak" text next to a decision's outgoing line; (x, y) is the baseline start."""

    x: float
    y: float
    text: str


@dataclass
class PageLayout:
    """One page of the table: its rows (indices), their heights and everything drawn on them."""

    rows: list[int]
    heights: list[float]
    shapes: list[Shape] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)

    @property
    def height(self) -> float:
        """Total height of the page's body rows in px."""
        return sum(self.heights)

    def top(self, row: int) -> float:
        """Top y of row index ``row`` on this page."""
        return sum(self.heights[: self.rows.index(row)])


def _flow_height(doc: SopDocument, row: int, conn_in: bool, conn_out: bool) -> float:
    kinds = {t.kind for t in doc.terminals if t.row == row}
    decision = doc.rows[row].symbol == "decision"
    height = PAD_TOP + (DIAMOND_H if decision else RECT_H) + PAD_BOTTOM + (DECISION_ELBOW if decision else ELBOW)
    height += (CONNECTOR_H + GAP) * (conn_in + conn_out)
    height += (CAPSULE_H + GAP) * (("start" in kinds) + ("end" in kinds))
    return height


def rows_per_page(doc: SopDocument, text_heights: Sequence[float], first_page_px: float,
                  page_px: float) -> list[list[int]]:
    """Split the rows into pages: ``[[row index, ...], ...]``.

    ``text_heights[i]`` is the height row ``i``'s text cells need; ``first_page_px``
    / ``page_px`` the body height available for rows on page 1 / later pages.
    The first list is empty when not even one row fits under the identity part.
    A row is never split; a row taller than a page gets a page of its own. The
    last row never stands alone on the last page (nor the first row alone at the
    foot of page 1) when moving one row across the break keeps two rows on each
    side and fits: a page break keeps at least two rows on each side where it can.
    """
    pages: list[list[int]] = [[]]
    used, avail = 0.0, first_page_px
    last = len(doc.rows) - 1
    for row in range(len(doc.rows)):
        conn_in = not pages[-1] and any(pages)
        need = max(text_heights[row], _flow_height(doc, row, conn_in, row < last))
        if pages[-1] and used + need > avail or not pages[-1] and need > avail and len(pages) == 1:
            pages.append([])
            used, avail = 0.0, page_px
            conn_in = any(pages)
        pages[-1].append(row)
        used += max(text_heights[row], _flow_height(doc, row, conn_in, False))
    _keep_together(doc, pages, text_heights, first_page_px, page_px)
    return pages


def _page_height(doc: SopDocument, rows: list[int], text_heights: Sequence[float], *, first: bool,
                 final: bool) -> float:
    """Body height ``rows`` need on one page (connector bands at a break included)."""
    return sum(max(text_heights[row], _flow_height(doc, row, row == rows[0] and not first,
                                                     row == rows[-1] and not final)) for row in rows)


def _keep_together(doc: SopDocument, pages: list[list[int]], text_heights: Sequence[float], first_page_px: float,
                   page_px: float) -> None:
    """Move one row across a break where a page would hold a lone first or last row (in place)."""
    table = [p for p in pages if p]
    if len(table) < 2:
        return
    first_table, last_table = pages.index(table[0]), pages.index(table[-1])

    def fits(index: int, rows: list[int]) -> bool:
        avail = first_page_px if index == 0 else page_px
        return _page_height(doc, rows, text_heights, first=index == first_table,
                            final=index == last_table) <= avail

    before, after = pages[last_table - 1], pages[last_table]
    if len(after) == 1 and len(before) >= 3 and fits(last_table, [before[-1], *after]):
        after.insert(0, before.pop())
    before, after = pages[first_table], pages[first_table + 1]
    if first_table == 0 and len(before) == 1 and len(after) >= 2 and fits(1, [*before, *after]):
        # a lone row at the foot of page 1: it opens page 2 instead, page 1 keeps the identity part
        after.insert(0, before.pop())
        if len(after) > 1 and not fits(1, after):
            before.append(after.pop(0))


class _Router:
    """Places symbols and routes arrows for a paginated document."""

    def __init__(self, doc: SopDocument, column_w: Sequence[float], text_heights: Sequence[float],
                 pages: list[list[int]]) -> None:
        self.doc = doc
        self.column_x = [sum(column_w[:i]) for i in range(len(column_w))]
        self.column_w = list(column_w)
        self.page_of = {row: p for p, rows in enumerate(pages) for row in rows}
        self.layouts: list[PageLayout] = []
        self.tracks = self._assign_tracks()
        corridor = [0.0] * len(column_w)
        for (column, track) in self.tracks.values():
            corridor[column] = max(corridor[column], 2 * CORRIDOR_MARGIN + TRACK_GAP * (track + 1))
        self.corridor = corridor
        table_rows = [p for p in pages if p]
        for rows in pages:
            heights = []
            for row in rows:
                conn_in = row == rows[0] and rows is not table_rows[0]
                conn_out = row == rows[-1] and rows is not table_rows[-1]
                heights.append(max(text_heights[row], _flow_height(doc, row, conn_in, conn_out)))
            self.layouts.append(PageLayout(rows=list(rows), heights=heights))
        self.boxes: dict[str, Shape] = {}
        self.letters = 0
        self.connectors: dict[tuple[int, int, str], list[tuple[float, float]]] = {}

    # -- corridors -----------------------------------------------------------------------
    def _adjacent(self, flow: DocFlow) -> bool:
        rs, rt = self.doc.symbol_row(flow.source), self.doc.symbol_row(flow.target)
        if flow.source == flow.target:
            return False
        if rt == rs:
            source_kind = self._kind(flow.source)
            target_kind = self._kind(flow.target)
            return source_kind == "start" or target_kind == "end"
        return rt == rs + 1 and self._kind(flow.source) != "end" and self._kind(flow.target) != "start"

    def _kind(self, symbol_id: str) -> str:
        terminal = next((t for t in self.doc.terminals if t.symbol_id == symbol_id), None)
        return terminal.kind if terminal else self.doc.rows[self.doc.row_of[symbol_id]].symbol

    def _assign_tracks(self) -> dict[str, tuple[int, int]]:
        """``{flow id: (corridor column, track)}`` for every corridor flow; inner loops nearer the symbols."""
        wanted = []
        for flow in self.doc.flows:
            if self._adjacent(flow):
                continue
            rs, rt = self.doc.symbol_row(flow.source), self.doc.symbol_row(flow.target)
            column = max(self.doc.symbol_lane(flow.source), self.doc.symbol_lane(flow.target))
            wanted.append((abs(rs - rt), min(rs, rt), max(rs, rt), column, flow.id))
        taken: dict[tuple[int, int], list[tuple[int, int]]] = {}
        result = {}
        for _, low, high, column, flow_id in sorted(wanted):
            track = 0
            while any(not (high < a or low > b) for a, b in taken.get((column, track), [])):
                track += 1
            taken.setdefault((column, track), []).append((low, high))
            result[flow_id] = (column, track)
        return result

    def track_x(self, column: int, track: int) -> float:
        """x of corridor track ``track`` in Pelaksana column ``column``."""
        area_right = self.column_x[column] + self.column_w[column] - self.corridor[column]
        return area_right + CORRIDOR_MARGIN + TRACK_GAP * (track + 0.5)

    # -- symbols -------------------------------------------------------------------------
    def place_symbols(self) -> None:
        for page_index, page in enumerate(self.layouts):
            last_page = page_index == len(self.layouts) - 1
            for row, height in zip(page.rows, page.heights, strict=True):
                top = page.top(row)
                conn_in = row == page.rows[0] and page_index > 0 and any(p.rows for p in self.layouts[:page_index])
                conn_out = row == page.rows[-1] and not last_page
                upper = top + PAD_TOP + (CONNECTOR_H + GAP if conn_in else 0)
                elbow = DECISION_ELBOW if self.doc.rows[row].symbol == "decision" else ELBOW
                lower = top + height - PAD_BOTTOM - elbow - (CONNECTOR_H + GAP if conn_out else 0)
                for terminal in (t for t in self.doc.terminals if t.row == row):
                    w = min(self._area_w(terminal.lane) - 6, 46.0)
                    x = self._area_cx(terminal.lane) - w / 2
                    if terminal.kind == "start":
                        shape = Shape("capsule", x, upper, w, CAPSULE_H, terminal.symbol_id, terminal.label)
                        upper += CAPSULE_H + GAP
                    else:
                        lower -= CAPSULE_H
                        shape = Shape("capsule", x, lower, w, CAPSULE_H, terminal.symbol_id, terminal.label)
                        lower -= GAP
                    self._add(page, shape)
                info = self.doc.rows[row]
                if info.symbol == "decision":
                    w, h, kind = min(self._area_w(info.lane) - 4, 36.0), DIAMOND_H, "diamond"
                else:
                    w, h, kind = min(self._area_w(info.lane) - 6, 60.0), RECT_H, "rect"
                y = upper + max(0.0, (lower - upper - h) / 2)
                self._add(page, Shape(kind, self._area_cx(info.lane) - w / 2, y, w, h, info.symbol_id))

    def _add(self, page: PageLayout, shape: Shape) -> None:
        page.shapes.append(shape)
        self.boxes[shape.symbol_id] = shape

    def _area_w(self, column: int) -> float:
        return self.column_w[column] - self.corridor[column]

    def _area_cx(self, column: int) -> float:
        return self.column_x[column] + self._area_w(column) / 2

    # -- arrows --------------------------------------------------------------------------
    def route_all(self) -> None:
        right_taken: set[str] = set()
        for flow in self.doc.flows:
            source, target = self.boxes.get(flow.source), self.boxes.get(flow.target)
            if source is None or target is None:
                continue
            if self._adjacent(flow):
                self._route_adjacent(flow, source, target)
            else:
                exit_right = flow.source not in right_taken and (source.kind != "diamond" or flow.label != "Ya")
                if exit_right:
                    right_taken.add(flow.source)
                self._route_corridor(flow, source, target, exit_right)

    def _page(self, symbol_id: str) -> PageLayout:
        return self.layouts[self.page_of[self.doc.symbol_row(symbol_id)]]

    def _label(self, page: PageLayout, flow: DocFlow, start: tuple[float, float], downward: bool,
               left: bool = False) -> None:
        """"Ya"/"Tidak" beside the first segment: below-right (or below-left) of a bottom exit, above a side exit."""
        if not flow.label:
            return
        x, y = start
        if not downward:
            page.labels.append(Label(x + 1.5, y - 2.5, flow.label))
        else:
            page.labels.append(Label(x - 2.5 - 3.8 * len(flow.label) if left else x + 2.5, y + 8.5, flow.label))

    def _route_adjacent(self, flow: DocFlow, source: Shape, target: Shape) -> None:
        start = (source.cx, source.y + source.h)
        wanted = DECISION_ELBOW if source.kind == "diamond" else ELBOW
        room = target.y - start[1] - ARROW_LEN - 2 if self._page(flow.source) is self._page(flow.target) else wanted
        elbow_y = start[1] + max(2.0, min(wanted, room))
        path = [start] if abs(source.cx - target.cx) < 0.5 else [start, (source.cx, elbow_y), (target.cx, elbow_y)]
        source_page, target_page = self._page(flow.source), self._page(flow.target)
        self._label(source_page, flow, start, True, left=target.cx > source.cx + 0.5)
        if source_page is target_page:
            self._line(source_page, [*path, (target.cx, target.y)], flow.id)
            return
        letter = self._letter()
        out_row, in_row = source_page.rows[-1], target_page.rows[0]
        out_x = self._connector(source_page, out_row, "out", target.cx, letter)
        in_x = self._connector(target_page, in_row, "in", target.cx, letter)
        band_top = source_page.top(out_row) + source_page.heights[source_page.rows.index(out_row)] \
            - PAD_BOTTOM - CONNECTOR_H
        self._line(source_page, [*self._jog(path, out_x, band_top - 4), (out_x, band_top)], flow.id)
        band_bottom = target_page.top(in_row) + PAD_TOP + CONNECTOR_H
        self._line(target_page, self._jog([(in_x, band_bottom)], target.cx, band_bottom + 4)
                   + [(target.cx, target.y)], flow.id)

    def _route_corridor(self, flow: DocFlow, source: Shape, target: Shape, exit_right: bool) -> None:
        column, track = self.tracks[flow.id]
        x = self.track_x(column, track)
        if exit_right:
            start = (source.x + source.w, source.cy)  # a diamond's right vertex, a box's right side
            out = [start, (x, start[1])]
        else:
            start = (source.cx, source.y + source.h)
            out = [start, (source.cx, start[1] + ELBOW), (x, start[1] + ELBOW)]
        if target.kind == "diamond" or flow.source == flow.target:
            entry_y = target.y - ELBOW
            into = [(x, entry_y), (target.cx, entry_y), (target.cx, target.y)]
        else:
            into = [(x, target.cy), (target.x + target.w, target.cy)]
        source_page, target_page = self._page(flow.source), self._page(flow.target)
        self._label(source_page, flow, start, not exit_right)
        if source_page is target_page:
            self._line(source_page, out + into, flow.id)
            return
        letter = self._letter()
        upward = self.page_of[self.doc.symbol_row(flow.target)] < self.page_of[self.doc.symbol_row(flow.source)]
        if upward:
            in_row = source_page.rows[0]
            band_bottom = source_page.top(in_row) + PAD_TOP + CONNECTOR_H
            cx = self._connector(source_page, in_row, "in", x, letter)
            self._line(source_page, self._jog(out, cx, band_bottom + 4) + [(cx, band_bottom)], flow.id)
            out_row = target_page.rows[-1]
            band_top = target_page.top(out_row) + target_page.heights[-1] - PAD_BOTTOM - CONNECTOR_H
            cx = self._connector(target_page, out_row, "out", x, letter)
            self._line(target_page, self._jog([(cx, band_top)], x, band_top - 4) + into, flow.id)
        else:
            out_row = source_page.rows[-1]
            band_top = source_page.top(out_row) + source_page.heights[-1] - PAD_BOTTOM - CONNECTOR_H
            cx = self._connector(source_page, out_row, "out", x, letter)
            self._line(source_page, self._jog(out, cx, band_top - 4) + [(cx, band_top)], flow.id)
            in_row = target_page.rows[0]
            band_bottom = target_page.top(in_row) + PAD_TOP + CONNECTOR_H
            cx = self._connector(target_page, in_row, "in", x, letter)
            self._line(target_page, self._jog([(cx, band_bottom)], x, band_bottom + 4) + into, flow.id)

    @staticmethod
    def _jog(path: list[tuple[float, float]], x: float, y: float) -> list[tuple[float, float]]:
        """Continue ``path`` vertically to ``y`` and then horizontally to ``x`` (if it is not there yet)."""
        last_x, _ = path[-1]
        if abs(last_x - x) < 0.5:
            return path
        return [*path, (last_x, y), (x, y)]

    def _letter(self) -> str:
        index = self.letters
        self.letters += 1
        letters = ""
        while True:
            letters = chr(ord("A") + index % 26) + letters
            index = index // 26 - 1
            if index < 0:
                return letters

    def _connector(self, page: PageLayout, row: int, band: str, x: float, letter: str) -> float:
        """Place a pentagon with ``letter`` in the connector band of ``row`` near ``x``; return its centre x."""
        key = (self.layouts.index(page), row, band)
        placed = self.connectors.setdefault(key, [])
        while any(abs(x - other) < CONNECTOR_W + 2 for other, _ in placed):
            x -= CONNECTOR_W + 3
        placed.append((x, 0.0))
        top = page.top(row)
        height = page.heights[page.rows.index(row)]
        y = top + PAD_TOP if band == "in" else top + height - PAD_BOTTOM - CONNECTOR_H
        page.shapes.append(Shape("pentagon", x - CONNECTOR_W / 2, y, CONNECTOR_W, CONNECTOR_H, "", letter))
        return x

    def _line(self, page: PageLayout, points: list[tuple[float, float]], flow_id: str) -> None:
        cleaned: list[tuple[float, float]] = []
        for point in points:
            if not cleaned or abs(point[0] - cleaned[-1][0]) > 0.01 or abs(point[1] - cleaned[-1][1]) > 0.01:
                cleaned.append(point)
        if len(cleaned) < 2:
            return
        (x0, y0), (x1, y1) = cleaned[-2], cleaned[-1]
        length = max(abs(x1 - x0), abs(y1 - y0))
        dx, dy = (x1 - x0) / length, (y1 - y0) / length
        base = (x1 - dx * ARROW_LEN, y1 - dy * ARROW_LEN)
        head = ((x1, y1), (base[0] - dy * ARROW_HALF_W, base[1] + dx * ARROW_HALF_W),
                (base[0] + dy * ARROW_HALF_W, base[1] - dx * ARROW_HALF_W))
        page.lines.append(Line(tuple([*cleaned[:-1], base]), head, flow_id))


def layout_flowchart(doc: SopDocument, column_w: Sequence[float], text_heights: Sequence[float],
                     first_page_px: float, page_px: float) -> list[PageLayout]:
    """Paginate ``doc`` and draw its flowchart: one :class:`PageLayout` per page.

    ``column_w``: widths of the Pelaksana columns in px, in lane order;
    ``text_heights``: the height each row's text needs, in px; ``first_page_px``
    / ``page_px``: body height available on page 1 (under the identity part and
    the table header) and on later pages (under the header). The first layout
    has no rows when the identity part leaves no room for one.
    """
    if len(text_heights) != len(doc.rows):
        raise ValueError(f"{len(text_heights)} text heights for {len(doc.rows)} rows")
    pages = rows_per_page(doc, text_heights, first_page_px, page_px)
    router = _Router(doc, column_w, text_heights, pages)
    router.place_symbols()
    router.route_all()
    return router.layouts
