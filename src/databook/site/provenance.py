"""The provenance block under each figure's caption on the web site.

One line says where the figure came from: its script (linked to the source at the
build's commit in the repository of ``pyproject.toml``'s ``[project.urls] Source``),
its inputs (``dandiset@version/path`` and a short sha256, or simulated demo data) and
the environment hash; a ``<details>`` element below it holds the full record.

Records are read from the project's ``figures/`` folder; a figure node is matched to
its record by the file name of its image (``urlSource``, e.g. ``../figures/fig_x.png``).
"""

from __future__ import annotations

import json
import tomllib
from html import escape
from pathlib import Path, PurePosixPath
from typing import Any

from databook.provenance import input_summary

__all__ = ["FigureNotes", "provenance_html", "source_url"]

Node = dict[str, Any]


def source_url(root: Path) -> str | None:
    """``[project.urls] Source`` of ``root/pyproject.toml``, without a trailing slash."""
    try:
        with open(root / "pyproject.toml", "rb") as handle:
            url = tomllib.load(handle)["project"]["urls"]["Source"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return None
    return str(url).rstrip("/")


def _inputs_html(record: dict) -> str:
    inputs = record.get("inputs") or []
    if not inputs:
        return "data simulated in the script (no input files)"
    summary = input_summary(inputs)
    if summary is not None:
        return f"{escape(summary)} (each with its path and sha256 in the full record)"
    parts = []
    for entry in inputs:
        sha = escape(str(entry.get("sha256", ""))[:12])
        if entry.get("dandiset") == "demo":
            parts.append(f"simulated demo data {escape(entry['key'])} (sha256 <code>{sha}</code>)")
        else:
            where = f"{entry.get('dandiset')}@{entry.get('version')}/{entry.get('path')}"
            parts.append(f"{escape(where)} (sha256 <code>{sha}</code>)")
    return "; ".join(parts)


def provenance_html(record: dict, repository: str | None, commit: str) -> str:
    """The provenance line and the expandable full record of one figure."""
    script = str(record.get("script", "?"))
    if repository and commit and commit != "unknown":
        href = f"{repository}/blob/{commit}/{script}"
        script_html = f'<a href="{escape(href, quote=True)}">{escape(script)}</a>'
    else:
        script_html = f"<code>{escape(script)}</code>"
    at = escape(commit[:7]) if commit and commit != "unknown" else "an unknown commit"
    dirty = (
        " (figure built from a tree with uncommitted changes)" if record.get("git_dirty") else ""
    )
    env = escape(str(record.get("environment_lock_sha256", ""))[:12])
    full = escape(json.dumps(record, indent=2, sort_keys=True))
    return (
        '<div class="provenance">'
        f"<p>Made by {script_html} at <code>{at}</code> from {_inputs_html(record)}; "
        f"environment <code>{env}</code>{dirty}.</p>"
        f"<details><summary>Full provenance record</summary><pre>{full}</pre></details>"
        "</div>"
    )


def _image_source(node: Node) -> str | None:
    if node.get("type") == "image":
        return node.get("urlSource") or node.get("url")
    for child in node.get("children", []):
        found = _image_source(child)
        if found:
            return found
    return None


class FigureNotes:
    """Callable giving the provenance HTML of a figure node ("" when it has no image)."""

    def __init__(self, records: dict[str, dict], repository: str | None, commit: str):
        self.by_output = {
            out["file"]: record for record in records.values() for out in record["outputs"]
        }
        self.repository = repository
        self.commit = commit

    @classmethod
    def from_project(cls, root: Path) -> FigureNotes:
        from databook.figures import git_state

        records = {}
        for path in sorted((root / "figures").glob("*.provenance.json")):
            records[path.name] = json.loads(path.read_text(encoding="utf-8"))
        commit, _ = git_state(root)
        return cls(records, source_url(root), commit)

    def __call__(self, node: Node) -> str:
        source = _image_source(node)
        if source is None:
            return ""
        name = PurePosixPath(source).name
        record = self.by_output.get(name)
        if record is None:
            if PurePosixPath(source).parent.name != "figures":
                return ""  # an image that is not a built figure
            missing = f"<p>No provenance record for {escape(name)}.</p>"
            return f'<div class="provenance missing">{missing}</div>'
        return provenance_html(record, self.repository, self.commit)
