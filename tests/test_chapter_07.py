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
    assert ns["bad"] == np.flatnonzero(~valid.astype(bool)[lfp_rows]).tolist() == [48]
    assert ns["result"].interpolated == [1940.0]  # the map's "interpolated" label
    # Lazy: the windows are a small fraction of the LFP, and so was the memory used.
    assert ns["windows_mb"] == pytest.approx(60 * 175 * 96 * 8 / 1e6)
    assert ns["full_mb"] == pytest.approx(shape[0] * shape[1] * 8 / 1e6)
    assert ns["read_peak_mb"] < 0.5 * ns["full_mb"]


def test_planted_sink_and_source_recovered(ns):
    planted, sink, source = ns["planted"], ns["sink"], ns["source"]
    assert abs(sink.depth_um - planted["sink_depth_um"]) < 5  # text: "within a few um"
    assert abs(source.depth_um - planted["source_depth_um"]) < 5
    amp = planted["amplitude_a_per_m3"]
    assert sink.value < 0 < source.value  # sinks negative
    # "1 and 2 % low": a few per cent of bias, never more
    assert 0 <= 1 - abs(sink.value) / amp < 0.04
    assert 0 <= 1 - source.value / amp < 0.04
    assert round(abs(1e3 * planted["peak_after_onset_s"] - ns["sink_time_ms"])) <= 2
    table = ns["validation"]
    assert table.loc["sink depth (um)", "error"] == pytest.approx(sink.depth_um - 2250.0)


def test_smoothing_numbers(ns):
    s = ns["smoothing"]
    sink, noise = s.iloc[:, 0].to_numpy(), s.iloc[:, 1].to_numpy()
    # More smoothing: a weaker sink and less noise, monotonically
    assert np.all(np.diff(sink) > 0) and np.all(np.diff(noise) < 0)
    assert 100 < noise[0] < 130 and noise[2] < 25  # "115" and "19" A/m^3
    assert -1650 < s.loc[40.0].iloc[0] < -1550 and -1200 < s.loc[80.0].iloc[0] < -1050


def test_vaknin_edge_numbers(ns):
    assert np.isnan(ns["edge"][False])  # standard: undefined at the edge
    assert ns["edge"][True] > 1.5 * ns["edge_planted"]  # the padded value overshoots
    assert ns["edge_planted"] == pytest.approx(1601, abs=1)
    assert np.all(np.abs(ns["full_edges"]) < 115)  # "within the noise of zero"


def test_irregular_spacing_numbers(ns):
    t, planted = ns["irregular"], ns["planted"]
    real, index, interp = (
        t.loc["dropped, real depths"],
        t.loc["dropped, channel index"],
        t.loc["interpolated across"],
    )
    # Real depths: sink in the right place (within a pitch), not stronger than planted.
    assert abs(real["sink (um)"] - planted["sink_depth_um"]) < 20
    assert -planted["amplitude_a_per_m3"] < real["sink (A/m^3)"] < 0
    assert interp["sink (A/m^3)"] < -1.2 * planted["amplitude_a_per_m3"]
    # Channel index: a sink several-fold too strong, and a source where the sink is.
    assert abs(index["sink (A/m^3)"]) > 4 * planted["amplitude_a_per_m3"]
    assert abs(index["source (um)"] - planted["sink_depth_um"]) < 30
    assert index["source (A/m^3)"] > 2 * planted["amplitude_a_per_m3"]
    assert ns["spans"].set_index("area").loc["VISp", "high_um"] == 2790.0


def test_osd_kcsd1d_replica_numbers(ns):
    """OSD's CSD run as OSD runs it (elephant KCSD1D, coordinates range(n) mm): on the
    demo, with the channel missing, its extremes at the peak sit at the two ends of the
    probe, negative below a crossing and positive above, as the chapter says."""
    row = ns["irregular"].loc["OSD: elephant KCSD1D, 1 mm per channel"]
    by_index, kept, mm = ns["by_index"], ns["kept"], ns["osd_mm"]
    assert mm.min() == pytest.approx(0.0) and mm.max() == pytest.approx(kept.sum() - 1)
    ends = {by_index.min(), by_index.max()}
    assert {row["sink (um)"], row["source (um)"]} == ends
    assert ns["osd_split"] and by_index.min() < ns["osd_cross_um"] < by_index.max()
    profile = ns["osd_density"][:, ns["peak"]]
    assert row["sink (A/m^3)"] == pytest.approx(1e3 * profile.min())
    assert row["source (A/m^3)"] == pytest.approx(1e3 * profile.max())
