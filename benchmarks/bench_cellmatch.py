"""Cell matching time (register + match) for 600 and 3000 ROIs per session.

Two days of elliptical ROIs at constant cell density (the field of view grows with the
number of cells), day 2 rotated 2 deg and shifted (6, -4) px, 10 % lost, 10 % new,
0.7 px jitter, +/-15 % size, masks stored sparse (as NWB pixel masks). Prints time,
precision and recall, and the growth against N log N. Target: < 2 s for 600 ROIs on
2 cores, growth no worse than ~N log N.

Run: .venv/bin/python benchmarks/bench_cellmatch.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from scipy import sparse

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import best_of

from databook.cellmatch import Transform, match

SPACING = 14.0


def sparse_ellipses(centers, axes, angles, shape):
    """Boolean ellipses as a sparse (n, H * W) matrix, built without dense frames."""
    offsets = np.arange(-10, 11)
    dy, dx = (g.ravel() for g in np.meshgrid(offsets, offsets, indexing="ij"))
    y = np.rint(centers[:, :1]).astype(int) + dy
    x = np.rint(centers[:, 1:]).astype(int) + dx
    ry, rx = y - centers[:, :1], x - centers[:, 1:]
    u = rx * np.cos(angles)[:, None] + ry * np.sin(angles)[:, None]
    v = -rx * np.sin(angles)[:, None] + ry * np.cos(angles)[:, None]
    inside = (u / axes[:, :1]) ** 2 + (v / axes[:, 1:]) ** 2 <= 1
    inside &= (y >= 0) & (y < shape[0]) & (x >= 0) & (x < shape[1])
    rows = np.nonzero(inside)[0]
    return sparse.csr_matrix(
        (np.ones(rows.size), (rows, y[inside] * shape[1] + x[inside])),
        shape=(len(centers), shape[0] * shape[1]),
    )


def two_days(n, seed=0):
    rng = np.random.default_rng(seed)
    n_new = n // 10
    side = int(np.ceil(np.sqrt(n + n_new)))
    size = int(side * SPACING + 30)
    shape = (size, size)
    grid = np.stack(np.meshgrid(np.arange(side), np.arange(side), indexing="ij"), -1)
    slots = 15 + SPACING * grid.reshape(-1, 2) + rng.uniform(-3, 3, (side * side, 2))
    order = rng.permutation(len(slots))
    centers, new_slots = slots[order[:n]], slots[order[n : n + n_new]]  # new cells: own slots
    axes = np.stack([rng.uniform(4, 6, n), rng.uniform(3, 4.5, n)], 1)
    angles = rng.uniform(0, np.pi, n)
    transform = Transform(6.0, -4.0, 2.0, ((size - 1) / 2, (size - 1) / 2))
    kept = np.sort(rng.choice(n, n - n_new, replace=False))
    moved = transform.apply_to_points(centers[kept]) + rng.normal(0, 0.7, (kept.size, 2))
    new = transform.apply_to_points(new_slots)
    in_frame = np.all((moved > 8) & (moved < size - 8), axis=1)
    new = new[np.all((new > 8) & (new < size - 8), axis=1)]
    kept, moved = kept[in_frame], moved[in_frame]
    scale = rng.uniform(0.85, 1.15, (kept.size, 1))
    day1 = sparse_ellipses(centers, axes, angles, shape)
    day2 = sparse_ellipses(
        np.vstack([moved, new]),
        np.vstack([axes[kept] * scale, rng.uniform(3, 6, (len(new), 2))]),
        np.concatenate([angles[kept] + np.deg2rad(2.0), rng.uniform(0, np.pi, len(new))]),
        shape,
    )
    truth = {(int(a), b) for b, a in enumerate(kept)}
    return day1, day2, truth, shape


def main() -> None:
    times = {}
    for n in (600, 3000):
        day1, day2, truth, shape = two_days(n)
        seconds, result = best_of(lambda d1=day1, d2=day2, s=shape: match(d1, d2, fov_shape=s), 3)
        found = set(map(tuple, result.pairs.tolist()))
        hits = len(found & truth)
        times[n] = seconds
        print(
            f"{n} ROIs per session ({shape[0]}x{shape[1]} px): register + match {seconds:.2f} s, "
            f"precision {hits / len(found):.3f}, recall {hits / len(truth):.3f}"
        )
    growth = times[3000] / times[600]
    nlogn = (3000 * np.log(3000)) / (600 * np.log(600))
    print(f"growth 600 -> 3000 ROIs: {growth:.1f}x (N log N: {nlogn:.1f}x, N^2: 25x)")


if __name__ == "__main__":
    main()
