"""Chapter 4's human-MTL real-data figure on the DANDI:000207 session held beside the
project.

The figure script runs as the article runs it (a subprocess, a data cache seeded from the
verified local copy), and its numbers are checked against a recomputation that reads the
file with h5py alone, counts spikes with numpy and tests with scipy: a bug in the
readers (units, electrode locations, the stimulus table), in the window counting or in
the test and its correction would show as a mismatch. Skips when
``../shared/data/dandi/000207`` is absent.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
from scipy.stats import false_discovery_control, wilcoxon

from databook import assets
from tests.conftest import ROOT
from tests.real_figures import build, section_values

HELD = ROOT.parent / "shared" / "data" / "dandi" / "000207"
KEY = "human-mtl-sub-4-ses-4"

pytestmark = pytest.mark.skipif(
    not HELD.is_dir(), reason=f"{HELD} (a copy of a DANDI:000207 asset) is absent"
)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The script's JSON, its output folder and the verified copy it read."""
    summary, out, paths = build("fig_mtl_responses", [KEY], [HELD], tmp_path_factory)
    return summary, out, paths[KEY]


def _direct(path: Path, table: str, baseline, response):
    """(p-values, q-values, median change sign, area per unit, n onsets), from h5py."""
    with h5py.File(path, "r") as f:
        flat = f["units/spike_times"][:]
        ends = f["units/spike_times_index"][:]
        rows = f["units/electrodes"][:]
        where = f["general/extracellular_ephys/electrodes/location"][:]
        onsets = f[f"intervals/{table}/start_time"][:]
    area = np.array([v.decode() for v in where])[rows]
    p, change = [], []
    for unit in np.split(flat, ends[:-1]):
        unit = np.sort(unit)

        def count(window, unit=unit):
            lo, hi = onsets + window[0], onsets + window[1]
            return np.searchsorted(unit, hi, "left") - np.searchsorted(unit, lo, "left")

        diff = count(response) - count(baseline)
        p.append(wilcoxon(diff).pvalue if np.any(diff != 0) else 1.0)
        change.append(np.median(diff))
    p = np.array(p)
    return p, false_discovery_control(p, method="bh"), np.sign(change), area, onsets.size


def test_the_figure_names_its_pinned_asset(built):
    summary, out, _ = built
    lock = assets.load_lock(ROOT / "assets.lock")
    asset = lock[KEY]
    assert (summary["dandiset"], summary["version"]) == ("000207", "0.220216.0323")
    assert (summary["asset_id"], summary["sha256"]) == (asset.asset_id, asset.sha256)
    assert {p.name for p in out.iterdir()} >= {"fig_mtl_responses.png", "fig_mtl_responses.pdf"}


def test_responsive_units_match_a_direct_recomputation(built):
    summary, _, path = built
    p, q, sign, area, n_onsets = _direct(
        path, summary["stimulus_name"], summary["baseline_window"], summary["response_window"]
    )
    assert summary["n_onsets"] == n_onsets and summary["n_units"] == p.size
    np.testing.assert_allclose(summary["p_value"], p, rtol=1e-9)
    np.testing.assert_allclose(summary["q_value"], q, rtol=1e-9)
    significant = q < summary["fdr_q"]
    assert summary["n_responsive"] == significant.sum()
    np.testing.assert_array_equal(summary["direction"], np.where(significant, sign, 0))
    for name, info in summary["by_area"].items():
        here = area == name
        assert info["n_units"] == here.sum()
        assert info["n_responsive"] == significant[here].sum()
        assert info["n_excited"] + info["n_suppressed"] == info["n_responsive"]
    assert sum(i["n_units"] for i in summary["by_area"].values()) == p.size


def test_the_baseline_window_lies_inside_every_fixation_cross(built):
    summary, _, path = built
    with h5py.File(path, "r") as f:
        t = f[f"intervals/{summary['stimulus_name']}"]
        lead = t["start_time"][:] - t["fixcross_time"][:]
    assert summary["baseline_in_fixation"] == 1.0
    assert (
        -summary["baseline_window"][0]
        <= lead.min()
        == pytest.approx(summary["fixation_lead_min_s"])
    )


def test_every_number_chapter_4_quotes_is_in_the_figures_json(built, tmp_path, monkeypatch):
    """Chapter 4's MTL real-data cell and every ``{eval}`` of its section, against this
    build's JSON (skipped until the chapter holds that section)."""
    _, out, _ = built
    chapter = ROOT / "chapters" / "04-neuropixels-responses.md"
    values = section_values(chapter, "fig_mtl_responses", out, tmp_path, monkeypatch)
    if values is None:
        pytest.skip(f"{chapter.name} has no section reading fig_mtl_responses.json yet")
    assert values['mtl["n_responsive"]'] == built[0]["n_responsive"]
