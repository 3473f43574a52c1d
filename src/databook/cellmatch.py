"""The same cells across imaging sessions: register the fields of view, then match ROIs.

``register`` finds the rotation and translation between two sessions' projection images
(rotation searched on a grid and refined; translation by FFT phase correlation with
sub-pixel refinement). ``match`` maps session A's ROI masks into session B's frame and
pairs ROIs one-to-one by mask overlap (IoU) among spatial neighbours, solving the
assignment (``scipy.optimize.linear_sum_assignment``) per connected group of candidates,
so the cost grows about as N log N. ``match_many`` links N sessions into tracks with one
identity per cell. Pixel coordinates are (row, column) = (y, x); angles in degrees.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["MatchResult", "Transform", "match", "match_many", "register"]


@dataclass(frozen=True)
class Transform:
    """Maps session-A pixel (y, x) to session B: rotate by ``angle`` (degrees) about
    ``center``, then shift by (``dy``, ``dx``) pixels."""

    dy: float
    dx: float
    angle: float
    center: tuple[float, float]

    @property
    def rotation(self) -> NDArray[np.float64]:
        a = np.deg2rad(self.angle)
        return np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])

    @property
    def inverse(self) -> Transform:
        """The transform from B back to A (also a rotation about ``center`` then a shift)."""
        back = self.rotation.T @ np.array([self.dy, self.dx])
        return Transform(float(-back[0]), float(-back[1]), -self.angle, self.center)

    def apply_to_points(self, yx: ArrayLike) -> NDArray[np.float64]:
        """Session-A (y, x) points (..., 2) in session-B pixels."""
        c = np.asarray(self.center)
        return (np.asarray(yx, dtype=np.float64) - c) @ self.rotation.T + c + [self.dy, self.dx]

    def apply_to_image(self, image: ArrayLike) -> NDArray[np.float64]:
        """Resample a session-A image into session B's frame (linear interpolation)."""
        from scipy.ndimage import affine_transform

        inverse = self.rotation.T
        c = np.asarray(self.center)
        offset = c - inverse @ (c + np.array([self.dy, self.dx]))
        return affine_transform(np.asarray(image, dtype=np.float64), inverse, offset, order=1)

    def apply_to_masks(self, masks: ArrayLike) -> NDArray[np.float64]:
        """Session-A masks (n, H, W) resampled into session B's frame."""
        masks = np.asarray(masks, dtype=np.float64)
        return np.stack([self.apply_to_image(m) for m in masks]) if len(masks) else masks


IDENTITY_ANGLE = 0.0


def _highpass(image: ArrayLike) -> NDArray[np.float64]:
    """Remove illumination gradients so cells, not brightness, drive the correlation."""
    from scipy.ndimage import gaussian_filter

    image = np.asarray(image, dtype=np.float64)
    return image - gaussian_filter(image, 8.0)


def _windowed(image: NDArray[np.float64]) -> NDArray[np.float64]:
    window = np.outer(np.hanning(image.shape[0]), np.hanning(image.shape[1]))
    return (image - image.mean()) * window


def _phase_correlation(ref: NDArray, moving: NDArray) -> tuple[float, float, float]:
    """Shift (dy, dx) with moving(p) ~ ref(p - shift), and the correlation peak height."""
    spectrum = np.fft.fft2(moving) * np.conj(np.fft.fft2(ref))
    spectrum /= np.abs(spectrum) + 1e-12
    surface = np.fft.ifft2(spectrum).real
    iy, ix = np.unravel_index(np.argmax(surface), surface.shape)
    ny, nx = surface.shape
    shift = []
    for i, n, (left, mid, right) in (
        (iy, ny, surface[[(iy - 1) % ny, iy, (iy + 1) % ny], ix]),
        (ix, nx, surface[iy, [(ix - 1) % nx, ix, (ix + 1) % nx]]),
    ):
        denominator = left - 2 * mid + right  # parabola through the peak: sub-pixel
        value = i + (0.5 * (left - right) / denominator if denominator != 0 else 0.0)
        shift.append(value - n if value > n / 2 else value)
    return shift[0], shift[1], float(surface[iy, ix])


