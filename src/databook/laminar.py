"""Small helpers for laminar (depth-resolved) profiles: where a CSD profile peaks, where
the recorded areas change along the probe, which channels record badly, and where along
the probe a sink starts first.

Depths are in micrometres along the probe (any origin, any direction), values in the
caller's unit (A/m^3 for a CSD). No I/O, no plotting.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "Extremum",
    "OutlierChannels",
    "SinkOnsets",
    "area_spans",
    "extremum",
    "outlier_channels",
    "sink_onsets",
    "trial_average",
]


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


@dataclass(frozen=True)
class OutlierChannels:
    """Per channel (input order, arrays of shape (n_channels,)): ``noise_v``, the standard
    deviation of the single-trial baseline samples (volts; each trial's own mean
    removed); ``z``, a robust z-score of log(noise) against the channel's neighbours in
    depth. ``flat`` and ``noisy`` are the channel indices whose ``z`` lies below
    ``-threshold`` or above ``threshold``; ``bad`` is both, sorted."""

    noise_v: NDArray[np.float64]
    z: NDArray[np.float64]
    flat: list[int]
    noisy: list[int]
    threshold: float

    @property
    def bad(self) -> list[int]:
        return sorted(self.flat + self.noisy)


def outlier_channels(
    windows: ArrayLike,
    times: ArrayLike,
    baseline: tuple[float, float],
    depths_um: ArrayLike,
    *,
    neighbours: int = 4,
    threshold: float = 5.0,
    exclude: ArrayLike = (),
) -> OutlierChannels:
    """Channels whose baseline noise stands out from their neighbours': dead or noisy.

    A channel that is shorted, broken or picks up interference is often not flagged in
    the file. Its baseline fluctuation (before each event) is then far below (flat) or
    above (noisy) that of the channels next to it. The LFP's own ongoing activity varies
    smoothly with depth, so each channel is compared (log scale) with a robust line
    (Theil-Sen) through its ``neighbours`` nearest channels on each side, and the
    differences are scaled by their median absolute deviation over the probe (x 1.4826,
    a robust SD).

    Parameters
    ----------
    windows : (n_events, n_times, n_channels) array, volts (``LFP.event_windows``)
    times : (n_times,) float array, seconds from each event
    baseline : (start, stop), seconds: the samples used (``start <= t < stop``)
    depths_um : (n_channels,) float array, micrometres
    neighbours : int
        Channels on each side compared with.
    threshold : float
        |z| above which a channel is an outlier.
    exclude : channel indices
        Already known to be bad (e.g. flagged in the electrodes table): neither compared
        with nor reported.

    Returns
    -------
    OutlierChannels
    """
    windows = np.asarray(windows, dtype=np.float64)
    times = np.asarray(times, dtype=np.float64)
    depths = np.asarray(depths_um, dtype=np.float64)
    if windows.ndim != 3 or windows.shape[1] != times.size or windows.shape[2] != depths.size:
        raise ValueError(
            f"windows must be (n_events, n_times={times.size}, n_channels={depths.size}), "
            f"got shape {windows.shape}"
        )
    inside = (times >= baseline[0]) & (times < baseline[1])
    if inside.sum() < 2:
        raise ValueError(f"baseline {baseline} s holds fewer than 2 samples of the window")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        base = windows[:, inside, :]
        centred = base - np.nanmean(base, axis=1, keepdims=True)
        noise = np.sqrt(np.nanmean(centred**2, axis=(0, 1)))  # (n_channels,)
    skip = np.zeros(depths.size, dtype=bool)
    skip[np.asarray(list(exclude), dtype=int)] = True
    order = np.argsort(depths)
    log_noise = np.full(depths.size, np.nan)
    with np.errstate(divide="ignore"):
        log_noise[~skip] = np.log(noise[~skip])  # a channel of constant samples: -inf
    ranked = log_noise[order]
    usable = np.where(np.isfinite(ranked), ranked, np.nan)
    pad = np.full(neighbours, np.nan)
    y_pad = np.concatenate([pad, usable, pad])
    x_pad = np.concatenate([pad, depths[order], pad])
    offsets = np.r_[-neighbours:0, 1 : neighbours + 1]
    rows = np.arange(depths.size)[:, None] + neighbours + offsets[None, :]
    y, x = y_pad[rows], x_pad[rows]  # (n_channels, 2 * neighbours), NaN outside the probe
    # Theil-Sen line through the neighbours (robust to another bad channel among them),
    # evaluated at the channel: a depth gradient of the ongoing LFP, even at the probe's
    # ends where the neighbours lie on one side, is not an outlier.
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        slopes = (y[:, :, None] - y[:, None, :]) / (x[:, :, None] - x[:, None, :])
        upper = np.triu(np.ones((offsets.size, offsets.size), dtype=bool), 1)
        slope = np.nan_to_num(np.nanmedian(np.where(upper, slopes, np.nan), axis=(1, 2)))
        intercept = np.nanmedian(y - slope[:, None] * x, axis=1)
    local = intercept + slope * depths[order]
    residual = np.full(depths.size, np.nan)
    residual[order] = ranked - local
    finite = np.isfinite(residual)
    spread = 1.4826 * np.median(np.abs(residual[finite] - np.median(residual[finite])))
    z = residual / spread if spread > 0 else np.zeros_like(residual)
    z[~skip & (log_noise == -np.inf)] = -np.inf
    flat = [int(i) for i in np.flatnonzero(~skip & (z < -threshold))]
    noisy = [int(i) for i in np.flatnonzero(~skip & (z > threshold))]
    return OutlierChannels(noise, z, flat, noisy, float(threshold))


@dataclass(frozen=True)
class SinkOnsets:
    """``onset_s`` (n_channels,): the first time after the event at which each channel's
    CSD stays below ``-threshold`` baseline SDs for ``min_duration_s`` (NaN: never);
    ``channel`` and ``onset``: the channel that starts first (ties: the deeper sink at
    that time) and its onset (s); ``depth_um`` and ``peak_s``: where and when that sink
    is deepest (the parabola vertex of the profile at its peak time, within
    ``search_um`` of the channel)."""

    onset_s: NDArray[np.float64]
    channel: int
    onset: float
    depth_um: float
    peak_s: float


def sink_onsets(
    csd: ArrayLike,
    times: ArrayLike,
    depths_um: ArrayLike,
    baseline: tuple[float, float],
    *,
    threshold: float = 5.0,
    min_duration_s: float = 0.004,
    search_um: float = 100.0,
) -> SinkOnsets:
    """Where along the probe a sink starts first: the classic marker of layer 4.

    In sensory cortex the thalamic input arrives in layer 4 (and the top of layer 6),
    so the earliest sink of an evoked CSD marks it (Mitzdorf 1985); later sinks in
    layers 2/3 and 5 follow. The onset of each channel is the first sample after the
    event (t >= 0) that starts a run of ``min_duration_s`` below ``-threshold`` times
    that channel's baseline SD.

    Parameters
    ----------
    csd : (n_channels, n_times) float array (e.g. A/m^3; sinks negative). NaN channels
        (undefined edges) never start.
    times : (n_times,) float array, seconds from the event
    depths_um : (n_channels,) float array, micrometres
    baseline : (start, stop), seconds: the samples that give each channel's SD
    threshold, min_duration_s, search_um : see above

    Returns
    -------
    SinkOnsets
    """
    csd = np.asarray(csd, dtype=np.float64)
    times = np.asarray(times, dtype=np.float64)
    depths = np.asarray(depths_um, dtype=np.float64)
    if csd.shape != (depths.size, times.size):
        raise ValueError(
            f"csd must be (n_channels={depths.size}, n_times={times.size}), got {csd.shape}"
        )
    inside = (times >= baseline[0]) & (times < baseline[1])
    if inside.sum() < 2:
        raise ValueError(f"baseline {baseline} s holds fewer than 2 samples")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        sd = np.nanstd(csd[:, inside], axis=1)
    below = csd < -threshold * sd[:, None]
    step = float(np.median(np.diff(times)))
    run = max(1, int(np.ceil(min_duration_s / step - 1e-9)))
    # a run of `run` samples starting at k: every one of them below
    window = np.lib.stride_tricks.sliding_window_view(below, run, axis=1).all(axis=2)
    window &= (times >= 0)[: window.shape[1]][None, :]
    started = window.any(axis=1)
    first = np.where(started, window.argmax(axis=1), -1)
    onset = np.where(started, times[np.clip(first, 0, None)], np.nan)
    if not started.any():
        raise ValueError(
            f"no channel has a sink below -{threshold:g} baseline SDs for "
            f"{min_duration_s * 1e3:g} ms after the event"
        )
    earliest = np.flatnonzero(first == first[started].min())
    at = first[earliest[0]]
    channel = int(earliest[np.argmin(csd[earliest, at])])
    peak = int(np.nanargmin(np.where(times >= 0, csd[channel], np.nan)))
    near = np.abs(depths - depths[channel]) <= search_um
    refined = extremum(np.where(near, csd[:, peak], np.nan), depths, "min")
    return SinkOnsets(onset, channel, float(onset[channel]), refined.depth_um, float(times[peak]))
