"""Spatial receptive fields from stimuli flashed on a grid (e.g. Allen's Gabor patches).

Maps are mean spike counts per presentation at each grid position. Significance is a
chi-square statistic of the counts across positions against seeded shuffles of the
presentation labels, computed for all units at once. Centres and widths come from a 2-D
Gaussian fit *with an offset* (without one, background firing widens the fitted RF) and
a *signed* amplitude, so a unit suppressed at one location (an "off" or suppressive field)
gets the centre of its suppression and polarity -1 rather than a meaningless centre.
Positions in stimulus units (degrees of visual angle for Allen files), times in seconds.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from databook.align import event_counts
from databook.stats import FDR_Q, fdr, permutation_p

__all__ = [
    "GaussianFit",
    "ReceptiveFields",
    "chi_square_p",
    "fit_gaussian",
    "grid_axis",
    "receptive_fields",
]


@dataclass(frozen=True)
class ReceptiveFields:
    """Receptive fields of several units on one stimulus grid.

    Attributes
    ----------
    maps : (n_units, ny, nx) float array
        Mean spike count per presentation at each grid position; NaN at grid positions
        that were never presented.
    xs, ys : (nx,), (ny,) float arrays
        Grid values (stimulus units), increasing.
    p_value : (n_units,) float array
        Chi-square of counts across presented positions against label shuffles,
        ``(k + 1) / (n_shuffles + 1)`` (:func:`databook.stats.permutation_p`).
    q_value : (n_units,) float array
        Benjamini-Hochberg q-value of ``p_value`` over the units passed (one session's
        units: the family of the statistics policy).
    center, sigma : (n_units, 2: x, y) float arrays, stimulus units
        Centre and width of the fitted Gaussian; NaN unless ``q_value < q`` and the
        fit locates the centre (standard error at most ``max_center_se`` grid steps).
    n_presentations : (ny, nx) int array
        Presentations counted at each grid position (0 where never presented).
    polarity : (n_units,) int8 array
        +1 for an excitatory field (firing raised at the centre), -1 for a suppressive
        one (firing lowered), 0 where ``center`` is NaN.
    fit_r2 : (n_units,) float array
        Fraction of the map's variance (over presented positions) explained by the
        Gaussian fit; NaN for units that were not fitted (``q_value >= q``).
    center_se : (n_units, 2: x, y) float array, stimulus units
        Standard error of the fitted centre (from the fit's covariance, scaled by the
        residual variance), the quantity ``max_center_se`` is applied to; NaN where not
        fitted, inf where the fit cannot locate a centre.
    n_blank : int
        Presentations with a NaN position (blank sweeps), excluded from everything.
    significant : (n_units,) bool array
        ``q_value < q``: the units with a significant field.
    """

    maps: NDArray[np.float64]
    xs: NDArray[np.float64]
    ys: NDArray[np.float64]
    p_value: NDArray[np.float64]
    center: NDArray[np.float64]
    sigma: NDArray[np.float64]
    n_presentations: NDArray[np.int_]
    polarity: NDArray[np.int8]
    fit_r2: NDArray[np.float64]
    center_se: NDArray[np.float64]
    n_blank: int
    q_value: NDArray[np.float64]
    significant: NDArray[np.bool_]


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
    units); p = (1 + #{shuffled >= observed}) / (1 + n_shuffles), where a shuffle that
    ties the observed statistic (common for sparse units) counts as at least as large.
    """
    from scipy import sparse

    counts_t = np.ascontiguousarray(np.asarray(counts, dtype=np.float64).T)  # pres x units
    n_pres, n_units = counts_t.shape
    labels = np.asarray(labels)
    fraction = np.bincount(labels, minlength=n_positions) / labels.size
    present = np.arange(n_pres)

    def position_sums(shuffled_labels: NDArray[np.int_]) -> NDArray[np.float64]:
        """(n, n_units, n_positions) spike totals for n label vectors, as one sparse
        (n * positions, presentations) one-hot matrix times the counts: exact sums in
        float64, work proportional to presentations x units."""
        n = shuffled_labels.shape[0]
        rows = (np.arange(n)[:, None] * n_positions + shuffled_labels).ravel()
        onehot = sparse.csr_matrix(
            (np.ones(rows.size), (rows, np.tile(present, n))), shape=(n * n_positions, n_pres)
        )
        return (onehot @ counts_t).reshape(n, n_positions, n_units).transpose(0, 2, 1)

    observed = _chi_square(position_sums(labels[None, :])[0], fraction)
    rng = np.random.default_rng(seed)
    exceed = np.zeros(n_units, dtype=np.int64)
    # Shuffles in batches whose (batch, positions, units) sums stay near 4e6 values.
    batch = max(1, int(4e6 // (max(n_units, 1) * n_positions)))
    for start in range(0, n_shuffles, batch):
        n = min(batch, n_shuffles - start)
        perms = np.stack([rng.permutation(n_pres) for _ in range(n)])
        shuffled = _chi_square(position_sums(labels[perms]), fraction)
        # Integer totals in float64: equal statistics agree to ~1e-13, well inside 1e-6.
        exceed += (shuffled >= observed[None, :] - 1e-6).sum(axis=0)
    return observed, permutation_p(exceed, n_shuffles)  # (k + 1) / (n + 1), never 0


@dataclass(frozen=True)
class GaussianFit:
    """A 2-D Gaussian ``offset + amplitude * exp(-(x-x0)^2/2sx^2 - (y-y0)^2/2sy^2)``.

    ``center`` (x0, y0) and ``sigma`` (sx, sy) in stimulus units (those of the grid
    values); ``amplitude`` is signed
    (negative for a suppressive field) in the map's units; ``r2`` the fraction of the
    map's variance explained; ``center_se`` the standard errors of x0 and y0 (inf if
    the fit cannot locate them). All NaN if the fit failed. Unpacks as
    ``center, sigma = fit``.
    """

    center: NDArray[np.float64]
    sigma: NDArray[np.float64]
    amplitude: float
    offset: float
    r2: float
    center_se: NDArray[np.float64]

    def __iter__(self) -> Iterator:
        return iter((self.center, self.sigma))


_FAILED = GaussianFit(
    np.full(2, np.nan), np.full(2, np.nan), np.nan, np.nan, np.nan, np.full(2, np.nan)
)


def _gaussian(xy, offset, amplitude, x0, y0, sx, sy):
    x, y = xy
    return offset + amplitude * np.exp(-((x - x0) ** 2) / (2 * sx**2) - (y - y0) ** 2 / (2 * sy**2))


def _gaussian_jacobian(xy, offset, amplitude, x0, y0, sx, sy):
    """Derivatives of :func:`_gaussian` by its six parameters, (n_points, 6)."""
    x, y = xy
    dx, dy = (x - x0) / sx, (y - y0) / sy
    g = np.exp(-0.5 * (dx**2 + dy**2))
    ag = amplitude * g
    return np.stack(
        [np.ones_like(g), g, ag * dx / sx, ag * dy / sy, ag * dx**2 / sx, ag * dy**2 / sy], axis=1
    )


def _grid_step(xs: NDArray, ys: NDArray) -> float:
    """The smaller grid spacing of the two axes (1.0 for a single position)."""
    steps = np.concatenate([np.diff(xs), np.diff(ys)])
    return float(steps.min()) if steps.size else 1.0


def fit_gaussian(rf_map: NDArray, xs: NDArray, ys: NDArray) -> GaussianFit:
    """Fit ``offset + A exp(-(x-x0)^2/2sx^2 - (y-y0)^2/2sy^2)`` to one (ny, nx) map.

    The amplitude ``A`` is signed: the map is fitted once with ``A >= 0`` starting at its
    maximum and once with ``A <= 0`` starting at its minimum, and the fit that explains
    more variance is kept. NaN cells (positions never presented) are left out. Centres
    are bounded to one grid step beyond the grid, widths to [0.2 step, grid span].

    Returns
    -------
    GaussianFit
        Centre, width (stimulus units), signed amplitude, offset and R^2; NaN if both fits
        fail. Unpacks as ``center, sigma``.
    """
    from scipy.optimize import OptimizeWarning, curve_fit

    rf_map = np.asarray(rf_map, dtype=np.float64)
    xs = np.asarray(xs, dtype=np.float64)
    ys = np.asarray(ys, dtype=np.float64)
    if rf_map.shape != (ys.size, xs.size):
        raise ValueError(
            f"rf_map has shape {rf_map.shape}; expected (ny, nx) = {(ys.size, xs.size)}"
        )
    gx, gy = np.meshgrid(xs, ys)
    seen = np.isfinite(rf_map)
    if seen.sum() < 6:  # six parameters
        return _FAILED
    values, xy = rf_map[seen], (gx[seen], gy[seen])
    total = float(((values - values.mean()) ** 2).sum())
    if total == 0:
        return _FAILED
    step = _grid_step(xs, ys)
    span = max(np.ptp(xs), np.ptp(ys), step)
    offset0 = float(np.median(values))
    best = _FAILED
    for sign, pick in ((1.0, np.argmax), (-1.0, np.argmin)):
        i = pick(values)
        guess = [offset0, float(values[i] - offset0), xy[0][i], xy[1][i], step, step]
        amp_bounds = (0.0, np.inf) if sign > 0 else (-np.inf, 0.0)
        lower = [-np.inf, amp_bounds[0], xs.min() - step, ys.min() - step, 0.2 * step, 0.2 * step]
        upper = [np.inf, amp_bounds[1], xs.max() + step, ys.max() + step, span, span]
        guess[1] = float(np.clip(guess[1], *amp_bounds))
        try:
            with warnings.catch_warnings():
                # A covariance that cannot be estimated comes back as inf: a poor fit.
                warnings.simplefilter("ignore", OptimizeWarning)
                params, cov = curve_fit(
                    _gaussian, xy, values, p0=guess, bounds=(lower, upper), maxfev=5000,
                    jac=_gaussian_jacobian,
                )  # fmt: skip
        except (RuntimeError, ValueError):
            continue
        r2 = 1.0 - float(((values - _gaussian(xy, *params)) ** 2).sum()) / total
        if not r2 <= best.r2:  # also true while best is the NaN "failed" fit
            with np.errstate(invalid="ignore"):
                se = np.sqrt(np.diag(cov)[2:4])
            best = GaussianFit(
                center=params[2:4].copy(),
                sigma=np.abs(params[4:6]),
                amplitude=float(params[1]),
                offset=float(params[0]),
                r2=r2,
                center_se=np.where(np.isnan(se), np.inf, se),
            )
    return best


def grid_axis(
    values: ArrayLike, tol: float, name: str = "positions"
) -> tuple[NDArray[np.float64], NDArray[np.int_]]:
    """Grid values along one axis and the grid index of each (finite) value.

    Values within ``tol`` of each other are one grid value (the most frequent of them;
    the smallest on a tie), so float noise such as 10.000000001 lands on 10. If the grid
    values lie on a regular lattice with holes (all within ``tol`` of ``first + k *
    step``), the holes are filled, so a position inside the grid that was never
    presented still has its row or column (a missing outermost one cannot be known).

    Raises
    ------
    ValueError
        If a chain of values each within ``tol`` of the next spans more than ``tol``
        (the values do not form a grid at that tolerance).
    """
    values = np.asarray(values, dtype=np.float64)
    distinct, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    new = np.r_[True, np.diff(distinct) > tol]
    cluster = np.cumsum(new) - 1
    first = np.flatnonzero(new)
    last = np.r_[first[1:], distinct.size] - 1
    spread = distinct[last] - distinct[first]
    if np.any(spread > tol):
        k = int(np.argmax(spread))
        raise ValueError(
            f"{name} from {distinct[first[k]]!r} to {distinct[last[k]]!r} are each within "
            f"grid_tol={tol} of the next but span {spread[k]:.3g}: they are not on a grid at "
            "that tolerance (round them, or change grid_tol)"
        )
    # The most frequent value of each cluster represents it.
    order = np.lexsort((-counts, cluster))
    grid = distinct[order[np.r_[True, np.diff(cluster[order]) > 0]]]
    index = cluster[inverse]
    if grid.size > 2:
        k = np.round((grid - grid[0]) / np.min(np.diff(grid))).astype(int)
        step = (grid[-1] - grid[0]) / k[-1]
        if np.all(np.abs(grid - grid[0] - k * step) <= tol) and k[-1] < 4 * grid.size:
            full = grid[0] + step * np.arange(k[-1] + 1)
            full[k] = grid
            return full, k[index]
    return grid, index


def receptive_fields(
    spike_times: Sequence[ArrayLike],
    x: ArrayLike,
    y: ArrayLike,
    onsets: ArrayLike,
    window: tuple[float, float] = (0.0, 0.25),
    n_shuffles: int = 1000,
    seed: int = 0,
    *,
    q: float = FDR_Q,
    alpha: float | None = None,
    max_center_se: float = 0.5,
    grid_tol: float = 1e-3,
) -> ReceptiveFields:
    """Receptive-field maps, significance, and signed Gaussian fits of every unit.

    Parameters
    ----------
    spike_times : sequence of sorted (n_spikes,) float arrays, seconds
    x, y : (n_presentations,) stimulus positions (e.g. degrees), on a grid
        Values within ``grid_tol`` of each other are one grid position. A presentation
        with x or y NaN is a blank: it is left out and counted in ``n_blank``. Grid
        positions never presented are NaN in ``maps`` and left out of the test and fit.
    onsets : (n_presentations,) presentation onsets, seconds
    window : (start, stop) seconds after onset in which spikes are counted
    n_shuffles : shuffles of the position labels for the chi-square null
    seed : seed of the shuffles
    q : false-discovery rate over the units (Benjamini-Hochberg on ``p_value``); units
        with ``q_value >= q`` have no significant field and are not fitted (NaN centre
        and width). The chi-square is an upper-tail test of a statistic blind to sign:
        excitatory and suppressive fields are both found.
    alpha : float or None
        The criterion of earlier versions, for code written against them: given, units
        with ``p_value < alpha`` (no correction over units) are significant and ``q`` is
        not used. None (default): BH at ``q``.
    max_center_se : a fit is poor, and its centre, width and polarity are NaN, NaN and
        0, when the standard error of its centre, ``hypot(se_x, se_y)``, exceeds this
        many grid steps (the smaller spacing of ``xs`` and ``ys``). At the default 0.5,
        planted Gaussian fields keep their centres (errors below 1 step) while maps
        without a single field (noise, a checkerboard, a gradient running off the grid)
        lose theirs; ``center_se`` and ``fit_r2`` are reported for every fitted unit
    grid_tol : positions closer than this (stimulus units) are the same grid position

    Returns
    -------
    ReceptiveFields
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    onsets = np.asarray(onsets, dtype=np.float64)
    if not (x.shape == y.shape == onsets.shape) or x.ndim != 1:
        raise ValueError(
            f"x, y and onsets must be 1-D of one length, got {x.shape}, {y.shape}, {onsets.shape}"
        )
    if not grid_tol >= 0:
        raise ValueError(f"grid_tol must be >= 0 (stimulus units), got {grid_tol}")
    if np.isinf(x).any() or np.isinf(y).any():
        raise ValueError("x and y contain infinite positions; use NaN for blank presentations")
    blank = np.isnan(x) | np.isnan(y)
    if blank.all():
        raise ValueError(f"all {x.size} presentations are blank (NaN position)")
    x, y, onsets = x[~blank], y[~blank], onsets[~blank]
    xs, ix = grid_axis(x, grid_tol, "x positions")
    ys, iy = grid_axis(y, grid_tol, "y positions")
    cell = iy * xs.size + ix
    n_per = np.bincount(cell, minlength=xs.size * ys.size)
    presented = np.flatnonzero(n_per)
    labels = np.searchsorted(presented, cell)  # presented positions only, 0..k-1
    counts = event_counts(spike_times, onsets, list(window))[:, :, 0]
    n_units = counts.shape[0]
    onehot = np.zeros((labels.size, presented.size))
    onehot[np.arange(labels.size), labels] = 1.0
    maps = np.full((n_units, xs.size * ys.size), np.nan)
    maps[:, presented] = counts @ onehot / n_per[presented]
    maps = maps.reshape(n_units, ys.size, xs.size)
    _, p = chi_square_p(counts, labels, presented.size, n_shuffles, seed)
    center = np.full((n_units, 2), np.nan)
    sigma = np.full((n_units, 2), np.nan)
    polarity = np.zeros(n_units, dtype=np.int8)
    fit_r2 = np.full(n_units, np.nan)
    center_se = np.full((n_units, 2), np.nan)
    step = _grid_step(xs, ys)
    # One small least-squares problem per significant unit (two fits, a few ms each).
    q_value = fdr(p)
    # alpha: the criterion of earlier versions (per unit, no correction over units)
    significant = q_value < q if alpha is None else p < alpha
    for unit in np.flatnonzero(significant):
        fit = fit_gaussian(maps[unit], xs, ys)
        fit_r2[unit], center_se[unit] = fit.r2, fit.center_se
        if np.hypot(*fit.center_se) <= max_center_se * step and fit.amplitude != 0:
            center[unit], sigma[unit] = fit.center, fit.sigma
            polarity[unit] = np.sign(fit.amplitude)
    return ReceptiveFields(
        maps=maps,
        xs=xs,
        ys=ys,
        p_value=p,
        center=center,
        sigma=sigma,
        n_presentations=n_per.reshape(ys.size, xs.size),
        polarity=polarity,
        fit_r2=fit_r2,
        center_se=center_se,
        n_blank=int(blank.sum()),
        q_value=q_value,
        significant=significant,
    )
