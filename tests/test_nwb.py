"""databook.nwb against direct h5py reads: demo files, other labs' real files, a pynwb-written
mini file, streaming over a 127.0.0.1 range server, and the errors a user sees."""

from __future__ import annotations

import os
import re
import shutil
import sys
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest

from databook import nwb
from databook.localarchive import Archive, DandiServer
from databook.nwb import NWBContentError

sys.path.insert(0, str(Path(__file__).parent))
import nwb_minifile as mini
from conftest import ROOT

REAL = Path(os.environ.get("DATABOOK_REAL_DATA", ROOT.parent / "shared" / "data" / "real"))
REAL_FILES = sorted(REAL.glob("*.nwb")) if REAL.is_dir() else []
# The 000006 files store spike times out of order; tests/test_nwb_real_files.py checks the
# warning that says so, these tests check what is read.
pytestmark = pytest.mark.filterwarnings("ignore::databook.nwb.SpikeTimesRepairedWarning")
NO_REAL = f"the real NWB files are not at {REAL} (../shared/data/real; or set DATABOOK_REAL_DATA)"
# What each real file holds, from its README (not from our reader or h5py).
FACTS = {
    "svoboda-alm_sub-anm00239123_ecephys+ogen.nwb": {
        "units": 4,
        "spikes": 34057,
        "electrodes": 32,
        "tables": {"trials": 412},
    },
    "rutishauser-human-mtl_sub-4_ses-4_ecephys+image.nwb": {
        "units": 35,
        "spikes": 214278,
        "electrodes": 19,
        "tables": {"encoding_table": 90, "recognition_table": 180, "timediscrimination_table": 180},
    },
    "svoboda-alm_sub-anm369963_ses-20170228.nwb": {
        "units": 1,
        "spikes": 1679,
        "electrodes": 64,
        "tables": {"trials": 178},
    },
    "svoboda-alm_sub-anm372793_ses-20170508.nwb": {
        "units": 1,
        "spikes": 2434,
        "electrodes": 64,
        "tables": {"trials": 340},
    },
}
SVOBODA_OGEN, RUTISHAUSER, SVOBODA_2020 = (
    "svoboda-alm_sub-anm00239123_ecephys+ogen.nwb",
    "rutishauser-human-mtl_sub-4_ses-4_ecephys+image.nwb",
    "svoboda-alm_sub-anm369963_ses-20170228.nwb",
)


def real_params():
    if not REAL_FILES:
        return [pytest.param(None, marks=pytest.mark.skip(reason=NO_REAL), id="real-missing")]
    return [
        pytest.param(p, id=p.name.split("_")[1] if "_" in p.name else p.stem) for p in REAL_FILES
    ]


def real(name: str) -> Path:
    path = REAL / name
    if not path.exists():
        pytest.skip(NO_REAL)
    return path


@pytest.fixture(scope="module")
def ecephys(demo) -> Path:
    return demo.paths["demo-ecephys"]


@pytest.fixture(scope="module")
def ophys(demo) -> Path:
    return demo.paths["demo-ophys-day1"]


@pytest.fixture(scope="module")
def minifile(tmp_path_factory) -> Path:
    return mini.write(tmp_path_factory.mktemp("mini") / "mini.nwb")


@pytest.fixture(params=["demo", *real_params()])
def ephys_file(request, ecephys) -> Path:
    return ecephys if request.param == "demo" else request.param


