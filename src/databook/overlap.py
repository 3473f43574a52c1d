"""Overlap and distance of neighbouring ROIs of two sessions, to see why a matching
threshold sits where it does.

:func:`neighbour_pairs` lists every pair of ROIs (one per session) whose centroids lie
within ``radius`` pixels once session A is mapped into session B's frame, with their
footprint overlap (intersection over union, IoU) and centroid distance. Matching
(:func:`databook.cellmatch.match`) keeps only pairs within ``max_distance`` px and above
``min_iou``; plotting all neighbours, split into matched and unmatched, shows the gap
those thresholds fall into (or do not).

Footprints are the pixels at or above ``threshold`` of each mask's peak, as in
:mod:`databook.cellmatch`; pixel coordinates are (row, column) = (y, x); distances in
pixels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:
    from databook.cellmatch import Transform

__all__ = ["NeighbourPairs", "footprint_matrix", "neighbour_pairs"]


@dataclass(frozen=True)
class NeighbourPairs:
    """``pairs`` (k, 2): ROI index in session A and in session B; ``iou`` (k,): footprint
    intersection over union in B's frame, 0..1; ``distance`` (k,): centroid distance in
    pixels after mapping A into B's frame. Sorted by A index, then B index."""

    pairs: NDArray[np.int_]
    iou: NDArray[np.float64]
    distance: NDArray[np.float64]

    def label(self, selected: ArrayLike) -> NDArray[np.bool_]:
        """(k,) True where a pair is among ``selected`` ((m, 2) index pairs, e.g. the
        ``pairs`` of a match result or the true pairs)."""
        selected = np.asarray(selected, dtype=np.int64).reshape(-1, 2)
        if len(self.pairs) == 0 or len(selected) == 0:
            return np.zeros(len(self.pairs), dtype=bool)
        width = int(max(self.pairs[:, 1].max(), selected[:, 1].max())) + 1
        return np.isin(self.pairs[:, 0] * width + self.pairs[:, 1],
                       selected[:, 0] * width + selected[:, 1])  # fmt: skip


def footprint_matrix(
    masks: ArrayLike, threshold: float = 0.3, fov_shape: tuple[int, int] | None = None
):
    """Binary footprints as a scipy.sparse CSR (n_rois, H * W) and the field-of-view shape.

    ``masks``: dense (n, H, W) or scipy.sparse (n, H * W) with ``fov_shape=(H, W)``;
    a footprint is the pixels at or above ``threshold`` (0..1] of its mask's peak.
    Returns (matrix, (H, W), weighted centroids (n, 2) in (y, x) pixels).
    """
    from scipy import sparse

    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    if sparse.issparse(masks):
        if fov_shape is None or masks.shape[1] != fov_shape[0] * fov_shape[1]:
            raise ValueError(
                f"sparse masks (n_rois, H * W) need fov_shape=(H, W) matching their "
                f"{masks.shape[1]} columns, got fov_shape={fov_shape}"
            )
        shape = (int(fov_shape[0]), int(fov_shape[1]))
        coo = sparse.coo_matrix(masks)
        rows, cols, weights = coo.row, coo.col, coo.data.astype(np.float64)
        n = masks.shape[0]
    else:
        dense = np.asarray(masks)
        if dense.ndim != 3:
            raise ValueError(f"masks must be (n, H, W), got shape {dense.shape}")
        n, shape = dense.shape[0], (dense.shape[1], dense.shape[2])
        rows, cols = np.nonzero(dense.reshape(n, -1))
        weights = dense.reshape(n, -1)[rows, cols].astype(np.float64)
    peak = np.zeros(n)
    np.maximum.at(peak, rows, weights)
    keep = (weights > 0) & (weights >= threshold * peak[rows])
    rows, cols, weights = rows[keep], cols[keep], weights[keep]
    empty = np.flatnonzero(np.bincount(rows, minlength=n) == 0)
    if empty.size:
        raise ValueError(f"masks {empty[:10].tolist()} are empty (no positive pixel)")
    y, x = np.divmod(cols, shape[1])
    total = np.bincount(rows, weights=weights, minlength=n)
    centroid = np.stack(
        [np.bincount(rows, weights=weights * y, minlength=n) / total,
         np.bincount(rows, weights=weights * x, minlength=n) / total], axis=1,
    )  # fmt: skip
    matrix = sparse.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n, shape[0] * shape[1]))
    return matrix, shape, centroid


