"""SALT for 1000 units: databook.opto.salt (vectorised) vs a loop transcription of salt.m.

300 pulses; the reference (tests/test_opto.py's literal transcription: rasters, loops
over windows, trials and pairs) runs on a subset and is scaled. Target: >= 10x faster
with identical p-values and I on the compared units.

Run: .venv/bin/python benchmarks/bench_salt.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from _common import best_of
from test_opto import BASELINE, DT, WN, _rasters, _salt_literal

from databook.opto import salt, tag_units


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
    print(f"databook.opto.salt: {ours_s:.2f} s ({1e3 * ours_s / len(units):.2f} ms per unit)")
    table_s, _ = best_of(lambda: tag_units(units, pulses, 0.01), 1)
    print(f"databook.opto.tag_units (SALT + latency, reliability, locking): {table_s:.2f} s")
    nmbn, nm = round(WN / DT), round(BASELINE / WN)
    subset = range(10)

    def reference():
        return [_salt_literal(*_rasters(units[u], pulses, nmbn, nm), nmbn) for u in subset]

    ref_s, ref = best_of(reference, 1)
    per_unit = ref_s / len(subset)
    scaled = per_unit * len(units)
    print(
        f"loop transcription of salt.m: {1e3 * per_unit:.1f} ms per unit -> {scaled:.1f} s scaled"
    )
    same = all(
        abs(p[u] - r[0]) < 1e-12 and abs(info[u] - r[1]) < 1e-12
        for u, r in zip(subset, ref, strict=True)
    )
    print(f"identical p and I on the {len(subset)} compared units: {same}")
    print(f"ratio loop/databook: {per_unit * len(units) / ours_s:.0f}x")


if __name__ == "__main__":
    main()
