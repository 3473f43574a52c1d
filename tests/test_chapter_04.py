"""Chapter 4 (Neuropixels responses): its numbers against the planted truth and direct
h5py reads, and its analysis functions on real files of other labs.

The chapter's code cells are executed here in one namespace, so the variables its text
states with ``{eval}`` are the ones checked: if a number the chapter states drifts away
from what the demo data say, a test here fails.
"""

from __future__ import annotations

import os
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
from chapter_cells import run_chapter

from databook import align, nwb, responses, unitsummary

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "chapters" / "04-neuropixels-responses.md"


def _real_dir() -> Path | None:
    if os.environ.get("DATABOOK_REAL_DATA"):
        return Path(os.environ["DATABOOK_REAL_DATA"])
    for parent in ROOT.parents:  # ../shared/data/real from the project or a worktree
        if (parent / "shared" / "data" / "real").is_dir():
            return parent / "shared" / "data" / "real"
    return None


# Real 000006 files store spike times out of order: the reader sorts them and warns once.
pytestmark = pytest.mark.filterwarnings("ignore::databook.nwb.SpikeTimesRepairedWarning")
REAL = _real_dir()
SVOBODA = "svoboda-alm_sub-anm00239123_ecephys+ogen.nwb"
SVOBODA_20 = "svoboda-alm_sub-anm369963_ses-20170228.nwb"
RUTISHAUSER = "rutishauser-human-mtl_sub-4_ses-4_ecephys+image.nwb"


def real_file(name: str) -> Path:
    if REAL is None or not (REAL / name).is_file():
        pytest.skip(
            f"real file {name} not found (looked for shared/data/real above {ROOT}); set "
            "DATABOOK_REAL_DATA to the folder holding it"
        )
    return REAL / name


# The chapter, executed -------------------------------------------------------------------
@pytest.fixture(scope="module")
def chapter(demo):
    return run_chapter(CHAPTER)


@pytest.fixture(scope="module")
def direct(demo):
    """What the demo file holds, read with h5py only."""
    with h5py.File(demo.paths["demo-ecephys"], "r") as f:
        u = f["units"]
        metrics = {k: u[k][()] for k in ("isi_violations", "amplitude_cutoff", "presence_ratio")}
        label = np.array([v.decode() if isinstance(v, bytes) else v for v in u["quality"][()]])
        peak = u["peak_channel_id"][()]
        e = f["general/extracellular_ephys/electrodes"]
        loc = dict(zip(e["id"][()], [v.decode() for v in e["location"][()]], strict=True))
        return {
            "n_units": len(u["id"]),
            "n_flashes": len(f["intervals/flashes_presentations/id"]),
            "metrics": metrics,
            "label": label,
            "area": np.array([loc[p] for p in peak]),
            "ids": u["id"][()],
        }


def test_chapter_reads_what_the_file_holds(chapter, direct):
    curated = direct["label"] != "noise"
    assert chapter["n_read"] == direct["n_units"]
    # Units labelled noise are dropped before anything else, and the count is stated.
    assert chapter["n_noise"] == int((~curated).sum()) > 0
    assert chapter["n_units"] == int(curated.sum())
    assert chapter["units"].index.tolist() == direct["ids"][curated].tolist()
    assert chapter["n_flashes"] == direct["n_flashes"]
    assert chapter["table"]["area"].tolist() == direct["area"][curated].tolist()


def test_quality_counts_match_direct_comparisons(chapter, direct):
    curated = direct["label"] != "noise"  # the quality filter sees only these
    m = {k: v[curated] for k, v in direct["metrics"].items()}
    fail = {
        "isi_violations": int((~(m["isi_violations"] < 0.5)).sum()),
        "amplitude_cutoff": int((~(m["amplitude_cutoff"] < 0.1)).sum()),
        "presence_ratio": int((~(m["presence_ratio"] > 0.9)).sum()),
    }
    assert chapter["filters"]["fail"].to_dict() == fail
    both = (m["isi_violations"] < 0.5) & (m["amplitude_cutoff"] < 0.1) & (m["presence_ratio"] > 0.9)
    assert chapter["n_pass"] == int(both.sum())


def test_planted_responders_found_and_nothing_else(chapter, demo, direct):
    noise = set(direct["ids"][direct["label"] == "noise"])
    every = {p["unit"] for p in demo.truth["ecephys"]["flash_responders"]}
    planted = every - noise
    assert chapter["n_planted_noise"] == len(every & noise)
    table = chapter["all_units"]
    assert not set(table.index) & noise
    called = set(table.index[table["responsive"]])
    excited = set(table.index[table["direction"] == 1])
    assert chapter["hits"] == len(planted) == len(excited & planted)
    assert chapter["false_alarms"] == len(called - planted)
    assert not excited - planted  # no false excitation
    # No suppression is planted: every suppressed call is false, and the chapter says
    # how many. BH at q = 0.05 expects about q x (calls) false ones: here 1 of 30.
    suppressed = set(table.index[table["direction"] == -1])
    assert chapter["false_suppressed"] == len(suppressed) == len(called - planted)
    assert chapter["false_alarms"] <= 2 * chapter["q"] * len(called)


