"""Responsiveness of units (spikes) and cells (dF/F): planted truth, the false-positive
rate of flat units over a grid of rates and trial counts, power, conventions (latency at
the bin centre, the causal kernel of align.psth), and the demo data."""

from __future__ import annotations

import numpy as np
import pytest

from databook.align import event_counts, psth
from databook.demo.spiking import EvokedResponse, evoked_poisson
from databook.responses import _summed_counts, cell_responses, unit_responses

SPACING = 1.5  # s between onsets in the simulated sessions


def flat_units(rate, n_trials, n_units, rng):
    """Homogeneous Poisson units at ``rate`` spikes/s over a whole session of onsets
    ``SPACING`` s apart (drawn trial by trial over [-1.0, 0.5) s, which tiles it)."""
    onsets = 1.0 + SPACING * np.arange(n_trials)
    n = rng.poisson(rate * SPACING, n_units * n_trials)  # unit-major (unit, trial) groups
    group = np.repeat(np.arange(n.size), n)
    # Sorting group + fraction sorts by unit, then trial, then time within the trial.
    key = np.sort(group + rng.uniform(0.0, 1.0, n.sum()))
    group = key.astype(np.int64)
    t = onsets[group % n_trials] - 1.0 + SPACING * (key - group)
    splits = np.searchsorted(group // n_trials, np.arange(1, n_units))
    return onsets, np.split(t, splits)


def test_planted_responders_are_found_and_flat_units_are_not():
    onsets = 1.0 + 1.5 * np.arange(100)
    evoked = evoked_poisson(EvokedResponse(5.0, 30.0, 0.04, 0.08), onsets, 160, 20, seed=1)
    flat = evoked_poisson(EvokedResponse(5.0, 5.0, 0.0, 0.1), onsets, 160, 50, seed=2)
    result = unit_responses(evoked + flat, onsets)
    assert result.responsive[:20].all()
    assert result.responsive[20:].mean() <= 0.04
    # A causal density of a 40-120 ms step peaks late in the step.
    assert 0.06 <= np.median(result.peak_latency[:20]) <= 0.125
    assert np.median(result.baseline_mean) == pytest.approx(5.0, rel=0.1)
    assert np.median(result.evoked_rate[20:]) == pytest.approx(5.0, rel=0.1)
    assert np.median(result.evoked_rate[:20]) == pytest.approx(5.0 + 25.0 * 0.08 / 0.25, rel=0.1)
    with pytest.raises(ValueError, match="baseline_window must end before the stimulus"):
        unit_responses(evoked, onsets, baseline_window=(-0.5, 0.1))


RATES_HZ = [0.2, 0.5, 1.0, 2.0, 5.0, 20.0]
TRIALS = [10, 20, 50, 100]


def test_flat_units_false_positive_rate_is_at_most_2_percent_over_rates_and_trials():
    # Issue 12: 13.8 % of flat 0.5 Hz units over 20 trials were called responsive. Every
    # cell of the grid (0.2-20 spikes/s x 10-100 trials) gets 1000 flat Poisson units; a
    # false-positive rate of 2 % would give 20 +- 4.4 of them, and we allow 20.
    rng = np.random.default_rng(12)
    rates = np.zeros((len(RATES_HZ), len(TRIALS)))
    for i, rate in enumerate(RATES_HZ):
        for j, n_trials in enumerate(TRIALS):
            onsets, spikes = flat_units(rate, n_trials, 1000, rng)
            rates[i, j] = unit_responses(spikes, onsets).responsive.mean()
    assert rates.max() <= 0.02, dict(zip(RATES_HZ, rates.round(3).tolist(), strict=True))


@pytest.mark.parametrize("baseline_hz", [0.5, 2.0, 5.0, 20.0])
def test_responders_are_found_from_sparse_to_busy_units(baseline_hz):
    # +40 spikes/s for 50 ms from 40 ms after onset; measured detection 97-100 %.
    for n_trials in [20, 50, 100]:
        onsets = 1.0 + SPACING * np.arange(n_trials)
        response = EvokedResponse(baseline_hz, baseline_hz + 40.0, 0.04, 0.05)
        spikes = evoked_poisson(response, onsets, onsets[-1] + 1.0, 100, seed=n_trials)
        result = unit_responses(spikes, onsets)
        assert result.responsive.mean() >= 0.9, (n_trials, result.responsive.mean())


def test_mean_rate_floor_of_siegle_et_al():
    # A unit that fires one spike 42.5 ms after onset in 5 of 100 trials and never
    # otherwise passes the 5-SD and count tests, but its mean rate (5 spikes over
    # 100 x 0.75 s = 0.067 spikes/s) is under the 0.1 spikes/s floor.
    onsets = 1.0 + SPACING * np.arange(100)
    spikes = [onsets[::20] + 0.0425]
    result = unit_responses(spikes, onsets)
    assert result.mean_rate[0] == pytest.approx(5 / 75)
    assert result.p_value[0] < 0.01 and result.peak_rate[0] > 0
    assert not result.responsive[0]
    assert unit_responses(spikes, onsets, min_rate=0.05).responsive[0]


def test_a_lone_spike_is_not_a_response():
    # One spike in 10 trials, 60 ms after an onset, and none anywhere else: the 5-SD
    # rule passes (baseline SD 0) and the mean rate (1 / 7.5 s) is above 0.1 spikes/s,
    # but one spike is no evidence (two-sided count test p = 2 tails x 5 sub-windows x 1/11).
    onsets = 1.0 + SPACING * np.arange(10)
    result = unit_responses([onsets[3:4] + 0.06], onsets)
    assert result.peak_rate[0] > result.baseline_mean[0] + 5 * result.baseline_sd[0]
    assert result.mean_rate[0] > 0.1
    assert result.p_value[0] == pytest.approx(10 / 11)
    assert not result.responsive[0]


def test_count_test_is_the_exact_conditional_poisson_test():
    # 40 trials; baseline (-0.5, 0): 2 spikes per trial (b = 80). Response sub-windows of
    # 50 ms: unit 0 has 1 spike per trial at 60 ms (k = 40), unit 1 one in every other
    # trial (k = 20). Given k + b, k ~ Binomial(k + b, 0.05 / 0.55) under equal rates;
    # p is that upper tail times the 5 sub-windows and the 2 tails (two-sided).
    from scipy.stats import binom

    onsets = 1.0 + SPACING * np.arange(40)
    base = np.sort(np.concatenate([onsets - 0.4, onsets - 0.2]))
    spikes = [np.sort(np.r_[base, onsets + 0.06]), np.sort(np.r_[base, onsets[::2] + 0.06])]
    result = unit_responses(spikes, onsets)
    share = 0.05 / (0.05 + 0.5)
    # The quietest sub-windows hold 0 spikes: lower tail P(X <= 0) = (1 - share)^80.
    for unit, k in enumerate([40, 20]):
        upper = min(1.0, 2 * 5 * binom.sf(k - 1, k + 80, share))
        lower = min(1.0, 2 * 5 * binom.cdf(0, 80, share))
        assert result.p_value[unit] == pytest.approx(min(upper, lower), rel=1e-9)
    assert 2 * 5 * binom.sf(19, 100, share) == pytest.approx(2 * 0.00308, abs=2e-5)
    # Unit 1 fires less in most of the response window than in the baseline and more in
    # one sub-window; the lower tail is the smaller p, so it is called suppressed.
    assert result.direction.tolist() == [1, -1]
    assert result.mean_rate[0] == pytest.approx(120 / (40 * 0.75))


@pytest.mark.parametrize(
    ("bin_size", "offset", "expected"),
    [(0.001, 0.0234, 0.0235), (0.001, 0.0651, 0.0655), (0.01, 0.047, 0.045), (0.005, 0.1, 0.1025)],
)
def test_peak_latency_is_the_centre_of_the_peak_bin(bin_size, offset, expected):
    # Every trial has one spike at `offset` s: the causal density peaks in the bin that
    # holds it, [k * bin_size, (k + 1) * bin_size), reported at its centre.
    onsets = 1.0 + SPACING * np.arange(30)
    result = unit_responses([onsets + offset], onsets, bin_size=bin_size)
    assert result.peak_latency[0] == pytest.approx(expected, abs=1e-9)


def test_density_is_the_causal_kernel_of_align_psth():
    onsets = 1.0 + SPACING * np.arange(40)
    spikes = evoked_poisson(EvokedResponse(4.0, 40.0, 0.03, 0.05), onsets, 62.0, 5, seed=4)
    result = unit_responses(spikes, onsets, smooth_tau=0.02)
    # Same bins (from the 5 tau warm-up before the baseline) through align.psth.
    edges = np.arange(-600, 251) * 0.001
    density = psth(spikes, onsets, edges, smooth_tau=0.02)
    centers = density.centers
    base = density.rate[:, (centers > -0.5) & (centers < 0.0)]
    resp = density.rate[:, (centers > 0.0) & (centers < 0.25)]
    np.testing.assert_allclose(result.peak_rate, resp.max(axis=1), rtol=1e-12)
    np.testing.assert_allclose(result.baseline_mean, base.mean(axis=1), rtol=1e-12)
    np.testing.assert_allclose(result.baseline_sd, base.std(axis=1, ddof=1), rtol=1e-12)
    assert result.responsive.all()


def test_summed_counts_equal_event_counts_summed_over_events():
    rng = np.random.default_rng(3)
    onsets = np.sort(rng.uniform(0, 100, 40))
    onsets = onsets[np.r_[True, np.diff(onsets) > 1.0]]
    edges = np.arange(-0.5, 0.2501, 0.01)
    spikes = [np.sort(rng.uniform(0, 101, n)) for n in (0, 5, 800, 3000)]
    # Spikes exactly on window bounds (half-open bins: counted in the later bin).
    spikes.append(np.sort(np.concatenate([onsets + 0.0, onsets - 0.5, onsets + 0.25])))
    expected = event_counts(spikes, onsets, edges).sum(axis=1)
    np.testing.assert_array_equal(_summed_counts(spikes, onsets, edges), expected)
    overlapping = np.sort(np.concatenate([onsets, onsets + 0.1]))
    np.testing.assert_array_equal(
        _summed_counts(spikes, overlapping, edges),
        event_counts(spikes, overlapping, edges).sum(axis=1),
    )
    with pytest.raises(ValueError, match=r"spike_times\[1\] is not sorted"):
        _summed_counts([spikes[0], spikes[2][::-1]], onsets, edges)


def test_unit_responses_rejects_bad_windows_and_onsets():
    spikes = [np.array([1.0, 2.0])]
    with pytest.raises(ValueError, match="non-empty 1-D"):
        unit_responses(spikes, [])
    with pytest.raises(ValueError, match="stop > start"):
        unit_responses(spikes, [1.0, 3.0], response_window=(0.2, 0.1))
    with pytest.raises(ValueError, match="positive seconds"):
        unit_responses(spikes, [1.0, 3.0], smooth_tau=0.0)


def dff_session(n_cells=200, n_responders=40, seed=8):
    rng = np.random.default_rng(seed)
    t = 0.5 + np.arange(9000) / 30.0
    onsets = 5.0 + 3.0 * np.arange(95)
    amplitude = np.zeros(n_cells)
    amplitude[:n_responders] = rng.uniform(0.2, 0.8, n_responders)
    since = t - onsets[np.clip(np.searchsorted(onsets, t, side="right") - 1, 0, None)]
    on = (since >= 0.2) & (since < 2.0) & (t >= onsets[0])
    dff = 0.1 * rng.standard_normal((t.size, n_cells)) + on[:, None] * amplitude[None, :]
    return t, dff, onsets, amplitude


def test_dff_responders_with_fdr_over_cells():
    t, dff, onsets, amplitude = dff_session()
    result = cell_responses(t, dff, onsets)
    assert result.responsive[:40].all()
    assert result.responsive[40:].sum() <= 2
    measured = result.amplitude[:40]
    expected = amplitude[:40] * (1.8 / 2.0)  # response window 0-2 s, step from 0.2 s
    np.testing.assert_allclose(measured, expected, atol=0.03)
    assert result.trace.shape == (200, result.times.size)
    # Benjamini-Hochberg over the 200 cells, by hand: q_(i) = min_{j >= i} p_(j) m / j.
    order = np.argsort(result.p_value)
    scaled = result.p_value[order] * 200 / np.arange(1, 201)
    q = np.minimum(1.0, np.minimum.accumulate(scaled[::-1])[::-1])
    np.testing.assert_allclose(result.q_value[order], q, rtol=1e-12)


def test_constant_and_one_dimensional_dff():
    t, dff, onsets, _ = dff_session(n_cells=4, n_responders=2)
    dff[:, 3] = 0.3  # a constant trace: float residue used to give p ~ 4e-16
    result = cell_responses(t, dff, onsets)
    assert result.p_value[3] == 1.0 and not result.responsive[3]
    assert result.amplitude[3] == 0.0
    assert result.responsive[:2].all()
    # A 1-D trace is one cell, with the same numbers as that column of a 2-D array.
    one = cell_responses(t, dff[:, 0], onsets)
    assert one.trace.shape == (1, one.times.size)
    np.testing.assert_allclose(one.amplitude, result.amplitude[:1], rtol=1e-12)
    np.testing.assert_allclose(one.p_value, result.p_value[:1], rtol=1e-12)
    assert cell_responses(t, dff[:, 3], onsets).p_value[0] == 1.0
    with pytest.raises(ValueError, match=r"dff must be \(n_samples,\) or \(n_samples, n_cells\)"):
        cell_responses(t, dff[:, :, None], onsets)


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


def test_suppressed_units_are_found_and_reported_apart():
    # Two-sided (the statistics policy): units whose rate falls from 20 to 2 spikes/s
    # after onset are responsive with direction -1; excited ones +1; flat ones neither.
    from scipy.stats import false_discovery_control

    onsets = 1.0 + 1.5 * np.arange(60)
    excited = evoked_poisson(EvokedResponse(5.0, 30.0, 0.04, 0.1), onsets, 160, 10, seed=3)
    suppressed = evoked_poisson(EvokedResponse(20.0, 2.0, 0.02, 0.2), onsets, 160, 10, seed=4)
    flat = evoked_poisson(EvokedResponse(5.0, 5.0, 0.0, 0.1), onsets, 160, 40, seed=5)
    result = unit_responses(excited + suppressed + flat, onsets)
    assert (result.direction[:10] == 1).all()
    assert (result.direction[10:20] == -1).all()
    assert (result.direction[20:] == 0).mean() >= 0.95
    assert np.array_equal(result.responsive, result.direction != 0)
    # The q-values are Benjamini-Hochberg over the units passed, recomputed by scipy.
    np.testing.assert_allclose(
        result.q_value, false_discovery_control(result.p_value, method="bh"), rtol=1e-12
    )
    # A family excludes units: their q is NaN and they are not called.
    family = np.r_[np.zeros(5, bool), np.ones(55, bool)]
    sub = unit_responses(excited + suppressed + flat, onsets, family=family)
    assert np.isnan(sub.q_value[:5]).all() and not sub.responsive[:5].any()
    np.testing.assert_allclose(
        sub.q_value[5:], false_discovery_control(sub.p_value[5:], method="bh"), rtol=1e-12
    )
