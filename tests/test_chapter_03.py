"""Chapter 3's claims against the demo data: the numbers it states (``{eval}`` in its
prose and the counts typed in its captions) are recomputed here from the NWB file read
directly with h5py and from ``ground_truth.json``, and a test fails when they drift."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import h5py
import numpy as np
import pytest
from chapter_cells import run_chapter

from databook import responses

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "chapters" / "03-twophoton-responses.md"


@pytest.fixture(scope="module")
def chapter(demo):
    """The chapter's code cells run in order in one namespace (as the article does)."""
    return run_chapter(CHAPTER)


@pytest.fixture(scope="module")
def direct(chapter):
    """The session read with h5py, without the databook readers."""
    from databook import assets

    path = assets.local_file(assets.resolve(chapter["asset"]))
    with h5py.File(path, "r") as f:
        series = f["processing/ophys/DfOverF/RoiResponseSeries"]
        dff = series["data"][()].astype(np.float64)
        t = series["timestamps"][()]
        table = f["intervals/grating_presentations"]
        start, stop = table["start_time"][()], table["stop_time"][()]
        direction = table["orientation"][()]
        cell_id = f["processing/ophys/ImageSegmentation/PlaneSegmentation/cell_id"][()]
    truth = json.loads(assets.local_file(assets.resolve(chapter["truth_asset"])).read_text())
    return dict(
        dff=dff, t=t, start=start, stop=stop, direction=direction, cell_id=cell_id,
        truth=truth["ophys"],
    )  # fmt: skip


def test_every_inline_number_evaluates(chapter):
    expressions = re.findall(r"\{eval\}`([^`]+)`", CHAPTER.read_text())
    assert len(expressions) > 30
    for expression in expressions:
        eval(expression, chapter)  # the chapter's own expressions


def test_session_description_matches_the_file(chapter, direct):
    assert chapter["n_cells"] == direct["dff"].shape[1] == 100  # caption: "100 cells"
    assert len(chapter["gratings"]) == direct["start"].size == 96  # captions: "96 trials"
    counts = np.unique(direct["direction"], return_counts=True)[1]
    assert counts.size == 8 and (counts.min(), counts.max()) == (10, 16)  # "10-16 trials each"
    assert np.median(direct["stop"] - direct["start"]) == pytest.approx(2.0)  # "last 2 s"
    assert np.median(np.diff(direct["start"])) == pytest.approx(3.0)  # "3 s apart"
    assert 1 / np.median(np.diff(direct["t"])) == pytest.approx(30.0, abs=0.1)  # "30 Hz"
    # "Each response starts about 0.2 s after onset and stops with the grating."
    assert direct["truth"]["responders"]["window_after_onset_s"] == [0.2, 2.0]
    # The prose states the criterion with these values.
    assert chapter["response_window"] == (0.0, 2.0)
    assert chapter["baseline_window"] == (-0.5, 0.0)
    assert (chapter["fdr"], chapter["min_amplitude"]) == (0.05, 0.05)


def test_figure_scripts_use_the_chapter_parameters(chapter):
    for script in sorted((ROOT / "figures_src").glob("fig_ophys_*.py")):
        text = script.read_text()
        for name in ("RESPONSE_WINDOW", "BASELINE_WINDOW", "TRACE_WINDOW", "RUNNING_THRESHOLD"):
            found = re.search(rf"^{name} = (.+?)(?:  #.*)?$", text, re.MULTILINE)
            if found:
                value = ast.literal_eval(found.group(1))
                assert value == chapter[name.lower()], (script.name, name)


def test_responsive_cells_are_the_planted_responders(chapter, direct):
    planted = np.isin(direct["cell_id"], direct["truth"]["responders"]["cell_ids"])
    assert np.array_equal(chapter["result"].responsive, planted)
    assert (chapter["hits"], chapter["misses"], chapter["false_alarms"]) == (planted.sum(), 0, 0)
    assert chapter["fraction_responsive"] == pytest.approx(planted.mean())
    assert chapter["null_fraction"] <= 0.1  # "against the 5 % a valid test gives"
    # No suppression is planted: the stated suppressed calls are all false, here none.
    assert chapter["false_suppressed"] == chapter["n_suppressed"] == 0
    assert chapter["n_excited"] == planted.sum()


