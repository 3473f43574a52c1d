"""Small helpers for laminar (depth-resolved) profiles: where a CSD profile peaks, and
where the recorded areas change along the probe.

Depths are in micrometres along the probe (any origin, any direction), values in the
caller's unit (A/m^3 for a CSD). No I/O, no plotting.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

__all__ = ["Extremum", "area_spans", "extremum", "trial_average"]


@dataclass(frozen=True)
class Extremum:
    """``depth_um``: the vertex of the parabola through the extreme channel and its two
    neighbours (the channel's own depth at an edge); ``value``: the parabola's value
    there; ``channel``: index (into the given order) of the extreme channel."""

    depth_um: float
    value: float
    channel: int


def extremum(profile: ArrayLike, depths_um: ArrayLike, kind: str = "min") -> Extremum:
    """The most negative (``kind="min"``, a CSD sink) or most positive (``"max"``, a
    source) point of a depth profile, refined between channels by a parabola.

    Parameters
    ----------
    profile : (n_channels,) float array
        NaN entries (e.g. undefined CSD edges) are ignored.
    depths_um : (n_channels,) float array, micrometres, distinct
        Any order; the parabola uses the extreme channel's nearest neighbours in depth,
        and handles irregular spacing.
    kind : "min" or "max"

    Returns
    -------
    Extremum
    """
    if kind not in ("min", "max"):
        raise ValueError(f"kind must be 'min' or 'max', got {kind!r}")
    profile = np.asarray(profile, dtype=np.float64)
    depths_um = np.asarray(depths_um, dtype=np.float64)
    if profile.ndim != 1 or profile.shape != depths_um.shape:
        raise ValueError(
            f"profile {profile.shape} and depths_um {depths_um.shape} must be equal 1-D shapes"
        )
    finite = np.isfinite(profile) & np.isfinite(depths_um)
    if not finite.any():
        raise ValueError("profile has no finite values")
    order = np.flatnonzero(finite)[np.argsort(depths_um[finite])]
    z, v = depths_um[order], profile[order]
    if np.any(np.diff(z) <= 0):
        raise ValueError("depths_um must be distinct")
    sign = 1.0 if kind == "max" else -1.0
    k = int(np.argmax(sign * v))
    if 0 < k < z.size - 1:
        a, b, c = np.polyfit(z[k - 1 : k + 2] - z[k], v[k - 1 : k + 2], 2)
        if sign * a < 0:  # a true peak: the vertex lies between the neighbours
            dz = -b / (2 * a)
            return Extremum(float(z[k] + dz), float(c - b * b / (4 * a)), int(order[k]))
    return Extremum(float(z[k]), float(v[k]), int(order[k]))


def area_spans(depths_um: ArrayLike, locations: ArrayLike) -> pd.DataFrame:
    """The runs of channels in the same area along the probe, with their boundaries.

    Parameters
    ----------
    depths_um : (n_channels,) float array, micrometres (e.g. ``electrodes.depth_um``)
    locations : (n_channels,) labels (e.g. ``electrodes.location``)

    Returns
    -------
    pandas.DataFrame
        One row per run, in increasing depth: ``area``, ``low_um`` and ``high_um`` (the
        boundaries: halfway between the last channel of one run and the first of the
        next; the outermost channels' own depths at the ends), ``n_channels``.
    """
    depths_um = np.asarray(depths_um, dtype=np.float64)
    locations = np.asarray(locations, dtype=object)
    if depths_um.shape != locations.shape or depths_um.ndim != 1 or depths_um.size == 0:
        raise ValueError(
            f"depths_um {depths_um.shape} and locations {locations.shape} must be equal, "
            "non-empty 1-D shapes"
        )
    if not np.all(np.isfinite(depths_um)):
        raise ValueError("depths_um has NaN or infinite values: drop those channels first")
    order = np.argsort(depths_um, kind="stable")
    z, loc = depths_um[order], locations[order]
    # Several channels can share a depth (two columns per row): a run changes area only
    # between distinct depths.
    change = np.flatnonzero(loc[1:] != loc[:-1]) + 1
    starts = np.concatenate([[0], change])
    stops = np.concatenate([change, [z.size]])
    low = np.concatenate([[z[0]], (z[change - 1] + z[change]) / 2])
    high = np.concatenate([(z[change - 1] + z[change]) / 2, [z[-1]]])
    return pd.DataFrame(
        {
            "area": loc[starts].astype(str),
            "low_um": low,
            "high_um": high,
            "n_channels": stops - starts,
        }
    )


def trial_average(
    windows: ArrayLike, times: ArrayLike, baseline: tuple[float, float] | None = None
) -> np.ndarray:
    """Mean over trials of event windows, channels first, minus each channel's baseline.

    Parameters
    ----------
    windows : (n_events, n_times, n_channels) array (e.g. volts from
        :meth:`databook.nwb.LFP.event_windows`); NaN samples are left out of the mean.
    times : (n_times,) float array, seconds from the event
    baseline : (start, stop), seconds, optional
        Subtract each channel's mean over ``start <= t < stop`` (a DC offset, which a
        CSD ignores only when it is equal on every channel).

    Returns
    -------
    (n_channels, n_times) float array: the layout :func:`databook.csd.csd` takes.
    """
    windows = np.asarray(windows, dtype=np.float64)
    times = np.asarray(times, dtype=np.float64)
    if windows.ndim != 3 or windows.shape[1] != times.size:
        raise ValueError(
            f"windows must be (n_events, n_times, n_channels) with n_times = {times.size}, "
            f"got shape {windows.shape}"
        )
    if windows.shape[0] == 0:
        raise ValueError("windows holds no events")
    with warnings.catch_warnings():  # a sample NaN in every trial stays NaN, silently
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(windows, axis=0).T
    if baseline is not None:
        inside = (times >= baseline[0]) & (times < baseline[1])
        if not inside.any():
            raise ValueError(
                f"baseline {baseline} s holds no samples of the window "
                f"[{times[0]:.4g}, {times[-1]:.4g}] s"
            )
        mean = mean - mean[:, inside].mean(axis=1, keepdims=True)
    return mean
