"""Clocks and events: spike counts and continuous signals aligned to event times.

All times are in seconds. Functions here take plain arrays (never NWB objects) so they
work on any lab's data; :mod:`databook.nwb` is the place that reads files.

Times should be float64. A float32 clock is coarse at recording times: at t ~ 5000 s its
resolution is 0.49 ms, coarser than the 0.4 ms sample spacing of a 2500 Hz LFP. Float32
(or float16) times are accepted with a :class:`ClockPrecisionWarning` and upcast; sample
timestamps that a regular clock explains to within that resolution are rebuilt as that
clock (``t0 + k * dt`` in float64), which recovers the samples' times.

Threads: ``event_counts`` and ``resample``/``event_windows`` use up to
``DATABOOK_NUM_THREADS`` threads (default: all CPUs).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from databook._threads import n_threads

__all__ = [
    "ClockPrecisionWarning",
    "Psth",
    "event_counts",
    "event_windows",
    "interval_counts",
    "psth",
    "resample",
    "window_times",
]


class ClockPrecisionWarning(UserWarning):
    """Times were given in a float type too coarse for a recording clock (float32)."""


def _resolution_note(raw: NDArray, name: str) -> str:
    """'<name> are float32: at 5000 s their resolution is 0.488 ms' (largest |time|)."""
    finite = raw[np.isfinite(raw)]
    top = np.abs(finite).max() if finite.size else raw.dtype.type(0)
    ulp = float(np.spacing(raw.dtype.type(top)))
    return f"{name} are {raw.dtype}: at {float(top):.6g} s their resolution is {ulp * 1e3:.3g} ms"


def _warn_low_precision(values: ArrayLike, name: str, stacklevel: int = 3) -> None:
    """Warn when times come as float16/float32 (e.g. read from a file that stores them so)."""
    dtype = getattr(values, "dtype", None)
    if dtype is not None and dtype.kind == "f" and dtype.itemsize < 8:
        raw = np.asarray(values)
        warnings.warn(
            f"{_resolution_note(raw, name)}, so each time may be off by half that; they "
            "were upcast to float64, which cannot restore the lost digits: pass float64 times",
            ClockPrecisionWarning,
            stacklevel=stacklevel,
        )


def _as_1d_float(values: ArrayLike, name: str, *, clock: bool = False) -> NDArray[np.float64]:
    if clock:
        _warn_low_precision(values, name, stacklevel=5)  # the caller of _check_events' caller
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        bad = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise ValueError(f"{name} contains NaN or infinite values (first at index {bad})")
    return arr


def _check_edges(edges: ArrayLike) -> NDArray[np.float64]:
    edges = _as_1d_float(edges, "edges")
    if edges.size < 2:
        raise ValueError(f"edges needs at least 2 values to make a bin, got {edges.size}")
    if np.any(np.diff(edges) <= 0):
        raise ValueError(f"edges must be strictly increasing, got {edges}")
    return edges


def _check_events(events: ArrayLike) -> NDArray[np.float64]:
    events = _as_1d_float(events, "events", clock=True)
    if events.size == 0:
        raise ValueError("no events: `events` is empty, so there is no window to align to")
    return events


def _unit_times(values: ArrayLike, unit: int) -> NDArray[np.float64]:
    """One unit's spike times as float64, refused unless 1-D, finite and sorted."""
    times = np.asarray(values, dtype=np.float64)
    if times.ndim != 1:
        raise ValueError(f"spike_times[{unit}] must be 1-D, got shape {times.shape}")
    # One pass: NaN fails every comparison, and +/-inf can only sit at the ends.
    if times.size and not (
        np.isfinite(times[0])
        and np.isfinite(times[-1])
        and (times.size == 1 or np.all(times[1:] >= times[:-1]))
    ):
        nonfinite = np.flatnonzero(~np.isfinite(times))
        if nonfinite.size:
            raise ValueError(
                f"spike_times[{unit}] contains NaN or infinite times "
                f"({nonfinite.size}, first at index {nonfinite[0]}); drop them"
            )
        raise ValueError(f"spike_times[{unit}] is not sorted; sort each unit's spikes")
    return times


