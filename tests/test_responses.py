"""Responsiveness of units (spikes) and cells (dF/F): planted truth and the demo data."""

from __future__ import annotations

import numpy as np
import pytest

from databook.demo.spiking import EvokedResponse, evoked_poisson
from databook.responses import cell_responses, unit_responses


def test_planted_responders_are_found_and_flat_units_are_not():
    onsets = 1.0 + 1.5 * np.arange(100)
    evoked = evoked_poisson(EvokedResponse(5.0, 30.0, 0.04, 0.08), onsets, 160, 20, seed=1)
    flat = evoked_poisson(EvokedResponse(5.0, 5.0, 0.0, 0.1), onsets, 160, 50, seed=2)
    result = unit_responses(evoked + flat, onsets)
    assert result.responsive[:20].all()
    assert result.responsive[20:].mean() <= 0.04
    assert np.median(result.peak_latency[:20]) == pytest.approx(0.08, abs=0.045)
    assert np.median(result.baseline_mean) == pytest.approx(5.0, rel=0.1)
    with pytest.raises(ValueError, match="baseline_window must end before the stimulus"):
        unit_responses(evoked, onsets, baseline_window=(-0.5, 0.1))


def test_dff_responders_with_fdr_over_cells():
    rng = np.random.default_rng(8)
    t = 0.5 + np.arange(9000) / 30.0
    onsets = 5.0 + 3.0 * np.arange(95)
    amplitude = np.zeros(200)
    amplitude[:40] = rng.uniform(0.2, 0.8, 40)
    since = t - onsets[np.clip(np.searchsorted(onsets, t, side="right") - 1, 0, None)]
    on = (since >= 0.2) & (since < 2.0) & (t >= onsets[0])
    dff = 0.1 * rng.standard_normal((t.size, 200)) + on[:, None] * amplitude[None, :]
    result = cell_responses(t, dff, onsets)
    assert result.responsive[:40].all()
    assert result.responsive[40:].sum() <= 2
    measured = result.amplitude[:40]
    expected = amplitude[:40] * (1.8 / 2.0)  # response window 0-2 s, step from 0.2 s
    np.testing.assert_allclose(measured, expected, atol=0.03)
    assert result.trace.shape == (200, result.times.size)
    assert (result.q_value >= result.p_value).all()


def test_demo_flash_and_ophys_responders_match_ground_truth(demo):
    from pynwb import NWBHDF5IO

    paths, truth = demo.paths, demo.truth
    with NWBHDF5IO(str(paths["demo-ecephys"]), "r") as io:
        nwb = io.read()
        spikes = list(nwb.units["spike_times"][:])
        flashes = nwb.intervals["flashes_presentations"]["start_time"][:]
    units = unit_responses(spikes, flashes)
    planted = [r["unit"] for r in truth["ecephys"]["flash_responders"]]
    null = [i for i, k in enumerate(truth["ecephys"]["unit_kinds"]) if k == "null"]
    assert units.responsive[planted].mean() >= 0.9
    assert units.responsive[null].mean() <= 0.05
    with NWBHDF5IO(str(paths["demo-ophys-day1"]), "r") as io:
        nwb = io.read()
        series = nwb.processing["ophys"]["DfOverF"]["RoiResponseSeries"]
        t, dff = series.timestamps[:], series.data[:]
        onsets = nwb.intervals["grating_presentations"]["start_time"][:]
        cell_ids = nwb.processing["ophys"]["ImageSegmentation"]["PlaneSegmentation"]["cell_id"][:]
    cells = cell_responses(t, dff, onsets, response_window=(0.2, 2.0))
    amplitudes = truth["ophys"]["responders"]["amplitude_dff"]
    is_responder = np.array([str(c) in amplitudes for c in cell_ids])
    assert cells.responsive[is_responder].all()
    assert cells.responsive[~is_responder].sum() <= 2
    expected = np.array([amplitudes[str(c)] for c in cell_ids[is_responder]])
    np.testing.assert_allclose(cells.amplitude[is_responder], expected, atol=0.05)
