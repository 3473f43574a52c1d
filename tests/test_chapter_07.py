"""Chapter 7 (current source density): what the chapter states holds on the demo data.

The chapter's code cells run once (in this process); each number its prose states is
then checked against the planted truth and against direct reads of the file (h5py), so a
change in the data, the library or the chapter that moves a stated number fails here.
"""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from chapter_cells import run_chapter

from tests.conftest import ROOT

CHAPTER = ROOT / "chapters" / "07-current-source-density.md"


@pytest.fixture(scope="module")
def ns(demo):
    namespace = run_chapter(CHAPTER)
    namespace["planted"] = demo.truth["ecephys"]["csd"]
    namespace["nwb_path"] = demo.paths["demo-ecephys"]
    return namespace


def test_what_was_read_is_as_stated(ns):
    with h5py.File(ns["nwb_path"], "r") as f:
        data = f["processing/ecephys/LFP/probe_A_lfp/data"]
        shape = data.shape
        flashes = f["intervals/flashes_presentations/start_time"][()]
        valid = f["general/extracellular_ephys/electrodes/valid_data"][()]
    assert ns["lfp_shape"] == shape == (61000, 96)
    assert ns["onsets"].size == flashes.size == 60
    assert ns["pitch_um"] == 40.0
    lfp_rows = np.asarray(ns["planted"]["lfp_channels"])
    assert ns["flagged"] == np.flatnonzero(~valid.astype(bool)[lfp_rows]).tolist() == [48]
    assert ns["bad"] == [48, 54, 65]
    assert ns["result"].interpolated == [1940.0, 2180.0, 2620.0]  # the map's labels
    # Lazy: the windows are a small fraction of the LFP, and so was the memory used.
    assert ns["windows_mb"] == pytest.approx(60 * 175 * 96 * 8 / 1e6)
    assert ns["full_mb"] == pytest.approx(shape[0] * shape[1] * 8 / 1e6)
    assert ns["read_peak_mb"] < 0.5 * ns["full_mb"]


def test_the_unflagged_dead_and_noisy_channels_are_found(ns):
    planted, outliers = ns["planted"]["unflagged_bad_channels"], ns["outliers"]
    assert outliers.flat == planted["dead"] and outliers.noisy == planted["noisy"]
    # the sentence's "times the median noise", recomputed from the windows
    base = ns["windows"][:, ns["times"] < 0, :]
    noise = np.sqrt(((base - base.mean(axis=1, keepdims=True)) ** 2).mean(axis=(0, 1)))
    typical = np.median(np.delete(noise, ns["flagged"]))
    assert noise[planted["noisy"][0]] / typical == pytest.approx(15, rel=0.15)
    assert noise[planted["dead"][0]] / typical < 0.5
    assert "2180 µm (flat" in ns["outlier_sentence"] and "2620 µm (noisy" in ns["outlier_sentence"]


def test_the_earliest_sink_is_layer_4_and_the_sequence_is_recovered(ns):
    planted, first = ns["planted"], ns["first_sink"]
    l4 = next(p for p in planted["components"] if p["name"] == "L4")
    low, high = planted["layers_um"]["L4"]
    assert low < first.depth_um < high and abs(first.depth_um - l4["sinks_um"][0]) < 10
    assert 0 <= first.onset - l4["latency_s"] <= 0.004
    assert first.peak_s == pytest.approx(l4["peak_after_onset_s"], abs=0.0021)
    table = ns["validation"]
    depth_error = table["recovered depth (um)"] - table["planted depth (um)"]
    onset_error = table["recovered onset (ms)"] - table["planted onset (ms)"]
    assert depth_error.abs().max() < 10 and onset_error.between(0, 4).all()
    assert list(table.sort_values("recovered onset (ms)").index) == ["L4", "L2/3", "L5"]
    # recovered / planted amplitude, which the prose gives as a range of per cent
    ratio = table["recovered CSD (A/m^3)"] / table["planted CSD (A/m^3)"]
    assert 0.85 < ratio.min() < 1.0 < ratio.max() < 1.3
    assert ns["planted_sink_um"] == 2375.0 and ns["planted_source_um"] == 2505.0


def test_smoothing_numbers(ns):
    s = ns["smoothing"]
    sink, noise = s.iloc[:, 0].to_numpy(), s.iloc[:, 1].to_numpy()
    # More smoothing: a weaker sink and less noise, monotonically
    assert np.all(np.diff(sink) > 0) and np.all(np.diff(noise) < 0)
    assert 100 < noise[0] < 130 and noise[2] < 25


