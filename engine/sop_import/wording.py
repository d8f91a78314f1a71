"""Reading an SOP-AP row's wording: decisions, role names, and the lane rules of bpmn/SOURCES.md.

When the tick marks or symbols of the Pelaksana columns are lost (a text copy), the
performer of a step is read from its wording and its neighbours with the rules
written down in ``bpmn/SOURCES.md`` ("Who performs a step", rules 1-7). Every lane
found this way is an inference: the caller marks it "perlu dikonfirmasi".
The same module finds decision rows ("jika setuju ... jika tidak ...") and the role
a "Tidak" goes back to, from the wording (SOURCES.md, "Review loops").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["LaneRoles", "infer_lanes", "is_paraf_only", "is_review", "resolve_role",
           "split_decision", "tidak_role_text"]

_REVIEW = re.compile(
    r"jika\s+(?:ya|setuju|benar|sudah\s+benar)\b|jika\s+tidak\b|bila\s+belum|jika\s+masih\s+terdapat\s+kesalahan"
    r"|jika\s+butuh\s+perbaikan|apabila\s+(?:tidak|setuju)", re.IGNORECASE)
_TIDAK = re.compile(r"(?:jika|bila|apabila)\s+(?:tidak|belum|masih\s+terdapat|butuh)\b", re.IGNORECASE)
_HEAD_WORDS = re.compile(r"^(?:kabag|kadin|camat|kepala\s+(?!bidang|sub|seksi|bagian\s+umum)\w+|kepala\s+skpd|"
                         r"kepala\s+bps|direktur|bupati|walikota|lurah|kepala)\b", re.IGNORECASE)
_SIGN = re.compile(r"^(?:menerima\s+dan\s+)?(?:memberi\s+tanda\s*tangan|memberikan\s+tanda\s*tangan|"
                   r"menandatangani|menanda\s+tangani|mengesahkan)", re.IGNORECASE)
_ORDER = re.compile(r"^(?:memerintah(?:kan)?|memberikan\s+tugas|memberi\s+tugas|mendisposisi)", re.IGNORECASE)
_ORDERED = re.compile(r"(?:memerintah(?:kan)?|menugaskan)\s+(.{2,60}?)(?:\s+untuk\b|\s+(?=me\w+))", re.IGNORECASE)
_HANDOVER = re.compile(r"(?:^laporan\s+\S+|melaporkan|diserahkan|menyerahkan|diajukan|dinaikkan|diasistensikan|"
                       r"diteruskan|disampaikan|diberikan|menyampaikan)\s+(?:\S+\s+){0,4}?(?:ke|kepada)\s+(?:masing-(?:masing|2)\s+)?"
                       r"(.{2,50})", re.IGNORECASE)
_PARAF = re.compile(r"\b(?:memberi\s+paraf|memaraf|diparaf)\b", re.IGNORECASE)
_FORM_TEAM = re.compile(r"^(?:membentuk|mengumpulkan)\s+tim\b", re.IGNORECASE)
_TYPE = re.compile(r"(?<!untuk )\bmengetik\b", re.IGNORECASE)
_FOR_SIGNATURE = re.compile(r"ditandatangani|tanda\s*tangan", re.IGNORECASE)
_GATHER = re.compile(r"^(?:menghimpun|mengumpulkan\s+bahan|mengolah\s+data)", re.IGNORECASE)
_TEAM_WORK = re.compile(r"^(?:menyusun|merumuskan|mencatat)\b", re.IGNORECASE)
_DISPATCH = re.compile(r"\b(?:mengagenda\w*|menggandakan|mendistribusikan|pendistribusian|mengirim\w*)\b",
                       re.IGNORECASE)
_ORDER_STAFF = re.compile(r"memerintah(?:kan)?\s+staf", re.IGNORECASE)


def is_review(text: str) -> bool:
    """True for a decision row ("jika setuju ... jika tidak ...", "jika sudah benar ... bila belum")."""
    return bool(_REVIEW.search(text))


def split_decision(text: str) -> tuple[str, str]:
    """Split a decision row into its Ya part and its Tidak part (the latter may be empty)."""
    match = _TIDAK.search(text)
    if match is None:
        return text, ""
    return text[:match.start()], text[match.start():]


def tidak_role_text(text: str) -> str:
    """The part of a decision row naming where "Tidak" goes ("" when the row does not say)."""
    return split_decision(text)[1]


def is_paraf_only(text: str) -> bool:
    """True for a pure paraf/hand-over row ("Memberi paraf dan menyerahkan ..."), which cannot correct work."""
    return bool(re.match(r"^\s*(?:memberi|membubuhkan)\s+paraf", text, re.IGNORECASE))


@dataclass(frozen=True)
class LaneRoles:
    """What each Pelaksana column is: head of office, Sekretaris, Kasubag..., Staf, Tim."""

    names: tuple[str, ...]

    def _find(self, pattern: str) -> list[int]:
        return [i for i, n in enumerate(self.names) if re.search(pattern, n, re.IGNORECASE)]

    @property
    def head(self) -> int | None:
        """The head of office (Kabag, Kadin, Camat, Kepala SKPD, ...)."""
        found = [i for i, n in enumerate(self.names) if _HEAD_WORDS.match(n.strip())]
        return found[0] if found else None

    @property
    def sekretaris(self) -> int | None:
        """The Sekretaris (of the Dinas or Kecamatan), not a team's secretary."""
        found = self._find(r"^sekretaris\b")
        return found[0] if found else None

    @property
    def staf(self) -> int | None:
        """The staff column."""
        found = self._find(r"^staf")
        return found[0] if found else None

    @property
    def team(self) -> int | None:
        """The Tim column."""
        found = self._find(r"^tim\b")
        return found[0] if found else None

    def kasubag(self, dispatch: bool) -> int | None:
        """The Kasubag/Kasi column: the one for general affairs (Umum) when ``dispatch``."""
        found = self._find(r"kasubag|ka\.?\s?sub\s?ag|kasi\b|sub\s+bagian|kepala\s+seksi|kasubbag")
        if not found:
            return None
        umum = [i for i in found if re.search(r"umum", self.names[i], re.IGNORECASE)]
        other = [i for i in found if i not in umum]
        if dispatch and umum:
            return umum[0]
        return other[0] if other else found[0]


