"""Compare figure provenance records: why a figure is stale, or changed between builds.

A record (written by :mod:`databook.figures` beside each figure) lists every piece its
cache key was made of. :func:`changes` names the pieces that differ between two records;
:func:`diff` does that for two folders of records (two builds) and :func:`to_markdown`
prints the result as a pull-request comment.

A git ref has no records of its own: ``figures/`` is git-ignored. ``databook diff REF
figures`` builds the ref's figures in a temporary worktree (:mod:`databook.gitref`) and
compares those records with the working tree's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from databook.errors import DatabookError

__all__ = [
    "FigureChange",
    "ProvenanceError",
    "changes",
    "diff",
    "figure_table",
    "latex_notes",
    "load_records",
    "software_versions",
    "to_markdown",
]

SUFFIX = ".provenance.json"


class ProvenanceError(DatabookError, ValueError):
    """A folder of provenance records is missing, empty or holds an unreadable record."""


def _short(sha: str | None) -> str:
    return (sha or "none")[:12]


#: A figure drawn from more inputs than this (e.g. every session of a dandiset) names them
#: by dandiset and version in captions and tables; its record still lists each.
MAX_LISTED_INPUTS = 4


def input_summary(inputs: list[dict]) -> str | None:
    """``"30 assets of 000006@0.220126.1855"`` (one part per dandiset and version) for a
    figure with more than :data:`MAX_LISTED_INPUTS` inputs; None for fewer."""
    if len(inputs) <= MAX_LISTED_INPUTS:
        return None
    groups: dict[str, int] = {}
    for entry in inputs:
        where = f"{entry.get('dandiset')}@{entry.get('version')}"
        groups[where] = groups.get(where, 0) + 1
    return "; ".join(f"{n} asset{'s' * (n != 1)} of {where}" for where, n in groups.items())


def _input_label(entry: dict) -> str:
    if entry.get("dandiset") == "demo":
        where = f"demo/{entry.get('path', '?')}"
    elif entry.get("dandiset"):
        where = f"{entry['dandiset']}@{entry.get('version') or '?'}/{entry.get('path', '?')}"
    else:
        where = entry.get("key", "?")
    return f"{where} sha256 {_short(entry.get('sha256'))}"


def changes(old: dict, new: dict) -> list[str]:
    """What differs between two records in what a figure is built from (not its outputs).

    Each item names one piece: the script, a ``databook`` module (added, removed or
    changed), an input asset (old -> new dandiset@version/path and sha256), the
    environment lock, or the data mode. Empty when all recorded pieces agree.
    """
    found: list[str] = []
    script = new.get("script") or old.get("script") or "script"
    if old.get("script_sha256") != new.get("script_sha256"):
        found.append(
            f"script {script} changed (sha256 {_short(old.get('script_sha256'))} -> "
            f"{_short(new.get('script_sha256'))})"
        )
    if "modules" not in old or "modules" not in new:
        found.append("library modules not recorded in one of the records (older databook)")
    else:
        before, after = old["modules"], new["modules"]
        for name in sorted(set(before) | set(after)):
            if name not in before:
                found.append(f"module {name} now imported")
            elif name not in after:
                found.append(f"module {name} no longer imported")
            elif before[name] != after[name]:
                found.append(f"module {name} changed")
    inputs_old = {i["key"]: i for i in old.get("inputs", [])}
    inputs_new = {i["key"]: i for i in new.get("inputs", [])}
    for key in sorted(set(inputs_old) | set(inputs_new)):
        if key not in inputs_old:
            found.append(f"input {key} added ({_input_label(inputs_new[key])})")
        elif key not in inputs_new:
            found.append(f"input {key} removed")
        elif inputs_old[key].get("sha256") != inputs_new[key].get("sha256"):
            found.append(
                f"input {key} changed: {_input_label(inputs_old[key])} -> "
                f"{_input_label(inputs_new[key])}"
            )
    if old.get("environment_lock_sha256") != new.get("environment_lock_sha256"):
        found.append(
            "environment changed (environment.lock sha256 "
            f"{_short(old.get('environment_lock_sha256'))} -> "
            f"{_short(new.get('environment_lock_sha256'))})"
        )
    if old.get("data_mode") != new.get("data_mode"):
        found.append(f"data mode {old.get('data_mode')} -> {new.get('data_mode')}")
    return found


def _outputs(record: dict) -> dict[str, str]:
    return {o["file"]: o["sha256"] for o in record.get("outputs", [])}


def load_records(folder: Path) -> dict[str, dict]:
    """``{figure name: record}`` of every ``*.provenance.json`` in ``folder``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ProvenanceError(f"{folder}: no such folder of figure provenance records")
    records = {}
    for path in sorted(folder.glob(f"*{SUFFIX}")):
        try:
            records[path.name.removesuffix(SUFFIX)] = json.loads(path.read_text("utf-8"))
        except ValueError as err:
            raise ProvenanceError(f"{path}: unreadable provenance record ({err})") from err
    if not records:
        raise ProvenanceError(
            f"{folder}: holds no *{SUFFIX} records; point at a built figures/ folder"
        )
    return records


