"""Cell matching under the conditions of issue 28's real sessions, planted.

Six two-photon sessions of one mouse whose mean images correlate weakly (0.07-0.11 after
registration), whose scale differs by ~5 %, that overlap partially, drift non-rigidly and
hold crowded (overlapping) ROIs. Here each condition is planted on the demo generator's
tissue (``planted_sessions``), with mean images rebuilt in the test so that their
texture is mostly independent between sessions while the cells are the same: at the
planted transform their normalised correlation is ~0.1, as on the real pairs.

Every case asserts what a user needs: precision and recall of the matched pairs >= 0.95
against the planted cell identities, and a registration error <= 1 px, measured as the
mean distance between where the fitted and the planted transform put the true ROI
centres.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from scipy.ndimage import gaussian_filter

from databook.cellmatch import _correlation, _normalise, match, match_many
from databook.demo.ophys import planted_sessions

SHAPE = (512, 447)
CELL_WEIGHT = 2.0  # cells against an independent unit-SD texture: correlation ~0.1


def _centroids(masks, shape):
    """Weighted centroids (n, 2) of sparse (n, H * W) masks."""
    coo = masks.tocoo()
    y, x = np.divmod(coo.col, shape[1])
    total = np.bincount(coo.row, coo.data, masks.shape[0])
    return np.stack([np.bincount(coo.row, coo.data * v, masks.shape[0]) / total for v in (y, x)], 1)


def _weak_images(planted, seed, cell_weight=CELL_WEIGHT, blank=()):
    """Mean images (H, W) per session: an independent smooth texture (unit SD, 3 px
    grain) per session, plus ``cell_weight`` times the session's own ROIs, plus noise,
    at an arbitrary gain and offset. Sessions in ``blank`` get the texture only (their
    image says nothing about where the cells are)."""
    rng = np.random.default_rng(seed)
    images = []
    for k, masks in enumerate(planted.masks):
        texture = gaussian_filter(rng.normal(0.0, 1.0, SHAPE), 3.0)
        texture /= texture.std()
        cells = np.asarray(masks.sum(axis=0)).reshape(SHAPE)
        weight = 0.0 if k in blank else cell_weight
        noise = 0.3 * rng.normal(0.0, 1.0, SHAPE)
        images.append(
            rng.uniform(50, 150) + rng.uniform(10, 30) * (texture + weight * cells + noise)
        )
    return images


def _planted_matrix(planted, i, j):
    """The planted transform from session i to session j as (matrix, offset)."""
    c = np.asarray(planted.center)
    m = planted.matrices[j] @ np.linalg.inv(planted.matrices[i])
    return m, planted.between(i, j, c[None])[0] - m @ c


def _image_correlation(planted, images, i, j):
    """Normalised correlation of two mean images at the planted transform (the number
    the issue quotes as 0.07-0.11 for the real failing pairs)."""
    matrix, offset = _planted_matrix(planted, i, j)
    return _correlation(_normalise(images[i]), _normalise(images[j]), matrix, offset, 1)


def _nonrigid(masks, amplitude_px, wavelength_px, shape, seed):
    """``masks`` (sparse, n x H * W) with each ROI moved by a smooth displacement field
    (two sinusoids of ``amplitude_px`` and ``wavelength_px``) evaluated at its centroid,
    rounded to whole pixels. Returns (masks, displacement (n, 2) px)."""
    rng = np.random.default_rng(seed)
    centres = _centroids(masks, shape)
    phase = rng.uniform(0, 2 * np.pi, 2)
    k = 2 * np.pi / wavelength_px
    d = amplitude_px * np.stack(
        [np.sin(k * centres[:, 1] + phase[0]), np.sin(k * centres[:, 0] + phase[1])], 1
    )
    step = np.rint(d).astype(np.int64)
    coo = masks.tocoo()
    y, x = np.divmod(coo.col, shape[1])
    y, x = y + step[coo.row, 0], x + step[coo.row, 1]
    keep = (y >= 0) & (y < shape[0]) & (x >= 0) & (x < shape[1])
    moved = sparse.csr_matrix(
        (coo.data[keep], (coo.row[keep], y[keep] * shape[1] + x[keep])), shape=masks.shape
    )
    return moved, step.astype(np.float64)


def _mean_error(transform, planted, i=0, j=1):
    """Mean distance (px) between where ``transform`` and the planted transform put the
    true centres of session i's ROIs."""
    cells = _centroids(planted.masks[i], SHAPE)
    return float(
        np.mean(np.hypot(*(transform.apply_to_points(cells) - planted.between(i, j, cells)).T))
    )


