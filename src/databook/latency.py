"""Response latency, duration and gain of spiking units: a step (boxcar) fit to the PSTH.

The time of the *peak* of a smoothed PSTH is a poor latency: for a sustained response
it lands anywhere on the plateau, and a causal kernel delays it further. This module
fits, by maximum likelihood, the simplest model with an onset: each unit fires at a
constant ``baseline_rate`` except in one interval ``[latency, latency + duration)``
after the stimulus, where it fires at ``response_rate`` (higher). Counts summed over
trials in bins of ``bin_size`` are Poisson under that model; the fit searches every
pair of bin edges in ``search`` for the interval. Times in seconds, rates in spikes/s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from databook.align import event_counts

__all__ = ["StepFit", "step_response"]

# Elements of the (units x events x bins) count array, and of the (units x pairs)
# likelihood array, per chunk of units.
_CHUNK = 8_000_000


@dataclass(frozen=True)
class StepFit:
    """Per unit (arrays of shape (n_units,); NaN where a unit has no excitatory step).

    Attributes
    ----------
    latency : s, onset of the fitted step after the stimulus
    duration : s
    baseline_rate, response_rate : spikes/s, outside and inside the step
    gain : spikes/s, ``response_rate - baseline_rate``
    log_lr : natural-log likelihood ratio of the step model against a constant rate
        (0 where there is no step)
    """

    latency: NDArray[np.float64]
    duration: NDArray[np.float64]
    baseline_rate: NDArray[np.float64]
    response_rate: NDArray[np.float64]
    gain: NDArray[np.float64]
    log_lr: NDArray[np.float64]


def _xlogx_over(n: NDArray[np.float64], t: NDArray[np.float64]) -> NDArray[np.float64]:
    """``n * log(n / t)`` with 0 where ``n == 0`` (Poisson profile log-likelihood + n)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > 0, n * np.log(n / t), 0.0)


def step_response(
    spike_times: Sequence[ArrayLike],
    onsets: ArrayLike,
    *,
    window: tuple[float, float] = (-0.5, 0.25),
    search: tuple[float, float] = (0.0, 0.25),
    bin_size: float = 0.001,
) -> StepFit:
    """Maximum-likelihood step response of each unit around the stimulus.

    Parameters
    ----------
    spike_times : sequence of sorted (n_spikes,) float arrays, seconds
    onsets : (n_trials,) stimulus onsets, seconds
    window : (start, stop), seconds from onset
        The data the model explains; the part outside ``search`` fixes the baseline.
    search : (start, stop), seconds from onset, inside ``window``
        Where the step may start and end.
    bin_size : seconds; latencies and durations are multiples of it

    Returns
    -------
    StepFit
        The step with the largest likelihood among those with ``response_rate >
        baseline_rate`` (an excitatory response). Units with no spike in ``search`` or no
        such step get NaN (and ``log_lr`` 0). The fit always returns a step for a unit
        with spikes: decide *whether* a unit responds with a test (e.g.
        :func:`databook.responses.unit_responses`), then read its latency here.
    """
    w0, w1 = (float(v) for v in window)
    s0, s1 = (float(v) for v in search)
    if not (bin_size > 0):
        raise ValueError(f"bin_size must be positive seconds, got {bin_size}")
    if not (w1 > w0 and s1 > s0):
        raise ValueError(
            f"window {window} and search {search} must be (start, stop) with stop > start"
        )
    if not (w0 <= s0 and s1 <= w1):
        raise ValueError(f"search {search} must lie inside window {window}")
    onsets = np.asarray(onsets, dtype=np.float64)
    if onsets.ndim != 1 or onsets.size == 0:
        raise ValueError(f"onsets must be a non-empty 1-D array of times, got shape {onsets.shape}")
    # One grid with 0 on an edge; the search interval snapped to it.
    first, last = int(np.floor(w0 / bin_size + 1e-9)), int(np.ceil(w1 / bin_size - 1e-9))
    edges = np.arange(first, last + 1) * bin_size
    lo = int(np.searchsorted(edges, s0 - 1e-9 * bin_size))
    hi = int(np.searchsorted(edges, s1 + 1e-9 * bin_size, side="right")) - 1
    if hi <= lo:
        raise ValueError(f"search {search} holds no bin of bin_size={bin_size} s")
    n_units, n_trials, n_bins = len(spike_times), onsets.size, edges.size - 1
    i, j = np.triu_indices(hi - lo + 1, k=1)  # step over bins [lo + i, lo + j)
    i, j = i + lo, j + lo
    t_in = (j - i) * bin_size * n_trials
    t_all = n_bins * bin_size * n_trials
    t_out = t_all - t_in
    out = {k: np.full(n_units, np.nan) for k in ("latency", "duration", "base", "resp")}
    log_lr = np.zeros(n_units)
    per_unit = max(n_trials * n_bins, i.size)
    chunk = max(1, _CHUNK // per_unit)
    for start in range(0, n_units, chunk):
        part = spike_times[start : start + chunk]
        counts = event_counts(part, onsets, edges).sum(axis=1, dtype=np.int64)
        cum = np.concatenate([np.zeros((len(part), 1)), np.cumsum(counts, axis=1)], axis=1)
        total = cum[:, -1:]
        n_in = cum[:, j] - cum[:, i]
        n_out = total - n_in
        ll = _xlogx_over(n_in, t_in) + _xlogx_over(n_out, t_out) - _xlogx_over(total, t_all)
        excitatory = n_in * t_out > n_out * t_in  # rate inside > rate outside
        ll = np.where(excitatory, ll, -np.inf)
        best = np.argmax(ll, axis=1)
        rows = np.arange(len(part))
        found = np.isfinite(ll[rows, best])
        b = best[found]
        sl = np.arange(start, start + len(part))[found]
        out["latency"][sl] = edges[i[b]]
        out["duration"][sl] = (j[b] - i[b]) * bin_size
        out["resp"][sl] = n_in[rows[found], b] / t_in[b]
        out["base"][sl] = n_out[rows[found], b] / t_out[b]
        log_lr[sl] = ll[rows[found], b]
    return StepFit(
        latency=out["latency"],
        duration=out["duration"],
        baseline_rate=out["base"],
        response_rate=out["resp"],
        gain=out["resp"] - out["base"],
        log_lr=log_lr,
    )
