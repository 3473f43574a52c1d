"""Tuning curves and selectivity indices against planted von Mises tuning, whose
preferred angle and indices are known in closed form, and the permutation null."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import i0, i1, iv

from databook.responses import cell_responses
from databook.tuning import (
    TuningError,
    direction_selectivity,
    orientation_selectivity,
    preferred_direction,
    preferred_orientation,
    selectivity_p_value,
    trial_responses,
    trial_windows,
    tuning_curves,
)

FINE = np.arange(0.0, 360.0, 5.0)  # 72 directions, degrees
EIGHT = np.arange(0.0, 360.0, 45.0)


def von_mises_orientation(directions, preferred, kappa):
    """Orientation tuning: the same response to theta and theta + 180."""
    return np.exp(kappa * (np.cos(2 * np.deg2rad(directions - preferred)) - 1))


def von_mises_direction(directions, preferred, kappa):
    return np.exp(kappa * (np.cos(np.deg2rad(directions - preferred)) - 1))


@pytest.mark.parametrize("preferred", [0.0, 30.0, 100.0, 165.0])
@pytest.mark.parametrize("kappa", [0.5, 2.0, 6.0])
def test_planted_von_mises_orientation_tuning_is_recovered(preferred, kappa):
    curve = 3.0 * von_mises_orientation(FINE, preferred, kappa)
    # Closed form: |sum r e^{2i theta}| / sum r = I1(kappa) / I0(kappa).
    assert orientation_selectivity(curve, FINE)[0] == pytest.approx(i1(kappa) / i0(kappa), abs=1e-6)
    angle = preferred_orientation(curve, FINE)[0]
    assert min(abs(angle - preferred), 180 - abs(angle - preferred)) < 1e-6
    # Orientation tuning has no preferred direction: DSI = 0.
    assert direction_selectivity(curve, FINE)[0] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("preferred", [45.0, 180.0, 315.0])  # on the 8-direction grid
@pytest.mark.parametrize("kappa", [0.5, 2.0])
def test_planted_von_mises_direction_tuning_is_recovered(preferred, kappa):
    curve = von_mises_direction(FINE, preferred, kappa)
    assert direction_selectivity(curve, FINE)[0] == pytest.approx(i1(kappa) / i0(kappa), abs=1e-6)
    # The vector OSI of a single-peaked direction curve is I2/I0, not I1/I0.
    assert orientation_selectivity(curve, FINE)[0] == pytest.approx(
        iv(2, kappa) / i0(kappa), abs=1e-6
    )
    assert preferred_direction(curve, FINE)[0] == pytest.approx(preferred, abs=1e-6)
    # Peak indices on the 8 directions of a grating set: pref vs null 180 degrees away
    # (e^{-2 kappa}), pref vs orthogonal (e^{-kappa} either side).
    curve8 = von_mises_direction(EIGHT, preferred, kappa)
    assert direction_selectivity(curve8, EIGHT, method="peak")[0] == pytest.approx(np.tanh(kappa))
    assert orientation_selectivity(curve8, EIGHT, method="peak")[0] == pytest.approx(
        np.tanh(kappa / 2)
    )


def test_peak_osi_of_orientation_tuning_is_tanh_kappa():
    curve = np.stack([von_mises_orientation(EIGHT, p, 1.5) for p in (0.0, 90.0, 135.0)])
    assert orientation_selectivity(curve, EIGHT, method="peak") == pytest.approx(np.tanh(1.5))


def test_peak_osi_averages_both_orthogonal_directions():
    # Preferred 0 degrees; 90 and 270 degrees respond 0.5 and 0.1: r_orth = 0.3.
    curve = np.array([1.0, 0.0, 0.5, 0.0, 0.2, 0.0, 0.1, 0.0])
    assert orientation_selectivity(curve, EIGHT, method="peak")[0] == pytest.approx(0.7 / 1.3)
    # Null direction (180 degrees) responds 0.2.
    assert direction_selectivity(curve, EIGHT, method="peak")[0] == pytest.approx(0.8 / 1.2)


def test_negative_responses_are_rectified_and_flat_curves_give_nan():
    curve = np.array([[1.0, -0.5, 0.0, -0.5, 1.0, -0.5, 0.0, -0.5], np.zeros(8)])
    osi = orientation_selectivity(curve, EIGHT)
    assert osi[0] == pytest.approx(1.0)  # only 0 and 180 respond: perfectly oriented
    assert np.isnan(osi[1])
    assert orientation_selectivity(curve, EIGHT, method="peak")[0] == pytest.approx(1.0)


def simulated_session(preferred, kappa, amplitude, n_trials=160, noise=0.1, seed=0):
    """dF/F at 30 Hz: each cell responds from 0.2 to 2 s after onset with
    amplitude * von Mises(direction); onsets 3 s apart, 8 directions."""
    rng = np.random.default_rng(seed)
    onsets = 2.0 + 3.0 * np.arange(n_trials)
    directions = rng.choice(EIGHT, n_trials)
    t = np.arange(0.0, onsets[-1] + 3.0, 1 / 30)
    trial = np.clip(np.searchsorted(onsets, t, side="right") - 1, 0, None)
    since = t - onsets[trial]
    on = (since >= 0.2) & (since < 2.0)
    gain = amplitude[None, :] * von_mises_direction(
        directions[:, None], np.asarray(preferred)[None, :], np.asarray(kappa)[None, :]
    )  # trials x cells
    dff = noise * rng.standard_normal((t.size, len(amplitude))) + on[:, None] * gain[trial]
    return t, dff, onsets, directions


def test_selectivity_of_simulated_dff_cells_is_recovered_end_to_end():
    preferred = np.array([0.0, 90.0, 225.0, 45.0])
    kappa = np.array([1.0, 2.0, 3.0, 1.0])
    amplitude = np.array([1.0, 0.8, 0.6, 0.0])  # last cell: no response at all
    t, dff, onsets, directions = simulated_session(preferred, kappa, amplitude)
    responses = trial_responses(t, dff, onsets, response_window=(0.2, 2.0))
    curves = tuning_curves(responses, directions)
    assert curves.conditions.tolist() == EIGHT.tolist()
    dsi = direction_selectivity(curves.mean[:3], curves.conditions, method="peak")
    assert dsi == pytest.approx(np.tanh(kappa[:3]), abs=0.1)
    assert preferred_direction(curves.mean[:3], curves.conditions) == pytest.approx(
        preferred[:3], abs=10
    )
    p = selectivity_p_value(responses, directions, kind="direction", n_shuffles=200)
    # No shuffle beats a strongly tuned cell: the smallest p a permutation test can give,
    # 1 / (1 + n_shuffles), never 0.
    assert p[:3] == pytest.approx(1 / 201)
    assert p[3] > 0.01


def test_tuning_curves_match_a_groupby_over_trials():
    rng = np.random.default_rng(3)
    responses = rng.normal(0, 1, (50, 4))
    responses[[3, 7], 1] = np.nan
    labels = rng.choice([0.0, 90.0, 180.0], 50)
    curves = tuning_curves(responses, labels)
    frame = pd.DataFrame(responses).assign(label=labels).groupby("label")
    assert curves.mean == pytest.approx(frame.mean().to_numpy().T)
    assert curves.sem == pytest.approx(frame.sem().to_numpy().T)
    assert curves.n_trials == pytest.approx(frame.count().to_numpy().T)


def test_trial_responses_average_to_the_cell_responses_amplitude():
    t, dff, onsets, _directions = simulated_session(
        np.array([0.0, 90.0]), np.array([1.0, 1.0]), np.array([0.5, 0.0]), n_trials=40
    )
    per_trial = trial_responses(t, dff, onsets)
    assert per_trial.shape == (40, 2)
    assert per_trial.mean(axis=0) == pytest.approx(cell_responses(t, dff, onsets).amplitude)
    times, windows = trial_windows(t, dff, onsets, window=(-1.0, 3.0))
    assert times[0] == pytest.approx(-1.0) and windows.shape == (40, times.size, 2)
    # Each trial's own baseline is subtracted: its mean over (-1, 0) s is zero.
    assert np.nanmean(windows[:, times < 0], axis=1) == pytest.approx(0.0, abs=1e-9)


def test_untuned_cells_are_called_tuned_at_the_nominal_rate():
    # 300 cells with a strong but untuned response, 300 with none: p < 0.05 for ~5 %
    # of both, although the OSI of the non-responders is much larger.
    rng = np.random.default_rng(5)
    labels = rng.choice(EIGHT, 96)
    responses = np.concatenate(
        [0.5 + 0.1 * rng.standard_normal((96, 300)), 0.1 * rng.standard_normal((96, 300))],
        axis=1,
    )
    p = selectivity_p_value(responses, labels, n_shuffles=200, seed=1)
    assert (p[:300] < 0.05).mean() <= 0.09
    assert (p[300:] < 0.05).mean() <= 0.09
    osi = orientation_selectivity(tuning_curves(responses, labels).mean, EIGHT)
    assert np.median(osi[300:]) > 3 * np.median(osi[:300])


def test_bad_inputs_name_the_problem():
    with pytest.raises(TuningError, match="method must be"):
        orientation_selectivity(np.ones(8), EIGHT, method="circular")
    with pytest.raises(TuningError, match="matching directions_deg"):
        orientation_selectivity(np.ones(7), EIGHT)
    with pytest.raises(TuningError, match="lack it"):
        orientation_selectivity(np.arange(3.0), [0.0, 45.0, 90.0], method="peak")
    with pytest.raises(TuningError, match="one condition per trial"):
        tuning_curves(np.ones((5, 2)), np.ones(4))
    with pytest.raises(TuningError, match="baseline_window must end before"):
        trial_responses(np.arange(10.0), np.ones(10), [5.0], baseline_window=(-1.0, 0.5))
    with pytest.raises(TuningError, match="n_shuffles"):
        selectivity_p_value(np.ones((4, 1)), EIGHT[:4], n_shuffles=0)
