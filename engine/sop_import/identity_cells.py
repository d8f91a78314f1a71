"""The identity part of an SOP-AP table read from cells: XLSX rows, or TSV/text lines split at tabs.

Permenpan RB 35/2012's identity part: Nomor SOP, Tanggal Pembuatan, Tanggal Revisi,
Tanggal Efektif, Disahkan oleh (jabatan, then the name and NIP below it), Nama SOP,
and the lists Dasar Hukum, Kualifikasi Pelaksana, Keterkaitan, Peralatan/Perlengkapan,
Peringatan, Pencatatan dan Pendataan (``alur:sop`` children). A field's value is after
the colon in its own cell, or in the next non-empty cell of the row; a list's entries
are in the cell to its right or in the cells below (one per line or per cell, the
numbering dropped, an unnumbered line continuing the entry above it).

A text copy of a two-column layout (``../shared/domain.md``, "What the text copies
lost") puts two labels one after the other and then both lists: :func:`paired_lists`
splits such a block where the numbering starts again at 1 (or a numbered list follows
an unnumbered one), and says the split is a guess.
"""

from __future__ import annotations

import re

__all__ = ["LIST_LABELS", "header_lists", "identity_fields", "is_list_label", "paired_lists", "sop_name"]

LIST_LABELS = {"dasar hukum": "dasarHukum", "kualifikasi pelaksana": "kualifikasiPelaksana",
               "keterkaitan": "keterkaitan", "peralatan": "peralatan", "peringatan": "peringatan",
               "pencatatan": "pencatatan"}
_LABEL_TEXT = {"dasarHukum": "Dasar Hukum", "kualifikasiPelaksana": "Kualifikasi Pelaksana",
               "keterkaitan": "Keterkaitan", "peralatan": "Peralatan/Perlengkapan", "peringatan": "Peringatan",
               "pencatatan": "Pencatatan dan Pendataan"}
_FIELDS = ("Nomor SOP", "Tanggal Pembuatan", "Tanggal Revisi", "Tanggal Efektif", "Disahkan oleh")
_NIP = re.compile(r"\bNIP\.?\s*:?\s*([\d ]{8,30})", re.IGNORECASE)
_NUMBER = re.compile(r"^\s*(\d{1,2})\s*[.)]\s*")


def is_list_label(cell: str) -> bool:
    """Whether ``cell`` is a list label ("Dasar Hukum:", "Peralatan / perlengkapan :", ...)."""
    label = cell.partition(":")[0].strip().casefold()
    return any(label.startswith(k) for k in LIST_LABELS)


def _list_key(cell: str) -> str | None:
    label = cell.partition(":")[0].strip().casefold()
    return next((v for k, v in LIST_LABELS.items() if label.startswith(k)), None)


def _value(row: list[str], index: int, label: str) -> str:
    """The value of the field whose label starts cell ``index``: after the colon, or in a cell to the right."""
    rest = row[index][len(label):].strip().lstrip(":").strip()
    if rest:
        return rest
    return next((c.strip() for c in row[index + 1:] if c.strip() and c.strip() != ":"), "")


def sop_name(rows: list[list[str]]) -> str | None:
    """The Nama SOP field's value, if the rows hold one."""
    for row in rows:
        for i, cell in enumerate(row):
            if re.match(r"^\s*nama\s+sop\b", cell, re.IGNORECASE):
                value = _value(row, i, cell[:cell.casefold().index("sop") + 3].lstrip())
                if value and not is_list_label(value):
                    return " ".join(value.split())
    return None


def identity_fields(rows: list[list[str]]) -> dict[str, str]:
    """Nomor SOP, Tanggal Pembuatan/Revisi/Efektif, Disahkan oleh, and the signer's name and NIP.

    The name is the cell above the NIP in the NIP's column (or the row's first text), when
    that row is not a field of its own.
    """
    found: dict[str, str] = {}
    for r, row in enumerate(rows):
        for i, cell in enumerate(row):
            stripped = cell.strip()
            for field in _FIELDS:
                if stripped.casefold().startswith(field.casefold()) and field not in found:
                    value = _value(row, i, stripped[:len(field)])
                    if value and value != "-":
                        found[field] = " ".join(value.split())
            nip = _NIP.search(stripped)
            if nip and "NIP" not in found:
                found["NIP"] = re.sub(r"\s", "", nip.group(1))
                above = rows[r - 1] if r else []
                candidate = (above[i].strip() if i < len(above) else "") or next(
                    (c.strip() for c in above if c.strip()), "")
                if candidate and not any(candidate.casefold().startswith(f.casefold()) for f in _FIELDS) \
                        and not is_list_label(candidate) and candidate != ":":
                    found["Nama pengesah"] = " ".join(candidate.split())
    return found


