"""databook.sessions: a per-session analysis over many demo sessions on a Dask LocalCluster,
streamed from the local DANDI-compatible archive on 127.0.0.1."""

from __future__ import annotations

import json
import linecache
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from databook import cli, localarchive, sessions
from databook.assets import Asset

SEEDS = (0, 1, 2, 3)
CORRUPT = "sub-corrupt/sub-corrupt_ecephys.nwb"


def _session(seed: int) -> Path:
    """The folder of the demo ecephys session of ``seed`` and its ground truth."""
    return next(iter(sessions.demo_files([seed]).values())).parent


@dataclass
class Served:
    server: localarchive.DandiServer
    assets: list[Asset]
    truth: dict[str, dict]  # path -> ecephys ground truth
    first: object  # the first run


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    files = sessions.demo_files(SEEDS)
    folders = {path: file.parent for path, file in files.items()}
    # A corrupt session: the HDF5 superblock overwritten, as a broken upload would be.
    bad = tmp_path_factory.mktemp("corrupt") / "ecephys.nwb"
    shutil.copyfile(files[next(iter(files))], bad)
    with open(bad, "r+b") as handle:
        handle.write(b"\0" * 4096)
    files[CORRUPT] = bad
    truth = {
        path: json.loads((folder / "ground_truth.json").read_text())["ecephys"]
        for path, folder in folders.items()
    }
    cache = tmp_path_factory.mktemp("across-cache")
    with localarchive.serve(files) as server:
        archive = server.archive
        found = sessions.dandiset_assets(archive.dandiset, archive.version, api_url=server.api_url)
        with server.traffic() as traffic:
            first = sessions.across(
                sessions.responsive_units,
                found,
                params={"quality_filter": False},
                workers=2,
                cache=cache,
                progress=False,
            )
        first.traffic = traffic
        first.cache = cache
        yield Served(server, found, truth, first)


def test_gathered_table_finds_the_planted_responders_of_every_session(served):
    table = served.first.table
    assert sorted(table["path"].unique()) == sorted(served.truth)
    for path, truth in served.truth.items():
        rows = table[table["path"] == path]
        # Units labelled noise are dropped before the test: in no row, found by no one.
        planted = {r["unit"] for r in truth["flash_responders"]} & set(rows["unit"])
        called = set(rows.loc[rows["responsive"], "unit"])
        assert len(planted) > 5
        assert planted <= called, f"{path}: missed {sorted(planted - called)}"
        # The BH family is this session's quality-passing units, not all sessions'.
        from scipy.stats import false_discovery_control

        family = rows[rows["passes_quality"]]
        expected = false_discovery_control(family["p_value"].to_numpy(), method="bh")
        np.testing.assert_allclose(family["q_value"].to_numpy(), expected, rtol=1e-10)
        assert len(called - planted) <= 2, f"{path}: false alarms {sorted(called - planted)}"
        planted_latency = {r["unit"]: r["latency_s"] for r in truth["flash_responders"]}
        found = rows.set_index("unit").loc[sorted(planted), "latency"]
        expected = pd.Series(planted_latency).loc[sorted(planted)]
        error = np.abs(found.to_numpy() - expected.to_numpy())  # s
        assert np.median(error) < 0.005 and error.max() < 0.03


def test_provenance_columns_name_each_rows_asset(served):
    table = served.first.table
    assert list(table.columns[: len(sessions.PROVENANCE)]) == list(sessions.PROVENANCE)
    archive = served.server.archive
    for path, rows in table.groupby("path"):
        assert set(rows["sha256"]) == {archive.asset(path).sha256}
        assert set(rows["dandiset"]) == {archive.dandiset}
        assert set(rows["version"]) == {archive.version}
    # Different seeds give different sessions: the rows must not be one session repeated.
    rates = table.groupby("path")["p_value"].apply(lambda p: tuple(np.round(p, 6)))
    assert rates.nunique() == len(SEEDS)


def test_corrupt_session_fails_alone(served):
    run = served.first
    assert run.failures["path"].tolist() == [CORRUPT]
    assert run.failures["error"].iloc[0]  # a message, not an empty string
    assert CORRUPT not in set(run.table["path"])
    assert run.computed == len(SEEDS) and run.cache_hits == 0


def test_sessions_are_streamed_not_downloaded(served):
    traffic = served.first.traffic
    assert traffic.whole_gets == 0
    total = sum(served.server.archive.asset(a.path).size for a in served.assets)
    assert 0 < traffic.bytes_ranged < total


def test_second_run_recomputes_nothing(served):
    again = sessions.across(
        sessions.responsive_units,
        served.assets,
        params={"quality_filter": False},
        workers=1,
        cache=served.first.cache,
        progress=False,
    )
    assert again.cache_hits == len(SEEDS)
    assert again.computed == 0
    assert again.failures["path"].tolist() == [CORRUPT]  # failures are tried again
    pd.testing.assert_frame_equal(again.table, served.first.table)


