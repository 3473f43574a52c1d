"""Figure: what reading parts of an NWB file costs, streamed or downloaded, measured live.

The asset's verified local copy is served by ``databook.localarchive``, a DANDI-compatible
archive on 127.0.0.1. It is pinned through ``databook.assets.pin`` (the real DANDI client
against the local API), downloaded verified by ``databook.assets.fetch`` (pooch) into a
temporary cache, and read by streaming over HTTP range requests: (a) the units table,
(b) a stimulus table, (c) one second of LFP, with the ``databook.nwb`` readers over remfile
and over fsspec's HTTP file with its default options. The server counts every request and
byte. Panel (c) reads the same columns whole and element by element, over remfile (which
caches 100 kB blocks) and over a reader with no cache (fsspec ``cache_type="none"``).

Run alone: ``python figures_src/fig_nwb_access_cost.py`` writes the PNG, a PDF and a JSON
of every number into ``figures/``.

It runs on a reader's own file too (``databook run 01 --nwb FILE``): the local archive
serves any local file, so the bytes and requests are counted by our server exactly as for
the demo; a file without LFP gets no LFP read (the JSON and the figure say so). A URL is
not measured (another server's traffic cannot be counted here): give a local copy
(``--download``).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import h5py
import matplotlib.pyplot as plt
import numpy as np

from databook import assets, figureparams, localarchive, nwb, plots

OUTPUTS = ["fig_nwb_access_cost.png", "fig_nwb_access_cost.pdf", "fig_nwb_access_cost.json"]
INPUTS = ["demo-ecephys"]

HERE = Path(__file__).resolve().parent
OUT_DIR = plots.figure_dir(HERE.parent / "figures")
MODE = os.environ.get("DATABOOK_DATA", "demo")
# Chapter 1's parameters of the same names; `databook run 01 --nwb FILE -p ...` passes its own.
PARAMETERS = {
    "asset": "demo-ecephys",
    "stimulus": "flashes_presentations",  # the stimulus table read in (b)
    "lfp_start_s": 109.8,  # the LFP read in (c), seconds
    "lfp_length_s": 1.0,
}
P = figureparams.load(PARAMETERS, script=__file__)
ASSET = P.asset
STIMULUS = P.stimulus
LFP_START_S, LFP_LENGTH_S = P.lfp_start_s, P.lfp_length_s
LFP_READ = f"{LFP_LENGTH_S:g} s of LFP"  # the name of the LFP read in the JSON
# fsspec's 5 MiB read-ahead covers most of a 10 MB file, so the demo file alone cannot show
# whether fsspec reads "the whole file" or "a few blocks per read": the units and stimulus
# tables are also read from the demo session padded with raw voltage to a realistic size.
LARGE_FILE_BYTES = 100 * 10**6  # a file at least this large is measured as it is
PADDING_BYTES = 128 * 2**20  # voltage data added to the demo session for that measurement
LARGE_READS = ("units table", "stimulus table")
# Every read here must start cold: `databook run` shares one disk cache of streamed chunks
# between the chapter and its figure scripts, which would hide the bytes being measured.
os.environ.pop(assets.STREAM_CACHE_VARIABLE, None)


def read_units(f):
    return nwb.units(f)


def read_stimulus(f):
    return nwb.stimulus_table(f, STIMULUS)


def read_lfp(f):
    with nwb.lfp(f) as view:
        return view.window(LFP_START_S, LFP_START_S + LFP_LENGTH_S)


def read_lfp_whole(f):
    """The newcomer's way to one second of LFP: read all of it, then cut."""
    with nwb.lfp(f) as view:
        i, j = view.index(LFP_START_S), view.index(LFP_START_S + LFP_LENGTH_S)
        return view.volts()[i:j]


READS = {"units table": read_units, "stimulus table": read_stimulus, LFP_READ: read_lfp}
LABELS = {"units table": "units\ntable", "stimulus table": "stimulus\ntable",
          LFP_READ: LFP_READ.replace(" of ", " of\n"),
          "spike times": "spike times\n(ragged)"}  # fmt: skip


