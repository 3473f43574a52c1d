"""Chapter 8 (the same cells across days): its numbers, recomputed another way.

The chapter's code cells run once, in-process, into a namespace; each test compares the
values the prose states (``{eval}`` of those variables) with the planted truth in
``ground_truth.json``, with direct h5py reads of the demo files, or with an independent
computation, so a number the chapter states cannot drift without a test failing.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
from chapter_cells import code_cells, run_chapter

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "chapters" / "08-cells-across-days.md"
# The demo's figures; the real-data one (fig_cellmatch_real) is tests/test_cellmatch_real.py's.
FIGURES = sorted(
    p
    for p in (ROOT / "figures_src").glob("fig_cellmatch_*.py")
    if 'DATA = "dandi"' not in p.read_text(encoding="utf-8")
)
SEG = "processing/ophys/ImageSegmentation/PlaneSegmentation"


@pytest.fixture(scope="module")
def ch(demo) -> dict:
    """The chapter's variables after running all its code cells."""
    return run_chapter(CHAPTER)


def read_day(path):
    with h5py.File(path, "r") as f:
        return f[f"{SEG}/image_mask"][()], f[f"{SEG}/cell_id"][()]


def centroids(masks: np.ndarray, threshold: float = 0.3) -> np.ndarray:
    """Weighted centroids (y, x) of the pixels at or above threshold of each peak."""
    out = []
    for m in masks:
        w = np.where(m >= threshold * m.max(), m, 0.0)
        y, x = np.indices(m.shape)
        out.append([(w * y).sum() / w.sum(), (w * x).sum() / w.sum()])
    return np.array(out)


def planted_map(truth: dict, yx: np.ndarray) -> np.ndarray:
    t = truth["ophys"]["day1_to_day2"]
    a = np.deg2rad(t["angle_deg"])
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    c = np.array(t["center_yx_px"])
    return (yx - c) @ rot.T + c + np.array(t["shift_yx_px"])


def test_registration_sends_cells_where_the_planted_transform_does(ch, demo):
    masks1, _ = read_day(demo.paths["demo-ophys-day1"])
    cen = centroids(masks1.astype(float))
    error = np.hypot(
        *(ch["result"].transform.apply_to_points(cen) - planted_map(demo.truth, cen)).T
    )
    assert error.max() < 0.25
    np.testing.assert_allclose(ch["error_px"], error, atol=1e-6)
    planted = demo.truth["ophys"]["day1_to_day2"]
    assert ch["transform"].angle == pytest.approx(planted["angle_deg"], abs=0.05)
    assert ch["quality"].ok and ch["quality"].correlation > 0.5


def test_pairs_lost_and_new_cells_are_the_planted_ones(ch, demo):
    _, id1 = read_day(demo.paths["demo-ophys-day1"])
    _, id2 = read_day(demo.paths["demo-ophys-day2"])
    truth = demo.truth["ophys"]
    true_pairs = {(i, j) for i, j in truth["matches_day1_day2"]}
    assert all(id1[i] == id2[j] for i, j in true_pairs)  # the truth file agrees with the NWB
    assert ch["found_pairs"] == true_pairs and ch["n_matched"] == len(true_pairs)
    assert set(id1[ch["lost"]].tolist()) == set(truth["lost_cells"])
    assert set(id2[ch["new"]].tolist()) == set(truth["new_cells"])
    assert ch["lost_recovered"] and ch["new_recovered"]
    assert len(ch["lost"]) == len(truth["lost_cells"]) and len(ch["new"]) == len(truth["new_cells"])


def test_thresholds_sit_in_the_gap_between_matched_and_other_neighbours(ch):
    gap = ch["gap"]
    assert gap.loc["matched", "IoU min"] > ch["min_iou"] > gap.loc["other neighbours", "IoU max"]
    assert (
        gap.loc["matched", "distance max (px)"]
        < ch["max_distance"]
        < gap.loc["other neighbours", "distance min (px)"]
    )
    # The overlaps shown are the ones matching used.
    nb, result = ch["neighbours"], ch["result"]
    lookup = dict(zip(map(tuple, nb.pairs.tolist()), nb.iou, strict=True))
    np.testing.assert_allclose([lookup[tuple(p)] for p in result.pairs.tolist()], result.scores)
    assert gap.loc["matched", "pairs"] == len(result.pairs)


def test_tracks_recover_the_planted_track_lengths(ch):
    sessions, tracks = ch["sessions"], ch["tracks"]
    # Truth from the planted identities, counted another way: each cell's sessions.
    per_cell: dict[int, int] = {}
    for ids in sessions.cell_ids:
        for c in ids.tolist():
            per_cell[c] = per_cell.get(c, 0) + 1
    truth = np.bincount(list(per_cell.values()), minlength=len(sessions.cell_ids) + 1)[1:]
    np.testing.assert_array_equal(ch["true_length"], truth)
    np.testing.assert_array_equal(ch["found_length"], truth)
    assert ch["pure"] == len(tracks) == len(per_cell)
    assert ch["found_length"][-1] == sessions.n_in_all() > 0
    assert max(ch["track_errors"]) < 1.0


