"""SOP-AP tables drawn without row rules (only column lines) or without any lines: cut by word positions.

Some exports draw a table's columns but not its rows, or no ruling at all. Then

- **columns** (no vertical rules): the header's words, "Pelaksana" and "Mutu Baku"
  left out (they span several columns), cluster into one group per column where their
  x ranges overlap; a boundary lies in the widest stretch between two groups that no
  word of the table body covers (the Kegiatan text runs up to its column's right edge);
- **header** (no rule below it): it ends under the lowest Pelaksana name above the
  first row's number;
- **rows** (no horizontal rules): each number in the No column starts a row; the
  boundary between two rows lies in the widest vertical gap between the text lines (No,
  Kegiatan, Mutu Baku, Keterangan columns) from one number to the next — just above the
  next row's text when cells are set at the top, in the gap's middle when they are
  centred (the number lower than the text's first line);
  the table ends at the foot of the column rules, or after the last row's text and
  symbols (a gap over :data:`END_GAP_PT` ends it: the page footer is not a row).
"""

from __future__ import annotations

import re
from typing import Any

from engine.sop_import.pdf_flowchart import Columns

__all__ = ["END_GAP_PT", "header_bottom", "numbered_rows", "row_bounds", "word_bounds"]

END_GAP_PT = 14.0
_NUMBER = re.compile(r"^\d{1,3}[.)]?$")
_TITLE = re.compile(r"^(?:no|nomor|kegiatan|aktivitas|uraian|kelengkapan|persyaratan|waktu|output|keluaran|"
                    r"keterangan|ket)\W*$", re.IGNORECASE)
_KEGIATAN = re.compile(r"^(?:kegiatan|aktivitas|uraian)\W*$", re.IGNORECASE)
_SPANNING = re.compile(r"^(?:pelaksana|mutu|baku)\W*$", re.IGNORECASE)

Line = tuple[float, float]  # (top, bottom) of a text line, pt


def _lines(words: list[dict[str, Any]]) -> list[Line]:
    """Words grouped into text lines (by top, 2 pt tolerance): (top, bottom), top to bottom."""
    lines: list[list[float]] = []
    for word in sorted(words, key=lambda w: w["top"]):
        if lines and word["top"] - lines[-1][0] <= 2:
            lines[-1][1] = max(lines[-1][1], word["bottom"])
        else:
            lines.append([word["top"], word["bottom"]])
    return [(a, b) for a, b in lines]


def _widest_gap(lines: list[Line], lo: float, hi: float) -> tuple[float, float] | None:
    """(bottom, top) of the widest gap between consecutive lines whose tops lie in [lo, hi]."""
    inside = [line for line in lines if lo - 0.5 <= line[0] <= hi + 0.5]
    best: tuple[float, float, float] | None = None
    for upper, lower in zip(inside, inside[1:], strict=False):
        gap = lower[0] - upper[1]
        if best is None or gap > best[0]:
            best = (gap, upper[1], lower[0])
    return (best[1], best[2]) if best is not None else None


def _boundary(gap: tuple[float, float], number_top: float) -> float:
    """Where a row starts, given the gap before its text and the top of its number.

    Text set at the top of its cell (the number on its first line): just above that line,
    since a row's symbol may reach far below its text. Text centred in its cell (the number
    lower than the text's first line): the middle of the gap.
    """
    bottom, top = gap
    if number_top > top + 2:
        return (bottom + top) / 2
    return max(bottom, top - 2.0)


def _numbers(words: list[dict[str, Any]], columns: Columns, below: float) -> list[dict[str, Any]]:
    no = columns.header.no
    if no is None:
        return []
    left, right = columns.bounds[no], columns.bounds[no + 1]
    return sorted((w for w in words if _NUMBER.match(w["text"]) and left <= (w["x0"] + w["x1"]) / 2 < right
                   and w["top"] > below), key=lambda w: w["top"])


def numbered_rows(words: list[dict[str, Any]], columns: Columns, below: float) -> int:
    """How many numbers the No column holds under ``below`` (pt): the rows a page should have."""
    return len(_numbers(words, columns, below))


def _text_words(words: list[dict[str, Any]], columns: Columns) -> list[dict[str, Any]]:
    """Words outside the Pelaksana columns (the flowchart's labels are not table text)."""
    roles = {c for c, _ in columns.header.roles}
    return [w for w in words if (c := columns.index((w["x0"] + w["x1"]) / 2)) is not None and c not in roles]


def header_bottom(page: Any, words: list[dict[str, Any]], columns: Columns, keyword_bottom: float) -> float:
    """Where the body starts under a header with no rule below it: below the lowest Pelaksana name above
    the first row's number (body text may be centred and start above its number; role names never;
    a word inside a drawn symbol, such as "Mulai" in the start capsule, is not a name)."""
    numbers = _numbers(words, columns, keyword_bottom)
    if not numbers:
        return keyword_bottom + 1
    first = numbers[0]["top"]
    roles = {c for c, _ in columns.header.roles}
    shapes = [(o["x0"], o["top"], o["x1"], o["bottom"]) for o in [*page.rects, *page.curves]]

    def in_symbol(w: dict[str, Any]) -> bool:
        x, y = (w["x0"] + w["x1"]) / 2, (w["top"] + w["bottom"]) / 2
        return any(a <= x <= c and b <= y <= d for a, b, c, d in shapes)

    names = [w["bottom"] for w in words if w["bottom"] <= first + 0.5 and w["top"] >= keyword_bottom - 40
             and columns.index((w["x0"] + w["x1"]) / 2) in roles and not in_symbol(w)]
    return min(first - 0.5, max([keyword_bottom, *names]) + 1)