def _h5_units(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    with h5py.File(path, "r") as h5:
        return h5["units/id"][()], h5["units/spike_times"][()], h5["units/spike_times_index"][()]


# Units ------------------------------------------------------------------------------------
def test_units_match_h5py_unit_by_unit(ephys_file):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", nwb.SpikeTimesRepairedWarning)
        df = nwb.units(ephys_file)
    ids, data, ends = _h5_units(ephys_file)
    assert df.index.tolist() == ids.tolist()
    starts = np.r_[0, ends[:-1]]
    assert [len(s) for s in df["spike_times"]] == (ends - starts).tolist()
    backwards = []
    for i in range(len(df)):  # each unit's train is its own slice of the data, in time order
        stored = data[starts[i] : ends[i]]
        np.testing.assert_array_equal(df["spike_times"].iloc[i], np.sort(stored, kind="stable"))
        if np.any(np.diff(stored) < 0):
            backwards.append(ids[i])
    assert df.attrs["sorted_units"] == backwards
    assert len(caught) == (1 if backwards else 0)
    assert all(s.dtype == np.float64 for s in df["spike_times"])


@pytest.mark.parametrize("path", real_params())
def test_real_files_hold_what_their_readme_says(path):
    facts = FACTS[path.name]
    df = nwb.units(path)
    assert len(df) == facts["units"]
    assert sum(len(s) for s in df["spike_times"]) == facts["spikes"]
    assert len(nwb.electrodes(path)) == facts["electrodes"]
    listed = nwb.intervals(path)
    assert listed["n_rows"].to_dict() == facts["tables"]
    for name, n_rows in facts["tables"].items():
        assert len(nwb.stimulus_table(path, name)) == n_rows


def test_units_quality_columns_and_peak_channel_depths_match_h5py(ecephys, demo):
    df = nwb.units(ecephys)
    with h5py.File(ecephys, "r") as h5:
        for column in [
            "isi_violations",
            "amplitude_cutoff",
            "presence_ratio",
            "snr",
            "firing_rate",
            "peak_channel_id",
        ]:
            np.testing.assert_array_equal(df[column].to_numpy(), h5[f"units/{column}"][()])
        assert df["quality"].tolist() == h5["units/quality"].asstr()[()].tolist()
        table = h5["general/extracellular_ephys/electrodes"]
        row = {i: r for r, i in enumerate(table["id"][()])}
        rows = [row[i] for i in h5["units/peak_channel_id"][()]]
        expected_depth = table["probe_vertical_position"][()][rows]
        expected_location = table["location"].asstr()[()][rows]
    assert len(df) == demo.truth["ecephys"]["n_units"]
    assert df.attrs["electrode_join"] == "peak_channel_id"
    np.testing.assert_array_equal(df["electrode_depth_um"].to_numpy(), expected_depth)
    assert df["electrode_location"].tolist() == expected_location.tolist()
    assert {"VISp", "CA1"} <= set(df["electrode_location"])


def test_units_read_spike_times_in_one_read_each_of_data_and_index(ecephys, monkeypatch):
    reads: list[str] = []
    original = h5py.Dataset.__getitem__

    def counting(self, key):
        reads.append(self.name)
        return original(self, key)

    monkeypatch.setattr(h5py.Dataset, "__getitem__", counting)
    df = nwb.units(ecephys)
    assert len(df) == 120
    assert reads.count("/units/spike_times") == 1
    assert reads.count("/units/spike_times_index") == 1


def test_units_electrode_region_becomes_electrode_ids_and_locations():
    path = real(RUTISHAUSER)
    df = nwb.units(path)
    with h5py.File(path, "r") as h5:
        table = h5["general/extracellular_ephys/electrodes"]
        rows = h5["units/electrodes"][()]
        ids, locations = table["id"][()][rows], table["location"].asstr()[()][rows]
    assert df.attrs["electrode_join"] == "electrodes"
    assert df["electrode_id"].tolist() == ids.tolist()
    assert df["electrode_location"].tolist() == locations.tolist()
    assert set(df["electrode_location"]) == {"hippocampus_right", "amygdala_right"}


def test_units_leaves_heavy_columns_unless_asked():
    path = real(SVOBODA_OGEN)
    df = nwb.units(path)
    assert df.attrs["not_read"] == ["waveform_mean", "waveform_sd"]
    assert "waveform_mean" not in df
    with_waveforms = nwb.units(path, extra=["waveform_mean"])
    with h5py.File(path, "r") as h5:
        expected = h5["units/waveform_mean"][()]
    np.testing.assert_array_equal(np.stack(with_waveforms["waveform_mean"].to_list()), expected)
    with pytest.raises(NWBContentError, match=r"units: no column 'waveforms' in /units of .*; "):
        nwb.units(path, extra=["waveforms"])


def test_units_with_several_electrodes_keep_their_ids_and_group_names(minifile):
    df = nwb.units(minifile)
    ids = mini.ELECTRODE_IDS
    assert [list(e) for e in df["electrodes"]] == [
        [ids[r] for r in rows] for rows in mini.UNIT_ELECTRODE_ROWS
    ]
    assert df.attrs["electrode_join"] is None  # several electrodes per unit: no single depth
    assert df["electrode_group"].tolist() == ["shank", "shank"]
    assert [s.tolist() for s in df["spike_times"]] == mini.UNIT_SPIKES


# Electrodes and depths --------------------------------------------------------------------
def test_electrode_depths_come_from_probe_vertical_position(ecephys):
    df = nwb.electrodes(ecephys)
    with h5py.File(ecephys, "r") as h5:
        table = h5["general/extracellular_ephys/electrodes"]
        np.testing.assert_array_equal(df["depth_um"], table["probe_vertical_position"][()])
        assert df.index.tolist() == table["id"][()].tolist()
        assert df["location"].tolist() == table["location"].asstr()[()].tolist()
    assert df.attrs["depth_column"] == "probe_vertical_position"


def test_all_zero_positions_give_unknown_depths_not_zeros():
    df = nwb.electrodes(real(SVOBODA_2020))
    assert df.attrs["depth_column"] is None
    assert df["depth_um"].isna().all()
    assert "y is all zero" in df.attrs["depth_note"]
    assert df["location"].str.contains("brain_region: ALM").all()


def test_positions_without_a_stated_unit_are_not_guessed():
    path = real(SVOBODA_OGEN)
    df = nwb.electrodes(path)
    assert df["depth_um"].isna().all() and df.attrs["depth_column"] is None
    assert "neither the file nor its NWB 2.1.0 schema states their unit" in df.attrs["depth_note"]
    in_mm = nwb.electrodes(path, depth_unit="mm")
    with h5py.File(path, "r") as h5:
        y = h5["general/extracellular_ephys/electrodes/y"][()]
    np.testing.assert_allclose(in_mm["depth_um"], y * 1000.0)
    assert in_mm.attrs["depth_column"] == "y"
    with pytest.raises(ValueError, match="depth_unit must be 'um', 'mm' or 'm', got 'feet'"):
        nwb.electrodes(path, depth_unit="feet")


def test_rel_y_in_microns_per_the_cached_schema(minifile):
    df = nwb.electrodes(minifile)
    assert df.attrs["depth_column"] == "rel_y"
    assert df["depth_um"].tolist() == mini.REL_Y


def test_depth_unit_is_read_from_the_column_and_never_guessed(ecephys, tmp_path):
    path = tmp_path / "depths.nwb"
    shutil.copy(ecephys, path)
    column = "general/extracellular_ephys/electrodes/probe_vertical_position"
    with h5py.File(path, "r+") as h5:
        microns = h5[column][()]
        h5[column].attrs["description"] = "distance from the probe tip (mm)"
    assert nwb.electrodes(path)["depth_um"].tolist() == (microns * 1000.0).tolist()
    with h5py.File(path, "r+") as h5:
        h5[column].attrs["description"] = "distance from the probe tip"
    unstated = nwb.electrodes(path)
    assert unstated["depth_um"].isna().all() and unstated.attrs["depth_column"] is None
    assert (
        "neither the file nor its NWB 2.11.0 schema states their unit"
        in (unstated.attrs["depth_note"])
    )
    assert nwb.electrodes(path, depth_unit="um")["depth_um"].tolist() == microns.tolist()
    with h5py.File(path, "r+") as h5:
        h5[column][...] = 0.0
    zeroed = nwb.electrodes(path)
    assert zeroed["depth_um"].isna().all()
    assert zeroed.attrs["depth_note"] == "probe_vertical_position is all zero; depths unknown"


def test_location_falls_back_to_the_electrode_group(ecephys, tmp_path):
    path = tmp_path / "no-location.nwb"
    shutil.copy(ecephys, path)
    with h5py.File(path, "r+") as h5:
        del h5["general/extracellular_ephys/electrodes/location"]
    df = nwb.electrodes(path)
    assert df.attrs["location_source"] == "electrode group"
    assert set(df["location"]) == {"VISp"}  # probeA's location attribute


# The tree of groups ------------------------------------------------------------------------
@pytest.mark.parametrize("which", ["demo-ecephys", "demo-ophys-day1", *real_params()])
def test_tree_shows_every_group_to_its_depth_with_h5py_row_counts(which, demo):
    path = demo.paths[which] if isinstance(which, str) else which
    text = nwb.tree(path, max_depth=2)
    lines = text.splitlines()[1:]
    with h5py.File(path, "r") as h5:
        level1 = sorted(n for n in h5 if isinstance(h5[n], h5py.Group) and n != "specifications")
        level2 = [
            (top, n)
            for top in level1
            for n in h5[top]
            if isinstance(h5[top].get(n, getlink=True), h5py.HardLink)
            and isinstance(h5[top][n], h5py.Group)
        ]
        # one line per group of depth 1 and 2, in HDF5 order, nothing deeper
        names = [re.sub(r"^[|`\- ]+", "", line).split("  ")[0] for line in lines]
        assert names == [n for top in level1 for n in [top] + [c for t, c in level2 if t == top]]
        for top, name in level2:
            group = h5[top][name]
            if "id" in group:
                line = next(x for x in lines if re.search(rf"[-`]- {re.escape(name)}  ", x))
                assert f"{len(group['id'])} rows" in line


def test_tree_depth_counts_what_is_below_and_rejects_bad_depths(ecephys):
    deep = nwb.tree(ecephys, max_depth=3)
    assert "|   |   `-- LFP  [LFP]  (+1 group below)" in deep
    assert "`-- units  [Units, 120 rows]" in deep
    assert "probe_A_lfp" not in deep and "probe_A_lfp" in nwb.tree(ecephys, max_depth=4)
    assert "|-- processing  (+7 groups below)" in nwb.tree(ecephys, max_depth=1)
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match="max_depth must be a whole number >= 1"):
            nwb.tree(ecephys, max_depth=bad)


