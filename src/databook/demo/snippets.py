"""Simulated spike waveform snippets: a unit's template plus noise, and light artefacts.

For chapters that teach a waveform check on data whose answer is known. A snippet is
``(n_samples, n_channels)`` volts on a window around the event time; channels are sites
at increasing distance from the unit's peak site. Seeded: the same call gives the same
bytes.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["SAMPLING_RATE_HZ", "WINDOW_S", "artefact_template", "snippets", "unit_template"]

SAMPLING_RATE_HZ = 30_000.0  # Neuropixels AP band
WINDOW_S = (-0.0005, 0.0015)  # s around the event time


def _times(sampling_rate_hz: float, window_s: tuple[float, float]) -> NDArray[np.float64]:
    start, stop = window_s
    if not start < 0 < stop or sampling_rate_hz <= 0:
        raise ValueError(f"need window_s = (before < 0, after > 0) s and a positive rate, got "
                         f"{window_s}, {sampling_rate_hz} Hz")  # fmt: skip
    return np.arange(round(start * sampling_rate_hz), round(stop * sampling_rate_hz)) / (
        sampling_rate_hz
    )


def unit_template(
    n_channels: int = 4,
    *,
    trough_uv: float = -80.0,
    trough_to_peak_s: float = 0.0004,
    space_constant_sites: float = 1.5,
    sampling_rate_hz: float = SAMPLING_RATE_HZ,
    window_s: tuple[float, float] = WINDOW_S,
) -> NDArray[np.float64]:
    """An extracellular spike: a sharp trough of ``trough_uv`` microvolts at 0 s on the
    peak site, then a slower, smaller positive peak
    ``trough_to_peak_s`` later, falling off over sites as ``exp(-site /
    space_constant_sites)``.

    Returns
    -------
    (n_samples, n_channels) float array, volts
    """
    t = _times(sampling_rate_hz, window_s)
    trough = np.exp(-0.5 * (t / 1.2e-4) ** 2)
    peak = 0.35 * np.exp(-0.5 * ((t - trough_to_peak_s) / 2.5e-4) ** 2)
    shape = (trough - peak) / (trough - peak).max() * (trough_uv * 1e-6)  # trough: trough_uv
    return shape[:, None] * np.exp(-np.arange(n_channels) / space_constant_sites)[None, :]


def artefact_template(
    n_channels: int = 4,
    *,
    amplitude_uv: float = -150.0,
    decay_s: float = 0.0008,
    sampling_rate_hz: float = SAMPLING_RATE_HZ,
    window_s: tuple[float, float] = WINDOW_S,
) -> NDArray[np.float64]:
    """A photoelectric light artefact: a step at 0 s that decays exponentially, the same on
    every site (light reaches all of them at once).

    Returns
    -------
    (n_samples, n_channels) float array, volts
    """
    t = _times(sampling_rate_hz, window_s)
    shape = np.where(t >= 0, np.exp(-np.clip(t, 0, None) / decay_s), 0.0) * amplitude_uv * 1e-6
    return np.repeat(shape[:, None], n_channels, axis=1)


def snippets(
    template: NDArray[np.float64], n_spikes: int, *, noise_uv: float = 10.0, seed: int = 0
) -> NDArray[np.float64]:
    """``n_spikes`` copies of ``template`` with independent white noise of ``noise_uv``
    microvolts RMS per sample and channel.

    Returns
    -------
    (n_spikes, n_samples, n_channels) float array, volts
    """
    rng = np.random.default_rng(seed)
    noise = rng.normal(0.0, noise_uv * 1e-6, (n_spikes, *template.shape))
    return template[None] + noise
