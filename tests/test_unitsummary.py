"""Per-unit response table: joins responsiveness, step latency, area and quality; sorts
unsorted spike trains; fraction per area."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from databook.demo.spiking import EvokedResponse, evoked_poisson
from databook.unitsummary import by_area, recovery, response_table

ONSETS = 1.0 + 1.5 * np.arange(60)


def units_frame(rng):
    evoked = evoked_poisson(EvokedResponse(3.0, 30.0, 0.04, 0.1), ONSETS, 95, 4, seed=1)
    flat = evoked_poisson(EvokedResponse(3.0, 3.0, 0.0, 0.1), ONSETS, 95, 4, seed=2)
    spikes = evoked + flat
    return pd.DataFrame(
        {
            "spike_times": spikes,
            "electrode_location": ["VISp", "VISp", "LP", None, "VISp", "LP", "LP", "CA1"],
            "electrode_depth_um": np.arange(8) * 100.0,
            "isi_violations": [0.1, 0.9, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1],
        },
        index=pd.Index(np.arange(8) + 100, name="id"),
    )


def test_table_joins_response_latency_area_and_quality():
    units = units_frame(np.random.default_rng(0))
    table = response_table(units, ONSETS)
    assert table.index.tolist() == units.index.tolist()
    # Unit 101 responds but fails the quality filter: outside the BH family, not called.
    assert table["responsive"].tolist() == [True, False, True, True] + [False] * 4
    assert table["direction"].tolist() == [1, 0, 1, 1] + [0] * 4
    assert np.isnan(table.loc[101, "q_value"]) and table.loc[101, "p_value"] < 1e-6
    family = table["passes_quality"].to_numpy()
    from scipy.stats import false_discovery_control

    expected_q = false_discovery_control(table["p_value"][family], method="bh")
    np.testing.assert_allclose(table["q_value"][family], expected_q, rtol=1e-12)
    assert np.all(np.abs(table["latency"].iloc[[0, 2, 3]] - 0.04) <= 0.005)
    assert table["latency"].iloc[[1, 4, 5, 6, 7]].isna().all()  # only for excited units
    assert table["area"].tolist()[:4] == ["VISp", "VISp", "LP", "unknown"]
    # Only the metric the table has is applied; the missing ones are named.
    assert table["passes_quality"].tolist() == [True, False] + [True] * 6
    assert table.attrs["quality_skipped"] == ["amplitude_cutoff", "presence_ratio"]


def test_unsorted_spikes_are_sorted_and_named():
    units = units_frame(np.random.default_rng(0))
    sorted_table = response_table(units, ONSETS)
    units.at[101, "spike_times"] = units.at[101, "spike_times"][::-1].copy()
    table = response_table(units, ONSETS)
    assert table.attrs["unsorted_units"] == [101]
    pd.testing.assert_frame_equal(table, sorted_table, check_like=False)


def test_by_area_counts_quality_passing_units():
    units = units_frame(np.random.default_rng(0))
    areas = by_area(response_table(units, ONSETS))
    assert areas.loc["VISp", "n_units"] == 2  # unit 101 fails the ISI filter
    assert areas.loc["VISp", "n_responsive"] == 1
    assert areas.loc["LP", "fraction"] == pytest.approx(1 / 3)
    assert areas.loc["CA1", "fraction"] == 0
    assert np.isnan(areas.loc["CA1", "median_latency"])
    every = by_area(response_table(units, ONSETS), quality_only=False)
    assert every.loc["VISp", "n_units"] == 3


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="'spike_times' column"):
        response_table(pd.DataFrame({"x": [1]}), ONSETS)
    with pytest.raises(ValueError, match="onsets must be"):
        response_table(units_frame(np.random.default_rng(0)), [np.nan])


def test_recovery_counts_hits_false_alarms_and_signed_errors():
    table = pd.DataFrame(
        {
            "responsive": [True, False, True, True],
            "direction": [1, 0, 1, -1],
            "latency": [0.05, np.nan, 0.02, np.nan],
            "duration": [0.1, np.nan, 0.05, np.nan],
            "gain": [12.0, np.nan, 5.0, np.nan],
            "peak_latency": [0.12, 0.2, 0.03, 0.1],
        },
        index=[7, 8, 9, 10],
    )
    planted = pd.DataFrame(
        {"latency_s": [0.04, 0.03], "duration_s": [0.1, 0.1], "gain_hz": [10.0, 20.0]},
        index=[7, 8],
    )
    check = recovery(table, planted)
    assert (check.hits, check.n_planted, check.false_alarms, check.n_other) == (1, 2, 2, 2)
    assert check.false_suppressed == 1  # unit 10: nothing suppressed is planted
    assert check.errors.loc[7, "latency"] == pytest.approx(0.01)
    assert check.errors.loc[7, "gain"] == pytest.approx(0.2)
    assert check.errors.loc[7, "peak_latency"] == pytest.approx(0.08)
    assert check.summary().loc["planted responders called excited", "value"] == "1 / 2"
    assert check.summary().loc["units called suppressed (none planted)", "value"] == "1 / 4"
    with pytest.raises(ValueError, match=r"planted units \[11\]"):
        recovery(table, planted.rename(index={8: 11}))
