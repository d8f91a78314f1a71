"""Working-time calendar (engine.calendar): due times for Waktu, in 2026.

Reference weeks (holidays package, country ID, PUBLIC + GOVERNMENT):
- 2026-07-06 (Mon) .. 2026-07-10 (Fri): no holiday.
- 2026-08-17 (Mon): Hari Kemerdekaan (PUBLIC).
- 2026-03-18 (Wed) cuti bersama Nyepi, 03-19 Nyepi, 03-20 (Fri) cuti bersama
  Idul Fitri (GOVERNMENT), 03-21/22 Idul Fitri (weekend), 03-23/24 cuti bersama.
- 2027-01-01 (Fri): Tahun Baru Masehi.
"""

import random
import subprocess
import sys
import time as clock
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from engine.calendar import (
    DEFAULT_OFFICE_HOURS,
    RAMADAN_OFFICE_HOURS,
    HoursPeriod,
    OfficeHours,
    WorkCalendar,
    calendar_for,
)
from engine.waktu import Waktu, parse_waktu
from storage.errors import CalendarError

WIB = ZoneInfo("Asia/Jakarta")
WITA = ZoneInfo("Asia/Makassar")
WIT = ZoneInfo("Asia/Jayapura")
UTC = UTC


def at(text: str, tz: ZoneInfo = WIB) -> datetime:
    """'2026-07-09 15:50' in `tz`."""
    return datetime.fromisoformat(text).replace(tzinfo=tz)


@pytest.fixture(scope="module")
def jakarta() -> WorkCalendar:
    return WorkCalendar(timezone="Asia/Jakarta")


def due(calendar: WorkCalendar, start: str, waktu: str, tz: ZoneInfo = WIB) -> datetime:
    """Due time of `waktu` from local `start`, back in local time for readable asserts."""
    result = calendar.add(at(start, tz), parse_waktu(waktu))
    assert result.utcoffset() == timedelta(0)
    return result.astimezone(tz)


# -- office hours ---------------------------------------------------------------


def test_default_office_hours_total_37_5_hours_a_week() -> None:
    assert DEFAULT_OFFICE_HOURS.weekly_minutes == 37 * 60 + 30
    assert [DEFAULT_OFFICE_HOURS.minutes(d) for d in range(7)] == [450, 450, 450, 450, 450, 0, 0]
    assert DEFAULT_OFFICE_HOURS.intervals(4) == ((time(7, 30), time(11, 30)), (time(13, 0), time(16, 30)))


@pytest.mark.parametrize(
    "weekly",
    [
        ((),) * 7,  # never open
        ((),) * 6,  # not 7 days
        (((time(13, 0), time(12, 0)),),) + ((),) * 6,  # closes before it opens
        (((time(8, 0), time(12, 0)), (time(11, 0), time(14, 0))),) + ((),) * 6,  # overlap
    ],
)
def test_malformed_office_hours_are_refused(weekly: tuple) -> None:
    with pytest.raises(CalendarError):
        OfficeHours(weekly=weekly)


# -- minutes and hours ------------------------------------------------------------


def test_minutes_carry_over_to_next_morning(jakarta: WorkCalendar) -> None:
    # Thursday closes 16:00: 10 minutes Thursday + 20 minutes Friday from 07:30.
    assert due(jakarta, "2026-07-09 15:50", "30 menit") == at("2026-07-10 07:50")


def test_minutes_inside_one_interval(jakarta: WorkCalendar) -> None:
    assert due(jakarta, "2026-07-06 08:00", "15 menit") == at("2026-07-06 08:15")
    assert due(jakarta, "2026-07-06 08:00", "2 Jam") == at("2026-07-06 10:00")


def test_count_ending_at_closing_time_is_due_at_closing(jakarta: WorkCalendar) -> None:
    assert due(jakarta, "2026-07-06 15:30", "30 menit") == at("2026-07-06 16:00")


def test_lunch_break_is_skipped(jakarta: WorkCalendar) -> None:
    assert due(jakarta, "2026-07-06 11:50", "30 menit") == at("2026-07-06 13:20")
    assert due(jakarta, "2026-07-06 07:30", "450 menit") == at("2026-07-06 16:00")
    assert due(jakarta, "2026-07-06 07:30", "451 menit") == at("2026-07-07 07:31")


