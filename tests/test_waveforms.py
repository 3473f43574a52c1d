"""The waveform check of optotagging: evoked against spontaneous spikes of one unit.

Snippets are simulated (databook.demo.snippets): a unit's template with white noise,
and light artefacts of another shape. The check must keep its false-alarm rate when every
spike is the unit's, and reject an evoked set that holds a few foreign events.
"""

from __future__ import annotations

import numpy as np
import pytest

from databook import opto, waveforms
from databook.demo import snippets as simulated

TEMPLATE = simulated.unit_template()
LIGHT = simulated.artefact_template()


def test_templates_are_in_volts_on_the_stated_window():
    n_samples = round(2e-3 * simulated.SAMPLING_RATE_HZ)  # -0.5 to 1.5 ms at 30 kHz
    assert TEMPLATE.shape == LIGHT.shape == (n_samples, 4)
    assert TEMPLATE.min() == pytest.approx(-80e-6)  # the trough, on the peak site
    assert np.argmin(TEMPLATE[:, 0]) == round(0.5e-3 * simulated.SAMPLING_RATE_HZ)
    assert np.all(np.abs(TEMPLATE).max(0)[1:] < np.abs(TEMPLATE).max(0)[:-1])  # falls off
    assert np.allclose(LIGHT, LIGHT[:, :1])  # the artefact is the same on every site
    noisy = simulated.snippets(TEMPLATE, 4000, noise_uv=10.0, seed=3)
    assert (noisy - TEMPLATE).std() == pytest.approx(10e-6, rel=0.02)
    assert np.array_equal(noisy, simulated.snippets(TEMPLATE, 4000, noise_uv=10.0, seed=3))


def test_one_neuron_is_flagged_at_the_nominal_rate():
    """Every spike the unit's: p is uniform, so p < 0.05 in about 5 % of units."""
    p = np.array(
        [
            waveforms.similarity(
                simulated.snippets(TEMPLATE, 40, seed=2 * k),
                simulated.snippets(TEMPLATE, 300, seed=2 * k + 1),
                n_shuffles=199,
                seed=k,
            ).p_value
            for k in range(300)
        ]
    )
    assert 0.02 <= np.mean(p < 0.05) <= 0.09
    assert 0.4 <= np.median(p) <= 0.6


def test_a_few_foreign_events_are_rejected_though_r_stays_high():
    own = simulated.snippets(TEMPLATE, 92, seed=1)
    evoked = np.concatenate([own, simulated.snippets(LIGHT, 8, seed=2)])  # 8 % artefacts
    result = waveforms.similarity(evoked, simulated.snippets(TEMPLATE, 2000, seed=3))
    assert result.r > 0.9  # a fixed correlation cut-off accepts this set
    assert result.p_value == pytest.approx(1 / 1001)  # the shuffles never go as low
    assert result.r < result.r_shuffled.min()
    assert (result.n_evoked, result.n_spontaneous) == (100, 2000)
    assert result.r_shuffled.shape == (1000,)
    mostly_light = waveforms.similarity(
        simulated.snippets(LIGHT, 50, seed=4), simulated.snippets(TEMPLATE, 500, seed=5)
    )
    assert mostly_light.r < 0.3 and mostly_light.p_value == pytest.approx(1 / 1001)


def test_the_shuffles_do_not_depend_on_how_they_are_blocked(monkeypatch):
    evoked = simulated.snippets(TEMPLATE, 30, seed=6)
    spontaneous = simulated.snippets(TEMPLATE, 400, seed=7)
    whole = waveforms.similarity(evoked, spontaneous, n_shuffles=300, seed=1)
    assert whole.r == pytest.approx(waveforms.mean_waveform_correlation(evoked, spontaneous))
    # r ignores amplitude, as chapter 6 says: smaller evoked spikes, the same r
    assert waveforms.mean_waveform_correlation(0.6 * evoked, spontaneous) == pytest.approx(whole.r)
    monkeypatch.setattr(waveforms, "_CHUNK", 430 * 7)  # blocks of 7 shuffles
    blocked = waveforms.similarity(evoked, spontaneous, n_shuffles=300, seed=1)
    assert np.isfinite(blocked.r_shuffled).all()
    # Every block draws fresh shuffles: the null is the same distribution, not the same
    # draws; its location must agree.
    assert np.median(blocked.r_shuffled) == pytest.approx(np.median(whole.r_shuffled), abs=1e-3)
    assert blocked.r == whole.r


def test_one_channel_and_bad_shapes():
    one_site = waveforms.similarity(TEMPLATE[None, :, 0] + np.zeros((5, 1)), TEMPLATE[None, :, 0]
                                    + np.zeros((6, 1)), n_shuffles=10)  # fmt: skip
    assert one_site.r == pytest.approx(1.0)
    with pytest.raises(ValueError, match=r"differ in samples x channels: \(60, 4\) and \(60, 2\)"):
        waveforms.similarity(
            simulated.snippets(TEMPLATE, 5), simulated.snippets(TEMPLATE[:, :2], 5)
        )
    with pytest.raises(ValueError, match="evoked: at least 2 spikes are needed, got 1"):
        waveforms.similarity(simulated.snippets(TEMPLATE, 1), simulated.snippets(TEMPLATE, 5))
    bad = simulated.snippets(TEMPLATE, 5)
    bad[2, 3, 1] = np.nan
    with pytest.raises(ValueError, match="spontaneous: waveforms hold NaN"):
        waveforms.similarity(simulated.snippets(TEMPLATE, 5), bad)
    with pytest.raises(ValueError, match=r"expected \(n_spikes, n_samples\[, n_channels\]\)"):
        waveforms.similarity(np.zeros(5), np.zeros(5))


def test_split_by_light_uses_the_half_open_test_window_and_the_guard():
    # Binary fractions, so that the window edges are exact: window 1/64 s, blanking
    # 1/1024 s, guard 1/8 s; a two-pulse train 1/32 s apart, then a single pulse.
    window, blank, guard = 2.0**-6, 2.0**-10, 2.0**-3
    onsets = np.array([1.0, 1.03125, 3.0])
    spikes = 1.0 + np.array([-0.5, 0, 2**-11, 2**-10, 2**-7, 2**-6, 0.03125 + 2**-8,
                             0.03125 + 2**-3 - 2**-10, 0.03125 + 2**-3, 2.25])  # fmt: skip
    evoked, spontaneous = opto.split_by_light(
        spikes, onsets, window=window, artifact=blank, guard=guard
    )
    # [blank, window) after the latest onset: 1 + 1/1024 is in (closed start), 1 + 1/64
    # is out (open end); 1/256 s after the train's second pulse is evoked by it.
    assert spikes[evoked].tolist() == [1 + 2**-10, 1 + 2**-7, 1.03125 + 2**-8]
    # Spontaneous: before any pulse, or >= 1/8 s after the latest one (closed).
    assert spikes[spontaneous].tolist() == [0.5, 1.03125 + 2**-3, 3.25]
    assert not (evoked & spontaneous).any()
    with pytest.raises(ValueError, match="artifact < window <= guard"):
        opto.split_by_light(spikes, onsets, window=0.01, guard=0.005)
    with pytest.raises(ValueError, match="duplicated pulse onsets"):
        opto.split_by_light(spikes, [1.0, 1.0])