def register(
    ref_image: ArrayLike,
    moving_image: ArrayLike,
    *,
    max_angle: float = 6.0,
    coarse_step: float = 0.5,
    fine_step: float = 0.1,
) -> Transform:
    """Rotation and translation taking ``ref_image`` (session A) onto ``moving_image`` (B).

    Each candidate angle rotates the reference about the image centre and scores the
    phase-correlation peak against the moving image; the best coarse angle is refined
    on a finer grid. Returns the :class:`Transform` mapping A pixels to B pixels.
    """
    ref = _highpass(ref_image)
    moving = _highpass(moving_image)
    center = tuple((np.array(ref.shape) - 1) / 2)

    def scorer(ref_image, moving_image):
        moving_w = _windowed(moving_image)
        c = tuple((np.array(ref_image.shape) - 1) / 2)

        def score(angle: float) -> tuple[float, float, float]:
            rotated = Transform(0.0, 0.0, angle, c).apply_to_image(ref_image)
            return _phase_correlation(_windowed(rotated), moving_w)

        return score

    # Coarse search on 2x downsampled images (4x cheaper), fine search at full size.
    coarse_score = scorer(ref[::2, ::2], moving[::2, ::2])
    coarse_angles = np.arange(-max_angle, max_angle + 1e-9, coarse_step)
    coarse = max(coarse_angles, key=lambda a: coarse_score(a)[2])
    fine_score = scorer(ref, moving)
    fine_angles = coarse + np.arange(-coarse_step, coarse_step + 1e-9, fine_step)
    results = [fine_score(a) for a in fine_angles]
    peaks = np.array([r[2] for r in results])
    i = int(np.argmax(peaks))
    angle = float(fine_angles[i])
    if 0 < i < len(peaks) - 1:  # parabola through the best three angles
        left, mid, right = peaks[i - 1 : i + 2]
        denominator = left - 2 * mid + right
        if denominator < 0:
            angle += 0.5 * (left - right) / denominator * fine_step
    dy, dx, _ = fine_score(angle)
    return Transform(float(dy), float(dx), angle, center)


@dataclass(frozen=True)
class MatchResult:
    """``pairs`` (k, 2): indices into masks A and B; ``scores`` (k,): IoU of each pair in
    B's frame; ``distances`` (k,): centroid distance (pixels); ``transform`` used."""

    pairs: NDArray[np.int_]
    scores: NDArray[np.float64]
    distances: NDArray[np.float64]
    transform: Transform


def _finish(roi, y, x, w, n):
    """Footprint pixels and weighted centroids; an empty ROI is an error naming it."""
    empty = np.flatnonzero(np.bincount(roi, minlength=n) == 0)
    if empty.size:
        raise ValueError(f"masks {empty[:10].tolist()} are empty (no positive pixel)")
    total = np.bincount(roi, weights=w, minlength=n)
    centroid = np.stack(
        [np.bincount(roi, weights=w * y, minlength=n) / total,
         np.bincount(roi, weights=w * x, minlength=n) / total], axis=1,
    )  # fmt: skip
    return roi, np.stack([y, x], axis=1).astype(np.float64), centroid, n


def _footprints(masks: NDArray, threshold: float):
    """Footprints of dense (n, H, W) masks: pixels >= ``threshold`` of each mask's peak."""
    n, height, width = masks.shape
    if masks.dtype == bool:
        flat = np.flatnonzero(masks)
        w = np.ones(flat.size)
    else:
        peak = masks.reshape(n, -1).max(axis=1).astype(np.float64)
        cutoff = np.where(peak > 0, threshold * peak, np.inf)  # empty masks select nothing
        flat = np.flatnonzero(masks >= cutoff[:, None, None])
        w = masks.reshape(-1)[flat].astype(np.float64)
    roi, pixel = np.divmod(flat, height * width)
    y, x = np.divmod(pixel, width)
    return _finish(roi, y, x, w, n)


def _sparse_footprints(masks, threshold: float, fov_shape: tuple[int, int]):
    """Footprints of sparse (n_rois, H * W) masks, as NWB pixel masks store them."""
    coo = masks.tocoo()
    n = masks.shape[0]
    peak = np.zeros(n)
    np.maximum.at(peak, coo.row, coo.data)
    keep = (coo.data > 0) & (coo.data >= threshold * peak[coo.row])
    y, x = np.divmod(coo.col[keep], fov_shape[1])
    return _finish(coo.row[keep], y, x, coo.data[keep].astype(np.float64), n)