def test_friday_hours_differ(jakarta: WorkCalendar) -> None:
    # Friday break starts 11:30 (Thursday: 12:00) and Friday closes 16:30 (Thursday: 16:00).
    assert due(jakarta, "2026-07-09 11:20", "20 menit") == at("2026-07-09 11:40")
    assert due(jakarta, "2026-07-10 11:20", "20 menit") == at("2026-07-10 13:10")
    assert due(jakarta, "2026-07-09 15:50", "20 menit") == at("2026-07-10 07:40")
    assert due(jakarta, "2026-07-10 15:50", "20 menit") == at("2026-07-10 16:10")


def test_weekend_is_skipped(jakarta: WorkCalendar) -> None:
    assert not jakarta.is_working_day(date(2026, 7, 11))
    assert not jakarta.is_working_day(date(2026, 7, 12))
    assert jakarta.holiday_name(date(2026, 7, 11)) is None
    assert due(jakarta, "2026-07-10 16:20", "30 menit") == at("2026-07-13 07:50")


def test_start_outside_office_hours_counts_from_next_opening(jakarta: WorkCalendar) -> None:
    assert due(jakarta, "2026-07-06 06:00", "15 menit") == at("2026-07-06 07:45")
    assert due(jakarta, "2026-07-06 12:30", "15 Menit") == at("2026-07-06 13:15")
    assert due(jakarta, "2026-07-06 16:00", "15 menit") == at("2026-07-07 07:45")
    assert due(jakarta, "2026-07-11 09:00", "1 jam") == at("2026-07-13 08:30")
    assert due(jakarta, "2026-07-06 17:00", "1 hari") == at("2026-07-07 16:00")  # end of Tuesday


def test_next_opening(jakarta: WorkCalendar) -> None:
    inside = at("2026-07-06 09:15:30")
    assert jakarta.next_opening(inside) == inside
    assert jakarta.next_opening(inside).tzinfo == UTC
    assert jakarta.next_opening(at("2026-07-06 12:00")) == at("2026-07-06 13:00")
    assert jakarta.next_opening(at("2026-07-09 16:00")) == at("2026-07-10 07:30")
    assert jakarta.next_opening(at("2026-07-10 23:59")) == at("2026-07-13 07:30")


# -- working days and weeks ---------------------------------------------------------


def test_hari_keeps_working_time_of_day(jakarta: WorkCalendar) -> None:
    assert due(jakarta, "2026-07-06 13:30", "1 hari") == at("2026-07-07 13:30")
    assert due(jakarta, "2026-07-06 13:00", "1 hari") == at("2026-07-07 13:00")  # not 12:00
    assert due(jakarta, "2026-07-06 12:15", "1 hari") == at("2026-07-07 13:00")  # lunch: next opening
    assert due(jakarta, "2026-07-06 07:30", "3 hari") == at("2026-07-08 16:00")
    assert due(jakarta, "2026-07-09 10:00", "1 hari") == at("2026-07-10 10:00")
    assert due(jakarta, "2026-07-10 10:00", "1 hari") == at("2026-07-13 10:00")


def test_whole_working_days_are_due_at_the_end_of_the_day_they_fall_due(jakarta: WorkCalendar) -> None:
    # Issue 11: ready Tuesday 16.27 (after closing) with "1 hari" is due at the end of Wednesday,
    # not at Thursday's opening.
    assert due(jakarta, "2026-11-24 16:27", "1 hari") == at("2026-11-25 16:00")
    assert due(jakarta, "2026-11-25 07:30", "1 hari") == at("2026-11-25 16:00")
    assert due(jakarta, "2026-11-26 18:00", "1 hari") == at("2026-11-27 16:30")  # Friday closes later
    assert due(jakarta, "2026-11-27 17:00", "1 minggu") == at("2026-12-04 16:30")
    assert due(jakarta, "2026-11-25 07:31", "1 hari") == at("2026-11-26 07:31")  # a minute in: position kept


