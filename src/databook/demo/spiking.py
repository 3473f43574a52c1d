"""Seeded spike trains with a planted, known response to events.

Used by the demo dandiset and by figures that teach a method on data whose answer is
known. Times in seconds, rates in spikes/s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["EvokedResponse", "evoked_poisson"]


@dataclass(frozen=True)
class EvokedResponse:
    """A boxcar rate step after each event: ``baseline_hz`` elsewhere.

    The rate is ``evoked_hz`` from ``latency_s`` to ``latency_s + duration_s`` after each
    event, and ``baseline_hz`` at all other times.
    """

    baseline_hz: float
    evoked_hz: float
    latency_s: float
    duration_s: float

    def rate(self, t: NDArray[np.float64], events: NDArray[np.float64]) -> NDArray[np.float64]:
        """Instantaneous rate (spikes/s) at times ``t`` given sorted ``events`` (s)."""
        last = np.searchsorted(events, t, side="right") - 1
        since = np.where(last >= 0, t - events[np.clip(last, 0, None)], np.inf)
        inside = (since >= self.latency_s) & (since < self.latency_s + self.duration_s)
        return np.where(inside, self.evoked_hz, self.baseline_hz)


def evoked_poisson(
    response: EvokedResponse,
    events: ArrayLike,
    t_stop: float,
    n_units: int,
    *,
    seed: int = 0,
) -> list[NDArray[np.float64]]:
    """Independent inhomogeneous Poisson spike trains on ``[0, t_stop)`` seconds.

    Drawn by thinning a homogeneous process at the peak rate, so every unit's train is
    exact for the stated rate function and fully determined by ``seed``.
    """
    events = np.sort(np.asarray(events, dtype=np.float64))
    peak = max(response.baseline_hz, response.evoked_hz)
    rng = np.random.default_rng(seed)
    counts = rng.poisson(peak * t_stop, size=n_units)
    times = rng.uniform(0.0, t_stop, size=counts.sum())
    keep = rng.uniform(0.0, peak, size=times.size) < response.rate(times, events)
    owner = np.repeat(np.arange(n_units), counts)
    times, owner = times[keep], owner[keep]
    order = np.lexsort((times, owner))
    times, owner = times[order], owner[order]
    splits = np.searchsorted(owner, np.arange(1, n_units))
    return np.split(times, splits)
