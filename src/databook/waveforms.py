"""Spike waveforms: whether two sets of one unit's spikes have the same shape.

A spike sorter assigns events to a unit by shape; an event that is not the unit's (a light
artefact, a neighbour's spike) can still land in its cluster. Comparing the mean waveform
of one subset of spikes (those evoked by light) with the rest of the unit's spikes
(spontaneous ones) asks whether the subset is the same neuron. Waveform arrays are
``(n_spikes, n_samples, n_channels)`` in volts (any one unit serves, the test is scale
free); a 2-D array is read as one channel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from databook.stats import permutation_p

__all__ = ["WaveformSimilarity", "mean_waveform_correlation", "similarity"]

_CHUNK = 4_000_000  # shuffle x spike entries held at once


def _as_snippets(values: ArrayLike, name: str) -> NDArray[np.float64]:
    snippets = np.asarray(values, dtype=np.float64)
    if snippets.ndim == 2:
        snippets = snippets[:, :, None]
    if snippets.ndim != 3:
        raise ValueError(
            f"{name}: expected (n_spikes, n_samples[, n_channels]), got shape {snippets.shape}"
        )
    if snippets.shape[0] < 2:
        raise ValueError(f"{name}: at least 2 spikes are needed, got {snippets.shape[0]}")
    if not np.isfinite(snippets).all():
        raise ValueError(f"{name}: waveforms hold NaN or infinite samples")
    return snippets


def _pair(first: ArrayLike, second: ArrayLike, names: tuple[str, str]) -> tuple[NDArray, NDArray]:
    """Both sets as (n_spikes, n_samples, n_channels), checked to share samples x channels."""
    a, b = _as_snippets(first, names[0]), _as_snippets(second, names[1])
    if a.shape[1:] != b.shape[1:]:
        raise ValueError(
            f"{names[0]} and {names[1]} waveforms differ in samples x channels: "
            f"{a.shape[1:]} and {b.shape[1:]}"
        )
    return a, b


def _correlation(a: NDArray, b: NDArray) -> NDArray[np.float64]:
    """Pearson correlation along the last axis (flattened samples x channels)."""
    a = a - a.mean(axis=-1, keepdims=True)
    b = b - b.mean(axis=-1, keepdims=True)
    norm = np.sqrt((a * a).sum(axis=-1) * (b * b).sum(axis=-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (a * b).sum(axis=-1) / norm


def mean_waveform_correlation(first: ArrayLike, second: ArrayLike) -> float:
    """Pearson r between the mean waveforms of two sets of spikes, over samples and
    channels together (so a shape seen on the wrong channels lowers it).

    Parameters
    ----------
    first, second : (n_spikes, n_samples[, n_channels]) volts, the same samples and
        channels
    """
    a, b = _pair(first, second, ("first", "second"))
    return float(_correlation(a.mean(axis=0).ravel(), b.mean(axis=0).ravel()))


@dataclass(frozen=True)
class WaveformSimilarity:
    """Light-evoked against spontaneous waveforms of one unit.

    ``r``: Pearson correlation of the two mean waveforms; ``p_value``: the share of label
    shuffles whose r is at most the observed one, ``(k + 1) / (n_shuffles + 1)`` (small:
    the evoked spikes differ from the unit's other spikes more than random subsets of
    the same size do); ``r_shuffled``: the shuffles' r, shape ``(n_shuffles,)``.
    """

    r: float
    p_value: float
    n_evoked: int
    n_spontaneous: int
    r_shuffled: NDArray[np.float64]


def similarity(
    evoked: ArrayLike,
    spontaneous: ArrayLike,
    *,
    n_shuffles: int = 1000,
    seed: int = 0,
) -> WaveformSimilarity:
    """Test whether a unit's light-evoked spikes have its spontaneous spikes' shape.

    The statistic is the correlation of the two mean waveforms. Its value alone depends on
    the noise and on how many evoked spikes there are (a mean of 20 noisy snippets
    correlates less with anything than a mean of 2000), so it is compared with the same
    statistic after the evoked/spontaneous labels are shuffled over all the unit's
    spikes, keeping both set sizes: under the null (one neuron, one shape) the observed r
    is one of those. One-sided: only a *lower* r than chance is evidence of foreign
    events. Vectorised: the shuffled means are one matrix product.

    Parameters
    ----------
    evoked : (n_evoked, n_samples[, n_channels]) volts, spikes in the light window
    spontaneous : (n_spontaneous, n_samples[, n_channels]) volts, spikes away from light
    n_shuffles : number of label shuffles; the smallest p is ``1 / (n_shuffles + 1)``
    seed : seed of the shuffles (the result is reproducible)

    Returns
    -------
    WaveformSimilarity
    """
    a, b = _pair(evoked, spontaneous, ("evoked", "spontaneous"))
    if n_shuffles < 1:
        raise ValueError(f"n_shuffles must be >= 1, got {n_shuffles}")
    flat = np.concatenate([a, b]).reshape(a.shape[0] + b.shape[0], -1)  # spikes x features
    n_evoked, n_total = a.shape[0], flat.shape[0]
    observed = _correlation(flat[:n_evoked].mean(0), flat[n_evoked:].mean(0))
    rng = np.random.default_rng(seed)
    total = flat.sum(0)
    shuffled = np.empty(n_shuffles)
    chunk = max(1, _CHUNK // n_total)  # shuffles per block: memory stays ~_CHUNK x 8 bytes
    for start in range(0, n_shuffles, chunk):
        rows = min(chunk, n_shuffles - start)
        # Each row of `chosen` marks the spikes that play "evoked" in one shuffle.
        order = rng.random((rows, n_total)).argsort(axis=1)[:, :n_evoked]
        chosen = np.zeros((rows, n_total))
        np.put_along_axis(chosen, order, 1.0, axis=1)
        sums = chosen @ flat
        shuffled[start : start + rows] = _correlation(
            sums / n_evoked, (total - sums) / (n_total - n_evoked)
        )
    k = int((shuffled <= observed).sum())
    return WaveformSimilarity(
        r=float(observed),
        p_value=float(permutation_p(k, n_shuffles)),
        n_evoked=n_evoked,
        n_spontaneous=n_total - n_evoked,
        r_shuffled=shuffled,
    )