@dataclass
class FigureChange:
    """How one figure differs between two builds."""

    name: str
    kind: str  # "added", "removed", "changed", "inputs only", "non-deterministic"
    reasons: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)  # output files whose bytes differ


def diff(old_dir: Path, new_dir: Path, *, only: list[str] | None = None) -> list[FigureChange]:
    """Every figure that differs between two folders of records, sorted by name.

    ``only``: compare just these figure names (a name in neither folder is an error).
    ``kind`` is ``changed`` (a piece changed and the outputs too), ``inputs only`` (a
    piece changed, outputs identical), ``non-deterministic`` (outputs changed although
    every recorded piece is identical: a bug), ``added`` or ``removed``.
    """
    old, new = load_records(old_dir), load_records(new_dir)
    if only is not None:
        unknown = sorted(set(only) - set(old) - set(new))
        if unknown:
            raise ProvenanceError(
                f"no record of {', '.join(unknown)} in {old_dir} or {new_dir}; "
                f"figures there: {', '.join(sorted(set(old) | set(new)))}"
            )
        old = {k: v for k, v in old.items() if k in only}
        new = {k: v for k, v in new.items() if k in only}
    result = []
    for name in sorted(set(old) | set(new)):
        if name not in old:
            result.append(FigureChange(name, "added"))
            continue
        if name not in new:
            result.append(FigureChange(name, "removed"))
            continue
        reasons = changes(old[name], new[name])
        before, after = _outputs(old[name]), _outputs(new[name])
        differing = sorted(f for f in set(before) | set(after) if before.get(f) != after.get(f))
        if reasons and differing:
            result.append(FigureChange(name, "changed", reasons, differing))
        elif reasons:
            result.append(FigureChange(name, "inputs only", reasons))
        elif differing:
            result.append(FigureChange(name, "non-deterministic", [], differing))
    return result


def to_markdown(found: list[FigureChange], old_label: str, new_label: str) -> str:
    """The comparison as Markdown (what a pull-request comment shows)."""
    lines = [f"### Figures: `{old_label}` -> `{new_label}`", ""]
    if not found:
        return "\n".join([*lines, "No figure changed.", ""])
    bugs = [c for c in found if c.kind == "non-deterministic"]
    if bugs:
        lines += [
            f"**Bug: {len(bugs)} figure(s) changed although their script, modules, inputs "
            "and environment did not (non-deterministic output).**",
            "",
        ]
    lines += ["| figure | change | why |", "|---|---|---|"]
    for change in found:
        if change.kind == "non-deterministic":
            why = "output bytes changed alone: " + ", ".join(change.outputs)
        elif change.kind in ("added", "removed"):
            why = f"figure {change.kind}"
        else:
            why = "; ".join(change.reasons)
            if change.kind == "inputs only":
                why += " (output bytes identical)"
        lines.append(f"| `{change.name}` | {change.kind} | {why.replace('|', '/')} |")
    return "\n".join([*lines, ""])


