"""Event-aligned spike counts and PSTHs against direct oracles and planted rates."""

from __future__ import annotations

import numpy as np
import pytest

from databook import align
from databook.demo.spiking import EvokedResponse, evoked_poisson


def _histogram_oracle(spike_times, events, edges):
    out = np.zeros((len(spike_times), len(events), len(edges) - 1), dtype=int)
    for u, times in enumerate(spike_times):
        for e, t in enumerate(events):
            # np.histogram's last bin is closed; drop spikes on the final edge to keep [a, b).
            inside = times[times < t + edges[-1]]
            out[u, e] = np.histogram(inside, bins=t + edges)[0]
    return out


def test_event_counts_equals_histogram_with_spikes_on_edges():
    rng = np.random.default_rng(3)
    edges = np.arange(-0.1, 0.3001, 0.025)
    events = np.sort(rng.uniform(0.05, 9.95, size=40))
    events[0], events[-1] = 0.02, 9.99  # windows running off the start and end of the data
    spikes = []
    for _ in range(7):
        times = rng.uniform(0, 10, size=rng.integers(0, 400))
        # Plant spikes exactly on bin edges (as computed the same way as the bounds).
        on_edges = (events[rng.integers(0, events.size, 30)][:, None] + edges[None, :]).ravel()
        spikes.append(np.sort(np.concatenate([times, on_edges[:60]])))
    spikes.append(np.array([]))  # a silent unit
    counts = align.event_counts(spikes, events, edges)
    assert counts.shape == (8, 40, edges.size - 1)
    np.testing.assert_array_equal(counts, _histogram_oracle(spikes, events, edges))


def test_spike_on_shared_edge_is_counted_once_in_later_bin():
    counts = align.event_counts([np.array([1.1])], [1.0], [0.0, 0.1, 0.2])
    # 1.0 + 0.1 is 1.1 in float64; the spike belongs to [0.1, 0.2) only.
    assert counts.tolist() == [[[0, 1]]]
    assert counts.sum() == 1


def test_windows_are_measured_from_each_event_not_the_first_sample():
    # A stream whose first spike is at 100 s: windows must not shift by it.
    spikes = [np.array([100.0, 150.05, 200.05])]
    counts = align.event_counts(spikes, [150.0, 200.0], [0.0, 0.1])
    assert counts[0, :, 0].tolist() == [1, 1]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"edges": [0.0]}, "at least 2"),
        ({"edges": [0.0, 0.2, 0.1]}, "strictly increasing"),
        ({"events": [[0.0]]}, "events must be 1-D"),
        ({"events": [np.nan]}, "NaN"),
        ({"spike_times": [np.array([0.2, 0.1])]}, r"spike_times\[0\] is not sorted"),
    ],
)
def test_bad_input_is_named(kwargs, message):
    args = {"spike_times": [np.array([0.1])], "events": [0.0], "edges": [0.0, 0.1]} | kwargs
    with pytest.raises(ValueError, match=message):
        align.event_counts(**args)


def test_psth_recovers_planted_rates_within_sem():
    truth = EvokedResponse(baseline_hz=8.0, evoked_hz=50.0, latency_s=0.04, duration_s=0.08)
    onsets = 1.0 + np.arange(300) * 0.7
    spikes = evoked_poisson(truth, onsets, onsets[-1] + 1.0, n_units=3, seed=11)
    edges = np.linspace(-0.2, 0.3, 51)
    result = align.psth(spikes, onsets, edges)
    evoked = (result.centers > 0.04) & (result.centers < 0.12)
    baseline = result.centers < 0
    for unit in range(3):
        for mask, rate in ((evoked, 50.0), (baseline, 8.0)):
            mean = result.rate[unit, mask].mean()
            # SEM of a mean over bins of independent trials' rates.
            sem = np.sqrt((result.sem[unit, mask] ** 2).sum()) / mask.sum()
            assert abs(mean - rate) < 3 * sem, (unit, mean, rate, sem)


def test_psth_causal_smoothing_never_moves_response_earlier():
    truth = EvokedResponse(baseline_hz=0.0, evoked_hz=200.0, latency_s=0.05, duration_s=0.02)
    onsets = 1.0 + np.arange(50) * 0.5
    spikes = evoked_poisson(truth, onsets, onsets[-1] + 1, n_units=1, seed=2)
    edges = np.linspace(-0.1, 0.2, 31)
    raw = align.psth(spikes, onsets, edges)
    smooth = align.psth(spikes, onsets, edges, smooth_tau=0.02)
    before = raw.centers < 0.05
    assert np.all(smooth.rate[0, before] == 0)
    assert smooth.rate[0, ~before].sum() > 0
    # Renormalised causal kernel: a constant rate stays constant.
    flat = [np.sort(np.random.default_rng(0).uniform(0, 30, 30_000))]
    const = align.psth(flat, onsets, edges, smooth_tau=0.05)
    np.testing.assert_allclose(const.rate[0], 1000.0, rtol=0.08)


def test_evoked_poisson_is_seeded_and_sorted():
    truth = EvokedResponse(baseline_hz=5.0, evoked_hz=20.0, latency_s=0.0, duration_s=0.1)
    a = evoked_poisson(truth, [1.0, 2.0], 3.0, n_units=4, seed=5)
    b = evoked_poisson(truth, [1.0, 2.0], 3.0, n_units=4, seed=5)
    c = evoked_poisson(truth, [1.0, 2.0], 3.0, n_units=4, seed=6)
    assert len(a) == 4
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c, strict=True))
    assert all(np.all(np.diff(x) >= 0) and x.min() >= 0 and x.max() < 3 for x in a if x.size)
