"""Stimulus-averaged responses: which units and cells respond to a stimulus, and how much.

Neuropixels units (spike times) and two-photon cells (dF/F) get the same question with
the estimator suited to each. Baselines are always taken *before* each stimulus, never
over the whole window. Times in seconds, rates in spikes/s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from databook.align import event_counts, event_windows, window_times

__all__ = ["CellResponses", "UnitResponses", "cell_responses", "unit_responses"]


@dataclass(frozen=True)
class UnitResponses:
    """Per unit: ``baseline_mean``/``baseline_sd`` (spikes/s, over pre-stimulus bins of
    the trial-averaged PSTH), ``peak_rate`` and ``peak_latency`` (s) of the evoked PSTH,
    ``evoked_rate`` (mean over the response window), and ``responsive`` (bool)."""

    baseline_mean: NDArray[np.float64]
    baseline_sd: NDArray[np.float64]
    peak_rate: NDArray[np.float64]
    peak_latency: NDArray[np.float64]
    evoked_rate: NDArray[np.float64]
    responsive: NDArray[np.bool_]


def unit_responses(
    spike_times: Sequence[ArrayLike],
    onsets: ArrayLike,
    *,
    response_window: tuple[float, float] = (0.0, 0.25),
    baseline_window: tuple[float, float] = (-0.5, 0.0),
    bin_size: float = 0.01,
    k_sd: float = 5.0,
    min_peak_rate: float = 2.0,
) -> UnitResponses:
    """Responsiveness of spiking units to a stimulus, as in Siegle et al. (2021).

    A unit is responsive when the peak of its trial-averaged PSTH (``bin_size`` s bins)
    within ``response_window`` exceeds the mean of the pre-stimulus bins in
    ``baseline_window`` by more than ``k_sd`` times their standard deviation, and is at
    least ``min_peak_rate`` spikes/s. The baseline window must end at or before onset.
    """
    if baseline_window[1] > 0:
        raise ValueError(f"baseline_window must end before the stimulus, got {baseline_window}")
    edges_base = np.arange(baseline_window[0], baseline_window[1] + bin_size / 2, bin_size)
    edges_resp = np.arange(response_window[0], response_window[1] + bin_size / 2, bin_size)
    onsets = np.asarray(onsets, dtype=np.float64)
    base = event_counts(spike_times, onsets, edges_base).mean(axis=1) / bin_size
    resp = event_counts(spike_times, onsets, edges_resp).mean(axis=1) / bin_size
    mean, sd = base.mean(axis=1), base.std(axis=1, ddof=1)
    peak = resp.max(axis=1)
    latency = edges_resp[:-1][resp.argmax(axis=1)] + bin_size / 2
    responsive = (peak > mean + k_sd * sd) & (peak >= min_peak_rate)
    return UnitResponses(mean, sd, peak, latency, resp.mean(axis=1), responsive)


@dataclass(frozen=True)
class CellResponses:
    """Per cell: ``trace`` (n_cells, n_samples) trial-averaged baseline-subtracted dF/F on
    ``times`` (s from onset); ``amplitude`` (mean over the response window and trials);
    ``p_value`` (one-sided Wilcoxon signed-rank, response vs baseline, over trials);
    ``q_value`` (Benjamini-Hochberg over cells); ``responsive`` (bool)."""

    times: NDArray[np.float64]
    trace: NDArray[np.float64]
    amplitude: NDArray[np.float64]
    p_value: NDArray[np.float64]
    q_value: NDArray[np.float64]
    responsive: NDArray[np.bool_]


def cell_responses(
    timestamps: ArrayLike,
    dff: ArrayLike,
    onsets: ArrayLike,
    *,
    response_window: tuple[float, float] = (0.0, 2.0),
    baseline_window: tuple[float, float] = (-1.0, 0.0),
    rate: float = 30.0,
    fdr: float = 0.05,
    min_amplitude: float = 0.05,
) -> CellResponses:
    """Trial-averaged dF/F responses of two-photon cells and which cells respond.

    Each trial's mean dF/F in ``baseline_window`` (before onset) is subtracted from that
    trial. A cell is responsive when its response-window mean exceeds its baseline mean
    across trials (one-sided Wilcoxon signed-rank test), the Benjamini-Hochberg q-value
    over *cells* is below ``fdr``, and the mean amplitude is at least ``min_amplitude``.
    ``dff`` is (n_samples, n_cells) at ``timestamps`` (s); trials with missing data
    (NaN) are left out per cell.
    """
    from scipy.stats import false_discovery_control, wilcoxon

    if baseline_window[1] > 0:
        raise ValueError(f"baseline_window must end before the stimulus, got {baseline_window}")
    window = (baseline_window[0], response_window[1])
    times = window_times(window, rate)
    windows = event_windows(timestamps, dff, onsets, window, rate)  # trials x time x cells
    in_base = (times >= baseline_window[0]) & (times < baseline_window[1])
    in_resp = (times >= response_window[0]) & (times < response_window[1])
    baseline = np.nanmean(windows[:, in_base], axis=1)  # trials x cells
    response = np.nanmean(windows[:, in_resp], axis=1)
    trace = np.nanmean(windows - baseline[:, None, :], axis=0).T
    difference = response - baseline
    amplitude = np.nanmean(difference, axis=0)
    p = wilcoxon(difference, alternative="greater", axis=0, nan_policy="omit").pvalue
    p = np.where(np.isnan(p), 1.0, p)
    q = false_discovery_control(p, method="bh")
    return CellResponses(
        times=times,
        trace=trace,
        amplitude=amplitude,
        p_value=p,
        q_value=q,
        responsive=(q < fdr) & (amplitude >= min_amplitude),
    )
