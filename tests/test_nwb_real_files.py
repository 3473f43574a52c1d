"""The readers on published files: DANDI:000006 (ALM, unsorted spike times) and 000207.

Uses the byte-identical copies in ``../shared/data/dandi``; skips when they are absent.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest

from databook import align, nwb
from tests.conftest import ROOT

DANDI = ROOT.parent / "shared" / "data" / "dandi"
ALM = DANDI / "000006"
LARGEST = ALM / "sub-anm372904" / "sub-anm372904_ses-20170619.nwb"  # 66 units, 474,664 spikes
ONE_UNIT = ALM / "sub-anm372907" / "sub-anm372907_ses-20170613.nwb"
HUMAN = DANDI / "000207" / "sub-4" / "sub-4_ses-4_ecephys+image.nwb"

needs_alm = pytest.mark.skipif(
    not LARGEST.is_file(), reason=f"{ALM} (copies of DANDI:000006 assets) is absent"
)


def _file_spikes(path: Path) -> list[np.ndarray]:
    with h5py.File(path, "r") as h5:
        data = h5["units/spike_times"][()]
        ends = h5["units/spike_times_index"][()]
    return np.split(data, ends[:-1])


@needs_alm
@pytest.mark.parametrize("path", [LARGEST, ONE_UNIT], ids=["66-units", "1-unit"])
def test_unsorted_spike_times_are_sorted_on_read_and_said_once(path: Path) -> None:
    with pytest.warns(nwb.SpikeTimesRepairedWarning) as caught:
        df = nwb.units(path)
    assert len(caught) == 1, [str(w.message) for w in caught]
    message = str(caught[0].message)
    assert path.name in message and "sorted the spike times of" in message
    raw = _file_spikes(path)
    assert len(df) == len(raw)
    # Nothing lost, nothing duplicated, nothing moved between units; now in time order.
    for times, stored in zip(df["spike_times"], raw, strict=True):
        np.testing.assert_array_equal(times, np.sort(stored, kind="stable"))
        assert np.all(np.diff(times) >= 0)
    backwards = [uid for uid, s in zip(df.index, raw, strict=True) if np.any(np.diff(s) < 0)]
    assert backwards and df.attrs["sorted_units"] == backwards
    assert df.attrs["nan_spikes_dropped"] == {}
    # The analyses take the sorted units as they are.
    starts = np.array([1000.0, 1500.0])
    counts = align.event_counts(df["spike_times"].tolist(), starts, (0.0, 1.0))
    assert counts.shape[:2] == (len(df), 2)


def _ragged_units(path: Path, trains: list[list[float]]) -> None:
    data = np.concatenate([np.asarray(t, float) for t in trains])
    with h5py.File(path, "w") as h5:
        h5.attrs["nwb_version"] = "2.5.0"
        units = h5.create_group("units")
        units.attrs.update(neurodata_type="Units", namespace="core", colnames=["spike_times"])
        units["id"] = np.arange(len(trains))
        units["spike_times"] = data
        units["spike_times_index"] = np.cumsum([len(t) for t in trains])


def test_nan_spike_times_are_dropped_with_a_count(tmp_path: Path) -> None:
    path = tmp_path / "nan.nwb"
    _ragged_units(path, [[0.3, np.nan, 0.1], [1.0, 2.0], [np.nan, np.nan]])
    with pytest.warns(nwb.SpikeTimesRepairedWarning, match="dropped 3 NaN spike times from 2"):
        df = nwb.units(path)
    assert [t.tolist() for t in df["spike_times"]] == [[0.1, 0.3], [1.0, 2.0], []]
    assert df.attrs["sorted_units"] == [0] and df.attrs["nan_spikes_dropped"] == {0: 1, 2: 2}


def test_sorted_file_reads_silently(tmp_path: Path) -> None:
    path = tmp_path / "sorted.nwb"
    _ragged_units(path, [[0.1, 0.1, 0.3], [], [2.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        df = nwb.units(path)
    assert [t.tolist() for t in df["spike_times"]] == [[0.1, 0.1, 0.3], [], [2.0]]
    assert df.attrs["sorted_units"] == [] and df.attrs["nan_spikes_dropped"] == {}


def test_analyses_still_refuse_unsorted_spikes_given_directly() -> None:
    with pytest.raises(ValueError, match=r"spike_times\[0\] is not sorted"):
        align.event_counts([np.array([0.5, 0.1])], np.array([0.0]), (0.0, 1.0))