def _entries(texts: list[str]) -> list[str]:
    """Numbered list entries from lines; an unnumbered line after a numbered one continues it."""
    entries: list[str] = []
    numbered = False
    for line in (line for text in texts for line in text.splitlines()):
        if not line.strip():
            continue
        number = _NUMBER.match(line)
        text = " ".join(line[number.end():].split()) if number else " ".join(line.split())
        if number or not entries or not numbered:
            entries.append(text)
            numbered = bool(number)
        else:
            entries[-1] = f"{entries[-1]} {text}"
    return entries


def header_lists(rows: list[list[str]]) -> dict[str, list[str]]:
    """Dasar Hukum, Kualifikasi Pelaksana, ...: a label cell, its entries after the colon, in the cell
    to its right or in the cells below it (until an empty cell or another label)."""
    found: dict[str, list[str]] = {}
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            key = _list_key(cell)
            if key is None or key in found:
                continue
            rest = cell.partition(":")[2]
            texts = [rest] if rest.strip() else []
            if not texts and c + 1 < len(row) and row[c + 1].strip() not in ("", ":") \
                    and not is_list_label(row[c + 1]):
                texts = [row[c + 1]]
            if not texts and c + 2 < len(row) and row[c + 1].strip() == ":" and row[c + 2].strip():
                texts = [row[c + 2]]
            beside = bool(texts)
            for below in rows[r + 1:]:
                if beside or c >= len(below) or not below[c].strip() or is_list_label(below[c]):
                    break
                texts.append(below[c])
            entries = _entries(texts)
            if entries:
                found[key] = entries
    return found


def paired_lists(lines: list[str]) -> tuple[dict[str, list[str]], list[tuple[tuple[str, ...], str]]]:
    """Lists of a text copy that lost its two columns: ``label, label, entries...`` blocks.

    Each block of entries after two labels is split where a numbered list starts
    again at 1 or a numbered list follows unnumbered text (or, for two unnumbered
    paragraphs, at the blank line between them); the first part goes to the first
    label. Returns the lists and, per split, its keys and a note (a guess the analyst confirms).
    """
    items: list[tuple[str, str | None]] = []   # ("label", key) | ("text", line) | ("blank", None)
    for line in lines:
        text = line.strip()
        key = _list_key(text) if text and len(text) < 60 else None
        if key is not None and not text.partition(":")[2].strip():
            items.append(("label", key))
        elif text:
            items.append(("text", text))
        elif items and items[-1][0] != "blank":
            items.append(("blank", None))
    found: dict[str, list[str]] = {}
    notes: list[tuple[tuple[str, ...], str]] = []
    index = 0
    while index < len(items):
        if items[index][0] != "label":
            index += 1
            continue
        labels = []
        while index < len(items) and items[index][0] in ("label", "blank"):
            if items[index][0] == "label":
                labels.append(items[index][1])
            index += 1
        block: list[tuple[str, str | None]] = []
        while index < len(items) and items[index][0] != "label":
            block.append(items[index])
            index += 1
        groups = _split(block, len(labels))
        for key, group in zip(labels, groups, strict=False):
            entries = _entries(group)
            if key is not None and entries and key not in found:
                found[key] = entries
        names = tuple(k for k in labels if k)
        if len(names) > 1:
            listed = " dan ".join(_LABEL_TEXT[k] for k in names)
            notes.append((names, f"Daftar {listed} dipisah menurut penomoran (tata letak dua kolom hilang)"))
    return found, notes


def _split(block: list[tuple[str, str | None]], parts: int) -> list[list[str]]:
    """Split a block of lines into ``parts`` lists (see :func:`paired_lists`)."""
    groups: list[list[str]] = [[]]
    numbered = False
    paragraph_ended = False
    for kind, text in block:
        if kind == "blank" or text is None:
            paragraph_ended = True
            continue
        number = _NUMBER.match(text)
        restart = bool(number) and number is not None and number.group(1) == "1" and bool(groups[-1])
        unnumbered_next = not number and not numbered and paragraph_ended and bool(groups[-1])
        starts_numbered = bool(number) and not numbered and bool(groups[-1])
        if len(groups) < parts and (restart or starts_numbered or unnumbered_next):
            groups.append([])
        groups[-1].append(text)
        if number:
            numbered = True
        elif not groups[-1][:-1]:
            numbered = False
        paragraph_ended = False
    return groups
