"""Waktu: the standard duration of an SOP step (Mutu Baku column "Waktu").

An SOP-AP table (PermenPAN-RB 35/2012) gives each step a Waktu such as
"15 menit", "2 Jam", "3 hari" or "1 Minggu". This module parses that text and
maps it to ISO 8601 durations as the BPMN files store them
(`alur:mutuBaku waktu="PT30M" waktuText="30 menit"`):

    menit -> PT{n}M     jam -> PT{n}H     hari -> P{n}D     minggu -> P{n}W

"hari" and "minggu" are working days and working weeks (hari kerja); turning a
Waktu into a due time is the job of `engine.calendar.WorkCalendar.add`.

Pure functions and data classes: no SpiffWorkflow, Flask or database here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal, get_args

from storage.errors import CalendarError

__all__ = ["Unit", "Waktu", "parse_waktu"]

Unit = Literal["menit", "jam", "hari", "minggu"]

_UNITS: tuple[str, ...] = get_args(Unit)
_UNIT_BY_NAME: dict[str, Unit] = {"menit": "menit", "jam": "jam", "hari": "hari", "minggu": "minggu"}

# "15 menit", "30 Menit", " 2  Jam ", "1 Minggu"; \s also matches no-break spaces.
_TEXT_RE = re.compile(r"^\s*(\d{1,6})\s*(menit|jam|hari|minggu)\s*$", re.IGNORECASE)

# ISO 8601 designators Alur writes; anything else (P1M, PT1H30M, P1Y) is refused.
_ISO_RE = re.compile(r"^P(?:T(\d{1,6})([MH])|(\d{1,6})([DW]))$")
_ISO_TO_UNIT: dict[str, Unit] = {"M": "menit", "H": "jam", "D": "hari", "W": "minggu"}
_UNIT_TO_ISO: dict[str, tuple[str, str]] = {
    "menit": ("PT", "M"),
    "jam": ("PT", "H"),
    "hari": ("P", "D"),
    "minggu": ("P", "W"),
}


@dataclass(frozen=True)
class Waktu:
    """A Waktu: a positive whole amount of one unit, plus the text it came from.

    `amount` is > 0; `unit` is one of menit, jam, hari (working days) or minggu
    (working weeks). `text` is the source wording with whitespace collapsed
    ("30 Menit"); it does not take part in equality, so
    `parse_waktu("30 Menit") == Waktu.from_iso("PT30M")`.
    """

    amount: int
    unit: Unit
    text: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if self.unit not in _UNITS:
            raise CalendarError(f"Satuan waktu tidak dikenali: {self.unit!r} (unknown unit)")
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount <= 0:
            raise CalendarError(
                f"Jumlah waktu harus bilangan bulat positif: {self.amount!r} "
                "(amount must be a positive integer)"
            )
        if not self.text:
            object.__setattr__(self, "text", f"{self.amount} {self.unit}")

    @property
    def iso(self) -> str:
        """ISO 8601 duration: "PT15M", "PT1H", "P3D" or "P1W"."""
        prefix, designator = _UNIT_TO_ISO[self.unit]
        return f"{prefix}{self.amount}{designator}"

    @classmethod
    def from_iso(cls, iso: str, text: str | None = None) -> Waktu:
        """Build a Waktu from the ISO 8601 duration stored in a BPMN file.

        Accepts exactly one designator: PT{n}M, PT{n}H, P{n}D, P{n}W (n > 0).
        `text` is the original wording (`waktuText`); default "{n} {unit}".
        Raises CalendarError for any other form (months, years, combinations).
        """
        match = _ISO_RE.match(iso.strip()) if isinstance(iso, str) else None
        if match is None:
            raise CalendarError(f"Durasi ISO 8601 tidak dikenali: {iso!r} (unsupported duration)")
        amount_text = match.group(1) or match.group(3)
        designator = match.group(2) or match.group(4)
        return cls(amount=int(amount_text), unit=_ISO_TO_UNIT[designator], text=text or "")

    def __str__(self) -> str:
        return self.text


def parse_waktu(text: str) -> Waktu:
    """Parse the Waktu cell of an SOP row: "<whole number> <menit|jam|hari|minggu>".

    Case and surrounding/inner whitespace are ignored ("30 Menit", " 2  Jam ").
    Returns a Waktu whose `text` keeps the source's case with whitespace collapsed.
    Raises CalendarError for empty cells, other units (bulan, tahun), fractions,
    or an amount of zero.
    """
    if not isinstance(text, str):
        raise CalendarError(f"Waktu tidak dikenali: {text!r} (expected text)")
    match = _TEXT_RE.match(text)
    if match is None:
        raise CalendarError(f"Waktu tidak dikenali: {text!r} (unrecognised duration)")
    amount = int(match.group(1))
    unit = _UNIT_BY_NAME[match.group(2).lower()]
    return Waktu(amount=amount, unit=unit, text=" ".join(text.split()))
