"""Unit depths: from the electrodes where they have positions, else from ``units.depth``.

DANDI:000006 sessions put every electrode at x = y = z = 0 and give each unit its own
``depth`` ("depth this unit (um)"); the demo (Allen layout) has electrode depths and no
unit depth. Real files skip when ``../shared`` is absent.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
from click.testing import CliRunner

from databook import nwb, unitsummary
from databook.cli import main
from tests.conftest import ROOT

LARGEST = ROOT.parent / "shared/data/dandi/000006/sub-anm372904/sub-anm372904_ses-20170619.nwb"

pytestmark = pytest.mark.filterwarnings("ignore::databook.nwb.SpikeTimesRepairedWarning")


def held(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} (a copy of a published DANDI asset) is absent")
    return path


def test_000006_unit_depths_come_from_the_units_table():
    path = held(LARGEST)
    with h5py.File(path, "r") as h5:
        stored = h5["units/depth"][()]
        assert not np.any(h5["general/extracellular_ephys/electrodes/y"][()])  # no positions
    units = nwb.units(path)
    np.testing.assert_array_equal(units["depth_um"].to_numpy(), stored)
    assert units["electrode_depth_um"].isna().all()
    assert units.attrs["depth_source"] == "units.depth"
    assert "electrodes have no usable depth" in units.attrs["depth_note"]
    assert "'depth this unit (um)'" in units.attrs["depth_note"]
    cheap = nwb.unit_depths(path)
    np.testing.assert_array_equal(cheap.to_numpy(), stored)
    assert cheap.attrs == {k: units.attrs[k] for k in ("depth_source", "depth_note")}
    # The chapter 4 summary places each unit at that depth.
    table = unitsummary.response_table(units, np.array([1000.0, 1500.0]), criteria=None)
    np.testing.assert_array_equal(table["depth_um"].to_numpy(), stored)


def test_electrode_depths_win_where_the_electrodes_have_positions(demo):
    units = nwb.units(demo.paths["demo-ecephys"])
    assert units.attrs["depth_source"] == "electrodes.probe_vertical_position"
    assert np.isfinite(units["depth_um"]).all()
    np.testing.assert_array_equal(units["depth_um"], units["electrode_depth_um"])
    np.testing.assert_array_equal(nwb.unit_depths(demo.paths["demo-ecephys"]), units["depth_um"])


def _units_with_depth(path: Path, description: str) -> Path:
    with h5py.File(path, "w") as h5:
        h5.attrs["nwb_version"] = "2.5.0"
        units = h5.create_group("units")
        units.attrs.update(neurodata_type="Units", colnames=["spike_times", "depth"])
        units["id"] = np.arange(2)
        units["spike_times"] = [0.1, 0.2, 0.3]
        units["spike_times_index"] = [2, 3]
        units["depth"] = [0.4, 0.9]
        units["depth"].attrs["description"] = description
    return path


def test_a_unit_depth_column_in_millimetres_is_converted_and_one_without_a_unit_is_not(tmp_path):
    mm = nwb.units(_units_with_depth(tmp_path / "mm.nwb", "depth below the pia (mm)"))
    np.testing.assert_allclose(mm["depth_um"], [400.0, 900.0])
    assert mm.attrs["depth_source"] == "units.depth"
    unknown = nwb.units(_units_with_depth(tmp_path / "unknown.nwb", "depth of the unit"))
    assert unknown["depth_um"].isna().all() and unknown.attrs["depth_source"] is None
    assert "units.depth states no unit" in unknown.attrs["depth_note"]


def test_inspect_says_where_the_unit_depths_came_from(demo):
    path = held(LARGEST)
    out = CliRunner().invoke(main, ["inspect", str(path)]).output
    n = nwb.unit_count(path)
    assert f"units: {n} units; depth from units.depth (electrodes have no usable depth" in out
    out = CliRunner().invoke(main, ["inspect", "demo-ecephys"]).output
    assert "depth from electrodes.probe_vertical_position" in out
