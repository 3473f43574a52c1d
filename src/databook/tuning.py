"""Per-trial responses and their tuning: how a cell's response depends on the stimulus.

Two-photon (dF/F) or any other continuous signal: each trial's response is its mean in a
response window minus its own pre-stimulus baseline (the definition of
:func:`databook.responses.cell_responses`), so tuning curves, selectivity indices and
behavioural splits all start from the same numbers. Directions and orientations in
degrees; times in seconds.

Selectivity indices, for a tuning curve :math:`r_k \\ge 0` sampled at directions
:math:`\\theta_k` (responses are rectified at zero first):

* vector ("global") OSI :math:`= |\\sum_k r_k e^{2i\\theta_k}| / \\sum_k r_k` and DSI
  :math:`= |\\sum_k r_k e^{i\\theta_k}| / \\sum_k r_k` (one minus the circular variance);
* peak OSI :math:`= (r_{pref} - r_{orth}) / (r_{pref} + r_{orth})` and peak DSI
  :math:`= (r_{pref} - r_{null}) / (r_{pref} + r_{null})`, with :math:`r_{orth}` the mean
  of the responses 90 degrees either side of the preferred direction and
  :math:`r_{null}` the response 180 degrees away.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from databook.align import event_windows, window_times

__all__ = [
    "TuningCurves",
    "direction_selectivity",
    "orientation_selectivity",
    "preferred_direction",
    "preferred_orientation",
    "selectivity_p_value",
    "trial_responses",
    "trial_windows",
    "tuning_curves",
]


class TuningError(ValueError):
    """Inputs that cannot give a tuning curve or a selectivity index."""


def _check_window(window: tuple[float, float], name: str) -> tuple[float, float]:
    try:
        start, stop = (float(v) for v in window)
    except (TypeError, ValueError) as err:
        raise TuningError(f"{name} must be (start, stop) seconds, got {window!r}") from err
    if not stop > start:
        raise TuningError(f"{name} must be (start, stop) seconds with stop > start, got {window}")
    return start, stop


def trial_windows(
    timestamps: ArrayLike,
    dff: ArrayLike,
    onsets: ArrayLike,
    *,
    window: tuple[float, float] = (-1.0, 3.0),
    baseline_window: tuple[float, float] = (-1.0, 0.0),
    rate: float = 30.0,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Baseline-subtracted dF/F around each onset, trial by trial.

    Parameters
    ----------
    timestamps : (n_samples,) float array, seconds
    dff : (n_samples, n_cells) or (n_samples,) array
    onsets : (n_trials,) stimulus onsets, seconds
    window : (start, stop), seconds from onset, of the traces returned
    baseline_window : (start, stop), seconds from onset, ending at or before 0; each
        trial's mean over it (NaN samples ignored) is subtracted from that trial
    rate : Hz of the common grid the trials are resampled onto

    Returns
    -------
    times : (n_times,) seconds from onset
    windows : (n_trials, n_times, n_cells) float array; NaN where there is no data
    """
    start, stop = _check_window(window, "window")
    base_start, base_stop = _check_window(baseline_window, "baseline_window")
    if base_stop > 0:
        raise TuningError(f"baseline_window must end before the stimulus, got {baseline_window}")
    dff = np.asarray(dff, dtype=np.float64)
    if dff.ndim == 1:
        dff = dff[:, None]
    if dff.ndim != 2:
        raise TuningError(f"dff must be (n_samples,) or (n_samples, n_cells), got {dff.shape}")
    lo, hi = min(start, base_start), max(stop, base_stop)
    times = window_times((lo, hi), rate)
    cut = event_windows(timestamps, dff, onsets, (lo, hi), rate)  # trials x time x cells
    in_base = (times >= base_start) & (times < base_stop)
    if not in_base.any():
        raise TuningError(f"baseline_window {baseline_window} holds no sample at rate={rate} Hz")
    base = _nanmean(cut[:, in_base], axis=1)
    keep = (times >= start) & (times < stop)
    return times[keep], cut[:, keep] - base[:, None, :]


def trial_responses(
    timestamps: ArrayLike,
    dff: ArrayLike,
    onsets: ArrayLike,
    *,
    response_window: tuple[float, float] = (0.0, 2.0),
    baseline_window: tuple[float, float] = (-1.0, 0.0),
    rate: float = 30.0,
) -> NDArray[np.float64]:
    """Each trial's response: mean dF/F in ``response_window`` minus the mean in
    ``baseline_window`` of the same trial (the per-trial differences that
    :func:`databook.responses.cell_responses` tests and averages).

    Returns
    -------
    (n_trials, n_cells) float array, dF/F units; NaN where a window has no data.
    """
    resp_start, resp_stop = _check_window(response_window, "response_window")
    times, windows = trial_windows(
        timestamps,
        dff,
        onsets,
        window=(resp_start, resp_stop),
        baseline_window=baseline_window,
        rate=rate,
    )
    if times.size == 0:
        raise TuningError(f"response_window {response_window} holds no sample at rate={rate} Hz")
    return _nanmean(windows, axis=1)


