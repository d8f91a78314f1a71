"""Match a Keterangan that cites another SOP against the deployed SOPs, by name.

SOP-AP tables cite the SOP that carries a step out in Keterangan ("SOP Pengiriman",
"SOP pengadministrasi umum", "Lihat SOP-2-17/17000/2024"). A citation becomes a
call activity only to an SOP that is deployed; the match is fuzzy (abbreviated
names, typos) and always reported with its score, so an analyst can confirm it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from difflib import SequenceMatcher

__all__ = ["Citation", "cite", "fits_dispatch", "is_order_row", "match_sop"]

_CITE = re.compile(r"(?:^|\blihat\s+|\bsesuai\s+)(SOP\b.*)$", re.IGNORECASE)
_NUMBER = re.compile(r"\bSOP[-\s]?\d[\w./-]*", re.IGNORECASE)
_STOP = {"sop", "dan", "atau", "yang", "di", "ke", "dari", "untuk", "lihat", "sesuai", "tentang"}
_DISPATCH = re.compile(r"\b(?:mengagenda\w*|menggandakan|mendistribusikan|pendistribusian|mengirim\w*|"
                       r"pengiriman|ekspedisi)\b", re.IGNORECASE)
_ORDER = re.compile(r"^\s*(?:memerintah(?:kan)?|menugaskan)\b", re.IGNORECASE)
THRESHOLD = 0.75


@dataclass(frozen=True)
class Citation:
    """What a Keterangan cites: an SOP name (``text``) or an SOP number (``number``)."""

    text: str
    number: str | None


def cite(keterangan: str | None) -> Citation | None:
    """The SOP a Keterangan cites, or None when it cites none.

    Only a Keterangan that is itself a citation counts ("SOP Pengiriman", "Lihat
    SOP-2-17/..."): a formula that mentions "SOP pemrosesan" in passing does not.
    """
    if not keterangan:
        return None
    text = " ".join(keterangan.split())
    number = _NUMBER.search(text)
    match = _CITE.search(text)
    if match is None or len(match.group(1).split()) > 8 or ":" in text:
        return None
    return Citation(match.group(1), number.group(0) if number else None)


def _words(name: str) -> list[str]:
    return [w for w in re.findall(r"[a-z0-9]+", name.casefold()) if w not in _STOP]


def _word_score(word: str, candidates: list[str]) -> float:
    return max((SequenceMatcher(None, word, c).ratio() for c in candidates), default=0.0)


def match_sop(citation: str, known: Mapping[str, str]) -> tuple[str, float] | None:
    """The deployed SOP ``{process id: name}`` best matching a cited name, with a score 0..1.

    Score: every cited word must find a close word in the SOP's name (typos and
    derivations: "pengadministrasi" ~ "pengadministrasian"); the cited words may be
    fewer ("SOP Pengiriman" ~ "SOP Pengiriman Surat/Dokumen"). None below 0.75.
    """
    words = _words(citation)
    if not words:
        return None
    best: tuple[str, float] | None = None
    for process_id, name in sorted(known.items()):
        target = _words(name)
        if not target:
            continue
        forward = sum(_word_score(w, target) for w in words) / len(words)
        coverage = sum(_word_score(w, words) for w in target) / len(target)
        score = 0.85 * forward + 0.15 * coverage
        if best is None or score > best[1]:
            best = (process_id, score)
    return best if best is not None and best[1] >= THRESHOLD else None


def is_order_row(kegiatan: str) -> bool:
    """True for a row that only orders ("Memerintahkan ...", "Menugaskan ..."): it never calls."""
    return bool(_ORDER.match(kegiatan))


def fits_dispatch(kegiatan: str, sop_name: str) -> bool:
    """A dispatch SOP (Pengiriman) is called only by the row that dispatches, not by the order to
    dispatch nor by an unrelated row the Keterangan stands on (bpmn/SOURCES.md, "Calls")."""
    if not re.search(r"pengiriman", sop_name, re.IGNORECASE):
        return True
    return bool(_DISPATCH.search(kegiatan)) and not is_order_row(kegiatan)
