"""The ``databook`` command: thin wrappers that parse options and call the library once."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from databook import __version__

DATA_OPTION = click.option(
    "--data",
    "data_mode",
    type=click.Choice(["demo", "dandi"]),
    default="demo",
    show_default=True,
    envvar="DATABOOK_DATA",
    help="Build from the embedded demo dandiset or the real pinned DANDI assets.",
)
ROOT_OPTION = click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Project folder (default: the one containing the current directory).",
)


FROM_OPTION = click.option(
    "--from",
    "sources",
    multiple=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="--data dandi: take real assets from this folder (verified by sha256) before "
    "downloading them. Repeatable.",
)

JOBS_OPTION = click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    help="Figure scripts run in parallel (default: one per core).",
)


def _project(root: Path | None):
    from databook.paths import Project

    return Project.find(root)


class _Group(click.Group):
    """The one place where library errors become ``Error: <message>`` and exit status 1.

    Every error databook raises for a user derives from ``DatabookError`` and carries a
    complete message (what failed, where, the fix); anything else is a bug and keeps
    its traceback. ``--debug`` (or ``DATABOOK_DEBUG=1``) keeps the traceback of those too.
    """

    def invoke(self, ctx: click.Context):
        from databook.errors import DatabookError

        try:
            return super().invoke(ctx)
        except DatabookError as err:
            if ctx.meta.get(DEBUG_KEY):
                raise
            raise click.ClickException(str(err)) from err


DEBUG_KEY = "databook.debug"


def _debug(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    ctx.meta[DEBUG_KEY] = value
    return value


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="databook")
@click.option(
    "--debug", is_flag=True, envvar="DATABOOK_DEBUG", callback=_debug, expose_value=False,
    is_eager=True, help="Show the full traceback of an error (also: DATABOOK_DEBUG=1).",
)  # fmt: skip
def main() -> None:
    """Build and check the databook article.

    \b
    Examples:
      databook build              # figures, web site and PDF from demo data
      databook figures --force    # rerun every figure script
      databook verify             # stale figures (and why), outputs vs their records
      databook diff OLD NEW       # which figures changed between two builds, and why
      databook demo               # write the demo dandiset into the data cache
      databook pin 000021/VERSION/PATH --key K   # pin a DANDI asset in assets.lock
      databook fetch              # download every pinned DANDI asset, verified
      databook across rf_centres --dandiset 000021/0.210913.1639 --workers 4
    """


@main.command()
@DATA_OPTION
@ROOT_OPTION
@click.option("--no-pdf", is_flag=True, help="Build only the web site.")
@JOBS_OPTION
@FROM_OPTION
def build(
    data_mode: str, root: Path | None, no_pdf: bool, jobs: int | None, sources: tuple[Path, ...]
) -> None:
    """Rebuild stale figures, then the web site (_build/html) and PDF (_build/exports).

    \b
    --data demo (default): the embedded demo dandiset, offline.
    --data dandi: the same article plus each chapter's "On real data" section, drawn from
      the pinned DANDI assets (fetched and verified first; --from DIR for local copies).
    """
    from databook.article import build as build_article
    from databook.figures import summarize

    project = _project(root)
    report = build_article(
        project, data_mode=data_mode, pdf=not no_pdf, jobs=jobs, sources=list(sources)
    )
    click.echo(summarize(report.figures))
    click.echo(f"web site: {report.html / 'index.html'}")
    click.echo(
        f"  serve it: python3 -m http.server -d {report.html} 8000  (then open http://127.0.0.1:8000)"
    )
    if not no_pdf:
        click.echo(f"PDF:      {report.pdf}")
    click.echo(f"built in {report.seconds:.1f} s")


@main.command()
@DATA_OPTION
@ROOT_OPTION
@click.option("--force", is_flag=True, help="Rerun scripts even if their cache key is unchanged.")
@JOBS_OPTION
@FROM_OPTION
@click.argument("names", nargs=-1)
def figures(
    data_mode: str,
    root: Path | None,
    force: bool,
    jobs: int | None,
    sources: tuple[Path, ...],
    names: tuple[str, ...],
) -> None:
    """Run the figure scripts whose inputs changed (all, or only NAMES like fig_psth_primer)."""
    from databook.article import build_figures
    from databook.figures import summarize

    results = build_figures(
        _project(root), data_mode=data_mode, only=list(names) or None, force=force, jobs=jobs,
        sources=list(sources),
    )  # fmt: skip
    for result in results:
        click.echo(f"{result.status:>6}  {result.name}  {result.seconds:.1f} s")
    click.echo(summarize(results))


@main.command()
@ROOT_OPTION
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to write into (default: the data cache, $DATABOOK_CACHE).",
)
@click.option(
    "--seed",
    type=click.IntRange(0, 2**32 - 1),
    default=0,
    show_default=True,
    help="Random seed of the simulated recordings (0 is the pinned demo).",
)
@click.option("--pin", is_flag=True, help="Write the files' sha256 into assets.lock.")
def demo(root: Path | None, out: Path | None, seed: int, pin: bool) -> None:
    """Generate the embedded demo dandiset (NWB files + ground_truth.json) and print paths."""
    from databook.assets import cache_dir, demo_dir, demo_lock_entries, load_lock, write_lock
    from databook.demo import generate

    folder = out or demo_dir(cache_dir(), seed)
    paths = generate(folder, seed)
    for key, path in paths.items():
        click.echo(f"{key}\t{path}")
    if pin:
        if seed != 0:
            raise click.ClickException("assets.lock pins the demo for seed 0 only")
        project = _project(root)
        assets = load_lock(project.assets_lock)
        assets.update(demo_lock_entries(paths))
        write_lock(project.assets_lock, assets)
        click.echo(f"pinned {len(paths)} demo asset(s) in {project.assets_lock}")


@main.command()
@ROOT_OPTION
@click.argument("specs", nargs=-1)
@click.option("--key", default=None, help="Lock key of the one asset (default: from its path).")
@click.option(
    "--api-url",
    envvar="DANDI_API_URL",
    default=None,
    help="DANDI API base URL, e.g. a mirror (default: the public archive).",
)
@click.option(
    "--metadata",
    "metadata_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Pin from the archive's asset listing (JSON) instead of the API: SPECS are asset "
    "paths in it, or --all.",
)
@click.option("--all", "pin_all", is_flag=True, help="With --metadata: every asset it lists.")
@click.option("--key-prefix", default="", help="Prefix of keys made from asset paths.")
@click.option(
    "--version",
    "as_version",
    default=None,
    help="With --metadata of a draft listing: the published version carrying these assets.",
)
@click.option(
    "--file",
    "local_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="With a URL: hash this local copy instead of downloading it.",
)
def pin(
    root: Path | None,
    specs: tuple[str, ...],
    key: str | None,
    api_url: str | None,
    metadata_file: Path | None,
    pin_all: bool,
    key_prefix: str,
    as_version: str | None,
    local_file: Path | None,
) -> None:
    """Pin assets into assets.lock: sha256, size and URL of a published version.

    \b
    From the DANDI API (DANDISET/VERSION/PATH):
      databook pin 000021/0.251116.2246/sub-707296975/sub-707296975_ses-721123822.nwb \\
        --key allen-vc-ecephys-721123822
    From the archive's own asset listing, without network (same checks as the API):
      databook pin --metadata 000006-0.220126.1855.assets.json --all --key-prefix alm-
    A file of a GitHub repository at a commit (hashing a local copy):
      databook pin https://raw.githubusercontent.com/OWNER/REPO/COMMIT/PATH --key K --file F
    """
    from databook.assets import load_lock, pin_from_metadata, pin_url, write_lock
    from databook.assets import pin as pin_asset

    project = _project(root)
    if metadata_file is not None:
        if bool(specs) == pin_all:
            raise click.UsageError("with --metadata give asset PATHs or --all (not both)")
        pinned = pin_from_metadata(
            metadata_file, None if pin_all else list(specs), key=key, key_prefix=key_prefix,
            version=as_version,
        )  # fmt: skip
    else:
        if len(specs) != 1 or pin_all or as_version:
            raise click.UsageError(
                "give one DANDISET/VERSION/PATH or URL (--all and --version need --metadata)"
            )
        spec = specs[0]
        if spec.startswith(("https://", "http://")):
            if not key:
                raise click.UsageError("a URL needs --key")
            pinned = [pin_url(spec, key=key, file=local_file)]
        else:
            pinned = [pin_asset(spec, key=key, url=api_url)]
    lock = project.assets_lock
    assets = load_lock(lock, allow_empty=True) if lock.exists() else {}
    changed = 0
    for asset in pinned:
        if assets.get(asset.key) == asset:
            click.echo(f"{asset.key}: unchanged ({asset.sha256})")
            continue
        assets[asset.key] = asset
        changed += 1
        click.echo(f"{asset.key}: pinned {asset.spec} sha256 {asset.sha256}")
    if changed:
        write_lock(lock, assets)


@main.command()
@ROOT_OPTION
@click.argument("keys", nargs=-1)
@click.option(
    "--from",
    "sources",
    multiple=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A folder holding copies of assets (e.g. a mirror of the archive): each is "
    "verified by sha256 before it enters the cache. Repeatable.",
)
@click.option(
    "--api-url",
    envvar="DANDI_API_URL",
    default=None,
    help="Download DANDI assets from this API (a mirror) by asset id.",
)
def fetch(
    root: Path | None, keys: tuple[str, ...], sources: tuple[Path, ...], api_url: str | None
) -> None:
    """Put verified copies of assets (all real ones, or KEYS) in the data cache.

    Each asset is taken from a --from folder if one holds it, else downloaded (pooch);
    bytes whose sha256 differs from assets.lock are refused and never enter the cache.
    Exits 1 if any asset could not be fetched (the others are kept).
    """
    from databook.assets import fetch_all, load_lock

    project = _project(root)
    assets = load_lock(project.assets_lock)
    unknown = sorted(set(keys) - set(assets))
    if unknown:
        raise click.ClickException(f"not in {project.assets_lock}: {', '.join(unknown)}")
    demo = [k for k in keys if assets[k].is_demo]
    if demo:
        raise click.ClickException(f"{', '.join(demo)}: demo data; `databook demo` makes it")
    wanted = [assets[k] for k in keys] if keys else [a for a in assets.values() if not a.is_demo]
    result = fetch_all(wanted, sources=sources, api_url=api_url)
    for key, path in result.paths.items():
        click.echo(f"{key}\t{path}")
    if result.errors:
        raise click.ClickException(
            f"{len(result.errors)} of {len(wanted)} asset(s) not fetched:\n"
            + "\n".join(result.errors.values())
        )


@main.command()
@DATA_OPTION
@ROOT_OPTION
def verify(data_mode: str, root: Path | None) -> None:
    """Check every figure is up to date and matches its provenance record; exit 1 if not.

    Recomputes each figure's cache key from the current script, library modules, input
    hashes (assets.lock), environment.lock and data mode, names every stale figure and
    why, and re-hashes every output against its record.
    """
    from databook.assets import available_keys, load_lock
    from databook.figures import verify as verify_figures

    project = _project(root)
    lock = load_lock(project.assets_lock)
    problems = verify_figures(
        project.figures,
        project.figures_src,
        environment_lock=project.environment_lock,
        data_mode=data_mode,
        asset_hashes={key: asset.sha256 for key, asset in lock.items() if asset.sha256},
        asset_records={key: asset.record() for key, asset in lock.items()},
        available=available_keys(lock),
    )
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        sys.exit(1)
    click.echo(f"all figures in {project.figures} are up to date and match their records")


@main.command()
@DATA_OPTION
@ROOT_OPTION
@click.option(
    "--only",
    "only",
    multiple=True,
    metavar="NAME",
    help="Compare (and, for a git ref, build) only this figure, e.g. fig_psth_primer; repeatable.",
)
@click.argument("old")
@click.argument("new")
def diff(data_mode: str, root: Path | None, only: tuple[str, ...], old: str, new: str) -> None:
    """Print, as Markdown, which figures differ between OLD and NEW, and why.

    OLD and NEW are each a built figures/ folder or a git ref of the project. A ref's
    figures are not committed: they are built in a temporary git worktree (removed
    afterwards), reusing the working tree's figures where the cache key matches.

    \b
    Examples:
      databook diff /tmp/before/figures figures   # two builds
      databook diff main figures                  # the branch point vs the working tree
      databook diff HEAD~1 HEAD --only fig_psth_primer

    Exit status 1 when a figure's output changed although nothing it is built from did
    (non-deterministic output: a bug).
    """
    import contextlib

    from databook.gitref import ref_records, resolve_ref
    from databook.provenance import ProvenanceError, to_markdown
    from databook.provenance import diff as diff_records

    names = list(only) or None
    with contextlib.ExitStack() as stack:
        folders, labels = [], []
        for side in (old, new):
            if Path(side).is_dir():
                folders.append(Path(side))
                labels.append(side)
                continue
            project = _project(root)
            commit = resolve_ref(project.root, side)
            click.echo(
                f"building the figures of {side} ({commit[:12]}) in a git worktree", err=True
            )
            folders.append(
                stack.enter_context(
                    ref_records(
                        project.root, side, data_mode=data_mode, only=names, seed=project.figures
                    )
                )
            )
            labels.append(f"{side} ({commit[:7]})")
        found = diff_records(*folders, only=names)
    click.echo(to_markdown(found, *labels))
    bugs = [c.name for c in found if c.kind == "non-deterministic"]
    if bugs:
        raise ProvenanceError(
            f"non-deterministic figure(s): {', '.join(bugs)} (same script, modules, inputs "
            "and environment, different bytes)"
        )


@main.command()
@ROOT_OPTION
@click.argument("chapter")
@click.option(
    "--nwb", "nwb_file", default=None, help="NWB file: a path or an http(s) URL (streamed)."
)
@click.option("--asset", default=None, help="An assets.lock key, e.g. demo-ecephys.")
@click.option("--dandi", default=None, help="DANDISET/VERSION/PATH on DANDI (streamed).")
@click.option(
    "-p",
    "--parameter",
    "parameters",
    nargs=2,
    multiple=True,
    metavar="NAME VALUE",
    help="Set a chapter parameter (a Python literal, else text); repeatable.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("databook-run"),
    show_default=True,
    help="Folder for the executed notebook, its HTML page and figures.",
)
@click.option(
    "--download", is_flag=True, help="Download a URL or DANDI file whole instead of streaming."
)
def run(
    root: Path | None,
    chapter: str,
    nwb_file: str | None,
    asset: str | None,
    dandi: str | None,
    parameters: tuple[tuple[str, str], ...],
    out: Path,
    download: bool,
) -> None:
    """Run CHAPTER (e.g. 04) on an NWB file and write the executed notebook, HTML, figures.

    The chapter's figures are drawn from the same file with the same -p values (figures
    that compare with the demo's planted answers are skipped for other files). Ask
    `databook inspect FILE` first which -p options a file needs.

    \b
    Examples:
      databook run 04                              # the article's own demo session
      databook run 04 --nwb sub-4_ses-4.nwb -p stimulus_name encoding_table
      databook run 06 --nwb https://dandiarchive.s3.amazonaws.com/blobs/...
      databook run 08 --nwb day1.nwb -p day2_asset day2.nwb -p image_name meanImg
    """
    from databook.run import parse_value, resolve_source, run_chapter

    source, is_demo = resolve_source(nwb=nwb_file, asset=asset, dandi=dandi, download=download)
    given = {name: parse_value(value) for name, value in parameters}
    result = run_chapter(
        _project(root).chapters, chapter, source=source, is_demo=is_demo, parameters=given, out=out
    )
    click.echo(f"notebook: {result.notebook}")
    click.echo(f"HTML:     {result.html}")
    for path in result.figures:
        click.echo(f"figure:   {path}")
    for name, why in result.skipped.items():
        click.echo(f"figure:   {name}: skipped ({why})")


@main.command()
@ROOT_OPTION
@click.argument("file_or_url")
def inspect(root: Path | None, file_or_url: str) -> None:
    """Show what an NWB file holds and which chapters can run on it (with which -p).

    Outside a clone of the project (and without --root or DATABOOK_ROOT) the chapters'
    parameters come from the copy installed with the package."""
    from databook.paths import ProjectNotFoundError
    from databook.run import inspect_file

    try:
        chapters = _project(root).chapters
    except ProjectNotFoundError:
        if root is not None or os.environ.get("DATABOOK_ROOT"):
            raise  # a project was named: it must be one
        chapters = None
    click.echo(inspect_file(chapters, file_or_url))


@main.command()
@ROOT_OPTION
@click.argument("function")
@click.option("--assets", "keys", default=None, help="Comma-separated assets.lock keys.")
@click.option("--dandiset", default=None, help="Every NWB asset of DANDISET/VERSION.")
@click.option("--scheduler", default=None, help="Address of a running Dask scheduler.")
@click.option(
    "--workers", type=click.IntRange(min=1), default=2, show_default=True,
    help="Worker processes of the local cluster (ignored with --scheduler).",
)  # fmt: skip
@click.option(
    "--memory-limit", default="4GiB", show_default=True, help="Per local worker, e.g. 2GiB."
)
@click.option("--param", "params", multiple=True, help="NAME=VALUE (VALUE as JSON), repeatable.")
@click.option("--api-url", envvar="DANDI_API_URL", default=None, help="DANDI API base URL.")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="Write the gathered table here (.parquet or .csv); failures beside it.",
)  # fmt: skip
def across(
    root: Path | None,
    function: str,
    keys: str | None,
    dandiset: str | None,
    scheduler: str | None,
    workers: int,
    memory_limit: str,
    params: tuple[str, ...],
    api_url: str | None,
    out: Path | None,
) -> None:
    """Run a per-session FUNCTION (dotted path, or a name in databook.sessions) on many
    sessions on Dask and gather one table; exit 1 if any session failed.

    \b
    Examples:
      databook across responsive_units --assets demo-ecephys
      databook across rf_centres --dandiset 000021/0.210913.1639 --scheduler tcp://h:8786
    """
    from databook import sessions

    targets = sessions.targets(
        keys=keys, dandiset=dandiset, api_url=api_url, lock_path=_project(root).assets_lock
        if keys else None,
    )  # fmt: skip
    run = sessions.across(
        function, targets, params=sessions.parse_params(params), scheduler=scheduler,
        workers=workers, memory_limit=memory_limit,
    )  # fmt: skip
    click.echo(
        f"{len(run.table)} rows from {run.computed + run.cache_hits} sessions "
        f"({run.computed} computed, {run.cache_hits} from the cache); {len(run.failures)} failed"
    )
    if out is not None:
        sessions.write_run(run, out)
        click.echo(f"table: {out}")
    else:
        click.echo(run.table.to_string(max_rows=20))
    for row in run.failures.itertuples():
        click.echo(f"FAILED {row.path}: {row.error_type}: {row.error}", err=True)
    if len(run.failures):
        sys.exit(1)


if __name__ == "__main__":
    main()