def test_vaknin_edge_numbers(ns):
    assert np.isnan(ns["edge"][False])  # standard: undefined at the edge
    assert ns["edge"][True] > 1.2 * ns["edge_planted"] > 0  # the padded value overshoots
    assert np.all(np.abs(ns["full_edges"]) < 115)  # "within the noise of zero"


def test_irregular_spacing_numbers(ns):
    t = ns["irregular"]
    real, index, interp = (
        t.loc["dropped, real depths"],
        t.loc["dropped, channel index"],
        t.loc["interpolated across"],
    )
    sink_value = ns["planted_sink_value"]
    # Real depths: sink in the right place (within a few um), not stronger than planted.
    assert abs(real["sink (um)"] - ns["planted_sink_um"]) < 10
    assert sink_value < real["sink (A/m^3)"] < 0
    # Interpolation: a source next to the gap stronger than planted there
    assert interp["source (A/m^3)"] > 1.05 * ns["planted_at"]["interp source"] > 0
    # Channel index: a sink much too strong where the planted CSD is a source
    assert abs(index["sink (A/m^3)"]) > 1.5 * abs(sink_value)
    assert ns["planted_at"]["index sink"] > 0
    assert ns["spans"].set_index("area").loc["VISp", "high_um"] == 2790.0


def test_osd_kcsd1d_replica_numbers(ns):
    """OSD's CSD run as OSD runs it (elephant KCSD1D, coordinates range(n) mm): on the
    demo, with the channel missing, its profile is noise-like (many sign changes) and a
    small fraction of the planted sink, as the chapter says."""
    row = ns["irregular"].loc["OSD: elephant KCSD1D, 1 mm per channel"]
    kept, mm = ns["kept"], ns["osd_mm"]
    assert mm.min() == pytest.approx(0.0) and mm.max() == pytest.approx(kept.sum() - 1)
    profile = ns["osd_density"][:, ns["peak"]]
    assert row["sink (A/m^3)"] == pytest.approx(1e3 * profile.min())
    assert row["source (A/m^3)"] == pytest.approx(1e3 * profile.max())
    assert ns["osd_sign_changes"] == np.count_nonzero(np.diff(np.sign(profile))) > 10
    assert ns["osd_ratio"] < 0.1


def test_three_estimators_compared_as_the_text_says(ns):
    """Errors in % of the planted layer-4 sink: on the planted potential the inverse
    methods are exact and the second difference is not; the spline fails with a gap;
    the recorded data's interpolated channels hurt the spline most; kCSD is best in
    most conditions. Recomputed here for the second difference from the library."""
    from databook import csd

    c = ns["comparison"]
    ideal, recorded, noisy, _edge, gap = c.index
    assert c.loc[ideal, "spline iCSD"] < 0.5 and c.loc[ideal, "kCSD"] < 0.5
    assert c.loc[ideal, "second difference"] > 1.0
    assert c.loc[gap, "spline iCSD"] > 50
    assert c.loc[gap, ["second difference", "kCSD"]].max() < 15
    assert (
        c.loc[recorded, "spline iCSD"]
        > c.loc[recorded, "second difference"]
        > c.loc[recorded, "kCSD"]
    )
    assert (c.loc[noisy] > c.loc[recorded]).all()  # "raises every error"
    assert (c.idxmin(axis=1) == "kCSD").sum() == int(ns["best"].eq("kCSD").sum()) >= 4
    # the second difference's error on the recorded data, independently, and where it is
    model, times, depths, cortex = ns["model"], ns["times"], ns["depths"], ns["cortex"]
    scored = (times >= 0) & (times <= 0.15)
    filled = csd.interpolate_channels(ns["lfp_mean"], depths, ns["bad"])
    value, points = csd.csd(filled[cortex][:, scored], depths[cortex], 0.3)
    error = value - model.csd(points, times[scored]).T
    overall = 100 * np.sqrt(np.nanmean(error**2)) / abs(ns["planted_sink_value"])
    assert overall == pytest.approx(c.loc[recorded, "second difference"])
    defined = np.isfinite(error).all(axis=1)  # not the two outermost channels
    worst = points[defined][np.argmax(np.sqrt(np.mean(error[defined] ** 2, axis=1)))]
    assert np.min(np.abs(worst - np.array(ns["result"].interpolated))) <= 40
