"""Which units are optotagged: spikes time-locked to light pulses, tested with SALT.

The Stimulus-Associated spike Latency Test (SALT; Kvitsiani et al. 2013) compares the
distribution of first-spike latencies in a window after each light pulse with the same
distributions in windows of the pre-pulse baseline, using a Jensen-Shannon based
distance; the null is the set of distances between all pairs of baseline windows.
This implementation follows the published algorithm (salt.m) exactly, vectorised over
units, windows and pairs: every pulse's baseline and test windows are cut on their own, as
salt.m's rasters are, so a spike may fall in several of them. Times in seconds.

On pulse trains (pulses closer than baseline + test window) a pulse's baseline holds the
responses to the previous pulses of its train, which costs power but keeps SALT calibrated;
``baseline_onsets="train"`` takes the baseline once before each train instead (see
:func:`salt` for when that is safe).

SALT responds to any change of the latency distribution, including a rate increase that
is not time-locked; ``tagged`` therefore also requires the evoked spikes to be locked to
the pulse (most of the excess within +/-1 ms of the modal latency), short latency,
reliability and a raised rate. The thresholds are parameters of :func:`tag_units`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from databook.stats import fdr, permutation_p

__all__ = ["is_tagged", "osd_ks_salt", "salt", "split_by_light", "tag_units"]

# Distances (dimensionless, at most sqrt(2 ln 2)) closer than this are equal. salt.m counts
# null distances ``>=`` the test distance; equal distances are common at low rates (windows
# that differ only in where their non-overlapping spikes fall) and any floating-point
# evaluation, MATLAB's or NumPy's, leaves them apart in either direction: by <= 3.1e-14
# here, while distinct ones lay >= 9.1e-10 apart (checked in 50-digit arithmetic) over
# 2000 simulated units of 0.2-40 Hz with 300 pulses.
_TIE = 1e-11
# Fewer baseline periods than this, against more pulses, make SALT anticonservative: with
# 10 trains of 40 pulses 20 % of 20 Hz Poisson units reach p < 0.01, with 20 trains of 20
# pulses 10 %, with 40 or 80 trains of 10 none (histograms of unequal trial counts).
_MIN_BASELINES = 40


# --- input checks -------------------------------------------------------------------------
def _spike_trains(spike_times: Sequence[ArrayLike]) -> list[NDArray[np.float64]]:
    """Float copies of the units' spike times; ValueError naming the unit that is wrong."""
    try:
        n_units = len(spike_times)
    except TypeError:
        raise ValueError(
            f"spike_times must be a sequence of 1-D arrays (one per unit), got "
            f"{type(spike_times).__name__}"
        ) from None
    if n_units == 0:
        raise ValueError("no units: spike_times holds no spike trains")
    trains = []
    for u, times in enumerate(spike_times):
        t = np.asarray(times, dtype=np.float64)
        if t.ndim != 1:
            raise ValueError(
                f"unit {u} has spike times of shape {t.shape}, not a 1-D array; spike_times "
                "is a sequence of 1-D arrays, one per unit"
            )
        bad = ~np.isfinite(t)
        if bad.any():
            kind = "NaN" if np.isnan(t[bad]).any() else "infinite"
            raise ValueError(
                f"unit {u} has {bad.sum()} {kind} spike times (first at index "
                f"{np.flatnonzero(bad)[0]})"
            )
        down = np.flatnonzero(t[1:] < t[:-1])
        if down.size:
            i = down[0]
            raise ValueError(
                f"unit {u} has spike times that are not sorted: index {i + 1} ({t[i + 1]!r} s) "
                f"comes after index {i} ({t[i]!r} s); {down.size} decreases in all"
            )
        trains.append(t)
    return trains


