"""Working-time calendar of an Indonesian government office: due times for Waktu.

Rules and their sources:

- Five working days, Monday to Friday (Keppres 68/1995 tentang Hari Kerja di
  Lingkungan Lembaga Pemerintah), 37.5 working hours a week (Perpres 21/2023
  tentang Hari Kerja dan Jam Kerja Instansi Pemerintah dan Pegawai Aparatur
  Sipil Negara). Perpres 21/2023 lets each agency set its daily schedule; the
  default `OfficeHours` is the schedule of Keppres 68/1995 as commonly applied:
  Monday-Thursday 07:30-16:00 with a 12:00-13:00 break, Friday 07:30-16:30
  with an 11:30-13:00 break (Friday prayers): 7.5 hours every day.
- Local time of the office: WIB (Asia/Jakarta), WITA (Asia/Makassar) or WIT
  (Asia/Jayapura) - the `unit.timezone` column.
- National holidays and cuti bersama are fixed each year by an SKB of three
  ministers and revised during the year. The `holidays` package supplies them
  (country "ID", categories PUBLIC and GOVERNMENT; cuti bersama is GOVERNMENT);
  an office corrects its calendar with `corrections` (the
  `calendar_correction` table, fed in by the engine).
- Shortened days for a date range: during Ramadan the Menteri PANRB sets
  shorter hours each year by circular (e.g. SE Menteri PANRB 1/2024: Monday-
  Thursday 08:00-15:00 with a 12:00-12:30 break, Friday 08:00-15:30 with an
  11:30-12:30 break, 32.5 hours a week; `RAMADAN_OFFICE_HOURS`). A unit sets
  such a period with `HoursPeriod` (the `calendar_hours` table): inside it the
  period's hours replace the usual ones; which days are working days does not
  change.

`WorkCalendar` is pure code (no SpiffWorkflow, Flask or database access);
`unit_calendar` reads a unit's corrections and periods through
`storage.calendar` and is how the engine gets a unit's calendar.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from sqlalchemy.orm import Session

from engine.waktu import Waktu
from storage import calendar as calendar_store
from storage.db import transaction_memo
from storage.errors import CalendarError
from storage.models import CalendarCorrection, CalendarHours, Unit

__all__ = [
    "DEFAULT_OFFICE_HOURS", "RAMADAN_OFFICE_HOURS", "HoursPeriod", "OfficeHours", "WorkCalendar", "calendar_for",
    "format_intervals", "parse_intervals", "period_of_row", "unit_calendar", "weekly_json",
]

Interval = tuple[time, time]
"""An opening interval in local wall time: (opens, closes), opens < closes."""

_Span = tuple[timedelta, timedelta]  # an Interval as offsets from local midnight

_MON_THU: tuple[Interval, ...] = ((time(7, 30), time(12, 0)), (time(13, 0), time(16, 0)))
_FRIDAY: tuple[Interval, ...] = ((time(7, 30), time(11, 30)), (time(13, 0), time(16, 30)))

_DAYS_PER_WEEK = 5  # "minggu" = 5 hari kerja (Keppres 68/1995, Perpres 21/2023)
_MAX_CLOSED_DAYS = 3660  # give up after ~10 years without a working day
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class OfficeHours:
    """Opening intervals per weekday, in local wall time.

    `weekly[0]` is Monday ... `weekly[6]` Sunday; each entry is a tuple of
    (opens, closes) `datetime.time` pairs, sorted and not overlapping; an empty
    tuple is a closed day. The default is Keppres 68/1995 as commonly applied:
    Mon-Thu 07:30-12:00 + 13:00-16:00, Fri 07:30-11:30 + 13:00-16:30,
    Sat/Sun closed = 37.5 hours a week, the total of Perpres 21/2023.
    `substitute_weekday` names the weekday whose hours apply when a correction
    makes a normally closed day (e.g. a Saturday) a working day.
    Raises CalendarError if the intervals are malformed or every day is closed.
    """

    weekly: tuple[tuple[Interval, ...], ...] = (_MON_THU,) * 4 + (_FRIDAY, (), ())
    substitute_weekday: int = 0

    def __post_init__(self) -> None:
        if len(self.weekly) != 7:
            raise CalendarError("Jam kerja harus untuk 7 hari (Senin-Minggu) (need 7 weekdays)")
        for weekday, intervals in enumerate(self.weekly):
            previous_close: time | None = None
            for opens, closes in intervals:
                if opens.tzinfo is not None or closes.tzinfo is not None or not opens < closes:
                    raise CalendarError(
                        f"Jam kerja tidak sah pada hari ke-{weekday}: {opens}-{closes} (bad interval)"
                    )
                if previous_close is not None and opens < previous_close:
                    raise CalendarError(
                        f"Jam kerja tumpang tindih pada hari ke-{weekday} (overlapping intervals)"
                    )
                previous_close = closes
        if not any(self.weekly):
            raise CalendarError("Tidak ada hari kerja dalam seminggu (no working weekday)")
        if not 0 <= self.substitute_weekday <= 6 or not self.weekly[self.substitute_weekday]:
            raise CalendarError(
                "Hari pengganti harus hari yang memiliki jam kerja (substitute weekday must be open)"
            )

    def intervals(self, weekday: int) -> tuple[Interval, ...]:
        """Opening intervals of `weekday` (0 = Monday); empty when closed."""
        return self.weekly[weekday]

    def minutes(self, weekday: int) -> int:
        """Working minutes on `weekday` (0 = Monday); 450 for every default weekday."""
        return sum(_minutes_of_day(c) - _minutes_of_day(o) for o, c in self.weekly[weekday])

    @property
    def weekly_minutes(self) -> int:
        """Working minutes in a week without holidays; 2250 (37.5 hours) by default."""
        return sum(self.minutes(weekday) for weekday in range(7))


DEFAULT_OFFICE_HOURS = OfficeHours()
_RAMADAN_MON_THU: tuple[Interval, ...] = ((time(8, 0), time(12, 0)), (time(12, 30), time(15, 0)))
_RAMADAN_FRIDAY: tuple[Interval, ...] = ((time(8, 0), time(11, 30)), (time(12, 30), time(15, 30)))
RAMADAN_OFFICE_HOURS = OfficeHours(weekly=(_RAMADAN_MON_THU,) * 4 + (_RAMADAN_FRIDAY, (), ()))
"""Ramadan hours of the Menteri PANRB circulars (e.g. SE 1/2024): 6.5 hours a day, 32.5 a week."""


@dataclass(frozen=True)
class HoursPeriod:
    """Office hours that replace the usual ones from `start` to `end` (local dates, both included).

    For shortened days in Ramadan: `office_hours` is e.g. `RAMADAN_OFFICE_HOURS`;
    `note` says why ("Ramadan 1448 H"). Whether a day is a working day is not
    changed by a period. Raises CalendarError when `end` is before `start` or a
    bound is not a date.
    """

    start: date
    end: date
    office_hours: OfficeHours
    note: str = ""

    def __post_init__(self) -> None:
        _check_date(self.start)
        _check_date(self.end)
        if self.end < self.start:
            raise CalendarError(f"Tanggal selesai {self.end} sebelum tanggal mulai {self.start} (bad range)")

    def covers(self, day: date) -> bool:
        """Whether local date `day` lies inside the period."""
        return self.start <= day <= self.end


class WorkCalendar:
    """Working days and office hours of one office (unit): computes Waktu due times.

    Keyword-only: `timezone` (IANA name: Asia/Jakarta = WIB, Asia/Makassar = WITA,
    Asia/Jayapura = WIT), `office_hours`, `corrections` mapping a date to
    (is_working_day, note): True forces a working day, False a holiday (e.g. an
    SKB revising cuti bersama), and `hours_periods`: `HoursPeriod`s (shortened
    days in Ramadan) whose hours replace `office_hours` on their days. Holidays
    of a year are fetched from the `holidays` package on first use and cached.
    Instances are immutable and safe to share between threads. Raises
    CalendarError for an unknown timezone, malformed corrections or
    overlapping periods.
    """

    def __init__(
        self,
        *,
        timezone: str,
        office_hours: OfficeHours = DEFAULT_OFFICE_HOURS,
        corrections: Mapping[date, tuple[bool, str]] | None = None,
        hours_periods: Sequence[HoursPeriod] = (),
    ) -> None:
        try:
            self._tz = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise CalendarError(f"Zona waktu tidak dikenali: {timezone!r} (unknown timezone)") from exc
        self._timezone = timezone
        self._office_hours = office_hours
        self._corrections = MappingProxyType(_checked_corrections(corrections or {}))
        self._weekly_spans = _spans_of(office_hours)
        self._periods = _checked_periods(hours_periods)
        self._period_spans = tuple((p, _spans_of(p.office_hours)) for p in self._periods)
        self._holidays_by_year: dict[int, dict[date, str]] = {}

    @property
    def timezone(self) -> str:
        """IANA timezone name of the office."""
        return self._timezone

    @property
    def office_hours(self) -> OfficeHours:
        """Opening intervals per weekday."""
        return self._office_hours

    @property
    def corrections(self) -> Mapping[date, tuple[bool, str]]:
        """Read-only corrections: date -> (is_working_day, note)."""
        return self._corrections

    @property
    def hours_periods(self) -> tuple[HoursPeriod, ...]:
        """The periods of replaced office hours, by start date."""
        return self._periods

    def hours_on(self, day: date) -> tuple[Interval, ...]:
        """Opening intervals of local date `day`: empty on a non-working day; a period's hours inside it."""
        _check_date(day)
        return tuple((_time_of(o), _time_of(c)) for o, c in self._spans(day))

    def __repr__(self) -> str:
        return f"WorkCalendar(timezone={self._timezone!r}, corrections={len(self._corrections)})"

    def is_working_day(self, day: date) -> bool:
        """True if `day` (a local date) is a working day.

        A correction decides first; otherwise a day is working when its weekday
        has office hours and it is neither a national holiday nor cuti bersama.
        Raises CalendarError if given a datetime instead of a date.
        """
        _check_date(day)
        correction = self._corrections.get(day)
        if correction is not None:
            return correction[0]
        return bool(self._weekly_spans[day.weekday()]) and day not in self._holidays(day.year)

    def holiday_name(self, day: date) -> str | None:
        """Name (Bahasa Indonesia) of the holiday on `day`, or None.

        A correction to a holiday gives its note ("Hari libur (koreksi kalender)"
        when the note is empty); a correction to a working day gives None. A plain
        weekend has no name. Raises CalendarError if given a datetime.
        """
        _check_date(day)
        correction = self._corrections.get(day)
        if correction is not None:
            is_working, note = correction
            return None if is_working else (note or "Hari libur (koreksi kalender)")
        return self._holidays(day.year).get(day)

    def next_opening(self, at: datetime) -> datetime:
        """The first instant at or after `at` inside office hours, in UTC.

        `at` itself (converted to UTC) when it already is inside office hours;
        an interval's closing instant counts as outside. Raises CalendarError for
        a naive datetime.
        """
        return self._to_utc(self._next_opening_local(self._to_local(at)))

    def add(self, start: datetime, waktu: Waktu) -> datetime:
        """Due time of a step that becomes ready at `start` with Waktu `waktu`, in UTC.

        `start` must be timezone-aware (any zone); it is read in the office's
        local time. If it is outside office hours, counting starts at the next
        opening. Then:

        - menit / jam: that many working minutes inside office hours, skipping
          breaks, closing hours, weekends, holidays and cuti bersama. A step ready
          Thursday 15:50 with "30 menit" is due Friday 07:50 (10 + 20 minutes). A
          count that ends exactly at a closing time is due at that closing time.
        - hari: N working days later at the same working-time-of-day position:
          the working minutes elapsed since that day's opening are kept, so ready
          Monday 13:30 (300 working minutes in) with "1 hari" is due Tuesday 13:30,
          and ready Friday 10:00 is due Monday 10:00; ready Thursday 13:30 is due
          Friday 14:00 (Friday's morning is 30 minutes shorter). If the target day has fewer
          working minutes than that offset, it is due at that day's closing time.
          A count that starts at a day's opening (also a step ready after closing
          time or on a holiday) ends at the end of a working day, and is due at
          that day's closing time, not at the next morning's opening: ready
          Tuesday 16:27 with "1 hari" is due Wednesday 16:00, the end of the
          working day it falls due (issue 11). With the default hours (450
          minutes every day) this equals adding N x 450 working minutes.
        - minggu: 5 x hari (a working week, Keppres 68/1995 five-day week).

        Raises CalendarError for a naive `start`.
        """
        local = self._next_opening_local(self._to_local(start))
        if waktu.unit in ("menit", "jam"):
            minutes = waktu.amount * (60 if waktu.unit == "jam" else 1)
            due = self._add_working_time(local, timedelta(minutes=minutes))
        else:
            days = waktu.amount * (_DAYS_PER_WEEK if waktu.unit == "minggu" else 1)
            due = self._add_working_days(local, days)
        return self._to_utc(due)

    def working_minutes_between(self, start: datetime, end: datetime) -> int:
        """Whole working minutes (office hours on working days) from `start` to `end`.

        Both timezone-aware. Rounds down to the minute; negative when `end` is
        before `start` (minus the minutes from `end` to `start`). For any start,
        `working_minutes_between(s, add(s, Waktu(n, "menit"))) == n`. Raises
        CalendarError for a naive datetime.
        """
        low, high = self._to_local(start), self._to_local(end)
        if high < low:
            return -self.working_minutes_between(end, start)
        total = timedelta(0)
        day = low.date()
        while day <= high.date():
            midnight = datetime.combine(day, time())
            for opens, closes in self._spans(day):
                overlap = min(midnight + closes, high) - max(midnight + opens, low)
                if overlap > timedelta(0):
                    total += overlap
            day += _ONE_DAY
        return int(total.total_seconds() // 60)

    # -- internals: positions are naive datetimes in the office's local time --

    def _holidays(self, year: int) -> dict[date, str]:
        cached = self._holidays_by_year.get(year)
        if cached is None:
            found = holidays.country_holidays(
                "ID", categories=("public", "government"), years=year, language="id"
            )
            cached = self._holidays_by_year.setdefault(year, dict(found))
        return cached

    def _spans(self, day: date) -> tuple[_Span, ...]:
        if not self.is_working_day(day):
            return ()
        weekly, hours = self._weekly_spans, self._office_hours
        for period, period_spans in self._period_spans:
            if period.covers(day):
                weekly, hours = period_spans, period.office_hours
                break
        return weekly[day.weekday()] or weekly[hours.substitute_weekday]

    def _to_local(self, at: datetime) -> datetime:
        if not isinstance(at, datetime):
            raise CalendarError(f"Diperlukan datetime, bukan {type(at).__name__} (datetime expected)")
        if at.tzinfo is None or at.utcoffset() is None:
            raise CalendarError(
                f"Waktu tanpa zona waktu tidak diterima: {at.isoformat()} (naive datetime)"
            )
        return at.astimezone(self._tz).replace(tzinfo=None)

    def _to_utc(self, local: datetime) -> datetime:
        return local.replace(tzinfo=self._tz).astimezone(UTC)

    def _next_working_day(self, day: date) -> date:
        for _ in range(_MAX_CLOSED_DAYS):
            day += _ONE_DAY
            if self._spans(day):
                return day
        raise CalendarError(f"Tidak ada hari kerja setelah {day} (no working day found)")

    def _next_opening_local(self, local: datetime) -> datetime:
        day = local.date()
        offset = local - datetime.combine(day, time())
        for _ in range(_MAX_CLOSED_DAYS):
            for opens, closes in self._spans(day):
                if offset < closes:
                    return datetime.combine(day, time()) + max(offset, opens)
            day += _ONE_DAY
            offset = timedelta(0)
        raise CalendarError(f"Tidak ada jam kerja setelah {local} (no office hours found)")

    def _add_working_time(self, local: datetime, remaining: timedelta) -> datetime:
        """`local` must be inside office hours (from _next_opening_local)."""
        day = local.date()
        offset = local - datetime.combine(day, time())
        while True:
            for opens, closes in self._spans(day):
                if offset >= closes:
                    continue
                position = max(offset, opens)
                available = closes - position
                if remaining <= available:
                    return datetime.combine(day, time()) + position + remaining
                remaining -= available
            day = self._next_working_day(day)
            offset = timedelta(0)

    def _add_working_days(self, local: datetime, days: int) -> datetime:
        """`local` must be inside office hours (from _next_opening_local)."""
        day = local.date()
        offset = local - datetime.combine(day, time())
        worked = sum(
            (min(offset, closes) - opens for opens, closes in self._spans(day) if offset > opens),
            timedelta(0),
        )
        if worked == timedelta(0):  # N whole working days: due at the end of the Nth, this day the first
            for _ in range(days - 1):
                day = self._next_working_day(day)
            return datetime.combine(day, time()) + self._spans(day)[-1][1]
        for _ in range(days):
            day = self._next_working_day(day)
        spans = self._spans(day)
        for opens, closes in spans:
            if worked < closes - opens:
                return datetime.combine(day, time()) + opens + worked
            worked -= closes - opens
        return datetime.combine(day, time()) + spans[-1][1]


def calendar_for(
    timezone: str,
    corrections: Mapping[date, tuple[bool, str]] | None = None,
    *,
    office_hours: OfficeHours = DEFAULT_OFFICE_HOURS,
    hours_periods: Sequence[HoursPeriod] = (),
) -> WorkCalendar:
    """A shared WorkCalendar for these settings (cached, up to 128 variants).

    Same arguments as WorkCalendar; the cache key is
    (timezone, frozenset(corrections.items()), office_hours, tuple(hours_periods)),
    so a changed correction or period yields a fresh calendar. Raises
    CalendarError like WorkCalendar.
    """
    return _cached_calendar(timezone, frozenset((corrections or {}).items()), office_hours, tuple(hours_periods))


@functools.lru_cache(maxsize=128)
def _cached_calendar(
    timezone: str,
    corrections: frozenset[tuple[date, tuple[bool, str]]],
    office_hours: OfficeHours,
    hours_periods: tuple[HoursPeriod, ...],
) -> WorkCalendar:
    return WorkCalendar(timezone=timezone, office_hours=office_hours, corrections=dict(corrections),
                        hours_periods=hours_periods)


def unit_calendar(session: Session, unit: Unit) -> WorkCalendar:
    """The working calendar of `unit`: its zone, corrections and shortened-hours periods (global ones too).

    Reads `storage.calendar` once per unit and transaction (a completion needs it
    several times), again after a correction, period or unit is written
    (`storage.db.transaction_memo`); the calendar itself is shared (`calendar_for`).
    Raises CalendarError when stored data is malformed.
    """
    memo = transaction_memo(session, "unit_calendar", depends_on=(CalendarCorrection, CalendarHours, Unit))
    found: WorkCalendar | None = memo.get(unit.id)
    if found is None:
        periods = [period_of_row(row) for row in calendar_store.hours_periods(session, unit.id)]
        found = memo[unit.id] = calendar_for(unit.timezone, calendar_store.corrections(session, unit.id),
                                             hours_periods=periods)
    return found


_INTERVAL_TEXT = re.compile(r"^(\d{1,2})[.:](\d{2})\s*[-\u2013]\s*(\d{1,2})[.:](\d{2})$")


def parse_intervals(text: str) -> tuple[Interval, ...]:
    """Opening intervals from text as offices write them: ``"08.00-12.00, 12.30-15.00"``.

    Times as ``HH.MM`` or ``HH:MM``, intervals separated by commas, sorted and
    not overlapping; an empty text is a closed day. Raises CalendarError with
    the part that cannot be read.
    """
    found: list[Interval] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        match = _INTERVAL_TEXT.match(part)
        if match is None:
            raise CalendarError(f"Jam {part!r} tidak terbaca; tulis seperti 08.00-12.00 (bad interval)")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
            raise CalendarError(f"Jam {part!r} tidak ada (bad time)")
        found.append((time(h1, m1), time(h2, m2)))
    for opens, closes in found:
        if not opens < closes:
            raise CalendarError(f"Jam {format_intervals(((opens, closes),))}: mulai harus sebelum selesai")
    for (_, closes), (opens, _) in zip(found, found[1:], strict=False):
        if opens < closes:
            raise CalendarError("Jam harus berurutan dan tidak tumpang tindih (overlapping intervals)")
    return tuple(found)


def format_intervals(intervals: Sequence[Interval]) -> str:
    """``"08.00-12.00, 12.30-15.00"``: the text `parse_intervals` reads; "" for a closed day."""
    return ", ".join(f"{o:%H.%M}-{c:%H.%M}" for o, c in intervals)


def weekly_json(office_hours: OfficeHours) -> str:
    """The JSON a `calendar_hours` row stores: seven lists (Monday first) of ``["HH:MM", "HH:MM"]``."""
    return json.dumps([[[f"{o:%H:%M}", f"{c:%H:%M}"] for o, c in day] for day in office_hours.weekly])


def period_of_row(row: CalendarHours) -> HoursPeriod:
    """The `HoursPeriod` of a stored `calendar_hours` row. Raises CalendarError for malformed JSON."""
    try:
        days = json.loads(row.weekly_json)
        weekly = tuple(tuple((time.fromisoformat(o), time.fromisoformat(c)) for o, c in day) for day in days)
    except (ValueError, TypeError) as exc:
        raise CalendarError(f"Jam kerja periode {row.id} rusak (malformed calendar_hours)") from exc
    return HoursPeriod(row.start_date, row.end_date, OfficeHours(weekly=weekly), row.note)


def _spans_of(office_hours: OfficeHours) -> tuple[tuple[_Span, ...], ...]:
    return tuple(tuple((_offset(o), _offset(c)) for o, c in intervals) for intervals in office_hours.weekly)


def _checked_periods(periods: Sequence[HoursPeriod]) -> tuple[HoursPeriod, ...]:
    ordered = tuple(sorted(periods, key=lambda p: (p.start, p.end)))
    for period in ordered:
        if not isinstance(period, HoursPeriod):
            raise CalendarError("Periode jam kerja harus HoursPeriod (bad period)")
    for earlier, later in zip(ordered, ordered[1:], strict=False):
        if later.start <= earlier.end:
            raise CalendarError(
                f"Periode jam kerja {earlier.start}..{earlier.end} dan {later.start}..{later.end} tumpang tindih")
    return ordered


def _checked_corrections(corrections: Mapping[date, tuple[bool, str]]) -> dict[date, tuple[bool, str]]:
    checked: dict[date, tuple[bool, str]] = {}
    for day, value in corrections.items():
        _check_date(day)
        if not (isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], bool)):
            raise CalendarError(
                f"Koreksi kalender {day} harus (hari_kerja: bool, catatan: str) (bad correction)"
            )
        checked[day] = (value[0], str(value[1] or ""))
    return checked


def _check_date(day: date) -> None:
    if isinstance(day, datetime) or not isinstance(day, date):
        raise CalendarError(f"Diperlukan tanggal (date), bukan {type(day).__name__} (date expected)")


def _offset(moment: time) -> timedelta:
    return timedelta(hours=moment.hour, minutes=moment.minute, seconds=moment.second,
                     microseconds=moment.microsecond)


def _time_of(offset: timedelta) -> time:
    minutes, seconds = divmod(int(offset.total_seconds()), 60)
    return time(minutes // 60, minutes % 60, seconds)


def _minutes_of_day(moment: time) -> int:
    return moment.hour * 60 + moment.minute