def _bh(p):
    from scipy.stats import false_discovery_control

    return false_discovery_control(np.asarray(p, dtype=float), method="bh")


def test_responsiveness_is_two_sided_with_bh_over_the_session_units(chapter):
    # The policy (Methods): one p per unit from the two-sided count test, BH over the
    # quality-passing units of this session, q < the chapter's q.
    table, q = chapter["table"], chapter["q"]
    family = table["passes_quality"].to_numpy()
    expected = _bh(table["p_value"][family])
    np.testing.assert_allclose(table["q_value"][family], expected, rtol=1e-10)
    called = (table["direction"] != 0).to_numpy()
    assert np.array_equal(called, table["responsive"].to_numpy())
    assert not (called & ~family).any()
    assert (expected[called[family]] < q).all()
    assert chapter["n_responsive"] == chapter["n_excited"] + chapter["n_suppressed"]
    assert chapter["n_excited"] == int((table["direction"][family] == 1).sum())
    assert chapter["n_suppressed"] == int((table["direction"][family] == -1).sum())
    # The two-sided p: twice the one-sided scan's Bonferroni (sub-windows x 2 tails).
    spikes = list(chapter["units"]["spike_times"])
    one = responses.unit_responses(
        spikes,
        chapter["onsets"],
        response_window=chapter["response_window"],
        baseline_window=chapter["baseline_window"],
        smooth_tau=chapter["smooth_tau"],
    )
    np.testing.assert_allclose(one.p_value, table["p_value"], rtol=1e-12)


def test_latency_and_gain_recovered(chapter, demo):
    planted = demo.truth["ecephys"]["flash_responders"]
    assert chapter["latency_error_ms"].median() <= 2.0
    assert chapter["latency_error_ms"].max() <= 15.0
    assert chapter["gain_error"].median() <= 0.1
    assert chapter["check"].errors["duration"].abs().median() <= 0.005
    # The stated pitfall: the density peak lies on the 100 ms plateau, far after onset.
    duration_ms = 1e3 * np.median([p["duration_s"] for p in planted])
    assert 0.4 * duration_ms <= chapter["peak_bias_ms"] <= duration_ms + 20


def test_fraction_per_area_is_the_planted_one(chapter, demo, direct):
    planted = [p["unit"] for p in demo.truth["ecephys"]["flash_responders"]]
    areas = chapter["areas"]
    curated = direct["label"] != "noise"
    for area in np.unique(direct["area"]):
        in_area = (direct["area"] == area) & curated
        expected = np.isin(direct["ids"][in_area], planted).mean()  # every unit passes quality
        # Excited units are the planted ones; the fraction adds the (false) suppressed.
        assert areas.loc[area, "n_excited"] / areas.loc[area, "n_units"] == pytest.approx(expected)
        called = areas.loc[area, "n_excited"] + areas.loc[area, "n_suppressed"]
        assert areas.loc[area, "fraction"] == pytest.approx(called / in_area.sum())
    assert chapter["top_area"] == "VISp"
    truth_median = 1e3 * np.median(
        [p["latency_s"] for p in demo.truth["ecephys"]["flash_responders"]]
    )
    assert abs(1e3 * areas.loc["VISp", "median_latency"] - truth_median) <= 3.0
    assert abs(chapter["rho"]) < 0.5  # no laminar order was planted


def test_latency_and_depth_are_reported_as_what_the_test_can_detect(chapter, root):
    relation = chapter["depth_relation"]
    assert relation.n == chapter["n_excited"]
    sentence = chapter["depth_sentence"]
    if relation.p_value >= 0.05:  # absence of evidence: say what n could have detected
        assert (
            sentence.startswith("not detected")
            and f"|rho| >= {relation.detectable:.2f}" in sentence
        )
    text = (root / "chapters" / "04-neuropixels-responses.md").read_text(encoding="utf-8")
    assert "are not related" not in text


def test_five_sd_rule_alone_pitfall_is_real(chapter):
    sd_only = chapter["sd_only"]
    tau = chapter["smooth_tau"]
    assert sd_only[chapter["narrow_tau"]] >= 5 > chapter["false_alarms"]
    assert sd_only[chapter["narrow_tau"]] > sd_only[tau] >= chapter["false_alarms"]


def test_step_fit_on_alpha_responses_is_late_by_more_as_the_rise_slows(chapter):
    """The pitfall's table: the step onset lags the alpha onset more for slower rises; the
    share of spikes after the window is the alpha function's own integral."""
    from scipy.integrate import quad

    table, window = chapter["alpha_table"], chapter["response_window"]
    lag = table["step onset - L (ms)"].to_numpy()
    assert np.all(np.diff(lag) > 0) and lag[0] < 3.0 and lag[-1] > 3 * lag[0]
    assert (table["step duration (ms)"] <= 1e3 * (window[1] - window[0])).all()
    tau, onset = chapter["alpha_tau"], chapter["alpha_latency"]
    spill = [
        quad(lambda x: x * np.exp(1 - x), (window[1] - o) / t, np.inf)[0] / np.e
        for o, t in zip(onset, tau, strict=True)
    ]
    expected = pd.Series(100 * np.array(spill)).groupby(tau * 1e3).median().round(1)
    np.testing.assert_allclose(table["spikes after the window (%)"], expected, atol=0.051)
    assert table["spikes after the window (%)"].iloc[-1] > 10  # the slowest spill


