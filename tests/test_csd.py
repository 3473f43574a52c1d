"""Current source density against exact potentials, irregular depths, bad channels, demo."""

from __future__ import annotations

import numpy as np
import pytest

from databook.csd import csd, event_csd
from databook.demo.ecephys import CsdModel

DEPTHS = 20.0 * np.arange(384)  # um, 384 channels at 20 um pitch


def test_planar_sheets_recovered_at_their_depths_and_amplitude():
    model = CsdModel(sink_depth_um=2000, source_depth_um=2400, width_um=100)
    phi = model.potential(DEPTHS)
    lfp = phi[:, None] * np.array([1.0, 0.5, -1.0])[None, :]  # three time samples
    result, depths = csd(lfp, DEPTHS, sigma=model.sigma)
    assert result.shape == (384, 3)
    assert np.isnan(result[[0, -1]]).all()
    first = result[:, 0]
    assert depths[np.nanargmin(first)] == 2000.0
    assert depths[np.nanargmax(first)] == 2400.0
    truth = model.profile(DEPTHS)
    assert np.nanmin(first) == pytest.approx(truth.min(), rel=0.02)
    assert np.nanmax(first) == pytest.approx(truth.max(), rel=0.02)
    np.testing.assert_allclose(result[:, 2], -first, equal_nan=True)


def test_irregular_spacing_is_exact_for_a_quadratic_potential():
    rng = np.random.default_rng(3)
    depths = np.cumsum(rng.uniform(10, 60, 50))
    z = depths * 1e-6
    phi = 4e3 * z**2 - 3e-1 * z + 2e-5  # phi'' = 8e3 V/m^2 everywhere
    result = csd(phi[:, None], depths, sigma=0.25)
    np.testing.assert_allclose(result.csd[1:-1, 0], -0.25 * 8e3, rtol=1e-6)
    # The same sheets on irregular depths: sink and source found within one spacing.
    model = CsdModel(sink_depth_um=600, source_depth_um=900, width_um=80)
    estimate = csd(model.potential(depths)[:, None], depths, sigma=model.sigma)
    spacing = np.diff(depths).max()
    assert abs(estimate.depths[np.nanargmin(estimate.csd[:, 0])] - 600) <= spacing
    assert abs(estimate.depths[np.nanargmax(estimate.csd[:, 0])] - 900) <= spacing


def test_bad_channel_is_interpolated_and_reported():
    model = CsdModel(sink_depth_um=2000, source_depth_um=2400, width_um=100)
    phi = model.potential(DEPTHS)[:, None]
    broken = phi.copy()
    broken[100] = 1.0  # a dead channel at 2000 um reading 1 V
    bad = csd(broken, DEPTHS)
    assert np.nanmax(np.abs(bad.csd)) > 1e6  # unusable if left in
    fixed = csd(broken, DEPTHS, bad_channels=[100])
    assert fixed.interpolated == [2000.0]
    truth = csd(phi, DEPTHS).csd
    inner = np.abs(DEPTHS - 2000) > 20  # away from the interpolated channel itself
    np.testing.assert_allclose(fixed.csd[inner], truth[inner], rtol=1e-9, atol=1e-6)


def test_unsorted_channels_vaknin_edges_and_smoothing():
    model = CsdModel(sink_depth_um=2000, source_depth_um=2400, width_um=100)
    phi = model.potential(DEPTHS)[:, None]
    shuffle = np.random.default_rng(1).permutation(384)
    result = csd(phi[shuffle], DEPTHS[shuffle])
    np.testing.assert_array_equal(result.depths, DEPTHS)
    np.testing.assert_allclose(result.csd, csd(phi, DEPTHS).csd, equal_nan=True)
    vaknin = csd(phi, DEPTHS, vaknin=True)
    assert np.isfinite(vaknin.csd).all()
    smooth = csd(phi, DEPTHS, smooth_um=40.0)
    assert abs(smooth.depths[np.nanargmin(smooth.csd)] - 2000) <= 20
    assert np.nanmin(smooth.csd) > np.nanmin(result.csd)  # smoothing lowers the peak


