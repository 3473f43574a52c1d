"""The Methods chapter's account of the demo: the planted values are the generator's, and
each feature it says the demo lacks is still absent (a generator change that adds one
turns this red until ``databook.demo.planted.ABSENT`` says so)."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from databook import nwb
from databook.demo import planted


@pytest.fixture(scope="module")
def table(demo):
    with nwb.source(str(demo.paths["demo-ecephys"])) as f:
        units = nwb.units(f)
    return planted.planted(demo.truth, units).set_index("planted")


def test_counts_and_ranges_are_those_of_the_truth_and_the_file(table, demo):
    e = demo.truth["ecephys"]
    kinds = e["unit_kinds"]
    assert table.loc["flash responders", "n"] == kinds.count("flash") == len(e["flash_responders"])
    assert table.loc["untuned units", "n"] == kinds.count("null")
    latencies = [u["latency_s"] for u in e["flash_responders"]]
    low, high = min(latencies) * 1e3, max(latencies) * 1e3
    assert f"latency {low:.3g} to {high:.3g} ms" in table.loc["flash responders", "values"]
    with h5py.File(demo.paths["demo-ecephys"], "r") as f:
        labels = [v.decode() if isinstance(v, bytes) else v for v in f["units/quality"][()]]
    assert table.loc["curation label 'noise'", "n"] == labels.count("noise") > 0
    o = demo.truth["ophys"]
    assert table.loc["cells on day 1 and day 2", "n"] == len(o["matches_day1_day2"])
    assert f"{len(o['lost_cells'])} lost" in table.loc["cells on day 1 and day 2", "values"]


def test_what_the_methods_say_is_absent_is_absent(demo, table):
    e, o = demo.truth["ecephys"], demo.truth["ophys"]
    # step responses of one duration, all ending inside the 250 ms window
    assert {u["duration_s"] for u in e["flash_responders"]} == {0.1}
    assert max(u["latency_s"] + u["duration_s"] for u in e["flash_responders"]) <= 0.25
    # receptive-field responses end before the next Gabor (0.25 s apart)
    assert max(u["latency_s"] + u["duration_s"] for u in e["rf_units"]) < 0.25
    # no suppression
    gains = [u["gain_hz"] for u in e["flash_responders"] + e["late_excited"]]
    assert min(gains) > 0 and min(u["peak_hz"] for u in e["rf_units"]) > 0
    # one jitter for every tagged unit
    assert len({u["jitter_s"] for u in e["tagged_units"]}) == 1
    # nearly every unit inside the Siegle et al. (2021) thresholds
    with nwb.source(str(demo.paths["demo-ecephys"])) as f:
        units = nwb.units(f)
    inside = (
        (units["isi_violations"] < 0.5)
        & (units["amplitude_cutoff"] < 0.1)
        & (units["presence_ratio"] > 0.9)
    )
    assert inside.mean() >= 0.95
    # one response amplitude per cell whatever the grating, in one window
    assert o["responders"]["window_after_onset_s"] == [0.2, 2.0]
    # dF/F only: no raw fluorescence or neuropil traces in the two-photon file
    with h5py.File(demo.paths["demo-ophys-day1"], "r") as f:
        types = set()
        f.visititems(lambda _, obj: types.add(obj.attrs.get("neurodata_type", "")))
    assert "DfOverF" in types and "Fluorescence" not in types
    # cells at least 11 px apart on day 1 (ROI centroids)
    with nwb.source(str(demo.paths["demo-ophys-day1"])) as f:
        masks = nwb.rois(f).dense()
    yy, xx = np.indices(masks.shape[1:])
    weight = masks.sum(axis=(1, 2))
    centres = np.stack(
        [(masks * yy).sum(axis=(1, 2)) / weight, (masks * xx).sum(axis=(1, 2)) / weight], axis=1
    )
    gaps = np.hypot(*(centres[:, None, :] - centres[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(gaps, np.inf)
    assert gaps.min() > 10.5  # centroids of clipped masks move a little from the centres
    assert set(planted.ABSENT) == set(table["file"])
