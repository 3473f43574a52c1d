"""Chapter 2 (temporal alignment): its numbers, recomputed another way from the files.

The chapter's code cells run once, in-process, into a namespace; each test compares the
values the prose states (``{eval}`` of those variables) with the planted truth or with an
independent computation from direct h5py reads, so a number the chapter states cannot
drift without a test failing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
from chapter_cells import run_chapter

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "chapters" / "02-alignment.md"
# The demo's figures; the real-data one (fig_align_real) is tests/test_align_real.py's.
FIGURES = sorted(
    p
    for p in (ROOT / "figures_src").glob("fig_align_*.py")
    if 'DATA = "dandi"' not in p.read_text(encoding="utf-8")
)


@pytest.fixture(scope="module")
def ch(demo) -> dict:
    """The chapter's variables after running all its code cells."""
    return run_chapter(CHAPTER)


def spike_times_h5(path) -> list[np.ndarray]:
    with h5py.File(path, "r") as f:
        data = f["units/spike_times"][()]
        ends = f["units/spike_times_index"][()]
    return np.split(data, ends[:-1])


def column(path, table, name) -> np.ndarray:
    with h5py.File(path, "r") as f:
        values = f[f"{table}/{name}"][()]
    return values.astype(str) if values.dtype.kind in "SO" else values


def kept_units(path) -> np.ndarray:
    """File ids (0..n-1 in the demo) of the units not labelled noise."""
    return np.flatnonzero(column(path, "units", "quality") != "noise")


def test_clock_facts_match_the_files(ch, demo):
    ephys, ophys = demo.paths["demo-ecephys"], demo.paths["demo-ophys-day1"]
    with h5py.File(ephys, "r") as a, h5py.File(ophys, "r") as b:
        start_a = np.datetime64(a["session_start_time"][()].decode()[:19])
        start_b = np.datetime64(b["session_start_time"][()].decode()[:19])
        frames = b["processing/ophys/DfOverF/RoiResponseSeries/timestamps"][()]
        resolution = a["units/spike_times"].attrs["resolution"]
    assert ch["days_apart"] == pytest.approx((start_b - start_a) / np.timedelta64(1, "D"))
    assert ch["spike_resolution_s"] == resolution
    steps_ms = np.diff(frames) * 1e3
    assert ch["frame_sd_ms"] == pytest.approx(steps_ms.std())
    assert ch["frame_hz"] == pytest.approx(1e3 / steps_ms.mean())
    assert ch["clocks"].loc["2P frames", "first (s)"] == frames[0]


def test_common_grid_bins_spikes_and_interpolates_signals(ch, demo):
    path = demo.paths["demo-ecephys"]
    spikes = [spike_times_h5(path)[i] for i in kept_units(path)]
    grid, dt = ch["grid"], ch["dt"]
    # Spikes in [t - dt/2, t + dt/2), counted by brute force for every grid time.
    lo, hi = grid - dt / 2, grid + dt / 2
    counts = sum(((s[:, None] >= lo) & (s[:, None] < hi)).sum(0) for s in spikes)
    rate = ch["ephys_clock"]["rate (spikes/s)"].to_numpy()
    np.testing.assert_allclose(rate, counts / dt / len(spikes), rtol=1e-12)
    with h5py.File(demo.paths["demo-ecephys"], "r") as f:
        speed = f["processing/running/running_speed/data"][()].astype(float)
        t = (
            np.arange(speed.size)
            / f["processing/running/running_speed/starting_time"].attrs["rate"]
        )
    running = ch["ephys_clock"]["running (cm/s)"].to_numpy()
    np.testing.assert_allclose(running, np.interp(grid, t, speed), rtol=1e-6)
    assert np.ptp(np.diff(grid)) < 1e-9 and np.diff(grid).mean() == pytest.approx(dt)


def test_float32_numbers_follow_from_the_format(ch):
    offset = ch["clock_offset_s"]
    step_ms = 2.0 ** (np.floor(np.log2(offset)) - 23) * 1e3
    assert ch["float32_step_ms"] == pytest.approx(step_ms)
    # Worst rounding error is at most half a step, and a 30 Hz clock gets close to it.
    assert 0.9 * step_ms / 2 <= ch["float32_error_ms"] <= step_ms / 2
    low, high = ch["float32_intervals_ms"]
    interval_ms = 1e3 / ch["frame_hz"]
    assert low == pytest.approx(np.floor(interval_ms / step_ms) * step_ms, abs=1e-3)
    assert high == pytest.approx(low + step_ms, abs=1e-3)


