"""Clocks and events: spike counts and continuous signals aligned to event times.

All times are in seconds. Functions here take plain arrays (never NWB objects) so they
work on any lab's data; :mod:`databook.nwb` is the place that reads files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["Psth", "event_counts", "psth"]


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
    counts = np.empty((len(spike_times), events.size, edges.size - 1), dtype=np.int32)
    for unit, times in enumerate(spike_times):
        times = np.asarray(times, dtype=np.float64)
        if times.ndim != 1:
            raise ValueError(f"spike_times[{unit}] must be 1-D, got shape {times.shape}")
        if times.size > 1 and np.any(times[1:] < times[:-1]):
            raise ValueError(f"spike_times[{unit}] is not sorted; sort each unit's spikes")
        # Number of spikes strictly before each bound; differences give [a, b) counts.
        below = np.searchsorted(times, bounds, side="left")
        np.subtract(below[:, 1:], below[:, :-1], out=counts[unit], casting="unsafe")
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
