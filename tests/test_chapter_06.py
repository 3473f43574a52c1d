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
    with h5py.File(ns["nwb_path"], "r") as f:
        label = np.array(
            [v.decode() if isinstance(v, bytes) else v for v in f["units/quality"][()]]
        )
    # Units labelled noise are dropped before anything else, and the count is stated.
    assert ns["n_noise"] == int((label == "noise").sum()) > 0
    assert ns["n_units"] == n_units - ns["n_noise"]
    assert ns["pulse_duration"] == pytest.approx(np.median(stop - start))
    # "every 0.5 s baseline is free of the previous pulse's response" (20-40 ms responses)
    assert ns["gap"].min() > ns["baseline"] + 0.04


def test_planted_tagged_found_and_nothing_else(ns):
    kept = ns["units"].index  # the file's ids of the rows of the table
    every = {u["unit"] for u in ns["truth"]["tagged_units"]}
    late = {u["unit"] for u in ns["truth"]["late_excited"]}
    planted = sorted(every & set(kept))
    noise_planted = len(every - set(kept)) + len(late - set(kept))
    assert ns["n_planted_noise"] == noise_planted > 0
    assert sorted(kept[ns["tagged"]].tolist()) == planted  # all found, no false positive
    assert ns["hits"] == ns["n_planted_tagged"] == len(planted)
    assert (ns["false_pos"], ns["late_called"]) == (0, 0)
    assert ns["n_planted_late"] == len(late & set(kept))
    assert ns["n_others"] == len(kept) - len(planted)
    rows = kept.get_indexer(planted)
    salt_q = ns["table"].salt_q.drop(rows)
    assert ns["salt_only_fp"] == int((salt_q < ns["q"]).sum()) == 0
    assert ns["n_pairs"] == 50 * 49 // 2
    assert ns["latency_error_ms"].median() < 0.1
    assert ns["latency_error_ms"].max() < 0.6


def test_latency_jitter_reliability_statements(ns):
    kept = ns["units"].index  # rows of the table are the units not labelled noise
    table = ns["table"]
    truth = [u for u in ns["truth"]["tagged_units"] if u["unit"] in set(kept)]
    ids = kept.get_indexer([u["unit"] for u in truth])  # rows
    planted_latency = np.array([u["latency_s"] for u in truth]) * 1e3
    assert planted_latency.min() <= ns["latency_ms"] <= planted_latency.max()
    # "measured jitter larger than the planted 0.5 ms, reliability larger than planted"
    assert ns["jitter_ms"] > 1e3 * truth[0]["jitter_s"]
    planted_rel = np.array([u["reliability"] for u in truth])
    assert np.mean(table.reliability[ids].to_numpy() - planted_rel) > 0
    assert 0.3 <= ns["reliability_lo"] < ns["reliability_hi"] <= 0.7


def _osd_ks_salt_literal(train, onsets, censor=0.001, shift=0.01):
    """OSD's get_first_spikes_after_onset + ks_salt (optotagging.ipynb at 093cd9f6), as
    written there: a loop over start times, scipy.stats.kstest of the two latency lists."""
    from scipy import stats

    def first_spikes(starts):
        out = []
        for start in starts:
            if start < train.max():
                out.append(train[np.searchsorted(train, start)] - start + censor)
        return np.array(out)

    starts = onsets + censor
    return stats.kstest(first_spikes(starts), first_spikes(starts - shift))[1]


def test_ks_pitfall_runs_osds_test_and_its_numbers(ns):
    spikes, onsets = ns["spikes"], ns["onsets"]
    literal = [_osd_ks_salt_literal(np.asarray(t), onsets) for t in spikes]
    assert np.allclose(ns["ks_p"], literal, rtol=1e-9, atol=1e-15)  # OSD's test, not a guess
    ks = ns["ks_table"]
    assert ns["ks_hits"] == ns["n_planted_tagged"]
    # its first spike has no upper limit: the late-excited units are called too
    assert ns["ks_late"] >= ns["n_planted_late"] - 2 and ns["ks_false"] >= ns["ks_late"]
    # read backwards it picks the non-responsive units: no hit, most of the others
    assert ns["back_hits"] == 0 and ns["back_false"] >= 80
    assert ks.loc["tag_units", "false positives"] == 0
    assert ns["back_hits"] + ns["back_false"] == int((ns["ks_p"] > ns["ks_alpha"]).sum())


def test_validation_figure_panel_b_is_the_chapters_calls(ns):
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "fig_opto_validation", ROOT / "figures_src" / "fig_opto_validation.py"
    )
    fig = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fig)
    calls = list(fig.calls_against_truth(ns["spikes"], ns["onsets"], ns["table"]).values())
    chapter = ns["ks_calls"]
    assert np.array_equal(calls[0], chapter["tag_units"])
    assert np.array_equal(calls[2], chapter["OSD ks_salt, p < alpha"])
    assert np.array_equal(calls[3], chapter["OSD ks_salt, p > alpha (backwards)"])
    assert fig.KS_ALPHA == ns["ks_alpha"] and fig.N_PAIRS == ns["n_pairs"]


def test_salt_p_at_its_floor_is_stated_as_a_bound(ns):
    # 50 baseline windows: 1225 pairs; a count of 0 is "p < 1/1225", never "p = 0"
    assert ns["n_pairs"] == 1225
    assert (ns["table"].salt_p[ns["tagged"]] == 0).all()
    assert ns["tagged_p"] == "p < 1/1225"
    text = CHAPTER.read_text()
    assert "$p = 0$," not in text and "($p = 0$" not in text


