"""Current source density: databook.csd vs elephant's estimate_csd (StandardCSD, no filter).

384 channels at 20 um x 10^6 samples (float32, 1.54 GB in, 1.54 GB out). The numba
kernel is compiled (or loaded from its on-disk cache) by a warm-up call outside the
timing. Times are medians of several rounds (min and max printed too: the machine may
be shared); each round runs ours on one thread and on all threads, with a new output
array and into a reused ``out=``, and elephant, interleaved so that a busy spell slows
all of them. The difference between a new and a reused output is the kernel faulting in
1.54 GB of fresh memory (with transparent huge pages, compaction on a busy machine
makes it vary by seconds), printed as system time. Memory beyond the output is the
peak traced by tracemalloc (NumPy reports its allocations to it) minus the output
array; it is also shown for ``out=`` a preallocated array and an ``np.memmap`` file
(the form for users who cannot hold the output in memory). elephant runs on a slice,
is scaled, and its estimate is compared with ours on interior channels (elephant
divides by h, not h^2, so its values are h times the CSD). Target: >= 20x faster.

Run: .venv/bin/python benchmarks/bench_csd.py [--samples 1000000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import databook_threads, peer

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


def timed(fn) -> tuple[float, float]:
    """Wall time and system (kernel) CPU time (s) of one call of ``fn``."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_stime
    start = time.perf_counter()
    fn()
    wall = time.perf_counter() - start
    return wall, resource.getrusage(resource.RUSAGE_SELF).ru_stime - before


def elephant_runner(lfp, depths, n):
    """A call of elephant's StandardCSD on the first ``n`` samples, or None."""
    if peer("elephant") is None:
        return None
    import neo
    import quantities as pq
    from elephant.current_source_density import estimate_csd

    signal = neo.AnalogSignal(lfp[:, :n].T.astype(np.float64), units="V", sampling_rate=1 * pq.kHz)
    coords = (depths * 1e-3).reshape(-1, 1) * pq.mm

    def run():
        return estimate_csd(
            signal, coordinates=coords, method="StandardCSD", process_estimate=False,
            vaknin_el=False,
        )  # fmt: skip

    return run


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
    out = np.empty_like(lfp)
    csd(lfp, depths, out=out)  # touch the reused output's pages once
    n = min(args.elephant_samples, args.samples)
    run = elephant_runner(lfp, depths, n)
    if run is not None:
        run()  # warm-up

    # Rounds interleave every variant and elephant, so a busy spell on a shared machine
    # slows all of them rather than one; each round starts with a different variant.
    variants = {
        "new output, 1 thread": (1, False),
        "new output, all threads": (None, False),
        "reused out=, 1 thread": (1, True),
        "reused out=, all threads": (None, True),
    }
    walls = {label: [] for label in variants}
    system = {label: [] for label in variants}
    elephant_s = []
    labels = list(variants)
    for round_ in range(args.repeats):
        for label in labels[round_ % 4 :] + labels[: round_ % 4]:
            threads, reuse = variants[label]
            with databook_threads(threads):
                wall, kernel = timed(
                    lambda reuse=reuse: csd(lfp, depths, out=out if reuse else None)
                )
            walls[label].append(wall)
            system[label].append(kernel)
        if run is not None:
            elephant_s.append(timed(run)[0])
    median = {label: statistics.median(times) for label, times in walls.items()}
    for label, times in walls.items():
        print(
            f"databook.csd.csd, {label}: median {median[label]:.2f} s (min {min(times):.2f}, "
            f"max {max(times):.2f}, {args.repeats} runs; system time "
            f"{statistics.median(system[label]):.2f} s)"
        )
    print(
        "  (system time is the kernel faulting in a new 1.54 GB output; with transparent "
        "huge pages on a busy machine its compaction makes that vary by seconds)"
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

    if run is None:
        return
    el_s = statistics.median(elephant_s)
    _, el_peak, theirs = traced(run)
    scaled = el_s * args.samples / n
    print(
        f"elephant estimate_csd on {n} samples: median {el_s:.2f} s (min {min(elephant_s):.2f}, "
        f"max {max(elephant_s):.2f}) -> {scaled:.1f} s scaled to {args.samples}; "
        f"peak traced memory {el_peak / 1e9:.2f} GB for the slice"
    )
    theirs = np.asarray(theirs.magnitude).T  # channels x samples
    # elephant returns the n - 2 interior channels only.
    ratio = np.median(theirs / ours[1:-1, :n].astype(np.float64))
    h = PITCH_UM * 1e-6
    print(f"elephant / databook on interior channels: median {ratio:.3e} (h = {h:.0e} m)")
    for threads in ("1 thread", "all threads"):
        print(
            f"ratio elephant/databook time, {threads} (medians): "
            f"{scaled / median[f'new output, {threads}']:.0f}x with a new output each call, "
            f"{scaled / median[f'reused out=, {threads}']:.0f}x into a reused out="
        )


if __name__ == "__main__":
    main()