def event_counts(
    spike_times: Sequence[ArrayLike], events: ArrayLike, edges: ArrayLike
) -> NDArray[np.int32]:
    """Count each unit's spikes in bins placed relative to each event.

    Parameters
    ----------
    spike_times : sequence of (n_spikes,) float arrays, seconds
        One sorted array per unit, float64 (float32 is upcast with a
        :class:`ClockPrecisionWarning`); NaN or infinite times are an error.
    events : (n_events,) float array, seconds
        Event times (e.g. stimulus onsets); any order; at least one.
    edges : (n_bins + 1,) float array, seconds
        Strictly increasing offsets relative to each event. Bin ``i`` is the half-open
        interval ``[event + edges[i], event + edges[i + 1])``, so a spike that falls on
        a shared edge is counted once, in the later bin.

    Returns
    -------
    counts : (n_units, n_events, n_bins) int32 array

    Raises
    ------
    ValueError
        No events ("no events"); a unit's spike times unsorted, NaN or infinite (the
        message names the unit's index); edges not strictly increasing.

    Notes
    -----
    The bounds are ``event + edges[i]`` in float64, the same numbers
    ``np.histogram(times, bins=event + edges)`` compares with, so the counts equal
    np.histogram's (apart from its closed last bin). pynapple's ``trial_count`` builds
    its edges by adding ``bin_size`` repeatedly and rounding each edge to 1 ns, so a spike
    within a nanosecond of an edge can fall in the neighbouring bin there.

    Examples
    --------
    >>> event_counts([np.array([0.1, 0.2, 1.05])], [0.0, 1.0], [0.0, 0.1, 0.2])
    array([[[0, 1],
            [1, 0]]], dtype=int32)
    """
    events = _check_events(events)
    edges = _check_edges(edges)
    for unit, times in enumerate(spike_times):
        _warn_low_precision(times, f"spike_times[{unit}]")
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
        times = _unit_times(spike_times[unit], unit)
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

    workers = min(len(spike_times), n_threads(), 8)
    if workers > 1:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(count_unit, range(len(spike_times))))
    else:
        for unit in range(len(spike_times)):
            count_unit(unit)
    return counts


def interval_counts(
    spike_times: Sequence[ArrayLike], starts: ArrayLike, stops: ArrayLike
) -> NDArray[np.int64]:
    """Count each unit's spikes in one interval per trial, of any length.

    For epochs whose bounds differ from trial to trial (a task's sample, delay and
    response epochs, a stimulus of variable duration), where :func:`event_counts`' fixed
    offsets do not apply. Divide by ``stops - starts`` for rates in spikes/s.

    Parameters
    ----------
    spike_times : sequence of (n_spikes,) float arrays, seconds
        One sorted array per unit (refused, naming the unit, if unsorted or not finite).
    starts, stops : (n_trials,) float arrays, seconds
        Interval ``k`` is the half-open ``[starts[k], stops[k])``; intervals may overlap and
        come in any order. NaN bounds (a trial without the event) give a count of 0: mask
        those trials out with ``np.isfinite(starts) & np.isfinite(stops)``.

    Returns
    -------
    counts : (n_units, n_trials) int64 array

    Raises
    ------
    ValueError
        ``starts`` and ``stops`` of different shapes, or a finite interval with
        ``stop <= start`` (naming the first such trial).

    Examples
    --------
    >>> interval_counts([np.array([0.1, 0.2, 1.05])], [0.0, 1.0], [0.15, 1.5])
    array([[1, 1]])
    """
    starts = np.asarray(starts, dtype=np.float64)
    stops = np.asarray(stops, dtype=np.float64)
    if starts.ndim != 1 or starts.shape != stops.shape:
        raise ValueError(
            f"starts and stops must be 1-D of one length, got {starts.shape} and {stops.shape}"
        )
    finite = np.isfinite(starts) & np.isfinite(stops)
    reversed_ = np.flatnonzero(finite & (stops <= starts))
    if reversed_.size:
        k = reversed_[0]
        raise ValueError(
            f"interval {k} stops at {stops[k]} s, not after its start {starts[k]} s "
            f"({reversed_.size} such intervals)"
        )
    lo = np.where(finite, starts, 0.0)
    hi = np.where(finite, stops, 0.0)
    counts = np.zeros((len(spike_times), starts.size), dtype=np.int64)
    for unit, values in enumerate(spike_times):
        _warn_low_precision(values, f"spike_times[{unit}]")
        times = _unit_times(values, unit)
        counts[unit] = np.searchsorted(times, hi) - np.searchsorted(times, lo)
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