# Real data of other labs ------------------------------------------------------------------
def _direct_counts(spikes, onsets, edges):
    """Counts summed over events, one np.histogram per event on the absolute bin edges
    ``onset + edges``, made half-open like event_counts (np.histogram closes its last bin).

    Relative times ``spike - onset`` would not do: spike and stimulus clocks are
    quantised, so a difference can land exactly on a bin edge and round differently
    from ``onset + edge``.
    """
    total = np.zeros(edges.size - 1, dtype=np.int64)
    for onset in onsets:
        bounds = onset + edges
        total += np.histogram(spikes, bins=bounds)[0]
        total[-1] -= np.count_nonzero(spikes == bounds[-1])
    return total


def _check_counts_and_fraction(path, onsets, response_window, baseline_window):
    units = nwb.units(path)
    spikes = [np.sort(t) for t in units["spike_times"]]  # some files store them unsorted
    edges = np.arange(baseline_window[0], response_window[1] + 1e-9, 0.05)
    counts = align.event_counts(spikes, onsets, edges).sum(axis=1)
    for k, times in enumerate(spikes):
        np.testing.assert_array_equal(counts[k], _direct_counts(times, onsets, edges))
    # unit_responses' evoked rate is the direct count in the response window.
    result = responses.unit_responses(
        spikes, onsets, response_window=response_window, baseline_window=baseline_window
    )
    resp_edges = np.array(response_window)
    direct = np.array([_direct_counts(t, onsets, resp_edges)[0] for t in spikes])
    np.testing.assert_allclose(
        result.evoked_rate, direct / (onsets.size * np.diff(resp_edges)[0]), rtol=1e-12
    )
    table = unitsummary.response_table(
        units, onsets, response_window=response_window, baseline_window=baseline_window
    )
    assert table.index.tolist() == units.index.tolist()  # units named by their file ids
    responsive_ids = table.index[table["responsive"]].tolist()
    areas = unitsummary.by_area(table, quality_only=False)
    assert ((areas["fraction"] >= 0) & (areas["fraction"] <= 1)).all(), areas
    assert areas["n_units"].sum() == len(units)
    assert areas["n_responsive"].sum() == len(responsive_ids)
    excited_ids = table.index[table["direction"] > 0]
    assert np.isfinite(table.loc[excited_ids, "latency"]).all()
    return table, responsive_ids


def _nwb_version(path: Path) -> str:
    with h5py.File(path, "r") as f:
        v = f.attrs["nwb_version"]
    return v.decode() if isinstance(v, bytes) else str(v)


def test_svoboda_alm_units_aligned_to_cue():
    path = real_file(SVOBODA)
    assert _nwb_version(path).startswith("2.1")
    trials = nwb.stimulus_table(path, "trials")
    onsets = trials["cue_start_time"].dropna().to_numpy()
    # Absolute times in this file: every cue falls inside its trial.
    kept = trials.dropna(subset=["cue_start_time"])
    assert (
        (kept["cue_start_time"] >= kept["start_time"])
        & (kept["cue_start_time"] <= kept["stop_time"])
    ).all()
    table, responsive = _check_counts_and_fraction(path, onsets, (0.0, 0.5), (-0.5, 0.0))
    assert len(table) == 4
    print(f"Svoboda ALM: cue-responsive units {responsive} of {table.index.tolist()}")


def test_svoboda_nwb_2_0_trial_times_are_relative_to_trial_start():
    path = real_file(SVOBODA_20)
    assert _nwb_version(path).startswith("2.0")
    trials = nwb.stimulus_table(path, "trials")
    # In this older file the event columns are seconds from trial start, not session time:
    # aligning to them directly would put every "cue" in the first minute of the session.
    assert (trials["pole_in_time"] < trials["start_time"]).all()
    onsets = (trials["start_time"] + trials["pole_in_time"]).to_numpy()
    table, _ = _check_counts_and_fraction(path, onsets, (0.0, 0.5), (-0.5, 0.0))
    assert len(table) == 1
    # This file stores its unit's spike times out of order; response_table says so.
    assert table.attrs["unsorted_units"] == table.index.tolist()


def test_rutishauser_human_units_aligned_to_image_onsets():
    path = real_file(RUTISHAUSER)
    assert _nwb_version(path).startswith("2.4")
    onsets = nwb.stimulus_table(path, "encoding_table")["start_time"].to_numpy()
    assert onsets.size == 90
    table, responsive = _check_counts_and_fraction(path, onsets, (0.0, 1.0), (-0.9, 0.0))
    assert len(table) == 35
    assert set(table["area"]) == {"hippocampus_right", "amygdala_right"}
    print(f"Rutishauser MTL: image-responsive units {responsive} of {len(table)}")
