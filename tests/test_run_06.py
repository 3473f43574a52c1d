"""`databook run 06` (optotagging) draws its figures from a file that is not the demo.

The Svoboda ALM file has an optogenetic stimulation site but no pulse table the readers
find (`test_run.test_demo_only_chapter_on_another_file_names_what_is_missing_first`), so
the chapter runs on the demo file given as a path: another file, without planted
answers. The example units the raster figure picks must then come from the tagging table
alone; they are checked against ``databook.opto.tag_units`` run here on h5py reads.
"""

from __future__ import annotations

import json
import re

import h5py
import numpy as np
from PIL import Image
from test_run import SVOBODA, outputs, real_file, run

from databook import opto


def test_run_06_on_svoboda_says_it_has_no_pulses(tmp_path):
    result = run(tmp_path, "06", "--nwb", str(real_file(SVOBODA)))
    assert result.exit_code == 1
    assert "optogenetic pulses: missing" in result.output
    assert not (tmp_path / "figures").exists()


def test_run_06_on_the_demo_as_a_path_draws_its_figures(tmp_path, demo):
    path = demo.paths["demo-ecephys"]
    result = run(tmp_path, "06", "--nwb", str(path), "-p", "min_locked", "0.6")
    assert result.exit_code == 0, result.output
    with h5py.File(path, "r") as f:
        data, ends = f["units/spike_times"][()], f["units/spike_times_index"][()]
        table = f["processing/optotagging/optogenetic_stimulation"]
        onsets, offsets = table["start_time"][()], table["stop_time"][()]
        label = f["units/quality"][()].astype(str)
    # Units labelled noise are dropped first; the rest are tested as one family.
    kept = np.flatnonzero(label != "noise")
    spikes = [np.split(data, ends[:-1])[k] for k in kept]
    tags = opto.tag_units(spikes, onsets, float(np.median(offsets - onsets)), min_locked=0.6)
    tagged = np.flatnonzero(tags.tagged.to_numpy())  # rows of the kept units
    texts = outputs(tmp_path / "06-optotagging.ipynb")
    assert "skipped: no planted answers" in "\n".join(texts)
    listing = next(t for t in texts if "salt_p" in t and "reliability" in t)  # tagged units
    shown = dict.fromkeys(int(u) for u in re.findall(r"^(\d+)\s", listing, re.MULTILINE))
    assert list(shown) == kept[tagged].tolist()  # listed by unit id

    figures = {f.name: f for f in (tmp_path / "figures").iterdir()}
    assert "fig_opto_rasters.png" in figures and "fig_opto_validation.png" not in figures
    assert "fig_opto_validation: skipped (compares with the demo's planted answers)" in (
        result.output
    )
    comment = Image.open(figures["fig_opto_rasters.png"]).text["Comment"]
    assert str(path) in comment and "'min_locked': 0.6" in comment
    examples = json.loads(figures["fig_opto_rasters.json"].read_text())
    assert list(examples) == ["tagged", "untagged", "excited"]
    salt_i = tags.salt_i.to_numpy()
    assert examples["tagged"] == tagged[np.argsort(salt_i[tagged])[tagged.size // 2]]
    untagged = np.flatnonzero(~tags.tagged.to_numpy())
    assert examples["untagged"] == untagged[np.argmin(np.abs(salt_i[untagged]))]
    assert not tags.tagged[examples["excited"]]
    rest = np.setdiff1d(untagged, [examples["untagged"]])
    assert tags.rate_ratio[examples["excited"]] == tags.rate_ratio.to_numpy()[rest].max()
