"""Laminar helpers (databook.laminar) and the lazy trial-window reader (nwb.LFP.event_windows)."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from databook import align, laminar, nwb
from tests import nwb_minifile as mini


# extremum ------------------------------------------------------------------------------
def test_extremum_finds_the_vertex_between_irregular_channels():
    depths = np.array([0.0, 30.0, 70.0, 90.0, 150.0, 200.0])
    vertex, height = 82.0, -5.0
    profile = height + 0.01 * (depths - vertex) ** 2  # a sink between 70 and 90 um
    found = laminar.extremum(profile, depths, "min")
    assert found.depth_um == pytest.approx(vertex)
    assert found.value == pytest.approx(height)
    assert found.channel == 3  # 90 um is the lowest channel
    up = laminar.extremum(-profile[::-1], depths[::-1], "max")  # order does not matter
    assert up.depth_um == pytest.approx(vertex) and up.value == pytest.approx(-height)
    assert up.channel == 2  # index into the order given


def test_extremum_at_an_edge_or_beside_nan_keeps_the_channel():
    depths = np.arange(5) * 40.0
    profile = np.array([np.nan, -9.0, -3.0, -1.0, 0.0])  # undefined edge, then the minimum
    found = laminar.extremum(profile, depths)
    assert (found.depth_um, found.value, found.channel) == (40.0, -9.0, 1)
    with pytest.raises(ValueError, match="kind"):
        laminar.extremum(profile, depths, "lowest")
    with pytest.raises(ValueError, match="no finite"):
        laminar.extremum(np.full(5, np.nan), depths)


# area_spans ----------------------------------------------------------------------------
def test_area_spans_put_boundaries_halfway_between_areas():
    depths = np.array([20.0, 20.0, 40.0, 40.0, 60.0, 60.0, 80.0, 80.0])  # two columns per row
    areas = np.array(["LP", "LP", "LP", "LP", "DG", "DG", "DG", "DG"])
    order = np.array([5, 0, 7, 2, 1, 6, 3, 4])  # any order
    spans = laminar.area_spans(depths[order], areas[order])
    assert spans.area.tolist() == ["LP", "DG"]
    assert spans.low_um.tolist() == [20.0, 50.0]
    assert spans.high_um.tolist() == [50.0, 80.0]
    assert spans.n_channels.tolist() == [4, 4]


# trial_average -------------------------------------------------------------------------
def test_trial_average_is_channels_first_ignores_nan_and_removes_baseline():
    times = np.array([-0.02, -0.01, 0.0, 0.01])
    rng = np.random.default_rng(0)
    windows = rng.normal(size=(3, 4, 2))
    windows[1, 3, 0] = np.nan  # one sample missing in one trial
    mean = laminar.trial_average(windows, times, baseline=(-0.02, 0.0))
    expected = np.nanmean(windows, axis=0).T
    expected -= expected[:, :2].mean(axis=1, keepdims=True)
    np.testing.assert_allclose(mean, expected)
    assert mean.shape == (2, 4)
    with pytest.raises(ValueError, match="no samples"):
        laminar.trial_average(windows, times, baseline=(0.5, 0.6))


# LFP.event_windows ---------------------------------------------------------------------
def test_event_windows_read_only_the_windows_and_match_a_full_read(demo, monkeypatch):
    path = demo.paths["demo-ecephys"]
    events = np.array([12.0, 40.0, 40.1, 95.0])  # two overlapping windows
    window = (-0.1, 0.25)
    rows: list[int] = []
    original = h5py.Dataset.__getitem__

    def counting(self, key):
        out = original(self, key)
        if self.name.endswith("probe_A_lfp/data"):
            rows.append(out.shape[0])
        return out

    with nwb.lfp(path) as view:
        monkeypatch.setattr(h5py.Dataset, "__getitem__", counting)
        got = view.event_windows(events, window)
        monkeypatch.setattr(h5py.Dataset, "__getitem__", original)
        expected = align.event_windows(view.times(), view.volts(), events, window, view.rate)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    assert got.shape == (4, 175, 96)
    n_window = 175 + 3  # window samples plus the margin
    assert sum(rows) <= 3 * n_window + 0.1 * view.rate  # the overlapping pair read once
    assert len(rows) == 3


def test_event_windows_on_timestamps_are_nan_off_the_recording(tmp_path):
    path = mini.write(tmp_path / "mini.nwb")
    times = mini.LFP_TIMES
    events = np.array([times[0] - 0.005, times[20] + 0.0013, times[21], times[-1]])
    window, rate = (-0.01, 0.012), 1000.0  # finer than the data: the margins matter
    with nwb.lfp(path) as view:
        got = view.event_windows(events, window, rate=rate, channels=[0, 2])
        full = view.volts()[:, [0, 2]]
        with pytest.raises(ValueError, match="rate"):
            view.event_windows(events, window)
    expected = align.event_windows(times, full, events, window, rate)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    assert np.isnan(got[0, 0]).all() and np.isnan(got[-1, -1]).all()
    assert np.isfinite(got[1]).all()


DEPTHS_UM = np.arange(0.0, 2000.0, 40.0)


def _ongoing_lfp(rng, n_events=40, n_times=50, depths=DEPTHS_UM):
    """Baseline LFP whose amplitude varies smoothly with depth (as ongoing activity does),
    spatially correlated, plus independent channel noise; volts."""
    shared = rng.normal(size=(n_events, n_times, 1)) * 20e-6
    gain = 0.5 + np.exp(-((depths - 1200.0) ** 2) / (2 * 300.0**2))  # larger in "cortex"
    noise = rng.normal(size=(n_events, n_times, depths.size)) * 3e-6
    return shared * gain + noise, depths


def test_outlier_channels_find_a_dead_and_a_noisy_channel_and_nothing_else():
    rng = np.random.default_rng(7)
    windows, depths = _ongoing_lfp(rng)
    times = np.linspace(-0.1, 0.0, windows.shape[1], endpoint=False)
    windows[:, :, 12] = rng.normal(size=windows.shape[:2]) * 0.3e-6  # dead: almost no signal
    windows[:, :, 30] += rng.normal(size=windows.shape[:2]) * 60e-6  # noisy
    windows[:, :, 5] = 0.0  # flagged in the file: excluded, not reported
    found = laminar.outlier_channels(windows, times, (-0.1, 0.0), depths, exclude=[5])
    assert found.flat == [12] and found.noisy == [30] and found.bad == [12, 30]
    assert np.isnan(found.z[5])
    # the smooth depth gradient of the ongoing LFP alone flags nothing
    clean, _ = _ongoing_lfp(np.random.default_rng(8))
    assert laminar.outlier_channels(clean, times, (-0.1, 0.0), depths).bad == []
    # a constant channel (zero variance) is flat, not an error
    windows[:, :, 20] = 1e-3
    assert 20 in laminar.outlier_channels(windows, times, (-0.1, 0.0), depths, exclude=[5]).flat


def test_sink_onsets_find_the_earliest_sink_and_its_depth():
    """Two sinks: one at 1000 um from 30 ms, a deeper one at 1400 um from 50 ms: the
    earliest is the first, at its depth (between channels) and its peak time."""
    depths = np.arange(600.0, 1801.0, 40.0)
    times = np.arange(-0.05, 0.2, 0.002)
    rng = np.random.default_rng(1)

    def sheet(centre_um, start_s, amplitude):
        t = np.clip((times - start_s) / 0.01, 0, None)
        return (
            amplitude
            * np.exp(-((depths[:, None] - centre_um) ** 2) / (2 * 50.0**2))
            * (t * np.exp(1 - t))
        )

    density = sheet(1010.0, 0.030, -3000.0) + sheet(1400.0, 0.050, -6000.0)
    density += rng.normal(size=density.shape) * 30.0
    found = laminar.sink_onsets(density, times, depths, (-0.05, 0.0))
    assert abs(found.depth_um - 1010.0) < 10
    assert 0.030 <= found.onset < 0.036 and found.peak_s == pytest.approx(0.040, abs=0.0021)
    deep = np.argmin(np.abs(depths - 1400.0))
    assert found.onset_s[deep] > found.onset
    assert np.isnan(found.onset_s[0])  # far from both sinks: never below threshold
    with pytest.raises(ValueError, match="no channel has a sink"):
        laminar.sink_onsets(rng.normal(size=density.shape), times, depths, (-0.05, 0.0))
