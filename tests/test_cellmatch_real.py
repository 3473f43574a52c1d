"""Chapter 8's real-data figure on CellReg's five sample sessions held beside the project.

The figure script runs as the article runs it (a subprocess, a data cache seeded from
verified local copies of the pinned files), and its numbers are checked against a
recomputation that reads the MATLAB files with scipy and maps, measures and overlaps the
footprints with numpy alone, from the transforms the script reports: a bug in the
footprint reader, the centroids, the warping of footprints or the nearest-neighbour
distances would show as a mismatch. Skips when ``../shared/data/real/cellreg-sample``
is absent.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.io
from scipy.spatial import cKDTree

from databook import assets
from tests.conftest import ROOT
from tests.real_figures import build, section_values

REAL = ROOT.parent / "shared" / "data" / "real"
KEYS = [f"cellreg-sample-0{k}" for k in range(1, 6)]

pytestmark = pytest.mark.skipif(
    not (REAL / "cellreg-sample").is_dir(),
    reason=f"{REAL / 'cellreg-sample'} (CellReg's sample data) is absent",
)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The script's JSON, its output folder and the verified copies it read."""
    summary, out, paths = build("fig_cellmatch_real", KEYS, [REAL], tmp_path_factory)
    return summary, out, [paths[k] for k in KEYS]


def _footprints(path: Path):
    """Binary footprints (n, H, W) (pixels >= 0.3 of each cell's peak) and weighted
    centroids (n, 2) in (y, x) pixels, from the MATLAB file with scipy and numpy."""
    stack = scipy.io.loadmat(path)["allFiltersMat"].astype(np.float64)
    peak = stack.reshape(len(stack), -1).max(axis=1)[:, None, None]
    weight = np.where((stack > 0) & (stack >= 0.3 * peak), stack, 0.0)
    y, x = np.indices(stack.shape[1:])
    total = weight.sum(axis=(1, 2))
    centroid = np.stack(
        [(weight * y).sum(axis=(1, 2)) / total, (weight * x).sum(axis=(1, 2)) / total], axis=1
    )
    return weight > 0, centroid


@pytest.fixture(scope="module")
def sessions(built):
    return [_footprints(p) for p in built[2]]


def _map(transform: dict, yx: np.ndarray) -> np.ndarray:
    return yx @ np.array(transform["matrix"]).T + np.array(transform["offset"])


def test_the_figure_reads_the_pinned_files(built):
    summary, out, _ = built
    lock = assets.load_lock(ROOT / "assets.lock")
    assert summary["files"] == {k: {"path": lock[k].path, "sha256": lock[k].sha256} for k in KEYS}
    assert summary["commit"] == lock[KEYS[0]].version
    assert {p.name for p in out.iterdir()} >= {"fig_cellmatch_real.png", "fig_cellmatch_real.pdf"}


def test_every_roi_is_in_one_track_and_the_count_is_near_cellregs(built, sessions):
    summary, _, _ = built
    assert summary["rois"] == [len(fp) for fp, _ in sessions]
    lengths = np.array(summary["track_lengths"])
    assert (lengths * np.arange(1, 6)).sum() == sum(summary["rois"])  # each ROI counted once
    assert lengths.sum() == summary["distinct_cells"]
    # CellReg's own probabilistic model on the same files reports 787 distinct cells.
    assert abs(summary["distinct_cells"] - 787) <= 0.02 * 787  # issue 28: within 2 %


def test_nearest_neighbour_distances_match_a_direct_recomputation(built, sessions):
    summary, _, _ = built
    _, ref = sessions[0]
    nearest, second, unmoved = [], [], []
    for k in range(1, 5):
        _, cen = sessions[k]
        d, _ = cKDTree(ref).query(_map(summary["transforms"][str(k + 1)], cen), k=2)
        nearest.append(d[:, 0])
        second.append(d[:, 1])
        unmoved.append(cKDTree(ref).query(cen)[0])
    nearest, second = np.concatenate(nearest), np.concatenate(second)
    assert summary["n_rois_compared"] == nearest.size
    assert summary["nearest_median_px"] == pytest.approx(np.median(nearest), abs=1e-9)
    assert summary["second_median_px"] == pytest.approx(np.median(second), abs=1e-9)
    # Registration is what brings the cells together: sessions 3-5 moved by ~7 px.
    assert np.median(np.concatenate(unmoved)) > 3 * np.median(nearest)


def test_matched_pairs_pass_both_thresholds_recomputed_from_the_footprints(built, sessions):
    summary, _, _ = built
    fp_ref, cen_ref = sessions[0]
    ious = []
    grid = np.stack(np.indices(fp_ref.shape[1:]), axis=-1).reshape(-1, 2).astype(float)
    for k in range(1, 5):
        fp, cen = sessions[k]
        transform = summary["transforms"][str(k + 1)]
        pairs = np.array(summary["pairs"][str(k + 1)])
        assert len(np.unique(pairs[:, 0])) == len(pairs) == len(np.unique(pairs[:, 1]))
        distance = np.hypot(*(_map(transform, cen[pairs[:, 0]]) - cen_ref[pairs[:, 1]]).T)
        assert distance.max() <= summary["max_distance_px"]
        # Each reference pixel takes the footprint of its nearest source pixel.
        inverse = np.linalg.inv(np.array(transform["matrix"]))
        source = np.rint((grid - transform["offset"]) @ inverse.T).astype(int)
        inside = np.all((source >= 0) & (source < fp.shape[1:]), axis=1)
        sy, sx = np.where(inside, source[:, 0], 0), np.where(inside, source[:, 1], 0)
        for a, b in pairs:
            warped = fp[a][sy, sx] & inside
            target = fp_ref[b].ravel()
            inter = np.count_nonzero(warped & target)
            ious.append(inter / (np.count_nonzero(warped) + np.count_nonzero(target) - inter))
    ious = np.array(ious)
    assert ious.min() >= summary["min_iou"]
    assert summary["n_matched_pairs"] == ious.size
    assert summary["matched_iou_median"] == pytest.approx(np.median(ious), abs=1e-9)


def test_every_number_the_chapter_quotes_is_in_the_figures_json(built, tmp_path, monkeypatch):
    """Chapter 8's real-data cell and every ``{eval}`` of its section, against this
    build's JSON."""
    _, out, _ = built
    chapter = ROOT / "chapters" / "08-cells-across-days.md"
    values = section_values(chapter, "fig_cellmatch_real", out, tmp_path, monkeypatch)
    assert values is not None and len(values) > 30
    assert values['cellreg["distinct_cells"]'] == built[0]["distinct_cells"]
