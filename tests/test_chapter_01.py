"""Chapter 1 (NWB basics): what its text and figures claim, checked against the data.

The figure scripts run alone into a temporary folder; the numbers they write (the access
costs measured live on the local archive, the counts behind the captions) are compared
with direct h5py reads of the demo files, and with what the chapter's prose says of them.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "chapters" / "01-nwb-basics.md"
SCRIPTS = ["fig_nwb_access_cost", "fig_nwb_raster", "fig_nwb_lfp", "fig_nwb_rois"]


@pytest.fixture(scope="module")
def figures(demo, tmp_path_factory) -> dict[str, dict]:
    """Run each chapter-1 figure script alone; return the JSON each wrote."""
    out = tmp_path_factory.mktemp("figures")
    env = {**os.environ, "DATABOOK_FIGURE_DIR": str(out), "MPLBACKEND": "Agg",
           "DATABOOK_DATA": "demo"}  # fmt: skip
    found = {}
    for name in SCRIPTS:
        script = ROOT / "figures_src" / f"{name}.py"
        proc = subprocess.run([sys.executable, str(script)], cwd=script.parent, env=env,
                              capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
        assert proc.returncode == 0, f"{name} failed:\n{proc.stderr[-3000:]}"
        assert (out / f"{name}.png").stat().st_size > 10_000
        found[name] = json.loads((out / f"{name}.json").read_text())
    return found


def _constants(script: str) -> dict:
    tree = ast.parse((ROOT / "figures_src" / f"{script}.py").read_text())
    values = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                continue
            for target in node.targets:
                if isinstance(target, ast.Name):
                    values[target.id] = value
                elif isinstance(target, ast.Tuple):
                    values.update({t.id: v for t, v in zip(target.elts, value, strict=True)})
    return values


def _parameters() -> dict:
    import jupytext

    notebook = jupytext.read(CHAPTER)
    cells = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, "the chapter needs exactly one cell tagged parameters"
    scope: dict = {}
    exec(cells[0].source, scope)  # the defaults, as papermill would see them
    return scope


def test_chapter_is_in_the_toc_and_both_exports_after_the_introduction():
    config = yaml.safe_load((ROOT / "myst.yml").read_text())
    toc = [entry["file"] for entry in config["project"]["toc"]]
    assert toc.index("chapters/01-nwb-basics.md") == toc.index("chapters/00-introduction.md") + 1
    for export in config["project"]["exports"]:
        if "articles" in export:
            articles = export["articles"]
            assert articles.index("chapters/01-nwb-basics.md") == (
                articles.index("chapters/00-introduction.md") + 1
            ), export["id"]


def test_figures_show_the_chapters_default_parameters():
    params = _parameters()
    assert params["asset"] == "demo-ecephys" and params["ophys_asset"] == "demo-ophys-day1"
    cost, raster, lfp, rois = (_constants(s)["PARAMETERS"] for s in SCRIPTS)
    assert cost["stimulus"] == lfp["stimulus"] == raster["stimulus"] == params["stimulus"]
    assert cost["asset"] == lfp["asset"] == raster["asset"] == params["asset"]
    assert rois["ophys_asset"] == params["ophys_asset"]
    for script in (cost, lfp):
        assert (script["lfp_start_s"], script["lfp_length_s"]) == (
            params["lfp_start_s"],
            params["lfp_length_s"],
        )
    assert (raster["raster_start_s"], raster["raster_length_s"]) == (
        params["raster_start_s"],
        params["raster_length_s"],
    )
    for script in SCRIPTS:
        assert _constants(script)["INPUTS"], f"{script} declares no input asset"


def test_streaming_reads_less_than_the_file_and_at_least_the_data(figures, demo):
    cost = figures["fig_nwb_access_cost"]
    size = demo.paths["demo-ecephys"].stat().st_size
    assert cost["file_bytes"] == size
    units, table, lfp = (cost["reads"][k] for k in ("units table", "stimulus table", "1 s of LFP"))
    with h5py.File(demo.paths["demo-ecephys"], "r") as h5:
        stored = sum(h5["units"][n].id.get_storage_size() for n in h5["units"])
    assert units["needed_bytes"] == stored
    for read in (units, table, lfp):
        assert read["same_values_streamed_and_downloaded"]
        assert read["needed_bytes"] <= read["remfile"]["bytes_ranged"] < size
        assert read["remfile"]["probes"] == 1 and read["remfile"]["whole_gets"] == 0
        # the chapter: "fsspec with its default options transferred ... the whole file"
        assert read["fsspec_defaults"]["bytes"] >= size
    assert table["remfile"]["bytes"] < 0.25 * size and lfp["remfile"]["bytes"] < 0.25 * size


def test_on_a_file_over_100_mb_fsspec_reads_blocks_not_the_whole_file(figures, demo):
    """The referee: "fsspec read the whole file" held only because the demo file is two
    read-ahead blocks. The figure also reads the two tables from the demo session padded
    to > 100 MB; there fsspec moves more than remfile but far less than the file, and the
    chapter says so with those numbers."""
    large = figures["fig_nwb_access_cost"]["large_file"]
    assert large["measured"] and large["padded"]
    assert large["file_bytes"] >= 100e6
    assert large["file_bytes"] >= demo.paths["demo-ecephys"].stat().st_size + large["padding_bytes"]
    for name in ("units table", "stimulus table"):
        read = large["reads"][name]
        assert read["same_values_streamed_and_downloaded"], name
        fsspec_bytes, remfile_bytes = read["fsspec_defaults"]["bytes"], read["remfile"]["bytes"]
        assert remfile_bytes < fsspec_bytes < 0.5 * large["file_bytes"], name
    text = " ".join(CHAPTER.read_text().split())
    assert "the whole file, for each of the three reads" not in text
    assert "it transferred the whole" not in text
    assert "{eval}`large_sentence`" in text and "{eval}`large_table_cost`" in text


def test_padded_demo_session_holds_the_demo_tables(demo, tmp_path):
    """padded_ecephys adds voltage data and nothing else: the units and stimulus tables
    read from it equal the demo file's."""
    from databook import nwb
    from databook.demo.writer import padded_ecephys

    path = padded_ecephys(tmp_path / "padded.nwb", 4 * 2**20, seed=demo.truth["seed"])
    size = demo.paths["demo-ecephys"].stat().st_size
    assert path.stat().st_size >= size + 4 * 2**20 - 2**16
    ours, theirs = nwb.units(path), nwb.units(demo.paths["demo-ecephys"])
    assert ours.drop(columns="spike_times").equals(theirs.drop(columns="spike_times"))
    pairs = zip(ours["spike_times"], theirs["spike_times"], strict=True)
    assert all(np.array_equal(a, b) for a, b in pairs)
    table = "flashes_presentations"
    assert nwb.stimulus_table(path, table).equals(
        nwb.stimulus_table(demo.paths["demo-ecephys"], table)
    )
    with h5py.File(path, "r") as h5:
        assert h5["acquisition/raw_voltage_padding/data"].nbytes >= 4 * 2**20 - 2**16