def _onsets(values: ArrayLike, name: str) -> NDArray[np.float64]:
    """Sorted, finite, distinct onset times (s); ValueError saying what is wrong."""
    t = np.asarray(values, dtype=np.float64)
    if t.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of times (s), got shape {t.shape}")
    if t.size == 0:
        what = "pulse onsets" if name == "pulse_onsets" else "baseline onsets"
        raise ValueError(f"no {what}: {name} is empty")
    bad = ~np.isfinite(t)
    if bad.any():
        kind = "NaN" if np.isnan(t[bad]).any() else "infinite"
        raise ValueError(f"{name} has {bad.sum()} {kind} values (indices {np.flatnonzero(bad)})")
    t = np.sort(t)
    same = t[1:] == t[:-1]
    if same.any():
        dup = np.unique(t[1:][same])
        shown = ", ".join(f"{v:.6g}" for v in dup[:5]) + (" ..." if dup.size > 5 else "")
        raise ValueError(
            f"duplicated pulse onsets in {name} ({dup.size} times repeated): {shown} s; "
            "each pulse must be listed once"
        )
    return t


def _merged(starts: NDArray, stops: NDArray) -> tuple[NDArray, NDArray]:
    """Union of half-open intervals [starts, stops) as sorted disjoint intervals."""
    order = np.argsort(starts, kind="stable")
    starts, stops = starts[order], stops[order]
    reach = np.maximum.accumulate(stops)
    new = np.r_[True, starts[1:] > reach[:-1]]
    group = np.cumsum(new) - 1
    merged_stops = np.full(group[-1] + 1, -np.inf)
    np.maximum.at(merged_stops, group, stops)
    return starts[new], merged_stops


def _covered(starts: NDArray, stops: NDArray, lo: NDArray, hi: NDArray) -> NDArray:
    """Length (s) of [lo, hi) covered by the disjoint sorted intervals [starts, stops)."""
    if starts.size == 0:  # nothing blanked (artifact=0)
        return np.zeros(np.broadcast(lo, hi).shape)
    before = np.r_[0.0, np.cumsum(stops - starts)]

    def upto(x):  # covered length below x
        j = np.searchsorted(starts, x, side="right")
        last = np.clip(j - 1, 0, None)
        partial = np.where(j > 0, np.clip(x - starts[last], 0, (stops - starts)[last]), 0.0)
        return before[last] * (j > 0) + partial

    return upto(hi) - upto(lo)


# --- the windows: every pulse's own ------------------------------------------------------
@dataclass
class _Windows:
    """Spikes in every window, each window cut on its own (a spike may be in several).

    ``*_unit``, ``*_trial`` and ``*_offset`` (s from the window start) list the spikes,
    ordered by unit, trial and time; ``base`` windows start ``n_windows * nmbn * dt``
    before each baseline onset and end at it, ``test`` windows start at each pulse onset
    and last ``nmbn * dt``.
    """

    n_units: int
    onsets: NDArray
    base_onsets: NDArray
    dt: float
    nmbn: int
    n_windows: int
    base_unit: NDArray
    base_trial: NDArray
    base_offset: NDArray
    test_unit: NDArray
    test_trial: NDArray
    test_offset: NDArray
    blank: tuple[NDArray, NDArray]


def _train_onsets(onsets: NDArray, span: float, busy: float) -> NDArray:
    """The first pulse of every train; a train: pulses each less than ``span`` (baseline +
    the time after onset that belongs to the pulse) after the previous one."""
    first = np.r_[True, np.diff(onsets) >= span]
    if first.sum() >= 2:
        return onsets[first]
    gap = np.diff(onsets).min() if onsets.size > 1 else np.inf
    raise ValueError(
        f"no baseline before the trains: pulses are {gap:.6g} s apart, closer than the "
        f"baseline + {busy:.6g} s after onset ({span:.6g} s), and form a single train; use "
        f"baseline_onsets='pulse', a shorter baseline (< {gap - busy:.6g} s) or explicit "
        "baseline_onsets"
    )


