"""Render the SOP-AP document of every diagram in bpmn/ to PDF (and PNG pages), timing each.

    .venv/bin/python scripts/sop_documents.py [--out test-artifacts/sopdoc] [--kertas A4|F4] [--png] [SOP ...]

Reads the .bpmn files directly (no database): the unit shown is a demo unit of
the SOP's kind, the institution "Pemerintah Kabupaten Contoh". ``--png``
rasterises every page with ``pdftoppm`` (Debian's poppler-utils) at 100 dpi, for
looking at the documents; the PNG of the LAKIP SOP's first page is
``sop_penyusunan_lakip_dinas-1.png``. Exit status 1 if a document fails.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

from engine.sop_document import document_from_bpmn
from storage.demo import DEMO_INSTANSI, DEMO_UNITS
from web import sop_render

REPO = Path(__file__).resolve().parents[1]

UNIT_OF_KIND = {unit.kind: unit.name for unit in DEMO_UNITS}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "test-artifacts" / "sopdoc")
    parser.add_argument("--kertas", default="A4", choices=["A4", "F4"])
    parser.add_argument("--png", action="store_true", help="also write PNG pages with pdftoppm")
    parser.add_argument("sops", nargs="*", help="process ids (default: every diagram in bpmn/)")
    args = parser.parse_args(argv)
    every = sorted((REPO / "bpmn").glob("*.bpmn"))
    paths = [p for p in every if p.stem in args.sops] if args.sops else every
    names = {p.stem: document_from_bpmn(p.read_bytes()).identity.nama_sop for p in every}
    args.out.mkdir(parents=True, exist_ok=True)
    pdftoppm = shutil.which("pdftoppm")
    if args.png and pdftoppm is None:
        print("pdftoppm tidak ada (apt-get install poppler-utils): PNG dilewati", file=sys.stderr)
    started = time.perf_counter()
    import weasyprint  # the first import loads Pango and fontconfig: timed apart from the documents

    print(f"WeasyPrint {weasyprint.__version__} dimuat dalam {time.perf_counter() - started:.2f} s")
    failed = 0
    for path in paths:
        data = path.read_bytes()
        kind = document_from_bpmn(data).unit_kind
        doc = document_from_bpmn(data, version=1, called_names=names, unit_name=UNIT_OF_KIND.get(kind),
                                 institution=DEMO_INSTANSI)
        started = time.perf_counter()
        try:
            rendered = sop_render.render_pdf(doc, paper=sop_render.paper_named(args.kertas))
        except Exception as exc:  # report every SOP, then fail
            failed += 1
            print(f"GAGAL {path.stem}: {exc}", file=sys.stderr)
            continue
        elapsed = time.perf_counter() - started
        target = args.out / f"{path.stem}.pdf"
        target.write_bytes(rendered.pdf or b"")
        print(f"{path.stem:<42} {len(doc.rows):>3} langkah {len(rendered.layouts)} halaman "
              f"{elapsed:6.2f} s -> {target}")
        if args.png and pdftoppm is not None:
            subprocess.run([pdftoppm, "-r", "100", "-png", str(target), str(args.out / path.stem)], check=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
