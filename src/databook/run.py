"""Run one chapter on any NWB file: ``databook run`` and ``databook inspect``.

:func:`run_chapter` converts a chapter (MyST markdown) with jupytext, checks that the file
has what the chapter reads (:mod:`databook.chapterinputs`), executes it with papermill in a
fresh ``python3`` kernel with the parameters injected after its ``parameters`` cell, and
writes the executed ``.ipynb``, an HTML page of it and the images its cells display into
an output folder. Each file appears complete or not at all (Ctrl-C leaves none half
written). A URL is streamed by HTTP range requests (remfile, through :mod:`databook.nwb`),
never downloaded whole unless ``download=True``.
"""

from __future__ import annotations

import ast
import base64
import contextlib
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from databook import chapterinputs, paramrules
from databook._atomic import atomic_path
from databook.errors import DatabookError

if TYPE_CHECKING:
    from databook.figures import FigureScript

__all__ = [
    "ChapterRunError",
    "RunResult",
    "chapter_defaults",
    "chapter_scripts",
    "draw_figures",
    "find_chapter",
    "inspect_file",
    "parse_value",
    "run_chapter",
]


#: Chapters whose demo-only cells (validation against the planted answers) skip cleanly
#: when ``truth_asset`` is None, so that they run on other files. The others run on the
#: demo only, so far.
OTHER_FILES = frozenset({"01", "02", "03", "04", "05", "06", "07", "08"})


class ChapterRunError(DatabookError, RuntimeError):
    """A chapter could not be found, prepared or executed; the message says which and why."""


@dataclass
class RunResult:
    """What :func:`run_chapter` wrote: the executed notebook, its HTML page, the images."""

    chapter: str
    source: str
    notebook: Path
    html: Path
    figures: list[Path] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def find_chapter(chapters: Path, name: str) -> Path:
    """The chapter file for ``name``: a number ("4", "04"), a stem or a path."""
    if Path(name).suffix == ".md" and Path(name).is_file():
        return Path(name)
    files = sorted(chapters.glob("[0-9][0-9]-*.md"))
    key = name.zfill(2) if name.isdigit() else name
    hits = [p for p in files if p.stem == key or p.stem.split("-", 1)[0] == key]
    if len(hits) != 1:
        raise ChapterRunError(
            f"no chapter {name!r} in {chapters}; chapters: {', '.join(p.stem for p in files)}"
        )
    return hits[0]


def parse_value(text: str) -> Any:
    """A ``-p`` value: a Python literal (``0.5``, ``(0, 1)``, ``None``, ``{}``) or else text."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _parameters_cell(notebook: Any) -> int:
    for i, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            return i
    raise ChapterRunError("the chapter has no code cell tagged 'parameters'")


def _parameter_code(path: Path) -> list[str]:
    """The chapter's code cells up to its ``parameters`` cell (the last one listed)."""
    import jupytext

    notebook = jupytext.read(path)
    last = _parameters_cell(notebook)
    code = [c.source for c in notebook.cells[:last] if c.cell_type == "code"]
    return [*code, notebook.cells[last].source]