def _gather(trains, starts, stops, blank_starts, blank_stops):
    """Spikes in [starts[k], stops[k]) of every unit and window k, the blanked removed.

    One NumPy pass per unit (searchsorted and an index expansion); returns unit, window
    and offset from the window start (s), ordered by unit, window and time.
    """
    units, trials, offsets = [], [], []
    k_all = np.arange(starts.size)
    for u, t in enumerate(trains):
        i0 = np.searchsorted(t, starts, side="left")
        n = np.searchsorted(t, stops, side="left") - i0
        total = int(n.sum())
        if total == 0:
            continue
        k = np.repeat(k_all, n)
        idx = np.arange(total) + np.repeat(i0 - (np.cumsum(n) - n), n)
        times = t[idx]
        if blank_starts.size:
            j = np.searchsorted(blank_starts, times, side="right") - 1
            keep = (j < 0) | (times >= blank_stops[np.clip(j, 0, None)])
            k, times = k[keep], times[keep]
        units.append(np.full(k.size, u, dtype=np.int64))
        trials.append(k)
        offsets.append(times - starts[k])
    if not units:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    return np.concatenate(units), np.concatenate(trials), np.concatenate(offsets)


def _windows(spike_times, pulse_onsets, baseline_onsets, dt, window, baseline, blank) -> _Windows:
    trains = _spike_trains(spike_times)
    onsets = _onsets(pulse_onsets, "pulse_onsets")
    if not (np.isfinite(dt) and dt > 0 and window >= dt and baseline > 0):
        raise ValueError(
            f"need 0 < dt <= window and baseline > 0, got {dt=}, {window=}, {baseline=}"
        )
    nmbn = round(window / dt)
    n_windows = int(np.floor(round(baseline / dt) / nmbn))
    if n_windows < 2:
        raise ValueError(f"baseline {baseline} s holds fewer than 2 windows of {window} s")
    blank = [(float(a), float(b)) for a, b in blank]
    busy = max([nmbn * dt] + [b for _, b in blank])
    if isinstance(baseline_onsets, str):
        if baseline_onsets == "pulse":
            base_onsets = onsets
        elif baseline_onsets == "train":
            base_onsets = _train_onsets(onsets, n_windows * nmbn * dt + busy, busy)
        else:
            raise ValueError(
                "baseline_onsets must be 'pulse', 'train' or an array of times (s), got "
                f"{baseline_onsets!r}"
            )
    else:
        base_onsets = _onsets(baseline_onsets, "baseline_onsets")
    if base_onsets.size < min(_MIN_BASELINES, onsets.size):
        warnings.warn(
            f"SALT with {base_onsets.size} baseline periods against {onsets.size} pulses is "
            f"anticonservative (fewer than {_MIN_BASELINES}: with 10 trains of 40 pulses, 20 % "
            "of 20 Hz Poisson units reach p < 0.01); prefer baseline_onsets='pulse'",
            RuntimeWarning,
            stacklevel=3,
        )
    if blank:
        a, b = np.array(blank).T
        blank_iv = _merged((onsets[:, None] + a).ravel(), (onsets[:, None] + b).ravel())
    else:
        blank_iv = (np.zeros(0), np.zeros(0))
    base_starts = base_onsets - n_windows * nmbn * dt
    base = _gather(trains, base_starts, base_onsets, *blank_iv)
    test = _gather(trains, onsets, onsets + nmbn * dt, *blank_iv)
    return _Windows(len(trains), onsets, base_onsets, dt, nmbn, n_windows, *base, *test, blank_iv)


# --- SALT -----------------------------------------------------------------------------------
def _latency_hist(unit, trial, offset, n_units, n_trials, n_windows, nmbn, dt):
    """salt.m's latency histograms (n_units, n_windows, nmbn + 1), counts over trials:
    bin j >= 1 counts the (trial, window)s whose first spike is in bin j, bin 0 those
    without a spike."""
    bins = np.clip(np.floor(offset / dt).astype(np.int64), 0, n_windows * nmbn - 1)
    window = bins // nmbn
    key = (unit * n_trials + trial) * n_windows + window
    first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if key.size else key
    cell = (unit[first] * n_windows + window[first]) * (nmbn + 1) + bins[first] % nmbn + 1
    hist = np.bincount(cell, minlength=n_units * n_windows * (nmbn + 1))
    hist = hist.reshape(n_units, n_windows, nmbn + 1)
    hist[:, :, 0] = n_trials - hist[:, :, 1:].sum(axis=-1)
    return hist