def test_hari_across_days_of_different_shape_keeps_working_position(jakarta: WorkCalendar) -> None:
    # Thursday 13:30 is 300 working minutes into the day; on Friday that is 14:00.
    assert due(jakarta, "2026-07-09 13:30", "1 hari") == at("2026-07-10 14:00")
    assert due(jakarta, "2026-07-10 14:00", "1 hari") == at("2026-07-13 13:30")


def test_hari_on_a_shorter_target_day_is_due_at_closing() -> None:
    short_friday = OfficeHours(
        weekly=(((time(7, 30), time(16, 0)),),) * 4 + (((time(7, 30), time(11, 0)),), (), ())
    )
    calendar = WorkCalendar(timezone="Asia/Jakarta", office_hours=short_friday)
    assert due(calendar, "2026-07-09 14:00", "1 hari") == at("2026-07-10 11:00")


def test_minggu_is_five_working_days(jakarta: WorkCalendar) -> None:
    assert due(jakarta, "2026-07-06 10:00", "1 Minggu") == at("2026-07-13 10:00")
    assert due(jakarta, "2026-07-06 10:00", "3 minggu") == due(jakarta, "2026-07-06 10:00", "15 hari")


def test_national_holiday_is_skipped(jakarta: WorkCalendar) -> None:
    independence = date(2026, 8, 17)
    assert not jakarta.is_working_day(independence)
    assert "Kemerdekaan" in (jakarta.holiday_name(independence) or "")
    assert due(jakarta, "2026-08-14 16:20", "30 menit") == at("2026-08-18 07:50")
    assert due(jakarta, "2026-08-10 10:00", "1 minggu") == at("2026-08-18 10:00")


def test_cuti_bersama_is_skipped(jakarta: WorkCalendar) -> None:
    cuti = date(2026, 3, 20)
    assert "Cuti Bersama" in (jakarta.holiday_name(cuti) or "")
    assert not jakarta.is_working_day(cuti)
    # 18 cuti bersama, 19 Nyepi, 20 cuti bersama, 21-22 weekend, 23-24 cuti bersama.
    assert due(jakarta, "2026-03-17 10:00", "1 hari") == at("2026-03-25 10:00")


def test_holidays_of_next_year_are_used(jakarta: WorkCalendar) -> None:
    assert not jakarta.is_working_day(date(2027, 1, 1))
    assert due(jakarta, "2026-12-31 15:50", "30 menit") == at("2027-01-04 07:50")


# -- corrections ------------------------------------------------------------------


def test_correction_turns_cuti_bersama_into_working_day() -> None:
    calendar = WorkCalendar(
        timezone="Asia/Jakarta", corrections={date(2026, 3, 20): (True, "SKB revisi: masuk kerja")}
    )
    assert calendar.is_working_day(date(2026, 3, 20))
    assert calendar.holiday_name(date(2026, 3, 20)) is None
    assert due(calendar, "2026-03-17 10:00", "1 hari") == at("2026-03-20 10:00")


def test_correction_turns_working_day_into_holiday() -> None:
    calendar = WorkCalendar(
        timezone="Asia/Jakarta", corrections={date(2026, 7, 10): (False, "Libur daerah")}
    )
    assert not calendar.is_working_day(date(2026, 7, 10))
    assert calendar.holiday_name(date(2026, 7, 10)) == "Libur daerah"
    assert due(calendar, "2026-07-09 10:00", "1 hari") == at("2026-07-13 10:00")
    assert due(calendar, "2026-07-09 15:50", "30 menit") == at("2026-07-13 07:50")


def test_correction_opening_a_saturday_uses_substitute_weekday_hours() -> None:
    calendar = WorkCalendar(timezone="Asia/Jakarta", corrections={date(2026, 7, 11): (True, "")})
    assert due(calendar, "2026-07-10 16:20", "30 menit") == at("2026-07-11 07:50")
    assert due(calendar, "2026-07-11 11:50", "20 menit") == at("2026-07-11 13:10")  # Monday's break


def test_correction_without_note_gets_a_default_name() -> None:
    calendar = WorkCalendar(timezone="Asia/Jakarta", corrections={date(2026, 7, 7): (False, "")})
    assert calendar.holiday_name(date(2026, 7, 7)) == "Hari libur (koreksi kalender)"


