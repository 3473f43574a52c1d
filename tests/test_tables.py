"""databook.tables: selecting presentations by metadata and grouping them into blocks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from databook import tables
from databook.tables import TableError, between


def gabor_table(seed: int = 0, n: int = 400) -> pd.DataFrame:
    """A shuffled Gabor-like table: grid positions, orientations, contrasts stored as float32."""
    rng = np.random.default_rng(seed)
    onsets = 100.0 + 0.25 * np.arange(n)
    table = pd.DataFrame(
        {
            "start_time": onsets,
            "stop_time": onsets + 0.25,
            "stimulus_name": rng.choice(["gabors", "flashes"], n),
            "orientation": rng.choice([0.0, 45.0, 90.0], n),
            "x_position": rng.choice(np.linspace(-40, 40, 9), n),
            "contrast": rng.choice(np.array([0.1, 0.8], dtype=np.float32), n),
        }
    )
    table.attrs["name"] = "gabors_presentations"
    return table


def test_select_matches_a_row_by_row_oracle():
    table = gabor_table()
    got = tables.select(
        table,
        {"stimulus_name": "gabors"},
        orientation=[0, 90],
        x_position=between(-10, 20),
        contrast=0.8,
    )
    keep = [
        i
        for i, row in table.iterrows()
        if row.stimulus_name == "gabors"
        and row.orientation in (0.0, 90.0)
        and -10 <= row.x_position <= 20
        and abs(row.contrast - 0.8) < 1e-6
    ]
    assert len(keep) > 10
    assert got.index.tolist() == keep
    assert got.attrs["name"] == "gabors_presentations"


def test_float32_contrast_equals_the_literal_a_user_types():
    table = gabor_table()
    assert table["contrast"].dtype == np.float32 and 0.8 not in set(table["contrast"])
    low = tables.select(table, contrast=0.1)
    high = tables.select(table, contrast=[0.8])
    assert len(low) + len(high) == len(table)
    assert (high["contrast"] > 0.5).all()


@pytest.mark.parametrize(
    ("closed", "expected"),
    [("both", [1, 2, 3]), ("left", [1, 2]), ("right", [2, 3]), ("neither", [2])],
)
def test_between_includes_the_ends_it_says(closed, expected):
    table = pd.DataFrame({"start_time": [0.0, 1, 2, 3, 4], "stop_time": [0.5, 1.5, 2.5, 3.5, 4.5]})
    table["x"] = [0.0, 10.0, 15.0, 20.0, 30.0]
    assert tables.select(table, x=between(10, 20, closed=closed)).index.tolist() == expected


def test_between_rejects_reversed_or_nan_bounds():
    with pytest.raises(ValueError, match="low <= high"):
        between(5, 1)
    with pytest.raises(ValueError, match="low <= high"):
        between(np.nan, 1)
    with pytest.raises(ValueError, match="closed"):
        between(0, 1, closed="open")


def test_nan_selects_missing_values_and_functions_select_anything():
    table = pd.DataFrame({"orientation": [np.nan, 0.0, np.nan, 90.0]})
    assert tables.select(table, orientation=np.nan).index.tolist() == [0, 2]
    odd = tables.select(table, orientation=lambda c: c.fillna(-1) > 45)
    assert odd.index.tolist() == [3]


def test_criteria_that_match_nothing_together_give_an_empty_table():
    table = pd.DataFrame({"a": [1, 1, 2], "b": ["x", "y", "x"]})
    out = tables.select(table, a=2, b="y")
    assert out.empty and list(out.columns) == ["a", "b"]


def test_missing_column_names_the_table_and_its_columns():
    with pytest.raises(
        TableError, match=r"gabors_presentations has no column 'contrsat'.*contrast"
    ):
        tables.select(gabor_table(), contrsat=0.8)


def test_a_value_no_row_has_lists_the_values_present():
    with pytest.raises(TableError, match=r"no row has orientation = 30.*0\.0, 45\.0, 90\.0"):
        tables.select(gabor_table(), orientation=30)


def test_text_for_a_numeric_column_is_refused():
    with pytest.raises(TableError, match=r"'orientation' holds number values.*'90'"):
        tables.select(gabor_table(), orientation="90")
    with pytest.raises(TableError, match=r"'stimulus_name' holds text values"):
        tables.select(gabor_table(), stimulus_name=1)
    with pytest.raises(TableError, match="needs a numeric column"):
        tables.select(gabor_table(), stimulus_name=between(0, 1))


def test_array_columns_and_bad_functions_get_clear_errors():
    table = pd.DataFrame({"color": [np.array([1.0, 1, 1]), np.array([-1.0, -1, -1])]})
    with pytest.raises(TableError, match="holds arrays"):
        tables.select(table, color=1.0)
    got = tables.select(table, color=lambda c: c.map(lambda v: v[0] > 0).to_numpy(dtype=bool))
    assert got.index.tolist() == [0]
    with pytest.raises(TableError, match="one bool per row"):
        tables.select(table, color=lambda c: np.ones(5, dtype=bool))
    with pytest.raises(TypeError, match="DataFrame"):
        tables.select(table.to_numpy(), color=1)


def session_table() -> pd.DataFrame:
    """Flashes, then gabors after a pause, then pulses with no pause, given out of order."""
    flashes = pd.DataFrame({"start_time": 10.0 + 2 * np.arange(5), "stimulus_name": "flashes"})
    gabors = pd.DataFrame({"start_time": 40.0 + 0.25 * np.arange(8), "stimulus_name": "gabors"})
    late = pd.DataFrame({"start_time": 60.0 + 0.25 * np.arange(4), "stimulus_name": "gabors"})
    pulses = pd.DataFrame({"start_time": 61.2 + np.arange(3), "stimulus_name": "pulse"})
    table = pd.concat([pulses, gabors, flashes, late], ignore_index=True)
    table["stop_time"] = table["start_time"] + 0.2
    return table


def test_blocks_split_on_name_changes_and_on_pauses():
    table = session_table()
    by_name = tables.blocks(table)
    assert by_name["stimulus_name"].tolist() == ["flashes", "gabors", "pulse"]
    assert by_name["n_presentations"].tolist() == [5, 12, 3]
    assert by_name["start_time"].tolist() == [10.0, 40.0, 61.2]
    assert by_name["stop_time"].tolist() == pytest.approx([18.2, 60.95, 63.4])
    with_gaps = tables.blocks(table, max_gap=5.0)
    assert with_gaps["n_presentations"].tolist() == [5, 8, 4, 3]
    assert with_gaps["n_presentations"].sum() == len(table)
    # first/last rows are index labels of the input, whatever its order
    assert table.loc[with_gaps["first_row"], "start_time"].tolist() == [10.0, 40.0, 60.0, 61.2]
    assert table.loc[with_gaps["last_row"], "start_time"].tolist() == [18.0, 41.75, 60.75, 63.2]


def test_block_labels_follow_the_input_index():
    table = session_table().sample(frac=1.0, random_state=3)
    labels = tables.block_labels(table, max_gap=5.0)
    assert labels.index.equals(table.index)
    for _block, rows in table.groupby(labels):
        assert rows["stimulus_name"].nunique() == 1
        assert rows["start_time"].max() - rows["start_time"].min() < 20
    assert sorted(labels.unique()) == [0, 1, 2, 3]


def test_blocks_by_several_columns_and_overlap():
    table = pd.DataFrame(
        {
            "start_time": [0.0, 1.0, 2.0, 3.0, 50.0],
            "stop_time": [100.0, 1.5, 2.5, 3.5, 50.5],  # a long first presentation
            "stimulus_name": ["g", "g", "g", "g", "g"],
            "orientation": [0.0, 0.0, 90.0, np.nan, np.nan],
        }
    )
    out = tables.blocks(table, ["stimulus_name", "orientation"], max_gap=10.0)
    # NaN equals NaN; the pause before 50 s is covered by the first presentation's end.
    assert out["n_presentations"].tolist() == [2, 1, 2]
    assert out["stop_time"].tolist() == [100.0, 2.5, 50.5]


def test_blocks_errors_name_what_is_missing():
    with pytest.raises(TableError, match=r"no column 'stimulus_name'.*start_time"):
        tables.blocks(pd.DataFrame({"start_time": [0.0], "stop_time": [1.0]}))
    with pytest.raises(ValueError, match="max_gap"):
        tables.blocks(session_table(), max_gap=-1)
    bad = session_table()
    bad.loc[0, "stop_time"] = bad.loc[0, "start_time"] - 1
    with pytest.raises(TableError, match="stop >= start"):
        tables.blocks(bad)


def test_blocks_of_the_demo_session_match_its_tables(demo):
    import h5py

    from databook import nwb

    key = "demo-ecephys"
    names = nwb.intervals(key).index.tolist()
    table = pd.concat([nwb.stimulus_table(key, n) for n in names], ignore_index=True)
    out = tables.blocks(table, max_gap=5.0)
    with h5py.File(demo.paths[key], "r") as f:
        rows = {
            "flashes": len(f["intervals/flashes_presentations/id"]),
            "gabors": len(f["intervals/gabors_presentations/id"]),
            "pulse": len(f["processing/optotagging/optogenetic_stimulation/id"]),
        }
        first = {
            "flashes": f["intervals/flashes_presentations/start_time"][0],
            "gabors": f["intervals/gabors_presentations/start_time"][0],
            "pulse": f["processing/optotagging/optogenetic_stimulation/start_time"][0],
        }
    assert dict(zip(out["stimulus_name"], out["n_presentations"], strict=True)) == rows
    assert dict(zip(out["stimulus_name"], out["start_time"], strict=True)) == first
