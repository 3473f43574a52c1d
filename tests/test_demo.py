"""The embedded demo dandiset: reproducible, readable, shaped like the real files, and
consistent with the ground truth it records."""

from __future__ import annotations

import json

import numpy as np
import pytest

from databook.assets import DemoDataError, load_lock, sha256_file
from databook.assets import ensure_demo as ensure
from databook.demo import DEMO_FILES, generate


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    return generate(out, seed=0)


@pytest.fixture(scope="module")
def truth(demo):
    return json.loads(demo["demo-ground-truth"].read_text())


@pytest.fixture(scope="module")
def nwb(demo):
    from pynwb import NWBHDF5IO

    ios, files = [], {}
    for key in ("demo-ecephys", "demo-ophys-day1", "demo-ophys-day2"):
        io = NWBHDF5IO(str(demo[key]), "r")
        ios.append(io)
        files[key] = io.read()
    yield files
    for io in ios:
        io.close()


def test_generation_is_byte_identical_to_the_pins(demo, root):
    lock = load_lock(root / "assets.lock")
    for key, path in demo.items():
        assert lock[key].sha256 == sha256_file(path), f"{key} differs from assets.lock"
        assert lock[key].size == path.stat().st_size
    assert sum(p.stat().st_size for p in demo.values()) <= 40e6


def test_a_different_seed_gives_different_data(demo, tmp_path):
    other = generate(tmp_path, seed=1)
    for key in DEMO_FILES:
        assert sha256_file(other[key]) != sha256_file(demo[key])


def test_ecephys_is_shaped_like_allen(nwb):
    f = nwb["demo-ecephys"]
    electrodes = f.electrodes.to_dataframe()
    assert len(electrodes) == 384
    assert {
        "probe_vertical_position",
        "probe_horizontal_position",
        "location",
        "valid_data",
    } <= set(electrodes.columns)
    assert np.allclose(np.unique(np.diff(np.unique(electrodes.probe_vertical_position))), 20.0)
    units = f.units.to_dataframe()
    assert len(units) >= 100
    for col in (
        "spike_times",
        "peak_channel_id",
        "quality",
        "snr",
        "isi_violations",
        "firing_rate",
        "presence_ratio",
        "amplitude_cutoff",
        "waveform_duration",
    ):
        assert col in units.columns, col
    gabors = f.intervals["gabors_presentations"].to_dataframe()
    assert sorted(gabors.x_position.unique()) == list(np.linspace(-40, 40, 9))
    assert sorted(gabors.y_position.unique()) == list(np.linspace(-40, 40, 9))
    assert "flashes_presentations" in f.intervals
    opto = f.processing["optotagging"]["optogenetic_stimulation"].to_dataframe()
    assert {"start_time", "stop_time", "duration", "level", "condition"} <= set(opto.columns)
    lfp = f.processing["ecephys"]["LFP"]["probe_A_lfp"]
    assert lfp.data.shape[1] >= 96
    assert f.processing["running"]["running_speed"].data.shape[0] > 0


def test_tagged_units_follow_pulses_at_stated_latency(nwb, truth):
    f = nwb["demo-ecephys"]
    pulses = f.processing["optotagging"]["optogenetic_stimulation"]["start_time"][:]
    spikes = f.units["spike_times"]
    for tagged in truth["ecephys"]["tagged_units"]:
        times = spikes[tagged["unit"]]
        first = np.searchsorted(times, pulses)
        first = first[first < times.size]
        latency = times[first] - pulses[: first.size]
        locked = np.abs(latency - tagged["latency_s"]) < 0.002
        n = pulses.size
        assert abs(locked.mean() - tagged["reliability"]) < 4 * np.sqrt(0.25 / n) + 0.02
        assert abs(np.median(latency[locked]) - tagged["latency_s"]) < 0.0005
    for late in truth["ecephys"]["late_excited"]:
        times = spikes[late["unit"]]
        first = np.searchsorted(times, pulses)
        first = first[first < times.size]
        latency = times[first] - pulses[: first.size]
        assert (np.abs(latency - 0.003) < 0.002).mean() < 0.05  # not time-locked at 3 ms