def _warp(matrix, shape, transform: Transform, out_shape):
    """Binary footprints (n, H * W) drawn in the target frame (n, H' * W'): a target pixel
    belongs to an ROI when its inverse-mapped nearest source pixel does (no holes)."""
    from scipy import sparse

    grid = np.stack(np.mgrid[0 : out_shape[0], 0 : out_shape[1]], axis=-1).reshape(-1, 2)
    source = np.rint(transform.inverse.apply_to_points(grid.astype(np.float64))).astype(np.int64)
    inside = np.all((source >= 0) & (source < np.asarray(shape)), axis=1)
    dummy = shape[0] * shape[1]  # an all-zero column for target pixels outside the source
    index = np.where(inside, source[:, 0] * shape[1] + source[:, 1], dummy)
    padded = sparse.hstack([matrix, sparse.csr_matrix((matrix.shape[0], 1))], format="csc")
    return padded[:, index].tocsr()


def neighbour_pairs(
    masks_a: ArrayLike,
    masks_b: ArrayLike,
    transform: Transform | None = None,
    *,
    radius: float = 20.0,
    threshold: float = 0.3,
    fov_shape: tuple[int, int] | Sequence[tuple[int, int]] | None = None,
) -> NeighbourPairs:
    """Every pair of ROIs of sessions A and B whose centroids lie within ``radius`` px
    after mapping A into B's frame with ``transform`` (A pixels -> B pixels, e.g. a
    :func:`databook.cellmatch.register` result; None: nothing moved), with the IoU of
    their footprints and their centroid distance.

    ``masks_a`` (n_a, H, W) and ``masks_b`` (n_b, H', W'): dense weighted or boolean
    masks, or scipy.sparse (n, H * W) with ``fov_shape``: one (H, W) for both, or one
    per session ((H, W), (H', W')), since real sessions are often cropped differently.
    Returns :class:`NeighbourPairs`.
    """
    from scipy.spatial import cKDTree

    if not radius > 0:
        raise ValueError(f"radius must be positive (pixels), got {radius}")
    if fov_shape is not None and np.ndim(fov_shape) == 2:
        shape_of_a, shape_of_b = fov_shape
    else:
        shape_of_a = shape_of_b = fov_shape
    mat_a, shape_a, cen_a = footprint_matrix(masks_a, threshold, shape_of_a)
    mat_b, shape_b, cen_b = footprint_matrix(masks_b, threshold, shape_of_b)
    if transform is not None:
        mat_a = _warp(mat_a, shape_a, transform, shape_b)
        cen_a = transform.apply_to_points(cen_a)
    elif shape_a != shape_b:
        raise ValueError(f"fields of view differ ({shape_a} vs {shape_b}): pass a transform")
    near = cKDTree(cen_a).query_ball_tree(cKDTree(cen_b), radius)  # keeps distance 0
    ia = np.repeat(np.arange(len(near)), [len(v) for v in near]).astype(np.int64)
    ib = np.fromiter((j for v in near for j in v), dtype=np.int64, count=ia.size)
    order = np.lexsort((ib, ia))
    ia, ib = ia[order], ib[order]
    inter = np.asarray(mat_a[ia].multiply(mat_b[ib]).sum(axis=1)).ravel()
    size_a = np.asarray(mat_a.sum(axis=1)).ravel()
    size_b = np.asarray(mat_b.sum(axis=1)).ravel()
    union = size_a[ia] + size_b[ib] - inter
    iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    distance = np.hypot(*(cen_a[ia] - cen_b[ib]).T)
    return NeighbourPairs(np.stack([ia, ib], axis=1).reshape(-1, 2), iou, distance)