def test_chunked_into_memmap_equals_in_memory(tmp_path):
    rng = np.random.default_rng(2)
    lfp = rng.standard_normal((96, 10_000)).astype(np.float32) * 1e-4
    depths = 40.0 * np.arange(96)
    whole = csd(lfp, depths).csd
    out = np.lib.format.open_memmap(
        tmp_path / "csd.npy", mode="w+", dtype=np.float32, shape=lfp.shape
    )
    chunked = csd(lfp, depths, chunk_samples=777, out=out)
    assert chunked.csd is out and out.dtype == np.float32
    np.testing.assert_allclose(np.asarray(out), whole, rtol=1e-6, equal_nan=True)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match=r"depths has shape \(3,\); the LFP has 4 channels"):
        csd(np.zeros((4, 10)), [0, 1, 2])
    with pytest.raises(ValueError, match="depths must be distinct"):
        csd(np.zeros((3, 10)), [0, 20, 20])
    with pytest.raises(ValueError, match="at least 3 channels"):
        csd(np.zeros((2, 10)), [0, 20])


def test_demo_session_sink_and_source_depths(demo):
    from pynwb import NWBHDF5IO

    paths, truth = demo.paths, demo.truth["ecephys"]["csd"]
    with NWBHDF5IO(str(paths["demo-ecephys"]), "r") as io:
        nwb = io.read()
        series = nwb.processing["ecephys"]["LFP"]["probe_A_lfp"]
        volts = series.data[:] * series.conversion
        t = series.starting_time + np.arange(volts.shape[0]) / series.rate
        depths = nwb.electrodes["probe_vertical_position"][:][truth["lfp_channels"]]
        flashes = nwb.intervals["flashes_presentations"]["start_time"][:]
    result, times = event_csd(t, volts, depths, flashes, (-0.05, 0.2), series.rate)
    peak = np.argmin(np.abs(times - truth["peak_after_onset_s"]))
    profile = result.csd[:, peak]
    assert abs(result.depths[np.nanargmin(profile)] - truth["sink_depth_um"]) <= 40
    assert abs(result.depths[np.nanargmax(profile)] - truth["source_depth_um"]) <= 40
    assert np.nanmin(profile) == pytest.approx(-truth["amplitude_a_per_m3"], rel=0.25)
    before = result.csd[:, times < 0]
    assert np.nanmax(np.abs(before)) < 0.2 * truth["amplitude_a_per_m3"]


def test_kernel_equals_the_sparse_operator_for_every_option(tmp_path):
    """The compiled product equals scipy's sparse product on random potentials, for
    unsorted irregular channels with bad channels, Vaknin edges and smoothing, and for
    C-ordered, F-ordered (time x channel data transposed), int16 and h5py inputs."""
    import h5py

    from databook.csd import csd_operator

    rng = np.random.default_rng(4)
    depths = np.cumsum(rng.uniform(10, 40, 64))
    shuffle = rng.permutation(64)
    lfp = rng.standard_normal((64, 5000)) * 1e-4
    options = dict(vaknin=True, smooth_um=30.0)
    operator, undefined = csd_operator(depths, 0.3, bad=[5, 40], **options)
    assert not undefined.any()
    expected = operator @ lfp
    bad_in_given_order = [int(np.flatnonzero(shuffle == b)[0]) for b in (5, 40)]
    given = lfp[shuffle]
    for variant in (given, np.asfortranarray(given), given.T.copy().T):
        result = csd(variant, depths[shuffle], bad_channels=bad_in_given_order, **options)
        np.testing.assert_allclose(result.csd, expected, rtol=1e-10, atol=1e-3)
    counts = np.round(lfp / 1e-6).astype(np.int16)
    as_int = csd(counts, depths, chunk_samples=1000)
    assert as_int.csd.dtype == np.float32
    reference = csd(counts.astype(np.float64), depths).csd
    scale = np.nanmax(np.abs(reference))  # float32 rounding of terms of this size
    np.testing.assert_allclose(as_int.csd, reference, rtol=0, atol=1e-6 * scale, equal_nan=True)
    with h5py.File(tmp_path / "lfp.h5", "w") as f:
        f["lfp"] = lfp
        f.create_dataset("csd", shape=lfp.shape, dtype="f8")
        csd(f["lfp"], depths, chunk_samples=999, out=f["csd"])
        np.testing.assert_allclose(f["csd"][:], csd(lfp, depths).csd, equal_nan=True)
