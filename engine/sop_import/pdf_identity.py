"""The words of an SOP-AP PDF outside the table: the identity part and the header lists.

Nomor SOP, Tanggal Pembuatan/Revisi/Efektif, Disahkan oleh (with the name and NIP below
it), Nama SOP (wrapped over lines), and the numbered lists under Dasar Hukum,
Kualifikasi Pelaksana, Keterkaitan, Peralatan/Perlengkapan, Peringatan, Pencatatan dan
Pendataan (two columns side by side, entries wrapping over lines). Also the text helpers
the table reader shares: words into lines, wrapped lines into one text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

__all__ = ["identity_part", "join_wrapped", "text_lines"]

_IDENTITY = ("Nomor SOP", "Tanggal Pembuatan", "Tanggal Revisi", "Tanggal Efektif", "Disahkan oleh", "Nama SOP")
_HEADER_LISTS = {"dasar hukum": "dasarHukum", "kualifikasi pelaksana": "kualifikasiPelaksana",
                 "keterkaitan": "keterkaitan", "peralatan": "peralatan", "peringatan": "peringatan",
                 "pencatatan": "pencatatan"}


def text_lines(words: Iterable[dict[str, Any]]) -> list[str]:
    """Words grouped into lines (by top, 2 pt tolerance), each line left to right."""
    lines: list[list[dict[str, Any]]] = []
    for word in sorted(words, key=lambda w: (w["top"], w["x0"])):
        if lines and abs(lines[-1][0]["top"] - word["top"]) <= 2:
            lines[-1].append(word)
        else:
            lines.append([word])
    return [" ".join(w["text"] for w in sorted(line, key=lambda w: w["x0"])) for line in lines]


def join_wrapped(lines: list[str]) -> str:
    """A cell's wrapped lines as one text: no space where a line broke after "/" or inside a
    hyphenated word ("surat/" + "dokumen", "masing-" + "masing")."""
    text = ""
    for line in lines:
        if text and (text.endswith("/") or (text.endswith("-") and text[-2:-1].isalpha() and line[:1].islower())):
            text += line
        else:
            text = f"{text} {line}" if text else line
    return text


def _continued(lines: list[list[dict[str, Any]]], index: int, value: str) -> list[str]:
    """Lines below an identity value that continue it (wrapped in its cell): starting where it starts."""
    count = len(value.split())
    line = lines[index]
    found: list[str] = []
    if count > len(line) or line[len(line) - count]["text"] != value.split()[0]:
        return found
    start = line[len(line) - count]["x0"]
    for line in lines[index + 1:index + 4]:
        here = [w for w in line if w["x0"] >= start - 2]
        text = " ".join(w["text"] for w in here)
        if not here or abs(here[0]["x0"] - start) > 2 or re.match(r"^nip\b", text, re.IGNORECASE) or any(
                label.casefold() in " ".join(w["text"] for w in line).casefold() for label in _IDENTITY):
            break
        if line[0]["x0"] < start - 2:       # a label cell on this line: another field
            break
        found.append(text)
    return found


def _header_label(line: list[dict[str, Any]], index: int) -> str | None:
    """The ``alur:sop`` child a header label starting at word ``index`` names ("Dasar Hukum:" ...)."""
    text = " ".join(w["text"] for w in line[index:index + 3]).casefold()
    if index and line[index - 1]["text"].casefold().startswith(("kualifikasi", "pencatatan")):
        return None
    return next((v for k, v in _HEADER_LISTS.items() if text.startswith(k)), None)


def identity_part(pages: list[list[dict[str, Any]]]) -> tuple[str | None, dict[str, str], dict[str, list[str]]]:
    """Nama SOP, identity fields and header lists from the words above the table."""
    identity: dict[str, str] = {}
    header: dict[str, list[str]] = {}
    name = None
    for words in pages:
        lines: list[list[dict[str, Any]]] = []
        for word in sorted(words, key=lambda w: (w["top"], w["x0"])):
            if lines and abs(lines[-1][0]["top"] - word["top"]) <= 2:
                lines[-1].append(word)
            else:
                lines.append([word])
        for line in lines:
            line.sort(key=lambda w: w["x0"])
        for index, line in enumerate(lines):
            text = " ".join(w["text"] for w in line)
            for label in _IDENTITY:
                position = text.casefold().find(label.casefold())
                if position < 0 or label in identity:
                    continue
                rest = text[position + len(label):].strip(" :")
                rest = re.split(r"\s{2,}|(?=\b(?:" + "|".join(_IDENTITY) + r")\b)", rest)[0].strip(" :")
                if rest and rest != "-":
                    wrapped = _continued(lines, index, rest) if label == "Nama SOP" else []
                    identity[label] = join_wrapped([rest, *wrapped])
        labels = [(index, word_index, key) for index, line in enumerate(lines)
                  for word_index, word in enumerate(line)
                  for key in [_header_label(line, word_index)] if key is not None]
        for index, word_index, key in labels:
            x = lines[index][word_index]["x0"]
            right = min((lines[i][w]["x0"] for i, w, _ in labels if i == index and lines[i][w]["x0"] > x + 5),
                        default=10_000.0)
            below = [j for j, _, _ in labels if j > index and any(
                x - 5 <= lines[j][w]["x0"] < right for jj, w, _ in labels if jj == j)]
            stop = min(below, default=len(lines))
            entries: list[str] = []
            numbered_x: float | None = None
            for follow in lines[index + 1:stop]:
                entry = sorted((w for w in follow if x - 2 <= w["x0"] < right - 2), key=lambda w: w["x0"])
                if not entry:
                    continue
                text = " ".join(w["text"] for w in entry)
                number = re.match(r"^\d+\s*[.)]\s*", text)
                if number:
                    numbered_x = entry[0]["x0"]
                    entries.append(text[number.end():])
                elif entries and (numbered_x is None or entry[0]["x0"] > numbered_x + 3):
                    entries[-1] = join_wrapped([entries[-1], text])
                elif not entries:
                    entries.append(text)
                else:
                    break
            if entries:
                header.setdefault(key, []).extend(entries)
        for index, line in enumerate(lines):
            text = " ".join(w["text"] for w in line)
            nip = re.search(r"\bNIP\.?\s*:?\s*([\d ]{8,30})", text)
            if nip and "NIP" not in identity:
                identity["NIP"] = re.sub(r"\s", "", nip.group(1))
                start = next(w["x0"] for w in line if w["text"].upper().startswith("NIP"))
                above = [w for w in lines[index - 1] if abs(w["x0"] - start) < 60 or w["x0"] > start] if index else []
                candidate = " ".join(w["text"] for w in above if w["x0"] >= start - 2)
                if candidate and not any(label.casefold() in candidate.casefold() for label in _IDENTITY):
                    identity["Nama pengesah"] = candidate
    if "Nama SOP" in identity:
        name = identity.pop("Nama SOP")
    return name, identity, header
