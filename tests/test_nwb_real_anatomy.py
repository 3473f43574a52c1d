"""Chapter 1's real-data figure: the anatomy of two published files.

The figure script runs as the article runs it (a subprocess, a data cache seeded from
verified local copies); its numbers are checked against h5py alone. Skips when the copies
of DANDI:000006 / 000207 beside the project are absent.
"""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

from databook import assets
from databook.figures import FigureScript, run_script
from tests.conftest import ROOT

DANDI = ROOT.parent / "shared" / "data" / "dandi"
SCRIPT = ROOT / "figures_src" / "fig_nwb_real_anatomy.py"
KEYS = ["human-mtl-sub-4-ses-4", "alm-anm372904-20170619"]

pytestmark = pytest.mark.skipif(
    not DANDI.is_dir(), reason=f"{DANDI} (copies of DANDI assets) is absent"
)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    lock = assets.load_lock(ROOT / "assets.lock")
    sources = [DANDI / "000006", DANDI / "000207" / "sub-4", DANDI]
    fetched = assets.fetch_all(
        [lock[k] for k in KEYS], cache=cache, progressbar=False, sources=sources
    )
    assert not fetched.errors, fetched.errors
    out = tmp_path_factory.mktemp("figures")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABOOK_CACHE", str(cache))
        mp.setenv("DATABOOK_DATA", "dandi")
        result = run_script(FigureScript.read(SCRIPT), out)
    assert result.status == "built", result.error
    data = json.loads((out / "fig_nwb_real_anatomy.json").read_text())
    return {f["key"]: f for f in data["files"]}, {k: Path(p) for k, p in fetched.paths.items()}


@pytest.mark.parametrize("key", KEYS)
def test_counts_match_h5py(built, key):
    files, paths = built
    info = files[key]
    with h5py.File(paths[key], "r") as f:
        flat = f["units/spike_times"][:]
        ends = f["units/spike_times_index"][:]
        trials = "intervals/trials/stop_time"
        stop = f[trials][:] if trials in f else np.array([])
        version = f.attrs["nwb_version"]
        groups = sorted(n for n in f if isinstance(f[n], h5py.Group))
    version = version.decode() if isinstance(version, bytes) else str(version)
    units = np.split(flat, ends[:-1])
    assert info["nwb_version"] == version
    assert info["top_groups"] == groups and "units" in groups
    assert info["n_units"] == len(ends)
    assert info["n_spikes"] == flat.size
    assert info["n_trials"] == stop.size
    assert info["stop_time_nan"] == int(np.isnan(stop).sum())
    unsorted = sum(bool(np.any(np.diff(u) < 0)) for u in units)
    assert info["unsorted_units_in_file"] == unsorted
    # The reader sorts exactly the units the file stores out of order.
    assert info["sorted_by_reader"] == unsorted
    assert info["file_bytes"] == paths[key].stat().st_size


def test_000006_is_unsorted_and_has_no_stop_time(built):
    files, _ = built
    alm = files["alm-anm372904-20170619"]
    assert alm["unsorted_units_in_file"] > 0
    assert alm["stop_time_nan"] == alm["n_trials"] > 0
    assert "depth" in alm["units_columns"]
    assert "peak_channel_id" in alm["units_missing"]
