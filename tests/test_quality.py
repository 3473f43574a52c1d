"""Unit quality filters: the Siegle et al. (2021) thresholds, counts per filter, NaN fails."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from databook.quality import SIEGLE_2021, Threshold, filter_table, passes


def table():
    # unit: 0 passes all; 1 fails isi; 2 fails amplitude cutoff (exactly at 0.1: strict <);
    # 3 fails presence (exactly 0.9: strict >); 4 fails isi and presence; 5 NaN cutoff.
    return pd.DataFrame(
        {
            "isi_violations": [0.1, 0.6, 0.2, 0.0, 0.5, 0.1],
            "amplitude_cutoff": [0.05, 0.05, 0.1, 0.02, 0.01, np.nan],
            "presence_ratio": [0.95, 0.99, 0.93, 0.9, 0.5, 0.99],
        },
        index=pd.Index([10, 11, 12, 13, 14, 15], name="id"),
    )


def test_siegle_thresholds_are_the_published_ones():
    assert {k: (t.op, t.value) for k, t in SIEGLE_2021.items()} == {
        "isi_violations": ("<", 0.5),
        "amplitude_cutoff": ("<", 0.1),
        "presence_ratio": (">", 0.9),
    }


def test_passes_uses_strict_thresholds_and_nan_fails():
    ok = passes(table())
    assert ok.index.tolist() == [10, 11, 12, 13, 14, 15]
    assert ok.tolist() == [True, False, False, False, False, False]


def test_filter_table_counts_each_filter_alone_and_in_sequence():
    out = filter_table(table())
    assert out.index.tolist() == ["isi_violations", "amplitude_cutoff", "presence_ratio"]
    assert out["fail"].tolist() == [2, 2, 2]  # isi: 11, 14; cutoff: 12, 15; presence: 13, 14
    assert out["only_this"].tolist() == [1, 2, 1]  # 14 fails two filters
    assert out["removed_in_sequence"].tolist() == [2, 2, 1]
    assert out["remaining"].tolist() == [4, 2, 1]
    assert out.attrs["n_units"] == 6
    assert out["threshold"].tolist() == ["< 0.5", "< 0.1", "> 0.9"]


def test_order_changes_sequence_but_not_the_survivors():
    reordered = {
        k: SIEGLE_2021[k] for k in ["presence_ratio", "isi_violations", "amplitude_cutoff"]
    }
    out = filter_table(table(), reordered)
    assert out["removed_in_sequence"].tolist() == [2, 1, 2]
    assert out["remaining"].iloc[-1] == passes(table()).sum() == 1


def test_bad_criteria_are_named():
    with pytest.raises(ValueError, match="no column 'snr'"):
        filter_table(table(), {"snr": Threshold(">", 2)})
    with pytest.raises(ValueError, match="op must be one of"):
        Threshold("=", 1.0)
    with pytest.raises(ValueError, match="must be a Threshold"):
        passes(table(), {"isi_violations": 0.5})
