"""Chapter 1's real-data figure: the anatomy of two published files next to the demo's.

The figure script runs as the article runs it (a subprocess, a data cache seeded from
verified local copies, the demo file generated there); its numbers are checked against
h5py alone, on the same verified copies and on a demo file generated apart and held to
its pin: counts, electrode locations and positions, units columns against the demo's,
the writer. The chapter's real-data cell and every ``{eval}`` of its section are then
run against that JSON. Skips when the copies of DANDI:000006 / 000207 beside the project
are absent.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import h5py
import numpy as np
import pytest

from databook import assets
from tests.conftest import ROOT
from tests.real_figures import build, section_values

DANDI = ROOT.parent / "shared" / "data" / "dandi"
SCRIPT = "fig_nwb_real_anatomy"
DEMO = "demo-ecephys"
REAL = ["human-mtl-sub-4-ses-4", "alm-anm372904-20170619"]
KEYS = [DEMO, *REAL]
ELECTRODES = "general/extracellular_ephys/electrodes"

pytestmark = pytest.mark.skipif(
    not DANDI.is_dir(), reason=f"{DANDI} (copies of DANDI assets) is absent"
)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """({key: the script's JSON for that file}, its output folder, {key: a verified copy})."""
    sources = [DANDI / "000006", DANDI / "000207" / "sub-4", DANDI]
    summary, out, paths = build(SCRIPT, REAL, sources, tmp_path_factory)
    lock = assets.load_lock(ROOT / "assets.lock")
    demo = assets.ensure_demo(lock, tmp_path_factory.mktemp("demo-cache"))
    paths[DEMO] = Path(demo[DEMO])
    return {f["key"]: f for f in summary["files"]}, out, paths


def _names(values) -> list[str]:
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


@pytest.mark.parametrize("key", KEYS)
def test_counts_match_h5py(built, key):
    files, _, paths = built
    info = files[key]
    with h5py.File(paths[key], "r") as f:
        flat = f["units/spike_times"][:]
        ends = f["units/spike_times_index"][:]
        trials = "intervals/trials/stop_time"
        stop = f[trials][:] if trials in f else np.array([])
        version = f.attrs["nwb_version"]
        groups = sorted(n for n in f if isinstance(f[n], h5py.Group))
        script = f["general/source_script"][()] if "general/source_script" in f else None
        spaces = {n: sorted(f["specifications"][n]) for n in f["specifications"]}
    version = version.decode() if isinstance(version, bytes) else str(version)
    units = np.split(flat, ends[:-1])
    assert info["nwb_version"] == version
    assert info["source_script"] == (None if script is None else _names([script])[0])
    assert {n: v.split(", ") for n, v in info["namespaces"].items()} == spaces
    assert info["top_groups"] == groups and "units" in groups
    assert info["n_units"] == len(ends)
    assert info["n_spikes"] == flat.size
    assert info["n_trials"] == stop.size
    assert info["stop_time_nan"] == int(np.isnan(stop).sum())
    unsorted = sum(bool(np.any(np.diff(u) < 0)) for u in units)
    assert info["unsorted_units_in_file"] == unsorted
    # The reader sorts exactly the units the file stores out of order, and says so once.
    assert info["sorted_by_reader"] == unsorted
    assert info["reader_warnings"] == (1 if unsorted else 0)
    assert info["file_bytes"] == paths[key].stat().st_size


@pytest.mark.parametrize("key", KEYS)
def test_electrode_locations_and_positions_match_h5py(built, key):
    files, _, paths = built
    info = files[key]["electrodes"]
    with h5py.File(paths[key], "r") as f:
        table = f[ELECTRODES]
        where = Counter(_names(table["location"][:]))
        columns = {
            c: table[c][:].astype(float)
            for c in ("x", "y", "z", "probe_vertical_position", "probe_horizontal_position")
            if c in table
        }
        rows = table["id"].shape[0]
    assert info["n"] == rows == sum(where.values())
    assert info["locations"] == dict(where)
    assert set(info["positions"]) == set(columns)
    for name, values in columns.items():
        got = info["positions"][name]
        assert got["nan"] == np.isnan(values).sum(), name
        assert got["zero"] == (values == 0).sum(), name
        assert (got["min"], got["max"]) == (np.nanmin(values), np.nanmax(values)), name


def test_units_columns_are_compared_with_the_demo_files_own(built):
    files, _, paths = built
    stored = {}
    quality = {}
    for key in KEYS:
        with h5py.File(paths[key], "r") as f:
            stored[key] = _names(f["units"].attrs["colnames"])
            if "quality" in f["units"]:
                quality[key] = Counter(_names(f["units/quality"][:]))
    demo = set(stored[DEMO]) - {"spike_times"}
    assert len(demo) > 0
    for key in KEYS:
        info = files[key]
        assert set(info["demo_units_has"]) == demo & set(stored[key])
        assert set(info["demo_units_lacks"]) == demo - set(stored[key])
        assert set(info["units_not_in_demo"]) == set(stored[key]) - demo - {"spike_times"}
        assert info["quality_values"] == dict(quality.get(key, {}))
    assert files[DEMO]["demo_units_lacks"] == []


def test_000006_is_unsorted_positionless_and_has_no_stop_time(built):
    files, _, _ = built
    alm = files["alm-anm372904-20170619"]
    assert alm["unsorted_units_in_file"] > 0
    assert alm["stop_time_nan"] == alm["n_trials"] > 0
    assert "depth" in alm["units_not_in_demo"] and alm["depth_source"] == "units.depth"
    assert "peak_channel_id" in alm["demo_units_lacks"]
    # Trial-relative event columns: within seconds of 0, while trials start much later.
    assert alm["trial_event_spans"]["cue_start_time"][1] < alm["trial_event_spans"]["start_time"][0]


def test_the_figure_names_each_pinned_asset(built):
    files, out, _ = built
    lock = assets.load_lock(ROOT / "assets.lock")
    for key in KEYS:
        assert (files[key]["dandiset"], files[key]["version"]) == (
            lock[key].dandiset,
            lock[key].version,
        )
        assert files[key]["sha256"] == lock[key].sha256
    assert {"fig_nwb_real_anatomy.png", "fig_nwb_real_anatomy.pdf"} <= {
        p.name for p in out.iterdir()
    }


def test_the_chapter_section_quotes_the_files(built, tmp_path, monkeypatch):
    files, out, paths = built
    values = section_values(
        ROOT / "chapters" / "01-nwb-basics.md", SCRIPT, out, tmp_path, monkeypatch
    )
    assert values, "chapter 1 has no real-data cell reading the figure's JSON"
    shown = " | ".join(str(v) for v in values.values())
    for key in KEYS:
        with h5py.File(paths[key], "r") as f:
            where = Counter(_names(f[ELECTRODES]["location"][:]))
        for location, n in where.items():  # every location the file names, and its count
            assert location in shown, (key, location)
            if len(where) > 1:
                assert f"{location} ({n})" in shown, (key, location)
    for column in files["alm-anm372904-20170619"]["demo_units_lacks"]:
        assert column in shown
