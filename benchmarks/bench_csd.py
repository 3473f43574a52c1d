"""Current source density: databook.csd vs elephant's estimate_csd (StandardCSD, no filter).

384 channels at 20 um x 10^6 samples (float32, 1.5 GB). Reports wall time and peak
traced memory (tracemalloc: NumPy reports its allocations to it) for both, and the
relation between the two estimates on interior channels (elephant divides by h, not
h^2, so its values are h times the CSD). elephant runs on a slice and is scaled when
it would take long. Target: >= 20x faster.

Run: .venv/bin/python benchmarks/bench_csd.py [--samples 1000000]
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import best_of, peer

from databook.csd import csd

N_CHANNELS, PITCH_UM = 384, 20.0


def traced(fn):
    tracemalloc.start()
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return seconds, peak, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--elephant-samples", type=int, default=100_000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    depths = PITCH_UM * np.arange(N_CHANNELS)
    lfp = rng.standard_normal((N_CHANNELS, args.samples), dtype=np.float32) * 1e-4
    gb = lfp.nbytes / 1e9
    print(f"{N_CHANNELS} channels x {args.samples} samples float32 ({gb:.2f} GB input)")
    start = time.perf_counter()
    csd(lfp[:, :1000], depths)
    first_s = time.perf_counter() - start
    print(f"first call (loads or compiles the numba kernel): {first_s:.2f} s")
    ours_s, ours = best_of(lambda: csd(lfp, depths).csd, 3)
    _, ours_peak, _ = traced(lambda: csd(lfp, depths).csd)  # memory, in a separate run
    out_gb = ours.nbytes / 1e9
    print(
        f"databook.csd.csd: {ours_s:.2f} s, peak traced memory {ours_peak / 1e9:.2f} GB "
        f"(of which output {out_gb:.2f} GB; {(ours_peak - ours.nbytes) / 1e6:.0f} MB working)"
    )

    elephant = peer("elephant")
    if elephant is None:
        return
    import neo
    import quantities as pq
    from elephant.current_source_density import estimate_csd

    n = min(args.elephant_samples, args.samples)
    signal = neo.AnalogSignal(lfp[:, :n].T.astype(np.float64), units="V", sampling_rate=1 * pq.kHz)
    coords = (depths * 1e-3).reshape(-1, 1) * pq.mm

    def run():
        return estimate_csd(
            signal, coordinates=coords, method="StandardCSD", process_estimate=False,
            vaknin_el=False,
        )  # fmt: skip

    el_s, theirs = best_of(run, 2)
    _, el_peak, _ = traced(run)
    scaled = el_s * args.samples / n
    print(
        f"elephant estimate_csd on {n} samples: {el_s:.2f} s -> {scaled:.1f} s scaled to "
        f"{args.samples}; peak traced memory {el_peak / 1e9:.2f} GB for the slice"
    )
    theirs = np.asarray(theirs.magnitude).T  # channels x samples
    # elephant returns the n - 2 interior channels only.
    ratio = np.median(theirs / ours[1:-1, :n].astype(np.float64))
    h = PITCH_UM * 1e-6
    print(f"elephant / databook on interior channels: median {ratio:.3e} (h = {h:.0e} m)")
    print(f"ratio elephant/databook time: {scaled / ours_s:.0f}x")


if __name__ == "__main__":
    main()