def entry_and_file(source: str) -> tuple[assets.Asset, Path]:
    """The assets entry and the verified local file of ``source``: a lock key, or a path to
    the reader's own file (an entry made for it, served under its file name)."""
    if "://" in source:
        raise ValueError(
            f"fig_nwb_access_cost measures what our local archive serves, so it needs a local "
            f"file, not the URL {source}; download it first (databook run 01 --nwb URL --download)"
        )
    path = Path(source).expanduser()
    if path.is_file():
        sha = assets.sha256_file(path)
        entry = assets.Asset("reader-file", "local", path=path.name, size=path.stat().st_size,
                             sha256=sha)  # fmt: skip
        return entry, path
    entry = assets.resolve(source)
    return entry, assets.local_file(entry)


def fsspec_defaults(url: str, read, **options):
    """``read`` over fsspec's HTTP file (default options unless given), through h5py."""
    import fsspec

    with fsspec.filesystem("http").open(url, "rb", **options) as handle:
        with h5py.File(handle, "r") as h5:
            return read(h5)


# The anti-pattern of panel (c): the same HDF5 columns read whole, or one element at a time
# (what a loop over `units["spike_times"][i]` or `table["start_time"][i]` does underneath).
def spike_times(h5, units_path: str, by_element: bool) -> int:
    data, index = h5[f"{units_path}/spike_times"], h5[f"{units_path}/spike_times_index"]
    if not by_element:
        index[()]
        return len(data[()])
    ends = [int(index[i]) for i in range(len(index))]
    return sum(len(data[a:b]) for a, b in zip([0, *ends[:-1]], ends, strict=True))


def table_columns(h5, table_path: str, columns: list[str], by_element: bool) -> int:
    group = h5[table_path]
    if not by_element:
        return sum(len(group[c][()]) for c in columns)
    n = len(group["id"])
    return sum(1 for i in range(n) for c in columns if group[c][i] is not None)


def measure(server, fn) -> tuple[dict, object]:
    with server.traffic() as traffic:
        result = fn()
    return traffic.as_dict(), result


def same(a, b) -> bool:
    """Streamed and downloaded reads hold the same values."""
    if isinstance(a, tuple):
        return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    if "spike_times" in a:
        pairs = zip(a["spike_times"], b["spike_times"], strict=True)
        spikes = all(np.array_equal(x, y) for x, y in pairs)
        return spikes and a.drop(columns="spike_times").equals(b.drop(columns="spike_times"))
    return a.equals(b)


def has_lfp(f) -> bool:
    try:
        nwb.lfp(f).close()
    except nwb.NWBContentError:
        return False
    return True


def measure_large_file(local: Path, reads: dict, simulated: bool) -> dict:
    """The units and stimulus table reads on a file of realistic size (>= 100 MB).

    A file that large is measured as it is (its numbers equal the main reads'); the demo
    file is padded (``databook.demo.writer.padded_ecephys``: the same session with
    ``PADDING_BYTES`` of raw voltage); a reader's smaller file is not padded (we can only
    pad the session we generate) and the record says so.
    """
    from databook.demo.writer import padded_ecephys

    size = local.stat().st_size
    if size < LARGE_FILE_BYTES and not simulated:
        return {"measured": False, "reason": f"the file is {size / 1e6:.1f} MB; only the "
                "demo session is padded to a realistic size"}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        target = local
        if size < LARGE_FILE_BYTES:
            seed = json.loads(assets.local_file(assets.resolve("demo-ground-truth")).read_text())
            target = padded_ecephys(Path(tmp) / "padded.nwb", PADDING_BYTES, seed=seed["seed"])
        record: dict = {
            "measured": True,
            "padded": target != local,
            "padding_bytes": PADDING_BYTES if target != local else 0,
            "file_bytes": target.stat().st_size,
            "reads": {},
        }
        with localarchive.serve({"padded.nwb": target}) as server:
            url = server.blob_url("padded.nwb")
            for name in LARGE_READS:
                read = reads[name]
                downloaded = read(target)
                remfile_cost, streamed = measure(server, lambda read=read: read(url))
                fsspec_cost, via_fsspec = measure(
                    server, lambda read=read: fsspec_defaults(url, read)
                )
                record["reads"][name] = {
                    "remfile": remfile_cost,
                    "fsspec_defaults": fsspec_cost,
                    "same_values_streamed_and_downloaded": bool(
                        same(streamed, downloaded) and same(via_fsspec, downloaded)
                    ),
                }
    return record


