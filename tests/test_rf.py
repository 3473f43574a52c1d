"""Receptive fields: the planted-RF oracle of the issue, suppressive fields, poor fits, grids
from real stimulus tables (float noise, blanks, missing positions), and the demo session."""

from __future__ import annotations

import numpy as np
import pytest

from databook.demo.spiking import grid_rf_session
from databook.rf import chi_square_p, fit_gaussian, grid_axis, receptive_fields

STEP = 10.0
GRID = np.linspace(-40, 40, 9)


def flashed_grid(rates, grid=GRID, repeats=15, seed=0):
    """Spikes of units whose expected count per presentation is ``rates[u](x, y)``, for a
    grid flashed in shuffled blocks of 0.25 s presentations."""
    rng = np.random.default_rng(seed)
    xx, yy = np.meshgrid(grid, grid)
    positions = np.stack([xx.ravel(), yy.ravel()], 1)
    order = np.concatenate([rng.permutation(len(positions)) for _ in range(repeats)])
    x, y = positions[order, 0], positions[order, 1]
    onsets = 1.0 + 0.25 * np.arange(order.size)
    spikes = []
    for rate in rates:
        n = rng.poisson(rate(x, y))
        spikes.append(np.sort(np.repeat(onsets, n) + rng.uniform(0, 0.25, n.sum())))
    return spikes, x, y, onsets


def bump(x0, y0, amplitude, sigma=STEP, offset=3.0):
    def rate(x, y):
        return offset + amplitude * np.exp(-((x - x0) ** 2 + (y - y0) ** 2) / (2 * sigma**2))

    return rate


def test_planted_receptive_fields_are_found_centred_and_sized():
    # 100 units with sigma = 1 grid step and +3 spikes over a 0.5/trial baseline, 100 null
    # units, 9 x 9 grid, 15 repeats (the oracle of issue 5).
    s = grid_rf_session(seed=0, grid=GRID, n_rf=100, n_null=100, repeats=15, gain=3.0,
                        baseline=0.5, sigma=STEP)  # fmt: skip
    spikes, x, y, onsets, centers = s.spikes, s.x, s.y, s.onsets, s.centers
    rf = receptive_fields(spikes, x, y, onsets, window=(0.0, 0.25), n_shuffles=1000, seed=0)
    assert rf.maps.shape == (200, 9, 9)
    assert (rf.n_presentations == 15).all() and rf.n_blank == 0
    assert (rf.p_value[:100] < 0.01).all()
    assert (rf.p_value[100:] < 0.05).mean() <= 0.06
    assert (rf.polarity[:100] == 1).all()
    # Measured on this oracle (seeds 0-2): median centre error 0.11 step, 95th
    # percentile 0.25 step; median width 0.99-1.01 step, 90 % of units within 14 %.
    error = np.hypot(*(rf.center[:100] - centers).T) / STEP
    assert np.median(error) <= 0.15
    assert np.percentile(error, 95) <= 0.3
    width = rf.sigma[:100] / STEP
    assert np.all(np.abs(np.median(width, axis=0) - 1.0) <= 0.03)
    assert np.percentile(np.abs(width.mean(axis=1) - 1.0), 90) <= 0.18
    # The policy: BH over the units passed, q < 0.05; only significant units are fitted.
    from scipy.stats import false_discovery_control

    np.testing.assert_allclose(rf.q_value, false_discovery_control(rf.p_value), rtol=1e-12)
    np.testing.assert_array_equal(rf.significant, rf.q_value < 0.05)
    assert rf.significant[:100].all() and rf.significant[100:].mean() <= 0.05
    nonsignificant = ~rf.significant
    assert np.isnan(rf.center[nonsignificant]).all()
    assert np.isnan(rf.fit_r2[nonsignificant]).all() and (rf.polarity[nonsignificant] == 0).all()


def test_suppressive_field_gets_its_centre_and_negative_polarity():
    # The case: firing suppressed around (10, -10) used to come out significant
    # with the centre (35.7, -20.1). Planted: 3 spikes/presentation, down to 0.5 there.
    planted = [(10.0, -10.0), (-20.0, 15.0), (0.0, 25.0), (25.0, 5.0)]
    rates = [bump(x0, y0, -2.5) for x0, y0 in planted] + [bump(-15.0, -5.0, +2.5)]
    spikes, x, y, onsets = flashed_grid(rates, seed=1)
    rf = receptive_fields(spikes, x, y, onsets, n_shuffles=500)
    assert (rf.p_value < 0.01).all()
    np.testing.assert_array_equal(rf.polarity, [-1, -1, -1, -1, 1])
    error = np.hypot(*(rf.center - [*planted, (-15.0, -5.0)]).T) / STEP
    assert error.max() <= 0.4, error
    assert np.all(np.abs(rf.sigma / STEP - 1.0) <= 0.25), rf.sigma
    assert (rf.fit_r2 >= 0.4).all()