def test_download_is_the_whole_file_once_verified_and_pinning_is_metadata_only(figures, demo):
    cost = figures["fig_nwb_access_cost"]
    assert cost["sha256_verified"] is True
    assert cost["fetch"]["whole_gets"] == cost["fetch"]["requests"] == 1
    assert cost["fetch"]["bytes_whole"] == demo.paths["demo-ecephys"].stat().st_size
    assert cost["pin"]["api_requests"] == cost["pin"]["requests"] > 0
    assert cost["pin"]["bytes"] < 10_000  # metadata: kilobytes, not the file


def test_element_by_element_claims_of_the_pitfalls_section(figures):
    pit = figures["fig_nwb_access_cost"]["element_by_element"]
    table, spikes = pit["stimulus table"], pit["spike times"]
    # "Over remfile, whose cache absorbs them, it cost N requests either way."
    assert table["remfile_by_element"]["requests"] == table["remfile_whole"]["requests"]
    # "Without a client-side cache ... N requests element by element against M whole"
    assert table["uncached_by_element"]["requests"] > 5 * table["uncached_whole"]["requests"]
    assert table["uncached_by_element"]["requests"] >= table["reads_by_element"]
    # "The spike times cost N requests both ways" (one chunk, fetched once)
    assert spikes["uncached_by_element"]["requests"] == spikes["uncached_whole"]["requests"]
    assert spikes["values_by_element"] == spikes["values_whole"] > 0
    assert table["values_by_element"] == table["values_whole"] == table["reads_by_element"]
    whole_lfp = figures["fig_nwb_access_cost"]["lfp_read_whole_then_cut"]["bytes"]
    assert whole_lfp > 3 * figures["fig_nwb_access_cost"]["reads"]["1 s of LFP"]["remfile"]["bytes"]


def test_raster_counts_and_caption_match_the_file(figures, demo):
    raster = figures["fig_nwb_raster"]
    with h5py.File(demo.paths["demo-ecephys"], "r") as h5:
        quality = h5["units/quality"].asstr()[()]
        spikes = h5["units/spike_times"][()]
        flashes = h5["intervals/flashes_presentations/start_time"][()]
        gabors = h5["intervals/gabors_presentations/start_time"][()]
    t0, t1 = raster["window_s"]
    assert raster["n_units"] == len(quality)
    assert raster["n_noise_units"] == int((quality == "noise").sum()) > 0
    assert raster["n_spikes_shown"] == int(((spikes >= t0) & (spikes < t1)).sum())
    # caption: "flashes every 2 s, then a block of Gabor patches"
    shown = flashes[(flashes >= t0) & (flashes < t1)]
    np.testing.assert_allclose(np.diff(shown), 2.0)
    assert raster["presentations_in_window"]["gabors_presentations"] > 0
    assert shown.max() < gabors[(gabors >= t0) & (gabors < t1)].min()
    assert raster["running_unit"] == "cm/s"


def test_lfp_and_roi_figures_match_the_file(figures, demo):
    lfp, rois = figures["fig_nwb_lfp"], figures["fig_nwb_rois"]
    with h5py.File(demo.paths["demo-ecephys"], "r") as h5:
        series = h5["processing/ecephys/LFP/probe_A_lfp"]
        rate = float(series["starting_time"].attrs["rate"])
        n_channels = series["data"].shape[1]
        flashes = h5["intervals/flashes_presentations/start_time"][()]
    t0, t1 = lfp["window_s"]
    # access-cost caption: "one second of LFP (96 channels, 500 Hz)"
    assert (lfp["n_channels"], lfp["rate_hz"]) == (n_channels, rate) == (96, 500.0)
    assert lfp["n_samples"] == round((t1 - t0) * rate)
    assert lfp["onsets_in_window_s"] == [float(t) for t in flashes if t0 <= t < t1] != []
    with h5py.File(demo.paths["demo-ophys-day1"], "r") as h5:
        masks = h5["processing/ophys/ImageSegmentation/PlaneSegmentation/image_mask"]
        assert rois["n_rois"] == masks.shape[0] == len(demo.truth["ophys"]["day1_cells"])
        assert rois["fov_shape"] == list(masks.shape[1:])
    assert rois["images"] == {"mean": "average_image", "max": "max_projection"}