@pytest.mark.parametrize(
    "corrections",
    [{datetime(2026, 7, 7, 8, 0): (False, "x")}, {date(2026, 7, 7): ("ya", "x")}, {date(2026, 7, 7): (True,)}],
)
def test_malformed_corrections_are_refused(corrections: dict) -> None:
    with pytest.raises(CalendarError):
        WorkCalendar(timezone="Asia/Jakarta", corrections=corrections)


# -- time zones -------------------------------------------------------------------


def test_wib_wita_wit_give_different_utc_for_same_local_schedule() -> None:
    results = {}
    for name, tz in (("Asia/Jakarta", WIB), ("Asia/Makassar", WITA), ("Asia/Jayapura", WIT)):
        calendar = WorkCalendar(timezone=name)
        results[name] = calendar.add(at("2026-07-09 15:50", tz), Waktu(30, "menit"))
    assert results == {
        "Asia/Jakarta": datetime(2026, 7, 10, 0, 50, tzinfo=UTC),
        "Asia/Makassar": datetime(2026, 7, 9, 23, 50, tzinfo=UTC),
        "Asia/Jayapura": datetime(2026, 7, 9, 22, 50, tzinfo=UTC),
    }


def test_start_in_utc_is_read_in_office_local_time() -> None:
    start = datetime(2026, 7, 9, 6, 50, tzinfo=UTC)  # 13:50 WIB, 14:50 WITA, 15:50 WIT
    jayapura = WorkCalendar(timezone="Asia/Jayapura")
    jakarta = WorkCalendar(timezone="Asia/Jakarta")
    assert jayapura.add(start, Waktu(30, "menit")) == at("2026-07-10 07:50", WIT)
    assert jakarta.add(start, Waktu(30, "menit")) == at("2026-07-09 14:20", WIB)


def test_unknown_timezone_is_refused() -> None:
    with pytest.raises(CalendarError, match="Zona waktu"):
        WorkCalendar(timezone="Asia/Atlantis")


# -- working_minutes_between --------------------------------------------------------


def test_working_minutes_between_examples(jakarta: WorkCalendar) -> None:
    assert jakarta.working_minutes_between(at("2026-07-09 15:50"), at("2026-07-10 07:50")) == 30
    assert jakarta.working_minutes_between(at("2026-07-06 00:00"), at("2026-07-13 00:00")) == 2250
    assert jakarta.working_minutes_between(at("2026-08-17 08:00"), at("2026-08-17 15:00")) == 0
    assert jakarta.working_minutes_between(at("2026-07-06 11:00"), at("2026-07-06 14:00")) == 120
    assert jakarta.working_minutes_between(at("2026-07-06 14:00"), at("2026-07-06 11:00")) == -120
    assert jakarta.working_minutes_between(at("2026-07-06 08:00"), at("2026-07-06 08:00:59")) == 0


def test_working_minutes_between_is_consistent_with_add() -> None:
    rng = random.Random(2026)
    calendars = [WorkCalendar(timezone=name) for name in ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura")]
    for _ in range(300):
        calendar = rng.choice(calendars)
        start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(366 * 24 * 60))
        minutes = rng.choice([1, 5, 15, 30, 60, 120, 449, 450, 451, 2000])
        assert calendar.working_minutes_between(start, calendar.add(start, Waktu(minutes, "menit"))) == minutes
        days = rng.randint(1, 4)
        # Every default weekday has 450 minutes, so N hari is N x 450 working minutes.
        assert calendar.working_minutes_between(start, calendar.add(start, Waktu(days, "hari"))) == days * 450
        assert calendar.working_minutes_between(start, calendar.add(start, Waktu(1, "minggu"))) == 2250


# -- guards and speed -----------------------------------------------------------------


def test_naive_datetimes_are_refused(jakarta: WorkCalendar) -> None:
    naive = datetime(2026, 7, 6, 8, 0)
    with pytest.raises(CalendarError, match="zona waktu"):
        jakarta.add(naive, Waktu(1, "jam"))
    with pytest.raises(CalendarError):
        jakarta.next_opening(naive)
    with pytest.raises(CalendarError):
        jakarta.working_minutes_between(naive, at("2026-07-06 09:00"))
    with pytest.raises(CalendarError):
        jakarta.is_working_day(at("2026-07-06 09:00"))  # a datetime, not a date


