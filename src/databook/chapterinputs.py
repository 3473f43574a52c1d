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

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from databook import nwb, tables
from databook.errors import DatabookError
from databook.tables import TableError

__all__ = ["NEEDS", "ChapterInputError", "Finding", "Need", "check", "require", "runnable"]


class ChapterInputError(DatabookError, LookupError):
    """The file lacks something a chapter reads; the message lists each missing thing."""


@dataclass(frozen=True)
class Need:
    """One thing a chapter reads.

    ``kind``: ``units``, ``table``, ``lfp``, ``ophys`` (ROI masks and dF/F), ``rois`` (ROI
    masks only), ``image`` (a summary image) or ``opto``. ``table``: the parameter naming
    the intervals table (``kind="table"``) or the image (``kind="image"``; a value of None
    needs no image); ``columns``: parameters naming columns of that table (values may be a
    column name or a tuple of names). ``source``: the parameter naming another file the
    chapter reads this from (chapter 8's second session); None: the chapter's own source.
    Needs of another file are probed only when that file is given (:func:`check` with
    ``others=True``, as ``databook run`` does), not by ``databook inspect`` of one file.
    ``series``: the parameter naming the LFP ``ElectricalSeries`` (for ``kind="lfp"``; its
    value None means "the file's one LFP").
    ``optional``: the chapter reads it when the file has it and says so when it does not
    (e.g. chapter 1's LFP); a missing optional need does not stop the chapter.
    """

    kind: str
    table: str | None = None
    columns: tuple[str, ...] = ()
    source: str | None = None
    series: str | None = None
    optional: bool = False


@dataclass(frozen=True)
class Finding:
    """The result of probing one :class:`Need`: ``ok``, what was looked for, and if not ok
    where the reader looked, what the file has and the ``-p`` options that would map it.

    ``ok`` means "does not stop the chapter": an optional need the file lacks is ``ok``
    with ``absent=True`` (and ``detail`` says where the reader looked). ``suggest``: for a
    need that is found, ``-p`` options that fit the file better (an onset expression for a
    table whose event times are relative to each trial's start), and ``detail`` says why."""

    need: Need
    what: str
    ok: bool
    detail: str = ""
    fix: str = ""
    absent: bool = False
    suggest: str = ""

    def line(self) -> str:
        if self.absent:
            return f"{self.what}: none (optional, the chapter runs without it); {self.detail}"
        if self.ok and self.suggest:
            return f"{self.what}: found; suggested {self.suggest}: {self.detail}"
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
    "07": "asset",
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
    "03": (Need("ophys"), Need("table", "table_name", ("direction_column", "onset_column"))),
    "04": (Need("units"), Need("table", "stimulus_name", ("onset_column",))),
    "05": (Need("units"), Need("table", "stimulus", ("x_column", "y_column", "onset_column"))),
    "06": (Need("units"), Need("opto")),
    "07": (
        Need("lfp", series="lfp_name"),
        Need("table", "stimulus_table", ("onset_column",)),
    ),
    "08": (
        Need("rois"),
        Need("image", "image_name"),
        Need("rois", source="day2_asset"),
        Need("image", "image_name", source="day2_asset"),
    ),
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


def _is_onset(parameter: str) -> bool:
    """Parameters naming an onset column take onset expressions (``tables.onsets``)."""
    return parameter.endswith("onset_column")


#: Words in a trial-relative column's name that mark the event to align to, best first.
_EVENT_WORDS = ("cue", "go", "stim", "onset")


def _onset_advice(
    src: nwb.Source, table: str, params: Mapping[str, Any], onset_parameters: Sequence[str]
) -> tuple[str, str, str]:
    """``(suggest, problem, why)`` for the onset parameters of a chapter reading ``table``.

    ``problem``: an onset names a column of times relative to each trial's start on its
    own (the onsets would all fall in the session's first seconds); ``suggest``: the
    ``-p`` options adding ``start_time`` (for a problem, or for the default ``start_time``
    when the table has such columns); ``why``: the evidence (:func:`tables.trial_relative`).
    """
    relative = tables.trial_relative(nwb.stimulus_table(src, table))
    if not relative:
        return "", "", ""
    suggest, problems, why = [], [], []
    for parameter in onset_parameters:
        expr = tables.onset_expression(str(params[parameter]))
        alone = [c for c in expr.columns if c in relative]
        if expr.columns == ("start_time",):  # trial starts: suggest the task's event
            event = next(
                (c for w in _EVENT_WORDS for c in relative if w in c.lower()), next(iter(relative))
            )
        elif alone and "start_time" not in expr.columns:  # a trial-relative time on its own
            event = alone[0]
            problems.append(f"onset {expr.text!r} (-p {parameter}): {event}: {relative[event]}")
        else:
            continue
        suggest.append(f"-p {parameter} {_quote(f'start_time + {event}')}")
        why.append(f"{event}: {relative[event]}")
    return " ".join(suggest), "; ".join(problems), "; ".join(dict.fromkeys(why))