def run() -> dict:
    asset, local = entry_and_file(ASSET)
    lfp = has_lfp(local)
    reads = {k: v for k, v in READS.items() if lfp or k != LFP_READ}
    units_path = nwb.units(local).attrs["path"]
    table = nwb.intervals(local).loc[STIMULUS]
    columns = [c for c in table["columns"] if c in ("start_time", "stop_time")] + [
        c for c in table["columns"] if c not in ("start_time", "stop_time")
    ]
    needed = {
        "units table": nwb.stored_bytes(local, units_path),
        "stimulus table": nwb.stored_bytes(local, table["path"]),
    }
    if lfp:
        with nwb.lfp(local) as view:
            lfp_rows = slice(view.index(LFP_START_S), view.index(LFP_START_S + LFP_LENGTH_S))
            lfp_path = f"{view.path}/data"
        needed[LFP_READ] = nwb.stored_bytes(local, lfp_path, rows=lfp_rows)
    out: dict = {
        "asset": ASSET,
        "data_mode": MODE,
        "simulated": figureparams.simulated(ASSET),
        "has_lfp": lfp,
        "lfp_read": LFP_READ if lfp else None,
        "source": asset.record(),
        "file_bytes": local.stat().st_size,
        "parameters": {
            "stimulus": STIMULUS,
            "lfp_start_s": LFP_START_S,
            "lfp_length_s": LFP_LENGTH_S,
        },
    }
    # A mirror named in $DANDI_API_URL does not hold this archive's file: fetch from the
    # pinned URL, on this server (one request, as the chapter counts it).
    os.environ.pop("DANDI_API_URL", None)
    out["large_file"] = measure_large_file(local, reads, out["simulated"])
    with localarchive.serve({asset.path: local}) as server, tempfile.TemporaryDirectory() as tmp:
        out["pin"], pinned = measure(
            server, lambda: assets.pin(server.spec(asset.path), key="a", url=server.api_url)
        )
        out["fetch"], copy = measure(
            server, lambda: assets.fetch(pinned, cache=Path(tmp), progressbar=False)
        )
        out["sha256_verified"] = assets.sha256_file(copy) == pinned.sha256 == asset.sha256
        url = pinned.url
        out["reads"] = {}
        for name, read in reads.items():
            downloaded = read(copy)
            remfile_cost, streamed = measure(server, lambda read=read: read(url))
            fsspec_cost, via_fsspec = measure(server, lambda read=read: fsspec_defaults(url, read))
            out["reads"][name] = {
                "needed_bytes": needed[name],
                "remfile": remfile_cost,
                "fsspec_defaults": fsspec_cost,
                "same_values_streamed_and_downloaded": bool(
                    same(streamed, downloaded) and same(via_fsspec, downloaded)
                ),
            }
        out["lfp_read_whole_then_cut"] = (
            measure(server, lambda: read_lfp_whole(url))[0] if lfp else None
        )
        pitfalls = {
            "spike times": lambda h5, e: spike_times(h5, units_path, e),
            "stimulus table": lambda h5, e: table_columns(h5, table["path"], columns, e),
        }
        out["element_by_element"] = {}
        for name, fn in pitfalls.items():
            row = {}
            for way in ("whole", "by_element"):
                each = way == "by_element"

                def over_remfile(fn=fn, each=each):
                    with assets.stream_h5(url) as h5:
                        return fn(h5, each)

                row[f"remfile_{way}"], n1 = measure(server, over_remfile)
                row[f"uncached_{way}"], n2 = measure(
                    server,
                    lambda fn=fn, each=each: fsspec_defaults(
                        url, lambda h5: fn(h5, each), cache_type="none"
                    ),
                )
                row[f"values_{way}"] = int(n1)
                assert n1 == n2
            out["element_by_element"][name] = row
        # HDF5 read calls each way makes: whole columns, or one per element
        n_units, n_rows = len(nwb.units(local)), int(table["n_rows"])
        pit = out["element_by_element"]
        pit["spike times"].update(reads_whole=2, reads_by_element=2 * n_units, units=n_units)
        pit["stimulus table"].update(
            reads_whole=len(columns),
            reads_by_element=n_rows * len(columns),
            rows=n_rows,
            columns=columns,
        )
    return out


def bars(ax, groups: list[str], series: list[tuple[str, list[float], dict]], fmt) -> None:
    """Grouped bars with their values written above them."""
    width = 0.8 / len(series)
    for k, (label, values, style) in enumerate(series):
        x = np.arange(len(groups)) + (k - (len(series) - 1) / 2) * width
        ax.bar(x, values, width, label=label, **style)
        for xi, v in zip(x, values, strict=True):
            ax.text(xi, v * 1.15, fmt(v), ha="center", va="bottom", fontsize=8, rotation=90)
    ax.set_xticks(np.arange(len(groups)), [LABELS.get(g, g) for g in groups])