def _nanmean(values: NDArray[np.float64], axis: int) -> NDArray[np.float64]:
    """Mean over ``axis`` ignoring NaN; NaN (without a warning) where all are NaN."""
    finite = ~np.isnan(values)
    total = np.where(finite, values, 0.0).sum(axis=axis)
    n = finite.sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, total / n, np.nan)


@dataclass(frozen=True)
class TuningCurves:
    """Mean response per stimulus condition.

    Attributes
    ----------
    conditions : (n_conditions,) the sorted distinct condition values (e.g. degrees)
    mean : (n_cells, n_conditions) mean response over the trials of each condition
    sem : (n_cells, n_conditions) standard error of that mean over trials (NaN with
        fewer than 2 trials)
    n_trials : (n_cells, n_conditions) trials with finite responses
    """

    conditions: NDArray[np.float64]
    mean: NDArray[np.float64]
    sem: NDArray[np.float64]
    n_trials: NDArray[np.int64]


def _one_hot(labels: NDArray, conditions: NDArray) -> NDArray[np.float64]:
    return (labels[..., None] == conditions).astype(np.float64)


def _as_responses(responses: ArrayLike, labels: ArrayLike) -> tuple[NDArray, NDArray]:
    responses = np.asarray(responses, dtype=np.float64)
    if responses.ndim == 1:
        responses = responses[:, None]
    labels = np.asarray(labels)
    if responses.ndim != 2 or labels.shape != responses.shape[:1]:
        raise TuningError(
            f"responses must be (n_trials, n_cells) with one condition per trial; got "
            f"responses {responses.shape} and conditions {labels.shape}"
        )
    if labels.dtype.kind in "fc" and np.isnan(labels).any():
        raise TuningError("conditions hold NaN; drop those trials first")
    return responses, labels


def tuning_curves(responses: ArrayLike, conditions: ArrayLike) -> TuningCurves:
    """Mean and SEM of per-trial responses for each condition (direction, contrast, ...).

    Parameters
    ----------
    responses : (n_trials, n_cells) or (n_trials,) array, e.g. from :func:`trial_responses`;
        NaN trials are left out per cell
    conditions : (n_trials,) condition of each trial

    Returns
    -------
    TuningCurves
    """
    responses, labels = _as_responses(responses, conditions)
    values = np.unique(labels)
    hot = _one_hot(labels, values)  # trials x conditions
    finite = np.isfinite(responses)
    clean = np.where(finite, responses, 0.0)
    n = finite.T.astype(np.float64) @ hot  # cells x conditions
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (clean.T @ hot) / n
        square = ((clean**2).T @ hot) / n
        var = np.maximum(square - mean**2, 0.0) * n / (n - 1)
        sem = np.where(n > 1, np.sqrt(var / n), np.nan)
    mean = np.where(n > 0, mean, np.nan)
    return TuningCurves(values.astype(np.float64), mean, sem, n.astype(np.int64))


def _curve(mean: ArrayLike, directions_deg: ArrayLike) -> tuple[NDArray, NDArray]:
    mean = np.asarray(mean, dtype=np.float64)
    directions = np.asarray(directions_deg, dtype=np.float64)
    if mean.ndim == 1:
        mean = mean[None, :]
    if directions.ndim != 1 or mean.ndim != 2 or mean.shape[1] != directions.size:
        raise TuningError(
            f"mean must be (n_cells, n_directions) matching directions_deg; got mean "
            f"{mean.shape} and directions_deg {directions.shape}"
        )
    if not np.isfinite(directions).all():
        raise TuningError(f"directions_deg must be finite degrees, got {directions}")
    return np.clip(mean, 0.0, None), directions


def _vector(mean: ArrayLike, directions_deg: ArrayLike, harmonic: int) -> NDArray[np.complex128]:
    """sum_k r_k exp(i h theta_k) / sum_k r_k per cell (NaN where sum r_k == 0)."""
    rectified, directions = _curve(mean, directions_deg)
    phase = np.exp(1j * harmonic * np.deg2rad(directions))
    total = rectified.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (rectified @ phase) / total, np.nan)


def _peak_index(
    mean: ArrayLike, directions_deg: ArrayLike, offset_deg: float
) -> NDArray[np.float64]:
    rectified, directions = _curve(mean, directions_deg)
    wrapped = np.mod(directions, 360.0)
    pref = np.argmax(rectified, axis=1)

    def response_at(shift: float) -> NDArray[np.float64]:
        target = np.mod(wrapped[pref] + shift, 360.0)
        match = np.isclose(wrapped[None, :], target[:, None], atol=1e-6) | np.isclose(
            np.abs(wrapped[None, :] - target[:, None]), 360.0, atol=1e-6
        )
        if not match.any(axis=1).all():
            raise TuningError(
                f"the peak index needs the response {shift:g} degrees from each preferred "
                f"direction; directions_deg {directions.tolist()} lack it"
            )
        return rectified[np.arange(rectified.shape[0]), np.argmax(match, axis=1)]

    best = rectified[np.arange(rectified.shape[0]), pref]
    if offset_deg == 90.0:
        other = 0.5 * (response_at(90.0) + response_at(-90.0))
    else:
        other = response_at(offset_deg)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(best + other > 0, (best - other) / (best + other), np.nan)