def test_flash_responders_and_receptive_fields_match_truth(nwb, truth):
    from databook.align import event_counts

    f = nwb["demo-ecephys"]
    spikes = f.units["spike_times"]
    flashes = f.intervals["flashes_presentations"]["start_time"][:]
    for r in truth["ecephys"]["flash_responders"][:10]:
        edges = np.array([-0.2, 0.0, r["latency_s"], r["latency_s"] + 0.1])
        counts = event_counts([spikes[r["unit"]]], flashes, edges)[0].mean(axis=0)
        baseline, evoked = counts[0] / 0.2, counts[2] / 0.1
        assert abs(evoked - baseline - r["gain_hz"]) < 0.35 * r["gain_hz"] + 3
    gabors = f.intervals["gabors_presentations"].to_dataframe()
    for r in truth["ecephys"]["rf_units"][:10]:
        counts = event_counts([spikes[r["unit"]]], gabors.start_time.to_numpy(), [0.04, 0.24])
        rate = gabors.assign(c=counts[0, :, 0]).groupby(["y_position", "x_position"]).c.mean()
        y, x = rate.idxmax()
        assert np.hypot(x - r["center_deg"][0], y - r["center_deg"][1]) <= 25


def test_lfp_holds_the_planted_laminar_sequence_and_unflagged_bad_channels(nwb, truth):
    """Read with pynwb and numpy only: at each planted component's peak time the
    second difference of the trial-averaged LFP has its deepest sink at that component's
    sink; the LFP fades above the brain surface; the planted dead channel is flat and the
    noisy one 15 times noisier than its neighbours, and neither is flagged."""
    f = nwb["demo-ecephys"]
    lfp = f.processing["ecephys"]["LFP"]["probe_A_lfp"]
    csd_truth = truth["ecephys"]["csd"]
    channels = np.asarray(csd_truth["lfp_channels"])
    depths = f.electrodes["probe_vertical_position"][:][channels]
    valid = f.electrodes["valid_data"][:][channels]
    flashes = f.intervals["flashes_presentations"]["start_time"][:]
    data = lfp.data[:] * lfp.conversion
    dead = csd_truth["unflagged_bad_channels"]["dead"][0]
    noisy = csd_truth["unflagged_bad_channels"]["noisy"][0]
    assert valid[dead] and valid[noisy]
    good = np.setdiff1d(np.flatnonzero(valid), [dead, noisy])
    z = depths[good]
    dz = np.diff(z)
    for part in csd_truth["components"]:
        rows = ((flashes + part["peak_after_onset_s"] - lfp.starting_time) * lfp.rate).round()
        volts = data[rows.astype(int)].mean(axis=0)[good]
        # second difference on irregular spacing (the bad channels left out)
        d2 = 2 * ((volts[2:] - volts[1:-1]) / dz[1:] - (volts[1:-1] - volts[:-2]) / dz[:-1])
        csd = -csd_truth["sigma_s_per_m"] * d2 / ((dz[1:] + dz[:-1]) * 1e-12)
        near = np.abs(z[1:-1] - part["sinks_um"][0]) <= 100
        assert abs(z[1:-1][near][np.argmin(csd[near])] - part["sinks_um"][0]) <= 40, part["name"]
    assert [p["name"] for p in sorted(csd_truth["components"], key=lambda p: p["latency_s"])] == [
        "L4",
        "L2/3",
        "L5",
    ]
    evoked = np.abs(data[:, good]).max(axis=0)
    assert evoked[np.argmax(z)] < 0.1 * evoked.max()  # the top channel, above the surface
    assert csd_truth["surface_um"] < z.max()
    baseline = data[: int(0.9 * lfp.rate)]  # the second before the first flash
    spread = baseline.std(axis=0)
    neighbours = np.median(spread[[dead - 2, dead - 1, dead + 1, dead + 2]])
    assert spread[dead] < 0.5 * neighbours
    neighbours = np.median(spread[[noisy - 2, noisy - 1, noisy + 1, noisy + 2]])
    assert spread[noisy] > 10 * neighbours


def _centroids(plane):
    masks = plane["image_mask"][:]
    yy, xx = np.mgrid[0 : masks.shape[1], 0 : masks.shape[2]]
    weight = masks.sum(axis=(1, 2))
    return np.stack([(masks * yy).sum((1, 2)) / weight, (masks * xx).sum((1, 2)) / weight], 1)


