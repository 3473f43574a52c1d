"""Clocks and events: spike counts and continuous signals aligned to event times.

All times are in seconds. Functions here take plain arrays (never NWB objects) so they
work on any lab's data; :mod:`databook.nwb` is the place that reads files.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "Psth",
    "epochs",
    "event_counts",
    "event_windows",
    "psth",
    "resample",
    "select",
    "window_times",
]


def _as_1d_float(values: ArrayLike, name: str) -> NDArray[np.float64]:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def _check_edges(edges: ArrayLike) -> NDArray[np.float64]:
    edges = _as_1d_float(edges, "edges")
    if edges.size < 2:
        raise ValueError(f"edges needs at least 2 values to make a bin, got {edges.size}")
    if np.any(np.diff(edges) <= 0):
        raise ValueError(f"edges must be strictly increasing, got {edges}")
    return edges


def event_counts(
    spike_times: Sequence[ArrayLike], events: ArrayLike, edges: ArrayLike
) -> NDArray[np.int32]:
    """Count each unit's spikes in bins placed relative to each event.

    Parameters
    ----------
    spike_times : sequence of (n_spikes,) float arrays, seconds
        One sorted array per unit.
    events : (n_events,) float array, seconds
        Event times (e.g. stimulus onsets); any order.
    edges : (n_bins + 1,) float array, seconds
        Strictly increasing offsets relative to each event. Bin ``i`` is the half-open
        interval ``[event + edges[i], event + edges[i + 1])``, so a spike that falls on
        a shared edge is counted once, in the later bin.

    Returns
    -------
    counts : (n_units, n_events, n_bins) int32 array

    Examples
    --------
    >>> event_counts([np.array([0.1, 0.2, 1.05])], [0.0, 1.0], [0.0, 0.1, 0.2])
    array([[[0, 1],
            [1, 0]]], dtype=int32)
    """
    events = _as_1d_float(events, "events")
    edges = _check_edges(edges)
    bounds = events[:, None] + edges[None, :]
    n_events, n_bins = events.size, edges.size - 1
    counts = np.zeros((len(spike_times), n_events, n_bins), dtype=np.int32)
    order = np.argsort(events, kind="stable")
    sorted_bounds = bounds[order]
    # Windows that do not overlap: each spike is placed once, by finding its event among
    # the window starts and its bin among the edge offsets (small, cache-resident
    # searches), then checked against the exact bounds event + edge, so the result is
    # the same half-open binning as the general path below.
    disjoint = bool(np.all(np.diff(sorted_bounds.ravel()) > 0))
    in_order = bool(np.all(order == np.arange(n_events)))
    flat_bounds = sorted_bounds.ravel()
    starts = sorted_bounds[:, 0]
    widths = np.diff(edges)
    uniform = bool(np.allclose(widths, widths[0], rtol=1e-9, atol=0))
    inverse_width = 1.0 / widths[0]

    def count_unit(unit: int) -> None:
        times = np.asarray(spike_times[unit], dtype=np.float64)
        if times.ndim != 1:
            raise ValueError(f"spike_times[{unit}] must be 1-D, got shape {times.shape}")
        if times.size > 1 and np.any(times[1:] < times[:-1]):
            raise ValueError(f"spike_times[{unit}] is not sorted; sort each unit's spikes")
        if not disjoint:
            # Number of spikes strictly before each bound; differences give [a, b) counts.
            below = np.searchsorted(times, bounds, side="left")
            np.subtract(below[:, 1:], below[:, :-1], out=counts[unit], casting="unsafe")
            return
        lo, hi = np.searchsorted(times, (flat_bounds[0], flat_bounds[-1]))
        t = times[lo:hi]
        event = np.searchsorted(starts, t, side="right") - 1
        base = event * (n_bins + 1)
        offset = t - flat_bounds[base]
        if uniform:
            bin_ = (offset * inverse_width).astype(np.int64)
        else:
            bin_ = np.searchsorted(edges - edges[0], offset, side="right") - 1
        np.clip(bin_, 0, n_bins - 1, out=bin_)
        # Rounding can put a spike one bin off; compare with the exact bounds event + edge.
        bin_ -= t < flat_bounds[base + bin_]
        bin_ += (bin_ >= 0) & (t >= flat_bounds[base + bin_ + 1])
        keep = (bin_ >= 0) & (bin_ < n_bins)
        # Sorted spikes in disjoint sorted windows give sorted bin indices: write run
        # lengths into the occupied bins only (work grows with spikes, not with bins).
        index = event[keep] * n_bins + bin_[keep]
        if index.size == 0:
            return
        first = np.flatnonzero(np.diff(index, prepend=-1))
        runs = np.diff(first, append=index.size)
        occupied = index[first]
        if not in_order:
            occupied = order[occupied // n_bins] * n_bins + occupied % n_bins
        counts[unit].reshape(-1)[occupied] = runs

    workers = min(len(spike_times), os.cpu_count() or 1, 8)
    if workers > 1:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(count_unit, range(len(spike_times))))
    else:
        for unit in range(len(spike_times)):
            count_unit(unit)
    return counts


@dataclass(frozen=True)
class Psth:
    """Peri-stimulus time histogram of several units.

    Attributes
    ----------
    rate : (n_units, n_bins) float array, spikes/s, mean over events
    sem : (n_units, n_bins) float array, spikes/s, standard error of that mean
    edges : (n_bins + 1,) float array, seconds relative to the event
    n_events : int
    """

    rate: NDArray[np.float64]
    sem: NDArray[np.float64]
    edges: NDArray[np.float64]
    n_events: int

    @property
    def centers(self) -> NDArray[np.float64]:
        """Bin centres, seconds relative to the event."""
        return 0.5 * (self.edges[1:] + self.edges[:-1])


def psth(
    spike_times: Sequence[ArrayLike],
    events: ArrayLike,
    edges: ArrayLike,
    *,
    smooth_tau: float | None = None,
) -> Psth:
    """Trial-averaged firing rate around events, in spikes/s, with its SEM over events.

    Parameters
    ----------
    spike_times, events, edges
        As in :func:`event_counts` (seconds).
    smooth_tau : float, optional, seconds
        Time constant of a causal exponential kernel applied to each trial's rate before
        averaging. Causal, so a response never appears to start before it does; each bin
        is a weighted mean of itself and earlier bins of the window. Needs equal widths.
    """
    edges = _check_edges(edges)
    widths = np.diff(edges)
    counts = event_counts(spike_times, events, edges)
    n_events = counts.shape[1]
    if n_events < 2:
        raise ValueError(f"psth needs at least 2 events for an SEM, got {n_events}")
    rates = counts / widths
    if smooth_tau is not None:
        if smooth_tau <= 0:
            raise ValueError(f"smooth_tau must be positive seconds, got {smooth_tau}")
        if not np.allclose(widths, widths[0]):
            raise ValueError("smoothing needs equal bin widths; edges are uneven")
        from scipy.signal import lfilter

        # Causal exponential kernel as a one-pole filter: y[t] = x[t] + a * y[t - 1].
        decay = np.exp(-widths[0] / smooth_tau)
        smoothed = lfilter([1.0], [1.0, -decay], rates, axis=-1)
        # Early bins see only part of the kernel; divide by the weight they saw.
        weight = lfilter([1.0], [1.0, -decay], np.ones(widths.size))
        rates = smoothed / weight
    mean = rates.mean(axis=1)
    sem = rates.std(axis=1, ddof=1) / np.sqrt(n_events)
    return Psth(rate=mean, sem=sem, edges=edges, n_events=n_events)


def _interp_indices(timestamps: NDArray[np.float64], times: NDArray[np.float64]):
    """Left sample index and weight of the right sample for linear interpolation at
    ``times``; ``inside`` is False where ``times`` fall outside the sampled span."""
    right = np.searchsorted(timestamps, times, side="right")
    left = np.clip(right - 1, 0, timestamps.size - 1)
    right = np.clip(right, 0, timestamps.size - 1)
    span = timestamps[right] - timestamps[left]
    with np.errstate(invalid="ignore", divide="ignore"):
        weight = np.where(span > 0, (times - timestamps[left]) / span, 0.0)
    inside = (times >= timestamps[0]) & (times <= timestamps[-1])
    return left, right, weight, inside


def _check_timestamps(timestamps: ArrayLike, values: ArrayLike) -> tuple[NDArray, NDArray]:
    timestamps = _as_1d_float(timestamps, "timestamps")
    values = np.asarray(values)
    if values.shape[:1] != timestamps.shape:
        raise ValueError(
            f"values has {values.shape[0] if values.ndim else 0} samples along its first "
            f"axis but timestamps has {timestamps.size}"
        )
    if timestamps.size < 2 or np.any(np.diff(timestamps) <= 0):
        raise ValueError("timestamps must hold at least 2 strictly increasing times")
    return timestamps, values


def resample(
    timestamps: ArrayLike, values: ArrayLike, new_timestamps: ArrayLike
) -> NDArray[np.floating]:
    """Linearly interpolate ``values`` (sampled at ``timestamps``, first axis) onto
    ``new_timestamps`` (seconds); NaN outside the sampled span. Puts modalities on one
    clock (e.g. running speed at 60 Hz onto two-photon frame times)."""
    timestamps, values = _check_timestamps(timestamps, values)
    new = np.asarray(new_timestamps, dtype=np.float64)
    left, right, weight, inside = _interp_indices(timestamps, new.ravel())
    out_dtype = np.result_type(values.dtype, np.float32)
    # A time within 1e-9 of a sample interval of a sample takes that sample: one gather
    # serves grids aligned with the data (e.g. windows on frame times); only the rest
    # are blended.
    snap_right = weight >= 1 - 1e-9
    out = values[np.where(snap_right, right, left)].astype(out_dtype, copy=False)
    between = (weight > 1e-9) & ~snap_right
    shape = (-1, *([1] * (values.ndim - 1)))
    if between.sum() > between.size // 2:  # mostly between samples: whole-array updates
        upper = values[right].astype(out_dtype, copy=True)
        upper -= out
        upper *= np.where(between, weight, 0.0).astype(out_dtype).reshape(shape)
        out += upper
    elif between.any():
        blend = np.flatnonzero(between)
        upper = values[right[blend]].astype(out_dtype, copy=False)
        out[blend] += weight[blend].astype(out_dtype).reshape(shape) * (upper - out[blend])
    out[~inside] = np.nan
    return out.reshape(*new.shape, *values.shape[1:])


def window_times(window: tuple[float, float], rate: float) -> NDArray[np.float64]:
    """Sample offsets ``window[0] + k / rate`` (seconds) covering ``[window[0], window[1])``."""
    start, stop = map(float, window)
    if not stop > start:
        raise ValueError(f"window must be (start, stop) with stop > start, got {window}")
    if not rate > 0:
        raise ValueError(f"rate must be positive (Hz), got {rate}")
    n = int(np.floor((stop - start) * rate + 1e-9))
    return start + np.arange(n) / rate


def event_windows(
    timestamps: ArrayLike,
    values: ArrayLike,
    events: ArrayLike,
    window: tuple[float, float],
    rate: float,
) -> NDArray[np.floating]:
    """Cut a continuous signal into windows around events, on a common time grid.

    Parameters
    ----------
    timestamps : (n_samples,) float array, seconds
        Sample times of ``values``, strictly increasing (may be irregular).
    values : (n_samples, ...) array
        dF/F (samples x ROIs), LFP (samples x channels), running speed, pupil area...
    events : (n_events,) float array, seconds
    window : (start, stop), seconds relative to each event
    rate : float, Hz
        Output samples are at ``event + window[0] + k / rate``, measured from each
        event's own time; values are linearly interpolated between samples.

    Returns
    -------
    (n_events, n_window_samples, ...) array, float; NaN where there is no data.
    """
    events = _as_1d_float(events, "events")
    offsets = window_times(window, rate)
    return resample(timestamps, values, events[:, None] + offsets[None, :])


def select(table, **criteria):
    """Rows of a stimulus table (pandas DataFrame) whose columns equal the given values.

    Name the table in errors by setting ``table.attrs["name"]`` (readers do).

    A value may be a scalar or a list of accepted values, e.g.
    ``select(gabors, orientation=[0, 90], stimulus_name="gabors")``. A missing column is
    an error naming the column and the columns the table has.
    """
    missing = [c for c in criteria if c not in table.columns]
    if missing:
        name = table.attrs.get("name", "the stimulus table")
        have = ", ".join(map(str, table.columns))
        raise KeyError(f"{name} lacks column(s) {', '.join(missing)}; it has {have}")
    mask = np.ones(len(table), dtype=bool)
    for column, accepted in criteria.items():
        accepted = accepted if isinstance(accepted, list | tuple | set | np.ndarray) else [accepted]
        mask &= table[column].isin(list(accepted)).to_numpy()
    return table[mask]


def epochs(table, *, max_gap: float = 5.0, by: str = "stimulus_name"):
    """Split a session's presentations into stimulus epochs.

    ``table`` has ``start_time``, ``stop_time`` (s) and ``by``; a new epoch starts where
    ``by`` changes or the gap between presentations exceeds ``max_gap`` seconds. Returns
    a DataFrame with ``start_time``, ``stop_time``, ``by`` and ``n_presentations``.
    """
    import pandas as pd

    for column in ("start_time", "stop_time", by):
        if column not in table.columns:
            raise KeyError(f"stimulus table lacks column {column!r} needed to split epochs")
    ordered = table.sort_values("start_time")
    start = ordered["start_time"].to_numpy(dtype=float)
    stop = ordered["stop_time"].to_numpy(dtype=float)
    label = ordered[by].to_numpy()
    new = np.ones(start.size, dtype=bool)
    new[1:] = (label[1:] != label[:-1]) | (start[1:] - stop[:-1] > max_gap)
    group = np.cumsum(new) - 1
    first = np.flatnonzero(new)
    return pd.DataFrame(
        {
            "start_time": start[first],
            "stop_time": np.maximum.reduceat(stop, first),
            by: label[first],
            "n_presentations": np.bincount(group),
        }
    )