def _wanted(need: Need, params: Mapping[str, Any]) -> dict[str, list[str]]:
    """``{parameter: column names it reads}``; an onset expression reads its columns."""
    return {
        p: list(tables.onset_expression(params[p]).columns)
        if _is_onset(p) and isinstance(params[p], str)
        else _names(params[p])
        for p in need.columns
    }


def _table(
    need: Need, params: Mapping[str, Any], listed: pd.DataFrame, src: nwb.Source | None = None
) -> Finding:
    """Probe one table need against the file's tables (``listed``, :func:`nwb.intervals`);
    with ``src`` also check its onset parameters against the table's values."""
    name = str(params[need.table])
    what = f"intervals table {name!r} (-p {need.table})"
    try:
        wanted = _wanted(need, params)
    except TableError as err:
        return Finding(need, what, False, str(err))
    onset_parameters = [p for p in need.columns if _is_onset(p)]
    if wanted:
        what = (
            what[:-1]
            + ", columns "
            + ", ".join(f"{v} (-p {p})" for p, vs in wanted.items() for v in vs)
            + ")"
        )
    have = [f"{n} ({row.n_rows} rows: {', '.join(row.columns)})" for n, row in listed.iterrows()]
    listing = "; ".join(have) if have else "none"
    hits = [
        n
        for n in listed.index
        if name in (n, listed.loc[n, "path"], listed.loc[n, "path"].lstrip("/"))
    ]
    if not hits:
        # Candidates to map to: tables holding every column asked for, else tables where
        # each missing column has one look-alike (x_position -> x_deg); tables sharing a
        # word with the default name first (visual_flashes before rf_mapping for flashes_*).
        fits = []
        for n, row in listed.iterrows():
            mapping = _column_mapping(wanted, row.columns)
            if mapping is not None:
                fits.append((-len(_tokens(name) & _tokens(n)), n, mapping))
        fits.sort(key=lambda fit: fit[0])  # stable: the file's order among equals
        options = []
        for _, n, m in fits[:4]:
            option = [f"-p {need.table} {_quote(n)}", *(f"-p {p} {_quote(c)}" for p, c in m)]
            if src is not None and onset_parameters:
                mapped = {**params, need.table: n, **dict(m)}
                onset = _onset_advice(src, listed.loc[n, "path"], mapped, onset_parameters)[0]
                option += [onset] if onset else []
            options.append(" ".join(option))
        fix = " or ".join(options)
        fits = [n for _, n, _ in fits]
        detail = f"looked in /intervals and every TimeIntervals table; the file has: {listing}"
        if not fits:
            detail += "; no table has every column named"
        return Finding(need, what, False, detail, fix)
    columns = listed.loc[hits[0], "columns"]
    absent = {p: [c for c in vs if c not in columns] for p, vs in wanted.items()}
    absent = {p: cs for p, cs in absent.items() if cs}
    if not absent:
        if src is None or not onset_parameters:
            return Finding(need, what, True)
        suggest, problem, why = _onset_advice(
            src, listed.loc[hits[0], "path"], params, onset_parameters
        )
        if problem:
            return Finding(need, what, False, f"table {hits[0]!r}: {problem}", suggest)
        return Finding(need, what, True, why, suggest=suggest)
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


#: Words that say what a column holds, not which one it is (x_position and x_deg share "x").
_GENERIC = frozenset({"position", "pos", "deg", "degrees", "value", "column", "name", "id"})


def _tokens(column: str) -> set[str]:
    return set(re.split(r"[^a-z0-9]+", column.lower())) - _GENERIC - {""}


def _column_mapping(
    wanted: Mapping[str, list[str]], columns: Sequence[str]
) -> list[tuple[str, str]] | None:
    """``[(parameter, column)]`` mapping each wanted column the table lacks to its one
    look-alike (onsets: ``start_time``, which every table has), or None if some wanted
    column has no single look-alike. Present columns need no mapping."""
    mapping = []
    for parameter, names in wanted.items():
        for want in names:
            if want in columns or want == "start_time":
                continue
            alike = [c for c in columns if _tokens(want) and _tokens(want) == _tokens(c)]
            if len(alike) != 1 or len(names) != 1:
                return None
            mapping.append((parameter, alike[0]))
    return mapping


