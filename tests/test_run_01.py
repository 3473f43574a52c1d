"""`databook run 01` (NWB basics) on files other than the demo key: a real Svoboda ALM file
without LFP, and the demo Neuropixels file given as a path with its stimulus table renamed
(so that it needs ``-p stimulus``). Each run executes the chapter (30 s to 3 min on a busy
machine); the numbers checked are recomputed here from h5py, not copied.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image
from test_run import SVOBODA, outputs, real_file, run

from databook.cli import main

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = "01-nwb-basics.ipynb"
FIGURES = ("fig_nwb_access_cost", "fig_nwb_raster", "fig_nwb_lfp", "fig_nwb_rois")


@pytest.fixture(scope="module")
def renamed(demo, tmp_path_factory) -> Path:
    """The demo Neuropixels file with ``flashes_presentations`` renamed ``light_flashes``:
    a lab's own table name, which chapters 1 and 2 reach only with ``-p stimulus``."""
    path = tmp_path_factory.mktemp("renamed") / "lab_session.nwb"
    shutil.copyfile(demo.paths["demo-ecephys"], path)
    with h5py.File(path, "r+") as h5:
        h5.move("intervals/flashes_presentations", "intervals/light_flashes")
    return path


def _checks(texts: list[str]) -> dict[str, tuple[str, str, str]]:
    """The chapter's validation table: ``{quantity: (databook.nwb, h5py, agree)}``."""
    table = next(t for t in texts if "Read by databook.nwb, and directly with h5py" in t)
    rows = re.findall(r"^(.+?)\s{2,}(\S+)\s+(\S+)\s+(True|False)\s*$", table, re.MULTILINE)
    return {name.strip(): (a, b, ok) for name, a, b, ok in rows}


def _spikes_h5(path: Path) -> np.ndarray:
    with h5py.File(path, "r") as h5:
        return h5["units/spike_times"][()]


def _figures_name_the_file(out: Path, path: Path, ophys: str | None = "demo-ophys-day1") -> None:
    """The ecephys figures are of ``path``; the ROI figure is of ``ophys_asset``, which
    stays the demo's two-photon session unless the reader passes theirs (or None)."""
    for name in FIGURES:
        png = out / "figures" / f"{name}.png"
        assert png.stat().st_size > 5_000, name
        comment = Image.open(png).text["Comment"]
        shows = repr(ophys) if name == "fig_nwb_rois" else str(path)
        assert shows in comment, (name, comment)
    rois = json.loads((out / "figures" / "fig_nwb_rois.json").read_text())
    assert rois["asset"] == ophys


def _cost_is_measured_cold(out: Path, path: Path) -> dict:
    """The access-cost JSON is of this file, and every streamed read moved at least the
    stored bytes it read (a warm chunk cache would make it 0)."""
    cost = json.loads((out / "figures" / "fig_nwb_access_cost.json").read_text())
    assert cost["file_bytes"] == path.stat().st_size
    assert cost["fetch"]["bytes"] == path.stat().st_size and cost["sha256_verified"]
    for name, read in cost["reads"].items():
        assert read["remfile"]["bytes"] >= read["needed_bytes"] > 0, name
        assert read["same_values_streamed_and_downloaded"], name
    return cost