def test_stored_bytes_are_the_datasets_and_chunks_a_read_must_fetch(ecephys):
    lfp_path = "/processing/ecephys/LFP/probe_A_lfp/data"
    with h5py.File(ecephys, "r") as h5:
        units = [h5["units"][n].id.get_storage_size() for n in h5["units"]]
        lfp = h5[lfp_path]
        rows = lfp.chunks[0]
        chunk = [lfp.id.get_chunk_info_by_coord((k * rows, 0)).size for k in range(3)]
        spikes = h5["units/spike_times"].id.get_storage_size()
    assert nwb.stored_bytes(ecephys, "/units") == sum(units)
    assert nwb.stored_bytes(ecephys, lfp_path, rows=slice(0, rows)) == chunk[0]
    assert nwb.stored_bytes(ecephys, lfp_path, rows=slice(rows - 1, rows + 1)) == sum(chunk[:2])
    assert nwb.stored_bytes(ecephys, lfp_path, rows=slice(rows, 3 * rows)) == sum(chunk[1:])
    assert nwb.stored_bytes(ecephys, lfp_path, rows=slice(5, 5)) == 0
    # spike_times is one chunk holding every spike: any rows of it cost that chunk
    assert nwb.stored_bytes(ecephys, "/units/spike_times", rows=slice(0, 10)) == spikes
    with pytest.raises(NWBContentError, match=r"no object at '/nope' in "):
        nwb.stored_bytes(ecephys, "/nope")
    with pytest.raises(ValueError, match="rows= applies to a dataset; /units is a group"):
        nwb.stored_bytes(ecephys, "/units", rows=slice(0, 1))


