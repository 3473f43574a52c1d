"""Chapter 6 (optotagging): what the chapter states holds on the demo data.

The chapter's code cells are run once (in this process); every claim its prose makes
from them is then checked against the planted truth and against direct reads of the file
(h5py), so a change in the data, the library or the chapter that moves a stated number
fails here.
"""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from chapter_cells import run_chapter

from tests.conftest import ROOT

CHAPTER = ROOT / "chapters" / "06-optotagging.md"


@pytest.fixture(scope="module")
def ns(demo):
    namespace = run_chapter(CHAPTER)
    namespace["truth"] = demo.truth["ecephys"]
    namespace["nwb_path"] = demo.paths["demo-ecephys"]
    return namespace


def test_pulses_as_stated(ns):
    with h5py.File(ns["nwb_path"], "r") as f:
        table = f["processing/optotagging/optogenetic_stimulation"]
        start, stop = table["start_time"][:], table["stop_time"][:]
        n_units = f["units/id"].shape[0]
    assert ns["n_pulses"] == start.size == 200
    assert ns["n_units"] == n_units == 120  # the figure captions say 120 units
    assert ns["pulse_duration"] == pytest.approx(np.median(stop - start))
    # "every 0.5 s baseline is free of the previous pulse's response" (20-40 ms responses)
    assert ns["gap"].min() > ns["baseline"] + 0.04


def test_planted_tagged_found_and_nothing_else(ns):
    planted = sorted(u["unit"] for u in ns["truth"]["tagged_units"])
    assert sorted(ns["tagged"].tolist()) == planted  # all found, no false positive
    assert (ns["hits"], ns["n_planted_tagged"]) == (15, 15)
    assert (ns["false_pos"], ns["late_called"], ns["n_planted_late"]) == (0, 0, 10)
    assert ns["n_others"] == 105  # caption of the validation figure
    assert ns["salt_only_fp"] == int((ns["table"].salt_p.drop(planted) < 0.01).sum()) == 0
    assert ns["n_pairs"] == 50 * 49 // 2
    assert ns["latency_error_ms"].median() < 0.1
    assert ns["latency_error_ms"].max() < 0.6


def test_latency_jitter_reliability_statements(ns):
    table, truth = ns["table"], ns["truth"]["tagged_units"]
    ids = [u["unit"] for u in truth]
    planted_latency = np.array([u["latency_s"] for u in truth]) * 1e3
    assert planted_latency.min() <= ns["latency_ms"] <= planted_latency.max()
    # "measured jitter larger than the planted 0.5 ms, reliability larger than planted"
    assert ns["jitter_ms"] > 1e3 * truth[0]["jitter_s"]
    planted_rel = np.array([u["reliability"] for u in truth])
    assert np.mean(table.reliability[ids].to_numpy() - planted_rel) > 0
    assert 0.3 <= ns["reliability_lo"] < ns["reliability_hi"] <= 0.7


def test_ks_pitfall_numbers(ns):
    ks = ns["ks_table"]
    assert ns["ks_hits"] >= 13 and ns["ks_late"] == ns["n_planted_late"]  # late ones called
    assert ns["ks_false"] >= ns["ks_late"]
    # read backwards it picks the non-responsive units: few hits, most of the others
    assert ns["back_hits"] <= 2 and ns["back_false"] >= 80
    assert ks.loc["tag_units", "false positives"] == 0
    assert ns["back_hits"] + ns["back_false"] == int((ns["ks_p"] > ns["ks_alpha"]).sum())


def test_artefact_pitfall(ns):
    raw, clean = ns["raw"], ns["clean"]
    assert bool(raw.tagged) and raw.salt_p < 0.01 and raw.latency < 0.0005
    assert raw.reliability > 0.8
    assert not bool(clean.tagged) and clean.salt_p > 0.05


def test_train_leak_only_locking_stops_it(ns):
    passes = ns["passes"]
    assert passes["SALT p"] == 1.0 and passes["latency"] == 1.0
    assert passes["reliability"] == 1.0 and passes["rate ratio"] == 1.0
    assert passes["locked"] == 0.0 and passes["tagged"] == 0.0
    # the locking threshold separates them from every tagged unit of the session
    assert (
        ns["train_table"].locked.max() < ns["min_locked"] <= ns["table"].locked[ns["tagged"]].min()
    )
