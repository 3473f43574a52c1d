"""Spatial receptive fields from stimuli flashed on a grid (e.g. Allen's Gabor patches).

Maps are mean spike counts per presentation at each grid position. Significance is a
chi-square statistic of the counts across positions against seeded shuffles of the
presentation labels, computed for all units at once. Centres and widths come from a 2-D
Gaussian fit *with an offset* (without one, background firing widens the fitted RF).
Positions in stimulus units (degrees of visual angle for Allen files), times in seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from databook.align import event_counts

__all__ = ["ReceptiveFields", "chi_square_p", "fit_gaussian", "receptive_fields"]


@dataclass(frozen=True)
class ReceptiveFields:
    """``maps`` (n_units, ny, nx): mean spike count per presentation; ``xs``, ``ys``: grid
    values; ``p_value`` (n_units,); ``center`` and ``sigma`` (n_units, 2: x, y) from the
    Gaussian fit, NaN for units with ``p_value >= alpha``; ``n_presentations`` (ny, nx)."""

    maps: NDArray[np.float64]
    xs: NDArray[np.float64]
    ys: NDArray[np.float64]
    p_value: NDArray[np.float64]
    center: NDArray[np.float64]
    sigma: NDArray[np.float64]
    n_presentations: NDArray[np.int_]


def _chi_square(sums: NDArray, expected_fraction: NDArray) -> NDArray:
    """Chi-square of per-position spike totals ``sums`` (..., n_units, n_positions)."""
    total = sums.sum(axis=-1, keepdims=True)
    expected = total * expected_fraction
    with np.errstate(invalid="ignore", divide="ignore"):
        terms = np.where(expected > 0, (sums - expected) ** 2 / expected, 0.0)
    return terms.sum(axis=-1)


def chi_square_p(
    counts: NDArray, labels: NDArray[np.int_], n_positions: int, n_shuffles: int, seed: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Chi-square statistic and shuffle p-value per unit.

    ``counts`` (n_units, n_presentations) spike counts; ``labels`` the grid position of
    each presentation. The null shuffles the labels (the same permutations for all
    units); p = (1 + #{shuffled >= observed}) / (1 + n_shuffles).
    """
    counts = np.asarray(counts, dtype=np.float32)
    onehot = np.zeros((labels.size, n_positions), dtype=np.float32)
    onehot[np.arange(labels.size), labels] = 1.0
    fraction = onehot.sum(axis=0) / labels.size
    observed = _chi_square(counts @ onehot, fraction)
    rng = np.random.default_rng(seed)
    exceed = np.zeros(counts.shape[0], dtype=np.int64)
    n_units, n_pres = counts.shape
    # Shuffles in batches: one GEMM (units x presentations) @ (presentations x batch*positions),
    # with the stacked one-hot matrices kept under ~150 MB.
    batch = max(1, int(1.5e8 // (n_pres * n_positions * 4)))
    for start in range(0, n_shuffles, batch):
        n = min(batch, n_shuffles - start)
        perms = np.stack([rng.permutation(n_pres) for _ in range(n)])
        stacked = onehot[perms].transpose(1, 0, 2).reshape(n_pres, n * n_positions)
        shuffled = (counts @ stacked).reshape(n_units, n, n_positions).transpose(1, 0, 2)
        exceed += (_chi_square(shuffled, fraction) >= observed[None, :] - 1e-6).sum(axis=0)
    return observed, (1.0 + exceed) / (1.0 + n_shuffles)


def _gaussian(xy, offset, amplitude, x0, y0, sx, sy):
    x, y = xy
    return offset + amplitude * np.exp(-((x - x0) ** 2) / (2 * sx**2) - (y - y0) ** 2 / (2 * sy**2))


def fit_gaussian(
    rf_map: NDArray, xs: NDArray, ys: NDArray
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Fit ``offset + A exp(-(x-x0)^2/2sx^2 - (y-y0)^2/2sy^2)`` to one (ny, nx) map.

    Returns ((x0, y0), (sx, sy)) in grid units, NaN if the fit fails.
    """
    from scipy.optimize import curve_fit

    gx, gy = np.meshgrid(xs, ys)
    step = float(np.min(np.diff(xs))) if xs.size > 1 else 1.0
    iy, ix = np.unravel_index(np.argmax(rf_map), rf_map.shape)
    offset0 = float(np.median(rf_map))
    guess = [offset0, float(rf_map.max() - offset0), xs[ix], ys[iy], step, step]
    span = max(np.ptp(xs), np.ptp(ys), step)
    lower = [-np.inf, 0.0, xs.min() - step, ys.min() - step, 0.2 * step, 0.2 * step]
    upper = [np.inf, np.inf, xs.max() + step, ys.max() + step, span, span]
    try:
        params, _ = curve_fit(
            _gaussian, (gx.ravel(), gy.ravel()), rf_map.ravel(), p0=guess,
            bounds=(lower, upper), maxfev=5000,
        )  # fmt: skip
    except (RuntimeError, ValueError):
        return np.full(2, np.nan), np.full(2, np.nan)
    return params[2:4], np.abs(params[4:6])


def receptive_fields(
    spike_times: Sequence[ArrayLike],
    x: ArrayLike,
    y: ArrayLike,
    onsets: ArrayLike,
    window: tuple[float, float] = (0.0, 0.25),
    n_shuffles: int = 1000,
    seed: int = 0,
    *,
    alpha: float = 0.01,
) -> ReceptiveFields:
    """Receptive-field maps, significance and Gaussian centres of every unit.

    Parameters
    ----------
    spike_times : sequence of sorted (n_spikes,) float arrays, seconds
    x, y : (n_presentations,) stimulus positions (e.g. degrees), on a grid
    onsets : (n_presentations,) presentation onsets, seconds
    window : (start, stop) seconds after onset in which spikes are counted
    n_shuffles : shuffles of the position labels for the chi-square null
    alpha : units with ``p_value >= alpha`` get NaN centre and width
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    onsets = np.asarray(onsets, dtype=np.float64)
    if not (x.shape == y.shape == onsets.shape) or x.ndim != 1:
        raise ValueError(
            f"x, y and onsets must be 1-D of one length, got {x.shape}, {y.shape}, {onsets.shape}"
        )
    xs, ix = np.unique(x, return_inverse=True)
    ys, iy = np.unique(y, return_inverse=True)
    labels = iy * xs.size + ix
    n_positions = xs.size * ys.size
    counts = event_counts(spike_times, onsets, list(window))[:, :, 0]
    n_per = np.bincount(labels, minlength=n_positions)
    if np.any(n_per == 0):
        raise ValueError("some grid positions were never presented; x and y must form a full grid")
    onehot = np.zeros((labels.size, n_positions))
    onehot[np.arange(labels.size), labels] = 1.0
    maps = (counts @ onehot / n_per).reshape(-1, ys.size, xs.size)
    _, p = chi_square_p(counts, labels, n_positions, n_shuffles, seed)
    center = np.full((counts.shape[0], 2), np.nan)
    sigma = np.full((counts.shape[0], 2), np.nan)
    for unit in np.flatnonzero(p < alpha):
        center[unit], sigma[unit] = fit_gaussian(maps[unit], xs, ys)
    return ReceptiveFields(maps, xs, ys, p, center, sigma, n_per.reshape(ys.size, xs.size))