def _scores(pairs, truth):
    found = set(map(tuple, np.asarray(pairs).tolist()))
    hits = len(found & truth)
    return hits / max(len(found), 1), hits / max(len(truth), 1)


# name: (transform of session 1, planted_sessions options, non-rigid amplitude px)
CASES = {
    "weak images": (dict(shift_yx=(12.0, -9.0)), {}, 0.0),
    "5 % scale": (dict(scale_yx=(1.05, 1.05), shift_yx=(8.0, 6.0)), {}, 0.0),
    "5 % smaller, anisotropic": (dict(scale_yx=(0.95, 0.97), shift_yx=(-6.0, 10.0)), {}, 0.0),
    "10 deg rotation": (dict(angle_deg=10.0, shift_yx=(-15.0, 12.0)), {}, 0.0),
    "partial overlap": (dict(shift_yx=(95.0, -75.0), angle_deg=3.0), {}, 0.0),
    "non-rigid warp": (dict(angle_deg=-4.0, shift_yx=(10.0, 5.0)), {}, 2.0),
    "crowded ROIs": (dict(angle_deg=6.0, scale_yx=(1.03, 1.03)), dict(spacing=9.0), 0.0),
    "all at once": (
        dict(angle_deg=10.0, scale_yx=(0.95, 0.95), shift_yx=(60.0, -45.0), shear=0.01),
        dict(spacing=10.0),
        1.5,
    ),
}


@pytest.fixture(scope="module", params=list(CASES))
def case(request):
    transform, options, amplitude = CASES[request.param]
    seed = list(CASES).index(request.param)
    planted = planted_sessions([{}, transform], n_cells=450, seed=seed, **options)
    if amplitude:
        moved, _ = _nonrigid(planted.masks[1], amplitude, 180.0, SHAPE, seed)
        planted.masks[1] = moved
    images = _weak_images(planted, seed + 100)
    return request.param, planted, images


def test_the_planted_images_correlate_as_weakly_as_the_real_failing_pairs(case):
    _, planted, images = case
    assert 0.05 <= _image_correlation(planted, images, 0, 1) <= 0.13


def test_pairs_are_matched_and_registered_within_a_pixel(case):
    name, planted, images = case
    result = match(planted.masks[0], planted.masks[1], *images, fov_shape=SHAPE,
                   on_low_quality="ignore")  # fmt: skip
    precision, recall = _scores(result.pairs, planted.true_pairs(0, 1))
    error = _mean_error(result.transform, planted)
    print(f"\n{name}: precision {precision:.3f}, recall {recall:.3f}, error {error:.2f} px")
    assert precision >= 0.95 and recall >= 0.95, name
    assert error <= 1.0, name
    if name in ("non-rigid warp", "all at once"):
        # No affine model fits a warp of +/-2 px within the tiles' 1.5 px: the report
        # may say so, and only that.
        assert all("tiles agree" in p for p in result.quality.problems), str(result.quality)
    else:
        assert result.quality.ok, f"{name}: {result.quality}"


