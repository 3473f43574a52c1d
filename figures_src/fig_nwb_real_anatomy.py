"""Figure (real data): the anatomy of two published NWB files.

DANDI:000207 (human MTL, Rutishauser lab) and one DANDI:000006 session (mouse ALM,
Economo & Svoboda): the bytes each top-level group holds (log scale), and a JSON of what
each file holds and leaves out (NWB version, writer, groups, units columns, interval
tables and their columns, counts of units / spikes / trials, units whose spike times are
stored out of time order).

Runs only in the real-data build (``make article DATA=dandi``).
"""

import json
import warnings
from pathlib import Path

import h5py
import matplotlib.pyplot as plt
import numpy as np

from databook import assets, figureparams, nwb, plots

DATA = "dandi"
OUTPUTS = [
    "fig_nwb_real_anatomy.png",
    "fig_nwb_real_anatomy.pdf",
    "fig_nwb_real_anatomy.json",
]
INPUTS = ["human-mtl-sub-4-ses-4", "alm-anm372904-20170619"]

HERE = Path(__file__).resolve().parent
OUT_DIR = plots.figure_dir(HERE.parent / "figures")

PARAMETERS = {
    "groups": ("acquisition", "processing", "intervals", "units", "stimulus", "general"),
}
P = figureparams.load(PARAMETERS, script=__file__)
# Columns the demo's units table has that a reader might expect.
EXPECTED_UNITS = ("quality", "peak_channel_id", "isi_violations", "snr", "depth", "location")


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.ndarray) and value.shape == ():
        return _text(value[()])
    if isinstance(value, np.ndarray):
        return ", ".join(_text(v) for v in value)
    return str(value)


def _bytes(group) -> int:
    """Stored bytes of every dataset under ``group`` (h5py storage size)."""
    total = 0

    def visit(_name, obj):
        nonlocal total
        if hasattr(obj, "id") and hasattr(obj.id, "get_storage_size") and hasattr(obj, "dtype"):
            total += int(obj.id.get_storage_size())

    group.visititems(visit)
    return total


def _anatomy(key: str, lock) -> dict:
    asset = lock[key]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", nwb.SpikeTimesRepairedWarning)
        with nwb.source(key) as src:
            f = src.h5
            units = nwb.units(src)
            tables = {
                name: sorted(f[f"intervals/{name}"].attrs.get("colnames", []).astype(str))
                if "intervals" in f
                else []
                for name in (f["intervals"] if "intervals" in f else [])
            }
            trials = f["intervals/trials"] if "intervals/trials" in f else None
            stop = trials["stop_time"][:] if trials is not None else np.array([])
            ends = f["units/spike_times_index"][:]
            flat = f["units/spike_times"][:]
            raw = np.split(flat, ends[:-1])
            unsorted_raw = int(sum(np.any(np.diff(u) < 0) for u in raw))
            result = {
                "key": key,
                "dandiset": asset.dandiset,
                "version": asset.version,
                "asset_id": asset.asset_id,
                "sha256": asset.sha256,
                "file_bytes": int(asset.size),
                "nwb_version": _text(f.attrs.get("nwb_version", "")),
                "writer": _text(f["general/source_script"][()])
                if "general/source_script" in f
                else "",
                "top_groups": sorted(n for n in f if isinstance(f[n], h5py.Group)),
                "group_bytes": {g: _bytes(f[g]) if g in f else 0 for g in P.groups},
                "units_columns": sorted(units.columns),
                "units_missing": [c for c in EXPECTED_UNITS if c not in units.columns],
                "n_units": len(units),
                "n_spikes": int(flat.size),
                "interval_tables": tables,
                "n_trials": int(stop.size),
                "stop_time_nan": int(np.isnan(stop).sum()),
                "unsorted_units_in_file": unsorted_raw,
                "sorted_by_reader": len(units.attrs.get("sorted_units", [])),
                "reader_warnings": sum(
                    issubclass(w.category, nwb.SpikeTimesRepairedWarning) for w in caught
                ),
            }
    return result


def main() -> None:
    plots.figure_style()
    lock = assets.load_lock(HERE.parent / "assets.lock")
    files = [_anatomy(key, lock) for key in INPUTS]
    fig, ax = plt.subplots(figsize=(7.2, 2.8), layout="constrained")
    width = 0.8 / len(files)
    x = np.arange(len(P.groups))
    for k, info in enumerate(files):
        sizes = [max(info["group_bytes"][g], 1) for g in P.groups]
        ax.bar(x + k * width, sizes, width, label=f"{info['key']} ({info['dandiset']})")
    ax.set_yscale("log")
    ax.set_xticks(x + width * (len(files) - 1) / 2, P.groups)
    ax.set_ylabel("stored bytes")
    ax.legend(fontsize=7)
    for name in OUTPUTS[:2]:
        plots.save_figure(fig, OUT_DIR / name)
    (OUT_DIR / OUTPUTS[2]).write_text(json.dumps({"files": files}, indent=2) + "\n")


if __name__ == "__main__":
    main()