Method = Literal["vector", "peak"]


def _check_method(method: str) -> None:
    if method not in ("vector", "peak"):
        raise TuningError(f"method must be 'vector' or 'peak', got {method!r}")


def orientation_selectivity(
    mean: ArrayLike, directions_deg: ArrayLike, *, method: Method = "vector"
) -> NDArray[np.float64]:
    """Orientation selectivity index per cell, in [0, 1] (NaN for an all-zero curve).

    Parameters
    ----------
    mean : (n_cells, n_directions) or (n_directions,) mean responses (rectified at 0)
    directions_deg : (n_directions,) degrees
    method : "vector" (global OSI, ``|sum r e^{2i theta}| / sum r``) or "peak"
        (``(r_pref - r_orth) / (r_pref + r_orth)``; needs the directions 90 degrees from
        the preferred one)
    """
    _check_method(method)
    if method == "vector":
        return np.abs(_vector(mean, directions_deg, 2))
    return _peak_index(mean, directions_deg, 90.0)


def direction_selectivity(
    mean: ArrayLike, directions_deg: ArrayLike, *, method: Method = "vector"
) -> NDArray[np.float64]:
    """Direction selectivity index per cell, in [0, 1] (NaN for an all-zero curve).

    ``method`` "vector": ``|sum r e^{i theta}| / sum r``; "peak":
    ``(r_pref - r_null) / (r_pref + r_null)`` with the null direction 180 degrees away.
    """
    _check_method(method)
    if method == "vector":
        return np.abs(_vector(mean, directions_deg, 1))
    return _peak_index(mean, directions_deg, 180.0)


def preferred_orientation(mean: ArrayLike, directions_deg: ArrayLike) -> NDArray[np.float64]:
    """Preferred orientation in [0, 180) degrees: half the angle of ``sum r e^{2i theta}``."""
    return np.mod(np.rad2deg(np.angle(_vector(mean, directions_deg, 2))) / 2.0, 180.0)


def preferred_direction(mean: ArrayLike, directions_deg: ArrayLike) -> NDArray[np.float64]:
    """Preferred direction in [0, 360) degrees: the angle of ``sum r e^{i theta}``."""
    return np.mod(np.rad2deg(np.angle(_vector(mean, directions_deg, 1))), 360.0)


def selectivity_p_value(
    responses: ArrayLike,
    directions_deg: ArrayLike,
    *,
    kind: Literal["orientation", "direction"] = "orientation",
    method: Method = "vector",
    n_shuffles: int = 1000,
    seed: int = 0,
) -> NDArray[np.float64]:
    """Permutation p-value of each cell's selectivity index.

    The null: the response does not depend on direction. The trials' direction labels are
    shuffled ``n_shuffles`` times (the same permutations for every cell), the index is
    recomputed from the shuffled tuning curves, and p = (1 + #{null >= observed}) /
    (1 + n_shuffles). This is what makes an index on a weak or noisy cell interpretable:
    noise alone gives a large OSI when the mean response is near zero.

    Parameters
    ----------
    responses : (n_trials, n_cells) per-trial responses (NaN trials left out per cell)
    directions_deg : (n_trials,) direction of each trial, degrees
    kind : "orientation" or "direction"
    method, n_shuffles, seed : see :func:`orientation_selectivity`; ``seed`` fixes the
        permutations

    Returns
    -------
    (n_cells,) p-values in (0, 1]; NaN where the observed index is NaN.
    """
    if kind not in ("orientation", "direction"):
        raise TuningError(f"kind must be 'orientation' or 'direction', got {kind!r}")
    _check_method(method)
    if int(n_shuffles) < 1:
        raise TuningError(f"n_shuffles must be a positive integer, got {n_shuffles}")
    responses, labels = _as_responses(responses, directions_deg)
    index = orientation_selectivity if kind == "orientation" else direction_selectivity
    curves = tuning_curves(responses, labels)
    observed = index(curves.mean, curves.conditions, method=method)
    rng = np.random.default_rng(seed)
    order = rng.permuted(np.tile(np.arange(labels.size), (int(n_shuffles), 1)), axis=1)
    hot = _one_hot(labels[order], curves.conditions)  # shuffles x trials x conditions
    finite = np.isfinite(responses)
    clean = np.where(finite, responses, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        null_mean = np.einsum("tc,str->scr", clean, hot) / np.einsum(
            "tc,str->scr", finite.astype(np.float64), hot
        )
    n_shuf, n_cells, n_cond = null_mean.shape
    null = index(null_mean.reshape(-1, n_cond), curves.conditions, method=method).reshape(
        n_shuf, n_cells
    )
    exceed = (null >= observed[None, :] - 1e-12).sum(axis=0)
    p = (1.0 + exceed) / (1.0 + n_shuf)
    return np.where(np.isfinite(observed), p, np.nan)
