"""Current source density: databook.csd vs elephant's estimate_csd (StandardCSD, no filter).

384 channels at 20 um x 10^6 samples (float32, 1.54 GB in, 1.54 GB out). The numba
kernel is compiled (or loaded from its on-disk cache) by a warm-up call outside the
timing; times are the median of several runs (min and max printed too, since the
machine may be shared), on one thread and on all threads. Memory beyond the output is
the peak traced by tracemalloc (NumPy reports its allocations to it) minus the output
array; it is also shown for ``out=`` a preallocated array and an ``np.memmap`` file
(the form for users who cannot hold the output in memory). elephant runs on a slice,
is scaled, and its estimate is compared with ours on interior channels (elephant
divides by h, not h^2, so its values are h times the CSD). Target: >= 20x faster.

Run: .venv/bin/python benchmarks/bench_csd.py [--samples 1000000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import databook_threads, median_of, peer

from databook.csd import csd

N_CHANNELS, PITCH_UM = 384, 20.0


def traced(fn):
    """Wall time (s), peak traced memory (bytes) and result of one call of ``fn``."""
    tracemalloc.start()
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return seconds, peak, result


def spread(fn, repeats: int) -> tuple[float, float, float]:
    """Median, min and max wall time (s) of ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--elephant-samples", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    depths = PITCH_UM * np.arange(N_CHANNELS)
    lfp = rng.standard_normal((N_CHANNELS, args.samples), dtype=np.float32) * 1e-4
    gb = lfp.nbytes / 1e9
    print(
        f"{N_CHANNELS} channels x {args.samples} samples float32 ({gb:.2f} GB input), "
        f"{os.cpu_count()} CPUs"
    )
    start = time.perf_counter()
    csd(lfp[:, :1000].copy(), depths)
    print(f"warm-up call (loads or compiles the numba kernel): {time.perf_counter() - start:.2f} s")

    timings = {}
    for label, threads in (("1 thread", 1), ("all threads", None)):
        with databook_threads(threads):
            timings[label] = spread(lambda: csd(lfp, depths), args.repeats)
        median, low, high = timings[label]
        print(
            f"databook.csd.csd, new output each call, {label}: median {median:.2f} s "
            f"(min {low:.2f}, max {high:.2f}, {args.repeats} runs)"
        )
    out = np.empty_like(lfp)
    csd(lfp, depths, out=out)  # touch the output's pages once
    median, low, high = spread(lambda: csd(lfp, depths, out=out), args.repeats)
    print(
        f"databook.csd.csd(out=preallocated), all threads: median {median:.2f} s "
        f"(min {low:.2f}, max {high:.2f})"
    )

    _, peak, ours = traced(lambda: csd(lfp, depths).csd)
    print(
        f"memory beyond the output: {(peak - ours.nbytes) / 1e6:.1f} MB traced "
        f"(peak {peak / 1e9:.2f} GB, of which the output {ours.nbytes / 1e9:.2f} GB)"
    )
    _, peak_out, _ = traced(lambda: csd(lfp, depths, out=out))
    print(f"  with out= a preallocated array: {peak_out / 1e6:.1f} MB traced")
    out = None  # free 1.5 GB
    with tempfile.TemporaryDirectory() as folder:
        mapped = np.lib.format.open_memmap(
            Path(folder) / "csd.npy", mode="w+", dtype=np.float32, shape=lfp.shape
        )
        map_s, peak_map, _ = traced(lambda: csd(lfp, depths, out=mapped))
        mapped.flush()
        same = np.array_equal(np.asarray(mapped), ours, equal_nan=True)
        print(
            f"  with out= an np.memmap file: {peak_map / 1e6:.1f} MB traced, {map_s:.2f} s, "
            f"equal to the in-memory result: {same}"
        )
        mapped = None  # close the file before its folder goes

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

    run()  # warm-up
    el_s, theirs = median_of(run, 3)
    _, el_peak, _ = traced(run)
    scaled = el_s * args.samples / n
    print(
        f"elephant estimate_csd on {n} samples: {el_s:.2f} s (median of 3) -> {scaled:.1f} s "
        f"scaled to {args.samples}; peak traced memory {el_peak / 1e9:.2f} GB for the slice"
    )
    theirs = np.asarray(theirs.magnitude).T  # channels x samples
    # elephant returns the n - 2 interior channels only.
    ratio = np.median(theirs / ours[1:-1, :n].astype(np.float64))
    h = PITCH_UM * 1e-6
    print(f"elephant / databook on interior channels: median {ratio:.3e} (h = {h:.0e} m)")
    print(
        f"ratio elephant/databook time: {scaled / timings['1 thread'][0]:.0f}x single-thread, "
        f"{scaled / timings['all threads'][0]:.0f}x all threads (medians)"
    )


if __name__ == "__main__":
    main()
