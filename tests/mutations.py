"""Mutation check: plant known bugs in the library and show that the tests catch each one.

Every ``tests/mutants/<area>.py`` holds ``MUTATIONS``, a list of dicts with ``name``,
``file`` (relative to the project root), ``old`` (source text that occurs exactly once),
``new`` (the planted bug) and ``tests`` (pytest node ids that must fail with it). This
script copies the project to a temporary folder (the working tree is never touched, so
it is safe to keep working while it runs), applies one mutation at a time there, runs its
tests in a fresh interpreter on the copy, restores the file, and exits non-zero if any
mutation survives or no longer applies. Run it with ``python tests/mutations.py [NAME ...]``.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
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


def copy_project(into: Path) -> Path:
    """A copy of the project (sources, tests, locks; no caches or builds) in ``into``."""
    skip = shutil.ignore_patterns(
        ".git", ".venv", "_build", "figures", "node_modules", "__pycache__", "*.egg-info",
        ".pytest_cache", ".ruff_cache",
    )  # fmt: skip
    shutil.copytree(ROOT, into, ignore=skip, symlinks=True)
    return into


def run(mutation: dict, tree: Path) -> tuple[str, str]:
    """Apply ``mutation`` in ``tree`` (a copy), run its tests; return a status and detail."""
    target = tree / mutation["file"]
    original = target.read_text(encoding="utf-8")
    count = original.count(mutation["old"])
    if count != 1:
        return "STALE", f"'old' text occurs {count} times in {mutation['file']}"
    env = {**os.environ, "PYTHONPATH": str(tree / "src"), "DATABOOK_ROOT": str(tree)}
    env.setdefault("DATABOOK_REAL_DATA", str(ROOT.parent / "shared" / "data" / "real"))
    try:
        target.write_text(original.replace(mutation["old"], mutation["new"]), encoding="utf-8")
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
             *mutation["tests"]],
            cwd=tree,
            env=env,
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
    with tempfile.TemporaryDirectory(prefix="databook-mutations-") as scratch:
        tree = copy_project(Path(scratch) / "project")
        for mutation in mutations:
            status, detail = run(mutation, tree)
            bad += status != "caught"
            print(f"{status:>8}  {mutation['name']}  ({mutation['source']}): {detail}", flush=True)
    print(f"{len(mutations) - bad} of {len(mutations)} mutations caught")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