def test_calendar_for_caches_by_timezone_and_corrections() -> None:
    corrections = {date(2026, 7, 10): (False, "Libur daerah")}
    first = calendar_for("Asia/Makassar", corrections)
    assert calendar_for("Asia/Makassar", dict(corrections)) is first
    assert calendar_for("Asia/Makassar") is not first
    assert calendar_for("Asia/Jakarta", corrections) is not first
    assert not first.is_working_day(date(2026, 7, 10))
    assert first.timezone == "Asia/Makassar"


def test_add_is_fast(jakarta: WorkCalendar) -> None:
    week, half_hour = Waktu(1, "minggu"), Waktu(30, "menit")
    start = at("2026-07-09 15:50")
    jakarta.add(start, week)  # warm the holiday cache
    began = clock.perf_counter()
    for i in range(1000):
        jakarta.add(start + timedelta(minutes=i), week if i % 2 else half_hour)
    assert (clock.perf_counter() - began) / 1000 < 0.001


def test_calendar_modules_import_neither_spiffworkflow_nor_flask() -> None:
    code = (
        "import sys, engine.calendar, engine.waktu\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('SpiffWorkflow', 'flask', 'web')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- shortened hours for a date range (Ramadan) --

RAMADAN_WEEK = HoursPeriod(date(2026, 7, 6), date(2026, 7, 10), RAMADAN_OFFICE_HOURS, "Ramadan (uji)")


def test_ramadan_hours_are_32_and_a_half_a_week() -> None:
    assert RAMADAN_OFFICE_HOURS.weekly_minutes == 32 * 60 + 30
    assert RAMADAN_OFFICE_HOURS.minutes(0) == RAMADAN_OFFICE_HOURS.minutes(4) == 390


def test_a_period_replaces_the_hours_of_its_days_only() -> None:
    usual = WorkCalendar(timezone="Asia/Jakarta")
    ramadan = WorkCalendar(timezone="Asia/Jakarta", hours_periods=[RAMADAN_WEEK])
    assert usual.add(at("2026-07-06 14:30"), Waktu(1, "jam")) == at("2026-07-06 15:30").astimezone(UTC)
    assert ramadan.add(at("2026-07-06 14:30"), Waktu(1, "jam")) == at("2026-07-07 08:30").astimezone(UTC)
    # Friday before the period keeps its usual hours (closes 16:30); Monday opens at 08:00.
    assert ramadan.add(at("2026-07-03 16:00"), Waktu(1, "jam")) == at("2026-07-06 08:30").astimezone(UTC)
    assert ramadan.add(at("2026-07-06 10:00"), Waktu(1, "hari")) == at("2026-07-07 10:00").astimezone(UTC)
    assert ramadan.working_minutes_between(at("2026-07-06 06:00"), at("2026-07-06 18:00")) == 390
    assert ramadan.working_minutes_between(at("2026-07-13 06:00"), at("2026-07-13 18:00")) == 450
    assert ramadan.hours_on(date(2026, 7, 10)) == ((time(8), time(11, 30)), (time(12, 30), time(15, 30)))
    assert ramadan.hours_on(date(2026, 7, 11)) == ()  # Saturday stays closed
    assert ramadan.hours_on(date(2026, 7, 13)) == DEFAULT_OFFICE_HOURS.intervals(0)


def test_periods_are_checked_and_part_of_the_cache_key() -> None:
    with pytest.raises(CalendarError):
        HoursPeriod(date(2026, 7, 10), date(2026, 7, 6), RAMADAN_OFFICE_HOURS)
    overlapping = HoursPeriod(date(2026, 7, 10), date(2026, 7, 14), RAMADAN_OFFICE_HOURS)
    with pytest.raises(CalendarError, match="tumpang tindih"):
        WorkCalendar(timezone="Asia/Jakarta", hours_periods=[overlapping, RAMADAN_WEEK])
    assert calendar_for("Asia/Jakarta", hours_periods=[RAMADAN_WEEK]) is not calendar_for("Asia/Jakarta")
    assert calendar_for("Asia/Jakarta", hours_periods=[RAMADAN_WEEK]).hours_periods == (RAMADAN_WEEK,)