def _regular_clock(t: NDArray[np.float64], raw: NDArray) -> NDArray[np.float64] | None:
    """The float64 clock ``t0 + k * dt`` that ``raw`` (low-precision timestamps, upcast
    to ``t``) rounds, if every timestamp lies within one unit of its last place of it."""
    k = np.arange(t.size, dtype=np.float64)
    k -= k.mean()
    mean = t.mean()
    dt = np.dot(k, t - mean) / np.dot(k, k)
    if not dt > 0:
        return None
    rebuilt = mean + dt * k
    if np.all(np.abs(rebuilt - t) <= np.spacing(np.abs(raw)).astype(np.float64)):
        return rebuilt
    return None


def _check_timestamps(timestamps: ArrayLike, values: ArrayLike) -> tuple[NDArray, NDArray]:
    raw = np.asarray(timestamps)
    timestamps = _as_1d_float(raw, "timestamps")
    low_precision = raw.dtype.kind == "f" and raw.dtype.itemsize < 8
    if low_precision:
        note = _resolution_note(raw, "timestamps")
        rebuilt = _regular_clock(timestamps, raw) if timestamps.size > 2 else None
        if rebuilt is not None:
            timestamps = rebuilt
            warnings.warn(
                f"{note}; they match a regular clock to within it, so that clock (first "
                f"sample {rebuilt[0]:.6f} s, {1 / (rebuilt[1] - rebuilt[0]):.6f} Hz) is "
                "used in float64. Pass float64 timestamps to use your own clock",
                ClockPrecisionWarning,
                stacklevel=3,
            )
        else:
            warnings.warn(
                f"{note} and they are not a regular clock, so they were upcast to float64 "
                "with that error left in: pass float64 timestamps",
                ClockPrecisionWarning,
                stacklevel=3,
            )
    values = np.asarray(values)
    if values.shape[:1] != timestamps.shape:
        raise ValueError(
            f"values has {values.shape[0] if values.ndim else 0} samples along its first "
            f"axis but timestamps has {timestamps.size}"
        )
    if timestamps.size < 2 or np.any(np.diff(timestamps) <= 0):
        why = (
            f" ({_resolution_note(raw, 'timestamps')}: store them as float64)"
            if low_precision
            else ""
        )
        raise ValueError(f"timestamps must hold at least 2 strictly increasing times{why}")
    return timestamps, values


# A query within this fraction of a sample interval of a sample takes that sample exactly.
_SNAP = 1e-9


def _interp_weights(
    timestamps: NDArray[np.float64], times: NDArray[np.float64]
) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """Left sample index (0 .. n - 2) and the right sample's weight in [0, 1] for linear
    interpolation at ``times``; the weight is NaN outside the sampled span (and at NaN
    times), and snapped to exactly 0 or 1 within ``_SNAP`` of a sample."""
    left = np.searchsorted(timestamps, times, side="right") - 1
    np.clip(left, 0, timestamps.size - 2, out=left)
    t_left = timestamps[left]
    weight = times - t_left
    weight /= timestamps[left + 1] - t_left
    weight[weight <= _SNAP] = 0.0
    weight[weight >= 1 - _SNAP] = 1.0
    weight[~((times >= timestamps[0]) & (times <= timestamps[-1]))] = np.nan
    return left, weight


@functools.cache
def _interp_kernel():
    """Compile (once; cached on disk) the row blend: out[q] = v[i] + w (v[i + 1] - v[i]).

    A weight of exactly 0 or 1 copies one sample, so a NaN in the other sample does not
    leak in (NaN * 0 is NaN); a weight in between touching a NaN gives NaN; a NaN weight
    (no data) gives NaN. One read of the two rows and one write per query, and it
    releases the GIL so blocks of queries run on several threads.
    """
    import numba

    @numba.njit(nogil=True, cache=True)
    def interpolate(values, left, weight, out, start, stop):
        m = values.shape[1]
        for q in range(start, stop):
            w = weight[q]
            row = out[q]
            if not (w >= 0.0 and w <= 1.0):  # NaN weight: no data here
                for j in range(m):
                    row[j] = np.nan
            elif w == 0.0:
                a = values[left[q]]
                for j in range(m):
                    row[j] = a[j]
            elif w == 1.0:
                b = values[left[q] + 1]
                for j in range(m):
                    row[j] = b[j]
            else:
                a = values[left[q]]
                b = values[left[q] + 1]
                for j in range(m):
                    row[j] = a[j] + w * (b[j] - a[j])

    return interpolate


