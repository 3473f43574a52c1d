"""What each chapter needs from an NWB file, and whether a given file has it.

One table, :data:`NEEDS`, says per chapter which things it reads (units with spike times,
a stimulus table with named columns, LFP with depths, ROI masks and dF/F, optogenetic
pulses) and which ``parameters``-cell variable names each. :func:`check` probes a file
with the :mod:`databook.nwb` readers (their :class:`~databook.nwb.NWBContentError`
messages say where they looked and what the file has instead) and returns one
:class:`Finding` per need; :func:`require` raises :class:`ChapterInputError` naming every
missing thing and the ``-p NAME VALUE`` that would map it. ``databook run`` and
``databook inspect`` both use these checks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from databook import nwb
from databook.errors import DatabookError

__all__ = ["NEEDS", "ChapterInputError", "Finding", "Need", "check", "require", "runnable"]


class ChapterInputError(DatabookError, LookupError):
    """The file lacks something a chapter reads; the message lists each missing thing."""


@dataclass(frozen=True)
class Need:
    """One thing a chapter reads.

    ``kind``: ``units``, ``table``, ``lfp``, ``ophys`` or ``opto``. ``table``: the
    parameter naming the intervals table (for ``kind="table"``); ``columns``: parameters
    naming columns of that table (values may be a column name or a tuple of names).
    ``optional``: the chapter reads it when the file has it and says so when it does not
    (e.g. chapter 1's LFP); a missing optional need does not stop the chapter.
    """

    kind: str
    table: str | None = None
    columns: tuple[str, ...] = ()
    optional: bool = False


@dataclass(frozen=True)
class Finding:
    """The result of probing one :class:`Need`: ``ok``, what was looked for, and if not ok
    where the reader looked, what the file has and the ``-p`` options that would map it.

    ``ok`` means "does not stop the chapter": an optional need the file lacks is ``ok``
    with ``absent=True`` (and ``detail`` says where the reader looked)."""

    need: Need
    what: str
    ok: bool
    detail: str = ""
    fix: str = ""
    absent: bool = False

    def line(self) -> str:
        if self.absent:
            return f"{self.what}: none (optional, the chapter runs without it); {self.detail}"
        if self.ok:
            return f"{self.what}: found"
        text = f"{self.what}: missing; {self.detail}"
        return text + (f"; map it with {self.fix}" if self.fix else "")


#: The parameter holding each chapter's NWB source, and what it reads from it.
SOURCE_PARAMETER = {
    "01": "asset",
    "02": "asset",
    "03": "asset",
    "04": "asset",
    "05": "asset",
    "06": "asset",
    "08": "day1_asset",
}
NEEDS: dict[str, tuple[Need, ...]] = {
    "01": (Need("units"), Need("table", "stimulus"), Need("lfp", optional=True)),
    "02": (
        Need("units"),
        Need("table", "stimulus", ("condition", "onset_column")),
        Need("table", "rf_stimulus", ("rf_condition",)),
        Need("opto", optional=True),  # the closed-bins pitfall; else the selected onsets
    ),
    "03": (Need("ophys"), Need("table", "table_name", ("direction_column",))),
    "04": (Need("units"), Need("table", "stimulus_name", ("onset_column",))),
    "05": (Need("units"), Need("table", "stimulus", ("x_column", "y_column"))),
    "06": (Need("units"), Need("opto")),
    "08": (Need("ophys"),),
}


def _err(call: Callable[[], Any]) -> str | None:
    try:
        call()
    except nwb.NWBContentError as err:
        return str(err)
    return None


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):  # a condition {column: value}
        return [str(k) for k in value]
    if isinstance(value, Sequence):
        return [str(v) for v in value]
    return [str(value)]


def _quote(value: str) -> str:
    return value if value.replace("_", "").isalnum() else repr(value)


def _table(need: Need, params: Mapping[str, Any], tables: pd.DataFrame) -> Finding:
    name = str(params[need.table])
    wanted = {p: _names(params[p]) for p in need.columns}
    what = f"intervals table {name!r} (-p {need.table})"
    if wanted:
        what = (
            what[:-1]
            + ", columns "
            + ", ".join(f"{v} (-p {p})" for p, vs in wanted.items() for v in vs)
            + ")"
        )
    have = [f"{n} ({row.n_rows} rows: {', '.join(row.columns)})" for n, row in tables.iterrows()]
    listing = "; ".join(have) if have else "none"
    hits = [
        n
        for n in tables.index
        if name in (n, tables.loc[n, "path"], tables.loc[n, "path"].lstrip("/"))
    ]
    if not hits:
        # Tables that hold every column asked for are the candidates to map to.
        fits = [
            n
            for n, row in tables.iterrows()
            if all(c in row.columns or c == "start_time" for vs in wanted.values() for c in vs)
        ]
        fix = (
            f"-p {need.table} {_quote(fits[0])}"
            if len(fits) == 1
            else (" or ".join(f"-p {need.table} {_quote(f)}" for f in fits[:4]) if fits else "")
        )
        detail = f"looked in /intervals and every TimeIntervals table; the file has: {listing}"
        if not fits:
            detail += "; no table has every column named"
        return Finding(need, what, False, detail, fix)
    columns = tables.loc[hits[0], "columns"]
    absent = {p: [c for c in vs if c not in columns] for p, vs in wanted.items()}
    absent = {p: cs for p, cs in absent.items() if cs}
    if not absent:
        return Finding(need, what, True)
    times = [c for c in columns if c.endswith("_time") or c.endswith("_times")]
    fix = " ".join(f"-p {p} {_quote((times or list(columns) or ['COLUMN'])[0])}" for p in absent)
    missing = ", ".join(c for cs in absent.values() for c in cs)
    return Finding(
        need,
        what,
        False,
        f"table {hits[0]!r} has no column {missing}; its columns: {', '.join(columns)}",
        fix + " (choose the column that holds the event)",
    )


def _probe(need: Need, src: nwb.Source, params: Mapping[str, Any]) -> Finding:
    if need.kind == "table":
        return _table(need, params, nwb.intervals(src))
    if need.kind == "units":
        what = "units with spike times"
        problem = _err(lambda: nwb.unit_count(src))
    elif need.kind == "lfp":
        what = "LFP with electrode depths"
        problem = _err(lambda: nwb.lfp(src).close()) or _err(lambda: nwb.electrodes(src))
        if problem is None and nwb.electrodes(src).attrs.get("depth_column") is None:
            problem = f"electrodes: no depth column (looked for {', '.join(nwb.DEPTH_COLUMNS)})"
    elif need.kind == "ophys":
        what = "ROI masks and dF/F traces"
        problem = _err(lambda: nwb.rois(src)) or _err(lambda: nwb.dff(src))
    elif need.kind == "opto":
        what = "optogenetic pulses"
        problem = _err(lambda: nwb.optogenetic_pulses(src))
    else:
        raise ValueError(f"unknown need kind {need.kind!r}")
    if problem is None:
        return Finding(need, what, True)
    if need.optional:
        return Finding(need, what, True, problem, absent=True)
    return Finding(need, what, False, problem)


def check(chapter: str, f: Any, params: Mapping[str, Any]) -> list[Finding]:
    """Probe the NWB source ``f`` for everything chapter ``chapter`` ("04") reads.

    ``params``: the chapter's parameters (defaults merged with the user's ``-p``).
    Returns one :class:`Finding` per need, in the order of :data:`NEEDS`.
    """
    if chapter not in NEEDS:
        raise ValueError(f"no input checks for chapter {chapter!r}; known: {', '.join(NEEDS)}")
    with nwb.source(f) as src:
        return [_probe(need, src, params) for need in NEEDS[chapter]]


def runnable(findings: Sequence[Finding]) -> bool:
    """True when every need was found (an optional need may be absent)."""
    return all(f.ok for f in findings)


def require(chapter: str, name: str, f: Any, params: Mapping[str, Any]) -> None:
    """Raise :class:`ChapterInputError` listing every missing need of ``chapter`` in ``f``."""
    findings = check(chapter, f, params)
    missing = [x for x in findings if not x.ok]
    if missing:
        lines = "\n".join(f"  - {x.line()}" for x in missing)
        raise ChapterInputError(
            f"chapter {name} cannot run on {f}: the file is missing {len(missing)} thing(s) "
            f"it reads:\n{lines}"
        )
