"""Stimulus tables: select presentations by their metadata, group them into blocks.

A stimulus table is a pandas DataFrame with one row per presentation, ``start_time`` and
``stop_time`` in seconds and one column per stimulus parameter (``stimulus_name``,
``orientation`` in degrees, ``contrast``, ``x_position`` ...), as
:func:`databook.nwb.stimulus_table` returns it. Everything here is vectorised over rows
and reads no file.

>>> import pandas as pd
>>> table = pd.DataFrame({"start_time": [0.0, 1.0, 2.0, 10.0],
...                       "stop_time": [0.5, 1.5, 2.5, 10.5],
...                       "orientation": [0.0, 90.0, 90.0, 45.0],
...                       "x_position": [-20.0, 0.0, 10.0, 30.0]})
>>> select(table, orientation=90, x_position=between(-5, 15)).index.tolist()
[1, 2]
>>> blocks(table, by=None, max_gap=2.0)[["start_time", "stop_time", "n_presentations"]].values
array([[ 0. ,  2.5,  3. ],
       [10. , 10.5,  1. ]])
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from databook.errors import DatabookError

__all__ = [
    "Between",
    "OnsetExpression",
    "TableError",
    "between",
    "block_labels",
    "blocks",
    "onset_expression",
    "onsets",
    "select",
    "trial_relative",
]

#: Relative tolerance for matching float columns: a value stored as float32 (0.8 becomes
#: 0.800000011920929) still equals the float64 literal a user types.
FLOAT_RTOL = 1e-6
_CLOSED = ("both", "left", "right", "neither")


class TableError(DatabookError, ValueError):
    """A selection or grouping that does not fit the table: missing column, wrong value
    type, or a value that no row has. The message names the table, the column and what the
    table holds instead."""


@dataclass(frozen=True)
class Between:
    """Values from ``low`` to ``high`` (in the column's unit); ``closed`` says which ends
    are included: ``"both"`` (default), ``"left"`` (``[low, high)``), ``"right"`` or
    ``"neither"``. Build one with :func:`between`."""

    low: float
    high: float
    closed: str = "both"

    def __post_init__(self) -> None:
        if self.closed not in _CLOSED:
            raise ValueError(f"closed must be one of {_CLOSED}, got {self.closed!r}")
        if np.isnan(self.low) or np.isnan(self.high) or self.low > self.high:
            raise ValueError(f"between needs low <= high, got ({self.low}, {self.high})")

    def mask(self, values: np.ndarray) -> np.ndarray:
        """Boolean mask of ``values`` inside the range (NaN is never inside)."""
        lower = values >= self.low if self.closed in ("both", "left") else values > self.low
        upper = values <= self.high if self.closed in ("both", "right") else values < self.high
        return lower & upper

    def __str__(self) -> str:
        left = "[" if self.closed in ("both", "left") else "("
        right = "]" if self.closed in ("both", "right") else ")"
        return f"{left}{self.low:g}, {self.high:g}{right}"

    def __repr__(self) -> str:
        closed = "" if self.closed == "both" else f", closed={self.closed!r}"
        return f"between({self.low:g}, {self.high:g}{closed})"


def between(low: float, high: float, *, closed: str = "both") -> Between:
    """A range criterion for :func:`select`: ``low <= value <= high`` by default.

    >>> between(0.2, 0.8, closed="left")
    between(0.2, 0.8, closed='left')
    """
    return Between(float(low), float(high), closed)


def _name(table: pd.DataFrame) -> str:
    return str(table.attrs.get("name") or table.attrs.get("path") or "the stimulus table")


def _present(values: np.ndarray, limit: int = 20) -> str:
    """The distinct values of a column, for messages."""
    try:
        distinct = pd.unique(pd.Series(values).dropna())
    except TypeError:  # unhashable cells (arrays)
        return "arrays"
    shown = ", ".join(map(str, sorted(distinct, key=str)[:limit]))
    more = f" ... ({len(distinct)} distinct)" if len(distinct) > limit else ""
    return (shown or "only missing values") + more


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def _kind(values: np.ndarray) -> str:
    """``number``, ``bool``, ``text`` or ``array`` (ragged cells) for a column's values."""
    if values.dtype.kind in "iuf":
        return "number"
    if values.dtype.kind == "b":
        return "bool"
    present = [v for v in values[:1000] if not (isinstance(v, float) and np.isnan(v))]
    if any(isinstance(v, np.ndarray | list | tuple) for v in present):
        return "array"
    if present and all(_is_number(v) for v in present):
        return "number"
    return "text"


def _equal_mask(values: np.ndarray, accepted: Sequence[Any], kind: str) -> np.ndarray:
    """Rows whose value is one of ``accepted`` (floats within :data:`FLOAT_RTOL`)."""
    if kind == "number":
        column = values.astype(np.float64)
        wanted = np.asarray(accepted, dtype=np.float64)
        close = np.abs(column[:, None] - wanted[None, :]) <= FLOAT_RTOL * np.abs(wanted)[None, :]
        both_nan = np.isnan(column)[:, None] & np.isnan(wanted)[None, :]
        return np.any(close | both_nan, axis=1)
    return pd.Series(values).isin(list(accepted)).to_numpy()


def _check_value(value: Any, kind: str, column: str, table: pd.DataFrame) -> None:
    ok = {
        "number": _is_number(value),
        "bool": isinstance(value, bool | np.bool_),
        "text": isinstance(value, str),
    }[kind]
    if not ok:
        raise TableError(
            f"{_name(table)}: column {column!r} holds {kind} values, but the criterion gave "
            f"{value!r} ({type(value).__name__}); values present: {_present(table[column])}"
        )


def _criterion_mask(table: pd.DataFrame, column: str, criterion: Any) -> np.ndarray:
    if column not in table.columns:
        raise TableError(
            f"{_name(table)} has no column {column!r}; its columns: "
            f"{', '.join(map(str, table.columns))}"
        )
    values = table[column].to_numpy()
    if callable(criterion) and not isinstance(criterion, Between):
        mask = np.asarray(criterion(table[column]))
        if mask.dtype != bool or mask.shape != (len(table),):
            raise TableError(
                f"{_name(table)}: the function given for column {column!r} must return one "
                f"bool per row ({len(table)}), got dtype {mask.dtype} shape {mask.shape}"
            )
        return mask
    kind = _kind(values)
    if kind == "array":
        raise TableError(
            f"{_name(table)}: column {column!r} holds arrays (one per row); select on it with "
            "a function of the column, e.g. lambda c: c.map(lambda v: v[0] == 1)"
        )
    if isinstance(criterion, Between):
        if kind != "number":
            raise TableError(
                f"{_name(table)}: between{criterion} needs a numeric column; {column!r} holds "
                f"{kind} values: {_present(values)}"
            )
        return criterion.mask(values.astype(np.float64))
    if isinstance(criterion, str) or np.ndim(criterion) == 0:
        accepted = [criterion]
    elif isinstance(criterion, Mapping):
        raise TableError(
            f"{_name(table)}: the criterion for column {column!r} is a mapping; give a value, "
            "a list of values, between(low, high) or a function"
        )
    else:
        accepted = list(np.asarray(criterion).tolist() if np.ndim(criterion) else criterion)
    if not accepted:
        raise TableError(f"{_name(table)}: the list of values for column {column!r} is empty")
    for value in accepted:
        _check_value(value, kind, column, table)
    return _equal_mask(values, accepted, kind)


def select(
    table: pd.DataFrame, where: Mapping[str, Any] | None = None, /, **columns: Any
) -> pd.DataFrame:
    """The rows of ``table`` that meet every criterion, in table order.

    Parameters
    ----------
    table : pandas.DataFrame
        A stimulus table (one row per presentation).
    where : mapping of column name to criterion, optional
        Criteria as a dict (for column names that are not Python identifiers, or to keep a
        condition in one parameter, e.g. ``condition = {"orientation": 90}``).
    **columns
        More criteria, by column name. A criterion is

        - a value: rows equal to it. Float columns match within a relative ``1e-6`` (so a
          contrast stored as float32 still equals ``0.8``); ``np.nan`` matches missing.
        - a list, tuple, set or array of values: rows equal to any of them;
        - ``between(low, high)``: rows in the range (both ends included by default);
        - a function of the column (a pandas Series) returning one bool per row.

    Returns
    -------
    pandas.DataFrame
        The selected rows (a copy), same columns and index; ``attrs`` kept.

    Raises
    ------
    TableError
        A column is missing (the message lists the table's columns); a value's type does not
        fit the column (text for a numeric column, ...); or one criterion on its own matches
        no row, which is nearly always a typo (the message lists the values present). A
        combination of criteria that matches nothing returns an empty table.

    Examples
    --------
    >>> table = pd.DataFrame({"stimulus_name": ["flash", "gabor", "gabor"],
    ...                       "orientation": [np.nan, 0.0, 90.0]})
    >>> select(table, {"stimulus_name": "gabor"}, orientation=[0, 45]).index.tolist()
    [1]
    """
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"select needs a pandas DataFrame, got {type(table).__name__}")
    criteria = {**(dict(where) if where is not None else {}), **columns}
    mask = np.ones(len(table), dtype=bool)
    for column, criterion in criteria.items():
        hit = _criterion_mask(table, column, criterion)
        if len(table) and not hit.any():
            shown = criterion if not callable(criterion) else "the function given"
            raise TableError(
                f"{_name(table)}: no row has {column} = {shown}; values present: "
                f"{_present(table[column].to_numpy())}"
            )
        mask &= hit
    out = table.loc[mask].copy()
    out.attrs = dict(table.attrs)
    return out


