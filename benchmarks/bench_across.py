"""`databook.sessions.across` over N demo sessions streamed from the local archive, on 1 and
2 Dask worker processes: wall time, per-session time, bytes streamed per session against
the file size, peak worker memory, and the speed-up from 1 to 2 workers.

Sessions: demo ecephys files of seeds 0..7 (generated once into the data cache), each
served under its own dandiset path; N = 16 serves each twice. Each configuration runs
twice on the same cluster with an empty result cache: "cold" (first touch: imports and
numba compilation in every fresh worker) and "warm" (what every later session costs).
The per-session analysis is ``sessions.responsive_units`` (flash responses, Chapter 4).

Run: PYTHONPATH=src .venv/bin/python benchmarks/bench_across.py [N ...]
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time

from databook import localarchive, sessions

N_DEFAULT = (4, 8)


def peak_rss_mb() -> float:
    """Peak resident memory of this (worker) process, MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(n: int, workers: int) -> dict[str, float]:
    from distributed import Client

    demo = list(sessions.demo_files(range(min(n, 8))).values())
    files = {f"sub-{k}/sub-{k}_ecephys.nwb": demo[k % len(demo)] for k in range(n)}
    out: dict[str, float] = {}
    with localarchive.serve(files) as server:
        archive = server.archive
        found = sessions.dandiset_assets(archive.dandiset, archive.version, api_url=server.api_url)
        start = time.perf_counter()
        cluster = sessions.start_cluster(workers)
        client = Client(cluster)
        out["startup_s"] = time.perf_counter() - start
        try:
            for phase in ("cold", "warm"):
                with tempfile.TemporaryDirectory() as cache, server.traffic() as traffic:
                    start = time.perf_counter()
                    result = sessions.across(
                        sessions.responsive_units, found, scheduler=cluster.scheduler_address,
                        cache=cache, progress=False, dashboard=False,
                    )  # fmt: skip
                    out[f"{phase}_wall_s"] = time.perf_counter() - start
                assert len(result.failures) == 0, result.failures
                out[f"{phase}_per_session_s"] = sum(result.seconds.values()) / n
            out["bytes_per_session"] = traffic.bytes_ranged / n
            out["probe_bytes_per_session"] = traffic.bytes_probes / n
            out["requests_per_session"] = traffic.range_requests / n
            out["file_bytes"] = sum(a.size for a in found) / n
            out["peak_worker_mb"] = max(client.run(peak_rss_mb).values())
        finally:
            client.close()
            cluster.close()
    return out


def main(ns: tuple[int, ...]) -> None:
    for n in ns:
        one, two = run(n, 1), run(n, 2)
        for workers, r in ((1, one), (2, two)):
            print(
                f"N={n:2d} workers={workers}: startup {r['startup_s']:.1f} s; wall cold "
                f"{r['cold_wall_s']:.1f} s, warm {r['warm_wall_s']:.1f} s; per session (worker) "
                f"cold {r['cold_per_session_s']:.2f} s, warm {r['warm_per_session_s']:.2f} s; "
                f"streamed {r['bytes_per_session'] / 1e6:.2f} MB/session "
                f"({r['bytes_per_session'] / r['file_bytes']:.1%} of "
                f"{r['file_bytes'] / 1e6:.1f} MB; {r['requests_per_session']:.0f} range "
                f"requests; size-probe bytes {r['probe_bytes_per_session'] / 1e6:.2f} MB); "
                f"peak worker RSS {r['peak_worker_mb']:.0f} MB"
            )
        print(
            f"N={n:2d} speed-up 1->2 workers: warm {one['warm_wall_s'] / two['warm_wall_s']:.2f}x, "
            f"cold {one['cold_wall_s'] / two['cold_wall_s']:.2f}x"
        )


if __name__ == "__main__":
    main(tuple(int(a) for a in sys.argv[1:]) or N_DEFAULT)