# Intervals and stimulus tables --------------------------------------------------------------
@pytest.mark.parametrize("which", ["demo-ecephys", "demo-ophys-day1", *real_params()])
def test_every_intervals_table_is_listed_and_read(which, demo):
    path = demo.paths[which] if isinstance(which, str) else which
    listed = nwb.intervals(path)
    with h5py.File(path, "r") as h5:
        expected = {name: len(h5["intervals"][name]["id"]) for name in h5["intervals"]}
        for name, row in listed.iterrows():
            table = nwb.stimulus_table(path, name)
            group = h5[row["path"]]
            assert len(table) == row["n_rows"] == len(group["id"])
            np.testing.assert_array_equal(table["start_time"], group["start_time"][()])
            np.testing.assert_array_equal(table["stop_time"], group["stop_time"][()])
            assert list(table.columns) == list(row["columns"])
    assert {n: listed.loc[n, "n_rows"] for n in expected} == expected


def test_allen_tables_including_optotagging_are_listed(ecephys):
    listed = nwb.intervals(ecephys)
    assert listed["n_rows"].to_dict() == {
        "flashes_presentations": 60,
        "gabors_presentations": 1215,
        "optogenetic_stimulation": 200,
    }
    assert listed.loc["optogenetic_stimulation", "path"] == (
        "/processing/optotagging/optogenetic_stimulation"
    )
    gabors = nwb.stimulus_table(ecephys, "/intervals/gabors_presentations")
    assert set(gabors["stimulus_name"]) == {"gabors"}
    assert set(gabors["x_position"]) == set(np.arange(-40.0, 41.0, 10.0))