def _by_columns(table: pd.DataFrame, by: str | Sequence[str] | None) -> list[str]:
    names = [by] if isinstance(by, str) else list(by or [])
    for column in ("start_time", "stop_time", *names):
        if column not in table.columns:
            raise TableError(
                f"{_name(table)} has no column {column!r} to split blocks on; its columns: "
                f"{', '.join(map(str, table.columns))}"
            )
    return names


def _changes(values: np.ndarray) -> np.ndarray:
    """True where a value differs from the previous one (missing equals missing)."""
    if values.size < 2:
        return np.zeros(values.size, dtype=bool)
    current, previous = pd.Series(values[1:]), pd.Series(values[:-1])
    same = (current.to_numpy() == previous.to_numpy()) | (current.isna() & previous.isna())
    return np.concatenate([[False], ~np.asarray(same, dtype=bool)])


def block_labels(
    table: pd.DataFrame,
    by: str | Sequence[str] | None = "stimulus_name",
    *,
    max_gap: float | None = None,
) -> pd.Series:
    """The block each presentation belongs to (0, 1, ... in time order), as a Series on
    ``table``'s index. See :func:`blocks` for what starts a new block."""
    names = _by_columns(table, by)
    if max_gap is not None and not max_gap >= 0:
        raise ValueError(f"max_gap must be a non-negative number of seconds, got {max_gap}")
    start = table["start_time"].to_numpy(dtype=np.float64)
    stop = table["stop_time"].to_numpy(dtype=np.float64)
    if np.any(~np.isfinite(start)) or np.any(~np.isfinite(stop)) or np.any(stop < start):
        raise TableError(f"{_name(table)}: start_time/stop_time must be finite with stop >= start")
    order = np.argsort(start, kind="stable")
    new = np.zeros(start.size, dtype=bool)
    if start.size:
        new[0] = True
    for column in names:
        new |= _changes(table[column].to_numpy()[order])
    if max_gap is not None and start.size > 1:
        # Gap from the latest end so far, so an overlapping long presentation spans its block.
        latest_stop = np.maximum.accumulate(stop[order])
        new[1:] |= start[order][1:] - latest_stop[:-1] > max_gap
    labels = np.empty(start.size, dtype=np.int64)
    labels[order] = np.cumsum(new) - 1
    return pd.Series(labels, index=table.index, name="block")


