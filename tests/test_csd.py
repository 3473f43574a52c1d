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


def test_demo_session_laminar_sinks_and_the_noise_free_estimate(demo):
    from pynwb import NWBHDF5IO

    from databook.demo.ecephys import LaminarCsdModel

    paths, truth = demo.paths, demo.truth["ecephys"]["csd"]
    with NWBHDF5IO(str(paths["demo-ecephys"]), "r") as io:
        nwb = io.read()
        series = nwb.processing["ecephys"]["LFP"]["probe_A_lfp"]
        volts = series.data[:] * series.conversion
        t = series.starting_time + np.arange(volts.shape[0]) / series.rate
        depths = nwb.electrodes["probe_vertical_position"][:][truth["lfp_channels"]]
        valid = nwb.electrodes["valid_data"][:][truth["lfp_channels"]]
        flashes = nwb.intervals["flashes_presentations"]["start_time"][:]
    bad = sorted(
        set(np.flatnonzero(~valid))
        | set(truth["unflagged_bad_channels"]["dead"])
        | set(truth["unflagged_bad_channels"]["noisy"])
    )
    # event_csd takes the LFP as (n_channels, n_samples), like csd; NWB stores samples first.
    result, times = event_csd(
        t, volts.T, depths, flashes, (-0.05, 0.2), series.rate, bad_channels=bad
    )
    model = LaminarCsdModel.from_truth(truth)

    def nearest_channel(depth):
        return result.depths[np.argmin(np.abs(result.depths - depth))]

    for part in truth["components"]:
        peak = np.argmin(np.abs(times - part["peak_after_onset_s"]))
        profile = np.where(
            np.abs(result.depths - part["sinks_um"][0]) <= 100, result.csd[:, peak], np.nan
        )
        # each planted sink on the channel nearest it (40 um pitch)
        assert result.depths[np.nanargmin(profile)] == nearest_channel(part["sinks_um"][0])
    # The whole estimate equals the noise-free estimate of the planted potential (same
    # channels, same interpolation) within the noise seen before onset.
    clean = csd(model.potential(depths, times).T, depths, model.sigma, bad_channels=bad).csd
    before = result.csd[:, times < 0]
    noise = np.nanstd(before)
    scale = abs(min(s["amplitude_a_per_m3"] for p in truth["components"] for s in p["sheets"]))
    assert 0.005 * scale < noise < 0.05 * scale  # the demo's 2 uV noise, averaged
    assert np.sqrt(np.nanmean((result.csd - clean) ** 2)) < 1.3 * noise


def test_icsd_spline_and_kcsd_recover_a_disc_column_that_the_second_difference_biases():
    """On the potential of the demo's column (discs of 400 um radius), the spline iCSD
    with the right diameter and kCSD with the right radius recover the planted CSD to
    under 1 % of the sink; the second difference, which assumes infinite sheets, is off
    by more. Giving the spline iCSD a wrong diameter (a planted bug) raises its error."""
    from databook.csd import icsd_spline, kcsd1d
    from databook.demo.ecephys import LaminarCsdModel

    model = LaminarCsdModel()
    depths = np.arange(1700.0, 2901.0, 40.0)
    times = np.arange(0.0, 0.15, 0.004)
    lfp = model.potential(depths, times).T
    scale = 7200.0

    def error(result):
        planted = model.csd(result.depths, times).T
        return np.sqrt(np.nanmean((result.csd - planted) ** 2)) / scale

    spline = icsd_spline(lfp, depths, 0.3, diameter_um=800.0)
    assert spline.csd.shape == (4 * depths.size, times.size)
    assert error(spline) < 0.01
    assert error(icsd_spline(lfp, depths, 0.3, diameter_um=100.0)) > 5 * error(spline)
    kernel = kcsd1d(lfp, depths, 0.3, radius_um=400.0)
    assert error(kernel) < 0.01
    second = csd(lfp, depths, 0.3)
    assert error(second) > 2 * max(error(spline), error(kernel))
    # channels given in any order: the same estimate
    shuffled = np.random.default_rng(0).permutation(depths.size)
    again = icsd_spline(lfp[shuffled], depths[shuffled], 0.3, diameter_um=800.0)
    np.testing.assert_allclose(again.csd, spline.csd)


