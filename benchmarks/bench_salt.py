"""SALT: databook.opto.salt (vectorised) vs a loop transcription of salt.m, on every unit.

1000 units (1-40 Hz Poisson), 300 single pulses 1.0-1.5 s apart: all units are compared
with tests/test_opto.py's literal transcription (binary rasters per pulse, loops over
windows, trials and pairs), p exactly and I to 1e-12. Equal distances count as ties in
both (salt.m's ``>=`` in exact arithmetic); the transcription with a bare ``>=`` is also
run, to show how many units floating-point rounding would decide. Then 60 units on
10 Hz trains (40 trains of 10 pulses), in both baseline modes. Targets: identical
results on every unit, >= 25x faster than the loop transcription.

Run: .venv/bin/python benchmarks/bench_salt.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from _common import best_of
from test_opto import BASELINE, DT, WN, _makep, _rasters, _salt_distances

from databook import opto
from databook.opto import salt, tag_units

NMBN, NM = round(WN / DT), round(BASELINE / WN)


def literal(units, pulses, baseline_onsets=None):
    """(p, I) with ties, p with a bare >=, and the wall time, of the loop transcription."""
    start = time.perf_counter()
    parts = [_salt_distances(*_rasters(t, pulses, NMBN, NM, baseline_onsets), NMBN) for t in units]
    seconds = time.perf_counter() - start
    tied = np.array([_makep(null, test) for null, test in parts])
    bare = np.array([_makep(null, test, tie=0.0)[0] for null, test in parts])
    return tied[:, 0], tied[:, 1], bare, seconds


def compare(name, p, info, p_ref, i_ref, bare):
    dp, di = np.abs(p - p_ref), np.abs(info - i_ref)
    print(
        f"{name}: {len(p)} units compared: max |dp| {dp.max():.3g} ({(dp > 0).sum()} units "
        f"differ), max |dI| {di.max():.2g}; with a bare >= the transcription differs on "
        f"{(bare != p_ref).sum()} units (max |dp| {np.abs(bare - p_ref).max():.3f})"
    )
    return dp.max() == 0 and di.max() < 1e-12


def main() -> None:
    rng = np.random.default_rng(0)
    pulses = 1.0 + np.cumsum(rng.uniform(1.0, 1.5, 300))
    t_stop = pulses[-1] + 2
    units = [
        np.sort(rng.uniform(0, t_stop, rng.poisson(r * t_stop))) for r in rng.uniform(1, 40, 1000)
    ]
    print(
        f"{len(units)} units, {pulses.size} pulses, {sum(u.size for u in units) / 1e6:.1f} M spikes"
    )
    ours_s, (p, info) = best_of(lambda: salt(units, pulses, dt=DT, window=WN, baseline=BASELINE))
    gather_s, _ = best_of(lambda: opto._windows(units, pulses, "pulse", DT, WN, BASELINE, ()))
    print(
        f"databook.opto.salt: {ours_s:.2f} s ({1e3 * ours_s / len(units):.2f} ms per unit), of "
        f"which {gather_s:.2f} s cutting the windows (one NumPy pass per unit)"
    )
    table_s, _ = best_of(lambda: tag_units(units, pulses, 0.01), 1)
    print(f"databook.opto.tag_units (SALT + latency, reliability, locking): {table_s:.2f} s")
    p_ref, i_ref, bare, ref_s = literal(units, pulses)
    print(
        f"loop transcription of salt.m: {ref_s:.1f} s ({1e3 * ref_s / len(units):.1f} ms per unit)"
    )
    same = compare("single pulses", p, info, p_ref, i_ref, bare)
    print(f"ratio loop/databook: {ref_s / ours_s:.0f}x")

    rng = np.random.default_rng(1)
    starts = 1.0 + np.cumsum(1.0 + rng.uniform(1.0, 2.0, 40))
    trains = (starts[:, None] + np.arange(10) / 10).ravel()
    hit = rng.random((30, trains.size)) < rng.uniform(0.1, 0.5, (30, 1))
    units = [
        np.sort(np.r_[rng.uniform(0, trains[-1] + 2, rng.poisson(r * (trains[-1] + 2))), evoked])
        for r, evoked in zip(
            rng.uniform(1, 40, 60),
            [trains[h] + 0.003 + rng.normal(0, 0.0005, h.sum()) for h in hit] + [[]] * 30,
            strict=True,
        )
    ]
    print(f"10 Hz trains: {len(units)} units (30 tagged), {trains.size} pulses in 40 trains")
    for mode, baseline_onsets in [("pulse", None), ("train", starts)]:
        ours_s, (p, info) = best_of(lambda mode=mode: salt(units, trains, baseline_onsets=mode), 1)
        p_ref, i_ref, bare, ref_s = literal(units, trains, baseline_onsets)
        same &= compare(f"  baseline_onsets={mode!r}", p, info, p_ref, i_ref, bare)
        print(
            f"  {ours_s:.2f} s vs {ref_s:.1f} s: {ref_s / ours_s:.0f}x; tagged units at "
            f"p < 0.01: {(p[:30] < 0.01).mean():.0%}, Poisson units: {(p[30:] < 0.01).mean():.0%}"
        )
    print(f"identical p and I on every unit compared: {same}")


if __name__ == "__main__":
    main()
