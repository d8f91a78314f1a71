"""ISO 8601 timer values of BPMN timer events, parsed strictly.

BPMN 2.0 (section 10.5.5, ``tTimerEventDefinition``) gives a timer one of
``timeDate`` (a point in time), ``timeDuration`` (a duration) or ``timeCycle``
(a repeating interval), each a ``tFormalExpression``; Alur accepts only ISO 8601
literals there (ISO 8601-1:2019, 5.5 durations, 5.6 repeating intervals), never
an expression. Parsing is :mod:`isodate`'s, behind a strict shape check (it
accepts ``PT`` alone or ``P1DT`` as zero or one day).

Deploy parses every timer value so that a malformed one gets its own message
(:mod:`engine.deploy_checks`); ``alur worker`` executes the valid ones
(:mod:`engine.timer_events`).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import isodate

__all__ = ["TIMER_KINDS", "TimerValueError", "parse_timer"]

TIMER_KINDS = ("timeDate", "timeDuration", "timeCycle")

_DURATION = re.compile(
    r"P(?!$)(\d+(?:[.,]\d+)?Y)?(\d+(?:[.,]\d+)?M)?(\d+(?:[.,]\d+)?W)?(\d+(?:[.,]\d+)?D)?"
    r"(T(?=\d)(\d+(?:[.,]\d+)?H)?(\d+(?:[.,]\d+)?M)?(\d+(?:[.,]\d+)?S)?)?")
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}([.,]\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?")
_REPEAT = re.compile(r"R(\d*)")


class TimerValueError(ValueError):
    """A timer value is not an ISO 8601 literal of its kind; the message says what was expected."""


def _duration(text: str) -> timedelta | isodate.Duration:
    if not _DURATION.fullmatch(text):
        raise TimerValueError(f"{text!r} bukan durasi ISO 8601 (contoh: P7D, PT4H)")
    return isodate.parse_duration(text)


def _date_time(text: str) -> datetime:
    if not _DATE_TIME.fullmatch(text):
        raise TimerValueError(f"{text!r} bukan tanggal-waktu ISO 8601 (contoh: 2026-12-31T09:00:00+07:00)")
    try:
        return isodate.parse_datetime(text)
    except (ValueError, isodate.ISO8601Error) as exc:
        raise TimerValueError(f"{text!r} bukan tanggal-waktu yang ada ({exc})") from exc


def _cycle(text: str) -> tuple[int | None, list[timedelta | isodate.Duration | datetime]]:
    parts = text.split("/")
    repeat = _REPEAT.fullmatch(parts[0])
    if repeat is None or len(parts) not in (2, 3):
        raise TimerValueError(f"{text!r} bukan interval berulang ISO 8601 (contoh: R3/PT10H, R/P1D)")
    pieces = [_duration(p) if p.startswith("P") else _date_time(p) for p in parts[1:]]
    if sum(not isinstance(p, datetime) for p in pieces) != 1:
        raise TimerValueError(f"{text!r}: interval berulang perlu tepat satu durasi")
    return (int(repeat.group(1)) if repeat.group(1) else None), pieces


def parse_timer(kind: str, text: str) -> object:
    """Parse the ISO 8601 literal of a timer of ``kind`` (one of :data:`TIMER_KINDS`).

    Returns a ``datetime`` (``timeDate``), a ``timedelta``/``isodate.Duration``
    (``timeDuration``) or ``(repetitions or None, [start/end/duration])``
    (``timeCycle``). Raises :class:`TimerValueError` for anything else, an
    expression included.
    """
    text = text.strip()
    if kind == "timeDate":
        return _date_time(text)
    if kind == "timeDuration":
        return _duration(text)
    if kind == "timeCycle":
        return _cycle(text)
    raise TimerValueError(f"jenis timer {kind!r} tidak dikenal")
