"""Bytes and requests needed to read parts of the demo ecephys file over HTTP.

Serves the demo Neuropixels file from the local DANDI-compatible server
(databook.localarchive, 127.0.0.1) and reads (a) the units table, (b) one stimulus
table, (c) 1 s of LFP, by remfile streaming and by fsspec's HTTP filesystem with its
default options, next to the storage size of the datasets actually needed.
Target: remfile reads (a) with at most 1.5x the needed bytes, far less than the file.

Run: .venv/bin/python benchmarks/bench_streaming.py
"""

from __future__ import annotations

from pathlib import Path

import h5py

from databook.assets import Asset, cache_dir, load_lock, open_nwb
from databook.assets import ensure_demo as ensure
from databook.localarchive import Archive, DandiServer

ROOT = Path(__file__).resolve().parents[1]

LFP = "processing/ecephys/LFP/probe_A_lfp/data"
ONE_SECOND = slice(0, 500)  # 500 Hz LFP


def read_group(h5: h5py.File, name: str) -> int:
    """Read every dataset in a group fully; return the number of datasets read."""
    datasets = []
    h5[name].visititems(
        lambda _, obj: datasets.append(obj) if isinstance(obj, h5py.Dataset) else None
    )
    for dataset in datasets:
        dataset[()]
    return len(datasets)


TASKS = {
    "units table": lambda h5: read_group(h5, "units"),
    "stimulus table": lambda h5: read_group(h5, "intervals/flashes_presentations"),
    "1 s of LFP": lambda h5: h5[LFP][ONE_SECOND],
}


def needed_bytes(local: Path) -> dict[str, int]:
    """Storage bytes of the datasets (or, for LFP, the chunks) each task must read."""
    with h5py.File(local, "r") as h5:

        def group_size(name):
            sizes = []
            h5[name].visititems(
                lambda _, o: (
                    sizes.append(o.id.get_storage_size()) if isinstance(o, h5py.Dataset) else None
                )
            )
            return sum(sizes)

        lfp = h5[LFP]
        rows_per_chunk = lfp.chunks[0]
        touched = range(0, ONE_SECOND.stop, rows_per_chunk)
        lfp_bytes = sum(lfp.id.get_chunk_info_by_coord((row, 0)).size for row in touched)
        return {
            "units table": group_size("units"),
            "stimulus table": group_size("intervals/flashes_presentations"),
            "1 s of LFP": lfp_bytes,
        }


def open_remfile(url):
    import remfile

    return remfile.File(url)


def open_fsspec(url):
    import fsspec

    return fsspec.filesystem("http").open(url, "rb")


def measure(archive: Archive, url: str, opener, task) -> tuple[int, int]:
    """Bytes and requests of one read on a fresh handle (remfile's abandoned size probe
    counts as a request; the bytes the server wrote into it before the hang-up do not)."""
    with archive.traffic() as traffic:
        handle = opener(url)
        try:
            with h5py.File(handle, "r") as h5:
                task(h5)
        finally:
            handle.close()
    return traffic.bytes, traffic.requests


def main() -> None:
    demo = ensure(load_lock(ROOT / "assets.lock"), cache_dir())
    local = demo["demo-ecephys"]
    size = local.stat().st_size
    archive = Archive("000999", "0.240301.1200")
    served = archive.add("ecephys.nwb", local)
    needed = needed_bytes(local)
    with DandiServer(archive) as server:
        url = f"{server.url}/blobs/{served.asset_id}"
        print(f"file: {size / 1e6:.2f} MB ({local.name})")
        print(f"{'read':<15} {'needed':>10} {'remfile':>10} {'req':>5} {'fsspec':>10} {'req':>5}"
              f" {'remfile/needed':>15} {'fsspec/remfile':>15}")  # fmt: skip
        for name, task in TASKS.items():
            rem_bytes, rem_req = measure(archive, url, open_remfile, task)
            fs_bytes, fs_req = measure(archive, url, open_fsspec, task)
            print(
                f"{name:<15} {needed[name] / 1e3:>8.1f}kB {rem_bytes / 1e3:>8.1f}kB {rem_req:>5}"
                f" {fs_bytes / 1e3:>8.1f}kB {fs_req:>5} {rem_bytes / needed[name]:>15.2f}"
                f" {fs_bytes / rem_bytes:>15.1f}"
            )
        # The library's own path: databook.assets.open_nwb(stream) builds the whole pynwb
        # object tree (namespaces, every table's metadata) before reading spike times.
        asset = Asset(key="ecephys", dandiset="000999", version="0.240301.1200",
                      path="ecephys.nwb", size=size, sha256=served.sha256, url=url)  # fmt: skip
        with archive.traffic() as traffic, open_nwb(asset, "stream") as nwb:
            nwb.units.to_dataframe()
        print(
            f"units via databook.assets.open_nwb(stream) + pynwb: "
            f"{traffic.bytes / 1e3:.1f}kB in {traffic.requests} requests, "
            f"{traffic.bytes / needed['units table']:.2f}x needed, "
            f"{traffic.bytes / size:.2f}x the file"
        )


if __name__ == "__main__":
    main()
