"""Cell matching across days: the planted two-day oracle, soft masks, tracks, real data."""

from __future__ import annotations

import numpy as np
import pytest

from databook.cellmatch import Transform, match, match_many, register

SHAPE = (512, 512)
CENTER = ((SHAPE[0] - 1) / 2, (SHAPE[1] - 1) / 2)


def ellipses(centers, axes, angles, shape=SHAPE, soft=False):
    """(n, H, W) elliptical footprints; ``soft`` gives Gaussian-weighted ones."""
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    out = np.zeros((len(centers), *shape), dtype=np.float32 if soft else bool)
    for i, ((cy, cx), (a, b), th) in enumerate(zip(centers, axes, angles, strict=True)):
        y0, y1 = int(max(cy - 12, 0)), int(min(cy + 13, shape[0]))
        x0, x1 = int(max(cx - 12, 0)), int(min(cx + 13, shape[1]))
        dy, dx = yy[y0:y1, x0:x1] - cy, xx[y0:y1, x0:x1] - cx
        u = dx * np.cos(th) + dy * np.sin(th)
        v = -dx * np.sin(th) + dy * np.cos(th)
        r2 = (u / a) ** 2 + (v / b) ** 2
        out[i, y0:y1, x0:x1] = np.where(r2 <= 1, np.exp(-r2), 0) if soft else r2 <= 1
    return out


def two_days(seed=0, n=600, lost=0.1, new=60, jitter=0.7, transform=None, soft=False):
    """Day 1 and day 2 masks, and the true pairs (day-1 index, day-2 index)."""
    rng = np.random.default_rng(seed)
    transform = transform or Transform(6.0, -4.0, 2.0, CENTER)
    centers = []
    while len(centers) < n:
        c = rng.uniform(15, SHAPE[0] - 15, 2)
        if all(np.hypot(*(c - o)) > 14 for o in centers):
            centers.append(c)
    centers = np.array(centers)
    axes = np.stack([rng.uniform(4, 7, n), rng.uniform(3, 5, n)], axis=1)
    angles = rng.uniform(0, np.pi, n)
    kept = np.sort(rng.choice(n, round((1 - lost) * n), replace=False))
    moved = transform.apply_to_points(centers[kept]) + rng.normal(0, jitter, (kept.size, 2))
    extra = []
    while len(extra) < new:
        c = rng.uniform(15, SHAPE[0] - 15, 2)
        if np.min(np.hypot(*(moved - c).T)) > 14 and all(np.hypot(*(c - o)) > 14 for o in extra):
            extra.append(c)
    size = rng.uniform(0.85, 1.15, (kept.size, 1))
    day1 = ellipses(centers, axes, angles, soft=soft)
    day2 = ellipses(
        np.vstack([moved, extra]),
        np.vstack([axes[kept] * size, rng.uniform(3, 6, (new, 2))]),
        np.concatenate([angles[kept] + np.deg2rad(transform.angle), rng.uniform(0, np.pi, new)]),
        soft=soft,
    )
    inside = np.all((moved > 0) & (moved < SHAPE[0] - 1), axis=1)
    truth = {(int(a), b) for b, a in enumerate(kept) if inside[b]}
    return day1, day2, truth


def _scores(result, truth):
    found = set(map(tuple, result.pairs.tolist()))
    hits = len(found & truth)
    return hits / max(len(found), 1), hits / len(truth)


def test_planted_two_day_oracle_and_that_registration_matters():
    day1, day2, truth = two_days()
    result = match(day1, day2)
    precision, recall = _scores(result, truth)
    assert precision >= 0.95 and recall >= 0.95
    t = result.transform
    assert (t.dy, t.dx) == pytest.approx((6.0, -4.0), abs=0.3)
    assert t.angle == pytest.approx(2.0, abs=0.1)
    _, recall0 = _scores(match(day1, day2, register_fov=False), truth)
    assert recall0 < 0.5, "without registration the same cells must mostly be missed"
    assert (result.scores >= 0.3).all() and (result.distances <= 8.0).all()


def test_soft_footprints_match_like_boolean_ones():
    day1, day2, truth = two_days(seed=3, n=200, new=20, soft=True)
    precision, recall = _scores(match(day1, day2), truth)
    assert precision >= 0.95 and recall >= 0.95