def test_float32_spike_times_comb_the_psth(ch):
    assert ch["comb_ratio"]["float64"] < 1.25 < ch["comb_ratio"]["float32"]
    float32_rate = ch["comb"]["float32"]
    median = np.median(float32_rate)
    peaks = np.flatnonzero(float32_rate > 1.3 * median)
    period = ch["comb_period_ms"]
    assert peaks.size >= 8
    assert set(np.diff(peaks)) <= {int(np.floor(period)), int(np.ceil(period))}


def test_selected_presentations_match_the_tables(ch, demo):
    ephys, ophys = demo.paths["demo-ecephys"], demo.paths["demo-ophys-day1"]
    color = column(ephys, "intervals/flashes_presentations", "color")
    start = column(ephys, "intervals/flashes_presentations", "start_time")
    np.testing.assert_array_equal(ch["onsets"], start[color == 1.0])
    orientation = column(ophys, "intervals/grating_presentations", "orientation")
    g_start = column(ophys, "intervals/grating_presentations", "start_time")
    np.testing.assert_array_equal(ch["g_onsets"], g_start[orientation == 90.0])
    g = "intervals/gabors_presentations"
    keep = (column(ephys, g, "orientation") == 45.0) & (
        np.abs(column(ephys, g, "x_position")) <= 10
    )
    assert len(ch["gabors"]) == keep.sum() > 0


def latency_oracle(spikes, onsets, window_s=0.1, step_s=0.001, stop_s=0.2):
    """Start of the window_s window (at 1 ms steps from 0) holding most spikes, by brute
    force over trials, lags and spikes."""
    lags = step_s * np.arange(round(stop_s / step_s) + 1)
    best = []
    for unit in spikes:
        rel = unit[None, :] - onsets[:, None]  # (trials, spikes)
        totals = [((rel >= lag) & (rel < lag + window_s)).sum() for lag in lags]
        best.append(lags[int(np.argmax(totals))])
    return np.array(best)


def test_noise_units_are_dropped_first(ch, demo):
    path = demo.paths["demo-ecephys"]
    kept = kept_units(path)
    assert ch["n_noise"] == len(spike_times_h5(path)) - kept.size > 0
    np.testing.assert_array_equal(ch["units"].index, kept)
    every = {u["unit"] for u in demo.truth["ecephys"]["flash_responders"]}
    assert ch["n_planted_noise"] == len(every - set(kept)) > 0
    assert sorted(ch["planted"].index) == sorted(every & set(kept))


def test_flash_latencies_recover_the_planted_ones(ch, demo):
    kept = set(kept_units(demo.paths["demo-ecephys"]))
    truth = [u for u in demo.truth["ecephys"]["flash_responders"] if u["unit"] in kept]
    ids = [u["unit"] for u in truth]
    planted = np.array([u["latency_s"] for u in truth])
    spikes = spike_times_h5(demo.paths["demo-ecephys"])
    oracle = latency_oracle([spikes[i] for i in ids], ch["onsets"])
    rows = ch["rows"]
    np.testing.assert_allclose(ch["latency_s"][rows], oracle, atol=1e-9)
    error_ms = np.abs(ch["latency_error_ms"])
    np.testing.assert_allclose(error_ms, np.abs(oracle - planted) * 1e3, atol=1e-6)
    assert np.median(error_ms) < 2.0 and error_ms.max() < 15.0


