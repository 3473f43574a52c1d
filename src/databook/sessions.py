"""Run a per-session analysis over many sessions of a dandiset, on Dask.

A *per-session function* takes one open NWB source (a :class:`databook.nwb.Source`, which
every ``databook.nwb`` reader accepts) and keyword parameters, and returns a small tidy
``pandas.DataFrame`` (one row per unit, cell or session). :func:`across` maps it over
assets on ``dask.distributed``: a :class:`distributed.LocalCluster` of worker processes by
default, or an existing scheduler (``scheduler="tcp://host:8786"``, a Dask Gateway or
dask-jobqueue cluster's address). Each worker streams its file with HTTP range requests
(remfile), never downloading it whole.

The gathered table carries provenance columns (``dandiset``, ``version``, ``path``,
``sha256``, ``etag``). Each session's result is cached as Parquet, written atomically,
under a key of (asset sha256 or ETag, the function's code, the library code it runs: its
module and every ``databook`` module that imports, transitively, the parameters), so a
re-run computes only what changed, and a fix in, say, ``databook.responses`` recomputes.
A session that fails (corrupt, unreachable, a worker killed by its memory limit) becomes
one row of the failures table; the others finish.

Importing this module is cheap: dask, distributed and pyarrow are imported when
:func:`across` runs.

Example
-------
>>> from databook import sessions
>>> run = sessions.across(sessions.responsive_units, ["demo-ecephys"])  # doctest: +SKIP
>>> run.table.groupby(["path", "area"]).responsive.mean()  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from databook.errors import DatabookError

__all__ = [
    "PROVENANCE",
    "AcrossError",
    "Run",
    "across",
    "by_area",
    "choice_selectivity",
    "code_modules",
    "dandiset_assets",
    "delayed_response_trials",
    "demo_files",
    "demo_recovery",
    "function_key",
    "load_function",
    "parse_params",
    "responsive_units",
    "rf_centres",
    "start_cluster",
    "targets",
    "write_run",
]

#: Provenance columns added to every row of a gathered table (first, in this order).
PROVENANCE = ("dandiset", "version", "path", "sha256", "etag")
_FAILURE_COLUMNS = ("dandiset", "version", "path", "url", "error_type", "error")


class AcrossError(DatabookError, ValueError):
    """Bad input to :func:`across` (function, assets, options); names the offending value."""


# The per-session functions ---------------------------------------------------------------
def responsive_units(
    src: Any,
    *,
    stimulus: str = "flashes_presentations",
    onset_column: str = "start_time",
    response_window: tuple[float, float] = (0.0, 0.25),
    baseline_window: tuple[float, float] = (-0.5, 0.0),
    q: float = 0.05,
    quality_filter: bool = True,
    alpha: float | None = None,
) -> Any:
    """Flash responsiveness of every unit of one Neuropixels session (one row per unit).

    Parameters
    ----------
    src : an NWB source (anything :func:`databook.nwb.source` opens)
    stimulus, onset_column : intervals table of the stimulus and its onset column (s)
    response_window, baseline_window, q, alpha
        As in :func:`databook.unitsummary.response_table` (seconds; ``q`` the
        false-discovery rate over the session's units). Units labelled noise are dropped
        first (:func:`databook.quality.drop_noise`).
    quality_filter : apply the Siegle et al. (2021) unit-quality thresholds
        (``passes_quality`` is True for every unit when False)

    Returns
    -------
    pandas.DataFrame
        One row per unit: ``unit`` (id), ``area``, ``depth_um`` (micrometres),
        ``responsive`` (bool), ``direction`` (+1 excited, -1 suppressed, 0), ``p_value``,
        ``q_value``, ``latency`` (s), ``passes_quality`` (bool).
    """
    from databook import nwb, quality, tables, unitsummary

    units = quality.drop_noise(nwb.units(src))
    onsets = tables.onsets(nwb.stimulus_table(src, stimulus), onset_column).to_numpy()
    table = unitsummary.response_table(
        units,
        onsets,
        response_window=response_window,
        baseline_window=baseline_window,
        q=q,
        alpha=alpha,
        criteria=quality.SIEGLE_2021 if quality_filter else None,
    )
    columns = ["area", "depth_um", "responsive", "direction", "p_value", "q_value"]
    out = table[[*columns, "latency", "passes_quality"]]
    return out.rename_axis("unit").reset_index()


def rf_centres(
    src: Any,
    *,
    stimulus: str = "gabors_presentations",
    x_column: str = "x_position",
    y_column: str = "y_position",
    window: tuple[float, float] = (0.0, 0.25),
    n_shuffles: int = 200,
    q: float = 0.05,
    seed: int = 0,
    alpha: float | None = None,
) -> Any:
    """Receptive-field centres of the units of one session with a significant field.

    Parameters
    ----------
    src : an NWB source (anything :func:`databook.nwb.source` opens)
    stimulus, x_column, y_column : the Gabor-grid table and its patch-centre columns (deg)
    window, n_shuffles, q, seed, alpha : as in :func:`databook.rf.receptive_fields`
        (seconds after onset; shuffles of the position labels; false-discovery rate over
        the session's units, Benjamini-Hochberg; shuffle seed). Units labelled noise are
        dropped first (:func:`databook.quality.drop_noise`), so they are in no family.

    Returns
    -------
    pandas.DataFrame
        One row per unit with q < ``q`` and a located fit: ``unit``, ``area``,
        ``x_deg``, ``y_deg`` (centre, degrees), ``sigma_x_deg``, ``sigma_y_deg``,
        ``polarity`` (+1 excited, -1 suppressed), ``p_value``, ``q_value``.
    """
    import numpy as np
    import pandas as pd

    from databook import nwb, quality, rf

    units = quality.drop_noise(nwb.units(src))
    grid = nwb.stimulus_table(src, stimulus)
    fields = rf.receptive_fields(
        list(units["spike_times"]),
        grid[x_column],
        grid[y_column],
        grid["start_time"],
        window=window,
        n_shuffles=n_shuffles,
        seed=seed,
        q=q,
        alpha=alpha,
    )
    area = (
        units["electrode_location"].astype(str)
        if "electrode_location" in units
        else pd.Series("unknown", index=units.index)
    )
    out = pd.DataFrame(
        {
            "unit": units.index.to_numpy(),
            "area": area.to_numpy(),
            "x_deg": fields.center[:, 0],
            "y_deg": fields.center[:, 1],
            "sigma_x_deg": fields.sigma[:, 0],
            "sigma_y_deg": fields.sigma[:, 1],
            "polarity": fields.polarity,
            "p_value": fields.p_value,
            "q_value": fields.q_value,
        }
    )
    keep = fields.significant & np.isfinite(fields.center[:, 0])
    return out[keep].reset_index(drop=True)


def delayed_response_trials(
    src: Any, *, table: str = "trials", response_s: float = 1.0
) -> tuple[Any, dict[str, tuple[Any, Any]], Any]:
    """Units, epoch bounds and trial kinds of one delayed-response session (DANDI:000006).

    Reads the ``table`` intervals (``type`` "lick right"/"lick left", ``response``
    "correct", and the trial-relative ``pole_in_time``, ``pole_out_time``,
    ``cue_start_time``), keeps the correct lick-right and lick-left trials and turns their
    events into session-clock epochs (:func:`databook.taskepochs.delayed_response_epochs`).

    Returns
    -------
    units : the units table (:func:`databook.nwb.units`)
    epochs : ``{"sample"|"delay"|"response": (starts, stops)}``, (n_trials,) seconds each
    right : (n_trials,) bool array, True for lick-right trials
    """
    from databook import nwb, taskepochs

    units = nwb.units(src)
    trials = nwb.stimulus_table(src, table)
    needed = ("type", "response", "pole_in_time", "pole_out_time", "cue_start_time")
    absent = [c for c in needed if c not in trials]
    if absent:
        raise nwb.NWBContentError(
            f"{getattr(src, 'name', src)}: the {table!r} table has no column "
            f"{', '.join(map(repr, absent))} (it has {', '.join(map(str, trials.columns))})"
        )
    kind = trials["type"].astype(str)
    use = (trials["response"].astype(str) == "correct") & kind.isin(["lick right", "lick left"])
    correct = trials[use]
    epochs = taskepochs.delayed_response_epochs(
        correct["start_time"],
        correct["pole_in_time"],
        correct["pole_out_time"],
        correct["cue_start_time"],
        response_s=response_s,
    )
    return units, epochs, (correct["type"].astype(str) == "lick right").to_numpy()


def choice_selectivity(
    src: Any, *, table: str = "trials", response_s: float = 1.0, min_trials: int = 10
) -> Any:
    """Lick-right vs lick-left selectivity of every unit in each epoch of one session.

    Parameters
    ----------
    src : an NWB source (anything :func:`databook.nwb.source` opens)
    table, response_s : as in :func:`delayed_response_trials` (seconds after the cue)
    min_trials : correct trials of each direction needed; a session with fewer raises
        (and so becomes a row of :func:`across`'s failures, with the reason)

    Returns
    -------
    pandas.DataFrame
        One row per (epoch, unit): :func:`databook.taskepochs.epoch_selectivity`'s columns,
        with ``unit`` the unit's id and ``prefers`` "right", "left" or "".
    """
    from databook import taskepochs

    units, epochs, right = delayed_response_trials(src, table=table, response_s=response_s)
    n_right, n_left = int(right.sum()), int((~right).sum())
    if min(n_right, n_left) < min_trials:
        raise ValueError(
            f"{n_right} correct lick-right and {n_left} lick-left trials; "
            f"min_trials is {min_trials}"
        )
    out = taskepochs.epoch_selectivity(list(units["spike_times"]), epochs, right)
    out["unit"] = units.index.to_numpy()[out["unit"].to_numpy()]
    out["prefers"] = out["prefers"].map({"a": "right", "b": "left", "": ""})
    return out


def by_area(table: Any) -> Any:
    """Fraction of responsive units per area across sessions, sessions as the observations.

    Units of one session share an animal, a probe and a day, so the fraction and its
    interval are estimated over sessions (:func:`databook.stats.session_fraction`: a
    beta-binomial over the sessions' counts; with one session, its fraction and Wilson
    interval), not by pooling units as if independent (the statistics policy, Methods).

    Parameters
    ----------
    table : a gathered :func:`responsive_units` table (``area``, ``responsive``,
        ``passes_quality``, ``path``); only quality-passing units are counted

    Returns
    -------
    pandas.DataFrame
        Indexed by ``area``: ``n_sessions``, ``n_units``, ``n_responsive`` (summed over
        sessions), ``pooled_fraction`` (``n_responsive / n_units``, for reference),
        ``fraction``, ``ci_low``, ``ci_high`` (the between-session estimate and its 95 %
        interval) and ``rho`` (intra-session correlation; NaN with one session).
    """
    import pandas as pd

    from databook.stats import session_fraction

    missing = [c for c in ("area", "responsive", "passes_quality", "path") if c not in table]
    if missing:
        raise AcrossError(f"by_area needs columns {missing}; the table has {list(table.columns)}")
    kept = table[table["passes_quality"].astype(bool)]
    rows = {}
    for area, group in kept.groupby("area", sort=True):
        per = group.groupby("path")["responsive"].agg(["sum", "size"])
        k, n = per["sum"].to_numpy(float), per["size"].to_numpy(float)
        estimate = session_fraction(k, n)
        rows[area] = {
            "n_sessions": len(per),
            "n_units": int(n.sum()),
            "n_responsive": int(k.sum()),
            "pooled_fraction": k.sum() / n.sum(),
            "fraction": estimate.mean,
            "ci_low": estimate.low,
            "ci_high": estimate.high,
            "rho": estimate.rho,
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("area")


# Functions and their identity ------------------------------------------------------------
def load_function(name: str) -> Callable[..., Any]:
    """The per-session function named by a dotted path (``package.module.function``);
    a bare name is looked up in this module (``responsive_units``, ``rf_centres``)."""
    module_name, _, attr = name.rpartition(".")
    module_name = module_name or __name__
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise AcrossError(
            f"cannot import module {module_name!r} of function {name!r}: {err}"
        ) from err
    func = getattr(module, attr, None)
    if not callable(func):
        raise AcrossError(f"{module_name!r} has no function {attr!r} (from {name!r})")
    return func


def code_modules(func: Callable[..., Any]) -> dict[str, str]:
    """sha256 of the file that defines ``func`` and of every ``databook`` module that
    file imports, transitively: ``{module name or file: sha256}``. The figure cache keys
    its scripts the same way (:mod:`databook.modulehash`).

    A function without a source file (defined in a notebook cell) has the ``databook``
    modules its own code imports or names (``responses.f`` or ``f`` imported from
    ``databook.responses`` in an earlier cell), and theirs, transitively.
    """
    from databook.modulehash import Scan, module_file

    scan = Scan()
    module = getattr(func, "__module__", None)
    path = module_file(module, scan.package) if module else None
    if path is None:
        try:
            path = Path(inspect.getsourcefile(func) or "")
        except TypeError:
            path = None
    if path is not None and path.is_file():
        return {str(module or path): scan.sha256(path), **scan.module_hashes(path, module)}
    return scan.hashes(scan.modules_of(_names_used(func)))


def _names_used(func: Callable[..., Any]) -> set[str]:
    """Modules a function without a file imports in its body or reaches through its
    globals (a module, or an object defined in a module)."""
    import textwrap
    import types

    from databook.modulehash import imported_modules

    names: set[str] = set()
    try:
        source = textwrap.dedent(inspect.getsource(func)).encode()
        names |= imported_modules(source, None, filename="<function>", is_package=False)
    except (OSError, TypeError, SyntaxError):
        pass
    space = getattr(func, "__globals__", {})
    code = getattr(func, "__code__", None)
    todo = [code] if code is not None else []
    while todo:
        code = todo.pop()
        for name in code.co_names:
            value = space.get(name)
            if isinstance(value, types.ModuleType):
                names.add(value.__name__)
            elif isinstance(getattr(value, "__module__", None), str):
                names.add(value.__module__)
        todo.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
    return names


def function_key(func: Callable[..., Any], params: Mapping[str, Any]) -> str:
    """A hash of the function's qualified name, its source code, the code it runs
    (:func:`code_modules`: its module and the ``databook`` modules that imports) and the
    parameters: a change to any of them gives a new key (and so a new cache entry)."""
    try:
        code = inspect.getsource(func)
    except (OSError, TypeError):
        code_obj = getattr(func, "__code__", None)
        code = repr(code_obj.co_code + repr(code_obj.co_consts).encode()) if code_obj else ""
    name = f"{getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', repr(func))}"
    try:
        text = json.dumps(dict(params), sort_keys=True, default=repr)
    except TypeError as err:
        raise AcrossError(f"parameters must be JSON-like, got {params!r}: {err}") from None
    modules = json.dumps(code_modules(func), sort_keys=True)
    return hashlib.sha256("\0".join((name, code, modules, text)).encode()).hexdigest()


# Assets -----------------------------------------------------------------------------------
def dandiset_assets(
    dandiset: str, version: str, *, api_url: str | None = None, suffix: str = ".nwb"
) -> list[Any]:
    """Every asset of a published dandiset version whose path ends in ``suffix``, pinned
    (sha256 and storage URL) as :class:`databook.assets.Asset` entries, sorted by path."""
    from databook import assets

    if version.lower() == "draft":
        raise AcrossError(f"{dandiset}/draft changes without notice; give a published version")
    from dandi.consts import DandiInstance
    from dandi.dandiapi import DandiAPIClient

    base = assets.api_url(api_url)
    assets.preflight(base, f"list {dandiset}/{version}")
    instance = DandiInstance(name="databook-across", gui=None, api=base)
    found = []
    try:
        with DandiAPIClient(dandi_instance=instance) as client:
            remote = client.get_dandiset(dandiset, version, lazy=False)
            for asset in remote.get_assets():
                if not asset.path.endswith(suffix):
                    continue
                meta = asset.get_raw_metadata()
                urls = meta.get("contentUrl") or [asset.download_url]
                storage = [u for u in urls if "/api/" not in u]
                found.append(
                    assets.Asset(
                        key=Path(asset.path).stem,
                        dandiset=dandiset,
                        version=version,
                        path=asset.path,
                        asset_id=asset.identifier,
                        size=int(asset.size),
                        sha256=(meta.get("digest") or {}).get("dandi:sha2-256", ""),
                        url=(storage or urls)[0],
                    )
                )
    except Exception as err:  # the dandi client raises many kinds
        raise AcrossError(f"cannot list {dandiset}/{version} at {base}: {err}") from err
    if not found:
        raise AcrossError(f"{dandiset}/{version} at {base} has no asset ending in {suffix!r}")
    return sorted(found, key=lambda a: a.path)


def targets(
    *,
    keys: str | Sequence[str] | None = None,
    dandiset: str | None = None,
    api_url: str | None = None,
    lock_path: str | os.PathLike[str] | None = None,
) -> list[Any]:
    """The assets a run covers: lock ``keys`` (comma-separated or a list) or every NWB
    asset of ``dandiset`` given as ``ID/VERSION`` (exactly one of the two)."""
    from databook import assets

    if (keys is None) == (dandiset is None):
        raise AcrossError("give either asset keys or a dandiset ID/VERSION (exactly one)")
    if dandiset is not None:
        ident, _, version = dandiset.partition("/")
        if not ident or not version or "/" in version:
            raise AcrossError(
                f"--dandiset must be ID/VERSION (e.g. 000021/0.210913.1639): {dandiset!r}"
            )
        return dandiset_assets(ident, version, api_url=api_url)
    names = [k.strip() for k in keys.split(",")] if isinstance(keys, str) else list(keys or [])
    names = [k for k in names if k]
    if not names:
        raise AcrossError(f"no asset keys in {keys!r}")
    return [assets.resolve(k, lock_path) for k in names]


def _check_params(func: Callable[..., Any], params: Mapping[str, Any]) -> None:
    """Refuse, before any session runs, a ``params`` name ``func`` has no keyword for, or a
    value that breaks its parameter's rule (:mod:`databook.paramrules`, judged from the
    keyword's default). A function taking ``**kwargs`` has its named keywords checked."""
    from databook import paramrules

    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):  # builtins and C functions: nothing to check against
        return
    defaults = {
        name: p.default
        for name, p in signature.parameters.items()
        if p.default is not inspect.Parameter.empty
    }
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values()):
        params = {k: v for k, v in params.items() if k in defaults}
    try:
        paramrules.check(
            params,
            defaults,
            owner=getattr(func, "__qualname__", repr(func)),
            form="--param {name}={value}",
        )
    except paramrules.ParameterError as err:
        raise AcrossError(str(err)) from None


def parse_params(items: Sequence[str]) -> dict[str, Any]:
    """``["alpha=0.05", "window=[0, 0.2]"]`` -> ``{"alpha": 0.05, "window": [0, 0.2]}``
    (values parsed as JSON; text that is not JSON is kept as a string)."""
    params: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip().isidentifier():
            raise AcrossError(f"a parameter must be NAME=VALUE, got {item!r}")
        try:
            params[name.strip()] = json.loads(value)
        except json.JSONDecodeError:
            params[name.strip()] = value
    return params


def write_run(run: Run, out: str | os.PathLike[str]) -> Path:
    """Write ``run.table`` to ``out`` (``.parquet`` or ``.csv``) and, if any session
    failed, ``run.failures`` beside it (``<stem>.failures.csv``); atomically."""
    from databook._atomic import atomic_path

    out = Path(out)
    if out.suffix not in (".parquet", ".csv"):
        raise AcrossError(f"--out must end in .parquet or .csv: {out}")
    with atomic_path(out) as tmp:
        if out.suffix == ".parquet":
            run.table.to_parquet(tmp, index=False)
        else:
            run.table.to_csv(tmp, index=False)
    if len(run.failures):
        with atomic_path(out.with_name(f"{out.stem}.failures.csv")) as tmp:
            run.failures.to_csv(tmp, index=False)
    return out


def demo_files(seeds: Sequence[int]) -> dict[str, Path]:
    """Demo Neuropixels sessions, one per seed, as ``{dandiset path: local file}`` to serve
    with :func:`databook.localarchive.serve` (generated into the data cache once; each
    folder also holds that seed's ``ground_truth.json``)."""
    from databook import demo
    from databook.assets import cache_dir

    files = {}
    for seed in seeds:
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise AcrossError(f"demo seeds must be non-negative integers, got {seed!r}")
        folder = cache_dir() / "across-demo" / f"seed-{seed}"
        if not (folder / "ecephys.nwb").is_file() or not (folder / "ground_truth.json").is_file():
            demo.generate(folder, seed=seed, only=["demo-ecephys"])
        files[f"sub-demo-{seed}/sub-demo-{seed}_ses-ecephys.nwb"] = folder / "ecephys.nwb"
    return files


def demo_recovery(flashes: Any, fields: Any, truths: Mapping[str, Mapping[str, Any]]) -> Any:
    """How well gathered tables recover each demo session's planted answers.

    Parameters
    ----------
    flashes : gathered :func:`responsive_units` table (all units, no quality filter)
    fields : gathered :func:`rf_centres` table
    truths : ``{path: the "ecephys" part of that session's ground_truth.json}``

    Returns
    -------
    pandas.DataFrame
        One row per session (its path): ``planted responders``, ``found``, ``false
        alarms``, ``planted fields``, ``fields found``, ``median centre error (deg)``, and
        ``responders labelled noise``, ``fields labelled noise`` (planted units the
        curation label calls noise: dropped before any test, so not in the ``planted``
        columns).
    """
    import numpy as np
    import pandas as pd

    rows = {}
    for path, truth in truths.items():
        mine = flashes[flashes["path"] == path]
        present = set(mine["unit"])  # units labelled noise were dropped before the tests
        every = {r["unit"] for r in truth["flash_responders"]}
        planted = every & present
        called = set(mine.loc[mine["responsive"], "unit"])
        located = fields[fields["path"] == path].set_index("unit")
        centres = pd.DataFrame(truth["rf_units"]).set_index("unit")["center_deg"]
        rf_noise = int((~centres.index.isin(list(present))).sum())
        centres = centres[centres.index.isin(list(present))]
        found = centres.index.intersection(located.index)
        offset = located.loc[found, ["x_deg", "y_deg"]].to_numpy() - np.array(
            centres[found].tolist(), dtype=float
        ).reshape(-1, 2)
        error = np.hypot(offset[:, 0], offset[:, 1])
        rows[path] = {
            "planted responders": len(planted),
            "found": len(planted & called),
            "false alarms": len(called - planted),
            "planted fields": len(centres),
            "fields found": len(found),
            "median centre error (deg)": float(np.median(error)) if error.size else np.nan,
            "responders labelled noise": len(every - present),
            "fields labelled noise": rf_noise,
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("path")


def _etag(url: str) -> str:
    """The ETag the server gives ``url`` ('' if none or unreachable)."""
    import requests

    try:
        head = requests.head(url, allow_redirects=True, timeout=10)
    except requests.RequestException:
        return ""
    return head.headers.get("ETag", "").strip('"') if head.ok else ""


# Running ----------------------------------------------------------------------------------
@dataclass
class Run:
    """What :func:`across` gathered.

    Attributes
    ----------
    table : pandas.DataFrame
        Every session's rows, provenance columns first (:data:`PROVENANCE`).
    failures : pandas.DataFrame
        One row per failed session: ``dandiset``, ``version``, ``path``, ``url``,
        ``error_type``, ``error``.
    computed, cache_hits : int
        Sessions computed by a worker in this run / read from the cache.
    seconds : dict
        ``{path: seconds}`` a worker spent on each computed session.
    dashboard : str or None
        The Dask dashboard URL, when one was running.
    """

    table: Any
    failures: Any
    computed: int = 0
    cache_hits: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    dashboard: str | None = None


def _cache_file(root: Path, func_key: str, asset_key: str) -> Path:
    return root / func_key[:16] / f"{hashlib.sha256(asset_key.encode()).hexdigest()[:32]}.parquet"


def _one_session(
    func: Callable[..., Any],
    params: Mapping[str, Any],
    record: Mapping[str, str],
    cache_file: str | None,
) -> tuple[Any, float]:
    """Stream one asset, run ``func`` on it, add provenance, cache it (on a worker)."""
    import pandas as pd

    from databook import nwb
    from databook._atomic import atomic_path

    start = time.perf_counter()
    with nwb.source(record["url"]) as src:
        result = func(src, **params)
    if not isinstance(result, pd.DataFrame):
        raise TypeError(
            f"the per-session function must return a pandas DataFrame, got {type(result)}"
        )
    result = result.reset_index(drop=True)
    for k, column in enumerate(PROVENANCE):
        if column in result:
            raise ValueError(f"the per-session result already has provenance column {column!r}")
        result.insert(k, column, record[column])
    if cache_file is not None:
        with atomic_path(cache_file) as tmp:
            result.to_parquet(tmp, index=False)
    return result, time.perf_counter() - start


def _records(items: Sequence[Any]) -> list[dict[str, str]]:
    from databook import assets

    records = []
    for item in items:
        asset = assets.resolve(item) if isinstance(item, str) else item
        if not isinstance(asset, assets.Asset):
            raise AcrossError(f"an asset must be a lock key or databook.assets.Asset: {item!r}")
        if asset.is_demo:
            url = str(assets.local_file(asset))  # demo: no server; read the local copy
        else:
            assets.require_pinned(asset)
            url = asset.url
        records.append(
            {
                "dandiset": asset.dandiset,
                "version": asset.version,
                "path": asset.path,
                "sha256": asset.sha256,
                "etag": "",
                "url": url,
            }
        )
    paths = [r["path"] for r in records]
    if len(set(paths)) != len(paths):
        raise AcrossError(f"assets listed more than once: {sorted(paths)}")
    return records


def across(
    func: Callable[..., Any] | str,
    assets: Sequence[Any],
    *,
    params: Mapping[str, Any] | None = None,
    scheduler: str | None = None,
    workers: int = 2,
    memory_limit: str | int = "4GiB",
    retries: int = 1,
    cache: str | os.PathLike[str] | None = None,
    progress: bool = True,
    dashboard: bool = True,
) -> Run:
    """Run ``func`` on every asset and gather one tidy table.

    Parameters
    ----------
    func : a per-session function ``func(src, **params) -> DataFrame``, or its dotted name.
        It must be importable by the workers (a module-level function of an installed
        module), and is passed the open :class:`databook.nwb.Source`.
    assets : lock keys or :class:`databook.assets.Asset` entries (pinned; e.g. from
        :func:`dandiset_assets`). Demo keys are read from their local copies.
    params : keyword arguments of ``func`` (JSON-like; they enter the cache key)
    scheduler : address of a running Dask scheduler; None starts a LocalCluster of
        ``workers`` processes (one thread each) with ``memory_limit`` per worker.
    retries : times a failed session is retried before it counts as failed
    memory_limit : per-worker memory limit of the LocalCluster (bytes or e.g. "4GiB"); a
        worker above it is restarted and its session, after ``retries``, fails alone
    cache : directory of the Parquet cache (default ``$DATABOOK_CACHE/across``)
    progress : show a progress bar (tqdm) on the client
    dashboard : print the Dask dashboard URL, if one is running

    Returns
    -------
    Run
        ``table``, ``failures``, ``computed``, ``cache_hits``, ``seconds``, ``dashboard``.
    """
    import pandas as pd

    from databook import assets as _assets

    if isinstance(func, str):
        func = load_function(func)
    if not callable(func):
        raise AcrossError(f"func must be callable or a dotted name, got {func!r}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise AcrossError(f"workers must be a positive integer, got {workers!r}")
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise AcrossError(f"retries must be a non-negative integer, got {retries!r}")
    if isinstance(assets, str) or not len(assets):
        raise AcrossError(f"assets must be a non-empty list of lock keys or Assets: {assets!r}")
    if isinstance(memory_limit, str):
        from dask.utils import parse_bytes

        try:
            parse_bytes(memory_limit)
        except (ValueError, TypeError):
            raise AcrossError(
                f"memory_limit must be bytes or a size such as '4GiB', got {memory_limit!r}"
            ) from None
    params = dict(params or {})
    _check_params(func, params)
    func_key = function_key(func, params)
    root = Path(cache) if cache is not None else _assets.cache_dir() / "across"
    records = _records(assets)

    tables: list[Any] = []
    todo: list[tuple[dict[str, str], str | None]] = []
    hits = 0
    for record in records:
        asset_key = record["sha256"]
        if not asset_key and record["url"].startswith(("http://", "https://")):
            record["etag"] = _etag(record["url"])
            asset_key = record["etag"] and f"etag:{record['etag']}"
        target = _cache_file(root, func_key, asset_key) if asset_key else None
        if target is not None and target.is_file():
            tables.append(pd.read_parquet(target))
            hits += 1
        else:
            todo.append((record, str(target) if target else None))

    failures: list[dict[str, str]] = []
    seconds: dict[str, float] = {}
    link = None
    if todo:
        link = _compute(
            func, params, todo, tables, failures, seconds,
            scheduler=scheduler, workers=workers, memory_limit=memory_limit,
            retries=retries, progress=progress, dashboard=dashboard,
        )  # fmt: skip
    order = {r["path"]: k for k, r in enumerate(records)}
    table = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=PROVENANCE)
    if len(table):
        table = table.sort_values("path", key=lambda s: s.map(order), kind="stable")
    failed = pd.DataFrame(failures, columns=list(_FAILURE_COLUMNS))
    return Run(
        table=table.reset_index(drop=True),
        failures=failed.sort_values("path").reset_index(drop=True),
        computed=len(seconds),
        cache_hits=hits,
        seconds=seconds,
        dashboard=link,
    )


def start_cluster(workers: int = 2, *, memory_limit: str | int = "4GiB") -> Any:
    """A ``distributed.LocalCluster`` of ``workers`` processes (one thread each, at most
    ``memory_limit`` each) on 127.0.0.1, to share between several :func:`across` calls
    (pass ``scheduler=cluster.scheduler_address``); ``cluster.close()`` when done."""
    from distributed import LocalCluster

    return LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        memory_limit=memory_limit,
        # A free port: a fixed one (8787) collides with other clusters on the machine.
        # Without bokeh installed no dashboard starts.
        dashboard_address=":0",
        host="127.0.0.1",
    )


def _compute(
    func, params, todo, tables, failures, seconds, *, scheduler, workers, memory_limit,
    retries, progress, dashboard,
) -> str | None:  # fmt: skip
    """Submit the sessions in ``todo`` and collect results into ``tables``/``failures``."""
    from distributed import Client, as_completed
    from tqdm import tqdm

    cluster = None
    if scheduler is None:
        cluster = start_cluster(workers, memory_limit=memory_limit)
        client = Client(cluster)
    else:
        try:
            client = Client(scheduler, timeout=10)
        except OSError as err:
            raise AcrossError(f"cannot reach the Dask scheduler at {scheduler}: {err}") from err
    try:
        link = None
        if dashboard and "dashboard" in client.scheduler_info().get("services", {}):
            link = client.dashboard_link
            print(f"Dask dashboard: {link}")
        futures = {}
        for record, target in todo:
            future = client.submit(
                _one_session, func, params, record, target,
                retries=retries, pure=False, key=f"session-{record['path']}",
            )  # fmt: skip
            futures[future] = record
        bar = tqdm(total=len(futures), desc="sessions", unit="session", disable=not progress)
        for future in as_completed(futures):
            record = futures[future]
            if future.status == "finished":
                result, elapsed = future.result()
                tables.append(result)
                seconds[record["path"]] = elapsed
            else:
                error = future.exception()
                failures.append(
                    {
                        **{k: record[k] for k in ("dandiset", "version", "path", "url")},
                        "error_type": type(error).__name__,
                        "error": str(error),
                    }
                )
            bar.update(1)
        bar.close()
        return link
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