def test_no_excess_is_never_locked(ns):
    table = ns["table"]
    assert ns["n_no_excess"] == int((table.locked == 0).sum())
    assert not table.tagged[table.locked == 0].any()


def test_threshold_sensitivity(ns):
    sens = ns["sensitivity"]
    at_default = sens.loc[("min_locked", ns["min_locked"])]
    assert (at_default["hits"], at_default["false positives"]) == (ns["n_planted_tagged"], 0)
    assert at_default["train units tagged"] == 0
    # the stated ranges: rate ratio changes nothing, locking between the two populations
    assert ns["ok_ratios"] == ns["rate_ratios"]
    table, tt = ns["table"], ns["train_table"]
    assert ns["train_locked_max"] == tt.locked.max()
    between = [k for k in ns["locks"] if tt.locked.max() < k <= table.locked[ns["tagged"]].min()]
    assert ns["ok_locks"] == between and ns["min_locked"] in between
    assert ns["leak_lock"] < min(between) and ns["n_leak"] > 0
    assert ns["n_leak"] == int((tt.locked >= ns["leak_lock"]).sum())
    # with any min_locked a train unit reaches, it is tagged (the other four criteria pass)
    assert sens.loc[("min_locked", 0.0), "train units tagged"] == len(ns["late_spikes"])


def test_artefact_pitfall(ns):
    raw, clean = ns["raw"], ns["clean"]
    assert bool(raw.tagged) and raw.salt_p < 0.01 and raw.latency < 0.0005
    assert raw.reliability > 0.8
    assert not bool(clean.tagged) and clean.salt_p > 0.05
    # the offset artefact of the 10 ms pulse lies at 10.0-10.3 ms: outside [0, 10) ms
    assert ns["pulse_duration"] == pytest.approx(ns["window"])
    assert 10.0 - 1e-9 <= ns["offset_ms"].min() and ns["offset_ms"].max() <= 10.3
    assert ns["n_offset_inside"] == 0
    assert f"{ns['offset_ms'].min():.1f}-{ns['offset_ms'].max():.1f}" == "10.0-10.3"


def test_waveform_check_passes_own_spikes_and_rejects_artefacts(ns):
    """Simulated waveforms: every tagged call's evoked spikes are its own (none flagged);
    the artefact unit's are not; a tagged unit with a few artefact events is rejected
    while its r stays above 0.9."""
    onsets, window, artifact = ns["onsets"], ns["window"], ns["artifact"]
    assert sorted(ns["tagged_checks"]) == sorted(ns["tagged"].tolist())
    assert ns["n_flagged"] == 0 and (ns["call_q"] >= ns["q"]).all()
    assert ns["r_calls"].min() > 0.99
    best, spikes = ns["best"], ns["spikes"][ns["best"]]
    # the evoked set counted directly: spikes in [artifact, window) after an onset
    since = spikes[:, None] - onsets[None, :]
    direct = ((since >= artifact) & (since < window)).any(axis=1)
    assert ns["evoked_best"].sum() == direct.sum() > 50
    assert ns["table"].reliability[best] == ns["table"].reliability[ns["tagged"]].max()
    table = ns["waveform_table"]
    floor = "p = 1/1001 (the smallest possible)"
    artefact_row = table.iloc[0]
    assert artefact_row["r"] < 0.3 and artefact_row["p"] == floor
    shares = table.iloc[1:]
    assert list(shares.index) == [
        f"unit {ns['units'].index[best]}, {n} of {direct.sum()} evoked foreign"
        for n in ns["n_foreign"]
    ]
    assert 0 < ns["n_foreign"][0] < ns["n_foreign"][1] < ns["n_foreign"][2]
    r = shares["r"].astype(float).to_numpy()
    assert r[0] > 0.9 and np.all(np.diff(r) < 0)  # more foreign events, lower r
    assert (shares["p"] == floor).all()
    assert (r < shares["shuffled r, 5th percentile"].astype(float)).all()


def test_train_leak_only_locking_stops_it(ns):
    passes = ns["passes"]
    assert passes["SALT p"] == 1.0 and passes["latency"] == 1.0
    assert passes["reliability"] == 1.0 and passes["rate ratio"] == 1.0
    assert passes["locked"] == 0.0 and passes["tagged"] == 0.0
    # the locking threshold separates them from every tagged unit of the session
    assert (
        ns["train_table"].locked.max() < ns["min_locked"] <= ns["table"].locked[ns["tagged"]].min()
    )


def test_salt_is_corrected_by_bh_over_the_session_units(ns):
    """The policy: SALT's count k of baseline pairs becomes (k + 1) / (n_pairs + 1), never
    0, and Benjamini-Hochberg runs over this session's units; tagged needs q < q."""
    from scipy.stats import false_discovery_control

    table, n_pairs = ns["table"], ns["n_pairs"]
    p = (np.rint(table.salt_p * n_pairs) + 1) / (n_pairs + 1)
    assert p.min() > 0
    np.testing.assert_allclose(table.salt_q, false_discovery_control(p), rtol=1e-12)
    assert (table.salt_q[table.tagged] < ns["q"]).all()
