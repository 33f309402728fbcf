"""Rewrite the golden files from the code in this tree, on purpose, and say what changed.

    python -m tests.golden.regenerate            # rewrite what changed, report it
    python -m tests.golden.regenerate --check    # report only; exit 1 if anything differs
    python -m tests.golden.regenerate baseline_r0 tiny_r0   # only these cases

Only files inside tests/golden/ are written: a case's file is rewritten when its compared
content changed (a different ``made_with`` alone does not rewrite it), and a JSON file there
that carries the golden format tag but belongs to no case any more is deleted. A commit that
rewrites golden files must say why the results changed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the tree's `tests` and `sim` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

from tests.golden.cases import (
    CASES,
    FORMAT,
    GOLDEN_DIR,
    REGENERATE,
    describe,
    differences,
    dumps,
    load,
    record_portably,
)


def _write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` (inside tests/golden) through a temporary file and a rename."""
    assert path.resolve().parent == GOLDEN_DIR, path
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=GOLDEN_DIR)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _stale() -> list[Path]:
    """Golden files (carrying the format tag) that belong to no case."""
    known = {c.path for c in CASES}
    out = []
    for path in sorted(GOLDEN_DIR.glob("*.json")):
        if path in known:
            continue
        try:
            tagged = json.loads(path.read_text(encoding="utf-8")).get("format") == FORMAT
        except (OSError, ValueError, AttributeError):
            tagged = False
        if tagged:
            out.append(path)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=REGENERATE, description=__doc__.split("\n\n")[0])
    parser.add_argument("cases", nargs="*", help="case names (default: all)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when a file would change")
    args = parser.parse_args(argv)
    names = {c.name for c in CASES}
    unknown = [n for n in args.cases if n not in names]
    if unknown:
        print(f"regenerate: error: unknown case(s) {', '.join(unknown)}; cases: {', '.join(sorted(names))}",
              file=sys.stderr)
        return 2
    chosen = [c for c in CASES if not args.cases or c.name in args.cases]

    changed = 0
    records = record_portably(chosen)  # on numpy's baseline code paths: the same bits on every machine
    for case in chosen:
        new = records[case.name]
        old = load(case)
        if old is None:
            print(f"golden case {case.name}: new file {case.path.name}")
        else:
            diffs = differences(old, new)
            if not diffs:
                print(f"golden case {case.name}: unchanged")
                continue
            print(describe(case.name, diffs, old_versions=old.get("made_with"), new_versions=new["made_with"]))
        changed += 1
        if not args.check:
            _write(case.path, dumps(new))

    stale = _stale() if not args.cases else []
    for path in stale:
        print(f"golden file {path.name}: belongs to no case; " + ("would be deleted" if args.check else "deleted"))
        if not args.check:
            path.unlink()
    changed += len(stale)

    if not changed:
        print("golden files: all unchanged")
        return 0
    verb = "differ" if args.check else "changed (written or deleted)"
    print(f"golden files: {changed} {verb}. A commit that changes them must say why the results changed.")
    return 1 if args.check else 0


if __name__ == "__main__":
    sys.exit(main())