def test_maps_without_one_field_get_no_centre():
    # Significant structure that no single Gaussian describes: a checkerboard, and a
    # gradient whose "centre" would lie off the grid. Both must give NaN centres and
    # polarity 0 (poor fits), not a confident-looking number.
    def checker(x, y):
        return 1.0 + ((np.round(x / STEP) + np.round(y / STEP)) % 2)

    def gradient(x, y):
        return 1.0 + (x + 40.0) / 40.0

    spikes, x, y, onsets = flashed_grid([checker, gradient, bump(0.0, 10.0, 2.0)], seed=2)
    rf = receptive_fields(spikes, x, y, onsets, n_shuffles=200)
    assert (rf.p_value < 0.01).all()
    assert np.isnan(rf.center[:2]).all() and np.isnan(rf.sigma[:2]).all()
    assert (rf.polarity[:2] == 0).all()
    assert (np.hypot(*rf.center_se[:2].T) > 0.5 * STEP).all()
    assert np.hypot(*rf.center_se[2]) < 0.2 * STEP and rf.polarity[2] == 1


def test_fit_is_signed_and_skips_cells_never_presented():
    xx, yy = np.meshgrid(GRID, GRID)
    rf_map = 4.0 - 3.0 * np.exp(-((xx - 5) ** 2 + (yy + 12) ** 2) / (2 * STEP**2))
    rf_map[0, :4] = np.nan
    fit = fit_gaussian(rf_map, GRID, GRID)
    np.testing.assert_allclose(fit.center, [5, -12], atol=1e-3)
    np.testing.assert_allclose(fit.sigma, [STEP, STEP], rtol=1e-3)
    assert fit.amplitude == pytest.approx(-3.0, rel=1e-3)
    assert fit.offset == pytest.approx(4.0, rel=1e-3)
    assert fit.r2 == pytest.approx(1.0, abs=1e-6)


def test_offset_term_keeps_width_right_under_background_firing():
    xx, yy = np.meshgrid(GRID, GRID)
    rf_map = 4.0 + 3.0 * np.exp(-((xx - 5) ** 2 + (yy + 12) ** 2) / (2 * STEP**2))
    center, sigma = fit_gaussian(rf_map, GRID, GRID)
    np.testing.assert_allclose(center, [5, -12], atol=1e-3)
    np.testing.assert_allclose(sigma, [STEP, STEP], rtol=1e-3)


def test_shuffle_p_value_matches_a_per_unit_loop():
    # 81 positions x 40 repeats at 0.5 spikes per presentation, as in the benchmark:
    # shuffles often tie the observed statistic exactly, and a tie counts as "at least
    # as large" (chi-square in float32 rounded ties away and made p too small).
    rng = np.random.default_rng(5)
    counts = rng.poisson(0.5, (8, 3240)).astype(float)
    counts[0, :40] += 3  # position 0 strongly preferred by unit 0
    labels = np.repeat(np.arange(81), 40)
    stat, p = chi_square_p(counts, labels, 81, n_shuffles=200, seed=3)
    perm_rng = np.random.default_rng(3)
    perms = [perm_rng.permutation(3240) for _ in range(200)]
    for unit in range(8):

        def chi(lab, c=counts[unit]):
            sums = np.bincount(lab, weights=c, minlength=81)
            expected = c.sum() / 81
            return ((sums - expected) ** 2 / expected).sum()

        assert stat[unit] == pytest.approx(chi(labels))
        exceed = sum(chi(labels[perm]) >= chi(labels) - 1e-6 for perm in perms)
        assert p[unit] == (1 + exceed) / 201, unit
    assert p[0] < 0.01


@pytest.fixture(scope="module")
def small_grid():
    grid = np.linspace(-20, 20, 5)
    rates = [
        bump(0.0, 10.0, 3.0, offset=0.5),
        bump(-10.0, 0.0, -2.5),
        lambda x, y: np.full(x.shape, 2.0),
    ]
    spikes, x, y, onsets = flashed_grid(rates, grid=grid, repeats=20, seed=3)
    clean = receptive_fields(spikes, x, y, onsets, n_shuffles=200)
    return spikes, x, y, onsets, clean


