"""`databook run 02` (alignment) on files other than the demo key: the Svoboda ALM file
aligned to its ``trials`` table (no running speed, no optogenetic pulses, no planted
answers), and the demo Neuropixels file given as a path with its flash table renamed.
The counts checked are recomputed here from h5py.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
from PIL import Image
from test_run import SVOBODA, outputs, real_file, run

NOTEBOOK = "02-alignment.ipynb"
DRAWN = ("fig_align_clocks", "fig_align_timeline", "fig_align_pitfalls")
SVOBODA_MAPPING = (
    "-p", "stimulus", "trials", "-p", "condition", "{'type': 'lick left'}",
    "-p", "onset_column", "cue_start_time", "-p", "rf_stimulus", "trials",
    "-p", "rf_condition", "{'response': 'correct'}", "-p", "ophys_asset", "None",
)  # fmt: skip


@pytest.fixture(scope="module")
def renamed(demo, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("renamed") / "lab_session.nwb"
    shutil.copyfile(demo.paths["demo-ecephys"], path)
    with h5py.File(path, "r+") as h5:
        h5.move("intervals/flashes_presentations", "intervals/light_flashes")
    return path


def _text(h5: h5py.File, path: str) -> np.ndarray:
    values = h5[path][()]
    return values.astype(str) if values.dtype.kind in "SO" else values


def _figures(out: Path, path: Path, result_output: str) -> None:
    for name in DRAWN:
        png = out / "figures" / f"{name}.png"
        assert png.stat().st_size > 10_000, name
        assert str(path) in Image.open(png).text["Comment"], name
    assert not (out / "figures" / "fig_align_responses.png").exists()
    assert "fig_align_responses: skipped (compares with the demo's planted answers)" in (
        result_output
    )


def test_run_02_without_a_condition_names_the_columns_to_map(tmp_path):
    path = real_file(SVOBODA)
    result = run(tmp_path, "02", "--nwb", str(path))
    assert result.exit_code == 1
    assert "columns color (-p condition), start_time (-p onset_column)" in result.output
    assert "trials (412 rows" in result.output
    assert not list(tmp_path.iterdir())


def _responsive_units(spikes: list[np.ndarray], onsets: np.ndarray, q: float = 0.05) -> int:
    """Units whose rate in [0, 200) ms after onset differs from the 100 ms before
    (two-sided Wilcoxon signed-rank over trials, Benjamini-Hochberg over units, as the
    statistics policy says), counted with searchsorted."""
    from scipy import stats

    def rate(s, a, b):
        s = np.sort(s)
        return (np.searchsorted(s, onsets + b) - np.searchsorted(s, onsets + a)) / (b - a)

    p = []
    for s in spikes:
        d = rate(s, 0.0, 0.2) - rate(s, -0.1, 0.0)
        p.append(stats.wilcoxon(d).pvalue if np.any(d != 0) else 1.0)
    return int((stats.false_discovery_control(p, method="bh") < q).sum())


def test_run_02_on_svoboda_aligned_to_trials(tmp_path):
    """Aligned to the cue of 'lick left' trials, with no two-photon file."""
    path = real_file(SVOBODA)
    result = run(tmp_path, "02", "--nwb", str(path), *SVOBODA_MAPPING)
    assert result.exit_code == 0, result.output
    joined = "\n".join(outputs(tmp_path / NOTEBOOK))
    with h5py.File(path, "r") as h5:
        kind = _text(h5, "intervals/trials/type")
        cue = _text(h5, "intervals/trials/cue_start_time")
        correct = int((_text(h5, "intervals/trials/response") == "correct").sum())
        n_units = len(h5["units/id"])
        n_spikes = len(h5["units/spike_times"])
        ends = h5["units/spike_times_index"][()]
        spikes = np.split(h5["units/spike_times"][()], ends[:-1])
    chosen = (kind == "lick left") & np.isfinite(cue)
    left = int(chosen.sum())
    assert f"{_responsive_units(spikes, cue[chosen])} responsive units" in joined
    assert f"{left} of {kind.size} trials: {{'type': 'lick left'}}" in joined
    assert f"{correct} Trials:" in joined
    assert f"{n_units} units, {n_spikes} spikes" in joined
    assert "No running speed in" in joined
    assert f"No optogenetic pulses in {path}: counted around the {left} onsets" in joined
    assert "no planted answers: real data" in joined
    assert "No two-photon file (ophys_asset is None)" in joined
    # one block: the trials table, from its first start to its last stop
    assert re.search(rf"0\s+trials\s+\S+\s+\S+\s+{kind.size}\b", joined)
    _figures(tmp_path, path, result.output)


def test_run_02_on_the_demo_file_as_a_path_with_a_renamed_table(tmp_path, renamed):
    result = run(tmp_path, "02", "--nwb", str(renamed), "-p", "stimulus", "light_flashes")
    assert result.exit_code == 0, result.output
    joined = "\n".join(outputs(tmp_path / NOTEBOOK))
    with h5py.File(renamed, "r") as h5:
        color = _text(h5, "intervals/light_flashes/color")
        pulses = len(h5["processing/optotagging/optogenetic_stimulation/start_time"])
    white = int(np.isclose(color, 1.0).sum())
    assert f"{white} of {color.size} light_flashes: {{'color': 1.0}}" in joined
    assert "No optogenetic pulses" not in joined and "No running speed" not in joined
    assert "no planted answers: real data" in joined  # a path is not the demo key
    assert pulses > 0
    _figures(tmp_path, renamed, result.output)