def resolve_role(phrase: str, roles: LaneRoles, *, dispatch: bool = False) -> int | None:
    """The column a role phrase names ("Kasubag Evapor", "staf", "KABID", "Anggota Tim"), or None.

    Exact and longest lane-name prefixes win; then the role words (Kasubag → the
    Kasubag column, the Umum one for dispatch work; Sek./Sekretaris; Staf; Tim).
    """
    text = re.sub(r"\s+", " ", phrase.casefold()).strip(" .,:;")
    names = [re.sub(r"\s+", " ", n.casefold()) for n in roles.names]
    best = max((i for i, n in enumerate(names) if text.startswith(n)), key=lambda i: len(names[i]), default=None)
    if best is not None:
        return best
    if re.match(r"(?:kepala\s+(?:dinas|skpd|bagian(?!\s+umum)|kantor|badan)|kadin|kabag|camat|pimpinan)\b", text):
        return roles.head
    if re.match(r"(?:kabid|kepala\s+bidang)\b", text):
        found = roles._find(r"kabid|kepala\s+bidang")
        return found[0] if found else None
    if re.match(r"(?:kasubag|kasubang|ka\.?\s?sub|kasi|subag|kepala\s+sub)", text):
        return roles.kasubag(dispatch)
    if re.match(r"sekretaris\b", text):
        return roles.sekretaris
    if re.match(r"(?:pegawai\s+)?fungsional", text):
        found = roles._find(r"fungsional")
        return found[0] if found else None
    if re.match(r"(?:staf|pegawai\b)", text):
        return roles.staf
    if re.match(r"(?:anggota\s+)?tim\b", text):
        return roles.team
    return None