def row_bounds(page: Any, words: list[dict[str, Any]], columns: Columns, top: float) -> list[float]:
    """Row boundaries (y, pt) of the body under ``top``, from the No column's numbers and the text lines."""
    numbers = _numbers(words, columns, top)
    if not numbers:
        return []
    lines = _lines([w for w in _text_words(words, columns) if w["top"] > top])
    ys = [top]
    for upper, lower in zip(numbers, numbers[1:], strict=False):
        gap = _widest_gap(lines, upper["top"], lower["top"])
        ys.append(_boundary(gap, lower["top"]) if gap is not None else lower["top"] - 1)
    ys.append(_table_end(page, lines, columns, numbers[-1]["top"]))
    return ys


def _table_end(page: Any, lines: list[Line], columns: Columns, last_top: float) -> float:
    """The foot of the table: the column rules' foot, or the last row's text and symbols."""
    x0, x1 = columns.bounds[0], columns.bounds[-1]
    rules = [e["bottom"] for e in page.vertical_edges if e["top"] <= last_top <= e["bottom"]
             and x0 - 2 <= e["x0"] <= x1 + 2]
    if len(rules) >= 3:
        return max(rules)
    bottom = last_top
    for line in lines:
        if line[0] >= last_top - 0.5 and line[0] - bottom <= END_GAP_PT:
            bottom = max(bottom, line[1])
    for obj in [*page.rects, *page.curves, *page.lines]:
        if x0 <= obj["x0"] and obj["x1"] <= x1 and last_top - 5 <= obj["top"] <= bottom + END_GAP_PT:
            bottom = max(bottom, obj["bottom"])
    return bottom + 2


def word_bounds(words: list[dict[str, Any]], top: float, keyword_bottom: float, kegiatan_x: float) -> list[float]:
    """Column boundaries (x, pt) of a table with no vertical rules, from its header and body words.

    The header ends above the first number left of the Kegiatan title (the No column).
    """
    first = min((w["top"] for w in words if _NUMBER.match(w["text"]) and w["x1"] < kegiatan_x
                 and w["top"] > keyword_bottom), default=keyword_bottom + 30)
    band = [w for w in words if top - 2 <= w["top"] and w["bottom"] <= min(first - 0.5, keyword_bottom + 30)
            and not _SPANNING.match(w["text"])]
    titles = [w for w in band if _TITLE.match(w["text"])]
    kegiatan_end = max((w["x1"] for w in titles if _KEGIATAN.match(w["text"])), default=kegiatan_x)
    mutu_start = min((w["x0"] for w in titles if w["x0"] > kegiatan_end and not _KEGIATAN.match(w["text"])),
                     default=1e9)
    # the titles, and the Pelaksana names between Kegiatan and the Mutu Baku titles (text of a centred
    # first row reaching up beside the names is not a column)
    header = [w for w in band if w in titles or kegiatan_end < w["x0"] and w["x1"] < mutu_start]
    groups: list[list[float]] = []
    for word in sorted(header, key=lambda w: w["x0"]):
        space = max(2.0, 0.45 * (word["bottom"] - word["top"]))  # a word space is about 0.28 em
        if groups and word["x0"] <= groups[-1][1] + space:
            groups[-1][1] = max(groups[-1][1], word["x1"])
        else:
            groups.append([word["x0"], word["x1"]])
    if len(groups) < 5:
        return []
    body = [w for w in words if w["top"] > keyword_bottom + 2 and groups[0][0] - 30 <= w["x0"]
            and w["x1"] <= groups[-1][1] + 30]
    bounds = [min([groups[0][0], *(w["x0"] for w in body if w["x1"] <= groups[1][0])]) - 3]
    for left, right in zip(groups, groups[1:], strict=False):
        bounds.append(_free_middle(body, left[1], right[0]))
    bounds.append(max([groups[-1][1], *(w["x1"] for w in body if w["x0"] >= groups[-2][1])]) + 3)
    return bounds


def _free_middle(body: list[dict[str, Any]], a: float, b: float) -> float:
    """The middle of the widest stretch of [a, b] that no body word covers (or of [a, b])."""
    covered = sorted((max(a, w["x0"]), min(b, w["x1"])) for w in body if w["x1"] > a and w["x0"] < b)
    best, cursor = (0.0, (a + b) / 2), a
    for lo, hi in covered:
        if lo - cursor > best[0]:
            best = (lo - cursor, (cursor + lo) / 2)
        cursor = max(cursor, hi)
    if b - cursor > best[0]:
        best = (b - cursor, (cursor + b) / 2)
    return best[1]
