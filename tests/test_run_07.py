"""`databook run 07` (current source density) on a file that is not the demo.

No real file of another lab has an LFP, so the test writes a lab-style one
(:mod:`labstyle_nwb`): the demo's LFP and flashes under other names (an ElectricalSeries
``lowpass_filtered`` outside any LFP container, a table ``visual_flashes``, depths in
``rel_y``, usable channels in ``is_good``), without planted answers. The sink and source
the chapter reports are checked against a CSD computed here from h5py reads with
``databook.csd`` directly, and against the depths planted in the demo's LFP.
"""

from __future__ import annotations

import re

import h5py
import numpy as np
import pytest
from click.testing import CliRunner
from labstyle_nwb import write_lab_file
from PIL import Image
from test_run import _runnable, outputs, run

from databook import chapterinputs, csd, laminar
from databook.cli import main
from tests.conftest import ROOT

CHAPTER = ROOT / "chapters" / "07-current-source-density.md"

MAPPING = ("-p", "stimulus_table", "visual_flashes", "-p", "lfp_name", "lowpass_filtered",
           "-p", "valid_column", "is_good")  # fmt: skip


@pytest.fixture(scope="module")
def lab_file(demo, tmp_path_factory):
    return write_lab_file(demo.paths["demo-ecephys"], tmp_path_factory.mktemp("lab") / "lab.nwb")


def independent_csd(path, extra_bad=(), window_s=(-0.1, 0.25), profile_s=0.042):
    """Sink and source depths (um) at ``profile_s``: nearest-sample windows read with h5py,
    baseline (t < 0) subtracted, bad channels (the file's, and ``extra_bad``: the demo's
    unflagged dead and noisy channels) interpolated by ``databook.csd``."""
    with h5py.File(path, "r") as f:
        series = f["acquisition/lowpass_filtered"]
        data = series["data"][()].astype(float) * series["data"].attrs["conversion"]
        rate = float(series["starting_time"].attrs["rate"])
        t0 = float(series["starting_time"][()])
        rows = series["electrodes"][()]
        e = f["general/extracellular_ephys/electrodes"]
        depths, good = e["rel_y"][()][rows], e["is_good"][()][rows].astype(bool)
        onsets = f["intervals/visual_flashes/start_time"][()]
    lags = np.arange(round(window_s[0] * rate), round(window_s[1] * rate))
    index = np.rint((onsets - t0) * rate).astype(int)[:, None] + lags  # (flashes, samples)
    mean = data[index].mean(axis=0).T  # (channels, samples)
    mean -= mean[:, lags < 0].mean(axis=1, keepdims=True)
    bad = sorted(set(np.flatnonzero(~good)) | set(extra_bad))
    density, z = csd.csd(mean, depths, 0.3, bad_channels=bad)
    at = int(np.argmin(np.abs(lags / rate - profile_s)))
    sink = laminar.extremum(density[:, at], z, "min")
    source = laminar.extremum(density[:, at], z, "max")
    return sink.depth_um, source.depth_um


def test_lfp_need_reads_the_series_parameter(lab_file):
    params = {"lfp_name": None, "stimulus_table": "visual_flashes", "onset_column": "start_time"}
    lfp, table = chapterinputs.check("07", lab_file, params)
    assert table.ok and not lfp.ok
    assert "no LFP ElectricalSeries" in lfp.detail and "/acquisition/lowpass_filtered" in lfp.detail
    assert lfp.fix == "-p lfp_name lowpass_filtered"
    assert chapterinputs.runnable(
        chapterinputs.check("07", lab_file, {**params, "lfp_name": "lowpass_filtered"})
    )
    wrong = chapterinputs.check("07", lab_file, {**params, "lfp_name": "lowpass"})[0]
    assert not wrong.ok and "named 'lowpass'" in wrong.detail


def test_inspect_offers_07_with_the_lfp_mapping(lab_file):
    result = CliRunner().invoke(main, ["inspect", str(lab_file)])
    assert result.exit_code == 0, result.output
    verdicts = _runnable(result.output)
    # visual_flashes first: it shares a word with the default flashes_presentations.
    assert (
        verdicts["07"] == "runs with -p lfp_name lowpass_filtered -p stimulus_table visual_flashes"
    )
    assert "depth from rel_y" in result.output


