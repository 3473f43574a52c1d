"""Seeded spike trains with a planted, known response to events.

Used by the demo dandiset and by figures that teach a method on data whose answer is
known. Times in seconds, rates in spikes/s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "EvokedResponse",
    "GridRFSession",
    "alpha_poisson",
    "evoked_poisson",
    "grid_rf_session",
    "superposed_poisson",
]


def _since_latest(t: NDArray, events: NDArray, *, before: float) -> NDArray[np.float64]:
    """Seconds from the latest of the sorted ``events`` at or before each time ``t``;
    ``before`` for times before the first event."""
    last = np.searchsorted(events, t, side="right") - 1
    return np.where(last >= 0, t - events[np.clip(last, 0, None)], before)


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
        since = _since_latest(t, events, before=np.inf)
        inside = (since >= self.latency_s) & (since < self.latency_s + self.duration_s)
        return np.where(inside, self.evoked_hz, self.baseline_hz)


def _per_unit(times: NDArray, owner: NDArray, n_units: int) -> list[NDArray[np.float64]]:
    """Spike times (s) split by the unit that owns them, each sorted."""
    order = np.lexsort((times, owner))
    times, owner = times[order], owner[order]
    return np.split(times, np.searchsorted(owner, np.arange(1, n_units)))


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
    return _per_unit(times[keep], owner[keep], n_units)


@dataclass(frozen=True)
class GridRFSession:
    """Spikes of units with planted Gaussian receptive fields, and the stimuli shown.

    ``spikes``: one sorted array per unit (s); ``x``, ``y``: position of each
    presentation (grid units, e.g. degrees); ``onsets`` (s); ``centers`` (n_rf, 2: x, y)
    of the first ``n_rf`` units (the rest have no RF).
    """

    spikes: list[NDArray[np.float64]]
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    onsets: NDArray[np.float64]
    centers: NDArray[np.float64]


def grid_rf_session(
    *,
    seed: int = 0,
    grid: ArrayLike = (-40.0, -30.0, -20.0, -10.0, 0.0, 10.0, 20.0, 30.0, 40.0),
    n_rf: int = 100,
    n_null: int = 100,
    repeats: int = 15,
    gain: float = 3.0,
    baseline: float = 0.5,
    sigma: float = 10.0,
    duration_s: float = 0.25,
    latency_s: float = 0.0,
    response_s: float | None = None,
) -> GridRFSession:
    """Patches flashed on a square grid in shuffled blocks, ``duration_s`` each, no gap.

    Each presentation evokes Poisson(``baseline`` + ``gain`` * Gaussian(distance to the
    unit's centre, ``sigma``)) spikes spread uniformly over ``[latency_s, latency_s +
    response_s)`` s after its onset (``response_s`` None: ``duration_s``, the
    presentation itself). A response that outlasts ``duration_s - latency_s`` spills
    into the next presentation, which shows another position. Centres are uniform over
    the inner grid. Null units fire at ``baseline`` only.
    """
    if response_s is None:
        response_s = duration_s
    if latency_s < 0 or response_s <= 0:
        raise ValueError(f"need latency_s >= 0 and response_s > 0, got {latency_s}, {response_s}")
    rng = np.random.default_rng(seed)
    grid = np.asarray(grid, dtype=np.float64)
    xx, yy = np.meshgrid(grid, grid)
    positions = np.stack([xx.ravel(), yy.ravel()], 1)
    order = np.concatenate([rng.permutation(len(positions)) for _ in range(repeats)])
    x, y = positions[order, 0], positions[order, 1]
    onsets = 1.0 + duration_s * np.arange(order.size)
    inner = 0.75 * np.abs(grid).max()
    centers = rng.uniform(-inner, inner, (n_rf, 2))
    lam = np.full((n_rf + n_null, order.size), baseline)
    d2 = (x[None] - centers[:, :1]) ** 2 + (y[None] - centers[:, 1:]) ** 2
    lam[:n_rf] += gain * np.exp(-d2 / (2 * sigma**2))
    n = rng.poisson(lam)
    spikes = [
        np.sort(np.repeat(onsets + latency_s, row) + rng.uniform(0, response_s, row.sum()))
        for row in n
    ]
    return GridRFSession(spikes, x, y, onsets, centers)


def superposed_poisson(
    events: ArrayLike,
    t_stop: float,
    n_units: int,
    *,
    baseline_hz: float,
    evoked_hz: float,
    latency_s: float,
    duration_s: float,
    seed: int = 0,
) -> list[NDArray[np.float64]]:
    """Poisson spike trains whose responses to close events add up, on ``[0, t_stop)`` s.

    Each unit fires at ``baseline_hz`` throughout, plus ``evoked_hz`` from ``latency_s`` to
    ``latency_s + duration_s`` after *every* event, so responses to events closer than
    the response lasts overlap and sum (unlike :class:`EvokedResponse`, where the latest
    event alone sets the rate). Use it for pulse trains: at 40 Hz a response 20-40 ms after
    a pulse runs into the first 15 ms after the next one.
    """
    events = np.sort(np.asarray(events, dtype=np.float64))
    if baseline_hz < 0 or evoked_hz < 0 or duration_s < 0 or n_units < 1:
        raise ValueError(
            f"need rates >= 0, duration_s >= 0 and n_units >= 1, got {baseline_hz=}, "
            f"{evoked_hz=}, {duration_s=}, {n_units=}"
        )
    rng = np.random.default_rng(seed)
    trains = []
    for _ in range(n_units):
        base = rng.uniform(0.0, t_stop, rng.poisson(baseline_hz * t_stop))
        n = rng.poisson(evoked_hz * duration_s, events.size)
        evoked = np.repeat(events + latency_s, n) + rng.uniform(0.0, duration_s, n.sum())
        t = np.concatenate([base, evoked])
        trains.append(np.sort(t[t < t_stop]))
    return trains


def alpha_poisson(
    events: ArrayLike,
    t_stop: float,
    *,
    baseline_hz: ArrayLike,
    peak_hz: ArrayLike,
    latency_s: ArrayLike,
    tau_s: ArrayLike,
    seed: int = 0,
) -> list[NDArray[np.float64]]:
    """Poisson trains whose response to each event is an alpha function, not a step.

    Unit ``k`` fires at ``baseline_hz[k] + peak_hz[k] * x * exp(1 - x)`` with ``x = (t -
    event - latency_s[k]) / tau_s[k]`` for ``x > 0`` after the latest event, and at its
    baseline before: the rate starts rising at the latency, peaks ``tau_s`` later and
    decays with no sharp end (above half its peak for about ``2.45 * tau_s``). One value
    per unit for each parameter (scalars broadcast); seconds and spikes/s. Drawn by
    thinning at each unit's peak rate, on ``[0, t_stop)``.
    """
    events = np.sort(np.asarray(events, dtype=np.float64))
    params = (baseline_hz, peak_hz, latency_s, tau_s)
    b, g, lat, tau = np.broadcast_arrays(*(np.atleast_1d(np.asarray(v, float)) for v in params))
    if np.any(tau <= 0) or np.any(b < 0) or np.any(g < 0):
        raise ValueError("tau_s must be positive and the rates non-negative")
    rng = np.random.default_rng(seed)
    top = b + g
    counts = rng.poisson(top * t_stop)
    owner = np.repeat(np.arange(b.size), counts)
    times = rng.uniform(0.0, t_stop, counts.sum())
    since = _since_latest(times, events, before=-np.inf)  # -inf: x < 0, the baseline
    x = (since - lat[owner]) / tau[owner]
    shape = np.where(x > 0, np.clip(x, 0, None) * np.exp(1 - np.clip(x, 0, None)), 0.0)
    keep = rng.uniform(0.0, top[owner]) < b[owner] + g[owner] * shape
    return _per_unit(times[keep], owner[keep], b.size)