def test_task_tables_keep_strings_and_numbers():
    table = nwb.stimulus_table(real(RUTISHAUSER), "encoding_table")
    assert table["Clip_name"].iloc[0] == "NB_24.mp4"
    assert table["stimCategory"].dtype == np.uint8
    trials = nwb.stimulus_table(real(SVOBODA_OGEN), "trials")
    assert (trials["photo_stim_power"] > 0).sum() == 63
    assert set(trials["photo_stim_period"]) == {"N/A", "delay"}


def test_ragged_tags_are_read_and_reference_columns_named_as_skipped(minifile):
    epochs = nwb.stimulus_table(minifile, "epochs")
    assert [list(t) for t in epochs["tags"]] == mini.EPOCH_TAGS
    assert epochs[["start_time", "stop_time"]].to_numpy().tolist() == [list(e) for e in mini.EPOCHS]
    assert epochs.attrs["skipped"] == {"timeseries": "object references"}


# LFP ----------------------------------------------------------------------------------------
def test_lfp_is_lazy_and_converts_to_volts_at_the_right_depths(ecephys, demo, monkeypatch):
    reads: list[str] = []
    original = h5py.Dataset.__getitem__
    monkeypatch.setattr(
        h5py.Dataset,
        "__getitem__",
        lambda self, key: reads.append(self.name) or original(self, key),
    )
    with nwb.lfp(ecephys) as view:
        data_path = view.data.name
        assert data_path not in reads  # opening the view read no samples
        assert view.shape == (61000, 96)
        truth = demo.truth["ecephys"]["csd"]
        assert view.rate == truth["lfp_rate_hz"]
        assert view.electrode_ids.tolist() == truth["lfp_channels"]
        volts = view.volts(100, 110)
        times = view.times(100, 110)
        t, v = view.window(view.starting_time + 1.0, view.starting_time + 1.1)
    with h5py.File(ecephys, "r") as h5:
        raw = h5[data_path]
        np.testing.assert_allclose(volts, raw[100:110] * raw.attrs["conversion"])
        depth = h5["general/extracellular_ephys/electrodes/probe_vertical_position"][()]
        start = h5[data_path.rsplit("/", 1)[0]]["starting_time"][()]
    assert start == 9.0
    np.testing.assert_allclose(times, start + np.arange(100, 110) / 500.0)
    assert len(t) == 50 and t[0] == pytest.approx(start + 1.0) and t[-1] < start + 1.1
    np.testing.assert_array_equal(view.depths_um, depth[truth["lfp_channels"]])
    assert v.shape == (50, 96)


def test_lfp_applies_channel_conversion_and_offset_on_timestamps(minifile):
    with nwb.lfp(minifile) as view:
        volts = view.volts()
        assert view.volts(5, 7, channels=[1, 3]).tolist() == volts[5:7][:, [1, 3]].tolist()
        np.testing.assert_allclose(view.times(), mini.LFP_TIMES)
        assert view.index(mini.LFP_TIMES[7]) == 7
        assert view.index(mini.LFP_TIMES[7] + 1e-6) == 8
        assert view.depths_um.tolist() == [mini.REL_Y[r] for r in mini.LFP_ROWS]
        assert view.electrode_ids.tolist() == [mini.ELECTRODE_IDS[r] for r in mini.LFP_ROWS]
        assert view.rate is None
    expected = mini.LFP_RAW * mini.LFP_CONVERSION * mini.CHANNEL_CONVERSION + mini.LFP_OFFSET
    np.testing.assert_allclose(volts, expected)


