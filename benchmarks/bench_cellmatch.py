"""Cell matching time: six sessions (register + match_many), and two sessions at growing N.

Headline: six planted sessions of one tissue, ~300 ROIs each on a 512 x 447 field, each
seen through its own affine transform (rotation up to +/-12 deg, shifts up to +/-40 px,
zoom 0.95-1.05 per axis, shear up to +/-0.02), masks stored sparse (as NWB pixel masks).
``match_many`` registers and matches them from the footprints alone, again with the
mean images, and again with mean images that share little texture between sessions
(correlation ~0.1 at the true transform, as issue 28's real pairs). Prints the time
(best of 3), full-length tracks found vs planted, and the largest error (px) of each
session's transform at any cell. Target: < 5 s on 2 cores.

Then two sessions at 600 and 3000 ROIs per session (field grown at constant density):
``match`` time, precision and recall, and growth against N log N.

No peer runs here: CellReg is MATLAB and ROICaT needs torch, neither in the lock. The
real-data comparison with CellReg's published run is tests/test_cellmatch.py's
test_real_cellreg_sample_five_sessions.

Run: PYTHONPATH=src .venv/bin/python benchmarks/bench_cellmatch.py
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import best_of

from databook.cellmatch import match, match_many
from databook.demo.ophys import planted_sessions

SHAPE = (512, 447)


def transforms(n: int, rng: np.random.Generator) -> list[dict]:
    return [{}] + [
        dict(
            angle_deg=rng.uniform(-12, 12),
            shift_yx=rng.uniform(-40, 40, 2),
            scale_yx=rng.uniform(0.95, 1.05, 2),
            shear=rng.uniform(-0.02, 0.02),
        )
        for _ in range(n - 1)
    ]


def centroids(masks, shape):
    coo = masks.tocoo()
    y, x = np.divmod(coo.col, shape[1])
    total = np.bincount(coo.row, coo.data, masks.shape[0])
    return np.stack([np.bincount(coo.row, coo.data * v, masks.shape[0]) / total for v in (y, x)], 1)


def weak_images(planted, seed: int) -> list[np.ndarray]:
    """Mean images sharing little texture (issue 28's real pairs correlate 0.07-0.11):
    an independent smooth texture per session (unit SD, 3 px grain) plus twice the
    session's own footprints, plus noise, at an arbitrary gain and offset."""
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed + 100)
    out = []
    for masks in planted.masks:
        texture = gaussian_filter(rng.normal(0.0, 1.0, SHAPE), 3.0)
        cells = np.asarray(masks.sum(axis=0)).reshape(SHAPE)
        noise = 0.3 * rng.normal(0.0, 1.0, SHAPE)
        out.append(100.0 + 20.0 * (texture / texture.std() + 2.0 * cells + noise))
    return out


def six_sessions(seed: int = 0) -> None:
    planted = planted_sessions(transforms(6, np.random.default_rng(seed)), n_cells=450, seed=seed)
    sizes = [m.shape[0] for m in planted.masks]
    cells = centroids(planted.masks[0], SHAPE)
    variants = (
        ("footprints only", None),
        ("with mean images", planted.images),
        ("with weakly correlated mean images", weak_images(planted, seed)),
    )
    for label, images in variants:
        seconds, tracks = best_of(
            lambda im=images: match_many(planted.masks, im, fov_shape=SHAPE), 3
        )
        full = tracks.indices[tracks.n_sessions_seen == 6]
        ids = np.stack([planted.cell_ids[k][full[:, k]] for k in range(6)], axis=1)
        correct = int(np.all(ids == ids[:, :1], axis=1).sum())
        ref = planted.between(0, tracks.reference, cells)
        error = max(
            np.max(np.hypot(*(t.apply_to_points(planted.between(0, k, cells)) - ref).T))
            for k, t in enumerate(tracks.transforms)
        )
        print(
            f"six sessions ({'/'.join(map(str, sizes))} ROIs, {SHAPE[0]}x{SHAPE[1]} px), "
            f"{label}: register + match_many {seconds:.2f} s (target < 5 s); full-length "
            f"tracks {len(full)} ({correct} correct) vs {planted.n_in_all()} planted; "
            f"largest transform error {error:.2f} px"
        )


def two_sessions() -> None:
    times = {}
    for n_rois in (600, 3000):
        side = int(np.sqrt(n_rois / 300 * SHAPE[0] * SHAPE[1]))
        shape = (side, side)
        planted = planted_sessions(
            [{}, dict(angle_deg=5.0, shift_yx=(30.0, -20.0), scale_yx=(1.03, 0.98), shear=0.01)],
            n_cells=int(n_rois * 1.5),
            shape=shape,
            seed=1,
        )
        truth = planted.true_pairs(0, 1)
        seconds, result = best_of(
            lambda p=planted, s=shape: match(p.masks[0], p.masks[1], fov_shape=s), 3
        )
        found = set(map(tuple, result.pairs.tolist()))
        hits = len(found & truth)
        times[n_rois] = seconds
        print(
            f"two sessions, {planted.masks[0].shape[0]}/{planted.masks[1].shape[0]} ROIs "
            f"({side}x{side} px): register + match {seconds:.2f} s, precision "
            f"{hits / len(found):.3f}, recall {hits / len(truth):.3f}"
        )
    growth = times[3000] / times[600]
    nlogn = (3000 * np.log(3000)) / (600 * np.log(600))
    print(f"growth 600 -> 3000 ROIs: {growth:.1f}x (N log N: {nlogn:.1f}x, N^2: 25x)")


def main() -> None:
    warnings.simplefilter("error")  # a flagged registration would invalidate the timing
    six_sessions()
    two_sessions()


if __name__ == "__main__":
    main()