#: mystmd cuts an image's file name to this many characters (then adds "-<hash>").
_LATEX_STEM = 20


def latex_notes(records: dict[str, dict], commit: str, dirty: bool | None) -> str:
    """TeX defining, per figure image, the note the PDF prints under it.

    ``templates/latex/template.tex`` reads this file (``databook-provenance.tex``, found
    through ``TEXINPUTS``) and, after each ``\\includegraphics{files/<stem>-<hash>.png}``,
    prints ``\\databook@prov@<stem>`` if defined: "figures_src/fig_x.py @ abc1234".
    mystmd keeps only the first 20 characters of the stem; a prefix shared by two
    scripts gets no note rather than a wrong one.
    """
    short = commit[:7] if commit and commit != "unknown" else "unknown commit"
    if dirty:
        short += " (with uncommitted changes)"
    owners: dict[str, set[str]] = {}
    for record in records.values():
        for out in record.get("outputs", []):
            stem = Path(out["file"]).stem[:_LATEX_STEM]
            owners.setdefault(stem, set()).add(str(record.get("script", "?")))
    lines = ["% Written by databook build from figures/*.provenance.json"]
    for stem, scripts in sorted(owners.items()):
        if len(scripts) != 1:
            continue
        script = next(iter(scripts)).replace("_", "\\_")
        lines.append(
            f"\\expandafter\\def\\csname databook@prov@{stem}\\endcsname{{{script} @ {short}}}"
        )
    return "\n".join([*lines, ""])


def _inputs_text(record: dict) -> str:
    inputs = record.get("inputs") or []
    if not inputs:
        return "none (simulated in the script)"
    summary = input_summary(inputs)
    if summary is not None:
        return f"{summary} (each in the figure's provenance record)"
    demo = [i["key"].removeprefix("demo-") for i in inputs if i.get("dandiset") == "demo"]
    real = [_input_label(i) for i in inputs if i.get("dandiset") != "demo"]
    return "; ".join([*real, *(["simulated demo: " + ", ".join(demo)] if demo else [])])


def figure_table(folder: Path):
    """One row per figure of a built ``figures/`` folder, for the Methods chapter.

    Returns a :class:`pandas.DataFrame` with columns ``figure``, ``script`` (file name in
    ``figures_src/``), ``inputs`` (demo assets as ``simulated demo: ecephys, ...``),
    ``output sha256`` (first 12 hex digits of each output), ``wall time (s)`` and
    ``peak memory (MiB)`` (``NaN`` if a record has none).
    """
    import pandas as pd

    rows = []
    for name, record in load_records(folder).items():
        rows.append(
            {
                "figure": name,
                "script": Path(record.get("script", "?")).name,
                "inputs": _inputs_text(record),
                "output sha256": " ".join(_short(o["sha256"]) for o in record["outputs"]),
                "wall time (s)": record.get("wall_time_s"),
                "peak memory (MiB)": record.get("peak_memory_mib"),
            }
        )
    return pd.DataFrame(rows)


def software_versions(folder: Path) -> dict[str, str]:
    """Package versions the figures of ``folder`` were built with (``a, b`` if they differ)."""
    seen: dict[str, set[str]] = {}
    for record in load_records(folder).values():
        for name, version in (record.get("packages") or {}).items():
            seen.setdefault(name, set()).add(version)
    if not seen:
        raise ProvenanceError(
            f"{folder}: no record lists package versions (built by an older databook); "
            "rebuild with `databook figures --force`"
        )
    return {name: ", ".join(sorted(versions)) for name, versions in seen.items()}
