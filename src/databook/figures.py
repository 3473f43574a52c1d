"""Run the figure scripts in ``figures_src/``: only those whose inputs changed.

A figure script is a plain Python file that runs alone. It declares, as module-level
literals, ``OUTPUTS`` (file names it writes) and optionally ``INPUTS`` (asset keys of
``assets.lock``). For each script we compute a cache key from the script, the
``databook`` modules it imports (transitively), the sha256 of its input assets,
``environment.lock`` and the data mode; a script runs only when its key changed or an
output is missing or altered. Outputs are written to a staging folder and moved into
place only after the script succeeded, then a provenance record is written beside them.

A record (``<script>.provenance.json``) holds everything the key was made of, piece by
piece (script sha256, the sha256 of each ``databook`` module, each input's sha256 and
dandiset/version/path, the ``environment.lock`` sha256, the data mode), so that
``verify`` and :mod:`databook.provenance` can say *which* piece changed; and what the
run was: git commit and whether the tree was dirty, versions of the packages that
matter, wall time and peak memory.

Peak memory is the child's own high-water mark (``VmHWM`` of ``/proc/self/status``, or
``ru_maxrss`` where there is no ``/proc``; the larger of it and the ``ru_maxrss`` of the
processes it waited for), read inside the child at exit by a small wrapper
(:data:`_WRAPPER`): our runner is threaded, so ``RUSAGE_CHILDREN`` deltas in the parent
would mix up concurrent scripts, and a child's own ``ru_maxrss`` starts at the RSS of
the runner that forked it (Linux keeps it across exec).
A script that leaves with ``os._exit`` has no peak recorded (``null``).
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from databook._atomic import atomic_path
from databook._hashing import sha256_file
from databook._process import run_tree
from databook.errors import DatabookError
from databook.figureparams import VARIABLE, encode
from databook.modulehash import Scan, imported_modules

__all__ = [
    "FigureError",
    "FigureResult",
    "FigureScript",
    "discover",
    "in_build",
    "run_figures",
    "verify",
]

CACHE_VERSION = "databook-figure-cache-v2"
DATA_MODES = ("demo", "dandi")
#: Distributions whose versions every record carries (besides Python itself).
KEY_PACKAGES = ("numpy", "scipy", "pynwb", "h5py", "matplotlib", "mystmd")
PEAK_VARIABLE = "DATABOOK_PEAK_FILE"

#: Runs a figure script as ``python script.py`` would, then writes its peak RSS (KiB).
_WRAPPER = """\
import atexit, os, resource, runpy, sys
def _peak():
    # VmHWM: this process's own high-water mark. ru_maxrss would not do: Linux keeps it
    # across fork and exec, so it starts at the RSS of the (large) runner that forked us.
    kib = None
    try:
        with open("/proc/self/status") as f:
            kib = next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))
    except (OSError, StopIteration):
        kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kib = max(kib, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    if os.environ.get("DATABOOK_PEAK_FILE"):  # unset in `databook run`: not recorded
        with open(os.environ["DATABOOK_PEAK_FILE"], "w") as f:
            f.write(str(kib))
atexit.register(_peak)
sys.argv = sys.argv[1:]
sys.path[0] = os.path.dirname(os.path.abspath(sys.argv[0]))
runpy.run_path(sys.argv[0], run_name="__main__")
"""


class FigureError(DatabookError, RuntimeError):
    """A figure script is malformed, failed, or did not write what it declared."""


#: ``(path, sha256 of its bytes)`` -> what :meth:`FigureScript.read` made of it.
_READ: dict[tuple[Path, str], FigureScript] = {}


@dataclass(frozen=True)
class FigureScript:
    """One ``figures_src/fig_<name>.py`` and what it declares."""

    path: Path
    outputs: tuple[str, ...]
    inputs: tuple[str, ...] = ()
    parameters: dict = field(default_factory=dict, compare=False, hash=False)
    demo_only: bool = False
    data: str = "demo"
    optional_inputs: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.path.stem

    @classmethod
    def read(cls, path: Path) -> FigureScript:
        """Parse ``OUTPUTS``/``INPUTS``/``OPTIONAL_INPUTS`` (lists of text),
        ``PARAMETERS`` (a dict, see :mod:`databook.figureparams`), ``DEMO_ONLY`` and
        ``DATA`` without importing the script (so a broken script can't hang us).

        ``DATA = "dandi"`` marks a script of an "On real data" section: it draws from
        pinned real assets and runs only in a ``--data dandi`` build. ``OPTIONAL_INPUTS``
        are asset keys or glob patterns of keys (``"alm-*"``) the script uses when a
        verified copy is in the cache (e.g. every session of a dandiset, of which a
        machine without network may hold only some); ``INPUTS`` are required.
        """
        source = path.read_bytes()
        memo = (path, hashlib.sha256(source).hexdigest())
        if memo in _READ:  # the same bytes read before in this process (by content)
            return replace(_READ[memo], parameters=dict(_READ[memo].parameters))
        try:
            tree = ast.parse(source, filename=str(path))
        except SyntaxError as err:
            raise FigureError(f"{path}: cannot parse: {err}") from err
        # The build's Scan asks for the script's imports next: from this tree, not a reparse.
        imported_modules(source, None, filename=str(path), is_package=False, tree=tree)
        declared: dict[str, tuple[str, ...]] = {}
        extra: dict[str, Any] = {"PARAMETERS": {}, "DEMO_ONLY": False, "DATA": "demo"}
        for node in tree.body:
            if isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Name) and target.id in extra:
                        extra[target.id] = _literal(path, target.id, node.value)
                    lists = ("OUTPUTS", "INPUTS", "OPTIONAL_INPUTS")
                    if isinstance(target, ast.Name) and target.id in lists:
                        try:
                            value = ast.literal_eval(node.value)
                        except ValueError as err:
                            raise FigureError(
                                f"{path}: {target.id} must be a literal list of strings"
                            ) from err
                        if isinstance(value, str) or not all(isinstance(v, str) for v in value):
                            raise FigureError(f"{path}: {target.id} must be a list of strings")
                        declared[target.id] = tuple(value)
        outputs = declared.get("OUTPUTS", ())
        if not outputs:
            raise FigureError(f"{path}: declares no OUTPUTS (e.g. OUTPUTS = ['{path.stem}.png'])")
        for out in outputs:
            if Path(out).name != out:
                raise FigureError(f"{path}: output {out!r} must be a bare file name")
        if not isinstance(extra["PARAMETERS"], dict):
            raise FigureError(f"{path}: PARAMETERS must be a literal dict {{name: default}}")
        if not isinstance(extra["DEMO_ONLY"], bool):
            raise FigureError(f"{path}: DEMO_ONLY must be True or False")
        if extra["DATA"] not in DATA_MODES:
            raise FigureError(f"{path}: DATA must be one of {DATA_MODES}, got {extra['DATA']!r}")
        _READ[memo] = cls(
            path=path,
            outputs=outputs,
            inputs=declared.get("INPUTS", ()),
            parameters=extra["PARAMETERS"],
            demo_only=extra["DEMO_ONLY"],
            data=extra["DATA"],
            optional_inputs=declared.get("OPTIONAL_INPUTS", ()),
        )
        return replace(_READ[memo], parameters=dict(extra["PARAMETERS"]))

    def optional_keys(self, keys: Iterable[str]) -> list[str]:
        """The lock keys (of ``keys``) that ``OPTIONAL_INPUTS`` names, sorted."""
        from fnmatch import fnmatchcase

        return sorted(
            k for k in keys if any(fnmatchcase(k, pattern) for pattern in self.optional_inputs)
        )


def _literal(path: Path, name: str, node: ast.expr) -> Any:
    try:
        return ast.literal_eval(node)
    except ValueError as err:
        raise FigureError(f"{path}: {name} must be a literal") from err


@dataclass
class FigureResult:
    """What happened to one script in a run."""

    name: str
    status: str  # "built", "cached" or "failed"
    seconds: float = 0.0
    error: str = ""
    outputs: list[Path] = field(default_factory=list)


def discover(figures_src: Path) -> list[FigureScript]:
    """All ``fig_*.py`` scripts in ``figures_src``, sorted by name."""
    return [FigureScript.read(p) for p in sorted(figures_src.glob("fig_*.py"))]


def in_build(scripts: Iterable[FigureScript], data_mode: str) -> list[FigureScript]:
    """The scripts a build in ``data_mode`` runs: a demo build runs the demo scripts, a
    dandi build those and the real-data (``DATA = "dandi"``) ones."""
    if data_mode not in DATA_MODES:
        raise ValueError(f"data mode must be one of {DATA_MODES}, got {data_mode!r}")
    return [s for s in scripts if data_mode == "dandi" or s.data == "demo"]


def key_parts(
    script: FigureScript,
    *,
    environment_lock: Path,
    data_mode: str,
    asset_hashes: dict[str, str],
    package_dir: Path | None = None,
    available: Iterable[str] | None = None,
    scan: Scan | None = None,
) -> dict:
    """Everything that can change a figure's output, each piece by its sha256.

    Keys: ``script_sha256``, ``modules`` (``{"databook.x": sha256}``), ``input_sha256``
    (``{asset key: sha256}``: the required inputs and the optional ones in ``available``,
    the keys with a verified copy), ``missing_inputs`` (optional inputs not available;
    only when there are any), ``environment_lock_sha256`` and ``data_mode`` (the data the
    script draws from: its ``DATA``, which ``data_mode`` must allow).

    ``scan`` is the :class:`databook.modulehash.Scan` of the build, so that every file is
    read and parsed once for all scripts (``package_dir`` is then the scan's); without
    one, a scan of this script alone is made.
    """
    if data_mode not in DATA_MODES or (script.data == "dandi" and data_mode != "dandi"):
        raise FigureError(f"{script.path.name} draws from {script.data} data, not {data_mode}")
    optional = script.optional_keys(asset_hashes)
    have = set(optional if available is None else available)
    used = [*script.inputs, *(k for k in optional if k in have and k not in script.inputs)]
    missing = [k for k in optional if k not in have and k not in script.inputs]
    scan = scan or Scan(package_dir)
    parts = {
        "script_sha256": scan.sha256(script.path),
        "modules": scan.module_hashes(script.path),
        "input_sha256": {key: asset_hashes[key] for key in used},
        "environment_lock_sha256": (
            scan.sha256(environment_lock) if environment_lock.is_file() else "none"
        ),
        "data_mode": script.data,
    }
    if missing:
        parts["missing_inputs"] = missing
    return parts


def key_of(parts: dict) -> str:
    """The cache key of :func:`key_parts`."""
    text = json.dumps({"version": CACHE_VERSION, **parts}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def cache_key(
    script: FigureScript,
    *,
    environment_lock: Path,
    data_mode: str,
    asset_hashes: dict[str, str],
    package_dir: Path | None = None,
    available: Iterable[str] | None = None,
) -> str:
    """Hash of everything that can change a figure's output."""
    return key_of(
        key_parts(
            script,
            environment_lock=environment_lock,
            data_mode=data_mode,
            asset_hashes=asset_hashes,
            package_dir=package_dir,
            available=available,
        )
    )


def package_versions() -> dict[str, str]:
    """Versions of Python and of :data:`KEY_PACKAGES` ("not installed" if absent)."""
    from importlib import metadata

    versions = {"python": platform.python_version()}
    for name in KEY_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def git_state(root: Path) -> tuple[str, bool | None]:
    """``(commit, dirty)`` of the git tree at ``root``; ``("unknown", None)`` outside git.

    Dirty means tracked files differ from the commit (untracked files are ignored).
    """
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown", None
    return head, bool(dirty)


def _record_path(out_dir: Path, script: FigureScript) -> Path:
    return out_dir / f"{script.name}.provenance.json"


def _write_json_atomic(path: Path, data: dict) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _is_current(script: FigureScript, out_dir: Path, key: str) -> bool:
    record_file = _record_path(out_dir, script)
    try:
        record = json.loads(record_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if record.get("cache_key") != key:
        return False
    recorded = {o["file"]: o["sha256"] for o in record.get("outputs", [])}
    for name in script.outputs:
        path = out_dir / name
        if not path.is_file() or recorded.get(name) != sha256_file(path):
            return False
    return True


def _execute(script: FigureScript, staging: Path, env: dict, timeout: float) -> FigureResult:
    """Run ``script`` with its outputs going to ``staging``: "built" with them there (and
    ``seconds``), or "failed" with the reason."""
    env = {
        **env,
        "DATABOOK_FIGURE_DIR": str(staging),
        "MPLBACKEND": "Agg",
        "PYTHONHASHSEED": "0",
    }
    start = time.perf_counter()
    try:
        proc = run_tree(
            [sys.executable, "-c", _WRAPPER, str(script.path)],
            cwd=script.path.parent,
            env=env,
            timeout=timeout,
            capture=True,
        )
    except subprocess.TimeoutExpired:
        return FigureResult(
            script.name, "failed", time.perf_counter() - start, f"timed out after {timeout} s"
        )
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        return FigureResult(script.name, "failed", seconds, f"exit code {proc.returncode}\n{tail}")
    missing = [name for name in script.outputs if not (staging / name).is_file()]
    if missing:
        return FigureResult(
            script.name, "failed", seconds, f"did not write declared output(s) {', '.join(missing)}"
        )
    return FigureResult(script.name, "built", seconds)


def _run_one(
    script: FigureScript,
    *,
    out_dir: Path,
    key: str,
    data_mode: str,
    timeout: float,
    provenance: dict,
) -> FigureResult:
    staging = Path(tempfile.mkdtemp(prefix=f".staging-{script.name}-", dir=out_dir))
    peak_file = staging / ".peak-rss-kib"
    env = {**os.environ, PEAK_VARIABLE: str(peak_file), "DATABOOK_DATA": script.data}
    env.pop(VARIABLE, None)  # the article's figures use each script's own defaults
    try:
        result = _execute(script, staging, env, timeout)
        if result.status != "built":
            return result
        try:
            peak_mib = round(int(peak_file.read_text()) / 1024, 1)
        except (OSError, ValueError):
            peak_mib = None
        # No record may claim outputs that are being replaced: drop it first, so a kill
        # from here on leaves outputs without a record, which the next run rebuilds.
        _record_path(out_dir, script).unlink(missing_ok=True)
        outputs = []
        for name in script.outputs:
            target = out_dir / name
            os.replace(staging / name, target)
            outputs.append(target)
        record = {
            **provenance,
            "script": str(script.path.relative_to(script.path.parent.parent)),
            "cache_key": key,
            "wall_time_s": round(result.seconds, 3),
            "peak_memory_mib": peak_mib,
            "outputs": [
                {"file": p.name, "sha256": sha256_file(p), "bytes": p.stat().st_size}
                for p in outputs
            ],
        }
        _write_json_atomic(_record_path(out_dir, script), record)
        return FigureResult(script.name, "built", result.seconds, outputs=outputs)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def run_script(
    script: FigureScript,
    out_dir: Path,
    *,
    parameters: dict[str, Any] | None = None,
    timeout: float = 600.0,
) -> FigureResult:
    """Run one figure script with ``parameters`` overriding its ``PARAMETERS``, for
    ``databook run``: no cache, no provenance record; each output appears in ``out_dir``
    complete or not at all.

    Raises
    ------
    FigureError
        If ``parameters`` names something the script does not declare.
    """
    given = dict(parameters or {})
    unknown = sorted(set(given) - set(script.parameters))
    if unknown:
        raise FigureError(
            f"{script.path.name} has no parameter {', '.join(unknown)}; its parameters: "
            f"{', '.join(script.parameters) or 'none'}"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".staging-{script.name}-", dir=out_dir))
    env = {**os.environ, VARIABLE: encode(given)}
    try:
        result = _execute(script, staging, env, timeout)
        if result.status == "built":
            for name in script.outputs:
                os.replace(staging / name, out_dir / name)
                result.outputs.append(out_dir / name)
        return result
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def run_figures(
    figures_src: Path,
    out_dir: Path,
    *,
    environment_lock: Path,
    data_mode: str = "demo",
    asset_hashes: dict[str, str] | None = None,
    asset_records: dict[str, dict] | None = None,
    only: Iterable[str] | None = None,
    force: bool = False,
    jobs: int | None = None,
    timeout: float = 600.0,
    available: Iterable[str] | None = None,
) -> list[FigureResult]:
    """Run every stale figure script of a ``data_mode`` build; return one result per script.

    ``asset_hashes`` maps each input asset key to its sha256 (from ``assets.lock``);
    ``asset_records`` adds the dandiset/version/path written to provenance records;
    ``available`` are the keys with a verified copy (which of a script's
    ``OPTIONAL_INPUTS`` it gets; default: all). Naming in ``only`` a real-data script in
    a demo build is refused. Raises :class:`FigureError` listing every failed script
    after all have run.
    """
    if data_mode not in DATA_MODES:
        raise ValueError(f"data mode must be one of {DATA_MODES}, got {data_mode!r}")
    asset_hashes = asset_hashes or {}
    asset_records = asset_records or {}
    available = None if available is None else set(available)
    every = discover(figures_src)
    scripts = in_build(every, data_mode)
    if only is not None:
        wanted = set(only)
        unknown = wanted - {s.name for s in every}
        if unknown:
            raise FigureError(f"no figure script named {', '.join(sorted(unknown))}")
        real = sorted(wanted - {s.name for s in scripts})
        if real:
            raise FigureError(
                f"{', '.join(real)} draw(s) from real DANDI data: build with --data dandi"
            )
        scripts = [s for s in scripts if s.name in wanted]
    for script in scripts:
        missing = [k for k in script.inputs if k not in asset_hashes]
        if missing:
            raise FigureError(
                f"{script.path.name}: input asset(s) {', '.join(missing)} not in assets.lock"
            )
    out_dir.mkdir(parents=True, exist_ok=True)
    # Staging folders of a run that was killed: never trusted, removed (callers hold the
    # project's build lock, so no other run is using them).
    for stale in out_dir.glob(".staging-*"):
        shutil.rmtree(stale, ignore_errors=True)
    common: dict[str, Any] = {}
    state_lock = threading.Lock()

    def run_state() -> dict[str, Any]:
        """Git state and package versions, for the records: asked only when a script
        runs (a no-op build skips the git and package-metadata look-ups)."""
        if not common:
            commit, dirty = git_state(figures_src.parent)
            common.update(
                git_commit=commit,
                git_dirty=dirty,
                packages=package_versions(),
                python=platform.python_version(),
            )
        return common

    # Keys first, in this thread: one scan reads and parses each module once for all
    # scripts (parsing holds the GIL, so threads would not share that work anyway).
    scan = Scan()
    keyed = {
        script.name: key_parts(
            script,
            environment_lock=environment_lock,
            data_mode=data_mode,
            asset_hashes=asset_hashes,
            available=available,
            scan=scan,
        )
        for script in scripts
    }

    def work(script: FigureScript) -> FigureResult:
        parts = keyed[script.name]
        key = key_of(parts)
        if not force and _is_current(script, out_dir, key):
            return FigureResult(
                script.name, "cached", outputs=[out_dir / n for n in script.outputs]
            )
        with state_lock:
            state = run_state()
        provenance = {
            **state,
            **{k: v for k, v in parts.items() if k != "input_sha256"},
            "inputs": [
                {"key": k, "sha256": sha, **asset_records.get(k, {})}
                for k, sha in parts["input_sha256"].items()
            ],
        }
        return _run_one(
            script,
            out_dir=out_dir,
            key=key,
            data_mode=data_mode,
            timeout=timeout,
            provenance=provenance,
        )

    with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
        results = list(pool.map(work, scripts))
    failed = [r for r in results if r.status == "failed"]
    if failed:
        details = "\n".join(f"- {r.name}: {r.error}" for r in failed)
        raise FigureError(f"{len(failed)} figure script(s) failed:\n{details}")
    return results


def _current_record(
    script: FigureScript,
    *,
    environment_lock: Path,
    data_mode: str,
    asset_hashes: dict[str, str],
    asset_records: dict[str, dict],
    available: Iterable[str] | None = None,
    scan: Scan | None = None,
) -> dict:
    """What a record of ``script`` built now would say about its inputs (no outputs)."""
    hashes = {k: "not in assets.lock" for k in script.inputs} | asset_hashes
    parts = key_parts(
        script,
        environment_lock=environment_lock,
        data_mode=data_mode,
        asset_hashes=hashes,
        available=available,
        scan=scan,
    )
    inputs = [
        {"key": k, "sha256": sha, **asset_records.get(k, {})}
        for k, sha in parts["input_sha256"].items()
    ]
    record = {k: v for k, v in parts.items() if k != "input_sha256"}
    return {**record, "inputs": inputs, "cache_key": key_of(parts)}


def verify(
    out_dir: Path,
    figures_src: Path | None = None,
    *,
    environment_lock: Path | None = None,
    data_mode: str = "demo",
    asset_hashes: dict[str, str] | None = None,
    asset_records: dict[str, dict] | None = None,
    available: Iterable[str] | None = None,
) -> list[str]:
    """Check every figure against its provenance record; return the problems found.

    Each recorded output is re-hashed. With ``figures_src``, a script without a record
    is reported, and so is a record whose script is gone. With ``environment_lock`` too,
    each script's cache key is recomputed from the current script, ``databook`` modules,
    input hashes (``asset_hashes``, from ``assets.lock``), environment lock and
    ``data_mode``; a figure whose key differs is reported as stale with every reason
    (script changed, module X changed, input changed, environment changed, data mode).
    A real-data script (``DATA = "dandi"``) is part of a dandi build only: in a demo
    build its missing record is no problem, and its record is checked for its outputs.
    """
    from databook.provenance import changes

    problems: list[str] = []
    scan = Scan()
    records = sorted(out_dir.glob("*.provenance.json"))
    every = {s.name: s for s in discover(figures_src)} if figures_src is not None else {}
    built = {s.name for s in in_build(every.values(), data_mode)}
    scripts = {name: s for name, s in every.items() if name in built}
    if figures_src is not None:
        have = {r.name.removesuffix(".provenance.json") for r in records}
        problems += [
            f"{name}: no provenance record (figure never built)"
            for name in scripts
            if name not in have
        ]
    for record_file in records:
        name = record_file.name.removesuffix(".provenance.json")
        try:
            record = json.loads(record_file.read_text(encoding="utf-8"))
        except ValueError as err:
            problems.append(f"{record_file.name}: unreadable record ({err})")
            continue
        for out in record.get("outputs", []):
            path = out_dir / out["file"]
            if not path.is_file():
                problems.append(f"{out['file']}: missing (recorded in {record_file.name})")
            elif (actual := sha256_file(path)) != out["sha256"]:
                problems.append(
                    f"{out['file']}: sha256 {actual} differs from recorded {out['sha256']}"
                )
        if figures_src is None:
            continue
        if name not in every:
            problems.append(f"{name}: record without a script in {figures_src} (script removed)")
            continue
        if environment_lock is None or name not in scripts:
            continue
        current = _current_record(
            scripts[name],
            environment_lock=environment_lock,
            data_mode=data_mode,
            asset_hashes=asset_hashes or {},
            asset_records=asset_records or {},
            available=available,
            scan=scan,
        )
        if current["cache_key"] != record.get("cache_key"):
            reasons = changes(record, current) or [
                "cache key format changed (built by another databook version)"
            ]
            problems.append(f"{name}: stale: " + "; ".join(reasons))
    return problems


def summarize(results: Sequence[FigureResult]) -> str:
    built = sum(r.status == "built" for r in results)
    cached = sum(r.status == "cached" for r in results)
    return f"{built} figure(s) built, {cached} up to date"
