"""Every chapter executes top to bottom in a fresh kernel (nbval), on the demo data.

Chapters are Jupytext MyST notebooks; nbval collects only ``.ipynb``, so each chapter is
converted with jupytext into a temporary folder and run by a nested pytest with
``--nbval-lax`` (every cell must run without error; outputs are not compared, since the
``.md`` sources store none). What each chapter claims is checked by its own tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]-*.md"))


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.stem for c in CHAPTERS])
def test_chapter_executes_under_nbval(chapter, tmp_path, demo):
    import jupytext
    import nbformat

    notebook = tmp_path / chapter.with_suffix(".ipynb").name
    nbformat.write(jupytext.read(chapter), notebook)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")  # not the project's strict settings
    env = {**os.environ, "MPLBACKEND": "Agg", "DATABOOK_ROOT": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "-q", "-p", "no:cacheprovider",
         "--nbval-current-env", "--rootdir", str(tmp_path), str(notebook)],
        cwd=chapter.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )  # fmt: skip
    assert proc.returncode == 0, f"{chapter.name} failed under nbval:\n{proc.stdout[-4000:]}"
    assert " passed" in proc.stdout.splitlines()[-1]
