"""Receptive fields: the planted-RF oracle of the issue, edge cases, and the demo session."""

from __future__ import annotations

import numpy as np
import pytest

from databook.demo.spiking import grid_rf_session
from databook.rf import chi_square_p, fit_gaussian, receptive_fields

STEP = 10.0
GRID = np.linspace(-40, 40, 9)


def test_planted_receptive_fields_are_found_centred_and_sized():
    # 100 units with sigma = 1 grid step and +3 spikes over a 0.5/trial baseline, 100 null
    # units, 9 x 9 grid, 15 repeats (the oracle of issue 5).
    s = grid_rf_session(seed=0, grid=GRID, n_rf=100, n_null=100, repeats=15, gain=3.0,
                        baseline=0.5, sigma=STEP)  # fmt: skip
    spikes, x, y, onsets, centers = s.spikes, s.x, s.y, s.onsets, s.centers
    rf = receptive_fields(spikes, x, y, onsets, window=(0.0, 0.25), n_shuffles=1000, seed=0)
    assert rf.maps.shape == (200, 9, 9)
    assert (rf.n_presentations == 15).all()
    assert (rf.p_value[:100] < 0.01).all()
    assert (rf.p_value[100:] < 0.05).mean() <= 0.06
    error = np.hypot(*(rf.center[:100] - centers).T) / STEP
    assert np.median(error) <= 0.25
    width = rf.sigma[:100] / STEP
    assert np.all(np.abs(np.median(width, axis=0) - 1.0) <= 0.25)
    nonsignificant = rf.p_value >= 0.01
    assert np.isnan(rf.center[nonsignificant]).all()


def test_offset_term_keeps_width_right_under_background_firing():
    xx, yy = np.meshgrid(GRID, GRID)
    rf_map = 4.0 + 3.0 * np.exp(-((xx - 5) ** 2 + (yy + 12) ** 2) / (2 * STEP**2))
    center, sigma = fit_gaussian(rf_map, GRID, GRID)
    np.testing.assert_allclose(center, [5, -12], atol=1e-3)
    np.testing.assert_allclose(sigma, [STEP, STEP], rtol=1e-3)


def test_shuffle_p_value_matches_a_per_unit_loop():
    rng = np.random.default_rng(5)
    counts = rng.poisson(1.0, (4, 162)).astype(float)
    counts[0, :18] += 3  # position 0 strongly preferred by unit 0
    labels = np.repeat(np.arange(9), 18)
    stat, p = chi_square_p(counts, labels, 9, n_shuffles=200, seed=3)
    perm_rng = np.random.default_rng(3)
    perms = [perm_rng.permutation(162) for _ in range(200)]
    for unit in range(4):

        def chi(lab, c=counts[unit]):
            sums = np.bincount(lab, weights=c, minlength=9)
            expected = c.sum() / 9
            return ((sums - expected) ** 2 / expected).sum()

        assert stat[unit] == pytest.approx(chi(labels))
        exceed = sum(chi(labels[perm]) >= chi(labels) - 1e-6 for perm in perms)
        assert p[unit] == pytest.approx((1 + exceed) / 201)
    assert p[0] < 0.01


def test_silent_unit_and_incomplete_grid():
    spikes = [np.array([]), np.array([1.1])]
    x = np.tile([0.0, 10.0], 4)
    y = np.repeat([0.0, 10.0], 4)
    onsets = 1.0 + np.arange(8)
    rf = receptive_fields(spikes, x, y, onsets, n_shuffles=50)
    assert rf.p_value[0] == 1.0 and np.isnan(rf.center[0]).all()
    with pytest.raises(ValueError, match="never presented"):
        # (10, 10) is never shown on this 2 x 2 grid
        receptive_fields(spikes, [0.0, 10.0, 0.0], [0.0, 0.0, 10.0], [1.0, 2.0, 3.0], n_shuffles=5)
    with pytest.raises(ValueError, match="one length"):
        receptive_fields(spikes, [0.0], [0.0, 1.0], [1.0], n_shuffles=5)


def test_demo_session_rf_units_match_ground_truth(demo):
    from pynwb import NWBHDF5IO

    paths, truth = demo.paths, demo.truth["ecephys"]
    with NWBHDF5IO(str(paths["demo-ecephys"]), "r") as io:
        nwb = io.read()
        spikes = list(nwb.units["spike_times"][:])
        gabors = nwb.intervals["gabors_presentations"].to_dataframe()
    rf = receptive_fields(
        spikes, gabors.x_position, gabors.y_position, gabors.start_time, window=(0.04, 0.24)
    )
    planted = {r["unit"]: r for r in truth["rf_units"]}
    for unit, r in planted.items():
        assert rf.p_value[unit] < 0.01
        assert np.hypot(*(rf.center[unit] - r["center_deg"])) < 5.0, unit
        assert np.mean(rf.sigma[unit]) == pytest.approx(r["sigma_deg"], rel=0.3)
    null = [i for i, kind in enumerate(truth["unit_kinds"]) if kind == "null"]
    assert (rf.p_value[null] < 0.01).mean() <= 0.06