def test_interpolate_channels_is_the_interpolation_csd_applies():
    from databook.csd import interpolate_channels

    rng = np.random.default_rng(3)
    depths = rng.permutation(np.arange(0.0, 400.0, 20.0))
    lfp = rng.normal(size=(depths.size, 7))
    bad = [3, 11]
    filled = interpolate_channels(lfp, depths, bad)
    order = np.argsort(depths)
    for b in bad:
        rank = int(np.flatnonzero(order == b)[0])
        above, below = order[rank - 1], order[rank + 1]
        np.testing.assert_allclose(filled[b], (lfp[above] + lfp[below]) / 2)
    keep = np.setdiff1d(np.arange(depths.size), bad)
    np.testing.assert_array_equal(filled[keep], lfp[keep])
    np.testing.assert_allclose(
        csd(filled, depths).csd,
        csd(lfp, depths, bad_channels=bad).csd,
        rtol=1e-9,
        atol=1e-3,
        equal_nan=True,
    )


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


def test_vaknin_edges_equal_the_padded_second_difference():
    """Vaknin et al. (1988): a virtual channel one spacing beyond each end repeats the edge
    potential, so the edge CSD is -sigma (phi_neighbour - phi_edge) / h^2. For a linear
    potential phi = a + b z the interior CSD is 0 and the edges are -/+ sigma b / h."""
    depths = np.array([100.0, 125.0, 160.0, 180.0, 230.0, 250.0])  # irregular, um
    z = depths * 1e-6
    a, b, sigma = 1e-4, 3.0, 0.3  # V, V/m, S/m
    result = csd((a + b * z)[:, None], depths, sigma=sigma, vaknin=True)
    h_top, h_bottom = (depths[1] - depths[0]) * 1e-6, (depths[-1] - depths[-2]) * 1e-6
    np.testing.assert_allclose(result.csd[1:-1, 0], 0.0, atol=1e-9 * sigma * b / h_top)
    assert result.csd[0, 0] == pytest.approx(-sigma * b / h_top, rel=1e-9)
    assert result.csd[-1, 0] == pytest.approx(sigma * b / h_bottom, rel=1e-9)
    # Without padding the edges have no CSD.
    plain = csd((a + b * z)[:, None], depths, sigma=sigma)
    assert np.isnan(plain.csd[[0, -1]]).all()


def test_cubic_potential_gives_the_known_first_order_error_on_irregular_depths():
    """For phi = c z^3 the three-point difference on spacings h1 (above) and h2 (below)
    returns phi'' + (h2 - h1) phi''' / 3 exactly: first-order in the spacing difference,
    exact on regular spacing."""
    c, sigma = 2e9, 0.3  # V/m^3, S/m
    regular = 50.0 + 20.0 * np.arange(30)
    exact = csd((c * (regular * 1e-6) ** 3)[:, None], regular, sigma=sigma)
    z = regular[1:-1] * 1e-6
    np.testing.assert_allclose(exact.csd[1:-1, 0], -sigma * 6 * c * z, rtol=1e-9)

    rng = np.random.default_rng(5)
    # Two shallow channels 10 and 40 um apart, then irregular pitch.
    depths = np.concatenate([[10.0, 20.0], 60.0 + np.cumsum(rng.uniform(10.0, 40.0, 40))])
    z = depths * 1e-6
    estimate = csd((c * z**3)[:, None], depths, sigma=sigma).csd[1:-1, 0]
    h1, h2 = np.diff(z)[:-1], np.diff(z)[1:]
    truth = -sigma * 6 * c * z[1:-1]
    predicted_error = -sigma * (h2 - h1) / 3 * 6 * c
    np.testing.assert_allclose(estimate - truth, predicted_error, rtol=1e-6, atol=1e-9)
    # Shallow channels, where phi''' / phi'' = 1 / z is large, are off by tens of percent.
    relative = np.abs(estimate / truth - 1)
    assert relative.max() > 0.1
    np.testing.assert_allclose(relative, np.abs(h2 - h1) / (3 * z[1:-1]), rtol=1e-6)


