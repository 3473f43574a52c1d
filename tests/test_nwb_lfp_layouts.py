"""`nwb.lfp` on the layouts writers use for an LFP, each written here with pynwb.

pynwb's ``LFP`` container in ``processing/ecephys`` (its series named ``ElectricalSeries``
by default, or several series in one container), an ``LFP`` in ``/acquisition``, an
``LFP`` container that links a series stored once in ``/acquisition``, ``FilteredEphys``,
two ``LFP`` containers (one per probe) whose series share a name, and a series named
``*LFP*`` with no container; and the pynwb objects a user holds after ``io.read()``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from databook import chapterinputs, nwb

N_SAMPLES, N_CHANNELS = 12, 4
REL_Y = 20.0 * np.arange(N_CHANNELS)  # um


def _data(k: int) -> np.ndarray:
    """Series ``k``'s raw samples: distinct per series, so a test sees which was read."""
    return np.arange(N_SAMPLES * N_CHANNELS, dtype=np.int16).reshape(N_SAMPLES, -1) + 100 * k


def _file():
    from pynwb import NWBFile

    f = NWBFile(
        session_description="lfp layouts",
        identifier="lfp-layouts",
        session_start_time=datetime(2024, 1, 1, tzinfo=UTC),
    )
    device = f.create_device(name="probe")
    group = f.create_electrode_group("shank", "a shank", "CA1", device)
    for y in REL_Y:
        f.add_electrode(group=group, location="CA1", rel_x=0.0, rel_y=float(y))
    return f


def _series(f, name: str, k: int):
    from pynwb.ecephys import ElectricalSeries

    region = f.create_electrode_table_region(list(range(N_CHANNELS)), "lfp channels")
    return ElectricalSeries(
        name=name, data=_data(k), electrodes=region, rate=1000.0, starting_time=0.0,
        conversion=1e-6,
    )  # fmt: skip


def _ecephys(f):
    return f.create_processing_module("ecephys", "processed extracellular data")


def _default(f):  # pynwb's LFP() with its series' default name
    from pynwb.ecephys import LFP

    _ecephys(f).add(LFP(electrical_series=_series(f, "ElectricalSeries", 0)))


def _acquisition(f):
    from pynwb.ecephys import LFP

    f.add_acquisition(LFP(electrical_series=_series(f, "ElectricalSeries", 0)))


def _linked(f):  # stored once in /acquisition, linked from processing/ecephys/LFP
    from pynwb.ecephys import LFP

    series = _series(f, "lfp_raw_band", 0)
    f.add_acquisition(series)
    _ecephys(f).add(LFP(electrical_series=series))


def _filtered(f):
    from pynwb.ecephys import FilteredEphys

    _ecephys(f).add(FilteredEphys(electrical_series=_series(f, "theta", 0)))


def _named(f):  # no container: a series named *LFP*
    f.add_acquisition(_series(f, "ElectricalSeriesLFP", 0))


def _two_series(f):
    from pynwb.ecephys import LFP

    series = [_series(f, "shank0", 0), _series(f, "shank1", 1)]
    _ecephys(f).add(LFP(electrical_series=series))


def _two_containers(f):
    from pynwb.ecephys import LFP

    module = _ecephys(f)
    module.add(LFP(name="LFP_probeA", electrical_series=_series(f, "ElectricalSeries", 0)))
    module.add(LFP(name="LFP_probeB", electrical_series=_series(f, "ElectricalSeries", 1)))


def write(path: Path, layout: Callable) -> Path:
    from pynwb import NWBHDF5IO

    f = _file()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # hdmf warns about regions it will link; harmless
        layout(f)
        with NWBHDF5IO(str(path), "w") as io:
            io.write(f)
    return path


def assert_series(view: nwb.LFP, k: int) -> None:
    np.testing.assert_array_equal(view.volts(), _data(k) * 1e-6)
    np.testing.assert_array_equal(view.depths_um, REL_Y)
    assert view.rate == 1000.0