def test_responsive_units_and_rois_match_the_truth(ch, demo):
    from scipy import stats

    kept = kept_units(demo.paths["demo-ecephys"])  # rows of the chapter's table -> ids
    spikes = [spike_times_h5(demo.paths["demo-ecephys"])[i] for i in kept]
    onsets = ch["onsets"]
    rel = [s[None, :] - onsets[:, None] for s in spikes]
    after = np.array([((r >= 0) & (r < 0.2)).sum(1) / 0.2 for r in rel])
    before = np.array([((r >= -0.1) & (r < 0)).sum(1) / 0.1 for r in rel])
    # The policy: two-sided Wilcoxon over trials per unit, BH over the session's units.
    p = stats.wilcoxon(after - before, axis=1, alternative="two-sided").pvalue
    p = np.where(np.isnan(p), 1.0, p)  # a unit with no nonzero difference: untestable
    q = stats.false_discovery_control(p, method="bh")
    np.testing.assert_array_equal(ch["responsive_units"], np.flatnonzero(q < ch["q"]))
    planted_units = {u["unit"] for u in demo.truth["ecephys"]["flash_responders"]}
    planted_units &= set(kept)
    called = set(kept[ch["responsive_units"]].tolist())  # file ids
    assert ch["unit_hits"] == len(called & planted_units)
    assert ch["unit_false"] == len(called - planted_units)
    # BH at q: about q of the calls are expected false; allow twice that.
    assert ch["unit_false"] <= 2 * ch["q"] * len(called)
    assert ch["unit_hits"] >= 0.8 * len(planted_units)
    assert (ch["unit_change"].direction[ch["responsive_units"]] != 0).all()
    responders = set(demo.truth["ophys"]["responders"]["cell_ids"])
    called_rois = set(ch["cell_ids"][ch["responsive_rois"]].tolist())
    assert responders <= called_rois
    assert len(called_rois - responders) == ch["roi_false"] <= 2 * ch["q"] * len(called_rois)
    roi = ch["roi_response"]
    roi_q = stats.false_discovery_control(stats.wilcoxon(roi, axis=0).pvalue, method="bh")
    np.testing.assert_array_equal(ch["responsive_rois"], np.flatnonzero(roi_q < ch["q"]))
    assert ch["roi_hits"] == len(responders)


def test_dff_timing_and_amplitude_recover_the_planted_ones(ch, demo):
    onset_s, _stop = demo.truth["ophys"]["responders"]["window_after_onset_s"]
    frame_s = 1 / demo.truth["ophys"]["frame_rate_hz"]
    assert abs(ch["dff_half_rise_s"] - onset_s) < frame_s / 4
    assert ch["coverage"] == pytest.approx((2.0 - onset_s) / 2.0)
    assert ch["slope"] == pytest.approx(ch["coverage"], abs=0.02)


def test_databook_replica_is_the_databook_code_and_is_late(ch, demo):
    """The replica equals the notebook's scipy code; its windows start early by the
    grid remainder, and its response rises about one grid step late."""
    from scipy import interpolate

    dff, rois = ch["dff"], ch["responsive_rois"]
    t, values = dff.t, dff.values[:, rois]
    hz, (w0, w1) = ch["databook_hz"], ch["dff_window"]
    time_axis = np.arange(t[0], t[-1], step=(1 / hz))  # as in the notebook
    f = interpolate.interp1d(t, values, axis=0, kind="nearest", fill_value="extrapolate")
    interp = f(time_axis)
    length = int((w1 - w0) * hz)
    expected = []
    for stim_ts in ch["g_onsets"]:
        start_idx = int((stim_ts + w0 - t[0]) * hz)
        expected.append(interp[start_idx : start_idx + length])
    np.testing.assert_array_equal(ch["db_windows"], np.array(expected))
    np.testing.assert_allclose(ch["db_shift_s"], ch["grid_shift"](t[0]), atol=1e-9)
    assert np.all((ch["db_shift_s"] <= 0) & (ch["db_shift_s"] > -1 / hz))
    late_ms = (ch["db_half_rise_s"] - ch["dff_half_rise_s"]) * 1e3
    assert late_ms == pytest.approx(-ch["db_shift_s"].mean() * 1e3, abs=1e3 / 30)
    assert np.all(np.abs(ch["earlier_first_frame_s"]) < 1e-3)


def test_nearest_sample_offsets_and_next_frame(ch):
    frame_ms = 1e3 / ch["frame_hz"]
    assert ch["nearest_offset_ms"].mean() == pytest.approx(frame_ms / 4, rel=0.05)
    assert frame_ms / 2 <= ch["nearest_offset_ms"].max() <= np.diff(ch["dff"].t).max() * 1e3
    near = ch["next_frame_ms"]
    assert np.all((near < 1.0) | (np.abs(near - frame_ms) < 1.0))