def test_figure_sessions_are_the_chapter_sessions(ch):
    from databook.figures import FigureScript

    script = FigureScript.read(ROOT / "figures_src" / "fig_cellmatch_tracks.py")
    values = script.parameters
    assert values["drift"] == ch["drift"] and values["drift_seed"] == ch["drift_seed"]
    assert script.demo_only  # planted sessions: not drawn for a reader's file


def test_matching_without_registration_loses_most_pairs_and_warns(ch, demo):
    truth = {(i, j) for i, j in demo.truth["ophys"]["matches_day1_day2"]}
    found = ch["unregistered_pairs"] & truth
    assert len(found) < 0.3 * len(truth)
    assert "matched fraction" in ch["unregistered_warning"]
    assert ch["unregistered"].quality.matched_fraction == pytest.approx(
        len(ch["unregistered_pairs"]) / min(len(ch["masks1"]), len(ch["masks2"]))
    )


def test_a_registration_outside_its_range_is_flagged_and_a_wider_search_fixes_it(ch, demo):
    bad, wide = ch["bad"], ch["wide"]
    assert not bad.quality.ok and "registration quality is low" in ch["bad_warning"]
    assert f"{bad.quality.correlation:.2f}" in ch["bad_warning"]
    assert len(ch["blind"].pairs) < 0.2 * len(demo.truth["ophys"]["matches_day1_day2"])
    planted = demo.truth["ophys"]["day1_to_day2"]["angle_deg"]
    assert wide.quality.ok
    assert wide.angle == pytest.approx(ch["bad_angle"] + planted, abs=0.2)


def test_the_real_data_cell_does_nothing_without_real_data(ch, monkeypatch):
    """The demo build and `databook run 08` never read the real-data figure's JSON (its
    prose, checked in tests/test_cellmatch_real.py, is dropped by the real-data plugin)."""
    cell = next(s for s in code_cells(CHAPTER) if "fig_cellmatch_real.json" in s)
    assert ":tags: [real-data]" in CHAPTER.read_text(encoding="utf-8")
    monkeypatch.setenv("DATABOOK_DATA", "demo")
    monkeypatch.setenv("DATABOOK_ROOT", "/nonexistent")  # reading a project would fail
    namespace = {**ch}
    exec(compile(cell, "real-data-cell", "exec"), namespace)
    assert namespace["cellreg"] is None


@pytest.mark.parametrize("script", FIGURES, ids=[f.stem for f in FIGURES])
def test_figure_scripts_run_alone(script, tmp_path, demo):
    env = {**os.environ, "MPLBACKEND": "Agg", "DATABOOK_FIGURE_DIR": str(tmp_path)}
    env["PYTHONPATH"] = str(ROOT / "src")
    proc = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (tmp_path / f"{script.stem}.png").stat().st_size > 10_000


def test_weak_mean_images_fail_alone_and_the_footprints_recover_them(ch):
    """The pitfall is real (registered on the images alone the field is off and the
    pairs are lost) and the chapter's claim holds (images and footprints: within a
    pixel, >= 95 % of the planted pairs, <= 5 % wrong); the images correlate ~0.1 at
    the planted transform, as the text says real pairs can."""
    from databook.cellmatch import _correlation, _normalise

    table, truth = ch["faint_table"], ch["faint_truth"]
    print("\n" + table.to_string())
    alone, both = table["images only"], table["images and footprints"]
    assert alone["mean error (px)"] > 5.0 and alone["true pairs"] < 0.2 * len(truth)
    assert alone["flags"] >= 1
    assert both["mean error (px)"] < 1.0 and both["true pairs"] >= 0.95 * len(truth)
    assert both["pairs"] - both["true pairs"] <= 0.05 * both["pairs"]
    s, (i, j) = ch["sessions"], ch["faint_pair"]
    c = np.asarray(s.center)
    m = s.matrices[j] @ np.linalg.inv(s.matrices[i])
    offset = s.between(i, j, c[None])[0] - m @ c
    a, b = (_normalise(im) for im in ch["faint"])
    assert 0.05 <= _correlation(a, b, m, offset, 1) <= 0.15
    # Every {eval} of the section evaluates, and the rotation it quotes is the planted one.
    text = CHAPTER.read_text(encoding="utf-8")
    section = text[text.index("### Mean images that share little texture") :]
    section = section[: section.index("\n## ")]
    values = [eval(e, dict(ch)) for e in re.findall(r"\{eval\}`([^`]+)`", section)]
    assert len(values) == 9
    assert float(values[-1]) == pytest.approx(both["rotation (deg)"], abs=0.5)