def test_smoothing_widens_a_gaussian_sheet_by_its_sd():
    """Gaussian smoothing of SD s turns a Gaussian sheet of SD w into one of SD
    sqrt(w^2 + s^2) with the same integral, so the peak falls by w / sqrt(w^2 + s^2)."""
    model = CsdModel(sink_depth_um=2000, source_depth_um=6000, width_um=100)
    phi = model.potential(DEPTHS)[:, None]
    for s in (40.0, 80.0):
        smooth = csd(phi, DEPTHS, sigma=model.sigma, smooth_um=s).csd[:, 0]
        width = np.hypot(model.width_um, s)
        widened = CsdModel(
            sink_depth_um=2000,
            source_depth_um=6000,  # beyond the probe: only the sink matters here
            width_um=width,
            amplitude_a_per_m3=model.amplitude_a_per_m3 * model.width_um / width,
        )
        near = np.abs(DEPTHS - 2000) < 400
        np.testing.assert_allclose(
            smooth[near], widened.profile(DEPTHS)[near], atol=0.01 * model.amplitude_a_per_m3
        )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"depths": [0.0, np.nan, 40.0, 60.0]}, r"depths.*NaN.*index 1"),
        ({"bad_channels": [12]}, r"bad_channels.*12.*0 <= i < 4"),
        ({"bad_channels": [-1]}, r"bad_channels.*-1.*0 <= i < 4"),
        ({"bad_channels": [1.5]}, r"bad_channels.*integer.*1.5"),
        ({"sigma": -0.3}, r"sigma.*positive.*-0.3"),
    ],
)
def test_bad_channels_depths_and_sigma_are_validated(kwargs, message):
    args = {"lfp": np.zeros((4, 10)), "depths": [0.0, 20.0, 40.0, 60.0]} | kwargs
    with pytest.raises(ValueError, match=message):
        csd(**args)


def test_event_csd_takes_channels_by_samples_like_csd():
    model = CsdModel(sink_depth_um=400, source_depth_um=800, width_um=60)
    depths = 20.0 * np.arange(64)
    rate = 1000.0
    t = np.arange(0, 10, 1 / rate)
    onsets = np.array([2.0, 5.0, 8.0])
    since = t - onsets[np.clip(np.searchsorted(onsets, t, side="right") - 1, 0, None)]
    course = np.where(t >= onsets[0], model.time_course(since), 0.0)
    lfp = model.potential(depths)[:, None] * course[None, :]  # (n_channels, n_samples)
    result, times = event_csd(t, lfp, depths, onsets, (-0.05, 0.2), rate, sigma=model.sigma)
    assert result.csd.shape == (64, times.size)
    expected = csd(lfp, depths, sigma=model.sigma).csd[:, np.searchsorted(t, 2.0 + times)]
    np.testing.assert_allclose(result.csd, expected, rtol=1e-9, atol=1e-9, equal_nan=True)
    with pytest.raises(ValueError, match=r"\(n_channels, n_samples\).*lfp\.T"):
        event_csd(t, lfp.T, depths, onsets, (-0.05, 0.2), rate)


def test_adjacent_bad_channels_restore_a_linear_potential_exactly():
    """Two adjacent bad channels on irregular depths are filled by linear interpolation
    in depth (weights by distance, not 1/2), which is exact for a linear potential: the
    CSD stays 0 on every interior channel."""
    depths = np.array([0.0, 20.0, 45.0, 60.0, 70.0, 100.0, 120.0, 150.0])
    phi = 2e-4 + 5.0 * depths * 1e-6
    broken = phi.copy()
    broken[[3, 4]] = [1.0, -1.0]  # dead channels at 60 and 70 um
    result = csd(broken[:, None], depths, bad_channels=[4, 3])
    assert result.interpolated == [60.0, 70.0]
    scale = 0.3 * 5.0 / 20e-6  # a CSD of one potential step over one spacing, A/m^3
    np.testing.assert_allclose(result.csd[1:-1, 0], 0.0, atol=1e-9 * scale)


def test_osd_kcsd1d_is_elephants_kcsd1d_on_channel_index_millimetres():
    """OSD's CSD (current_source_density.ipynb): estimate_csd(..., method="KCSD1D") on
    coordinates range(n) * mm, whatever the real depths; the replica must be that call."""
    import quantities as pq
    from elephant.current_source_density import estimate_csd
    from neo import AnalogSignal

    from databook import csd as csd_module

    rng = np.random.default_rng(3)
    z = np.arange(8.0)
    lfp = np.exp(-((z[:, None] - 3.5) ** 2) / 2) * np.sin(np.linspace(0, 3, 12))[None, :]
    lfp = 1e-4 * (lfp + 0.01 * rng.standard_normal(lfp.shape))  # volts
    got, positions = csd_module.osd_kcsd1d(lfp, 500.0)
    signal = AnalogSignal(lfp.T * 1e6, units="uV", sampling_rate=500.0 * pq.Hz)
    signal.annotate(coordinates=[(i,) for i in range(8)] * pq.mm)
    want = estimate_csd(signal, method="KCSD1D")
    assert got.shape == (len(positions), 12)
    np.testing.assert_allclose(got, np.asarray(want).T)
    # one millimetre per channel: the estimation points span the channel indices
    assert positions.min() == pytest.approx(0.0) and positions.max() == pytest.approx(7.0)
    with pytest.raises(ValueError, match="lfp_v"):
        csd_module.osd_kcsd1d(lfp[:2], 500.0)