def _named_actor(text: str, roles: LaneRoles) -> int | None:
    """Rule 1: the row names its actor ("Kabag memerintahkan ...", "Laporan Kasubag kepada ...")."""
    head = re.sub(r"^laporan\s+", "", text.strip(), flags=re.IGNORECASE)
    words = head.split()
    if not words or re.match(r"^me", words[0], re.IGNORECASE):
        return None
    return resolve_role(" ".join(words[:5]), roles)


def _lane_for(index: int, texts: Sequence[str], done: Sequence[int | None], roles: LaneRoles) -> int | None:
    """One row's lane by the rules of bpmn/SOURCES.md, given the lanes of the rows before it."""
    text = texts[index].strip()
    prev_text = texts[index - 1] if index else ""
    prev = done[index - 1] if index else None
    dispatch = bool(_DISPATCH.search(text))
    named = _named_actor(text, roles)
    if named is not None:
        return named
    if _ORDER_STAFF.search(text) and not _SIGN.match(text):
        superior = roles.kasubag(dispatch)
        return superior if superior is not None else prev
    if _SIGN.match(text) or (_ORDER.match(text) and (index == 0 or prev == roles.head)):
        return roles.head
    if _PARAF.search(text) and not is_review(text):
        ya_prev = split_decision(prev_text)[0] if is_review(prev_text) else ""
        if is_paraf_only(text) and _PARAF.search(ya_prev) and not _FOR_SIGNATURE.search(text):
            return prev
        return roles.sekretaris if roles.sekretaris is not None else roles.kasubag(False)
    if index:
        ordered = _ORDERED.search(prev_text)
        if ordered:
            found = resolve_role(ordered.group(1), roles, dispatch=dispatch)
            if found is not None:
                return found
    if index:
        ya_part = split_decision(prev_text)[0]
        handover = _HANDOVER.search(ya_part)
        if handover:
            found = resolve_role(handover.group(1), roles, dispatch=dispatch)
            if found is not None and found != prev or (found is not None and is_review(prev_text)):
                return found
    if is_review(text) and index:
        earlier = next((done[j] for j in range(index - 1, -1, -1) if done[j] not in (prev, None)), None)
        return earlier if earlier is not None else prev
    if _FORM_TEAM.match(text):
        if roles.sekretaris is not None:
            return roles.sekretaris
        return 1 if len(roles.names) > 1 else 0
    if _TYPE.search(text) and roles.staf is not None:
        return roles.staf
    if _GATHER.match(text):
        return roles.kasubag(False) if roles.kasubag(False) is not None else prev
    if _TEAM_WORK.match(text) and roles.team is not None:
        return roles.team
    if dispatch and index:
        if prev == roles.head and roles.kasubag(True) is not None:
            return roles.kasubag(True)
        return roles.staf if roles.staf is not None else prev
    if index and prev == roles.head:
        if roles.sekretaris is not None:
            return roles.sekretaris
    if index == 0:
        return roles.head if _ORDER.match(text) else 0
    return prev


def infer_lanes(texts: Sequence[str], lane_names: Sequence[str],
                known: Sequence[int | None] | None = None) -> list[int | None]:
    """The lane (column index) of each row from its wording and neighbours (SOURCES.md rules).

    ``known`` gives the lanes already read from marks or symbols (None where lost);
    those are kept and serve as neighbours. Returns one index per row (None only
    when there are no lanes).
    """
    roles = LaneRoles(tuple(lane_names))
    done: list[int | None] = []
    for index in range(len(texts)):
        given = known[index] if known is not None and index < len(known) else None
        done.append(given if given is not None else (_lane_for(index, texts, done, roles) if lane_names else None))
    return done
