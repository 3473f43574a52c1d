"""databook.overlap (IoU and distance of neighbouring ROIs) and databook.matfiles."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io
import scipy.sparse

from databook import cellmatch, overlap
from databook.matfiles import read_footprints

SHAPE = (40, 50)  # not square, so swapped axes show


def box(y0, y1, x0, x1, value=1.0, shape=SHAPE):
    m = np.zeros(shape)
    m[y0:y1, x0:x1] = value
    return m


def test_shifted_square_has_the_iou_and_distance_computed_by_hand():
    a = np.stack([box(10, 16, 10, 16)])  # 6 x 6 square, centroid (12.5, 12.5)
    b = np.stack([box(13, 19, 10, 16)])  # moved 3 px down: overlap 3 x 6 = 18, union 54
    found = overlap.neighbour_pairs(a, b, radius=10)
    np.testing.assert_array_equal(found.pairs, [[0, 0]])
    assert found.iou[0] == pytest.approx(18 / 54)
    assert found.distance[0] == pytest.approx(3.0)


def test_the_right_transform_makes_the_same_cells_coincide():
    a = np.stack([box(10, 16, 10, 16), box(20, 24, 30, 42)])
    b = np.stack([box(13, 19, 8, 14), box(23, 27, 28, 40)])  # everything moved (+3, -2)
    moved = cellmatch.Transform(3.0, -2.0)
    found = overlap.neighbour_pairs(a, b, moved, radius=30)
    same = found.label([[0, 0], [1, 1]])
    np.testing.assert_allclose(found.iou[same], 1.0)
    np.testing.assert_allclose(found.distance[same], 0.0, atol=1e-12)
    assert np.all(found.iou[~same] == 0) and same.sum() == 2 and len(found.pairs) == 4


def test_a_rotated_bar_lands_on_the_bar_it_became():
    a = np.stack([box(19, 21, 22, 28)])  # horizontal 2 x 6 bar, centre (19.5, 24.5)
    b = np.stack([box(17, 23, 24, 26)])  # the same bar turned 90 degrees about its centre
    turned = cellmatch.Transform(0.0, 0.0, 90.0, center=(19.5, 24.5))
    assert overlap.neighbour_pairs(a, b, turned).iou[0] == pytest.approx(1.0)
    assert overlap.neighbour_pairs(a, b).iou[0] == pytest.approx(4 / 20)


def test_footprint_is_a_fraction_of_each_masks_own_peak():
    # Peak 2 with a halo of 0.5: at threshold 0.3 the halo (< 0.6) is not footprint.
    a = np.stack([box(8, 20, 8, 20, 0.5) + box(10, 18, 10, 18, 1.5)])
    matrix, shape, centroid = overlap.footprint_matrix(a, 0.3)
    assert shape == SHAPE and matrix.sum() == 64
    np.testing.assert_allclose(centroid, [[13.5, 13.5]])


def test_sparse_and_dense_masks_give_the_same_pairs():
    rng = np.random.default_rng(1)
    a = np.stack([box(y, y + 5, x, x + 4) for y, x in rng.integers(0, 30, (8, 2))])
    b = np.stack([box(y, y + 4, x, x + 5) for y, x in rng.integers(0, 30, (9, 2))])
    dense = overlap.neighbour_pairs(a, b, radius=15)
    flat = [scipy.sparse.csr_matrix(m.reshape(len(m), -1)) for m in (a, b)]
    sparse = overlap.neighbour_pairs(*flat, radius=15, fov_shape=SHAPE)
    np.testing.assert_array_equal(dense.pairs, sparse.pairs)
    np.testing.assert_allclose(dense.iou, sparse.iou)
    assert len(dense.pairs) > 5


def test_sparse_sessions_of_different_field_sizes_take_one_shape_each():
    # Real sessions are cropped differently (CellReg's sample: 252 to 257 rows).
    a = np.stack([box(10, 16, 10, 16), box(20, 24, 30, 42)])
    taller = (44, 50)
    b = np.stack([box(13, 19, 8, 14, shape=taller), box(23, 27, 28, 40, shape=taller)])
    moved = cellmatch.Transform(3.0, -2.0)
    dense = overlap.neighbour_pairs(a, b, moved, radius=30)
    flat = [scipy.sparse.csr_matrix(m.reshape(len(m), -1)) for m in (a, b)]
    sparse = overlap.neighbour_pairs(*flat, moved, radius=30, fov_shape=(SHAPE, taller))
    np.testing.assert_array_equal(dense.pairs, sparse.pairs)
    np.testing.assert_allclose(sparse.iou[sparse.label([[0, 0], [1, 1]])], 1.0)
    with pytest.raises(ValueError, match="fov_shape"):
        overlap.neighbour_pairs(*flat, moved, fov_shape=(taller, SHAPE))


def test_bad_input_names_the_problem():
    a = np.stack([box(10, 16, 10, 16)])
    with pytest.raises(ValueError, match="threshold"):
        overlap.neighbour_pairs(a, a, threshold=0)
    with pytest.raises(ValueError, match="fov_shape"):
        overlap.neighbour_pairs(scipy.sparse.csr_matrix(a.reshape(1, -1)), a)
    with pytest.raises(ValueError, match=r"masks \[1\] are empty"):
        overlap.neighbour_pairs(np.stack([a[0], 0 * a[0]]), a)


def test_read_footprints_keeps_rows_columns_and_values(tmp_path):
    rng = np.random.default_rng(2)
    stack = np.where(rng.random((3, 5, 7)) < 0.2, rng.random((3, 5, 7)), 0.0)
    scipy.io.savemat(tmp_path / "fp.mat", {"allFiltersMat": stack})
    matrix, shape = read_footprints(tmp_path / "fp.mat")
    assert shape == (5, 7)
    np.testing.assert_array_equal(matrix.toarray(), stack.reshape(3, -1))
    with pytest.raises(ValueError, match="no variable 'cells'"):
        read_footprints(tmp_path / "fp.mat", "cells")
