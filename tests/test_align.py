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
    # Overlapping windows take the general path: the same half-open rule there.
    counts = align.event_counts([np.array([1.1])], [1.0, 1.05], [0.0, 0.1, 0.2])
    assert counts.tolist() == [[[0, 1], [1, 0]]]


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


# Continuous signals --------------------------------------------------------------------
def test_event_windows_interpolates_linearly_from_each_event():
    t = np.arange(0.0, 10.0, 0.1) + 3.0  # stream starts at 3 s: must not shift windows
    values = np.stack([2 * t, -t], axis=1)  # linear, so interpolation is exact
    events = np.array([4.05, 7.333])
    out = align.event_windows(t, values, events, window=(-0.5, 0.5), rate=20.0)
    assert out.shape == (2, 20, 2)
    expected = events[:, None] + align.window_times((-0.5, 0.5), 20.0)[None, :]
    np.testing.assert_allclose(out[..., 0], 2 * expected)
    np.testing.assert_allclose(out[..., 1], -expected)


def test_event_windows_nan_outside_the_data():
    t = np.linspace(0, 1, 11)
    out = align.event_windows(t, t, [0.05, 0.95], window=(-0.1, 0.1), rate=100.0)
    assert np.isnan(out[0, :5]).all() and np.isfinite(out[0, 5:]).all()
    # Second window: 0.85 ... 1.04 s; the data end at 1.0 s (sample 15).
    assert np.isfinite(out[1, :16]).all() and np.isnan(out[1, 16:]).all()


def test_planted_dff_step_is_recovered():
    rng = np.random.default_rng(4)
    t = np.sort(rng.uniform(0, 600, 18000))  # irregular ~30 Hz frame times
    onsets = 5 + 6.0 * np.arange(95)  # non-overlapping trials
    dff = 0.1 * rng.standard_normal(t.size)
    since = t - onsets[np.clip(np.searchsorted(onsets, t, side="right") - 1, 0, None)]
    dff[(since >= 0) & (since < 2) & (t >= onsets[0])] += 0.5
    w = align.event_windows(t, dff, onsets, window=(-1.0, 2.0), rate=30.0)
    times = align.window_times((-1.0, 2.0), 30.0)
    response = w[:, (times >= 0.1) & (times < 1.9)].mean() - w[:, times < 0].mean()
    assert response == pytest.approx(0.5, abs=0.02)


def test_resample_puts_running_onto_frame_clock():
    t_run = np.arange(0, 10, 1 / 60)
    speed = 3 * t_run + 1
    frames = np.array([-1.0, 0.0, 2.51, 9.99, 12.0])
    out = align.resample(t_run, speed, frames)
    assert np.isnan(out).tolist() == [True, False, False, True, True]  # 9.99 > last sample
    np.testing.assert_allclose(out[1:3], 3 * frames[1:3] + 1)


def test_continuous_bad_input_is_named():
    with pytest.raises(ValueError, match=r"values has 3 samples .* timestamps has 4"):
        align.event_windows([0, 1, 2, 3], [1, 2, 3], [1.0], (0, 1), 10)
    with pytest.raises(ValueError, match="strictly increasing"):
        align.resample([0, 2, 1], [1, 2, 3], [0.5])
    with pytest.raises(ValueError, match="stop > start"):
        align.window_times((1, 0), 10)


def test_counts_on_real_human_recording_equal_histogram(root):
    path = (
        root.parent
        / "shared"
        / "data"
        / "real"
        / "rutishauser-human-mtl_sub-4_ses-4_ecephys+image.nwb"
    )
    if not path.exists():
        pytest.skip(f"real recordings not present at {path} (shared data folder absent)")
    import h5py

    # pynwb 4.2 refuses this NWB 2.4 file (its OpticalSeries fails a newer check), so
    # read the two datasets directly, as a tolerant reader must.
    with h5py.File(path, "r") as h5:
        flat = h5["units/spike_times"][:]
        ends = h5["units/spike_times_index"][:]
        onsets = h5["intervals/encoding_table/start_time"][:]
    spikes = np.split(flat, ends[:-1])
    edges = np.arange(-1.0, 2.0001, 0.1)
    counts = align.event_counts(spikes, onsets, edges)
    assert counts.shape == (35, 90, 30) and counts.sum() > 1000
    np.testing.assert_array_equal(counts, _histogram_oracle(spikes, onsets, edges))


