"""Optotagging: SALT against a literal transcription of salt.m, the planted oracle, demo."""

from __future__ import annotations

import numpy as np
import pytest

from databook.opto import salt, tag_units

DT, WN, BASELINE = 0.0005, 0.01, 0.5


# --- a literal, loop-based transcription of the published salt.m --------------------------
def _kl(p, q):
    support = p * q > 0
    p2, q2 = p[support], q[support]
    p2, q2 = p2 / p2.sum(), q2 / q2.sum()
    return np.sum(p2 * np.log(p2 / q2))


def _jsdiv(p, q):
    m = (p + q) / 2
    return (_kl(p, m) + _kl(q, m)) / 2


def _salt_literal(spt_baseline, spt_test, nmbn):
    tno, st = spt_baseline.shape
    nm = st // nmbn
    nhlsi = np.zeros((nmbn + 1, nm + 1))
    for nxt, t in enumerate(range(0, nm * nmbn, nmbn)):
        lsi = np.zeros(tno)
        for k in range(tno):
            hits = np.flatnonzero(spt_baseline[k, t : t + nmbn])
            lsi[k] = hits[0] + 1 if hits.size else 0
        hst = np.array([(lsi == v).sum() for v in range(nmbn + 1)], dtype=float)
        nhlsi[:, nxt] = hst / hst.sum()
    lsi = np.zeros(spt_test.shape[0])
    for k in range(spt_test.shape[0]):
        hits = np.flatnonzero(spt_test[k, :nmbn])
        lsi[k] = hits[0] + 1 if hits.size else 0
    hst = np.array([(lsi == v).sum() for v in range(nmbn + 1)], dtype=float)
    nhlsi[:, nm] = hst / hst.sum()
    kn = nm + 1
    jsd = np.full((kn, kn), np.nan)
    for k1 in range(kn):
        for k2 in range(k1 + 1, kn):
            jsd[k1, k2] = np.sqrt(_jsdiv(nhlsi[:, k1], nhlsi[:, k2]) * 2)
    pnhk = jsd[: kn - 1, : kn - 1]
    null = pnhk[~np.isnan(pnhk)]
    test = np.median(jsd[: kn - 1, kn - 1])
    return np.sum(null >= test) / null.size, test - np.median(null)


def _rasters(times, onsets, nmbn, nm):
    base = np.zeros((onsets.size, nm * nmbn), dtype=bool)
    test = np.zeros((onsets.size, nmbn), dtype=bool)
    for k, onset in enumerate(onsets):
        start = onset - nm * nmbn * DT
        for t in times[(times >= start) & (times < onset)]:
            base[k, min(int(np.floor((t - start) / DT)), nm * nmbn - 1)] = True
        for t in times[(times >= onset) & (times < onset + nmbn * DT)]:
            test[k, int(np.floor((t - onset) / DT))] = True
    return base, test


# --- simulated sessions ---------------------------------------------------------------------
def _pulses(rng, n=300):
    return 1.0 + np.cumsum(rng.uniform(1.0, 1.5, n))


def _poisson(rng, rate, t_stop):
    return np.sort(rng.uniform(0, t_stop, rng.poisson(rate * t_stop)))


def _tagged(rng, pulses, rate, latency, reliability, jitter=0.0003):
    hit = rng.random(pulses.size) < reliability
    evoked = pulses[hit] + latency + rng.normal(0, jitter, hit.sum())
    return np.sort(np.concatenate([_poisson(rng, rate, pulses[-1] + 2), evoked]))


def test_salt_equals_the_literal_algorithm():
    rng = np.random.default_rng(0)
    pulses = _pulses(rng, 60)
    units = [
        _tagged(rng, pulses, 10.0, 0.003, 0.4),
        _poisson(rng, 15.0, pulses[-1] + 2),
        _poisson(rng, 2.0, pulses[-1] + 2),
        _tagged(rng, pulses, 30.0, 0.006, 0.2),
    ]
    p, info = salt(units, pulses, dt=DT, window=WN, baseline=BASELINE)
    nmbn, nm = round(WN / DT), round(BASELINE / WN)
    for u, times in enumerate(units):
        base, test = _rasters(times, pulses, nmbn, nm)
        p_ref, i_ref = _salt_literal(base, test, nmbn)
        assert p[u] == pytest.approx(p_ref, abs=1e-12), u
        assert info[u] == pytest.approx(i_ref, abs=1e-12), u
    assert p[0] < 0.01 and p[1] > 0.01


def test_planted_tagged_units_found_and_others_rejected():
    rng = np.random.default_rng(1)
    pulses = _pulses(rng)
    t_stop = pulses[-1] + 2
    tagged = [
        _tagged(rng, pulses, rng.uniform(5, 20), rng.uniform(0.0025, 0.0035), rng.uniform(0.2, 0.5))
        for _ in range(30)
    ]
    null = [_poisson(rng, rate, t_stop) for rate in rng.uniform(1, 40, 1000)]
    late = []
    for _ in range(20):  # excited 20-40 ms after the light: not tagged
        base = _poisson(rng, 10.0, t_stop)
        extra = pulses[:, None] + rng.uniform(0.02, 0.04, (pulses.size, 2))
        late.append(np.sort(np.concatenate([base, extra[rng.random(extra.shape) < 0.6]])))
    raised = []
    for _ in range(20):  # rate raised during the pulse, not time-locked
        base = _poisson(rng, 10.0, t_stop)
        extra = pulses[:, None] + rng.uniform(0.0, 0.01, (pulses.size, 3))
        raised.append(np.sort(np.concatenate([base, extra[rng.random(extra.shape) < 0.3]])))
    table = tag_units(tagged + null + late + raised, pulses, 0.01)
    assert len(table) == 1070
    assert (table.salt_p[:30] < 0.01).all()
    assert table.tagged[:30].all()
    assert table.latency[:30].between(0.0025, 0.0036).all()
    assert table.tagged[30:1030].mean() <= 0.01
    assert not table.tagged[1030:1050].any()
    assert not table.tagged[1050:].any()
    assert set(table.columns) >= {
        "latency", "jitter", "reliability", "salt_p", "salt_i", "rate_ratio", "tagged",
    }  # fmt: skip


def test_demo_tagged_units_match_ground_truth(demo):
    from pynwb import NWBHDF5IO

    paths, truth = demo.paths, demo.truth["ecephys"]
    with NWBHDF5IO(str(paths["demo-ecephys"]), "r") as io:
        nwb = io.read()
        spikes = list(nwb.units["spike_times"][:])
        pulses = nwb.processing["optotagging"]["optogenetic_stimulation"]["start_time"][:]
    table = tag_units(spikes, pulses, truth["opto"]["pulse_duration_s"])
    planted = [r["unit"] for r in truth["tagged_units"]]
    assert table.tagged[planted].all()
    for r in truth["tagged_units"]:
        assert table.latency[r["unit"]] == pytest.approx(r["latency_s"], abs=0.0007)
        assert table.reliability[r["unit"]] == pytest.approx(r["reliability"], abs=0.15)
    others = [i for i in range(len(spikes)) if i not in planted]
    assert not table.tagged[others].any()