# Optogenetics, running, pupil ---------------------------------------------------------------
def test_allen_optotagging_table_gives_the_pulses(ecephys, demo):
    pulses = nwb.optogenetic_pulses(ecephys)
    opto = demo.truth["ecephys"]["opto"]
    assert len(pulses) == opto["n_pulses"]
    with h5py.File(ecephys, "r") as h5:
        group = h5["processing/optotagging/optogenetic_stimulation"]
        np.testing.assert_array_equal(pulses["start_time"], group["start_time"][()])
        np.testing.assert_array_equal(pulses["level"], group["level"][()])
    assert {"condition", "duration", "level"} <= set(pulses.columns)


def test_optogenetic_series_runs_of_power_are_the_pulses(minifile):
    pulses = nwb.optogenetic_pulses(minifile)
    got = pulses[["start_time", "stop_time", "power"]].to_numpy()
    np.testing.assert_allclose(got, mini.OPTO_PULSES)
    assert pulses.attrs["unit"] == "watts"


def test_running_speed_and_pupil_match_h5py(ecephys, ophys):
    speed = nwb.running_speed(ecephys)
    with h5py.File(ecephys, "r") as h5:
        np.testing.assert_array_equal(speed.values, h5["processing/running/running_speed/data"])
    np.testing.assert_allclose(speed.t, np.arange(len(speed.values)) / 60.0)
    assert speed.unit == "cm/s"
    area = nwb.pupil(ophys)
    with h5py.File(ophys, "r") as h5:
        np.testing.assert_array_equal(area.values, h5["processing/eye_tracking/pupil_area/data"])
    assert area.unit == "pixels^2" and len(area.t) == len(area.values) == 18000


# Optical physiology ---------------------------------------------------------------------------
def test_image_masks_become_sparse_rows(ophys):
    result = nwb.rois(ophys)
    with h5py.File(ophys, "r") as h5:
        segmentation = h5["processing/ophys/ImageSegmentation/PlaneSegmentation"]
        masks = segmentation["image_mask"][()]
        ids = segmentation["id"][()]
        cell_id = segmentation["cell_id"][()]
    assert result.fov_shape == (256, 256) and result.mask_column == "image_mask"
    assert result.masks.shape == (100, 256 * 256)
    np.testing.assert_array_equal(result.dense(), masks)
    assert result.ids.tolist() == ids.tolist()
    assert result.table["cell_id"].tolist() == cell_id.tolist()


def test_pixel_masks_and_image_masks_of_one_footprint_agree(minifile):
    pixels = nwb.rois(minifile, name="pixels")
    images = nwb.rois(minifile, name="images")
    assert pixels.mask_column == "pixel_mask" and pixels.fov_shape == mini.FOV
    np.testing.assert_array_equal(pixels.dense(), mini.image_masks())
    np.testing.assert_array_equal(images.dense(), mini.image_masks())
    assert pixels.ids.tolist() == mini.ROI_IDS


def test_dff_fluorescence_and_images_match_h5py(ophys, minifile):
    traces = nwb.dff(ophys)
    with h5py.File(ophys, "r") as h5:
        series = h5["processing/ophys/DfOverF/RoiResponseSeries"]
        np.testing.assert_array_equal(traces.values, series["data"][()])
        np.testing.assert_array_equal(traces.t, series["timestamps"][()])
        ids = h5["processing/ophys/ImageSegmentation/PlaneSegmentation/id"][()]
        expected_ids = ids[series["rois"][()]]
        mean = h5["processing/ophys/images/average_image"][()]
    assert traces.ids.tolist() == expected_ids.tolist()
    assert traces.values.shape == (9000, 100)
    raw = nwb.fluorescence(minifile)
    assert raw.ids.tolist() == [mini.ROI_IDS[r] for r in mini.FLUO_ROWS]
    np.testing.assert_allclose(raw.t, 1.0 + np.arange(10) / 30.0)
    np.testing.assert_allclose(raw.values, np.arange(20.0).reshape(10, 2) * mini.FLUO_CONVERSION)
    assert raw.unit == "a.u."
    pictures = nwb.images(ophys)
    assert set(pictures) == {"average_image", "max_projection"}
    np.testing.assert_array_equal(pictures["average_image"], mean)


