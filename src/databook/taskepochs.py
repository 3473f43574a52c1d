"""Trial-type selectivity of units in the epochs of a task (sample, delay, response).

In a delayed-response task the stimulus, the wait and the movement occupy epochs whose
bounds differ from trial to trial. The question asked of every unit (e.g. Guo et al.
2014 and Li et al. 2015 for mouse ALM) is whether its firing rate in an epoch differs
between the two kinds of trial (lick right vs lick left). :func:`epoch_selectivity`
answers it for all units and epochs at once, with the article's statistics policy
(:func:`databook.stats.group_difference`: two-sided Mann-Whitney per unit, BH over the
session's units within each epoch).

Arrays in, a table out: the caller reads the trials table and builds the epoch bounds
(see :func:`delayed_response_epochs` for DANDI:000006's columns).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from databook import align, stats
from databook.errors import DatabookError

__all__ = ["TaskEpochError", "delayed_response_epochs", "epoch_selectivity", "selectivity_index"]


class TaskEpochError(DatabookError, ValueError):
    """An epoch no trial can be counted in (every trial has a NaN bound); names the epoch."""


def delayed_response_epochs(
    start_time: ArrayLike,
    pole_in_time: ArrayLike,
    pole_out_time: ArrayLike,
    cue_start_time: ArrayLike,
    *,
    response_s: float = 1.0,
) -> dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]]:
    """Session-clock bounds (seconds) of the sample, delay and response epochs.

    Parameters
    ----------
    start_time : (n_trials,) float array, seconds on the session clock
    pole_in_time, pole_out_time, cue_start_time : (n_trials,) float arrays, seconds
        *Relative to each trial's start*, as DANDI:000006 stores them.
    response_s : float, seconds
        Length of the response epoch after the go cue.

    Returns
    -------
    dict
        ``{"sample": (starts, stops), "delay": ..., "response": ...}``: sample from pole in
        to pole out, delay from pole out to the go cue, response ``response_s`` after the
        cue; each a pair of (n_trials,) arrays (NaN where the trial lacks the event).
    """
    if not response_s > 0:
        raise ValueError(f"response_s must be a positive number of seconds, got {response_s}")
    start = np.asarray(start_time, dtype=np.float64)
    pole_in = start + np.asarray(pole_in_time, dtype=np.float64)
    pole_out = start + np.asarray(pole_out_time, dtype=np.float64)
    cue = start + np.asarray(cue_start_time, dtype=np.float64)
    return {
        "sample": (pole_in, pole_out),
        "delay": (pole_out, cue),
        "response": (cue, cue + response_s),
    }


def selectivity_index(rate_a: ArrayLike, rate_b: ArrayLike) -> NDArray[np.float64]:
    """``(a - b) / (a + b)`` of mean rates, in [-1, 1]; NaN where both are 0."""
    a = np.asarray(rate_a, dtype=np.float64)
    b = np.asarray(rate_b, dtype=np.float64)
    total = a + b
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (a - b) / total, np.nan)


def epoch_selectivity(
    spike_times: Sequence[ArrayLike],
    epochs: Mapping[str, tuple[ArrayLike, ArrayLike]],
    is_a: ArrayLike,
    *,
    q: float = stats.FDR_Q,
) -> pd.DataFrame:
    """Which units fire differently in trials of kind a and kind b, epoch by epoch?

    Parameters
    ----------
    spike_times : sequence of (n_spikes,) sorted float arrays, seconds, one per unit
    epochs : {name: (starts, stops)}
        Each a pair of (n_trials,) arrays of session-clock seconds, as from
        :func:`delayed_response_epochs`. Trials with a NaN bound are left out of that
        epoch.
    is_a : (n_trials,) bool array
        True for trials of kind a (e.g. lick right), False for kind b. Pass only the trials
        to compare (e.g. correct ones).
    q : float
        False-discovery rate over the units, within each epoch.

    Raises
    ------
    TaskEpochError
        An epoch in which every trial has a NaN bound (the message names it).

    Returns
    -------
    pandas.DataFrame
        One row per (epoch, unit), columns ``epoch``, ``unit`` (index into
        ``spike_times``), ``rate_a_hz``, ``rate_b_hz`` (mean over trials, spikes/s),
        ``index`` (:func:`selectivity_index`), ``p_value``, ``q_value``, ``selective``,
        ``prefers`` (``"a"``, ``"b"`` or ``""``), ``n_a``, ``n_b`` (trials used).
    """
    is_a = np.asarray(is_a, dtype=bool)
    frames = []
    for name, (starts, stops) in epochs.items():
        starts = np.asarray(starts, dtype=np.float64)
        stops = np.asarray(stops, dtype=np.float64)
        if starts.shape != is_a.shape:
            raise ValueError(f"epoch {name!r} has {starts.size} trials but is_a has {is_a.size}")
        usable = np.isfinite(starts) & np.isfinite(stops)
        if not usable.any():
            raise TaskEpochError(
                f"epoch {name!r}: all {usable.size} trials have a NaN start or stop, so "
                "there is nothing to count (e.g. a stop_time of NaN in every trial); bound "
                "the epoch by the task's events or a fixed window after one, as "
                "delayed_response_epochs does"
            )
        counts = align.interval_counts(spike_times, starts, stops)
        rates = np.where(usable, counts / np.where(usable, stops - starts, 1.0), np.nan)
        a, b = rates[:, usable & is_a], rates[:, usable & ~is_a]
        test = stats.group_difference(a.T, b.T, q=q)
        rate_a = a.mean(axis=1) if a.shape[1] else np.full(len(spike_times), np.nan)
        rate_b = b.mean(axis=1) if b.shape[1] else np.full(len(spike_times), np.nan)
        frames.append(
            pd.DataFrame(
                {
                    "epoch": name,
                    "unit": np.arange(len(spike_times)),
                    "rate_a_hz": rate_a,
                    "rate_b_hz": rate_b,
                    "index": selectivity_index(rate_a, rate_b),
                    "p_value": test.p_value,
                    "q_value": test.q_value,
                    "selective": test.significant,
                    "prefers": np.choose(test.direction + 1, ["b", "", "a"]),
                    "n_a": a.shape[1],
                    "n_b": b.shape[1],
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
