"""Step-response fit: planted onsets, durations and gains recovered; flat units give no
meaningful step; conventions (latency is a bin edge, excitatory only)."""

from __future__ import annotations

import numpy as np
import pytest

from databook.align import event_counts
from databook.demo.spiking import EvokedResponse, evoked_poisson
from databook.latency import step_response

ONSETS = 1.0 + 1.5 * np.arange(80)


def test_planted_step_is_recovered():
    truth = [(3.0, 30.0, 0.030), (6.0, 20.0, 0.045), (2.0, 25.0, 0.060)]
    spikes = []
    for k, (base, evoked, lat) in enumerate(truth):
        spikes += evoked_poisson(EvokedResponse(base, evoked, lat, 0.1), ONSETS, 125, 5, seed=k)
    fit = step_response(spikes, ONSETS)
    lat = np.repeat([t[2] for t in truth], 5)
    gain = np.repeat([t[1] - t[0] for t in truth], 5)
    base = np.repeat([t[0] for t in truth], 5)
    assert np.abs(fit.latency - lat).max() <= 0.005
    assert np.abs(fit.duration - 0.1).max() <= 0.015
    assert np.median(np.abs(fit.gain - gain) / gain) <= 0.1
    assert np.median(np.abs(fit.baseline_rate - base) / base) <= 0.1
    assert (fit.log_lr > 20).all()


def test_step_equals_direct_count_of_its_interval():
    spikes = evoked_poisson(EvokedResponse(4.0, 30.0, 0.04, 0.1), ONSETS, 125, 3, seed=9)
    fit = step_response(spikes, ONSETS, window=(-0.3, 0.25), search=(0.0, 0.25))
    for u, times in enumerate(spikes):
        inside = event_counts([times], ONSETS, [fit.latency[u], fit.latency[u] + fit.duration[u]])
        rate = inside.sum() / (ONSETS.size * fit.duration[u])
        assert fit.response_rate[u] == pytest.approx(rate)
        assert fit.latency[u] == pytest.approx(round(fit.latency[u] / 0.001) * 0.001)


def test_a_suppressed_unit_gets_no_excitatory_step_where_it_is_silent():
    # Silent 0-100 ms after onset: any step found must lie after the silence.
    spikes = evoked_poisson(EvokedResponse(20.0, 0.0, 0.0, 0.1), ONSETS, 125, 2, seed=3)
    fit = step_response(spikes, ONSETS, search=(0.0, 0.1))
    assert np.isnan(fit.latency).all()
    assert (fit.log_lr == 0).all()


def test_no_spikes_gives_nan_and_bad_windows_are_named():
    fit = step_response([np.array([]), np.array([0.2])], ONSETS)
    assert np.isnan(fit.latency[0]) and fit.log_lr[0] == 0
    with pytest.raises(ValueError, match="must lie inside window"):
        step_response([np.array([])], ONSETS, window=(-0.5, 0.2), search=(0.0, 0.25))
    with pytest.raises(ValueError, match="onsets must be a non-empty"):
        step_response([np.array([])], [])
