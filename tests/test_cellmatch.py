"""Cell matching across days: transforms, planted oracles (rotation, scale, shear, shift on
a 512 x 447 field), quality flags that fire, tracks over six sessions, real CellReg data."""

from __future__ import annotations

import contextlib
import os
import warnings
from pathlib import Path

import numpy as np
import pytest

from databook.cellmatch import (
    RegistrationError,
    RegistrationWarning,
    Transform,
    match,
    match_many,
    register,
)
from databook.demo.ophys import affine_matrix, planted_sessions

SHAPE = (512, 447)
CENTER = ((SHAPE[0] - 1) / 2, (SHAPE[1] - 1) / 2)
# The transforms of issue 16: rotation up to 12 deg, shifts up to 40 px, +/-5 % zoom on
# either axis, shear 0.02.
HARD = [
    dict(angle_deg=12.0, shift_yx=(40.0, -30.0), scale_yx=(1.05, 0.95), shear=0.02),
    dict(angle_deg=-12.0, shift_yx=(-35.0, 40.0), scale_yx=(0.95, 1.05), shear=-0.02),
    dict(angle_deg=7.0, shift_yx=(-40.0, -40.0), scale_yx=(1.05, 1.05), shear=0.02),
]


def _scores(result, truth):
    found = set(map(tuple, result.pairs.tolist()))
    hits = len(found & truth)
    return hits / max(len(found), 1), hits / len(truth)


def _centroids(masks, shape):
    """Weighted centroids (n, 2) of sparse (n, H * W) masks."""
    coo = masks.tocoo()
    y, x = np.divmod(coo.col, shape[1])
    total = np.bincount(coo.row, coo.data, masks.shape[0])
    return np.stack([np.bincount(coo.row, coo.data * v, masks.shape[0]) / total for v in (y, x)], 1)


