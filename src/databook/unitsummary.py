"""One table per session of how each spiking unit responds to a stimulus.

Joins, unit by unit, what the chapters ask of a Neuropixels session: where the unit is
(area and depth of its peak channel, as :func:`databook.nwb.units` joins them), whether
it passes the quality filter (:mod:`databook.quality`), whether it responds
(:func:`databook.responses.unit_responses`) and when and how strongly
(:func:`databook.latency.step_response`). Takes the units DataFrame and onsets (seconds);
no I/O, no plotting.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from databook.latency import step_response
from databook.quality import SIEGLE_2021, Threshold, passes
from databook.responses import unit_responses
from databook.stats import FDR_Q

__all__ = ["Recovery", "by_area", "recovery", "response_table"]


def response_table(
    units: pd.DataFrame,
    onsets: ArrayLike,
    *,
    response_window: tuple[float, float] = (0.0, 0.25),
    baseline_window: tuple[float, float] = (-0.5, 0.0),
    smooth_tau: float = 0.01,
    q: float = FDR_Q,
    alpha: float | None = None,
    criteria: Mapping[str, Threshold] | None = SIEGLE_2021,
    area_column: str = "electrode_location",
    depth_column: str | None = None,
) -> pd.DataFrame:
    """Responsiveness, latency, area and depth of every unit, one row per unit.

    Parameters
    ----------
    units : DataFrame with a ``spike_times`` column (one sorted float array per unit,
        seconds), as :func:`databook.nwb.units` returns
    onsets : (n_trials,) stimulus onsets, seconds
    response_window, baseline_window, smooth_tau, q, alpha
        Passed to :func:`databook.responses.unit_responses` (seconds; ``q`` the
        false-discovery rate over units; ``alpha`` the earlier per-unit criterion, for
        code written against earlier versions); the step fit of
        :func:`databook.latency.step_response` uses the same windows.
    criteria : quality thresholds (default Siegle et al. 2021), or None for no filter.
        Metrics the table lacks are left out (and named in ``attrs["quality_skipped"]``).
        The units that pass form the Benjamini-Hochberg family of the count test (the
        units the article reports on); units that fail get ``q_value`` NaN and are not
        responsive. Drop units labelled noise (:func:`databook.quality.drop_noise`)
        before calling this.
    area_column, depth_column : columns naming each unit's area and depth (micrometres);
        ``"unknown"`` / NaN where absent. ``depth_column`` None: ``depth_um`` (the depth
        :func:`databook.nwb.units` takes from the electrodes, else from the units table's
        own ``depth``), else ``electrode_depth_um``.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``units``: ``area``, ``depth_um``, ``n_spikes``, ``mean_rate``,
        ``baseline_rate``, ``peak_rate`` (spikes/s, causal spike density),
        ``peak_latency`` (s), ``p_value`` (two-sided count test, one per unit),
        ``q_value`` (BH over the quality-passing units), ``direction`` (+1 excited, -1
        suppressed, 0 neither), ``responsive`` (bool: excited or suppressed),
        ``latency``, ``duration`` (s), ``gain`` (spikes/s; step fit of the excitatory
        epoch, NaN where the unit is not excited), ``passes_quality`` (bool; True for
        every unit when no criterion applies).
        ``attrs``: ``unsorted_units`` (ids whose spike times the file stores out of order:
        sorted by :func:`databook.nwb.units` on read, ``units.attrs["sorted_units"]``, or
        here before counting), ``quality_skipped``, ``n_trials``.
    """
    if "spike_times" not in units:
        raise ValueError(
            f"units needs a 'spike_times' column; it has {', '.join(map(str, units.columns))}"
        )
    spikes = [np.asarray(s, dtype=np.float64) for s in units["spike_times"]]
    # Some files store a unit's spikes out of order (e.g. trial by trial with overlaps);
    # counting needs them sorted, and sorting changes no count.
    unsorted = [k for k, s in enumerate(spikes) if s.size > 1 and np.any(s[1:] < s[:-1])]
    for k in unsorted:
        spikes[k] = np.sort(spikes[k])
    onsets = np.asarray(onsets, dtype=np.float64)
    if onsets.ndim != 1 or onsets.size == 0 or not np.all(np.isfinite(onsets)):
        raise ValueError(
            f"onsets must be a non-empty 1-D array of finite times (s), got {onsets!r:.80}"
        )
    usable = {k: v for k, v in (criteria or {}).items() if k in units}
    quality = passes(units, usable) if usable else pd.Series(True, index=units.index)
    resp = unit_responses(
        spikes,
        onsets,
        response_window=response_window,
        baseline_window=baseline_window,
        smooth_tau=smooth_tau,
        q=q,
        alpha=alpha,
        family=quality.to_numpy(bool),
    )
    step = step_response(
        spikes, onsets, window=(baseline_window[0], response_window[1]), search=response_window
    )
    excited = resp.direction > 0
    none = np.full(len(units), np.nan)
    if depth_column is None:
        depth_column = "depth_um" if "depth_um" in units else "electrode_depth_um"
    out = pd.DataFrame(
        {
            "area": units[area_column].fillna("unknown").astype(str)
            if area_column in units
            else "unknown",
            "depth_um": units[depth_column].to_numpy(np.float64) if depth_column in units else none,
            "n_spikes": [s.size for s in spikes],
            "mean_rate": resp.mean_rate,
            "baseline_rate": resp.baseline_mean,
            "peak_rate": resp.peak_rate,
            "peak_latency": resp.peak_latency,
            "p_value": resp.p_value,
            "q_value": resp.q_value,
            "direction": resp.direction,
            "responsive": resp.responsive,
            "latency": np.where(excited, step.latency, np.nan),
            "duration": np.where(excited, step.duration, np.nan),
            "gain": np.where(excited, step.gain, np.nan),
            "passes_quality": quality.to_numpy(bool),
        },
        index=units.index,
    )
    # Units the reader already sorted (databook.nwb.units) count as stored out of order too.
    read_sorted = units.attrs.get("sorted_units", [])
    out.attrs["unsorted_units"] = list(dict.fromkeys([*read_sorted, *units.index[unsorted]]))
    out.attrs["quality_skipped"] = sorted(set(criteria or {}) - set(usable))
    out.attrs["n_trials"] = int(onsets.size)
    return out


def by_area(table: pd.DataFrame, *, quality_only: bool = True) -> pd.DataFrame:
    """Fraction of responsive units per area.

    Parameters
    ----------
    table : the output of :func:`response_table`
    quality_only : count only units that pass the quality filter

    Returns
    -------
    pandas.DataFrame
        Indexed by ``area`` (sorted), with ``n_units``, ``n_responsive``, ``fraction``
        (in [0, 1]), ``n_excited``, ``n_suppressed`` (the responsive units by direction)
        and ``median_latency`` (s, over excited units; NaN if none).
    """
    rows = table[table["passes_quality"]] if quality_only else table
    grouped = rows.groupby("area", sort=True)
    out = pd.DataFrame(
        {
            "n_units": grouped.size(),
            "n_responsive": grouped["responsive"].sum().astype(int),
            "n_excited": grouped["direction"].agg(lambda d: int((d > 0).sum())),
            "n_suppressed": grouped["direction"].agg(lambda d: int((d < 0).sum())),
            "median_latency": grouped["latency"].median(),
        }
    )
    out.insert(2, "fraction", out["n_responsive"] / out["n_units"])
    return out


@dataclass(frozen=True)
class Recovery:
    """How well :func:`response_table` recovers planted responders.

    ``hits`` of ``n_planted`` planted (excitatory) units called excited,
    ``false_alarms`` of the ``n_other`` other units called responsive (either
    direction), ``false_suppressed`` of all units called suppressed (the demo plants no
    suppression, so each is false). ``errors``: one row per planted unit, signed estimate minus
    truth: ``latency`` and ``duration`` (s), ``gain`` (relative, fraction of the planted
    gain) and ``peak_latency`` (s; time of the spike-density peak minus the planted onset).
    """

    hits: int
    n_planted: int
    false_alarms: int
    n_other: int
    errors: pd.DataFrame
    false_suppressed: int = 0

    def summary(self) -> pd.DataFrame:
        """One row per quantity: what a validation table shows (ms and %)."""
        abs_ = self.errors.abs()
        text = {
            "planted responders called excited": f"{self.hits} / {self.n_planted}",
            "other units called responsive": f"{self.false_alarms} / {self.n_other}",
            "units called suppressed (none planted)": (
                f"{self.false_suppressed} / {self.n_planted + self.n_other}"
            ),
            "onset latency, median |error|": f"{abs_['latency'].median() * 1e3:.1f} ms "
            f"(max {abs_['latency'].max() * 1e3:.1f})",
            "duration, median |error|": f"{abs_['duration'].median() * 1e3:.1f} ms",
            "gain, median |relative error|": f"{abs_['gain'].median() * 100:.1f} % "
            f"(max {abs_['gain'].max() * 100:.0f} %)",
            "density-peak time minus planted latency (median)": (
                f"{self.errors['peak_latency'].median() * 1e3:+.0f} ms"
            ),
        }
        return pd.DataFrame({"value": text})


def recovery(table: pd.DataFrame, planted: pd.DataFrame) -> Recovery:
    """Compare a :func:`response_table` with planted responders.

    Parameters
    ----------
    table : output of :func:`response_table` (every unit, indexed by unit id)
    planted : one row per planted responder, indexed by unit id, with ``latency_s``,
        ``duration_s`` (s) and ``gain_hz`` (spikes/s)
    """
    missing = [c for c in ("latency_s", "duration_s", "gain_hz") if c not in planted]
    if missing:
        raise ValueError(f"planted needs columns {missing}; it has {list(planted.columns)}")
    unknown = planted.index.difference(table.index)
    if len(unknown):
        raise ValueError(f"planted units {unknown.tolist()} are not in the table")
    found = table.loc[planted.index]
    others = table.drop(planted.index)
    errors = pd.DataFrame(
        {
            "latency": found["latency"] - planted["latency_s"],
            "duration": found["duration"] - planted["duration_s"],
            "gain": (found["gain"] - planted["gain_hz"]) / planted["gain_hz"],
            "peak_latency": found["peak_latency"] - planted["latency_s"],
        }
    )
    return Recovery(
        hits=int((found["direction"] > 0).sum()),
        n_planted=len(found),
        false_alarms=int(others["responsive"].sum()),
        n_other=len(others),
        errors=errors,
        false_suppressed=int((table["direction"] < 0).sum()),
    )