def test_disjoint_and_overlapping_window_paths_agree():
    rng = np.random.default_rng(12)
    spikes = [np.sort(rng.uniform(0, 100, n)) for n in (0, 1, 500, 3000)]
    edges = np.linspace(-0.1, 0.3, 9)
    disjoint = np.sort(rng.choice(np.arange(0.5, 99, 0.5), 150, replace=False))
    shuffled = rng.permutation(disjoint)  # events in any order
    overlapping = np.sort(rng.uniform(0, 100, 150))  # windows overlap: general path
    for events in (disjoint, shuffled, overlapping):
        np.testing.assert_array_equal(
            align.event_counts(spikes, events, edges), _histogram_oracle(spikes, events, edges)
        )
    # Spikes exactly on every edge, windows apart (fast path) and touching (general path).
    for spacing in (0.5, 0.4):
        events = np.arange(1.0, 5.0, spacing)
        on_edges = np.unique((events[:, None] + edges[None, :]).ravel())
        counts = align.event_counts([on_edges], events, edges)
        np.testing.assert_array_equal(counts, _histogram_oracle([on_edges], events, edges))
        if spacing == 0.5:  # each bin holds exactly the spike on its left edge
            assert (counts == 1).all()


@pytest.mark.parametrize("aligned_fraction", [0.0, 0.9])
def test_resample_matches_np_interp_for_int_and_float_signals(aligned_fraction):
    rng = np.random.default_rng(21)
    t = np.cumsum(rng.uniform(0.001, 0.003, 2000))  # irregular sample times
    lfp = rng.integers(-3000, 3000, (t.size, 3)).astype(np.int16)  # e.g. int16 LFP counts
    queries = rng.uniform(t[0] - 0.05, t[-1] + 0.05, 500)
    on_samples = rng.random(500) < aligned_fraction
    queries[on_samples] = t[rng.integers(0, t.size, on_samples.sum())]
    out = align.resample(t, lfp, queries)
    assert out.dtype == np.float32
    inside = (queries >= t[0]) & (queries <= t[-1])
    for channel in range(3):
        expected = np.interp(queries, t, lfp[:, channel].astype(float))
        np.testing.assert_allclose(out[inside, channel], expected[inside], rtol=1e-5, atol=1e-3)
    assert np.isnan(out[~inside]).all()


# Inputs real recordings produce -------------------------------------------------------
def test_nan_spike_time_is_rejected_naming_the_unit():
    # NaN compares False with everything, so it slips through a sortedness check.
    good = np.array([0.05, 0.15])
    for bad in (np.array([0.05, np.nan, 0.15]), np.array([np.nan]), np.array([0.1, np.inf])):
        with pytest.raises(ValueError, match=r"spike_times\[1\] contains NaN or infinite"):
            align.event_counts([good, bad], [0.0], [0.0, 0.1, 0.2])


def test_no_events_is_named():
    spikes = [np.array([0.1, 0.2])]
    with pytest.raises(ValueError, match="no events"):
        align.event_counts(spikes, [], [0.0, 0.1])
    with pytest.raises(ValueError, match="no events"):
        align.psth(spikes, np.array([]), [0.0, 0.1])
    t = np.arange(100) / 10
    with pytest.raises(ValueError, match="no events"):
        align.event_windows(t, t, [], (0.0, 1.0), 10.0)


def test_resample_does_not_leak_nan_from_the_neighbouring_sample():
    t = np.arange(10.0)
    values = np.column_stack([np.arange(10.0), 10.0 * np.arange(10.0)])
    values[5, 0] = np.nan  # a dropped sample on channel 0
    # Mostly between samples (whole-array path) and mostly on samples (sparse path).
    for queries in (np.array([4.0, 4.5, 3.5, 2.5, 1.5, 5.0, 6.0]), np.array([4.0, 6.0, 4.5])):
        out = align.resample(t, values, queries)
        for q, row in zip(queries, out, strict=True):
            if q == 4.0 or q == 6.0 or q < 4:
                assert row[0] == q, (q, row)  # exactly on a valid sample: that sample
            else:
                assert np.isnan(row[0]), (q, row)  # touches the NaN sample: NaN
            assert row[1] == pytest.approx(10 * q)  # the other channel is untouched


def test_float32_lfp_clock_at_5000_s_is_rebuilt_with_a_warning():
    # 2500 Hz at t ~ 5000 s: float32 resolution (0.49 ms) exceeds the 0.4 ms spacing,
    # so consecutive float32 timestamps collide.
    rate, t0 = 2500.0, 5000.0
    exact = t0 + np.arange(50_000) / rate
    signal = np.sin(2 * np.pi * 7.0 * exact)
    events = np.array([5003.0001, 5010.5])
    with pytest.warns(align.ClockPrecisionWarning, match="float32.*regular clock"):
        out = align.event_windows(exact.astype(np.float32), signal, events, (0, 0.01), rate)
    expected = align.event_windows(exact, signal, events, (0, 0.01), rate)
    # Within 1 % of one sample step of the sine's slope (2 pi 7 / 2500 per sample).
    np.testing.assert_allclose(out, expected, atol=0.01 * 2 * np.pi * 7 / rate)