def blocks(
    table: pd.DataFrame,
    by: str | Sequence[str] | None = "stimulus_name",
    *,
    max_gap: float | None = None,
) -> pd.DataFrame:
    """Split presentations into blocks of consecutive presentations.

    Presentations are taken in order of ``start_time``; a new block starts where any column
    of ``by`` changes value (e.g. the stimulus name, or ``["stimulus_name", "orientation"]``
    for runs of one orientation), or where the pause since the latest ``stop_time`` exceeds
    ``max_gap`` seconds (None: pauses never split).

    Parameters
    ----------
    table : pandas.DataFrame
        With ``start_time`` and ``stop_time`` (seconds) and the ``by`` columns; several
        stimulus tables may be concatenated first (``pd.concat``).
    by : column name, list of names, or None
    max_gap : float, seconds, optional

    Returns
    -------
    pandas.DataFrame
        One row per block, in time order: ``start_time`` (first onset), ``stop_time``
        (latest end), ``duration_s``, ``n_presentations``, the ``by`` columns' values, and
        ``first_row`` / ``last_row`` (index labels of the block's first and last
        presentation).
    """
    labels = block_labels(table, by, max_gap=max_gap)
    names = _by_columns(table, by)
    order = np.argsort(table["start_time"].to_numpy(dtype=np.float64), kind="stable")
    label = labels.to_numpy()[order]
    first = np.flatnonzero(np.diff(label, prepend=-1))
    last = np.append(first[1:] - 1, label.size - 1) if label.size else first
    start = table["start_time"].to_numpy(dtype=np.float64)[order]
    stop = table["stop_time"].to_numpy(dtype=np.float64)[order]
    end = np.maximum.reduceat(stop, first) if label.size else stop
    out = pd.DataFrame(
        {
            "start_time": start[first],
            "stop_time": end,
            "duration_s": end - start[first],
            "n_presentations": np.diff(np.append(first, label.size)),
        }
    )
    for column in names:
        out[column] = table[column].to_numpy()[order][first]
    out["first_row"] = table.index.to_numpy()[order][first]
    out["last_row"] = table.index.to_numpy()[order][last]
    out.index.name = "block"
    return out