# Sources ------------------------------------------------------------------------------------
def test_every_kind_of_source_reads_the_same_units(ecephys, root):
    from pynwb import NWBHDF5IO

    expected = [len(s) for s in nwb.units(ecephys)["spike_times"]]

    def counts(f):
        return [len(s) for s in nwb.units(f)["spike_times"]]

    assert counts(str(ecephys)) == expected
    assert counts("demo-ecephys") == expected  # an assets.lock key
    with h5py.File(ecephys, "r") as h5:
        assert counts(h5) == expected
    with NWBHDF5IO(str(ecephys), "r") as io:
        assert counts(io.read()) == expected
        assert counts(io) == expected
    with nwb.source(ecephys) as src:
        assert counts(src) == expected
        assert src.h5.id.valid
    assert not src.h5.id.valid  # closed on exit


def test_pynwb_refuses_a_real_file_that_the_readers_still_read():
    path = real(RUTISHAUSER)
    from pynwb import NWBHDF5IO

    with pytest.raises(Exception, match="OpticalSeries"), NWBHDF5IO(str(path), "r") as io:
        io.read()  # warnings are errors in these tests, as in a strict pipeline
    assert len(nwb.units(path)) == 35


def test_units_stream_from_a_url(ecephys):
    archive = Archive("000999", "0.240301.1200")
    served = archive.add("ecephys.nwb", ecephys)
    with DandiServer(archive) as server, archive.traffic() as traffic:
        url = f"{server.url}/blobs/{served.asset_id}"
        df = nwb.units(url)
        with nwb.source(url) as src:
            assert src.name == url
            assert len(nwb.stimulus_table(src, "flashes_presentations")) == 60
    local = nwb.units(ecephys)
    for a, b in zip(df["spike_times"], local["spike_times"], strict=True):
        np.testing.assert_array_equal(a, b)
    assert traffic.range_requests > 0 and traffic.whole_gets == 0  # range requests...
    assert traffic.bytes_ranged < 0.6 * ecephys.stat().st_size  # ...not the whole file


def test_a_table_in_intervals_is_read_without_walking_the_streamed_file(ecephys):
    """``stimulus_table`` looks in /intervals first; finding a table elsewhere walks every
    group, which over a stream costs more bytes than the table (2.9 kB here) holds."""
    archive = Archive("000999", "0.240301.1200")
    served = archive.add("ecephys.nwb", ecephys)
    with DandiServer(archive) as server:
        url = f"{server.url}/blobs/{served.asset_id}"
        with archive.traffic() as direct:
            table = nwb.stimulus_table(url, "flashes_presentations")
        with archive.traffic() as walked:
            elsewhere = nwb.stimulus_table(url, "optogenetic_stimulation")  # in /processing
    assert len(table) == 60 and len(elsewhere) == 200
    assert table.attrs["path"] == "/intervals/flashes_presentations"
    print(f"bytes: /intervals lookup {direct.bytes_ranged}, walk {walked.bytes_ranged}")
    assert direct.bytes_ranged < 0.8 * walked.bytes_ranged