def _interpolate(
    timestamps: NDArray[np.float64], values: NDArray, times: NDArray[np.float64]
) -> NDArray[np.floating]:
    """``values`` (n, ...) at ``times`` (any shape): (*times.shape, ...), float."""
    out_dtype = np.result_type(values.dtype, np.float32)
    left, weight = _interp_weights(timestamps, times.ravel())
    flat = values.reshape(values.shape[0], -1)
    if flat.dtype.kind not in "iuf":  # bool and the like: blend in the output type
        flat = flat.astype(out_dtype)
    out = np.empty((weight.size, flat.shape[1]), dtype=out_dtype)
    if out.size:
        kernel = _interp_kernel()
        weight = weight.astype(out_dtype if out_dtype.kind == "f" else np.float64)
        # Blocks of ~1 M output values, on threads when there are several.
        step = max(1, (1 << 20) // max(flat.shape[1], 1))
        starts = range(0, weight.size, step)
        workers = min(len(starts), n_threads())

        def work(begin: int) -> None:
            kernel(flat, left, weight, out, begin, min(begin + step, weight.size))

        if workers > 1:
            with ThreadPoolExecutor(workers) as pool:
                list(pool.map(work, starts))
        else:
            for begin in starts:
                work(begin)
    return out.reshape(*times.shape, *values.shape[1:])


def resample(
    timestamps: ArrayLike, values: ArrayLike, new_timestamps: ArrayLike
) -> NDArray[np.floating]:
    """Linearly interpolate ``values`` onto ``new_timestamps`` (seconds).

    Puts modalities on one clock (e.g. running speed at 60 Hz onto two-photon frame
    times).

    Parameters
    ----------
    timestamps : (n_samples,) float array, seconds
        Strictly increasing (may be irregular); float64 (see the module notes on
        float32 clocks).
    values : (n_samples, ...) array
        Sampled at ``timestamps`` along the first axis; may contain NaN (dropped samples).
    new_timestamps : float array of any shape, seconds

    Returns
    -------
    (*new_timestamps.shape, ...) float array (float32 for float32 or integer values)
        NaN outside the sampled span and at NaN times. A time on a sample (within 1e-9
        of a sample interval) takes that sample's value, whatever its neighbours hold;
        a time between two samples is NaN if either is NaN.
    """
    timestamps, values = _check_timestamps(timestamps, values)
    _warn_low_precision(new_timestamps, "new_timestamps")
    new = np.asarray(new_timestamps, dtype=np.float64)
    return _interpolate(timestamps, values, new)


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
        Sample times of ``values``, strictly increasing (may be irregular); float64
        (float32 clocks: see the module notes).
    values : (n_samples, ...) array
        dF/F (samples x ROIs), LFP (samples x channels), running speed, pupil area...
    events : (n_events,) float array, seconds
        At least one; any order.
    window : (start, stop), seconds relative to each event
    rate : float, Hz
        Output samples are at ``event + window[0] + k / rate``, measured from each
        event's own time; values are linearly interpolated between samples.

    Returns
    -------
    (n_events, n_window_samples, ...) array, float; NaN where there is no data.
        Sample ``k`` of window ``e`` is ``values`` at ``events[e] + window[0] + k / rate``,
        interpolated as :func:`resample` does (a NaN sample spoils only the window
        samples next to it).

    Raises
    ------
    ValueError
        No events ("no events"), NaN event times, a bad window or rate, or timestamps
        that are not strictly increasing.
    """
    timestamps, values = _check_timestamps(timestamps, values)
    events = _check_events(events)
    offsets = window_times(window, rate)
    return _interpolate(timestamps, values, events[:, None] + offsets[None, :])