def test_day2_is_day1_moved_by_the_stated_transform(nwb, truth):
    from databook.demo.ophys import transform_points

    t = truth["ophys"]["day1_to_day2"]
    assert 1.0 <= abs(t["angle_deg"]) <= 3.0
    planes = [
        nwb[k].processing["ophys"]["ImageSegmentation"]["PlaneSegmentation"]
        for k in ("demo-ophys-day1", "demo-ophys-day2")
    ]
    c1, c2 = _centroids(planes[0]), _centroids(planes[1])
    pairs = np.array(truth["ophys"]["matches_day1_day2"])
    predicted = transform_points(c1[pairs[:, 0]], t["angle_deg"], t["shift_yx_px"])
    error = np.hypot(*(predicted - c2[pairs[:, 1]]).T)
    assert np.median(error) < 1.0 and error.max() < 3.0
    ids1, ids2 = planes[0]["cell_id"][:], planes[1]["cell_id"][:]
    assert [[int(ids1[a]), int(ids2[b])] for a, b in pairs] == [[c, c] for c in ids1[pairs[:, 0]]]
    assert truth["ophys"]["lost_cells"] and truth["ophys"]["new_cells"]


def test_ophys_responders_have_planted_amplitude(nwb, truth):
    f = nwb["demo-ophys-day1"]
    series = f.processing["ophys"]["DfOverF"]["RoiResponseSeries"]
    assert np.median(np.diff(series.timestamps[:])) == pytest.approx(1 / 30, rel=0.01)
    dff = series.data[:]
    t = series.timestamps[:]
    onsets = f.intervals["grating_presentations"]["start_time"][:]
    ids = f.processing["ophys"]["ImageSegmentation"]["PlaneSegmentation"]["cell_id"][:]
    since = t - onsets[np.clip(np.searchsorted(onsets, t, side="right") - 1, 0, None)]
    window = (since >= 0.3) & (since < 1.9) & (t >= onsets[0])
    before = (since >= 2.2) & (t >= onsets[0])
    amplitudes = truth["ophys"]["responders"]["amplitude_dff"]
    for roi, cell in enumerate(ids):
        measured = dff[window, roi].mean() - dff[before, roi].mean()
        assert measured == pytest.approx(amplitudes.get(str(cell), 0.0), abs=0.05)
    for name in ("average_image", "max_projection"):
        assert f.processing["ophys"]["images"][name].data.shape == (256, 256)
    assert f.processing["eye_tracking"]["pupil_area"].data.shape[0] > 0


def test_nwbinspector_finds_no_violations(demo):
    from nwbinspector import inspect_nwbfile

    for key in ("demo-ecephys", "demo-ophys-day1", "demo-ophys-day2"):
        serious = [
            f"{m.check_function_name}: {m.message}"
            for m in inspect_nwbfile(nwbfile_path=str(demo[key]))
            if m.importance.name in ("CRITICAL", "BEST_PRACTICE_VIOLATION", "ERROR")
        ]
        assert serious == [], key


def test_ensure_regenerates_an_altered_cache_and_names_bad_pins(root, tmp_path, demo):
    import shutil

    from databook.assets import demo_dir

    lock = load_lock(root / "assets.lock")
    folder = demo_dir(tmp_path)
    folder.mkdir(parents=True)
    for path in demo.values():
        shutil.copy2(path, folder / path.name)
    (folder / "ophys-day1.nwb").write_bytes(b"truncated")
    paths = ensure(lock, tmp_path)
    assert sha256_file(paths["demo-ophys-day1"]) == lock["demo-ophys-day1"].sha256
    from dataclasses import replace

    bad = dict(lock, **{"demo-ecephys": replace(lock["demo-ecephys"], sha256="0" * 64)})
    with pytest.raises(
        DemoDataError, match=r"demo-ecephys: sha256 [0-9a-f]{64} \(expected 0{64}\)"
    ):
        ensure(bad, tmp_path)


def test_generate_twice_in_one_interpreter_gives_the_same_files(tmp_path):
    """`databook.demo.generate` used to be shadowed by its submodule after the first call."""
    import databook

    first = databook.demo.generate(tmp_path / "a", only=["demo-ophys-day1"])
    second = databook.demo.generate(tmp_path / "b", only=["demo-ophys-day1"])
    assert sha256_file(first["demo-ophys-day1"]) == sha256_file(second["demo-ophys-day1"])
    assert first["demo-ophys-day1"].parent == tmp_path / "a"


def test_the_demo_writes_files_and_never_imports_assets():
    """Data flows one way: assets verifies what demo writes, demo knows nothing of pins."""
    import ast
    from pathlib import Path

    import databook.demo

    for path in Path(databook.demo.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)} | {
            a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names
        }
        assert "databook.assets" not in imported, f"{path.name} imports databook.assets"