def _six(seed, blank=()):
    rng = np.random.default_rng(seed)
    transforms = [{}] + [
        dict(
            angle_deg=rng.uniform(-10, 10),
            shift_yx=rng.uniform(-40, 40, 2),
            scale_yx=rng.uniform(0.95, 1.05, 2),
            shear=rng.uniform(-0.02, 0.02),
        )
        for _ in range(5)
    ]
    planted = planted_sessions(transforms, n_cells=450, seed=seed, spacing=11.0)
    return planted, _weak_images(planted, seed + 100, blank=blank)


def _check_six(tracks, planted):
    n = len(planted.masks)
    for k, masks in enumerate(planted.masks):  # every ROI in exactly one track
        present = np.sort(tracks.indices[:, k][tracks.indices[:, k] >= 0])
        np.testing.assert_array_equal(present, np.arange(masks.shape[0]))
    precision, recall = [], []
    for i in range(n):
        for j in range(i + 1, n):
            both = tracks.indices[(tracks.indices[:, i] >= 0) & (tracks.indices[:, j] >= 0)]
            p, r = _scores(both[:, [i, j]], planted.true_pairs(i, j))
            precision.append(p)
            recall.append(r)
    ref = tracks.reference
    errors = [_mean_error(tracks.transforms[k], planted, k, ref) for k in range(n)]
    full = tracks.indices[tracks.n_sessions_seen == n]
    ids = np.stack([planted.cell_ids[k][full[:, k]] for k in range(n)], axis=1)
    correct = int(np.all(ids == ids[:, :1], axis=1).sum())
    print(
        f"\nsix sessions: pair precision min {min(precision):.3f}, recall min "
        f"{min(recall):.3f}; full tracks {len(full)} ({correct} correct) vs "
        f"{planted.n_in_all()} planted; errors {np.round(errors, 2).tolist()} px"
    )
    assert min(precision) >= 0.95 and min(recall) >= 0.95
    assert max(errors) <= 1.0
    assert correct >= 0.95 * planted.n_in_all() and len(full) <= 1.05 * planted.n_in_all()


@pytest.mark.parametrize("seed", [11, 12])
def test_six_sessions_with_weak_images(seed):
    planted, images = _six(seed)
    tracks = match_many(planted.masks, images, fov_shape=SHAPE, on_low_quality="ignore")
    _check_six(tracks, planted)


def test_six_sessions_one_of_which_cannot_be_registered_by_its_image():
    # Session 4's mean image shows no cells at all: its registration to the reference by
    # image content is impossible, and every track through it must still hold.
    planted, images = _six(13, blank=(4,))
    assert abs(_image_correlation(planted, images, 4, 3)) < 0.03
    tracks = match_many(planted.masks, images, fov_shape=SHAPE, on_low_quality="ignore")
    assert tracks.reference == 3
    _check_six(tracks, planted)


def test_a_track_survives_a_session_the_reference_cannot_reach():
    # Session 5 sits 170 px right of the reference (session 3), beyond the default shift
    # search (a quarter of the smaller side, 112 px): registered to the reference alone
    # it is lost. Session 4 sits between them, so session 5 is placed through it, and
    # its cells join the tracks through every settled session.
    shifts = [(10.0, -30.0), (-20.0, -15.0), (15.0, 20.0), (0.0, 0.0), (-10.0, 85.0), (5.0, 170.0)]
    rng = np.random.default_rng(14)
    transforms = [
        dict(angle_deg=rng.uniform(-4, 4), shift_yx=s, scale_yx=rng.uniform(0.97, 1.03, 2))
        for s in shifts
    ]
    planted = planted_sessions(transforms, n_cells=450, seed=14, spacing=11.0)
    images = _weak_images(planted, 114)
    direct = match(planted.masks[5], planted.masks[3], images[5], images[3], fov_shape=SHAPE,
                   on_low_quality="ignore")  # fmt: skip
    assert _mean_error(direct.transform, planted, 5, 3) > 5.0  # the lone pair fails
    tracks = match_many(planted.masks, images, fov_shape=SHAPE, on_low_quality="ignore")
    _check_six(tracks, planted)