def _image(need: Need, src: nwb.Source, params: Mapping[str, Any]) -> Finding:
    name = params[need.table]
    what = f"summary image {name!r} (-p {need.table})"
    if name is None:
        return Finding(need, "summed ROI footprints (no image)", True)
    try:
        found = list(nwb.images(src))
    except nwb.NWBContentError as err:
        found, problem = [], str(err)
    else:
        problem = f"images: the file has {', '.join(found)}"
    if name in found:
        return Finding(need, what, True)
    # A mean projection registers best (Allen: average_image, Suite2p: meanImg).
    found.sort(key=lambda n: not any(k in n.lower() for k in ("mean", "average", "avg")))
    fix = f"-p {need.table} {_quote(found[0])}" if found else f"-p {need.table} None"
    return Finding(need, what, False, problem, fix + " (None: register on the summed footprints)")


def _lfp(need: Need, src: nwb.Source, params: Mapping[str, Any]) -> Finding:
    name = params.get(need.series) if need.series else None
    what = "LFP with electrode depths" + (f" (-p {need.series})" if need.series else "")
    problem = _err(lambda: nwb.lfp(src, name).close()) or _err(lambda: nwb.electrodes(src))
    if problem is None and nwb.electrodes(src).attrs.get("depth_column") is None:
        problem = f"electrodes: no depth column (looked for {', '.join(nwb.DEPTH_COLUMNS)})"
    if problem is None:
        return Finding(need, what, True)
    fix = ""
    if need.series and problem.startswith("lfp:"):
        # The LFPs the reader found (several, or none of the name given), else every
        # ElectricalSeries; by name, or container/name where two share a name.
        paths = list(nwb.lfp_candidates(src).values()) or src.typed("ElectricalSeries")
        short = [p.rsplit("/", 1)[-1] for p in paths]
        series = [
            s if short.count(s) == 1 else "/".join(p.strip("/").split("/")[-2:])
            for s, p in zip(short, paths, strict=True)
        ]
        fix = " or ".join(f"-p {need.series} {_quote(s)}" for s in series[:4])
    return Finding(need, what, False, problem, fix)


def _probe(need: Need, src: nwb.Source, params: Mapping[str, Any]) -> Finding:
    if need.kind == "table":
        return _table(need, params, nwb.intervals(src), src)
    if need.kind == "image":
        return _image(need, src, params)
    if need.kind == "units":
        what = "units with spike times"
        problem = _err(lambda: nwb.unit_count(src))
    elif need.kind == "lfp":
        found = _lfp(need, src, params)
        if found.ok or not need.optional:
            return found
        return Finding(need, found.what, True, found.detail, absent=True)
    elif need.kind == "ophys":
        what = "ROI masks and dF/F traces"
        problem = _err(lambda: nwb.rois(src)) or _err(lambda: nwb.dff(src))
    elif need.kind == "rois":
        what = "ROI masks"
        problem = _err(lambda: nwb.rois(src))
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


def _probe_other(need: Need, params: Mapping[str, Any]) -> Finding:
    """Probe ``need`` in the file named by the parameter ``need.source``."""
    other = params.get(need.source)
    if other is None:
        what = f"a second file (-p {need.source})"
        return Finding(need, what, False, "none given", f"-p {need.source} PATH")
    try:
        with nwb.source(other) as src:
            found = _probe(need, src, params)
    except (FileNotFoundError, nwb.NWBContentError) as err:
        found = Finding(need, "a readable NWB file", False, str(err))
    where = f" in {other} (-p {need.source})"
    return Finding(need, found.what + where, found.ok, found.detail, found.fix)


def check(
    chapter: str, f: Any, params: Mapping[str, Any], *, others: bool = False
) -> list[Finding]:
    """Probe the NWB source ``f`` for everything chapter ``chapter`` ("04") reads.

    ``params``: the chapter's parameters (defaults merged with the user's ``-p``).
    ``others``: also probe the other files the chapter reads (needs with a ``source``,
    named by those parameters); else only ``f``.
    Returns one :class:`Finding` per need probed, in the order of :data:`NEEDS`.
    """
    if chapter not in NEEDS:
        raise ValueError(f"no input checks for chapter {chapter!r}; known: {', '.join(NEEDS)}")
    with nwb.source(f) as src:
        own = {need: _probe(need, src, params) for need in NEEDS[chapter] if need.source is None}
    findings = []
    for need in NEEDS[chapter]:
        if need.source is None:
            findings.append(own[need])
        elif others:
            findings.append(_probe_other(need, params))
    return findings


def runnable(findings: Sequence[Finding]) -> bool:
    """True when every need was found (an optional need may be absent)."""
    return all(f.ok for f in findings)


def require(chapter: str, name: str, f: Any, params: Mapping[str, Any]) -> None:
    """Raise :class:`ChapterInputError` listing every missing need of ``chapter`` in ``f``."""
    findings = check(chapter, f, params, others=True)
    missing = [x for x in findings if not x.ok]
    if missing:
        lines = "\n".join(f"  - {x.line()}" for x in missing)
        raise ChapterInputError(
            f"chapter {name} cannot run on {f}: the file is missing {len(missing)} thing(s) "
            f"it reads:\n{lines}"
        )
