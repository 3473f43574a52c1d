"""Run a chapter's code cells in one namespace, as the article's kernel does.

The chapter tests check what a chapter states against the data; they need the chapter's
variables. Cells run in order, from the chapters folder (relative paths resolve as in
the build), with matplotlib's non-interactive backend.
"""

from __future__ import annotations

import os
from pathlib import Path


def code_cells(chapter: Path) -> list[str]:
    """The source of each code cell of a Jupytext MyST chapter, in order."""
    import jupytext

    return [c.source for c in jupytext.read(chapter).cells if c.cell_type == "code"]


def run_chapter(chapter: Path, namespace: dict | None = None) -> dict:
    """Execute every code cell of ``chapter``; return the namespace they filled."""
    import matplotlib

    matplotlib.use("Agg")
    namespace = {} if namespace is None else namespace
    cwd = os.getcwd()
    os.chdir(chapter.parent)
    try:
        for i, source in enumerate(code_cells(chapter)):
            exec(compile(source, f"{chapter.name}:cell{i}", "exec"), namespace)
    finally:
        os.chdir(cwd)
    return namespace
