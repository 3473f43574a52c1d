"""HTTP requests and bytes to read the demo units table by streaming: bulk vs per unit.

Serves the demo Neuropixels file from the local DANDI-compatible server
(databook.localarchive, 127.0.0.1) and reads every unit's spike times over HTTP range
requests (remfile) in four ways, each on a fresh connection:

- ``databook.nwb.units(url)``: the ragged column's data and index, one read each, then split;
- pynwb: open the file (build the object tree) and read nothing, the fixed cost of the next two;
- pynwb per unit: the naive loop ``nwb.units["spike_times"][i]`` over all units;
- pynapple ``NWBFile(nwb)["units"]`` (peer, when installed), on the same pynwb file.

Prints requests, bytes sent and wall time (best of 2) of each, and the ratios to the bulk
read. On 127.0.0.1 a request costs ~nothing; over the internet each costs a round trip.
Run: .venv/bin/python benchmarks/bench_nwb.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import h5py

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import peer  # noqa: E402

from databook import nwb  # noqa: E402
from databook.assets import cache_dir, load_lock, stream_h5  # noqa: E402
from databook.assets import ensure_demo as ensure  # noqa: E402
from databook.localarchive import Archive, DandiServer  # noqa: E402


def bulk(url: str) -> int:
    return sum(len(s) for s in nwb.units(url)["spike_times"])


def pynwb_open(url: str) -> int:
    from pynwb import NWBHDF5IO

    with stream_h5(url) as h5, NWBHDF5IO(file=h5, mode="r") as io:
        io.read()
    return 0


def pynwb_per_unit(url: str) -> int:
    from pynwb import NWBHDF5IO

    with stream_h5(url) as h5, NWBHDF5IO(file=h5, mode="r") as io:
        units = io.read().units
        return sum(len(units["spike_times"][i]) for i in range(len(units)))


def pynapple_units(url: str) -> int:
    import pynapple as nap
    from pynwb import NWBHDF5IO

    with stream_h5(url) as h5, NWBHDF5IO(file=h5, mode="r") as io:
        group = nap.NWBFile(io.read())["units"]
        return sum(len(group[i]) for i in group.keys())


def measure(archive: Archive, fn, url: str, repeats: int = 2) -> tuple[int, int, float, int]:
    """Requests and bytes requested by range in one run; the best wall time (s) of
    ``repeats`` runs. (remfile's first, unranged GET only learns the size and is aborted:
    the bytes it sends before the abort depend on socket buffers, so they are not counted.)"""
    best = float("inf")
    for _ in range(repeats):
        with archive.traffic() as traffic:
            start = time.perf_counter()
            spikes = fn(url)
            best = min(best, time.perf_counter() - start)
    return traffic.requests, traffic.bytes_ranged, best, spikes


def rechunked(local: Path, out: Path, rows: int = 8192) -> Path:
    """A copy of ``local`` whose spike times are stored in chunks of ``rows`` values (64 kB),
    as h5py/hdmf chunk large columns, instead of the demo's single chunk."""
    import shutil

    shutil.copy(local, out)
    with h5py.File(out, "r+") as h5:
        old = h5["units/spike_times"]
        data, attrs = old[()], dict(old.attrs)
        del h5["units/spike_times"]
        new = h5["units"].create_dataset("spike_times", data=data, chunks=(rows,))
        new.attrs.update(attrs)
        h5["units/spike_times_index"].attrs["target"] = new.ref
    return out


def table(title: str, archive: Archive, served, local: Path, ways: dict) -> None:
    with h5py.File(local, "r") as h5:
        spikes = h5["units/spike_times"]
        needed = spikes.id.get_storage_size() + h5["units/spike_times_index"].id.get_storage_size()
        print(
            f"\n{title}: {local.stat().st_size / 1e6:.2f} MB file, {len(h5['units/id'])} units, "
            f"{len(spikes)} spikes in chunks of {spikes.chunks}; spike_times + index "
            f"{needed / 1e6:.2f} MB"
        )
    with DandiServer(archive) as server:
        url = f"{server.url}/blobs/{served.asset_id}"
        results = {name: measure(archive, fn, url) for name, fn in ways.items()}
    base_req, base_bytes, base_t, _ = results["databook.nwb.units (bulk)"]
    print(
        f"{'read':<27} {'requests':>8} {'MB':>6} {'s':>6}  {'req/bulk':>8} "
        f"{'bytes/bulk':>10} {'time/bulk':>9}  spikes"
    )
    for name, (req, sent, secs, count) in results.items():
        print(
            f"{name:<27} {req:>8} {sent / 1e6:>6.2f} {secs:>6.2f}  {req / base_req:>8.1f} "
            f"{sent / base_bytes:>10.2f} {secs / base_t:>9.1f}  {count or '-'}"
        )
    print(f"bulk bytes / stored spike data: {base_bytes / needed:.2f}")


def main() -> None:
    import tempfile

    import pynwb  # noqa: F401  (imported before timing: import time is not read time)

    local = ensure(load_lock(ROOT / "assets.lock"), cache_dir())["demo-ecephys"]
    ways = {
        "databook.nwb.units (bulk)": bulk,
        "pynwb open only": pynwb_open,
        "pynwb per unit": pynwb_per_unit,
    }
    if peer("pynapple") is not None:
        ways["pynapple NWBFile['units']"] = pynapple_units
    with tempfile.TemporaryDirectory() as tmp:
        for title, path in [
            ("demo file as written", local),
            ("same, spike_times in 64 kB chunks", rechunked(local, Path(tmp) / "rechunked.nwb")),
        ]:
            archive = Archive("000999", "0.240301.1200")
            served = archive.add("ecephys.nwb", path)
            table(title, archive, served, path, ways)


if __name__ == "__main__":
    main()