@contextlib.contextmanager
def _no_warnings():
    """Fail on any RegistrationWarning (the planted cases must pass the quality check)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RegistrationWarning)
        yield


# --- Transform --------------------------------------------------------------------------


def test_transform_matrix_is_the_planted_convention_and_round_trips():
    t = Transform(5.0, -7.0, 12.0, CENTER, scale=(1.05, 0.95), shear=0.02)
    np.testing.assert_allclose(t.matrix, affine_matrix(12.0, (1.05, 0.95), 0.02), atol=1e-12)
    # A point right of the centre (+x) turns towards +y for a positive angle in (y, x).
    y, x = Transform(0.0, 0.0, 90.0, (0.0, 0.0)).apply_to_points([0.0, 1.0])
    assert (y, x) == pytest.approx((-1.0, 0.0), abs=1e-12)
    again = Transform.from_matrix(t.matrix, t.offset, CENTER)
    assert (again.dy, again.dx, again.angle, again.shear) == pytest.approx((5, -7, 12, 0.02))
    assert again.scale == pytest.approx((1.05, 0.95))
    points = np.random.default_rng(0).uniform(0, 447, (50, 2))
    np.testing.assert_allclose(t.inverse.apply_to_points(t.apply_to_points(points)), points)
    u = Transform(-3.0, 2.0, -4.0, CENTER, scale=(0.97, 1.02))
    np.testing.assert_allclose(
        t.then(u).apply_to_points(points), u.apply_to_points(t.apply_to_points(points))
    )
    # The centre moves by exactly (dy, dx).
    np.testing.assert_allclose(t.apply_to_points(CENTER), np.add(CENTER, (5.0, -7.0)))


def _ellipse(shape, center, form):
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    d = np.stack([yy - center[0], xx - center[1]], axis=-1)
    return np.einsum("...i,ij,...j->...", d, form, d) <= 1.0


def test_warped_mask_lands_where_the_transform_says():
    t = Transform(30.0, -25.0, 12.0, CENTER, scale=(1.05, 0.95), shear=0.02)
    form = np.diag([1 / 7.0**2, 1 / 4.0**2])
    form = affine_matrix(30.0) @ form @ affine_matrix(30.0).T
    centres = np.array([[100.0, 80.0], [400.0, 350.0], [256.0, 223.0]])
    masks = np.stack([_ellipse(SHAPE, c, form) for c in centres])
    warped = t.apply_to_masks(masks)
    assert warped.shape == (3, *SHAPE)
    yy, xx = np.mgrid[0 : SHAPE[0], 0 : SHAPE[1]]
    mass = warped.sum(axis=(1, 2))
    found = np.stack([(warped * yy).sum((1, 2)) / mass, (warped * xx).sum((1, 2)) / mass], 1)
    truth = (centres - CENTER) @ affine_matrix(12.0, (1.05, 0.95), 0.02).T + CENTER + (30, -25)
    np.testing.assert_allclose(found, truth, atol=0.15)
    # The warped mask is the planted ellipse seen through the transform (IoU near 1).
    inv = np.linalg.inv(t.matrix)
    for mask, c in zip(warped > 0.5, truth, strict=True):
        expected = _ellipse(SHAPE, c, inv.T @ form @ inv)
        assert (mask & expected).sum() / (mask | expected).sum() > 0.9
    # Same area scaled by the determinant (up to pixelation).
    assert mass / masks.sum(axis=(1, 2)) == pytest.approx(np.linalg.det(t.matrix), rel=0.03)


def test_masks_shifted_out_of_the_field_are_cut_not_wrapped():
    masks = np.zeros((1, 60, 40), dtype=bool)
    masks[0, 5:12, 30:38] = True
    moved = Transform(0.0, 6.0).apply_to_masks(masks, shape=(60, 40))
    assert moved[0, 5:12, 36:40].sum() == pytest.approx(7 * 4, abs=0.01)
    assert moved[0, :, :10].sum() == 0


# --- The demo generator's planted truth ------------------------------------------------


def test_demo_cells_turn_with_the_field_of_view():
    from databook.demo.ophys import SHAPE as DEMO
    from databook.demo.ophys import make_tissue, masks, seen_through

    tissue = make_tissue(np.random.default_rng(0), 40)
    day1 = masks(tissue)
    t = Transform(0.0, 0.0, 20.0, ((DEMO[0] - 1) / 2, (DEMO[1] - 1) / 2))
    keep = np.all(
        (t.apply_to_points(tissue.center) > 12) & (t.apply_to_points(tissue.center) < 244), 1
    )
    warped = t.apply_to_masks(day1[keep]) > 0.2
    day2 = masks(seen_through(tissue, 20.0, (0.0, 0.0)))[keep] > 0.2
    iou = (warped & day2).sum((1, 2)) / (warped | day2).sum((1, 2))
    # Turned the opposite way, the median is 0.78 and the worst cell 0.51.
    assert np.median(iou) > 0.88 and iou.min() > 0.8


# --- Registration and matching of two sessions -----------------------------------------


@pytest.fixture(scope="module", params=range(len(HARD)))
def hard_pair(request):
    return planted_sessions([{}, HARD[request.param]], n_cells=450, seed=request.param)


def _max_error(transform, planted):
    """Largest distance (px) between where ``transform`` and the truth put session-0 cells."""
    cells = _centroids(planted.masks[0], planted.shape)
    return np.max(np.hypot(*(transform.apply_to_points(cells) - planted.between(0, 1, cells)).T))


def test_oracle_scale_shear_rotation_shift_from_images(hard_pair):
    with _no_warnings():
        result = match(hard_pair.masks[0], hard_pair.masks[1], *hard_pair.images,
                       fov_shape=SHAPE)  # fmt: skip
    assert _max_error(result.transform, hard_pair) < 1.0
    precision, recall = _scores(result, hard_pair.true_pairs(0, 1))
    assert precision >= 0.95 and recall >= 0.95
    q = result.quality
    assert q.ok and q.correlation > 0.5 and q.inlier_fraction > 0.8 and q.residual_px < 0.5


def test_oracle_from_footprints_alone(hard_pair):
    with _no_warnings():
        result = match(hard_pair.masks[0], hard_pair.masks[1], fov_shape=SHAPE)
    assert _max_error(result.transform, hard_pair) < 1.0
    precision, recall = _scores(result, hard_pair.true_pairs(0, 1))
    assert precision >= 0.95 and recall >= 0.95
    assert (result.scores >= 0.3).all() and (result.distances <= 8.0).all()


def test_registration_matters(hard_pair):
    result = match(hard_pair.masks[0], hard_pair.masks[1], fov_shape=SHAPE, register_fov=False,
                   on_low_quality="ignore")  # fmt: skip
    assert _scores(result, hard_pair.true_pairs(0, 1))[1] < 0.2
    assert result.quality.matched_fraction < 0.2 and not result.quality.ok


def test_brightness_gain_and_offset_do_not_matter(hard_pair):
    a, b = hard_pair.images
    ramp = np.linspace(0.5, 2.0, SHAPE[1])[None, :]
    first = register(a, b)
    second = register(7.0 * a + 300.0, b * ramp + 10.0)
    cells = _centroids(hard_pair.masks[0], SHAPE)
    assert np.max(np.hypot(*(first.apply_to_points(cells) - second.apply_to_points(cells)).T)) < 0.3


def test_twelve_degrees_is_found_by_default():
    planted = planted_sessions([{}, dict(angle_deg=12.0, shift_yx=(6.0, -4.0))], n_cells=300,
                               seed=7)  # fmt: skip
    with _no_warnings():
        result = match(planted.masks[0], planted.masks[1], fov_shape=SHAPE)
    precision, recall = _scores(result, planted.true_pairs(0, 1))
    assert precision >= 0.95 and recall >= 0.95
    assert result.transform.angle == pytest.approx(12.0, abs=0.1)


@pytest.fixture(scope="module")
def twenty_degrees():
    return planted_sessions([{}, dict(angle_deg=20.0, shift_yx=(10.0, -5.0))], n_cells=300, seed=3)


def test_rotation_beyond_the_search_range_warns_with_numbers(twenty_degrees):
    p = twenty_degrees
    with pytest.warns(RegistrationWarning, match=r"angle \+\d+\.\d deg .*max_angle 15"):
        register(*p.images)
    with pytest.raises(RegistrationError, match=r"correlation \d\.\d\d.*edge of \+/-15"):
        match(p.masks[0], p.masks[1], fov_shape=SHAPE, on_low_quality="raise")


def test_a_wider_search_range_finds_it(twenty_degrees):
    p = twenty_degrees
    with _no_warnings():
        result = match(p.masks[0], p.masks[1], fov_shape=SHAPE, max_angle=25.0)
    precision, recall = _scores(result, p.true_pairs(0, 1))
    assert precision >= 0.95 and recall >= 0.95
    assert result.quality.on_edge == ()


def test_unrelated_sessions_are_flagged_not_matched_silently():
    a = planted_sessions([{}], n_cells=300, seed=1)
    b = planted_sessions([{}], n_cells=300, seed=2)
    with pytest.warns(RegistrationWarning, match=r"low image correlation 0\.\d\d"):
        transform = register(a.images[0], b.images[0])
    assert transform.quality.correlation < 0.1 and transform.quality.inlier_fraction < 0.3
    with pytest.raises(RegistrationError, match="do not trust these matches"):
        match(a.masks[0], b.masks[0], a.images[0], b.images[0], fov_shape=SHAPE,
              on_low_quality="raise")  # fmt: skip
    quiet = register(a.images[0], b.images[0], on_low_quality="ignore")
    assert not quiet.quality.ok


def test_iou_threshold_separates_a_lost_cell_from_its_new_neighbour():
    a = np.zeros((1, 64, 48), dtype=bool)
    b = np.zeros((2, 64, 48), dtype=bool)
    yy, xx = np.mgrid[0:64, 0:48]
    a[0] = np.hypot(yy - 20, xx - 20) <= 5
    b[0] = np.hypot(yy - 20, xx - 26) <= 5  # a different cell 6 px away: IoU ~ 0.15
    b[1] = np.hypot(yy - 45, xx - 30) <= 5
    result = match(a, b, register_fov=False, on_low_quality="ignore")
    assert len(result.pairs) == 0
    loose = match(a, b, register_fov=False, min_iou=0.1, on_low_quality="ignore")
    assert loose.pairs.tolist() == [[0, 0]] and loose.scores[0] == pytest.approx(0.15, abs=0.05)


def test_a_transform_given_by_hand_is_judged_on_its_matches_only():
    a = np.zeros((2, 64, 48), dtype=bool)
    a[0, 10:16, 10:16] = True
    a[1, 40:46, 30:36] = True
    b = np.roll(a, 3, axis=2)
    with _no_warnings():
        result = match(a, b, transform=Transform(0.0, 3.0))
    assert result.pairs.tolist() == [[0, 0], [1, 1]] and result.quality.ok
    with pytest.warns(RegistrationWarning, match=r"only 0\.00 of ROIs matched"):
        match(a, b, transform=Transform(0.0, -9.0))


def test_sparse_masks_give_the_same_pairs_as_dense():
    from scipy import sparse

    planted = planted_sessions([{}, HARD[0]], n_cells=100, seed=4)
    dense = [m.toarray().reshape(-1, *SHAPE) for m in planted.masks]
    from_dense = match(*dense, on_low_quality="ignore")
    from_sparse = match(*planted.masks, fov_shape=SHAPE, on_low_quality="ignore")
    np.testing.assert_array_equal(from_sparse.pairs, from_dense.pairs)
    assert len(from_sparse.pairs) >= 0.95 * len(planted.true_pairs(0, 1))
    with pytest.raises(ValueError, match=r"masks_a: sparse masks .* need fov_shape"):
        match(*planted.masks)
    assert sparse.issparse(planted.masks[0])


def test_bad_input_is_named():
    masks = np.zeros((2, 40, 40), dtype=bool)
    masks[0, 2:5, 2:5] = True  # mask 1 stays empty
    with pytest.raises(ValueError, match=r"masks \[1\] are empty"):
        match(masks, masks[:1])
    with pytest.raises(ValueError, match="masks_a must be"):
        match(np.ones((10, 10)), np.ones((1, 10, 10)))
    image = np.zeros((64, 64))
    with pytest.raises(ValueError, match="model must be one of"):
        register(image, image, model="projective")
    with pytest.raises(ValueError, match="scale_range"):
        register(image, image, scale_range=(1.1, 1.2))
    with pytest.raises(ValueError, match="on_low_quality"):
        register(image, image, on_low_quality="shout")


# --- Many sessions ----------------------------------------------------------------------


def _six(seed, angles=None):
    rng = np.random.default_rng(seed)
    transforms = [{}]
    for k in range(5):
        transforms.append(dict(
            angle_deg=rng.uniform(-12, 12) if angles is None else angles[k + 1],
            shift_yx=rng.uniform(-40, 40, 2), scale_yx=rng.uniform(0.95, 1.05, 2),
            shear=rng.uniform(-0.02, 0.02),
        ))  # fmt: skip
    if angles is not None:
        transforms[0] = dict(angle_deg=angles[0])
    return planted_sessions(transforms, n_cells=450, seed=seed)


def _check_tracks(tracks, planted):
    n = len(planted.masks)
    for k, masks in enumerate(planted.masks):  # every ROI in exactly one track
        present = np.sort(tracks.indices[:, k][tracks.indices[:, k] >= 0])
        np.testing.assert_array_equal(present, np.arange(masks.shape[0]))
    full = tracks.indices[tracks.n_sessions_seen == n]
    ids = np.stack([planted.cell_ids[k][full[:, k]] for k in range(n)], axis=1)
    correct = np.all(ids == ids[:, :1], axis=1)
    truth = planted.n_in_all()
    assert abs(len(full) - truth) <= 0.05 * truth
    assert correct.mean() >= 0.95
    confident = tracks.confidence[tracks.n_sessions_seen == n]
    assert np.mean(confident[correct]) > 0.9
    cells = _centroids(planted.masks[0], SHAPE)
    for k in range(n):  # each session's transform to the reference, within 1 px everywhere
        at_k = planted.between(0, k, cells)
        error = tracks.transforms[k].apply_to_points(at_k) - planted.between(
            0, tracks.reference, cells
        )
        assert np.max(np.hypot(*error.T)) < 1.0
    return len(full), truth


@pytest.mark.parametrize("seed", [1, 2])
def test_six_sessions_full_length_tracks(seed):
    planted = _six(seed)
    with _no_warnings():
        tracks = match_many(planted.masks, fov_shape=SHAPE)
    found, truth = _check_tracks(tracks, planted)
    print(f"\nsix planted sessions (seed {seed}): {found} full-length tracks, truth {truth}")
    assert np.asarray(tracks).shape == (len(tracks), 6)


def test_six_sessions_do_not_hang_on_one_session():
    # Sessions 0 and 1 are 18 and 24 deg from the reference (session 3): beyond the
    # +/-15 deg search; they are reached through their neighbours.
    planted = _six(5, angles=[-12.0, -18.0, -3.0, 6.0, 0.0, 10.0])
    with _no_warnings():
        tracks = match_many(planted.masks, planted.images, fov_shape=SHAPE)
    assert tracks.reference == 3
    assert all(q is None or q.ok for q in tracks.quality)
    _check_tracks(tracks, planted)


def test_a_stray_match_does_not_join_two_cells():
    from databook.cellmatch import _cluster

    # Cell X: ROI 0 in sessions 0-2; cell Y: ROI 0 in sessions 3-5; all pairs within each
    # matched, plus one stray match between X in session 2 and Y in session 3.
    offsets = np.arange(7)
    x = [(i, j) for i in range(3) for j in range(i + 1, 3)]
    y = [(i, j) for i in range(3, 6) for j in range(i + 1, 6)]
    edges = np.array(x + y + [(2, 3)])
    indices, confidence = _cluster(6, offsets, edges, 0.5)
    assert sorted(map(tuple, indices.tolist())) == [(-1, -1, -1, 0, 0, 0), (0, 0, 0, -1, -1, -1)]
    np.testing.assert_array_equal(confidence, [1.0, 1.0])
    # Two ROIs of one session never share a track; the better-linked one is kept.
    offsets = np.array([0, 1, 3, 4])  # session 1 has two ROIs (nodes 1 and 2)
    indices, _ = _cluster(3, offsets, np.array([(0, 1), (1, 3), (0, 3), (0, 2)]), 0.5)
    assert [0, 0, 0] in indices.tolist() and [-1, 1, -1] in indices.tolist()


# --- Real data --------------------------------------------------------------------------


def _real_folder(root: Path) -> Path | None:
    """shared/data/real/cellreg-sample next to the project or any folder above it."""
    if os.environ.get("DATABOOK_REAL_DATA"):
        return Path(os.environ["DATABOOK_REAL_DATA"]) / "cellreg-sample"
    for parent in root.parents:
        folder = parent / "shared" / "data" / "real" / "cellreg-sample"
        if folder.exists():
            return folder
    return None


def test_real_cellreg_sample_five_sessions(root):
    folder = _real_folder(root)
    if folder is None or not folder.exists():
        pytest.skip("real CellReg sample (shared/data/real/cellreg-sample) not found next to "
                    "the project; set DATABOOK_REAL_DATA to its data/real folder")  # fmt: skip
    import scipy.io
    from scipy import sparse

    sessions, shapes = [], []
    for i in range(1, 6):
        footprints = scipy.io.loadmat(folder / f"spatial_footprints_0{i}.mat")["allFiltersMat"]
        shapes.append(footprints.shape[1:])
        sessions.append(sparse.csr_matrix(footprints.reshape(len(footprints), -1)))
        del footprints
    with _no_warnings():
        tracks = match_many(sessions, fov_shape=shapes, reference=0)
        rigid = match_many(sessions, fov_shape=shapes, reference=0, model="rigid")
    distinct, in_all = len(tracks), int((tracks.n_sessions_seen == 5).sum())
    print(f"\nCellReg sample, 5 sessions: {distinct} distinct cells (CellReg: 787), "
          f"{in_all} in all five; rigid model: {len(rigid)} distinct, "
          f"{int((rigid.n_sessions_seen == 5).sum())} in all five")  # fmt: skip
    for k, (t, q) in enumerate(zip(tracks.transforms, tracks.quality, strict=True)):
        if q is None:
            continue
        r = rigid.transforms[k]
        print(
            f"  session {k + 1} -> 1: shift ({t.dy:+.2f}, {t.dx:+.2f}) px, rotation "
            f"{t.angle:+.2f} deg, scale ({t.scale[0]:.3f}, {t.scale[1]:.3f}), shear "
            f"{t.shear:+.3f}; rigid: ({r.dy:+.2f}, {r.dx:+.2f}) px, {r.angle:+.2f} deg; {q}"
        )
        assert q.ok and abs(t.angle) < 2.0 and np.hypot(t.dy, t.dx) < 20.0
        assert all(abs(s - 1) < 0.02 for s in t.scale)  # CellReg: no zoom at all
        # The affine and rigid fits agree within a pixel across the field.
        corners = np.array([[0, 0], [0, 323], [254, 0], [254, 323]], dtype=float)
        assert np.max(np.hypot(*(t.apply_to_points(corners) - r.apply_to_points(corners)).T)) < 1.5
    assert abs(distinct - 787) / 787 <= 0.10  # CellReg's own count on the same data
    assert 0.3 < in_all / distinct < 0.6
    for k, masks in enumerate(sessions):  # every ROI in exactly one track
        present = np.sort(tracks.indices[:, k][tracks.indices[:, k] >= 0])
        np.testing.assert_array_equal(present, np.arange(masks.shape[0]))
    assert abs(len(rigid) - distinct) <= 0.02 * distinct  # the model hardly matters here