def kb(v: float) -> str:
    return f"{v / 1e6:.1f} MB" if v >= 1e6 else f"{v / 1e3:.0f} kB"


def plot(data: dict) -> plt.Figure:
    reads = list(data["reads"])
    fetch = data["fetch"]["bytes"] + data["pin"]["bytes"]
    fetch_req = data["fetch"]["requests"] + data["pin"]["requests"]
    blue, orange, grey = plots.COLORS["response"], plots.COLORS["stimulus"], "0.55"
    fig, (ax_b, ax_r, ax_e) = plt.subplots(
        1, 3, figsize=(7.2, 3.4), layout="constrained", width_ratios=[1.25, 1.25, 1]
    )
    series_b = [
        ("download once (pin + fetch)", [fetch] * len(reads), {"color": grey}),
        ("stream: databook.nwb (remfile)", [data["reads"][r]["remfile"]["bytes"] for r in reads],
         {"color": blue}),
        ("stream: fsspec defaults", [data["reads"][r]["fsspec_defaults"]["bytes"] for r in reads],
         {"color": orange}),
    ]  # fmt: skip
    bars(ax_b, reads, series_b, kb)
    needed = [data["reads"][r]["needed_bytes"] for r in reads]
    ax_b.scatter(np.arange(len(reads)), needed, marker="_", s=300, color="k", zorder=3,
                 label="stored size of the data read")  # fmt: skip
    ax_b.set_yscale("log")
    plots.plain_log_ticks(ax_b.yaxis, plots.format_bytes)  # 1 kB ... 100 MB, not 10^n
    ax_b.set_ylim(1e3, data["file_bytes"] * 30)
    ax_b.set_ylabel("bytes transferred")
    ax_b.set_title("(a) bytes", loc="left")

    series_r = [
        ("download once", [fetch_req] * len(reads), {"color": grey}),
        ("remfile", [data["reads"][r]["remfile"]["requests"] for r in reads], {"color": blue}),
        ("fsspec", [data["reads"][r]["fsspec_defaults"]["requests"] for r in reads],
         {"color": orange}),
    ]  # fmt: skip
    bars(ax_r, reads, series_r, lambda v: f"{v:.0f}")
    ax_r.set_ylabel("HTTP requests")
    top = max(max(s[1]) for s in series_r)
    ax_r.set_ylim(0, top * 1.5)
    ax_r.set_title("(b) requests", loc="left")
    handles, labels = ax_b.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower left", ncols=2, fontsize=8)

    pit = data["element_by_element"]
    names = list(pit)
    vermillion = plots.COLORS["truth"]
    series_e = [
        ("remfile, whole columns", [pit[n]["remfile_whole"]["requests"] for n in names],
         {"color": blue}),
        ("remfile, element by element", [pit[n]["remfile_by_element"]["requests"] for n in names],
         {"color": blue, "hatch": "////", "edgecolor": "white"}),
        ("no cache, whole columns", [pit[n]["uncached_whole"]["requests"] for n in names],
         {"color": vermillion}),
        ("no cache, element by element",
         [pit[n]["uncached_by_element"]["requests"] for n in names],
         {"color": vermillion, "hatch": "////", "edgecolor": "white"}),
    ]  # fmt: skip
    bars(ax_e, names, series_e, lambda v: f"{v:.0f}")
    ax_e.set_yscale("log")
    plots.plain_log_ticks(ax_e.yaxis)
    ax_e.set_ylim(1, max(max(s[1]) for s in series_e) * 300)  # room for the legend
    ax_e.set_ylabel("HTTP requests")
    ax_e.set_title("(c) element by element", loc="left")
    ax_e.legend(loc="upper left", fontsize=8)
    if not data["has_lfp"]:
        ax_b.text(0.98, 0.97, "this file has no LFP", transform=ax_b.transAxes, ha="right",
                  va="top", fontsize=8)  # fmt: skip
    if data["simulated"]:
        plots.watermark(fig, "SIMULATED DATA")  # a free corner: clear of the legend
    return fig


def main() -> None:
    plots.figure_style()
    data = run()
    fig = plot(data)
    for name in OUTPUTS[:2]:
        plots.save_figure(fig, OUT_DIR / name)
    path = OUT_DIR / OUTPUTS[2]
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