def test_float32_frame_clock_gives_the_frame_value():
    rate, t0 = 30.0, 5000.0
    exact = t0 + np.arange(20_000) / rate
    index = np.arange(exact.size, dtype=np.float64)  # the value is the frame number
    with pytest.warns(align.ClockPrecisionWarning, match="float32"):
        out = align.resample(exact.astype(np.float32), index, [t0 + 301 / rate])
    assert out[0] == pytest.approx(301.0, abs=1e-4)  # not 301.0039


def test_irregular_float32_clock_is_upcast_with_its_resolution_named():
    rng = np.random.default_rng(0)
    t = np.cumsum(rng.uniform(0.03, 0.04, 1000)) + 100.0
    with pytest.warns(align.ClockPrecisionWarning, match=r"float32.*resolution"):
        out = align.resample(t.astype(np.float32), t, t[[10, 500]])
    np.testing.assert_allclose(out, t[[10, 500]], atol=2e-5)
    # Collisions that no regular clock explains get a message naming the cause.
    colliding = np.float32([5000.0, 5000.0004, 5000.0009, 5000.0011, 5001.0, 5003.0])
    with (
        pytest.warns(align.ClockPrecisionWarning),
        pytest.raises(ValueError, match="float32"),
    ):
        align.resample(colliding, np.arange(6.0), [5000.0005])


def test_float32_spike_and_event_times_warn():
    with pytest.warns(align.ClockPrecisionWarning, match=r"spike_times\[0\] are float32"):
        align.event_counts([np.float32([5000.1])], [5000.0], [0.0, 0.2])
    with pytest.warns(align.ClockPrecisionWarning, match="events are float32"):
        align.event_counts([np.array([5000.1])], np.float32([5000.0]), [0.0, 0.2])


def test_event_windows_is_one_sample_per_step_from_the_event():
    """A window sample k lies at event + window[0] + k / rate, exactly (values = time)."""
    t = np.arange(0.0, 100.0, 0.01)
    for events in (np.array([10.0, 20.0]), np.array([10.003, 20.0071])):
        out = align.event_windows(t, t, events, (-0.05, 0.05), 100.0)
        expected = events[:, None] - 0.05 + np.arange(10)[None, :] / 100.0
        np.testing.assert_allclose(out, expected, rtol=0, atol=1e-9)


def test_event_counts_follows_np_histogram_where_pynapple_rounds_edges():
    """Bins are [event + edges[i], event + edges[i + 1]) computed in float64, exactly as
    np.histogram(bins=event + edges) does. pynapple's trial_count instead accumulates
    ``start + bin_size`` and rounds each edge to 1 ns (``np.round(edge, 9)``), so a spike
    within a nanosecond of an edge can land in the neighbouring bin there."""
    event = 1234.5678901234567  # not on the nanosecond grid
    edges = np.array([0.0, 0.01, 0.02])
    edge = event + edges[1]
    rounded = np.round(edge, 9)
    spike = (edge + rounded) / 2 if rounded != edge else np.nextafter(edge, 0)
    assert (spike < edge) == (rounded < edge)  # between pynapple's and our edge
    spikes = [np.array([spike])]
    ours = align.event_counts(spikes, [event], edges)[0, 0]
    np.testing.assert_array_equal(ours, np.histogram(spikes[0], bins=event + edges)[0])
    assert ours.tolist() == ([0, 1] if spike >= edge else [1, 0])


def test_interval_counts_counts_half_open_trial_epochs_of_any_length():
    rng = np.random.default_rng(11)
    spikes = [np.sort(rng.uniform(0, 20, size=n)) for n in (300, 0, 57)]
    starts = np.sort(rng.uniform(0, 18, size=25))
    stops = starts + rng.uniform(0.2, 2.0, size=25)  # overlapping epochs of many lengths
    stops[3] = starts[3] + 0.5
    spikes[0] = np.sort(np.r_[spikes[0], starts[3], stops[3]])  # on both bounds
    starts[7] = np.nan  # a trial without the event
    counts = align.interval_counts(spikes, starts, stops)
    oracle = np.array(
        [[np.sum((t >= a) & (t < b)) for a, b in zip(starts, stops, strict=True)] for t in spikes]
    )
    np.testing.assert_array_equal(counts, oracle)
    assert counts[:, 7].tolist() == [0, 0, 0]


def test_interval_counts_refuses_a_reversed_epoch_and_unsorted_spikes():
    with pytest.raises(ValueError, match=r"interval 1 stops at 1.0 s, not after"):
        align.interval_counts([np.array([0.5])], [0.0, 2.0], [1.0, 1.0])
    with pytest.raises(ValueError, match=r"spike_times\[0\] is not sorted"):
        align.interval_counts([np.array([0.5, 0.1])], [0.0], [1.0])