def _load(stacks, names, threshold, fov_shape):
    """Footprints of every session's masks and the common field-of-view shape."""
    from scipy import sparse

    footprints, shapes = [], []
    for name, masks in zip(names, stacks, strict=True):
        if sparse.issparse(masks):
            if fov_shape is None or masks.shape[1] != fov_shape[0] * fov_shape[1]:
                raise ValueError(
                    f"{name}: sparse masks (n_rois, H * W) need fov_shape=(H, W) matching "
                    f"their {masks.shape[1]} columns, got fov_shape={fov_shape}"
                )
            footprints.append(_sparse_footprints(masks, threshold, fov_shape))
            shapes.append(tuple(fov_shape))
            continue
        masks = np.asarray(masks)
        if masks.ndim != 3:
            raise ValueError(f"{name} must be (n, H, W), got shape {masks.shape}")
        footprints.append(_footprints(masks, threshold))
        shapes.append(masks.shape[1:])
    shape = tuple(int(max(s[axis] for s in shapes)) for axis in (0, 1))
    return footprints, shape


def _pad_image(image: ArrayLike, shape: tuple[int, int]) -> NDArray[np.float64]:
    """Zero-pad an image at the bottom and right: sessions whose fields of view differ by
    a few rows share the top-left origin."""
    image = np.asarray(image, dtype=np.float64)
    return np.pad(image, ((0, shape[0] - image.shape[0]), (0, shape[1] - image.shape[1])))


def _projection(roi, yx, shape) -> NDArray[np.float64]:
    """Image of all footprints (pixel counts), for registering without images."""
    y, x = yx.astype(np.int64).T
    return np.bincount(y * shape[1] + x, minlength=shape[0] * shape[1]).reshape(shape).astype(float)


def _sparse(roi, yx, n, shape):
    from scipy import sparse

    y, x = np.rint(yx).astype(np.int64).T
    inside = (y >= 0) & (y < shape[0]) & (x >= 0) & (x < shape[1])
    matrix = sparse.csr_matrix(
        (np.ones(inside.sum()), (roi[inside], y[inside] * shape[1] + x[inside])),
        shape=(n, shape[0] * shape[1]),
    )
    matrix.data[:] = 1.0  # duplicates from rounding count once
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix


def _match_footprints(a, b, shape, max_distance, min_iou):
    """One-to-one pairs of footprints already in one frame.

    ``a`` and ``b`` are (roi index per pixel, pixel (y, x), centroids, n_rois).
    """
    from scipy.optimize import linear_sum_assignment
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    roi_a, yx_a, moved, n_a = a
    roi_b, yx_b, cen_b, n_b = b
    sparse_a = _sparse(roi_a, yx_a, n_a, shape)
    sparse_b = _sparse(roi_b, yx_b, n_b, shape)
    candidates = cKDTree(moved).sparse_distance_matrix(
        cKDTree(cen_b), max_distance, output_type="coo_matrix"
    )
    ia, ib = candidates.row, candidates.col
    overlap = np.asarray((sparse_a[ia].multiply(sparse_b[ib])).sum(axis=1)).ravel()
    size_a = np.asarray(sparse_a.sum(axis=1)).ravel()[ia]
    size_b = np.asarray(sparse_b.sum(axis=1)).ravel()[ib]
    iou = overlap / np.maximum(size_a + size_b - overlap, 1)
    keep = iou >= min_iou
    ia, ib, iou = ia[keep], ib[keep], iou[keep]
    graph = csr_matrix((np.ones(ia.size), (ia, n_a + ib)), shape=(n_a + n_b,) * 2)
    _, label = connected_components(graph, directed=False)
    pairs = []
    component = label[ia]
    order = np.argsort(component, kind="stable")
    bounds = np.flatnonzero(np.diff(component[order])) + 1
    for group in np.split(order, bounds) if order.size else []:
        rows, row_index = np.unique(ia[group], return_inverse=True)
        cols, col_index = np.unique(ib[group], return_inverse=True)
        cost = np.full((rows.size, cols.size), 2.0)  # 2: not a candidate
        cost[row_index, col_index] = 1.0 - iou[group]
        r, c = linear_sum_assignment(cost)
        ok = cost[r, c] < 2.0
        pairs.extend(zip(rows[r[ok]], cols[c[ok]], strict=True))
    pairs = np.array(sorted(pairs), dtype=np.int64).reshape(-1, 2)
    lookup = dict(zip(zip(ia.tolist(), ib.tolist(), strict=True), iou.tolist(), strict=True))
    scores = np.array([lookup[(a, b)] for a, b in pairs.tolist()])
    distances = np.hypot(*(moved[pairs[:, 0]] - cen_b[pairs[:, 1]]).T)
    return pairs, scores, distances


