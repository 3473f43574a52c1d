"""An NWB 1.x file gets one message naming the file and its version, from every entry point.

NWB 1.x (before 2019) kept ``nwb_version`` ("NWB-1.0.6") in a root dataset and laid out
acquisition, epochs and processing differently; 2.x keeps it as a root attribute. The
files here are minimal HDF5 files with the 1.x markers, written with h5py.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import pytest
from click.testing import CliRunner

from databook import nwb
from databook.cli import main
from databook.errors import DatabookError


def nwb1(path: Path, *, as_attribute: bool = False, version: str = "NWB-1.0.6") -> Path:
    """A file with NWB 1.x's root layout: version, identifier and a 1.x timeseries."""
    with h5py.File(path, "w") as h5:
        if as_attribute:
            h5.attrs["nwb_version"] = version
        else:
            h5["nwb_version"] = version
        h5["identifier"] = "old-session"
        h5["session_start_time"] = "Mon Jan 1 00:00:00 2016"
        for group in ("acquisition/timeseries", "analysis", "epochs", "general", "processing"):
            h5.require_group(group)
        series = h5.create_group("acquisition/timeseries/lfp")
        series.attrs["ancestry"] = ["TimeSeries", "ElectricalSeries"]
        series["data"] = [[0.0, 1.0]]
    return path


@pytest.mark.parametrize(
    ("as_attribute", "version"),
    [(False, "NWB-1.0.6"), (True, "NWB-1.0.6"), (True, "1.0.5")],
    ids=["1.x-root-dataset", "version-attribute", "bare-1.0.5"],
)
def test_every_reader_refuses_an_nwb1_file_naming_it_and_its_version(
    tmp_path, as_attribute, version
):
    path = nwb1(tmp_path / "old.nwb", as_attribute=as_attribute, version=version)
    for read in (nwb.units, nwb.intervals, nwb.lfp, nwb.electrodes, nwb.tree):
        with pytest.raises(nwb.NWBVersionError) as err:
            read(path)
        message = str(err.value)
        assert str(path) in message and repr(version) in message and "NWB 1.x" in message
        assert isinstance(err.value, DatabookError) and isinstance(err.value, LookupError)
    with h5py.File(path, "r") as h5, pytest.raises(nwb.NWBVersionError):
        nwb.units(h5)  # an open h5py file too


def test_a_2x_file_with_the_version_attribute_is_read(tmp_path):
    path = tmp_path / "new.nwb"
    with h5py.File(path, "w") as h5:
        h5.attrs["nwb_version"] = "2.0.2"  # the 000006 files' version
        h5.require_group("intervals")
    assert len(nwb.intervals(path)) == 0


@pytest.mark.parametrize("command", [["inspect"], ["run", "04", "--nwb"]])
def test_the_cli_prints_one_message_and_writes_nothing(tmp_path, command):
    path = nwb1(tmp_path / "old.nwb")
    out = tmp_path / "out"
    args = [*command, str(path)] + (["--out", str(out)] if command[0] == "run" else [])
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: ") and str(path) in lines[0] and "'NWB-1.0.6'" in lines[0]
    assert "Traceback" not in result.output
    assert not out.exists() or not list(out.iterdir())
