"""Figure (real data): the anatomy of two published NWB files next to the demo's.

DANDI:000207 (human MTL, Rutishauser lab), one DANDI:000006 session (mouse ALM, Economo &
Svoboda) and the demo Neuropixels file (simulated, shaped like the Allen Institute's): the
bytes each top-level group holds (log scale), and a JSON of what each file holds and
leaves out (NWB version, writer and schema namespaces, groups, units columns against the
demo's, the units' ``quality`` values, electrode locations and positions, interval
tables and their columns, counts of units / spikes / trials, units whose spike times are
stored out of time order and that ``nwb.units`` sorted).

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
INPUTS = ["demo-ecephys", "human-mtl-sub-4-ses-4", "alm-anm372904-20170619"]
DEMO = "demo-ecephys"

HERE = Path(__file__).resolve().parent
OUT_DIR = plots.figure_dir(HERE.parent / "figures")

PARAMETERS = {
    "groups": ("acquisition", "processing", "intervals", "units", "stimulus", "general"),
}
P = figureparams.load(PARAMETERS, script=__file__)
ELECTRODES = "general/extracellular_ephys/electrodes"
# Electrode columns that place a channel in space (NWB's x/y/z; the Allen probe columns).
POSITION_COLUMNS = ("x", "y", "z", "probe_vertical_position", "probe_horizontal_position")


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.ndarray) and value.shape == ():
        return _text(value[()])
    if isinstance(value, np.ndarray):
        return ", ".join(_text(v) for v in value)
    return str(value)


def _names(values) -> list[str]:
    """Text of an HDF5 array of names (``colnames``, ``location``), bytes decoded."""
    return [v.decode() if isinstance(v, bytes) else str(v) for v in np.asarray(values).ravel()]


def _counts(values) -> dict[str, int]:
    """{distinct value: how many rows hold it}, sorted by value."""
    names, counts = np.unique(_names(values), return_counts=True)
    return {str(n): int(c) for n, c in zip(names, counts, strict=True)}


def _bytes(group) -> int:
    """Stored bytes of every dataset under ``group`` (h5py storage size)."""
    total = 0

    def visit(_name, obj):
        nonlocal total
        if isinstance(obj, h5py.Dataset):
            total += int(obj.id.get_storage_size())

    group.visititems(visit)
    return total


def _electrodes(f: h5py.File) -> dict:
    """Rows, distinct ``location`` values with their counts, and for each position column
    the file has: rows NaN, rows exactly 0, the finite range, its description and unit
    (None when the file states none)."""
    if ELECTRODES not in f:
        return {"n": 0, "locations": {}, "positions": {}}
    table = f[ELECTRODES]
    positions = {}
    for name in POSITION_COLUMNS:
        if name in table:
            v = table[name][:].astype(float)
            finite = v[np.isfinite(v)]
            positions[name] = {
                "nan": int(np.isnan(v).sum()),
                "zero": int((v == 0).sum()),
                "min": float(finite.min()) if finite.size else None,
                "max": float(finite.max()) if finite.size else None,
                "description": _text(table[name].attrs.get("description", "")),
                "unit": _text(table[name].attrs["unit"]) if "unit" in table[name].attrs else None,
            }
    locations = _counts(table["location"][:]) if "location" in table else {}
    return {"n": len(table["id"]), "locations": locations, "positions": positions}


def _intervals(f: h5py.File) -> dict[str, dict]:
    """{table: {"columns": colnames as stored, "rows": n}} for each table in /intervals."""
    if "intervals" not in f:
        return {}
    return {
        name: {"columns": _names(t.attrs.get("colnames", [])), "rows": len(t["start_time"])}
        for name, t in f["intervals"].items()
    }


def _anatomy(key: str, lock) -> dict:
    asset = lock[key]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", nwb.SpikeTimesRepairedWarning)
        with nwb.source(key) as src:
            f = src.h5
            units = nwb.units(src)
            trials = f["intervals/trials"] if "intervals/trials" in f else None
            stop = trials["stop_time"][:] if trials is not None else np.array([])
            event_spans = {
                c: [float(np.nanmin(trials[c][:])), float(np.nanmax(trials[c][:]))]
                for c in (_names(trials.attrs["colnames"]) if trials is not None else [])
                if c.endswith("_time") and c != "stop_time"
            }
            ends = f["units/spike_times_index"][:]
            flat = f["units/spike_times"][:]
            starts = np.concatenate([[0], ends[:-1]])
            backwards = np.flatnonzero(np.diff(flat) < 0) + 1  # spike i earlier than i-1
            within = backwards[~np.isin(backwards, starts)]  # not where a new unit begins
            unsorted_raw = np.unique(np.searchsorted(ends, within, side="right")).size
            specs = f.get("specifications", {})
            result = {
                "key": key,
                "dandiset": asset.dandiset,
                "version": asset.version,
                "asset_id": asset.asset_id,
                "sha256": asset.sha256,
                "path": asset.path,
                "file_bytes": int(asset.size),
                "nwb_version": _text(f.attrs.get("nwb_version", "")),
                "source_script": _text(f["general/source_script"][()])
                if "general/source_script" in f
                else None,
                "namespaces": {n: ", ".join(sorted(specs[n])) for n in sorted(specs)},
                "top_groups": sorted(n for n in f if isinstance(f[n], h5py.Group)),
                "processing_modules": sorted(f.get("processing", {})),
                "group_bytes": {g: _bytes(f[g]) if g in f else 0 for g in P.groups},
                "units_table_columns": _names(f["units"].attrs.get("colnames", [])),
                "units_columns": sorted(units.columns),
                "quality_values": _counts(f["units/quality"][:]) if "units/quality" in f else {},
                "depth_source": units.attrs.get("depth_source"),
                "electrode_join": units.attrs.get("electrode_join"),
                "electrodes": _electrodes(f),
                "n_units": len(units),
                "n_spikes": int(flat.size),
                "interval_tables": _intervals(f),
                "stimulus_presentation": sorted(f.get("stimulus/presentation", {})),
                "n_trials": int(stop.size),
                "stop_time_nan": int(np.isnan(stop).sum()),
                "trial_event_spans": event_spans,
                "unsorted_units_in_file": int(unsorted_raw),
                "sorted_by_reader": len(units.attrs.get("sorted_units", [])),
                "reader_warnings": sum(
                    issubclass(w.category, nwb.SpikeTimesRepairedWarning) for w in caught
                ),
            }
    return result


def _against_demo(info: dict, demo: dict) -> dict:
    """Which of the demo's units columns (besides ``spike_times``) ``info``'s file has and
    lacks, and the columns it has that the demo's does not, all as stored in the file."""
    theirs = [c for c in demo["units_table_columns"] if c != "spike_times"]
    mine = set(info["units_table_columns"])
    return {
        "demo_units_has": [c for c in theirs if c in mine],
        "demo_units_lacks": [c for c in theirs if c not in mine],
        "units_not_in_demo": [
            c for c in info["units_table_columns"] if c not in theirs and c != "spike_times"
        ],
    }


