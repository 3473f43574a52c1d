"""Unit quality filters: which sorted units a quality-metric criterion keeps, and why.

Spike sorters label many clusters that are not well-isolated single neurons. Allen's
Neuropixels files carry per-unit quality metrics (``isi_violations``,
``amplitude_cutoff``, ``presence_ratio``, ...); an analysis keeps the units that pass a
set of thresholds. This module applies such a set to a units table and reports how many
units each threshold removes, alone and in sequence, so the cost of each filter is
visible. No I/O: it takes the DataFrame :func:`databook.nwb.units` returns.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

__all__ = ["SIEGLE_2021", "Threshold", "drop_noise", "filter_table", "passes"]

_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


@dataclass(frozen=True)
class Threshold:
    """Keep a unit when ``metric <op> value`` (``op`` one of ``<``, ``<=``, ``>``, ``>=``).

    A unit whose metric is missing (NaN) fails: a metric that could not be computed is
    no evidence of quality.
    """

    op: str
    value: float

    def __post_init__(self) -> None:
        if self.op not in _OPS:
            raise ValueError(f"Threshold op must be one of {sorted(_OPS)}, got {self.op!r}")

    def __str__(self) -> str:
        return f"{self.op} {self.value:g}"


#: The default unit filter of the Allen Visual Coding Neuropixels dataset (Siegle et al.
#: 2021; AllenSDK ``EcephysSession`` defaults): ISI violations < 0.5, amplitude cutoff
#: < 0.1, presence ratio > 0.9.
SIEGLE_2021: dict[str, Threshold] = {
    "isi_violations": Threshold("<", 0.5),
    "amplitude_cutoff": Threshold("<", 0.1),
    "presence_ratio": Threshold(">", 0.9),
}


def _check(table: pd.DataFrame, criteria: Mapping[str, Threshold]) -> None:
    if not criteria:
        raise ValueError("criteria is empty: give at least one {metric: Threshold}")
    missing = [name for name in criteria if name not in table.columns]
    if missing:
        raise ValueError(
            f"units table has no column {', '.join(map(repr, missing))}; its columns: "
            f"{', '.join(map(str, table.columns))}"
        )
    for name, threshold in criteria.items():
        if not isinstance(threshold, Threshold):
            raise ValueError(f"criteria[{name!r}] must be a Threshold, got {threshold!r}")
        if not pd.api.types.is_numeric_dtype(table[name]):
            raise ValueError(f"column {name!r} must be numeric, got dtype {table[name].dtype}")


def _pass_matrix(table: pd.DataFrame, criteria: Mapping[str, Threshold]) -> NDArray[np.bool_]:
    """(n_units, n_criteria) bool: unit passes criterion (NaN fails)."""
    columns = []
    for name, threshold in criteria.items():
        values = table[name].to_numpy(dtype=np.float64)
        with np.errstate(invalid="ignore"):
            columns.append(_OPS[threshold.op](values, threshold.value) & ~np.isnan(values))
    return np.column_stack(columns) if columns else np.ones((len(table), 0), bool)


def passes(table: pd.DataFrame, criteria: Mapping[str, Threshold] = SIEGLE_2021) -> pd.Series:
    """Whether each unit passes every threshold.

    Parameters
    ----------
    table : DataFrame, one row per unit, with a numeric column per criterion
    criteria : ``{column: Threshold}``; default :data:`SIEGLE_2021`

    Returns
    -------
    pandas.Series of bool, indexed like ``table``
    """
    _check(table, criteria)
    return pd.Series(_pass_matrix(table, criteria).all(axis=1), index=table.index, name="passes")


def filter_table(
    table: pd.DataFrame, criteria: Mapping[str, Threshold] = SIEGLE_2021
) -> pd.DataFrame:
    """How many units each threshold removes.

    Returns
    -------
    pandas.DataFrame
        One row per criterion (in the order given), indexed by metric name, with
        ``threshold`` (text, e.g. ``"< 0.5"``), ``fail`` (units failing it, whatever the
        others say), ``only_this`` (units failing this and no other criterion: what
        dropping this filter would give back), ``removed_in_sequence`` (units this filter
        removes when the filters are applied in order) and ``remaining`` (units left after
        it in that sequence). ``attrs["n_units"]`` is the number of units before filtering.
    """
    _check(table, criteria)
    ok = _pass_matrix(table, criteria)
    fail = ~ok
    only = fail & (fail.sum(axis=1, keepdims=True) == 1)
    kept_after = np.cumprod(ok, axis=1).astype(bool)  # passed this and every earlier one
    remaining = kept_after.sum(axis=0)
    removed = np.diff(np.r_[len(table), remaining])
    out = pd.DataFrame(
        {
            "threshold": [str(t) for t in criteria.values()],
            "fail": fail.sum(axis=0),
            "only_this": only.sum(axis=0),
            "removed_in_sequence": -removed,
            "remaining": remaining,
        },
        index=pd.Index(list(criteria), name="metric"),
    )
    out.attrs["n_units"] = len(table)
    return out


def drop_noise(
    units: pd.DataFrame, *, label_column: str = "quality", noise: str = "noise"
) -> pd.DataFrame:
    """The units whose curation label is not ``noise``: the first step of every count.

    A cluster the curator labelled noise is not a neuron, whatever its metrics say; it is
    dropped before the metric thresholds (:func:`filter_table`) and before any test, so
    it is in no denominator and no family of tests. A table without ``label_column``
    is returned unchanged.

    Returns
    -------
    pandas.DataFrame
        The kept rows (same index and columns), with ``attrs["n_noise"]`` the number
        dropped (0 without the column) and ``attrs["noise_units"]`` their index values.
    """
    if label_column in units:
        is_noise = (units[label_column].astype(str) == noise).to_numpy(bool)
    else:
        is_noise = np.zeros(len(units), bool)
    kept = units[~is_noise].copy()
    kept.attrs = {**units.attrs, "n_noise": int(is_noise.sum()),
                  "noise_units": units.index[is_noise].tolist()}  # fmt: skip
    return kept