def _modified_js_distance(p: NDArray, q: NDArray) -> NDArray:
    """sqrt(2 JS(p, q)) with salt.m's KL restricted to the common support, renormalised.

    ``p`` and ``q`` broadcast over leading axes; the last axis is the histogram.
    """
    m = (p + q) / 2

    def kl(a, b):
        support = (a * b) > 0
        a2 = np.where(support, a, 0.0)
        b2 = np.where(support, b, 0.0)
        a2 = a2 / a2.sum(axis=-1, keepdims=True)
        b2 = b2 / b2.sum(axis=-1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(support, a2 * np.log(a2 / b2), 0.0)
        return terms.sum(axis=-1)

    return np.sqrt(2 * (kl(p, m) + kl(q, m)) / 2)


def _null_distances(hist: NDArray, n: int) -> NDArray:
    """salt.m's distance between every pair (i < j) of baseline windows, (n_units, pairs).

    All windows hold ``n`` trials, so with counts c, d (P = c/n, Q = d/n) salt.m's
    dist^2 = KL_r(P, M) + KL_r(Q, M) equals
    (1/n) [G(2c)/2 + G(2d)/2 - G(c + d)] + log((n + D_cd) / 2n) + log((n + D_dc) / 2n),
    where G(x) = sum over bins of x log x and D_cd is the sum of d where c > 0 (salt.m
    renormalises M on P's support). Logs of integers come from a table and every G is
    summed the same way, so identical windows give 0 exactly; otherwise the result agrees
    with salt.m's evaluation to ~1e-13.
    """
    n_windows = hist.shape[1]
    i, j = np.triu_indices(n_windows, k=1)
    xlogx = np.arange(2 * n + 1) * np.log(np.maximum(np.arange(2 * n + 1), 1))
    logs = np.log(np.maximum(np.arange(2 * n + 1), 1))
    half_g2 = xlogx[2 * hist].sum(axis=-1) / 2  # G(2c) / 2 = sum c log 2c
    counts = hist.astype(np.float64)
    shared = np.matmul((hist > 0).astype(np.float64), counts.transpose(0, 2, 1)).astype(np.int64)
    dist2 = logs[n + shared[:, i, j]] + logs[n + shared[:, j, i]] - 2 * logs[2 * n]
    col = 0
    for a in range(n_windows - 1):  # all units and later windows at once
        g = xlogx[hist[:, a : a + 1] + hist[:, a + 1 :]].sum(axis=-1)
        width = n_windows - 1 - a
        dist2[:, col : col + width] += (half_g2[:, a : a + 1] + half_g2[:, a + 1 :] - g) / n
        col += width
    return np.sqrt(np.maximum(dist2, 0.0))


def _salt(w: _Windows) -> tuple[NDArray, NDArray]:
    n_base, n_test = w.base_onsets.size, w.onsets.size
    hist_base = _latency_hist(
        w.base_unit, w.base_trial, w.base_offset, w.n_units, n_base, w.n_windows, w.nmbn, w.dt
    )
    hist_test = _latency_hist(
        w.test_unit, w.test_trial, w.test_offset, w.n_units, n_test, 1, w.nmbn, w.dt
    )
    null = _null_distances(hist_base, n_base)
    prob_base = hist_base / hist_base.sum(axis=-1, keepdims=True)
    prob_test = hist_test / hist_test.sum(axis=-1, keepdims=True)
    test = np.median(_modified_js_distance(prob_base, prob_test), axis=1)
    p = (null >= test[:, None] - _TIE).sum(axis=1) / null.shape[1]
    return p, test - np.median(null, axis=1)


def salt(
    spike_times: Sequence[ArrayLike],
    pulse_onsets: ArrayLike,
    *,
    dt: float = 0.0005,
    window: float = 0.01,
    baseline: float = 0.5,
    blank: Sequence[tuple[float, float]] = (),
    baseline_onsets: ArrayLike | Literal["pulse", "train"] = "pulse",
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """SALT p-value and information difference I for every unit, as salt.m computes them.

    Parameters
    ----------
    spike_times : sequence of (n_spikes,) float arrays, seconds
        One sorted array per unit.
    pulse_onsets : (n_pulses,) float array, seconds
        Light onsets, distinct (any order). Each opens a test window of ``window`` s.
    dt : float
        Latency bin, s.
    window : float
        Test window and baseline window length, s (a whole number of ``dt`` bins).
    baseline : float
        Baseline length before each baseline onset, s, cut into windows of ``window`` s.
    blank : sequence of (start, stop), seconds relative to each pulse onset
        Spikes in ``[onset + start, onset + stop)`` of any pulse are removed first (light
        artifacts at onset and offset).
    baseline_onsets : "pulse", "train" or (n_baselines,) float array, seconds
        Where baseline periods end. ``"pulse"`` (default): at every pulse, as salt.m is
        used. On trains (pulses closer than ``baseline`` + ``window``) a pulse's baseline
        then holds the responses to the previous pulses of its train: SALT stays
        calibrated (<= 0.7 % of Poisson units at p < 0.01 on 10-40 Hz trains) but loses
        power (on 10 Hz trains of 10 pulses, 63 % of units with 20 % reliability found,
        against 100 % with ``"train"``). ``"train"``: at the first pulse of every train, a
        train being pulses each less than ``baseline`` + ``window`` (or the last ``blank``
        stop, if later) after the previous one; the baseline histograms then count trains
        and the test histogram pulses (salt.m normalises each by its own trials). That
        needs about 40 trains: with fewer, SALT is anticonservative (with 10 trains of 40
        pulses, 20 % of 20 Hz Poisson units reach p < 0.01; with 20 trains of 20 pulses,
        10 %), and a RuntimeWarning says so whenever there are fewer than 40 baseline
        periods and fewer than pulses. An array gives the baseline ends directly. For
        evenly spaced pulses, a ``baseline`` shorter than the spacing minus ``window``
        keeps every baseline clean (at 0.2 s spacing, a 50 %-reliable unit gets p = 0.034
        with 0.5 s, p = 0 with 0.15 s).

    Returns
    -------
    p : (n_units,) float array
        Fraction of baseline-window pairs whose distance is >= the test distance (median
        distance between the test window and each baseline window). Distances within
        1e-11 count as equal, as they are in exact arithmetic (floating-point sums, salt.m's
        included, leave equal distances up to ~3e-14 apart in either direction; distinct
        ones lie >= 9e-10 apart in simulations).
    information : (n_units,) float array
        Test distance minus the median null distance.

    Raises
    ------
    ValueError
        No units; a unit whose spike times are not a 1-D array, hold NaN or infinite
        values, or are not sorted (the unit and index named); no pulses, NaN or
        duplicated pulse onsets (the times named); ``"train"`` on pulses that form a
        single train; fewer than 2 baseline windows.

    Notes
    -----
    Windows are cut for every pulse on its own, as salt.m's rasters are: a spike belongs to
    every window that contains it. Baseline window bins are ``floor((t - start) / dt)``
    from ``start = onset - n_windows * window``, as in salt.m. Memory: the spikes of all
    windows, (n_units, n_windows, window / dt + 1) histograms and (n_units, n_windows^2 / 2)
    null distances.
    """
    return _salt(_windows(spike_times, pulse_onsets, baseline_onsets, dt, window, baseline, blank))


# --- the table ------------------------------------------------------------------------------
def _group_median(values: NDArray, group: NDArray, counts: NDArray) -> NDArray:
    """Median of ``values`` per group (NaN for empty groups), as np.median would give it."""
    order = np.lexsort((values, group))
    ordered = values[order]
    first = np.cumsum(counts) - counts
    has = counts > 0
    lo = (first + (counts - 1) // 2)[has]
    hi = (first + counts // 2)[has]
    out = np.full(counts.size, np.nan)
    out[has] = (ordered[lo] + ordered[hi]) / 2
    return out


def tag_units(
    spike_times: Sequence[ArrayLike],
    pulse_onsets: ArrayLike,
    pulse_duration: float,
    seed: int = 0,
    *,
    dt: float = 0.0005,
    window: float = 0.01,
    baseline: float = 0.5,
    artifact: float = 0.0005,
    q: float | None = None,
    p_max: float = 0.01,
    max_latency: float = 0.007,
    min_reliability: float = 0.1,
    min_rate_ratio: float = 1.5,
    min_locked: float = 0.5,
    baseline_onsets: ArrayLike | Literal["pulse", "train"] = "pulse",
):
    """One row per unit: which units are optotagged, and how.

    Parameters
    ----------
    spike_times : sequence of (n_spikes,) float arrays, seconds
        One sorted array per unit.
    pulse_onsets : (n_pulses,) float array, seconds
        Light onsets, distinct.
    pulse_duration : float
        Light pulse length, s (its offset artifact is blanked).
    seed : int
        Accepted for a stable signature; SALT is deterministic and it changes nothing.
    dt, window, baseline, baseline_onsets
        As in :func:`salt`; the same windows give every column (on trains the baseline
        rate is that of the baselines before the trains).
    artifact : float
        Spikes within ``artifact`` s after light onset and offset are removed.
    q, p_max, max_latency, min_reliability, min_rate_ratio, min_locked
        Thresholds of ``tagged``. ``q``: the false-discovery rate of SALT over the units
        passed (Benjamini-Hochberg on ``salt_q``; the family: one session's units), the
        article's policy (chapter 6 passes ``q=0.05``). ``q=None`` (the default, kept
        for code written against earlier versions): SALT's ``salt_p < p_max`` per unit,
        with no correction over units (Kvitsiani et al. 2013 used p < 0.01).

    Returns
    -------
    pandas.DataFrame
        ``latency`` (median first-spike latency in the test window, s), ``jitter`` (its SD,
        s), ``reliability`` (fraction of pulses with a spike in the test window),
        ``rate_ratio`` (test-window rate / baseline rate, each over the time not blanked),
        ``locked`` (fraction of the excess test-window spikes within +/-1 ms of the modal
        latency, in 0.5 ms bins; 0 when the test window holds no spike above the baseline
        rate, so a unit with no excess is never "locked"), SALT ``salt_p`` and ``salt_i``
        (as salt.m computes them: ``salt_p`` is a fraction of baseline pairs and can be
        0), ``salt_q`` (Benjamini-Hochberg over the units of the permutation-style
        p-value ``(k + 1) / (n_pairs + 1)``, :func:`databook.stats.permutation_p`, which is
        never 0; SALT is one-sided by nature: it asks whether the light-evoked latencies
        differ from baseline more than baseline windows differ among themselves), and
        ``tagged``: ``salt_q < q`` (or ``salt_p < p_max``), ``latency <= max_latency``,
        ``reliability >= min_reliability``, ``rate_ratio >= min_rate_ratio`` and
        ``locked >= min_locked``.
    """
    import pandas as pd

    del seed
    if not (np.isfinite(pulse_duration) and pulse_duration >= 0):
        raise ValueError(f"pulse_duration must be a time >= 0 s, got {pulse_duration!r}")
    blank = [(0.0, artifact), (pulse_duration, pulse_duration + artifact)] if artifact > 0 else []
    w = _windows(spike_times, pulse_onsets, baseline_onsets, dt, window, baseline, blank)
    p, information = _salt(w)
    n_units, n_pulses, span = w.n_units, w.onsets.size, w.nmbn * dt
    # salt.m's p is k / n_pairs; as a permutation p, (k + 1) / (n_pairs + 1), then BH.
    n_pairs = w.n_windows * (w.n_windows - 1) // 2
    salt_q = fdr(permutation_p(np.rint(p * n_pairs).astype(np.int64), n_pairs))

    # First test-window spike of each (unit, pulse): spikes are ordered by unit, pulse, time.
    key = w.test_unit * n_pulses + w.test_trial
    first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if key.size else key
    unit_first, latency = w.test_unit[first], w.test_offset[first]
    n_hit = np.bincount(unit_first, minlength=n_units)
    reliability = n_hit / n_pulses
    median = _group_median(latency, unit_first, n_hit)
    mean = np.bincount(unit_first, latency, minlength=n_units) / np.maximum(n_hit, 1)
    var = np.bincount(unit_first, (latency - mean[unit_first]) ** 2, minlength=n_units)
    jitter = np.where(n_hit > 1, np.sqrt(var / np.maximum(n_hit, 1)), np.nan)

    # Rates over the time not blanked.
    test_open = n_pulses * span - _covered(*w.blank, w.onsets, w.onsets + span).sum()
    base_span = w.n_windows * span
    base_open = (
        w.base_onsets.size * base_span
        - _covered(*w.blank, w.base_onsets - base_span, w.base_onsets).sum()
    )
    base_rate = np.bincount(w.base_unit, minlength=n_units) / base_open
    test_rate = np.bincount(w.test_unit, minlength=n_units) / test_open
    with np.errstate(divide="ignore", invalid="ignore"):
        rate_ratio = np.where(base_rate > 0, test_rate / base_rate, np.inf)

    # Time-locking: excess over the baseline rate in 0.5 ms bins of the test window.
    edges = np.arange(0.0, window + 1e-12, 0.0005)
    n_bins = edges.size - 1
    b = np.clip(np.searchsorted(edges, w.test_offset, side="right") - 1, 0, n_bins - 1)
    hist = np.bincount(w.test_unit * n_bins + b, minlength=n_units * n_bins)
    hist = hist.reshape(n_units, n_bins).astype(np.float64)
    excess = np.clip(hist - base_rate[:, None] * n_pulses * np.diff(edges), 0, None)
    mode = edges[np.argmax(excess, axis=1)]
    near = np.abs(edges[:-1][None, :] - mode[:, None]) <= 0.001
    total = excess.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        locked = np.where(total > 0, (excess * near).sum(axis=1) / total, 0.0)

    table = pd.DataFrame(
        {
            "latency": median,
            "jitter": jitter,
            "reliability": reliability,
            "rate_ratio": rate_ratio,
            "locked": locked,
            "salt_p": p,
            "salt_i": information,
            "salt_q": salt_q,
        }
    )
    table["tagged"] = is_tagged(
        table,
        q=q,
        p_max=p_max,
        max_latency=max_latency,
        min_reliability=min_reliability,
        min_rate_ratio=min_rate_ratio,
        min_locked=min_locked,
    )
    return table


def split_by_light(
    spike_times: ArrayLike,
    pulse_onsets: ArrayLike,
    *,
    window: float = 0.01,
    artifact: float = 0.0005,
    guard: float = 0.1,
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Which of one unit's spikes the light evoked, and which are spontaneous.

    The split a waveform check needs (:func:`databook.waveforms.similarity`): *evoked*
    spikes fall in the test window SALT uses, ``[artifact, window)`` s after a light
    onset; *spontaneous* spikes lie at least ``guard`` s after the latest onset (or
    before the first), so late, polysynaptic responses are in neither set. Both windows
    are measured from the latest onset at or before the spike, so pulse trains work.

    Parameters
    ----------
    spike_times : (n_spikes,) float array, seconds, one unit
    pulse_onsets : (n_pulses,) float array, seconds, distinct
    window, artifact : s; as in :func:`tag_units`
    guard : s after an onset within which a spike is not spontaneous (>= ``window``)

    Returns
    -------
    evoked, spontaneous : (n_spikes,) bool arrays, never both True
    """
    onsets = _onsets(pulse_onsets, "pulse_onsets")
    spikes = np.asarray(spike_times, dtype=np.float64)
    if spikes.ndim != 1:
        raise ValueError(f"spike_times must be one unit's 1-D times (s), got {spikes.shape}")
    if not 0 <= artifact < window <= guard:
        raise ValueError(
            f"need 0 <= artifact < window <= guard, got artifact={artifact}, "
            f"window={window}, guard={guard} (s)"
        )
    latest = np.searchsorted(onsets, spikes, side="right") - 1
    since = np.where(latest >= 0, spikes - onsets[np.maximum(latest, 0)], np.inf)
    return (since >= artifact) & (since < window), since >= guard


def is_tagged(
    table,
    *,
    q: float | None = None,
    p_max: float = 0.01,
    max_latency: float = 0.007,
    min_reliability: float = 0.1,
    min_rate_ratio: float = 1.5,
    min_locked: float = 0.5,
):
    """``tag_units``' verdict from its columns, for other thresholds without recomputing.

    Parameters
    ----------
    table : pandas.DataFrame
        A :func:`tag_units` table (columns ``salt_q``, ``latency`` in s, ``reliability``,
        ``rate_ratio``, ``locked``), one row per unit.
    q, p_max, max_latency, min_reliability, min_rate_ratio, min_locked
        The thresholds, as in :func:`tag_units` (``max_latency`` in s; ``q=None``:
        ``salt_p < p_max``).

    Returns
    -------
    (n_units,) bool pandas.Series
        True where all five criteria hold. The defaults are this library's choices (see
        chapter 6 for what changing ``min_rate_ratio`` and ``min_locked`` does).
    """
    return (
        ((table.salt_p < p_max) if q is None else (table.salt_q < q))
        & (table.latency <= max_latency)
        & (table.reliability >= min_reliability)
        & (table.rate_ratio >= min_rate_ratio)
        & (table.locked >= min_locked)
    )


# --- the OpenScope Databook's "ks_salt", for comparison --------------------------------------
def osd_ks_salt(
    spike_times: Sequence[ArrayLike],
    pulse_onsets: ArrayLike,
    *,
    censor_period: float = 0.001,
    baseline_shift: float = 0.01,
) -> NDArray[np.float64]:
    """The OpenScope Databook's (OSD) ``ks_salt`` p-value, one per unit, as OSD computes it.

    Follows ``get_first_spikes_after_onset`` and ``ks_salt`` in OSD's
    ``docs/first-order/optotagging.ipynb`` (AllenInstitute/openscope_databook, commit
    093cd9f6f7f191039f78b7af224c55d3a45b2608) line by line: the start times are the onsets
    plus ``censor_period`` (OSD: 0.001 s); for each start time before the unit's last spike
    the "latency" is the time from that start to the next spike (``searchsorted``, no upper
    limit), plus ``censor_period``; the baseline latencies are the same from the start
    times minus ``baseline_shift`` (OSD: 0.01 s), i.e. from 9 ms before each onset; the
    value is ``scipy.stats.kstest(first, baseline)[1]`` (a two-sample KS test), NaN where
    that fails (OSD's bare ``except``) or the unit has no spike. OSD applies no threshold
    to it. Not SALT: no latency window, no baseline windows, no null distribution of
    baseline distances.

    Parameters
    ----------
    spike_times : sequence of (n_spikes,) float arrays, seconds
        One sorted array per unit.
    pulse_onsets : (n_pulses,) float array, seconds
        Light onsets (OSD uses every row of its stimulation table).
    censor_period, baseline_shift : float
        Seconds; OSD's values are the defaults.

    Returns
    -------
    (n_units,) float array
        The p-value of the two-sample KS test, NaN for a unit without spikes.
    """
    from scipy import stats

    starts = np.asarray(pulse_onsets, dtype=np.float64) + censor_period

    def first_spikes(train: NDArray, start: NDArray) -> NDArray:
        start = start[start < train.max()]
        return train[np.searchsorted(train, start)] - start + censor_period

    p = np.full(len(spike_times), np.nan)
    for u, train in enumerate(spike_times):  # one KS test per unit, as OSD's loop
        train = np.asarray(train, dtype=np.float64)
        if train.size == 0:
            continue  # OSD's train.max() would raise here; NaN instead
        first = first_spikes(train, starts)
        base = first_spikes(train, starts - baseline_shift)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            p[u] = stats.kstest(first, base).pvalue
    return p