def test_run_07_without_mapping_names_the_series_and_the_option(tmp_path, lab_file):
    result = run(tmp_path, "07", "--nwb", str(lab_file))
    assert result.exit_code == 1
    message = result.output
    assert "LFP with electrode depths (-p lfp_name): missing" in message
    assert "map it with -p lfp_name lowpass_filtered" in message
    assert "intervals table 'flashes_presentations'" in message
    assert not list(tmp_path.iterdir())


def test_run_07_on_a_lab_file_finds_the_sink_and_source(tmp_path, lab_file, demo):
    result = run(tmp_path, "07", "--nwb", str(lab_file), *MAPPING)
    assert result.exit_code == 0, result.output
    texts = "\n".join(outputs(tmp_path / "07-current-source-density.ipynb"))
    assert "60 flashes, 175 samples each" in texts
    assert re.search(r"flagged: \[48\]", texts)  # from is_good, not valid_data
    planted = demo.truth["ecephys"]["csd"]
    unflagged = planted["unflagged_bad_channels"]
    assert f"flat: {unflagged['dead']} noisy: {unflagged['noisy']}" in texts
    found = {
        m[1]: (float(m[2]), float(m[3]))
        for m in re.finditer(r"^(sink|source)\s+(-?[\d.]+)\s+(-?[\d.]+)\s*$", texts, re.M)
    }
    sink, source = independent_csd(lab_file, unflagged["dead"] + unflagged["noisy"])
    assert found["sink"][0] == pytest.approx(sink, abs=3)
    assert found["source"][0] == pytest.approx(source, abs=3)
    l4 = next(p for p in planted["components"] if p["name"] == "L4")
    assert found["sink"][0] == pytest.approx(l4["sinks_um"][0], abs=5)
    assert min(abs(found["source"][0] - d) for d in l4["sources_um"]) < 20  # half a pitch
    assert found["sink"][1] < 0 < found["source"][1]
    assert "recovered" not in texts  # no planted-vs-recovered table: no planted answers
    figures = {f.name: f for f in (tmp_path / "figures").iterdir()}
    assert {"fig_csd_map.png", "fig_csd_pitfalls.png"} <= set(figures)
    for name in ("fig_csd_map.png", "fig_csd_pitfalls.png"):
        comment = Image.open(figures[name]).text["Comment"]
        assert str(lab_file) in comment and "'lowpass_filtered'" in comment
        assert "'truth_asset': None" in comment


def test_chapter_07_adapts_its_pitfalls_to_a_probe_elsewhere(demo, tmp_path):
    """On a probe whose channels sit 2600 um higher, the demo's pitfall depths (an edge at
    2540 um, a missing channel at 2300 um) are not on the probe: the chapter picks its own,
    and with ``profile_s=None`` reads the profile where the CSD is largest."""
    import jupytext

    path = write_lab_file(demo.paths["demo-ecephys"], tmp_path / "high.nwb", 2600.0)
    cells = [c.source for c in jupytext.read(CHAPTER).cells if c.cell_type == "code"]
    given = {
        **{"asset": str(path), "truth_asset": None, "stimulus_table": "visual_flashes"},
        **{"lfp_name": "lowpass_filtered", "valid_column": "is_good", "profile_s": None},
    }
    ns: dict = {}
    for source in cells:
        exec(compile(source, "chapter07", "exec"), ns)
        if "truth_asset = " in source:  # the parameters cell: then the run's values
            ns.update(given)
    planted = demo.truth["ecephys"]["csd"]
    l4 = next(p for p in planted["components"] if p["name"] == "L4")
    assert ns["sink"].depth_um == pytest.approx(l4["sinks_um"][0] + 2600.0, abs=5)
    assert min(abs(ns["source"].depth_um - d - 2600.0) for d in l4["sources_um"]) < 20
    assert 1e3 * ns["times"][ns["peak"]] == pytest.approx(1e3 * l4["peak_after_onset_s"], abs=6)
    depths = ns["depths"]
    assert ns["edge_um"] in depths and ns["edge_um"] > ns["source"].depth_um
    assert 3 <= ns["top"].sum() < depths.size
    (dropped,) = ns["dropped_um"]
    low, high = sorted((ns["sink"].depth_um, ns["source"].depth_um))
    assert dropped in depths and low < dropped < high
    assert np.isnan(ns["edge_planted"])