# Errors a user sees ---------------------------------------------------------------------------
def test_missing_objects_name_reader_object_place_file_and_what_exists(ecephys, ophys):
    cases = [
        (
            nwb.units,
            ophys,
            r"units: no Units table in {f}; looked at every Units group; "
            r"the file has: .*/processing/ophys/DfOverF \(DfOverF\)",
        ),
        (
            nwb.electrodes,
            ophys,
            r"electrodes: no electrodes table at "
            r"/general/extracellular_ephys/electrodes of {f}; the file has: ",
        ),
        (
            nwb.lfp,
            ophys,
            r"lfp: no LFP ElectricalSeries \(inside an LFP container, or named "
            r"\*lfp\*\) in {f}; the file has: ",
        ),
        (
            nwb.rois,
            ecephys,
            r"rois: no PlaneSegmentation in {f}; looked at every "
            r"PlaneSegmentation group; the file has: .*/units \(Units\)",
        ),
        (nwb.dff, ecephys, r"dff: no RoiResponseSeries in a DfOverF in {f}; the file has: "),
        (nwb.pupil, ecephys, r"pupil: no pupil series in {f}; looked for pupil_area"),
        (nwb.images, ecephys, r"images: no Images group with images in {f}; the file has: "),
        (
            nwb.optogenetic_pulses,
            ophys,
            r"optogenetic_pulses: no optogenetic stimulation table "
            r"or OptogeneticSeries in {f}; ",
        ),
    ]
    for reader, path, message in cases:
        with pytest.raises(NWBContentError, match=message.format(f=re.escape(str(path)))):
            reader(path)
    with pytest.raises(
        NWBContentError,
        match=(
            r"fluorescence: no RoiResponseSeries in a Fluorescence in .*; RoiResponseSeries: "
            r"/processing/ophys/DfOverF/RoiResponseSeries$"
        ),
    ):
        nwb.fluorescence(ophys)
    with pytest.raises(
        NWBContentError,
        match=(
            r"stimulus_table: no table 'trials' in .*; looked in /intervals and every "
            r"TimeIntervals table; tables: flashes_presentations \(60 rows\), "
            r"gabors_presentations \(1215 rows\)"
        ),
    ):
        nwb.stimulus_table(ecephys, "trials")
    assert issubclass(NWBContentError, LookupError)


def test_missing_spike_times_lists_the_columns_there_are(ecephys, tmp_path):
    path = tmp_path / "sub-x.nwb"
    shutil.copy(ecephys, path)
    with h5py.File(path, "r+") as h5:
        del h5["units/spike_times"], h5["units/spike_times_index"]
    with pytest.raises(
        NWBContentError,
        match=(
            rf"units: no 'spike_times' column \(with 'spike_times_index'\) in /units of "
            rf"{re.escape(str(path))}; columns: .*quality, .*snr"
        ),
    ):
        nwb.units(path)


def test_real_file_without_pulses_points_at_its_stimulation_site_and_columns():
    with pytest.raises(
        NWBContentError,
        match=(
            r"optogenetic_pulses: .*stimulus sites: /general/optogenetics/left-ALM; stimulation "
            r"columns: /intervals/trials: photo_stim_type, photo_stim_period, photo_stim_power"
        ),
    ):
        nwb.optogenetic_pulses(real(SVOBODA_OGEN))


def test_sources_that_cannot_be_opened_say_why(tmp_path):
    import pynwb

    text = tmp_path / "notes.nwb"
    text.write_text("not HDF5")
    with pytest.raises(NWBContentError, match=r"open: .*notes\.nwb is not a readable HDF5"):
        nwb.units(text)
    with pytest.raises(
        FileNotFoundError,
        match=r"'nope' is neither an existing file, an "
        r"http\(s\) URL, nor an assets.lock key \(no asset 'nope'",
    ):
        nwb.units("nope")
    with pytest.raises(TypeError, match=r"an NWB source must be a path, .* not int"):
        nwb.units(3)
    from datetime import UTC, datetime

    memory = pynwb.NWBFile(
        session_description="x",
        identifier="mem",
        session_start_time=datetime(2024, 1, 1, tzinfo=UTC),
    )
    with pytest.raises(ValueError, match="NWBFile 'mem' exists only in memory"):
        nwb.units(memory)


def test_several_candidates_ask_for_a_name(minifile):
    with pytest.raises(
        NWBContentError,
        match=(
            r"rois: 2 candidates for PlaneSegmentation in .*: "
            r"/processing/ophys/ImageSegmentation/images, "
            r"/processing/ophys/ImageSegmentation/pixels; pass name= to choose one"
        ),
    ):
        nwb.rois(minifile)


def test_unit_count_is_the_units_rows_without_reading_spikes(ephys_file, ophys):
    ids, _, _ = _h5_units(ephys_file)
    assert nwb.unit_count(ephys_file) == len(ids) == len(nwb.units(ephys_file))
    with pytest.raises(NWBContentError) as counted:
        nwb.unit_count(ophys)
    with pytest.raises(NWBContentError) as read:
        nwb.units(ophys)
    assert str(counted.value) == str(read.value)  # the same message as the reader's
