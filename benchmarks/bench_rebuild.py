"""A no-op rebuild of the figures: `databook figures` with nothing changed, next to a
`make`-style modification-time check over the same inputs and outputs.

After one warm build (run first; it builds whatever is stale and says so), each check is
timed as the median of 5 runs:

- ``databook figures``: the whole command, as a user types it (Python start-up, the demo
  check, reading ``assets.lock``, every script's cache key by content: script, transitive
  ``databook`` modules, input sha256, ``environment.lock``; every output re-hashed);
- ``databook`` keys in-process: the cache keys and the output check of every script
  (:func:`databook.figures.key_parts` with one :class:`databook.modulehash.Scan`, then the
  record check), no process start-up;
- ``make -q``: GNU make asked whether a Makefile with one rule per figure is up to date;
  the rule's prerequisites are the same files the cache key reads (script, modules,
  ``environment.lock``, local input files), its targets the declared outputs. The Makefile
  is written before timing (a make user keeps it by hand); make compares modification
  times only, so it cannot tell a touched file from an edited one;
- Python mtime check: the same comparison with ``os.stat`` in this process.

Scaling: the in-process key time for the 28 scripts and for 4x as many (copies of the
same scripts in a temporary folder, importing the same modules): with each module parsed
once a build, the cost grows with the number of files, not scripts x modules.

showyourwork (its Snakemake DAG check) is not run: see :data:`SHOWYOURWORK`.

Run: DATABOOK_CACHE=... .venv/bin/python benchmarks/bench_rebuild.py
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import median_of  # noqa: E402

from databook import figures, modulehash  # noqa: E402
from databook.assets import cache_dir, ensure_demo, load_lock  # noqa: E402
from databook.modulehash import Scan  # noqa: E402

DATABOOK = Path(sys.executable).with_name("databook")
SHOWYOURWORK = (
    "showyourwork 0.4.3 installs from PyPI (with pulp<2.8 for its snakemake 7), and its "
    "`showyourwork setup` template is offline, but every `showyourwork build`, a dry run "
    "too, runs snakemake with --use-conda (src/showyourwork/cli/commands/run_snakemake.py "
    "at ec893cb), which calls `conda info`, and conda is not installable from PyPI here"
)


def _keys(scripts: list, lock: dict, scan: Scan | None = None) -> dict[str, dict]:
    hashes = {k: a.sha256 for k, a in lock.items() if a.sha256}
    scan = scan or Scan()
    return {
        s.name: figures.key_parts(
            s,
            environment_lock=ROOT / "environment.lock",
            data_mode="demo",
            asset_hashes=hashes,
            available=set(lock),
            scan=scan,
        )
        for s in scripts
    }


def databook_in_process(scripts: list, lock: dict) -> int:
    """Scripts up to date by their cache keys and recorded output hashes (each module
    parsed again, as in a new process)."""
    modulehash._IMPORTS.clear()
    keys = _keys(scripts, lock)
    out = ROOT / "figures"
    return sum(figures._is_current(s, out, figures.key_of(keys[s.name])) for s in scripts)


def dependencies(scripts: list, lock: dict) -> dict[str, tuple[list[Path], list[Path]]]:
    """``{script: (prerequisite files, target files)}``: what the cache key reads."""
    demo = ensure_demo(lock, cache_dir())
    scan = Scan()
    keys = _keys(scripts, lock, scan)
    rules = {}
    for s in scripts:
        inputs = [s.path, ROOT / "environment.lock"]
        inputs += [p for p in scan.local_modules(s.path).values()]
        inputs += [demo[k] for k in keys[s.name]["input_sha256"] if k in demo]
        rules[s.name] = (inputs, [ROOT / "figures" / o for o in s.outputs])
    return rules


def makefile(rules: dict[str, tuple[list[Path], list[Path]]]) -> str:
    lines = [".PHONY: all", "all: " + " ".join(str(t[0]) for _, t in rules.values())]
    for inputs, targets in rules.values():
        # One rule per output keeps it portable (grouped targets need GNU make 4.3).
        for target in targets:
            lines.append(f"{target}: {' '.join(str(p) for p in inputs)}")
            lines.append("\t@echo stale $@")
    return "\n".join(lines) + "\n"


def mtime_check(rules: dict[str, tuple[list[Path], list[Path]]]) -> int:
    """Scripts whose every output exists and is newer than every prerequisite."""
    current = 0
    for inputs, targets in rules.values():
        newest = max(os.stat(p).st_mtime_ns for p in inputs)
        try:
            current += all(os.stat(t).st_mtime_ns >= newest for t in targets)
        except FileNotFoundError:
            pass
    return current


def scaled_keys(scripts: list, lock: dict, copies: int) -> float:
    """Seconds to read and key ``copies`` x the scripts, nothing remembered from before
    (copies in a temporary folder, each with a line of its own: no two alike)."""
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for k in range(copies):
            for s in scripts:
                copy = Path(tmp) / f"{s.path.stem}_{k}.py"
                copy.write_bytes(s.path.read_bytes() + f"# copy {k}\n".encode())
                paths.append(copy)
        modulehash._IMPORTS.clear()
        start = time.perf_counter()
        _keys([figures.FigureScript.read(p) for p in paths], lock)
        return time.perf_counter() - start


def main() -> None:
    env = {**os.environ}
    warm = subprocess.run([DATABOOK, "figures", "--root", ROOT], env=env, capture_output=True)
    summary = warm.stdout.decode().strip().splitlines()[-1:] or [warm.stderr.decode()]
    print(f"warm-up build: {summary[0]}")
    if warm.returncode != 0:
        raise SystemExit(warm.stderr.decode())
    lock = load_lock(ROOT / "assets.lock")
    scripts = figures.in_build(figures.discover(ROOT / "figures_src"), "demo")
    n = len(scripts)

    def noop() -> str:
        proc = subprocess.run(
            [DATABOOK, "figures", "--root", ROOT], env=env, capture_output=True, check=True
        )
        return proc.stdout.decode().strip().splitlines()[-1]

    noop()
    t_cli, said = median_of(noop)
    databook_in_process(scripts, lock)
    t_keys, current = median_of(lambda: databook_in_process(scripts, lock))
    rules = dependencies(scripts, lock)
    with tempfile.NamedTemporaryFile("w", suffix=".mk", delete=False) as mk:
        mk.write(makefile(rules))
    try:
        make = shutil.which("make")
        t_make = make_state = None
        if make:

            def ask() -> int:
                return subprocess.run([make, "-q", "-f", mk.name, "all"]).returncode

            ask()
            t_make, code = median_of(ask)
            make_state = "up to date" if code == 0 else "stale (an input is newer than its output)"
    finally:
        os.unlink(mk.name)
    t_stat, newer = median_of(lambda: mtime_check(rules))
    t_one = scaled_keys(scripts, lock, 1)
    t_four = scaled_keys(scripts, lock, 4)
    files = {p for inputs, _ in rules.values() for p in inputs}

    print(f"{n} figure scripts, {len(files)} prerequisite files, each check median of 5")
    print(f"databook figures (no-op command):  {t_cli:.3f} s   ({said})")
    print(f"databook keys + output check:      {t_keys:.3f} s   ({current}/{n} up to date)")
    if t_make is not None:
        print(f"make -q (mtimes):                  {t_make:.3f} s   ({make_state})")
    else:
        print("make -q: make is not installed: skipped")
    print(f"Python mtime check:                {t_stat:.4f} s   ({newer}/{n} up to date)")
    print(f"showyourwork DAG check: skipped: {SHOWYOURWORK}")
    if t_make is not None:
        print(f"ratio databook figures / make -q:  {t_cli / t_make:.1f}x")
    print(f"ratio databook keys / Python mtime check (in-process): {t_keys / t_stat:.0f}x")
    scan = Scan()
    modules = len({f for s in scripts for f in scan.local_modules(s.path).values()})
    print(
        f"read + keys, nothing remembered: {n} scripts ({n + modules} files) {t_one:.3f} s; "
        f"{4 * n} scripts ({4 * n + modules} files) {t_four:.3f} s "
        f"(x{t_four / t_one:.1f} for x{(4 * n + modules) / (n + modules):.1f} the files)"
    )
    print(json.dumps({"noop_s": t_cli, "keys_s": t_keys, "make_s": t_make, "stat_s": t_stat}))


if __name__ == "__main__":
    main()