def test_responsiveness_is_two_sided_wilcoxon_with_bh_over_cells(chapter):
    """The policy, recomputed with scipy from the chapter's per-trial responses."""
    from scipy.stats import false_discovery_control, wilcoxon

    result, per_trial = chapter["result"], chapter["per_trial"]
    p = wilcoxon(per_trial, axis=0, alternative="two-sided", nan_policy="omit").pvalue
    np.testing.assert_allclose(result.p_value, p, rtol=1e-6)
    np.testing.assert_allclose(result.q_value, false_discovery_control(p), rtol=1e-6)
    expected = (result.q_value < chapter["fdr"]) & (np.abs(result.amplitude) >= 0.05)
    np.testing.assert_array_equal(result.responsive, expected)
    # A cell whose dF/F falls is found, with direction -1 (a one-sided test misses it).
    t, dff, onsets = chapter["t"], chapter["dff"].copy(), chapter["onsets"]
    step = np.zeros_like(t)
    for onset in onsets:
        step[(t >= onset + 0.2) & (t < onset + 2.0)] = -0.5
    flipped = np.column_stack([dff[:, :3], step + 0.01 * np.sin(t)])
    down = responses.cell_responses(t, flipped, onsets, fdr=chapter["fdr"],
                                    **chapter["windows"])  # fmt: skip
    assert down.responsive[3] and down.direction[3] == -1


def test_amplitudes_match_a_direct_frame_average(chapter, direct):
    # Nearest-frame windows (no interpolation): mean over [0, 2) s minus mean over
    # [-0.5, 0) s, per trial, averaged over trials.
    t, dff = direct["t"], direct["dff"]
    rel = t[None, :] - direct["start"][:, None]  # trials x frames
    resp = (rel >= 0.0) & (rel < 2.0)
    base = (rel >= -0.5) & (rel < 0.0)
    amplitude = (resp @ dff / resp.sum(1)[:, None] - base @ dff / base.sum(1)[:, None]).mean(0)
    assert chapter["result"].amplitude == pytest.approx(amplitude, abs=0.01)
    on_start, on_stop = direct["truth"]["responders"]["window_after_onset_s"]
    planted = direct["truth"]["responders"]["amplitude_dff"]
    for cell, a in zip(direct["cell_id"], amplitude, strict=True):
        expected = planted.get(str(cell), 0.0) * (on_stop - on_start) / 2.0
        assert a == pytest.approx(expected, abs=0.02)
    assert chapter["amplitude_error"] < 0.02


def test_selectivity_claims(chapter):
    resp, osi, p = chapter["resp"], chapter["osi"], chapter["p_osi"]
    # "The demo plants no tuning ... The responsive cells get it": OSI near 0, none
    # significant; the non-responsive cells' OSI is large and many pass the cutoff.
    assert np.nanmedian(osi[resp]) < 0.05
    assert chapter["n_selective"] == 0
    from scipy.stats import false_discovery_control

    q = false_discovery_control(p[resp])
    assert chapter["n_selective"] == int((q < chapter["selectivity_q"]).sum())
    assert np.nanmedian(osi[~resp]) > 0.3
    assert (osi[~resp] > chapter["osi_cutoff"]).mean() > 0.3
    # "close to the nominal rate" for the shuffle test on untuned cells.
    assert (p[~resp] < chapter["selectivity_q"]).mean() <= 0.15


def test_running_claims(chapter):
    # "The demo plants no effect of running, and none is found."
    assert chapter["gain_ratio"] == pytest.approx(1.0, abs=0.02)
    assert chapter["n_modulated"] == 0
    assert chapter["running_q"].min() > chapter["fdr"]
    # Two-sided Mann-Whitney over trials, BH over the responsive cells (the policy).
    from scipy.stats import false_discovery_control, mannwhitneyu

    resp, per_trial, fast = chapter["resp"], chapter["per_trial"], chapter["fast"]
    p = mannwhitneyu(per_trial[fast][:, resp], per_trial[~fast][:, resp]).pvalue
    np.testing.assert_allclose(chapter["running_q"], false_discovery_control(p), rtol=1e-9)
    # The pitfall: a paired test over cells calls the same difference significant.
    assert chapter["across_cells_p"] < 0.05
    assert chapter["fast"].sum() == (~chapter["fast"]).sum()  # a median split


def test_long_baseline_pitfall_is_a_shrinkage(chapter):
    # "responses come out x % smaller" with the (-1, 0) s baseline.
    assert 0.0 < chapter["shrink"] < 0.05


def test_allensdk_running_claim(chapter):
    """AllenSDK's p_run_dg (drifting_gratings.py at e022d780): Welch t at the preferred
    condition, dx >= 1 cm/s against < 1 cm/s, more than two trials a side. On the demo no
    trial is below 1 cm/s, so it would be NaN for every cell, as the chapter says."""
    import re

    speeds = chapter["trial_speed"]
    assert chapter["speed"].unit == "cm/s" and chapter["allen_running_cm_s"] == 1.0
    assert chapter["n_still_allen"] == int((speeds < 1.0).sum()) <= 2
    text = " ".join(CHAPTER.read_text().split())
    assert re.search(r"Welch's t-test \(`scipy.stats.ttest_ind\(\.\.\., equal_var=False\)`\)", text)
    assert "AllenSDK runs the same per-cell comparison with a Kolmogorov-Smirnov" not in text