def test_positions_off_the_grid_by_float_noise_are_snapped(small_grid):
    spikes, x, y, onsets, clean = small_grid
    noise = np.where(np.arange(x.size) % 3 == 0, 1e-9, 0.0)
    noisy = receptive_fields(spikes, x + noise, y - noise, onsets, n_shuffles=200)
    np.testing.assert_array_equal(noisy.xs, clean.xs)
    np.testing.assert_array_equal(noisy.maps, clean.maps)
    np.testing.assert_array_equal(noisy.p_value, clean.p_value)
    np.testing.assert_array_equal(noisy.center, clean.center)
    assert clean.polarity.tolist() == [1, -1, 0]


def test_blank_presentations_are_excluded_and_counted(small_grid):
    spikes, x, y, onsets, clean = small_grid
    # Blank sweeps (NaN position) interleaved at their own onsets; their spikes must not
    # enter any map, and the rest of the result must not change at all.
    blank_onsets = onsets[::10] + 0.1
    x_all = np.concatenate([x, np.full(blank_onsets.size, np.nan)])
    y_all = np.concatenate([y, np.full(blank_onsets.size, np.nan)])
    onsets_all = np.concatenate([onsets, blank_onsets])
    order = np.argsort(onsets_all, kind="stable")
    rf = receptive_fields(spikes, x_all[order], y_all[order], onsets_all[order], n_shuffles=200)
    assert rf.n_blank == blank_onsets.size
    np.testing.assert_array_equal(rf.maps, clean.maps)
    np.testing.assert_array_equal(rf.p_value, clean.p_value)
    np.testing.assert_array_equal(rf.center, clean.center)


def test_positions_never_presented_are_nan_not_an_error(small_grid):
    spikes, x, y, onsets, clean = small_grid
    # One grid cell (x=10, y=-10) and one whole inner column (x=-10) never shown.
    keep = ~((x == 10.0) & (y == -10.0)) & (x != -10.0)
    rf = receptive_fields(spikes, x[keep], y[keep], onsets[keep], n_shuffles=200)
    np.testing.assert_array_equal(rf.xs, clean.xs)  # the column is still on the grid
    missing = np.zeros((5, 5), dtype=bool)
    missing[1, 3] = True  # ys[1] = -10, xs[3] = 10
    missing[:, 1] = True
    assert (rf.n_presentations[missing] == 0).all()
    assert (rf.n_presentations[~missing] == 20).all()
    assert np.isnan(rf.maps[:, missing]).all()
    np.testing.assert_array_equal(rf.maps[:, ~missing], clean.maps[:, ~missing])
    assert rf.p_value[0] < 0.01 and rf.polarity[0] == 1
    assert np.hypot(*(rf.center[0] - [0.0, 10.0])) < 0.5 * STEP


def test_grid_axis_snaps_and_rejects_what_is_not_a_grid():
    values = [0.0, 10.000000001, 10.0, 10.0, 30.0, -0.0000001, 0.0]
    grid, index = grid_axis(values, 1e-3)
    np.testing.assert_array_equal(grid, [0.0, 10.0, 20.0, 30.0])  # 20 was never shown
    np.testing.assert_array_equal(index, [0, 1, 1, 1, 3, 0, 0])
    with pytest.raises(ValueError, match="not on a grid"):
        grid_axis(np.arange(0.0, 0.01, 0.0004), 1e-3)


def test_silent_unit_and_bad_positions():
    spikes = [np.array([]), np.array([1.1])]
    x = np.tile([0.0, 10.0], 4)
    y = np.repeat([0.0, 10.0], 4)
    onsets = 1.0 + np.arange(8)
    rf = receptive_fields(spikes, x, y, onsets, n_shuffles=50)
    assert rf.p_value[0] == 1.0 and np.isnan(rf.center[0]).all()
    with pytest.raises(ValueError, match="one length"):
        receptive_fields(spikes, [0.0], [0.0, 1.0], [1.0], n_shuffles=5)
    with pytest.raises(ValueError, match="infinite"):
        receptive_fields(spikes, [0.0, np.inf], [0.0, 1.0], [1.0, 2.0], n_shuffles=5)
    with pytest.raises(ValueError, match="all 2 presentations are blank"):
        receptive_fields(spikes, [np.nan, 0.0], [1.0, np.nan], [1.0, 2.0], n_shuffles=5)


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
    # Measured on the pinned demo: centres within 2.2 deg, widths within 10 %.
    for unit, r in planted.items():
        assert rf.p_value[unit] < 0.01
        assert rf.polarity[unit] == 1
        assert np.hypot(*(rf.center[unit] - r["center_deg"])) < 3.0, unit
        assert np.mean(rf.sigma[unit]) == pytest.approx(r["sigma_deg"], rel=0.12)
    null = [i for i, kind in enumerate(truth["unit_kinds"]) if kind == "null"]
    assert (rf.p_value[null] < 0.01).mean() <= 0.06
