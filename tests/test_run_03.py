"""`databook run 03` on a two-photon file that is not the demo.

No real two-photon NWB file is at hand, so the file is written here (tests/labstyle_ophys.py):
the demo session's arrays under other names, as another lab's pipeline lays them out
(pixel masks in ``imaging/Segmentation/PlaneSegmentation_plane0``, dF/F in
``imaging/dff_plane0`` on a regular clock, a ``grating_trials`` table whose ``start_time``
is the trial start and whose onsets are in ``stimulus_onset``, directions in ``direction``,
no running speed), with 80 of the demo's 100 ROIs in another order. The chapter's headline
numbers are recomputed from the file read with h5py and the library called on the arrays.
"""

from __future__ import annotations

import re
from pathlib import Path

import h5py
import labstyle_ophys as lab
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image
from test_run import outputs, run

from databook import responses
from databook.cli import main

STEM = "03-twophoton-responses"
MAPPING = (
    "-p", "table_name", lab.TABLE, "-p", "onset_column", "stimulus_onset",
    "-p", "direction_column", "direction",
)  # fmt: skip
ROWS = np.random.default_rng(3).permutation(100)[:80]  # demo ROIs kept, in this order


@pytest.fixture(scope="module")
def lab_file(tmp_path_factory, demo) -> Path:
    path = tmp_path_factory.mktemp("lab") / "sub-7_ses-2_ophys.nwb"
    return lab.write(path, demo.paths["demo-ophys-day1"], ROWS)


def read_direct(path: Path) -> dict:
    """The session read with h5py, without the databook readers."""
    with h5py.File(path, "r") as f:
        module = f[f"processing/{lab.MODULE}"]
        n_rois = len(module[f"Segmentation/{lab.SEGMENTATION}/id"])
        series = module[f"{lab.DFF}/dff"]
        dff = series["data"][()].astype(np.float64)
        start = series["starting_time"]
        t = start[()] + np.arange(len(dff)) / start.attrs["rate"]
        table = f[f"intervals/{lab.TABLE}"]
        onsets, direction = table["stimulus_onset"][()], table["direction"][()]
    return dict(n_rois=n_rois, dff=dff, t=t, onsets=onsets, direction=direction)


def test_run_03_on_a_lab_style_file_with_mapping(tmp_path, lab_file, demo):
    result = run(tmp_path, "03", "--nwb", str(lab_file), *MAPPING)
    assert result.exit_code == 0, result.output
    texts = outputs(tmp_path / f"{STEM}.ipynb")
    text = "\n".join(texts)
    assert (tmp_path / f"{STEM}.html").is_file()

    # Headline numbers, recomputed from the arrays read with h5py.
    d = read_direct(lab_file)
    windows = dict(response_window=(0.0, 2.0), rate=30.0)
    direct = responses.cell_responses(
        d["t"], d["dff"], d["onsets"], baseline_window=(-0.5, 0.0), **windows
    )
    n_resp = int(direct.responsive.sum())
    assert d["n_rois"] == d["dff"].shape[1] == len(ROWS)
    n_up, n_down = int((direct.direction > 0).sum()), int((direct.direction < 0).sum())
    stated = f"{n_resp} of {d['n_rois']} cells responsive ({n_resp / d['n_rois']:.0%}: "
    assert stated + f"{n_up} excited, {n_down} suppressed)" in text
    # The demo planted the responders: the kept rows' planted cells are the ones found.
    with h5py.File(demo.paths["demo-ophys-day1"], "r") as f:
        cell_id = f["processing/ophys/ImageSegmentation/PlaneSegmentation/cell_id"][()][ROWS]
    planted = np.isin(cell_id, demo.truth["ophys"]["responders"]["cell_ids"])
    assert n_resp == planted.sum() > 0
    np.testing.assert_array_equal(direct.responsive, planted)
    # A number that depends on the onsets: the (-1, 0) s baseline pitfall, from the onsets
    # in stimulus_onset (start_time is 1 s earlier and would give another value).
    long = responses.cell_responses(
        d["t"], d["dff"], d["onsets"], baseline_window=(-1.0, 0.0), **windows
    )
    resp = direct.responsive
    shrink = np.median(1 - long.amplitude[resp] / direct.amplitude[resp])
    assert f"amplitudes are {shrink:.1%} smaller" in text
    assert re.search(rf"{lab.TABLE.replace('_', ' ')}\s+{d['onsets'].size} rows", texts[0])
    # Tuning table: one column per group, sized from the direct call.
    assert f"responsive ({n_resp})" in text and f"not responsive ({len(ROWS) - n_resp})" in text
    # Without planted answers and without running speed the chapter says so.
    assert "no planted answers: real data" in text
    assert "no running speed, running split skipped" in text

    figures = {p.name: p for p in (tmp_path / "figures").iterdir()}
    drawn = {"fig_ophys_responses.png", "fig_ophys_tuning.png", "fig_ophys_running.png"}
    assert drawn <= set(figures)
    assert "fig_ophys_validation.png" not in figures
    assert "fig_ophys_validation: skipped" in result.output
    for name in drawn:
        comment = Image.open(figures[name]).text["Comment"]
        assert str(lab_file) in comment and f"'{lab.TABLE}'" in comment
    assert "'stimulus_onset'" in Image.open(figures["fig_ophys_responses.png"]).text["Comment"]


def test_run_03_without_mapping_names_the_table_and_the_option(tmp_path, lab_file):
    result = run(tmp_path, "03", "--nwb", str(lab_file))
    assert result.exit_code == 1
    assert "intervals table 'grating_presentations' (-p table_name" in result.output
    assert f"map it with -p table_name {lab.TABLE}" in result.output
    result = run(tmp_path, "03", "--nwb", str(lab_file), "-p", "table_name", lab.TABLE,
                 "-p", "onset_column", "onset")  # fmt: skip
    assert result.exit_code == 1
    assert f"table '{lab.TABLE}' has no column onset" in result.output
    assert not list(tmp_path.iterdir())  # nothing executed, nothing written


def _verdicts(output: str) -> dict[str, str]:
    return dict(re.findall(r"^  (\d\d)-[\w-]+: (.*)$", output, re.MULTILINE))


def test_inspect_lists_chapters_3_and_8_for_the_lab_style_file(lab_file):
    result = CliRunner().invoke(main, ["inspect", str(lab_file)])
    assert result.exit_code == 0, result.output
    verdicts = _verdicts(result.output)
    assert verdicts.pop("03") == f"runs with -p table_name {lab.TABLE}"
    assert verdicts.pop("08") == f"runs with -p image_name {lab.IMAGE}"
    assert all(v.startswith("cannot run") for v in verdicts.values()), verdicts
    assert f"ROIs: {len(ROWS)} ROIs" in result.output
    assert "running speed: none" in result.output