def test_closed_bins_count_edge_spikes_twice(ch, demo):
    path = demo.paths["demo-ecephys"]
    spikes = np.concatenate([spike_times_h5(path)[i] for i in kept_units(path)])
    pulses = column(demo.paths["demo-ecephys"], "processing/optotagging/optogenetic_stimulation",
                    "start_time")  # fmt: skip
    for width, stated in ((ch["bin_s"], ch["twice_1ms"]), (ch["bin_s"] / 10, ch["twice_01ms"])):
        edges = -0.05 + width * np.arange(round(0.15 / width) + 1)
        inner_and_end = (pulses[:, None] + edges[None, 1:]).ravel()
        on_edge = np.isin(spikes, inner_and_end).sum()  # each edge value is unique here
        assert len(np.unique(inner_and_end)) == inner_and_end.size
        assert stated == on_edge > 0


@pytest.mark.parametrize("script", FIGURES, ids=[s.stem for s in FIGURES])
def test_figure_script_runs_alone(script, tmp_path, demo):
    env = {**os.environ, "DATABOOK_FIGURE_DIR": str(tmp_path), "MPLBACKEND": "Agg"}
    proc = subprocess.run(
        [sys.executable, "-W", "error", str(script)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / f"{script.stem}.png").stat().st_size > 10_000


def test_figure_scripts_use_the_chapters_parameters(ch):
    """The captions describe the figures with the chapter's parameters; the scripts, which
    run alone, must hold the same values."""
    import runpy

    def constants(name):
        return runpy.run_path(str(ROOT / "figures_src" / f"{name}.py"), run_name="constants")

    clocks = constants("fig_align_clocks")
    assert clocks["RESAMPLE_HZ"] == ch["resample_hz"]
    assert clocks["CONTEXT_S"] == ch["context"]
    assert constants("fig_align_timeline")["MAX_GAP_S"] == ch["max_gap"]
    responses = constants("fig_align_responses")
    for script_name, chapter_name in {
        "STIMULUS": "stimulus", "CONDITION": "condition", "OPHYS_STIMULUS": "ophys_stimulus",
        "OPHYS_CONDITION": "ophys_condition", "SPIKE_WINDOW": "spike_window",
        "BIN_S": "bin_s", "SCAN_S": "scan_s", "DFF_WINDOW": "dff_window",
        "BASELINE": "baseline", "RESPONSE": "response", "Q": "q",
        "DFF_HZ": "resample_hz",
    }.items():  # fmt: skip
        assert responses[script_name] == ch[chapter_name], script_name
    pitfalls = constants("fig_align_pitfalls")
    for script_name, chapter_name in {
        "OPHYS_STIMULUS": "ophys_stimulus", "OPHYS_CONDITION": "ophys_condition",
        "DFF_WINDOW": "dff_window", "BASELINE": "baseline", "DATABOOK_HZ": "databook_hz",
        "CLOCK_OFFSET_S": "clock_offset_s",
    }.items():  # fmt: skip
        assert pitfalls[script_name] == ch[chapter_name], script_name
    assert ch["bin_s"] in pitfalls["BIN_WIDTHS_S"]
    assert ch["bin_s"] / 10 in pitfalls["BIN_WIDTHS_S"]


def test_point_samples_against_bin_means_of_running_speed(ch, demo):
    """60 Hz running speed on the 30 Hz grid: a bin [t - dt/2, t + dt/2) holds the samples
    at t - 1/60 and t, so its mean is the mean of those two samples."""
    with h5py.File(demo.paths["demo-ecephys"], "r") as f:
        speed = f["processing/running/running_speed/data"][()].astype(float)
        rate = f["processing/running/running_speed/starting_time"].attrs["rate"]
    assert rate == 2 * ch["resample_hz"]
    index = np.round(ch["grid"] * rate).astype(int)
    np.testing.assert_allclose(ch["point_samples"], speed[index], rtol=1e-6)
    pair_mean = (speed[index - 1] + speed[index]) / 2
    np.testing.assert_allclose(ch["running_bin_mean"], pair_mean, rtol=1e-6, atol=1e-9)
    rms = np.sqrt(np.mean((speed[index] - pair_mean) ** 2))
    assert ch["decimation_rms"] == pytest.approx(rms, rel=1e-6)
    assert ch["running_sd"] == pytest.approx(speed[index].std(), rel=1e-6)