@pytest.mark.parametrize(
    ("layout", "where"),
    [
        (_default, "/processing/ecephys/LFP/ElectricalSeries"),
        (_acquisition, "/acquisition/LFP/ElectricalSeries"),
        (_linked, "/acquisition/lfp_raw_band"),
        (_filtered, "/processing/ecephys/FilteredEphys/theta"),
        (_named, "/acquisition/ElectricalSeriesLFP"),
    ],
    ids=["pynwb-default", "acquisition-LFP", "linked-from-LFP", "FilteredEphys", "named-LFP"],
)
def test_the_one_lfp_of_each_layout_is_read(tmp_path, layout, where):
    path = write(tmp_path / "f.nwb", layout)
    with nwb.lfp(path) as view:
        assert view.path == where
        assert_series(view, 0)


def test_an_lfp_container_linking_its_series_is_found(tmp_path):
    import h5py

    path = write(tmp_path / "f.nwb", _linked)
    with h5py.File(path, "r") as h5:  # the layout this test is about: a soft link
        link = h5["/processing/ecephys/LFP"].get("lfp_raw_band", getlink=True)
        assert isinstance(link, h5py.SoftLink)
    assert nwb.lfp_candidates(path) == {
        "/acquisition/lfp_raw_band": "/processing/ecephys/LFP/lfp_raw_band"
    }
    with nwb.lfp(path, "LFP") as view:  # the container that holds (links) one series
        assert_series(view, 0)


def test_several_series_in_one_container_are_named_and_chosen(tmp_path):
    path = write(tmp_path / "f.nwb", _two_series)
    with pytest.raises(nwb.NWBContentError) as err:
        nwb.lfp(path)
    message = str(err.value)
    assert "2 candidates" in message and str(path) in message
    assert "/processing/ecephys/LFP/shank0" in message and "LFP/shank1" in message
    assert "pass name=" in message
    for name in ("shank1", "LFP/shank1", "/processing/ecephys/LFP/shank1"):
        with nwb.lfp(path, name) as view:
            assert_series(view, 1)
    with pytest.raises(nwb.NWBContentError, match="2 candidates"):
        nwb.lfp(path, "LFP")  # the container holds two: still ambiguous


def test_two_containers_whose_series_share_a_name(tmp_path):
    path = write(tmp_path / "f.nwb", _two_containers)
    with pytest.raises(nwb.NWBContentError, match="'LFP_probeA/ElectricalSeries'"):
        nwb.lfp(path, "ElectricalSeries")
    with nwb.lfp(path, "LFP_probeB") as view:
        assert_series(view, 1)
    with nwb.lfp(path, "LFP_probeA/ElectricalSeries") as view:
        assert_series(view, 0)
    # chapter 7's input check offers each by a name that picks it.
    found = chapterinputs.check("07", path, {"lfp_name": None, "stimulus_table": "x",
                                             "onset_column": "start_time"})  # fmt: skip
    lfp = next(f for f in found if f.need.kind == "lfp")
    assert not lfp.ok
    assert (
        lfp.fix
        == "-p lfp_name 'LFP_probeA/ElectricalSeries' or -p lfp_name 'LFP_probeB/ElectricalSeries'"
    )


@pytest.mark.parametrize(
    ("layout", "pick", "k"),
    [
        (_default, lambda f: f.processing["ecephys"]["LFP"], 0),
        (_two_containers, lambda f: f.processing["ecephys"]["LFP_probeB"], 1),
        (_two_series, lambda f: f.processing["ecephys"]["LFP"]["shank1"], 1),
        (_filtered, lambda f: f.processing["ecephys"], 0),
        (_default, lambda f: f, 0),
    ],
    ids=["LFP-container", "one-of-two-containers", "the-series", "processing-module", "NWBFile"],
)
def test_pynwb_objects_read_from_a_file_are_accepted(tmp_path, layout, pick, k):
    from pynwb import NWBHDF5IO

    path = write(tmp_path / "f.nwb", layout)
    with NWBHDF5IO(str(path), "r") as io:
        obj = pick(io.read())
        with nwb.lfp(obj) as view:
            assert_series(view, k)
        assert obj.container_source == str(path)
