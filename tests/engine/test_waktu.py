"""Parsing the Waktu column of the SOP sources (engine.waktu)."""

from typing import Any

import pytest

from engine.waktu import Waktu, parse_waktu
from storage.errors import CalendarError

# Every distinct Waktu cell in /work/shared/seeds/*.txt (000-004), as written there,
# with the ISO 8601 duration the BPMN files store for it.
SEED_WAKTU: list[tuple[str, str]] = [
    ("1 menit", "PT1M"),  # 000
    ("5 menit", "PT5M"),  # 000, 003, 004
    ("5 Menit", "PT5M"),  # 003
    ("10 menit", "PT10M"),  # 000, 001, 004
    ("15 menit", "PT15M"),  # 000, 002, 003, 004
    ("15 Menit", "PT15M"),  # 002
    ("20 menit", "PT20M"),  # 004
    ("30 menit", "PT30M"),  # 001, 004
    ("30 Menit", "PT30M"),  # 000
    ("60 menit", "PT60M"),  # 001, 002, 003
    ("120 menit", "PT120M"),  # 003
    ("1 jam", "PT1H"),  # 002
    ("2 Jam", "PT2H"),  # 001
    ("1 hari", "P1D"),  # 000, 001, 002, 004
    ("2 hari", "P2D"),  # 002, 004
    ("3 hari", "P3D"),  # 000, 001
    ("4 hari", "P4D"),  # 000
    ("1 minggu", "P1W"),  # 001
    ("1 Minggu", "P1W"),  # 000
    ("3 minggu", "P3W"),  # 002
]


@pytest.mark.parametrize(("text", "iso"), SEED_WAKTU)
def test_every_seed_waktu_parses(text: str, iso: str) -> None:
    waktu = parse_waktu(text)
    assert waktu.iso == iso
    assert waktu.text == text
    assert Waktu.from_iso(iso) == waktu


def test_parse_gives_amount_and_lowercase_unit() -> None:
    assert parse_waktu("2 Jam") == Waktu(amount=2, unit="jam", text="2 Jam")
    waktu = parse_waktu("1 Minggu")
    assert (waktu.amount, waktu.unit, waktu.text) == (1, "minggu", "1 Minggu")


@pytest.mark.parametrize(
    ("text", "normalised"),
    [(" 15 menit ", "15 menit"), ("\t3  hari\n", "3 hari"), ("2\u00a0Jam", "2 Jam"), ("30Menit", "30Menit")],
)
def test_stray_whitespace_is_tolerated(text: str, normalised: str) -> None:
    assert parse_waktu(text).text == normalised


@pytest.mark.parametrize(
    "text",
    ["", "   ", "--------", "menit", "1 bulan", "35 Tahun", "1,5 jam", "1.5 jam", "0 menit",
     "-3 hari", "15 menit 2 jam", "Data kinerja yang telah ditandatangani"],
)
def test_unrecognised_waktu_is_refused_in_indonesian(text: str) -> None:
    with pytest.raises(CalendarError, match="^Waktu tidak dikenali|^Jumlah waktu"):
        parse_waktu(text)


def test_iso_for_each_unit() -> None:
    assert Waktu(15, "menit").iso == "PT15M"
    assert Waktu(1, "jam").iso == "PT1H"
    assert Waktu(3, "hari").iso == "P3D"
    assert Waktu(1, "minggu").iso == "P1W"


def test_from_iso_keeps_given_text_or_makes_one() -> None:
    assert Waktu.from_iso("PT30M", "30 Menit").text == "30 Menit"
    assert Waktu.from_iso("P1W").text == "1 minggu"
    assert Waktu.from_iso("PT2H") == Waktu(2, "jam")


def test_text_does_not_affect_equality_or_hash() -> None:
    assert parse_waktu("30 Menit") == parse_waktu("30 menit")
    assert hash(parse_waktu("30 Menit")) == hash(Waktu(30, "menit"))
    assert parse_waktu("60 menit") != parse_waktu("1 jam")  # same length, different Waktu


@pytest.mark.parametrize("iso", ["P1M", "P1Y", "PT1H30M", "P0D", "PT0M", "1D", "pt5m", "P1.5D", "", "PT"])
def test_unsupported_iso_is_refused(iso: str) -> None:
    with pytest.raises(CalendarError):
        Waktu.from_iso(iso)


@pytest.mark.parametrize(("amount", "unit"), [(0, "menit"), (-1, "hari"), (1, "bulan"), (True, "jam")])
def test_invalid_waktu_values_are_refused(amount: int, unit: Any) -> None:
    with pytest.raises(CalendarError):
        Waktu(amount, unit)
