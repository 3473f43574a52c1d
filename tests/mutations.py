"""Mutation check: plant known bugs in the library and show that the tests catch each one.

Every ``tests/mutants/<area>.py`` holds ``MUTATIONS``, a list of dicts with ``name``,
``file`` (relative to the project root), ``old`` (source text that occurs exactly once),
``new`` (the planted bug) and ``tests`` (pytest node ids that must fail with it). This
script applies one mutation at a time, runs its tests in a fresh interpreter, restores
the file whatever happens, and exits non-zero if any mutation survives or no longer
applies. Run it with ``python tests/mutations.py [NAME ...]``.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTANTS = Path(__file__).resolve().parent / "mutants"


def load() -> list[dict]:
    """All mutations of ``tests/mutants/*.py``, in file order."""
    mutations = []
    for path in sorted(MUTANTS.glob("*.py")):
        spec = importlib.util.spec_from_file_location(f"mutants_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for mutation in module.MUTATIONS:
            mutations.append({**mutation, "source": path.name})
    return mutations


def run(mutation: dict) -> tuple[str, str]:
    """Apply ``mutation``, run its tests; return (``caught``/``SURVIVED``/``STALE``, detail)."""
    target = ROOT / mutation["file"]
    original = target.read_text(encoding="utf-8")
    count = original.count(mutation["old"])
    if count != 1:
        return "STALE", f"'old' text occurs {count} times in {mutation['file']}"
    try:
        target.write_text(original.replace(mutation["old"], mutation["new"]), encoding="utf-8")
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
             *mutation["tests"]],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )  # fmt: skip
    finally:
        target.write_text(original, encoding="utf-8")
    last = (proc.stdout.strip().splitlines() or [""])[-1]
    return ("caught" if proc.returncode != 0 else "SURVIVED"), last


def main(names: list[str]) -> int:
    mutations = [m for m in load() if not names or m["name"] in names]
    if not mutations:
        print(f"no mutations named {names}", file=sys.stderr)
        return 2
    bad = 0
    for mutation in mutations:
        status, detail = run(mutation)
        bad += status != "caught"
        print(f"{status:>8}  {mutation['name']}  ({mutation['source']}): {detail}", flush=True)
    print(f"{len(mutations) - bad} of {len(mutations)} mutations caught")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