# Derived onset columns ------------------------------------------------------------------
@dataclass(frozen=True)
class OnsetExpression:
    """An onset column, or a sum and difference of columns and constants, parsed.

    ``text``: the expression as given (``"start_time + cue_start_time"``); ``columns``: the
    column names it reads, in order of appearance; ``terms``: ``(sign, name or number)``
    pairs, the expression with its parentheses expanded.
    """

    text: str
    columns: tuple[str, ...]
    terms: tuple[tuple[int, str | float], ...]

    def evaluate(self, table: pd.DataFrame) -> pd.Series:
        """The expression's value per row of ``table`` (seconds; NaN where a term is NaN)."""
        missing = [c for c in self.columns if c not in table.columns]
        if missing:
            raise TableError(
                f"{_name(table)} has no column {', '.join(map(repr, missing))} (onset "
                f"{self.text!r}); its columns: {', '.join(map(str, table.columns))}"
            )
        total = np.zeros(len(table), dtype=np.float64)
        for sign, term in self.terms:
            if isinstance(term, float):
                total += sign * term
                continue
            values = table[term].to_numpy()
            if _kind(values) != "number":
                raise TableError(
                    f"{_name(table)}: onset {self.text!r} adds column {term!r}, which holds "
                    f"{_kind(values)} values, not times: {_present(values, 5)}"
                )
            total += sign * values.astype(np.float64)
        return pd.Series(total, index=table.index, name=self.text)


def _terms(node: ast.AST, sign: int, text: str) -> list[tuple[int, str | float]]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
        right = sign if isinstance(node.op, ast.Add) else -sign
        return _terms(node.left, sign, text) + _terms(node.right, right, text)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd | ast.USub):
        return _terms(node.operand, sign if isinstance(node.op, ast.UAdd) else -sign, text)
    if isinstance(node, ast.Name):
        return [(sign, node.id)]
    if isinstance(node, ast.Constant) and _is_number(node.value):
        return [(sign, float(node.value))]
    shown = ast.get_source_segment(text, node) or type(node).__name__
    raise TableError(
        f"onset {text!r}: {shown!r} is not allowed; an onset is a column name, or column "
        "names and numbers (seconds) joined by + and - with parentheses, e.g. "
        "'start_time + cue_start_time'"
    )


def onset_expression(text: str, columns: Sequence[str] = ()) -> OnsetExpression:
    """Parse an onset: a column name, or an expression of columns, e.g. a trial's start plus
    a trial-relative event time, ``"start_time + cue_start_time"``.

    Only column names, numeric constants (seconds), ``+``, ``-`` and parentheses are
    allowed; the text is parsed with :mod:`ast` and never evaluated as Python. A name in
    ``columns`` (the table's) is taken as one column even if it is no Python identifier.

    Raises
    ------
    TableError
        The text is empty, not an expression, or uses anything else (calls, ``*``,
        attributes ...); the message says what is allowed.

    Examples
    --------
    >>> onset_expression("start_time + (cue_start_time - 0.1)").terms
    ((1, 'start_time'), (1, 'cue_start_time'), (-1, 0.1))
    """
    if not isinstance(text, str):
        raise TableError(f"an onset must be a column name or an expression (text), not {text!r}")
    stripped = text.strip()
    if stripped in columns:
        return OnsetExpression(text, (stripped,), ((1, stripped),))
    try:
        tree = ast.parse(stripped, mode="eval")
    except SyntaxError:
        raise TableError(
            f"onset {text!r} is neither a column name nor an expression of columns joined by "
            "+ and -, e.g. 'start_time + cue_start_time'"
        ) from None
    terms = tuple(_terms(tree.body, 1, stripped))
    names = tuple(dict.fromkeys(t for _, t in terms if isinstance(t, str)))
    if not names:
        raise TableError(f"onset {text!r} names no column; e.g. 'start_time + cue_start_time'")
    return OnsetExpression(text, names, terms)


