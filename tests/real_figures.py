"""Run a real-data figure script as a dandi build runs it, for the figure tests.

The pinned assets are seeded into a fresh data cache from the local copies held beside
the project (each sha256 checked), then the script runs in a subprocess with
``DATABOOK_CACHE`` and ``DATABOOK_DATA=dandi`` set, as ``databook build --data dandi``
runs it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from databook import assets
from databook.figures import FigureScript, run_script
from tests.conftest import ROOT


def build(
    script: str, keys: list[str], sources: list[Path], tmp_path_factory
) -> tuple[dict, Path, dict[str, Path]]:
    """(the script's JSON, its output folder, {key: verified copy}) for
    ``figures_src/<script>.py`` drawn from the lock's ``keys``."""
    cache = tmp_path_factory.mktemp("cache")
    lock = assets.load_lock(ROOT / "assets.lock")
    fetched = assets.fetch_all(
        [lock[k] for k in keys], cache=cache, progressbar=False, sources=sources
    )
    assert not fetched.errors, fetched.errors
    out = tmp_path_factory.mktemp("figures")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABOOK_CACHE", str(cache))
        mp.setenv("DATABOOK_DATA", "dandi")
        result = run_script(FigureScript.read(ROOT / "figures_src" / f"{script}.py"), out)
    assert result.status == "built", result.error
    summary = json.loads((out / f"{script}.json").read_text())
    return summary, out, {k: Path(p) for k, p in fetched.paths.items()}


def section_values(chapter: Path, script: str, figures: Path, tmp_path: Path, monkeypatch):
    """Every ``{eval}`` of the real-data section that reads ``<script>.json``, evaluated
    after running the chapter's real-data cell against the JSON in ``figures`` as a
    dandi build does; None when the chapter has no such cell.

    A key the script does not write, or a name the cell does not define, raises here
    rather than in the article.
    """
    import jupytext
    import numpy as np

    text = chapter.read_text(encoding="utf-8")
    cells = [
        c.source for c in jupytext.read(chapter).cells
        if c.cell_type == "code" and f"{script}.json" in c.source
    ]  # fmt: skip
    if not cells:
        return None
    project = tmp_path / "project"
    (project / "figures_src").mkdir(parents=True)
    (project / "myst.yml").write_text("version: 1\n")
    (project / "figures").symlink_to(figures)
    monkeypatch.setenv("DATABOOK_ROOT", str(project))
    monkeypatch.setenv("DATABOOK_DATA", "dandi")
    namespace = {"json": json, "np": np}
    exec(compile(cells[0], f"{chapter.name}:real-data", "exec"), namespace)
    section = text[text.index("::::{real-data}", text.index(f"{script}.json")) :]
    section = section[: section.index("\n::::\n")]
    expressions = re.findall(r"\{eval\}`([^`]+)`", section)
    return {e: eval(e, namespace) for e in expressions}