def main() -> None:
    plots.figure_style()
    lock = assets.load_lock(HERE.parent / "assets.lock")
    files = [_anatomy(key, lock) for key in INPUTS]
    demo = files[INPUTS.index(DEMO)]
    for info in files:
        info.update(_against_demo(info, demo))
    fig, ax = plt.subplots(figsize=(7.2, 3.0), layout="constrained")
    width = 0.8 / len(files)
    x = np.arange(len(P.groups))
    stored = [b for info in files for b in info["group_bytes"].values() if b > 0]
    floor = 10.0 ** (np.floor(np.log10(min(stored))) - 1)  # a decade below the smallest
    for k, info in enumerate(files):
        sizes = np.array([info["group_bytes"][g] for g in P.groups], float)
        simulated = info["key"] == DEMO
        label = f"{info['key']} ({'simulated demo' if simulated else 'DANDI:' + info['dandiset']})"
        bars = ax.bar(
            x + k * width, np.where(sizes > 0, sizes - floor, 0), width, bottom=floor,
            label=label, color="0.75" if simulated else None, hatch="//" if simulated else None,
        )  # fmt: skip
        for bar, size in zip(bars, sizes, strict=True):
            if size == 0:  # the group is absent or holds no dataset: no bar, a 0
                ax.text(bar.get_x() + width / 2, floor * 1.3, "0", ha="center", fontsize=8)
    ax.set_yscale("log")
    plots.plain_log_ticks(ax.yaxis, plots.format_bytes)  # 1 kB ... 1 GB, not 10^n
    ax.set_ylim(bottom=floor)
    ax.set_xticks(x + width * (len(files) - 1) / 2, P.groups)
    ax.set_ylabel("stored bytes")
    fig.legend(loc="outside upper center", ncol=len(files), fontsize=8, frameon=False)
    for name in OUTPUTS[:2]:
        plots.save_figure(fig, OUT_DIR / name)
    (OUT_DIR / OUTPUTS[2]).write_text(json.dumps({"files": files}, indent=2) + "\n")


if __name__ == "__main__":
    main()
