"""Generate the BPMN 2.0 diagrams in `bpmn/` from the SOP specs in `scripts/sops/`.

Usage: `python scripts/bpmn_layout.py [--write [--force]] [--check] [--out-dir DIR] [SPEC ...]`
(default SPEC: every `scripts/sops/*.toml`).

A thin command line over the layout generator in `engine/layout.py` (spec format:
bpmn/README.md, "Spec files"). Each spec becomes `<process id>.bpmn`. The committed
`.bpmn` files are the source of truth (analysts edit them in bpmn.io), so the script
never overwrites a differing file unless told to:

- no flag: print a unified diff of what would change; exit 1 if anything differs.
- `--check`: list the files that differ; exit 1 if any does.
- `--write`: write files that do not exist yet; exit 2 if an existing file differs
  (add `--force` to overwrite it).

Exit codes: 0 nothing differs / written, 1 differs, 2 overwrite refused, 3 invalid spec.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Iterable
from pathlib import Path

from engine.layout import Spec, SpecError, build_graph, build_xml, layout, load_spec, spec_ids

__all__ = ["Spec", "SpecError", "build_graph", "build_xml", "layout", "load_spec", "main", "spec_ids"]

REPO_ROOT = Path(__file__).resolve().parent.parent
SPEC_DIR = REPO_ROOT / "scripts" / "sops"
BPMN_DIR = REPO_ROOT / "bpmn"


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (0 same/written, 1 differs, 2 refused, 3 bad spec)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("specs", nargs="*", type=Path, metavar="SPEC",
                        help="spec TOML files (default: scripts/sops/*.toml)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="write diagrams that do not exist yet")
    mode.add_argument("--check", action="store_true", help="only report which diagrams differ")
    parser.add_argument("--force", action="store_true", help="with --write: overwrite differing files")
    parser.add_argument("--out-dir", type=Path, default=BPMN_DIR, help="output folder (default: bpmn/)")
    args = parser.parse_args(argv)
    if args.force and not args.write:
        parser.error("--force hanya berlaku bersama --write")

    paths = args.specs or sorted(SPEC_DIR.glob("*.toml"))
    if not paths:
        print(f"tidak ada spec di {SPEC_DIR}", file=sys.stderr)
        return 3
    siblings = {p for path in paths for p in path.resolve().parent.glob("*.toml")}
    known = spec_ids([*SPEC_DIR.glob("*.toml"), *siblings, *paths])
    specs: list[Spec] = []
    errors: list[str] = []
    for path in paths:
        try:
            specs.append(load_spec(path, known))
        except SpecError as exc:
            errors.append(str(exc))
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    if errors:
        return 3

    differing, refused = [], []
    for spec in specs:
        target = args.out_dir / f"{spec.id}.bpmn"
        new = build_xml(spec)
        old = target.read_bytes() if target.exists() else None
        if old == new:
            continue
        differing.append(target)
        if args.write:
            if old is not None and not args.force:
                refused.append(target)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(new)
            print(f"{'ditimpa' if old is not None else 'ditulis'}: {target}")
        elif args.check:
            print(f"{'berbeda' if old is not None else 'belum ada'}: {target} (spec: {spec.path})")
        else:
            sys.stdout.writelines(_diff(target, old, new))
    if refused:
        for target in refused:
            print(f"error: {target} sudah ada dan berbeda dari hasil generator; tidak ditimpa "
                  "(file .bpmn yang di-commit adalah sumber kebenaran; pakai --write --force "
                  "bila memang ingin menimpanya)", file=sys.stderr)
        return 2
    if differing and not args.write:
        print(f"{len(differing)} diagram berbeda dari hasil generator", file=sys.stderr)
        return 1
    return 0


def _diff(target: Path, old: bytes | None, new: bytes) -> Iterable[str]:
    old_lines = old.decode("utf-8").splitlines(keepends=True) if old is not None else []
    return difflib.unified_diff(old_lines, new.decode("utf-8").splitlines(keepends=True),
                                fromfile=str(target) if old is not None else "/dev/null",
                                tofile=f"{target} (hasil generator)")


if __name__ == "__main__":
    sys.exit(main())
