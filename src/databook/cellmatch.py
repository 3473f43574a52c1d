"""The same cells across imaging sessions: register the fields of view, then match ROIs.

``register`` finds the transform between two sessions' projection images: rotation,
translation, and (by ``model``) isotropic or anisotropic scale and shear. A coarse grid
search over rotation and zoom scores each candidate by FFT cross-correlation of the
normalised, downsampled images (so every translation within ``max_shift`` is searched at
once); the best candidate is refined by cross-correlating tiles of the images and
fitting the model robustly (outlying tiles rejected) to the tile shifts, twice, the
second time at full resolution. Every result carries a :class:`RegistrationQuality`;
a poor or ambiguous registration warns (or raises) with its numbers.

``match`` registers the fields of view twice, on the projection images (when given) and
on the summed ROI footprints, polishes the footprint candidate on mutually nearest ROI
centroids, and keeps the candidate that brings most ROIs into one-to-one overlap:
where the mean images share little texture (correlation ~0.1 on some real pairs) the
footprints still register. It then maps session A's ROI masks into session B's frame and pairs
ROIs one-to-one by mask overlap (IoU) among spatial neighbours, solving the assignment
per connected group of candidates.
``match_many`` registers every session to a common reference the same way (a session
the reference cannot reach is placed through the sessions that are settled, judged by
one-to-one overlap with all of them), refines all transforms
jointly on centroids matched between every pair of sessions, matches every pair, and
merges the pairwise matches into tracks (one ROI per session at most, merged only when
most pairs agree), each with a confidence.

Pixel coordinates are (row, column) = (y, x); angles in degrees, the rotation matrix
[[cos, -sin], [sin, cos]] acting on (y, x) (a positive angle turns +x towards -y:
counter-clockwise as displayed with y down); shifts and distances in pixels.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "MatchResult",
    "RegistrationError",
    "RegistrationQuality",
    "RegistrationWarning",
    "Tracks",
    "Transform",
    "match",
    "match_many",
    "register",
]

Model = Literal["rigid", "similarity", "affine"]
OnLowQuality = Literal["warn", "raise", "ignore"]
MODELS = ("rigid", "similarity", "affine")

# Quality limits (documented in RegistrationQuality).
MIN_CORRELATION = 0.1
MAX_SECOND_PEAK = 0.8
MIN_INLIER_FRACTION = 0.5
MAX_RESIDUAL_PX = 1.5
MIN_MATCHED_FRACTION = 0.2


class RegistrationWarning(UserWarning):
    """A registration (or matching) whose quality report flags a problem."""


class RegistrationError(ValueError):
    """A registration (or matching) whose quality report flags a problem, when asked to
    raise (``on_low_quality="raise"``)."""


@dataclass(frozen=True)
class RegistrationQuality:
    """How far to trust a registration (NaN where a number does not apply).

    ``correlation``: Pearson correlation of the two normalised (high-passed, locally
    contrast-normalised) images over their overlap after registration, -1..1; flagged
    below 0.1 (unrelated images give ~0.05; planted sessions 0.7-0.97, the real CellReg
    sample 0.55-0.66). ``second_peak_ratio``: coarse-search score of the best candidate
    that maps the field elsewhere (median distance over a 3 x 3 grid of points more than
    4 % of the field's diagonal from the result) over the score of the result's own
    neighbourhood; near 1 is ambiguous (flagged above 0.8; 0.1-0.6 when right).
    ``inlier_fraction``: tiles whose local shift agrees with the fitted model within
    1.5 px, among tiles with content on both sides (flagged below 0.5), ``n_inliers``
    their number. ``residual_px``: RMS misfit of those tiles in pixels (flagged above
    1.5). ``matched_fraction``: matched ROIs over the ROIs of the smaller session
    (``match`` and ``match_many`` only; flagged below 0.2). ``on_edge``: search
    parameters whose result lies on the edge of (or beyond) their range, where the truth
    may lie outside it; always flagged. ``problems``: one sentence per flag, with the
    numbers; empty when all is well. A transform given by hand has no registration
    numbers (NaN) and only its matched fraction is judged. ``source``: what the chosen
    registration was computed on, ``"image"`` (the projection images) or
    ``"footprints"`` (the summed ROI footprints); empty for a transform given by hand.
    """

    correlation: float = math.nan
    second_peak_ratio: float = math.nan
    inlier_fraction: float = math.nan
    residual_px: float = math.nan
    n_inliers: int = 0
    matched_fraction: float = math.nan
    on_edge: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    source: str = ""

    @property
    def ok(self) -> bool:
        """True when no problem was flagged."""
        return not self.problems

    def __str__(self) -> str:
        parts = [f"registered on {self.source}"] if self.source else []
        if not math.isnan(self.correlation):
            parts.append(
                f"correlation {self.correlation:.2f}, second peak {self.second_peak_ratio:.2f}, "
                f"inliers {self.inlier_fraction:.2f} (n={self.n_inliers}), residual "
                f"{self.residual_px:.2f} px"
            )
        if not math.isnan(self.matched_fraction):
            parts.append(f"matched fraction {self.matched_fraction:.2f}")
        return ", ".join(parts or ["no numbers"]) + (
            "; " + "; ".join(self.problems) if self.problems else "; ok"
        )


def _rotation(angle_deg: float) -> NDArray[np.float64]:
    a = np.deg2rad(angle_deg)
    return np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])


def _decompose(matrix: NDArray[np.float64]) -> tuple[float, tuple[float, float], float]:
    """(angle in degrees, (scale_y, scale_x), shear) with matrix = R(angle) @ [[1, shear],
    [0, 1]] @ diag(scale_y, scale_x); a mirror image gives a negative scale_x."""
    q, u = np.linalg.qr(np.asarray(matrix, dtype=np.float64))
    signs = np.where(np.diag(u) < 0, -1.0, 1.0)
    q, u = q * signs, signs[:, None] * u
    if np.linalg.det(q) < 0:  # reflection: keep a proper rotation, put the sign in scale_x
        q[:, 1], u[1] = -q[:, 1], -u[1]
    angle = float(np.degrees(np.arctan2(q[1, 0], q[0, 0])))
    return angle, (float(u[0, 0]), float(u[1, 1])), float(u[0, 1] / u[1, 1])


@dataclass(frozen=True)
class Transform:
    """Maps session-A pixel (y, x) to session B: p_B = M (p_A - center) + center + (dy, dx)
    with M = R(angle) @ [[1, shear], [0, 1]] @ diag(*scale).

    ``angle`` in degrees, ``dy``, ``dx`` and ``center`` in pixels, ``scale`` (y, x)
    dimensionless, ``shear`` dimensionless. ``quality`` is the :class:`RegistrationQuality`
    of an estimated transform (None for one made by hand); it does not take part in ==.
    """

    dy: float
    dx: float
    angle: float = 0.0
    center: tuple[float, float] = (0.0, 0.0)
    scale: tuple[float, float] = (1.0, 1.0)
    shear: float = 0.0
    quality: RegistrationQuality | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "dy", float(self.dy))
        object.__setattr__(self, "dx", float(self.dx))
        object.__setattr__(self, "angle", float(self.angle))
        object.__setattr__(self, "center", tuple(float(v) for v in self.center))
        object.__setattr__(self, "scale", tuple(float(v) for v in self.scale))
        object.__setattr__(self, "shear", float(self.shear))

    @property
    def rotation(self) -> NDArray[np.float64]:
        """The rotation part R(angle) (2, 2)."""
        return _rotation(self.angle)

    @property
    def matrix(self) -> NDArray[np.float64]:
        """The linear part M (2, 2) acting on (y, x)."""
        shear = np.array([[1.0, self.shear], [0.0, 1.0]])
        return self.rotation @ shear @ np.diag(self.scale)

    @property
    def offset(self) -> NDArray[np.float64]:
        """(2,) such that p_B = M @ p_A + offset."""
        c = np.asarray(self.center)
        return c + np.array([self.dy, self.dx]) - self.matrix @ c

    @classmethod
    def from_matrix(
        cls,
        matrix: ArrayLike,
        offset: ArrayLike,
        center: tuple[float, float] = (0.0, 0.0),
        quality: RegistrationQuality | None = None,
    ) -> Transform:
        """The transform p_B = ``matrix`` @ p_A + ``offset``, parametrised about ``center``."""
        matrix = np.asarray(matrix, dtype=np.float64)
        angle, scale, shear = _decompose(matrix)
        c = np.asarray(center, dtype=np.float64)
        dy, dx = matrix @ c + np.asarray(offset, dtype=np.float64) - c
        return cls(dy, dx, angle, tuple(c), scale, shear, quality)

    @property
    def inverse(self) -> Transform:
        """The transform from B back to A (about the same ``center``)."""
        inv = np.linalg.inv(self.matrix)
        return Transform.from_matrix(inv, -inv @ self.offset, self.center)

    def then(self, other: Transform) -> Transform:
        """This transform followed by ``other`` (A -> B -> C), about this ``center``."""
        return Transform.from_matrix(
            other.matrix @ self.matrix, other.matrix @ self.offset + other.offset, self.center
        )

    def with_quality(self, quality: RegistrationQuality | None) -> Transform:
        """The same transform carrying ``quality``."""
        return replace(self, quality=quality)

    def apply_to_points(self, yx: ArrayLike) -> NDArray[np.float64]:
        """Session-A (y, x) points (..., 2) in session-B pixels."""
        return np.asarray(yx, dtype=np.float64) @ self.matrix.T + self.offset

    def apply_to_image(
        self, image: ArrayLike, shape: tuple[int, int] | None = None, *, order: int = 1
    ) -> NDArray[np.float64]:
        """Resample a session-A image (H, W) into session B's frame of ``shape`` (default
        the image's own); spline ``order`` (1: linear); zero outside A."""
        from scipy.ndimage import affine_transform

        image = np.asarray(image, dtype=np.float64)
        inv = np.linalg.inv(self.matrix)
        return affine_transform(
            image, inv, -inv @ self.offset, output_shape=shape or image.shape, order=order
        )

    def apply_to_masks(
        self, masks: ArrayLike, shape: tuple[int, int] | None = None
    ) -> NDArray[np.float64]:
        """Session-A masks (n, H, W) resampled (linearly) into session B's frame (n, H', W'),
        ``shape`` = (H', W') defaulting to (H, W). Only each mask's bounding box is
        resampled, so the cost grows with the masks' area, not with n * H * W."""
        from scipy.ndimage import map_coordinates

        masks = np.asarray(masks)
        if masks.ndim != 3:
            raise ValueError(f"masks must be (n, H, W), got shape {masks.shape}")
        n, height, width = masks.shape
        out_shape = tuple(shape or (height, width))
        out = np.zeros((n, *out_shape))
        if n == 0:
            return out
        nonzero = masks.reshape(n, -1) != 0
        rows, cols = np.any(masks != 0, axis=2), np.any(masks != 0, axis=1)
        has = nonzero.any(axis=1)
        y0, y1 = rows.argmax(1), height - 1 - rows[:, ::-1].argmax(1)
        x0, x1 = cols.argmax(1), width - 1 - cols[:, ::-1].argmax(1)
        corners = np.stack(
            [np.stack([y0, x0], 1), np.stack([y0, x1], 1), np.stack([y1, x0], 1),
             np.stack([y1, x1], 1)], axis=1,
        ).astype(np.float64)  # fmt: skip
        mapped = self.apply_to_points(corners)
        lo = np.clip(np.floor(mapped.min(axis=1)) - 1, 0, None).astype(np.int64)
        hi = np.minimum(np.ceil(mapped.max(axis=1)) + 2, out_shape).astype(np.int64)
        size = np.where(has[:, None], np.clip(hi - lo, 0, None), 0)
        counts = size[:, 0] * size[:, 1]
        index = np.repeat(np.arange(n), counts)
        local = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        ty = lo[index, 0] + local // np.maximum(size[index, 1], 1)
        tx = lo[index, 1] + local % np.maximum(size[index, 1], 1)
        source = self.inverse.apply_to_points(np.stack([ty, tx], axis=1).astype(np.float64))
        values = map_coordinates(
            masks.astype(np.float64), [index.astype(np.float64), source[:, 0], source[:, 1]],
            order=1, cval=0.0,
        )  # fmt: skip
        out[index, ty, tx] = values
        return out


IDENTITY_ANGLE = 0.0

# ----------------------------------------------------------------------------------------
# Image preparation


def _upsample(small: NDArray[np.float64], factor: int, shape) -> NDArray[np.float64]:
    """Linear interpolation of block means (``_shrink`` by ``factor``) back to ``shape``."""
    out = small
    for axis, n in enumerate(shape):
        position = np.clip((np.arange(n) - (factor - 1) / 2) / factor, 0, small.shape[axis] - 1)
        lo = np.minimum(position.astype(np.int64), small.shape[axis] - 2)
        weight = position - lo
        if axis == 0:
            out = out[lo] * (1 - weight)[:, None] + out[lo + 1] * weight[:, None]
        else:
            out = out[:, lo] * (1 - weight) + out[:, lo + 1] * weight
    return out


def _smooth(image: NDArray[np.float64], sigma: float) -> NDArray[np.float64]:
    """Gaussian blur with SD ``sigma`` px, computed at reduced resolution for wide kernels
    (the result is smooth, so linear interpolation back loses nothing that matters)."""
    from scipy.ndimage import gaussian_filter

    factor = max(1, int(sigma // 3))
    if factor == 1 or min(image.shape) < 4 * factor:
        return gaussian_filter(image, sigma, mode="nearest")
    small = gaussian_filter(_shrink(image, factor), sigma / factor, mode="nearest")
    return _upsample(small, factor, image.shape)


def _normalise(image: ArrayLike) -> NDArray[np.float64]:
    """High-pass and locally contrast-normalise an image, so that cells (not brightness,
    gain, offset or illumination gradients) drive the correlation; clipped to +/-4."""
    image = np.nan_to_num(np.asarray(image, dtype=np.float64))
    high = image - _smooth(image, 10.0)
    local = np.sqrt(np.clip(_smooth(high**2, 20.0), 0, None))
    floor = 0.2 * np.sqrt(np.mean(high**2)) + 1e-12
    return np.clip(high / np.maximum(local, floor), -4.0, 4.0)


def _shrink(image: NDArray[np.float64], factor: int) -> NDArray[np.float64]:
    """Block means over ``factor`` x ``factor`` pixels: low-res pixel i covers full-res
    pixels [factor i, factor i + factor), centre factor i + (factor - 1) / 2."""
    if factor == 1:
        return image
    h, w = (s // factor * factor for s in image.shape)
    return image[:h, :w].reshape(h // factor, factor, w // factor, factor).mean(axis=(1, 3))


def _to_low(matrix, offset, factor):
    """A full-res affine map (matrix, offset) in 1/``factor`` resolution pixels."""
    half = np.full(2, (factor - 1) / 2)
    # p_full = f p_low + half;  q_full = M p_full + t;  q_low = (q_full - half) / f
    return matrix, (matrix @ half + offset - half) / factor


def _pad_image(image: ArrayLike, shape: tuple[int, int]) -> NDArray[np.float64]:
    """Zero-pad an image at the bottom and right: sessions whose fields of view differ by
    a few rows share the top-left origin."""
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2:
        raise ValueError(f"images must be 2-D (H, W), got shape {image.shape}")
    return np.pad(image, ((0, shape[0] - image.shape[0]), (0, shape[1] - image.shape[1])))


def _peaks(surfaces: NDArray[np.float64], radius: float):
    """Best (dy, dx, value) of each cyclic correlation surface (k, ny, nx) within
    ``radius`` of zero shift, with a parabolic sub-pixel step: three (k,) arrays."""
    k, ny, nx = surfaces.shape
    dy = np.abs(np.fft.fftfreq(ny, 1 / ny))
    dx = np.abs(np.fft.fftfreq(nx, 1 / nx))
    allowed = (dy[:, None] <= radius) & (dx[None, :] <= radius)
    flat = np.where(allowed, surfaces, -np.inf).reshape(k, -1)
    iy, ix = np.divmod(np.argmax(flat, axis=1), nx)
    kk = np.arange(k)
    mid = surfaces[kk, iy, ix]

    def step(left, right):
        denominator = left - 2 * mid + right
        safe = np.where(denominator < 0, denominator, -1.0)
        return np.where(denominator < 0, np.clip(0.5 * (left - right) / safe, -0.5, 0.5), 0.0)

    y = iy + step(surfaces[kk, (iy - 1) % ny, ix], surfaces[kk, (iy + 1) % ny, ix])
    x = ix + step(surfaces[kk, iy, (ix - 1) % nx], surfaces[kk, iy, (ix + 1) % nx])
    return np.where(y > ny / 2, y - ny, y), np.where(x > nx / 2, x - nx, x), mid


def _warp_batch(image, matrices, offsets, shape) -> NDArray[np.float64]:
    """``image`` resampled by each affine map q = M p + t ((k, 2, 2), (k, 2)) into
    (k, *shape): bilinear, zero outside the image."""
    inv = np.linalg.inv(matrices)
    start = -np.einsum("kij,kj->ki", inv, offsets)
    if len(matrices) == 1:  # one image: scipy's compiled resampler
        from scipy.ndimage import affine_transform

        return affine_transform(image, inv[0], start[0], output_shape=shape, order=1)[None]
    padded = np.pad(image, 1)
    ys = np.arange(shape[0], dtype=np.float64)[None, :, None]
    xs = np.arange(shape[1], dtype=np.float64)[None, None, :]
    src = [
        inv[:, a, 0, None, None] * ys + inv[:, a, 1, None, None] * xs + start[:, a, None, None] + 1
        for a in (0, 1)
    ]  # source (y, x) of every output pixel, in padded coordinates
    y = np.clip(src[0], 0, padded.shape[0] - 1.001)
    x = np.clip(src[1], 0, padded.shape[1] - 1.001)
    y0, x0 = y.astype(np.int64), x.astype(np.int64)
    fy, fx = y - y0, x - x0
    flat, width = padded.ravel(), padded.shape[1]
    i = y0 * width + x0
    top = flat[i] * (1 - fx) + flat[i + 1] * fx
    bottom = flat[i + width] * (1 - fx) + flat[i + width + 1] * fx
    return top * (1 - fy) + bottom * fy


# ----------------------------------------------------------------------------------------
# Model fitting on point correspondences


def _fit(src: NDArray, dst: NDArray, model: str) -> tuple[NDArray, NDArray]:
    """Least-squares (matrix, offset) with dst ~ matrix @ src + offset for ``model``."""
    mean_s, mean_d = src.mean(axis=0), dst.mean(axis=0)
    s, d = src - mean_s, dst - mean_d
    if model == "affine":
        matrix = np.linalg.lstsq(s, d, rcond=None)[0].T
    else:  # Umeyama: rotation (and isotropic scale) from the cross-covariance
        u, sv, vt = np.linalg.svd(d.T @ s)
        fix = np.diag([1.0, np.sign(np.linalg.det(u @ vt))])
        rot = u @ fix @ vt
        scale = (sv * np.diag(fix)).sum() / max((s**2).sum(), 1e-12)
        matrix = rot * (scale if model == "similarity" else 1.0)
    return matrix, mean_d - matrix @ mean_s


def _robust_fit(src, dst, model, tolerance, iterations=4):
    """Fit, reject correspondences off by more than max(``tolerance``, 3 robust SD), refit.

    Returns (matrix, offset, inlier mask, residuals (px) of all correspondences)."""
    minimum = {"rigid": 2, "similarity": 2, "affine": 3}[model]
    inliers = np.ones(len(src), dtype=bool)
    matrix, offset = np.eye(2), np.zeros(2)
    residual = np.full(len(src), np.inf)
    for _ in range(iterations):
        if inliers.sum() < minimum:
            break
        matrix, offset = _fit(src[inliers], dst[inliers], model)
        residual = np.hypot(*(src @ matrix.T + offset - dst).T)
        spread = 1.4826 * np.median(residual[inliers])
        keep = residual <= max(tolerance, 3.0 * spread)
        if np.array_equal(keep, inliers):
            break
        inliers = keep
    return matrix, offset, inliers, residual


# ----------------------------------------------------------------------------------------
# Registration


COARSE_SIDE = 56  # smaller side of the coarse-search image (px)
MAX_COARSE_FACTOR = 8


def _probe(shape) -> NDArray[np.float64]:
    """A 3 x 3 grid of points spanning a field of view (y, x), for comparing transforms."""
    ys, xs = np.linspace(0, shape[0] - 1, 3), np.linspace(0, shape[1] - 1, 3)
    return np.stack(np.meshgrid(ys, xs, indexing="ij"), axis=-1).reshape(-1, 2)


def _coarse_search(ref, mov, factor, angles, scales, max_shift):
    """Every (angle, isotropic scale) of the grid at 1/``factor`` resolution, each with
    its best shift within ``max_shift`` px from one FFT cross-correlation.

    Returns (matrices (k, 2, 2), offsets (k, 2) in full-res px, scores (k,): correlation
    peaks normalised by the images' energy, angles (k,), scales (k,))."""
    from scipy import fft
    from scipy.ndimage import gaussian_filter

    r = gaussian_filter(_shrink(ref, factor), 0.7)
    m = gaussian_filter(_shrink(mov, factor), 0.7)
    h, w = m.shape
    radius = max_shift / factor + 1
    size = (fft.next_fast_len(h + int(radius) + 1), fft.next_fast_len(w + int(radius) + 1))
    grid_a, grid_s = (g.ravel() for g in np.meshgrid(angles, scales, indexing="ij"))
    theta = np.deg2rad(grid_a)
    matrices = grid_s[:, None, None] * np.stack(
        [
            np.stack([np.cos(theta), -np.sin(theta)], -1),
            np.stack([np.sin(theta), np.cos(theta)], -1),
        ],
        axis=1,
    )
    centre = np.array([(h - 1) / 2, (w - 1) / 2])
    low_offsets = centre - matrices @ centre
    spectrum_m = fft.rfft2(m, size)
    scores, shifts = [], []
    for chunk in np.array_split(np.arange(len(matrices)), max(1, len(matrices) // 32)):
        warped = _warp_batch(r, matrices[chunk], low_offsets[chunk], (h, w))
        surfaces = fft.irfft2(spectrum_m[None] * np.conj(fft.rfft2(warped, size)), size)
        dy, dx, value = _peaks(surfaces, radius)
        energy = np.sqrt((warped**2).sum(axis=(1, 2)) * (m**2).sum()) + 1e-12
        scores.append(value / energy)
        shifts.append(np.stack([dy, dx], axis=1))
    scores, shifts = np.concatenate(scores), np.concatenate(shifts)
    # Full resolution: p_low = (p - half) / f;  q = f q_low + half.
    half = (factor - 1) / 2
    offsets = factor * (low_offsets + shifts) + half - matrices @ np.full(2, half)
    return matrices, offsets, scores, grid_a, grid_s


def _tiles(ref, mov, matrix, offset, factor, tile, search):
    """Local shifts between ``mov`` and ``ref`` warped by (matrix, offset), on tiles of
    ``tile`` full-res px compared at 1/``factor`` resolution, shifts within ``search``
    full-res px; returns correspondences (ref points, mov points) in full-res px, and
    how many tiles had content on both sides."""
    from scipy import fft

    low = max(8, tile // factor)
    m_low = _shrink(mov, factor)
    r_low = _shrink(ref, factor)
    lin, off = _to_low(matrix, offset, factor)
    w_low = _warp_batch(r_low, lin[None], off[None], m_low.shape)[0]
    h, w = m_low.shape
    if h < low or w < low:
        return np.zeros((0, 2)), np.zeros((0, 2)), 0
    step = low // 2
    ys = np.arange(0, h - low + 1, step)
    xs = np.arange(0, w - low + 1, step)
    if ys[-1] + low < h:
        ys = np.append(ys, h - low)
    if xs[-1] + low < w:
        xs = np.append(xs, w - low)
    oy, ox = (g.ravel() for g in np.meshgrid(ys, xs, indexing="ij"))
    # A tile is usable where the warped reference covers >= 80 % of it (5 x 5 samples).
    fractions = np.linspace(0, low - 1, 5)
    samples = np.stack(np.meshgrid(fractions, fractions, indexing="ij"), -1).reshape(-1, 2)
    points = np.stack([oy, ox], axis=1)[:, None, :] + samples[None]
    source = (points - off) @ np.linalg.inv(lin).T
    full = np.all((source >= 0) & (source <= np.array(r_low.shape) - 1), axis=2).mean(1) >= 0.8
    window = np.outer(np.hanning(low), np.hanning(low))
    a = np.lib.stride_tricks.sliding_window_view(w_low, (low, low))[oy, ox]
    b = np.lib.stride_tricks.sliding_window_view(m_low, (low, low))[oy, ox]
    a = (a - a.mean(axis=(1, 2), keepdims=True)) * window
    b = (b - b.mean(axis=(1, 2), keepdims=True)) * window
    energy_a, energy_b = np.sqrt((a**2).sum((1, 2))), np.sqrt((b**2).sum((1, 2)))
    typical = np.median(np.concatenate([energy_a[full], energy_b[full]])) if full.any() else 0
    content = full & (energy_a > 0.3 * typical) & (energy_b > 0.3 * typical)
    surfaces = fft.irfft2(fft.rfft2(b) * np.conj(fft.rfft2(a)), (low, low))
    dy, dx, value = _peaks(surfaces, search / factor)
    ncc = value / (energy_a * energy_b + 1e-12)
    use = content & (ncc > 0.2)
    half = (factor - 1) / 2
    centres = np.stack([oy, ox], axis=1) + (low - 1) / 2
    mov_pts = factor * centres[use] + half
    shifts = factor * np.stack([dy, dx], axis=1)[use]
    # mov(p) ~ warped(p - d) = ref(M^-1 (p - d - t)): the ref point seen at mov point p.
    ref_pts = (mov_pts - shifts - offset) @ np.linalg.inv(matrix).T
    return ref_pts, mov_pts, int(content.sum())


def _refine_tiles(ref, mov, matrix, offset, model, passes):
    """Tile passes ((factor, tile px, search px), ...), each refitting ``model`` robustly.

    Returns (matrix, offset, inlier fraction, residual px, n inliers): after the last
    pass, the tiles within ``MAX_RESIDUAL_PX`` of the fit among those with content on
    both sides, and their RMS misfit."""
    minimum = {"rigid": 2, "similarity": 2, "affine": 3}[model]
    for factor, tile, search in passes:
        ref_pts, mov_pts, n_content = _tiles(ref, mov, matrix, offset, factor, tile, search)
        if len(ref_pts) < minimum + 1:
            return matrix, offset, 0.0, math.nan, 0
        matrix, offset, _, residual = _robust_fit(ref_pts, mov_pts, model, 1.0 * factor)
    inliers = residual <= MAX_RESIDUAL_PX
    n_in = int(inliers.sum())
    residual_px = float(np.sqrt(np.mean(residual[inliers] ** 2))) if n_in else math.nan
    return matrix, offset, n_in / max(n_content, 1), residual_px, n_in


def _correlation(ref, mov, matrix, offset, factor) -> float:
    """Pearson correlation of ``mov`` and warped ``ref`` over their overlap (1/factor res)."""
    m_low, r_low = _shrink(mov, factor), _shrink(ref, factor)
    lin, off = _to_low(matrix, offset, factor)
    grid = np.stack(np.mgrid[0 : m_low.shape[0], 0 : m_low.shape[1]], axis=-1).reshape(-1, 2)
    source = (grid - off) @ np.linalg.inv(lin).T
    inside = np.all((source >= 0) & (source <= np.array(r_low.shape) - 1), axis=1)
    if inside.sum() < 10:
        return math.nan
    warped = _warp_batch(r_low, lin[None], off[None], m_low.shape)[0].ravel()
    a, b = warped[inside], m_low.ravel()[inside]
    if a.std() == 0 or b.std() == 0:
        return math.nan
    return float(np.corrcoef(a, b)[0, 1])


@dataclass(frozen=True)
class _Options:
    """Checked registration options (see :func:`register`)."""

    model: str
    max_angle: float
    max_shift: float | None
    scale_range: tuple[float, float]
    max_shear: float

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise ValueError(f"model must be one of {MODELS}, got {self.model!r}")
        if not 0 <= self.max_angle <= 90:
            raise ValueError(f"max_angle must be within 0-90 degrees, got {self.max_angle}")
        lo, hi = (float(v) for v in self.scale_range)
        if not 0 < lo <= 1 <= hi:
            raise ValueError(
                f"scale_range must satisfy 0 < low <= 1 <= high, got {self.scale_range}"
            )
        object.__setattr__(self, "scale_range", (lo, hi))
        if self.max_shift is not None and not self.max_shift > 0:
            raise ValueError(f"max_shift must be > 0 px, got {self.max_shift}")
        if not self.max_shear >= 0:
            raise ValueError(f"max_shear must be >= 0, got {self.max_shear}")


def _prepare(image: ArrayLike, shape: tuple[int, int], name: str) -> NDArray[np.float64]:
    """An image zero-padded to ``shape`` and normalised for registration."""
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2:
        raise ValueError(f"{name} must be a 2-D image (H, W), got shape {image.shape}")
    if image.shape[0] > shape[0] or image.shape[1] > shape[1]:
        raise ValueError(f"{name} of shape {image.shape} is larger than the field {shape}")
    if min(shape) < 32:
        raise ValueError(f"images of {shape} px are too small to register (need >= 32 px)")
    return _normalise(_pad_image(image, shape))


def _register(ref_image: ArrayLike, moving_image: ArrayLike, options: _Options) -> Transform:
    """Register two raw images; quality problems recorded, not yet warned about."""
    ref_image, moving_image = np.asarray(ref_image), np.asarray(moving_image)
    if ref_image.ndim != 2 or moving_image.ndim != 2:
        raise ValueError(
            f"images must be 2-D (H, W), got shapes {ref_image.shape} and {moving_image.shape}"
        )
    shape = (max(ref_image.shape[0], moving_image.shape[0]),
             max(ref_image.shape[1], moving_image.shape[1]))  # fmt: skip
    ref = _prepare(ref_image, shape, "ref_image")
    mov = _prepare(moving_image, shape, "moving_image")
    return _register_prepared(ref, mov, options)


def _register_prepared(ref, mov, options: _Options, tries: int = 3) -> Transform:
    """Register two normalised images of one shape (see :func:`register`), refining at
    most ``tries`` distinct coarse candidates."""
    model, max_angle, max_shear = options.model, options.max_angle, options.max_shear
    lo_scale, hi_scale = options.scale_range
    shape = mov.shape
    max_shift = 0.25 * min(shape) if options.max_shift is None else options.max_shift
    center = ((shape[0] - 1) / 2, (shape[1] - 1) / 2)
    # Coarse pixels of at most 8 px keep cells (radius >= ~4 px) visible on large fields.
    factor = max(1, min(MAX_COARSE_FACTOR, round(min(shape) / COARSE_SIDE)))
    # Grid steps: the far corner moves <= ~1.5 coarse px between neighbouring candidates.
    reach = np.hypot(*shape) / 2 / factor
    step = min(2.0, np.degrees(1.5 / reach))
    n_steps = int(np.ceil(max_angle / step - 1e-9))
    angles = np.linspace(-max_angle, max_angle, 2 * n_steps + 1) if n_steps else np.zeros(1)
    if model == "rigid":
        scales = np.ones(1)
    else:
        scale_step = 0.05  # 2.5 % off at most: the tile passes absorb the rest
        n_lo = int(np.ceil((1 - lo_scale) / scale_step - 1e-9))
        n_hi = int(np.ceil((hi_scale - 1) / scale_step - 1e-9))
        scales = np.concatenate(
            [np.linspace(lo_scale, 1, n_lo + 1)[:-1], [1.0], np.linspace(1, hi_scale, n_hi + 1)[1:]]
        )
    matrices, offsets, scores, grid_a, grid_s = _coarse_search(
        ref, mov, factor, angles, scales, max_shift
    )
    probe = _probe(shape)
    distinct = max(0.04 * np.hypot(*shape), 3.0 * factor)

    def spread(matrix, offset):  # median distance (px) between mappings of the probe grid
        here = probe @ matrix.T + offset
        there = probe @ np.swapaxes(matrices, 1, 2) + offsets[:, None, :]
        return np.median(np.sqrt(np.sum((there - here) ** 2, axis=-1)), axis=1)

    half = max(1, factor // 2)
    # Tiles: a coarse pass (large tiles, wide search), then a fine one at full resolution.
    big, small = min(128, min(shape) // 3), min(64, min(shape) // 4)
    passes = [(half, big, min(40, big // 3)), (1, small, 6)]
    order = np.argsort(-scores)
    tried = []
    for start in order[:1].tolist() + [int(i) for i in order[1:]]:
        if any(spread(matrices[t], offsets[t])[start] <= distinct for t in tried):
            continue  # same basin as one already refined
        tried.append(start)
        matrix, offset, fraction, residual_px, n_in = _refine_tiles(
            ref, mov, matrices[start], offsets[start], model, passes
        )
        correlation = _correlation(ref, mov, matrix, offset, half)
        result = (matrix, offset, fraction, residual_px, n_in, correlation, start)
        if len(tried) == 1:
            best = result
        elif _score_parts(correlation, fraction) > _score_parts(best[5], best[2]):
            best = result
        if fraction >= MIN_INLIER_FRACTION and correlation >= MIN_CORRELATION:
            break
        if len(tried) >= tries:
            break
    matrix, offset, fraction, residual_px, n_in, correlation, start = best
    away = spread(matrix, offset) > distinct
    near_best = scores[~away].max() if (~away).any() else scores[start]
    second = scores[away].max() / near_best if away.any() and near_best > 0 else 0.0
    transform = Transform.from_matrix(matrix, offset, center)
    edges = []
    a0, s0 = grid_a[start], grid_s[start]
    if n_steps and abs(a0) >= max_angle - 1e-9:
        edges.append(f"coarse angle {a0:+.1f} deg at the edge of +/-{max_angle:g}")
    if len(scales) > 1 and (s0 <= scales[0] + 1e-9 or s0 >= scales[-1] - 1e-9):
        edges.append(f"coarse scale {s0:.3f} at the edge of {lo_scale:g}-{hi_scale:g}")
    shift = np.asarray(transform.apply_to_points(center)) - center
    if np.max(np.abs(shift)) >= max_shift - factor:
        edges.append(f"shift ({shift[0]:+.0f}, {shift[1]:+.0f}) px at the edge of +/-{max_shift:g}")
    if abs(transform.angle) > max_angle + step / 2:
        edges.append(f"angle {transform.angle:+.1f} deg beyond max_angle {max_angle:g}")
    quality = _judge(
        RegistrationQuality(
            correlation=correlation,
            second_peak_ratio=float(second),
            inlier_fraction=fraction,
            residual_px=residual_px,
            n_inliers=n_in,
            on_edge=tuple(edges),
        ),
        edges + _range_problems(transform, model, (lo_scale, hi_scale), max_shear),
    )
    return transform.with_quality(quality)


def _score_parts(correlation: float, fraction: float) -> float:
    return float(np.nan_to_num(correlation) * np.nan_to_num(fraction))


def _range_problems(transform, model, scale_range, max_shear):
    problems = []
    if model != "rigid" and not all(
        scale_range[0] - 0.01 <= s <= scale_range[1] + 0.01 for s in transform.scale
    ):
        problems.append(
            f"scale ({transform.scale[0]:.3f}, {transform.scale[1]:.3f}) outside "
            f"scale_range {scale_range[0]:.2f}-{scale_range[1]:.2f}"
        )
    if model == "affine" and abs(transform.shear) > max_shear:
        problems.append(f"shear {transform.shear:+.3f} beyond max_shear {max_shear:.3f}")
    return problems


def _judge(
    quality: RegistrationQuality, problems: list[str], registered: bool = True
) -> RegistrationQuality:
    """Add the threshold problems to ``problems`` and store them on ``quality``; the
    registration numbers are judged only for a ``registered`` (estimated) transform."""
    q = quality
    if not registered:
        pass
    elif not q.correlation >= MIN_CORRELATION:
        problems.append(f"low image correlation {q.correlation:.2f} (< {MIN_CORRELATION})")
    if registered and q.second_peak_ratio > MAX_SECOND_PEAK:
        problems.append(
            f"ambiguous: a distinct alternative scores {q.second_peak_ratio:.2f} of the best "
            f"(> {MAX_SECOND_PEAK})"
        )
    if registered and not q.inlier_fraction >= MIN_INLIER_FRACTION:
        problems.append(
            f"only {q.inlier_fraction:.2f} of tiles agree with the fit (< {MIN_INLIER_FRACTION})"
        )
    if q.residual_px > MAX_RESIDUAL_PX:
        problems.append(f"residual {q.residual_px:.2f} px (> {MAX_RESIDUAL_PX})")
    if q.matched_fraction < MIN_MATCHED_FRACTION:
        problems.append(f"only {q.matched_fraction:.2f} of ROIs matched (< {MIN_MATCHED_FRACTION})")
    return replace(q, problems=tuple(dict.fromkeys(problems)))


def _check_on_low_quality(on_low_quality: str) -> None:
    if on_low_quality not in ("warn", "raise", "ignore"):
        raise ValueError(
            f"on_low_quality must be 'warn', 'raise' or 'ignore', got {on_low_quality!r}"
        )


def _report(quality: RegistrationQuality | None, on_low_quality: str, what: str) -> None:
    """Warn (or raise) about a flagged ``quality``, naming ``what`` and the numbers."""
    if quality is None or quality.ok or on_low_quality == "ignore":
        return
    message = f"{what}: registration quality is low ({quality}); do not trust these matches"
    if on_low_quality == "raise":
        raise RegistrationError(message)
    warnings.warn(message, RegistrationWarning, stacklevel=3)


def register(
    ref_image: ArrayLike,
    moving_image: ArrayLike,
    *,
    model: Model = "affine",
    max_angle: float = 15.0,
    max_shift: float | None = None,
    scale_range: tuple[float, float] = (0.9, 1.1),
    max_shear: float = 0.05,
    on_low_quality: OnLowQuality = "warn",
) -> Transform:
    """The transform taking ``ref_image`` (session A, (H, W)) onto ``moving_image`` (B).

    ``model``: ``"rigid"`` (rotation + translation), ``"similarity"`` (+ isotropic scale)
    or ``"affine"`` (+ anisotropic scale and shear). Rotations within +/-``max_angle``
    degrees, shifts within ``max_shift`` px (default a quarter of the smaller side) and
    zooms within ``scale_range`` are searched on a coarse grid at reduced resolution
    (cross-correlation of high-passed, contrast-normalised images: brightness, gain and
    illumination gradients do not matter); the winner is refined twice by tile-wise
    cross-correlation and a robust fit of ``model`` to the tile shifts. Images of
    different shapes share their top-left origin (zero-padded).

    Returns a :class:`Transform` (A pixels -> B pixels, about the image centre) whose
    ``quality`` reports the correlation, the ambiguity of the coarse search, the tile
    inlier fraction and residual, and parameters on the edge of their search range. A
    flagged registration warns (:class:`RegistrationWarning`) with these numbers, raises
    (:class:`RegistrationError`) with ``on_low_quality="raise"``, or is returned silently
    with ``"ignore"``.
    """
    _check_on_low_quality(on_low_quality)
    options = _Options(model, max_angle, max_shift, scale_range, max_shear)
    transform = _register(ref_image, moving_image, options)
    transform = transform.with_quality(replace(transform.quality, source="image"))
    _report(transform.quality, on_low_quality, "register")
    return transform


# ----------------------------------------------------------------------------------------
# Footprints


@dataclass
class _Footprints:
    """One session's ROIs: ``roi`` (pixels,) owner, ``yx`` (pixels, 2) float coordinates,
    ``centroid`` (n, 2) weighted centroids, ``n`` ROIs, ``shape`` (H, W)."""

    roi: NDArray[np.int64]
    yx: NDArray[np.float64]
    weight: NDArray[np.float64]
    centroid: NDArray[np.float64]
    n: int
    shape: tuple[int, int]


def _finish(roi, y, x, w, n, shape) -> _Footprints:
    """Footprint pixels and weighted centroids; an empty ROI is an error naming it."""
    empty = np.flatnonzero(np.bincount(roi, minlength=n) == 0)
    if empty.size:
        raise ValueError(f"masks {empty[:10].tolist()} are empty (no positive pixel)")
    total = np.bincount(roi, weights=w, minlength=n)
    centroid = np.stack(
        [np.bincount(roi, weights=w * y, minlength=n) / total,
         np.bincount(roi, weights=w * x, minlength=n) / total], axis=1,
    )  # fmt: skip
    yx = np.stack([y, x], axis=1).astype(np.float64)
    return _Footprints(roi.astype(np.int64), yx, w, centroid, n, tuple(int(s) for s in shape))


def _footprints(masks: NDArray, threshold: float) -> _Footprints:
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
    return _finish(roi, y, x, w, n, (height, width))


def _sparse_footprints(masks, threshold: float, fov_shape: tuple[int, int]) -> _Footprints:
    """Footprints of sparse (n_rois, H * W) masks, as NWB pixel masks store them."""
    coo = masks.tocoo()
    n = masks.shape[0]
    peak = np.zeros(n)
    np.maximum.at(peak, coo.row, coo.data)
    keep = (coo.data > 0) & (coo.data >= threshold * peak[coo.row])
    y, x = np.divmod(coo.col[keep], fov_shape[1])
    return _finish(coo.row[keep], y, x, coo.data[keep].astype(np.float64), n, fov_shape)


def _load(stacks, names, threshold, fov_shape) -> list[_Footprints]:
    """Footprints of every session's masks; ``fov_shape`` one (H, W) or one per session."""
    from scipy import sparse

    if fov_shape is not None and np.ndim(fov_shape) == 1:
        shapes = [tuple(fov_shape)] * len(stacks)
    elif fov_shape is not None:
        shapes = [tuple(s) for s in fov_shape]
        if len(shapes) != len(stacks):
            raise ValueError(f"fov_shape gives {len(shapes)} shapes for {len(stacks)} sessions")
    else:
        shapes = [None] * len(stacks)
    footprints = []
    for name, masks, shape in zip(names, stacks, shapes, strict=True):
        if sparse.issparse(masks):
            if shape is None or masks.shape[1] != shape[0] * shape[1]:
                raise ValueError(
                    f"{name}: sparse masks (n_rois, H * W) need fov_shape=(H, W) matching "
                    f"their {masks.shape[1]} columns, got fov_shape={fov_shape}"
                )
            footprints.append(_sparse_footprints(masks, threshold, shape))
            continue
        masks = np.asarray(masks)
        if masks.ndim != 3:
            raise ValueError(f"{name} must be (n, H, W), got shape {masks.shape}")
        footprints.append(_footprints(masks, threshold))
    return footprints


def _projection(fp: _Footprints, shape) -> NDArray[np.float64]:
    """Image of all footprints, each scaled to peak 1, for registering without images."""
    peak = np.zeros(fp.n)
    np.maximum.at(peak, fp.roi, fp.weight)
    y, x = fp.yx.astype(np.int64).T
    return np.bincount(
        y * shape[1] + x, weights=fp.weight / peak[fp.roi], minlength=shape[0] * shape[1]
    ).reshape(shape)


def _common_shape(footprints: Sequence[_Footprints]) -> tuple[int, int]:
    return tuple(int(max(fp.shape[axis] for fp in footprints)) for axis in (0, 1))


# ----------------------------------------------------------------------------------------
# Footprints in a common frame, and one-to-one matching by IoU


def _warp_pixels(fp: _Footprints, transform: Transform | None):
    """``fp``'s footprint pixels drawn in the target frame of ``transform`` (None: as
    they are): every target pixel in each ROI's mapped bounding box whose inverse-mapped
    nearest source pixel belongs to the ROI (no holes under zoom). Returns (roi, y, x)
    integer arrays; y and x may fall outside the source field of view."""
    if fp.n == 0 or transform is None or (
        transform.angle == 0 and transform.scale == (1.0, 1.0) and transform.shear == 0
        and transform.dy == 0 and transform.dx == 0
    ):  # fmt: skip
        y, x = fp.yx.astype(np.int64).T
        return fp.roi, y, x
    # Bounding boxes of each ROI in the target frame.
    order = np.argsort(fp.roi, kind="stable")
    roi, yx = fp.roi[order], fp.yx[order]
    key_source = roi * (fp.shape[0] * fp.shape[1]) + (yx[:, 0] * fp.shape[1] + yx[:, 1]).astype(
        np.int64
    )
    starts = np.searchsorted(roi, np.arange(fp.n))
    lo_src = np.stack([np.minimum.reduceat(yx[:, a], starts) for a in (0, 1)], 1)
    hi_src = np.stack([np.maximum.reduceat(yx[:, a], starts) for a in (0, 1)], 1)
    corners = np.stack(
        [lo_src, np.stack([lo_src[:, 0], hi_src[:, 1]], 1),
         np.stack([hi_src[:, 0], lo_src[:, 1]], 1), hi_src], axis=1,
    )  # fmt: skip
    mapped = transform.apply_to_points(corners)
    lo = np.floor(mapped.min(axis=1)).astype(np.int64) - 1
    hi = np.ceil(mapped.max(axis=1)).astype(np.int64) + 2
    size = hi - lo
    counts = size[:, 0] * size[:, 1]
    index = np.repeat(np.arange(fp.n), counts)
    local = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    ty = lo[index, 0] + local // size[index, 1]
    tx = lo[index, 1] + local % size[index, 1]
    source = np.rint(transform.inverse.apply_to_points(np.stack([ty, tx], 1).astype(float)))
    sy, sx = source.astype(np.int64).T
    inside = (sy >= 0) & (sy < fp.shape[0]) & (sx >= 0) & (sx < fp.shape[1])
    key = index * (fp.shape[0] * fp.shape[1]) + sy * fp.shape[1] + sx
    key_sorted = np.sort(key_source)
    pos = np.clip(np.searchsorted(key_sorted, key), 0, key_sorted.size - 1)
    hit = inside & (key_sorted[pos] == key)
    return index[hit], ty[hit], tx[hit]


@dataclass
class _Drawn:
    """ROIs drawn in a common frame: sparse (n, canvas pixels) boolean matrix, sizes,
    centroids in the frame."""

    matrix: object
    size: NDArray[np.float64]
    centroid: NDArray[np.float64]


def _draw(fps, transforms) -> list[_Drawn]:
    """Every session's footprints in the common frame, on one canvas that holds them all."""
    from scipy import sparse

    warped = [_warp_pixels(fp, t) for fp, t in zip(fps, transforms, strict=True)]
    lo = np.min([[y.min(initial=0), x.min(initial=0)] for _, y, x in warped], axis=0)
    hi = np.max([[y.max(initial=0), x.max(initial=0)] for _, y, x in warped], axis=0)
    width = int(hi[1] - lo[1] + 1)
    canvas = int((hi[0] - lo[0] + 1) * width)
    drawn = []
    for fp, t, (roi, y, x) in zip(fps, transforms, warped, strict=True):
        flat = (y - lo[0]) * width + (x - lo[1])
        matrix = sparse.csr_matrix((np.ones(roi.size), (roi, flat)), shape=(fp.n, canvas))
        matrix.sum_duplicates()
        matrix.data[:] = 1.0
        size = np.asarray(matrix.sum(axis=1)).ravel()
        centroid = fp.centroid if t is None else t.apply_to_points(fp.centroid)
        drawn.append(_Drawn(matrix, size, centroid))
    return drawn


def _pair_up(a: _Drawn, b: _Drawn, max_distance: float, min_iou: float):
    """One-to-one pairs (k, 2), IoU (k,) and centroid distances (k,) of two sessions drawn
    in one frame: candidates within ``max_distance`` px with IoU >= ``min_iou``, assigned
    by maximum total IoU per connected group of candidates."""
    from scipy.optimize import linear_sum_assignment
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    n_a, n_b = len(a.centroid), len(b.centroid)
    candidates = cKDTree(a.centroid).sparse_distance_matrix(
        cKDTree(b.centroid), max_distance, output_type="coo_matrix"
    )
    ia, ib = candidates.row.astype(np.int64), candidates.col.astype(np.int64)
    overlap = np.asarray(a.matrix[ia].multiply(b.matrix[ib]).sum(axis=1)).ravel()
    iou = overlap / np.maximum(a.size[ia] + b.size[ib] - overlap, 1)
    keep = iou >= min_iou
    ia, ib, iou = ia[keep], ib[keep], iou[keep]
    graph = csr_matrix((np.ones(ia.size), (ia, n_a + ib)), shape=(n_a + n_b,) * 2)
    _, label = connected_components(graph, directed=False)
    component = label[ia]
    order = np.argsort(component, kind="stable")
    bounds = np.flatnonzero(np.diff(component[order])) + 1
    chosen = []
    for group in np.split(order, bounds) if order.size else []:
        if group.size == 1:
            chosen.append(group)
            continue
        rows, row_index = np.unique(ia[group], return_inverse=True)
        cols, col_index = np.unique(ib[group], return_inverse=True)
        cost = np.full((rows.size, cols.size), 2.0)  # 2: not a candidate
        cost[row_index, col_index] = 1.0 - iou[group]
        lookup = np.full((rows.size, cols.size), -1)
        lookup[row_index, col_index] = group
        r, c = linear_sum_assignment(cost)
        ok = cost[r, c] < 2.0
        chosen.append(lookup[r[ok], c[ok]])
    chosen = np.concatenate(chosen) if chosen else np.zeros(0, dtype=np.int64)
    chosen = chosen[np.lexsort((ib[chosen], ia[chosen]))]
    pairs = np.stack([ia[chosen], ib[chosen]], axis=1).reshape(-1, 2)
    distances = np.hypot(*(a.centroid[pairs[:, 0]] - b.centroid[pairs[:, 1]]).T)
    return pairs, iou[chosen], distances


def _mutual_nearest(p, q, radius):
    """Index pairs (i, j) of points p and q that are each other's nearest within radius."""
    from scipy.spatial import cKDTree

    if len(p) == 0 or len(q) == 0:
        return np.zeros((0, 2), dtype=np.int64)
    d, j = cKDTree(q).query(p, distance_upper_bound=radius)
    i = np.flatnonzero(np.isfinite(d))
    j = j[i]
    _, back = cKDTree(p).query(q[j])
    mutual = back == i
    return np.stack([i[mutual], j[mutual]], axis=1)


def _refine_on_centroids(transform, cen_a, cen_b, model, radius, iterations=4):
    """Polish ``transform`` on mutually nearest ROI centroids (robust fit of ``model``);
    returns ``transform`` itself when too few centroids pair up."""
    minimum = {"rigid": 2, "similarity": 2, "affine": 3}[model]
    current = transform
    for k in range(iterations):
        moved = current.apply_to_points(cen_a)
        pairs = _mutual_nearest(moved, cen_b, radius if k == 0 else max(radius * 0.6, 3.0))
        if len(pairs) < max(minimum, 6):
            break
        matrix, offset, _, _ = _robust_fit(cen_a[pairs[:, 0]], cen_b[pairs[:, 1]], model, 1.5)
        current = Transform.from_matrix(matrix, offset, transform.center)
    return current.with_quality(transform.quality)


def _with_matched(quality: RegistrationQuality | None, n_pairs: int, n_a: int, n_b: int):
    """``quality`` (or an empty report for a transform given by hand) with the fraction
    of the smaller session's ROIs that were matched judged too (NaN without ROIs)."""
    matched = n_pairs / min(n_a, n_b) if min(n_a, n_b) else math.nan
    base = quality or RegistrationQuality()
    fresh = replace(base, matched_fraction=matched, problems=())
    return _judge(fresh, list(base.problems), registered=quality is not None)


def _candidates(images, prints, fp_a, fp_b, options, refine, radius) -> list[Transform]:
    """Candidate transforms A -> B: registered on the projection ``images`` (a pair of
    prepared images, or None) and on the summed footprints ``prints``. ``refine``: polish
    on mutually nearest ROI centroids every candidate (True), none (False), or only the
    footprint one (None: the tile fit on real images is the finer of the two). Each
    carries its quality, with ``source`` naming what it was registered on; the image
    candidate comes first. The footprints are registered first: when that registration
    is clean the image one refines only its best coarse candidate (a second opinion, not
    a search: weak images would otherwise cost three refinements)."""
    out = {}
    for source, pair in (("footprints", prints), ("image", images)):
        if pair is None:
            continue
        clean = "footprints" in out and out["footprints"].quality.ok
        t = _register_prepared(pair[0], pair[1], options, tries=1 if clean else 3)
        t = t.with_quality(replace(t.quality, source=source))
        if refine or (refine is None and source == "footprints"):
            t = _refine_on_centroids(t, fp_a.centroid, fp_b.centroid, options.model, radius)
        out[source] = t
    return [out[k] for k in ("image", "footprints") if k in out]


def _pick(candidates, fp_a, others, transforms, max_distance, min_iou):
    """The candidate (A -> common frame) bringing most ROIs of ``fp_a`` into one-to-one
    overlap with the ROIs of ``others`` (each drawn by its own entry of ``transforms``,
    None: as it is): one-to-one assignment on IoU as in :func:`match`, pairs summed over
    ``others``. Among candidates within 2 % of the most pairs (two right answers differ
    by a pair or two), the first whose quality report is clean wins. Returns (transform,
    pair count)."""
    counts = []
    for t in candidates:
        drawn = _draw([fp_a, *others], [t, *transforms])
        counts.append(sum(len(_pair_up(drawn[0], d, max_distance, min_iou)[0]) for d in drawn[1:]))
    top = max(counts)
    near = [k for k, c in enumerate(counts) if c >= 0.98 * top]
    clean = [k for k in near if candidates[k].quality is None or candidates[k].quality.ok]
    pick = clean[0] if clean else int(np.argmax(counts))
    return candidates[pick], counts[pick]


@dataclass(frozen=True)
class MatchResult:
    """``pairs`` (k, 2): indices into masks A and B; ``scores`` (k,): IoU of each pair in
    B's frame; ``distances`` (k,): centroid distance (pixels) after the transform;
    ``transform``: A -> B as used; ``quality``: its :class:`RegistrationQuality` with the
    matched fraction (``quality.ok`` False means: do not trust these pairs)."""

    pairs: NDArray[np.int_]
    scores: NDArray[np.float64]
    distances: NDArray[np.float64]
    transform: Transform
    quality: RegistrationQuality | None = None


def match(
    masks_a: ArrayLike,
    masks_b: ArrayLike,
    image_a: ArrayLike | None = None,
    image_b: ArrayLike | None = None,
    *,
    transform: Transform | None = None,
    register_fov: bool = True,
    model: Model = "affine",
    max_angle: float = 15.0,
    max_shift: float | None = None,
    scale_range: tuple[float, float] = (0.9, 1.1),
    max_shear: float = 0.05,
    refine: bool | None = None,
    max_distance: float = 8.0,
    min_iou: float = 0.3,
    threshold: float = 0.3,
    fov_shape: tuple[int, int] | Sequence[tuple[int, int]] | None = None,
    on_low_quality: OnLowQuality = "warn",
) -> MatchResult:
    """Pair ROIs of two sessions one-to-one.

    ``masks_a`` (n_a, H, W) and ``masks_b`` (n_b, H', W'): boolean or weighted footprints
    (fields of view of different size share their top-left origin), or scipy.sparse
    matrices (n_rois, H * W) with ``fov_shape=(H, W)`` (or one shape per session);
    pixels at or above ``threshold`` of a mask's peak form its footprint. The fields of
    view are registered (:func:`register`, with ``model``, ``max_angle``, ``max_shift``,
    ``scale_range``, ``max_shear``) from the summed footprints and, when given, from
    ``image_a``/``image_b`` (e.g. mean projections); with ``refine`` (default: only the
    footprint candidate) a candidate is then polished on mutually nearest ROI centroids,
    and the candidate that brings most ROIs into one-to-one overlap (IoU, as below) is
    used: mean images of two sessions may share little texture (correlation ~0.1) while
    their cells still coincide. Among candidates within 2 % of the most pairs, one with
    a clean quality report is preferred; ``result.quality.source`` says which was used.
    Pass ``transform`` to skip all this, or ``register_fov=False`` to assume nothing
    moved. Pairs need centroids within ``max_distance`` pixels and IoU >= ``min_iou``
    after the transform.

    A flagged registration, or a matched fraction below 0.2, warns with the numbers
    (:class:`RegistrationWarning`; ``on_low_quality="raise"`` raises
    :class:`RegistrationError`, ``"ignore"`` does neither); the numbers are in
    ``result.quality``.
    """
    _check_on_low_quality(on_low_quality)
    options = _Options(model, max_angle, max_shift, scale_range, max_shear)
    fp_a, fp_b = _load([masks_a, masks_b], ["masks_a", "masks_b"], threshold, fov_shape)
    shape = _common_shape([fp_a, fp_b])
    center = ((shape[0] - 1) / 2, (shape[1] - 1) / 2)
    if transform is None:
        if not register_fov:
            transform = Transform(0.0, 0.0, IDENTITY_ANGLE, center)
        else:
            images = None
            if image_a is not None or image_b is not None:
                ref = _projection(fp_a, shape) if image_a is None else image_a
                mov = _projection(fp_b, shape) if image_b is None else image_b
                images = (_prepare(ref, shape, "image_a"), _prepare(mov, shape, "image_b"))
            prints = tuple(
                _prepare(_projection(fp, shape), shape, "footprints") for fp in (fp_a, fp_b)
            )
            candidates = _candidates(images, prints, fp_a, fp_b, options, refine, max_distance)
            transform, _ = _pick(candidates, fp_a, [fp_b], [None], max_distance, min_iou)
    drawn_a, drawn_b = _draw([fp_a, fp_b], [transform, None])
    pairs, scores, distances = _pair_up(drawn_a, drawn_b, max_distance, min_iou)
    quality = _with_matched(transform.quality, len(pairs), fp_a.n, fp_b.n)
    _report(quality, on_low_quality, "match")
    return MatchResult(pairs, scores, distances, transform, quality)


# ----------------------------------------------------------------------------------------
# Many sessions


@dataclass(frozen=True)
class Tracks:
    """Cells tracked across sessions.

    ``indices`` (n_tracks, n_sessions): ROI index of each track in each session, -1 where
    absent; every ROI of every session is in exactly one track. ``confidence``
    (n_tracks,): the fraction of the track's pairs of sessions whose ROIs were matched
    directly (1: every pair agrees; NaN for a track seen in one session). ``transforms``:
    session k -> the reference session's frame (identity for the reference).
    ``reference``: that session's index. ``pair_counts`` (n_sessions, n_sessions):
    matched ROI pairs between each two sessions. ``quality``: each session's
    registration to the reference (for a session placed through another session, its
    registration to that session), with the fraction of its ROIs matched in the
    reference (None for the reference itself). ``np.asarray(tracks)`` gives ``indices``.
    """

    indices: NDArray[np.int_]
    confidence: NDArray[np.float64]
    transforms: tuple[Transform, ...]
    reference: int
    pair_counts: NDArray[np.int_]
    quality: tuple[RegistrationQuality | None, ...]

    def __array__(self, dtype=None, copy=None):
        return self.indices if dtype is None else self.indices.astype(dtype)

    def __len__(self) -> int:
        return len(self.indices)

    @property
    def n_sessions_seen(self) -> NDArray[np.int_]:
        """(n_tracks,) number of sessions in which each track has an ROI."""
        return (self.indices >= 0).sum(axis=1)


def _design(points: NDArray[np.float64], model: str) -> NDArray[np.float64]:
    """(n, 2, d): the map of centred points p to F(p) = G(p) theta for the free part of
    one session's transform: ``"affine"`` (d = 6: rows of [A | t]), ``"similarity"``
    (d = 4: A = [[a, -b], [b, a]], t), ``"shift"`` (d = 2: t only)."""
    n = len(points)
    y, x, one, zero = points[:, 0], points[:, 1], np.ones(n), np.zeros(n)
    if model == "affine":
        rows = [[y, x, one, zero, zero, zero], [zero, zero, zero, y, x, one]]
    elif model == "similarity":
        rows = [[y, -x, one, zero], [x, y, zero, one]]
    else:
        rows = [[one, zero], [zero, one]]
    return np.transpose(np.array(rows), (2, 0, 1))


def _solve_joint(links, n, reference, linear, model, center):
    """Least-squares transforms (to the reference frame) of all sessions at once.

    ``links``: (i, j, points_i, points_j, weights) of centroids that should coincide;
    ``linear``: each session's current linear part (used for ``model="shift"``). Returns
    per session (matrix, offset) or None where the session has no links."""
    d = {"affine": 6, "similarity": 4, "shift": 2}[model]
    index = {k: m for m, k in enumerate(k for k in range(n) if k != reference)}
    size = d * len(index)
    normal, rhs = np.zeros((size, size)), np.zeros(size)
    linked = set()
    for i, j, pi, pj, w in links:
        # residual = F_i(p_i) - F_j(p_j), F_k(p) = G theta_k + K_k(p) (K: the known part)
        parts = []
        for k, p, sign in ((i, pi, 1.0), (j, pj, -1.0)):
            if k == reference:
                parts.append((None, None, sign * p))
            elif model == "shift":
                parts.append((k, sign * _design(p, model), sign * p @ linear[k].T))
            else:
                parts.append((k, sign * _design(p, model), np.zeros_like(p)))
        known = parts[0][2] + parts[1][2]
        for k, g, _ in parts:
            if k is None:
                continue
            linked.add(k)
            a = slice(d * index[k], d * index[k] + d)
            rhs[a] -= np.einsum("nad,na->d", g * w[:, None, None], known)
            for k2, g2, _ in parts:
                if k2 is not None:
                    b = slice(d * index[k2], d * index[k2] + d)
                    normal[a, b] += np.einsum("nad,nae->de", g * w[:, None, None], g2)
    ridge = 1e-9 * max(np.trace(normal), 1.0)
    theta = np.linalg.solve(normal + ridge * np.eye(size), rhs) if size else np.zeros(0)
    out = []
    for k in range(n):
        if k == reference or k not in linked:
            out.append(None)
            continue
        t = theta[d * index[k] : d * index[k] + d]
        if model == "affine":
            matrix, shift = np.array([[t[0], t[1]], [t[3], t[4]]]), t[[2, 5]]
        elif model == "similarity":
            matrix, shift = np.array([[t[0], -t[1]], [t[1], t[0]]]), t[2:]
        else:
            matrix, shift = linear[k], t
        # F(p - c) = A (p - c) + t = p' - c  ->  p' = A p + (c + t - A c)
        out.append((matrix, center + shift - matrix @ center))
    return out


def _joint_refine(fps, transforms, reference, model, radius, iterations=3):
    """Refine every session's transform to the reference together, on ROI centroids that
    are mutually nearest between every pair of sessions in the common frame: one least-
    squares fit of all transforms at once (links off by more than max(1.5 px, 3 robust
    SD) dropped), the reference fixed. Sessions without links keep their transform."""
    n = len(fps)
    if n < 2:
        return list(transforms)
    center = np.asarray(transforms[reference].center)
    transforms = list(transforms)
    for iteration in range(iterations):
        moved = [t.apply_to_points(fp.centroid) for t, fp in zip(transforms, fps, strict=True)]
        r = radius if iteration == 0 else max(0.6 * radius, 3.0)
        links = []
        for i in range(n):
            for j in range(i + 1, n):
                pairs = _mutual_nearest(moved[i], moved[j], r)
                if len(pairs) >= 3:
                    pi = fps[i].centroid[pairs[:, 0]] - center
                    pj = fps[j].centroid[pairs[:, 1]] - center
                    links.append([i, j, pi, pj, np.ones(len(pairs))])
        if not links:
            break
        steps = [model if model != "rigid" else "similarity"] + (
            ["shift"] if model == "rigid" else []
        )
        for _ in range(3):  # robust re-weighting
            new = list(transforms)
            for step in steps:
                linear = [t.matrix for t in new]
                for k, solved in enumerate(_solve_joint(links, n, reference, linear, step, center)):
                    if solved is None:
                        continue
                    matrix, offset = solved
                    if step == "similarity" and model == "rigid":
                        u, _, vt = np.linalg.svd(matrix)
                        matrix = u @ vt
                    new[k] = Transform.from_matrix(matrix, offset, tuple(center)).with_quality(
                        transforms[k].quality
                    )
            residuals = [
                np.hypot(
                    *(new[i].apply_to_points(pi + center) - new[j].apply_to_points(pj + center)).T
                )
                for i, j, pi, pj, _ in links
            ]
            pooled = np.concatenate(residuals)
            cut = max(1.5, 3 * 1.4826 * np.median(pooled))
            for link, res in zip(links, residuals, strict=True):
                link[4] = (res <= cut).astype(np.float64)
        transforms = new
    return transforms


def _cluster(n_sessions, offsets, edges, min_agreement):
    """Tracks from pairwise matches: average-linkage merging of ROIs (nodes numbered by
    session ``offsets``), never two ROIs of one session in a track, merging two groups
    only while at least ``min_agreement`` of their cross pairs were matched directly.
    Returns (indices (n_tracks, n_sessions), confidence (n_tracks,))."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    total = int(offsets[-1])
    session = np.repeat(np.arange(n_sessions), np.diff(offsets))
    graph = csr_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(total, total))
    graph = ((graph + graph.T) > 0).tocsr()
    _, label = connected_components(graph, directed=False)
    order = np.argsort(label, kind="stable")
    bounds = np.flatnonzero(np.diff(label[order])) + 1
    groups, agreement = [], []
    for nodes in np.split(order, bounds):
        k = nodes.size
        if k == 1:
            groups.append(nodes)
            agreement.append(np.nan)
            continue
        adjacency = graph[nodes][:, nodes].toarray()
        sessions = session[nodes]
        if np.unique(sessions).size == k and adjacency.sum() / (k * (k - 1)) >= min_agreement:
            groups.append(nodes)  # one ROI per session and most pairs agree: one track
            agreement.append(adjacency.sum() / (k * (k - 1)))
            continue
        clusters = [[i] for i in range(k)]  # average linkage under the one-per-session rule
        while len(clusters) > 1:
            best, pick = -1.0, None
            for x in range(len(clusters)):
                for y in range(x + 1, len(clusters)):
                    if np.intersect1d(sessions[clusters[x]], sessions[clusters[y]]).size:
                        continue
                    link = adjacency[np.ix_(clusters[x], clusters[y])].mean()
                    if link > best:
                        best, pick = link, (x, y)
            if pick is None or best < min_agreement:
                break
            clusters[pick[0]] = clusters[pick[0]] + clusters.pop(pick[1])
        for members in clusters:
            groups.append(nodes[members])
            m = len(members)
            inside = adjacency[np.ix_(members, members)].sum()
            agreement.append(inside / (m * (m - 1)) if m > 1 else np.nan)
    indices = np.full((len(groups), n_sessions), -1, dtype=np.int64)
    for t, nodes in enumerate(groups):
        indices[t, session[nodes]] = nodes - offsets[session[nodes]]
    confidence = np.array(agreement, dtype=np.float64)
    first = np.argmax(indices >= 0, axis=1)
    order = np.lexsort((indices[np.arange(len(indices)), first], first))
    return indices[order], confidence[order]


def match_many(
    sessions: Sequence[ArrayLike],
    images: Sequence[ArrayLike] | None = None,
    *,
    reference: int | None = None,
    model: Model = "affine",
    max_angle: float = 15.0,
    max_shift: float | None = None,
    scale_range: tuple[float, float] = (0.9, 1.1),
    max_shear: float = 0.05,
    max_distance: float = 8.0,
    min_iou: float = 0.3,
    min_agreement: float = 0.5,
    threshold: float = 0.3,
    fov_shape: tuple[int, int] | Sequence[tuple[int, int]] | None = None,
    on_low_quality: OnLowQuality = "warn",
) -> Tracks:
    """Track cells across sessions.

    Every session is registered to the ``reference`` session (default the middle one) as
    in :func:`match`: on its projection image (when given) and on its summed footprints
    (that candidate polished on ROI centroids), keeping the one that brings most ROIs into
    one-to-one overlap with the reference. A session that is not settled by this (its
    report flagged, fewer than 0.2 of its ROIs matched, or under half the median matched
    fraction of the other sessions) is registered to the settled sessions in turn,
    nearest in order first, until one registration is clean, and the candidate (direct,
    or chained through a settled session) that brings most of its ROIs into one-to-one
    overlap with all settled sessions together is kept, so a session the reference
    cannot reach is placed through its neighbours. All transforms are
    then refined together on ROI centroids that are mutually nearest between every pair
    of sessions, so no single session decides them. In the reference frame every pair
    of sessions is matched as in :func:`match` (IoU >= ``min_iou``, centroids within
    ``max_distance`` px, one-to-one), and the pairwise matches are merged into tracks: a
    track holds at most one ROI per session, and two groups merge only while at least
    ``min_agreement`` of their cross pairs were matched directly (average linkage), so
    one stray match cannot join two cells.

    ``sessions``: masks as in :func:`match` (``fov_shape``: one shape or one per
    session); ``images``: optional projection images, one per session (the summed
    footprints are registered in any case). Returns :class:`Tracks`. A flagged
    registration warns (``on_low_quality``: or raises, or neither) naming the session
    and the numbers.
    """
    _check_on_low_quality(on_low_quality)
    options = _Options(model, max_angle, max_shift, scale_range, max_shear)
    if len(sessions) == 0:
        raise ValueError("match_many needs at least one session")
    n = len(sessions)
    fps = _load(sessions, [f"session {k}" for k in range(n)], threshold, fov_shape)
    shape = _common_shape(fps)
    if images is not None and len(images) != n:
        raise ValueError(f"got {len(images)} images for {n} sessions")
    prints = [
        _prepare(_projection(fp, shape), shape, f"footprints {k}") for k, fp in enumerate(fps)
    ] if n > 1 else []  # fmt: skip
    pictures = None
    if images is not None and n > 1:
        pictures = [_prepare(image, shape, f"image {k}") for k, image in enumerate(images)]
    reference = n // 2 if reference is None else int(reference)
    if not 0 <= reference < n:
        raise ValueError(f"reference must be a session index in 0..{n - 1}, got {reference}")
    center = ((shape[0] - 1) / 2, (shape[1] - 1) / 2)

    def direct(k: int, j: int) -> list[Transform]:  # candidates k -> j
        both = None if pictures is None else (pictures[k], pictures[j])
        return _candidates(both, (prints[k], prints[j]), fps[k], fps[j], options, None,
                           max_distance)  # fmt: skip

    transforms = [Transform(0.0, 0.0, 0.0, center)] * n
    fraction = np.ones(n)
    for k in range(n):
        if k == reference:
            continue
        transforms[k], count = _pick(direct(k, reference), fps[k], [fps[reference]], [None],
                                     max_distance, min_iou)  # fmt: skip
        fraction[k] = count / max(min(fps[k].n, fps[reference].n), 1)
    # A session is settled when its report is clean and it matched at least 0.2 of its
    # ROIs in the reference, and not under half the median of the other sessions.
    typical = np.median(np.delete(fraction, reference)) if n > 1 else 1.0
    settled = [
        k == reference or (transforms[k].quality.ok and fraction[k] >= MIN_MATCHED_FRACTION
                           and fraction[k] >= 0.5 * typical)
        for k in range(n)
    ]  # fmt: skip
    for k in range(n):  # place a session the reference could not through the others
        if settled[k]:
            continue
        others = [j for j in range(n) if j != k and settled[j]]
        candidates = [transforms[k]]
        for j in sorted((j for j in others if j != reference), key=lambda j: abs(j - k)):
            steps = direct(k, j)  # the nearest sessions first; stop at a clean one
            candidates += [step.then(transforms[j]).with_quality(step.quality) for step in steps]
            if any(step.quality.ok for step in steps):
                break
        drawn_by = [None if j == reference else transforms[j] for j in others]
        transforms[k], _ = _pick(candidates, fps[k], [fps[j] for j in others], drawn_by,
                                 max_distance, min_iou)  # fmt: skip
    transforms = _joint_refine(fps, transforms, reference, model, max_distance)
    drawn = _draw(fps, [None if k == reference else t for k, t in enumerate(transforms)])
    offsets = np.concatenate([[0], np.cumsum([fp.n for fp in fps])])
    edges, counts = [np.zeros((0, 2), dtype=np.int64)], np.zeros((n, n), dtype=np.int64)
    for i in range(n):
        for j in range(i + 1, n):
            pairs, _, _ = _pair_up(drawn[i], drawn[j], max_distance, min_iou)
            counts[i, j] = counts[j, i] = len(pairs)
            edges.append(pairs + offsets[[i, j]])
    indices, confidence = _cluster(n, offsets, np.vstack(edges), min_agreement)
    qualities: list[RegistrationQuality | None] = []
    for k in range(n):
        if k == reference:
            qualities.append(None)
            continue
        n_pairs = counts[k, reference]
        qualities.append(_with_matched(transforms[k].quality, n_pairs, fps[k].n, fps[reference].n))
        _report(qualities[-1], on_low_quality, f"match_many, session {k} to reference {reference}")
    return Tracks(indices, confidence, tuple(transforms), reference, counts, tuple(qualities))
