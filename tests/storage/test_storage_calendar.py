"""Working-day calendar corrections (storage.calendar)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage import calendar, org
from storage.models import CalendarCorrection

CUTI_BERSAMA = date(2025, 12, 26)
SABTU_MASUK = date(2025, 3, 29)


def test_unit_rows_override_global_rows(demo_session: Session) -> None:
    kecamatan = org.get_unit_by_code(demo_session, "kecamatan-contoh").id
    dinas = org.get_unit_by_code(demo_session, "dinas-kominfo").id
    calendar.set_correction(demo_session, unit_id=None, day=CUTI_BERSAMA,
                            is_working_day=False, note="Cuti bersama Natal")
    calendar.set_correction(demo_session, unit_id=kecamatan, day=CUTI_BERSAMA,
                            is_working_day=True, note="Piket pelayanan")
    calendar.set_correction(demo_session, unit_id=dinas, day=SABTU_MASUK,
                            is_working_day=True, note="Pengganti")
    assert calendar.corrections(demo_session, kecamatan) == {
        CUTI_BERSAMA: (True, "Piket pelayanan")
    }
    assert calendar.corrections(demo_session, dinas) == {
        CUTI_BERSAMA: (False, "Cuti bersama Natal"),
        SABTU_MASUK: (True, "Pengganti"),
    }
    assert calendar.corrections(demo_session, None) == {CUTI_BERSAMA: (False, "Cuti bersama Natal")}


def test_set_correction_upserts(demo_session: Session) -> None:
    unit = org.get_unit_by_code(demo_session, "kecamatan-contoh").id
    first = calendar.set_correction(demo_session, unit_id=unit, day=CUTI_BERSAMA,
                                    is_working_day=False, note="libur")
    second = calendar.set_correction(demo_session, unit_id=unit, day=CUTI_BERSAMA,
                                     is_working_day=True, note="masuk")
    assert second.id == first.id
    assert calendar.corrections(demo_session, unit) == {CUTI_BERSAMA: (True, "masuk")}
    glob = calendar.set_correction(demo_session, unit_id=None, day=CUTI_BERSAMA,
                                   is_working_day=False, note="a")
    assert calendar.set_correction(demo_session, unit_id=None, day=CUTI_BERSAMA,
                                   is_working_day=False, note="b").id == glob.id


def test_remove_correction(demo_session: Session) -> None:
    unit = org.get_unit_by_code(demo_session, "kecamatan-contoh").id
    for unit_id, working in ((None, False), (unit, True)):
        calendar.set_correction(
            demo_session, unit_id=unit_id, day=CUTI_BERSAMA, is_working_day=working, note=""
        )
    assert calendar.remove_correction(demo_session, unit_id=unit, day=CUTI_BERSAMA) is True
    assert calendar.remove_correction(demo_session, unit_id=unit, day=CUTI_BERSAMA) is False
    assert calendar.corrections(demo_session, unit) == {CUTI_BERSAMA: (False, "")}
    assert calendar.remove_correction(demo_session, unit_id=None, day=CUTI_BERSAMA) is True
    assert calendar.corrections(demo_session, unit) == {}


def test_one_global_row_per_day_in_the_database(session: Session) -> None:
    session.add_all(
        CalendarCorrection(unit_id=None, day=CUTI_BERSAMA, is_working_day=False, note=str(i))
        for i in range(2)
    )
    with pytest.raises(IntegrityError):
        session.flush()