def test_run_01_on_svoboda_without_lfp(tmp_path):
    path = real_file(SVOBODA)
    result = run(
        tmp_path, "01", "--nwb", str(path), "-p", "stimulus", "trials",
        "-p", "raster_start_s", "1500.0", "-p", "ophys_asset", "None",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    texts = outputs(tmp_path / NOTEBOOK)
    spikes = _spikes_h5(path)
    with h5py.File(path, "r") as h5:
        n_units, n_trials = len(h5["units/id"]), len(h5["intervals/trials/id"])
    checks = _checks(texts)
    assert checks["units"] == (str(n_units), str(n_units), "True") and n_units == 4
    assert checks["spikes, all units"][:2] == (str(spikes.size), str(spikes.size))
    assert checks["rows of trials"][:2] == (str(n_trials), str(n_trials))
    assert not any(k.startswith("LFP") for k in checks)  # no LFP: no LFP check
    joined = "\n".join(texts)
    assert "This file has no LFP" in joined and "No LFP read" in joined
    assert "No two-photon file given (ophys_asset is None)" in joined
    assert "ROIs" not in checks
    # The figures: of this file; the LFP figure says there is none; the raster shows the
    # minute asked for, with the spikes h5py finds in it.
    _figures_name_the_file(tmp_path, path, ophys=None)
    lfp = json.loads((tmp_path / "figures" / "fig_nwb_lfp.json").read_text())
    assert lfp["has_lfp"] is False and "no LFP" in lfp["why"]
    raster = json.loads((tmp_path / "figures" / "fig_nwb_raster.json").read_text())
    assert raster["n_spikes_shown"] == int(((spikes >= 1500.0) & (spikes < 1560.0)).sum()) > 0
    assert raster["running_unit"] is None
    cost = _cost_is_measured_cold(tmp_path, path)
    assert set(cost["reads"]) == {"units table", "stimulus table"} and not cost["has_lfp"]


def test_run_01_on_the_demo_file_as_a_path_with_a_renamed_table(tmp_path, renamed):
    # Without the mapping: refused before anything runs, naming the option.
    refused = run(tmp_path / "refused", "01", "--nwb", str(renamed))
    assert refused.exit_code == 1
    assert "intervals table 'flashes_presentations' (-p stimulus)" in refused.output
    assert "-p stimulus light_flashes" in refused.output
    verdicts = dict(
        re.findall(r"^  (\d\d)-[\w-]+: (.*)$", CliRunner().invoke(main, ["inspect", str(renamed)])
                   .output, re.MULTILINE)
    )  # fmt: skip
    assert verdicts["01"].startswith("runs with -p stimulus ")
    assert verdicts["02"] == "runs with -p stimulus light_flashes"

    result = run(tmp_path, "01", "--nwb", str(renamed), "-p", "stimulus", "light_flashes")
    assert result.exit_code == 0, result.output
    checks = _checks(outputs(tmp_path / NOTEBOOK))
    with h5py.File(renamed, "r") as h5:
        n_units = len(h5["units/id"])
        n_flashes = len(h5["intervals/light_flashes/id"])
        lfp_channels = h5["processing/ecephys/LFP/probe_A_lfp/data"].shape[1]  # the demo's
    assert checks["units"][:2] == (str(n_units), str(n_units))
    assert checks["spikes, all units"][0] == str(_spikes_h5(renamed).size)
    assert checks["rows of light_flashes"][:2] == (str(n_flashes), str(n_flashes))
    assert checks["LFP: largest difference (V)"][2] == "True"
    assert all(ok == "True" for _, _, ok in checks.values())
    _figures_name_the_file(tmp_path, renamed)
    drawn = json.loads((tmp_path / "figures" / "fig_nwb_lfp.json").read_text())
    assert drawn["has_lfp"] is True
    assert drawn["n_channels"] == lfp_channels
    cost = _cost_is_measured_cold(tmp_path, renamed)
    assert cost["has_lfp"] and cost["lfp_read"] in cost["reads"]


# Fast checks (no chapter run) ------------------------------------------------------------------
def test_lfp_is_optional_for_chapter_01_and_says_so():
    from databook import chapterinputs
    from databook.run import chapter_defaults

    path = real_file(SVOBODA)
    params = {**chapter_defaults(ROOT / "chapters" / "01-nwb-basics.md"), "stimulus": "trials"}
    findings = chapterinputs.check("01", path, params)
    lfp = next(f for f in findings if f.need.kind == "lfp")
    assert lfp.ok and lfp.absent
    assert lfp.line().startswith("LFP with electrode depths: none (optional")
    assert "no LFP ElectricalSeries" in lfp.line()  # where the reader looked
    assert chapterinputs.runnable(findings)
    chapterinputs.require("01", "01-nwb-basics", path, params)  # does not raise
    # A need that is not optional still stops a chapter: the file has no stimulus
    # table named 'x', and chapter 6 needs optogenetic pulses.
    with pytest.raises(chapterinputs.ChapterInputError, match="intervals table 'x'"):
        chapterinputs.require("01", "01-nwb-basics", path, {**params, "stimulus": "x"})
    opto = chapterinputs.check("06", path, {"asset": str(path)})[-1]
    assert not opto.ok and not opto.absent


def test_access_cost_is_measured_cold_under_a_shared_chunk_cache(tmp_path, monkeypatch):
    """`databook run` shares a disk cache of streamed chunks between the kernel and the
    figure scripts; the access-cost script must not read through it, or a table already
    fetched would cost 0 bytes."""
    from databook.assets import STREAM_CACHE_VARIABLE
    from databook.figures import FigureScript, run_script

    path = real_file(SVOBODA)
    shared = tmp_path / "chunks"
    shared.mkdir()
    monkeypatch.setenv(STREAM_CACHE_VARIABLE, str(shared))
    script = FigureScript.read(ROOT / "figures_src" / "fig_nwb_access_cost.py")
    done = run_script(
        script, tmp_path / "out", parameters={"asset": str(path), "stimulus": "trials"}
    )
    assert done.status == "built", done.error
    (tmp_path / "figures").mkdir()
    shutil.copy(tmp_path / "out" / "fig_nwb_access_cost.json", tmp_path / "figures")
    shutil.copy(tmp_path / "out" / "fig_nwb_access_cost.png", tmp_path / "figures")
    _cost_is_measured_cold(tmp_path, path)


def test_run_01_on_a_url_asks_for_a_local_copy(tmp_path):
    """Chapter 1 serves the file from its own local archive to measure what reading costs;
    a URL (whose server we cannot count) is refused with the option that makes it local."""
    from databook.localarchive import serve

    path = real_file(SVOBODA)
    with serve({"sub-1/sub-1_ecephys.nwb": path}) as server:
        url = server.blob_url("sub-1/sub-1_ecephys.nwb")
        result = run(tmp_path, "01", "--nwb", url, "-p", "stimulus", "trials")
    assert result.exit_code == 1
    assert "chapter 1 serves a local file" in result.output
    assert "databook run 01 --nwb URL --download" in result.output
    assert not (tmp_path / NOTEBOOK).exists()
