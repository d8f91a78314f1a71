"""Employee import benchmark (issue 9): 5,000 rows, dry run and apply, then the same file again.

    .venv/bin/python scripts/import_benchmark.py [--rows 5000] [--postgres URL] [--xlsx]

Builds a fresh database (migrated, demo organisation, no diagrams), writes a
staffing export of ``--rows`` people over the demo units (CSV, or XLSX with
``--xlsx``), then times: reading the file, the dry run, applying it, and
re-importing it (which must change nothing). Target: read + dry run + apply of
5,000 rows under 10 s. Prints each figure and "TERCAPAI"/"TIDAK TERCAPAI";
asserts nothing (wall-clock figures are noisy).
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine import employee_import  # noqa: E402
from engine.database import open_database  # noqa: E402
from engine.settings import load_settings  # noqa: E402
from storage.demo import DEMO_UNITS, load_demo_org  # noqa: E402

TARGET_SECONDS = 10.0


def _rows(count: int) -> list[list[str]]:
    """A header and ``count`` people over every demo jabatan; NIPs unique (birth day n // 1000, serial n % 1000)."""
    jabatan = [(u.code, r.name) for u in DEMO_UNITS for r in u.roles]
    rows = [["NIP", "Nama", "Jabatan", "Unit Kerja"]]
    for n in range(count):
        unit, role = jabatan[n % len(jabatan)]
        block = n // 1000
        born = f"{1970 + block % 30}{1 + block // 30 % 12:02d}{1 + block // 360 % 28:02d}"
        nip = f"{born}2010{1 + n % 12:02d}{1 + n % 2}{n % 1000:03d}"
        rows.append([nip, f"Pegawai {n}, S.E.", role, unit])
    return rows


def _file(rows: list[list[str]], xlsx: bool) -> tuple[str, bytes]:
    if not xlsx:
        buffer = io.StringIO()
        csv.writer(buffer).writerows(rows)
        return "pegawai.csv", buffer.getvalue().encode()
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return "pegawai.xlsx", out.getvalue()


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--postgres", default=None, help="a PostgreSQL URL instead of a temporary SQLite file")
    parser.add_argument("--xlsx", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.postgres or f"sqlite:///{Path(folder) / 'alur.sqlite3'}"
        settings = load_settings()
        database = open_database(type(settings)(**{**settings.__dict__, "database_url": url}))
        database.migrate()
        with database.transaction() as session:
            load_demo_org(session)
        name, content = _file(_rows(args.rows), args.xlsx)
        figures = {}
        for round_name in ("pertama", "ulang"):
            started = time.perf_counter()
            rows = employee_import.read_rows(name, content)
            read = time.perf_counter()
            with database.transaction() as session:
                result = employee_import.plan(session, rows)
                planned = time.perf_counter()
                employee_import.apply(session, result, by_id=None, now=datetime.now(UTC))
            applied = time.perf_counter()
            figures[round_name] = (read - started, planned - read, applied - planned, result)
        database.dispose()
    total = sum(figures["pertama"][:3])
    first, again = figures["pertama"][3], figures["ulang"][3]
    print(f"berkas: {name}, {args.rows} baris, {len(content) / 1024:.0f} KiB, basis data: "
          f"{'PostgreSQL' if args.postgres else 'SQLite'}")
    for round_name, (read, planned, applied, result) in figures.items():
        print(f"impor {round_name}: baca {read:.2f} s, pratinjau {planned:.2f} s, terapkan {applied:.2f} s; "
              f"{len(result.added)} ditambah, {len(result.changed)} diubah, {len(result.deactivated)} dinonaktifkan, "
              f"{len(result.problems)} masalah")
    verdict = "TERCAPAI" if total < TARGET_SECONDS else "TIDAK TERCAPAI"
    print(f"baca + pratinjau + terapkan {args.rows} baris: {total:.2f} s (target < {TARGET_SECONDS:.0f} s) {verdict}")
    unchanged = again.empty and len(first.added) > 0
    print(f"impor ulang berkas yang sama tidak mengubah apa pun: {'TERCAPAI' if unchanged else 'TIDAK TERCAPAI'}")


if __name__ == "__main__":
    main()
