"""The simulated pulse-train responses used by the optotagging chapter."""

import numpy as np
import pytest

from databook import align
from databook.demo.spiking import superposed_poisson


def test_responses_to_close_events_add_up():
    # 40 Hz train: a 20-40 ms response to pulse k fills 0-15 ms after pulse k + 1.
    events = np.concatenate([1.0 + 2.0 * i + 0.025 * np.arange(10) for i in range(100)])
    spikes = superposed_poisson(
        events, 202.0, 4, baseline_hz=5.0, evoked_hz=40.0, latency_s=0.02, duration_s=0.02
    )
    later = events[np.diff(events, prepend=-np.inf) < 0.1]  # pulses 2..10 of every train
    counts = align.event_counts(spikes, later, np.array([0.0, 0.015, 0.02]))
    rate = counts.sum(axis=(0, 1)) / (len(spikes) * later.size * np.array([0.015, 0.005]))
    assert rate[0] == pytest.approx(45.0, rel=0.1)  # baseline + the previous pulse's response
    assert rate[1] == pytest.approx(5.0, rel=0.3)  # neither response: baseline only


def test_rejects_negative_rates():
    with pytest.raises(ValueError, match="evoked_hz"):
        superposed_poisson([1.0], 2.0, 1, baseline_hz=1, evoked_hz=-1, latency_s=0, duration_s=1)


def test_alpha_responses_have_the_stated_shape():
    """Pooled over many events: no extra rate before the onset, the peak tau after it, and
    g * tau * e extra spikes per event (the integral of the alpha function)."""
    from databook.demo.spiking import alpha_poisson

    events = 1.0 + 1.5 * np.arange(400)
    latency, tau, peak, base = 0.04, 0.03, 60.0, 4.0
    spikes = alpha_poisson(events, events[-1] + 1.5, baseline_hz=base, peak_hz=peak,
                           latency_s=latency, tau_s=np.full(20, tau), seed=2)  # fmt: skip
    assert len(spikes) == 20 and all(np.all(np.diff(s) > 0) for s in spikes)
    edges = np.arange(-0.2, 0.6 + 1e-9, 0.005)
    rate = align.psth(spikes, events, edges).rate.mean(0)  # spikes/s, over units
    t = edges[:-1] + 0.0025
    assert rate[t < latency].mean() == pytest.approx(base, rel=0.05)
    assert t[np.argmax(rate)] == pytest.approx(latency + tau, abs=0.01)
    extra = (rate[t >= 0] - base).sum() * 0.005  # spikes per event above baseline
    assert extra == pytest.approx(peak * tau * np.e, rel=0.05)
    with pytest.raises(ValueError, match="tau_s must be positive"):
        alpha_poisson(events, 10.0, baseline_hz=1, peak_hz=1, latency_s=0.01, tau_s=0.0)


def test_grid_rf_latency_shifts_every_spike_and_spills_past_the_presentation():
    from databook.demo.spiking import grid_rf_session

    plain = grid_rf_session(seed=4, n_rf=5, n_null=2)
    late = grid_rf_session(seed=4, n_rf=5, n_null=2, latency_s=0.1)
    assert all(np.array_equal(a, b) for a, b in zip(plain.spikes, grid_rf_session(
        seed=4, n_rf=5, n_null=2, latency_s=0.0, response_s=0.25).spikes, strict=True))  # fmt: skip
    for a, b in zip(plain.spikes, late.spikes, strict=True):
        np.testing.assert_allclose(b, a + 0.1, atol=1e-12)
    since = late.spikes[0][:, None] - late.onsets[None, :]
    last = np.where(since >= 0, since, np.inf).min(axis=1)  # s after the latest onset
    assert (last < 0.1).mean() == pytest.approx(0.4, abs=0.03)  # 40 % in the next one
    with pytest.raises(ValueError, match="latency_s >= 0"):
        grid_rf_session(latency_s=-0.01)