def onsets(table: pd.DataFrame, onset: str) -> pd.Series:
    """Onset times (seconds) of every row of ``table``: the column ``onset``, or the value
    of an onset expression such as ``"start_time + cue_start_time"`` (see
    :func:`onset_expression`).

    Returns
    -------
    pandas.Series
        float64, one value per row, on ``table``'s index, named ``onset``; NaN where a
        column used is NaN (a trial without the event): ``.dropna()`` keeps the events.

    Raises
    ------
    TableError
        The expression is not allowed, or names a column the table lacks (the message
        names the table, the column and the columns it has) or a column that is not numeric.

    Examples
    --------
    >>> trials = pd.DataFrame({"start_time": [10.0, 20.0], "cue_start_time": [1.5, np.nan]})
    >>> onsets(trials, "start_time + cue_start_time").tolist()
    [11.5, nan]
    """
    return onset_expression(onset, list(map(str, table.columns))).evaluate(table)


def _trial_lengths(table: pd.DataFrame) -> np.ndarray:
    """Each row's length (s): ``stop_time - start_time``, else the time to the next start."""
    start = table["start_time"].to_numpy(dtype=np.float64)
    length = np.full(start.size, np.nan)
    if "stop_time" in table and _kind(table["stop_time"].to_numpy()) == "number":
        length = table["stop_time"].to_numpy(dtype=np.float64) - start
    order = np.argsort(start, kind="stable")
    gaps = np.full(start.size, np.nan)
    gaps[order[:-1]] = np.diff(start[order])
    return np.where(np.isfinite(length), length, gaps)


def trial_relative(table: pd.DataFrame) -> dict[str, str]:
    """The time columns of ``table`` that plainly hold times relative to each row's start.

    A float column named ``*time*`` (other than ``start_time``/``stop_time``) counts when
    its finite values are non-negative and vary, at least 95 % of them are at most twice
    their trial's length (``stop_time - start_time``, else the time to the next row's
    start; the median length where that is longer or unknown; real files have the odd
    late event), and ``start_time`` spans at least ten times the column's largest value:
    such a column is not on the session clock, and ``start_time + column`` is. Needs at
    least two rows.

    Returns
    -------
    dict
        ``{column: why}``, in the table's column order; ``why`` gives the numbers.

    Examples
    --------
    >>> trials = pd.DataFrame({"start_time": [0.0, 10.0, 20.0, 30.0],
    ...                        "cue_time": [1.1, 1.3, 0.9, 1.0],
    ...                        "lick_time": [4.5, 14.6, 24.2, 34.4]})
    >>> list(trial_relative(trials))
    ['cue_time']
    """
    if "start_time" not in table or len(table) < 2:
        return {}
    start = table["start_time"].to_numpy(dtype=np.float64)
    span = float(np.nanmax(start) - np.nanmin(start))
    lengths = _trial_lengths(table)
    if not np.isfinite(lengths).any():
        return {}
    typical = float(np.nanmedian(lengths))
    bound = 2 * np.fmax(lengths, typical)
    found = {}
    for column in table.columns:
        values = table[column].to_numpy()
        if column in ("start_time", "stop_time") or "time" not in str(column).lower():
            continue
        if values.dtype.kind != "f":
            continue
        values = values.astype(np.float64)
        ok = np.isfinite(values)
        finite = values[ok]
        if finite.size < 2 or np.all(finite == finite[0]) or np.any(finite < 0):
            continue
        low, top = float(finite.min()), float(finite.max())
        late = int(np.sum(finite > bound[ok]))
        if late <= 0.05 * finite.size and span >= 10 * top:
            exceptions = f", {late} of {finite.size} later" if late else ""
            found[column] = (
                f"values {low:.3g} to {top:.3g} s, within about one trial's length "
                f"(median {typical:.3g} s{exceptions}), while start_time spans {span:.4g} s"
            )
    return found