def test_unreachable_session_fails_alone_through_the_cli(served, tmp_path, monkeypatch):
    """`databook across` on a lock with one good and one missing asset: one row of the
    table per unit of the good session, the missing one reported, exit status 1."""
    good = replace(next(a for a in served.assets if a.path != CORRUPT), key="good")
    gone = Asset(
        "gone", good.dandiset, good.version, "sub-x/gone.nwb", "x", 10, "0" * 64,
        f"{served.server.url}/blobs/no-such-asset",
    )  # fmt: skip
    project = tmp_path / "project"
    (project / "figures_src").mkdir(parents=True)
    (project / "myst.yml").write_text("version: 1\n")
    from databook.assets import write_lock

    write_lock(project / "assets.lock", {"good": good, "gone": gone})
    monkeypatch.setenv("DATABOOK_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "table.csv"
    result = CliRunner().invoke(
        cli.main,
        ["across", "responsive_units", "--assets", "good,gone", "--root", str(project),
         "--workers", "1", "--param", "quality_filter=false", "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "FAILED sub-x/gone.nwb" in result.output
    table = pd.read_csv(out)
    expected = served.first.table
    assert len(table) == (expected["path"] == good.path).sum()
    failures = pd.read_csv(tmp_path / "table.failures.csv")
    assert failures["path"].tolist() == ["sub-x/gone.nwb"]


def test_rf_centres_match_the_planted_fields():
    folder = _session(1)
    truth = json.loads((folder / "ground_truth.json").read_text())["ecephys"]["rf_units"]
    planted = pd.DataFrame(truth).set_index("unit")
    from databook import nwb, quality

    kept = quality.drop_noise(nwb.units(str(folder / "ecephys.nwb")))
    assert kept.attrs["n_noise"] > 0  # the demo labels about 5 % noise
    planted = planted[planted.index.isin(kept.index)]  # noise units are dropped first
    found = sessions.rf_centres(str(folder / "ecephys.nwb")).set_index("unit")
    assert set(found.index) <= set(kept.index)
    assert set(planted.index) <= set(found.index)
    centres = np.array(planted["center_deg"].tolist())
    error = np.hypot(
        found.loc[planted.index, "x_deg"] - centres[:, 0],
        found.loc[planted.index, "y_deg"] - centres[:, 1],
    )
    assert error.max() < 3.0  # degrees


def test_by_area_estimates_over_sessions_not_pooled_units():
    table = pd.DataFrame(
        {
            "path": ["a"] * 4 + ["b"] * 6,
            "area": ["VISp"] * 8 + ["LP"] * 2,
            "responsive": [True, True, False, False, True, False, False, False, False, False],
            "passes_quality": [True] * 9 + [False],
        }
    )
    out = sessions.by_area(table)
    assert out.loc["VISp", "n_sessions"] == 2
    assert out.loc["VISp", "n_units"] == 8 and out.loc["VISp", "n_responsive"] == 3
    assert out.loc["VISp", "pooled_fraction"] == pytest.approx(3 / 8)
    assert out.loc["LP", "n_units"] == 1  # the failing unit is not counted
    # Sessions are the observations: a beta-binomial over (2 of 4, 1 of 4).
    from databook import stats

    fit = stats.beta_binomial([2, 1], [4, 4])
    assert out.loc["VISp", ["fraction", "ci_low", "ci_high"]].tolist() == pytest.approx(
        [fit.mean, fit.low, fit.high]
    )
    # One session: its fraction with the Wilson 95 % interval of 0 of 1.
    assert out.loc["LP", "fraction"] == 0.0 and out.loc["LP", "ci_low"] == 0.0
    assert out.loc["LP", "ci_high"] == pytest.approx(0.7935, abs=1e-3)
    assert np.isnan(out.loc["LP", "rho"])


def test_by_area_uses_each_sessions_own_family():
    """Each session's units were corrected as one family (responsive_units); by_area
    counts those calls and never re-corrects over all sessions pooled."""
    table = pd.DataFrame(
        {
            "path": ["a"] * 4 + ["b"] * 4,
            "area": ["VISp"] * 8,
            "p_value": [0.001] * 4 + [0.02, 0.9, 0.9, 0.9],
            # BH within b: q(0.02) = 0.08, not responsive; pooled over a and b it would be.
            "responsive": [True] * 4 + [False] * 4,
            "passes_quality": [True] * 8,
        }
    )
    out = sessions.by_area(table)
    assert out.loc["VISp", "n_responsive"] == 4
    assert out.loc["VISp", "pooled_fraction"] == 0.5


def test_cache_key_changes_with_parameters_and_code():
    base = sessions.function_key(sessions.responsive_units, {"q": 0.05})
    assert base == sessions.function_key(sessions.responsive_units, {"q": 0.05})
    assert base != sessions.function_key(sessions.responsive_units, {"q": 0.01})
    assert base != sessions.function_key(sessions.rf_centres, {"q": 0.05})

    def edited(src, alpha=0.01):
        return alpha

    def edited_again(src, alpha=0.01):
        return alpha + 0

    edited_again.__qualname__ = edited.__qualname__
    assert sessions.function_key(edited, {}) != sessions.function_key(edited_again, {})


def _library_copy(tmp_path: Path, monkeypatch) -> Path:
    """A copy of the databook package that the code keys read instead of ours."""
    from databook import modulehash

    copy = tmp_path / "databook"
    shutil.copytree(
        Path(sessions.__file__).parent, copy, ignore=shutil.ignore_patterns("__pycache__")
    )
    monkeypatch.setattr(modulehash, "package_dir", lambda: copy)
    return copy


def _fix_unit_responses(package: Path) -> None:
    """Edit ``unit_responses`` (which ``responsive_units`` reaches through unitsummary):
    a new default sub-window of the count test, as a fix to the library would be."""
    file = package / "responses.py"
    text = file.read_text()
    old = "count_window: float = 0.05,"
    start = text.index(old, text.index("def unit_responses("))
    file.write_text(text[:start] + "count_window: float = 0.04," + text[start + len(old) :])


def test_cache_key_changes_with_the_library_modules_it_imports(tmp_path, monkeypatch):
    package = _library_copy(tmp_path, monkeypatch)
    modules = sessions.code_modules(sessions.responsive_units)
    assert {"databook.sessions", "databook.unitsummary", "databook.responses"} <= set(modules)
    base = sessions.function_key(sessions.responsive_units, {})
    assert base == sessions.function_key(sessions.responsive_units, {})  # nothing changed
    # A user's function in a module of their own, importing the library.
    (tmp_path / "mylab_analysis.py").write_text(
        "from databook import unitsummary\n\ndef per_session(src):\n    return None\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    mine = sessions.load_function("mylab_analysis.per_session")
    assert "databook.responses" in sessions.code_modules(mine)
    my_base = sessions.function_key(mine, {})
    # A function defined in a notebook cell: no source file, only the kernel's linecache.
    cell = (
        "from databook.responses import unit_responses\nfrom databook import quality\n\n"
        "def per_cell(src):\n    from databook import stats\n"
        "    return unit_responses, quality, stats\n"
    )
    filename = str(tmp_path / "ipykernel_1" / "cell.py")
    monkeypatch.setitem(
        linecache.cache, filename, (len(cell), None, cell.splitlines(True), filename)
    )
    space: dict = {"__name__": "__main__"}
    exec(compile(cell, filename, "exec"), space)
    in_cell = space["per_cell"]
    assert {"databook.responses", "databook.quality", "databook.stats"} <= set(
        sessions.code_modules(in_cell)
    )
    cell_base = sessions.function_key(in_cell, {})
    _fix_unit_responses(package)
    assert sessions.function_key(sessions.responsive_units, {}) != base
    assert sessions.function_key(mine, {}) != my_base
    assert sessions.function_key(in_cell, {}) != cell_base


def test_a_fixed_library_function_is_recomputed_not_served(served, tmp_path, monkeypatch):
    """The first run cached its sessions; after a change to a library function the
    per-session function imports, a session is computed again, then served again."""
    package = _library_copy(tmp_path, monkeypatch)
    good = [next(a for a in served.assets if a.path != CORRUPT)]

    def run():
        return sessions.across(
            sessions.responsive_units, good, params={"quality_filter": False}, workers=1,
            cache=served.first.cache, progress=False, dashboard=False,
        )  # fmt: skip

    unchanged = run()
    assert (unchanged.computed, unchanged.cache_hits) == (0, 1)
    _fix_unit_responses(package)
    fixed = run()
    assert (fixed.computed, fixed.cache_hits) == (1, 0)
    again = run()
    assert (again.computed, again.cache_hits) == (0, 1)
    pd.testing.assert_frame_equal(again.table, fixed.table)


def test_bad_input_is_named():
    with pytest.raises(sessions.AcrossError, match="no function 'nope'"):
        sessions.load_function("databook.sessions.nope")
    with pytest.raises(sessions.AcrossError, match="workers must be a positive integer"):
        sessions.across(sessions.responsive_units, ["x"], workers=0)
    with pytest.raises(sessions.AcrossError, match="memory_limit must be"):
        sessions.across(sessions.responsive_units, ["x"], memory_limit="lots")
    with pytest.raises(sessions.AcrossError, match="NAME=VALUE"):
        sessions.parse_params(["alpha"])
    with pytest.raises(sessions.AcrossError, match="ID/VERSION"):
        sessions.targets(dandiset="000021")
    assert sessions.parse_params(["alpha=0.05", "stimulus=flashes"]) == {
        "alpha": 0.05,
        "stimulus": "flashes",
    }