def _defaults_of(code: list[str], where: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    for source in code:
        exec(compile(source, where, "exec"), namespace)  # our own chapter's cells
    names = set(re.findall(r"^(\w+(?:\s*,\s*\w+)*)\s*=", code[-1], re.MULTILINE))
    wanted = {n.strip() for group in names for n in group.split(",")}
    return {k: v for k, v in namespace.items() if k in wanted}


def chapter_defaults(path: Path) -> dict[str, Any]:
    """The chapter's parameter defaults: its cells up to the ``parameters`` cell, executed."""
    return _defaults_of(_parameter_code(path), str(path))


#: The chapters' parameter cells as installed with the package (``databook inspect``
#: outside a clone of the project); written by ``scripts/chapter_parameters.py``.
PARAMETERS_FILE = Path(__file__).with_name("chapter_parameters.json")


def parameter_cells(chapters: Path) -> dict[str, dict[str, Any]]:
    """``{number: {"stem": ..., "code": [cells]}}`` of every chapter with input checks:
    what :data:`PARAMETERS_FILE` holds, from the chapters in ``chapters``."""
    cells = {}
    for number in chapterinputs.NEEDS:
        path = find_chapter(chapters, number)
        cells[number] = {"stem": path.stem, "code": _parameter_code(path)}
    return cells


def _chapter_parameters(chapters: Path | None, number: str) -> tuple[str, dict[str, Any]]:
    """``(stem, defaults)`` of chapter ``number``: from ``chapters``, or with None from
    the copy installed with the package."""
    if chapters is not None:
        path = find_chapter(chapters, number)
        return path.stem, chapter_defaults(path)
    import json

    cell = json.loads(PARAMETERS_FILE.read_text(encoding="utf-8"))[number]
    return cell["stem"], _defaults_of(cell["code"], f"{cell['stem']}.md (installed)")


def _number(path: Path) -> str:
    return path.stem.split("-", 1)[0]


def _download(url: str) -> str:
    import pooch

    from databook.assets import cache_dir

    try:
        return pooch.retrieve(
            url, known_hash=None, path=cache_dir() / "downloads", progressbar=True
        )
    except Exception as err:  # pooch raises requests' errors
        raise ChapterRunError(f"cannot download {url}: {err}") from err


def resolve_source(
    *,
    nwb: str | None = None,
    asset: str | None = None,
    dandi: str | None = None,
    download: bool = False,
) -> tuple[str | None, bool]:
    """``(source, is_demo)``: what the chapter's asset parameter gets, or None for its
    default. A DANDI spec is pinned (metadata only) and streamed from its URL."""
    from databook import assets

    given = [x for x in (nwb, asset, dandi) if x is not None]
    if len(given) > 1:
        raise ChapterRunError("give at most one of --nwb, --asset and --dandi")
    if nwb is not None:
        remote = re.match(r"https?://", nwb, re.IGNORECASE) is not None
        if not remote and Path(nwb).expanduser().is_dir():
            raise ChapterRunError(f"--nwb {nwb}: a directory, not an NWB file")
        if not remote and not Path(nwb).expanduser().is_file():
            raise ChapterRunError(f"--nwb {nwb}: no such file (and not an http(s) URL)")
        if remote:
            return (_download(nwb) if download else nwb), False
        return str(Path(nwb).expanduser().resolve()), False
    if asset is not None:
        found = assets.resolve(asset)
        if download and not found.is_demo:
            return str(assets.fetch(found)), False
        return asset, found.is_demo
    if dandi is not None:
        pinned = assets.pin(dandi)
        return (str(assets.fetch(pinned)) if download else pinned.url), False
    return None, True


@contextlib.contextmanager
def _kernel_env(cache: str | None) -> Iterator[None]:
    """Let the kernel and figure scripts import this databook (not another checkout's),
    use our data cache and share one cache of streamed chunks."""
    import databook
    from databook.assets import STREAM_CACHE_VARIABLE

    names = ("PYTHONPATH", "DATABOOK_CACHE", STREAM_CACHE_VARIABLE)
    saved = {k: os.environ.get(k) for k in names}
    src = str(Path(databook.__file__).resolve().parents[1])
    os.environ["PYTHONPATH"] = os.pathsep.join([src, *filter(None, [saved["PYTHONPATH"]])])
    if cache:
        os.environ["DATABOOK_CACHE"] = cache
    # The kernel and the figure scripts stream a URL through one chunk cache, so the run
    # fetches each byte range once; the cache is the run's own and goes with it.
    chunks = tempfile.TemporaryDirectory(prefix="databook-stream-")
    os.environ[STREAM_CACHE_VARIABLE] = chunks.name
    try:
        yield
    finally:
        chunks.cleanup()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _figures(notebook: Any, out: Path, stem: str) -> list[Path]:
    written = []
    for i, cell in enumerate(notebook.cells):
        for j, output in enumerate(cell.get("outputs", [])):
            data = output.get("data", {})
            if "image/png" in data:
                path = out / "figures" / f"{stem}-cell{i:02d}-{j}.png"
                with atomic_path(path) as tmp:
                    tmp.write_bytes(base64.b64decode(data["image/png"]))
                written.append(path)
    return written


def chapter_scripts(chapter: Path) -> list[FigureScript]:
    """The figure scripts behind the figures ``chapter`` shows (``../figures/<name>.png``
    is drawn by ``figures_src/<name>.py``), in the order the chapter shows them."""
    from databook.figures import FigureScript

    src = chapter.resolve().parent.parent / "figures_src"
    names = dict.fromkeys(re.findall(r"\.\./figures/([\w.-]+)\.png", chapter.read_text()))
    return [FigureScript.read(src / f"{n}.py") for n in names if (src / f"{n}.py").is_file()]


def draw_figures(
    chapter: Path,
    out: Path,
    parameters: Mapping[str, Any],
    *,
    is_demo: bool,
    progress: bool = True,
) -> tuple[list[Path], dict[str, str]]:
    """Run the chapter's figure scripts on the chapter's data, into ``out/figures``.

    Each script gets the values of ``parameters`` (the chapter's, after ``-p``) for the
    names in its own ``PARAMETERS``, so its figure shows the same file, table and columns
    as the executed chapter. Scripts marked ``DEMO_ONLY`` (they compare with the demo's
    planted answers) are skipped for other files, and real-data scripts (``DATA =
    "dandi"``, drawn from pinned published assets, not the chapter's file) unless
    ``DATABOOK_DATA=dandi``, as the chapter's real-data cells are.

    Returns
    -------
    (written, skipped)
        The figure files written, and ``{script: why it was skipped}``.

    Raises
    ------
    ChapterRunError
        After running every script, if any failed: each failure with its error.
    """
    from databook.figures import run_script

    written: list[Path] = []
    skipped: dict[str, str] = {}
    failed: list[str] = []
    for script in chapter_scripts(chapter):
        if script.demo_only and not is_demo:
            skipped[script.name] = "compares with the demo's planted answers"
            continue
        if script.data == "dandi" and os.environ.get("DATABOOK_DATA") != "dandi":
            # Its "On real data" section does nothing either (the chapter's real-data cell).
            skipped[script.name] = "real-data section: drawn with DATABOOK_DATA=dandi"
            continue
        given = {k: parameters[k] for k in script.parameters if k in parameters}
        if progress:
            print(f"figure {script.name} ...", flush=True)
        result = run_script(script, out / "figures", parameters=given)
        if result.status == "built":
            written += result.outputs
        else:
            failed.append(f"{script.path.name}: {result.error}")
    if failed:
        raise ChapterRunError(
            f"{len(failed)} figure script(s) of {chapter.stem} failed:\n" + "\n".join(failed)
        )
    return written, skipped


def _html(notebook: Any) -> str:
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(notebook)
    return body


def run_chapter(
    chapters: Path,
    chapter: str,
    *,
    source: str | None = None,
    is_demo: bool = True,
    parameters: Mapping[str, Any] | None = None,
    out: Path,
    progress: bool = True,
) -> RunResult:
    """Check, execute and write one chapter.

    Parameters
    ----------
    chapters
        The project's chapters folder (the kernel runs there, so relative paths work).
    chapter
        "04", "4", a stem like "04-neuropixels-responses", or a path.
    source
        Path, URL or lock key given to the chapter's asset parameter; None keeps its default.
    is_demo
        False for other files: the chapter's ``truth_asset`` is then set to None, which
        skips its validation against the demo's planted answers.
    parameters
        ``{name: value}`` injected after the ``parameters`` cell (``-p NAME VALUE``); each
        name must be one of the chapter's parameters.
    out
        Folder for ``<chapter>.ipynb``, ``<chapter>.html`` and ``figures/``.
    """
    import jupytext
    import nbformat

    path = find_chapter(chapters, chapter)
    number = _number(path)
    defaults = chapter_defaults(path)
    given = dict(parameters or {})
    paramrules.check(given, defaults, owner=f"chapter {path.stem}")
    asset_parameter = chapterinputs.SOURCE_PARAMETER.get(number, "asset")
    if source is not None:
        given.setdefault(asset_parameter, source)
    if not is_demo and "truth_asset" in defaults:
        given.setdefault("truth_asset", None)
    merged = {**defaults, **given}
    others = sorted({n.source for n in chapterinputs.NEEDS.get(number, ()) if n.source})
    unpaired = [name for name in others if name not in given]
    if source is not None and not is_demo and unpaired:
        raise ChapterRunError(
            f"chapter {path.stem} also reads {', '.join(unpaired)}, which would stay the demo's "
            f"{', '.join(repr(defaults[n]) for n in unpaired)}: give your own with "
            + " ".join(f"-p {n} PATH_OR_URL" for n in unpaired)
        )
    target = merged.get(asset_parameter)
    if number in chapterinputs.NEEDS and target is not None:
        chapterinputs.require(number, path.stem, target, merged)
    if not is_demo and number not in OTHER_FILES:
        raise ChapterRunError(
            f"chapter {path.stem} runs on the demo data only so far: its validation cells "
            "read the demo's planted answers (truth_asset). Chapters that run on other "
            f"files: {', '.join(sorted(OTHER_FILES))}"
        )

    notebook = jupytext.read(path)
    if given:  # our own cell: repr() round-trips tuples, which papermill turns into text
        cell = nbformat.v4.new_code_cell(
            "# Parameters injected by databook run\n"
            + "".join(f"{k} = {v!r}\n" for k, v in given.items())
        )
        cell.metadata["tags"] = ["injected-parameters"]
        notebook.cells.insert(_parameters_cell(notebook) + 1, cell)
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    out = Path(out)
    final = out / f"{path.stem}.ipynb"
    cache = os.environ.get("DATABOOK_CACHE")
    with _kernel_env(cache):
        executed = _execute(notebook, path, out, final, str(target), progress)
        html = out / f"{path.stem}.html"
        with atomic_path(html) as tmp:
            tmp.write_text(_html(executed), encoding="utf-8")
        figures = _figures(executed, out, path.stem)
        drawn, skipped = draw_figures(path, out, merged, is_demo=is_demo, progress=progress)
    return RunResult(path.stem, str(target), final, html, figures + drawn, given, skipped)


def _execute(notebook: Any, path: Path, out: Path, final: Path, target: str, progress: bool):
    """Execute ``notebook`` (kernel in the chapter's folder) into ``final``, atomically; a
    failure keeps the notebook up to the failing cell beside it and says which cell."""
    import nbformat
    import papermill as pm

    with atomic_path(final) as tmp:
        try:
            pm.execute_notebook(
                notebook,
                str(tmp),
                kernel_name="python3",
                cwd=str(path.parent),
                progress_bar=progress,
                log_output=False,
            )
        except pm.PapermillExecutionError as err:
            failed = out / f"{path.stem}.failed.ipynb"
            with atomic_path(failed) as ftmp:
                ftmp.write_bytes(tmp.read_bytes())
            raise ChapterRunError(
                f"chapter {path.stem} failed in cell {err.exec_count} on {target}: "
                f"{err.ename}: {err.evalue}\n(the notebook up to the failure: {failed})"
            ) from None
        return nbformat.read(str(tmp), as_version=4)


def inspect_file(chapters: Path | None, f: str) -> str:
    """What ``f`` holds that the chapters read, and per chapter whether it can run (with the
    ``-p`` options it would need): the report ``databook inspect`` prints. ``chapters``
    None (no project here): the chapters' parameters installed with the package."""
    from databook import nwb

    lines = [f"file: {f}"]
    with nwb.source(f) as src:
        sections = [
            ("units", lambda: _units(src)),
            ("electrodes", lambda: _electrodes(nwb.electrodes(src))),
            ("LFP", lambda: repr(nwb.lfp(src))),
            ("ROIs", lambda: f"{len(nwb.rois(src).ids)} ROIs"),
            ("dF/F", lambda: f"{nwb.dff(src).values.shape} (samples, ROIs)"),
            ("optogenetics", lambda: f"{len(nwb.optogenetic_pulses(src))} pulses"),
            ("running speed", lambda: f"{len(nwb.running_speed(src).t)} samples"),
            ("pupil", lambda: f"{len(nwb.pupil(src).t)} samples"),
        ]
        for label, read in sections:
            try:
                text = read()
            except nwb.NWBContentError:
                text = "none"
            lines.append(f"{label:>14}: {text}")
        tables = nwb.intervals(src)
        lines.append(f"{'intervals':>14}: {len(tables)} table(s)")
        for name, row in tables.iterrows():
            lines.append(f"{'':>16}{name} ({row.n_rows} rows): {', '.join(row.columns)}")
            for column, why in trial_relative(src, row.path).items():
                lines.append(
                    f"{'':>18}{column}: times from each trial's start ({why}); on the "
                    f"session clock: -p onset_column {f'start_time + {column}'!r}"
                )
        lines.append(
            "chapters:" if chapters is not None else "chapters (as installed; no project here):"
        )
        for verdict in chapter_verdicts(chapters, src, is_demo=_is_demo_key(f)).values():
            lines.append(f"  {verdict}")
    return "\n".join(lines)


def trial_relative(src: Any, table: str) -> dict[str, str]:
    """``{column: why}`` of ``table``'s columns of trial-relative times (see
    :func:`databook.tables.trial_relative`); {} if the table cannot be read."""
    from databook import nwb, tables

    try:
        return tables.trial_relative(nwb.stimulus_table(src, table))
    except (nwb.NWBContentError, tables.TableError):
        return {}


def _units(src: Any) -> str:
    from databook import nwb

    depths = nwb.unit_depths(src)
    where = depths.attrs["depth_source"] or "nowhere (depths unknown)"
    return f"{len(depths)} units; depth from {where} ({depths.attrs['depth_note']})"


def _electrodes(df: Any) -> str:
    where = sorted(df["location"].dropna().astype(str).unique()) if "location" in df else []
    depth = df.attrs.get("depth_column")
    return (
        f"{len(df)} channels; depth from {depth or 'no column'}; locations: {', '.join(where[:8])}"
    )


def _is_demo_key(f: str) -> bool:
    from databook import assets

    if Path(f).exists() or re.match(r"https?://", f, re.IGNORECASE):
        return False
    try:
        return assets.resolve(f).is_demo
    except Exception:  # no project or no such key: not a demo key
        return False


def chapter_verdicts(chapters: Path | None, f: Any, *, is_demo: bool = False) -> dict[str, str]:
    """``{chapter number: "NN-stem: runs" | "NN-stem: runs with -p ..." | "... cannot run"}``
    for every chapter with input checks, from the same checks :func:`run_chapter` makes;
    ``chapters`` None: the chapters' parameters installed with the package."""
    verdicts = {}
    for number in chapterinputs.NEEDS:
        try:
            stem, params = _chapter_parameters(chapters, number)
        except ChapterRunError:
            continue
        findings = chapterinputs.check(number, f, params)
        missing = [x for x in findings if not x.ok]
        suggested = " ".join(x.suggest for x in findings if x.ok and x.suggest)
        if not missing and not is_demo and number not in OTHER_FILES:
            verdicts[number] = (
                f"{stem}: inputs found, but the chapter runs on demo data only so far"
            )
        elif not missing:
            verdicts[number] = f"{stem}: runs" + (f" with {suggested}" if suggested else "")
        elif all(x.fix for x in missing) and (is_demo or number in OTHER_FILES):
            fixes = [x.fix.split(" (")[0].split(" or ")[0] for x in missing]
            verdicts[number] = f"{stem}: runs with {' '.join([*fixes, suggested]).strip()}"
        else:
            lacking = (
                ", ".join(x.what for x in missing if not x.fix) or "mapping for a demo-only chapter"
            )
            verdicts[number] = f"{stem}: cannot run (no {lacking})"
    return verdicts