def test_register_and_inverse_round_trip():
    rng = np.random.default_rng(5)
    image = np.zeros(SHAPE)
    image[rng.integers(20, 490, 300), rng.integers(20, 490, 300)] = 1.0
    from scipy.ndimage import gaussian_filter

    image = gaussian_filter(image, 2.0)
    truth = Transform(-3.5, 5.25, -1.5, CENTER)
    found = register(image, truth.apply_to_image(image))
    assert (found.dy, found.dx, found.angle) == pytest.approx((-3.5, 5.25, -1.5), abs=0.15)
    points = rng.uniform(0, 511, (10, 2))
    np.testing.assert_allclose(truth.inverse.apply_to_points(truth.apply_to_points(points)), points)
    assert truth.apply_to_masks(np.ones((2, 8, 8))).shape == (2, 8, 8)


def test_match_many_gives_one_identity_per_cell():
    day1, day2, truth12 = two_days(seed=11, n=150, new=15)
    # Day 3: day 2 moved again, same cells (identity on day 2's indices).
    shift = Transform(-2.0, 3.0, -1.0, CENTER)
    day3 = np.stack([shift.apply_to_image(m.astype(float)) > 0.5 for m in day2])
    keep = np.array([m.any() for m in day3])
    tracks = match_many([day1, day2, day3[keep]])
    assert tracks.shape[1] == 3
    for k, masks in enumerate([day1, day2, day3[keep]]):
        present = np.sort(tracks[:, k][tracks[:, k] >= 0])
        np.testing.assert_array_equal(present, np.arange(len(masks)))  # each ROI once
    row_of_day1 = {int(t[0]): t for t in tracks if t[0] >= 0}
    agree = [row_of_day1[a][1] == b for a, b in truth12]
    assert np.mean(agree) >= 0.95
    day3_index = np.cumsum(keep) - 1
    consistent = [
        row_of_day1[a][2] == day3_index[b] for a, b in truth12 if keep[b] and row_of_day1[a][1] == b
    ]
    assert np.mean(consistent) >= 0.95


def test_bad_masks_are_named():
    masks = np.zeros((2, 10, 10), dtype=bool)
    masks[0, 2:5, 2:5] = True  # mask 1 stays empty
    with pytest.raises(ValueError, match=r"masks \[1\] are empty"):
        match(masks, masks[:1])
    with pytest.raises(ValueError, match="masks_a must be"):
        match(np.ones((10, 10)), np.ones((1, 10, 10)))


def test_real_cellreg_sample_five_sessions(root):
    folder = root.parent / "shared" / "data" / "real" / "cellreg-sample"
    if not folder.exists():
        pytest.skip(f"real CellReg sample not present at {folder} (shared data folder absent)")
    import scipy.io

    sessions = [
        scipy.io.loadmat(folder / f"spatial_footprints_0{i}.mat")["allFiltersMat"]
        for i in range(1, 6)
    ]
    tracks = match_many(sessions)
    for k, masks in enumerate(sessions):  # every ROI in exactly one track
        present = np.sort(tracks[:, k][tracks[:, k] >= 0])
        np.testing.assert_array_equal(present, np.arange(len(masks)))
    distinct = len(tracks)
    in_all = float(np.mean((tracks >= 0).all(axis=1)))
    print(f"\nCellReg sample: {distinct} distinct cells (CellReg: 787), {in_all:.2f} in all 5")
    assert abs(distinct - 787) / 787 <= 0.10  # CellReg's own count on the same data
    assert in_all > 0.3


def test_sparse_masks_give_the_same_pairs_as_dense():
    from scipy import sparse

    day1, day2, _ = two_days(seed=4, n=120, new=10, soft=True)
    dense = match(day1, day2)
    as_sparse = [sparse.csr_matrix(m.reshape(len(m), -1)) for m in (day1, day2)]
    result = match(*as_sparse, fov_shape=SHAPE)
    np.testing.assert_array_equal(result.pairs, dense.pairs)
    with pytest.raises(ValueError, match=r"masks_a: sparse masks .* need fov_shape"):
        match(*as_sparse)
