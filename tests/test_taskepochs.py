"""Epoch selectivity on planted units of a simulated delayed-response task."""

from __future__ import annotations

import numpy as np
import pytest

from databook import taskepochs


def _task(seed: int = 0, n_trials: int = 80):
    """Trials 6 s apart; sample 1.0 s, delay 1.2-1.8 s (varies), response 1 s.

    Unit 0 fires at 20 spikes/s in the delay of lick-right trials (5 otherwise); unit 1 at
    20 spikes/s in the response epoch of lick-left trials; unit 2 never differs.
    """
    rng = np.random.default_rng(seed)
    start = 6.0 * np.arange(n_trials)
    pole_in = rng.uniform(0.5, 0.6, n_trials)
    pole_out = pole_in + 1.0
    cue = pole_out + rng.uniform(1.2, 1.8, n_trials)
    right = rng.random(n_trials) < 0.5
    epochs = taskepochs.delayed_response_epochs(start, pole_in, pole_out, cue)
    duration = start[-1] + 6.0

    def poisson(rate_fn):
        grid = np.arange(0, duration, 1e-3)
        return grid[rng.random(grid.size) < rate_fn(grid) * 1e-3]

    def raised(epoch, trials):
        lo, hi = epochs[epoch]
        lo, hi = lo[trials], hi[trials]
        return lambda t: np.where(np.any((t[:, None] >= lo) & (t[:, None] < hi), axis=1), 20.0, 5.0)

    spikes = [poisson(raised("delay", right)), poisson(raised("response", ~right))]
    spikes.append(poisson(lambda t: np.full(t.size, 5.0)))
    return spikes, epochs, right


def test_epoch_selectivity_finds_the_planted_epoch_and_preference():
    spikes, epochs, right = _task()
    table = taskepochs.epoch_selectivity(spikes, epochs, right)
    selective = table[table["selective"]]
    assert set(zip(selective["epoch"], selective["unit"], selective["prefers"], strict=True)) == {
        ("delay", 0, "a"),
        ("response", 1, "b"),
    }
    delay0 = table[(table["epoch"] == "delay") & (table["unit"] == 0)].iloc[0]
    assert delay0["rate_a_hz"] == pytest.approx(20, rel=0.15)
    assert delay0["rate_b_hz"] == pytest.approx(5, rel=0.3)
    assert delay0["n_a"] + delay0["n_b"] == right.size


def test_epoch_selectivity_leaves_out_trials_without_the_event():
    spikes, epochs, right = _task(seed=2)
    starts, stops = epochs["delay"]
    starts = starts.copy()
    starts[:10] = np.nan  # ten trials without a pole-out time
    table = taskepochs.epoch_selectivity(spikes, {"delay": (starts, stops)}, right)
    assert (table["n_a"] + table["n_b"]).eq(right.size - 10).all()


def test_an_epoch_without_any_finite_bound_is_refused_by_name():
    """DANDI:000006 stores stop_time as NaN in every trial: an epoch ending there holds
    no trial, which is an error naming the epoch, not a numpy reduction failure."""
    spikes, epochs, right = _task(seed=3)
    starts = epochs["delay"][0]
    with pytest.raises(taskepochs.TaskEpochError, match=r"epoch 'trial': all 80 trials .* NaN"):
        taskepochs.epoch_selectivity(
            spikes, {"trial": (starts, np.full_like(starts, np.nan))}, right
        )


def test_delayed_response_epochs_are_on_the_session_clock():
    epochs = taskepochs.delayed_response_epochs([100.0], [0.5], [1.5], [3.0], response_s=1.3)
    assert epochs["sample"] == (pytest.approx([100.5]), pytest.approx([101.5]))
    assert epochs["delay"][1][0] == pytest.approx(103.0)
    assert epochs["response"][1][0] == pytest.approx(104.3)
    with pytest.raises(ValueError, match="response_s"):
        taskepochs.delayed_response_epochs([0.0], [0.5], [1.5], [3.0], response_s=0)
