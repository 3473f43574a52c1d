"""`databook run 05` (receptive fields) on files that are not the demo.

No real file of another lab has a receptive-field mapping stimulus, so the test writes a
lab-style one (:mod:`labstyle_nwb`): the demo's spikes, and its Gabor grid as a table
``rf_mapping`` with columns ``x_deg``/``y_deg`` and no ``orientation``; the units have no
``firing_rate``. The chapter's counts and centres are checked against
``databook.rf.receptive_fields`` run here on h5py reads of that file, and against the
centres planted in the demo's spikes.
"""

from __future__ import annotations

import json
import re

import h5py
import numpy as np
import pytest
from click.testing import CliRunner
from labstyle_nwb import write_lab_file
from PIL import Image
from test_run import _runnable, outputs, run

from databook import rf
from databook.cli import main

MAPPING = ("-p", "stimulus", "rf_mapping", "-p", "x_column", "x_deg", "-p", "y_column", "y_deg")


@pytest.fixture(scope="module")
def lab_file(demo, tmp_path_factory):
    return write_lab_file(demo.paths["demo-ecephys"], tmp_path_factory.mktemp("lab") / "lab.nwb")


def independent_fields(path):
    """Receptive fields from h5py reads of the lab file, with the chapter's defaults."""
    with h5py.File(path, "r") as f:
        data, ends = f["units/spike_times"][()], f["units/spike_times_index"][()]
        table = f["intervals/rf_mapping"]
        x, y, onsets = table["x_deg"][()], table["y_deg"][()], table["start_time"][()]
    spikes = np.split(data, ends[:-1])
    return rf.receptive_fields(
        spikes, x, y, onsets, window=(0.0, 0.25), n_shuffles=1000, seed=0, q=0.05
    )


def test_inspect_lists_05_and_07_for_the_demo_given_as_a_path(demo):
    result = CliRunner().invoke(main, ["inspect", str(demo.paths["demo-ecephys"])])
    assert result.exit_code == 0, result.output
    verdicts = _runnable(result.output)
    assert verdicts["05"] == verdicts["07"] == "runs"  # a path is another file: both run


def test_inspect_lab_file_offers_05_with_the_table_and_column_mapping(lab_file):
    # The table of another name whose columns look like the chapter's (x_deg for
    # x_position): the options inspect offers are the ones the run below uses.
    result = CliRunner().invoke(main, ["inspect", str(lab_file)])
    assert result.exit_code == 0, result.output
    assert _runnable(result.output)["05"] == "runs with " + " ".join(MAPPING)
    assert "rf_mapping (1215 rows): start_time, stop_time, x_deg, y_deg" in result.output


def test_look_alike_columns_must_be_the_same_words():
    """x_position maps to x_deg (only "what it holds" words differ) but never to a
    photostimulation galvo's photo_loc_galvo_x, nor to two candidates at once."""
    from databook.chapterinputs import _column_mapping

    wanted = {"x_column": ["x_position"], "y_column": ["y_position"]}
    assert _column_mapping(wanted, ["start_time", "x_deg", "y_deg"]) == [
        ("x_column", "x_deg"),
        ("y_column", "y_deg"),
    ]
    assert _column_mapping(wanted, ["photo_loc_galvo_x", "photo_loc_galvo_y"]) is None
    assert _column_mapping(wanted, ["x_deg", "x_pos", "y_deg"]) is None
    assert _column_mapping(wanted, ["x_position", "y_deg"]) == [("y_column", "y_deg")]


def test_run_05_on_a_lab_file_finds_the_fields(tmp_path, lab_file, demo):
    result = run(tmp_path, "05", "--nwb", str(lab_file), *MAPPING)
    assert result.exit_code == 0, result.output
    cells = outputs(tmp_path / "05-receptive-fields.ipynb")
    texts = "\n".join(cells)
    assert "no planted answers: real data" in texts
    assert re.search(r"orientations \(deg\)\s+not in the table", texts)
    fields = independent_fields(lab_file)
    located = np.flatnonzero(np.isfinite(fields.center[:, 0]))
    # The population table's first rows: unit id, x0, y0 as the chapter printed them.
    table = next(t for t in cells if "x0 (deg)" in t)
    rows = re.findall(r"^(\d+)\s+(-?\d+\.\d+)\s+(-?\d+\.\d+)\s", table, re.MULTILINE)
    assert len(rows) == 5
    shown = {int(u): (float(a), float(b)) for u, a, b in rows}
    assert sorted(shown) == located[:5].tolist()
    planted = {d["unit"]: d["center_deg"] for d in demo.truth["ecephys"]["rf_units"]}
    for unit, centre in shown.items():
        assert centre == pytest.approx(tuple(fields.center[unit]), abs=0.006)
        assert np.hypot(*np.subtract(centre, planted[unit])) < 3.0  # degrees
    assert re.search(rf"^VISp\s+{located.size}\s*$", texts, re.MULTILINE)
    assert f"{located.size} located fields; median width without/with offset" in texts
    # The figures: of this file, drawn with the mapping, no planted-width figure.
    figures = {f.name: f for f in (tmp_path / "figures").iterdir()}
    assert {"fig_rf_maps.png", "fig_rf_population.png"} <= set(figures)
    assert "fig_rf_offset.png" not in figures
    assert "fig_rf_offset: skipped (compares with the demo's planted answers)" in result.output
    for name in ("fig_rf_maps.png", "fig_rf_population.png"):
        comment = Image.open(figures[name]).text["Comment"]
        assert str(lab_file) in comment and "'x_deg'" in comment
    drawn = json.loads((tmp_path / "figures" / "fig_rf_population.json").read_text())
    assert drawn["n_located"] == located.size
    assert drawn["fraction_significant"] == pytest.approx(np.mean(fields.significant))