def match(
    masks_a: ArrayLike,
    masks_b: ArrayLike,
    image_a: ArrayLike | None = None,
    image_b: ArrayLike | None = None,
    *,
    transform: Transform | None = None,
    register_fov: bool = True,
    max_distance: float = 8.0,
    min_iou: float = 0.3,
    threshold: float = 0.3,
    fov_shape: tuple[int, int] | None = None,
) -> MatchResult:
    """Pair ROIs of two sessions one-to-one.

    ``masks_a`` (n_a, H, W) and ``masks_b`` (n_b, H', W'): boolean or weighted footprints
    (fields of view of different size share their top-left origin), or scipy.sparse
    matrices (n_rois, H * W) with ``fov_shape=(H, W)``;
    pixels at or above ``threshold`` of a mask's peak form its footprint. The fields of
    view are registered from ``image_a``/``image_b`` (e.g. mean projections) or, without
    images, from the summed footprints; pass ``transform`` to skip registration, or
    ``register_fov=False`` to assume none moved. Pairs need centroids within
    ``max_distance`` pixels and IoU >= ``min_iou`` after the transform.
    """
    (fp_a, fp_b), shape = _load([masks_a, masks_b], ["masks_a", "masks_b"], threshold, fov_shape)
    roi_a, yx_a, cen_a, n_a = fp_a
    roi_b, yx_b, cen_b, n_b = fp_b
    if transform is None:
        if not register_fov:
            transform = Transform(0.0, 0.0, IDENTITY_ANGLE, tuple((np.array(shape) - 1) / 2))
        else:
            ref = _projection(roi_a, yx_a, shape) if image_a is None else image_a
            mov = _projection(roi_b, yx_b, shape) if image_b is None else image_b
            transform = register(_pad_image(ref, shape), _pad_image(mov, shape))
    pairs, scores, distances = _match_footprints(
        (roi_a, transform.apply_to_points(yx_a), transform.apply_to_points(cen_a), n_a),
        (roi_b, yx_b, cen_b, n_b),
        shape,
        max_distance,
        min_iou,
    )
    return MatchResult(pairs, scores, distances, transform)


def match_many(
    sessions: Sequence[ArrayLike],
    images: Sequence[ArrayLike] | None = None,
    *,
    max_distance: float = 8.0,
    min_iou: float = 0.3,
    threshold: float = 0.3,
    fov_shape: tuple[int, int] | None = None,
) -> NDArray[np.int_]:
    """Track cells across sessions: (n_cells, n_sessions) ROI indices, -1 where absent.

    Every session is registered to the first. Each track keeps the footprint of its most
    recent ROI, carried into the first session's frame as pixel coordinates; each later
    session is matched against all tracks, so a cell keeps one identity in every session
    where it is found. Masks as in :func:`match`; ``images`` optional projections.
    """
    if not sessions:
        raise ValueError("match_many needs at least one session")
    names = [f"session {k}" for k in range(len(sessions))]
    footprints, shape = _load(sessions, names, threshold, fov_shape)
    if images is not None:
        images = [_pad_image(i, shape) for i in images]
    else:
        images = [_projection(roi, yx, shape) for roi, yx, _, _ in footprints]
    roi0, yx0, cen0, _ = footprints[0]
    n0 = len(cen0)
    tracks = [[r] + [-1] * (len(sessions) - 1) for r in range(n0)]
    # Track footprints in the first session's frame: pixel owner, (y, x), centroid.
    owner, points, centers = roi0.copy(), yx0.copy(), cen0.copy()
    for k in range(1, len(sessions)):
        roi_k, yx_k, cen_k, _ = footprints[k]
        to_k = register(images[0], images[k])
        pairs, _, _ = _match_footprints(
            (owner, to_k.apply_to_points(points), to_k.apply_to_points(centers), len(tracks)),
            (roi_k, yx_k, cen_k, len(cen_k)),
            shape,
            max_distance,
            min_iou,
        )
        matched = dict(zip(pairs[:, 1].tolist(), pairs[:, 0].tolist(), strict=True))
        back = to_k.inverse
        new_owner = np.empty(len(cen_k), dtype=np.int64)
        for roi in range(len(cen_k)):
            track = matched.get(roi)
            if track is None:
                track = len(tracks)
                tracks.append([-1] * len(sessions))
            tracks[track][k] = roi
            new_owner[roi] = track
        # Replace matched tracks' footprints with this session's, add the new tracks'.
        replaced = np.isin(owner, pairs[:, 0])
        owner = np.concatenate([owner[~replaced], new_owner[roi_k]])
        points = np.concatenate([points[~replaced], back.apply_to_points(yx_k)])
        grown = np.zeros((len(tracks), 2))
        grown[: len(centers)] = centers
        grown[new_owner] = back.apply_to_points(cen_k)
        centers = grown
    return np.array(tracks, dtype=np.int64)
