"""The "On real data" sections: kept in a dandi build, one line in a demo build.

The mystmd plugin (``templates/myst-plugins/real-data.mjs``) is run by mystmd itself on
a one-page project (JATS export: no theme, no network), in both data modes. The chapters
that hold such sections are checked for what keeps the two builds apart: mystmd's
execution cache must key on ``DATABOOK_DATA``, and a cell tagged ``real-data`` must do
nothing when there is no real data.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import jupytext
import pytest

from databook.article import _myst_command, myst_environment
from databook.paths import Project

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = ROOT / "templates" / "myst-plugins" / "real-data.mjs"
CHAPTERS = sorted(
    p for p in (ROOT / "chapters").glob("*.md") if "{real-data}" in p.read_text(encoding="utf-8")
)

PAGE = """---
title: Page
---
Before the section.

::::{real-data} The units of a published session.

BODY-ONLY-IN-DANDI, with a computed number.
::::

After the section.
"""


def _jats(tmp_path: Path, data_mode: str) -> str:
    project = tmp_path / data_mode
    project.mkdir()
    (project / "myst.yml").write_text(
        "version: 1\nproject:\n  title: t\n  plugins:\n"
        f"    - {PLUGIN}\n  exports:\n    - format: jats\n      output: out.xml\n"
    )
    (project / "page.md").write_text(PAGE)
    # As `databook build` runs it: Node from the lock first on PATH (a bare machine has none).
    env = {**myst_environment(Project.find(ROOT), data_mode), "DATABOOK_DATA": data_mode}
    done = subprocess.run(
        [*_myst_command(), "build", "--jats"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return (project / "out.xml").read_text()


def test_a_dandi_build_keeps_the_section_and_a_demo_build_names_it_in_one_line(tmp_path):
    dandi = _jats(tmp_path, "dandi")
    assert "BODY-ONLY-IN-DANDI" in dandi and "In the real-data build" not in dandi
    demo = _jats(tmp_path, "demo")
    assert "BODY-ONLY-IN-DANDI" not in demo
    assert re.search(
        r"In the real-data build:.*The units of a published session\..*make article DATA=dandi",
        demo,
        flags=re.S,
    )
    assert "Before the section." in demo and "After the section." in demo


def test_some_chapter_has_a_real_data_section():
    assert CHAPTERS, "no chapter holds a {real-data} section"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_a_real_data_chapter_is_executed_again_when_the_data_mode_changes(chapter):
    meta = jupytext.read(chapter).metadata
    assert "DATABOOK_DATA" in meta.get("execute", {}).get("depends_on_env", []), (
        f"{chapter.name}: mystmd would reuse the demo build's outputs in a dandi build; "
        "add execute: depends_on_env: [DATABOOK_DATA] to its frontmatter"
    )


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_real_data_cells_do_nothing_without_real_data(chapter, tmp_path, monkeypatch):
    monkeypatch.delenv("DATABOOK_DATA", raising=False)
    monkeypatch.chdir(tmp_path)  # no project here: a cell that reads real outputs fails
    cells = [
        c
        for c in jupytext.read(chapter).cells
        if c.cell_type == "code" and "real-data" in c.metadata.get("tags", [])
    ]
    assert cells, f"{chapter.name} has a real-data section but no cell tagged real-data"
    for cell in cells:
        exec(compile(cell.source, f"{chapter.name} real-data cell", "exec"), {})
